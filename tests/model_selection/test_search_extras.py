"""Checkpoint/resume, callbacks, progress display, metadata routing, estimator checks."""

import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn import config_context
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import get_scorer, make_scorer, mean_squared_error
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

from skngd.linear_model import GeneralizedLinearRegressor, LogisticRegression
from skngd.model_selection import BayesSearchCV, CheckpointError, CMAESSearchCV, Real

SEARCHES = [BayesSearchCV, CMAESSearchCV]
FITS = []


class CountingRidge(Ridge):
    def fit(self, X, y, sample_weight=None):
        FITS.append(self.alpha)
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[::2], y[::2]


def _search(cls, n_iter, path=None, **kw):
    kw = {"n_iter": n_iter, "cv": 3, "random_state": 0, "n_initial_points": 3,
          "checkpoint": path, **kw}
    return cls(CountingRidge(), {"alpha": loguniform(1e-4, 1e3),
                                 "fit_intercept": [True, False]}, **kw)


@pytest.mark.parametrize("cls", SEARCHES)
def test_checkpoint_resume_continues_the_sequence_without_refitting(cls, diabetes, tmp_path):
    X, y = diabetes
    path = tmp_path / "search.sqlite"
    ref = _search(cls, 9).fit(X, y)
    _search(cls, 5, path).fit(X, y)
    FITS.clear()
    resumed = _search(cls, 9, path).fit(X, y)
    # 4 new candidates x 3 folds + the refit; the first 5 were not re-evaluated
    assert len(FITS) == 4 * 3 + 1
    assert resumed.cv_results_["params"] == ref.cv_results_["params"]
    np.testing.assert_allclose(resumed.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(resumed.cv_results_["rank_test_score"],
                                  ref.cv_results_["rank_test_score"])
    assert resumed.best_params_ == ref.best_params_
    # a finished search re-run with its checkpoint fits nothing but the refit
    FITS.clear()
    again = _search(cls, 9, path).fit(X, y)
    assert len(FITS) == 1
    assert again.cv_results_["params"] == ref.cv_results_["params"]
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT COUNT(*) FROM candidates").fetchone()[0] == 9


def test_mismatched_or_corrupt_checkpoint_is_refused(diabetes, tmp_path):
    X, y = diabetes
    path = tmp_path / "s.sqlite"
    _search(BayesSearchCV, 3, path).fit(X, y)
    with pytest.raises(CheckpointError, match="data differ"):
        _search(BayesSearchCV, 3, path).fit(X[:-1], y[:-1])
    with pytest.raises(ValueError, match="estimator differ"):
        BayesSearchCV(CountingRidge(solver="svd"), {"alpha": loguniform(1e-4, 1e3),
                                                    "fit_intercept": [True, False]},
                      n_iter=3, cv=3, random_state=0, n_initial_points=3,
                      checkpoint=path).fit(X, y)
    with pytest.raises(ValueError, match="search, .*differ|search differ"):
        _search(CMAESSearchCV, 3, path).fit(X, y)
    with pytest.raises(ValueError, match="random_state"):
        _search(BayesSearchCV, 3, path, random_state=1).fit(X, y)
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CheckpointError, match="not a readable"):
        _search(BayesSearchCV, 3, bad).fit(X, y)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        con.execute("INSERT INTO meta VALUES ('format', 'something-else')")
    with pytest.raises(CheckpointError, match="not a skngd search checkpoint"):
        _search(BayesSearchCV, 3, other).fit(X, y)


_CHILD = """
import sys, time
sys.path.insert(0, {moddir!r})
from slowmod import run
run({path!r}, 12)
"""

_MOD = """
import time
from scipy.stats import loguniform
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from skngd.model_selection import BayesSearchCV

class SlowRidge(Ridge):
    def fit(self, X, y, sample_weight=None):
        time.sleep(0.15)
        return super().fit(X, y, sample_weight=sample_weight)

def search(path, n_iter):
    return BayesSearchCV(SlowRidge(), {"alpha": loguniform(1e-4, 1e3)}, n_iter=n_iter,
                         cv=2, random_state=0, n_initial_points=3, checkpoint=path)

def run(path, n_iter):
    X, y = load_diabetes(return_X_y=True)
    return search(path, n_iter).fit(X[::4], y[::4])
"""


