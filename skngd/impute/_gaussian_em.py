"""GaussianEMImputer: a multivariate Gaussian fitted by EM to data with NaNs."""

from contextlib import contextmanager
import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from skngd.utils._sklearn_compat import _fit_context
from sklearn.impute import MissingIndicator
from sklearn.utils import check_random_state
from skngd.utils._sklearn_compat import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skngd import _dask
from skngd._solvers.em_gaussian import (
    ChunkPool,
    PatternData,
    e_step,
    em_gaussian,
    kernels,
    needs_stable_loglik,
    observed_loglik,
    precision_from_covariance,
    row_loglik,
)
from skngd.utils._threads import fit_threads
from skngd.utils._warnings import warn


def _observed_moments(X):
    """Observed counts and means per column, and the residuals ``X - mean``
    with 0 where missing (one pass each)."""
    X = np.ascontiguousarray(X)
    Z = np.empty_like(X)
    count, mu = kernels(X).observed_moments(X, Z)
    return count, mu, Z


def _init_mean(X, mask, reg_covar):
    count, mu, Z = _observed_moments(X)
    var = np.einsum("ij,ij->j", Z, Z) / count
    scale = max(float(np.max(var, initial=0.0)), 1.0)
    var = np.where(var > 0, var, 1e-3 * scale)
    return mu, np.diag(var + reg_covar)


def _init_complete_rows(X, mask, reg_covar):
    complete = ~mask.any(axis=1)
    n_c, d = int(complete.sum()), X.shape[1]
    if n_c < max(2 * d, 10):
        return _init_mean(X, mask, reg_covar)
    Xc = X[complete]
    mu = Xc.mean(axis=0)
    Sigma = np.cov(Xc, rowvar=False, bias=True).reshape(d, d)
    Sigma.flat[:: d + 1] += reg_covar
    try:
        precision_from_covariance(Sigma)
    except ValueError:
        return _init_mean(X, mask, reg_covar)
    return mu, Sigma


def _init_pairwise(X, mask, reg_covar):
    """Observed means and pairwise-complete covariances, made positive definite."""
    _, mu, Z = _observed_moments(X)
    # co-observation counts; float32 is exact for counts below 2**24
    M = (~mask).astype(np.float32)
    C = (Z.T @ Z) / np.maximum(M.T @ M, 1.0)
    C = 0.5 * (C + C.T)
    w, V = np.linalg.eigh(C)
    floor = 1e-3 * max(float(np.mean(np.diag(C))), 1e-12)
    C = (V * np.maximum(w, floor)) @ V.T
    C = 0.5 * (C + C.T)
    C.flat[:: X.shape[1] + 1] += reg_covar
    return mu, C


_INITS = {
    "complete_rows": _init_complete_rows,
    "mean": _init_mean,
    "pairwise": _init_pairwise,
}


