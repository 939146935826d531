"""BayesSearchCV and CMAESSearchCV: sequential searches on scikit-learn's BaseSearchCV.

``BaseSearchCV.fit`` validates, routes metadata, sets up scikit-learn's callbacks and
calls ``_run_search(evaluate_candidates)``, the one extension point it documents.
``_run_search`` proposes and evaluates batches (``evaluate_candidates(..., cv=...)``
returns the results so far), replays checkpointed candidates without a fit, then
selects the best candidate over every row, refits it once and leaves through
:class:`~._evaluation.SearchDone`. No scikit-learn internals are read or written.
"""

import numbers
import os
import time
from dataclasses import dataclass

import joblib
import numpy as np
from sklearn import get_config
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state, indexable

from skngd.utils._sklearn_compat import BaseSearchCV, Interval
from skngd.utils._warnings import warn

from ._checkpoint import Checkpoint
from ._driver import SearchRun
from ._evaluation import FrozenSplits, SearchDone
from ._foreign import check_foreign_arguments, check_foreign_fit_params
from ._proposers import GridProposer
from ._space import SearchSpace

try:  # scikit-learn >= 1.9
    from sklearn.callback import FitCallback
except ImportError:  # pragma: no cover - older scikit-learn
    FitCallback = None

_REFIT_MESSAGE = (
    "For multi-metric scoring, the parameter refit must be set to a scorer key or a "
    "callable to refit an estimator with the best parameter setting on the whole "
    "data and make the best_* attributes available for that metric. If this is not "
    "needed, refit should be set to False explicitly. {!r} was passed."
)


def _is_fit_callback(cb):
    return (FitCallback is not None and isinstance(cb, FitCallback)
            and not isinstance(cb, type))


@dataclass
class _Plan:
    n_iter: int
    exhaustive: bool
    n_initial: int
    seed: int
    batch_size: int | None


