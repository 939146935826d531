"""EM / ECME for linear regression with Student-t errors.

Model: :math:`y_i = x_i^\\top\\beta + b + \\sigma\\varepsilon_i`,
:math:`\\varepsilon_i \\sim t_\\nu`, written as a Gaussian scale mixture
:math:`y_i \\mid \\tau_i \\sim N(x_i^\\top\\beta + b, \\sigma^2/\\tau_i)`,
:math:`\\tau_i \\sim \\mathrm{Gamma}(\\nu/2, \\nu/2)`. The solver maximises
the penalised, sample-weighted observed log-likelihood

.. math::

    L(\\beta, b, \\sigma, \\nu) = \\sum_i w_i \\Big[ c(\\nu) - \\log\\sigma
        - \\frac{\\nu+1}{2}\\log\\Big(1 + \\frac{r_i^2}{\\nu\\sigma^2}\\Big)\\Big]
        - \\frac{\\alpha}{2\\sigma^2}\\lVert\\beta\\rVert^2,

with :math:`r_i = y_i - x_i^\\top\\beta - b` and
:math:`c(\\nu) = \\log\\Gamma(\\frac{\\nu+1}{2}) - \\log\\Gamma(\\frac{\\nu}{2})
- \\frac12\\log(\\nu\\pi)`. The ridge term is divided by :math:`\\sigma^2`
so that the fit is equivariant to rescaling ``y`` and tends to
``Ridge(alpha)`` as :math:`\\nu \\to \\infty`.

Each iteration (an ECM cycle with a shared E-step):

1. E-step: :math:`\\lambda_i = (\\nu+1)/(\\nu+\\delta_i)`,
   :math:`\\delta_i = r_i^2/\\sigma^2` (from the row pass).
2. CM-step for :math:`\\sigma` given :math:`\\beta`: parameter-expanded form
   :math:`\\sigma^2 = (\\sum w_i\\lambda_i r_i^2 + \\alpha\\lVert\\beta\\rVert^2)
   / \\sum w_i\\lambda_i` (Liu, Rubin & Wu 1998; much faster than the plain
   EM denominator :math:`\\sum w_i`). If it ever failed to increase
   :math:`L` the plain EM update, which always does, is used instead.
3. CM-step for :math:`(\\beta, b)`: ridge-weighted least squares with
   weights :math:`w_i\\lambda_i` (Cholesky of the normal equations; the
   intercept is not penalised). It does not depend on :math:`\\sigma`.
4. Row pass at the new parameters: residuals, weights, log-density
   (NumPy over one BLAS product ``X @ beta``; a fused Numba loop was 3x
   slower at 100,000 x 20 on one thread).
5. ECME step (``estimate_nu``): bounded 1-D maximisation of :math:`L` over
   :math:`\\log\\nu`, accepted only if it increases :math:`L`.

Accelerations, each accepted only if it increases :math:`L` (otherwise the
plain step above is taken): the Gram matrix of step 3 is reused while steps
with it keep increasing :math:`L`; the EM step is over-relaxed adaptively
(Salakhutdinov & Roweis 2003); and once the fitted values move by less than
1% of :math:`\\sigma` per iteration, Newton steps on :math:`(\\beta, b,
\\log\\sigma)` finish the convergence. The Hessian (one :math:`n p^2`
product) is kept for the next steps (chord steps: only the gradient is
recomputed) while they are accepted and shrink the step at least fourfold,
and formed afresh otherwise.

So :math:`L` never decreases; the history records it after every iteration.

References
----------
Lange, K. L., Little, R. J. A. and Taylor, J. M. G. (1989). Robust statistical
modeling using the t distribution. JASA 84, 881-896.
Liu, C. and Rubin, D. B. (1995). ML estimation of the t distribution using EM
and its extensions, ECM and ECME. Statistica Sinica 5, 19-39.
Salakhutdinov, R. and Roweis, S. (2003). Adaptive overrelaxed bound
optimization methods. ICML.
Liu, C., Rubin, D. B. and Wu, Y. N. (1998). Parameter expansion to accelerate
EM: the PX-EM algorithm. Biometrika 85, 755-770.
"""

import numpy as np
from scipy import linalg
from scipy.optimize import minimize_scalar
from scipy.special import betaln, digamma, polygamma

