"""GeneralizedLinearRegressorCV against glum's GeneralizedLinearRegressorCV
(same folds, same grid: equal alpha_, deviance_path_, coefficient paths),
for ridge and elastic net, plus attributes, clone/pickle and errors."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold

from skngd.linear_model import GeneralizedLinearRegressor, GeneralizedLinearRegressorCV

glum = pytest.importorskip("glum")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 6)) * rng.uniform(0.5, 2, 6)
    y = rng.poisson(np.exp(0.3 + X @ [0.3, -0.2, 0, 0, 0.1, 0]))
    w = rng.uniform(0.5, 2, 240)
    return X, y, w, list(KFold(3, shuffle=True, random_state=0).split(X))


def _glum(kw, X, y, w, folds, offset=None):
    ref = glum.GeneralizedLinearRegressorCV(cv=folds, gradient_tol=1e-12, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ref.fit(X, y, sample_weight=w, offset=offset)


CASES = [
    dict(family="poisson"),
    dict(family="normal", l1_ratio=0.0),
    dict(family="poisson", l1_ratio=0.5),
    dict(family="poisson", l1_ratio=[0.2, 1.0]),
    dict(family="gamma", link="log", l1_ratio=0.7, P1=np.r_[1, 1, 0.5, 2, 1, 3.0]),
    dict(family="poisson", l1_ratio=0.3, P2=np.r_[1, 2, 1, 1, 0.5, 1.0]),
]


@pytest.mark.parametrize("kw", CASES, ids=lambda k: "-".join(f"{a}" for a in k.values())[:40])
def test_matches_glum(data, kw):
    X, y, w, folds = data
    if kw["family"] == "gamma":
        y = y + 0.5
    ref = _glum(dict(n_alphas=12, **kw), X, y, w, folds)
    est = GeneralizedLinearRegressorCV(n_alphas=12, cv=folds, tol=1e-12, **kw)
    est.fit(X, y, sample_weight=w)
    assert est.alpha_ == pytest.approx(ref.alpha_, rel=1e-8)  # L1 grid: 1e-9 margin
    assert est.l1_ratio_ == ref.l1_ratio_
    np.testing.assert_allclose(est.alphas_, ref.alphas_, rtol=1e-8)
    np.testing.assert_allclose(est.deviance_path_, ref.deviance_path_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(est.train_deviance_path_, ref.train_deviance_path_, rtol=1e-7)
    np.testing.assert_allclose(est.coef_path_, ref.coef_path_, atol=1e-7)
    np.testing.assert_allclose(est.intercept_path_, ref.intercept_path_, atol=1e-7)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-7)
    assert est.intercept_ == pytest.approx(ref.intercept_, abs=1e-7)


def test_matches_glum_with_offset_and_given_alphas(data):
    X, y, w, folds = data
    off = 0.2 * np.sin(np.arange(len(y)))
    alphas = [1.0, 0.1, 0.01, 1e-3]
    ref = _glum(dict(family="poisson", l1_ratio=0.6, alphas=alphas), X, y, w, folds, off)
    est = GeneralizedLinearRegressorCV(family="poisson", l1_ratio=0.6, alphas=alphas[::-1],
                                       cv=folds, tol=1e-12)
    est.fit(X, y, sample_weight=w, offset=off)
    np.testing.assert_allclose(est.alphas_, alphas)  # sorted descending
    assert est.alpha_ == ref.alpha_
    np.testing.assert_allclose(est.deviance_path_, ref.deviance_path_, rtol=1e-7)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-7)


def test_refit_is_the_glm_at_the_chosen_alpha(data):
    X, y, w, folds = data
    est = GeneralizedLinearRegressorCV(family="poisson", l1_ratio=0.5, n_alphas=8, cv=folds,
                                       tol=1e-12).fit(X, y, sample_weight=w)
    glm = GeneralizedLinearRegressor(family="poisson", alpha=est.alpha_, l1_ratio=0.5,
                                     tol=1e-12).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(est.coef_, glm.coef_, atol=1e-9)
    np.testing.assert_allclose(est.predict(X), glm.predict(X), rtol=1e-9)
    assert est.score(X, y) == pytest.approx(glm.score(X, y), rel=1e-9)
    assert est.deviance_ == pytest.approx(glm.deviance_, rel=1e-9)
    np.testing.assert_allclose(est.conf_int(), glm.conf_int(), rtol=1e-6, equal_nan=True)
    assert str(est.summary()) == str(glm.summary())
    # the chosen point minimises the fold-averaged deviance
    i = int(np.argmin(est.deviance_path_.mean(axis=0)[0]))
    assert est.alpha_ == est.alphas_[i]
    assert est.coef_path_.shape == (3, 1, 8, 6) and est.intercept_path_.shape == (3, 1, 8, 1)


def test_clone_pickle_and_params(data):
    X, y, w, folds = data
    est = GeneralizedLinearRegressorCV(family="poisson", l1_ratio=[0.5, 1.0], n_alphas=4, cv=3)
    c = clone(est)
    assert c.get_params() == est.get_params()
    est.fit(X, y)
    assert est.l1_ratio == [0.5, 1.0]  # fit does not rewrite hyperparameters
    assert est.alphas_.shape == (2, 4)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))


@pytest.mark.parametrize("kw, match", [
    (dict(l1_ratio=1.5), "l1_ratio"),
    (dict(l1_ratio=[0.5, -1]), "l1_ratio"),
    (dict(l1_ratio=[]), "l1_ratio"),
    (dict(alphas=[-1.0, 1.0]), "alphas"),
    (dict(n_alphas=0), "n_alphas"),
    (dict(min_alpha_ratio=2.0), "min_alpha_ratio"),
    (dict(family="poisson", link="logit"), "link"),
])
def test_bad_parameters(data, kw, match):
    X, y, _, _ = data
    with pytest.raises(ValueError, match=match):
        GeneralizedLinearRegressorCV(**{"cv": 2, "n_alphas": 3, **kw}).fit(X, y)


def test_bad_offset(data):
    X, y, _, _ = data
    with pytest.raises(ValueError, match="offset"):
        GeneralizedLinearRegressorCV(cv=2, n_alphas=3).fit(X, y, offset=np.ones(3))
