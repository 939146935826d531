"""Generalised linear models fitted by IRLS, with statsmodels-grade inference."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from skngd.utils._sklearn_compat import _fit_context
from skngd.utils._sklearn_compat import Interval, StrOptions
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from skngd import _dask
from skngd._loss import Family, Link, get_family, get_link
from skngd._kernels.glm_ref import glm_deviance_ref
from skngd._loss.glm_family import VALID_LINKS, check_link_for_family
from skngd._loss.link import IDENTITY
from skngd._solvers.irls import GLMProblem, gram_at, irls, warn_stop
from skngd.linear_model import _glm_inference as inf
from skngd.linear_model._glm_penalty import build_penalty
from skngd.linear_model._glm_separation import check_separation
from skngd.utils._threads import fit_threads
from skngd.utils.validation import check_magnitude, check_numeric_target, check_sample_weight

# family name -> keyword of its constructor filled from ``power``
_FAMILY_PARAM = {"tweedie": "power", "negative_binomial": "alpha"}
# families whose targets must be non-negative / positive (target tag)


def _check_offset(offset, n, name="offset"):
    if offset is None:
        return np.zeros(n)
    off = np.asarray(offset, dtype=np.float64)
    if off.ndim != 1 or off.shape[0] != n:
        raise ValueError(f"{name} must be a 1-D array of length n_samples={n}, got shape {off.shape}.")
    if not np.all(np.isfinite(off)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return np.ascontiguousarray(off)


class GeneralizedLinearRegressor(RegressorMixin, BaseEstimator):
    r"""Generalised linear model fitted by IRLS, with standard errors,
    confidence intervals, likelihood criteria and a summary table.

    Minimises, over coefficients :math:`w` and intercept :math:`b`,

    .. math::

        \frac{1}{2\sum_i s_i} \sum_i s_i\, d\big(y_i, g^{-1}(x_i^T w + b + o_i)\big)
        + \alpha\Big(\rho \sum_j P_{1,j} |w_j| + \frac{1-\rho}{2}\, w^T P_2 w\Big)

    (:math:`d` the family's unit deviance, :math:`g` the link, :math:`s_i`
    frequency weights, :math:`o_i` offsets, :math:`\rho` = ``l1_ratio``),
    the scaling of scikit-learn's ``PoissonRegressor`` and ``ElasticNet`` and
    glum's ``GeneralizedLinearRegressor`` (same ``alpha``, ``l1_ratio``,
    ``P1``, ``P2``). With ``l1_ratio=0`` and ``P2=None`` it is the ridge
    :math:`\frac{\alpha}{2}\lVert w\rVert_2^2`. Without an L1 term each IRLS
    iteration solves a weighted least-squares system by Cholesky, halving the
    step when the objective increases; with one (``alpha * l1_ratio > 0``)
    the fit is proximal Newton (coordinate descent on the Fisher / observed
    information's quadratic model of the working set).

    Parameters
    ----------
    family : str or Family, default='normal'
        Distribution of the target: 'normal', 'binomial', 'poisson', 'gamma',
        'inverse_gaussian', 'tweedie' or 'negative_binomial'.
    link : str or Link, default='auto'
        Link function: 'auto', 'identity', 'log', 'logit', 'probit',
        'cloglog', 'inverse', 'inverse_squared' or 'power'; 'auto' is the family's default (canonical, except log for
        Tweedie with ``power > 0`` and the negative binomial).
    power : float or None, default=None
        The family parameter: Tweedie variance power (``<= 0`` or ``>= 1``,
        default 1.5) or negative-binomial dispersion :math:`\alpha > 0` (default
        1). For a family without a parameter, the exponent of ``link='power'``
        (default 1); with the Tweedie family ``link='power'`` is the canonical
        :math:`\eta = \mu^{1-p}`.
    alpha : float >= 0, default=0.0
        Strength of the penalty on the coefficients (never on the intercept).
    l1_ratio : float in [0, 1], default=0.0
        Elastic-net mixing :math:`\rho`: 0 is the ridge (L2), 1 the lasso
        (glmnet's ``alpha``; ``alpha`` here is glmnet's ``lambda``).
    P1 : None, 'identity' or array-like of shape (n_features,), default=None
        Per-feature weights of the L1 term (>= 0; 0 leaves a feature without
        L1 penalty). None / 'identity' is all ones.
    P2 : None, 'identity', array-like or sparse matrix, default=None
        Of shape (n_features,) or (n_features, n_features).
        The L2 term :math:`w^T P_2 w`: a vector is a diagonal (>= 0; 0 leaves a
        feature without L2 penalty), a square matrix (dense or scipy sparse,
        symmetrised, positive semi-definite) a generalised (Tikhonov) ridge.
        None / 'identity' is the identity.
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept.
    solver : {'irls'}, default='irls'
        IRLS / Newton's method (the observed information for a non-canonical
        link).
    max_iter : int >= 1, default=100
        Maximum number of Newton iterations.
    tol : float > 0, default=1e-8
        Stop when the decrease of the objective predicted by the next Newton
        step is below ``tol`` times the objective; that step is then taken,
        which leaves a coefficient error of order ``tol``. This is the
        second-order spine's one stopping rule with ``tol`` on the objective
        scale (``rel_tol = tol``; see "The stopping rule and tol" in the
        developer guide, :ref:`stopping-rule`). There is no other floor: a
        ``tol`` below float64's resolution iterates until the gradient is at
        its rounding level.
    scale : {'pearson', 'deviance'} or float > 0, default='pearson'
        Dispersion estimate (Pearson :math:`\chi^2/(n-k)` as statsmodels, or
        deviance/(n-k), or fixed). Always 1 for binomial, Poisson and negative
        binomial.
    cov_type : {'nonrobust', 'eim', 'oim', 'HC0'}, default='nonrobust'
        Covariance of the estimates. 'nonrobust' (alias 'eim'):
        :math:`\phi` times the inverse expected information, as statsmodels'
        IRLS fit and R's ``glm``. 'oim': the inverse observed information (the
        Hessian of the log-likelihood), as statsmodels' ``method='newton'``
        fits and Stata's ``glm``. 'HC0': the sandwich
        :math:`H^{-1} (\sum_i s_i u_i u_i^T) H^{-1}` with the observed
        Hessian :math:`H`, as statsmodels (whose GLM ``HC1``-``HC3`` equal its
        ``HC0``). For a canonical link expected and observed information are
        the same.
    n_jobs : int or None, default=None
        Threads for the per-row Numba pass and for BLAS during the fit
        (``None``: one, unless in a joblib ``parallel_config`` context; ``-1``:
        all cores). One thread is fastest when the cores are shared.
    verbose : int, default=0
        Print the objective and predicted decrease of each iteration if > 0.
    warm_start : bool, default=False
        Start from the previous fit's coefficients (ignored, as in
        scikit-learn, when the number of features changed).

    Attributes
    ----------
    coef_, intercept_ : ndarray of shape (n_features,), float
    n_iter_ : int
    deviance_, null_deviance_ : float
        Weighted deviance of the fit and of the intercept-only model (with the
        offset, as statsmodels).
    scale_, llf_, aic_, bic_ : float
        Dispersion, log-likelihood, :math:`-2\ell + 2k`, :math:`-2\ell + k\log n`.
    covariance_ : ndarray of shape (k, k)
        Covariance of ``[intercept_, *coef_]`` (intercept only if fitted).
    coef_stderr_ : ndarray of shape (n_features,)
    intercept_stderr_ : float
    pvalues_ : ndarray of shape (k,)
        Two-sided Wald p-values of ``[intercept_, *coef_]`` (the rows of
        :meth:`conf_int` and of the summary table).
    n_features_in_ : int
    feature_names_in_ : ndarray of str (if X had string column names)

    Notes
    -----
    Inference after an L1 fit: standard errors, ``covariance_`` rows,
    p-values and intervals are NaN for coefficients the penalty set to zero,
    and those of the non-zero coefficients are computed on the active set
    alone (with the ridge part's penalised information, as for the ridge):
    they are naive, conditional on the selection, which they ignore;
    ``summary()`` marks the zero coefficients and says so.

    A design with perfectly collinear columns (unpenalised) gets the minimum
    norm solution and a pseudo-inverse covariance with a ``CollinearityWarning``.
    Separated data (binomial ``y`` in {0, 1}, or zero counts under the log
    link, that some direction of the coefficients fits perfectly) have no
    maximum-likelihood estimate; the fit then warns with a
    ``PerfectSeparationWarning``. With no residual degrees of freedom
    (``n_samples <= `` number of parameters) an estimated dispersion is
    undefined: ``scale_`` and everything that depends on it (standard errors,
    ``conf_int``, ``llf_``, ``aic_``, ``bic_``) are NaN, with an
    ``InferenceWarning``; a fixed ``scale`` keeps them defined.

    Offsets under cross-validation: enable scikit-learn's metadata routing and
    request the offset (``set_fit_request(offset=True)``,
    ``set_score_request(offset=True)``, ``set_predict_request(offset=True)``);
    a scoring function needs :func:`~skngd.linear_model.make_offset_scorer`
    to predict with the offset.

    References
    ----------
    McCullagh, P. and Nelder, J. A. (1989). *Generalized Linear Models*.
    Green, P. J. (1984). Iteratively reweighted least squares for maximum
    likelihood estimation. *JRSS B* 46, 149-192.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.linear_model import GeneralizedLinearRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2))
    >>> y = rng.poisson(np.exp(0.5 + X @ [0.3, -0.2]))
    >>> glm = GeneralizedLinearRegressor(family="poisson").fit(X, y)
    >>> np.round(glm.coef_, 1)
    array([ 0.3, -0.2])
    >>> glm.conf_int().shape
    (3, 2)
    """

    _parameter_constraints = {
        "family": [StrOptions(set(VALID_LINKS)), Family],
        "link": [StrOptions({"auto", "identity", "log", "logit", "probit", "cloglog",
                             "inverse", "inverse_squared", "power"}), Link],
        "power": [Real, None],
        "alpha": [Interval(Real, 0.0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0.0, 1.0, closed="both")],
        "P1": ["array-like", StrOptions({"identity"}), None],
        "P2": ["array-like", "sparse matrix", StrOptions({"identity"}), None],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"irls"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "scale": [StrOptions({"pearson", "deviance"}), Interval(Real, 0.0, None, closed="neither")],
        "cov_type": [StrOptions({"nonrobust", "eim", "oim", "HC0"})],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(self, family="normal", link="auto", power=None, alpha=0.0, l1_ratio=0.0,
                 P1=None, P2=None, fit_intercept=True, solver="irls", max_iter=100, tol=1e-8,
                 scale="pearson", cov_type="nonrobust", n_jobs=None, verbose=0,
                 warm_start=False):
        self.family = family
        self.link = link
        self.power = power
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.P1 = P1
        self.P2 = P2
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.scale = scale
        self.cov_type = cov_type
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.warm_start = warm_start

    # -- hooks the convenience subclasses override -------------------------
    def _get_family(self):
        fam = self.family
        if isinstance(fam, str) and fam in _FAMILY_PARAM and self.power is not None:
            return get_family(fam, **{_FAMILY_PARAM[fam]: self.power})
        return get_family(fam)

    def _get_link(self, family):
        if isinstance(self.link, Link):
            link = self.link
        elif self.link == "auto":
            link = family.default_link()
        elif self.link == "power" and family.name == "tweedie":
            link = get_link("power", power=1.0 - family.power)  # canonical
        elif self.link == "power" and family.name in _FAMILY_PARAM:
            raise ValueError(
                f"link='power' needs its exponent, but power={self.power!r} is the "
                f"{family.name} family's parameter; pass link=PowerLink(exponent) instead."
            )
        else:
            link = get_link(self.link, power=self.power)
        check_link_for_family(family, link)
        return link

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        try:
            fam = self._get_family()
        except (ValueError, TypeError):
            return tags
        tags.target_tags.positive_only = fam.positive_only
        return tags

    # -- fitting ------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit the model by IRLS.

        Parameters
        ----------
        X : {array-like, sparse matrix (CSR)} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Target in the family's support.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights (an integer weight equals repeating the row).
        offset : array-like of shape (n_samples,), default=None
            Added to the linear predictor, e.g. ``log(exposure)``.

        Returns
        -------
        self : object
        """
        if _dask.is_dask(X):  # chunk-wise IRLS over a Dask array (skngd._dask)
            return _dask.fit_glm(self, X, y, sample_weight, offset)
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64,
                             y_numeric=True, order="C")
        y = check_numeric_target(y, estimator=self)  # strings pass validate_data
        check_magnitude(X, estimator=self)
        check_magnitude(y, name="y", estimator=self)
        n = X.shape[0]
        sw = check_sample_weight(sample_weight, X, dtype=np.float64)
        off = _check_offset(offset, n)
        family, link = self._family_link_for(y)
        y = np.ascontiguousarray(y, dtype=np.float64)
        return self._fit_validated(X, y, sw, off, family, link)

    def _family_link_for(self, y):
        """The family and link objects, refusing ``y`` outside the family's range."""
        family = self._get_family()
        link = self._get_link(family)
        if not family.in_y_range(y):
            raise ValueError(
                "Some value(s) of y are out of the valid range of the loss of the "
                f"{family.name} family: "
                f"y must lie in {family.support_message()}, got min(y)={y.min():g}, "
                f"max(y)={y.max():g}."
            )
        return family, link

    def _fit_validated(self, X, y, sw, off, family, link, inference=True):
        """The fit on validated arrays (``y`` in the family's range, ``off``
        an array). ``inference=False`` (path steps of the CV classes, whose
        standard errors are never reported) sets the coefficients only."""
        pen = build_penalty(self.alpha, self.l1_ratio, self.P1, self.P2, X.shape[1],
                            self.fit_intercept, float(sw.sum()))
        problem = GLMProblem(X, y, sw, off, family, link, self.fit_intercept,
                             l2=pen.l2, n_jobs=self.n_jobs, ridge=pen.ridge)
        # one thread policy for the whole fit (solver, separation check, inference)
        with fit_threads(self.n_jobs, numba=problem.use_numba, verbose=self.verbose):
            res, separated = self._solve(problem, pen)
            p = X.shape[1]
            self.coef_ = res.coef[:p].copy()
            self.intercept_ = float(res.coef[p]) if self.fit_intercept else 0.0
            self.n_iter_ = int(res.n_iter)
            self._family_, self._link_ = family, link
            self._offset_fitted_ = bool(np.any(off != 0))
            if inference:
                self._set_inference(problem, res, warn_rank=not separated, l1=pen.l1)
        return self

    def _solve(self, problem, pen):
        """Run IRLS (no L1 term) or the proximal Newton elastic-net fit from
        the warm start; returns ``(result, separated)`` after warning about
        an early stop (or about separated data, which explains it)."""
        coef0 = self._warm_start_coef(problem.X.shape[1])
        if pen.has_l1:
            from skngd._solvers.glm_elastic_net import fit_l1, warn_l1_stop

            res = fit_l1(problem, pen.l1, coef0, tol=self.tol, max_iter=self.max_iter,
                         verbose=self.verbose)
            warn_l1_stop(res, self.max_iter)
            return res, False
        res = irls(problem, coef0=coef0, max_iter=self.max_iter, tol=self.tol,
                   verbose=self.verbose, warn=False)
        stopped_early = not res.status.converged
        separated = check_separation(problem.family, problem.link, problem, res.mu,
                                     stopped_early)
        if not separated:
            warn_stop(res, self.max_iter)
        return res, separated

    def _warm_start_coef(self, n_features):
        """Previous solution as the start (solver layout), or None when there
        is none or it does not fit the new data (scikit-learn starts afresh)."""
        if not (self.warm_start and hasattr(self, "coef_")):
            return None
        if np.shape(self.coef_) != (n_features,):
            return None
        return np.r_[self.coef_, [self.intercept_] if self.fit_intercept else []]

    def _set_inference(self, problem, res, warn_rank=True, l1=None):
        family, y, sw = problem.family, problem.y, problem.sample_weight
        mu = res.mu
        # after an L1 fit: inference on the active set (non-zero or unpenalised rows)
        active = (np.ones(problem.n_coef, dtype=bool) if l1 is None
                  else (res.coef != 0) | (l1[:, 0] == 0))
        k = int(active.sum())
        gram = self._information(problem, res)
        deficient = res.rank_deficient
        if deficient:
            if warn_rank:  # separated data: the separation warning explains it
                inf.check_rank(True, k)
            k = int(np.linalg.matrix_rank(gram))
        self.deviance_ = res.deviance
        self._n_obs_ = float(sw.sum())
        self._df_resid_ = self._n_obs_ - k
        self.null_deviance_ = self._null_deviance(problem)
        self.scale_ = inf.dispersion(self.scale, family, y, mu, sw, self.deviance_, self._df_resid_)
        if not np.isfinite(self.scale_):
            inf.warn_no_dispersion(family, self._n_obs_, k)
        self._k_ = k
        if family.name == "tweedie" and 1.0 < family.power < 2.0:
            # the series density costs more than the fit: evaluated on first use
            self._llf_args_ = (family, problem.link, y.copy(), mu.copy(), sw.copy(),
                               self.deviance_, self.scale_)
            self._llf_value_ = None
        else:
            self._llf_args_ = None
            self._llf_value_ = inf.loglikelihood(family, problem.link, y, mu, sw, self.deviance_,
                                                 self.scale_)
        cov = self._covariance(problem, res, gram, active, deficient)
        # solver layout [coef, intercept] -> public layout [intercept, coef]
        p = problem.X.shape[1]
        order = np.r_[[p] if self.fit_intercept else [], np.arange(p)].astype(int)
        self.covariance_ = cov[np.ix_(order, order)]
        self._zero_coef_ = ~active[order]
        se = np.sqrt(np.clip(np.diag(self.covariance_), 0.0, None))
        self.intercept_stderr_ = float(se[0]) if self.fit_intercept else float("nan")
        self.coef_stderr_ = se[int(self.fit_intercept):]
        self.pvalues_ = inf.wald_table(self._params_vector(), se)[1]

    def _covariance(self, problem, res, gram, active, deficient):
        """Covariance in the solver layout; after an L1 fit only over the
        active rows (NaN on the coefficients at zero), with the penalised
        information of the ridge part (as for a pure ridge)."""
        meat = None
        if self.cov_type == "HC0":
            u = inf.unit_scores(problem, res.coef, res.mu)
            meat, _ = problem.gram_score(problem.sample_weight * u * u)
        pen = problem.penalty_operator()
        if active.all():
            return inf.covariance(gram, pen, self.scale_, self.cov_type, meat, deficient)
        A = np.ix_(np.flatnonzero(active), np.flatnonzero(active))
        pen_a = pen[active] if pen.ndim == 1 else pen[A]
        cov = np.full(gram.shape, np.nan)
        cov[A] = inf.covariance(gram[A], pen_a, self.scale_, self.cov_type,
                                None if meat is None else meat[A], deficient)
        return cov

    def _information(self, problem, res):
        """The unpenalised information matrix the covariance needs: expected
        (Fisher, the solver's last Gram matrix) for 'nonrobust'/'eim',
        observed for 'oim' and the sandwich's bread (the same for a canonical
        link)."""
        if self.cov_type in ("nonrobust", "eim") or not problem.observed:
            return res.gram
        return gram_at(problem, res.coef, observed=True)[0]

    def _null_deviance(self, problem):
        y, sw = problem.y, problem.sample_weight
        if not np.any(problem.offset != 0):
            # intercept-only MLE without offset: the weighted mean, for any link;
            # the deviance by the fused kernel (identity link at mu = ybar)
            fam = problem.family
            mu0 = np.full_like(y, np.average(y, weights=sw))
            if problem.use_numba:
                from skngd._kernels.glm import glm_deviance

                dev = float(glm_deviance(y, mu0, sw, fam.code, float(fam.power), IDENTITY, 0.0))
            else:
                dev = glm_deviance_ref(y, mu0, sw, fam, get_link("identity"))
            # a mean on the boundary (all y = 0, say) is left to the NumPy limits
            return dev if np.isfinite(dev) else fam.deviance(y, mu0, sw)
        null = GLMProblem(np.empty((y.shape[0], 0)), y, sw, problem.offset, problem.family,
                          problem.link, True, 0.0, problem.n_jobs)
        return irls(null, max_iter=self.max_iter, tol=self.tol).deviance

    # -- likelihood criteria (llf of Tweedie 1 < p < 2 computed on first use) --
    @property
    def llf_(self):
        """Log-likelihood at the fitted means and ``scale_`` (as statsmodels)."""
        check_is_fitted(self, "coef_")
        if self._llf_value_ is None:
            self._llf_value_ = inf.loglikelihood(*self._llf_args_)
            self._llf_args_ = None
        return self._llf_value_

    @property
    def aic_(self):
        """Akaike information criterion :math:`-2\\ell + 2k`."""
        return -2.0 * self.llf_ + 2.0 * self._k_

    @property
    def bic_(self):
        """Bayesian information criterion :math:`-2\\ell + k \\log \\sum_i s_i`."""
        return -2.0 * self.llf_ + self._k_ * np.log(self._n_obs_)

    # -- prediction and inference -----------------------------------------
    def _linear_predictor(self, X, offset=None):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        eta = np.asarray(X @ self.coef_ + self.intercept_)
        return eta + _check_offset(offset, X.shape[0])

    def predict(self, X, offset=None):
        """Predicted mean :math:`g^{-1}(X w + b + o)`.

        Parameters
        ----------
        X : {array-like, sparse matrix (CSR)} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default=None
            Added to the linear predictor (e.g. ``log(exposure)``); None is 0.

        Returns
        -------
        mu : ndarray of shape (n_samples,)
            The predicted means.
        """
        if _dask.is_dask(X):  # a lazy, chunk-wise Dask array
            return _dask.predict(self, "predict", X, offset=offset)
        check_is_fitted(self)
        return self._link_.inverse(self._linear_predictor(X, offset))

    def score(self, X, y, sample_weight=None, offset=None):
        r"""D², the fraction of deviance explained.

        :math:`1 - D(y,\hat\mu)/D(y,\bar y)`. For a constant ``y`` (null
        deviance 0) it is 1.0 for perfect predictions and 0.0 otherwise, as
        scikit-learn's ``r2_score`` and ``d2_absolute_error_score`` with
        ``force_finite=True``. A model fitted with an offset is scored with the
        ``offset`` given here (under cross-validation: metadata routing, see
        the class notes); calling it without one warns.

        Parameters
        ----------
        X : {array-like, sparse matrix (CSR)} of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,)
            Observed targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the deviances.
        offset : array-like of shape (n_samples,), default=None
            Offsets of the predictions (the fit's kind, e.g. ``log(exposure)``).

        Returns
        -------
        score : float
            D² of the predictions.
        """
        y = check_numeric_target(y, estimator=self)
        mu = self.predict(X, offset)
        y = column_or_1d(y, warn=False).astype(np.float64, copy=False)
        check_consistent_length(mu, y)
        sw = check_sample_weight(sample_weight, mu.reshape(-1, 1), dtype=np.float64)
        fam = self._family_
        if not fam.in_y_range(y):
            raise ValueError(
                "Some value(s) of y are out of the valid range of the loss of the "
                f"{fam.name} family: y must lie in {fam.support_message()}.")
        if offset is None and getattr(self, "_offset_fitted_", False):
            inf.warn_score_without_offset(type(self).__name__)
        dev = fam.deviance(y, mu, sw)
        ybar = np.average(y, weights=sw)
        if np.all(y[sw > 0] == ybar):  # constant y: D² is 0/0
            return 1.0 if np.allclose(mu[sw > 0], ybar, rtol=1e-10, atol=0.0) else 0.0
        dev_null = fam.deviance(y, np.full_like(y, ybar), sw)
        return 1.0 - dev / dev_null

    def _params_vector(self):
        return np.r_[[self.intercept_] if self.fit_intercept else [], self.coef_]

    def _param_names(self):
        names = getattr(self, "feature_names_in_", None)
        names = [str(c) for c in names] if names is not None else [
            f"x{j}" for j in range(self.n_features_in_)]
        return (["intercept"] if self.fit_intercept else []) + names

    def conf_int(self, alpha=0.05):
        """Wald confidence intervals, rows ``[intercept, *coef]``.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level.

        Returns
        -------
        ci : ndarray of shape (k, 2) or DataFrame
            Lower and upper bounds; a ``DataFrame`` indexed by the parameter
            names (columns 0 and 1, as statsmodels) when the model was fitted
            on a DataFrame.
        """
        check_is_fitted(self)
        se = np.sqrt(np.clip(np.diag(self.covariance_), 0.0, None))
        ci = inf.wald_table(self._params_vector(), se, alpha)[2]
        if getattr(self, "feature_names_in_", None) is not None:
            try:
                import pandas as pd
            except ImportError:  # pragma: no cover - pandas is optional
                return ci
            return pd.DataFrame(ci, index=self._param_names())
        return ci

    def summary(self, alpha=0.05):
        """A statsmodels-like summary that prints as a text table.

        It also exposes ``tables`` (model information and coefficient table,
        DataFrames when pandas is installed) and the arrays behind them.

        Parameters
        ----------
        alpha : float, default=0.05
            One minus the confidence level of the intervals.

        Returns
        -------
        summary : GLMSummary
            ``print(summary)`` shows the table; ``summary.tables`` holds it.
        """
        check_is_fitted(self)
        return inf.summarize(self, self._param_names(), alpha)
