"""The one place where skngd imports scikit-learn private API.

scikit-learn's parameter validation (``Interval``, ``StrOptions``,
``HasMethods``, ``validate_params``), the ``_fit_context`` decorator,
``BaseSearchCV``, ``LinearClassifierMixin`` and the metadata-request mixin
``_MetadataRequester`` are not public, and have moved between releases.
Importing them from here keeps a future move a one-file change.
"""

from sklearn.base import _fit_context
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.metadata_routing import _MetadataRequester

__all__ = [
    "BaseSearchCV",
    "HasMethods",
    "Interval",
    "LinearClassifierMixin",
    "StrOptions",
    "_MetadataRequester",
    "_fit_context",
    "validate_params",
]
