"""Entropic OT with a group-lasso class regulariser (generalised conditional
gradient, Courty et al. 2017)."""

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import xlogy

from skngd._solvers._result import warn_not_converged
from skngd.ot._result import OTResult
from skngd.ot._sinkhorn import sinkhorn
from skngd.ot._validation import check_cost, check_labels, check_marginal, ot_params


def _groups(labels, n):
    labels = check_labels(labels, n)
    classes, codes = np.unique(labels, return_inverse=True)
    return [np.flatnonzero(codes == c) for c in range(len(classes))]


def _group_norms(P, groups):
    """(n_groups, m) array of ||P[I_c, j]||_2."""
    return np.sqrt(np.stack([np.einsum("ij,ij->j", P[I], P[I]) for I in groups]))


def _objective(P, M, reg, reg_class, groups):
    return float(
        np.sum(P * M)
        + reg * np.sum(xlogy(P, P) - P)
        + reg_class * _group_norms(P, groups).sum()
    )


def _gradient(P, groups):
    """Gradient of sum_{c,j} ||P[I_c, j]||_2 (0 on empty groups)."""
    G = np.zeros_like(P)
    norms = _group_norms(P, groups)
    for c, I in enumerate(groups):
        nz = norms[c] > 0
        G[np.ix_(I, nz)] = P[np.ix_(I, nz)] / norms[c][nz]
    return G


@ot_params(
    "a", "b", "M", "labels", "reg", "reg_class", "max_iter", "tol", "max_outer", "n_jobs"
)
def sinkhorn_group_lasso(
    a,
    b,
    M,
    labels,
    reg,
    reg_class,
    *,
    max_iter=1000,
    tol=1e-9,
    max_outer=20,
    n_jobs=None,
):
    r"""Entropic OT whose columns prefer mass from a single source class.

    .. math::

        \min_{P \in U(a, b)} \langle P, M \rangle
        + \varepsilon \sum_{ij} P_{ij}(\log P_{ij} - 1)
        + \eta \sum_j \sum_c \| P_{I_c, j} \|_2

    with :math:`I_c` the source rows of class :math:`c`. Generalised
    conditional gradient: the group-lasso term is linearised at the current
    plan, the entropic problem with cost :math:`M + \eta \nabla\Omega(P_k)` is
    solved by :func:`sinkhorn`, and an exact line search along the segment
    keeps the objective history monotone.

    Parameters
    ----------
    a : array-like of shape (n,) or None
        Source weights (``None``: uniform), as in :func:`sinkhorn`.
    b : array-like of shape (m,) or None
        Target weights (``None``: uniform).
    M : array-like of shape (n, m)
        Finite ground cost.
    labels : array-like of shape (n,)
        Class of every source row (1-D, no NaN).
    reg : float > 0
        Entropic regularisation :math:`\varepsilon`.
    reg_class : float >= 0
        Weight :math:`\eta` of the group-lasso term.
    max_iter : int >= 1, default=1000
        Iterations of each inner Sinkhorn solve.
    tol : float >= 0, default=1e-9
        Marginal tolerance of each inner solve.
    max_outer : int >= 1, default=20
        Conditional-gradient iterations; stops earlier when the relative
        objective decrease falls below ``max(tol, 1e-7)``.
    n_jobs : int or None
        Threads for the Sinkhorn kernels.

    Returns
    -------
    result : OTResult
        ``history`` holds the objective after each outer iteration.

    References
    ----------
    Courty, N., Flamary, R., Tuia, D. and Rakotomamonjy, A. (2017). Optimal
    transport for domain adaptation. IEEE TPAMI 39(9).

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.ot import sinkhorn_group_lasso
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = sinkhorn_group_lasso(None, None, M, [0, 1], reg=0.1, reg_class=1.0)
    >>> bool(np.all(np.diag(res.plan) > 0.49))
    True
    """
    M = check_cost(M)
    n, m = M.shape
    a = check_marginal(a, n, "a")
    b = check_marginal(b, m, "b")
    reg, reg_class, max_outer = float(reg), float(reg_class), int(max_outer)
    groups = _groups(labels, n)
    res = sinkhorn(a, b, M, reg, max_iter=max_iter, tol=tol, n_jobs=n_jobs)
    P, n_iter = res.plan, res.n_iter
    obj = _objective(P, M, reg, reg_class, groups)
    history = [obj]
    outer_converged = reg_class == 0
    for _ in range(0 if reg_class == 0 else max_outer):
        Mk = M + reg_class * _gradient(P, groups)
        inner = sinkhorn(a, b, Mk, reg, max_iter=max_iter, tol=tol, n_jobs=n_jobs)
        n_iter += inner.n_iter
        D = inner.plan - P
        ls = minimize_scalar(
            lambda t: _objective(P + t * D, M, reg, reg_class, groups),
            bounds=(0.0, 1.0),
            method="bounded",
            options={"xatol": 1e-8},
        )
        t = ls.x if ls.fun < obj else 0.0
        P = P + t * D
        new = _objective(P, M, reg, reg_class, groups)
        history.append(new)
        decrease = obj - new
        obj = new
        if decrease <= max(tol, 1e-7) * max(1.0, abs(obj)):
            outer_converged = True
            break
    if not outer_converged:
        warn_not_converged("sinkhorn_group_lasso", max_outer, param="max_outer")
    err = float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())
    return OTResult(
        plan=P,
        f=res.f,
        g=res.g,
        cost=float(np.sum(P * M)),
        n_iter=n_iter,
        converged=bool(outer_converged and res.converged),
        marginal_error=err,
        history=history,
    )
