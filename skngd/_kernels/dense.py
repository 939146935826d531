r"""Row-parallel dense matrix-vector kernels: :math:`Xv` and :math:`X^T r`.

Both products read ``X`` once and are memory-bound. Inside a fit skngd caps
BLAS at one thread (so BLAS and Numba threads never compete for the cores);
these kernels give the two products Numba's threads instead. Measured on
200,000 x 100 float64 with 2 threads: ``X^T r`` 5.4 ms (single-thread BLAS
``r @ X``: 11.6 ms), ``X v`` 4.7 ms (BLAS: 8.0 ms).

* :func:`dense_matvec`: ``out = X @ v``; ``prange`` over rows.
* :func:`dense_rmatvec`: ``X^T r``; rows cut into ``buf.shape[0]`` chunks, one
  float64 accumulator row per chunk (no shared writes); the wrapper sums them.
* :func:`scaled_rows`: the rows :math:`\sqrt{w_i}\,[x_i, 1]` of a row block
  into a Gram buffer (serial; NumPy's broadcast multiply into the buffer's
  strided columns is about 3x slower on 30 columns).
"""

import numpy as np

from skngd._kernels._jit import jit, pjit, prange


@pjit
def dense_matvec(X, v, out):
    """``out[i] = sum_j X[i, j] v[j]`` (accumulated in float64)."""
    n, d = X.shape
    for i in prange(n):
        acc = 0.0
        for j in range(d):
            acc += X[i, j] * v[j]
        out[i] = acc


@pjit
def dense_rmatvec(X, r, buf):
    """Accumulate ``X^T r`` into ``buf`` (n_chunks, d) float64, zeroed by the caller."""
    n_chunks = buf.shape[0]
    n, d = X.shape
    for t in prange(n_chunks):
        start = (t * n) // n_chunks
        stop = ((t + 1) * n) // n_chunks
        for i in range(start, stop):
            ri = r[i]
            for j in range(d):
                buf[t, j] += X[i, j] * ri


@jit
def scaled_rows(X, start, sq, blk, intercept):
    """``blk[r, :d] = X[start + r] * sq[r]`` and (``intercept``)
    ``blk[r, d] = sq[r]`` for ``r < len(sq)``; other columns untouched."""
    d = X.shape[1]
    for r in range(sq.shape[0]):
        q = sq[r]
        i = start + r
        for j in range(d):
            blk[r, j] = X[i, j] * q
        if intercept:
            blk[r, d] = q


def matvec(X, v):
    """``X @ v`` for a C-contiguous 2-D ``X``; result in ``X.dtype``."""
    out = np.empty(X.shape[0], dtype=X.dtype)
    dense_matvec(X, np.ascontiguousarray(v, dtype=X.dtype), out)
    return out


def rmatvec(X, r):
    """``X.T @ r`` for a C-contiguous 2-D ``X``; float64 result."""
    import numba

    buf = np.zeros((max(1, numba.get_num_threads()), X.shape[1]))
    dense_rmatvec(X, np.ascontiguousarray(r, dtype=X.dtype), buf)
    return buf.sum(axis=0)


def matvec_ref(X, v):
    """NumPy reference of :func:`matvec`."""
    return X @ v


def rmatvec_ref(X, r):
    """NumPy reference of :func:`rmatvec`."""
    return X.T @ r


__all__ = ["dense_matvec", "dense_rmatvec", "matvec", "matvec_ref", "rmatvec", "rmatvec_ref"]