def _start_child(tmp_path, name):
    """A child process running a slow 12-candidate search on ``tmp_path/name``."""
    (tmp_path / "slowmod.py").write_text(_MOD)
    path = str(tmp_path / name)
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_CHILD.format(moddir=str(tmp_path), path=path))],
        cwd=os.getcwd(),
    )
    return child, path


def test_killed_search_loses_no_finished_candidate(tmp_path):
    child, path = _start_child(tmp_path, "killed.sqlite")
    n_rows, t0 = 0, time.time()
    try:
        while n_rows < 4 and time.time() - t0 < 120:
            time.sleep(0.2)
            if os.path.exists(path):
                try:
                    with sqlite3.connect(path, timeout=1) as con:
                        n_rows = con.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
                except sqlite3.OperationalError:
                    pass
            assert child.poll() is None, "child finished before it was killed"
    finally:
        child.kill()
        child.wait()
    with sqlite3.connect(path) as con:
        n_rows = con.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
        stored = con.execute("SELECT params FROM candidates ORDER BY idx").fetchall()
    assert 4 <= n_rows < 12
    sys.path.insert(0, str(tmp_path))
    try:
        import slowmod

        fits = []
        orig = slowmod.SlowRidge.fit

        def counting(self, X, y, sample_weight=None):
            fits.append(1)
            return orig(self, X, y, sample_weight)

        slowmod.SlowRidge.fit = counting
        resumed = slowmod.run(path, 12)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("slowmod", None)
    assert len(fits) == (12 - n_rows) * 2 + 1
    assert len(resumed.cv_results_["params"]) == 12
    import json
    for (js,), p in zip(stored, resumed.cv_results_["params"]):
        assert json.loads(js)["alpha"] == pytest.approx(p["alpha"], rel=1e-12)


@pytest.mark.parametrize("cls", SEARCHES)
def test_plain_callback_stops_the_search(cls, diabetes):
    X, y = diabetes
    seen = []

    def stop_after_four(results):
        seen.append(len(results["params"]))
        return len(results["params"]) >= 4

    s = _search(cls, 10, callbacks=[stop_after_four], batch_size=1).fit(X, y)
    assert len(s.cv_results_["params"]) == 4
    assert seen == [1, 2, 3, 4] or seen[-1] == 4
    assert s.best_params_ == s.cv_results_["params"][s.best_index_]


class _StopRound:
    """A scikit-learn FitCallback that stops the search after 3 candidates."""

    def __init__(self):
        self.tasks = []

    def setup(self, estimator, context):
        self.tasks.append("setup")

    def teardown(self, estimator, context):
        self.tasks.append("teardown")

    def on_fit_task_begin(self, estimator, context):
        self.tasks.append(context.task_name)

    def on_fit_task_end(self, estimator, context, *, fitted_estimator):
        if context.task_name == "search-round":
            return len(fitted_estimator.cv_results_["params"]) >= 3
        return False


@pytest.mark.parametrize("how", ["set_callbacks", "callbacks"])
def test_sklearn_fit_callback_api_drives_and_stops_the_search(how, diabetes):
    pytest.importorskip("sklearn.callback")
    X, y = diabetes
    cb = _StopRound()
    if how == "callbacks":
        s = _search(BayesSearchCV, 10, callbacks=[cb], batch_size=1)
    else:
        s = _search(BayesSearchCV, 10, batch_size=1).set_callbacks(cb)
    s.fit(X, y)
    assert len(s.cv_results_["params"]) == 3
    assert cb.tasks[0] == "setup" and cb.tasks[-1] == "teardown"
    for name in ("fit", "search", "search-round", "candidate-split-evaluation",
                 "refit-with-best-params"):
        assert name in cb.tasks
    assert cb.tasks.count("search-round") == 3
    if how == "callbacks":  # registered for the duration of fit only
        user = _StopRound()
        s.set_callbacks(user)
        cb.tasks.clear()
        s.fit(X, y)
        assert "search-round" in cb.tasks and "search-round" in user.tasks
        cb.tasks.clear()
        user.tasks.clear()
        s.set_params(callbacks=None).fit(X, y)
        assert cb.tasks == [] and "search-round" in user.tasks


