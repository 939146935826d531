r"""Distribution families: one object per distribution.

A family knows its variance function, unit deviance, support of ``y``,
log-likelihood and canonical link. Together with a link it gives the
per-sample quantities every solver needs, as a function of the linear
predictor :math:`\eta`:

.. math::

    \ell_i(\eta_i) = \tfrac12 w_i\, d(y_i, g^{-1}(\eta_i)), \qquad
    \ell_i'(\eta_i) = w_i \frac{\mu_i - y_i}{V(\mu_i)} \frac{d\mu_i}{d\eta_i}, \qquad
    F_i = w_i \frac{(d\mu_i/d\eta_i)^2}{V(\mu_i)}

(:meth:`Family.loss_gradient_fisher`). :math:`F_i` is the Fisher weight; for a
canonical link it equals the Hessian of :math:`\ell_i`, so Fisher scoring is
Newton's method and natural-gradient descent with step 1 is the Newton step.

:class:`Binomial` and :class:`Multinomial` override the generic NumPy path with
fused Numba kernels for the logit / softmax link.

:meth:`Family.loss_change` gives the change of the summed loss along a step,
:math:`\sum_i [\ell_i(\eta_i + u_i) - \ell_i(\eta_i)]`, with the size of
its rounding error. The generic path subtracts the two sums; the binomial and
multinomial paths sum per-sample differences written so that no cancellation
occurs inside a sample (``log1p``/``expm1`` forms), which keeps the change
accurate down to the rounding level of the gradient instead of that of the
objective: near the optimum :math:`f` changes by :math:`O(\|g\|^2)` and a
difference of two rounded sums would be noise long before :math:`g` is.
"""

import numpy as np
from scipy import special

from skngd._kernels.codes import FAMILY_CODES, family_code
from skngd._loss import link as _link

#: below this many linear-predictor entries the fused paths use NumPy instead of
#: Numba: loading Numba (even from its cache) costs more in a fresh process than
#: a small fit. Same formulas as the kernels' ``*_ref`` twins. At 50,000 the
#: one-thread NumPy path is within 20 % of the kernels (measured on 5,000 to
#: 200,000 rows), while a first fit that needs the kernels pays 0.3 s (cache
#: load) to 1.3 s (compilation); digits (17,970 entries) stays on NumPy.
NUMBA_MIN_SIZE = 50_000

# the kernels' codes, by name (the table is skngd._kernels.codes)
NORMAL, BINOMIAL, POISSON, GAMMA = (
    FAMILY_CODES[k] for k in ("normal", "binomial", "poisson", "gamma"))
INVERSE_GAUSSIAN, TWEEDIE, NEGATIVE_BINOMIAL, MULTINOMIAL = (
    FAMILY_CODES[k] for k in ("inverse_gaussian", "tweedie", "negative_binomial", "multinomial"))


