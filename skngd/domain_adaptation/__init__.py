"""Domain adaptation by optimal transport.

Domains follow skada's encoding: ``sample_domain >= 0`` marks source rows,
``< 0`` target rows, routed as fit/transform metadata; without it, masked
labels (``-1`` / NaN) mark the target.
"""

from skngd.domain_adaptation._adapter import OTDomainAdapter
from skngd.domain_adaptation._estimator import DomainAdaptedEstimator

__all__ = ["DomainAdaptedEstimator", "OTDomainAdapter"]
