r"""Coordinate descent on a quadratic model with an L1 penalty (covariance updates).

The inner solve of the proximal Newton method
(:mod:`skngd._solvers.prox_newton`) minimises, over the working set,

.. math::

    q(z) = g^T (z - w) + \tfrac12 (z - w)^T H (z - w) + \sum_j \lambda_j |z_j|

by cyclic coordinate descent on the Gram matrix ``H`` (glmnet's covariance
update: the model gradient :math:`r = g + H(z - w)` is kept and updated by one
column of ``H`` per coordinate change, never recomputed from the data). Each
coordinate step is the exact minimiser in that coordinate,
:math:`z_j \leftarrow S(z_j - r_j / H_{jj}, \lambda_j / H_{jj})` with the
soft-threshold ``S``. A sweep records the largest minimum-norm subgradient of
``q`` it met (the inner KKT violation); the solve stops after the first sweep
where that is at most ``tol``.

:func:`cd_gram` is the Numba kernel, :func:`cd_gram_ref` its NumPy twin (used
below ``NUMBA_MIN_SIZE`` rows, so a small fit never compiles Numba; it lives in
:mod:`skngd._kernels.cd_ref`, which does not import Numba); both
update ``z`` and ``r`` in place and return ``(sweeps, violation)``.
"""

import numpy as np

from skngd._kernels._jit import jit
from skngd._kernels.cd_ref import cd_gram_ref  # the twin lives apart: importing it never imports Numba


@jit
def cd_gram(H, r, z, l1, tol, max_sweeps):
    """Cyclic coordinate descent on ``q`` (module docstring), in place on
    ``z`` and ``r``. ``H`` symmetric C-contiguous (m, m), float64; a
    coordinate with ``H_jj <= 0`` is left as it is."""
    m = z.shape[0]
    viol = 0.0
    for sweep in range(max_sweeps):
        viol = 0.0
        for j in range(m):
            a = H[j, j]
            if not a > 0.0:
                continue
            zj = z[j]
            rj = r[j]
            lam = l1[j]
            if zj > 0.0:
                v = abs(rj + lam)
            elif zj < 0.0:
                v = abs(rj - lam)
            else:
                v = abs(rj) - lam
            if v > viol:
                viol = v
            u = zj - rj / a
            t = lam / a
            if u > t:
                new = u - t
            elif u < -t:
                new = u + t
            else:
                new = 0.0
            delta = new - zj
            if delta != 0.0:
                z[j] = new
                for i in range(m):
                    r[i] += delta * H[j, i]
        if viol <= tol:
            return sweep + 1, viol
    return max_sweeps, viol


__all__ = ["cd_gram", "cd_gram_ref"]
