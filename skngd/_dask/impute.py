r"""``GaussianEMImputer.fit`` on Dask arrays: the in-memory EM iteration
(safeguarded Anderson mixing, :mod:`skngd._solvers.em_gaussian`) with its
E-step summed over chunks.

Each chunk keeps its rows sorted by missingness pattern
(:class:`~skngd._solvers.em_gaussian.PatternData`) on its worker; one
E-step is one pass returning, summed over chunks, the sufficient statistics
:math:`\sum_i \hat r_i`, :math:`\sum_i \hat r_i \hat r_i^T`, the summed
conditional covariances and :math:`\sum_i \log\det P_{mm,i}` (or the
observed log densities when the covariance is ill-conditioned): the M-step
and the objective need nothing else. Passes: two for the starting point
(moments), then one per EM or mixed step (``n_iter_ + 1`` E-steps).
"""

import numpy as np

from skngd._dask._chunks import Chunks, nbytes, row_blocks
from skngd._dask._input import check_design, set_features
from skngd._solvers.em_gaussian import (
    _LOG_2PI,
    PatternData,
    _EMState,
    _theta,
    e_step,
    m_step,
    needs_stable_loglik,
    observed_loglik,
    precision_from_covariance,
    run_em,
)
from skngd.utils._threads import fit_threads


def _block(Xb):
    return np.ascontiguousarray(Xb, dtype=np.float64)


def _c_moments(X):
    miss = np.isnan(X)
    complete = ~miss.any(axis=1)
    Xc = X[complete]
    return [(~miss).sum(axis=0).astype(np.float64), np.where(miss, 0.0, X).sum(axis=0),
            float(complete.sum()), Xc.sum(axis=0), float((~miss.all(axis=1)).sum())]


def _c_second(X, mu, mu_c):
    miss = np.isnan(X)
    Z = np.where(miss, 0.0, X - mu)
    M = (~miss).astype(np.float64)
    Xc = X[~miss.any(axis=1)] - mu_c
    return [np.einsum("ij,ij->j", Z, Z), Z.T @ Z, M.T @ M, Xc.T @ Xc]


class _ChunkData:
    """The pattern-sorted rows of one chunk (modelled features, rows with an
    observed value)."""

    def __init__(self, X, modelled):
        Xm = X[:, modelled]
        mm = np.isnan(Xm)
        rows = ~mm.all(axis=1)
        self.data = PatternData(np.ascontiguousarray(Xm[rows]), mm[rows])
        self.n = int(rows.sum())
        self._numba_one = False

    def __sizeof__(self):
        return sum(nbytes(v) for v in vars(self.data).values() if isinstance(v, np.ndarray)) + 1024


def _c_estep(c, mu, P, Sigma, stable):
    if c.n == 0:
        return [None] * 6
    est = e_step(c.data, mu, P, want_stats=True)
    obs = float(observed_loglik(c.data, mu, Sigma).sum()) if stable else 0.0
    return [est.ccov, est.gram, est.colsum, est.logdet_sum,
            float(c.data.n_observed.sum()), obs]


class _Stats:
    def __init__(self, n, d, colsum, gram, ccov):
        self.R = np.empty((n, 0))  # only its row count is read (m_step)
        self.colsum, self.gram, self.ccov = colsum, gram, ccov


class _DaskPoint:
    """:class:`~skngd._solvers.em_gaussian._Point` with a chunked E-step."""

    def __init__(self, chunks, n, mu, Sigma, reg_covar, stable):
        self.mu, self.Sigma = mu, Sigma
        self.P, self.logdet = precision_from_covariance(Sigma)
        stable[0] = stable[0] or needs_stable_loglik(Sigma)
        ccov, gram, colsum, logdet_sum, n_obs, obs = chunks.map_sum(
            _c_estep, mu, self.P, Sigma, stable[0])
        if not np.isfinite(logdet_sum):
            raise ValueError("A conditional covariance block is not positive definite. "
                             "Increase reg_covar.")
        if stable[0]:
            loglik = obs
        else:
            quad = float(np.sum(self.P * gram))
            loglik = -0.5 * (n_obs * _LOG_2PI + n * self.logdet + logdet_sum + quad)
        self.obj = loglik - 0.5 * n * reg_covar * float(np.trace(self.P))
        self.next = m_step(mu, _Stats(n, mu.size, colsum, gram, ccov), reg_covar)

    def theta(self):
        return _theta(self.mu, self.Sigma)


