"""BayesSearchCV / CMAESSearchCV honour RandomizedSearchCV's contract."""

import warnings

import numpy as np
import pytest
from scipy.stats import loguniform, randint
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import RandomizedSearchCV
from sklearn.tree import DecisionTreeClassifier

from skngd.model_selection import BayesSearchCV, CMAESSearchCV, Integer, Real

SEARCHES = [BayesSearchCV, CMAESSearchCV]


def _tree_space():
    return {"max_depth": randint(1, 8), "min_samples_leaf": Integer(1, 20),
            "criterion": ["gini", "entropy"], "ccp_alpha": Real(0.0, 0.05)}


def _in_tree_space(p):
    return (1 <= p["max_depth"] <= 7 and 1 <= p["min_samples_leaf"] <= 20
            and p["criterion"] in ("gini", "entropy") and 0 <= p["ccp_alpha"] <= 0.05)


@pytest.mark.parametrize("cls", SEARCHES)
def test_results_have_randomized_search_keys_and_one_row_per_candidate(cls, cancer):
    X, y = cancer
    kw = dict(n_iter=8, cv=3, random_state=0, return_train_score=True)
    ours = cls(DecisionTreeClassifier(random_state=0), _tree_space(), **kw).fit(X, y)
    ref = RandomizedSearchCV(DecisionTreeClassifier(random_state=0), _tree_space(),
                             **kw).fit(X, y)
    assert sorted(ours.cv_results_) == sorted(ref.cv_results_)
    res = ours.cv_results_
    assert len(res["params"]) == 8
    assert all(_in_tree_space(p) for p in res["params"])
    assert len({tuple(sorted(p.items())) for p in res["params"]}) == 8
    assert ours.n_splits_ == 3
    assert ours.best_params_ == res["params"][ours.best_index_]
    assert ours.best_score_ == res["mean_test_score"].max()
    assert ours.score(X, y) == ours.best_estimator_.score(X, y)
    np.testing.assert_array_equal(ours.predict(X), ours.best_estimator_.predict(X))
    np.testing.assert_array_equal(ours.classes_, [0, 1])
    assert res["param_max_depth"].dtype == ref.cv_results_["param_max_depth"].dtype


@pytest.mark.parametrize("cls", SEARCHES)
def test_multimetric_refit(cls, cancer):
    X, y = cancer
    scoring = {"acc": "accuracy", "auc": "roc_auc"}
    kw = dict(n_iter=6, cv=3, random_state=0, scoring=scoring, refit="auc")
    ours = cls(LogisticRegression(), {"C": loguniform(1e-3, 1e2)}, **kw).fit(X, y)
    ref = RandomizedSearchCV(LogisticRegression(), {"C": loguniform(1e-3, 1e2)},
                             **kw).fit(X, y)
    assert sorted(ours.cv_results_) == sorted(ref.cv_results_)
    assert ours.best_score_ == ours.cv_results_["mean_test_auc"][ours.best_index_]
    assert ours.best_index_ == np.argmin(ours.cv_results_["rank_test_auc"])
    with pytest.raises(ValueError, match="refit"):
        cls(LogisticRegression(), {"C": [1.0, 2.0]}, n_iter=2, scoring=scoring,
            refit=True).fit(X, y)


@pytest.mark.parametrize("cls", SEARCHES)
def test_same_seed_same_sequence_for_n_jobs_1_and_2(cls, cancer):
    X, y = cancer
    seqs = []
    for n_jobs in (1, 2, 1):
        s = cls(DecisionTreeClassifier(random_state=0), _tree_space(), n_iter=10,
                cv=2, random_state=3, n_jobs=n_jobs, batch_size=2,
                n_initial_points=4).fit(X, y)
        seqs.append(s.cv_results_["params"])
    assert seqs[0] == seqs[1] == seqs[2]
    other = cls(DecisionTreeClassifier(random_state=0), _tree_space(), n_iter=10,
                cv=2, random_state=4, batch_size=2, n_initial_points=4).fit(X, y)
    assert other.cv_results_["params"] != seqs[0]


