"""GLMProblem is the linear-model loss with a GLM family: its value,
gradient and observed-Hessian products agree with finite differences and with
the IRLS fit's own fused pass."""

import numpy as np
import pytest
import scipy.sparse as sp

from skngd._loss import get_family, get_link
from skngd._loss.glm_loss import GLMProblem
from skngd._loss.linear_loss import LinearModelLoss
from skngd._solvers.irls import irls


def _problem(family, link, sparse_x=False, seed=0, l2=0.3):
    rng = np.random.default_rng(seed)
    n, p = 400, 4
    X = rng.normal(size=(n, p)) * 0.4
    off = 0.1 * rng.normal(size=n)
    eta = 0.3 + X @ rng.normal(size=p) * 0.5 + off
    y = (rng.poisson(np.exp(eta)).astype(float) if family == "poisson"
         else rng.gamma(2.0, np.exp(eta) / 2))
    sw = rng.uniform(0.5, 2.0, size=n)
    if sparse_x:
        X = sp.csr_matrix(np.where(rng.random(X.shape) < 0.5, X, 0.0))
    return GLMProblem(X, y, sw, off, get_family(family), get_link(link), True, l2)


@pytest.mark.parametrize("family,link", [("poisson", "log"), ("gamma", "log"),
                                         ("gamma", "inverse")])
@pytest.mark.parametrize("sparse_x", [False, True])
def test_loss_view_matches_the_irls_fit(family, link, sparse_x):
    problem = _problem(family, link, sparse_x)
    res = irls(problem, tol=1e-14)
    st = problem.state(res.coef)
    pen = 0.5 * problem.l2 * float(res.coef[:-1] @ res.coef[:-1])
    assert st.value == pytest.approx(0.5 * res.deviance + pen, rel=1e-12)
    # the optimum of the IRLS fit is a stationary point of the loss view
    assert np.max(np.abs(st.grad)) <= 1e-8 * max(1.0, abs(st.value))


@pytest.mark.parametrize("family,link", [("poisson", "log"), ("gamma", "log"),
                                         ("gamma", "identity")])
def test_gradient_and_observed_hessian_match_finite_differences(family, link):
    problem = _problem(family, link, seed=1)
    rng = np.random.default_rng(2)
    coef = 0.1 * rng.normal(size=problem.shape)
    coef[-1] = {"identity": 1.0}.get(link, 0.3)  # positive means for the identity link
    st = problem.state(coef)
    V = rng.normal(size=problem.shape)
    h = 1e-6
    fd_grad = (problem.value(coef + h * V) - problem.value(coef - h * V)) / (2 * h)
    assert float(np.sum(st.grad * V)) == pytest.approx(fd_grad, rel=1e-6)
    fd_hess = (problem.state(coef + h * V).grad - problem.state(coef - h * V).grad) / (2 * h)
    np.testing.assert_allclose(problem.hessian_matvec(st, V), fd_hess, rtol=1e-5, atol=1e-7)
    if family == "poisson":  # canonical: Hessian = Fisher
        np.testing.assert_allclose(problem.hessian_matvec(st, V), problem.fisher_matvec(st, V),
                                   rtol=1e-13)


def test_offset_enters_the_linear_predictor_only():
    problem = _problem("poisson", "log")
    plain = LinearModelLoss(problem.family, problem.X, problem.y, problem.sw,
                            l2_reg_strength=problem.l2, link=problem.link)
    coef = np.full(problem.shape, 0.05)
    st, st0 = problem.state(coef), plain.state(coef)
    np.testing.assert_allclose(st.raw[:, 0] - st0.raw[:, 0], problem.offset, rtol=0, atol=1e-15)
    V = np.ones(problem.shape)
    np.testing.assert_allclose(problem.matmul(V), plain.matmul(V), rtol=0, atol=0)
