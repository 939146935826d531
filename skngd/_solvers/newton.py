r"""Exact Newton / Fisher scoring with a Cholesky solve, and the pieces every
linear-model solver shares (PSD solves, Armijo line search, stopping rule).

For the logit and softmax links the Fisher information is the Hessian, so
Fisher scoring (IRLS) is Newton's method:

.. math::

    W \leftarrow W - t\,F(W)^{-1}\nabla f(W), \qquad
    F = \tilde X^T \mathrm{diag}(s \circ p(1-p))\,\tilde X + \lambda P,

with ``t`` from Armijo backtracking. Each iteration forms the
``(n_dof * n_out)``-square Fisher matrix (cost :math:`n\,p^2`), so this solver
is for a small number of coefficients ``p``.

Stopping rule (all skngd linear-model solvers): stop when the estimated
suboptimality :math:`\tfrac12 g^T M^{-1} g` (``M`` the solver's curvature: the
Fisher matrix here) is at most :math:`\mathrm{tol}^2 \max(|f|, 10^{-12})`, so
``tol`` is the square root of a relative objective accuracy (``tol=1e-4``
reaches about 1e-8 relative).
"""

import numpy as np
from scipy import linalg

from skngd._loss.family import NUMBA_MIN_SIZE
from skngd._solvers._result import SolverResult

_ARMIJO_C = 1e-4
_MAX_HALVINGS = 40


def solve_psd(M, b):
    """Solve ``M x = b`` for symmetric PSD ``M``: Cholesky, eigen pseudo-inverse
    if ``M`` is singular (collinear or constant columns, no penalty)."""
    try:
        c = linalg.cho_factor(M, lower=True, check_finite=False)
        x = linalg.cho_solve(c, b, check_finite=False)
        if np.all(np.isfinite(x)):
            return x
    except linalg.LinAlgError:
        pass
    return PsdInverse(M).solve(b)


class PsdInverse:
    """Eigendecomposition-based (pseudo-)inverse of a symmetric PSD matrix.

    Eigenvalues below ``max_eig * p * eps`` are treated as zero, so a singular
    ``X^T X`` never fails; the solution is the minimum-norm one.
    """

    def __init__(self, M):
        s, Q = linalg.eigh(M, check_finite=False)
        cut = max(s.max(initial=0.0), 0.0) * M.shape[0] * np.finfo(np.float64).eps
        self.Q = Q
        self.inv = np.where(s > cut, 1.0 / np.where(s > cut, s, 1.0), 0.0)

    def solve(self, b):
        return self.Q @ (self.inv[:, None] * (self.Q.T @ b.reshape(len(self.inv), -1))
                         ).reshape(b.shape)


def null_space_fill(loss, M):
    """Add ``c * 11^T/K`` blocks on coefficient rows along which the multinomial
    objective is flat (intercept row; every row when unpenalised).

    The softmax is invariant to adding a constant to all classes, so the Fisher
    matrix is singular there; the gradient has no component along those
    directions, so filling them changes no solution but makes Cholesky work.
    """
    if not loss.multinomial:
        return M
    K = loss.n_out
    rows = np.flatnonzero(loss.penalty_mask == 0) if loss.l2 > 0 else np.arange(loss.n_dof)
    c = max(float(np.mean(np.diag(M))), 1e-12)
    M = M.copy()
    block = np.full((K, K), c / K)
    for j in rows:
        sl = slice(j * K, (j + 1) * K)
        M[sl, sl] += block
    return M


def line_value(loss, st, D, U, t):
    """Objective at ``coef + t D`` given ``U = X D`` (no pass over X)."""
    coef = st.coef + t * D
    if not loss.multinomial and loss.X.shape[0] >= NUMBA_MIN_SIZE:
        from skngd._kernels.logistic import binomial_line_terms

        f, _, _ = binomial_line_terms(loss.y, st.raw[:, 0], np.ascontiguousarray(U[:, 0]),
                                      float(t), loss.sw)
        return f + loss.penalty(coef)
    lo, _, _ = loss.per_sample(st.raw + U * np.asarray(t, dtype=U.dtype))
    return float(np.sum(lo, dtype=np.float64)) + loss.penalty(coef)


def armijo(loss, st, D, U, t0=1.0):
    """Backtracking step ``t`` with :math:`f(W + tD) \\le f + c\\,t\\,g^TD`; 0 if none."""
    slope = float(np.sum(st.grad * D))
    if not slope < 0:
        return 0.0, st.value
    f0, same_sum = st.value, False
    t = t0
    for _ in range(_MAX_HALVINGS):
        f = line_value(loss, st, D, U, t)
        if f <= f0 + _ARMIJO_C * t * slope:
            return t, f
        if not same_sum:
            # f(0) from the same summation as the trial values (a parallel
            # reduction sums in another order than np.sum: near the optimum
            # that decides), then test this t again
            f0, same_sum = line_value(loss, st, D, U, 0.0), True
            if f <= f0 + _ARMIJO_C * t * slope:
                return t, f
        t *= 0.5
    return 0.0, st.value


def is_converged(st, decrement, tol):
    """The shared stopping rule (see module docstring); ``tol**2`` is floored
    at a few epsilons of the data dtype, below which gradients are noise."""
    rel = max(tol * tol, 4 * np.finfo(st.raw.dtype).eps)
    return decrement <= rel * abs(st.value)


def stalled_at_optimum(st, decrement):
    """A failed line search counts as convergence when the predicted decrease
    is at rounding level of the data dtype."""
    rel = max(1e-10, 100 * np.finfo(st.raw.dtype).eps)
    return decrement <= rel * abs(st.value)


def take_step(loss, st, D, U, t):
    """Move to ``coef + t D``; one pass (``X^T`` residual) since ``raw`` is updated."""
    coef = st.coef + t * D
    raw = st.raw + U * np.asarray(t, dtype=U.dtype)
    return loss.state(coef, raw=raw)


def newton(loss, coef0, *, tol=1e-4, max_iter=100, verbose=0):
    """Newton / Fisher scoring on ``loss`` from ``coef0``; returns a SolverResult."""
    st = loss.state(coef0)
    history = [st.value]
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        F = null_space_fill(loss, loss.fisher_matrix(st))
        g = st.grad.ravel()
        D = -solve_psd(F, g).reshape(loss.shape)
        dec = -0.5 * float(g @ D.ravel())
        if is_converged(st, dec, tol):
            converged, it = True, it - 1
            break
        U = loss.matmul(D)
        t, _ = armijo(loss, st, D, U)
        if t == 0.0:
            converged = stalled_at_optimum(st, dec)
            break
        st = take_step(loss, st, D, U, t)
        history.append(st.value)
        if verbose:
            print(f"[newton] iter {it}: objective {st.value:.10g} step {t:.3g}")
    return SolverResult(st.coef, it, converged, history, loss.n_passes,
                        {"gram_rows": loss.gram_rows, "grad": st.grad})


__all__ = ["newton", "solve_psd", "PsdInverse", "armijo", "is_converged"]
