r"""Exponential dispersion families for generalised linear models.

Each object describes one distribution through its variance function
:math:`V(\mu)`, its unit deviance :math:`d(y, \mu)`, the support of ``y`` and
its full log-likelihood (with the dispersion ``scale`` :math:`\phi`), written
so that ``llf``/AIC agree with statsmodels' ``GLM``:

.. math::

    \mathrm{Var}(y_i) = \phi\, V(\mu_i) / w_i, \qquad
    D = \sum_i w_i\, d(y_i, \mu_i).

``sample_weight`` :math:`w_i` is a frequency weight throughout: the result for
an integer weight equals the result for that many duplicated rows.

The integer ``code`` (from the family's name, :mod:`skngd._kernels.codes`)
and ``power`` of a family are what the Numba IRLS kernel
(:mod:`skngd._kernels.glm`) switches on.

References
----------
McCullagh, P. and Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed.
Dunn, P. K. and Smyth, G. K. (2005). Series evaluation of Tweedie exponential
dispersion model densities. *Statistics and Computing* 15, 267-280.
"""

import numpy as np
from scipy import special

from skngd._loss import family as _family
from skngd._loss.family import Family, _xlogy_ratio

_LOG_2PI = float(np.log(2.0 * np.pi))


def _wsum(values, sample_weight):
    if sample_weight is None:
        return float(np.sum(values))
    return float(np.dot(sample_weight, values))


class Normal(Family):
    r"""Normal family: :math:`V(\mu) = 1`, :math:`d = (y - \mu)^2`.

    Canonical link identity. ``loglike`` is the Gaussian density at the given
    ``scale`` (the estimator passes the maximum-likelihood scale
    :math:`D/\sum w` for the identity link, as statsmodels does).
    """

    name = "normal"
    variance_power = 0.0
    canonical_link = "identity"

    def variance(self, mu):
        return np.ones_like(np.asarray(mu, dtype=float))

    def unit_deviance(self, y, mu):
        r = np.asarray(y, dtype=float) - mu
        return r * r

    def loglike(self, y, mu, sample_weight=None, scale=1.0):
        ll = -0.5 * ((np.asarray(y) - mu) ** 2 / scale + np.log(scale) + _LOG_2PI)
        return _wsum(ll, sample_weight)


class Poisson(Family):
    r"""Poisson family for counts :math:`y \ge 0`: :math:`V(\mu) = \mu`,
    :math:`d = 2[y\log(y/\mu) - y + \mu]`; canonical link log, scale 1."""

    name = "poisson"
    variance_power = 1.0
    canonical_link = "log"
    fixed_scale = True
    y_support = (0.0, np.inf, True, False)

    def variance(self, mu):
        return np.asarray(mu, dtype=float).copy()

    def unit_deviance(self, y, mu):
        return 2.0 * (_xlogy_ratio(y, mu) - y + mu)

    def loglike(self, y, mu, sample_weight=None, scale=1.0):
        ll = (special.xlogy(y, mu) - mu - special.gammaln(np.asarray(y) + 1.0)) / scale
        return _wsum(ll, sample_weight)


class Gamma(Family):
    r"""Gamma family for :math:`y > 0`: :math:`V(\mu) = \mu^2`,
    :math:`d = 2[(y-\mu)/\mu - \log(y/\mu)]`; canonical link inverse."""

    name = "gamma"
    variance_power = 2.0
    canonical_link = "inverse"
    y_support = (0.0, np.inf, False, False)
    power = 2.0

    def variance(self, mu):
        return np.asarray(mu, dtype=float) ** 2

    def unit_deviance(self, y, mu):
        return 2.0 * ((y - mu) / mu - np.log(y / mu))

    def loglike(self, y, mu, sample_weight=None, scale=1.0):
        y = np.asarray(y, dtype=float)
        shape = 1.0 / scale
        ll = shape * np.log(shape * y / mu) - shape * y / mu - special.gammaln(shape) - np.log(y)
        return _wsum(ll, sample_weight)


class InverseGaussian(Family):
    r"""Inverse Gaussian family for :math:`y > 0`: :math:`V(\mu) = \mu^3`,
    :math:`d = (y-\mu)^2/(y\mu^2)`; canonical link inverse squared."""

    name = "inverse_gaussian"
    variance_power = 3.0
    canonical_link = "inverse_squared"
    y_support = (0.0, np.inf, False, False)
    power = 3.0

    def variance(self, mu):
        return np.asarray(mu, dtype=float) ** 3

    def unit_deviance(self, y, mu):
        return (y - mu) ** 2 / (y * mu * mu)

    def loglike(self, y, mu, sample_weight=None, scale=1.0):
        y = np.asarray(y, dtype=float)
        ll = -0.5 * ((y - mu) ** 2 / (scale * y * mu * mu) + np.log(scale * y**3) + _LOG_2PI)
        return _wsum(ll, sample_weight)


