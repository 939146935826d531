"""Offsets survive cross-validation through scikit-learn's metadata routing."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.metrics import d2_tweedie_score, make_scorer, mean_poisson_deviance
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.utils.fixes import parse_version

from skngd.linear_model import GeneralizedLinearRegressor, PoissonRegressor, make_offset_scorer
from skngd.linear_model._glm_inference import InferenceWarning

CV = KFold(3, shuffle=True, random_state=0)
# scikit-learn < 1.8 does not route metadata to Pipeline.score at the default
# scoring (scikit-learn issue 30937, fixed by PR 31898): a pipeline is scored
# there through make_offset_scorer (D² of a Poisson fit = d2_tweedie_score, power 1)
PIPELINE_SCORE_ROUTED = parse_version(sklearn.__version__).release >= (1, 8)
ALPHAS = [1e-4, 1e-2, 1.0]


@pytest.fixture
def claims():
    rng = np.random.default_rng(0)
    n = 600
    X = rng.normal(size=(n, 3))
    exposure = rng.uniform(0.05, 3.0, n)
    y = rng.poisson(exposure * np.exp(-0.5 + X @ [0.4, -0.3, 0.0])).astype(float)
    return X, y, np.log(exposure)


def _manual(X, y, off, alpha, score):
    out = []
    for train, test in CV.split(X):
        est = PoissonRegressor(alpha=alpha).fit(X[train], y[train], offset=off[train])
        out.append(score(est, X[test], y[test], off[test]))
    return np.mean(out)


def test_grid_search_routes_offset_to_fit_and_score(claims):
    X, y, off = claims
    with sklearn.config_context(enable_metadata_routing=True):
        est = PoissonRegressor().set_fit_request(offset=True).set_score_request(offset=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error", InferenceWarning)  # score always gets the offset
            search = GridSearchCV(est, {"alpha": ALPHAS}, cv=CV).fit(X, y, offset=off)
    for alpha, got in zip(ALPHAS, search.cv_results_["mean_test_score"]):
        want = _manual(X, y, off, alpha, lambda e, Xt, yt, ot: e.score(Xt, yt, offset=ot))
        assert got == pytest.approx(want, rel=1e-10)


def test_custom_scorer_predicts_with_the_offset(claims):
    """make_scorer predicts without metadata: its deviances are those of the
    rates at zero offset; make_offset_scorer predicts with the offset."""
    X, y, off = claims
    scorer = make_offset_scorer(mean_poisson_deviance, greater_is_better=False)
    plain = make_scorer(mean_poisson_deviance, greater_is_better=False)
    with sklearn.config_context(enable_metadata_routing=True):
        est = PoissonRegressor().set_fit_request(offset=True)
        search = GridSearchCV(est, {"alpha": ALPHAS}, cv=CV, scoring=scorer).fit(X, y, offset=off)
        naive = GridSearchCV(est, {"alpha": ALPHAS}, cv=CV, scoring=plain).fit(X, y, offset=off)
    for alpha, got in zip(ALPHAS, search.cv_results_["mean_test_score"]):
        want = _manual(X, y, off, alpha, lambda e, Xt, yt, ot: -mean_poisson_deviance(
            yt, e.predict(Xt, offset=ot)))
        assert got == pytest.approx(want, rel=1e-10)
    # without the offset in predict the deviance is far worse (wrong numbers)
    assert np.all(naive.cv_results_["mean_test_score"] < search.cv_results_["mean_test_score"] - 0.1)


def test_pipeline_routes_offset_to_fit_predict_and_score(claims):
    """Through a Pipeline (scaling first): cross_val_score and a grid search
    over the pipeline, then predict(X, offset=...) on the fitted pipeline.
    (scikit-learn's cross_val_predict routes metadata to fit only.)"""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, off = claims
    with sklearn.config_context(enable_metadata_routing=True):
        glm = (GeneralizedLinearRegressor(family="poisson").set_fit_request(offset=True)
               .set_predict_request(offset=True).set_score_request(offset=True))
        pipe = make_pipeline(StandardScaler(), glm)
        scoring = None if PIPELINE_SCORE_ROUTED else make_offset_scorer(d2_tweedie_score,
                                                                         power=1)
        scores = cross_val_score(pipe, X, y, cv=CV, params={"offset": off}, scoring=scoring)
        search = GridSearchCV(pipe, {"generalizedlinearregressor__alpha": [0.0, 0.1]}, cv=CV,
                              scoring=scoring)
        search.fit(X, y, offset=off)
        pred = search.best_estimator_.predict(X, offset=off)
    for i, (train, test) in enumerate(CV.split(X)):
        sc = StandardScaler().fit(X[train])
        fit = GeneralizedLinearRegressor(family="poisson").fit(sc.transform(X[train]), y[train],
                                                               offset=off[train])
        if PIPELINE_SCORE_ROUTED:
            want = fit.score(sc.transform(X[test]), y[test], offset=off[test])
        else:
            want = d2_tweedie_score(y[test], fit.predict(sc.transform(X[test]), offset=off[test]),
                                    power=1)
        assert scores[i] == pytest.approx(want, rel=1e-10)
    best = search.best_estimator_[-1]
    np.testing.assert_allclose(
        pred, best.predict(search.best_estimator_[0].transform(X), offset=off), rtol=1e-12)
    assert search.cv_results_["mean_test_score"][0] == pytest.approx(scores.mean(), rel=1e-10)


def test_offset_scorer_routing_requests_and_plain_call(claims):
    X, y, off = claims
    scorer = make_offset_scorer(mean_poisson_deviance, greater_is_better=False)
    requests = scorer.get_metadata_routing().score.requests
    assert requests == {"offset": True, "sample_weight": None}
    scorer.set_score_request(sample_weight=True)
    assert scorer.get_metadata_routing().score.requests["sample_weight"] is True
    est = PoissonRegressor().fit(X, y, offset=off)
    w = np.linspace(0.5, 2, y.shape[0])
    assert scorer(est, X, y, offset=off, sample_weight=w) == pytest.approx(
        -mean_poisson_deviance(y, est.predict(X, offset=off), sample_weight=w))
    assert "greater_is_better=False" in repr(scorer)


def test_score_without_offset_warns_when_fitted_with_one(claims):
    """Without routing, GridSearchCV passes the offset to fit only: the
    scores would silently ignore the exposure; now each warns."""
    X, y, off = claims
    est = PoissonRegressor().fit(X, y, offset=off)
    with pytest.warns(InferenceWarning, match="set_score_request"):
        est.score(X, y)
    with pytest.warns(InferenceWarning, match="fitted with an offset"):
        GridSearchCV(PoissonRegressor(), {"alpha": [1.0]}, cv=CV).fit(X, y, offset=off)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        PoissonRegressor().fit(X, y).score(X, y)  # no offset anywhere: fine