class Family:
    r"""Base class of a distribution family (an exponential dispersion model).

    Subclasses define ``name``, ``canonical_link``, ``y_low``, ``y_high``
    (with inclusivity flags), ``variance``, ``unit_deviance`` and ``loglike``.
    ``fixed_scale`` is True where the dispersion is known to be 1. The
    kernels' integer ``code`` follows from ``name``
    (:data:`skngd._kernels.codes.FAMILY_CODES`; ``-1``: NumPy path only), and
    ``variance_power`` is :math:`p` of a power variance
    :math:`V(\mu) = \mu^p` (``None`` for other variance functions).
    """

    name = "family"
    code = -1
    variance_power = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and "code" not in cls.__dict__:
            cls.code = family_code(cls.name)
    canonical_link = "identity"
    fixed_scale = False
    #: support of y: (low, high, low_inclusive, high_inclusive)
    y_support = (-np.inf, np.inf, False, False)
    power = 0.0

    # -- distribution -----------------------------------------------------
    def variance(self, mu):  # pragma: no cover - abstract
        raise NotImplementedError

    def unit_deviance(self, y, mu):  # pragma: no cover - abstract
        raise NotImplementedError

    def loglike(self, y, mu, sample_weight=None, scale=1.0):  # pragma: no cover
        raise NotImplementedError

    def deviance(self, y, mu, sample_weight=None):
        """Weighted sum of unit deviances."""
        d = self.unit_deviance(y, mu)
        if sample_weight is None:
            return float(np.sum(d))
        return float(np.dot(sample_weight, d))

    @property
    def positive_only(self):
        """Whether ``y`` must be non-negative and unbounded above (the
        estimator's ``positive_only`` target tag follows from this)."""
        low, high = self.y_support[:2]
        return low >= 0 and high == np.inf

    def in_y_range(self, y):
        low, high, lo_inc, hi_inc = self.y_support
        y = np.asarray(y)
        ok_low = (y >= low) if lo_inc else (y > low)
        ok_high = (y <= high) if hi_inc else (y < high)
        return bool(np.all(ok_low & ok_high))

    def support_message(self):
        low, high, lo_inc, hi_inc = self.y_support
        return (
            f"{'[' if lo_inc else '('}{low}, {high}{']' if hi_inc else ')'}"
        )

    def starting_mu(self, y, sample_weight=None):
        """Starting mean for IRLS (as statsmodels: pull y towards its mean)."""
        ybar = np.average(y, weights=sample_weight)
        return (y + ybar) / 2.0

    def default_link(self):
        return _link.LINKS[self.canonical_link]()

    # -- per-sample quantities as functions of eta -------------------------
    def loss_gradient_fisher(self, y, raw, sample_weight, link):
        """Per-sample half deviance, its eta-derivative and Fisher weight.

        Plain NumPy; works for every family and link. Returns three arrays of
        the shape of ``raw``.
        """
        mu = link.inverse(raw)
        dmu = link.inverse_derivative(raw)
        v = self.variance(mu)
        loss = 0.5 * self.unit_deviance(y, mu)
        grad = (mu - y) / v * dmu
        fisher = dmu * dmu / v
        if sample_weight is not None:
            loss = loss * sample_weight
            grad = grad * sample_weight
            fisher = fisher * sample_weight
        return loss, grad, fisher

    def loss_change(self, y, raw, u, sample_weight, link):
        """Change of the weighted loss sum from ``raw`` to ``raw + u``.

        Returns ``(change, scale)`` as floats: ``change`` the difference of
        the sums and ``scale`` the sum of the magnitudes it was formed from,
        so ``eps * scale`` bounds its rounding error (up to a small factor).
        """
        lo0, _, _ = self.loss_gradient_fisher(y, raw, sample_weight, link)
        lo1, _, _ = self.loss_gradient_fisher(y, raw + u, sample_weight, link)
        return _sum(lo1) - _sum(lo0), _sum(np.abs(lo1)) + _sum(np.abs(lo0))

    def __repr__(self):
        return f"{type(self).__name__}()"


def _sum(a):
    return float(np.sum(a, dtype=np.float64))


def _xlogy_ratio(y, mu):
    """y * log(y / mu) with 0 log 0 = 0."""
    return special.xlogy(y, y) - special.xlogy(y, mu)


