"""Choosing the degrees of freedom of a Student-t regression by the smallest
estimated asymptotic variance of the coefficients.

For a fixed :math:`\\nu` the t fit is an M-estimator with
:math:`\\psi_\\nu(u) = (\\nu+1)u/(\\nu+u^2)`, :math:`u = r/\\sigma`, and
:math:`\\sigma` the maximum-likelihood scale, the root of

.. math::

    \\frac{1}{W}\\sum_i w_i \\frac{(\\nu+1) r_i^2}{\\nu\\sigma^2 + r_i^2} = 1,
    \\qquad W = \\sum_i w_i.

Its coefficients are asymptotically normal with covariance
:math:`V(\\nu)\\,(X^\\top X)^{-1}`, where (Huber 1981, sect. 7.6)

.. math::

    V(\\nu) = \\sigma^2\\,\\frac{\\overline{\\psi_\\nu(u)^2}}
        {\\overline{\\psi_\\nu'(u)}^{\\,2}}

(weighted means over the rows). :func:`select_nu_min_variance` evaluates
:math:`V` from fixed residuals of a robust fit on a geometric grid of
:math:`\\nu` and returns the minimiser: the tail weight that makes the
coefficients most precise for the data at hand (Hogg 1974; Wang, Lin, Zhu
and Bai 2007 do the same for Huber's constant). When the errors are t with
:math:`\\nu_0` degrees of freedom, the maximum-likelihood :math:`\\nu` is the
efficient one and the minimiser tends to :math:`\\nu_0`; Gaussian errors
give the top of the grid (least squares); gross outliers give the largest
tail weight that still treats them as outliers, instead of the very heavy
tail (:math:`\\nu \\to 1`) that maximum likelihood fits to the
contamination.

References
----------
Hogg, R. V. (1974). Adaptive robust procedures: a partial review and some
suggestions for future applications and theory. JASA 69, 909-923.
Huber, P. J. (1981). Robust Statistics. Wiley.
Wang, Y.-G., Lin, X., Zhu, M. and Bai, Z. (2007). Robust estimation using the
Huber function with a data-dependent tuning constant. JCGS 16, 468-481.
"""

import numpy as np

from skngd._solvers.em_t import l1_fit, l1_rows

NU_GRID = np.geomspace(1.0, 1000.0, 25)  # ratio 1.33 between neighbours
_SUBSAMPLE = 10_000  # rows used to estimate V (evenly spaced)
_MAX_ITER = 60


def ml_scale2(r2, w, nu):
    """Maximum-likelihood :math:`\\sigma^2` for residuals ``r2 = r**2`` (weights
    ``w``, summing to one) at each degree of freedom in the array ``nu``.

    Safeguarded Newton on :math:`\\log\\sigma^2` inside a bracket, for all
    ``nu`` at once. Returns 0 where the root is at zero (at most a fraction
    :math:`1/(\\nu+1)` of the weight is on non-zero residuals: the fit is exact
    on the rest).
    """
    nu = np.asarray(nu, dtype=np.float64)[:, None]
    nonzero = float(w[r2 > 0].sum())
    collapse = (nu[:, 0] + 1.0) * nonzero <= 1.0
    hi = np.log((nu[:, 0] + 1.0) / nu[:, 0] * float(w @ r2))  # h(hi) <= 0 there
    lo = hi - 80.0
    tau = np.minimum(np.log(max(np.median(r2), 1e-300) / 0.455), hi)  # Gaussian guess
    g = np.empty((nu.size, r2.size))
    for _ in range(_MAX_ITER):
        np.add(nu * np.exp(tau)[:, None], r2, out=g)
        np.divide(r2, g, out=g)  # g in [0, 1]
        mean_g = g @ w
        h = (nu[:, 0] + 1.0) * mean_g - 1.0
        np.multiply(g, g, out=g)
        dh = -(nu[:, 0] + 1.0) * (mean_g - g @ w)  # dh / d(log sigma^2)
        lo, hi = np.where(h > 0, tau, lo), np.where(h > 0, hi, tau)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = tau - h / dh
        bad = ~((new >= lo) & (new <= hi))
        new[bad] = 0.5 * (lo[bad] + hi[bad])
        done = np.abs(new - tau) <= 1e-9
        tau = new
        if np.all(done | collapse):
            break
    return np.where(collapse, 0.0, np.exp(tau))


def asymptotic_variance(r, w, nu, scale2):
    """:math:`V(\\nu)` of the module docstring for each ``nu`` (array) with its
    scale ``scale2``; ``inf`` where the mean of :math:`\\psi'` is not positive
    and 0 where the scale is 0 (exact fit).

    With :math:`a = 1/(\\nu + u^2)`, :math:`\\psi^2 = (\\nu+1)^2 (a - \\nu a^2)`
    and :math:`\\psi' = (\\nu+1)(2\\nu a^2 - a)`: two weighted means suffice.
    """
    nu = np.asarray(nu, dtype=np.float64)
    s2 = np.asarray(scale2, dtype=np.float64)
    exact = s2 <= 0
    a = np.empty((nu.size, r.size))
    np.multiply(1.0 / np.where(exact, 1.0, s2)[:, None], r * r, out=a)  # u^2
    a += nu[:, None]
    np.reciprocal(a, out=a)
    a1 = a @ w
    np.multiply(a, a, out=a)
    a2 = a @ w
    den = 2.0 * nu * a2 - a1
    with np.errstate(divide="ignore", invalid="ignore"):
        v = s2 * (a1 - nu * a2) / (den * den)
    v = np.where(den > 0, v, np.inf)
    return np.where(exact, 0.0, v)


