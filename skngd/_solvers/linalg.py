r"""The one module for positive (semi-)definite solves and Gram products of
the linear-model solvers.

PSD solves (every solver factorises through here):

* :func:`solve_psd` / :func:`psd_solver` / :class:`PsdInverse`: Cholesky with an
  eigen pseudo-inverse fallback (minimum-norm solution of a singular ``M``):
  logistic Newton, NGD's preconditioners, MM's Böhning bound;
* :func:`cholesky_or_pinvh_solver` / :func:`solve_pd_or_none`: the Student-t
  fit's normal equations (``pinvh`` fallback) and its Newton polish (no step
  unless positive definite);
* :func:`equilibrated_cholesky` / :func:`solve_spd`: Cholesky of ``M`` scaled to
  unit diagonal, with a collinearity test on the pivots (``1 - R^2 < 1e-11``)
  and ``pinvh`` beyond it: the GLM's Newton / IRLS steps, whose covariance
  needs the rank-deficiency flag.

Weighted Gram matrices are formed in one place below this layer,
:func:`skngd._loss.design.weighted_gram` (dense row blocks or CSR, with or
without the intercept column), used by the GLM, the logistic loss and the
Student-t normal equations. Here: the observed-information products of the
Fisher-preconditioned conjugate-gradient Newton step (:func:`newton_pcg`),
which never forms a second Gram matrix: two products with ``X`` per
refinement.
"""

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from skngd._loss.design import n_chunks

_COLLINEAR_TOL = 1e-11
_FUSED_MIN_ROWS = 20_000  # below, NumPy products beat loading another kernel


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


def inverse_pd(H):
    """:math:`H^{-1}` by Cholesky, ``pinvh`` if ``H`` is not positive definite
    (the parameter covariance of the GLMs, in memory and on Dask)."""
    try:
        c = linalg.cho_factor(H, check_finite=False)
        return linalg.cho_solve(c, np.eye(H.shape[0]), check_finite=False)
    except linalg.LinAlgError:
        return linalg.pinvh(H)


def psd_solver(M):
    """``b -> M^{-1} b`` for symmetric PD ``M`` factorised once (Cholesky), or
    the pseudo-inverse's solve if the factorisation fails."""
    try:
        c = linalg.cho_factor(M, lower=True, check_finite=False)
        return lambda b: linalg.cho_solve(c, b, check_finite=False)
    except linalg.LinAlgError:
        return PsdInverse(M).solve


def cholesky_or_pinvh_solver(G):
    """``b -> G^{-1} b`` by Cholesky of ``G`` factorised once; ``pinvh``'s
    minimum-norm solution if ``G`` is singular (the Student-t fit's normal
    equations)."""
    try:
        factor = linalg.cho_factor(G, check_finite=False)
        if np.all(np.isfinite(factor[0])):
            return lambda rhs: linalg.cho_solve(factor, rhs, check_finite=False)
    except linalg.LinAlgError:
        pass
    pinv = linalg.pinvh(G, check_finite=False)
    return lambda rhs: pinv @ rhs


def solve_pd_or_none(H, g):
    """``H^{-1} g`` by Cholesky, or ``None`` if ``H`` is not positive definite
    (a Newton step that must not be taken)."""
    try:
        d = linalg.cho_solve(linalg.cho_factor(H, check_finite=False), g,
                             check_finite=False)
    except linalg.LinAlgError:
        return None
    return d if np.all(np.isfinite(d)) else None


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


def penalty_diag(problem):
    """Diagonal of the penalty: ``l2`` on the coefficients, 0 on the intercept."""
    return problem.l2 * problem.penalty_mask


def equilibrated_cholesky(H):
    """Cholesky of ``H`` scaled to unit diagonal: ``(L, s)`` or None when
    ``H`` is not (numerically) positive definite."""
    d = np.diag(H).copy()
    if not (np.all(d > 0) and np.all(np.isfinite(H))):
        return None
    s = 1.0 / np.sqrt(d)
    try:
        L = linalg.cholesky(H * s[:, None] * s[None, :], lower=True, check_finite=False)
    except linalg.LinAlgError:
        return None
    if not np.min(np.diag(L)) ** 2 > _COLLINEAR_TOL:
        return None
    return L, s


def solve_spd(H, b):
    """Solve ``H x = b`` for a symmetric PSD ``H``; returns ``(x, deficient)``.

    Equilibrates to unit diagonal and uses Cholesky; a pivot
    ``1 - R^2 < 1e-11`` (perfect collinearity) switches to ``pinvh``.
    """
    fac = equilibrated_cholesky(H)
    if fac is None:
        return linalg.pinvh(H) @ b, True
    L, s = fac
    return s * linalg.cho_solve((L, True), s * b, check_finite=False), False


def _hessian_vector(problem, h, v, pdiag):
    r"""``(H v, X~ v)`` with :math:`H = \tilde X^T \mathrm{diag}(h) \tilde X +
    \lambda P`: one fused sweep over large dense X, else two products with X.
    ``X~ v`` is returned so that the step's linear predictor needs no
    further product."""
    X, p = problem.X, problem.X.shape[1]
    v0 = float(v[p]) if problem.fit_intercept else 0.0
    if not sp.issparse(X) and problem.use_numba and X.shape[0] >= _FUSED_MIN_ROWS:
        from skngd._kernels.glm import dense_hessian_vector

        part = np.empty((n_chunks(X.shape[0]), p + 1))
        t = np.empty(X.shape[0])
        dense_hessian_vector(X, np.ascontiguousarray(v[:p]), v0, h, t, part)
        out = part.sum(axis=0)[: problem.n_coef]
    else:
        t = problem.matmul(v)[:, 0]
        out = problem.rmatvec(h * t)
    return out + (pdiag @ v if pdiag.ndim == 2 else pdiag * v), t  # ridge matrix or diagonal


def newton_pcg(problem, h, fac, g, pdiag, forcing, max_cg=20):
    """Approximate Newton step :math:`-H_O^{-1} g` (observed Hessian) by
    conjugate gradients preconditioned with the Fisher matrix (Cholesky
    factor ``fac``), stopped when the preconditioned residual is below
    ``forcing`` times its start. The first iterate is the (optimally scaled)
    Fisher scoring step; on negative curvature (the observed Hessian is not
    positive definite) the last iterate is returned, or the Fisher step at
    the first one. Returns ``(step, X~ step, n_hessian_products)``."""
    L, s = fac
    solve = lambda r: s * linalg.cho_solve((L, True), s * r, check_finite=False)  # noqa: E731
    r = -g
    z = solve(r)
    x, xt, p, rz = np.zeros_like(g), None, z, float(r @ z)
    target = forcing * forcing * rz
    for j in range(max_cg):
        q, t = _hessian_vector(problem, h, p, pdiag)
        pq = float(p @ q)
        if not pq > 0:
            return (z, t, j + 1) if j == 0 else (x, xt, j + 1)
        alpha = rz / pq
        x = x + alpha * p
        xt = alpha * t if xt is None else xt + alpha * t
        r = r - alpha * q
        z = solve(r)
        rz_new = float(r @ z)
        if rz_new <= target:
            return x, xt, j + 1
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, xt, max_cg
