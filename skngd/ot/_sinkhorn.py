"""Entropic optimal transport on a dense cost matrix (stabilised Sinkhorn)."""

import numpy as np

from skngd._solvers._result import warn_not_converged
from skngd.ot._newton import RateWatch, newton_finish, newton_horizon
from skngd.ot._result import OTResult
from skngd.ot._validation import check_balanced, check_cost, check_marginal, ot_params
from skngd.utils._threads import fit_threads

# Scalings are absorbed into the log-domain potentials once |log u| or
# |log v| exceeds this; Gibbs entries below exp(-745) then carry mass
# < exp(2 * 200 - 745), far below any tolerance.
_ABSORB = 200.0
# epsilon-scaling: each stage divides epsilon by this factor ...
_EPS_FACTOR = 10.0
# ... and stops at this marginal error before moving on (warm start only)
_STAGE_TOL = 1e-3
# below this many matrix entries a kernel call is too short to share out
_MIN_PARALLEL_SIZE = 2**20
# below this many cost entries the NumPy twins run (no Numba import or compile)
NUMBA_MIN_ENTRIES = 2**20
# Scaling sweeps read a float32 copy of the kernel until the marginal error
# (measured on that copy) falls below this, or below ``tol`` if larger, then
# the float64 kernel, on which alone convergence is decided. The sweep is
# memory-bound: half the bytes is ~1.6x faster per sweep and degrades less on
# a busy machine. A float32 entry is off by at most 2^-24 relative, so the
# switch leaves an exact error of at most ~1.2e-7 (typically ~1e-9: the
# roundings cancel) for the float64 sweeps to remove. ``None``: float64 only.
_F32_SWITCH = 1e-8


def _kernels(size):
    """The three Sinkhorn kernels: Numba above ``NUMBA_MIN_ENTRIES`` cost
    entries, their NumPy twins below (same results to rounding)."""
    if size >= NUMBA_MIN_ENTRIES:
        from skngd._kernels import sinkhorn as k

        return k.lse_rows, k.lse_cols, k.scaling_pass
    from skngd._kernels import sinkhorn_ref as r

    return r.lse_rows_ref, r.lse_cols_ref, r.scaling_pass_ref


def eps_schedule(reg, cost_scale):
    """Decreasing regularisations ending at ``reg`` (epsilon-scaling).

    Stages start near the cost scale and shrink by ``_EPS_FACTOR``; when
    ``reg`` is already comparable to the cost scale there is one stage.
    """
    stages = [reg]
    while stages[-1] * _EPS_FACTOR < cost_scale:
        stages.append(stages[-1] * _EPS_FACTOR)
    return stages[::-1]


