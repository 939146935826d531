"""Log-domain Sinkhorn between point clouds, costs computed on the fly."""

import numpy as np

from skngd._solvers._result import warn_not_converged
from skngd.ot._result import OTResult
from skngd.ot._sinkhorn import _STAGE_TOL, eps_schedule
from skngd.ot._validation import check_balanced, check_marginal, check_points, ot_params
from skngd.utils._threads import fit_threads

_METRICS = {"sqeuclidean": True, "euclidean": False}  # name -> squared


class _Cloud:
    """A point cloud laid out for the on-the-fly cost kernel."""

    def __init__(self, X):
        self.X = X
        self.sq = np.einsum("ij,ij->i", X, X)


def _cost_bound(Xs, Xt, squared):
    """Upper bound on the ground cost from one centre (O(n + m))."""
    c = Xs.mean(0)
    r = np.sqrt(((Xs - c) ** 2).sum(1)).max() + np.sqrt(((Xt - c) ** 2).sum(1)).max()
    return r * r if squared else r


def _eps_scaling(rows, col_sums_log, stages, f, g, log_b, b, tol, max_iter):
    """Alternating exact row / column updates over the eps-scaling
    ``stages`` (each stage to ``_STAGE_TOL``, the last to ``tol``), at most
    ``max_iter`` iterations in all. Returns ``(f, g, n_iter, converged, eps,
    column error)``, ``eps`` the stage reached."""
    n_iter, col_err, converged, eps = 0, np.inf, False, stages[0]
    for k, eps in enumerate(stages):
        last = k == len(stages) - 1
        stage_tol = tol if last else max(tol, _STAGE_TOL)
        while n_iter < max_iter:
            f = rows(g, eps)
            Lcol = col_sums_log(f, eps)
            n_iter += 1
            col_err = np.abs(np.exp(g / eps + Lcol) - b).sum()
            if col_err < stage_tol:
                converged = last
                break
            g = eps * (log_b - Lcol)
        if n_iter >= max_iter and not converged:
            break
    return f, g, n_iter, converged, eps, col_err


@ot_params("Xs", "Xt", "reg", "a", "b", "metric", "cost_scale", "max_iter", "tol", "n_jobs")
def sinkhorn_online(
    Xs,
    Xt,
    reg,
    *,
    a=None,
    b=None,
    metric="sqeuclidean",
    cost_scale=1.0,
    max_iter=1000,
    tol=1e-9,
    n_jobs=None,
):
    r"""Log-domain Sinkhorn between two point clouds in O(n + m) memory.

    Same problem as :func:`sinkhorn` with
    :math:`M_{ij} = c(x_i, y_j) / s`, :math:`c` the (squared) Euclidean
    distance and :math:`s` = ``cost_scale``, but ``M`` is never stored: each
    half-iteration recomputes one row of costs per point inside the fused
    log-sum-exp,

    .. math::

        f_i \leftarrow \varepsilon \log a_i - \varepsilon \log \sum_j
        \exp\big((g_j - M_{ij})/\varepsilon\big),

    parallel over points, so memory stays O((n + m) d) and n = m = 50,000
    runs in well under a gigabyte. Small ``reg`` is reached by
    :math:`\varepsilon`-scaling.

    Parameters
    ----------
    Xs : array-like of shape (n, d)
        Source points.
    Xt : array-like of shape (m, d)
        Target points.
    reg : float > 0
        Entropic regularisation (in units of the scaled cost).
    a, b : array-like or None
        Weights (> 0, equal mass); ``None`` means uniform.
    metric : {'sqeuclidean', 'euclidean'}, default='sqeuclidean'
    cost_scale : float > 0, default=1.0
        The cost is divided by this (e.g. an estimate of its maximum).
    max_iter : int >= 1, default=1000
        Iterations over all eps-scaling stages; when they run out, the plan
        is finished with an exact row update at ``reg`` (every row keeps
        its mass) and a ``ConvergenceWarning`` says where the schedule
        stopped (``eps_reached``).
    tol : float >= 0, default=1e-9
        Stop when the L1 marginal violation falls below ``tol``.
    n_jobs : int or None
        Threads for the row-parallel kernel.

    Returns
    -------
    result : OTResult
        With ``plan=None``; ``f``, ``g``, ``cost``, ``marginal_error`` are
        computed exactly (on the fly).

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.ot import sinkhorn_online
    >>> rng = np.random.RandomState(0)
    >>> res = sinkhorn_online(rng.randn(50, 2), rng.randn(60, 2) + 1, reg=0.1)
    >>> res.converged, res.plan is None
    (True, True)
    """
    Xs, Xt = check_points(Xs, "Xs"), check_points(Xt, "Xt")
    if Xs.shape[1] != Xt.shape[1]:
        raise ValueError(f"Xs has {Xs.shape[1]} features but Xt has {Xt.shape[1]}.")
    squared = _METRICS[metric]
    n, m = Xs.shape[0], Xt.shape[0]
    a = check_marginal(a, n, "a")
    b = check_marginal(b, m, "b")
    check_balanced(a, b)
    reg, max_iter, tol = float(reg), int(max_iter), float(tol)
    scale = 1.0 / float(cost_scale)
    src, tgt = _Cloud(Xs), _Cloud(Xt)
    log_a, log_b = np.log(a), np.log(b)
    f, g = np.zeros(n), np.zeros(m)
    Lr, Lc = np.empty(n), np.empty(m)
    stages = eps_schedule(reg, _cost_bound(Xs, Xt, squared) * scale)
    # imported here: importing skngd.ot must not load Numba
    from skngd._kernels.sinkhorn import lse_rows_online, plan_cost_online

    with fit_threads(n_jobs) as n_threads:
        work_r = np.empty((max(1, min(n_threads, n)), 4, m))
        work_c = np.empty((max(1, min(n_threads, m)), 4, n))

        def rows(g, eps):  # exact row update: f such that P 1 = a
            lse_rows_online(src.X, tgt.X, tgt.sq, g, eps, scale, squared, Lr, work_r)
            return eps * (log_a - Lr)

        def col_sums_log(f, eps):  # log of P^T 1, minus g / eps
            lse_rows_online(tgt.X, src.X, src.sq, f, eps, scale, squared, Lc, work_c)
            return Lc

        f, g, n_iter, converged, eps, col_err = _eps_scaling(
            rows, col_sums_log, stages, f, g, log_b, b, tol, max_iter)
        if not converged:
            # max_iter ran out (possibly at a larger eps of the schedule): the
            # potentials are a warm start for reg, so finish with an exact
            # row update at reg, giving a plan with every row's mass, and
            # measure its column violation exactly
            f = rows(g, reg)
            col_err = np.abs(np.exp(g / reg + col_sums_log(f, reg)) - b).sum()
        out = np.empty((n, 2))
        plan_cost_online(src.X, tgt.X, tgt.sq, f, g, reg, scale, squared, out, work_r)
    # rows exact (up to rounding); the columns are off by col_err
    err = float(np.abs(out[:, 1] - a).sum() + col_err)
    if not converged:
        warn_not_converged(
            "sinkhorn_online",
            max_iter,
            detail=(
                f"The eps-scaling schedule stopped at eps={eps:.3g} (reg={reg:.3g}); "
                f"the returned plan has exact row sums and marginal error {err:.3g}."
            ),
        )
    return OTResult(
        plan=None,
        f=f,
        g=g,
        cost=float(out[:, 0].sum()),
        n_iter=n_iter,
        converged=converged,
        marginal_error=err,
        eps_reached=float(eps),
    )