class GaussianEMImputer(TransformerMixin, BaseEstimator):
    """Impute missing values with a multivariate Gaussian fitted by EM.

    The model is :math:`x \\sim N(\\mu, \\Sigma)` with values missing at random.
    EM maximises the penalised observed-data log-likelihood

    .. math::

        \\ell_\\lambda(\\mu, \\Sigma) = \\sum_{i} \\log N(x_{i,o_i};\\,
        \\mu_{o_i}, \\Sigma_{o_i o_i})
        - \\frac{n \\lambda}{2} \\operatorname{tr}(\\Sigma^{-1}),

    where :math:`o_i` are the observed coordinates of row :math:`i` and
    :math:`\\lambda` is ``reg_covar`` (its M-step is
    :math:`\\Sigma = S + \\lambda I`). The E-step uses the expected sufficient
    statistics, including the conditional covariance of the missing block;
    rows are grouped by missingness pattern so each pattern's block is
    factorised once per iteration, and chunks of rows are processed by Numba
    kernels on ``n_jobs`` threads. EM is accelerated by Anderson mixing of the EM map; a mixed point
    is kept only when it does not lower the objective (otherwise the plain
    EM step is taken), so ``loglik_history_`` is non-decreasing.
    ``transform`` returns :math:`E[x_m \\mid x_o]`, or a draw from the
    conditional Gaussian when ``sample_posterior=True``; ``fit_transform``
    reuses the last E-step of the fit.

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of EM iterations (>= 1).
    tol : float, default=1e-6
        Stop when the relative change of the objective is below ``tol``
        (>= 0; ``tol=0`` runs exactly ``max_iter`` iterations).
    reg_covar : float, default=1e-6
        Added to the diagonal of the covariance at every M-step (>= 0). Keeps
        the covariance positive definite when ``n_samples < n_features`` or
        features are collinear.
    init : {'complete_rows', 'mean', 'pairwise'}, default='complete_rows'
        Starting point. ``'complete_rows'`` uses the mean and covariance of
        the rows without missing values when there are at least
        ``max(2 * n_features, 10)`` of them, and falls back to ``'mean'``
        otherwise. ``'mean'`` uses observed means and a diagonal covariance
        of observed variances. ``'pairwise'`` uses observed means and the
        covariance of each pair of features over the rows where both are
        observed, with eigenvalues clipped to keep it positive definite:
        usually the closest start when few rows are complete (6 E-steps
        instead of 10 for ``'mean'`` at 30% MCAR in the benchmark).
    sample_posterior : bool, default=False
        If True, ``transform`` draws the missing entries from their
        conditional Gaussian (multiple imputation) instead of returning
        conditional means.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws of ``sample_posterior`` and :meth:`sample`.
    keep_empty_features : bool, default=False
        If False, a feature with no observed value in ``fit`` raises a
        ``ValueError`` naming it. If True, such features are left out of the
        Gaussian model: their missing entries are imputed with 0 (as in
        :class:`sklearn.impute.SimpleImputer`), their entries of ``mean_`` and
        ``covariance_`` are 0, they are ignored by :meth:`score_samples` and
        :meth:`sample` returns 0 for them.
    add_indicator : bool, default=False
        If True, append the output of a
        :class:`sklearn.impute.MissingIndicator` (features with missing values
        in ``fit``) to the transformed data.
    n_jobs : int, default=None
        Threads for the E-step (chunks of rows run concurrently in Numba
        kernels and BLAS calls that release the GIL; results do not depend
        on it). The threads belong to one call and stop when it returns.
        Problems below ``2**16`` entries run serially on NumPy (no Numba
        import, nothing to compile). ``None`` means 1 unless in a :func:`joblib.parallel_config`
        context; ``-1`` means all cores.
    verbose : int, default=0
        Print the objective at every iteration when > 0.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
    covariance_ : ndarray of shape (n_features, n_features)
    precision_ : ndarray of shape (n_features, n_features)
        Inverse of ``covariance_`` (on the modelled features).
    n_iter_ : int
        Parameter updates run (EM steps and Anderson-mixed points; each costs one
        pass over the data).
    converged_ : bool
    loglik_history_ : ndarray
        The objective above at the starting point and after each accepted
        update (non-decreasing). With ``reg_covar=0`` this is the observed-data
        log-likelihood. Rows with no observed value contribute nothing and
        are left out of the fit.
    indicator_ : MissingIndicator or None
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string feature names.

    References
    ----------
    Dempster, A. P., Laird, N. M. and Rubin, D. B. (1977). Maximum likelihood
    from incomplete data via the EM algorithm. JRSS-B 39(1), 1-38.

    Little, R. J. A. and Rubin, D. B. (2019). *Statistical Analysis with
    Missing Data*, 3rd ed., Wiley, ch. 11.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.impute import GaussianEMImputer
    >>> X = np.array([[1.0, 2.0], [2.0, 4.1], [3.0, np.nan], [np.nan, 8.0],
    ...               [4.0, 7.9], [5.0, 10.2]])
    >>> imp = GaussianEMImputer().fit(X)
    >>> np.round(imp.transform([[3.0, np.nan]]), 1)
    array([[3. , 6.1]])
    """

    _parameter_constraints = {
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "reg_covar": [Interval(numbers.Real, 0, None, closed="left")],
        "init": [StrOptions(set(_INITS))],
        "sample_posterior": ["boolean"],
        "random_state": ["random_state"],
        "keep_empty_features": ["boolean"],
        "add_indicator": ["boolean"],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, *, max_iter=100, tol=1e-6, reg_covar=1e-6,
                 init="complete_rows", sample_posterior=False,
                 random_state=None, keep_empty_features=False,
                 add_indicator=False, n_jobs=None, verbose=0):
        self.max_iter = max_iter
        self.tol = tol
        self.reg_covar = reg_covar
        self.init = init
        self.sample_posterior = sample_posterior
        self.random_state = random_state
        self.keep_empty_features = keep_empty_features
        self.add_indicator = add_indicator
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _validate(self, X, reset):
        return validate_data(self, X, reset=reset, dtype=np.float64,
                             ensure_all_finite="allow-nan", copy=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the Gaussian by EM. ``X`` uses NaN for missing values.

        Returns
        -------
        self : GaussianEMImputer
        """
        if _dask.is_dask(X):  # E-steps summed over the chunks of a Dask array
            return _dask.fit_imputer(self, X)
        with self._thread_policy() as pool:
            self._fit(X, pool)
        return self

    @contextmanager
    def _thread_policy(self):
        """The thread policy of one call (``fit``, ``transform``, ...), applied
        once at its top and restored on exit: BLAS held to one thread, and a
        pool of ``n_jobs`` threads for the E-step's chunks, shut down on exit.

        The chunks' threads each call BLAS (hence one BLAS thread); the Numba
        kernels are serial (Numba's own thread count plays no part, so Numba
        is not imported here: small problems run on NumPy twins without it).
        """
        with fit_threads(self.n_jobs, blas=1, numba=False, verbose=self.verbose) as n, \
                ChunkPool(n) as pool:
            yield pool

    def _fit(self, X, pool):
        """Fit; return the validated ``X`` and ``(R, row_index)``: the
        completed residuals of the last E-step (sorted rows, modelled
        features) and the row of ``X`` each belongs to, or None when the last
        E-step was not run at the fitted parameters."""
        X = self._validate(X, reset=True)
        n, d = X.shape
        miss = np.isnan(X)
        empty = miss.all(axis=0)
        if empty.any() and not self.keep_empty_features:
            names = (self.feature_names_in_ if hasattr(self, "feature_names_in_")
                     else np.arange(d))
            cols = ", ".join(str(c) for c in names[empty])
            raise ValueError(
                f"Feature(s) {cols} have no observed value: EM cannot estimate "
                "their distribution. Drop them or set keep_empty_features=True."
            )
        self._modelled = np.flatnonzero(~empty)
        if empty.any():
            Xm, mm = X[:, self._modelled], miss[:, self._modelled]
        else:  # no copies in the common case
            Xm, mm = X, miss
        rows = ~mm.all(axis=1)
        if not rows.all():
            Xm, mm = Xm[rows], mm[rows]
        n_fit, d_fit = Xm.shape
        if d_fit == 0:  # every feature empty (keep_empty_features=True)
            self._set_trivial(X)
            return X, None
        if n_fit <= d_fit:
            if self.reg_covar == 0:
                raise ValueError(
                    f"n_samples={n_fit} (rows with an observed value) <= "
                    f"n_features={d_fit}: the maximum-likelihood covariance is "
                    "singular. Set reg_covar > 0."
                )
            warn(
                f"n_samples={n_fit} (rows with an observed value) <= "
                f"n_features={d_fit}: the maximum-likelihood covariance is "
                f"singular; reg_covar={self.reg_covar} keeps it positive "
                "definite and dominates the estimate along unidentified "
                "directions.",
                UserWarning,
            )
        mu0, Sigma0 = _INITS[self.init](Xm, mm, self.reg_covar)
        data = PatternData(Xm, mm)
        del Xm, mm
        res = em_gaussian(data, mu0, Sigma0, reg_covar=self.reg_covar,
                          max_iter=self.max_iter, tol=self.tol, pool=pool,
                          verbose=self.verbose)
        mu, Sigma = res.coef[0], res.coef[1:]
        self.mean_ = np.zeros(d)
        self.covariance_ = np.zeros((d, d))
        self.precision_ = np.zeros((d, d))
        ix = np.ix_(self._modelled, self._modelled)
        self.mean_[self._modelled] = mu
        self.covariance_[ix] = Sigma
        self.precision_[ix] = res.precision
        self._logdet = res.logdet
        self.n_iter_ = res.n_iter
        self.converged_ = res.converged
        self.loglik_history_ = np.asarray(res.history)
        self.indicator_ = (MissingIndicator(error_on_new=False).fit(X)
                           if self.add_indicator else None)
        R = res.residuals
        if R is None:
            return X, None
        row_index = data.order if rows.all() else np.flatnonzero(rows)[data.order]
        return X, (R, row_index)

    def _set_trivial(self, X):
        d = X.shape[1]
        self.mean_ = np.zeros(d)
        self.covariance_ = np.zeros((d, d))
        self.precision_ = np.zeros((d, d))
        self._logdet = 0.0
        self.n_iter_ = 0
        self.converged_ = True
        self.loglik_history_ = np.zeros(1)
        self.indicator_ = (MissingIndicator(error_on_new=False).fit(X)
                           if self.add_indicator else None)
        return self

    def _e_step(self, X, pool, noise=None, want_loglik=False):
        """E-step on the modelled features of every row of ``X``.

        Returns the completed residuals (sorted rows), the original index of
        each sorted row, and the per-row observed log densities (or None).
        """
        m = self._modelled
        Xm = X if m.size == X.shape[1] else X[:, m]
        data = PatternData(Xm)
        if noise is not None:
            noise = np.ascontiguousarray(noise[data.order][:, m])
        est = e_step(data, self.mean_[m], self.precision_[np.ix_(m, m)],
                     pool=pool, noise=noise, want_quad=want_loglik)
        ll = (data.unsort(row_loglik(data, est, self._logdet))
              if want_loglik else None)
        return est.R, data.order, ll

    def _assemble(self, X, R, row_index):
        """Output of ``transform``: ``X`` with its missing entries replaced.

        On the modelled features the missing entries of row ``row_index[i]``
        get ``mean_ + R[i]`` (rows not listed, all missing there, get
        ``mean_``); on empty features they get 0. Then the missing indicator.
        """
        m = self._modelled
        out = X.copy()
        kernels(R).fill_missing(out, R, self.mean_[m], row_index, m)
        if row_index.size < X.shape[0]:
            left = np.setdiff1d(np.arange(X.shape[0]), row_index)
            out[np.ix_(left, m)] = self.mean_[m]
        if m.size < X.shape[1]:
            np.copyto(out, 0.0, where=np.isnan(out))
        if self.indicator_ is not None:
            out = np.hstack([out, self.indicator_.transform(X).astype(out.dtype)])
        return out

    def transform(self, X):
        """Impute the missing entries of ``X``.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features [+ n_indicators])
            Conditional means ``E[x_m | x_o]`` (or draws when
            ``sample_posterior=True``); observed entries are unchanged.
        """
        if _dask.is_dask(X):  # a lazy, chunk-wise Dask array
            return _dask.predict(self, "transform", X)
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        with self._thread_policy() as pool:
            return self._transform(X, pool)

    def _transform(self, X, pool):
        noise = None
        if self.sample_posterior:
            rng = check_random_state(self.random_state)
            noise = rng.standard_normal(X.shape)
        R, row_index, _ = self._e_step(X, pool, noise)
        return self._assemble(X, R, row_index)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit, then impute ``X``; equal to ``fit(X).transform(X)``.

        With ``sample_posterior=False`` the conditional means come from the
        last E-step of the fit, so no extra pass over the data is needed.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features [+ n_indicators])
        """
        if _dask.is_dask(X):
            return self.fit(X).transform(X)
        with self._thread_policy() as pool:
            X, last = self._fit(X, pool)
            if last is None or self.sample_posterior:
                return self._transform(X, pool)
            return self._assemble(X, *last)

    def score_samples(self, X):
        """Log density of each row's observed coordinates (marginal Gaussian).

        Rows with no observed value score 0. When the correlation matrix of
        ``covariance_`` is ill-conditioned (condition number above 1e4) the
        densities come from a Cholesky factor of each row pattern's observed
        block rather than from ``precision_``, whose rounding errors grow
        like the square of the condition number; ``loglik_history_`` is
        computed the same way. A ``ValueError`` is raised when an observed
        block is numerically singular.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN for missing values.

        Returns
        -------
        log_density : ndarray of shape (n_samples,)
            :math:`\\log N(x_o; \\mu_o, \\Sigma_{oo})` for each row.
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        m = self._modelled
        Sigma = self.covariance_[np.ix_(m, m)]
        with self._thread_policy() as pool:
            if not needs_stable_loglik(Sigma):
                return self._e_step(X, pool, want_loglik=True)[2]
            data = PatternData(X if m.size == X.shape[1] else X[:, m])
            return data.unsort(observed_loglik(data, self.mean_[m], Sigma))

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN for missing values.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean observed-data log density per row.
        """
        return float(np.mean(self.score_samples(X)))

    def sample(self, n_samples=1):
        """Draw ``n_samples`` complete rows from the fitted Gaussian.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        rng = check_random_state(self.random_state)
        m = self._modelled
        L = np.linalg.cholesky(self.covariance_[np.ix_(m, m)])
        out = np.zeros((n_samples, self.n_features_in_))
        out[:, m] = self.mean_[m] + rng.standard_normal((n_samples, m.size)) @ L.T
        return out

    def get_feature_names_out(self, input_features=None):
        """Input feature names, then the indicator's names if ``add_indicator``."""
        check_is_fitted(self, "n_features_in_")
        if input_features is None:
            if hasattr(self, "feature_names_in_"):
                names = np.asarray(self.feature_names_in_, dtype=object)
            else:
                names = np.asarray([f"x{i}" for i in range(self.n_features_in_)],
                                   dtype=object)
        else:
            names = np.asarray(input_features, dtype=object)
            if names.shape != (self.n_features_in_,):
                raise ValueError(
                    f"input_features should have length {self.n_features_in_}, "
                    f"got {names.shape[0] if names.ndim else names}."
                )
            if hasattr(self, "feature_names_in_") and not np.array_equal(
                names, self.feature_names_in_
            ):
                raise ValueError("input_features is not equal to feature_names_in_.")
        if self.indicator_ is not None:
            ind = self.indicator_.get_feature_names_out(names)
            names = np.concatenate([names, ind])
        return names
