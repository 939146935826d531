r"""LogisticRegressionCV: ``C`` and ``l1_ratio`` chosen by cross-validation
along warm-started paths, with scikit-learn 1.9's signature and fitted
attributes."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.metrics import get_scorer
from sklearn.model_selection import check_cv
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from skngd.linear_model._logistic import LogisticRegression, proba_from_scores
from skngd.linear_model._logistic_problem import balanced_class_weights
from skngd.linear_model._path import _with_l1_ratio, iter_path
from skngd.utils._sklearn_compat import (
    Interval,
    LinearClassifierMixin,
    StrOptions,
    _fit_context,
)
from skngd.utils.validation import check_sample_weight

#: LogisticRegression parameters shared with every fold's fit
_SHARED = ("fit_intercept", "solver", "tol", "max_iter", "verbose", "random_state")


def _stacked(est):
    """``[coef_ | intercept_]`` of a fitted estimator, (n_out, n_features + 1)."""
    return np.hstack([est.coef_, est.intercept_[:, None]])


def _fold_path(base, X, y, sw, train, test, Cs, scoring, fit_intercept):
    """One fold's path over ``Cs``: coefficients, test scores, iterations."""
    fit = {} if sw is None else {"sample_weight": sw[train]}
    score_kw = {} if sw is None else {"sample_weight": sw[test]}
    scorer = None if scoring is None else get_scorer(scoring)
    coefs, scores, n_iter = [], [], []
    for _, est in iter_path(base, X[train], y[train], "C", Cs, fit):
        w = _stacked(est)
        coefs.append(w if fit_intercept else w[:, :-1])
        if scorer is None:
            scores.append(est.score(X[test], y[test], **score_kw))
        else:
            scores.append(scorer(est, X[test], y[test], **score_kw))
        n_iter.append(int(est.n_iter_[0]))
    return np.asarray(coefs), np.asarray(scores), np.asarray(n_iter)


