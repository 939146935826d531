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
reaches about 1e-8 relative). The only floor is ``tol >= 10 eps`` of the data
dtype; a smaller ``tol`` runs until no step makes representable progress
(:class:`~skngd._solvers._result.StopReason` ``ROUNDING``), with the
gradient then at the rounding level of its own computation.

Objective changes along a step are summed from per-sample differences
(:meth:`~skngd._loss.linear_loss.LinearModelLoss.value_change`), accurate to
the rounding level of the gradient; a step is taken only on a decrease, and
the recorded objective stays monotone where the direct sum of the objective
rounds upwards (:func:`take_step`).
"""

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from skngd._solvers._result import LinearSolverResult, StopReason

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


#: a step whose predicted decrease is below this many times the rounding
#: level of the objective change cannot be told from zero
_SIGNIFICANT = 8.0
#: ``tol`` below this many machine epsilons of the data dtype asks for more
#: than floating point resolves; it acts as this value
_TOL_FLOOR_EPS = 10.0


@dataclass
class StepSearch:
    """Outcome of :func:`line_search`: step ``t``, the objective change
    there and, when no step was taken, why (``status``)."""

    t: float
    change: float
    status: StopReason = None


def line_search(loss, st, D, U, t0=1.0):
    r"""Armijo backtracking on the accurate objective change (no pass over X).

    Takes the first ``t`` in ``t0, t0/2, ...`` with
    :math:`f(W + tD) - f(W) \le c\,t\,g^TD` and a strict decrease, the change
    summed from per-sample differences (:meth:`LinearModelLoss.value_change`),
    so the test stays meaningful down to the rounding level of the gradient.
    Stops with ``StopReason.ROUNDING`` once the predicted decrease
    :math:`-t\,g^TD` is within a few rounding levels of the change (no
    representable progress is left), with ``STEP_FAILED`` after
    ``_MAX_HALVINGS`` halvings otherwise.
    """
    slope = float(np.sum(st.grad * D))
    if not np.isfinite(slope):
        return StepSearch(0.0, 0.0, StopReason.STEP_FAILED)
    t = t0
    for _ in range(_MAX_HALVINGS):
        change, noise = loss.value_change(st, D, U, t)
        if not -t * slope > _SIGNIFICANT * noise:
            return StepSearch(0.0, 0.0, StopReason.ROUNDING)
        if change <= _ARMIJO_C * t * slope and change < 0:
            return StepSearch(t, change)
        t *= 0.5
    return StepSearch(0.0, 0.0, StopReason.STEP_FAILED)


def is_converged(st, decrement, tol):
    """The shared stopping rule (see module docstring): the estimated
    suboptimality ``decrement`` is at most ``tol**2 * max(|f|, 1e-12)``.

    ``tol`` is floored at ``_TOL_FLOOR_EPS`` machine epsilons of the data
    dtype (``2.2e-15`` for float64): an objective accurate to ``tol**2`` then
    has its gradient at the rounding level of its own computation.
    """
    floor = _TOL_FLOOR_EPS * np.finfo(st.raw.dtype).eps
    rel = max(tol, floor) ** 2
    return decrement <= rel * max(abs(st.value), 1e-12)


def negligible_step(coef, step):
    """Whether ``coef + step`` differs from ``coef`` only at rounding level
    (every entry of ``step`` below 4 ulps of the largest coefficient)."""
    big = float(np.max(np.abs(coef), initial=0.0))
    return float(np.max(np.abs(step), initial=0.0)) <= 4 * np.finfo(np.float64).eps * big


def take_step(loss, st, D, U, t, change):
    """Move to ``coef + t D``; one pass (``X^T`` residual) since ``raw`` is
    updated from ``U = X D``.

    ``change < 0`` is the accurately computed objective change. The new value
    is the directly summed objective when that is not above the current one,
    else the current value plus ``change`` (the direct sum's rounding hides a
    decrease that small): the recorded objective is monotone and accurate to
    the rounding of the objective itself.
    """
    coef = st.coef + t * D
    raw = st.raw + U * np.asarray(t, dtype=U.dtype)
    new = loss.state(coef, raw=raw)
    if not new.value <= st.value:
        new.value = st.value + change
    return new


def newton(loss, coef0, *, tol=1e-4, max_iter=100, verbose=0):
    """Newton / Fisher scoring on ``loss`` from ``coef0``; returns a
    :class:`LinearSolverResult`."""
    st = loss.state(coef0)
    history = [st.value]
    status = StopReason.MAX_ITER
    decs = []
    it = 0
    for it in range(1, max_iter + 1):
        F = null_space_fill(loss, loss.fisher_matrix(st))
        g = st.grad.ravel()
        D = -solve_psd(F, g).reshape(loss.shape)
        dec = -0.5 * float(g @ D.ravel())
        decs.append(dec)
        if is_converged(st, dec, tol):
            status, it = StopReason.CONVERGED, it - 1
            break
        U = loss.matmul(D)
        step = line_search(loss, st, D, U)
        if step.status is not None:
            status = step.status
            break
        st = take_step(loss, st, D, U, step.t, step.change)
        history.append(st.value)
        if verbose:
            print(f"[newton] iter {it}: objective {st.value:.10g} step {step.t:.3g}")
        if negligible_step(st.coef, step.t * D):
            status = StopReason.ROUNDING
            break
    return LinearSolverResult(st.coef, it, status.converged, history, loss.n_passes,
                              status=status, grad=st.grad,
                              decrement=decs[-1] if decs else np.nan,
                              gram_rows=loss.gram_rows, decrements=decs)


__all__ = ["PsdInverse", "StepSearch", "is_converged", "line_search", "negligible_step",
           "newton", "solve_psd", "take_step"]
