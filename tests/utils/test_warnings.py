"""Warnings raised inside skngd point at the user's line (this file)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skngd.utils._warnings import warn


def _caught(fn, category):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    hits = [w for w in caught if issubclass(w.category, category)]
    assert hits, f"no {category.__name__} raised"
    return hits


def _hard_ot():
    rng = np.random.RandomState(0)
    return rng.rand(40, 30)


def _sinkhorn():
    from skngd.ot import sinkhorn

    sinkhorn(None, None, _hard_ot(), 1e-3, max_iter=3)


def _logistic():
    from skngd.linear_model import LogisticRegression

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] + 0.5 * rng.randn(60) > 0).astype(int)
    LogisticRegression(max_iter=1).fit(X, y)


def _group_lasso():
    from skngd.ot import sinkhorn_group_lasso

    labels = np.r_[np.zeros(20), np.ones(20)]
    sinkhorn_group_lasso(None, None, _hard_ot(), labels, 0.05, 1.0, max_outer=1)


def _online():
    from skngd.ot import sinkhorn_online

    rng = np.random.RandomState(0)
    sinkhorn_online(rng.randn(30, 2), rng.randn(25, 2), 1e-3, max_iter=3)


def _imputer():
    from skngd.impute import GaussianEMImputer

    rng = np.random.RandomState(0)
    X = rng.randn(80, 3) @ rng.randn(3, 3)
    X[rng.rand(80, 3) < 0.3] = np.nan
    GaussianEMImputer(max_iter=1).fit(X)


def _student_t():
    from skngd.linear_model import StudentTRegressor

    rng = np.random.RandomState(0)
    X = rng.randn(50, 2)
    y = X @ [1.0, -2.0] + rng.standard_t(3, 50)
    StudentTRegressor(max_iter=1).fit(X, y)


def _plus_minus_one_labels():
    from sklearn.svm import SVC

    from skngd.domain_adaptation import DomainAdaptedEstimator

    rng = np.random.RandomState(0)
    X = rng.randn(40, 2)
    y = np.where(X[:, 0] > 0, 1, -1)
    DomainAdaptedEstimator(estimator=SVC()).fit(X, y)


def _glm_separation():
    from skngd.linear_model import GeneralizedLinearRegressor

    X = np.linspace(-1, 1, 40)[:, None]
    y = (X[:, 0] > 0).astype(float)
    GeneralizedLinearRegressor(family="binomial", alpha=0).fit(X, y)


def _glm_no_dispersion():
    from skngd.linear_model import GammaRegressor

    X = np.array([[0.0], [1.0]])
    GammaRegressor(alpha=0).fit(X, np.array([1.0, 2.0]))


def _glm_rank_deficient():
    from skngd.linear_model import PoissonRegressor

    rng = np.random.RandomState(0)
    x = rng.randn(50)
    X = np.c_[x, 2 * x]
    PoissonRegressor(alpha=0).fit(X, rng.poisson(np.exp(0.3 * x)))


def _glm_score_without_offset():
    from skngd.linear_model import PoissonRegressor

    rng = np.random.RandomState(0)
    X = rng.randn(50, 2)
    y = rng.poisson(2.0, 50)
    PoissonRegressor().fit(X, y, offset=np.full(50, 0.5)).score(X, y)


CASES = {
    "sinkhorn": (_sinkhorn, ConvergenceWarning),
    "LogisticRegression(max_iter=1).fit": (_logistic, ConvergenceWarning),
    "sinkhorn_group_lasso": (_group_lasso, ConvergenceWarning),
    "sinkhorn_online": (_online, ConvergenceWarning),
    "GaussianEMImputer(max_iter=1).fit": (_imputer, ConvergenceWarning),
    "StudentTRegressor(max_iter=1).fit": (_student_t, ConvergenceWarning),
    "DomainAdaptedEstimator with -1/+1 labels": (_plus_minus_one_labels, UserWarning),
    "GLM perfect separation": (_glm_separation, UserWarning),
    "GLM without residual degrees of freedom": (_glm_no_dispersion, UserWarning),
    "GLM rank-deficient design": (_glm_rank_deficient, UserWarning),
    "GLM score() without the fit's offset": (_glm_score_without_offset, UserWarning),
}


@pytest.mark.parametrize("name", list(CASES))
def test_warning_points_at_the_callers_file(name):
    fn, category = CASES[name]
    for w in _caught(fn, category):
        assert w.filename == __file__, (w.filename, w.lineno, str(w.message)[:80])


def test_pytest_warns_still_matches():
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        _sinkhorn()


def test_warn_from_user_code_points_at_its_caller():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn("from the user", RuntimeWarning)
        line = __import__("inspect").currentframe().f_lineno - 1
    assert caught[0].filename == __file__ and caught[0].lineno == line
    assert caught[0].category is RuntimeWarning


def test_warn_skips_every_internal_frame():
    """Frames of modules named skngd.* or sklearn.* are skipped, however many."""
    src = (
        "from skngd.utils._warnings import warn\n"
        "def inner():\n    warn('deep', UserWarning)\n"
        "def outer():\n    inner()\n"
    )
    internal = {"__name__": "skngd._fake_internal"}
    exec(compile(src, "<skngd-internal>", "exec"), internal)
    wrapper = {"__name__": "sklearn._fake_wrapper", "outer": internal["outer"]}
    exec(compile("def wrapped():\n    outer()\n", "<sklearn-wrapper>", "exec"), wrapper)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wrapper["wrapped"]()
        line = __import__("inspect").currentframe().f_lineno - 1
    assert caught[0].filename == __file__ and caught[0].lineno == line
