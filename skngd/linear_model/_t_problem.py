"""The Student-t regression problem in centred, power-of-two-scaled coordinates.

:class:`StudentTRegressor` solves in coordinates where ``y``, the sample
weights and (without a ridge penalty) every column of the centred ``X`` have
largest absolute value in ``[0.5, 1)``. The scale factors are powers of two,
so the change of coordinates is exact in floating point, and the problem is
equivalent by the fit's equivariances:

* ``y -> y / c_y``: coefficients, intercept and scale divide by ``c_y``,
  weights are unchanged (the penalty :math:`\\alpha\\lVert\\beta\\rVert^2/\\sigma^2`
  is invariant);
* column ``j -> x_j / d_j`` (only when ``alpha == 0`` and there are more
  samples than parameters: a ridge penalty, or the minimum-norm
  interpolating fit of wide data, is not invariant to it): coefficient ``j``
  multiplies by ``d_j``;
* ``w -> w / c_w`` together with ``alpha -> alpha / c_w``: the objective
  divides by ``c_w``.

So data of any magnitude whose squares do not overflow (the boundary checks
that) is solved without underflow or overflow inside the solver, and the
log-likelihood history maps back as ``c_w * L_s - (sum w) log c_y``.
"""

from dataclasses import dataclass

import numpy as np


def _pow2(a):
    """Power of two ``2**e`` with ``a / 2**e`` in ``[0.5, 1)`` (1 where ``a == 0``)."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(a > 0, np.ldexp(1.0, np.frexp(a)[1]), 1.0)


@dataclass
class TProblem:
    """Scaled data and the factors that map solutions back (see module docstring)."""

    X: np.ndarray  # centred and column-scaled, C-contiguous
    y: np.ndarray
    sw: np.ndarray
    alpha: float
    x_mean: np.ndarray
    col_scale: np.ndarray
    y_scale: float
    w_scale: float

    @classmethod
    def from_data(cls, X, y, sw, alpha, fit_intercept, scale_columns):
        x_mean = (sw @ X) / sw.sum() if fit_intercept else np.zeros(X.shape[1])
        Xc = X - x_mean
        col = np.ones(X.shape[1])
        if scale_columns and Xc.size:
            col = _pow2(np.maximum(Xc.max(axis=0), -Xc.min(axis=0)))
            if np.any(col != 1.0):
                Xc /= col
        y_scale = float(_pow2(np.max(np.abs(y))))
        w_scale = float(_pow2(np.max(sw)))
        return cls(np.ascontiguousarray(Xc), np.ascontiguousarray(y / y_scale), sw / w_scale,
                   alpha / w_scale, x_mean, col, y_scale, w_scale)

    def to_scaled(self, coef, intercept, scale):
        """``(beta, b, sigma)`` in scaled, centred coordinates from fitted attributes."""
        coef = np.asarray(coef, dtype=np.float64)
        b = float(intercept + self.x_mean @ coef)
        return coef * self.col_scale / self.y_scale, b / self.y_scale, scale / self.y_scale

    def from_scaled(self, beta, b, scale):
        """``(coef_, intercept_, scale_)`` (``intercept_`` 0 without an intercept)."""
        coef = beta * self.y_scale / self.col_scale
        return coef, float(b * self.y_scale - self.x_mean @ coef), scale * self.y_scale

    @property
    def units(self):
        """``(a, c, s)``: log-likelihood ``a * L - s`` and scale ``c * sigma`` in
        the caller's units."""
        shift = float(self.sw.sum()) * self.w_scale * np.log(self.y_scale)
        return self.w_scale, self.y_scale, shift

    def history(self, history):
        """The log-likelihood history in the caller's units."""
        h = np.asarray(history, dtype=np.float64)
        a, _, shift = self.units
        return h * a - shift if np.all(np.isfinite(h)) else h


__all__ = ["TProblem"]
