"""scikit-learn's estimator checks over every public skngd estimator.

No expected-failure list: every check must pass. Estimators that need
constructor arguments (meta-estimators, searches) are built around a small
skngd estimator. Area test files add checks for non-default configurations
(each solver, family, method).
"""

import inspect

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skngd


def _public_estimator_classes():
    out = []
    for name in skngd.__all__:
        obj = getattr(skngd, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            out.append(obj)
    return out


def _build(cls):
    """A small, quick instance of each public estimator class."""
    name = cls.__name__
    if name in ("BayesSearchCV", "CMAESSearchCV"):
        from skngd.model_selection import Real

        return cls(
            skngd.LogisticRegression(),
            {"C": Real(1e-2, 1e2, prior="log-uniform")},
            n_iter=3,
            cv=2,
            random_state=0,
        )
    if name == "DomainAdaptedEstimator":
        return cls(skngd.OTDomainAdapter(), skngd.LogisticRegression())
    if name == "LogisticRegressionCV":
        return cls(Cs=3, cv=3)
    if name == "GeneralizedLinearRegressorCV":
        return cls(n_alphas=3, cv=3)
    return cls()


ESTIMATORS = [_build(cls) for cls in _public_estimator_classes()]
#: non-default configurations checked in full as well: the L1 / elastic-net
#: fits (proximal Newton), one weakly penalised so that sample-weight
#: equivalence tests the solver's accuracy, and the CV classes' elastic-net
#: paths (their Cs grid reaches C = 1e4: weakly penalised p ~ n multinomial fits)
EXTRA_ESTIMATORS = [skngd.LogisticRegression(l1_ratio=0.5),
                    skngd.LogisticRegression(l1_ratio=1.0, C=1e4),
                    skngd.PoissonRegressor(alpha=0.1, l1_ratio=0.5),  # GLM elastic net
                    skngd.LogisticRegressionCV(Cs=3, cv=3, l1_ratios=(0.5,)),
                    skngd.GeneralizedLinearRegressorCV(n_alphas=3, cv=3, l1_ratio=0.5)]


def test_every_public_estimator_is_checked():
    names = {type(e).__name__ for e in ESTIMATORS}
    expected = {
        n for n in skngd.__all__
        if inspect.isclass(getattr(skngd, n)) and issubclass(getattr(skngd, n), BaseEstimator)
    }
    assert names == expected
    assert len(names) >= 1


@parametrize_with_checks(ESTIMATORS + EXTRA_ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fit_does_not_modify_inputs(estimator):
    from sklearn.base import clone, is_classifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int) if is_classifier(estimator) else np.abs(X[:, 0]) + 1.0
    X0, y0 = X.copy(), y.copy()
    est = clone(estimator)
    if "y" in inspect.signature(est.fit).parameters:
        est.fit(X, y)
    else:
        est.fit(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
