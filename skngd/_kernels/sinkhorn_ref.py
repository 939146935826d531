"""NumPy twins of the Sinkhorn kernels in :mod:`skngd._kernels.sinkhorn`.

Same signatures and results (to rounding), no Numba: the tests' reference and
the path small problems take (:func:`skngd.ot.sinkhorn` below
``NUMBA_MIN_ENTRIES`` cost entries), so a small fit neither imports Numba nor
compiles anything. Inputs are read without copies when already float64.
"""

import numpy as np


def _f64(A):
    return np.asarray(A, dtype=np.float64)


def lse_rows_ref(C, h, eps, a, out, K, write_gibbs):
    V = (h[None, :] - _f64(C)) / eps
    mx = V.max(axis=1, keepdims=True)
    V -= mx
    np.exp(V, out=V)
    s = V.sum(axis=1, keepdims=True)
    out[:] = (mx + np.log(s))[:, 0]
    if write_gibbs:
        np.multiply(V, a[:, None] / s, out=K)


def lse_cols_ref(C, h, eps, out):
    V = (h[:, None] - _f64(C)) / eps
    mx = V.max(axis=0, keepdims=True)
    V -= mx
    np.exp(V, out=V)
    out[:] = (mx + np.log(V.sum(axis=0, keepdims=True)))[0]


def scaling_pass_ref(K, v, a, u, w, work):
    K = _f64(K)
    u[:] = a / (K @ v)
    w[:] = u @ K


def _cost_ref(X, Y, scale, squared):
    X, Y = _f64(X), _f64(Y)
    C = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    return scale * (C if squared else np.sqrt(C))


def lse_rows_online_ref(X, Y, yy, h, eps, scale, squared, out, work):
    C = _cost_ref(X, Y, scale, squared)
    lse_rows_ref(C, h, eps, None, out, None, False)


def plan_cost_online_ref(X, Y, yy, f, g, eps, scale, squared, out, work):
    C = _cost_ref(X, Y, scale, squared)
    P = np.exp((f[:, None] + g[None, :] - C) / eps)
    out[:, 0] = (P * C).sum(1)
    out[:, 1] = P.sum(1)
