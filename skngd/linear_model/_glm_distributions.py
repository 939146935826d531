"""Drop-in replacements for scikit-learn's ``PoissonRegressor``,
``GammaRegressor`` and ``TweedieRegressor``, fitted by IRLS and carrying the
inference attributes of :class:`GeneralizedLinearRegressor`. Each also takes
its elastic-net parameters ``l1_ratio``, ``P1`` and ``P2`` (glum's meaning,
see :class:`GeneralizedLinearRegressor`)."""

from numbers import Real

from skngd.utils._sklearn_compat import Interval, StrOptions

from skngd._loss import get_link
from skngd._loss.glm_family import Gamma, Poisson, Tweedie
from skngd.linear_model._glm import GeneralizedLinearRegressor

_SHARED = ("alpha", "l1_ratio", "P1", "P2", "fit_intercept", "max_iter", "tol", "warm_start", "verbose", "cov_type",
           "n_jobs")
# scikit-learn's solver names are accepted for drop-in use; every one fits by
# Newton's method (IRLS with the observed information), as 'newton-cholesky'
_SOLVERS = [StrOptions({"irls", "newton-cholesky", "lbfgs"})]


def _constraints(*extra):
    base = GeneralizedLinearRegressor._parameter_constraints
    out = {k: base[k] for k in _SHARED + extra}
    out["solver"] = _SOLVERS
    return out


class PoissonRegressor(GeneralizedLinearRegressor):
    r"""Poisson regression with the log link, fitted by IRLS.

    Same parameters as :class:`sklearn.linear_model.PoissonRegressor`
    (``solver`` is accepted for compatibility; the fit is always IRLS, and
    ``tol`` is on the objective scale, as for
    :class:`GeneralizedLinearRegressor`), plus ``cov_type`` and ``n_jobs``.
    Minimises

    .. math::

        \frac{1}{\sum_i s_i}\sum_i s_i (y_i\log\frac{y_i}{\mu_i} - y_i + \mu_i)
        + \frac{\alpha}{2}\lVert w\rVert^2, \quad \mu_i = e^{x_i^T w + b + o_i}.

    ``y`` must be non-negative. The inference attributes (``coef_stderr_``,
    ``summary()``, ``aic_``, ...) are those of
    :class:`GeneralizedLinearRegressor`, with the scale fixed to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.linear_model import PoissonRegressor
    >>> X = np.array([[1, 2], [2, 3], [3, 4], [4, 3]])
    >>> y = np.array([12, 17, 22, 21])
    >>> reg = PoissonRegressor(alpha=1.0).fit(X, y)
    >>> np.round(reg.predict([[1, 1], [3, 4]]), 2)
    array([10.68, 21.88])
    """

    _parameter_constraints = _constraints()
    scale = "pearson"  # not a parameter: the Poisson scale is fixed to 1

    def __init__(self, *, alpha=1.0, l1_ratio=0.0, P1=None, P2=None, fit_intercept=True,
                 solver="irls", max_iter=100, tol=1e-8, warm_start=False, verbose=0,
                 cov_type="nonrobust", n_jobs=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.P1 = P1
        self.P2 = P2
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.cov_type = cov_type
        self.n_jobs = n_jobs

    def _get_family(self):
        return Poisson()

    def _get_link(self, family):
        return get_link("log")


class GammaRegressor(GeneralizedLinearRegressor):
    r"""Gamma regression with the log link, fitted by IRLS.

    Same parameters as :class:`sklearn.linear_model.GammaRegressor` plus
    ``scale``, ``cov_type`` and ``n_jobs``; ``y`` must be positive. Minimises
    :math:`\frac{1}{2\sum_i s_i}\sum_i s_i\, 2[(y_i-\mu_i)/\mu_i - \log(y_i/\mu_i)]
    + \frac{\alpha}{2}\lVert w\rVert^2`, :math:`\mu_i = e^{x_i^T w + b + o_i}`.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.linear_model import GammaRegressor
    >>> X = np.array([[1, 2], [2, 3], [3, 4], [4, 3]])
    >>> y = np.array([19, 26, 33, 30])
    >>> reg = GammaRegressor(alpha=1.0).fit(X, y)
    >>> np.round(reg.predict([[1, 0], [2, 8]]), 2)
    array([19.49, 35.78])
    """

    _parameter_constraints = _constraints("scale")

    def __init__(self, *, alpha=1.0, l1_ratio=0.0, P1=None, P2=None, fit_intercept=True,
                 solver="irls", max_iter=100, tol=1e-8, warm_start=False, verbose=0,
                 scale="pearson", cov_type="nonrobust", n_jobs=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.P1 = P1
        self.P2 = P2
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.scale = scale
        self.cov_type = cov_type
        self.n_jobs = n_jobs

    def _get_family(self):
        return Gamma()

    def _get_link(self, family):
        return get_link("log")


class TweedieRegressor(GeneralizedLinearRegressor):
    r"""Tweedie regression (variance :math:`\mu^p`), fitted by IRLS.

    Same parameters as :class:`sklearn.linear_model.TweedieRegressor`
    (``power`` :math:`p \le 0` or :math:`\ge 1`; ``link`` 'auto' is identity
    for :math:`p \le 0` and log otherwise) plus ``scale``, ``cov_type`` and
    ``n_jobs``. The objective is the Tweedie deviance over
    :math:`2\sum_i s_i` plus :math:`\frac{\alpha}{2}\lVert w\rVert^2`.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.linear_model import TweedieRegressor
    >>> X = np.array([[1, 2], [2, 3], [3, 4], [4, 3]])
    >>> y = np.array([2, 3.5, 5, 5.5])
    >>> reg = TweedieRegressor(power=1, link="log").fit(X, y)
    >>> np.round(reg.predict([[1, 1], [3, 4]]), 2)
    array([2.1 , 4.87])
    """

    _parameter_constraints = {
        **_constraints("scale"),
        "power": [Interval(Real, None, 0, closed="right"), Interval(Real, 1, None, closed="left")],
        "link": [StrOptions({"auto", "identity", "log"})],
    }

    def __init__(self, *, power=0.0, alpha=1.0, l1_ratio=0.0, P1=None, P2=None,
                 fit_intercept=True, link="auto", solver="irls", max_iter=100, tol=1e-8,
                 warm_start=False, verbose=0, scale="pearson", cov_type="nonrobust",
                 n_jobs=None):
        self.power = power
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.P1 = P1
        self.P2 = P2
        self.fit_intercept = fit_intercept
        self.link = link
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.scale = scale
        self.cov_type = cov_type
        self.n_jobs = n_jobs

    def _get_family(self):
        return Tweedie(self.power)

    def _get_link(self, family):
        if self.link == "auto":
            return get_link("identity" if self.power <= 0 else "log")
        return get_link(self.link)
