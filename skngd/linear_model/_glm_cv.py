r"""GeneralizedLinearRegressorCV: a GLM whose ``alpha`` (and ``l1_ratio``) is
chosen by cross-validated deviance along warm-started regularisation paths,
with glum's signature and fitted attributes."""

import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import check_cv
from sklearn.utils.validation import check_is_fitted, validate_data

from skngd.linear_model._glm import GeneralizedLinearRegressor
from skngd.linear_model._glm_inference import CollinearityWarning, InferenceWarning
from skngd.linear_model._path import _with_l1_ratio, glm_alpha_grid
from skngd.utils._sklearn_compat import Interval, StrOptions, _fit_context
from skngd.utils.validation import check_magnitude, check_numeric_target, check_sample_weight

#: the GLM parameters the CV estimator shares with every fold's fit
_SHARED = ("family", "link", "power", "fit_intercept", "solver", "max_iter", "tol", "scale",
           "cov_type", "verbose")


def _mean_deviance(est, X, y, sw, offset):
    """Mean deviance of a path step on validated arrays (no re-validation)."""
    eta = X @ est.coef_ + est.intercept_
    if offset is not None:
        eta = eta + offset
    return est._family_.deviance(y, est._link_.inverse(eta), sw) / float(sw.sum())


def _iter_alphas(base, X, y, sw, off, alphas, inference_last=False):
    """Warm-started fits of ``base`` along ``alphas`` on validated arrays;
    yields the estimator after each. Path steps skip inference (never
    reported); with ``inference_last`` the last step computes it."""
    est = clone(base).set_params(warm_start=True)
    family, link = est._family_link_for(y)
    o = np.zeros(X.shape[0]) if off is None else off
    for i, a in enumerate(alphas):
        est.alpha = float(a)  # set_params' signature inspection costs more than a tiny fit
        est._fit_validated(X, y, sw, o, family, link,
                           inference=inference_last and i == len(alphas) - 1)
        yield est


def _fold_path(base, X, y, sw, off, train, test, alphas):
    """One fold's path: test and train mean deviances, coefficients, intercepts."""
    Xtr, ytr, swtr = X[train], y[train], sw[train]
    o_tr, o_te = (None, None) if off is None else (off[train], off[test])
    Xte, yte, swte = X[test], y[test], sw[test]
    out = {"coef": [], "intercept": [], "dev": [], "train_dev": []}
    with warnings.catch_warnings():
        # standard errors of fold fits are never reported
        warnings.simplefilter("ignore", InferenceWarning)
        warnings.simplefilter("ignore", CollinearityWarning)
        for est in _iter_alphas(base, Xtr, ytr, swtr, o_tr, alphas):
            out["coef"].append(est.coef_.copy())
            out["intercept"].append(est.intercept_)
            out["dev"].append(_mean_deviance(est, Xte, yte, swte, o_te))
            out["train_dev"].append(_mean_deviance(est, Xtr, ytr, swtr, o_tr))
    return {k: np.asarray(v) for k, v in out.items()}