def select_nu_min_variance(r, sw, grid=NU_GRID):
    """Degrees of freedom on ``grid`` with the smallest :math:`V(\\nu)` for the
    residuals ``r`` (sample weights ``sw``; zero weights ignored). On more than
    ``_SUBSAMPLE`` rows an evenly spaced subsample is used.

    Returns ``(nu, V)`` with ``V`` the criterion on the grid. Values of ``nu``
    whose ``V`` is within ``0.25 / sqrt(n)`` (relative; ``n`` the effective
    sample size) of the smallest count as tied, a fraction of the estimate's
    sampling error: the tie goes to the largest ``nu``, the closest to least
    squares (Gaussian errors then give the top of the grid rather than any of
    the nearly equivalent values above 30, and exact fits, where ``V = 0``,
    the largest ``nu`` that fits them exactly).
    """
    rows = np.flatnonzero(sw > 0)
    if rows.size > _SUBSAMPLE:
        rows = rows[np.linspace(0, rows.size - 1, _SUBSAMPLE).astype(np.intp)]
    r, w = r[rows], sw[rows] / sw[rows].sum()
    s2 = ml_scale2(r * r, w, grid)
    v = asymptotic_variance(r, w, grid, s2)
    n_eff = 1.0 / float(w @ w)  # Kish's effective sample size
    best = np.flatnonzero(v <= v.min() * (1.0 + 0.25 / np.sqrt(n_eff)))[-1]
    return float(grid[best]), v


def _distinct_row_folds(X, y, folds):
    """Fold of each row such that equal rows of ``[X, y]`` share a fold.

    The distinct rows are ranked by ``y`` (ties by the columns of ``X``, in
    order) and dealt to the folds from both ends of the ranking inwards. So a
    row with integer weight ``k`` and ``k`` copies of it fall in the same fold
    (weights stay equivalent to repeated rows), each fold spans the range of
    ``y``, and the folds depend neither on the order of the rows nor (without
    ties in ``y``) on a positive rescaling of a column or an affine map of ``y``.
    """
    order = np.argsort(y, kind="stable")
    ys = y[order]
    new = ys[1:] != ys[:-1]
    if not np.all(new):  # ties in y: rank them by the columns too
        order = np.lexsort((*X.T[::-1], y))
        Z = np.column_stack([y, X])[order]
        new = np.any(Z[1:] != Z[:-1], axis=1)
    group = np.empty(y.size, dtype=np.intp)
    group[order] = np.concatenate([[0], np.cumsum(new)])
    return np.minimum(group, group.max() - group) % folds


def out_of_sample_residuals(X, y, sw, alpha, fit_intercept, floor, l1=None):
    """Residuals of the robust (L1) starting fit on rows it was not fitted to.

    In-sample residuals of an L1 fit are distorted: it interpolates
    ``n_features + 1`` rows, a spike at zero that looks like a heavy tail and
    pulls :math:`\\nu` down on small data. When at least as many rows are left
    out of the L1 fit's subsample (:func:`~skngd._solvers.em_t.l1_rows`) as
    are in it, those rows are used (``l1`` may pass ``(beta, b)`` of that fit).
    Otherwise the residuals are cross-fitted: 2 folds, or 5 below 50 rows per
    parameter, formed by :func:`_distinct_row_folds`. Returns ``(resid,
    weights)`` for the rows used.
    """
    pos = np.flatnonzero(sw > 0)
    p = X.shape[1]
    rows = l1_rows(sw, p)
    if pos.size - rows.size >= rows.size:
        beta, b = l1 or l1_fit(X[rows], y[rows], sw[rows], alpha, fit_intercept, floor)
        out = np.zeros(X.shape[0], dtype=bool)
        out[pos] = True
        out[rows] = False
        return (y - X @ beta - b)[out], sw[out]
    folds = 5 if pos.size < 50 * (p + 1) else 2
    Xp, yp, wp = X[pos], y[pos], sw[pos]
    fold = _distinct_row_folds(Xp, yp, folds)
    resid, used = np.empty(pos.size), np.zeros(pos.size, dtype=bool)
    for k in range(folds):
        test = fold == k
        if test.any() and np.count_nonzero(~test) >= p + 2:
            beta, b = l1_fit(Xp[~test], yp[~test], wp[~test], alpha, fit_intercept, floor)
            resid[test], used[test] = yp[test] - Xp[test] @ beta - b, True
    if not used.any():  # too few rows to hold any out: in-sample residuals
        beta, b = l1 or l1_fit(Xp, yp, wp, alpha, fit_intercept, floor)
        return yp - Xp @ beta - b, wp
    return resid[used], wp[used]


__all__ = ["NU_GRID", "asymptotic_variance", "ml_scale2", "out_of_sample_residuals",
           "select_nu_min_variance"]
