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

def sklearn_l1_params(l1_ratio):
    """Keyword arguments giving scikit-learn's ``LogisticRegression`` the
    elastic-net mixing ``l1_ratio`` on every supported release: from 1.8 it
    reads ``l1_ratio`` alone (``penalty`` deprecated); before, ``l1_ratio``
    is ignored unless ``penalty='elasticnet'``. For skngd's comparisons with
    scikit-learn (tour, benchmarks, tests)."""
    from sklearn.linear_model import LogisticRegression

    if l1_ratio == 0 or LogisticRegression().get_params()["penalty"] == "deprecated":
        return {"l1_ratio": l1_ratio}
    return {"penalty": "elasticnet", "l1_ratio": l1_ratio}


__all__ = [
    "BaseSearchCV",
    "HasMethods",
    "Interval",
    "LinearClassifierMixin",
    "StrOptions",
    "sklearn_l1_params",
    "_MetadataRequester",
    "_fit_context",
    "validate_params",
]