class Binomial(Family):
    r"""Binomial (Bernoulli) family for :math:`y \in [0, 1]` (proportions allowed).

    Unit deviance :math:`2[y\log(y/\mu) + (1-y)\log((1-y)/(1-\mu))]`,
    variance :math:`\mu(1-\mu)`, canonical link logit, scale fixed to 1.
    """

    name = "binomial"
    canonical_link = "logit"
    fixed_scale = True
    y_support = (0.0, 1.0, True, True)

    def variance(self, mu):
        return mu * (1.0 - mu)

    def unit_deviance(self, y, mu):
        return 2.0 * (_xlogy_ratio(y, mu) + _xlogy_ratio(1.0 - y, 1.0 - mu))

    def loglike(self, y, mu, sample_weight=None, scale=1.0):
        ll = special.xlogy(y, mu) + special.xlog1py(1.0 - y, -mu)
        return float(np.sum(ll) if sample_weight is None else np.dot(sample_weight, ll))

    def loss_gradient_fisher(self, y, raw, sample_weight, link):
        if link.code != _link.LOGIT:
            return super().loss_gradient_fisher(y, raw, sample_weight, link)
        n = raw.shape[0]
        if n < NUMBA_MIN_SIZE:
            return _binomial_numpy(y, raw, _ones_if_none(sample_weight, n, raw.dtype))
        from skngd._kernels.logistic import binomial_loss_grad_fisher

        loss = np.empty(n, dtype=raw.dtype)
        grad = np.empty(n, dtype=raw.dtype)
        fisher = np.empty(n, dtype=raw.dtype)
        sw = _ones_if_none(sample_weight, n, raw.dtype)
        binomial_loss_grad_fisher(
            np.ascontiguousarray(y, dtype=raw.dtype), raw, sw, loss, grad, fisher
        )
        return loss, grad, fisher

    def loss_change(self, y, raw, u, sample_weight, link):
        r"""Stable change of the log-loss sum: for :math:`|u_i| \le 1`,

        .. math::

            \ell(\eta + u) - \ell(\eta) = y\log(1 + (1-p)(e^{-u} - 1))
            + (1 - y)\log(1 + p(e^{u} - 1)),\qquad p = \sigma(\eta),

        two terms of one sign each; larger steps subtract the two losses.
        """
        if link.code != _link.LOGIT:
            return super().loss_change(y, raw, u, sample_weight, link)
        n = raw.shape[0]
        sw = _ones_if_none(sample_weight, n, raw.dtype)
        if n < NUMBA_MIN_SIZE:
            return binomial_loss_change_numpy(y, raw, u, sw)
        from skngd._kernels.logistic import binomial_loss_change

        # float64 whatever the data dtype: one compiled variant, and the
        # change is then as accurate as the float32 inputs allow
        f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
        return binomial_loss_change(f64(y), f64(raw), f64(u), f64(sw))


