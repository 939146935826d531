"""The loop of a sequential search: propose, replay or evaluate, record, tell."""

import time

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning

from skngd.utils._threads import blas_threads
from skngd.utils._warnings import warn

from ._checkpoint import CheckpointError
from ._evaluation import Outcome, format_results, outcomes_from_results


class Progress:
    """``verbose > 0``: a tqdm bar if installed, else one line per batch."""

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


def static_metric_names(scoring):
    """Metric names known before any evaluation (a callable may return a dict)."""
    if isinstance(scoring, dict):
        return list(scoring)
    if isinstance(scoring, (list, tuple, set)):
        return list(scoring)
    return ["score"]


def objective_metric(names, refit):
    """The metric the proposer maximises: ``score``, the refit metric, or the first."""
    if "score" in names:
        return "score"
    if isinstance(refit, str) and refit in names:
        return refit
    return names[0]


class SearchRun:
    """One run of a search, called by ``_run_search`` with ``evaluate_candidates``.

    Candidates recorded in the checkpoint are replayed (their stored outcome is used,
    nothing is fitted) as long as the proposer proposes exactly them again; new ones
    are evaluated in batches and written to the checkpoint as each batch returns.
    """

    def __init__(self, search, plan, proposer, store, frozen, callbacks, search_ctx):
        self.search, self.plan, self.proposer = search, plan, proposer
        self.store, self.frozen = store, frozen
        self.callbacks, self.search_ctx = callbacks, search_ctx
        self.stored = store.rows if store is not None else []
        self.params, self.outcomes = [], []
        self.names = next((list(o.test) for _, o in self.stored if o.test is not None),
                          None)
        self._checked_names = set()

    @property
    def n_splits(self):
        """Number of CV splits, once drawn (or read from the checkpoint)."""
        return None if self.frozen.splits is None else len(self.frozen.splits)

    # -- results -------------------------------------------------------------
    def metric_names(self):
        return self.names or static_metric_names(self.search.scoring)

    def results(self):
        s = self.search
        return format_results(self.params, self.outcomes, self.metric_names(),
                              self.n_splits, s.return_train_score, s.error_score)

    def _objective(self, outcomes):
        m = objective_metric(self.metric_names(), self.search.refit)
        return np.array([np.nan if o.test is None else np.mean(o.test[m])
                         for o in outcomes], dtype=float)

    # -- the loop ------------------------------------------------------------
    def __call__(self, evaluate_candidates):
        n_iter, seen = self.plan.n_iter, set()
        progress = Progress(self.search, n_iter)
        try:
            while len(self.outcomes) < n_iter:
                n_done = len(self.outcomes)
                k = self.plan.batch_size
                with blas_threads(1):  # small matrices; deterministic
                    cands = self.proposer.ask(k, seen)
                cands = cands[: n_iter - n_done]
                if not cands:
                    break
                outs, stop = self._replay(n_done, cands), False
                new = cands[len(outs):]
                if new:
                    new_outs, stop = self._evaluate(evaluate_candidates, new)
                    if self.store is not None:
                        first = self.store.splits is None
                        self.store.append(n_done + len(outs), new, new_outs,
                                          splits=self.frozen.splits if first else None)
                    outs = outs + new_outs
                self.params.extend(c[0] for c in cands)
                self.outcomes.extend(outs)
                with blas_threads(1):
                    self.proposer.tell([c[1] for c in cands], self._objective(outs))
                seen.update(c[2] for c in cands)
                stop = self._after_batch(progress, len(new)) or stop
                if stop:
                    break
        finally:
            progress.close()
        self._raise_if_all_failed()

    def _replay(self, n_done, cands):
        n = min(len(cands), max(0, len(self.stored) - n_done))
        outs = []
        for i in range(n):
            u, outcome = self.stored[n_done + i]
            if not np.allclose(cands[i][1], u, atol=1e-8):
                raise CheckpointError(
                    f"checkpoint={self.search.checkpoint!r}: candidate {n_done + i} "
                    "differs from the one recorded; the checkpoint belongs to a "
                    "different search. Use a new checkpoint file for a new search.")
            outs.append(outcome)
        return outs

    def _check_param_names(self, params_list):
        """Invalid names raise here, not as 'failed fits' inside scikit-learn."""
        for params in params_list:
            key = tuple(sorted(params))
            if key not in self._checked_names:
                clone(self.search.estimator).set_params(**clone(params, safe=False))
                self._checked_names.add(key)

    def _evaluate(self, evaluate_candidates, new):
        s = self.search
        params = [c[0] for c in new]
        self._check_param_names(params)
        round_ctx, kw = None, {}
        if self.search_ctx is not None:
            n_splits = self.n_splits
            round_ctx = self.search_ctx.subcontext(
                task_name="search-round", sequential_subtasks=False,
                max_subtasks=None if n_splits is None else len(new) * n_splits,
            ).call_on_fit_task_begin(estimator=s)
            kw["callback_ctx"] = round_ctx
        t0 = time.perf_counter()
        try:
            results = evaluate_candidates(params, cv=self.frozen, **kw)
        except ValueError as exc:
            # scikit-learn raises when every fit of one call failed; with a numeric
            # error_score a sequential search records those candidates as failed and
            # goes on. Before consistent splits are drawn no fit has run: re-raise.
            if s.error_score == "raise" or not self.frozen.consistent():
                raise
            outs = self._failed_batch(new, str(exc), time.perf_counter() - t0)
        else:
            outs, names = outcomes_from_results(results, len(new), self.n_splits,
                                                s.return_train_score)
            self.names = self.names or names
        stop = False
        if round_ctx is not None:
            stop = bool(round_ctx.call_on_fit_task_end(
                estimator=s, reconstruction_attributes=lambda: s._partial(
                    self._results_with(new, outs))))
        return outs, stop

    def _results_with(self, cands, outs):
        s = self.search
        return format_results(self.params + [c[0] for c in cands], self.outcomes + outs,
                              self.metric_names(), self.n_splits,
                              s.return_train_score, s.error_score)

    def _failed_batch(self, new, message, elapsed):
        n_fits = len(new) * self.n_splits
        total = (len(self.outcomes) + len(new)) * self.n_splits
        warn(
            f"\n{n_fits} fits failed in this batch (every fit of its {len(new)} "
            f"candidate(s)), out of a total of {total} fits evaluated so far.\n"
            "The score on these train-test partitions for these parameters will be "
            f"set to {self.search.error_score}.\n{message}",
            FitFailedWarning,
        )
        return [Outcome.failed(message, elapsed / n_fits) for _ in new]

    def _after_batch(self, progress, n_new):
        if progress.verbose > 0:
            scores = self._objective(self.outcomes)
            best = np.nanmax(scores) if np.isfinite(scores).any() else np.nan
            progress.update(n_new, len(self.outcomes), best)
        stop = False
        if self.callbacks:
            results = self.results()
            for cb in self.callbacks:
                stop = bool(cb(results)) or stop
        return stop

    def _raise_if_all_failed(self):
        if self.outcomes and all(o.test is None for o in self.outcomes):
            n = len(self.outcomes) * self.n_splits
            last = self.outcomes[-1].fit_error or ""
            raise ValueError(f"\nAll the {n} fits failed.\n"
                             "It is very likely that your model is misconfigured.\n"
                             "You can try to debug the error by setting "
                             f"error_score='raise'.\n\nThe last error was:\n{last}")
