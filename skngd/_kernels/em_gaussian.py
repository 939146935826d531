"""E-step kernel of the Gaussian EM imputer.

For a row with observed coordinates ``o`` and missing coordinates ``m`` and a
Gaussian :math:`N(\\mu, \\Sigma)` with precision :math:`P = \\Sigma^{-1}`,

.. math::

    E[x_m \\mid x_o] = \\mu_m - P_{mm}^{-1} P_{mo} (x_o - \\mu_o), \\qquad
    \\operatorname{Cov}[x_m \\mid x_o] = P_{mm}^{-1},

:math:`\\log\\det \\Sigma_{oo} = \\log\\det\\Sigma + \\log\\det P_{mm}` and
:math:`(x_o - \\mu_o)^T \\Sigma_{oo}^{-1} (x_o - \\mu_o) = \\hat r^T P \\hat r`,
where :math:`\\hat r` is the residual of the completed row
(:math:`x_o - \\mu_o` on ``o``, the conditional mean minus :math:`\\mu_m` on
``m``). Working from the precision matrix only the missing block (size
:math:`|m|`) is factorised.

Layout of the work (built once per data set by
:class:`skngd._solvers.em_gaussian.PatternData`):

* rows are sorted by (number missing, missingness pattern); a *pattern* is a
  run of rows with the same missing set, listed in ``pat_rows`` with its
  missing coordinates in ``miss_idx[pat_off[p]:pat_off[p + 1]]``;
* a *batch* is a run of up to ``lanes`` patterns with the same number
  missing ``k``. The batch's ``k x k`` blocks :math:`P_{mm}` are stored
  lane-innermost (``A[a, e, lane]``), so the Cholesky factorisation, the
  triangular inverse and :math:`P_{mm}^{-1}` are computed for all lanes at
  once in loops that compile to SIMD instructions;
* a *chunk* is a run of batches, i.e. a contiguous block of rows; chunks run
  on parallel threads. Their number depends on the data only, never on the
  thread count, so results do not depend on ``n_jobs``.

Per chunk the driver :func:`estep` forms the residuals
:math:`r = x - \\mu` (0 where missing) and :math:`W = R P` by one BLAS
product; the Numba kernel :func:`estep_chunk` reads :math:`b = P_{mo} r_o`
off ``W`` and writes :math:`-P_{mm}^{-1} b` (plus a conditional draw when
sampling) into the missing entries of ``R``. The kernels are serial and
release the GIL; the driver runs chunks on the Python threads of the fit's
pool (:class:`skngd._solvers.em_gaussian.ChunkPool`, created and shut down
by each fit), which keeps Numba's compile time (no parallel lowering, no
BLAS binding) a third of what a ``prange`` kernel calling BLAS costs.

Small problems never come here: :mod:`skngd._kernels.em_gaussian_ref` holds
the NumPy twins (same signatures and outputs), which the solver uses below
``NUMBA_MIN_ENTRIES`` entries, so importing this module (and Numba) is left
to fits that need it. :func:`estep_ref` is the textbook reference: it uses
the formulas on :math:`\\Sigma_{oo}` (a different route to the same numbers).
"""

import itertools

import numpy as np
from scipy import linalg

from skngd._kernels._jit import jit, jit_inline
from skngd._kernels.em_gaussian_ref import K_BATCH