from skngd._loss.design import weighted_gram
from skngd._solvers._result import StudentTResult
from skngd._solvers.linalg import cholesky_or_pinvh_solver, solve_pd_or_none

NU_BOUNDS = (1.0, 1000.0)  # range searched by the ECME step when estimating nu
_L1_MAX_ITER = 10
_NEWTON_START, _NEWTON_RETRY = 1e-2, 3  # Newton polish once steps < 1e-2 sigma
_L1_SUBSAMPLE = 2000  # rows used by the L1 starting fit on large data
_OMEGA_GROWTH, _OMEGA_MAX = 1.5, 8.0  # adaptive over-relaxation of the EM step


def t_log_const(nu):
    """:math:`\\log\\Gamma(\\frac{\\nu+1}{2}) - \\log\\Gamma(\\frac{\\nu}{2}) - \\frac12\\log(\\nu\\pi)`.

    Written with ``betaln`` so it stays accurate for very large ``nu``.
    """
    return -betaln(0.5 * nu, 0.5) - 0.5 * np.log(nu)


def t_loglik(resid, scale, nu, sw):
    """Sample-weighted t log-likelihood of residuals (NumPy; no penalty)."""
    d = (resid / scale) ** 2
    ll = -0.5 * (nu + 1.0) * np.log1p(d / nu)
    return float(sw.sum() * (t_log_const(nu) - np.log(scale)) + sw @ ll)


def weighted_gram_solver(X, v, alpha, fit_intercept):
    """Factor :math:`G = X_a^\\top V X_a + \\alpha I_\\beta` and return ``solve(rhs)``.

    ``X_a`` is ``X`` with a column of ones when ``fit_intercept`` (the
    intercept is not penalised). Cholesky of the (p+1)-dimensional normal
    equations; if they are singular, the pseudo-inverse gives the
    minimum-norm solution.
    """
    G, _ = weighted_gram(X, v, fit_intercept=fit_intercept)
    p = X.shape[1]
    G[np.arange(p), np.arange(p)] += alpha
    return cholesky_or_pinvh_solver(G)


def weighted_rhs(X, u, fit_intercept):
    """:math:`X_a^\\top u` (with the intercept entry when ``fit_intercept``)."""
    g = X.T @ u
    return np.append(g, u.sum()) if fit_intercept else g


def weighted_lstsq(X, y, v, alpha, fit_intercept):
    """Minimise ``sum v_i (y_i - x_i beta - b)^2 + alpha ||beta||^2``; ``(beta, b)``."""
    theta = weighted_gram_solver(X, v, alpha, fit_intercept)(weighted_rhs(X, v * y, fit_intercept))
    p = X.shape[1]
    return theta[:p], (float(theta[p]) if fit_intercept else 0.0)


def weighted_median(a, sw):
    """Weighted median of ``a`` (lower one for unequal weights; zero weights ignored)."""
    if np.all(sw == sw[0]):
        return float(np.median(a))
    order = np.argsort(a, kind="stable")
    cw = np.cumsum(sw[order])
    return float(a[order][np.searchsorted(cw, 0.5 * cw[-1])])


def l1_rows(sw, n_features):
    """Rows the L1 starting fit uses: those with positive weight, or an evenly
    spaced subsample of ``max(_L1_SUBSAMPLE, 50 * n_features)`` of them."""
    rows = np.flatnonzero(sw > 0)
    m = max(_L1_SUBSAMPLE, 50 * n_features)
    if rows.size > m:
        rows = rows[np.linspace(0, rows.size - 1, m).astype(np.intp)]
    return rows


