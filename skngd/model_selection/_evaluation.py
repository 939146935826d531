"""Batch evaluation through scikit-learn's documented ``_run_search`` protocol.

``BaseSearchCV.fit`` documents one extension point: ``_run_search(evaluate_candidates)``,
where ``evaluate_candidates(candidate_params, cv=None, more_results=None)`` cross-
validates a batch and returns every result so far formatted like ``cv_results_``.
The search classes implement ``_run_search``, pass ``cv=``:class:`FrozenSplits` so
that every batch sees the same folds, and read each batch's rows from the returned
dict. Rows replayed from a checkpoint and batches in which every fit failed
never reach scikit-learn; :func:`format_results` builds the final ``cv_results_``
from all rows, in the format scikit-learn documents.
"""

import numbers
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.ma import MaskedArray
from scipy.stats import rankdata



@dataclass
class Outcome:
    """Cross-validation result of one candidate.

    ``test``/``train`` map metric names to one score per split; ``test is None``
    when every fit of the candidate failed (``fit_error`` then holds the error text).
    ``fit_time``/``score_time`` are ``(mean, std)`` over the splits, in seconds.
    """

    test: dict | None
    train: dict | None
    fit_time: tuple
    score_time: tuple
    fit_error: str | None = None

    @classmethod
    def failed(cls, message, fit_time):
        return cls(None, None, (float(fit_time), 0.0), (0.0, 0.0), message)


def _indices(rows):
    """Row indices of a split given as indices or as a boolean mask."""
    rows = np.asarray(rows)
    return np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.intp)


class FrozenSplits:
    """A CV splitter that draws its splits once and replays them on every call.

    Every batch of a search, and a search resumed from a checkpoint, scores its
    candidates on the same folds even when ``cv`` is randomised without a seed.

    Parameters
    ----------
    cv : cross-validation splitter
        Drawn from on the first call to :meth:`split` when ``splits`` is None.
    splits : list of (train, test) index arrays or None
        Splits to replay (from a checkpoint).
    """

    def __init__(self, cv, splits=None):
        self.cv, self.splits = cv, splits
        self.expected = None if splits is None else len(splits)

    def get_n_splits(self, X=None, y=None, groups=None, **params):
        if self.splits is not None:
            return len(self.splits)
        return self.cv.get_n_splits(X, y, groups, **params)

    def consistent(self):
        """Splits drawn, at least one, as many as the splitter announces."""
        return bool(self.splits) and self.expected == len(self.splits)

    def split(self, X, y=None, groups=None, **params):
        if self.splits is None:
            self.splits = [(_indices(tr), _indices(te))
                           for tr, te in self.cv.split(X, y, groups, **params)]
            self.expected = self.cv.get_n_splits(X, y, groups, **params)
        return iter(self.splits)

    def get_metadata_routing(self):
        from sklearn.utils.metadata_routing import get_routing_for_object

        return get_routing_for_object(self.cv)


class SearchDone(Exception):
    """Raised at the end of ``_run_search`` once the search set every attribute.

    ``BaseSearchCV.fit`` documents nothing after ``_run_search``, so the search
    selects the best candidate over all rows, refits it and ends the callback task
    itself, then leaves ``BaseSearchCV.fit`` through this exception.
    """


def outcomes_from_results(results, n_new, n_splits, return_train_score):
    """The last ``n_new`` rows of an ``evaluate_candidates`` result, and metric names."""
    names = [k[len("split0_test_"):] for k in results if k.startswith("split0_test_")]
    start = len(results["params"]) - n_new
    out = []
    for i in range(start, start + n_new):
        def block(kind):
            return {m: [float(results[f"split{k}_{kind}_{m}"][i]) for k in range(n_splits)]
                    for m in names}

        out.append(Outcome(
            block("test"), block("train") if return_train_score else None,
            (float(results["mean_fit_time"][i]), float(results["std_fit_time"][i])),
            (float(results["mean_score_time"][i]), float(results["std_score_time"][i])),
        ))
    return out, names


def _param_columns(candidate_params):
    """``param_<name>`` masked arrays, with the dtype rules scikit-learn documents."""
    values = defaultdict(dict)
    for i, params in enumerate(candidate_params):
        for name, value in params.items():
            values["param_" + name][i] = value
    for key, by_row in values.items():
        try:
            arr = np.array(list(by_row.values()))
        except ValueError:  # ragged sequences
            dtype = np.dtype(object)
        else:
            dtype = arr.dtype if arr.dtype.kind != "U" and arr.ndim == 1 else object
        ma = MaskedArray(np.empty(len(candidate_params), dtype=dtype), mask=True)
        for i, value in by_row.items():
            ma[i] = value
        yield key, ma


def _store(results, key, array, splits=False, rank=False):
    array = np.asarray(array, dtype=np.float64)
    if splits:
        for k in range(array.shape[1]):
            results[f"split{k}_{key}"] = array[:, k]
    means = array.mean(axis=1)
    results[f"mean_{key}"] = means
    results[f"std_{key}"] = np.sqrt(((array - means[:, None]) ** 2).mean(axis=1))
    if rank:
        if np.isnan(means).all():
            ranks = np.ones(means.shape, dtype=np.int32)
        else:
            filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
            ranks = rankdata(-filled, method="min").astype(np.int32)
        results[f"rank_{key}"] = ranks


def format_results(params, outcomes, names, n_splits, return_train_score, error_score):
    """``cv_results_`` of candidates ``params`` with ``outcomes`` (same order).

    Candidates whose every fit failed get ``error_score`` on every split and metric.
    """
    fill = float(error_score) if isinstance(error_score, numbers.Number) else np.nan
    failed = [fill] * n_splits

    def per_metric(kind, m):
        return [(o.test if kind == "test" else o.train or {}).get(m, failed)
                if o.test is not None else failed for o in outcomes]

    results = {}
    for key in ("fit_time", "score_time"):
        results[f"mean_{key}"] = np.array([getattr(o, key)[0] for o in outcomes],
                                          dtype=np.float64)
        results[f"std_{key}"] = np.array([getattr(o, key)[1] for o in outcomes],
                                         dtype=np.float64)
    for key, ma in _param_columns(params):
        results[key] = ma
    results["params"] = list(params)
    for m in names:
        _store(results, f"test_{m}", per_metric("test", m), splits=True, rank=True)
        if return_train_score:
            _store(results, f"train_{m}", per_metric("train", m), splits=True)
    return results