@jit
def _factor_batch(Pf, d, M, nb, lb, k, A, Li, C, ld, s):
    """Batched ``P_mm^{-1}`` for ``nb`` patterns with ``k`` missing each.

    ``Pf`` is the precision matrix flattened (``d * d``), ``M[a, lane]`` the
    ``a``-th missing coordinate of the pattern in ``lane``.
    ``A``, ``Li`` and ``C`` are ``(>= k, >= k, lanes)`` work arrays. On return
    ``A`` holds the lower Cholesky factors ``L`` (``P_mm = L L^T``), ``Li``
    their inverses (lower), ``C`` the full symmetric ``P_mm^{-1}`` and
    ``ld[lane]`` ``log det P_mm`` (NaN where the block is not positive
    definite). Only the first ``lb`` lanes are computed (``nb`` rounded up
    to a multiple of 8); lanes ``nb .. lb - 1`` hold the identity. Every
    innermost loop runs over lanes through a 1-D view, so it is contiguous
    and vectorises.
    """
    lanes = lb
    for a in range(k):
        ma = M[a]
        for e in range(a + 1):
            me = M[e]
            dst = A[a, e]
            for lane in range(lanes):
                dst[lane] = Pf[ma[lane] * d + me[lane]]
    for lane in range(nb, lanes):
        for a in range(k):
            for e in range(a):
                A[a, e, lane] = 0.0
            A[a, a, lane] = 1.0
    # Cholesky, right-looking, lower
    for j in range(k):
        ajj = A[j, j]
        for lane in range(lanes):
            piv = ajj[lane]
            if not piv > 0.0:
                piv = np.nan
            ajj[lane] = np.sqrt(piv)
            s[lane] = 1.0 / ajj[lane]
        for i in range(j + 1, k):
            aij = A[i, j]
            for lane in range(lanes):
                aij[lane] *= s[lane]
        for i in range(j + 1, k):
            aij = A[i, j]
            for e in range(j + 1, i + 1):
                dst = A[i, e]
                aej = A[e, j]
                for lane in range(lanes):
                    dst[lane] -= aij[lane] * aej[lane]
    # log det P_mm = 2 sum_a log L[a, a], taking one log per 8 diagonal
    # entries (their product cannot overflow unless an entry is beyond 1e38)
    for lane in range(lanes):
        ld[lane] = 0.0
    for a0 in range(0, k, 8):
        for lane in range(lanes):
            s[lane] = 1.0
        for a in range(a0, min(a0 + 8, k)):
            aaa = A[a, a]
            for lane in range(lanes):
                s[lane] *= aaa[lane]
        for lane in range(lanes):
            v = s[lane]
            if v > 1e-300 and v < 1e300:
                ld[lane] += 2.0 * np.log(v)
            else:
                for a in range(a0, min(a0 + 8, k)):
                    ld[lane] += 2.0 * np.log(A[a, a, lane])
    # Li = L^{-1}: Li[a, e] = -(sum_{t=e}^{a-1} L[a, t] Li[t, e]) / L[a, a]
    for a in range(k):
        laa = A[a, a]
        liaa = Li[a, a]
        for lane in range(lanes):
            liaa[lane] = 1.0 / laa[lane]
        for e in range(a):
            for lane in range(lanes):
                s[lane] = 0.0
            for t in range(e, a):
                lat = A[a, t]
                lite = Li[t, e]
                for lane in range(lanes):
                    s[lane] += lat[lane] * lite[lane]
            liae = Li[a, e]
            for lane in range(lanes):
                liae[lane] = -s[lane] * liaa[lane]
    # C = Li^T Li: C[a, e] = sum_{t >= a} Li[t, a] Li[t, e] (e <= a), mirrored
    for a in range(k):
        for e in range(a + 1):
            for lane in range(lanes):
                s[lane] = 0.0
            for t in range(a, k):
                lita = Li[t, a]
                lite = Li[t, e]
                for lane in range(lanes):
                    s[lane] += lita[lane] * lite[lane]
            cae = C[a, e]
            cea = C[e, a]
            for lane in range(lanes):
                cae[lane] = s[lane]
                cea[lane] = s[lane]