def l1_fit(X, y, sw, alpha, fit_intercept, floor):
    """Least absolute deviations (ridge-penalised) by IRLS; ``(beta, b)``.

    Each iteration solves the weighted normal equations of ``[X, 1]`` with
    weights ``sw / max(|r|, eps)`` (small dense solves: no factor caching).
    """
    p = X.shape[1]
    Xa = np.column_stack([X, np.ones(X.shape[0])]) if fit_intercept else X
    XaT = np.ascontiguousarray(Xa.T)
    k = Xa.shape[1]
    ridge = np.zeros(k)
    ridge[:p] = alpha

    def solve(v):
        G = (XaT * v) @ Xa
        G.flat[::k + 1] += ridge
        rhs = XaT @ (v * y)
        try:
            C = np.linalg.cholesky(G)
            piv = np.diagonal(C)
            ok = piv.min() > 1e-7 * piv.max()  # numerically full rank
        except np.linalg.LinAlgError:
            ok = False
        if ok:
            theta = np.linalg.solve(C.T, np.linalg.solve(C, rhs))
        else:  # collinear columns: the minimum-norm solution
            theta = linalg.pinvh(G, check_finite=False) @ rhs
        return theta, y - Xa @ theta

    theta, r = solve(sw)
    mean_abs = float(sw @ np.abs(r)) / sw.sum()
    if mean_abs > floor:  # otherwise least squares already fits exactly
        eps = max(1e-6 * mean_abs, floor)
        for _ in range(_L1_MAX_ITER):
            theta, r_new = solve(sw / np.maximum(np.abs(r), eps))
            step = np.max(np.abs(r_new - r))
            r = r_new
            if step <= 1e-3 * float(sw @ np.abs(r)) / sw.sum():
                break
    return theta[:p], (float(theta[p]) if fit_intercept else 0.0)


def robust_start(X, y, sw, alpha, fit_intercept, floor):
    """Least absolute deviations by IRLS, then a MAD scale.

    Returns ``(beta, b, scale)``. L1 regression has a 50% breakdown point for
    outliers in ``y``, so heavily contaminated data start near the bulk. On
    large data the L1 fit uses the subsample of :func:`l1_rows` (a starting
    point needs no more); the MAD scale uses every row.
    """
    rows = l1_rows(sw, X.shape[1])
    beta, b = l1_fit(X[rows], y[rows], sw[rows], alpha, fit_intercept, floor)
    r = np.abs(y - X @ beta - b)
    scale = 1.4826 * weighted_median(r, sw)
    if scale <= floor:  # more than half the rows fitted exactly, but not all
        scale = float(sw @ r) / sw.sum()
    return beta, b, scale


def ols_start(X, y, sw, alpha, fit_intercept, floor):
    """(Ridge-)weighted least squares and its root-mean-square scale."""
    beta, b = weighted_lstsq(X, y, sw, alpha, fit_intercept)
    r = y - X @ beta - b
    return beta, b, float(np.sqrt((sw @ r**2 + alpha * beta @ beta) / sw.sum()))


INITS = {"robust": robust_start, "ols": ols_start}


def interpolate(X, y, sw, fit_intercept, nu):
    """Minimum-norm interpolating fit, for fewer samples than parameters.

    The t likelihood is then unbounded (zero scale). Returns a
    :class:`StudentTResult` shaped like :func:`fit_student_t`'s with
    ``scale = 0`` and ``exact = True``; the minimum norm is that of
    ``(beta, b)`` in the coordinates of ``X`` as passed (centred by the caller).
    """
    s = np.sqrt(sw)
    Xa = np.column_stack([X, np.ones(len(y))]) if fit_intercept else X
    theta = linalg.lstsq(Xa * s[:, None], y * s, check_finite=False)[0]
    p = X.shape[1]
    beta, b = theta[:p], (float(theta[p]) if fit_intercept else 0.0)
    r = y - X @ beta - b
    return StudentTResult(beta, 0, True, [np.inf], 1, intercept=b, scale=0.0, nu=nu,
                          weights=np.full(len(y), (nu + 1.0) / nu), resid=r, exact=True)


def _maximise_nu(d, sw, nu):
    """ECME step: maximise the observed log-likelihood over nu (log scale)."""
    total = sw.sum()

    def negll(log_nu):
        v = np.exp(log_nu)
        return -(total * t_log_const(v) - 0.5 * (v + 1.0) * (sw @ np.log1p(d / v)))

    # at a bound of NU_BOUNDS with the slope pointing outwards: nothing to gain
    at_lo, at_hi = nu <= NU_BOUNDS[0] * (1 + 1e-6), nu >= NU_BOUNDS[1] * (1 - 1e-6)
    if at_lo or at_hi:
        slope = total * (0.5 * (digamma(0.5 * (nu + 1)) - digamma(0.5 * nu)) - 0.5 / nu) + sw @ (
            -0.5 * np.log1p(d / nu) + (nu + 1) * d / (2 * nu * (nu + d)))
        if (at_lo and slope <= 0) or (at_hi and slope >= 0):
            return nu
    # bounded search within a factor e of the current nu (and NU_BOUNDS)
    lo = max(np.log(NU_BOUNDS[0]), np.log(nu) - 1.0)
    hi = min(np.log(NU_BOUNDS[1]), np.log(nu) + 1.0)
    res = minimize_scalar(negll, bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-9})
    if res.fun < negll(np.log(nu)):  # keep ECME monotone
        return float(np.exp(res.x))
    return nu


