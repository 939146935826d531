r"""Exact Newton / Fisher scoring with a Cholesky solve for
:class:`~skngd._loss.linear_loss.LinearModelLoss` (``LogisticRegression(solver='newton')``).

For the logit and softmax links the Fisher information is the Hessian, so
Fisher scoring (IRLS) is Newton's method:

.. math::

    W \leftarrow W - t\,F(W)^{-1}\nabla f(W), \qquad
    F = \tilde X^T \mathrm{diag}(s \circ p(1-p))\,\tilde X + \lambda P,

with ``t`` from Armijo backtracking. Each iteration forms the
``(n_dof * n_out)``-square Fisher matrix (cost :math:`n\,p^2`), so this solver
is for a small number of coefficients ``p``.

:class:`LogisticNewton` is a :class:`~skngd._solvers.second_order.SecondOrderSolver`:
the loop, the stopping rule (``tol`` is the square root of a relative
objective accuracy, :func:`~skngd._solvers.second_order.gradient_tol`) and the
Armijo search live in :mod:`skngd._solvers.second_order`; NGD and MM share
its stopping rule and step control. The step-control names are re-exported
here for the callers that import them from this module.

Objective changes along a step are summed from per-sample differences
(:meth:`~skngd._loss.linear_loss.LinearModelLoss.value_change`), accurate to
the rounding level of the gradient; a step is taken only on a decrease, and
the recorded objective stays monotone where the direct sum of the objective
rounds upwards (:func:`~skngd._solvers.second_order.take_step`).
"""

import numpy as np

from skngd._solvers._result import LinearSolverResult, StopReason  # noqa: F401
from skngd._solvers.linalg import PsdInverse, solve_psd  # noqa: F401 - re-exported
from skngd._solvers.second_order import (  # noqa: F401 - re-exported
    _SIGNIFICANT,
    CholeskySolve,
    LossSolver,
    SecondOrderSolver,
    StepSearch,
    is_converged,
    line_search,
    negligible_step,
    take_step,
)


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


class LogisticNewton(LossSolver):
    """Newton / Fisher scoring on a ``LinearModelLoss`` (the template's steps)."""

    name = "newton"
    inner = CholeskySolve()

    def update_curvature(self):
        """The Fisher matrix at the iterate, unless the loss bounds the
        decrement there below ``tol`` without it (``decrement_bound``, the
        Dask loss after a step whose Fisher matrix it skipped): then the fit
        stops there, as it would with the matrix."""
        self.certified = None
        bound = getattr(self.loss, "decrement_bound", None)
        b = None if bound is None else bound(self.st)
        if b is not None and is_converged(self.st, 0.5 * b, self.tol):
            self.certified = 0.5 * b
            return
        self.F = null_space_fill(self.loss, self.loss.fisher_matrix(self.st))

    def inner_solve(self):
        if getattr(self, "certified", None) is not None:
            self.record(self.certified)  # an upper bound of the estimated suboptimality
            return
        d = self.inner(self.F, self.st.grad.ravel(), self)
        self.D = d.step.reshape(self.loss.shape)
        self.record(0.5 * d.decrement)  # estimated suboptimality

    def line_search(self):
        loss, st, D = self.loss, self.st, self.D
        U = loss.matmul(D)
        step = line_search(loss, st, D, U)
        if step.status is not None:
            return step.status
        self.advance(D, U, step, "newton")
        if negligible_step(self.st.coef, step.t * D):
            return StopReason.ROUNDING
        return None


def newton(loss, coef0, *, tol=1e-4, max_iter=100, verbose=0):
    """Newton / Fisher scoring on ``loss`` from ``coef0``; returns a
    :class:`LinearSolverResult`."""
    return LogisticNewton(loss, tol=tol, max_iter=max_iter, verbose=verbose).solve(coef0)


__all__ = ["LogisticNewton", "PsdInverse", "StepSearch", "is_converged", "line_search",
           "negligible_step", "newton", "null_space_fill", "solve_psd", "take_step"]