class Tweedie(Family):
    r"""Tweedie family with variance :math:`V(\mu) = \mu^p`.

    ``power`` :math:`p \le 0` or :math:`p \ge 1` (no distribution exists for
    :math:`0 < p < 1`). Support: all reals for :math:`p \le 0`, :math:`y \ge 0`
    for :math:`1 \le p < 2`, :math:`y > 0` for :math:`p \ge 2`. Unit deviance

    .. math::

        d = 2\Big[\frac{\max(y,0)^{2-p}}{(1-p)(2-p)} - \frac{y\mu^{1-p}}{1-p}
        + \frac{\mu^{2-p}}{2-p}\Big]

    with the Normal, Poisson and Gamma limits at :math:`p = 0, 1, 2`.
    ``loglike`` is exact for :math:`1 < p < 2` (series of Dunn and Smyth via
    :func:`scipy.special.log_wright_bessel`) and delegates for ``p`` in
    {0, 1, 2, 3}; it is NaN otherwise, as in statsmodels. The automatic link is
    log for :math:`p > 0` and identity for :math:`p \le 0` (as scikit-learn).
    """

    name = "tweedie"

    def __init__(self, power=1.5):
        power = float(power)
        if 0.0 < power < 1.0 or not np.isfinite(power):
            raise ValueError(
                f"Tweedie power must be <= 0 or >= 1, got power={power!r}; "
                "no Tweedie distribution exists for 0 < power < 1."
            )
        self.power = power
        self.variance_power = power
        if power <= 0:
            self.y_support = (-np.inf, np.inf, False, False)
        elif power < 2:
            self.y_support = (0.0, np.inf, True, False)
        else:
            self.y_support = (0.0, np.inf, False, False)
        self.canonical_link = "identity" if power <= 0 else "log"

    def __repr__(self):
        return f"Tweedie(power={self.power!r})"

    def _special(self):
        return {0.0: Normal, 1.0: Poisson, 2.0: Gamma, 3.0: InverseGaussian}.get(self.power)

    def variance(self, mu):
        return np.asarray(mu, dtype=float) ** self.power

    def unit_deviance(self, y, mu):
        special_family = self._special()
        if special_family is not None:
            return special_family().unit_deviance(y, mu)
        p = self.power
        y = np.asarray(y, dtype=float)
        y0 = np.maximum(y, 0.0)
        return 2.0 * (
            y0 ** (2 - p) / ((1 - p) * (2 - p))
            - y * mu ** (1 - p) / (1 - p)
            + mu ** (2 - p) / (2 - p)
        )

    def loglike(self, y, mu, sample_weight=None, scale=1.0):
        special_family = self._special()
        if special_family is not None:
            return special_family().loglike(y, mu, sample_weight, scale)
        p = self.power
        if not 1.0 < p < 2.0:
            return float("nan")
        y = np.asarray(y, dtype=float)
        mu = np.asarray(mu, dtype=float) * np.ones_like(y)
        ll = (y * mu ** (1 - p) / (1 - p) - mu ** (2 - p) / (2 - p)) / scale
        pos = y > 0
        if np.any(pos):
            # density of the compound Poisson-gamma part: c(y, phi) / y with
            # c = Wright's generalised Bessel function W(-a, 0; x)
            a = (2 - p) / (1 - p)
            yp = y[pos]
            x = ((p - 1) * scale / yp) ** a / ((2 - p) * scale)
            ll[pos] += special.log_wright_bessel(-a, 0.0, x) - np.log(yp)
        return _wsum(ll, sample_weight)