def _newton_step(X, r, sw, beta, scale, nu, alpha, fit_intercept, with_nu=False, H=None):
    """Newton step on the observed objective in ``(beta, b, log sigma[, log nu])``.

    Returns ``(d_beta, d_b, d_log_scale, d_log_nu, H)`` (``d_log_nu = 0``
    unless ``with_nu``; ``H`` minus the Hessian used), or ``None`` where the
    Hessian is not negative definite (then the caller takes an EM step).
    Passing the ``H`` of an earlier step reuses it (a chord step: only the
    gradient is computed, one pass over X instead of the Hessian's
    ``n p^2`` product); it converges linearly, fast near the optimum.
    """
    p = X.shape[1]
    s2 = scale * scale
    q = nu * s2 + r * r
    u = sw * (nu + 1.0) * r / q  # dl/d(eta)
    k = p + int(fit_intercept)
    m = k + 2 if with_nu else k + 1
    d = r * r / s2
    pen = alpha * (beta @ beta) / s2
    fresh = H is None
    if fresh:
        q2 = q * q
        curv = sw * (nu + 1.0) * (nu * s2 - r * r) / q2  # -d2l/d(eta)^2
        cross = sw * 2.0 * nu * s2 * (nu + 1.0) * r / q2  # -d2l/d(eta)d(log sigma)
        rs = sw * r * (r * r - s2) / q2  # d2l/d(eta)d(nu), for with_nu
        # every X^T-vector product of the step in one pass over X
        V = np.column_stack([curv, cross, u, rs] if with_nu else [curv, cross, u])
        XtV = np.vstack([X.T @ V, V.sum(axis=0)]) if fit_intercept else X.T @ V
        H = np.empty((m, m))  # minus the Hessian
        H[:p, :p] = X.T @ (X * curv[:, None])
        H[:k, k] = XtV[:, 1]
        if fit_intercept:
            H[:p, p] = H[p, :p] = XtV[:p, 0]
            H[p, p] = XtV[p, 0]
        H[np.arange(p), np.arange(p)] += alpha / s2
        H[:p, k] -= 2.0 * alpha * beta / s2
        H[k, :k] = H[:k, k]
        H[k, k] = float(sw @ (2.0 * (nu + 1.0) * nu * d / (q2 / s2 / s2))) + 2.0 * pen
        Xtu = XtV[:, 2]
    else:
        Xtu = X.T @ u
        if fit_intercept:
            Xtu = np.append(Xtu, u.sum())
    g = np.empty(m)
    g[:k] = Xtu
    g[:p] -= alpha * beta / s2
    g[k] = float(sw @ ((nu + 1.0) * r * r / q - 1.0)) + pen
    if with_nu:  # derivatives in t = log nu (dl/dt = nu dl/dnu)
        nd = nu + d
        total = sw.sum()
        dc = 0.5 * (digamma(0.5 * (nu + 1)) - digamma(0.5 * nu)) - 0.5 / nu
        dl = total * dc + sw @ (-0.5 * np.log1p(d / nu) + (nu + 1) * d / (2 * nu * nd))
        g[k + 1] = nu * dl
        if fresh:  # the log-nu row and column of the Hessian
            d2c = 0.25 * (polygamma(1, 0.5 * (nu + 1)) - polygamma(1, 0.5 * nu)) + 0.5 / nu**2
            d2l = total * d2c + sw @ (d / (2 * nu * nd)
                                      - d * (nu * nu + 2 * nu + d) / (2 * nu * nu * nd * nd))
            H[:k, k + 1] = H[k + 1, :k] = -nu * XtV[:, 3]
            H[k, k + 1] = H[k + 1, k] = -nu * float(r @ rs)
            H[k + 1, k + 1] = -(nu * nu * d2l + nu * dl)
    step = solve_pd_or_none(H, g)
    if with_nu and step is not None and not (
            NU_BOUNDS[0] <= nu * np.exp(step[k + 1]) <= NU_BOUNDS[1]):
        # nu would leave its range: Newton in the other parameters, nu fixed
        step = solve_pd_or_none(H[:-1, :-1], g[:-1])
        step = None if step is None else np.append(step, 0.0)
    if step is None:
        return None
    return (step[:p], (step[p] if fit_intercept else 0.0), step[k],
            (step[k + 1] if with_nu else 0.0), H)


