"""EM for a multivariate Gaussian observed with missing values (MAR).

The solver maximises the penalised observed-data log-likelihood

.. math::

    \\ell_\\lambda(\\mu, \\Sigma) = \\sum_i \\log N(x_{i,o_i}; \\mu_{o_i},
    \\Sigma_{o_i o_i}) - \\frac{n\\lambda}{2} \\operatorname{tr}(\\Sigma^{-1}),

where :math:`\\lambda` is ``reg_covar``. Its EM M-step is exactly
:math:`\\Sigma = S + \\lambda I` (with :math:`S` the expected scatter matrix), so
every iteration increases :math:`\\ell_\\lambda`; with ``reg_covar=0`` it is the
plain observed-data log-likelihood.

E-step: for each row the conditional mean of the missing block and its
conditional covariance (:mod:`skngd._kernels.em_gaussian`), computed from the
precision matrix so only the missing block is factorised, once per
missingness pattern. M-step:

.. math::

    \\mu = \\frac{1}{n}\\sum_i \\hat x_i, \\qquad
    \\Sigma = \\frac{1}{n}\\sum_i \\left[(\\hat x_i - \\mu)(\\hat x_i - \\mu)^T
    + C_i\\right] + \\lambda I.

EM converges linearly, slowly when much information is missing, so the
iteration is accelerated by Anderson mixing of the EM map
:math:`G(\\theta)` with :math:`\\theta = (\\mu, \\Sigma)` (Walker & Ni 2011;
Henderson & Varadhan 2019): with the last ``m`` + 1 iterates and residuals
:math:`f_j = G(\\theta_j) - \\theta_j`, the next point is

.. math::

    \\theta_{k+1} = G(\\theta_k) - \\sum_j \\gamma_j \\,\\Delta G_j, \\qquad
    \\gamma = \\arg\\min_\\gamma \\Big\\| f_k - \\sum_j \\gamma_j\\, \\Delta f_j
    \\Big\\|_2 .

Its E-step gives its objective. A mixed point whose objective is lower than
the current one's, or whose covariance is not positive definite, is
replaced by the plain EM step :math:`G(\\theta_k)` (which never lowers the
objective) and the memory restarts, so the recorded history is monotone.
On the benchmark (30% MCAR) this takes 7-11 E-steps where plain EM takes
10-25 and SQUAREM 8-17.

References
----------
Dempster, Laird & Rubin (1977), JRSS-B 39(1). Walker & Ni (2011), SIAM J.
Numer. Anal. 49(4), 1715-1735. Henderson & Varadhan (2019), J. Comput.
Graph. Statist. 28(4), 834-846. Little & Rubin (2019),
*Statistical Analysis with Missing Data*, 3rd ed., ch. 11.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning

from skngd._kernels.em_gaussian_ref import K_BATCH
from skngd._solvers._result import SolverResult, warn_not_converged
from skngd.utils._warnings import warn

_LOG_2PI = np.log(2.0 * np.pi)

# Below this many entries (n_samples * n_features) the E-step and its helpers
# run on their NumPy twins (skngd._kernels.em_gaussian_ref): no Numba import,
# nothing to compile, results equal to rounding. The warm Numba kernel is
# always faster per E-step (measured, 30% MCAR, one thread: 4-18x, e.g.
# 0.2 vs 2.5 ms at 1,000 x 20), so the crossover is where a whole NumPy fit
# costs what the Numba path adds in a new process: ~0.5 s to import Numba and
# load the cached kernels (~10 s to compile them with an empty cache).
# At 2**16 entries a NumPy fit_transform takes 0.03 s (d=5), 0.11 s (d=13),
# 0.22 s (d=20), 0.58 s (d=50) against 0.02-0.11 s on warm kernels; above it
# the Numba path wins even in a new process.
NUMBA_MIN_ENTRIES = 2**16


def use_numba(X):
    """Whether the work on ``X`` (rows x features) goes to the Numba kernels."""
    return X.size >= NUMBA_MIN_ENTRIES


class _Kernels:
    """The E-step kernels of one path, under one set of names."""

    def __init__(self, numba):
        if numba:
            from skngd._kernels import em_gaussian as k

            self.estep, self.observed_block_loglik = k.estep, k.observed_block_loglik
            self.observed_moments, self.fill_missing = k.observed_moments, k.fill_missing
            self.observed_block_work = k.observed_block_work
        else:
            from skngd._kernels import em_gaussian_ref as r

            self.estep, self.observed_block_loglik = r.estep_np, r.observed_block_loglik_ref
            self.observed_moments, self.fill_missing = (r.observed_moments_ref,
                                                        r.fill_missing_ref)
            self.observed_block_work = r.observed_block_work


_KERNELS = {}


def kernels(X):
    """The Numba kernels for ``X`` at or above :data:`NUMBA_MIN_ENTRIES`
    entries, their NumPy twins below (imported on first use)."""
    numba = use_numba(X)
    if numba not in _KERNELS:
        _KERNELS[numba] = _Kernels(numba)
    return _KERNELS[numba]


class ChunkPool:
    """The threads one fit (or transform) runs the E-step's chunks on.

    A context manager: the pool is created on entry and shut down on exit, so
    no thread outlives the call that owns it; with ``n_threads <= 1`` no
    thread is started and chunks run in the calling thread.
    """

    def __init__(self, n_threads):
        self.n_threads = max(1, int(n_threads))
        self._executor = None

    def __enter__(self):
        if self.n_threads > 1:
            self._executor = ThreadPoolExecutor(max_workers=self.n_threads,
                                                thread_name_prefix="skngd-estep")
        return self

    def __exit__(self, *exc):
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def run(self, fn, n):
        """Run ``fn()`` on ``n`` of the pool's threads and wait for all."""
        if self._executor is None or n <= 1:
            for _ in range(n):
                fn()
            return
        for f in [self._executor.submit(fn) for _ in range(n)]:
            f.result()