class _DaskEMState(_EMState):
    """The in-memory EM state, its points evaluated over chunks."""

    def __init__(self, chunks, n, mu0, Sigma0, reg_covar):
        self.chunks, self.n, self.reg_covar = chunks, n, reg_covar
        self.stable = [False]
        self.last = None
        self.cur = self.point(np.asarray(mu0, dtype=float), np.asarray(Sigma0, dtype=float))
        self.history = [self.cur.obj]
        self.thetas, self.images = [], []
        self.n_iter = self.n_rejected = 0
        self.converged, self.breakdown, self.change = False, None, 0.0

    def point(self, mu, Sigma):
        self.last = _DaskPoint(self.chunks, self.n, mu, Sigma, self.reg_covar, self.stable)
        return self.last


def _init(est, raw, d):
    """Modelled features, kept rows and the starting point (two passes)."""
    count, s, n_c, s_c, n_fit = raw.map_sum(_c_moments)
    empty = count == 0
    if empty.any() and not est.keep_empty_features:
        raise ValueError(f"Feature(s) {', '.join(map(str, np.flatnonzero(empty)))} have no "
                         "observed value: EM cannot estimate their distribution. Drop them "
                         "or set keep_empty_features=True.")
    m = np.flatnonzero(~empty)
    with np.errstate(all="ignore"):
        mu, mu_c = s / count, s_c / max(n_c, 1.0)
    z2, ZZ, MM, CC = raw.map_sum(_c_second, np.where(empty, 0.0, mu), mu_c)
    ix = np.ix_(m, m)
    mu, z2, reg = mu[m], z2[m], est.reg_covar
    var = z2 / count[m]
    scale = max(float(np.max(var, initial=0.0)), 1.0)
    start = (mu, np.diag(np.where(var > 0, var, 1e-3 * scale) + reg))
    if est.init == "pairwise":
        C = ZZ[ix] / np.maximum(MM[ix], 1.0)
        C = 0.5 * (C + C.T)
        w, V = np.linalg.eigh(C)
        C = (V * np.maximum(w, 1e-3 * max(float(np.mean(np.diag(C))), 1e-12))) @ V.T
        C = 0.5 * (C + C.T)
        C.flat[:: m.size + 1] += reg
        start = (mu, C)
    elif est.init == "complete_rows" and n_c >= max(2 * m.size, 10):
        Sigma = CC[ix] / n_c
        Sigma.flat[:: m.size + 1] += reg
        try:
            precision_from_covariance(Sigma)
            start = (mu_c[m], Sigma)
        except ValueError:
            pass
    return m, int(n_fit), start, count


def _check_size(est, n_fit, d_fit):
    from skngd.utils._warnings import warn

    if n_fit > d_fit:
        return
    msg = (f"n_samples={n_fit} (rows with an observed value) <= n_features={d_fit}: the "
           "maximum-likelihood covariance is singular")
    if est.reg_covar == 0:
        raise ValueError(msg + ". Set reg_covar > 0.")
    warn(msg + f"; reg_covar={est.reg_covar} keeps it positive definite.", UserWarning)


def fit_imputer(est, X):
    """Fit ``est`` (a ``GaussianEMImputer``) on Dask ``X``; returns ``est``."""
    from sklearn.impute import MissingIndicator

    X = check_design(X)
    set_features(est, X, reset=True)
    d = X.shape[1]
    with fit_threads(est.n_jobs, blas=1, numba=False):
        raw = Chunks(_block, *row_blocks(X), rows=X.chunks[0])
        try:
            m, n_fit, (mu0, Sigma0), count = _init(est, raw, d)
            if m.size == 0:  # every feature empty (keep_empty_features=True)
                est._modelled = m
                return est._set_trivial(np.full((1, d), np.nan))
            _check_size(est, n_fit, m.size)
            chunks = raw.derive(_ChunkData, m)
        finally:
            raw.release()
        try:
            state = run_em(_DaskEMState(chunks, n_fit, mu0, Sigma0, est.reg_covar),
                        est.max_iter, est.tol, est.verbose)
        finally:
            chunks.release()
    cur = state.cur
    est._modelled = m
    est.mean_, est.covariance_, est.precision_ = np.zeros(d), np.zeros((d, d)), np.zeros((d, d))
    ix = np.ix_(m, m)
    est.mean_[m], est.covariance_[ix], est.precision_[ix] = cur.mu, cur.Sigma, cur.P
    est._logdet = cur.logdet
    est.n_iter_, est.converged_ = state.n_iter, state.converged
    est.loglik_history_ = np.asarray(state.history)
    est.n_passes_ = raw.n_passes + chunks.n_passes
    pattern = np.where(count < X.shape[0], np.nan, 0.0)[None, :]  # columns with a NaN
    est.indicator_ = (MissingIndicator(error_on_new=False).fit(pattern)
                      if est.add_indicator else None)
    return est


__all__ = ["fit_imputer"]
