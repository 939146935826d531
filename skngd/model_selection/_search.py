"""BayesSearchCV and CMAESSearchCV: sequential searches on scikit-learn's BaseSearchCV."""

import numbers
import os
import time
import warnings

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.utils import check_random_state

from skngd.utils._sklearn_compat import BaseSearchCV, Interval
from skngd.utils._threads import blas_threads

from ._checkpoint import Checkpoint
from ._space import SearchSpace

try:  # scikit-learn >= 1.9
    from sklearn.callback import FitCallback
except ImportError:  # pragma: no cover
    FitCallback = None


def _is_fit_callback(cb):
    return (
        FitCallback is not None
        and isinstance(cb, FitCallback)
        and not isinstance(cb, type)
    )


class _Evaluations:
    """Read/extend the finished evaluations held by ``BaseSearchCV.fit``.

    ``evaluate_candidates`` keeps every per-split result in its closure; reading it
    gives the exact fold results to checkpoint and to detect failed fits, and
    extending it replays checkpointed candidates without refitting them.
    """

    _NEEDED = ("all_candidate_params", "all_out", "all_more_results", "results")

    def __init__(self, evaluate_candidates):
        code = getattr(evaluate_candidates, "__code__", None)
        cells = dict(zip(code.co_freevars, evaluate_candidates.__closure__ or ()))
        self.ok = all(n in cells for n in self._NEEDED)
        self.cells = cells

    def _get(self, name):
        return self.cells[name].cell_contents

    def outs(self):
        return self._get("all_out")

    def inject(self, search, params, outs):
        self._get("all_candidate_params").extend(params)
        self._get("all_out").extend(outs)
        results = search._format_results(
            self._get("all_candidate_params"), search.n_splits_,
            self._get("all_out"), self._get("all_more_results"),
        )
        self.cells["results"].cell_contents = results
        return results


