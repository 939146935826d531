"""DomainAdaptedEstimator: fit a predictor on source rows mapped to the target."""

import inspect

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from skngd.utils._sklearn_compat import _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import get_tags
from skngd.utils._sklearn_compat import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from skngd.domain_adaptation._adapter import OTDomainAdapter
from skngd.domain_adaptation._validation import domains_for_fit


def _default_estimator():
    from sklearn.svm import SVC

    return SVC()


def _estimator_has(attr):
    def check(self):
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        est = self.estimator if self.estimator is not None else _default_estimator()
        return hasattr(est, attr)

    return check


def _accepts_sample_domain(method):
    try:
        return "sample_domain" in inspect.signature(method).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return False


def _mask_target_labels(y, target):
    """A copy of ``y`` whose target rows carry no information (never read)."""
    if y.dtype.kind == "f":
        out = y.astype(np.float64, copy=True)
        out[target] = np.nan
    elif y.dtype.kind in "iu":
        out = y.astype(np.int64, copy=True)
        out[target] = -1
    else:
        out = y.astype(object, copy=True)
        out[target] = -1
    return out


class DomainAdaptedEstimator(MetaEstimatorMixin, BaseEstimator):
    """Train a predictor on labelled source rows transported to the target.

    ``fit`` fits a clone of ``adapter`` on all rows of ``X`` (source and
    target, told apart by ``sample_domain`` or by masked labels, as in
    :class:`OTDomainAdapter`), maps the source rows, and fits a clone of
    ``estimator`` on the mapped, labelled source rows only: target labels are
    never read (they are masked before the adapter sees ``y``). ``predict``
    treats new rows as target data (``sample_domain=None``) and passes them
    through the fitted adapter, the identity on target rows.

    The meta-estimator is a classifier or a regressor exactly when
    ``estimator`` is (tags delegated), so ``score``, ``cross_val_score`` and
    the search classes treat it as such. With no domain information at all
    (no ``sample_domain``, nothing masked) it is ``estimator`` fitted on all
    rows.

    Parameters
    ----------
    adapter : transformer or None, default=None
        A domain adapter; None means ``OTDomainAdapter()``.
    estimator : estimator or None, default=None
        The predictor trained on the mapped source; None means
        ``sklearn.svm.SVC()``.

    Attributes
    ----------
    adapter_ : transformer
        The fitted clone of ``adapter``.
    estimator_ : estimator
        The fitted clone of ``estimator``.
    classes_ : ndarray
        Class labels (classifiers only).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.svm import SVC
    >>> from skngd.domain_adaptation import DomainAdaptedEstimator, OTDomainAdapter
    >>> rng = np.random.RandomState(0)
    >>> Xs = np.r_[rng.randn(50, 2) - 2, rng.randn(50, 2) + 2]
    >>> ys = np.r_[np.zeros(50, int), np.ones(50, int)]
    >>> Xt = Xs + [6.0, 0.0]                      # shifted target domain
    >>> X, y = np.r_[Xs, Xt], np.r_[ys, -np.ones(100, int)]  # target masked
    >>> clf = DomainAdaptedEstimator(OTDomainAdapter(method="emd"), SVC())
    >>> float(clf.fit(X, y).score(Xt, ys))
    1.0
    """

    _parameter_constraints = {
        "adapter": [HasMethods(["fit", "transform"]), None],
        "estimator": [HasMethods(["fit", "predict"]), None],
    }

    def __init__(self, adapter=None, estimator=None):
        self.adapter = adapter
        self.estimator = estimator

    def _task(self):
        est = self.estimator if self.estimator is not None else _default_estimator()
        return "classification" if is_classifier(est) else "regression"

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_domain=None):
        """Fit the adapter on all rows and the estimator on mapped source rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels; target rows may be masked (-1 / NaN) and are never used.
        sample_domain : array-like of int or None
            >= 0 source, < 0 target; None infers the target from masked labels.

        Returns
        -------
        self
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        y = column_or_1d(y, warn=True)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} rows but X has {X.shape[0]}.")
        dom = domains_for_fit(y, sample_domain, X.shape[0], task=self._task())
        adapter = clone(self.adapter) if self.adapter is not None else OTDomainAdapter()
        y_adapter = _mask_target_labels(y, dom.target)
        if dom.identity or not _accepts_sample_domain(adapter.fit_transform):
            Xm = adapter.fit_transform(X, y_adapter)
        else:
            Xm = adapter.fit_transform(X, y_adapter, sample_domain=dom.as_sample_domain())
        estimator = clone(self.estimator) if self.estimator is not None else _default_estimator()
        self.estimator_ = estimator.fit(np.asarray(Xm)[dom.source], y[dom.source])
        self.adapter_ = adapter
        return self

    def _map(self, X, sample_domain):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        if sample_domain is None:
            return self.adapter_.transform(X)
        return self.adapter_.transform(X, sample_domain=sample_domain)

    @property
    def classes_(self):
        check_is_fitted(self)
        return self.estimator_.classes_

    def predict(self, X, sample_domain=None):
        """Predict with the estimator on rows passed through the adapter."""
        Xm = self._map(X, sample_domain)
        return self.estimator_.predict(Xm)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X, sample_domain=None):
        """Class probabilities (when the estimator has them)."""
        Xm = self._map(X, sample_domain)
        return self.estimator_.predict_proba(Xm)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X, sample_domain=None):
        """Log class probabilities (when the estimator has them)."""
        Xm = self._map(X, sample_domain)
        return self.estimator_.predict_log_proba(Xm)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X, sample_domain=None):
        """Decision function (when the estimator has one)."""
        Xm = self._map(X, sample_domain)
        return self.estimator_.decision_function(Xm)

    def score(self, X, y, sample_weight=None, sample_domain=None):
        """Accuracy (classifier) or R^2 (regressor) of ``predict(X)``."""
        metric = accuracy_score if is_classifier(self) else r2_score
        return metric(y, self.predict(X, sample_domain), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        est = self.estimator if self.estimator is not None else _default_estimator()
        inner = get_tags(est)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags.required = True
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags
