r"""Natural gradient descent: truncated preconditioned CG on Fisher-vector products.

Each outer iteration solves :math:`F(W)\,D = -\nabla f(W)` approximately and
moves :math:`W \leftarrow W + tD`, ``t`` from Armijo backtracking (``t = 1``
is the Fisher-scoring step). ``F`` is never formed in full: conjugate gradient
only needs products :math:`FV = \tilde X^T[H \circ (\tilde X V)] + \lambda PV`
(two passes over ``X``), so the solver scales to wide and sparse ``X``.

Preconditioner ``M`` (what makes few passes enough):

* dense ``X`` with ``p = n_dof * n_out`` at most ``_MAX_DENSE_P``: the Fisher
  matrix of a fixed random row subsample ``S`` (``m`` rows, reweighted to the
  full sample weight), Cholesky-factorised each iteration at cost
  :math:`m p^2` instead of :math:`n p^2`. It is affine-equivariant, so badly
  scaled columns cost nothing extra. With ``m = n`` (small data) ``M = F`` and
  the step is the exact Fisher-scoring (Newton) step.
* dense multinomial with ``p > 200``: the per-class diagonal blocks of that
  subsampled Fisher (:class:`_BlockFisher`), cost :math:`K m d^2`.
* otherwise (CSR, wide): the diagonal of ``F`` (Jacobi).

The search direction starts at :math:`D_0 = -M^{-1}g` and is refined by at
most ``cg_max_iter`` PCG iterations on the exact Fisher products until the
residual falls below a forcing term (truncated Newton). :math:`\tilde X D` is
carried along the CG iterations, so the line search needs no pass over ``X``.
Cost per outer iteration: ``2 + 2 * (CG iterations)`` passes.

``fisher='empirical'`` replaces ``F`` by :math:`\sum_i s_i\nabla\ell_i\nabla\ell_i^T`;
it is singular where residuals vanish (near a perfect fit) and is kept for
comparison only.

Stopping rule: as :mod:`skngd._solvers.newton`, with ``M`` in the decrement
when ``M`` is a full (possibly subsampled) Fisher matrix; otherwise with the decrement
:math:`-\tfrac12 g^T D` of the CG direction, checked after taking the step.

References
----------
Amari, S. (1998). Natural gradient works efficiently in learning. Neural
Computation 10, 251-276.
Nocedal, J. and Wright, S. (2006). Numerical Optimization, ch. 7 (truncated
Newton / Newton-CG).
"""

import numpy as np
from scipy import linalg

from skngd._loss.family import NUMBA_MIN_SIZE
from skngd._solvers._result import StopReason
from skngd._solvers.linalg import psd_solver, solve_psd
from skngd._solvers.newton import null_space_fill
from skngd._solvers.second_order import (
    LossSolver,
    is_converged,
    line_search,
    negligible_step,
)

_MAX_DENSE_P = 1200
_SUBSAMPLE_FACTOR = 50
_SUBSAMPLE_MIN = 5000
#: multinomial with more coefficients: block-diagonal (per class) preconditioner
_MAX_FULL_MULTINOMIAL_P = 200


class _SubsampleFisher:
    """Cholesky of the subsampled Fisher matrix (dense, small ``p``)."""

    full = True  # a full (if subsampled) metric: its decrement is trustworthy

    def __init__(self, loss, rows, kind):
        self.loss, self.rows, self.kind = loss, rows, kind
        sw = loss.sw.astype(np.float64)
        self.scale = 1.0 if rows is None else float(sw.sum() / max(sw[rows].sum(), 1e-300))

    def update(self, st):
        M = self.loss.fisher_matrix(st, self.kind, rows=self.rows, scale=self.scale)
        M = null_space_fill(self.loss, M)
        if self.kind == "empirical":  # damping: singular near a perfect fit
            M = M + 1e-8 * max(np.mean(np.diag(M)), 1e-12) * np.eye(M.shape[0])
        self.M = M
        try:
            self.chol = linalg.cho_factor(M, lower=True, check_finite=False)
        except linalg.LinAlgError:
            self.chol = None

    def solve(self, r):
        if self.chol is not None:
            x = linalg.cho_solve(self.chol, r.ravel(), check_finite=False)
            if np.all(np.isfinite(x)):
                return x.reshape(r.shape)
        return solve_psd(self.M, r.ravel()).reshape(r.shape)


class _BlockFisher:
    r"""Multinomial: block-diagonal (one ``n_dof``-square block per class) Fisher
    of a row subsample, :math:`F_{kk} = \tilde X_S^T \mathrm{diag}(s\,p_k(1-p_k))
    \tilde X_S + \lambda P`, each Cholesky-factorised. Costs :math:`K m d^2`
    instead of :math:`m (Kd)^2`; CG on the exact products supplies the
    cross-class terms."""

    full = False

    def __init__(self, loss, rows, kind):
        self.loss, self.rows, self.kind = loss, rows, kind
        sw = loss.sw.astype(np.float64)
        self.scale = 1.0 if rows is None else float(sw.sum() / max(sw[rows].sum(), 1e-300))

    def update(self, st):
        loss = self.loss
        sel = slice(None) if self.rows is None else self.rows
        if self.kind == "exact":
            H = loss.sw[sel, None] * st.curv[sel] * (1 - st.curv[sel])
        else:
            g = st.grad_raw[sel]
            H = np.divide(g * g, loss.sw[sel, None], out=np.zeros_like(g),
                          where=loss.sw[sel, None] > 0)
        self.factor(self.scale * loss.gram(H[:, k], self.rows) for k in range(loss.n_out))

    def factor(self, blocks):
        """Factorise each class block plus the ridge (and a 1e-10 relative jitter)."""
        pen = np.diag(self.loss.l2 * self.loss.penalty_mask)
        self.chols = []
        for B in blocks:
            B = B + pen
            B += 1e-10 * max(np.mean(np.diag(B)), 1e-300) * np.eye(B.shape[0])
            self.chols.append(psd_solver(B))

    def solve(self, r):
        out = np.empty_like(r)
        for k, c in enumerate(self.chols):
            out[:, k] = c(r[:, k])
        return out


class _DiagFisher:
    """Jacobi preconditioner: the diagonal of the Fisher matrix."""

    full = False

    def __init__(self, loss, kind):
        self.loss, self.kind = loss, kind

    def update(self, st):
        loss = self.loss
        if loss.multinomial:
            H = (loss.sw[:, None] * st.curv * (1 - st.curv) if self.kind == "exact"
                 else np.divide(st.grad_raw ** 2, loss.sw[:, None],
                                out=np.zeros_like(st.grad_raw), where=loss.sw[:, None] > 0))
        else:
            H = loss.fisher_weights(st, self.kind)[:, None]
        diag = _weighted_sq_colsum(loss, H)
        diag += loss.l2 * loss.penalty_mask[:, None]
        self.diag = np.maximum(diag, 1e-12 * max(diag.max(), 1e-300))

    def solve(self, r):
        return r / self.diag


def _weighted_sq_colsum(loss, H):
    r""":math:`\sum_i H_{ik} \tilde x_{ij}^2` as an (n_dof, n_out) array (one pass)."""
    from skngd._kernels.sparse import csr_weighted_sq_colsum

    out = np.empty((loss.n_dof, H.shape[1]))
    X = loss.X
    for k in range(H.shape[1]):
        if loss.sparse and X.nnz >= NUMBA_MIN_SIZE:
            out[: loss.n_features, k] = csr_weighted_sq_colsum(X, H[:, k])
        elif loss.sparse:
            out[: loss.n_features, k] = np.asarray(X.multiply(X).T @ H[:, k]).ravel()
        else:
            out[: loss.n_features, k] = np.einsum("ij,ij,i->j", X, X, H[:, k])
    if loss.fit_intercept:
        out[-1] = H.sum(axis=0)
    loss.n_passes += 1
    return out


def _preconditioner(loss, kind, random_state):
    p = loss.n_dof * loss.n_out
    if loss.sparse or p > _MAX_DENSE_P:
        return _DiagFisher(loss, kind), False
    n = loss.X.shape[0]
    m = max(_SUBSAMPLE_MIN, _SUBSAMPLE_FACTOR * (loss.n_dof if loss.multinomial else p))
    rows = None
    if m < n:
        rng = np.random.default_rng(random_state)
        rows = np.sort(rng.choice(n, size=m, replace=False))
    if loss.multinomial and p > _MAX_FULL_MULTINOMIAL_P:
        return _BlockFisher(loss, rows, kind), False
    return _SubsampleFisher(loss, rows, kind), rows is None