class _Progress:
    def __init__(self, search, total):
        self.verbose, self.total = search.verbose, total
        self.name = type(search).__name__
        self.bar = None
        self.t0 = time.perf_counter()
        if self.verbose > 0:
            try:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, desc=self.name, leave=True)
            except ImportError:
                self.bar = None

    def update(self, n_new, n_done, best):
        if self.verbose <= 0:
            return
        if self.bar is not None:
            self.bar.update(n_new)
            self.bar.set_postfix(best=f"{best:.4g}")
        else:
            print(f"[{self.name}] {n_done}/{self.total} candidates, best score "
                  f"{best:.4g}, {time.perf_counter() - self.t0:.1f} s", flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


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

    # -- helpers -------------------------------------------------------------
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

    def _engine_fingerprint(self):  # pragma: no cover - overridden
        return {}

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
        skl, _ = self._callback_lists()
        if self.checkpoint is not None:
            self._data_hash = joblib.hash((X, y, params))
        previous = list(getattr(self, "_skl_callbacks", []))
        if skl:
            self.set_callbacks(*previous, *skl)
        try:
            return super().fit(X, y, **params)
        finally:
            if skl:
                self.set_callbacks(*previous)
            self.__dict__.pop("_data_hash", None)

    def _fingerprint(self, space):
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
            "data": getattr(self, "_data_hash", ""),
            "error_score": repr(self.error_score),
            "return_train_score": repr(self.return_train_score),
            "random_state": (repr(self.random_state)
                             if isinstance(self.random_state, numbers.Integral)
                             else "derived"),
        }
        fp.update({k: repr(v) for k, v in self._engine_fingerprint().items()})
        return fp

    @staticmethod
    def _metric(results, refit):
        names = [k[len("mean_test_"):] for k in results if k.startswith("mean_test_")]
        if "score" in names:
            return "score"
        if isinstance(refit, str) and refit in names:
            return refit
        return names[0]

    def _objective(self, results, outs, start, n_splits):
        """Scores of rows ``start..`` (NaN for failed candidates)."""
        key = "mean_test_" + self._metric(results, self.refit)
        y = np.asarray(results[key][start:], dtype=float).copy()
        if outs is not None:
            for i in range(y.size):
                chunk = outs[(start + i) * n_splits : (start + i + 1) * n_splits]
                if any(o.get("fit_error") is not None for o in chunk):
                    y[i] = np.nan
        return y

    # -- the search loop -----------------------------------------------------
    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        space = SearchSpace(self.param_distributions)
        n_iter = self.n_iter
        if space.finite and space.size() < n_iter:
            warnings.warn(
                f"The total space of parameters {space.size()} is smaller than "
                f"n_iter={n_iter}. Running {space.size()} iterations. For exhaustive "
                "searches, use GridSearchCV.", UserWarning,
            )
            n_iter = int(space.size())
        batch = self.batch_size or max(1, joblib.effective_n_jobs(self.n_jobs))
        n_initial = self.n_initial_points or max(space.n_params + 1,
                                                 int(round(0.1 * n_iter)))
        n_initial = min(n_initial, n_iter)
        if isinstance(self.random_state, numbers.Integral):
            seed = int(self.random_state)
        else:
            seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        _, plain_callbacks = self._callback_lists()
        evals = _Evaluations(evaluate_candidates)
        store, stored = None, []
        if self.checkpoint is not None:
            if not evals.ok:  # pragma: no cover - other scikit-learn versions
                raise RuntimeError("checkpoint needs scikit-learn's BaseSearchCV.fit "
                                   "internals of versions 1.6 to 1.9.")
            fp = self._fingerprint(space)
            fp["batch_size"], fp["n_initial_points"] = str(batch), str(n_initial)
            store = Checkpoint(self.checkpoint, fp, seed)
            seed, stored = store.seed, store.load()
        rng = np.random.default_rng(seed)
        proposer = self._make_proposer(space, rng, n_initial)
        search_ctx = None
        if callback_ctx is not None:
            search_ctx = callback_ctx.subcontext(
                task_name="search", max_subtasks=None
            ).call_on_fit_task_begin(estimator=self)
        progress = _Progress(self, n_iter)
        seen, n_done, results, last_error = set(), 0, None, None
        try:
            while n_done < n_iter:
                with blas_threads(1):  # small matrices; deterministic
                    cands = proposer.ask(min(batch, n_iter - n_done), seen)
                if not cands:
                    break
                n_replay = min(len(cands), max(0, len(stored) - n_done))
                for i in range(n_replay):
                    if not np.allclose(cands[i][1], stored[n_done + i][1], atol=1e-8):
                        raise ValueError(
                            f"checkpoint={self.checkpoint!r}: candidate {n_done + i} "
                            "differs from the one recorded; the checkpoint belongs to "
                            "a different search."
                        )
                stop = False
                if n_replay:
                    rows = stored[n_done : n_done + n_replay]
                    results = evals.inject(
                        self, [r[0] for r in rows], [o for r in rows for o in r[2]]
                    )
                new = cands[n_replay:]
                if new:
                    round_ctx = None
                    kw = {}
                    if search_ctx is not None:
                        round_ctx = search_ctx.subcontext(
                            task_name="search-round",
                            max_subtasks=len(new) * self.n_splits_,
                            sequential_subtasks=False,
                        ).call_on_fit_task_begin(estimator=self)
                        kw["callback_ctx"] = round_ctx
                    try:
                        results = evaluate_candidates([c[0] for c in new], **kw)
                    except ValueError as exc:
                        # scikit-learn raises when every fit of one call failed; a
                        # sequential search must only raise if every fit of the
                        # whole search failed (as RandomizedSearchCV does)
                        if (self.error_score == "raise" or not evals.ok
                                or not str(exc).lstrip().startswith("All the")):
                            raise
                        last_error = str(exc)
                        warnings.warn(
                            f"\n{len(new) * self.n_splits_} fits failed out of a "
                            f"total of {len(new) * self.n_splits_}.{last_error}",
                            FitFailedWarning,
                        )
                        results = evals.inject(
                            self, [c[0] for c in new],
                            self._failed_outs(len(new), last_error),
                        )
                    if store is not None:
                        outs = evals.outs()
                        s = self.n_splits_
                        store.append(
                            n_done + n_replay, [c[0] for c in new], [c[1] for c in new],
                            [outs[(n_done + n_replay + i) * s:
                                  (n_done + n_replay + i + 1) * s]
                             for i in range(len(new))],
                        )
                    if round_ctx is not None:
                        snapshot = results
                        stop = bool(round_ctx.call_on_fit_task_end(
                            estimator=self,
                            reconstruction_attributes=lambda: self._partial(snapshot),
                        ))
                y = self._objective(results, evals.outs() if evals.ok else None,
                                    n_done, self.n_splits_)
                with blas_threads(1):  # small matrices; deterministic
                    proposer.tell([c[1] for c in cands], y)
                for c in cands:
                    seen.add(c[2])
                n_done += len(cands)
                key = "mean_test_" + self._metric(results, self.refit)
                finite = np.asarray(results[key], dtype=float)
                best = np.nanmax(finite) if np.isfinite(finite).any() else np.nan
                progress.update(len(new), n_done, best)
                for cb in plain_callbacks:
                    stop = bool(cb(results)) or stop
                if stop:
                    break
        finally:
            progress.close()
            if store is not None:
                store.close()
        if search_ctx is not None:
            search_ctx.call_on_fit_task_end(estimator=self)
        if last_error is not None and evals.ok and all(
            o.get("fit_error") is not None for o in evals.outs()
        ):
            raise ValueError(
                f"\nAll the {len(evals.outs())} fits failed.\n"
                + last_error.split("\n", 2)[-1]
            )

    def _failed_outs(self, n_candidates, message):
        """Per-split results of candidates whose every fit failed."""
        scorers, _ = self._get_scorers()
        names = list(getattr(scorers, "_scorers", {}))
        score = ({n: self.error_score for n in names} if names
                 else self.error_score)
        out = {"fit_error": message, "test_scores": score, "n_test_samples": 0,
               "fit_time": 0.0, "score_time": 0.0}
        if self.return_train_score:
            out["train_scores"] = score
        return [dict(out) for _ in range(n_candidates * self.n_splits_)]

    def _partial(self, results):
        """Attributes of a search stopped now (for FitCallback ``fitted_estimator``)."""
        key = "mean_test_" + self._metric(results, self.refit)
        scores = np.asarray(results[key], dtype=float)
        i = int(np.nanargmax(scores)) if np.isfinite(scores).any() else 0
        return {
            "cv_results_": results,
            "best_index_": i,
            "best_params_": results["params"][i],
            "best_score_": scores[i],
        }
