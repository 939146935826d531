"""Domain adaptation by optimal transport, and its validation without target labels.

Domains follow skada's encoding: ``sample_domain >= 0`` marks source rows,
``< 0`` target rows, routed as fit/transform/score metadata; without it,
masked labels (``-1`` / NaN) mark the target.
"""

from skngd.domain_adaptation._adapter import OTDomainAdapter
from skngd.domain_adaptation._estimator import DomainAdaptedEstimator
from skngd.domain_adaptation._maps import CollapsedMapWarning
from skngd.domain_adaptation._scorers import (
    AssortativityScorer,
    CircularValidation,
    DeepEmbeddedValidation,
    ImportanceWeightedScorer,
    PredictionEntropyScorer,
)
from skngd.domain_adaptation._splitters import LeaveOneDomainOut, SourceTargetShuffleSplit

__all__ = [
    "AssortativityScorer",
    "CircularValidation",
    "CollapsedMapWarning",
    "DeepEmbeddedValidation",
    "DomainAdaptedEstimator",
    "ImportanceWeightedScorer",
    "LeaveOneDomainOut",
    "OTDomainAdapter",
    "PredictionEntropyScorer",
    "SourceTargetShuffleSplit",
]