class _ECMState:
    """State of one Student-t fit: data, buffers of the row pass (residuals
    ``r``, :math:`\\delta_i`, E-step weights ``lam``, log-density terms
    ``ll``), the parameters and the schedules of the accelerations."""

    def __init__(self, X, y, sw, *, alpha, fit_intercept, floor, start):
        self.X, self.y, self.sw = X, y, sw
        self.alpha, self.fit_intercept, self.floor = alpha, fit_intercept, floor
        beta, self.b, self.scale, self.nu = start
        self.beta = np.ascontiguousarray(beta, dtype=np.float64)
        n = X.shape[0]
        self.r, self.delta, self.lam, self.ll = (np.empty(n) for _ in range(4))
        self.pos = sw > 0
        self.total = sw.sum()
        self.noise = 64 * np.finfo(np.float64).eps * np.max(np.abs(y[self.pos]))  # rounding
        self.history, self.n_passes = [], 0  # passes: row passes, Gram and X^T products
        self.omega, self.solve = 1.0, None  # over-relaxation; cached Gram solver
        self.newton_wait = -1  # -1: not yet close enough; 0: try Newton; > 0: wait
        self.hessian, self.newton_step = None, np.inf  # kept for chord steps, their size

    def row_pass(self, beta, b, inv_scale, nu):
        """Residuals, E-step weights and log-density terms of the module
        docstring, vectorised over BLAS's ``X @ beta`` into the buffers."""
        self.n_passes += 1
        r, delta, lam, ll = self.r, self.delta, self.lam, self.ll
        np.subtract(self.y, self.X @ beta, out=r)
        np.subtract(r, b, out=r)
        np.multiply(r, inv_scale, out=delta)
        np.multiply(delta, delta, out=delta)  # delta_i = (r_i / sigma)^2
        np.add(delta, nu, out=lam)
        np.divide(nu + 1.0, lam, out=lam)
        np.multiply(delta, 1.0 / nu, out=ll)
        np.log1p(ll, out=ll)
        np.multiply(ll, -0.5 * (nu + 1.0), out=ll)

    def objective(self, beta, scale, nu):
        return float(self.total * (t_log_const(nu) - np.log(scale)) + self.sw @ self.ll
                     - 0.5 * self.alpha * (beta @ beta) / scale**2)

    def try_point(self, beta, b, scale, nu, obj, slack=0.0):
        """Row pass and objective at a candidate; returns ``(objective,
        accepted)``, accepted when it does not decrease the current objective
        ``obj`` by more than ``slack`` (the buffers hold the candidate's pass)."""
        self.row_pass(beta, b, 1.0 / scale, nu)
        obj_new = self.objective(beta, scale, nu)
        return obj_new, obj_new >= obj - slack

    def exact_result(self, n_iter):
        lam_exact = np.where(np.abs(self.r) <= self.floor, (self.nu + 1.0) / self.nu, 0.0)
        return StudentTResult(self.beta, n_iter, True, self.history, self.n_passes,
                              intercept=self.b, scale=0.0, nu=self.nu, weights=lam_exact,
                              resid=self.r.copy(), exact=True)

    def result(self, n_iter, converged):
        return StudentTResult(self.beta, n_iter, converged, self.history, self.n_passes,
                              intercept=self.b, scale=self.scale, nu=self.nu,
                              weights=self.lam.copy(), resid=self.r.copy(), exact=False)


class _Iteration:
    """What one iteration starts from (the E-step at the current point) and
    the candidate it accepts."""

    def __init__(self, st):
        self.v = st.sw * st.lam
        self.pen = st.alpha * (st.beta @ st.beta)
        self.wr2 = self.v @ (st.r * st.r)
        self.r_old, self.scale_old, self.nu_old = st.r.copy(), st.scale, st.nu
        self.new = None  # accepted (beta, b, scale, objective)


