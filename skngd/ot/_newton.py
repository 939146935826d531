"""Newton's method on the entropic OT dual (the Sinkhorn-Newton finish).

The dual of entropic OT,

    D(f, g) = <a, f> + <b, g> - eps * sum_ij exp((f_i + g_j - M_ij) / eps),

is concave with gradient (a - P 1, b - P^T 1) and Hessian -(1/eps) J,
J = [[diag(P 1), P], [P^T, diag(P^T 1)]], whose null space is the gauge
direction (1, -1). Each step solves J d = eps * grad on the complement of
one pinned potential (the gauge fix), the longer side eliminated by its
Schur complement (a dense Cholesky on the shorter side), damped
(Levenberg-Marquardt) only if that does not factor; a step changes no plan
entry by more than e^30, and backtracks on the dual (Armijo). The dual
change of a step is evaluated as t <grad, d> - eps sum_ij P_ij phi(t z_ij),
phi(x) = e^x - 1 - x, so the test stays exact when the change is far below
the rounding of D itself. NumPy / LAPACK only (Brauer, Clason, Lorenz &
Wirth 2017, arXiv:1710.06635).

:class:`RateWatch` decides when :func:`skngd.ot.sinkhorn` hands over: when
Sinkhorn's recent linear rate predicts more iterations than a Newton finish
costs (:func:`newton_horizon`, in Sinkhorn iterations).

Not used: a matrix-free Newton (Jacobi-preconditioned CG on Hessian-vector
products). Measured on normalised Gaussian-cloud costs, it cut n = m = 2000,
eps = 1e-3 from 1196 Sinkhorn iterations (5.0 s) to 300 + 3 Newton steps with
152 CG iterations (2.9 s in all), and n = m = 1200, eps = 10^-3.5 from 4412 to
600 + 6 steps with 627 CG iterations (11.4 s against 7.4 s in a first NumPy
version: each step also pays the plan and the line search); at most 2x, on
sizes the dense finish covers.
"""

import math
from collections import deque

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

# Armijo constant of the backtracking line search on the dual
_ARMIJO = 1e-4
_MAX_HALVINGS = 40
# a step changes no plan entry by more than this factor in log scale: the
# quadratic model of the exponential dual is only trusted that far
_MAX_LOG_CHANGE = 30.0
# Levenberg-Marquardt damping, only when the Schur complement does not
# factor: lam = _DAMPING * max(P 1), raised by _DAMPING_GROWTH per failure
_DAMPING = 1e-13
_DAMPING_GROWTH = 1e3
_DAMPING_TRIES = 5
# Newton gives up (back to Sinkhorn) after this many full steps (t = 1)
# that do not halve the best marginal error so far once that error is below
# _NEAR_ROUNDING times the total mass (rounding level: the gradient is noise;
# far from it, full steps may raise the error while the dual rises), or
# after _MAX_STEPS steps in all
_STALL_STEPS = 3
_NEAR_ROUNDING = 2.0**-26
_MAX_STEPS = 100
# Switch rule. Newton steps of a finish from a stalled Sinkhorn (measured
# 4-19 on the hard instances of the tests) ...
_NEWTON_STEPS = 10
# ... the window (Sinkhorn iterations) over which its linear rate is read
_WINDOW = 20
# dense finish only up to this many cost entries (it holds ~5 n x m arrays;
# the Schur complement has side min(n, m) <= 2048)
_MAX_ENTRIES = 2**22
# 1/k!, k = 2..21: the Taylor series of e^x - 1 - x below _SERIES_MAX
# (expm1(x) - x above it)
_INV_FACT = [1.0 / math.factorial(k) for k in range(2, 22)]
_SERIES_MAX = 1.0


def _series_terms(xmax):
    """Terms of sum_k>=2 x^k / k! needed for double precision at |x| <= xmax."""
    k = 1
    while k < len(_INV_FACT) and 2.0 * xmax ** k * _INV_FACT[k] >= 2.0**-56:
        k += 1
    return k


def _loss(P, x):
    """sum_ij P_ij (e^x_ij - 1 - x_ij) >= 0 to full relative precision: the
    part of the dual change along a step beyond its linear term. The step
    cap keeps |x| <= _MAX_LOG_CHANGE, so P e^x cannot overflow."""
    xmax = max(x.max(), -x.min())
    if not np.isfinite(xmax):
        return np.inf
    out = 0.0
    if xmax >= _SERIES_MAX:
        mid = np.abs(x) >= _SERIES_MAX
        xm = x[mid]
        out = np.dot(P[mid], np.expm1(xm) - xm)
        x, P = x[~mid], P[~mid]
        xmax = _SERIES_MAX
    k = _series_terms(xmax)
    s = np.full_like(x, _INV_FACT[k - 1])
    for c in _INV_FACT[k - 2::-1]:
        s *= x
        s += c
    s *= x * x
    return out + np.dot(P.ravel(), s.ravel())


