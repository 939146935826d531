"""Scorers that pass an ``offset`` to the GLM's predictions.

scikit-learn's :func:`~sklearn.metrics.make_scorer` calls
``estimator.predict(X)`` without metadata, so under cross-validation a model
fitted with an exposure offset would be scored on predictions without it.
:func:`make_offset_scorer` builds a scorer that requests ``offset`` under
metadata routing and predicts with it.
"""

import numpy as np
from sklearn.utils.metadata_routing import MetadataRequest


class OffsetScorer:
    """Callable ``scorer(estimator, X, y, offset=None, sample_weight=None)``
    returning ``sign * score_func(y, estimator.predict(X, offset=offset))``.

    Built by :func:`make_offset_scorer`; under
    ``sklearn.config_context(enable_metadata_routing=True)`` it requests
    ``offset`` by default (change with :meth:`set_score_request`).
    """

    def __init__(self, score_func, sign, kwargs):
        self._score_func, self._sign, self._kwargs = score_func, sign, dict(kwargs)
        self._requests = {"offset": True, "sample_weight": None}

    def __call__(self, estimator, X, y_true, offset=None, sample_weight=None):
        y_pred = estimator.predict(X) if offset is None else estimator.predict(X, offset=offset)
        kw = dict(self._kwargs)
        if sample_weight is not None:
            kw["sample_weight"] = sample_weight
        return self._sign * self._score_func(np.asarray(y_true), y_pred, **kw)

    def set_score_request(self, *, offset=True, sample_weight=None):
        """Which metadata the scorer receives under routing (True, False,
        None or an alias string), as scikit-learn's ``set_score_request``."""
        self._requests = {"offset": offset, "sample_weight": sample_weight}
        return self

    def get_metadata_routing(self):
        request = MetadataRequest(owner=type(self).__name__)
        for param, alias in self._requests.items():
            request.score.add_request(param=param, alias=alias)
        return request

    def __repr__(self):
        sign = "" if self._sign > 0 else ", greater_is_better=False"
        return f"make_offset_scorer({getattr(self._score_func, '__name__', self._score_func)}{sign})"


def make_offset_scorer(score_func, *, greater_is_better=True, **kwargs):
    """Make a scorer that predicts with the ``offset`` it is given.

    Use it as ``scoring=`` of :class:`~sklearn.model_selection.GridSearchCV`
    or :func:`~sklearn.model_selection.cross_val_score` for GLMs fitted with
    an offset (exposure), under metadata routing.

    Parameters
    ----------
    score_func : callable
        ``score_func(y_true, y_pred, **kwargs)``, e.g.
        :func:`sklearn.metrics.mean_poisson_deviance`.
    greater_is_better : bool, default=True
        False for a loss (the scorer then returns its negative, as
        scikit-learn's scorers).
    **kwargs
        Passed to ``score_func``.

    Returns
    -------
    scorer : OffsetScorer
        ``scorer(estimator, X, y, offset=None, sample_weight=None)``, with
        ``set_score_request`` for metadata routing.

    Examples
    --------
    >>> import numpy as np, sklearn
    >>> from sklearn.metrics import mean_poisson_deviance
    >>> from sklearn.model_selection import cross_val_score
    >>> from skngd.linear_model import PoissonRegressor, make_offset_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> exposure = rng.uniform(0.1, 2.0, 200)
    >>> y = rng.poisson(exposure * np.exp(X @ [0.3, -0.2]))
    >>> scorer = make_offset_scorer(mean_poisson_deviance, greater_is_better=False)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     est = PoissonRegressor(alpha=0.0).set_fit_request(offset=True)
    ...     scores = cross_val_score(est, X, y, scoring=scorer, cv=3,
    ...                              params={"offset": np.log(exposure)})
    >>> scores.shape
    (3,)
    """
    return OffsetScorer(score_func, 1 if greater_is_better else -1, kwargs)
