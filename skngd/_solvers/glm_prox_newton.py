r"""Proximal Newton for the GLM elastic net on dense ``X``: the loop of
:class:`~skngd._solvers.prox_newton.ProxNewton` with the GLM's fused row pass
and a curvature that is reused while it is accurate.

Same objective, steps and stopping rule as :mod:`skngd._solvers.prox_newton`
(the module docstring there is the one definition of ``tol``); what differs
is only how the steps reach the data:

* **one row pass per trial point** (:meth:`GLMProblem.row_pass`: means,
  Fisher weights, scores and the half deviance in one sweep; for log-link
  power families without a logarithm per row). The line search evaluates the
  trial point with it and the accepted trial *is* the next state, gradient
  included: the full step's :math:`\tilde X D`, row pass and
  :math:`\tilde X^T u` share one sweep over row blocks of ``X``
  (:meth:`GLMProxNewton.full_step`; with several threads three whole-array
  passes), so ``X`` is read once per step.
* **the Gram matrix is reused** while the curvature weights have moved
  little. With :math:`W_g` the weights of the last Gram matrix formed and
  :math:`W` the current ones, the stale model Hessian
  :math:`H_g = \tilde X^T W_g \tilde X` satisfies
  :math:`(1-\rho) H \preceq H_g \preceq (1+\rho) H` for
  :math:`\rho = \max_i |W_i - W_{g,i}| / |W_{g,i}|` (Fisher weights are
  non-negative), so the proximal step on :math:`H_g` is a descent direction
  and contracts the error by about :math:`\rho` per step (inexact proximal
  Newton). The Gram matrix is formed again only when :math:`\rho` exceeds
  ``reuse`` (default ``_REUSE``) or the working set leaves its columns; the
  Armijo test and the stopping rule are unchanged, so the result is the
  same optimum to the same ``tol``.

The solve starts from a given state or Gram matrix when the caller has them
(``state``, ``gram``), e.g. the previous fit of a path at the same point.
"""

import numpy as np

from skngd._loss.linear_loss import PointState
from skngd._solvers._result import StopReason
from skngd._solvers.prox_newton import ProxNewton, l1_term
from skngd._solvers.second_order import StepSearch, backtrack

#: largest relative change of the curvature weights for reusing a Gram matrix
_REUSE = 0.05
_ARMIJO_C, _SIGNIFICANT = 1e-4, 8.0
_EPS = float(np.finfo(np.float64).eps)
#: rows per block of the fused full-step pass: about this many bytes of X
_BLOCK_BYTES = 1 << 21


def relative_change(w, w0):
    r""":math:`\max_i |w_i - w_{0,i}| / |w_{0,i}|` (``0/0 = 0``, ``x/0 = inf``)."""
    d = np.abs(w - w0)
    a = np.abs(w0)
    bad = (a == 0) & (d > 0)
    if bad.any() or not np.all(np.isfinite(d)):
        return np.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(a > 0, d / np.where(a > 0, a, 1.0), 0.0)
    return float(np.max(r, initial=0.0))


def penalty_change(loss, coef, D, t):
    """``(change, magnitude)`` of the ridge from ``coef`` to ``coef + t D``
    (exact, as :meth:`LinearModelLoss.value_change`)."""
    if not loss.l2 > 0:
        return 0.0, 0.0
    if loss.ridge_kind == "scalar":
        mD = (loss.penalty_mask[:, None] * D).ravel()
        a = loss.l2 * t * float(coef.ravel() @ mD)
        b = 0.5 * loss.l2 * t * t * float(D.ravel() @ mD)
    else:
        LD = np.asarray(loss.penalty_matvec(D)).ravel()
        a = t * float(coef.ravel() @ LD)
        b = 0.5 * t * t * float(D.ravel() @ LD)
    return a + b, abs(a) + abs(b)


class GLMProxNewton(ProxNewton):
    """:class:`ProxNewton` on a dense :class:`~skngd._loss.glm_loss.GLMProblem`
    (module docstring); ``gram``: a ``(weights, rows, G)`` Gram matrix to
    start from."""

    def __init__(self, problem, l1, *, tol, max_iter, verbose, hessian, reuse=None,
                 gram=None, restart=None, state=None):
        super().__init__(problem, l1, tol=tol, max_iter=max_iter, verbose=verbose,
                         hessian=hessian)
        self.const = problem.pass_constant
        self.reuse = float(_REUSE if reuse is None else reuse)
        self.cache = gram
        self.trial = None
        self.n_grams = self.n_reused = 0
        self.restart = restart
        self.warm = state

    # -- states from the fused row pass --------------------------------------
    def make_state(self, coef, raw):
        eta = np.ascontiguousarray(raw[:, 0])
        mu, w, u = (np.empty_like(eta) for _ in range(3))
        val, scale = self.loss.row_pass(eta, mu, w, u)
        return self.build_state(coef, raw, mu, w, u, val, scale)

    def build_state(self, coef, raw, mu, w, u, val, scale):
        """A :class:`PointState` (and its ``mu``, ``dvar``, ``dscale``) from
        a row pass; one product for the gradient."""
        loss = self.loss
        return self.with_penalty(coef, raw, mu, w, u, val, scale,
                                 loss.rmatmul(-u[:, None]))

    def with_penalty(self, coef, raw, mu, w, u, val, scale, data_grad):
        """The state at ``coef`` from its row pass and data gradient, with the
        loss's current ridge (a path changes it between solves)."""
        loss = self.loss
        st = PointState(coef, raw, None, -u[:, None], w[:, None],
                        self.const + val + loss.penalty(coef),
                        data_grad + loss.penalty_matvec(coef))
        st.mu, st.u, st.dvar, st.dscale = mu, u, val, scale
        st.half_deviance, st.data_grad = self.const + val, data_grad
        return st

    def setup(self, coef0):
        """The state at ``coef0``; with ``restart``, at ``restart()`` instead
        when ``coef0`` is None or has invalid means there."""
        st = None if coef0 is None else self.start_state(coef0)
        if (st is None or not np.isfinite(st.value)) and self.restart is not None:
            st = self.start_state(self.restart())
        self.st = self.start_state(None) if st is None else st
        self.F = self.st.value + l1_term(self.l1, self.st.coef)
        self.history, self.decs = [self.F], []
        self.measure_kkt()

    def start_state(self, coef0):
        """The state at ``coef0``: the given warm ``state`` when it is at
        the same point (its row pass and data gradient reused), else one pass."""
        loss = self.loss
        W = (np.zeros(loss.shape) if coef0 is None
             else np.array(coef0, dtype=np.float64).reshape(loss.shape))
        W[np.isinf(self.l1)] = 0.0
        old = self.warm
        if old is not None and old.coef.shape == W.shape and np.array_equal(old.coef, W):
            return self.with_penalty(W, old.raw, old.mu, old.curv[:, 0], old.u, old.dvar,
                                     old.dscale, old.data_grad)
        return self.make_state(W, loss.raw_prediction(W))

    # -- curvature: reused while the weights are close -----------------------
    def update_curvature(self, rows):
        st = self.st
        w = (self.loss.hessian_weights(st) if self.hessian == "observed" else st.curv[:, 0])
        H = self.gram(np.ascontiguousarray(w, dtype=np.float64), rows)
        return H + self.penalty_block(rows), rows

    def gram(self, w, rows):
        """The unpenalised Gram matrix over ``rows``: a slice of the cached
        one when its columns cover ``rows`` and its weights are within
        ``reuse`` of ``w``, else formed (and cached)."""
        if self.cache is not None:
            w0, rows0, G0 = self.cache
            pos = np.searchsorted(rows0, rows)
            covered = bool(np.all(pos < rows0.size)) and np.array_equal(
                rows0[np.minimum(pos, rows0.size - 1)], rows)
            if covered and relative_change(w, w0) <= self.reuse:
                self.n_reused += 1
                return G0[np.ix_(pos, pos)]
        every = np.arange(self.l1flat.size)
        full = 2 * rows.size >= every.size  # about the cost of the subset: cover later sets
        G = self.loss.columns_gram(w, every if full else rows)
        self.cache = (w, every if full else rows, G)
        self.n_grams += 1
        return G[np.ix_(rows, rows)] if full else G.copy()

    # -- the line search: each trial is one row pass, the accepted one the next state
    def line_search(self, z, idx):
        loss, st = self.loss, self.st
        w, d, lam, D, now, delta, early = self.step_setup(z, idx)
        self.trial = None
        if early is not None:
            return early
        U, full = self.full_step(D)  # U = X~ D and the trial at t = 1, X read once

        def armijo(t):
            if t == 1.0:
                self.trial = full
                val, scale = full[5], full[6]
            else:
                raw = st.raw + U * t
                eta = np.ascontiguousarray(raw[:, 0])
                mu, wt, u = (np.empty_like(eta) for _ in range(3))
                val, scale = loss.row_pass(eta, mu, wt, u)
                self.trial = (t, raw, mu, wt, u, val, scale, None)
            pen, pen_mag = penalty_change(loss, st.coef, D, t)
            at = l1_term(lam, z if t == 1.0 else w + t * d)
            change = (val - st.dvar) + pen + at - now
            noise = _EPS * (scale + st.dscale + pen_mag + now + at)
            if not -t * delta > _SIGNIFICANT * noise:
                return StepSearch(0.0, 0.0, StopReason.ROUNDING)
            if change <= _ARMIJO_C * t * delta and change < 0:
                return StepSearch(t, change)
            return None

        return backtrack(armijo), D, U, delta

    def full_step(self, D):
        """``U = X~ D`` (n, 1) and the trial tuple of the full step (the row
        pass at ``raw + U`` and its data gradient): by row blocks of about
        ``_BLOCK_BYTES``, each block of ``X`` read from memory once for both
        products (the speculative gradient is the next state's when the full
        step is accepted, as it nearly always is). One thread only; with more,
        :meth:`split_step`."""
        import numba

        loss, st = self.loss, self.st
        if numba.get_num_threads() > 1:  # a parallel region per block costs more than it saves
            return self.split_step(D)
        X = loss.X
        n, p = X.shape
        Dv = np.ascontiguousarray(D[:p, 0])
        d0 = float(D[p, 0]) if loss.fit_intercept else 0.0
        U, eta, mu, w, u = (np.empty(n) for _ in range(5))
        raw0 = np.ascontiguousarray(st.raw[:, 0])
        g = np.zeros(p)
        val = scale = 0.0
        block = int(max(256, _BLOCK_BYTES // (8 * max(p, 1))))
        for start in range(0, n, block):
            e = slice(start, min(n, start + block))
            Xb = X[e]
            np.dot(Xb, Dv, out=U[e])
            U[e] += d0
            np.add(raw0[e], U[e], out=eta[e])
            v, sc = loss.row_pass(eta[e], mu[e], w[e], u[e], rows=e)
            val, scale = val + v, scale + sc
            g -= u[e] @ Xb
        loss.n_passes += 2
        data_grad = np.empty((loss.n_dof, 1))
        data_grad[:p, 0] = g
        if loss.fit_intercept:
            data_grad[p, 0] = -float(np.sum(u))
        return U[:, None], (1.0, eta[:, None], mu, w, u, val, scale, data_grad)

    def split_step(self, D):
        """:meth:`full_step` as three whole-array passes (``X D``, the row
        pass, ``X^T u``): with several threads, three parallel regions per
        step instead of three per row block."""
        loss, st = self.loss, self.st
        U = loss.matmul(D)
        raw = st.raw + U
        eta = np.ascontiguousarray(raw[:, 0])
        mu, w, u = (np.empty_like(eta) for _ in range(3))
        val, scale = loss.row_pass(eta, mu, w, u)
        return U, (1.0, raw, mu, w, u, val, scale, loss.rmatmul(-u[:, None]))

    def advance(self, t, change, D, U, z, idx):
        st = self.st
        coef = st.coef + t * D
        if t == 1.0:
            coef.ravel()[idx] = z
        tr = self.trial
        if tr is not None and tr[0] == t and tr[7] is not None:
            new = self.with_penalty(coef, *tr[1:])
        elif tr is not None and tr[0] == t:
            new = self.build_state(coef, *tr[1:7])
        else:
            U = self.loss.matmul(D) if U is None else U
            new = self.make_state(coef, st.raw + U * t)
        F = new.value + l1_term(self.l1, coef)
        if not F <= self.F:
            F = self.F + min(change, 0.0)
        self.st, self.F = new, F
        self.history.append(F)
        self.measure_kkt()


def glm_prox_newton(problem, coef0, *, l1, tol, max_iter, verbose=0, hessian="fisher",
                    gram=None, reuse=None, restart=None, state=None):
    """Run :class:`GLMProxNewton`; returns ``(result, solver)`` (the solver
    holds the final state ``solver.st`` and its Gram cache)."""
    solver = GLMProxNewton(problem, l1, tol=float(tol), max_iter=int(max_iter),
                           verbose=verbose, hessian=hessian, reuse=reuse, gram=gram,
                           restart=restart, state=state)
    return solver.solve(coef0), solver


__all__ = ["GLMProxNewton", "glm_prox_newton", "penalty_change", "relative_change"]