@jit
def _factor_one(Pf, d, M, k, U, Linv, Cinv):
    """``P_mm^{-1}`` of the one pattern in lane 0 of ``M``, for large ``k``.

    With few patterns per batch the lane loops would be short; here every
    inner loop runs along a row of a ``k x k`` work array instead (right-
    looking Cholesky ``P_mm = U^T U``, then ``Linv = U^{-T}`` and
    ``Cinv = Linv^T Linv``). Returns ``log det P_mm`` (NaN if not positive
    definite).
    """
    A = Cinv
    for a in range(k):
        ra = M[a, 0]
        for e in range(a, k):
            A[a, e] = Pf[ra * d + M[e, 0]]
    logdet = 0.0
    for j in range(k):
        piv = A[j, j]
        if not piv > 0.0:
            logdet = np.nan
            piv = 1.0
        ujj = np.sqrt(piv)
        U[j, j] = ujj
        inv = 1.0 / ujj
        for e in range(j + 1, k):
            U[j, e] = A[j, e] * inv
        for i in range(j + 1, k):
            uji = U[j, i]
            for e in range(i, k):
                A[i, e] -= uji * U[j, e]
        logdet += 2.0 * np.log(ujj)
    # Linv row a: Linv[a, :a] = -(1 / U[a, a]) sum_t U[t, a] Linv[t, :a]
    for a in range(k):
        for e in range(a + 1):
            Linv[a, e] = 0.0
        for t in range(a):
            uta = U[t, a]
            for e in range(t + 1):
                Linv[a, e] -= uta * Linv[t, e]
        inv = 1.0 / U[a, a]
        for e in range(a):
            Linv[a, e] *= inv
        Linv[a, a] = inv
    # Cinv = Linv^T Linv, lower half row by row, then mirrored
    for a in range(k):
        for e in range(a + 1):
            Cinv[a, e] = 0.0
    for t in range(k):
        for a in range(t + 1):
            lta = Linv[t, a]
            for e in range(a + 1):
                Cinv[a, e] += lta * Linv[t, e]
    for a in range(k):
        for e in range(a):
            Cinv[e, a] = Cinv[a, e]
    return logdet


@jit_inline
def _batch_rows(W, R, miss_idx, pat_off, pat_rows, p0, nb, k, r0, Cb, Lib, B, Z, ld,
                noise, sample, want_quad, out_logdet, out_quad, z, bv):
    """Conditional means (or draws) of the rows of the ``nb`` patterns from
    ``p0`` (``k`` missing each) from their factorised blocks: ``Cb[:, :, lane]``
    :math:`P_{mm}^{-1}`, ``Lib`` its inverse Cholesky factor, ``B``/``Z`` the
    first row's :math:`b` and :math:`-P_{mm}^{-1} b` per lane, ``ld`` the
    log-determinants. Writes ``R``, ``out_logdet`` and ``out_quad``."""
    d = R.shape[1]
    for lane in range(nb):
        p = p0 + lane
        off = pat_off[p]
        first = pat_rows[p]
        for i in range(first, pat_rows[p + 1]):
            w = W[i - r0]
            if i == first:
                for a in range(k):
                    z[a] = Z[a, lane]
                    bv[a] = B[a, lane]
            else:
                for a in range(k):
                    bv[a] = w[miss_idx[off + a]]
                for a in range(k):
                    t = 0.0
                    for e in range(k):
                        t += Cb[a, e, lane] * bv[e]
                    z[a] = -t
            if want_quad:
                q = 0.0
                for j in range(d):
                    q += R[i, j] * w[j]
                for a in range(k):
                    q += bv[a] * z[a]
                out_quad[i] = q
            if sample:
                for t in range(k):
                    eps = noise[i, miss_idx[off + t]]
                    for a in range(t + 1):
                        z[a] += Lib[t, a, lane] * eps
            for a in range(k):
                R[i, miss_idx[off + a]] = z[a]
            out_logdet[i] = ld[lane]


@jit_inline
def _first_rows(Wf, d, M, first_row, nb, lb, k, Cb, B, Z):
    """``B`` = :math:`b = P_{mo} r_o` of each lane's first row (read off ``W``),
    ``Z = -C B`` lane-wise (unused lanes ``nb .. lb - 1`` get 0)."""
    for a in range(k):
        ba = B[a]
        ma = M[a]
        for lane in range(lb):
            ba[lane] = Wf[first_row[lane] * d + ma[lane]]
        for lane in range(nb, lb):
            ba[lane] = 0.0
    for a in range(k):
        za = Z[a]
        for lane in range(lb):
            za[lane] = 0.0
        for e in range(k):
            cae = Cb[a, e]
            be = B[e]
            for lane in range(lb):
                za[lane] -= cae[lane] * be[lane]


