"""Fused per-row pass for Student-t linear regression.

For row ``i`` with linear predictor ``eta_i = x_i^T beta + b``, residual
``r_i = y_i - eta_i`` and squared standardised residual
``delta_i = (r_i / sigma)^2``, the pass writes

.. math::

    r_i, \\qquad
    \\lambda_i = \\frac{\\nu + 1}{\\nu + \\delta_i}, \\qquad
    \\ell_i = -\\frac{\\nu + 1}{2} \\log\\left(1 + \\frac{\\delta_i}{\\nu}\\right),

i.e. the residual, the EM weight :math:`E[\\tau_i \\mid y_i]` of the
Gaussian scale mixture and the data-dependent part of the t log-density (the
constant :math:`\\log\\Gamma(\\frac{\\nu+1}{2}) - \\log\\Gamma(\\frac{\\nu}{2})
- \\frac12 \\log(\\nu\\pi) - \\log\\sigma` is added by the caller).

One pass reads each row of ``X`` once; rows are independent, so the outer
loop is a ``prange`` and each iteration writes only its own entries.
"""

import numpy as np

from skngd._kernels._jit import pjit, prange


@pjit
def t_row_pass(X, y, coef, intercept, inv_scale, nu, resid_out, weight_out, loglik_out):
    """Residuals, EM weights and log-density terms for every row (in place).

    Parameters
    ----------
    X : ndarray of shape (n, p), C-contiguous, float32 or float64
    y : ndarray of shape (n,), same dtype as ``X``
    coef : ndarray of shape (p,), same dtype as ``X``
    intercept, inv_scale, nu : float
        ``inv_scale`` is ``1 / sigma`` (finite, > 0); ``nu`` > 0.
    resid_out, weight_out, loglik_out : ndarray of shape (n,)
        Output buffers (float32 or float64).
    """
    n, p = X.shape
    half_nu1 = 0.5 * (nu + 1.0)
    inv_nu = 1.0 / nu
    for i in prange(n):
        acc = intercept
        for j in range(p):
            acc += X[i, j] * coef[j]
        r = y[i] - acc
        z = r * inv_scale
        d = z * z
        resid_out[i] = r
        weight_out[i] = (nu + 1.0) / (nu + d)
        loglik_out[i] = -half_nu1 * np.log1p(d * inv_nu)


def t_row_pass_ref(X, y, coef, intercept, inv_scale, nu):
    """NumPy reference of :func:`t_row_pass`; returns ``(resid, weight, loglik)``."""
    r = np.asarray(y, dtype=np.float64) - (np.asarray(X, np.float64) @ coef + intercept)
    d = (r * inv_scale) ** 2
    return r, (nu + 1.0) / (nu + d), -0.5 * (nu + 1.0) * np.log1p(d / nu)


__all__ = ["t_row_pass", "t_row_pass_ref"]
