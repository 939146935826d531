r"""The GLM's problem object: the linear-model loss with a GLM family.

:class:`GLMProblem` is a :class:`~skngd._loss.linear_loss.LinearModelLoss`
over (family x link) with an offset, so it has the same value, gradient,
Fisher and observed-Hessian products and Gram matrices as the logistic loss
(on top of the shared data access, :class:`~skngd._loss.design.LinearDesign`).
The GLM's IRLS adds to it only its fast path: the fused Numba row pass
(means, Fisher weights, scores, deviance in one sweep; its NumPy twin below
``NUMBA_MIN_SIZE`` rows, :attr:`GLMProblem.use_numba`) and the Fisher Gram
matrix fused with the score (:meth:`GLMProblem.gram_score`). The objective is
the penalised half deviance
:math:`\sum_i \tfrac12 s_i\, d(y_i, g^{-1}(\eta_i)) + \tfrac{\lambda}{2}\lVert\beta\rVert^2`
in both views (``tests/_loss/test_glm_loss.py`` checks they agree); with a
ridge matrix :math:`P_2` the penalty is :math:`\tfrac{\lambda}{2}\beta^T P_2 \beta`.
"""

import numpy as np
import scipy.sparse as sp

from skngd._loss.linear_loss import LinearModelLoss, PointState
from skngd._loss.family import NUMBA_MIN_SIZE
from skngd._loss.glm_family import is_canonical

#: families whose log-link row pass has no logarithm (GLMProblem.loglink_power)
_LOG_FAMILIES = ("poisson", "gamma", "inverse_gaussian", "tweedie")