def _pcg(loss, st, M, kind, cg_max_iter, forcing):
    """Truncated PCG for ``F D = -g``; returns ``D``, ``X D`` and CG iterations."""
    b = -st.grad
    solve = M.solve
    if loss.multinomial and not M.full:
        # diagonal / block preconditioners do not respect the directions along
        # which f is flat: keep every direction off them
        solve = lambda r: loss.center_null_space(M.solve(r))  # noqa: E731
    D = solve(b)
    U = loss.matmul(D)
    if cg_max_iter == 0:
        return D, U, 0
    r = b - (loss.rmatmul(loss.raw_fisher(st, U, kind)) + loss.penalty_matvec(D))
    z = solve(r)
    rz = float(np.sum(r * z))
    target = forcing * float(np.sum(b * D))
    P, XP = z, None
    k = 0
    for k in range(1, cg_max_iter + 1):
        if rz <= target:
            return D, U, k - 1
        XP = loss.matmul(P)
        FP = loss.rmatmul(loss.raw_fisher(st, XP, kind)) + loss.penalty_matvec(P)
        pFp = float(np.sum(P * FP))
        if not pFp > 0:
            return D, U, k
        alpha = rz / pFp
        D = D + alpha * P
        U = U + XP * np.asarray(alpha, dtype=XP.dtype)
        r = r - alpha * FP
        z = solve(r)
        rz_new = float(np.sum(r * z))
        P = z + (rz_new / rz) * P
        rz = rz_new
    return D, U, k


class NaturalGradient(LossSolver):
    """NGD on the second-order template: the curvature is the preconditioner
    ``M`` (exact, subsampled, block or diagonal Fisher), the inner solve
    truncated PCG on exact Fisher products, the step Armijo's."""

    name = "ngd"

    def __init__(self, loss, *, tol=1e-4, max_iter=100, fisher="exact", cg_max_iter=None,
                 random_state=None, verbose=0):
        super().__init__(loss, tol=tol, max_iter=max_iter, verbose=verbose)
        self.fisher = fisher
        self.M, exact_precond = _preconditioner(loss, fisher, random_state)
        if cg_max_iter is None:
            cg_max_iter = (0 if exact_precond
                           else 50 if isinstance(self.M, _DiagFisher) else 10)
        self.cg_max_iter = cg_max_iter

    def setup(self, coef0):
        super().setup(coef0)
        self.n_cg, self.decrement = 0, np.inf

    def update_curvature(self):
        self.M.update(self.st)

    def inner_solve(self):
        """The decrement in the metric ``M``; unless that already meets
        ``tol`` (a full ``M``), the truncated-PCG direction."""
        st, M = self.st, self.M
        g = st.grad
        self.dec0 = 0.5 * float(np.sum(g * M.solve(g)))
        self.decs.append(self.dec0)
        self.early = M.full and is_converged(st, self.dec0, self.tol)
        if self.early:
            return
        # forcing term: loose far from the optimum, tight near it
        forcing = min(0.25, np.sqrt(self.dec0 / max(abs(st.value), 1e-12)))
        self.D, self.U, k = _pcg(self.loss, st, M, self.fisher, self.cg_max_iter, forcing)
        self.n_cg += k
        self.k = k

    def check_convergence(self):
        if self.early:
            self.n_iter -= 1  # this iteration only checked: not counted
            self.decrement = self.dec0
            return StopReason.CONVERGED
        # an inexact M misjudges the decrement: use the CG direction's instead,
        # and stop after taking that (already paid for) step
        M = self.M
        self.decrement = (-0.5 * float(np.sum(self.st.grad * self.D)) if not M.full
                          else self.dec0)
        self.done = not M.full and is_converged(self.st, self.decrement, self.tol)
        return None

    def line_search(self):
        loss, st, D, U = self.loss, self.st, self.D, self.U
        step = line_search(loss, st, D, U)
        if self.done and step.t < 1.0:  # criterion met; keep the current point
            return StopReason.CONVERGED
        if step.status is not None:
            return step.status
        self.advance(D, U, step, "ngd", f" cg {self.k}")
        if self.done:
            return StopReason.CONVERGED
        if negligible_step(self.st.coef, step.t * D):
            return StopReason.ROUNDING
        return None

    def result_fields(self):
        return {"n_cg_iter": self.n_cg}


def ngd(loss, coef0, *, tol=1e-4, max_iter=100, fisher="exact", cg_max_iter=None,
        random_state=None, verbose=0):
    """Natural gradient descent on ``loss`` from ``coef0``; returns a
    :class:`LinearSolverResult`.

    ``cg_max_iter`` defaults to 0 when the preconditioner is the exact Fisher
    matrix, 10 with a subsampled Fisher and 50 with the diagonal one.
    """
    return NaturalGradient(loss, tol=tol, max_iter=max_iter, fisher=fisher,
                           cg_max_iter=cg_max_iter, random_state=random_state,
                           verbose=verbose).solve(coef0)


__all__ = ["NaturalGradient", "ngd"]
