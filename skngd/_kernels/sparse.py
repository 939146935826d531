r"""Row-parallel CSR kernels: :math:`XV`, :math:`X^T R` and weighted column norms.

Generic building blocks for every linear model on ``scipy.sparse`` CSR input
(the logistic and GLM solvers both use them). Kernels take the three CSR
arrays (``data``, ``indices``, ``indptr``) and write into caller-provided
buffers; the wrappers :func:`csr_matmul`, :func:`csr_rmatmul` and
:func:`csr_weighted_sq_colsum` fix dtypes and allocate.

* :func:`csr_matmat`: ``out = X @ V`` with ``V`` (d, k); ``prange`` over rows,
  each row writes its own output row.
* :func:`csr_rmatmat`: ``X^T R`` with ``R`` (n, k). A transposed product would
  scatter into shared output rows, so the rows of ``X`` are cut into
  ``buf.shape[0]`` contiguous chunks, each chunk accumulating into its own
  (d, k) slice of ``buf``; the wrapper sums the slices. No CSC copy needed.
* weighted ops: ``X^T (w * r)`` is ``csr_rmatmul(X, w * r)``; the diagonal of
  the weighted Gram matrix :math:`\mathrm{diag}(X^T W X)_j = \sum_i w_i x_{ij}^2`
  is :func:`csr_weighted_sq_colsum`.
"""

import numpy as np

from skngd._kernels._jit import pjit, prange


@pjit
def csr_matmat(data, indices, indptr, V, out):
    """``out[i, :] = sum_j X[i, j] * V[j, :]`` for a CSR ``X``."""
    n = out.shape[0]
    k = out.shape[1]
    for i in prange(n):
        for c in range(k):
            out[i, c] = 0.0
        for jj in range(indptr[i], indptr[i + 1]):
            j = indices[jj]
            v = data[jj]
            for c in range(k):
                out[i, c] += v * V[j, c]


@pjit
def csr_rmatmat(data, indices, indptr, R, buf):
    """Accumulate ``X^T R`` into ``buf`` (n_chunks, d, k), one chunk per thread.

    ``buf`` must be zeroed by the caller; ``buf.sum(axis=0)`` is ``X^T R``.
    """
    n_chunks = buf.shape[0]
    n = R.shape[0]
    k = R.shape[1]
    for t in prange(n_chunks):
        start = (t * n) // n_chunks
        stop = ((t + 1) * n) // n_chunks
        for i in range(start, stop):
            for jj in range(indptr[i], indptr[i + 1]):
                j = indices[jj]
                v = data[jj]
                for c in range(k):
                    buf[t, j, c] += v * R[i, c]


def _as_csr_arrays(X, dtype):
    data = np.ascontiguousarray(X.data, dtype=dtype)
    # index arrays are used as they come (int32 or int64): no copy per call
    indices = np.ascontiguousarray(X.indices)
    indptr = np.ascontiguousarray(X.indptr)
    return data, indices, indptr


def _n_chunks():
    import numba

    return max(1, numba.get_num_threads())


def csr_matmul(X, V):
    """``X @ V`` for CSR ``X`` and dense ``V`` (d,) or (d, k), in ``X.dtype``."""
    dtype = X.dtype
    V = np.asarray(V)
    vec = V.ndim == 1
    V2 = np.ascontiguousarray(V.reshape(V.shape[0], -1), dtype=dtype)
    out = np.empty((X.shape[0], V2.shape[1]), dtype=dtype)
    csr_matmat(*_as_csr_arrays(X, dtype), V2, out)
    return out[:, 0] if vec else out


def csr_rmatmul(X, R):
    """``X.T @ R`` for CSR ``X`` and dense ``R`` (n,) or (n, k), in ``X.dtype``."""
    dtype = X.dtype
    R = np.asarray(R)
    vec = R.ndim == 1
    R2 = np.ascontiguousarray(R.reshape(R.shape[0], -1), dtype=dtype)
    buf = np.zeros((_n_chunks(), X.shape[1], R2.shape[1]), dtype=dtype)
    csr_rmatmat(*_as_csr_arrays(X, dtype), R2, buf)
    out = buf.sum(axis=0)
    return out[:, 0] if vec else out


def csr_weighted_sq_colsum(X, w):
    r""":math:`\sum_i w_i x_{ij}^2` for every column ``j`` (diag of X^T W X)."""
    data, indices, indptr = _as_csr_arrays(X, X.dtype)
    w2 = np.ascontiguousarray(np.asarray(w, dtype=X.dtype).reshape(-1, 1))
    buf = np.zeros((_n_chunks(), X.shape[1], 1), dtype=X.dtype)
    csr_rmatmat(data * data, indices, indptr, w2, buf)
    return buf.sum(axis=0)[:, 0]


def csr_matmul_ref(X, V):
    """SciPy reference of :func:`csr_matmul`."""
    return np.asarray(X @ V)


def csr_rmatmul_ref(X, R):
    """SciPy reference of :func:`csr_rmatmul`."""
    return np.asarray(X.T @ R)


def csr_weighted_sq_colsum_ref(X, w):
    """SciPy reference of :func:`csr_weighted_sq_colsum`."""
    return np.asarray(X.multiply(X).T @ w).ravel()


__all__ = [
    "csr_matmat",
    "csr_matmul",
    "csr_matmul_ref",
    "csr_rmatmat",
    "csr_rmatmul",
    "csr_rmatmul_ref",
    "csr_weighted_sq_colsum",
    "csr_weighted_sq_colsum_ref",
]
