r"""Coordinate descent on the quadratic L1 model directly on CSC columns.

The same model as :mod:`skngd._kernels.cd`,

.. math::

    q(z) = g^T d + \tfrac12 d^T H d + \sum_j \lambda_j |z_j|, \qquad d = z - w,
    \qquad H = \tilde X_S^T \mathrm{diag}(h) \tilde X_S + \mathrm{diag}(\rho),

over a working set ``S`` of ``m_f`` feature columns of a sparse ``X`` (CSC:
``data``, ``indices``, ``indptr``) and, when ``z`` has one more entry, the
intercept (a column of ones, last), with a diagonal ridge :math:`\rho`. The
Gram matrix is never formed (glmnet's "naive" update, skglm's residual
trick): the image :math:`u = X_S d_f` of the feature part of the step is kept
(length ``n``) and updated by one column per coordinate change, and the model
gradient of coordinate ``j`` is computed from it,

.. math::

    r_j = g_j + (h \circ x_j)^T u + d_0\, c_j + \rho_j d_j, \qquad
    r_0 = g_0 + s + H_{00} d_0,

with :math:`c_j = x_j^T h`, :math:`d_0` the intercept's step and
:math:`s = h^T u = c^T d_f` (kept as a scalar, so the dense ones column is
never touched). ``hdata`` holds :math:`h_i x_{ij}` in the layout of ``data``.
One sweep costs two passes over the working set's non-zeros instead of the
:math:`m^2` of a Gram sweep, and nothing is built but ``hdata`` and ``c``.

The coordinate steps are the exact minimisers in their coordinate, in the same
order as :func:`skngd._kernels.cd.cd_gram` (so both give the same iterates in
exact arithmetic); a sweep records the largest minimum-norm subgradient of
``q`` it met and the solve stops after the first sweep where that is at most
``tol``. :func:`cd_csc` is the Numba kernel, :func:`cd_csc_ref` its NumPy twin
(in :mod:`skngd._kernels.cd_sparse_ref`, which does not import Numba);
both update ``z`` and ``u`` in place and return ``(sweeps, violation)``.
:func:`model_gradient` (and its twin) gives the full ``r`` at the current
``z``; :func:`weighted_columns` forms ``hdata``, ``c`` and the diagonal of
``H`` in one pass.

Arrays: ``data``, ``hdata`` float64 (nnz,), ``indices`` int64 (nnz,),
``indptr`` int64 (m_f + 1,), ``u`` float64 (n,), the rest float64 (m,) except
``c`` (m_f,). One signature, so a cold cache compiles each kernel once.
"""

import numpy as np

from skngd._kernels._jit import jit
from skngd._kernels.cd_sparse_ref import (  # noqa: F401 - twins apart: no Numba import
    cd_csc_ref,
    model_gradient_ref,
    weighted_columns_ref,
)


@jit
def cd_csc(data, hdata, indices, indptr, u, g, z, w, l1, hdiag, ridge, c, tol, max_sweeps):
    """Cyclic coordinate descent on ``q`` (module docstring), in place on
    ``z`` and ``u``; a coordinate with ``hdiag <= 0`` is left as it is."""
    m = z.shape[0]
    mf = indptr.shape[0] - 1
    s = 0.0
    for j in range(mf):
        s += c[j] * (z[j] - w[j])
    d0 = z[m - 1] - w[m - 1] if m > mf else 0.0
    viol = 0.0
    for sweep in range(max_sweeps):
        viol = 0.0
        for j in range(m):
            a = hdiag[j]
            if not a > 0.0:
                continue
            zj = z[j]
            if j < mf:
                acc = 0.0
                for k in range(indptr[j], indptr[j + 1]):
                    acc += hdata[k] * u[indices[k]]
                rj = g[j] + acc + d0 * c[j] + ridge[j] * (zj - w[j])
            else:
                rj = g[j] + s + a * d0
            lam = l1[j]
            if zj > 0.0:
                v = abs(rj + lam)
            elif zj < 0.0:
                v = abs(rj - lam)
            else:
                v = abs(rj) - lam
            if v > viol:
                viol = v
            ut = zj - rj / a
            t = lam / a
            if ut > t:
                new = ut - t
            elif ut < -t:
                new = ut + t
            else:
                new = 0.0
            delta = new - zj
            if delta != 0.0:
                z[j] = new
                if j < mf:
                    for k in range(indptr[j], indptr[j + 1]):
                        u[indices[k]] += delta * data[k]
                    s += delta * c[j]
                else:
                    d0 = new - w[j]
        if viol <= tol:
            return sweep + 1, viol
    return max_sweeps, viol


@jit
def model_gradient(hdata, indices, indptr, u, g, z, w, hdiag, ridge, c, out):
    """``out = r``, the model gradient over the working set at ``z`` (the
    :math:`r_j` of the module docstring), with ``u = X_S d_f``."""
    m = z.shape[0]
    mf = indptr.shape[0] - 1
    d0 = z[m - 1] - w[m - 1] if m > mf else 0.0
    s = 0.0
    for j in range(mf):
        acc = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            acc += hdata[k] * u[indices[k]]
        out[j] = g[j] + acc + d0 * c[j] + ridge[j] * (z[j] - w[j])
        s += c[j] * (z[j] - w[j])
    if m > mf:
        out[m - 1] = g[m - 1] + s + hdiag[m - 1] * d0


@jit
def weighted_columns(data, indices, indptr, h, hdata, c, hdiag):
    """The model's column quantities in one pass over the working set's
    non-zeros: ``hdata = h_i x_ij``, ``c_j = x_j^T h`` and ``hdiag_j =
    x_j^T diag(h) x_j`` (the first ``m_f`` entries of ``hdiag``)."""
    for j in range(indptr.shape[0] - 1):
        cj = 0.0
        dj = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            v = h[indices[k]] * data[k]
            hdata[k] = v
            cj += v
            dj += v * data[k]
        c[j] = cj
        hdiag[j] = dj


__all__ = ["cd_csc", "cd_csc_ref", "model_gradient", "model_gradient_ref", "weighted_columns",
           "weighted_columns_ref"]
