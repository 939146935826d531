"""Label-free DA scorers and DA splitters: scikit-learn's scorer/CV API,
sample_domain routing, target labels never read, finite searches."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.svm import SVC

from skngd.domain_adaptation import (
    AssortativityScorer,
    CircularValidation,
    DeepEmbeddedValidation,
    DomainAdaptedEstimator,
    ImportanceWeightedScorer,
    LeaveOneDomainOut,
    OTDomainAdapter,
    PredictionEntropyScorer,
    SourceTargetShuffleSplit,
)
from skngd.domain_adaptation._scorers import assortativity, importance_weights

SCORERS = [
    AssortativityScorer(),
    CircularValidation(),
    DeepEmbeddedValidation(),
    ImportanceWeightedScorer(),
    PredictionEntropyScorer(),
]


def _model(X, y, **kw):
    est = DomainAdaptedEstimator(OTDomainAdapter(**kw), LogisticRegression(), selection=None)
    return est.fit(X, y)


@pytest.mark.parametrize("scorer", SCORERS, ids=lambda s: type(s).__name__)
def test_scorers_read_no_target_label(scorer, moons):
    X, y, sd, ns = moons
    model = _model(X, y, method="emd")
    masked = scorer(model, X, y)  # domains from the masked labels
    rng = np.random.RandomState(0)
    for fake in (rng.randint(0, 2, len(X) - ns), np.full(len(X) - ns, 7)):
        y_full = np.r_[y[:ns], fake]
        # target labels present but marked by sample_domain: never read
        assert scorer(model, X, y_full, sample_domain=sd) == pytest.approx(masked, abs=1e-12)
    assert np.isfinite(masked)


@pytest.mark.parametrize("scorer", SCORERS, ids=lambda s: type(s).__name__)
def test_scorers_refuse_rows_without_domain_information(scorer, moons):
    X, y, sd, ns = moons
    model = _model(X, y, method="emd")
    with pytest.raises(ValueError, match="no target rows"):
        scorer(model, X[:ns], y[:ns])  # nothing masked, no sample_domain
    with pytest.raises(ValueError, match="sample_domain"):
        scorer(model, X, None)


def test_scorers_rank_a_good_adaptation_above_no_adaptation(da_data):
    Xs, ys, Xt, yt = da_data.rotated_moons(60, n=200)
    X, y, sd = da_data.stack(Xs, ys, Xt)
    good = DomainAdaptedEstimator(OTDomainAdapter(reg=1.0), SVC(), selection=None).fit(X, y)
    none = DomainAdaptedEstimator("passthrough", SVC(), selection=None).fit(X, y)
    assert good.score(Xt, yt) > 0.9 > 0.5 > none.score(Xt, yt)
    assert AssortativityScorer()(good, X, y) > AssortativityScorer()(none, X, y) + 0.05


def test_assortativity_known_values():
    # two cliques joined by one edge
    G = np.zeros((6, 6))
    for block in ([0, 1, 2], [3, 4, 5]):
        for i in block:
            for j in block:
                G[i, j] = i != j
    G[2, 3] = G[3, 2] = 1
    clean = np.array([0, 0, 0, 1, 1, 1])
    e_in = 12 / 14  # 12 of the 14 edge ends stay inside a class
    assert assortativity(G, clean) == pytest.approx((e_in - 0.5) / 0.5)
    assert assortativity(G, np.zeros(6)) == 0.0  # one class: no information
    swapped = 1 - clean
    assert assortativity(G, swapped) == assortativity(G, clean)  # blind to names
    assert assortativity(G, np.array([0, 1, 0, 1, 0, 1])) < 0


def test_importance_weights_and_dev_formula(moons):
    X, y, sd, ns = moons
    model = _model(X, y, method="emd")

    class Constant(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.array([0, 1])
            return self

        def predict_proba(self, X):
            return np.tile([0.3, 0.7], (len(X), 1))

    # a domain classifier that sees nothing gives uniform weights: IW is
    # plain source accuracy and DEV is minus the source error rate
    w = importance_weights(X[:ns], X[ns:], Constant())
    np.testing.assert_allclose(w, 1.0)
    acc = np.mean(model.predict(X[:ns]) == y[:ns])
    assert ImportanceWeightedScorer(domain_classifier=Constant())(model, X, y) == pytest.approx(acc)
    assert DeepEmbeddedValidation(domain_classifier=Constant())(model, X, y) == pytest.approx(acc - 1)
    # with real weights: DEV = mean(wl) + eta (mean(w) - 1), eta = -cov(wl, w) / var(w)
    w = importance_weights(X[:ns], X[ns:])
    L = w * (model.predict(X[:ns]) != y[:ns])
    eta = -np.cov(L, w, bias=True)[0, 1] / np.var(w)
    assert DeepEmbeddedValidation()(model, X, y) == pytest.approx(-(L.mean() + eta * (w.mean() - 1)))


def test_entropy_needs_predict_proba(moons):
    X, y, sd, ns = moons
    svc = DomainAdaptedEstimator(OTDomainAdapter(method="emd"), SVC(), selection=None).fit(X, y)
    with pytest.raises(ValueError, match="probability=True"):
        PredictionEntropyScorer()(svc, X, y)
    model = _model(X, y, method="emd")
    P = model.predict_proba(X[X.shape[0] // 2:])
    assert PredictionEntropyScorer()(model, X, y) <= 0


def test_circular_validation_regressor(moons):
    X, y, sd, ns = moons
    yr = np.r_[X[:ns, 0] - X[:ns, 1], np.full(len(X) - ns, np.nan)]
    model = DomainAdaptedEstimator(OTDomainAdapter(method="gaussian"), Ridge(), selection=None)
    model.fit(X, yr)
    assert CircularValidation()(model, X, yr) > 0.99  # a linear map survives the round trip
    with pytest.raises(ValueError, match="regressor"):
        AssortativityScorer()(model, X, yr)


def test_scorers_in_cross_validate_dict_and_routing(moons):
    X, y, sd, ns = moons
    est = DomainAdaptedEstimator(OTDomainAdapter(method="emd"), LogisticRegression(), selection=None)
    scoring = {"assort": AssortativityScorer(), "iw": ImportanceWeightedScorer()}
    cv = SourceTargetShuffleSplit(3, test_size=0.3, random_state=0)
    plain = cross_validate(est, X, y, cv=cv, scoring=scoring, error_score="raise")
    y_full = np.r_[y[:ns], np.zeros(len(X) - ns, int)]  # target rows unmasked
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cross_validate(
            est, X, y_full, cv=cv, scoring=scoring, params={"sample_domain": sd},
            error_score="raise",
        )
    for key in ("test_assort", "test_iw"):
        assert np.all(np.isfinite(plain[key]))
        np.testing.assert_allclose(routed[key], plain[key], atol=1e-10)


@pytest.mark.parametrize("search", ["grid", "bayes"])
def test_searches_give_finite_scores_and_a_sensible_reg(search, da_data):
    Xs, ys, Xt, yt = da_data.rotated_moons(60, n=200)
    X, y, sd = da_data.stack(Xs, ys, Xt)
    est = DomainAdaptedEstimator(OTDomainAdapter(), SVC(), selection=None)
    cv = SourceTargetShuffleSplit(3, test_size=0.3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if search == "grid":
            grid = {"adapter__reg": [0.01, 0.1, 1.0, 10.0]}
            s = GridSearchCV(est, grid, scoring=AssortativityScorer(), cv=cv)
        else:
            from skngd.model_selection import BayesSearchCV, Real

            space = {"adapter__reg": Real(1e-3, 10.0, prior="log-uniform")}
            s = BayesSearchCV(est, space, n_iter=8, scoring=AssortativityScorer(), cv=cv, random_state=0)
        s.fit(X, y)
    assert np.all(np.isfinite(s.cv_results_["mean_test_score"]))
    assert np.isfinite(s.best_score_)
    # the chosen reg gives a good target model; the smallest reg does not
    assert s.best_estimator_.score(Xt, yt) > 0.9
    small = DomainAdaptedEstimator(OTDomainAdapter(reg=0.003), SVC(), selection=None).fit(X, y)
    assert small.score(Xt, yt) < 0.85


def test_search_with_masked_only_test_rows_is_not_silent(moons):
    X, y, sd, ns = moons
    est = DomainAdaptedEstimator(OTDomainAdapter(method="emd"), SVC(), selection=None)
    # test folds made only of masked target rows: nothing to score
    cv = [(np.r_[np.arange(ns), np.arange(ns, len(X))[::2]], np.arange(ns, len(X))[1::2])]
    with pytest.raises(ValueError, match="every label in y is masked"):
        GridSearchCV(est, {"adapter__method": ["emd"]}, cv=cv, error_score="raise").fit(X, y)
    with pytest.warns(UserWarning, match="every label in y is masked"):
        GridSearchCV(est, {"adapter__method": ["emd"]}, cv=cv).fit(X, y)


# ------------------------------------------------------------- splitters
def test_source_target_shuffle_split(moons):
    X, y, sd, ns = moons
    cv = SourceTargetShuffleSplit(4, test_size=0.25, random_state=0)
    splits = list(cv.split(X, y))  # domains from the masked labels
    assert len(splits) == cv.get_n_splits() == 4
    for train, test in splits:
        assert np.intersect1d(train, test).size == 0
        assert np.union1d(train, test).size == len(X)
        for part in (train, test):
            assert (part < ns).any() and (part >= ns).any()
        assert np.sum(test < ns) == int(np.ceil(0.25 * ns))
    again = [t for _, t in SourceTargetShuffleSplit(4, test_size=0.25, random_state=0).split(X, sample_domain=sd)]
    for (_, t), u in zip(splits, again):
        np.testing.assert_array_equal(t, u)
    with pytest.raises(ValueError, match="test_size"):
        list(SourceTargetShuffleSplit(test_size=1.5).split(X, y))
    with pytest.raises(ValueError, match="sample_domain"):
        list(SourceTargetShuffleSplit().split(X))


def test_leave_one_domain_out(moons):
    X, y, sd, ns = moons
    sd3 = np.where(sd >= 0, np.arange(len(X)) % 3, -1)
    cv = LeaveOneDomainOut()
    splits = list(cv.split(X, y, sample_domain=sd3))
    assert len(splits) == cv.get_n_splits(sample_domain=sd3) == 3
    for d, (train, test) in enumerate(splits):
        assert not np.any(sd3[train] == d)
        np.testing.assert_array_equal(np.sort(test), np.flatnonzero((sd3 == d) | (sd3 < 0)))
    assert len(list(LeaveOneDomainOut(max_n_splits=2).split(X, sample_domain=sd3))) == 2
    with pytest.raises(ValueError, match="two source domains"):
        list(cv.split(X, sample_domain=sd))
    # with routing, a search over a DAE scores the held-out domain's labels
    est = DomainAdaptedEstimator(OTDomainAdapter(method="emd"), SVC(), selection=None)
    with sklearn.config_context(enable_metadata_routing=True):
        s = GridSearchCV(est, {"adapter__method": ["emd", "gaussian"]}, cv=cv, error_score="raise")
        s.fit(X, y, sample_domain=sd3)
    assert np.isfinite(s.best_score_)


def test_splitters_in_a_routed_grid_search(moons):
    X, y, sd, ns = moons
    y_full = np.r_[y[:ns], np.zeros(len(X) - ns, int)]
    est = DomainAdaptedEstimator(OTDomainAdapter(), SVC(), selection=None)
    cv = SourceTargetShuffleSplit(2, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        s = GridSearchCV(
            est, {"adapter__reg": [0.1, 1.0]}, scoring=CircularValidation(), cv=cv,
            error_score="raise",
        ).fit(X, y_full, sample_domain=sd)
    assert np.isfinite(s.best_score_)
