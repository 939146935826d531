r"""Link functions :math:`g` with :math:`\eta = g(\mu)`.

Each link is a small object with the NumPy twin of what the Numba kernels do
(``skngd._kernels`` switch on :attr:`Link.code`):

* ``link(mu)`` -> eta, ``inverse(eta)`` -> mu,
* ``inverse_derivative(eta)`` = :math:`d\mu/d\eta`,
* ``inverse_second_derivative(eta)`` = :math:`d^2\mu/d\eta^2` (the observed
  information of a non-canonical link needs it),
* ``derivative(mu)`` = :math:`d\eta/d\mu`,
* ``valid_mu``: the open interval where the link is defined.

Resolve names with :func:`skngd._loss.get_link`.
"""

import numpy as np
from scipy import special

from skngd._kernels.codes import LINK_CODES, link_code

# the kernels' codes, by name (the table is skngd._kernels.codes)
IDENTITY, LOG, LOGIT, PROBIT = (LINK_CODES[k] for k in ("identity", "log", "logit", "probit"))
CLOGLOG, INVERSE, INVERSE_SQUARED, POWER = (
    LINK_CODES[k] for k in ("cloglog", "inverse", "inverse_squared", "power"))


class Link:
    r"""Base class. Subclasses set ``name`` and the four maps; the kernels'
    integer ``code`` follows from ``name`` (:data:`skngd._kernels.codes.LINK_CODES`;
    ``-1``: NumPy path only). ``exponent`` is :math:`q` of a power link
    :math:`\eta = \mu^q` (``0``: log; ``None`` for other links)."""

    name = "link"
    code = -1
    exponent = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and "code" not in cls.__dict__:
            cls.code = link_code(cls.name)
    #: (low, high) of the mean where the link is finite
    valid_mu = (-np.inf, np.inf)
    #: exponent, only meaningful for :class:`PowerLink`
    power = 0.0

    def link(self, mu):  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse(self, eta):  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse_derivative(self, eta):  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse_second_derivative(self, eta):  # pragma: no cover - abstract
        raise NotImplementedError

    def derivative(self, mu):
        return 1.0 / self.inverse_derivative(self.link(mu))

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other) and self.power == other.power

    def __hash__(self):
        return hash((type(self).__name__, self.power))


class IdentityLink(Link):
    name = "identity"
    exponent = 1.0

    def link(self, mu):
        return np.asarray(mu, dtype=float).copy()

    def inverse(self, eta):
        return np.asarray(eta, dtype=float).copy()

    def inverse_derivative(self, eta):
        return np.ones_like(np.asarray(eta, dtype=float))

    def derivative(self, mu):
        return np.ones_like(np.asarray(mu, dtype=float))

    def inverse_second_derivative(self, eta):
        return np.zeros_like(np.asarray(eta, dtype=float))


class LogLink(Link):
    name = "log"
    exponent = 0.0
    valid_mu = (0.0, np.inf)

    def link(self, mu):
        return np.log(mu)

    def inverse(self, eta):
        return np.exp(eta)

    def inverse_derivative(self, eta):
        return np.exp(eta)

    def derivative(self, mu):
        return 1.0 / np.asarray(mu, dtype=float)

    def inverse_second_derivative(self, eta):
        return np.exp(eta)


class LogitLink(Link):
    name = "logit"
    valid_mu = (0.0, 1.0)

    def link(self, mu):
        return special.logit(mu)

    def inverse(self, eta):
        return special.expit(eta)

    def inverse_derivative(self, eta):
        p = special.expit(eta)
        return p * (1.0 - p)

    def inverse_second_derivative(self, eta):
        p = special.expit(eta)
        return p * (1.0 - p) * (1.0 - 2.0 * p)

    def derivative(self, mu):
        mu = np.asarray(mu, dtype=float)
        return 1.0 / (mu * (1.0 - mu))