class _Dense:
    """Buffers and kernel calls of the dense solver (float64 throughout)."""

    def __init__(self, M, a, b, n_threads):
        n, m = M.shape
        self.lse_rows, self.lse_cols, self.scaling_pass = _kernels(M.size)
        self.M, self.a, self.b = M, a, b
        self.log_a, self.log_b = np.log(a), np.log(b)
        self.K = np.empty((n, m))
        # the float32 copy for the early sweeps (Numba path only: the NumPy
        # twin would up-cast it on every product)
        self.K32 = np.empty((n, m), np.float32) if M.size >= NUMBA_MIN_ENTRIES else None
        self.Lr, self.Lc = np.empty(n), np.empty(m)
        self.u, self.w = np.empty(n), np.empty(m)
        self.work = np.empty((max(1, min(n_threads, n)), m))
        self.n_newton = 0  # Newton steps taken (also counted in n_iter)

    def log_step(self, f, g, eps, with_cols):
        """Exact log-domain (g then) f update; K <- plan of the new (f, g).

        The row update alone is an absorption (K is rebuilt from the
        potentials, rows exact). With ``with_cols`` the column update runs
        first; it then returns the column violation of the plan before the
        step (whose rows were exact), else inf.
        """
        col_err = np.inf
        if with_cols:
            self.lse_cols(self.M, f, eps, self.Lc)
            col_err = np.abs(np.exp(g / eps + self.Lc) - self.b).sum()
            g = eps * (self.log_b - self.Lc)
        self.lse_rows(self.M, g, eps, self.a, self.Lr, self.K, True)
        f = eps * (self.log_a - self.Lr)
        return f, g, col_err

    def plan_from_scalings(self):
        """diag(u) K diag(v) in place of K (after a converged scaling loop)."""
        self.K *= self.u[:, None]
        self.K *= self.v[None, :]
        return self.K

    def _loop_kernel(self):
        """The kernel the first sweeps read: the float32 copy of ``K`` (made
        now: ``K`` was rebuilt by the log step before every loop), or ``K``."""
        if self.K32 is None or _F32_SWITCH is None:
            return self.K
        np.copyto(self.K32, self.K, casting="same_kind")
        return self.K32

    def _sweep(self, K, v):
        """u <- a / (K v), w <- K^T u; False on a zero or non-finite scaling."""
        self.scaling_pass(K, v, self.a, self.u, self.w, self.work)
        u, w = self.u, self.w
        return bool(np.all(np.isfinite(u)) and np.all(w > 0) and np.all(u > 0))

    def scaling_loop(self, f, g, eps, tol, budget, watch=None):
        """Sinkhorn in the scaling domain on K = exp((f + g - M)/eps).

        Returns (f, g, err, n_iter, status) with status 'converged',
        'absorb' (scalings grew large), 'unstable' (a zero column sum: the
        caller falls back to a log step), 'stalled' (``watch`` predicts more
        iterations than a Newton finish costs) or 'budget'.
        """
        v = np.ones_like(self.b)
        u, w = self.u, self.w
        err = np.inf
        if budget <= 0:
            return f, g, err, 0, "budget"
        K = self._loop_kernel()
        switch = max(tol, _F32_SWITCH or 0.0)
        for it in range(1, budget + 1):
            ok = self._sweep(K, v)
            if not ok and K is not self.K:
                K = self.K  # a float32 column underflowed: redo on the exact kernel
                ok = self._sweep(K, v)
            if not ok:
                return f, g, err, it, "unstable"
            err = np.abs(v * w - self.b).sum()
            if K is not self.K and err < switch:  # exact kernel from here on
                K = self.K  # (convergence is decided on it only)
            elif err < tol:
                self.v = v
                return f + eps * np.log(u), g + eps * np.log(v), err, it, "converged"
            if it == budget:
                break
            if watch is not None and watch.stalled(err):
                return f + eps * np.log(u), g + eps * np.log(v), err, it, "stalled"
            v = self.b / w
            lu, lv = np.log(u), np.log(v)
            if max(np.abs(lu).max(), np.abs(lv).max()) > _ABSORB:
                return f + eps * lu, g + eps * lv, err, it, "absorb"
        return f + eps * np.log(u), g + eps * np.log(v), err, budget, "budget"


def _stage(state, f, g, eps, tol, budget, watch):
    """One epsilon-scaling stage: Sinkhorn to ``tol``, finished by Newton on
    the dual when ``watch`` sees its linear rate stall.

    Returns (f, g, n_iter, status), status 'converged' (scaling loop: the
    plan is in ``state``), 'log-converged', 'newton-converged' or 'budget'.
    """
    used, with_cols, status = 0, False, "budget"
    while used < budget:
        f, g, col_err = state.log_step(f, g, eps, with_cols)
        used += int(with_cols)
        if col_err < tol:  # the plan before this step converged
            return f, g, used, "log-converged"
        f, g, _, k, status = state.scaling_loop(f, g, eps, tol, budget - used, watch)
        used += k
        if status == "stalled":
            f, g, k, status = newton_finish(state.M, state.a, state.b, f, g, eps, tol,
                                            budget - used)
            used += k
            state.n_newton += k
            if status == "converged":
                return f, g, used, "newton-converged"
            watch = None  # Newton made no progress (rounding level): Sinkhorn goes on
        # a zero column sum: next time update the columns in log domain
        with_cols = status == "unstable"
        if status in ("converged", "budget"):
            break
    return f, g, used, status


