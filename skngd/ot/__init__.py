"""Functional optimal-transport core: Sinkhorn (dense and online), exact EMD,
the Gaussian (Bures-Wasserstein) map, and group-lasso regularised Sinkhorn.

Every solver returns an :class:`OTResult`. POT is imported lazily, only inside
:func:`emd`, because ``import ot`` loads every installed backend.
"""

from skngd.ot._emd import emd
from skngd.ot._gaussian import GaussianMap, bures_wasserstein, gaussian_map
from skngd.ot._group_lasso import sinkhorn_group_lasso
from skngd.ot._online import sinkhorn_online
from skngd.ot._result import OTResult
from skngd.ot._sinkhorn import sinkhorn

__all__ = [
    "GaussianMap",
    "OTResult",
    "bures_wasserstein",
    "emd",
    "gaussian_map",
    "sinkhorn",
    "sinkhorn_group_lasso",
    "sinkhorn_online",
]