@jit_inline
def _add_ccov(accf, d, M, cnt, nb, k, Cb):
    """Add ``cnt[lane]`` times each lane's :math:`P_{mm}^{-1}` to the lower
    triangle of the flattened ``d x d`` accumulator (``M`` is increasing
    along its first axis); lanes may collide: no SIMD here."""
    for a in range(k):
        ma = M[a]
        for e in range(a + 1):
            me = M[e]
            cae = Cb[a, e]
            for lane in range(nb):
                accf[ma[lane] * d + me[lane]] += cnt[lane] * cae[lane]


@jit_inline
def _lanes_of_batch(miss_idx, pat_off, pat_rows, p0, nb, lb, k, r0, M, first_row, cnt):
    """Missing coordinates lane-innermost (unused lanes: index 0), first row
    (chunk-relative) and row count of every lane."""
    for lane in range(nb):
        off = pat_off[p0 + lane]
        for a in range(k):
            M[a, lane] = miss_idx[off + a]
        first_row[lane] = pat_rows[p0 + lane] - r0
        cnt[lane] = pat_rows[p0 + lane + 1] - pat_rows[p0 + lane]
    for lane in range(nb, lb):
        for a in range(k):
            M[a, lane] = 0
        first_row[lane] = 0
        cnt[lane] = 0.0