class _SequentialSearchCV(BaseSearchCV):
    """Shared machinery: propose batches from results so far, evaluate, repeat."""

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_distributions": [dict, list],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_initial_points": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "callbacks": [list, tuple, callable, None],
        "checkpoint": [str, os.PathLike, None],
    }

    def __new__(cls, *args, **kwargs):
        check_foreign_arguments(cls, kwargs)  # skopt / Optuna argument names
        return super().__new__(cls)

    def __init__(self, estimator, param_distributions, *, n_iter=50, scoring=None,
                 n_jobs=None, refit=True, cv=None, verbose=0,
                 pre_dispatch="2*n_jobs", random_state=None, error_score=np.nan,
                 return_train_score=False, n_initial_points=None, batch_size=None,
                 callbacks=None, checkpoint=None):
        super().__init__(
            estimator=estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv,
            verbose=verbose, pre_dispatch=pre_dispatch, error_score=error_score,
            return_train_score=return_train_score,
        )
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state
        self.n_initial_points = n_initial_points
        self.batch_size = batch_size
        self.callbacks = callbacks
        self.checkpoint = checkpoint

    # -- set-up ----------------------------------------------------------------
    def _callback_lists(self):
        cbs = self.callbacks
        if cbs is None:
            return [], []
        if callable(cbs) and not isinstance(cbs, (list, tuple)):
            cbs = [cbs]
        skl, plain = [], []
        for cb in cbs:
            if _is_fit_callback(cb):
                skl.append(cb)
            elif callable(cb):
                plain.append(cb)
            else:
                raise ValueError(
                    f"callbacks must contain callables taking the results so far "
                    f"or scikit-learn FitCallback instances, got {cb!r}."
                )
        return skl, plain

    def _plan(self, space):
        n_iter, exhaustive = self.n_iter, False
        if space.finite and space.size() <= n_iter:
            if space.size() < n_iter:
                warn(
                    f"The total space of parameters {space.size()} is smaller than "
                    f"n_iter={n_iter}. Running {space.size()} iterations. For "
                    "exhaustive searches, use GridSearchCV.", UserWarning,
                )
            n_iter, exhaustive = int(space.size()), True
        n_initial = self.n_initial_points or max(space.n_params + 1,
                                                 int(round(0.1 * n_iter)))
        if isinstance(self.random_state, numbers.Integral):
            seed = int(self.random_state)
        else:
            seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        return _Plan(n_iter, exhaustive, min(n_initial, n_iter), seed, self.batch_size)

    def _engine_fingerprint(self):  # pragma: no cover - overridden
        return {}

    def _fingerprint(self, space, plan, data):
        scoring = self.scoring
        fp = {
            "search": type(self).__name__,
            "estimator": joblib.hash(clone(self.estimator)),
            "param_distributions": repr([
                [(n, repr(d), getattr(getattr(d, "dist", None), "args", None),
                  getattr(getattr(d, "dist", None), "kwds", None))
                 for n, d in zip(s.names, s.dims)] for s in space.subspaces
            ]),
            "scoring": repr(scoring) if not callable(scoring) else joblib.hash(scoring),
            "cv": repr(self.cv),
            "data": joblib.hash(data),
            "error_score": repr(self.error_score),
            "return_train_score": repr(self.return_train_score),
            "random_state": (repr(self.random_state)
                             if isinstance(self.random_state, numbers.Integral)
                             else "derived"),
            "batch_size": repr(self.batch_size),
            "n_initial_points": str(plan.n_initial),
            "exhaustive": repr(plan.exhaustive),
        }
        fp.update({k: repr(v) for k, v in self._engine_fingerprint().items()})
        return fp

    def _check_refit(self, names):
        refit = self.refit
        if refit is not False and not callable(refit) and not (
                isinstance(refit, str) and refit in names):
            raise ValueError(_REFIT_MESSAGE.format(refit))

    # -- fit -------------------------------------------------------------------
    def fit(self, X, y=None, **params):
        """Run the search: propose, cross-validate, repeat; then refit the best.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        **params : dict
            Passed to the estimator's ``fit``, the scorer and the CV splitter
            (``groups``), as in :class:`~sklearn.model_selection.RandomizedSearchCV`.

        Returns
        -------
        self : object
        """
        check_foreign_fit_params(params, self.estimator)
        skl, plain = self._callback_lists()
        previous = list(getattr(self, "_user_fit_callbacks", ()))
        if skl:  # registered like set_callbacks, for the duration of this fit
            BaseSearchCV.set_callbacks(self, *previous, *skl)
        self._fit_inputs = (X, y, params, plain)
        try:
            super().fit(X, y, **params)  # validation, routing, callbacks; _run_search
        except SearchDone:
            pass
        finally:
            del self._fit_inputs
            if skl:
                BaseSearchCV.set_callbacks(self, *previous)
        return self

    if hasattr(BaseSearchCV, "set_callbacks"):  # scikit-learn >= 1.9

        def set_callbacks(self, *callbacks):
            """Set scikit-learn callbacks (``FitCallback`` instances) on the search.

            Parameters
            ----------
            *callbacks : FitCallback instances

            Returns
            -------
            self : object
            """
            super().set_callbacks(*callbacks)
            self._user_fit_callbacks = list(callbacks)
            return self

    def __getstate__(self):  # scikit-learn ships the search to its workers
        state = dict(super().__getstate__())
        state.pop("_fit_inputs", None)
        return state

    def _original_cv(self, y):
        cv = getattr(self, "_checked_cv_orig", None)  # documented by BaseSearchCV
        if cv is not None:
            return cv
        cv = self.cv
        if cv is not None and not isinstance(cv, numbers.Integral) and not hasattr(
                cv, "split") and iter(cv) is cv:
            raise ValueError(
                "cv is a one-shot iterator (such as cv.split(X, y)); with scikit-learn "
                "< 1.9 pass list(...) of its splits or the splitter itself.")
        return check_cv(self.cv, y, classifier=is_classifier(self.estimator))

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        """Propose, replay or evaluate, record; then select, refit and finish."""
        X, y, params, plain_callbacks = self._fit_inputs
        X, y = indexable(X, y)
        space = SearchSpace(self.param_distributions)
        plan = self._plan(space)
        sw = params.get("sample_weight")
        meta = None if sw is None else {"sample_weight": sw}
        store, seed = None, plan.seed
        if self.checkpoint is not None:
            store = Checkpoint(self.checkpoint,
                               self._fingerprint(space, plan, (X, y, params)),
                               seed, space.n_columns)
            seed = store.seed
        try:
            if store is not None:
                store.check_splits(X.shape[0] if hasattr(X, "shape") else len(X))
            run = self._search(space, plan, seed, store, self._original_cv(y),
                               plain_callbacks, callback_ctx, evaluate_candidates)
        finally:
            if store is not None:
                store.close()
        self._refit_best(X, y, params, run, callback_ctx, meta)
        if callback_ctx is not None:
            callback_ctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=meta)
        raise SearchDone

    def _search(self, space, plan, seed, store, cv, callbacks, root, evaluate):
        if plan.exhaustive:
            proposer = GridProposer(space)
        else:
            proposer = self._make_proposer(space, np.random.default_rng(seed),
                                           plan.n_initial)
        frozen = FrozenSplits(cv, None if store is None else store.splits)
        search_ctx = None
        if root is not None:
            search_ctx = root.subcontext(task_name="search", max_subtasks=None)
            search_ctx.call_on_fit_task_begin(estimator=self)
        run = SearchRun(self, plan, proposer, store, frozen, callbacks, search_ctx)
        run(evaluate)
        if search_ctx is not None:
            search_ctx.call_on_fit_task_end(estimator=self)
        return run

    # -- after the search ------------------------------------------------------
    def _refit_params(self, params):
        if get_config().get("enable_metadata_routing", False):
            from sklearn.utils.metadata_routing import process_routing

            return process_routing(self, "fit", **params).estimator.fit
        return {k: v for k, v in params.items() if k != "groups"}

    def _scorer_attribute(self):
        scoring = self.scoring
        if callable(scoring):
            return scoring
        if scoring is None or isinstance(scoring, str):
            return check_scoring(self.estimator, scoring)
        if isinstance(scoring, dict):
            return {k: check_scoring(self.estimator, v) for k, v in scoring.items()}
        return {k: check_scoring(self.estimator, k) for k in scoring}

    def _best_index(self, results, metric):
        if callable(self.refit):
            i = self.refit(results)
            if not isinstance(i, numbers.Integral):
                raise TypeError("best_index_ returned is not an integer")
            if i < 0 or i >= len(results["params"]):
                raise IndexError("best_index_ index out of range")
            return i
        return results[f"rank_test_{metric}"].argmin()

    def _refit_best(self, X, y, params, run, root, meta):
        results, names = run.results(), run.metric_names()
        multimetric = isinstance(self.scoring, (list, tuple, set, dict)) or (
            callable(self.scoring) and names != ["score"])
        if multimetric:
            self._check_refit(names)
        metric = self.refit if multimetric else "score"
        self.multimetric_ = multimetric
        self.n_splits_ = run.n_splits
        if self.refit or not multimetric:
            self.best_index_ = self._best_index(results, metric)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(
                **clone(self.best_params_, safe=False))
            fit_params = self._refit_params(params)
            ctx = None if root is None else root.subcontext(
                task_name="refit-with-best-params")
            if ctx is None:
                self._timed_refit(X, y, fit_params)
            else:
                with ctx.propagate_callback_context(self.best_estimator_):
                    ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=meta)
                    self._timed_refit(X, y, fit_params)
                ctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=meta)
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = self._scorer_attribute()
        self.cv_results_ = results

    def _timed_refit(self, X, y, fit_params):
        t0 = time.time()
        if y is None:
            self.best_estimator_.fit(X, **fit_params)
        else:
            self.best_estimator_.fit(X, y, **fit_params)
        self.refit_time_ = time.time() - t0

    def _partial(self, results):
        """Attributes of a search stopped now (for FitCallback ``fitted_estimator``)."""
        from ._driver import objective_metric

        m = objective_metric([k[len("mean_test_"):] for k in results
                              if k.startswith("mean_test_")], self.refit)
        scores = np.asarray(results[f"mean_test_{m}"], dtype=float)
        i = int(np.nanargmax(scores)) if np.isfinite(scores).any() else 0
        return {
            "cv_results_": results,
            "best_index_": i,
            "best_params_": results["params"][i],
            "best_score_": scores[i],
        }