def _newton_polish(st, it, obj, estimate_nu):
    """Newton (or chord, with the kept Hessian) step on the observed
    likelihood near the optimum, checked against it. Returns whether it was
    accepted (``it.new`` and ``st.nu`` then hold the new point)."""
    chord = st.hessian is not None
    st.n_passes += 1 if chord else 2  # (Hessian and) the X^T products
    d = _newton_step(st.X, it.r_old, st.sw, st.beta, st.scale, st.nu, st.alpha,
                     st.fit_intercept, with_nu=estimate_nu, H=st.hessian)
    accepted = False
    if d is not None and abs(d[2]) < 1.0 and abs(d[3]) < 1.0:
        beta_new, b_new = st.beta + d[0], st.b + d[1]
        scale_new, nu_new = st.scale * np.exp(d[2]), st.nu * np.exp(d[3])
        if scale_new > st.floor and NU_BOUNDS[0] <= nu_new <= NU_BOUNDS[1]:
            obj_new, accepted = st.try_point(beta_new, b_new, scale_new, nu_new, obj)
            if accepted:
                st.nu = nu_new
                it.new = (beta_new, b_new, scale_new, obj_new)
    # keep the Hessian for chord steps while they are accepted and contract
    # fast; a rejected chord step retries at once with a fresh Hessian, a
    # rejected full Newton step waits
    st.hessian = d[4] if accepted else None
    st.newton_wait = -1 if accepted else (0 if chord else _NEWTON_RETRY)
    return accepted


def _em_step(st, it, obj):
    """The CM-step for (beta, b) and the scale, into ``it.new``: over-relaxed
    when the last over-relaxation was accepted, else the plain EM step with
    the PX-EM scale (then the plain EM scale, which always increases L); a
    failed step with the cached (stale) Gram solver is retried with a fresh
    one. A scale at or below ``floor`` (exact fit) ends the step at once."""
    p = st.X.shape[1]
    # score of the complete-data objective in (beta, b), times sigma^2
    grad = weighted_rhs(st.X, it.v * it.r_old, st.fit_intercept)
    st.n_passes += 1
    grad[:p] -= st.alpha * st.beta
    fresh = st.solve is None
    if fresh:
        st.solve = weighted_gram_solver(st.X, it.v, st.alpha, st.fit_intercept)
        st.n_passes += 1
    while True:
        step_t = st.solve(grad)  # exact EM step when the Gram is fresh
        d_beta, d_b = step_t[:p], (step_t[p] if st.fit_intercept else 0.0)
        if _over_relaxed(st, it, obj, d_beta, d_b):
            return
        beta_new, b_new = st.beta + d_beta, st.b + d_b
        accepted = False
        # PX-EM scale first; the plain EM scale always increases L
        for denom in ((it.v.sum(), st.total) if fresh else (it.v.sum(),)):
            scale_new = float(np.sqrt((it.wr2 + it.pen) / denom))
            it.new = (beta_new, b_new, scale_new, None)
            if scale_new <= st.floor:
                return
            obj_new, accepted = st.try_point(beta_new, b_new, scale_new, st.nu, obj,
                                             1e-12 * abs(obj))
            it.new = (beta_new, b_new, scale_new, obj_new)
            if accepted:
                return
        if fresh:  # even the plain EM step lowered L (rounding level): take it
            return
        # a step with the cached (stale) Gram failed: refresh it and retry
        st.solve, fresh = weighted_gram_solver(st.X, it.v, st.alpha, st.fit_intercept), True
        st.n_passes += 1


def _over_relaxed(st, it, obj, d_beta, d_b):
    """Try the EM step over-relaxed by ``omega`` (adapted: grown on success,
    reset on failure); True (and ``it.new`` set) if accepted."""
    scale_em = float(np.sqrt((it.wr2 + it.pen) / it.v.sum()))  # PX-EM scale
    accepted = False
    if st.omega > 1.0 and scale_em > st.floor:
        beta_new, b_new = st.beta + st.omega * d_beta, st.b + st.omega * d_b
        scale_new = st.scale * (scale_em / st.scale) ** st.omega
        if scale_new > st.floor:
            obj_new, accepted = st.try_point(beta_new, b_new, scale_new, st.nu, obj)
    st.omega = min(st.omega * _OMEGA_GROWTH, _OMEGA_MAX) if accepted else _OMEGA_GROWTH
    if accepted:
        it.new = (beta_new, b_new, scale_new, obj_new)
    return accepted