class NegativeBinomial(Family):
    r"""Negative binomial (NB2) family with known dispersion ``alpha``:
    :math:`V(\mu) = \mu + \alpha\mu^2` for counts :math:`y \ge 0`.

    .. math::

        d = 2\Big[y\log\frac{y}{\mu} - \big(y + \tfrac1\alpha\big)
        \log\frac{1 + \alpha y}{1 + \alpha\mu}\Big]

    Scale fixed to 1. The automatic link is log (as statsmodels'
    ``NegativeBinomial`` family), not the canonical
    :math:`\log(\alpha\mu/(1+\alpha\mu))`, which constrains the linear predictor.
    """

    name = "negative_binomial"
    canonical_link = "log"
    fixed_scale = True
    y_support = (0.0, np.inf, True, False)

    def __init__(self, alpha=1.0):
        alpha = float(alpha)
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"negative binomial alpha must be > 0, got alpha={alpha!r}.")
        self.alpha = alpha
        self.power = alpha  # the kernel reads the family parameter from here

    def __repr__(self):
        return f"NegativeBinomial(alpha={self.alpha!r})"

    def variance(self, mu):
        mu = np.asarray(mu, dtype=float)
        return mu + self.alpha * mu * mu

    def unit_deviance(self, y, mu):
        a = self.alpha
        y = np.asarray(y, dtype=float)
        return 2.0 * (_xlogy_ratio(y, mu) - (y + 1.0 / a) * np.log((1.0 + a * y) / (1.0 + a * mu)))

    def loglike(self, y, mu, sample_weight=None, scale=1.0):
        a = self.alpha
        y = np.asarray(y, dtype=float)
        ll = (
            special.xlogy(y, a * mu)
            - (y + 1.0 / a) * np.log1p(a * mu)
            + special.gammaln(y + 1.0 / a)
            - special.gammaln(1.0 / a)
            - special.gammaln(y + 1.0)
        ) / scale
        return _wsum(ll, sample_weight)


#: links accepted for each family (as statsmodels and scikit-learn allow them);
#: families not listed (user-defined) accept every link.
VALID_LINKS = {
    "normal": ("identity", "log", "inverse", "power"),
    "binomial": ("logit", "probit", "cloglog", "log", "identity"),
    "poisson": ("log", "identity", "power"),
    "gamma": ("inverse", "log", "identity", "power"),
    "inverse_gaussian": ("inverse_squared", "inverse", "log", "identity", "power"),
    "tweedie": ("log", "identity", "power"),
    "negative_binomial": ("log", "identity", "cloglog", "power"),
}


def variance_derivative(family, mu):
    r""":math:`V'(\mu)` of a built-in family (the binomial's variance lives in
    :mod:`skngd._loss.family`, so the table is kept here for all of them)."""
    mu = np.asarray(mu, dtype=float)
    name = family.name
    if name == "normal" or (name == "tweedie" and family.power == 0):
        return np.zeros_like(mu)
    if name == "binomial":
        return 1.0 - 2.0 * mu
    if name == "poisson":
        return np.ones_like(mu)
    if name == "negative_binomial":
        return 1.0 + 2.0 * family.alpha * mu
    p = family.variance_power
    if p is None:
        raise ValueError(f"no variance derivative for the {name} family.")
    return p * mu ** (p - 1.0)


def observed_weights(family, link, eta, mu, w, u):
    r"""Observed-information weights :math:`W^O_i`, the second derivative of
    the half deviance in :math:`\eta_i`, from the Fisher weights ``w`` and
    scores ``u`` of a pass:

    .. math::

        W^O_i = W_i - u_i \Big(\frac{\mu_i''}{\mu_i'}
        - \frac{\mu_i'\, V'(\mu_i)}{V(\mu_i)}\Big),

    equal to ``w`` for a canonical link. Rows with zero Fisher weight get 0.
    """
    with np.errstate(all="ignore"):
        if link.name == "log" or (link.name == "power" and link.power == 0):
            # mu' = mu'' = mu: kappa = 1 - mu V'/V (1 - p for a power variance)
            kappa = 1.0 - mu * variance_derivative(family, mu) / family.variance(mu)
        else:
            dmu = link.inverse_derivative(eta)
            kappa = link.inverse_second_derivative(eta) / dmu - dmu * variance_derivative(
                family, mu) / family.variance(mu)
        h = w - u * kappa
    return np.where((w > 0) & np.isfinite(h), h, 0.0)


def is_canonical(family, link):
    r"""True when :math:`\mu'(\eta)/V(\mu)` is constant, i.e. the Fisher
    information equals the Hessian of the deviance (canonical link, up to
    sign and scale): binomial-logit, or a power variance :math:`\mu^p` with
    the power link :math:`\eta = \mu^{1-p}` (log for :math:`p = 1`)."""
    if family.name == "binomial":
        return link.name == "logit"
    p, q = family.variance_power, link.exponent
    return p is not None and q is not None and float(q) == 1.0 - float(p)


def check_link_for_family(family, link):
    """Raise ``ValueError`` if ``link`` is not a valid link for ``family``."""
    allowed = VALID_LINKS.get(family.name)
    if allowed is not None and link.name not in allowed:
        raise ValueError(
            f"link={link.name!r} is not valid for the {family.name} family; "
            f"choose one of {', '.join(map(repr, allowed))}."
        )
