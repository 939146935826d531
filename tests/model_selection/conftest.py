"""Shared fixtures of the model-selection tests."""

import pytest
from sklearn.datasets import load_breast_cancer


@pytest.fixture(scope="module")
def cancer():
    """Standardised breast_cancer, every third row, first 8 features."""
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    return X[::3, :8], y[::3]
