"""NumPy twins of the E-step kernels in :mod:`skngd._kernels.em_gaussian`.

Same signatures and outputs (to rounding), no Numba: the path small problems
take (:data:`skngd._solvers.em_gaussian.NUMBA_MIN_ENTRIES`), so a small fit
neither imports Numba nor compiles anything, and a reference for the tests.

The E-step follows the kernel's route through the precision matrix
:math:`P = \\Sigma^{-1}`: for every pattern with missing set ``m`` the block
:math:`P_{mm} = L L^T` is factorised, the conditional mean of a row is
:math:`\\mu_m - P_{mm}^{-1} P_{mo} r_o` and its conditional covariance
:math:`P_{mm}^{-1} = L^{-T} L^{-1}`. Instead of a Python loop over patterns,
the patterns of a chunk with the same number missing ``k`` are stacked and
factorised together by NumPy's batched ``cholesky``/``inv`` (one call per
distinct ``k``), and their rows are gathered and solved in one batched
product, so the Python overhead grows with the number of distinct ``k``
(at most ``d + 1``), not with the number of patterns.
"""

import numpy as np

# blocks larger than this are factorised one pattern at a time by the Numba
# kernel (a layout constant: the batches of PatternData depend on it)
K_BATCH = 48


def center_observed_rows_ref(X, mu, R, r0, r1):
    """``R[i] = X[i] - mu`` with 0 where that entry is NaN, for i in r0..r1-1."""
    Xc = X[r0:r1]
    Rc = R[r0:r1]
    np.subtract(Xc, mu, out=Rc)
    Rc[np.isnan(Xc)] = 0.0


def observed_moments_ref(X, Z):
    """Observed count and mean of every column; ``Z`` gets the residuals
    ``X - mean`` with 0 where missing. Returns ``(count, mean)``."""
    obs = ~np.isnan(X)
    count = obs.sum(axis=0).astype(np.float64)
    mu = np.where(obs, X, 0.0).sum(axis=0) / count
    center_observed_rows_ref(X, mu, Z, 0, X.shape[0])
    return count, mu


def fill_missing_ref(out, R, mu, rows, cols):
    """``out[rows[i], cols[j]] = R[i, j] + mu[j]`` where that entry is NaN."""
    ix = np.ix_(rows, cols)
    block = out[ix]
    miss = np.isnan(block)
    block[miss] = (R + mu)[miss]
    out[ix] = block


def _k_groups(pat_off, p0, p1):
    """Runs ``(g0, g1, k)`` of patterns ``p0 .. p1 - 1`` with the same number
    missing ``k`` (patterns are sorted by it)."""
    k = np.diff(pat_off[p0:p1 + 1])
    cut = np.flatnonzero(np.diff(k)) + 1
    starts = np.concatenate([[0], cut]).astype(np.int64)
    ends = np.concatenate([cut, [k.size]]).astype(np.int64)
    return [(p0 + a, p0 + b, int(k[a])) for a, b in zip(starts, ends) if b > a]


def observed_block_work(d):
    """No work arrays: the NumPy twin allocates its own."""
    return ()


