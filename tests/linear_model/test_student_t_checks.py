"""scikit-learn's estimator checks for every StudentTRegressor configuration
(no expected-failure list)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skngd.linear_model import StudentTRegressor


@parametrize_with_checks(
    [
        StudentTRegressor(),
        StudentTRegressor(nu="auto"),
        StudentTRegressor(nu=1.0, init="ols", alpha=0.5),
        StudentTRegressor(fit_intercept=False, n_jobs=2),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
