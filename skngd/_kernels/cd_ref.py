"""NumPy twin of :func:`skngd._kernels.cd.cd_gram` (coordinate descent on the
Gram matrix of a quadratic model with an L1 penalty). A module of its own so
that small fits, which run it, never import Numba."""

import numpy as np


def cd_gram_ref(H, r, z, l1, tol, max_sweeps):
    """NumPy twin of :func:`cd_gram` (same updates, same order)."""
    m = z.shape[0]
    diag = np.diag(H).copy()
    viol = 0.0
    for sweep in range(max_sweeps):
        viol = 0.0
        for j in range(m):
            a = diag[j]
            if not a > 0.0:
                continue
            zj, rj, lam = z[j], r[j], l1[j]
            v = abs(rj + lam) if zj > 0.0 else (abs(rj - lam) if zj < 0.0 else abs(rj) - lam)
            viol = max(viol, v)
            u, t = zj - rj / a, lam / a
            new = u - t if u > t else (u + t if u < -t else 0.0)
            delta = new - zj
            if delta != 0.0:
                z[j] = new
                r += delta * H[j]
        if viol <= tol:
            return sweep + 1, viol
    return max_sweeps, viol


__all__ = ["cd_gram_ref"]
