"""scikit-learn's estimator checks for every LogisticRegression solver, no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skngd.linear_model import LogisticRegression

# a tight tol: the sample-weight equivalence checks compare two fits to 1e-7
ESTIMATORS = [
    LogisticRegression(solver=s, tol=1e-10, max_iter=20000) for s in ("ngd", "mm", "newton")
] + [LogisticRegression(solver="auto", C=10.0, tol=1e-10)]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