class GLMProblem(LinearModelLoss):
    """Data of one GLM fit. ``X`` is C-contiguous dense or CSR, all of one
    float dtype; ``l2`` is the penalty :math:`\\lambda` on the half-deviance
    scale (``alpha * sum(sample_weight)`` for scikit-learn's scaling, times
    ``1 - l1_ratio`` for the elastic net), ``ridge`` its shape (glum's ``P2``:
    None, a diagonal vector or a PSD matrix over the features).

    The products with ``X`` are the base's NumPy / scipy ones
    (``kernels=False``: the GLM's fused passes have their own kernels in
    :mod:`skngd._kernels.glm`).
    """

    def __init__(self, X, y, sample_weight, offset, family, link, fit_intercept=True, l2=0.0,
                 n_jobs=None, ridge=None):
        super().__init__(family, X, y, sample_weight, fit_intercept=fit_intercept,
                         l2_reg_strength=l2, link=link, offset=offset, kernels=False,
                         ridge=ridge)
        self.n_jobs = n_jobs
        self.ridge_input = ridge  # as given (the subsample fit rebuilds the problem)

    @property
    def sample_weight(self):
        return self.sw

    @property
    def n_coef(self):
        return self.n_dof

    @property
    def use_numba(self):
        """Whether the per-row passes run on the Numba kernels: from
        ``NUMBA_MIN_SIZE`` rows, for a family and link the kernels know
        (:mod:`skngd._kernels.codes`). Otherwise their NumPy twins
        (:mod:`skngd._kernels.glm_ref`), built on the family and link objects:
        as fast for small data, and a fit never imports or compiles Numba."""
        return (self.X.shape[0] >= NUMBA_MIN_SIZE and self.family.code >= 0
                and self.link.code >= 0)

    @property
    def gram_kernel(self):
        return self.use_numba

    @property
    def observed(self):
        """Whether Newton's method needs the observed information (non-canonical link)."""
        return not is_canonical(self.family, self.link)

    # -- the generic loss methods on the fused row pass (Numba from NUMBA_MIN_SIZE rows)
    def _codes(self):
        f, lk = self.family, self.link
        return f.code, float(f.power), lk.code, float(lk.power)

    def state(self, coef, raw=None):
        """:meth:`LinearModelLoss.state` from the fused Numba pass
        (:func:`skngd._kernels.glm.irls_pass`: means, Fisher weights, scores and
        deviance in one sweep) when :attr:`use_numba`; the per-sample losses
        (``st.loss``) are then not formed (None), only their sum."""
        if not self.use_numba:
            return super().state(coef, raw)
        from skngd._kernels.glm import irls_pass

        coef = np.asarray(coef, dtype=np.float64).reshape(self.shape)
        if raw is None:
            raw = self.raw_prediction(coef)
        eta = np.ascontiguousarray(raw[:, 0])
        mu, w, u = (np.empty_like(eta) for _ in range(3))
        dev = irls_pass(self.y, eta, self.sw, *self._codes(), mu, w, u)
        graw = -u[:, None]
        value = 0.5 * float(dev) + self.penalty(coef)
        grad = self.rmatmul(graw) + self.penalty_matvec(coef)
        st = PointState(coef, raw, None, graw, w[:, None], value, grad)
        st.half_deviance = 0.5 * float(dev)  # the line search's reference (loss_change)
        return st

    def _half_deviance(self, eta):
        from skngd._kernels.glm import glm_deviance

        return 0.5 * float(glm_deviance(self.y, np.ascontiguousarray(eta), self.sw,
                                        *self._codes()))

    def value(self, coef):
        if not self.use_numba:
            return super().value(coef)
        return self._half_deviance(self.raw_prediction(coef)[:, 0]) + self.penalty(coef)

    def loss_change(self, st, tU):
        """The half-deviance change by the fused deviance kernel (the unit
        deviances are non-negative: their sums bound the rounding)."""
        if not self.use_numba:
            return super().loss_change(st, tU)
        d0 = getattr(st, "half_deviance", None)
        d0 = self._half_deviance(st.raw[:, 0]) if d0 is None else d0
        d1 = self._half_deviance(st.raw[:, 0] + tU[:, 0])
        return d1 - d0, abs(d1) + abs(d0)

    @property
    def loglink_power(self):
        """The variance power ``p >= 1`` of a log-link power-variance family
        (Poisson, Gamma, inverse Gaussian, Tweedie ``p >= 1``), whose row pass
        needs no logarithm (:func:`skngd._kernels.glm.loglink_pass`); None
        for every other pair."""
        if self.link.name != "log" or self.family.name not in _LOG_FAMILIES:
            return None
        p = getattr(self.family, "variance_power", None)
        return None if p is None or not float(p) >= 1.0 else float(p)

    @property
    def pass_constant(self):
        """The ``y``-only part of the weighted half deviance that
        :meth:`row_pass` leaves out (0 unless :attr:`loglink_power`)."""
        c = getattr(self, "_pass_constant", None)
        if c is None:
            from skngd._kernels.glm_ref import loglink_constant

            p = self.loglink_power
            c = 0.0 if p is None else loglink_constant(self.y, self.sw, p)
            self._pass_constant = c
        return c

    def row_pass(self, eta, mu, w, u, rows=slice(None)):
        """The fused Numba row pass at ``eta`` (offset included, contiguous):
        writes means ``mu``, Fisher weights ``w`` and scores ``u``; returns
        ``(value, scale)`` with ``value + pass_constant`` the weighted half
        deviance (``inf`` outside the domain) and ``eps * scale`` the
        rounding level of ``value``. The log-link kernel for
        :attr:`loglink_power` families, :func:`~skngd._kernels.glm.irls_pass`
        otherwise. ``rows``: a slice of the rows (``eta`` and the outputs
        have its length)."""
        y, sw = self.y[rows], self.sw[rows]
        if not (y.shape == eta.shape == mu.shape == w.shape == u.shape):
            raise ValueError("row_pass: eta, mu, w and u must have the rows' length.")
        p = self.loglink_power
        if p is not None:
            from skngd._kernels.glm import loglink_pass

            val, scale = loglink_pass(y, eta, sw, p, mu, w, u)
            return float(val), float(scale)
        from skngd._kernels.glm import irls_pass

        half = 0.5 * float(irls_pass(y, eta, sw, *self._codes(), mu, w, u))
        return half, abs(half)

    def gram_score(self, w, v=None, ws=None):
        """``(X~^T diag(w) X~, X~^T v)`` (:meth:`LinearDesign.weighted_gram`),
        in the reusable block buffer of ``ws`` when given."""
        buffer = None if ws is None or sp.issparse(self.X) else (ws.block, ws.buf)
        return self.weighted_gram(w, v, buffer=buffer)


__all__ = ["GLMProblem"]
