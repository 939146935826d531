r"""The GLM's problem object: a specialisation of the shared data access.

:class:`GLMProblem` is :class:`~skngd._loss.design.LinearDesign` (``X``,
sample weights, offset, intercept column, ridge penalty; every product with
:math:`\tilde X` and every weighted Gram matrix) plus what the GLM's IRLS
needs on top: the family and link objects, float64 targets, and the choice
between the fused Numba row pass and its NumPy twin (:attr:`use_numba`).
Its objective is the penalised half deviance, the same per-sample loss
:math:`\tfrac12 s_i\, d(y_i, g^{-1}(\eta_i))` that
:class:`~skngd._loss.linear_loss.LinearModelLoss` evaluates for a GLM family.
"""

import scipy.sparse as sp

from skngd._loss.design import LinearDesign
from skngd._loss.family import NUMBA_MIN_SIZE
from skngd._loss.glm_family import is_canonical


class GLMProblem(LinearDesign):
    """Data of one GLM fit. ``X`` is C-contiguous dense or CSR, all of one
    float dtype; ``l2`` is the penalty :math:`\\lambda` on the half-deviance
    scale (``alpha * sum(sample_weight)`` for scikit-learn's scaling).

    The products with ``X`` are the base's NumPy / scipy ones (the GLM's
    fused passes have their own kernels in :mod:`skngd._kernels.glm`).
    """

    def __init__(self, X, y, sample_weight, offset, family, link, fit_intercept=True, l2=0.0,
                 n_jobs=None):
        super().__init__(X, sample_weight, offset=offset, fit_intercept=fit_intercept, l2=l2,
                         kernels=False)
        self.y, self.family, self.link, self.n_jobs = y, family, link, n_jobs

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

    def gram(self, w, v=None, ws=None):
        """``(X~^T diag(w) X~, X~^T v)`` (:meth:`LinearDesign.weighted_gram`),
        in the reusable block buffer of ``ws`` when given."""
        buffer = None if ws is None or sp.issparse(self.X) else (ws.block, ws.buf)
        return self.weighted_gram(w, v, buffer=buffer)


__all__ = ["GLMProblem"]