_ROWS_PER_CHUNK = 2048
_MAX_CHUNKS = 128
# per-chunk d x d accumulators (two of them) stay under ~64 MB in total
_MAX_CHUNK_CELLS = 1 << 22
# lanes of a batch: 64 for |m| <= 24, fewer for larger blocks so the three
# (|m|, |m|, lanes) work arrays of a chunk stay under ~1 MB (16 at |m| = 48;
# larger blocks go one pattern at a time)
_LANE_CELLS = 64 * 24 * 24
_MAX_LANES = 64


def _lanes(k):
    # blocks above K_BATCH are factorised one pattern at a time
    lanes = np.clip(_LANE_CELLS // np.maximum(k, 1) ** 2, 1, _MAX_LANES)
    return np.where(k > K_BATCH, 1, lanes)


class PatternData:
    """Rows sorted by missingness pattern, cut into batches and chunks.

    Rows are sorted by (number of missing entries, missing set), so rows
    with the same missing set form a *pattern* and patterns with the same
    number missing are adjacent. ``order`` maps sorted positions back to the
    input rows (``self.X = X[order]``). The layout arrays are those the
    E-step kernel :func:`skngd._kernels.em_gaussian.estep` documents; the
    chunking depends only on the data, never on the thread count.
    """

    def __init__(self, X, mask=None):
        X = np.asarray(X, dtype=np.float64)
        n, d = X.shape
        if mask is None:
            mask = np.isnan(X)
        n_miss = np.count_nonzero(mask, axis=1)
        packed = np.packbits(mask, axis=1)
        if packed.shape[1] <= 7 and d < 256:
            # one uint64 key per row: (number missing, missing-set bits)
            key = np.zeros((n, 8), dtype=np.uint8)
            key[:, 0] = n_miss
            key[:, 1:1 + packed.shape[1]] = packed
            key = key.view(">u8").ravel()
            order = np.argsort(key, kind="stable")
            ks = key[order]
            change = ks[1:] != ks[:-1]
        else:
            order = np.lexsort((*packed.T[::-1], n_miss))
            ps = packed[order]
            change = np.any(ps[1:] != ps[:-1], axis=1)
        starts = np.flatnonzero(np.concatenate([[n > 0], change]))
        self.order = order.astype(np.int64)
        self.X = X.take(self.order, axis=0)
        self.n_observed = d - n_miss[order]
        self.pat_rows = np.append(starts, n).astype(np.int64)
        first_rows = order[starts]
        k = n_miss[first_rows]
        self.pat_off = np.concatenate([[0], np.cumsum(k)]).astype(np.int64)
        # column indices of the missing entries of each pattern, in order
        self.miss_idx = np.flatnonzero(mask[first_rows].ravel()) % max(d, 1)
        self.n_patterns = n_pat = starts.size
        # batches: runs of up to _lanes(k) patterns with the same k
        idx = np.arange(n_pat)
        kchange = np.concatenate([[True], k[1:] != k[:-1]]) if n_pat else idx > 0
        group_start = np.maximum.accumulate(np.where(kchange, idx, 0))
        first = (idx - group_start) % _lanes(k) == 0
        self.batch_bounds = np.append(np.flatnonzero(first), n_pat).astype(np.int64)
        n_batches = self.batch_bounds.size - 1
        # chunks: runs of batches of about equal estimated cost
        kb = k[self.batch_bounds[:-1]].astype(np.float64)
        nb = np.diff(self.batch_bounds)
        rows = np.diff(self.pat_rows[self.batch_bounds])
        cost = 0.1 * _lanes(kb.astype(int)) * kb ** 3 + rows * (0.25 * d * d + kb * kb + 2 * d)
        cost[nb == 0] = 0.0
        n_chunks = int(min(_MAX_CHUNKS, -(-n // _ROWS_PER_CHUNK),
                           max(1, _MAX_CHUNK_CELLS // max(d * d, 1)), n_batches))
        n_chunks = max(n_chunks, 1 if n_batches else 0)
        cum = np.concatenate([[0.0], np.cumsum(cost)])
        bounds = np.searchsorted(cum, np.linspace(0.0, cum[-1], n_chunks + 1)[1:-1])
        self.chunk_bounds = np.unique(np.concatenate([[0], bounds, [n_batches]])).astype(np.int64)
        if n_batches == 0:
            self.chunk_bounds = np.zeros(1, dtype=np.int64)

    @property
    def n_chunks(self):
        return self.chunk_bounds.size - 1

    def workspace(self, want_stats):
        """Kernel output buffers, allocated once and reused by every E-step
        on this data (the kernel overwrites them completely)."""
        key = "_work_stats" if want_stats else "_work"
        work = getattr(self, key, None)
        if work is None:
            n, d = self.X.shape
            nc = self.n_chunks if want_stats else 0
            work = {"logdet": np.empty(n), "quad": np.empty(0),
                    "noise": np.zeros((1, 1)), "ccov": np.empty((max(nc, 1), d, d)),
                    "gram": np.empty((nc, d, d)), "colsum": np.empty((nc, d))}
            setattr(self, key, work)
        return work

    def unsort(self, A):
        out = np.empty_like(A)
        out[self.order] = A
        return out


def precision_from_covariance(Sigma):
    """Precision matrix and log det Sigma; ValueError if not positive definite."""
    try:
        c, _ = linalg.cho_factor(Sigma, lower=True, check_finite=True)
    except (linalg.LinAlgError, ValueError) as exc:
        raise ValueError(
            "The covariance matrix is not positive definite (collinear or "
            "constant features?). Increase reg_covar."
        ) from exc
    P = linalg.cho_solve((c, True), np.eye(Sigma.shape[0]))
    P = 0.5 * (P + P.T)
    return P, 2.0 * np.sum(np.log(np.diag(c)))


class EStep:
    """Output of :func:`e_step` (rows in sorted order).

    ``R`` holds the completed residuals (``xhat - mu``), ``logdet_pmm`` the
    per-row :math:`\\log\\det P_{mm}` (a view of the data's workspace, valid
    until its next E-step) and ``logdet_sum`` its sum, ``quad`` the per-row
    quadratic form (or None) and, with ``want_stats``, ``ccov`` the summed
    conditional covariances, ``gram`` :math:`R^T R` and ``colsum`` the column
    sums of R.
    """

    def __init__(self, R, logdet_pmm, logdet_sum, quad=None, ccov=None,
                 gram=None, colsum=None):
        self.R, self.logdet_pmm, self.logdet_sum = R, logdet_pmm, logdet_sum
        self.quad, self.ccov, self.gram, self.colsum = quad, ccov, gram, colsum


def e_step(data, mu, P, *, pool=None, noise=None, want_quad=False,
           want_stats=False, out=None):
    """Run the E-step kernel on the sorted rows of ``data``; see :class:`EStep`.

    ``pool`` (a :class:`ChunkPool`, or None for serial) runs the chunks of the
    Numba path; the NumPy path (below :data:`NUMBA_MIN_ENTRIES`) is serial.
    ``noise`` (standard normal, one row per sorted row) adds a draw from each
    row's conditional Gaussian; ``out`` is an optional ``(n, d)`` buffer for
    ``R``. Raises ``ValueError`` when a conditional block is not positive
    definite. BLAS is expected to be limited to one thread by the caller's
    thread policy (the chunks' threads each call it).
    """
    X = data.X
    n, d = X.shape
    R = np.empty_like(X) if out is None else out
    work = data.workspace(want_stats)
    quad = np.empty(n) if want_quad else work["quad"]
    sample = noise is not None
    if noise is None:
        noise = work["noise"]
    kernels(X).estep(X, mu, P, data.miss_idx, data.pat_off, data.pat_rows,
                     data.batch_bounds, data.chunk_bounds, noise, sample, want_quad,
                     want_stats, R, work["logdet"], quad, work["ccov"], work["gram"],
                     work["colsum"], pool=pool)
    logdet_pmm = work["logdet"]
    logdet_sum = float(logdet_pmm.sum())  # NaN if any block failed
    if not np.isfinite(logdet_sum):
        raise ValueError(
            "A conditional covariance block is not positive definite. "
            "Increase reg_covar."
        )
    res = EStep(R, logdet_pmm, logdet_sum, quad if want_quad else None)
    if want_stats:
        low = work["ccov"].sum(axis=0)
        res.ccov = low + np.tril(low, -1).T
        res.gram = work["gram"].sum(axis=0)
        res.colsum = work["colsum"].sum(axis=0)
    return res


def row_loglik(data, est, logdet_sigma):
    """Per-row observed-data log density from an :class:`EStep` with ``quad``."""
    ll = -0.5 * (data.n_observed * _LOG_2PI + logdet_sigma + est.logdet_pmm
                 + est.quad)
    ll[data.n_observed == 0] = 0.0
    return ll


# Above this condition number of the correlation matrix, log densities are
# computed from a Cholesky factor of each pattern's observed block instead of
# from the precision matrix. The precision route loses about 1e-17 * cond^2
# per row (measured: 1.4e-9 at cond 1e4, 1e-5 at 1e6, 1e-3 at 1e7, 4.6 at 1e9;
# summed over 300 rows at cond 5e12: -1.2e6 instead of 3505); below 1e4 it is
# accurate to rounding and costs nothing extra (the E-step computes it).
STABLE_COND = 1e4


def needs_stable_loglik(Sigma, chol=None):
    """Whether the correlation matrix of ``Sigma`` is too ill-conditioned for
    the precision-based log densities (reciprocal condition number, 1-norm,
    estimated by LAPACK ``pocon`` from a Cholesky factor)."""
    d = Sigma.shape[0]
    if d == 0:
        return False
    s = 1.0 / np.sqrt(np.diag(Sigma))
    if chol is None:
        try:
            chol = linalg.cholesky(Sigma, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return True
    L = chol * s[:, None]  # Cholesky factor of the correlation matrix
    corr = Sigma * np.outer(s, s)
    rcond, info = linalg.lapack.dpocon(L, np.abs(corr).sum(axis=0).max(), uplo="L")
    return info != 0 or not rcond * STABLE_COND > 1.0


def observed_loglik(data, mu, Sigma):
    """Per-row :math:`\\log N(x_o; \\mu_o, \\Sigma_{oo})` (sorted rows) from a
    Cholesky factor of each pattern's observed block
    (:func:`~skngd._kernels.em_gaussian.observed_block_loglik`): accurate
    whatever the conditioning of the precision matrix. Rows with nothing
    observed get 0. Raises ``ValueError`` when an observed block is not
    numerically positive definite.
    """
    X = data.X
    out = np.empty(X.shape[0])
    k = kernels(X)
    bad = k.observed_block_loglik(X, np.ascontiguousarray(mu, dtype=np.float64),
                                  np.ascontiguousarray(Sigma, dtype=np.float64),
                                  data.miss_idx, data.pat_off, data.pat_rows, out,
                                  *k.observed_block_work(X.shape[1]))
    if bad >= 0:
        k = X.shape[1] - int(data.pat_off[bad + 1] - data.pat_off[bad])
        raise ValueError(
            "The covariance is numerically singular on the observed coordinates "
            f"of some rows (a block of {k} features is not positive definite): "
            "their log densities are not defined. Refit with reg_covar > 0 or "
            "remove collinear features."
        )
    return out


def m_step(mu, est, reg_covar):
    """Closed-form M-step from the statistics of an :class:`EStep` at ``mu``."""
    n = est.R.shape[0]
    d = mu.size
    delta = est.colsum / n
    Sigma = (est.gram + est.ccov) / n - np.outer(delta, delta)
    Sigma = 0.5 * (Sigma + Sigma.T)
    Sigma.flat[:: d + 1] += reg_covar
    return mu + delta, Sigma


def em_gaussian(data, mu0, Sigma0, *, reg_covar=1e-6, max_iter=100, tol=1e-6,
                pool=None, verbose=0):
    """Fit a Gaussian to ``data`` (a :class:`PatternData`) by EM.

    Returns a :class:`GaussianEMResult` whose ``coef`` is the ``(d + 1, d)``
    array ``[mean; covariance]``, ``history`` the penalised observed-data
    log-likelihood at the start and at every accepted iterate (EM steps and
    accepted Anderson-mixed points), ``n_iter`` the number of parameter updates
    tried (each costs one E-step), with the precision, ``logdet``, the number of
    rejected mixed points and the completed residuals as typed fields. Stops when the relative change of the objective over an
    accepted step is below ``tol``; ``tol=0`` runs exactly ``max_iter``
    E-steps. ``pool`` (a :class:`ChunkPool` owned by the caller) runs the
    E-step's chunks. The solver changes no thread setting: the caller's
    thread policy limits BLAS to one thread (the chunks' threads each call
    BLAS, and the d x d work between E-steps is too small to gain from BLAS
    threads, whose spinning would only compete with the E-step's threads).
    """
    return _em_loop(data, mu0, Sigma0, reg_covar, max_iter, tol, pool, verbose)


class _Point:
    """Parameters with their E-step: precision, statistics, objective.

    ``stable`` is a one-element list shared by the points of a fit: once a
    covariance needs it (:func:`needs_stable_loglik`), this and every later
    point compute the log-likelihood by :func:`observed_loglik`, so that
    objectives compared with each other come from the same route.
    """

    def __init__(self, data, mu, Sigma, reg_covar, pool, buffer, stable):
        self.mu, self.Sigma = mu, Sigma
        self.P, self.logdet = precision_from_covariance(Sigma)
        est = e_step(data, mu, self.P, pool=pool, want_stats=True,
                     out=buffer)
        n = data.X.shape[0]
        stable[0] = stable[0] or needs_stable_loglik(Sigma)
        if stable[0]:
            loglik = float(observed_loglik(data, mu, Sigma).sum())
        else:
            # at the conditional means r_o^T Sigma_oo^{-1} r_o = rhat^T P rhat,
            # so the quadratic forms sum to tr(P R^T R)
            quad = float(np.sum(self.P * est.gram))
            loglik = -0.5 * (float(data.n_observed.sum()) * _LOG_2PI
                             + n * self.logdet + est.logdet_sum + quad)
        self.obj = loglik - 0.5 * n * reg_covar * float(np.trace(self.P))
        # the M-step from this point, computed now so ``buffer`` can be reused
        self.next = m_step(mu, est, reg_covar)

    def theta(self):
        return _theta(self.mu, self.Sigma)


def _theta(mu, Sigma):
    """The parameter vector Anderson mixing works on: ``[mu; vec Sigma]``."""
    return np.concatenate([mu, Sigma.ravel()])


_MEMORY = 5  # Anderson memory m (the gain flattens beyond 5 on the benchmark)


def _anderson(thetas, images, d):
    """Anderson-mixed point from iterates ``thetas`` and their EM images.

    Returns ``(mu, Sigma)``, or None when there is no history yet or the
    mixed covariance is not positive definite.
    """
    if len(thetas) < 2:
        return None
    F = np.array(images) - np.array(thetas)
    G = np.array(images)
    dF = np.diff(F, axis=0).T
    dG = np.diff(G, axis=0).T
    gamma = np.linalg.lstsq(dF, F[-1], rcond=None)[0]
    t = G[-1] - dG @ gamma
    mu, Sigma = t[:d], t[d:].reshape(d, d)
    Sigma = 0.5 * (Sigma + Sigma.T)
    if not np.all(np.isfinite(t)):
        return None
    try:
        linalg.cholesky(Sigma, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return None
    return mu, Sigma


@dataclass
class GaussianEMResult(SolverResult):
    """:class:`SolverResult` of :func:`em_gaussian`: ``coef`` is the
    ``(d + 1, d)`` array ``[mean; covariance]``.

    Attributes
    ----------
    precision : ndarray of shape (d, d)
        Inverse of the returned covariance.
    logdet : float
        ``log det`` of the returned covariance.
    n_rejected_steps : int
        Anderson-mixed points replaced by a plain EM step (the safeguard).
    residuals : ndarray or None
        Completed residuals ``xhat - mean`` of the sorted rows at the returned
        parameters, or None when the last E-step was run at other parameters.
    """

    precision: np.ndarray = None
    logdet: float = np.nan
    n_rejected_steps: int = 0
    residuals: np.ndarray = None


class _EMState:
    """The state of one EM fit: the current point (parameters with their
    E-step), the accepted-objective history, the Anderson memory and the
    counters. The steps below (:func:`_propose`, :func:`_accept`, ...) read and
    update it; :func:`_em_loop` only sequences them."""

    def __init__(self, data, mu0, Sigma0, reg_covar, pool):
        self.buffer = np.empty_like(data.X)
        self.stable = [False]
        self.last = None  # the point whose E-step last wrote ``buffer``
        self._args = (data, reg_covar, pool)
        self.cur = self.point(np.asarray(mu0, dtype=float), np.asarray(Sigma0, dtype=float))
        self.history = [self.cur.obj]
        self.thetas, self.images = [], []
        self.n_iter = 0
        self.n_rejected = 0
        self.converged = False
        self.breakdown = None  # condition number of Sigma when rounding broke EM
        self.change = 0.0

    def point(self, mu, Sigma):
        """Evaluate parameters: one E-step, written into the shared buffer."""
        data, reg_covar, pool = self._args
        p = _Point(data, mu, Sigma, reg_covar, pool, self.buffer, self.stable)
        self.last = p
        return p


def _remember(state):
    """Add the current iterate and its EM image to the Anderson memory."""
    state.thetas.append(state.cur.theta())
    state.images.append(_theta(*state.cur.next))
    del state.thetas[:-(_MEMORY + 1)], state.images[:-(_MEMORY + 1)]


def _try_mixed(state):
    """The Anderson-mixed point if it is defined, evaluable and no worse than
    the current point (the safeguard that keeps the history monotone), else
    None (and the memory restarts). Counts an iteration when a point is
    evaluated."""
    mixed = _anderson(state.thetas, state.images, state.cur.mu.size)
    if mixed is None:
        return None
    try:
        new = state.point(*mixed)
    except ValueError:  # a conditional block not positive definite
        new = None
    state.n_iter += 1
    if new is not None and new.obj >= state.cur.obj:
        return new
    state.n_rejected += 1
    state.thetas, state.images = [], []
    return None


def _propose(state, max_iter):
    """The next point and its kind ('mixed' or 'EM'), or None when the
    iteration budget ran out on a rejected mixed point."""
    new = _try_mixed(state)
    if new is not None:
        return new, "mixed"
    if state.n_iter >= max_iter:
        return None
    state.n_iter += 1
    return state.point(*state.cur.next), "EM"


def _accept(state, new, tol):
    """Record ``new``; True when the loop must stop (converged, or an EM step
    lowered the objective, which only rounding can do)."""
    state.change = new.obj - state.cur.obj
    if abs(state.change) < tol * abs(new.obj):
        state.history.append(new.obj)
        state.cur = new
        state.converged = True
        return True
    if state.change < 0:
        # an exact EM step cannot lower the objective: only rounding can, when
        # the covariance is nearly singular. Keep the last point and stop
        # rather than iterate on noise.
        state.breakdown = np.linalg.cond(new.Sigma)
        return True
    state.history.append(new.obj)
    state.cur = new
    return False


def _warn_stop(state, max_iter):
    if state.breakdown is not None:
        warn(
            f"GaussianEMImputer (EM) stopped after {state.n_iter} iterations: an EM "
            f"step lowered the objective by {-state.change:.3g}, which only "
            "rounding errors can do; the covariance is nearly singular "
            f"(condition number {state.breakdown:.1e}). The last good parameters are "
            "kept. Increase reg_covar or remove collinear features.",
            ConvergenceWarning,
        )
    elif not state.converged:
        warn_not_converged("GaussianEMImputer (EM)", max_iter)


def _finalize(state):
    cur = state.cur
    # the buffer holds the completed residuals (sorted rows, xhat - mu) at the
    # returned parameters when their E-step was the last one run
    return GaussianEMResult(
        coef=np.vstack([cur.mu, cur.Sigma]),
        n_iter=state.n_iter,
        converged=state.converged,
        history=state.history,
        n_passes=state.n_iter + 1,
        precision=cur.P,
        logdet=cur.logdet,
        n_rejected_steps=state.n_rejected,
        residuals=state.buffer if state.last is cur else None,
    )


def _em_loop(data, mu0, Sigma0, reg_covar, max_iter, tol, pool, verbose):
    """Safeguarded Anderson-accelerated EM: setup, then (remember, propose,
    accept) until converged, broken down or out of iterations; warn; finalize."""
    return _finalize(run_em(_EMState(data, mu0, Sigma0, reg_covar, pool), max_iter, tol,
                            verbose))


def run_em(state, max_iter, tol, verbose):
    """(remember, propose, accept) on ``state`` until converged, broken down
    or out of iterations, then the stop warning; returns ``state`` (any
    :class:`_EMState`, e.g. one whose points are evaluated over Dask chunks)."""
    while state.n_iter < max_iter:
        _remember(state)
        proposal = _propose(state, max_iter)
        if proposal is None:
            break
        new, kind = proposal
        if verbose:
            print(f"[GaussianEMImputer] iter {state.n_iter:4d}  objective "
                  f"{new.obj:.10g}  change {new.obj - state.cur.obj:.3g}  ({kind} step)")
        if _accept(state, new, tol):
            break
    _warn_stop(state, max_iter)
    return state


__all__ = ["ChunkPool", "EStep", "GaussianEMResult", "NUMBA_MIN_ENTRIES", "PatternData", "STABLE_COND", "e_step", "kernels", "m_step", "em_gaussian", "run_em",
           "needs_stable_loglik", "observed_loglik", "precision_from_covariance",
           "row_loglik", "use_numba"]