class _FailsForLargeC(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        if self.C > 1.0:
            raise ValueError("C too large for this test")
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("cls", SEARCHES)
@pytest.mark.parametrize("error_score", [np.nan, -1.0])
def test_error_score_and_failed_candidates_not_proposed_again(cls, error_score, cancer):
    X, y = cancer
    space = {"C": Integer(0, 3), "fit_intercept": [True, False]}  # 8 candidates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (FitFailedWarning, UserWarning))
        s = cls(_FailsForLargeC(), space, n_iter=8, cv=2, random_state=0,
                error_score=error_score).fit(X, y)
        r = RandomizedSearchCV(_FailsForLargeC(), {"C": [0, 1, 2, 3],
                                                   "fit_intercept": [True, False]},
                               n_iter=8, cv=2, random_state=0,
                               error_score=error_score).fit(X, y)
    keys = [(p["C"], p["fit_intercept"]) for p in s.cv_results_["params"]]
    assert len(set(keys)) == 8  # every candidate once, failed ones never again
    order = {(p["C"], p["fit_intercept"]): i for i, p in enumerate(r.cv_results_["params"])}
    for i, k in enumerate(keys):
        a = s.cv_results_["mean_test_score"][i]
        b = r.cv_results_["mean_test_score"][order[k]]
        assert (np.isnan(a) and np.isnan(b)) or a == b
    assert s.best_params_["C"] <= 1
    with pytest.raises(ValueError, match="C too large"):
        cls(_FailsForLargeC(), {"C": Real(2.0, 5.0)}, n_iter=3, cv=2,
            error_score="raise").fit(X, y)


@pytest.mark.parametrize("cls", SEARCHES)
def test_bad_input_names_the_parameter(cls, cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="n_iter"):
        cls(LogisticRegression(), {"C": [1.0]}, n_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="param_distributions is empty"):
        cls(LogisticRegression(), {}, n_iter=2).fit(X, y)
    with pytest.raises(ValueError, match=r"param_distributions\['C'\]"):
        cls(LogisticRegression(), {"C": object()}, n_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="callbacks"):
        cls(LogisticRegression(), {"C": [1.0, 2.0]}, n_iter=2, callbacks=[3]).fit(X, y)


@pytest.mark.parametrize("cls", SEARCHES)
def test_meta_estimator_type_follows_the_wrapped_estimator(cls):
    clf = cls(LogisticRegression(), {"C": [1.0, 2.0]})
    reg = cls(Ridge(), {"alpha": [1.0, 2.0]})
    assert is_classifier(clf) and not is_regressor(clf)
    assert is_regressor(reg) and not is_classifier(reg)
    c = clone(cls(LogisticRegression(), {"C": Real(0.1, 1.0)}, n_iter=7, batch_size=3))
    assert c.get_params()["n_iter"] == 7 and c.get_params()["batch_size"] == 3


@pytest.mark.parametrize("cls", SEARCHES)
def test_finite_space_smaller_than_n_iter_warns_and_caps(cls, cancer):
    X, y = cancer
    with pytest.warns(UserWarning, match="smaller than n_iter"):
        s = cls(LogisticRegression(), {"C": [0.1, 1.0, 10.0]}, n_iter=5, cv=2).fit(X, y)
    assert sorted(p["C"] for p in s.cv_results_["params"]) == [0.1, 1.0, 10.0]


def test_bayes_finds_the_ridge_optimum_on_a_small_budget():
    X, y = load_diabetes(return_X_y=True)
    space = {"alpha": loguniform(1e-4, 1e4)}
    b = BayesSearchCV(Ridge(), space, n_iter=12, cv=3, random_state=0).fit(X, y)
    grid = np.logspace(-4, 4, 200)
    from sklearn.model_selection import cross_val_score
    best = max(cross_val_score(Ridge(alpha=a), X, y, cv=3).mean() for a in grid[::10])
    assert b.best_score_ >= best - 1e-3


@pytest.mark.parametrize(
    "acquisition, strategy",
    [("ei", "kriging_believer"), ("ts", "constant_liar")]
    + [pytest.param(a, s, marks=pytest.mark.slow)
       for a in ("ei", "pi", "ucb", "ts") for s in ("constant_liar", "kriging_believer")
       if (a, s) not in {("ei", "kriging_believer"), ("ts", "constant_liar")}],
)
def test_all_acquisitions_and_batch_strategies_run(acquisition, strategy, cancer):
    X, y = cancer
    s = BayesSearchCV(LogisticRegression(), {"C": loguniform(1e-3, 1e2),
                                             "fit_intercept": [True, False]},
                      n_iter=7, cv=2, random_state=0, acquisition=acquisition,
                      batch_strategy=strategy, batch_size=2,
                      n_initial_points=3).fit(X, y)
    assert len(s.cv_results_["params"]) == 7


@pytest.mark.parametrize("cls", SEARCHES)
def test_every_fit_failing_raises_like_randomized_search(cls, cancer):
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)
        with pytest.raises(ValueError, match="All the 6 fits failed"):
            RandomizedSearchCV(_FailsForLargeC(), {"C": Real(2.0, 5.0)}, n_iter=3,
                               cv=2).fit(X, y)
        with pytest.raises(ValueError, match="All the 6 fits failed"):
            cls(_FailsForLargeC(), {"C": Real(2.0, 5.0)}, n_iter=3, cv=2).fit(X, y)
