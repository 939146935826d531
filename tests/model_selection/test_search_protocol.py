"""The search classes use only BaseSearchCV's documented protocol, and honour it.

Same candidates whatever ``n_jobs`` at default arguments; the same folds for every
candidate, every batch and across a resume; failing candidates under callable
multi-metric scoring; cv_results_ exactly as GridSearchCV formats it.
"""

import inspect
import warnings

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.datasets import make_classification
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.tree import DecisionTreeClassifier

import skngd.model_selection as ms
from skngd.model_selection import BayesSearchCV, CMAESSearchCV, Integer, Real

SEARCHES = [BayesSearchCV, CMAESSearchCV]


@pytest.mark.parametrize("cls", SEARCHES)
def test_same_seed_same_candidates_for_n_jobs_1_and_2_at_default_arguments(cls, cancer):
    X, y = cancer
    space = {"max_depth": Integer(1, 8), "min_samples_leaf": Integer(1, 20),
             "criterion": ["gini", "entropy"], "ccp_alpha": Real(0.0, 0.05)}
    runs = [cls(DecisionTreeClassifier(random_state=0), space, n_iter=9, cv=3,
                random_state=5, n_jobs=n_jobs).fit(X, y) for n_jobs in (1, 2)]
    assert runs[0].cv_results_["params"] == runs[1].cv_results_["params"]
    np.testing.assert_array_equal(runs[0].cv_results_["mean_test_score"],
                                  runs[1].cv_results_["mean_test_score"])


class FoldProbe(RegressorMixin, BaseEstimator):
    """Its score on a split is a fingerprint of the rows it was trained on."""

    def __init__(self, a=0.0):
        self.a = a

    def fit(self, X, y):
        rows = np.asarray(X)[:, 0]
        self.fingerprint_ = float(np.sum(np.sin(rows) * 1e3))
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y, sample_weight=None):
        return self.fingerprint_


def _rows(n=60):
    return np.arange(n, dtype=float)[:, None], np.zeros(n)


def _split_scores(search, n_splits):
    r = search.cv_results_
    return np.column_stack([r[f"split{k}_test_score"] for k in range(n_splits)])


@pytest.mark.parametrize("cls", SEARCHES)
@pytest.mark.parametrize("batch_size", [None, 1, 2])
def test_every_candidate_and_batch_is_scored_on_the_same_folds(cls, batch_size):
    X, y = _rows()
    s = cls(FoldProbe(), {"a": Real(0.0, 1.0)}, n_iter=7, n_initial_points=2,
            cv=KFold(3, shuffle=True), batch_size=batch_size, random_state=0).fit(X, y)
    scores = _split_scores(s, 3)
    assert np.all(scores == scores[0])  # same training rows on every row
    assert len(set(scores[0])) == 3  # and three different folds


@pytest.mark.parametrize("cls", SEARCHES)
def test_a_resumed_search_scores_on_the_folds_it_started_with(cls, tmp_path):
    X, y = _rows()
    path = tmp_path / "folds.sqlite"
    kw = dict(n_initial_points=2, cv=KFold(3, shuffle=True), batch_size=1,
              random_state=0, checkpoint=path)
    first = cls(FoldProbe(), {"a": Real(0.0, 1.0)}, n_iter=3, **kw).fit(X, y)
    resumed = cls(FoldProbe(), {"a": Real(0.0, 1.0)}, n_iter=6, **kw).fit(X, y)
    scores = _split_scores(resumed, 3)
    assert np.all(scores == _split_scores(first, 3)[0])


class OneTimeSplits:
    """A splitter whose ``split`` may be called once."""

    def __init__(self, n_splits=3, n_samples=60):
        self.n_splits, self.n_samples, self.used = n_splits, n_samples, False

    def split(self, X=None, y=None, groups=None):
        assert not self.used, "split called twice"
        self.used = True
        return KFold(self.n_splits).split(np.zeros(self.n_samples))

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits


@pytest.mark.parametrize("cls", SEARCHES)
def test_the_splitter_is_drawn_from_once(cls):
    X, y = _rows()
    s = cls(FoldProbe(), {"a": Real(0.0, 1.0)}, n_iter=5, n_initial_points=2,
            cv=OneTimeSplits(), batch_size=1, random_state=0).fit(X, y)
    ref = cls(FoldProbe(), {"a": Real(0.0, 1.0)}, n_iter=5, n_initial_points=2,
              cv=KFold(3), batch_size=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(_split_scores(s, 3), _split_scores(ref, 3))


class Failing(ClassifierMixin, BaseEstimator):
    """Fails to fit when ``parameter == 2``."""

    def __init__(self, parameter=0):
        self.parameter = parameter

    def fit(self, X, y):
        if self.parameter == 2:
            raise ValueError("Failing classifier failed as required")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.zeros(len(X), dtype=int)


def _acc_dict(est, X, y):
    return {"acc": 1.0, "one": 1.0}


@pytest.mark.parametrize("cls", SEARCHES)
@pytest.mark.parametrize("batch_size", [None, 1])
def test_callable_multimetric_scoring_with_a_failing_candidate(cls, batch_size):
    X, y = make_classification(n_samples=20, n_features=10, random_state=0)
    s = cls(Failing(), {"parameter": [0, 1, 2]}, n_iter=3, scoring=_acc_dict,
            refit=False, error_score=0.1, batch_size=batch_size)
    with pytest.warns(FitFailedWarning, match="5 fits failed.+total of 15"):
        s.fit(X, y)
    means = dict(zip([p["parameter"] for p in s.cv_results_["params"]],
                     s.cv_results_["mean_test_acc"]))
    assert means == {0: 1.0, 1: 1.0, 2: pytest.approx(0.1)}
    assert s.multimetric_
    s = cls(Failing(), {"parameter": [0, 2]}, n_iter=2, scoring=_acc_dict,
            refit="acc", error_score=0.1, batch_size=batch_size)
    with pytest.warns(FitFailedWarning):
        s.fit(X, y)
    assert s.best_params_ == {"parameter": 0}


def test_a_failed_batch_is_recognised_whatever_scikit_learn_says(monkeypatch, cancer):
    """Nothing depends on the text of scikit-learn's errors."""
    import sklearn.model_selection._search as sk_search

    def raise_other_text(results, error_score):
        if all(r["fit_error"] is not None for r in results):
            raise ValueError("an error text this library has never seen")

    monkeypatch.setattr(sk_search, "_warn_or_raise_about_fit_failures",
                        raise_other_text)
    X, y = cancer
    with pytest.warns(FitFailedWarning, match="never seen"):
        s = BayesSearchCV(Failing(), {"parameter": [0, 1, 2, 3]}, n_iter=4,
                          batch_size=1, cv=2).fit(X, y)
    failed = [np.isnan(v) for v in s.cv_results_["mean_test_score"]]
    assert failed == [p["parameter"] == 2 for p in s.cv_results_["params"]]
    with pytest.raises(ValueError, match="All the 4 fits failed"):
        BayesSearchCV(Failing(), {"parameter": [2, 2]}, n_iter=2, batch_size=1,
                      cv=2).fit(X, y)


def test_an_invalid_parameter_name_is_not_a_failed_fit(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="Invalid parameter 'not_a_param'"):
        BayesSearchCV(LogisticRegression(), {"not_a_param": [1, 2]}, n_iter=2,
                      error_score=0.0).fit(X, y)


def test_no_scikit_learn_internals_are_read_or_written():
    import skngd.model_selection as pkg

    for name in ("_search", "_driver", "_evaluation", "_checkpoint"):
        src = inspect.getsource(getattr(pkg, name))
        for forbidden in ("__closure__", "cell_contents", "_format_results",
                          "_fit_and_score", "startswith(\"All the\")", "import pickle",
                          "pickle.load"):
            assert forbidden not in src, (name, forbidden)


def test_an_exhaustive_search_formats_results_exactly_like_grid_search(cancer):
    X, y = cancer
    grid = [{"C": [0.1, 1.0], "fit_intercept": [True, False]},
            {"C": [10.0], "class_weight": [None]}]
    kw = dict(scoring={"acc": "accuracy", "auc": "roc_auc"}, refit="auc",
              return_train_score=True, cv=3)
    ours = BayesSearchCV(LogisticRegression(), grid, n_iter=5, **kw).fit(X, y)
    ref = GridSearchCV(LogisticRegression(), grid, **kw).fit(X, y)
    assert list(ours.cv_results_) == list(ref.cv_results_)
    for key, val in ref.cv_results_.items():
        if key.endswith("_time"):
            continue
        got = ours.cv_results_[key]
        if isinstance(val, np.ma.MaskedArray):
            assert got.dtype == val.dtype, key
            np.testing.assert_array_equal(got.mask, val.mask)
            assert list(got.compressed()) == list(val.compressed()), key
        elif key == "params":
            assert got == val
        else:
            assert got.dtype == val.dtype, key
            np.testing.assert_array_equal(got, val, err_msg=key)
    assert ours.best_index_ == ref.best_index_ and ours.best_params_ == ref.best_params_
    assert ours.best_score_ == ref.best_score_
    assert ours.scorer_.keys() == ref.scorer_.keys() and ours.multimetric_


def test_loguniform_space_is_searched_and_refit_once(cancer):
    X, y = cancer
    fits = []

    class Counting(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            fits.append(self.C)
            return super().fit(X, y, sample_weight=sample_weight)

    with warnings.catch_warnings():
        warnings.simplefilter("error", FitFailedWarning)
        s = CMAESSearchCV(Counting(), {"C": loguniform(1e-3, 1e2)}, n_iter=6, cv=2,
                          random_state=0).fit(X, y)
    assert len(fits) == 6 * 2 + 1 and fits[-1] == s.best_params_["C"]
    assert ms.CMAESSearchCV is CMAESSearchCV


class Inconsistent(OneTimeSplits):
    """Announces three splits, yields two."""

    def split(self, X=None, y=None, groups=None):
        return KFold(2).split(np.zeros(self.n_samples))


def test_a_splitter_error_is_not_taken_for_failed_fits():
    X, y = _rows()
    with pytest.raises(ValueError, match="inconsistent"):
        BayesSearchCV(FoldProbe(), {"a": Real(0.0, 1.0)}, n_iter=3,
                      cv=Inconsistent(), error_score=0.0).fit(X, y)
    with pytest.raises(ValueError, match="No fits were performed"):
        BayesSearchCV(FoldProbe(), {"a": Real(0.0, 1.0)}, n_iter=3, cv=[],
                      error_score=0.0).fit(X, y)


def test_a_generator_as_cv():
    X, y = _rows()
    cv = KFold(3, shuffle=True, random_state=0)
    ref = BayesSearchCV(FoldProbe(), {"a": Real(0.0, 1.0)}, n_iter=4, cv=cv,
                        random_state=0).fit(X, y)
    gen = BayesSearchCV(FoldProbe(), {"a": Real(0.0, 1.0)}, n_iter=4,
                        cv=cv.split(X), random_state=0)
    import sklearn
    from sklearn.utils.fixes import parse_version

    try:
        gen.fit(X, y)
    except ValueError as exc:  # scikit-learn keeps no drawn splitter before 1.9
        assert "one-shot iterator" in str(exc)
        assert parse_version(sklearn.__version__) < parse_version("1.9")
        return
    np.testing.assert_array_equal(_split_scores(gen, 3), _split_scores(ref, 3))


def test_boolean_masks_as_splits_and_estimators_in_the_space_stay_untouched(cancer):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    X, y = cancer
    mask = np.arange(len(y)) % 2 == 0
    cv = [(mask, ~mask), (~mask, mask)]
    s = BayesSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, n_iter=2, cv=cv).fit(X, y)
    ref = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=cv).fit(X, y)
    np.testing.assert_array_equal(s.cv_results_["split1_test_score"],
                                  ref.cv_results_["split1_test_score"])
    svc = LinearSVC()
    pipe = Pipeline([("scale", StandardScaler()), ("clf", None)])
    s = BayesSearchCV(pipe, {"clf": [svc], "clf__C": [0.01]}, n_iter=1, cv=2,
                      scoring="accuracy").fit(X, y)
    assert svc.C == 1.0 and s.best_estimator_.named_steps["clf"].C == 0.01


def test_cmaes_candidates_do_not_depend_on_batch_size(cancer):
    X, y = cancer
    space = {"C": loguniform(1e-3, 1e2), "fit_intercept": [True, False],
             "max_iter": Integer(50, 200)}
    seqs = [CMAESSearchCV(LogisticRegression(), space, n_iter=14, cv=2, random_state=0,
                          batch_size=k).fit(X, y).cv_results_["params"]
            for k in (None, 1, 3)]
    assert seqs[0] == seqs[1] == seqs[2]
