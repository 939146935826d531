r"""Detection of (quasi-)separation: data for which the maximum-likelihood
estimate of a GLM does not exist.

For a link that maps the real line onto the open domain of the mean (logit,
probit and cloglog for the binomial; log for counts), a sample whose ``y``
lies on the boundary of that domain (``y`` = 0 or 1 for a binomial, ``y = 0``
for Poisson, negative-binomial and compound Poisson-gamma Tweedie) is fitted
ever better as its linear predictor goes to :math:`\pm\infty`. The likelihood
has no maximum when a direction :math:`b \ne 0` exists with

.. math::

    \sigma_i\, \tilde x_i^T b \ge 0 \ \text{(boundary samples)}, \qquad
    \tilde x_i^T b = 0 \ \text{(interior samples)},

strictly for at least one boundary sample, where :math:`\sigma_i = +1` for
the upper boundary (``y = 1``) and :math:`-1` for the lower one (Albert and
Anderson 1984; Santos Silva and Tenreyro 2010 for Poisson). The check runs a
small linear program (HiGHS, through :func:`scipy.optimize.linprog`) when the
fitted means hint at it: boundary samples whose fitted mean is within 1e-6 of
the boundary, or a fit that stopped before its tolerance.

References
----------
Albert, A. and Anderson, J. A. (1984). On the existence of maximum likelihood
estimates in logistic regression models. *Biometrika* 71, 1-10.
Santos Silva, J. M. C. and Tenreyro, S. (2010). On the existence of the
maximum likelihood estimates in Poisson regression. *Economics Letters* 107.
"""


import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from skngd.utils._warnings import warn

_HINT = 1e-6  # fitted mean this close to the boundary of its domain
_MARGIN = 1e-7  # LP margins above this (columns scaled to max |x| = 1) separate


class PerfectSeparationWarning(ConvergenceWarning):
    """The data are (quasi-)separated: the maximum-likelihood estimate does
    not exist and the coefficients diverge (statsmodels'
    ``PerfectSeparationWarning``)."""


def boundary_sides(family, link, y):
    """+1 / -1 for samples whose ``y`` lies on the upper / lower boundary of
    the mean's domain, reached only as the linear predictor diverges; 0 for
    the others. None when separation cannot occur for this family and link."""
    if family.name == "binomial" and link.name in ("logit", "probit", "cloglog"):
        return np.where(y >= 1.0, 1, np.where(y <= 0.0, -1, 0))
    log_link = link.name == "log" or (link.name == "power" and link.power == 0)
    counts = family.name in ("poisson", "negative_binomial") or (
        family.name == "tweedie" and 1.0 <= family.power < 2.0)
    if log_link and counts:
        return np.where(y <= 0.0, -1, 0)
    return None


def _hinted(family, sides, mu, y, sample_weight):
    upper = (sides > 0) & (sample_weight > 0) & (1.0 - mu <= _HINT)
    scale = max(1.0, float(np.average(y, weights=sample_weight))) if family.name != "binomial" else 1.0
    lower = (sides < 0) & (sample_weight > 0) & (mu <= _HINT * scale)
    return bool(np.any(upper | lower))


def n_separated(X, fit_intercept, sides, sample_weight):
    """Number of samples that the separating direction found by the linear
    program of the module docstring drives to the boundary (0 if none
    exists; a lower bound on how many can be)."""
    keep = sample_weight > 0
    Xk = X[np.flatnonzero(keep)]
    s = sides[keep].astype(float)
    if sp.issparse(Xk):
        Xk = sp.csr_matrix(Xk)
        if fit_intercept:
            Xk = sp.hstack([Xk, np.ones((Xk.shape[0], 1))], format="csr")
        colmax = np.maximum(abs(Xk).max(axis=0).toarray().ravel(), 1e-300)
        Xk = Xk @ sp.diags(1.0 / colmax)
    else:
        Xk = np.column_stack([Xk, np.ones(Xk.shape[0])]) if fit_intercept else np.asarray(Xk)
        Xk = Xk / np.maximum(np.max(np.abs(Xk), axis=0), 1e-300)
    on, inside = s != 0, s == 0
    if not np.any(on):
        return 0
    from scipy.optimize import linprog

    A = Xk[np.flatnonzero(on)]
    A = A.multiply(s[on][:, None]).tocsr() if sp.issparse(A) else A * s[on][:, None]
    c = -np.asarray(A.sum(axis=0)).ravel()
    eq = Xk[np.flatnonzero(inside)] if np.any(inside) else None
    res = linprog(c, A_ub=-A, b_ub=np.zeros(A.shape[0]), A_eq=eq,
                  b_eq=None if eq is None else np.zeros(eq.shape[0]), bounds=(-1, 1),
                  method="highs")
    if res.status != 0 or -res.fun <= _MARGIN:
        return 0
    margins = np.asarray(A @ res.x).ravel()
    return int(np.sum(margins > _MARGIN))


def check_separation(family, link, problem, mu, stopped_early):
    """Warn with :class:`PerfectSeparationWarning` if the data are separated;
    returns whether it warned."""
    sides = boundary_sides(family, link, problem.y)
    if sides is None:
        return False
    if not (stopped_early or _hinted(family, sides, mu, problem.y, problem.sample_weight)):
        return False
    k = n_separated(problem.X, problem.fit_intercept, sides, problem.sample_weight)
    if k == 0:
        return False
    where = "0 or 1" if family.name == "binomial" else "0"
    warn(
        f"Perfect separation detected: a direction of the coefficients drives the fitted "
        f"means of at least {k} sample(s) to {where} (their y) while the likelihood keeps "
        f"increasing, so the maximum-likelihood estimate of this {family.name} GLM does not "
        "exist. The "
        "coefficients are only where the iterations stopped (set by max_iter and tol) and "
        "their standard errors are meaningless. Set alpha > 0 for a finite penalised "
        "estimate, or remove the separating features.",
        PerfectSeparationWarning)
    return True