class Multinomial(Family):
    r"""Multinomial family with the softmax link and the symmetric
    parametrisation (one coefficient vector per class).

    ``y`` is an integer class index in ``[0, K)``; the linear predictor has
    shape ``(n, K)``. Per-sample loss :math:`\log\sum_k e^{\eta_k} - \eta_{y}`,
    gradient :math:`p - e_y`, Fisher matrix :math:`\mathrm{diag}(p) - pp^T`
    (which Böhning's bound majorises by :math:`\tfrac12(I - 11^T/K)`).
    """

    name = "multinomial"
    canonical_link = "softmax"
    fixed_scale = True

    def __init__(self, n_classes=2):
        self.n_classes = int(n_classes)

    def __repr__(self):
        return f"Multinomial(n_classes={self.n_classes})"

    def default_link(self):
        return None

    def loss_gradient_fisher(self, y, raw, sample_weight, link=None):
        """Per-sample loss (n,), gradient (n, K) and probabilities (n, K).

        The Fisher block of sample i is ``w_i (diag(p_i) - p_i p_i^T)``; it is
        returned through the probabilities rather than as an (n, K, K) array.
        """
        n, k = raw.shape
        if n * k < NUMBA_MIN_SIZE:
            return _multinomial_numpy(y, raw, _ones_if_none(sample_weight, n, raw.dtype))
        from skngd._kernels.logistic import multinomial_loss_grad_proba

        loss = np.empty(n, dtype=raw.dtype)
        grad = np.empty((n, k), dtype=raw.dtype)
        proba = np.empty((n, k), dtype=raw.dtype)
        sw = _ones_if_none(sample_weight, n, raw.dtype)
        multinomial_loss_grad_proba(
            np.ascontiguousarray(y, dtype=np.int64), np.ascontiguousarray(raw), sw,
            loss, grad, proba,
        )
        return loss, grad, proba

    def loss_change(self, y, raw, u, sample_weight, link=None, proba=None):
        r"""Stable change of the softmax loss sum; ``proba`` (softmax of
        ``raw``) is recomputed when not given. With :math:`v = u - u_y`,

        .. math::

            \ell(\eta + u) - \ell(\eta) = \log\Big(1 + \sum_k p_k
            (e^{v_k} - 1)\Big)

        for rows with :math:`\max_k |v_k| \le 1` (then the argument is at
        least :math:`e^{-1}`); other rows subtract the two losses.
        """
        n, k = raw.shape
        sw = _ones_if_none(sample_weight, n, raw.dtype).astype(np.float64)
        u = np.asarray(u, dtype=np.float64)
        if proba is None:
            proba = special.softmax(np.asarray(raw, dtype=np.float64), axis=1)
        rows = np.arange(n)
        v = u - u[rows, y][:, None]
        small = np.max(np.abs(v), axis=1) <= 1.0
        if np.all(small):
            terms = np.asarray(proba, dtype=np.float64) * np.expm1(v)
        else:
            terms = np.asarray(proba, dtype=np.float64) * np.expm1(np.where(small[:, None], v, 0.0))
        d = np.log1p(terms.sum(axis=1))
        scale = np.abs(terms).sum(axis=1)
        if not np.all(small):
            big = np.flatnonzero(~small)
            r0 = np.asarray(raw[big], dtype=np.float64)
            r1 = r0 + u[big]
            at = np.arange(big.size), y[big]
            lo0 = _logsumexp_rows(r0) - r0[at]
            lo1 = _logsumexp_rows(r1) - r1[at]
            d[big] = lo1 - lo0
            scale[big] = np.abs(lo1) + np.abs(lo0)
        return float(sw @ d), float(sw @ scale)


def _binomial_numpy(y, raw, sw):
    p = special.expit(raw)
    loss = sw * (np.logaddexp(0.0, raw) - y * raw)
    return loss, sw * (p - y), sw * p * (1.0 - p)


def binomial_loss_change_numpy(y, raw, u, sw):
    """NumPy path (and test reference) of :meth:`Binomial.loss_change` and of
    the kernel :func:`skngd._kernels.logistic.binomial_loss_change`."""
    e = np.asarray(raw, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sw = np.asarray(sw, dtype=np.float64)
    small = np.abs(u) <= 1.0
    us = np.where(small, u, 0.0)
    a = y * np.log1p(special.expit(-e) * np.expm1(-us))
    b = (1.0 - y) * np.log1p(special.expit(e) * np.expm1(us))
    d = a + b
    scale = np.abs(a) + np.abs(b)
    if not np.all(small):
        big = ~small
        lo0 = np.logaddexp(0.0, e[big]) - y[big] * e[big]
        e1 = e[big] + u[big]
        lo1 = np.logaddexp(0.0, e1) - y[big] * e1
        d[big] = lo1 - lo0
        scale[big] = np.abs(lo1) + np.abs(lo0)
    return float(sw @ d), float(sw @ scale)


def _logsumexp_rows(a):
    m = a.max(axis=1)
    return m + np.log(np.exp(a - m[:, None]).sum(axis=1))


def _multinomial_numpy(y, raw, sw):
    lse = special.logsumexp(raw, axis=1)
    proba = np.exp(raw - lse[:, None])
    rows = np.arange(raw.shape[0])
    loss = sw * (lse - raw[rows, y])
    grad = proba.copy()
    grad[rows, y] -= 1.0
    return loss, grad * sw[:, None], proba


def _ones_if_none(sample_weight, n, dtype):
    if sample_weight is None:
        return np.ones(n, dtype=dtype)
    return np.ascontiguousarray(sample_weight, dtype=dtype)
