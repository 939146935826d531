r"""Data access of a linear model: the one place for weighted Gram products.

Every second-order solver forms :math:`\tilde X^T \mathrm{diag}(w) \tilde X`
with :math:`\tilde X = [X, 1]` (the ones column only with an intercept): the
GLM's Fisher matrix and its score :math:`\tilde X^T v` (fused in one sweep),
the logistic Fisher / Böhning / NGD block matrices
(:meth:`skngd._loss.linear_loss.LinearModelLoss.gram`) and the Student-t
normal equations (:func:`skngd._solvers.em_t.weighted_gram_solver`). They all
call :func:`weighted_gram` here, so a new storage of ``X`` (row blocks,
chunks) needs one new branch.
"""

import numpy as np
import scipy.sparse as sp

from skngd._kernels.glm_ref import csr_weighted_gram_ref

_TINY_WEIGHT = 1e-280  # below, v / sqrt(w) could overflow: such rows are added apart
_BLOCK_BYTES = 1 << 21  # ~2 MB row blocks: stay in cache


def n_chunks(n):
    """Row chunks of the Numba kernels: four per thread, at least 1000 rows each."""
    import numba

    return int(max(1, min(numba.get_num_threads() * 4, n // 1000)))


def gram_buffer(n, k, dtype):
    """``(rows per block, buffer)`` for :func:`weighted_gram` on dense ``X``
    with ``k`` coefficients: a cache-sized (block, k + 1) array."""
    dt, k = np.dtype(dtype), k + 1
    block = int(max(64, min(n, _BLOCK_BYTES // (dt.itemsize * k))))
    return block, np.empty((block, k), dtype=dt)


def weighted_gram(X, w, v=None, *, fit_intercept, use_numba=False, buffer=None):
    r"""Return ``(X~^T diag(w) X~, X~^T v)`` with ``X~ = [X, 1]`` (ones column
    only if ``fit_intercept``), in float64; the second is None without ``v``.
    The weights may have any sign.

    CSR ``X``: one Numba pass over the rows (``use_numba``; cost: sum of
    squared non-zeros per row, chunked over threads) or its scipy twin.
    Dense ``X``: row blocks of :math:`\sqrt{|w|}\,[X, 1, v/\sqrt{w}]` are
    written into one cache-sized buffer (``buffer = (block, array)`` from
    :func:`gram_buffer`, reused across calls; its dtype is the products'
    precision) and ``B^T B`` (NumPy's ``syrk``, so no second thread pool
    competes) accumulates the Gram matrix and ``X~^T v`` together; rows with
    negative weights are subtracted (then ``X~^T v`` is a separate product),
    and rows with zero weight but non-zero ``v`` are added apart.
    """
    p = X.shape[1]
    k = p + int(fit_intercept)
    if sp.issparse(X):
        return _csr_gram(X, w, v, k, fit_intercept, use_numba)
    if buffer is None:
        buffer = gram_buffer(X.shape[0], k, np.result_type(X.dtype, w.dtype))
    neg = w < 0
    signed = bool(neg.any())
    fused = v is not None and not signed  # X~^T v as the last column of the syrk
    G = np.zeros((k + 1, k + 1) if fused else (k, k), dtype=np.float64)
    rhs = None if v is None or fused else np.zeros(k, dtype=np.float64)
    with np.errstate(all="ignore"):
        sw = np.sqrt(np.abs(w)) if signed else np.sqrt(w)
        if fused:
            tiny = w <= _TINY_WEIGHT
            c = np.where(tiny, 0.0, v / sw)
    block, buf = buffer
    for start in range(0, X.shape[0], block):
        stop = min(X.shape[0], start + block)
        blk = buf[: stop - start, : G.shape[0]]
        Xb = X[start:stop]
        np.multiply(Xb, sw[start:stop, None], out=blk[:, :p])
        if fit_intercept:
            blk[:, p] = sw[start:stop]
        if fused:
            blk[:, k] = c[start:stop]
        nb = neg[start:stop] if signed else None
        if nb is not None and nb.any():
            pos, negb = blk[~nb], blk[nb]
            G += pos.T @ pos
            G -= negb.T @ negb
        else:
            G += blk.T @ blk
        if rhs is not None:
            vb = v[start:stop]
            rhs[:p] += Xb.T @ vb
            if fit_intercept:
                rhs[p] += vb.sum()
    if not fused:
        return G, rhs
    rhs = G[:k, k].copy()
    rows = np.flatnonzero(tiny & (v != 0))
    if rows.size:  # zero-weight rows still carry their score
        rhs[:p] += X[rows].T @ v[rows]
        if fit_intercept:
            rhs[p] += v[rows].sum()
    return G[:k, :k].copy(), rhs


def _csr_gram(X, w, v, k, fit_intercept, use_numba):
    vv = np.zeros_like(w) if v is None else v
    if use_numba:
        from skngd._kernels.glm import csr_weighted_gram

        out = np.empty((n_chunks(X.shape[0]), k, k + 1))
        csr_weighted_gram(X.data, X.indices, X.indptr, w, vv, int(fit_intercept), out)
        A = out.sum(axis=0)
    else:
        A = csr_weighted_gram_ref(X, w, vv, int(fit_intercept))
    return A[:, :k].copy(), (None if v is None else A[:, k].copy())


__all__ = ["gram_buffer", "n_chunks", "weighted_gram"]