class GeneralizedLinearRegressorCV(GeneralizedLinearRegressor):
    r"""Generalised linear model with ``alpha`` (and ``l1_ratio``) chosen by
    cross-validation, glum's ``GeneralizedLinearRegressorCV``.

    For each ``l1_ratio`` and fold, fits the path of ``alphas`` (strongest
    first, each fit warm-started from the previous one) on the training part
    and records the mean test deviance; picks the ``(l1_ratio, alpha)`` with
    the lowest deviance averaged over folds; refits on all the data along
    the path down to that ``alpha``. The model at each ``alpha`` minimises

    .. math::

        \frac{1}{2\sum_i s_i}\sum_i s_i\, d(y_i, \mu_i)
        + \alpha\Big(\rho \sum_j P1_j |\beta_j|
        + \frac{1 - \rho}{2}\beta^T P2\, \beta\Big),

    (:class:`GeneralizedLinearRegressor`'s objective, :math:`\rho` =
    ``l1_ratio``). The fitted model is a :class:`GeneralizedLinearRegressor`
    at the chosen ``alpha``: ``predict``, ``score``, ``summary`` and the
    inference attributes refer to the refit (naive after selection: they
    ignore that ``alpha`` was chosen on the same data).

    Parameters
    ----------
    family, link, power, fit_intercept, solver, max_iter, tol, scale, cov_type, verbose
        As in :class:`GeneralizedLinearRegressor`.
    l1_ratio : float or array-like of floats in [0, 1], default=0
        Elastic-net mixing parameter; with several values the best one is
        chosen too (values ``> 0`` need the GLM's elastic-net support).
    P1 : array-like of shape (n_features,), default=None
        Per-coefficient L1 weights (glum's ``P1``); ``None``: ones.
    P2 : array-like of shape (n_features,) or (n_features, n_features), default=None
        L2 penalty matrix (glum's ``P2``); ``None``: the identity.
    alphas : array-like, default=None
        The ``alpha`` grid (sorted descending, the same for every
        ``l1_ratio``). ``None``: glum's automatic grid per ``l1_ratio``, from
        the data: ``n_alphas`` values from :math:`\alpha_{\max}` (the
        smallest ``alpha`` with every L1-penalised coefficient zero; for a
        ridge, :math:`\max_j |g_j| / (0.001\,\sigma_j)` with :math:`g` the
        mean-scale gradient at the intercept-only fit and :math:`\sigma_j`
        the column standard deviations) down to ``min_alpha`` or
        ``min_alpha_ratio * alpha_max``.
    n_alphas : int >= 1, default=100
        Length of the automatic grid.
    min_alpha_ratio : float in (0, 1), default=None
        ``None``: ``1e-6`` if ``n_samples >= n_features``, else ``1e-2``.
    min_alpha : float > 0, default=None
        Smallest ``alpha`` of the automatic grid (overrides ``min_alpha_ratio``).
    cv : int, cross-validation generator or iterable, default=None
        ``None``: 5-fold :class:`~sklearn.model_selection.KFold` (unshuffled,
        as glum).
    n_jobs : int or None, default=None
        Parallel fold paths (joblib, ``len(l1_ratio) * n_folds`` jobs); each
        fit runs on one thread.

    Attributes
    ----------
    alpha_ : float
        The chosen ``alpha``.
    l1_ratio_ : float
        The chosen ``l1_ratio``.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratios, n_alphas)
        The grid (2-D when ``l1_ratio`` has several values).
    coef_path_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas, n_features)
        Coefficients of every fold's path.
    intercept_path_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas, 1)
    deviance_path_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas)
        Mean test deviance :math:`\sum_{i \in test} s_i d_i / \sum_{i \in test} s_i`.
    train_deviance_path_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas)
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
        The refit at ``(l1_ratio_, alpha_)``; every other fitted attribute of
        :class:`GeneralizedLinearRegressor` (``n_iter_``, ``deviance_``,
        ``covariance_``, ...) too.

    Notes
    -----
    glum parameters without a skngd counterpart (``scale_predictors``,
    bounds and constraints, formulas, categorical handling, ``gradient_tol``)
    are not offered. Unlike glum, the refit stops at ``alpha_`` instead of
    refitting the whole grid.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.linear_model import GeneralizedLinearRegressorCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = rng.poisson(np.exp(0.5 + X @ [0.3, -0.2, 0.0]))
    >>> cv = GeneralizedLinearRegressorCV(family="poisson", n_alphas=10, cv=3).fit(X, y)
    >>> cv.deviance_path_.shape
    (3, 1, 10)
    """

    _parameter_constraints = {
        **{k: v for k, v in GeneralizedLinearRegressor._parameter_constraints.items()
           if k not in ("alpha", "warm_start", "n_jobs")},
        "l1_ratio": [Interval(Real, 0.0, 1.0, closed="both"), "array-like"],
        "P1": ["array-like", StrOptions({"identity"}), None],
        "P2": ["array-like", "sparse matrix", StrOptions({"identity"}), None],
        "alphas": ["array-like", None],
        "n_alphas": [Interval(Integral, 1, None, closed="left")],
        "min_alpha_ratio": [Interval(Real, 0.0, 1.0, closed="neither"), None],
        "min_alpha": [Interval(Real, 0.0, None, closed="neither"), None],
        "cv": ["cv_object"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, family="normal", link="auto", power=None, l1_ratio=0, P1=None,
                 P2=None, fit_intercept=True, alphas=None, n_alphas=100, min_alpha_ratio=None,
                 min_alpha=None, cv=None, solver="irls", max_iter=100, tol=1e-8,
                 scale="pearson", cov_type="nonrobust", n_jobs=None, verbose=0):
        self.family = family
        self.link = link
        self.power = power
        self.l1_ratio = l1_ratio
        self.P1 = P1
        self.P2 = P2
        self.fit_intercept = fit_intercept
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.min_alpha_ratio = min_alpha_ratio
        self.min_alpha = min_alpha
        self.cv = cv
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.scale = scale
        self.cov_type = cov_type
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _base(self, l1_ratio):
        est = GeneralizedLinearRegressor(**{k: getattr(self, k) for k in _SHARED})
        return _with_l1_ratio(est, float(l1_ratio), P1=self.P1, P2=self.P2)

    def _l1_ratios(self):
        r = np.atleast_1d(np.asarray(self.l1_ratio, dtype=object))
        if r.ndim != 1 or r.size == 0 or not all(
                isinstance(v, Real) and not isinstance(v, bool) and 0 <= v <= 1 for v in r):
            raise ValueError(
                f"l1_ratio must be a number in [0, 1] or a non-empty list of them; "
                f"got l1_ratio={self.l1_ratio!r}.")
        return r.astype(np.float64)

    def _grids(self, l1_ratios, X, y, sw, off):
        if self.alphas is not None:
            a = np.asarray(self.alphas, dtype=np.float64).ravel()
            if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a < 0):
                raise ValueError(f"alphas must be non-empty, finite and non-negative; "
                                 f"got {self.alphas!r}.")
            return np.tile(np.sort(a)[::-1], (len(l1_ratios), 1))
        return np.asarray([
            glm_alpha_grid(self._base(r), X, y, n_alphas=self.n_alphas,
                           min_alpha_ratio=self.min_alpha_ratio, min_alpha=self.min_alpha,
                           sample_weight=sw, offset=off) for r in l1_ratios])

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, offset=None):
        """Choose ``(l1_ratio, alpha)`` by cross-validation, then refit.

        Parameters
        ----------
        X : {array-like, sparse matrix (CSR)} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights (normalised within each fold, as glum).
        offset : array-like of shape (n_samples,), default=None
            Added to the linear predictor.

        Returns
        -------
        self : GeneralizedLinearRegressorCV
        """
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64,
                             y_numeric=True, order="C")
        y = check_numeric_target(y, estimator=self)  # strings pass validate_data
        check_magnitude(X, estimator=self)
        check_magnitude(y, name="y", estimator=self)
        y = np.ascontiguousarray(y, dtype=np.float64)
        l1_ratios = self._l1_ratios()
        sw = check_sample_weight(sample_weight, X, dtype=np.float64)
        off = None if offset is None else np.asarray(offset, dtype=np.float64)
        if off is not None and off.shape != (X.shape[0],):
            raise ValueError(f"offset must have shape (n_samples,)={X.shape[:1]}, "
                             f"got {off.shape}.")
        self._base(l1_ratios.max())._family_link_for(y)  # fail early (family, link, y range)
        grids = self._grids(l1_ratios, X, y, sw, off)
        folds = list(check_cv(self.cv).split(X, y))
        jobs = (delayed(_fold_path)(self._base(r), X, y, sw, off, tr, te, grid)
                for tr, te in folds for r, grid in zip(l1_ratios, grids))
        res = Parallel(n_jobs=self.n_jobs)(jobs)
        self._store_paths(res, len(folds), l1_ratios, grids, X.shape[1])
        return self._refit(X, y, sw, off, l1_ratios, grids)

    def _store_paths(self, res, n_folds, l1_ratios, grids, n_features):
        shape = (n_folds, len(l1_ratios), grids.shape[1])
        self.coef_path_ = np.reshape([r["coef"] for r in res], shape + (n_features,))
        self.intercept_path_ = np.reshape([r["intercept"] for r in res], shape + (1,))
        self.deviance_path_ = np.reshape([r["dev"] for r in res], shape)
        self.train_deviance_path_ = np.reshape([r["train_dev"] for r in res], shape)
        self.alphas_ = grids[0].copy() if len(l1_ratios) == 1 else grids.copy()

    def _refit(self, X, y, sw, off, l1_ratios, grids):
        mean_dev = self.deviance_path_.mean(axis=0)
        best_l1, best_alpha = np.unravel_index(np.argmin(mean_dev), mean_dev.shape)
        self.l1_ratio_ = float(l1_ratios[best_l1])
        self.alpha_ = float(grids[best_l1, best_alpha])
        est = None
        for est in _iter_alphas(self._base(self.l1_ratio_), X, y, sw, off,
                                grids[best_l1, : best_alpha + 1], inference_last=True):
            pass
        est.n_features_in_ = X.shape[1]
        names = set(est.get_params())
        self.__dict__.update({k: v for k, v in vars(est).items()
                              if k not in names and k not in ("n_features_in_",
                                                              "feature_names_in_")})
        if hasattr(self, "feature_names_in_"):
            est.feature_names_in_ = self.feature_names_in_
        self._refit_ = est
        return self

    def summary(self, alpha=0.05):
        """The refit's summary table (:meth:`GeneralizedLinearRegressor.summary`).

        Naive after selection: it treats ``alpha_`` (and, with an L1 part, the
        selected coefficients) as fixed in advance.

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
        return self._refit_.summary(alpha)


__all__ = ["GeneralizedLinearRegressorCV"]
