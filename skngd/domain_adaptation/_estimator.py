"""DomainAdaptedEstimator: fit a predictor on source rows mapped to the target."""

import inspect
import warnings

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import Bunch, _safe_indexing, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from skngd.domain_adaptation._adapter import OTDomainAdapter
from skngd.domain_adaptation._selection import (
    BASELINE_MARGIN,
    PASSTHROUGH,
    candidate_name,
    default_candidates,
    default_selection_scorer,
    select,
)
from skngd.domain_adaptation._validation import (
    check_source_classes,
    domains_for_fit,
    target_mask_from_labels,
)
from skngd.utils._sklearn_compat import HasMethods, StrOptions, _fit_context


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


def _is_passthrough(adapter):
    return isinstance(adapter, str) and adapter == PASSTHROUGH


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
    r"""Train a predictor on labelled source rows transported to the target.

    ``fit`` fits an adapter on all rows of ``X`` (source and target, told
    apart by ``sample_domain`` or by masked labels, as in
    :class:`OTDomainAdapter`), maps the source rows, and fits a clone of
    ``estimator`` on the mapped, labelled source rows only: target labels are
    never read (they are masked before the adapter sees ``y``), and a source
    with a single class is an error, not a class learnt from the mask.
    ``predict`` treats new rows as target data (``sample_domain=None``) and
    passes them through the fitted adapter, the identity on target rows.

    With ``selection='auto'`` (the default) a classifier's adapter is chosen
    at fit, without target labels, among several candidates and no
    adaptation at all: each candidate model is fitted and scored by
    :class:`AssortativityScorer` (do the predicted target classes follow the
    target's own clusters?), and the first candidate in the order of
    preference whose score is within 0.02 of the best wins, so no adaptation
    (always first) is kept unless beaten by more than 0.02. ``adapter=None``
    tries, in this order, no adaptation, Sinkhorn at the adapter's default
    blur (0.1 times the cost spread), the Gaussian map, Sinkhorn at 0.03 and
    at 1 times the cost spread; a given adapter (or list) is tried after no
    adaptation, in the order given. What was chosen, the scores and why are
    in ``selection_``. The score cannot see a labelling
    whose classes are swapped as a whole (it is blind to class names), and it
    judges the model the estimator can draw: a linear model that cannot
    follow the target's clusters under any map gives it little to go on.
    For regressors no label-free score separates a good map from no
    adaptation in general, so 'auto' uses the adapter as given (None:
    ``OTDomainAdapter()``); pass a scorer (e.g. ``CircularValidation()``) to
    choose anyway.

    The meta-estimator is a classifier or a regressor exactly when
    ``estimator`` is (tags delegated), so ``score``, ``cross_val_score`` and
    the search classes treat it as such. With no domain information at all
    (no ``sample_domain``, nothing masked) it is ``estimator`` fitted on all
    rows.

    Given an adapter mapping :math:`T` of the source rows, the estimator
    solves its own problem on the mapped, labelled source sample,

    .. math::

        \hat h = \arg\min_h \sum_{i \in S} \ell\big(h(T(x_i)), y_i\big),

    and predicts :math:`\hat h(x)` on target rows (which :math:`T` leaves
    unchanged). The selection maximises a label-free score
    :math:`r(\hat h_k)` over the candidates :math:`k` (first within 0.02 of
    the best, in order of preference).

    Parameters
    ----------
    adapter : transformer, 'passthrough', list of those, or None, default=None
        The domain adapter, ``'passthrough'`` for none, or a list of
        candidates for ``selection``; None: the default candidates under
        ``selection='auto'``, ``OTDomainAdapter()`` under ``selection=None``.
    estimator : estimator or None, default=None
        The predictor trained on the mapped source; None means
        ``sklearn.svm.SVC()``.
    selection : 'auto', callable or None, default='auto'
        How the adapter is chosen: 'auto' (above), a label-free scorer
        ``scorer(model, X, y, sample_domain=...)`` (greater is better) from
        :mod:`skngd.domain_adaptation`, or None to use ``adapter`` as given.

    Attributes
    ----------
    adapter_ : transformer or None
        The fitted chosen adapter (None: no adaptation).
    estimator_ : estimator
        The fitted clone of ``estimator``.
    selection_ : Bunch
        ``candidates`` (names), ``scores`` (NaN for a candidate that could not
        be scored), ``chosen``, ``scorer`` and ``reason`` (a sentence).
    classes_ : ndarray
        Class labels (classifiers only).
    n_features_in_ : int

    References
    ----------
    Courty, N., Flamary, R., Tuia, D. and Rakotomamonjy, A. (2017). Optimal
    transport for domain adaptation. IEEE TPAMI 39(9).
    Newman, M. E. J. (2003). Mixing patterns in networks. Phys. Rev. E 67.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.svm import SVC
    >>> from skngd.domain_adaptation import DomainAdaptedEstimator
    >>> rng = np.random.RandomState(0)
    >>> Xs = np.r_[rng.randn(50, 2) - 2, rng.randn(50, 2) + 2]
    >>> ys = np.r_[np.zeros(50, int), np.ones(50, int)]
    >>> Xt = Xs + [6.0, 0.0]                      # shifted target domain
    >>> X, y = np.r_[Xs, Xt], np.r_[ys, -np.ones(100, int)]  # target masked
    >>> clf = DomainAdaptedEstimator(estimator=SVC()).fit(X, y)
    >>> float(clf.score(Xt, ys))
    1.0
    >>> clf.selection_.chosen != "no adaptation"
    True
    """

    __metadata_request__fit = {"sample_domain": True}
    __metadata_request__score = {"sample_domain": True}
    __metadata_request__predict = {"sample_domain": True}

    _parameter_constraints = {
        "adapter": [HasMethods(["fit", "transform"]), StrOptions({PASSTHROUGH}), list, None],
        "estimator": [HasMethods(["fit", "predict"]), None],
        "selection": [StrOptions({"auto"}), callable, None],
    }

    def __init__(self, adapter=None, estimator=None, selection="auto"):
        self.adapter = adapter
        self.estimator = estimator
        self.selection = selection

    def _task(self):
        est = self.estimator if self.estimator is not None else _default_estimator()
        return "classification" if is_classifier(est) else "regression"

    def _selection_scorer(self):
        if self.selection == "auto":
            return default_selection_scorer(self._task())
        return self.selection

    def _candidates(self, X, dom):
        if self._selection_scorer() is None:
            if isinstance(self.adapter, list):
                raise ValueError(
                    "adapter is a list of candidates but selection=None; set "
                    "selection='auto' (or a scorer) to choose among them."
                )
            return [OTDomainAdapter() if self.adapter is None else self.adapter]
        if self.adapter is None:
            return default_candidates(X[dom.source], X[dom.target])
        cands = list(self.adapter) if isinstance(self.adapter, list) else [self.adapter]
        if not any(_is_passthrough(c) for c in cands):
            cands.insert(0, PASSTHROUGH)  # the baseline comes first
        return cands

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_domain=None):
        """Fit the adapter on all rows and the estimator on mapped source rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,)
            Labels; target rows may be masked (-1 / NaN) and are never used.
        sample_domain : array-like of int or None
            >= 0 source, < 0 target; None infers the target from masked labels.

        Returns
        -------
        self : DomainAdaptedEstimator
            The fitted meta-estimator.
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
        if dom.identity:
            self._fit_one(PASSTHROUGH, X, y, None)
            self.selection_ = Bunch(
                candidates=["no adaptation"], scores=np.array([np.nan]),
                chosen="no adaptation", scorer=None,
                reason="no domain information (no sample_domain, no masked label)",
            )
            return self
        if self._task() == "classification":
            check_source_classes(y[dom.source], type(self).__name__)
        y = _mask_target_labels(y, dom.target)
        sd = dom.as_sample_domain()
        cands = self._candidates(X, dom)
        if len(cands) == 1:
            self._fit_one(cands[0], X, y, sd)
            name = candidate_name(cands[0])
            reason = (
                "selection=None: the adapter as given"
                if self.selection is None
                else "selection='auto' does not choose for regressors (no "
                "label-free score separates a good map from no adaptation "
                "there): the adapter as given"
            )
            self.selection_ = Bunch(
                candidates=[name], scores=np.array([np.nan]), chosen=name,
                scorer=None, reason=reason,
            )
            return self
        self._select(cands, X, y, sd)
        return self

    def _fit_one(self, adapter, X, y, sd):
        """Fit ``adapter`` (or none) and the estimator on the mapped source rows."""
        estimator = clone(self.estimator) if self.estimator is not None else _default_estimator()
        if sd is None or _is_passthrough(adapter):
            keep = np.ones(X.shape[0], bool) if sd is None else sd >= 0
            self.adapter_, self.estimator_ = None, estimator.fit(X[keep], y[keep])
            return self
        ad = clone(adapter)
        if isinstance(ad, OTDomainAdapter):
            Xm = ad.fit(X, y, sample_domain=sd).transform(X, sample_domain=sd)
        elif _accepts_sample_domain(ad.fit_transform):
            Xm = ad.fit_transform(X, y, sample_domain=sd)
        else:
            Xm = ad.fit_transform(X, y)
        src = sd >= 0
        self.adapter_, self.estimator_ = ad, estimator.fit(np.asarray(Xm)[src], y[src])
        return self

    def _select(self, cands, X, y, sd):
        fits = []
        for cand in cands:
            model = DomainAdaptedEstimator(cand, self.estimator, selection=None)
            model.n_features_in_ = X.shape[1]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model._fit_one(cand, X, y, sd)
            fits.append((candidate_name(cand), model, caught))
        best, report = select(fits, self._selection_scorer(), X, y, sd, BASELINE_MARGIN)
        _, model, caught = fits[best]
        for w in caught:  # what the chosen fit warned about still reaches the user
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        self.adapter_, self.estimator_ = model.adapter_, model.estimator_
        self.selection_ = report

    def _map(self, X, sample_domain):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        if self.adapter_ is None:
            return X
        if sample_domain is None:
            return self.adapter_.transform(X)
        return self.adapter_.transform(X, sample_domain=sample_domain)

    @property
    def classes_(self):
        """Class labels of the fitted estimator (classifiers only)."""
        check_is_fitted(self)
        return self.estimator_.classes_

    def predict(self, X, sample_domain=None):
        """Predict with the estimator on rows passed through the adapter.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        sample_domain : array-like of int or None
            None (new target data, not mapped) or the domain of each row
            (source rows, >= 0, are mapped first).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The estimator's predictions.
        """
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
        """Accuracy (classifier) or R^2 (regressor) on the labelled rows.

        Rows whose label is masked (-1 / NaN) are never scored; if every
        row is masked there is nothing to score and a ``ValueError`` points
        to the label-free scorers of :mod:`skngd.domain_adaptation`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : array-like of shape (n_samples,)
            Their labels; masked rows are left out.
        sample_weight : array-like of shape (n_samples,) or None
            Row weights.
        sample_domain : array-like of int or None
            As in :meth:`predict`.

        Returns
        -------
        score : float
            Accuracy or :math:`R^2` of the unmasked rows.
        """
        y = column_or_1d(y, warn=True)
        task = "classification" if is_classifier(self) else "regression"
        keep = ~target_mask_from_labels(y, task)
        if not keep.any():
            raise ValueError(
                "score: every label in y is masked (-1 / NaN), so there is "
                "nothing to score; target labels are never scored. Validate "
                "without target labels with a scorer of "
                "skngd.domain_adaptation (e.g. CircularValidation(), "
                "AssortativityScorer())."
            )
        Xk = _safe_indexing(X, np.flatnonzero(keep))
        sd = None if sample_domain is None else np.asarray(sample_domain)[keep]
        sw = None if sample_weight is None else np.asarray(sample_weight)[keep]
        metric = accuracy_score if task == "classification" else r2_score
        return metric(y[keep], self.predict(Xk, sd), sample_weight=sw)

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
