"""Checkpoints are data: nothing in one runs, and every fault is a CheckpointError."""

import json
import os
import pickle
import sqlite3

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeRegressor

from skngd.model_selection import BayesSearchCV, CheckpointError, CMAESSearchCV

SEARCHES = [BayesSearchCV, CMAESSearchCV]


@pytest.fixture(scope="module")
def data():
    X, y = load_diabetes(return_X_y=True)
    return X[::3], y[::3]


def _search(path, n_iter=4, cls=BayesSearchCV, **kw):
    kw = {"n_iter": n_iter, "cv": 2, "random_state": 0, "n_initial_points": 2,
          "checkpoint": path, **kw}
    return cls(Ridge(), {"alpha": loguniform(1e-3, 1e2)}, **kw)


class _Payload:
    """Unpickling this object writes a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return _touch, (self.marker,)


def _touch(path):  # module-level so that pickle can name it
    with open(path, "w") as f:
        f.write("code ran while reading the checkpoint")
    return {}


def _tamper_every_column(path, payload):
    """Put a pickle whose __reduce__ runs code into every stored column."""
    with sqlite3.connect(path) as con:
        con.execute("UPDATE candidates SET params = ?, fit_error = ?",
                    (payload, payload))
        con.execute("UPDATE meta SET value = ? WHERE key = 'estimator'", (payload,))


def test_a_crafted_pickle_in_a_checkpoint_never_runs(data, tmp_path):
    X, y = data
    path, marker = tmp_path / "c.sqlite", tmp_path / "marker.txt"
    payload = pickle.dumps(_Payload(str(marker)))
    ref = _search(None, 6).fit(X, y)
    _search(path, 3).fit(X, y)
    # 1. the readable copy of the parameters and the error text hold the payload
    with sqlite3.connect(path) as con:
        con.execute("UPDATE candidates SET params = ?", (payload,))
    resumed = _search(path, 6).fit(X, y)
    assert not marker.exists()
    assert resumed.cv_results_["params"] == ref.cv_results_["params"]
    # 2. the payload in place of the data columns: refused, nothing runs
    for column in ("u", "scores"):
        bad = tmp_path / f"{column}.sqlite"
        _search(bad, 3).fit(X, y)
        with sqlite3.connect(bad) as con:
            con.execute(f"UPDATE candidates SET {column} = ?", (payload,))
        with pytest.raises(CheckpointError, match="damaged candidate 0"):
            _search(bad, 6).fit(X, y)
        assert not marker.exists()
    # 3. the payload in the metadata: a different search, nothing runs
    _tamper_every_column(path, payload)
    with pytest.raises(CheckpointError, match="damaged metadata: 'estimator'"):
        _search(path, 6).fit(X, y)
    assert not marker.exists()


def test_a_checkpoint_of_the_pickle_format_is_refused_without_unpickling(data, tmp_path):
    """The file layout of the first checkpoint format, whose payloads were pickles."""
    X, y = data
    path, marker = tmp_path / "old.sqlite", tmp_path / "marker.txt"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        con.execute("CREATE TABLE candidates (idx INTEGER PRIMARY KEY, params_json "
                    "TEXT, u BLOB, payload BLOB, created REAL)")
        con.executemany("INSERT INTO meta VALUES (?, ?)",
                        [("format", "skngd-search-checkpoint-1"), ("seed", "0")])
        con.execute("INSERT INTO candidates VALUES (0, '{}', ?, ?, 0.0)",
                    (np.zeros(1).tobytes(), pickle.dumps(_Payload(str(marker)))))
    with pytest.raises(CheckpointError, match="not a skngd search checkpoint"):
        _search(path).fit(X, y)
    assert not marker.exists()


def test_sql_objects_a_checkpoint_never_has_are_refused(data, tmp_path):
    X, y = data
    path = tmp_path / "t.sqlite"
    _search(path, 2).fit(X, y)
    with sqlite3.connect(path) as con:
        con.execute("CREATE TRIGGER t AFTER INSERT ON candidates BEGIN "
                    "DELETE FROM candidates; END")
    with pytest.raises(CheckpointError, match="trigger 't'"):
        _search(path, 4).fit(X, y)


class _Choice(RegressorMixin, BaseEstimator):
    """Parameters that JSON cannot hold: estimators, callables, None, numpy scalars."""

    def __init__(self, model=None, transform=None, scale=1.0):
        self.model, self.transform, self.scale = model, transform, scale

    def fit(self, X, y):
        z = y if self.transform is None else self.transform(y - y.min() + 1.0)
        self.model_ = (self.model or Ridge()).fit(X * float(self.scale), z)
        return self

    def predict(self, X):
        return self.model_.predict(X * float(self.scale))


@pytest.mark.parametrize("cls", SEARCHES)
def test_non_json_parameters_resume_through_the_search_space(cls, data, tmp_path):
    X, y = data
    space = {"model": [Ridge(alpha=1.0), DecisionTreeRegressor(max_depth=2), None],
             "transform": [None, np.log1p, np.sqrt],
             "scale": [np.float32(0.5), np.int64(2)]}
    kw = dict(n_iter=7, cv=2, random_state=1, n_initial_points=3, batch_size=2)
    ref = cls(_Choice(), space, **kw).fit(X, y)
    path = tmp_path / "choice.sqlite"
    cls(_Choice(), space, **{**kw, "n_iter": 4}, checkpoint=path).fit(X, y)
    resumed = cls(_Choice(), space, **kw, checkpoint=path).fit(X, y)
    for a, b in zip(ref.cv_results_["params"], resumed.cv_results_["params"]):
        assert repr(a["model"]) == repr(b["model"])
        assert a["transform"] is b["transform"]
        assert a["scale"] == b["scale"] and type(a["scale"]) is type(b["scale"])
    np.testing.assert_array_equal(ref.cv_results_["mean_test_score"],
                                  resumed.cv_results_["mean_test_score"])
    with sqlite3.connect(path) as con:  # readable parameters, for people
        shown = json.loads(con.execute("SELECT params FROM candidates").fetchone()[0])
    assert set(shown) == {"model", "transform", "scale"}


# -- faults ----------------------------------------------------------------------
def test_a_second_search_on_a_file_in_use_fails_at_once(data, tmp_path):
    X, y = data
    path = tmp_path / "shared.sqlite"
    errors = []

    def start_a_second_search(results):
        if len(results["params"]) == 2:
            with pytest.raises(CheckpointError, match="in use by another running"):
                _search(path, 6).fit(X, y)
            errors.append(True)
        return False

    first = _search(path, 6, callbacks=[start_a_second_search]).fit(X, y)
    assert errors == [True]
    assert len(first.cv_results_["params"]) == 6
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT COUNT(*) FROM candidates").fetchone()[0] == 6
    _search(path, 6).fit(X, y)  # the lock is released when the search ends


def _damage(path, sql):
    with sqlite3.connect(path) as con:
        con.executescript(sql)


@pytest.mark.parametrize("sql, fault", [
    ("DELETE FROM meta WHERE key = 'seed'", "'seed' is missing"),
    ("UPDATE meta SET value = 'abc' WHERE key = 'seed'", "must be integers"),
    ("DELETE FROM meta WHERE key = 'estimator'", "'estimator' is missing"),
    ("UPDATE meta SET value = x'00' WHERE key = 'data'", "'data' is missing or not text"),
    ("UPDATE meta SET value = 3 WHERE key = 'data'", "data differ"),
    ("ALTER TABLE meta RENAME COLUMN value TO v", "damaged table 'meta'"),
    ("DROP TABLE candidates", "no table 'candidates'"),
    ("DROP TABLE splits", "no table 'splits'"),
    ("DELETE FROM splits", "candidates but no cross-validation splits"),
    ("DELETE FROM candidates WHERE idx = 1", "missing candidate 1"),
    ("UPDATE candidates SET u = '[2.0]' WHERE idx = 0", "damaged candidate 0"),
    ("UPDATE candidates SET scores = '{\"test\": {\"score\": [1.0]}, \"train\": null}'",
     "damaged candidate 0"),
    ("UPDATE candidates SET fit_time = -1", "damaged candidate 0"),
    ("UPDATE splits SET train = x'0102'", "damaged split 0"),
])
def test_damaged_checkpoints_raise_checkpoint_error(data, tmp_path, sql, fault):
    X, y = data
    path = tmp_path / "d.sqlite"
    _search(path, 3).fit(X, y)
    _damage(path, sql)
    with pytest.raises(CheckpointError, match=fault) as info:
        _search(path, 5).fit(X, y)
    assert str(path) in str(info.value)


def test_an_empty_or_foreign_file_is_not_silently_replaced(data, tmp_path):
    X, y = data
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(CheckpointError, match="empty .0-byte. file"):
        _search(empty).fit(X, y)
    assert empty.stat().st_size == 0
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as con:
        con.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(CheckpointError, match="table 'notes'"):
        _search(foreign).fit(X, y)


def test_stored_splits_outside_the_data_are_refused(data, tmp_path):
    X, y = data
    path = tmp_path / "s.sqlite"
    _search(path, 3).fit(X, y)
    big = np.arange(len(y) + 5, dtype="<i8").tobytes()
    _damage(path, f"UPDATE splits SET test = x'{big.hex()}' WHERE idx = 0")
    with pytest.raises(CheckpointError, match="split 0 indexes rows outside the"):
        _search(path, 5).fit(X, y)


def test_a_new_checkpoint_appears_complete_or_not_at_all(data, tmp_path):
    X, y = data
    path = tmp_path / "new.sqlite"
    _search(path, 2).fit(X, y)
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert leftovers == []
    with sqlite3.connect(path) as con:
        tables = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"meta", "splits", "candidates"}
