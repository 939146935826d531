"""Numba kernels for log-domain and stabilised Sinkhorn iterations.

Every kernel works on C-contiguous arrays, writes into caller-provided
buffers and has a plain NumPy twin (``*_ref``) used as reference in tests.
Sums are accumulated in float64 whatever the input dtype.

Notation: ``C`` is an (n, m) cost matrix, ``h`` a dual potential, ``eps`` the
entropic regularisation. The log-sum-exp rows are

.. math::

    L_i = \\log \\sum_j \\exp\\big((h_j - C_{ij}) / \\varepsilon\\big),

computed with a max sweep followed by a sum-of-exponentials sweep, so they
never underflow, whatever ``eps``.
"""

import numpy as np

from skngd._kernels._jit import jit, pjit, prange

_BLOCK = 256  # columns per task in the column-wise kernel


@jit
def _row_lse(c, h, eps, buf):
    """LSE of (h - c) / eps for one row; leaves exp(v - max) in ``buf``."""
    m = c.shape[0]
    inv = 1.0 / eps
    mx = -np.inf
    for j in range(m):
        v = (h[j] - c[j]) * inv
        buf[j] = v
        if v > mx:
            mx = v
    s = 0.0
    for j in range(m):
        e = np.exp(buf[j] - mx)
        buf[j] = e
        s += e
    return mx + np.log(s), s


@pjit
def lse_rows(C, h, eps, a, out, K, write_gibbs):
    """``out[i] = LSE_j((h_j - C_ij)/eps)``; optionally the Gibbs kernel.

    With ``write_gibbs``, row ``i`` of ``K`` receives
    ``a_i * exp((h_j - C_ij)/eps - out_i)``, i.e. the plan
    ``exp((f_i + h_j - C_ij)/eps)`` for the exact row update
    ``f_i = eps * (log a_i - out_i)``; its rows sum to ``a``.
    """
    n, m = C.shape
    for i in prange(n):
        buf = np.empty(m, dtype=np.float64)
        lse, s = _row_lse(C[i], h, eps, buf)
        out[i] = lse
        if write_gibbs:
            scale = a[i] / s
            for j in range(m):
                K[i, j] = buf[j] * scale


def lse_rows_ref(C, h, eps, a, out, K, write_gibbs):
    V = (h[None, :] - C.astype(np.float64)) / eps
    mx = V.max(axis=1, keepdims=True)
    E = np.exp(V - mx)
    s = E.sum(axis=1, keepdims=True)
    out[:] = (mx + np.log(s))[:, 0]
    if write_gibbs:
        K[:] = E * (a[:, None] / s)


@pjit
def lse_cols(C, h, eps, out):
    """``out[j] = LSE_i((h_i - C_ij)/eps)``, sweeping rows of ``C``.

    Parallel over blocks of columns: each task reads contiguous row segments
    and owns its slice of ``out`` (no transposed copy of ``C`` is needed).
    """
    n, m = C.shape
    inv = 1.0 / eps
    nblocks = (m + _BLOCK - 1) // _BLOCK
    for bk in prange(nblocks):
        j0 = bk * _BLOCK
        j1 = min(m, j0 + _BLOCK)
        w = j1 - j0
        mx = np.full(w, -np.inf)
        s = np.zeros(w)
        for i in range(n):
            hi = h[i]
            for jj in range(w):
                v = (hi - C[i, j0 + jj]) * inv
                if v > mx[jj]:
                    mx[jj] = v
        for i in range(n):
            hi = h[i]
            for jj in range(w):
                s[jj] += np.exp((hi - C[i, j0 + jj]) * inv - mx[jj])
        for jj in range(w):
            out[j0 + jj] = mx[jj] + np.log(s[jj])


def lse_cols_ref(C, h, eps, out):
    V = (h[:, None] - C.astype(np.float64)) / eps
    mx = V.max(axis=0, keepdims=True)
    out[:] = (mx + np.log(np.exp(V - mx).sum(axis=0, keepdims=True)))[0]


@pjit
def scaling_pass(K, v, a, u, w, work):
    """One fused Sinkhorn sweep in the scaling domain.

    ``u_i = a_i / (K v)_i`` and ``w = K^T u``, reading each row of ``K`` once
    (the row stays in cache between the two uses). ``work`` has shape
    ``(n_chunks, m)``: each chunk of rows accumulates its own partial ``w``.
    """
    n, m = K.shape
    nchunks = work.shape[0]
    step = (n + nchunks - 1) // nchunks
    for t in prange(nchunks):
        wt = work[t]
        for j in range(m):
            wt[j] = 0.0
        for i in range(t * step, min(n, (t + 1) * step)):
            row = K[i]
            s0 = 0.0  # four independent accumulators: instruction-level
            s1 = 0.0  # parallelism without reassociating (no fastmath)
            s2 = 0.0
            s3 = 0.0
            m4 = m - m % 4
            for j in range(0, m4, 4):
                s0 += row[j] * v[j]
                s1 += row[j + 1] * v[j + 1]
                s2 += row[j + 2] * v[j + 2]
                s3 += row[j + 3] * v[j + 3]
            for j in range(m4, m):
                s0 += row[j] * v[j]
            ui = a[i] / ((s0 + s1) + (s2 + s3))
            u[i] = ui
            for j in range(m):
                wt[j] += ui * row[j]
    for j in range(m):
        acc = 0.0
        for t in range(nchunks):
            acc += work[t, j]
        w[j] = acc


def scaling_pass_ref(K, v, a, u, w, work):
    K = K.astype(np.float64)
    u[:] = a / (K @ v)
    w[:] = K.T @ u


@jit
def _cost_row(x, xx, YT, yy, scale, squared, buf):
    """Ground cost between one point and every column of ``YT`` (d, m)."""
    d, m = YT.shape
    for j in range(m):
        buf[j] = 0.0
    for k in range(d):
        xk = x[k]
        yk = YT[k]
        for j in range(m):
            buf[j] += xk * yk[j]
    for j in range(m):
        c = xx + yy[j] - 2.0 * buf[j]
        if c < 0.0:
            c = 0.0
        if not squared:
            c = np.sqrt(c)
        buf[j] = c * scale


@pjit
def lse_rows_online(X, YT, yy, h, eps, scale, squared, out, work):
    """``out[i] = LSE_j((h_j - c(x_i, y_j))/eps)`` with costs made on the fly.

    ``c(x, y) = scale * ||x - y||^2`` (or its square root when not
    ``squared``); ``YT`` is the (d, m) transposed target cloud, ``yy`` its
    squared row norms. ``work`` (n_chunks, m) holds one cost row per chunk, so
    memory is O(n + m) and the n x m cost matrix is never formed.
    """
    n = X.shape[0]
    m = YT.shape[1]
    nchunks = work.shape[0]
    step = (n + nchunks - 1) // nchunks
    inv = 1.0 / eps
    for t in prange(nchunks):
        buf = work[t]
        for i in range(t * step, min(n, (t + 1) * step)):
            x = X[i]
            xx = 0.0
            for k in range(x.shape[0]):
                xx += x[k] * x[k]
            _cost_row(x, xx, YT, yy, scale, squared, buf)
            mx = -np.inf
            for j in range(m):
                v = (h[j] - buf[j]) * inv
                buf[j] = v
                if v > mx:
                    mx = v
            s = 0.0
            for j in range(m):
                s += np.exp(buf[j] - mx)
            out[i] = mx + np.log(s)


def _cost_ref(X, Y, scale, squared):
    X = X.astype(np.float64)
    Y = Y.astype(np.float64)
    C = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    return scale * (C if squared else np.sqrt(C))


def lse_rows_online_ref(X, YT, yy, h, eps, scale, squared, out, work):
    C = _cost_ref(X, YT.T, scale, squared)
    lse_rows_ref(C, h, eps, None, out, None, False)


@pjit
def plan_cost_online(X, YT, yy, f, g, eps, scale, squared, out, work):
    """``out[i] = sum_j P_ij c_ij`` and the row mass of ``P`` never formed.

    ``P_ij = exp((f_i + g_j - c_ij)/eps)``; ``out`` has shape (n, 2): column 0
    the transport cost of row i, column 1 its mass.
    """
    n = X.shape[0]
    m = YT.shape[1]
    nchunks = work.shape[0]
    step = (n + nchunks - 1) // nchunks
    inv = 1.0 / eps
    for t in prange(nchunks):
        buf = work[t]
        for i in range(t * step, min(n, (t + 1) * step)):
            x = X[i]
            xx = 0.0
            for k in range(x.shape[0]):
                xx += x[k] * x[k]
            _cost_row(x, xx, YT, yy, scale, squared, buf)
            c_acc = 0.0
            p_acc = 0.0
            fi = f[i]
            for j in range(m):
                p = np.exp((fi + g[j] - buf[j]) * inv)
                c_acc += p * buf[j]
                p_acc += p
            out[i, 0] = c_acc
            out[i, 1] = p_acc


def plan_cost_online_ref(X, YT, yy, f, g, eps, scale, squared, out, work):
    C = _cost_ref(X, YT.T, scale, squared)
    P = np.exp((f[:, None] + g[None, :] - C) / eps)
    out[:, 0] = (P * C).sum(1)
    out[:, 1] = P.sum(1)
