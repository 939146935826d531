"""scikit-learn's estimator checks for the GLM estimators (no expected failures)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skngd.linear_model import (
    GammaRegressor,
    GeneralizedLinearRegressor,
    PoissonRegressor,
    TweedieRegressor,
)

ESTIMATORS = [
    GeneralizedLinearRegressor(),
    GeneralizedLinearRegressor(family="poisson", alpha=0.1),
    GeneralizedLinearRegressor(family="gamma", link="log", cov_type="HC0"),
    GeneralizedLinearRegressor(family="tweedie", power=1.5, alpha=1.0),
    PoissonRegressor(),
    GammaRegressor(),
    TweedieRegressor(),
    TweedieRegressor(power=1.5),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