class ProbitLink(Link):
    name = "probit"
    valid_mu = (0.0, 1.0)

    def link(self, mu):
        return special.ndtri(mu)

    def inverse(self, eta):
        return special.ndtr(eta)

    def inverse_derivative(self, eta):
        eta = np.asarray(eta, dtype=float)
        return np.exp(-0.5 * eta * eta) / np.sqrt(2.0 * np.pi)

    def inverse_second_derivative(self, eta):
        eta = np.asarray(eta, dtype=float)
        return -eta * self.inverse_derivative(eta)


class CLogLogLink(Link):
    name = "cloglog"
    valid_mu = (0.0, 1.0)

    def link(self, mu):
        return np.log(-np.log1p(-np.asarray(mu, dtype=float)))

    def inverse(self, eta):
        return -np.expm1(-np.exp(eta))

    def inverse_derivative(self, eta):
        eta = np.asarray(eta, dtype=float)
        return np.exp(eta - np.exp(eta))

    def inverse_second_derivative(self, eta):
        eta = np.asarray(eta, dtype=float)
        return np.exp(eta - np.exp(eta)) * (1.0 - np.exp(eta))


class InverseLink(Link):
    """:math:`\\eta = 1/\\mu` (canonical for the gamma family)."""

    name = "inverse"
    exponent = -1.0
    valid_mu = (0.0, np.inf)

    def link(self, mu):
        return 1.0 / np.asarray(mu, dtype=float)

    def inverse(self, eta):
        return 1.0 / np.asarray(eta, dtype=float)

    def inverse_derivative(self, eta):
        eta = np.asarray(eta, dtype=float)
        return -1.0 / (eta * eta)

    def inverse_second_derivative(self, eta):
        eta = np.asarray(eta, dtype=float)
        return 2.0 / (eta * eta * eta)


class InverseSquaredLink(Link):
    """:math:`\\eta = 1/\\mu^2` (canonical for the inverse Gaussian family)."""

    name = "inverse_squared"
    exponent = -2.0
    valid_mu = (0.0, np.inf)

    def link(self, mu):
        mu = np.asarray(mu, dtype=float)
        return 1.0 / (mu * mu)

    def inverse(self, eta):
        return 1.0 / np.sqrt(np.asarray(eta, dtype=float))

    def inverse_derivative(self, eta):
        eta = np.asarray(eta, dtype=float)
        return -0.5 * eta ** (-1.5)

    def inverse_second_derivative(self, eta):
        eta = np.asarray(eta, dtype=float)
        return 0.75 * eta ** (-2.5)


class PowerLink(Link):
    """:math:`\\eta = \\mu^p`; ``p = 0`` is the log link."""

    name = "power"
    valid_mu = (0.0, np.inf)

    def __init__(self, power=1.0):
        self.power = float(power)
        self.exponent = self.power

    def __repr__(self):
        return f"PowerLink(power={self.power!r})"

    def link(self, mu):
        mu = np.asarray(mu, dtype=float)
        return np.log(mu) if self.power == 0 else mu**self.power

    def inverse(self, eta):
        eta = np.asarray(eta, dtype=float)
        return np.exp(eta) if self.power == 0 else eta ** (1.0 / self.power)

    def inverse_derivative(self, eta):
        eta = np.asarray(eta, dtype=float)
        if self.power == 0:
            return np.exp(eta)
        p = self.power
        return eta ** (1.0 / p - 1.0) / p

    def inverse_second_derivative(self, eta):
        eta = np.asarray(eta, dtype=float)
        if self.power == 0:
            return np.exp(eta)
        p = self.power
        return (1.0 / p - 1.0) * eta ** (1.0 / p - 2.0) / p


LINKS = {
    "identity": IdentityLink,
    "log": LogLink,
    "logit": LogitLink,
    "probit": ProbitLink,
    "cloglog": CLogLogLink,
    "inverse": InverseLink,
    "inverse_squared": InverseSquaredLink,
    "power": PowerLink,
}