@jit
def estep_chunk(b0, b1, r0, W, P, miss_idx, pat_off, pat_rows, batch_bounds,
                noise, sample, want_quad, want_stats, R, out_logdet, out_quad, acc,
                kmax, lanes):
    """The E-step on batches ``b0 .. b1 - 1`` (blocks of at most ``K_BATCH``
    missing, factorised ``lanes`` patterns at a time; see :func:`estep`).

    ``R`` holds the centred residuals (0 where missing) and ``W`` is
    ``R[r0:r1] @ P`` for the chunk's rows from ``r0``. Writes the conditional
    means (minus ``mu``) into the missing entries of ``R``, the per-row
    ``log det P_mm`` (and quadratic form) and, with ``want_stats``, adds the
    summed conditional covariances to the lower triangle of ``acc``
    (``d x d``). ``kmax`` and ``lanes`` (the largest block and batch of the
    range) size the work arrays, allocated here: as locals they cannot alias
    the inputs, and the lane loops vectorise without checks (passed in from
    the driver, the same kernel ran 10-15% slower at 200,000 x 50). Serial:
    the driver runs chunks on parallel threads (the function releases the
    GIL).
    """
    d = R.shape[1]
    A = np.empty((kmax, kmax, lanes))
    Li = np.empty((kmax, kmax, lanes))
    C = np.empty((kmax, kmax, lanes))
    B = np.empty((kmax, lanes))
    Z = np.empty((kmax, lanes))
    M = np.zeros((kmax, lanes), dtype=np.int64)
    first_row = np.zeros(lanes, dtype=np.int64)
    cnt = np.zeros(lanes)
    ld = np.zeros(lanes)
    s = np.empty(lanes)
    z = np.empty(kmax)
    bv = np.empty(kmax)
    Pf = P.reshape(d * d)
    Wf = W.reshape(W.shape[0] * d)
    accf = acc.reshape(d * d)
    for bt in range(b0, b1):
        p0 = batch_bounds[bt]
        nb = batch_bounds[bt + 1] - p0
        k = pat_off[p0 + 1] - pat_off[p0]
        if k > 0:
            # lanes in use, rounded up to whole SIMD registers
            lb = min(lanes, (nb + 7) // 8 * 8)
            _lanes_of_batch(miss_idx, pat_off, pat_rows, p0, nb, lb, k, r0, M,
                            first_row, cnt)
            _factor_batch(Pf, d, M, nb, lb, k, A, Li, C, ld, s)
            _first_rows(Wf, d, M, first_row, nb, lb, k, C, B, Z)
            if want_stats:
                _add_ccov(accf, d, M, cnt, nb, k, C)
        else:
            for lane in range(nb):
                ld[lane] = 0.0
        _batch_rows(W, R, miss_idx, pat_off, pat_rows, p0, nb, k, r0, C, Li, B, Z, ld,
                    noise, sample, want_quad, out_logdet, out_quad, z, bv)


@jit
def estep_chunk_large(b0, b1, r0, W, P, miss_idx, pat_off, pat_rows, batch_bounds,
                      noise, sample, want_quad, want_stats, R, out_logdet, out_quad, acc,
                      kmax):
    """As :func:`estep_chunk`, for batches of one pattern with more than
    ``K_BATCH`` missing (factorised by :func:`_factor_one`, one lane). A
    separate kernel, so fits without such blocks never compile it."""
    d = R.shape[1]
    U = np.empty((kmax, kmax))
    Li = np.empty((kmax, kmax))
    C = np.empty((kmax, kmax))
    C3 = C.reshape(kmax, kmax, 1)
    Li3 = Li.reshape(kmax, kmax, 1)
    B = np.empty((kmax, 1))
    Z = np.empty((kmax, 1))
    M = np.zeros((kmax, 1), dtype=np.int64)
    first_row = np.zeros(1, dtype=np.int64)
    cnt = np.zeros(1)
    ld = np.zeros(1)
    z = np.empty(kmax)
    bv = np.empty(kmax)
    Pf = P.reshape(d * d)
    Wf = W.reshape(W.shape[0] * d)
    accf = acc.reshape(d * d)
    for bt in range(b0, b1):
        p0 = batch_bounds[bt]
        k = pat_off[p0 + 1] - pat_off[p0]
        _lanes_of_batch(miss_idx, pat_off, pat_rows, p0, 1, 1, k, r0, M, first_row, cnt)
        ld[0] = _factor_one(Pf, d, M, k, U, Li, C)
        _first_rows(Wf, d, M, first_row, 1, 1, k, C3, B, Z)
        if want_stats:
            _add_ccov(accf, d, M, cnt, 1, k, C3)
        _batch_rows(W, R, miss_idx, pat_off, pat_rows, p0, 1, k, r0, C3, Li3, B, Z, ld,
                    noise, sample, want_quad, out_logdet, out_quad, z, bv)


def estep(X, mu, P, miss_idx, pat_off, pat_rows, batch_bounds, chunk_bounds,
          noise, sample, want_quad, want_stats,
          R, out_logdet, out_quad, out_ccov, out_gram, out_sum, pool=None):
    """E-step over all rows; see the module docstring for the layout.

    Each chunk is centred (:func:`center_observed_rows`), multiplied by
    ``P`` (BLAS), processed by :func:`estep_chunk` and, with
    ``want_stats``, reduced to its Gram matrix and column sums (BLAS). Chunks
    run on the threads of ``pool`` (a :class:`~skngd._solvers.em_gaussian.ChunkPool`
    owned by the fit; ``None``: serially in the calling thread): the Numba
    kernels and the BLAS calls release the GIL, and every output a chunk
    writes is its own, so the result does not depend on the thread count.
    Call it with BLAS limited to one thread (the fit's thread policy).

    Parameters
    ----------
    X : (n, d) rows sorted as described, NaN marks missing.
    mu : (d,) mean; P : (d, d) precision matrix.
    miss_idx, pat_off, pat_rows, batch_bounds, chunk_bounds : int64 layout
        arrays (patterns, batches of patterns, chunks of batches).
    noise : (n, d) standard normal draws, used only when ``sample`` is True
        (adds :math:`L^{-T}\\varepsilon`, a draw from the conditional
        Gaussian, to the conditional mean).
    want_quad : fill ``out_quad`` with the per-row quadratic form
        :math:`r_o^T \\Sigma_{oo}^{-1} r_o`.
    want_stats : fill ``out_ccov[c]`` (lower triangle of the summed
        conditional covariances), ``out_gram[c]`` (:math:`R_c^T R_c`) and
        ``out_sum[c]`` (column sums of :math:`R_c`) for every chunk ``c``.
    pool : ChunkPool or None, the threads running chunks.

    Outputs
    -------
    R : (n, d) completed residuals: ``x - mu`` where observed, the
        conditional mean (or draw) minus ``mu`` where missing.
    out_logdet : (n,) :math:`\\log\\det P_{mm}` of each row (NaN if that
        block is not positive definite, 0 for complete rows).
    out_quad : (n,) or unused; out_ccov, out_gram : (n_chunks, d, d);
    out_sum : (n_chunks, d) (all overwritten); without ``want_stats`` they
    are not touched and ``out_ccov`` needs only one chunk.
    """
    n_chunks = chunk_bounds.shape[0] - 1
    # batches are sorted by block size: those from `split` on have blocks
    # above K_BATCH and go to their own kernel (compiled only when needed)
    first = batch_bounds[:-1]
    k_bt = pat_off[first + 1] - pat_off[first]
    n_bt = np.diff(batch_bounds)
    split = int(np.searchsorted(k_bt, K_BATCH, side="right"))

    def run(c):
        b0, b1 = chunk_bounds[c], chunk_bounds[c + 1]
        r0 = pat_rows[batch_bounds[b0]]
        r1 = pat_rows[batch_bounds[b1]]
        center_observed_rows(X, mu, R, r0, r1)
        Rc = R[r0:r1]
        W = Rc @ P
        # (without stats the accumulator is not touched: one dummy chunk)
        acc = out_ccov[c if want_stats else 0]
        if want_stats:
            acc[:] = 0.0
        bs = min(max(split, b0), b1)
        args = (r0, W, P, miss_idx, pat_off, pat_rows, batch_bounds, noise, sample,
                want_quad, want_stats, R, out_logdet, out_quad, acc)
        if bs > b0:
            estep_chunk(b0, bs, *args, max(int(k_bt[b0:bs].max()), 1), int(n_bt[b0:bs].max()))
        if b1 > bs:
            estep_chunk_large(bs, b1, *args, int(k_bt[bs:b1].max()))
        if want_stats:
            np.dot(Rc.T, Rc, out=out_gram[c])
            Rc.sum(axis=0, out=out_sum[c])

    n_threads = 1 if pool is None else int(min(pool.n_threads, n_chunks))
    if n_threads <= 1:
        for c in range(n_chunks):
            run(c)
        return
    chunks = itertools.count()  # next() is atomic under the GIL

    def worker():
        for c in chunks:
            if c >= n_chunks:
                return
            run(c)

    pool.run(worker, n_threads)


@jit
def center_observed_rows(X, mu, R, r0, r1):
    """``R[i] = X[i] - mu`` with 0 where that entry is NaN, for i in r0..r1-1."""
    d = X.shape[1]
    for i in range(r0, r1):
        xi = X[i]
        ri = R[i]
        for j in range(d):
            v = xi[j]
            ri[j] = 0.0 if np.isnan(v) else v - mu[j]


@jit
def observed_moments(X, Z):
    """Observed count and mean of every column; ``Z`` gets the residuals
    ``X - mean`` with 0 where missing. Returns ``(count, mean)``."""
    n, d = X.shape
    s = np.zeros(d)
    count = np.zeros(d)  # (the allocation kind the driver's work arrays use)
    for i in range(n):
        xi = X[i]
        for j in range(d):
            v = xi[j]
            if not np.isnan(v):
                s[j] += v
                count[j] += 1.0
    mu = s / count
    # (the loop of center_observed_rows, inlined: a call with the constant
    # r0 = 0 would compile a second, Literal[int](0), specialisation of it)
    for i in range(n):
        xi = X[i]
        zi = Z[i]
        for j in range(d):
            v = xi[j]
            zi[j] = 0.0 if np.isnan(v) else v - mu[j]
    return count, mu


@jit
def fill_missing(out, R, mu, rows, cols):
    """``out[rows[i], cols[j]] = R[i, j] + mu[j]`` where that entry is NaN.

    Writes conditional means, computed as residuals ``R`` on sorted rows,
    back into the caller's (unsorted, possibly wider) output array.
    """
    n, d = R.shape
    for i in range(n):
        r = rows[i]
        for j in range(d):
            c = cols[j]
            if np.isnan(out[r, c]):
                out[r, c] = R[i, j] + mu[j]


@jit
def observed_block_loglik(X, mu, Sigma, miss_idx, pat_off, pat_rows, out, obs, L, z):
    """Per-row :math:`\\log N(x_o; \\mu_o, \\Sigma_{oo})` from a Cholesky factor
    of each pattern's observed block (rows sorted by pattern, as in
    :func:`estep`); 0 for rows with nothing observed.

    This route works on :math:`\\Sigma` itself, so it stays accurate when the
    precision matrix is ill-conditioned (the E-step's route through
    :math:`P` loses about :math:`\\kappa^2 \\epsilon` per row). Returns the
    index of the first pattern whose block is not numerically positive
    definite, or -1 when every block factorised. ``obs`` (int64, ``d``),
    ``L`` (``d x d``) and ``z`` (``d``) are work arrays (see
    :func:`observed_block_work`).
    """
    n, d = X.shape
    half_log_2pi = 0.5 * np.log(2.0 * np.pi)
    for p in range(pat_rows.size - 1):
        k, mi = 0, pat_off[p]
        for c in range(d):  # observed coordinates: the complement of miss_idx
            if mi < pat_off[p + 1] and miss_idx[mi] == c:
                mi += 1
            else:
                obs[k] = c
                k += 1
        half_logdet = 0.0
        for a in range(k):  # Cholesky, lower, column by column
            s = Sigma[obs[a], obs[a]]
            for c in range(a):
                s -= L[a, c] * L[a, c]
            if not s > 0.0:
                return p
            L[a, a] = np.sqrt(s)
            half_logdet += np.log(L[a, a])
            for b in range(a + 1, k):
                t = Sigma[obs[b], obs[a]]
                for c in range(a):
                    t -= L[b, c] * L[a, c]
                L[b, a] = t / L[a, a]
        const = -k * half_log_2pi - half_logdet
        for i in range(pat_rows[p], pat_rows[p + 1]):
            q = 0.0
            for a in range(k):  # forward substitution L z = x_o - mu_o
                t = X[i, obs[a]] - mu[obs[a]]
                for c in range(a):
                    t -= L[a, c] * z[c]
                z[a] = t / L[a, a]
                q += z[a] * z[a]
            out[i] = const - 0.5 * q if k else 0.0
    return -1


def observed_block_work(d):
    """Work arrays of :func:`observed_block_loglik` (allocated by NumPy, so the
    kernel compiles no allocation code)."""
    return np.empty(d, dtype=np.int64), np.zeros((d, d)), np.empty(d)


def estep_ref(X, mu, Sigma):
    """NumPy reference on Sigma_oo, row by row.

    Returns ``(xhat, logdet_sigma_oo, quad, ccov_sum)`` where ``quad`` is
    :math:`(x_o - \\mu_o)^T \\Sigma_{oo}^{-1} (x_o - \\mu_o)` and ``ccov_sum``
    the sum over rows of the conditional covariance on the missing block.
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    xhat = X.copy()
    logdet = np.zeros(n)
    quad = np.zeros(n)
    ccov = np.zeros((d, d))
    for i in range(n):
        m = np.isnan(X[i])
        o = ~m
        if not m.any():
            logdet[i] = np.linalg.slogdet(Sigma)[1]
            quad[i] = (X[i] - mu) @ np.linalg.solve(Sigma, X[i] - mu)
            continue
        if o.any():
            S_oo = Sigma[np.ix_(o, o)]
            S_mo = Sigma[np.ix_(m, o)]
            c = linalg.cho_factor(S_oo, lower=True)
            sol = linalg.cho_solve(c, X[i, o] - mu[o])
            xhat[i, m] = mu[m] + S_mo @ sol
            quad[i] = (X[i, o] - mu[o]) @ sol
            C = Sigma[np.ix_(m, m)] - S_mo @ linalg.cho_solve(c, S_mo.T)
            logdet[i] = 2.0 * np.sum(np.log(np.diag(c[0])))
        else:
            xhat[i, m] = mu[m]
            C = Sigma[np.ix_(m, m)]
        ccov[np.ix_(m, m)] += C
    return xhat, logdet, quad, ccov


__all__ = ["K_BATCH", "center_observed_rows", "estep", "estep_chunk", "estep_chunk_large",
           "estep_ref",
           "fill_missing", "observed_block_loglik", "observed_block_work",
           "observed_moments"]
