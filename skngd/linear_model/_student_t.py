"""Robust linear regression with Student-t errors, fitted by EM / ECME."""

from numbers import Integral, Real

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from skngd.utils._sklearn_compat import _fit_context
from skngd.utils._sklearn_compat import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skngd._solvers._result import warn_not_converged
from skngd._solvers.em_t import INITS, fit_student_t, interpolate
from skngd._solvers.t_nu import NU_GRID, out_of_sample_residuals, select_nu_min_variance
from skngd.linear_model._t_problem import TProblem
from skngd.utils._threads import fit_threads
from skngd.utils import (check_finite_param, check_magnitude, check_numeric_target,
                         check_sample_weight, resolve_from_registry)

# registry of starting points: name -> factory returning the start function
_INIT_FACTORIES = {name: (lambda f=f: f) for name, f in INITS.items()}
_EXACT_RTOL = 1e-10  # residuals below this fraction of max|y| count as exact


class StudentTRegressor(RegressorMixin, BaseEstimator):
    """Linear regression with Student-t errors (robust to outliers in ``y``).

    The errors are modelled as :math:`\\sigma\\varepsilon_i` with
    :math:`\\varepsilon_i \\sim t_\\nu`. The estimator maximises the
    sample-weighted, ridge-penalised log-likelihood

    .. math::

        \\max_{\\beta, b, \\sigma(, \\nu)} \\sum_i w_i \\Big[ c(\\nu) - \\log\\sigma
            - \\frac{\\nu+1}{2}\\log\\Big(1 + \\frac{(y_i - x_i^\\top\\beta - b)^2}
            {\\nu\\sigma^2}\\Big)\\Big] - \\frac{\\alpha}{2\\sigma^2}\\lVert\\beta\\rVert_2^2,

    :math:`c(\\nu) = \\log\\Gamma(\\frac{\\nu+1}{2}) - \\log\\Gamma(\\frac{\\nu}{2})
    - \\frac12\\log(\\nu\\pi)`, by EM on the Gaussian scale-mixture
    representation: each iteration reweights the rows by
    :math:`\\lambda_i = (\\nu+1)/(\\nu+\\delta_i)`,
    :math:`\\delta_i = r_i^2/\\sigma^2`, and solves a weighted ridge least-squares
    problem (accelerated by over-relaxation and, near the optimum, Newton
    steps, each accepted only if it increases the objective). The objective
    never decreases (``loglik_history_``). By default :math:`\\nu` is chosen
    first, as the value on a grid over :math:`[1, 1000]` that minimises the
    estimated asymptotic variance of the coefficients (see ``nu``); with
    ``nu='auto'`` an ECME step instead maximises the observed log-likelihood
    over :math:`\\nu \\in [1, 1000]` each iteration. Dividing the penalty by
    :math:`\\sigma^2` makes the fit equivariant to rescaling ``y`` and makes it
    tend to :class:`~sklearn.linear_model.Ridge` as :math:`\\nu \\to \\infty`.

    The likelihood is not concave: the default ``init='robust'`` starts from a
    least-absolute-deviation fit (IRLS) with a MAD scale, so heavily
    contaminated data (30% gross outliers) still converge to the bulk.

    Parameters
    ----------
    nu : float > 0, 'adaptive' or 'auto', default='adaptive'
        Degrees of freedom of the t distribution (small = heavier tails, more
        robust).

        - ``'adaptive'``: chosen from the data to make the coefficients most
          precise. For each :math:`\\nu` on a geometric grid over
          :math:`[1, 1000]` the sandwich variance
          :math:`\\sigma^2 \\overline{\\psi^2} / \\overline{\\psi'}^2` of the
          t M-estimator (:math:`\\psi(u) = (\\nu+1)u/(\\nu+u^2)`, maximum
          likelihood scale) is evaluated on out-of-sample residuals of the
          robust L1 starting fit; the smallest wins (ties within the
          estimate's sampling error, :math:`0.25/\\sqrt{n}` relative, go to the
          larger :math:`\\nu`). The likelihood is then maximised at that
          :math:`\\nu`. Gaussian errors give :math:`\\nu = 1000` (least
          squares), t errors their own :math:`\\nu`, and gross outliers the
          largest tail weight that still rejects them (about 4 at 10%, 1.3-1.8
          at 30%), where maximum likelihood fits the contamination with
          :math:`\\nu \\to 1` and loses efficiency on the clean rows.
        - ``'auto'``: maximum likelihood (ECME), the model's own estimate.
        - a number: fixed, e.g. ``nu=4.0`` (the earlier default), which breaks
          down beyond about 20% gross outliers (see Notes).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    alpha : float >= 0, default=0.0
        Ridge penalty on the coefficients (not the intercept), in units of
        :math:`\\sigma^2` as in the objective above.
    max_iter : int >= 1, default=200
        Maximum number of EM iterations.
    tol : float >= 0, default=1e-8
        Stop when the fitted values move by at most ``tol * scale_`` on every
        training row and the scale (and ``nu``) change by at most ``tol``
        relatively. The fit is an EM iteration with no Newton decrement, so
        this step rule stands beside the second-order spine's objective rule
        (see :ref:`stopping-rule`).
    init : {'robust', 'ols'}, default='robust'
        Starting point: L1 regression by IRLS with a MAD scale, or (ridge)
        least squares with its RMS scale.
    n_jobs : int, default=None
        BLAS threads during the fit (the row passes are NumPy over BLAS):
        ``None`` means one, scikit-learn's convention, which keeps the fit
        steady on a busy machine; ``-1`` all cores.
    verbose : int, default=0
        Print the log-likelihood at every iteration if > 0.
    warm_start : bool, default=False
        Start from the previous solution (coefficients, scale, and ``nu_``
        for ``nu='auto'``; ``'adaptive'`` chooses :math:`\\nu` again).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    scale_ : float
        Fitted :math:`\\sigma`. Zero when the training data are fitted
        exactly (e.g. constant ``y``), where the likelihood is unbounded.
    nu_ : float
        Degrees of freedom used (``nu``, or the value chosen for
        ``'adaptive'`` / estimated for ``'auto'``).
    weights_ : ndarray of shape (n_samples,)
        E-step weights :math:`\\lambda_i = E[\\tau_i \\mid y_i]` at the solution,
        in :math:`(0, (\\nu+1)/\\nu]`; small values flag outliers.
    n_iter_ : int
    converged_ : bool
    loglik_history_ : ndarray
        Penalised log-likelihood at the start and after every iteration
        (non-decreasing); ``[inf]`` for an exact fit.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    Notes
    -----
    The joint maximum-likelihood fit of location and scale with fixed
    :math:`\\nu` tolerates a fraction of gross outliers up to about
    :math:`1/(\\nu+1)` (20% for :math:`\\nu=4`): beyond it the scale grows to
    cover the outliers. ``'adaptive'`` and ``'auto'`` pick a heavy enough tail
    when the data need it. Like every M-estimator (and ``HuberRegressor``),
    the fit is not robust to outliers in ``X`` with wrong ``y`` (bad
    leverage points).

    The solver works on centred data scaled by powers of two (``y``, the
    weights, and the columns of ``X`` when ``alpha=0``), which is exact, so
    any data whose squares do not overflow are fitted alike; entries whose
    squares overflow float64 are rejected with a ``ValueError``.

    At least 2 samples with positive weight are required. With ``alpha=0``
    and no more samples than parameters (``n_features + fit_intercept``), the
    likelihood is unbounded: the estimator then returns the minimum-norm
    interpolating solution (least squares on the centred data) with
    ``scale_ = 0``. Use ``alpha > 0`` for a proper fit of wide data.

    References
    ----------
    Lange, K. L., Little, R. J. A. and Taylor, J. M. G. (1989). Robust
    statistical modeling using the t distribution. JASA 84, 881-896.

    Liu, C. and Rubin, D. B. (1995). ML estimation of the t distribution using
    EM and its extensions, ECM and ECME. Statistica Sinica 5, 19-39.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.linear_model import StudentTRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = X @ [1.0, -2.0] + 0.5 + 0.1 * rng.normal(size=200)
    >>> y[:20] += 50.0  # 10% gross outliers
    >>> reg = StudentTRegressor().fit(X, y)
    >>> np.round(reg.coef_, 1), round(reg.intercept_, 1)
    (array([ 1., -2.]), 0.5)
    >>> bool(reg.weights_[:20].max() < 0.01)
    True
    """

    _parameter_constraints: dict = {
        "nu": [Interval(Real, 0, None, closed="neither"), StrOptions({"adaptive", "auto"})],
        "fit_intercept": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions(set(INITS))],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(self, nu="adaptive", *, fit_intercept=True, alpha=0.0, max_iter=200, tol=1e-8,
                 init="robust", n_jobs=None, verbose=0, warm_start=False):
        self.nu = nu
        self.fit_intercept = fit_intercept
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (finite values).
        y : array-like of shape (n_samples,)
            Target values (finite).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; integer weights act like repeated rows.

        Returns
        -------
        self : StudentTRegressor
            The fitted estimator.
        """
        if not isinstance(self.nu, str):
            check_finite_param(self.nu, "nu")
        warm = self.warm_start and hasattr(self, "coef_")
        y = check_numeric_target(y, estimator=self) if y is not None else y
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True,
                             reset=not warm)
        check_magnitude(X, name="X", estimator=self)
        check_magnitude(y, name="y", estimator=self)
        sw = check_sample_weight(sample_weight, X, dtype=np.float64)
        n_eff = int(np.count_nonzero(sw))
        if n_eff < 2:
            raise ValueError(
                "StudentTRegressor needs at least 2 samples with positive weight, "
                f"got n_samples={n_eff}."
            )
        wide = n_eff <= X.shape[1] + int(self.fit_intercept)
        prob = TProblem.from_data(X, y, sw, float(self.alpha), self.fit_intercept,
                                  scale_columns=self.alpha == 0 and not wide)
        with fit_threads(self.n_jobs, numba=False):
            res = self._solve(prob, warm, wide)
        if not res.converged:
            warn_not_converged("StudentTRegressor", self.max_iter)
        self.coef_, self.intercept_, self.scale_ = prob.from_scaled(
            res.coef, res.intercept, res.scale)
        self.nu_ = float(res.nu)
        self.weights_ = res.weights
        self.n_iter_ = res.n_iter
        self.converged_ = res.converged
        self.loglik_history_ = prob.history(res.history)
        return self

    def _solve(self, prob, warm, wide):
        """Run the solver on the scaled problem; a :class:`SolverResult`."""
        X, y, sw, alpha = prob.X, prob.y, prob.sw, prob.alpha
        floor = _EXACT_RTOL * float(np.max(np.abs(y[sw > 0])))
        estimate_nu, adaptive = self.nu == "auto", self.nu == "adaptive"
        nu = 4.0 if estimate_nu else NU_GRID[-1] if adaptive else float(self.nu)
        if alpha == 0 and wide:
            return interpolate(X, y, sw, self.fit_intercept, nu)  # documented min-norm fit
        from_l1 = not (warm and self.scale_ > 0) and self.init == "robust"
        if warm and self.scale_ > 0:  # previous solution
            start = prob.to_scaled(self.coef_, self.intercept_, self.scale_)
            nu = self.nu_ if estimate_nu else nu
        else:
            init = resolve_from_registry(self.init, _INIT_FACTORIES, "init")
            start = init(X, y, sw, alpha, self.fit_intercept, floor)
        if adaptive and start[2] > floor:  # out-of-sample residuals of an L1 fit
            nu = select_nu_min_variance(*out_of_sample_residuals(
                X, y, sw, alpha, self.fit_intercept, floor,
                l1=start[:2] if from_l1 else None))[0]
        return fit_student_t(
            X, y, sw, nu=nu, estimate_nu=estimate_nu, alpha=alpha,
            fit_intercept=self.fit_intercept, start=(*start, nu),
            max_iter=self.max_iter, tol=self.tol, floor=floor, verbose=self.verbose,
            units=prob.units)

    def predict(self, X):
        """Predict the location (mean and median) :math:`x^\\top\\beta + b`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted values.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return X @ self.coef_ + self.intercept_

    def predict_interval(self, X, alpha=0.05):
        """Central ``1 - alpha`` predictive interval for new observations.

        ``prediction +/- t_{nu, 1 - alpha/2} * scale_`` from the fitted
        :math:`\\nu` and :math:`\\sigma`. Parameter uncertainty (of the
        coefficients, scale and estimated ``nu``) is ignored, so the interval
        is slightly too narrow for small samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        alpha : float in (0, 1), default=0.05
            Miscoverage level: the interval covers ``1 - alpha``.

        Returns
        -------
        interval : ndarray of shape (n_samples, 2)
            Lower and upper bounds.
        """
        if not (isinstance(alpha, Real) and 0 < alpha < 1):
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
        pred = self.predict(X)
        half = stats.t.ppf(1 - alpha / 2, self.nu_) * self.scale_
        return np.column_stack([pred - half, pred + half])