def _solve(P, r, c, ga, gb, eps, lam):
    """Solve (J + lam I) d = eps (ga, gb) on the complement of one pinned
    column potential, the rows (the longer side) eliminated by their Schur
    complement. Raises LinAlgError if that does not factor."""
    m = P.shape[1]
    dr = r + lam
    if m == 1:  # only the pinned column: the row block is diagonal
        return eps * ga / dr, np.zeros(1)
    Q = P / dr[:, None]
    W = Q.T @ P  # P^T diag(1/(r + lam)) P
    np.fill_diagonal(W, 0.0)
    # S = diag(c) + lam - P^T diag(1/(r + lam)) P, its diagonal as a sum of
    # non-negative terms (no cancellation when a column holds most of a row)
    S = -W
    S[np.diag_indices(m)] = lam + lam * (P.T @ (1.0 / dr)) + W.sum(1)
    keep = np.arange(m) != np.argmax(c)  # pin the heaviest column
    rhs = eps * (gb - Q.T @ ga)
    factor = cho_factor(S[np.ix_(keep, keep)], lower=True, check_finite=False)
    dg = np.zeros(m)
    dg[keep] = cho_solve(factor, rhs[keep], check_finite=False)
    return (eps * ga - P @ dg) / dr, dg


def _direction(P, r, c, ga, gb, eps):
    """The Newton direction, damped (Levenberg-Marquardt) only as much as
    the factorisation needs; None if even the damped system fails."""
    lam = 0.0
    for _ in range(_DAMPING_TRIES + 1):
        try:
            df, dg = _solve(P, r, c, ga, gb, eps, lam)
        except (LinAlgError, ValueError):
            df = None
        if df is not None and np.all(np.isfinite(df)) and np.all(np.isfinite(dg)):
            return df, dg
        lam = lam * _DAMPING_GROWTH if lam else _DAMPING * max(r.max(), 1e-300)
    return None


def _line_search(P, df, dg, eps, slope):
    """Largest t in {1, 1/2, ...} with D(x + t d) - D(x) >= ARMIJO t slope."""
    z = (df[:, None] + dg[None, :]) / eps
    t = min(1.0, _MAX_LOG_CHANGE / np.abs(z).max())
    for _ in range(_MAX_HALVINGS):
        loss = eps * _loss(P, t * z)
        if loss <= (1.0 - _ARMIJO) * t * slope:  # False for NaN / inf
            return t
        t *= 0.5
    return None


def newton_finish(M, a, b, f, g, eps, tol, budget):
    """Newton on the dual at ``eps`` from (f, g) until the L1 marginal
    error is below ``tol``.

    Returns ``(f, g, n_iter, status)``, status 'converged', 'stalled'
    (no progress: rounding level or a failed step; the caller goes on with
    Sinkhorn) or 'budget'.
    """
    if M.shape[0] < M.shape[1]:  # Schur complement on the shorter side
        g, f, n_iter, status = newton_finish(M.T, b, a, g, f, eps, tol, budget)
        return f, g, n_iter, status
    f, g = f.copy(), g.copy()
    best, idle, t = np.inf, 0, 0.0
    near_rounding = _NEAR_ROUNDING * a.sum()
    for it in range(min(budget, _MAX_STEPS) + 1):
        P = (f[:, None] + g[None, :] - M) / eps
        np.exp(P, out=P)
        r, c = P.sum(1), P.sum(0)
        ga, gb = a - r, b - c
        err = np.abs(ga).sum() + np.abs(gb).sum()
        if err < tol:
            return f, g, it, "converged"
        if err < 0.5 * best:
            best, idle = err, 0
        elif t == 1.0 and err < near_rounding:
            idle += 1
        if it == budget:
            return f, g, it, "budget"
        if idle >= _STALL_STEPS or it == _MAX_STEPS:
            return f, g, it, "stalled"
        d = _direction(P, r, c, ga, gb, eps)
        if d is None:
            return f, g, it, "stalled"
        df, dg = d
        slope = ga @ df + gb @ dg
        t = _line_search(P, df, dg, eps, slope) if slope > 0 else None
        if t is None:
            return f, g, it, "stalled"
        f += t * df
        g += t * dg


def newton_horizon(n, m):
    """Sinkhorn iterations that a dense Newton finish costs on an (n, m)
    problem: ``_NEWTON_STEPS`` times the measured cost ratio of one Newton
    step (plan, Schur complement O(nm min(n, m)), two line-search
    evaluations) to one Sinkhorn iteration (two products with the plan);
    inf beyond the dense solve's size limits."""
    k, nm = min(n, m), n * m
    if nm > _MAX_ENTRIES:
        return np.inf
    newton = 100e-6 + 40e-9 * nm + 0.1e-9 * nm * k  # seconds, one core
    sinkhorn = 20e-6 + 0.3e-9 * nm
    return _NEWTON_STEPS * newton / sinkhorn


class RateWatch:
    """Whether Sinkhorn has stalled: every ``_WINDOW`` iterations, the
    marginal error's decay over the last window, extrapolated linearly (in
    log scale) down to ``tol``, is compared with ``horizon`` iterations."""

    def __init__(self, horizon, tol):
        self.horizon = horizon
        self.log_tol = math.log(tol) if tol > 0 else -np.inf
        self.errs = deque(maxlen=_WINDOW + 1)
        self.count = 0

    def stalled(self, err):
        self.errs.append(err)
        self.count += 1
        if self.count < 2 * _WINDOW or self.count % _WINDOW or not err > 0:
            return False
        old = self.errs[0]
        if not old > 0:
            return False
        rate = (math.log(err) - math.log(old)) / _WINDOW  # log error per iteration
        return rate >= 0 or (self.log_tol - math.log(err)) / rate > self.horizon