def _threads(n_jobs, size):
    """The solve's thread policy (``skngd.ot`` functions are entry points):
    ``n_jobs`` Numba threads for the kernels of large problems and as many
    BLAS threads (the Newton finish's products; ``None`` -> 1), so neither
    pool oversubscribes a busy machine; small problems run NumPy only."""
    if size >= NUMBA_MIN_ENTRIES:
        return fit_threads(n_jobs if size >= _MIN_PARALLEL_SIZE else 1)
    return fit_threads(n_jobs, numba=False)


def _plan(M, f, g, eps):
    return np.exp((f[:, None] + g[None, :] - M) / eps)


def _marginal_error(P, a, b):
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


@ot_params("a", "b", "M", "reg", "max_iter", "tol", "n_jobs")
def sinkhorn(a, b, M, reg, *, max_iter=1000, tol=1e-9, n_jobs=None):
    r"""Entropic optimal transport, stable for any ``reg`` (Sinkhorn).

    Solves

    .. math::

        \min_{P \ge 0,\ P 1 = a,\ P^T 1 = b}
        \langle P, M \rangle + \varepsilon \sum_{ij} P_{ij} (\log P_{ij} - 1)

    whose solution is :math:`P_{ij} = \exp((f_i + g_j - M_{ij})/\varepsilon)`
    for the dual potentials :math:`f, g`. Iterations alternate exact
    log-domain updates :math:`f \leftarrow \varepsilon \log a - \varepsilon
    \operatorname{LSE}_j((g_j - M_{ij})/\varepsilon)` (and the same for
    :math:`g`) with cheap scaling-domain updates on the stabilised kernel
    :math:`\exp((f_i + g_j - M_{ij})/\varepsilon)`; scalings are absorbed into
    the potentials before they can overflow (Schmitzer 2019), so nothing
    underflows even for tiny :math:`\varepsilon`. Small :math:`\varepsilon`
    are reached by :math:`\varepsilon`-scaling (warm starts from larger values).

    Sinkhorn converges linearly, and on near-degenerate plans (small
    :math:`\varepsilon`, a subset of rows whose mass nearly equals that of a
    subset of columns) at a rate so close to 1 that it may need millions of
    iterations. Every 20 iterations the decay of the marginal error is
    extrapolated to ``tol``; when that needs more iterations than about ten
    Newton steps cost (problems of up to :math:`2^{22}` cost entries), the
    solve finishes with Newton's method on the dual (Sinkhorn-Newton)

    .. math::

        D(f, g) = \langle a, f\rangle + \langle b, g\rangle
        - \varepsilon \sum_{ij} e^{(f_i + g_j - M_{ij})/\varepsilon},
        \qquad
        \nabla D = \begin{pmatrix} a - P 1 \\ b - P^T 1 \end{pmatrix},
        \qquad
        \nabla^2 D = -\frac{1}{\varepsilon}
        \begin{pmatrix} \operatorname{diag}(P 1) & P \\
        P^T & \operatorname{diag}(P^T 1) \end{pmatrix},

    whose Hessian has the gauge direction :math:`(1, -1)` in its null space:
    the step :math:`d = -(\nabla^2 D)^{-1} \nabla D` is solved with one
    potential pinned (Schur complement on the shorter side, dense Cholesky,
    Levenberg-Marquardt damping only if that fails), changes no plan entry by
    more than a factor :math:`e^{30}`, and backtracks until
    :math:`D(x + t d) - D(x) \ge 10^{-4}\, t \langle \nabla D, d\rangle`,
    the change computed as
    :math:`t\langle \nabla D, d\rangle - \varepsilon \sum_{ij} P_{ij}\,
    \varphi(t (d_{f,i} + d_{g,j})/\varepsilon)`, :math:`\varphi(x) = e^x - 1 - x`,
    exact far below the rounding of :math:`D`. Convergence is then
    quadratic: small problems for which Sinkhorn needs 8,000 to more than
    3,000,000 iterations converge in 80 to 160 (measured in the user guide).
    If Newton stops making progress (rounding level), Sinkhorn goes on with
    the remaining budget.

    Parameters
    ----------
    a : array-like of shape (n,) or None
        Source weights, > 0 (``None``: uniform).
    b : array-like of shape (m,) or None
        Target weights, > 0, same total mass as ``a`` (``None``: uniform).
    M : array-like of shape (n, m)
        Finite ground cost.
    reg : float > 0
        Entropic regularisation :math:`\varepsilon` (in the units of ``M``).
    max_iter : int >= 1, default=1000
        Maximum number of iterations over all stages, Sinkhorn and Newton
        steps alike.
    tol : float >= 0, default=1e-9
        Stop when :math:`\|P1 - a\|_1 + \|P^T 1 - b\|_1 <` ``tol``.
    n_jobs : int or None
        Threads for the row-parallel kernels.

    Returns
    -------
    result : OTResult
        ``plan``, potentials ``f``, ``g``, ``cost`` :math:`\langle P, M\rangle`,
        ``n_iter``, ``converged``, ``marginal_error``, and
        ``n_newton_iter`` (Newton steps among the ``n_iter``). If
        not converged a ``ConvergenceWarning`` is emitted; the plan is still
        finite.

    References
    ----------
    Cuturi, M. (2013). Sinkhorn distances: lightspeed computation of optimal
    transport. NeurIPS.
    Schmitzer, B. (2019). Stabilized sparse scaling algorithms for entropy
    regularized transport problems. SIAM J. Sci. Comput. 41(3).
    Brauer, C., Clason, C., Lorenz, D. & Wirth, B. (2017). A Sinkhorn-Newton
    method for entropic optimal transport. arXiv:1710.06635.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.ot import sinkhorn
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = sinkhorn(None, None, M, reg=0.01)
    >>> np.round(res.plan, 6)
    array([[0.5, 0. ],
           [0. , 0.5]])
    >>> res.converged
    True
    """
    M = check_cost(M)
    n, m = M.shape
    a = check_marginal(a, n, "a")
    b = check_marginal(b, m, "b")
    check_balanced(a, b)
    reg, max_iter, tol = float(reg), int(max_iter), float(tol)
    f, g = np.zeros(n), np.zeros(m)
    n_iter = 0
    stages = eps_schedule(reg, float(M.max() - M.min()))
    horizon = newton_horizon(n, m)
    with _threads(n_jobs, M.size) as n_threads:
        state = _Dense(M, a, b, n_threads)
        for k, eps in enumerate(stages):
            stage_tol = tol if k == len(stages) - 1 else max(tol, _STAGE_TOL)
            watch = RateWatch(horizon, stage_tol) if np.isfinite(horizon) else None
            f, g, used, status = _stage(state, f, g, eps, stage_tol, max_iter - n_iter, watch)
            n_iter += used
        converged = status in ("converged", "log-converged", "newton-converged")
        if status == "converged":
            plan = state.plan_from_scalings()
        elif converged:
            plan = _plan(M, f, g, reg)
        else:  # finish with an exact row update at reg: every row keeps its mass
            f, g, _ = state.log_step(f, g, reg, False)
            plan = state.K
    err = _marginal_error(plan, a, b)
    if not converged:
        warn_not_converged("sinkhorn", max_iter, detail=f"Marginal error {err:.3g}.")
    return OTResult(
        plan=plan,
        f=f,
        g=g,
        cost=float(np.einsum("ij,ij->", plan, M)),
        n_iter=n_iter,
        converged=converged,
        marginal_error=err,
        n_newton_iter=state.n_newton,
    )
