"""The L1 proximal Newton solver against skglm and scikit-learn's saga, at
rounding accuracy (tol=1e-12) and at the default tol."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.preprocessing import StandardScaler

from skngd._loss.family import Binomial, Multinomial
from skngd._loss.linear_loss import LinearModelLoss
from skngd._solvers import prox_newton as pn
from skngd._solvers._result import StopReason
from skngd._solvers.prox_newton import l1_max, l1_term, prox_newton
from skngd.utils._sklearn_compat import sklearn_l1_params


def _std(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _loss(X, y, C, rho, sw=None):
    K = len(np.unique(y))
    fam = Binomial() if K == 2 else Multinomial(K)
    loss = LinearModelLoss(fam, X, y if K > 2 else y.astype(float), sw,
                           l2_reg_strength=(1 - rho) / C)
    l1 = np.full(loss.shape, rho / C)
    l1[-1] = 0.0
    return loss, l1


def _objective(loss, l1, W):
    return loss.value(W) + l1_term(l1, W)


def _skglm(X, y, C, rho):
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Logistic
    from skglm.penalties import L1, L1_plus_L2
    from skglm.solvers import ProxNewton

    alpha = 1.0 / (C * X.shape[0])  # skglm's datafit is the mean log-loss
    pen = L1(alpha) if rho == 1 else L1_plus_L2(alpha, rho)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = GeneralizedLinearEstimator(Logistic(), pen, ProxNewton(
            tol=1e-15, max_iter=1000, fit_intercept=True)).fit(X, 2.0 * y - 1.0)
    return np.append(est.coef_.ravel(), est.intercept_)[:, None]


def _saga(X, y, C, rho):
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LogisticRegression(C=C, **sklearn_l1_params(rho), solver="saga", tol=1e-15,
                               max_iter=50000).fit(X, y)
    return np.vstack([m.coef_.T, m.intercept_])


def _check_rounding(res, loss, l1, W_ref):
    F, F_ref = res.objective, _objective(loss, l1, W_ref)
    assert res.status.converged
    assert res.kkt < 1e-12
    # at least as good as the reference, and equal to rounding accuracy
    assert F <= F_ref * (1 + 1e-13)
    assert F == pytest.approx(F_ref, rel=1e-13) or F < F_ref
    assert np.array_equal(res.coef[:-1] != 0, W_ref[:-1] != 0)
    assert np.all(np.diff(res.history) <= 0)
    np.testing.assert_allclose(res.objective, res.history[-1])


@pytest.mark.parametrize("C, rho", [(1.0, 1.0), (0.3, 0.5), (1e4, 1.0)])
def test_breast_cancer_rounding_accuracy_vs_skglm(C, rho):
    X, y = _std(load_breast_cancer)
    loss, l1 = _loss(X, y, C, rho)
    res = prox_newton(loss, l1=l1, tol=1e-12, max_iter=200)
    if C < 1e3:
        W_ref = _skglm(X, y, C, rho)
    else:  # skglm (and saga) take minutes here: a long run of our own from elsewhere
        W_ref = prox_newton(loss, np.full(loss.shape, 0.1), l1=l1, tol=0.0,
                            max_iter=500).coef
    _check_rounding(res, loss, l1, W_ref)


@pytest.mark.parametrize("C, rho", [(1.0, 1.0), (0.1, 0.5)])
def test_wine_multinomial_rounding_accuracy_vs_saga(C, rho):
    X, y = _std(load_wine)
    loss, l1 = _loss(X, y, C, rho)
    res = prox_newton(loss, l1=l1, tol=1e-12, max_iter=200)
    W_ref = _saga(X, y, C, rho)
    _check_rounding(res, loss, l1, W_ref)
    # a long run from another start ends at the same objective
    again = prox_newton(loss, res.coef + 0.01, l1=l1, tol=0.0, max_iter=300)
    assert again.objective == pytest.approx(res.objective, rel=1e-13)


@pytest.mark.parametrize("C, rho", [(1.0, 1.0), (1e4, 1.0), (0.3, 0.5)])
def test_default_tol_objective_within_1e8(C, rho):
    X, y = _std(load_breast_cancer)
    loss, l1 = _loss(X, y, C, rho)
    best = prox_newton(loss, l1=l1, tol=1e-12, max_iter=200).objective
    res = prox_newton(loss, l1=l1)
    assert res.status is StopReason.CONVERGED
    assert (res.objective - best) / best < 1e-8


def _sparse_problem(n=600, d=300, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.05, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal)
    beta = np.zeros(d)
    beta[:20] = rng.normal(size=20) * 2
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(float)
    return X, y


def test_sparse_csr_vs_skglm_and_dense():
    X, y = _sparse_problem()
    loss, l1 = _loss(X, y, 0.5, 1.0)
    res = prox_newton(loss, l1=l1, tol=1e-12, max_iter=200)
    _check_rounding(res, loss, l1, _skglm(X, y, 0.5, 1.0))
    dense, l1d = _loss(X.toarray(), y, 0.5, 1.0)
    resd = prox_newton(dense, l1=l1d, tol=1e-12, max_iter=200)
    np.testing.assert_allclose(res.coef, resd.coef, rtol=1e-9, atol=1e-11)


def test_l1_max_zeroes_everything_and_slightly_below_does_not():
    for loader in (load_breast_cancer, load_wine):
        X, y = _std(loader)
        loss, l1 = _loss(X, y, 1.0, 1.0)
        pattern = (l1 > 0).astype(float)
        lm = l1_max(loss, pattern)
        above = prox_newton(loss, l1=lm * 1.0001 * pattern, tol=1e-10)
        assert np.count_nonzero(above.coef[:-1]) == 0
        below = prox_newton(loss, l1=lm * 0.99 * pattern, tol=1e-10)
        assert np.count_nonzero(below.coef[:-1]) > 0
    assert l1_max(loss, np.zeros(loss.shape)) == 0.0


def test_integer_weights_equal_repeated_rows():
    X, y = _std(load_breast_cancer)
    rng = np.random.default_rng(0)
    sw = rng.integers(0, 4, size=len(y)).astype(float)
    loss, l1 = _loss(X, y, 1.0, 1.0, sw=sw)
    rep = np.repeat(np.arange(len(y)), sw.astype(int))
    loss_r, _ = _loss(X[rep], y[rep], 1.0, 1.0)
    a = prox_newton(loss, l1=l1, tol=1e-12)
    b = prox_newton(loss_r, l1=l1, tol=1e-12)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10)
    assert a.objective == pytest.approx(b.objective, rel=1e-12)


def test_float32_matches_float64():
    X, y = _std(load_breast_cancer)
    loss64, l1 = _loss(X, y, 1.0, 1.0)
    loss32, _ = _loss(X.astype(np.float32), y, 1.0, 1.0)
    a = prox_newton(loss64, l1=l1, tol=1e-8)
    b = prox_newton(loss32, l1=l1, tol=1e-8)
    assert b.status.converged
    assert b.objective == pytest.approx(a.objective, rel=1e-5)
    np.testing.assert_allclose(b.coef, a.coef, atol=2e-3)


def test_observed_equals_fisher_for_the_canonical_link():
    X, y = _std(load_breast_cancer)
    loss, l1 = _loss(X, y, 1.0, 1.0)
    a = prox_newton(loss, l1=l1, tol=1e-12)
    b = prox_newton(loss, l1=l1, tol=1e-12, hessian="observed")
    assert b.objective == pytest.approx(a.objective, rel=1e-14)


def test_numba_kernel_path_matches_numpy(monkeypatch):
    X, y = _std(load_wine)
    loss, l1 = _loss(X, y, 1.0, 1.0)
    a = prox_newton(loss, l1=l1, tol=1e-12)
    monkeypatch.setattr(pn, "NUMBA_MIN_SIZE", 1)
    loss, _ = _loss(X, y, 1.0, 1.0)
    b = prox_newton(loss, l1=l1, tol=1e-12)
    assert b.objective == pytest.approx(a.objective, rel=1e-13)
    assert np.array_equal(a.coef != 0, b.coef != 0)


@pytest.mark.parametrize("family, hessian", [("poisson", "fisher"), ("gamma", "observed")])
def test_glm_lasso_vs_glum(family, hessian):
    """Poisson (canonical log link) and gamma with the log link (non-canonical:
    the observed Hessian) against glum's L1 irls-cd."""
    glum = pytest.importorskip("glum")
    from skngd._loss.glm_family import Gamma, Poisson
    from skngd._loss.glm_loss import GLMProblem
    from skngd._loss.link import LogLink

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 12))
    mu = np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.5)
    yv = (rng.poisson(mu) if family == "poisson" else rng.gamma(2.0, mu / 2.0)).astype(float)
    alpha = 0.02
    prob = GLMProblem(X, yv, None, None, Poisson() if family == "poisson" else Gamma(),
                      LogLink())
    l1 = np.full(prob.shape, alpha * len(yv))  # glum's mean scale x sum(sw)
    l1[-1] = 0.0
    res = prox_newton(prob, l1=l1, tol=1e-12, max_iter=200, hessian=hessian)
    ref = glum.GeneralizedLinearRegressor(family=family, link="log", alpha=alpha,
                                          l1_ratio=1.0, gradient_tol=1e-12,
                                          max_iter=1000).fit(X, yv)
    W = np.append(ref.coef_, ref.intercept_)[:, None]
    F_ref = _objective(prob, l1, W)
    assert res.status.converged
    assert res.objective <= F_ref * (1 + 1e-12)
    assert res.objective == pytest.approx(F_ref, rel=1e-9)
    assert np.array_equal(res.coef[:-1] != 0, W[:-1] != 0)


def test_bad_input():
    X, y = _std(load_breast_cancer)
    loss, l1 = _loss(X, y, 1.0, 1.0)
    with pytest.raises(ValueError, match="l1"):
        prox_newton(loss, l1=-l1)
    bad = l1.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="l1"):
        prox_newton(loss, l1=bad)
    with pytest.raises(ValueError, match="l1"):
        prox_newton(loss, l1=np.ones(3))
    with pytest.raises(ValueError, match="hessian"):
        prox_newton(loss, l1=l1, hessian="exact")
    with pytest.raises(ValueError, match="tol"):
        prox_newton(loss, l1=l1, tol=-1.0)
    with pytest.raises(ValueError, match="max_iter"):
        prox_newton(loss, l1=l1, max_iter=0)
    with pytest.raises(ValueError, match="l1_pattern"):
        l1_max(loss, np.full(loss.shape, np.inf))


def test_max_iter_reported():
    X, y = _std(load_breast_cancer)
    loss, l1 = _loss(X, y, 1e4, 1.0)
    res = prox_newton(loss, l1=l1, tol=1e-12, max_iter=2)
    assert res.status is StopReason.MAX_ITER and not res.converged
    assert res.n_iter == 2 and len(res.history) == 3