def test_verbose_shows_progress(diabetes, capsys):
    X, y = diabetes
    _search(BayesSearchCV, 4, verbose=1).fit(X, y)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "BayesSearchCV" in text
    assert "4/4" in text


@pytest.mark.parametrize("cls", SEARCHES)
def test_metadata_routing_of_groups_and_sample_weight(cls, diabetes):
    X, y = diabetes
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 6, size=len(y))
    sw = rng.uniform(0.2, 3.0, size=len(y))
    with config_context(enable_metadata_routing=True):
        scorer = make_scorer(mean_squared_error, greater_is_better=False)
        scorer = scorer.set_score_request(sample_weight=True)
        est = Ridge().set_fit_request(sample_weight=True)
        s = cls(est, {"alpha": loguniform(1e-3, 1e2)}, n_iter=4, cv=GroupKFold(3),
                scoring=scorer, random_state=0, n_initial_points=2)
        s.fit(X, y, groups=groups, sample_weight=sw)
        p0 = s.cv_results_["params"][0]
        ref = cross_validate(Ridge(**p0).set_fit_request(sample_weight=True), X, y,
                             cv=GroupKFold(3), scoring=scorer,
                             params={"groups": groups, "sample_weight": sw})
    np.testing.assert_allclose(
        [s.cv_results_[f"split{k}_test_score"][0] for k in range(3)],
        ref["test_score"], rtol=1e-10,
    )
    # without the weights the scores differ: they really were routed
    plain = -np.mean([get_scorer("neg_mean_squared_error")(
        Ridge(**p0).fit(X[tr], y[tr]), X[te], y[te])
        for tr, te in GroupKFold(3).split(X, y, groups)])
    assert abs(plain - (-s.cv_results_["mean_test_score"][0])) > 1e-6


SPACE = {"alpha": Real(1e-3, 1.0, prior="log-uniform")}
# scoring="r2": GeneralizedLinearRegressor.score fails on a column-vector y
# (check_supervised_y_2d), reported to the GLM's author; the search is not at fault.


@parametrize_with_checks([
    BayesSearchCV(GeneralizedLinearRegressor(), SPACE, n_iter=3, cv=2,
                  n_initial_points=2, random_state=0, scoring="r2"),
    CMAESSearchCV(LogisticRegression(), {"C": Real(1e-2, 10.0, prior="log-uniform")},
                  n_iter=3, cv=2, n_initial_points=1, popsize=2, random_state=0),
])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_search_runs_on_a_dask_local_cluster(diabetes):
    distributed = pytest.importorskip("dask.distributed")
    import joblib

    X, y = diabetes
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        with joblib.parallel_backend("dask"):
            s = BayesSearchCV(Ridge(), {"alpha": loguniform(1e-3, 1e2)}, n_iter=6,
                              cv=3, n_jobs=2, batch_size=2, random_state=0,
                              n_initial_points=2).fit(X, y)
    local = BayesSearchCV(Ridge(), {"alpha": loguniform(1e-3, 1e2)}, n_iter=6, cv=3,
                          batch_size=2, random_state=0, n_initial_points=2).fit(X, y)
    assert s.cv_results_["params"] == local.cv_results_["params"]
    np.testing.assert_allclose(s.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])


def test_a_second_process_on_a_checkpoint_in_use_fails_at_once(tmp_path):
    """Two processes, one file: the second is refused before any work."""
    child, path = _start_child(tmp_path, "busy.sqlite")
    sys.path.insert(0, str(tmp_path))
    try:
        import slowmod

        t0 = time.time()
        while not os.path.exists(path) and time.time() - t0 < 120:
            time.sleep(0.1)
        assert child.poll() is None, "child finished too early"
        t1 = time.time()
        with pytest.raises(CheckpointError, match="in use by another running search"):
            slowmod.run(path, 12)
        assert time.time() - t1 < 5  # refused at start, not mid-search
        child.kill()
        child.wait()
        resumed = slowmod.run(path, 12)  # the lock died with its process
        assert len(resumed.cv_results_["params"]) == 12
    finally:
        child.kill()
        child.wait()
        sys.path.remove(str(tmp_path))
        sys.modules.pop("slowmod", None)