class LogisticRegressionCV(LinearClassifierMixin, BaseEstimator):
    r"""Logistic regression with ``C`` (and ``l1_ratio``) chosen by
    cross-validation, scikit-learn 1.9's ``LogisticRegressionCV``.

    For every fold and ``l1_ratio`` the path of ``Cs`` is fitted on the
    training part, each fit warm-started from the previous one
    (:func:`~skngd.linear_model.regularization_path`), and scored on the
    test part; the ``(C, l1_ratio)`` with the best score summed over folds
    is refitted on all data (``refit=True``). Every fit minimises
    :class:`LogisticRegression`'s objective

    .. math::

        \sum_i s_i\,\ell(y_i, W^T x_i + b)
        + \frac{\rho}{C}\lVert W\rVert_1 + \frac{1 - \rho}{2C}\lVert W\rVert_F^2

    (:math:`\rho` = ``l1_ratio``), so with the same folds, ``Cs`` and
    scoring the scores and coefficients are scikit-learn's.

    Parameters
    ----------
    Cs : int or array-like of float > 0, default=10
        The ``C`` grid, fitted in the order given; an int ``n`` is
        ``np.logspace(-4, 4, n)``, as scikit-learn.
    l1_ratios : array-like of floats in [0, 1] or None, default=(0.0,)
        Elastic-net mixing values to cross-validate (scikit-learn 1.10's
        default; values ``> 0`` need L1 support in
        :class:`LogisticRegression`). ``None`` (deprecated in scikit-learn)
        is an L2 penalty and drops the ``l1_ratio`` axis of the legacy
        attributes.
    fit_intercept : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
        ``None``: 5-fold :class:`~sklearn.model_selection.StratifiedKFold`.
    scoring : str, callable or None, default=None
        Scorer of the test folds (and of :meth:`score`); ``None`` is accuracy
        (scikit-learn 1.9's behaviour; 1.11 will default to ``'neg_log_loss'``).
    solver : {'auto', 'ngd', 'mm', 'newton'}, default='auto'
        :class:`LogisticRegression`'s solvers.
    tol : float >= 0, default=1e-4
    max_iter : int >= 1 or None, default=None
        As in :class:`LogisticRegression`.
    class_weight : dict, 'balanced' or None, default=None
        ``'balanced'`` is computed once on the whole ``y`` (and
        ``sample_weight``), as scikit-learn.
    n_jobs : int or None, default=None
        Parallel fold paths (joblib, ``n_folds * n_l1_ratios`` jobs); each
        fit runs on one thread.
    verbose : int, default=0
    refit : bool, default=True
        Refit at the best ``(C, l1_ratio)`` of the fold-summed scores; else
        average the fold-best coefficients, ``C`` and ``l1_ratio``.
    random_state : int, RandomState or None, default=None
        The 'ngd' preconditioner's row subsample (not the folds).
    use_legacy_attributes : bool, default=True
        scikit-learn 1.9's attribute layout (its effective default; 1.10
        switches): ``C_``, ``l1_ratio_`` arrays repeated per class,
        ``coefs_paths_`` / ``scores_`` dicts keyed by class. ``False``: the
        new layout (floats; arrays of shape ``(n_folds, n_l1_ratios, n_cs,
        n_classes, n_dof)`` and ``(n_folds, n_l1_ratios, n_cs)``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    Cs_ : ndarray of shape (n_cs,)
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
    coefs_paths_ : dict or ndarray
        Legacy: ``{class: (n_folds, n_cs, n_l1_ratios, n_dof)}`` (one key,
        the positive class, when binary; no ``n_l1_ratios`` axis when
        ``l1_ratios=None``). New: ``(n_folds, n_l1_ratios, n_cs, n_classes,
        n_dof)``, ``n_classes`` 1 when binary. ``n_dof = n_features +
        fit_intercept``, intercept last.
    scores_ : dict or ndarray
        Legacy: ``{class: (n_folds, n_cs, n_l1_ratios)}`` (the same for
        every class). New: ``(n_folds, n_l1_ratios, n_cs)``.
    C_ : ndarray of shape (1,) or (n_classes,), or float
    l1_ratio_ : ndarray of shape (1,) or (n_classes,), or float
    n_iter_ : ndarray
        Legacy ``(1, n_folds, n_cs, n_l1_ratios)``, new ``(n_folds,
        n_l1_ratios, n_cs)``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    Parameters of scikit-learn's class not offered: ``dual`` and
    ``intercept_scaling`` (liblinear only), ``penalty`` (deprecated in 1.8;
    use ``l1_ratios`` and ``Cs``), its solvers (skngd's are 'auto', 'ngd',
    'mm', 'newton'). Metadata routing of split groups to ``cv`` is not
    supported (pass an iterable of splits).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skngd.linear_model import LogisticRegressionCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = LogisticRegressionCV(Cs=5, cv=3).fit(scale(X), y)
    >>> clf.scores_[1].shape
    (3, 5, 1)
    """

    _parameter_constraints = {
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like", None],
        "fit_intercept": ["boolean"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "solver": [StrOptions({"auto", "ngd", "mm", "newton"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "refit": ["boolean"],
        "random_state": ["random_state"],
        "use_legacy_attributes": ["boolean"],
    }

    def __init__(self, *, Cs=10, l1_ratios=(0.0,), fit_intercept=True, cv=None, scoring=None,
                 solver="auto", tol=1e-4, max_iter=None, class_weight=None, n_jobs=None,
                 verbose=0, refit=True, random_state=None, use_legacy_attributes=True):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.random_state = random_state
        self.use_legacy_attributes = use_legacy_attributes

    # -- set-up ----------------------------------------------------------------
    def _grid_Cs(self):  # noqa: N802
        if isinstance(self.Cs, Integral):
            return np.logspace(-4, 4, self.Cs)
        Cs = np.asarray(self.Cs, dtype=np.float64).ravel()
        if Cs.size == 0 or np.any(~(Cs > 0)):
            raise ValueError(f"Cs must be an int >= 1 or a non-empty list of positive "
                             f"numbers; got Cs={self.Cs!r}.")
        return Cs

    def _grid_l1_ratios(self):
        if self.l1_ratios is None:
            return [0.0]
        r = list(np.ravel(np.asarray(self.l1_ratios, dtype=object)))
        if not r or not all(isinstance(v, Real) and not isinstance(v, bool) and 0 <= v <= 1
                            for v in r):
            raise ValueError("l1_ratios must be an array-like of numbers between 0 and 1; "
                             f"got (l1_ratios={self.l1_ratios!r})")
        return [float(v) for v in r]

    def _class_weight(self, y, sample_weight):
        cw = self.class_weight
        if isinstance(cw, dict) and not set(cw) <= set(self.classes_):
            raise ValueError("The given class_weight dict must have the class labels as "
                             f"keys; classes={self.classes_} but key={cw.keys()}")
        if isinstance(cw, str):  # 'balanced' on the whole data, as scikit-learn
            sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
            w = balanced_class_weights(np.searchsorted(self.classes_, y), sw,
                                       len(self.classes_))
            cw = dict(zip(self.classes_, w))
        return cw

    def _base(self, l1_ratio, class_weight, C=1.0):
        est = LogisticRegression(C=C, class_weight=class_weight,
                                 **{k: getattr(self, k) for k in _SHARED})
        return _with_l1_ratio(est, l1_ratio)

    # -- fit -------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Cross-validate the ``(C, l1_ratio)`` grid and refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fits and of the test-fold scores.

        Returns
        -------
        self : LogisticRegressionCV
        """
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64, order="C")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("This solver needs samples of at least 2 classes in the data, "
                             f"but the data contains only one class: {self.classes_[0]!r}.")
        sw = None if sample_weight is None else check_sample_weight(sample_weight, X,
                                                                     dtype=np.float64)
        Cs, l1s = self._grid_Cs(), self._grid_l1_ratios()
        cw = self._class_weight(y, sw)
        for r in set(l1s):
            self._base(r, cw)  # refuse l1_ratio > 0 before any fit without L1 support
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y))
        self._check_folds(y, folds)
        jobs = (delayed(_fold_path)(self._base(r, cw), X, y, sw, tr, te, Cs, self.scoring,
                                    self.fit_intercept)
                for tr, te in folds for r in l1s)
        res = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(jobs)
        shape = (len(folds), len(l1s), len(Cs))
        paths = np.reshape([r[0] for r in res], shape + res[0][0].shape[1:])
        scores = np.reshape([r[1] for r in res], shape)
        n_iter = np.reshape([r[2] for r in res], shape)
        C, l1, W = self._select(X, y, sw, cw, Cs, l1s, paths, scores)
        self.Cs_ = Cs
        self.l1_ratios_ = np.asarray([None] if self.l1_ratios is None else l1s)
        n_out = W.shape[0]
        self.coef_ = W[:, : X.shape[1]]
        self.intercept_ = W[:, -1].copy() if self.fit_intercept else np.zeros(n_out)
        self._set_attributes(C, l1, paths, scores, n_iter)
        return self

    def _check_folds(self, y, folds):
        for k, (train, _) in enumerate(folds):
            missing = np.setdiff1d(self.classes_, y[train])
            if missing.size:
                raise ValueError(
                    f"The training part of fold {k} lacks the classes {missing.tolist()}; "
                    "every fold must see every class (use fewer folds or a stratified cv).")

    def _select(self, X, y, sw, cw, Cs, l1s, paths, scores):
        """Best ``(C, l1_ratio)`` and the coefficients (n_out, n_features + 1)."""
        if self.refit:
            i, j = np.unravel_index(np.argmax(scores.sum(axis=0).T), (len(Cs), len(l1s)))
            C, l1 = float(Cs[i]), l1s[j]
            est = self._base(l1, cw, C=C).fit(X, y, sample_weight=sw)
            return C, l1, _stacked(est)
        flat = scores.transpose(0, 2, 1).reshape(len(scores), -1)  # (n_folds, n_cs*n_l1)
        best = [np.unravel_index(b, (len(Cs), len(l1s))) for b in np.argmax(flat, axis=1)]
        W = np.mean([paths[f, j, i] for f, (i, j) in enumerate(best)], axis=0)
        if not self.fit_intercept:
            W = np.hstack([W, np.zeros((W.shape[0], 1))])
        C = float(np.mean([Cs[i] for i, _ in best]))
        l1 = float(np.mean([l1s[j] for _, j in best]))
        return C, l1, W

    def _set_attributes(self, C, l1, paths, scores, n_iter):
        """scikit-learn 1.9's two attribute layouts from ``paths`` (n_folds,
        n_l1, n_cs, n_out, n_dof), ``scores`` and ``n_iter`` (n_folds, n_l1, n_cs)."""
        n_out = paths.shape[3]
        if not self.use_legacy_attributes:
            self.C_, self.l1_ratio_ = float(C), float(l1)
            self.coefs_paths_, self.scores_, self.n_iter_ = paths, scores, n_iter
            return
        keys = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        legacy = paths.transpose(3, 0, 2, 1, 4)  # (n_out, n_folds, n_cs, n_l1, n_dof)
        sc = scores.transpose(0, 2, 1)
        it = n_iter.transpose(0, 2, 1)[None]
        if self.l1_ratios is None:
            legacy, sc, it = legacy[:, :, :, 0], sc[:, :, 0], it[..., 0]
        self.coefs_paths_ = {k: legacy[c] for c, k in enumerate(keys)}
        self.scores_ = {k: sc.copy() for k in keys}
        self.n_iter_ = it
        self.C_ = np.full(n_out, C)
        # scikit-learn 1.9: l1_ratios=None refits at l1_ratio None
        self.l1_ratio_ = (np.full(n_out, None) if self.l1_ratios is None and self.refit
                          else np.full(n_out, l1))

    # -- prediction -------------------------------------------------------------------
    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), ``classes_`` order.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return proba_from_scores(self.decision_function(X))

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return proba_from_scores(self.decision_function(X), log=True)

    def score(self, X, y, sample_weight=None):
        """The ``scoring`` score (accuracy when ``scoring=None``) on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if self.scoring is None:
            return super().score(X, y, sample_weight=sample_weight)
        kw = {} if sample_weight is None else {"sample_weight": sample_weight}
        return get_scorer(self.scoring)(self, X, y, **kw)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


__all__ = ["LogisticRegressionCV"]
