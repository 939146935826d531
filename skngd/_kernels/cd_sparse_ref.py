"""NumPy twins of the CSC coordinate-descent kernels of
:mod:`skngd._kernels.cd_sparse` (same updates, same order). A module of its
own so that small sparse L1 fits, which run them, never import Numba."""

import numpy as np


def weighted_columns_ref(data, indices, indptr, h, hdata, c, hdiag):
    """NumPy twin of :func:`~skngd._kernels.cd_sparse.weighted_columns`."""
    mf = indptr.shape[0] - 1
    col = np.repeat(np.arange(mf), np.diff(indptr))
    hdata[:] = data * h[indices]
    c[:] = np.bincount(col, weights=hdata, minlength=mf)
    hdiag[:mf] = np.bincount(col, weights=hdata * data, minlength=mf)


def _column_dots(hdata, indices, indptr, u):
    """``(h o x_j)^T u`` for every column (NumPy)."""
    mf = indptr.shape[0] - 1
    col = np.repeat(np.arange(mf), np.diff(indptr))
    return np.bincount(col, weights=hdata * u[indices], minlength=mf)


def cd_csc_ref(data, hdata, indices, indptr, u, g, z, w, l1, hdiag, ridge, c, tol,
               max_sweeps):
    """NumPy twin of :func:`~skngd._kernels.cd_sparse.cd_csc` (same updates, same order)."""
    m, mf = z.shape[0], indptr.shape[0] - 1
    s = float(c @ (z[:mf] - w[:mf]))
    d0 = z[m - 1] - w[m - 1] if m > mf else 0.0
    viol = 0.0
    for sweep in range(max_sweeps):
        viol = 0.0
        for j in range(m):
            a = hdiag[j]
            if not a > 0.0:
                continue
            zj, lam = z[j], l1[j]
            if j < mf:
                sl = slice(indptr[j], indptr[j + 1])
                rj = (g[j] + float(hdata[sl] @ u[indices[sl]]) + d0 * c[j]
                      + ridge[j] * (zj - w[j]))
            else:
                rj = g[j] + s + a * d0
            v = abs(rj + lam) if zj > 0.0 else (abs(rj - lam) if zj < 0.0 else abs(rj) - lam)
            viol = max(viol, v)
            ut, t = zj - rj / a, lam / a
            new = ut - t if ut > t else (ut + t if ut < -t else 0.0)
            delta = new - zj
            if delta != 0.0:
                z[j] = new
                if j < mf:
                    u[indices[sl]] += delta * data[sl]
                    s += delta * c[j]
                else:
                    d0 = new - w[j]
        if viol <= tol:
            return sweep + 1, viol
    return max_sweeps, viol


def model_gradient_ref(hdata, indices, indptr, u, g, z, w, hdiag, ridge, c, out):
    """NumPy twin of :func:`~skngd._kernels.cd_sparse.model_gradient`."""
    m, mf = z.shape[0], indptr.shape[0] - 1
    d0 = z[m - 1] - w[m - 1] if m > mf else 0.0
    d = z[:mf] - w[:mf]
    out[:mf] = g[:mf] + _column_dots(hdata, indices, indptr, u) + d0 * c + ridge[:mf] * d
    if m > mf:
        out[m - 1] = g[m - 1] + float(c @ d) + hdiag[m - 1] * d0


__all__ = ["cd_csc_ref", "model_gradient_ref", "weighted_columns_ref"]
