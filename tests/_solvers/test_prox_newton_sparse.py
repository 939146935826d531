"""The sparse inner solve of the proximal Newton method (coordinate descent on
CSC columns, :class:`skngd._solvers.prox_newton.ColumnModel`): at rounding
accuracy against the dense fit (Gram-matrix inner solve) and skglm, with an
intercept or not, a ridge, sample weights, float32 data, a Poisson GLM, a
diagonal ridge and both kernel paths."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from skngd._loss.family import Binomial
from skngd._loss.linear_loss import LinearModelLoss
from skngd._solvers import prox_newton as pn
from skngd._solvers.prox_newton import l1_term, prox_newton


def _problem(n=500, d=250, density=0.05, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=rng.standard_normal)
    beta = np.zeros(d)
    beta[:15] = rng.normal(size=15) * 2
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta) + 0.3))).astype(float)
    return X, y


def _loss(X, y, C, rho, sw=None, fit_intercept=True):
    loss = LinearModelLoss(Binomial(), X, y, sw, l2_reg_strength=(1 - rho) / C,
                           fit_intercept=fit_intercept)
    l1 = np.full(loss.shape, rho / C)
    if fit_intercept:
        l1[-1] = 0.0
    return loss, l1


@pytest.fixture
def column_models(monkeypatch):
    """Counts the ColumnModel inner solves (the sparse path must be taken)."""
    made = []
    init = pn.ColumnModel.__init__

    def spy(self, *args, **kwargs):
        made.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(pn.ColumnModel, "__init__", spy)
    return made


def _fit_both(X, y, C, rho, **kw):
    sparse_loss, l1 = _loss(X, y, C, rho, **{k: v for k, v in kw.items()})
    a = prox_newton(sparse_loss, l1=l1, tol=1e-12, max_iter=200)
    dense_loss, _ = _loss(X.toarray(), y, C, rho, **kw)
    b = prox_newton(dense_loss, l1=l1, tol=1e-12, max_iter=200)
    return a, b


def _check_equal(a, b):
    assert a.status.converged and b.status.converged
    assert a.kkt < 1e-12
    assert a.objective == pytest.approx(b.objective, rel=1e-13)
    assert np.array_equal(a.coef != 0, b.coef != 0)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10)
    assert np.all(np.diff(a.history) <= 0)


@pytest.mark.parametrize("C, rho", [(0.5, 1.0), (0.3, 0.6), (5.0, 1.0)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_equals_dense_at_rounding_accuracy(C, rho, fit_intercept, column_models):
    X, y = _problem()
    a, b = _fit_both(X, y, C, rho, fit_intercept=fit_intercept)
    _check_equal(a, b)
    assert column_models  # the CSC inner solve ran


def test_sample_weights(column_models):
    X, y = _problem(seed=1)
    sw = np.random.default_rng(2).integers(0, 4, size=X.shape[0]).astype(float)
    a, b = _fit_both(X, y, 0.7, 1.0, sw=sw)
    _check_equal(a, b)
    assert column_models


def test_vs_skglm(column_models):
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Logistic
    from skglm.penalties import L1
    from skglm.solvers import ProxNewton

    X, y = _problem(n=800, d=600, density=0.02, seed=3)
    C = 0.4
    loss, l1 = _loss(X, y, C, 1.0)
    res = prox_newton(loss, l1=l1, tol=1e-12, max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = GeneralizedLinearEstimator(Logistic(), L1(1.0 / (C * X.shape[0])), ProxNewton(
            tol=1e-15, max_iter=1000, fit_intercept=True)).fit(X, 2.0 * y - 1.0)
    W = np.append(est.coef_.ravel(), est.intercept_)[:, None]
    F_ref = loss.value(W) + l1_term(l1, W)
    assert res.kkt < 1e-12
    assert res.objective <= F_ref * (1 + 1e-13)
    assert np.array_equal(res.coef[:-1] != 0, W[:-1] != 0)
    assert column_models


def test_float32_sparse():
    X, y = _problem(seed=4)
    a, _ = _fit_both(X, y, 0.5, 1.0)
    loss32, l1 = _loss(X.astype(np.float32), y, 0.5, 1.0)
    b = prox_newton(loss32, l1=l1, tol=1e-7)
    assert b.status.converged
    assert b.objective == pytest.approx(a.objective, rel=1e-5)
    np.testing.assert_allclose(b.coef, a.coef, atol=2e-3)


def test_numba_and_numpy_paths_agree(monkeypatch, column_models):
    X, y = _problem(seed=5)
    loss, l1 = _loss(X, y, 0.5, 1.0)
    a = prox_newton(loss, l1=l1, tol=1e-12)
    monkeypatch.setattr(pn, "NUMBA_MIN_SIZE", 1)
    loss, _ = _loss(X, y, 0.5, 1.0)
    b = prox_newton(loss, l1=l1, tol=1e-12)
    assert b.objective == pytest.approx(a.objective, rel=1e-13)
    assert np.array_equal(a.coef != 0, b.coef != 0)
    assert len(column_models) >= 2


@pytest.mark.parametrize("ridge", [None, "diag"])
def test_poisson_glm_sparse_equals_dense(ridge, column_models):
    from skngd._loss.glm_family import Poisson
    from skngd._loss.glm_loss import GLMProblem
    from skngd._loss.link import LogLink

    rng = np.random.default_rng(6)
    X = sp.random(600, 200, density=0.04, format="csr", random_state=6,
                  data_rvs=rng.standard_normal)
    mu = np.exp(np.asarray(X[:, :5] @ rng.normal(size=5) * 0.5).ravel() + 0.2)
    yv = rng.poisson(mu).astype(float)
    P2 = None if ridge is None else rng.random(200) + 0.5
    res = []
    for Xi in (X, X.toarray()):
        prob = GLMProblem(Xi, yv, None, None, Poisson(), LogLink(), l2=0.5, ridge=P2)
        l1 = np.full(prob.shape, 4.0)
        l1[-1] = 0.0
        res.append(prox_newton(prob, l1=l1, tol=1e-12, max_iter=200))
    _check_equal(*res)
    assert column_models


def test_small_sparse_l1_fit_never_loads_numba():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import numpy as np, scipy.sparse as sp\n"
        "from skngd import LogisticRegression\n"
        "rng = np.random.default_rng(0)\n"
        "X = sp.random(300, 80, density=0.1, format='csr', random_state=rng)\n"
        "y = (rng.random(300) < 0.5).astype(int)\n"
        "m = LogisticRegression(l1_ratio=1.0, C=2.0).fit(X, y)\n"
        "assert m.solver_ == 'prox-newton'\n"
        "assert 'numba' not in sys.modules, 'Numba imported for a small sparse L1 fit'\n"
    )
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True)