def estep_np(X, mu, P, miss_idx, pat_off, pat_rows, batch_bounds, chunk_bounds,
             noise, sample, want_quad, want_stats,
             R, out_logdet, out_quad, out_ccov, out_gram, out_sum, pool=None):
    """NumPy twin of :func:`skngd._kernels.em_gaussian.estep` (same arguments
    and outputs; ``pool`` is accepted and ignored: this path runs serially).

    A block that is not positive definite gets ``out_logdet`` NaN on its rows
    (the caller raises), as in the kernel.
    """
    d = X.shape[1]
    n_chunks = chunk_bounds.shape[0] - 1
    for c in range(n_chunks):
        p0 = batch_bounds[chunk_bounds[c]]
        p1 = batch_bounds[chunk_bounds[c + 1]]
        r0, r1 = pat_rows[p0], pat_rows[p1]
        center_observed_rows_ref(X, mu, R, r0, r1)
        Rc = R[r0:r1]
        W = Rc @ P
        if want_quad:
            # r_o^T P_oo r_o; the missing blocks' part is added below
            out_quad[r0:r1] = np.einsum("ij,ij->i", Rc, W)
        acc = np.zeros(d * d) if want_stats else None
        for g0, g1, k in _k_groups(pat_off, p0, p1):
            a0, a1 = pat_rows[g0], pat_rows[g1]
            if k == 0:
                out_logdet[a0:a1] = 0.0
                continue
            n_pat = g1 - g0
            M = miss_idx[pat_off[g0]:pat_off[g1]].reshape(n_pat, k)
            A = P[M[:, :, None], M[:, None, :]]
            try:
                L = np.linalg.cholesky(A)
            except np.linalg.LinAlgError:
                out_logdet[a0:a1] = np.nan
                continue
            Li = np.linalg.inv(L)
            C = np.matmul(Li.transpose(0, 2, 1), Li)  # P_mm^{-1}
            ld = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
            cnt = np.diff(pat_rows[g0:g1 + 1])
            pat = np.repeat(np.arange(n_pat), cnt)
            rows = np.arange(a0, a1)
            Mr = M[pat]
            B = W[(rows - r0)[:, None], Mr]  # P_mo r_o
            Z = -np.matmul(C[pat], B[:, :, None])[:, :, 0]
            if want_quad:
                out_quad[a0:a1] += np.einsum("ij,ij->i", B, Z)
            if sample:
                eps = noise[rows[:, None], Mr]
                Z += np.matmul(Li[pat].transpose(0, 2, 1), eps[:, :, None])[:, :, 0]
            R[rows[:, None], Mr] = Z
            out_logdet[a0:a1] = ld[pat]
            if want_stats:
                flat = (M[:, :, None] * d + M[:, None, :]).ravel()
                acc += np.bincount(flat, weights=(cnt[:, None, None] * C).ravel(),
                                   minlength=d * d)
        if want_stats:
            out_ccov[c] = np.tril(acc.reshape(d, d))
            np.dot(Rc.T, Rc, out=out_gram[c])
            Rc.sum(axis=0, out=out_sum[c])


def observed_block_loglik_ref(X, mu, Sigma, miss_idx, pat_off, pat_rows, out, *work):
    """NumPy twin of :func:`skngd._kernels.em_gaussian.observed_block_loglik`:
    per-row :math:`\\log N(x_o; \\mu_o, \\Sigma_{oo})`, 0 for rows with nothing
    observed; returns the index of the first pattern whose observed block is
    not positive definite, or -1. (``work``, the kernel's work arrays, is
    accepted and ignored.)"""
    n, d = X.shape
    n_pat = pat_rows.size - 1
    half_log_2pi = 0.5 * np.log(2.0 * np.pi)
    for g0, g1, k in _k_groups(pat_off, 0, n_pat):
        a0, a1 = pat_rows[g0], pat_rows[g1]
        ko = d - k
        if ko == 0:
            out[a0:a1] = 0.0
            continue
        n_g = g1 - g0
        mask = np.zeros((n_g, d), dtype=bool)
        if k:
            mask[np.repeat(np.arange(n_g), k), miss_idx[pat_off[g0]:pat_off[g1]]] = True
        O = np.nonzero(~mask)[1].reshape(n_g, ko)
        S = Sigma[O[:, :, None], O[:, None, :]]
        try:
            L = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            for p in range(n_g):
                try:
                    np.linalg.cholesky(S[p])
                except np.linalg.LinAlgError:
                    return g0 + p
            raise  # pragma: no cover - the batch failed but no block did
        half_logdet = np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
        cnt = np.diff(pat_rows[g0:g1 + 1])
        pat = np.repeat(np.arange(n_g), cnt)
        Or = O[pat]
        rows = np.arange(a0, a1)
        res = X[rows[:, None], Or] - mu[Or]
        z = np.linalg.solve(L[pat], res[:, :, None])[:, :, 0]
        out[a0:a1] = -ko * half_log_2pi - half_logdet[pat] - 0.5 * np.einsum("ij,ij->i", z, z)
    return -1


__all__ = ["K_BATCH", "center_observed_rows_ref", "estep_np", "fill_missing_ref",
           "observed_block_loglik_ref", "observed_block_work", "observed_moments_ref"]