def _ecme_nu(st, obj):
    """ECME step for nu at the new (beta, b, scale); returns the objective."""
    d = (st.r / st.scale) ** 2
    nu_old, st.nu = st.nu, _maximise_nu(d, st.sw, st.nu)
    if st.nu == nu_old:
        return obj
    st.lam[:] = (st.nu + 1.0) / (st.nu + d)
    st.ll[:] = -0.5 * (st.nu + 1.0) * np.log1p(d / st.nu)
    return st.objective(st.beta, st.scale, st.nu)


def _schedule_newton(st, step, newton_used):
    """When to try the Newton polish: once steps are below ``_NEWTON_START``
    sigma, again ``_NEWTON_RETRY`` iterations after a rejected one; a chord
    step that contracts slowly gets a fresh Hessian."""
    if newton_used:
        st.hessian = st.hessian if step <= 0.25 * st.newton_step else None
        st.newton_step = step
    if st.newton_wait > 0:
        st.newton_wait -= 1
    elif st.newton_wait < 0 and step <= _NEWTON_START * st.scale:
        st.newton_wait = 0


def fit_student_t(X, y, sw, *, nu, estimate_nu, alpha, fit_intercept, start,
                  max_iter, tol, floor, verbose=0, units=(1.0, 1.0, 0.0)):
    """Run the ECM / ECME iterations from ``start = (beta, b, scale, nu)``.

    ``X`` must be C-contiguous float64 (centre it beforehand for accuracy).
    ``floor`` is the scale below which the fit is declared exact (the
    likelihood is then unbounded and the iterations stop). ``units = (a, c,
    s)`` only change what ``verbose`` prints: the log-likelihood as
    ``a * L - s`` and the scale times ``c`` (the caller's units when it
    solves a rescaled problem). Stops when the residuals, the scale and nu
    move by at most ``tol`` relative to the scale (nu: to itself).

    Returns a :class:`~skngd._solvers._result.StudentTResult` with ``coef =
    beta``, ``intercept``, ``scale``, ``nu``, ``weights`` (the E-step weights
    at the returned parameters), ``resid`` and ``exact``.
    """
    st = _ECMState(X, y, sw, alpha=alpha, fit_intercept=fit_intercept, floor=floor,
                   start=start)
    st.row_pass(st.beta, st.b, 1.0 / st.scale if st.scale > floor else 0.0, st.nu)
    if st.scale <= floor:
        st.history.append(np.inf)
        return st.exact_result(0)
    obj = st.objective(st.beta, st.scale, st.nu)
    st.history.append(obj)
    it_n = 0
    for it_n in range(1, max_iter + 1):
        it = _Iteration(st)
        newton_used = st.newton_wait == 0 and _newton_polish(st, it, obj, estimate_nu)
        if not newton_used:
            _em_step(st, it, obj)
        st.beta, st.b, st.scale, obj = it.new
        if st.scale <= floor:
            st.row_pass(st.beta, st.b, 0.0, st.nu)
            return st.exact_result(it_n)
        if estimate_nu and not newton_used:  # ECME step unless Newton moved nu
            obj = _ecme_nu(st, obj)
        st.history.append(obj)
        if verbose:
            print(f"[StudentT EM] iter {it_n:4d}  loglik {units[0] * obj - units[2]: .10g}  "
                  f"scale {units[1] * st.scale:.6g}  nu {st.nu:.6g}")
        step = np.max(np.abs(st.r - it.r_old)[st.pos])
        _schedule_newton(st, step, newton_used)
        tol_scale = tol * st.scale + st.noise
        if (step <= tol_scale and abs(st.scale - it.scale_old) <= tol_scale
                and abs(st.nu - it.nu_old) <= tol * st.nu):
            return st.result(it_n, True)
    return st.result(it_n, False)


__all__ = ["fit_student_t", "interpolate", "INITS", "NU_BOUNDS", "t_log_const", "t_loglik",
           "weighted_lstsq", "l1_fit", "l1_rows", "robust_start", "ols_start"]
