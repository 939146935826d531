"""Hyper-parameter search that learns where to look: BayesSearchCV, CMAESSearchCV.

Both subclass scikit-learn's ``BaseSearchCV`` and take ``RandomizedSearchCV``'s
arguments; search spaces accept scikit-learn's ``param_distributions`` plus
:class:`Real`, :class:`Integer` and :class:`Categorical`.
"""

from ._bayes_search import BayesSearchCV
from ._checkpoint import CheckpointError
from ._cmaes_search import CMAESSearchCV
from ._space import Categorical, Integer, Real, SearchSpace

__all__ = [
    "BayesSearchCV",
    "CMAESSearchCV",
    "Categorical",
    "CheckpointError",
    "Integer",
    "Real",
    "SearchSpace",
]
