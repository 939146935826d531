"""The dense GLM elastic-net solver (GLMProxNewton: fused row passes, reused
Gram matrix) against the generic proximal Newton on the same problem, against
glum, at rounding accuracy; and glm_path's one-problem path against the
estimator loop (same objective per alpha)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skngd._loss import get_family, get_link
from skngd._loss.family import NUMBA_MIN_SIZE
from skngd._loss.glm_loss import GLMProblem
from skngd._solvers.glm_elastic_net import fit_l1, fit_l1_path
from skngd._solvers.glm_prox_newton import glm_prox_newton, relative_change
from skngd._solvers.prox_newton import l1_term, prox_newton
from skngd.linear_model import GeneralizedLinearRegressor, PoissonRegressor, glm_path
from skngd.linear_model._path import _collect

N = NUMBA_MIN_SIZE + 1000  # the dense solver's regime (Numba row passes)
CASES = [("poisson", "log", None), ("gamma", "log", None), ("tweedie", "log", 1.5),
         ("normal", "identity", None), ("binomial", "logit", None)]


def _problem(name, link_name, power, n=N, p=8, seed=0, alpha=0.02, rho=0.5, offset=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.r_[0.3, -0.2, 0.15, np.zeros(p - 3)]
    eta = 0.3 + X @ beta
    if name in ("poisson",):
        y = rng.poisson(np.exp(eta)).astype(float)
    elif name == "tweedie":
        y = rng.poisson(np.exp(eta)) * rng.gamma(2.0, size=n) / 2.0
    elif name == "gamma":
        y = rng.gamma(2.0, np.exp(eta) / 2.0)
    elif name == "binomial":
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    else:
        y = eta + rng.normal(size=n)
    fam = get_family(name, **({"power": power} if power is not None else {}))
    sw = rng.uniform(0.5, 1.5, n)
    off = 0.1 * rng.normal(size=n) if offset else np.zeros(n)
    S = sw.sum()
    prob = GLMProblem(X, y, sw, off, fam, get_link(link_name), True,
                      l2=alpha * (1 - rho) * S)
    l1 = np.zeros(prob.shape)
    l1[:p] = alpha * rho * S
    return prob, l1


def _objective(prob, l1, coef):
    return prob.value(np.asarray(coef).reshape(prob.shape)) + l1_term(l1, coef)


@pytest.mark.parametrize("name,link_name,power", CASES)
def test_dense_solver_matches_generic_prox_newton(name, link_name, power):
    prob, l1 = _problem(name, link_name, power, offset=True)
    assert prob.use_numba and not prob.sparse
    hess = "observed" if prob.observed else "fisher"
    ref = prox_newton(prob, None, l1=l1, tol=1e-12, max_iter=100, hessian=hess)
    res = fit_l1(prob, l1, None, tol=1e-12, max_iter=100)
    assert res.converged and res.n_grams >= 1
    f_ref, f_new = _objective(prob, l1, ref.coef), _objective(prob, l1, res.coef)
    assert abs(f_new - f_ref) <= 1e-13 * abs(f_ref)  # rounding accuracy
    np.testing.assert_array_equal(res.coef != 0, ref.coef.ravel() != 0)
    np.testing.assert_allclose(res.coef, ref.coef.ravel(), rtol=1e-7, atol=1e-9)
    # the deviance and means of the final state are those of a fresh pass there
    eta = prob.linear_predictor(res.coef)
    mu = prob.link.inverse(eta)
    np.testing.assert_allclose(res.mu, mu, rtol=1e-12, atol=1e-12)
    assert res.deviance == pytest.approx(float(np.dot(prob.sw, prob.family.unit_deviance(
        prob.y, mu))), rel=1e-11)
    # the Gram matrix for inference is the Fisher information at the solution
    w = prob.sw * prob.link.inverse_derivative(eta) ** 2 / prob.family.variance(mu)
    act = np.flatnonzero((res.coef != 0) | (l1.ravel() == 0))
    Xt = np.c_[prob.X, np.ones(N)][:, act]
    np.testing.assert_allclose(res.gram[np.ix_(act, act)], Xt.T @ (w[:, None] * Xt),
                               rtol=1e-10)


def test_dense_solver_reuses_the_gram_and_stays_exact():
    prob, l1 = _problem("poisson", "log", None, p=12)
    res, solver = glm_prox_newton(prob, None, l1=l1, tol=1e-10, max_iter=100)
    assert res.converged
    assert solver.n_reused >= 1  # near the optimum the weights barely move
    ref, s0 = glm_prox_newton(prob, None, l1=l1, tol=1e-10, max_iter=100, reuse=0.0)
    assert s0.n_reused == 0
    assert _objective(prob, l1, res.coef) == pytest.approx(_objective(prob, l1, ref.coef),
                                                           rel=1e-14)


def test_dense_solver_against_glum():
    glum = pytest.importorskip("glum")
    prob, l1 = _problem("poisson", "log", None)
    X, y, sw = prob.X, prob.y, prob.sw
    alpha, rho = 0.02, 0.5
    est = PoissonRegressor(alpha=alpha, l1_ratio=rho, tol=1e-10, max_iter=200)
    est.fit(X, y, sample_weight=sw)
    g = glum.GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=rho,
                                        gradient_tol=1e-10, max_iter=1000)
    g.fit(X, y, sample_weight=sw)

    def obj(coef, b):
        mu = np.exp(X @ coef + b)
        half = np.sum(sw * (np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0) - y + mu))
        return half / sw.sum() + alpha * (rho * np.abs(coef).sum() + 0.5 * (1 - rho) * coef @ coef)

    ours, theirs = obj(est.coef_, est.intercept_), obj(g.coef_, g.intercept_)
    assert ours <= theirs * (1 + 1e-10)
    np.testing.assert_array_equal(est.coef_ != 0, np.abs(g.coef_) > 1e-10)


def test_warm_start_with_invalid_means_restarts():
    # identity-link Poisson: a warm start with negative means is refused, the
    # fit restarts from the intercept
    prob, l1 = _problem("poisson", "identity", None)
    prob.y[:] = np.abs(prob.y) + 1.0
    bad = np.zeros(prob.shape)
    bad[-1] = -5.0
    res = fit_l1(prob, l1, bad, tol=1e-8, max_iter=200)
    assert res.converged and np.isfinite(res.deviance)


def test_relative_change():
    w0 = np.array([1.0, 2.0, 0.0])
    assert relative_change(w0, w0) == 0.0
    assert relative_change(np.array([1.1, 2.0, 0.0]), w0) == pytest.approx(0.1)
    assert relative_change(np.array([1.0, 2.0, 1e-3]), w0) == np.inf
    assert relative_change(np.array([np.nan, 2.0, 0.0]), w0) == np.inf


# -- glm_path on one problem against the estimator loop ----------------------
@pytest.mark.parametrize("family,kw", [("poisson", {}), ("gamma", {}),
                                       ("tweedie", {"power": 1.5})])
def test_glm_path_direct_equals_estimator_loop(family, kw):
    prob, _ = _problem(family, "log", kw.get("power"), offset=True)
    X, y, sw, off = prob.X, prob.y, prob.sw, prob.offset
    path = glm_path(X, y, family=family, link="log", n_alphas=6, min_alpha_ratio=1e-3, l1_ratio=0.5,
                    sample_weight=sw, offset=off, tol=1e-10, **kw)
    est = GeneralizedLinearRegressor(family=family, link="log", l1_ratio=0.5, tol=1e-10, **kw)
    loop = _collect(est, X, y, "alpha", path.alphas, {"sample_weight": sw, "offset": off})
    S = sw.sum()
    for i, a in enumerate(path.alphas):
        l1 = np.zeros(prob.shape)
        l1[:-1] = a * 0.5 * S
        prob.l2 = a * 0.5 * S
        f = [_objective(prob, l1, np.r_[c[i], b[i]])
             for c, b in ((path.coefs, path.intercepts), (loop.coefs, loop.intercepts))]
        assert f[0] == pytest.approx(f[1], rel=1e-12)
        np.testing.assert_array_equal(path.coefs[i] != 0, loop.coefs[i] != 0)
    assert path.n_nonzero[0] == 0 and path.n_nonzero[-1] > 0


def test_fit_l1_path_warns_on_max_iter():
    prob, l1 = _problem("poisson", "log", None)
    pens = [(prob.l2, l1), (prob.l2 / 10, l1 / 10)]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = list(fit_l1_path(prob, pens, None, tol=1e-14, max_iter=1))
    assert len(out) == 2
    assert any(issubclass(r.category, ConvergenceWarning) for r in rec)


def test_one_and_two_threads_same_solution():
    from skngd.utils import numba_threads

    prob, l1 = _problem("poisson", "log", None, offset=True)
    out = []
    for nj in (1, 2):
        with numba_threads(nj):
            res, _ = glm_prox_newton(prob, None, l1=l1, tol=1e-12, max_iter=100)
        out.append(res)
    assert out[0].converged and out[1].converged
    f = [_objective(prob, l1, r.coef) for r in out]
    assert f[0] == pytest.approx(f[1], rel=1e-13)
    np.testing.assert_array_equal(out[0].coef != 0, out[1].coef != 0)


def test_glm_path_without_l1_term_falls_back_to_the_loop():
    # P1 all zero: no L1 term at any alpha, so every step is the IRLS ridge fit
    prob, _ = _problem("poisson", "log", None, p=4)
    X, y = prob.X, prob.y
    alphas = [0.1, 0.01]
    path = glm_path(X, y, family="poisson", alphas=alphas, l1_ratio=0.5, P1=np.zeros(4),
                    tol=1e-10)
    for a, c in zip(alphas, path.coefs):
        ref = PoissonRegressor(alpha=a, l1_ratio=0.5, P1=np.zeros(4), tol=1e-10).fit(X, y)
        np.testing.assert_allclose(c, ref.coef_, rtol=1e-8, atol=1e-10)
