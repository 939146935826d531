"""The pieces of the logistic solvers: Böhning bound algebra, Anderson mixing,
the secant suboptimality estimate, the stop reasons."""

import numpy as np
import pytest

from skngd._loss import Binomial, Multinomial
from skngd._loss.linear_loss import LinearModelLoss
from skngd._solvers._result import StopReason
from skngd._solvers.mm import BohningBound, SecantGap, anderson_point, mm
from skngd._solvers.newton import newton
from skngd._solvers.ngd import ngd


def _loss(k, l2, seed=0, n=80, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.integers(0, k, n)
    fam = Binomial() if k == 2 else Multinomial(k)
    return LinearModelLoss(fam, X, y.astype(float) if k == 2 else y,
                           rng.uniform(0.5, 2.0, n), l2_reg_strength=l2), rng


def _bound_matrix(loss):
    X1 = np.hstack([loss.X, np.ones((loss.X.shape[0], 1))])
    G = X1.T @ (loss.sw[:, None] * X1)
    pen = np.diag(loss.l2 * loss.penalty_mask)
    if not loss.multinomial:
        return 0.25 * G + pen
    K = loss.n_out
    return np.kron(0.5 * G, np.eye(K) - 1.0 / K) + np.kron(pen, np.eye(K))


@pytest.mark.parametrize("k,l2", [(2, 0.5), (2, 0.0), (3, 0.5), (3, 0.0), (4, 2.0)])
def test_bohning_solve_step_and_whiten_agree_with_the_matrix(k, l2):
    loss, rng = _loss(k, l2)
    bound = BohningBound(loss)
    B = _bound_matrix(loss)
    v = rng.standard_normal(loss.shape)
    Bp = np.linalg.pinv(B)
    np.testing.assert_allclose(bound.solve(v).ravel(), Bp @ v.ravel(), rtol=1e-9, atol=1e-12)
    w = bound.whiten(v)
    np.testing.assert_allclose(w @ w, v.ravel() @ Bp @ v.ravel(), rtol=1e-10)
    # step is -B^+ g at an actual gradient (which has no null-space component)
    st = loss.state(rng.standard_normal(loss.shape))
    np.testing.assert_allclose(bound.step(st.coef, st.grad).ravel(), -Bp @ st.grad.ravel(),
                               rtol=1e-8, atol=1e-12)
    # B majorises the Fisher matrix (the MM guarantee)
    F = loss.fisher_matrix(st)
    assert np.linalg.eigvalsh(B - F).min() >= -1e-10 * np.abs(B).max()


def test_anderson_point_solves_a_linear_fixed_point():
    # x = A x + b, contraction: with memory >= dim, mixing the images of
    # dim + 1 points gives the fixed point exactly (GMRES equivalence)
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((5, 5)))[0]
    A = Q @ np.diag([0.99, 0.9, 0.5, -0.3, 0.1]) @ Q.T
    b = rng.standard_normal(5)
    x_star = np.linalg.solve(np.eye(5) - A, b)
    xs = [rng.standard_normal(5) for _ in range(6)]
    images = [A @ x + b for x in xs]
    residuals = [g - x for g, x in zip(images, xs)]
    np.testing.assert_allclose(anderson_point(images, residuals), x_star, rtol=1e-8)
    assert anderson_point(images[:1], residuals[:1]) is None


def test_secant_gap_is_exact_on_a_quadratic_explored_fully():
    # f(w) = 1/2 w^T F w: the L-BFGS model with pairs spanning the space is F^{-1}
    loss, rng = _loss(2, 1.0)
    bound = BohningBound(loss)
    F = loss.fisher_matrix(loss.state(loss.zeros()))
    est = SecantGap(bound, memory=loss.n_dof)
    for _ in range(loss.n_dof):
        s = rng.standard_normal(loss.shape)
        est.update(s, (F @ s.ravel()).reshape(loss.shape))
    g = rng.standard_normal(loss.shape)
    exact = 0.5 * g.ravel() @ np.linalg.solve(F, g.ravel())
    assert est.gap(g) == pytest.approx(exact, rel=1e-6)
    assert SecantGap(bound).gap(g) == np.inf


@pytest.mark.parametrize("solver", [newton, ngd, mm])
def test_stop_reasons(solver):
    loss, _ = _loss(3, 1.0)
    res = solver(loss, loss.zeros(), tol=1e-4)
    assert res.status is StopReason.CONVERGED and res.converged
    assert res.grad.shape == loss.shape and len(res.decrements) >= res.n_iter
    res = solver(loss, loss.zeros(), tol=1e-4, max_iter=1)
    assert res.status is StopReason.MAX_ITER and not res.converged
    res = solver(loss, loss.zeros(), tol=0.0, max_iter=1000)  # tol floored at 10 eps
    assert res.status in (StopReason.CONVERGED, StopReason.ROUNDING) and res.converged
    assert res.n_iter < 1000
    assert np.all(np.diff(res.history) <= 0)


@pytest.mark.parametrize("solver", [newton, ngd])
@pytest.mark.parametrize("l2", [0.0, 1e-30])
def test_separable_stops_at_rounding_level_not_max_iter(solver, l2):
    # the objective goes to 0 with the coefficients to infinity: the solver
    # stops early, where no representable progress is left or where the
    # Fisher matrix has underflowed (the estimator then warns about separation)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(float)
    loss = LinearModelLoss(Binomial(), X, y, l2_reg_strength=l2)
    res = solver(loss, loss.zeros(), tol=1e-4, max_iter=500)
    assert res.status is not StopReason.MAX_ITER and res.n_iter < 100
    assert res.history[-1] < 1e-12
