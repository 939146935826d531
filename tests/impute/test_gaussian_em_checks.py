"""scikit-learn estimator checks and bad-input handling for GaussianEMImputer."""

import warnings

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skngd.impute import GaussianEMImputer


@parametrize_with_checks(
    [
        GaussianEMImputer(),
        GaussianEMImputer(init="mean", add_indicator=True),
        GaussianEMImputer(sample_posterior=True, random_state=0, reg_covar=1e-3),
    ]
)
def test_sklearn_checks(estimator, check):
    check(estimator)
