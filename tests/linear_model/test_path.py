"""Regularisation paths: the automatic grid (against glum's and the KKT
condition), warm-started steps equal cold fits (against scikit-learn / skngd
fits at each strength), shapes and errors."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.preprocessing import scale

from skngd.linear_model import (
    GeneralizedLinearRegressor,
    LogisticRegression,
    PoissonRegressor,
    glm_path,
    logistic_regression_path,
    max_penalty,
    regularization_path,
)
from skngd.utils._sklearn_compat import sklearn_l1_params

HAS_L1_LOGISTIC = "l1_ratio" in LogisticRegression().get_params()
needs_l1_logistic = pytest.mark.skipif(
    not HAS_L1_LOGISTIC, reason="LogisticRegression(l1_ratio=...) not on this branch yet")


@pytest.fixture
def poisson_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)) * rng.uniform(0.5, 2, 8)
    y = rng.poisson(np.exp(0.3 + X @ [0.3, -0.2, 0, 0, 0.1, 0, 0, 0.05]))
    w = rng.uniform(0.5, 2, 300)
    return X, y, w


@pytest.fixture
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return scale(X)[:, :10], y


@pytest.mark.parametrize("kw", [dict(l1_ratio=0.0), dict(l1_ratio=0.5),
                                dict(l1_ratio=1.0, P1=np.r_[1, 1, 0.5, 2, 1, 1, 1, 3.0])])
@pytest.mark.parametrize("intercept", [True, False])
def test_alpha_grid_is_glums(poisson_data, kw, intercept):
    glum = pytest.importorskip("glum")
    X, y, w = poisson_data
    ref = glum.GeneralizedLinearRegressorCV(family="poisson", n_alphas=7, cv=2,
                                            fit_intercept=intercept, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y, sample_weight=w)
    path = glm_path(X, y, family="poisson", n_alphas=7, fit_intercept=intercept,
                    sample_weight=w, **kw)
    np.testing.assert_allclose(path.alphas, ref.alphas_, rtol=1e-8)  # L1: 1e-9 margin


@pytest.mark.parametrize("l1_ratio", [0.3, 0.5, 1.0])
@pytest.mark.parametrize("weighted", [True, False])
def test_first_step_is_all_zero_and_just_below_it_is_not(poisson_data, l1_ratio, weighted):
    X, y, w = poisson_data
    w = w if weighted else np.ones_like(w)
    path = glm_path(X, y, family="poisson", n_alphas=15, l1_ratio=l1_ratio, sample_weight=w,
                    tol=1e-12)
    assert path.n_nonzero[0] == 0
    below = PoissonRegressor(alpha=path.alphas[0] * 0.999, l1_ratio=l1_ratio, tol=1e-12)
    assert np.count_nonzero(below.fit(X, y, sample_weight=w).coef_) >= 1
    # nested supports, roughly: the lasso path adds variables as alpha falls
    nz = path.n_nonzero
    assert nz[-1] >= 6
    assert np.all(np.diff(nz) >= -1)


def test_max_penalty_with_unpenalised_features_is_the_kkt_point(poisson_data):
    """P1 with zeros: the unpenalised feature is fitted first (glum's grid uses
    the intercept-only gradient instead, which is not the KKT point)."""
    X, y, w = poisson_data
    off = 0.1 * np.sin(np.arange(len(y)))
    P1 = np.r_[1, 1, 0.5, 2, 1, 1, 1, 0.0]
    lam = max_penalty(PoissonRegressor(), X, y, l1_pattern=P1, sample_weight=w, offset=off)
    alpha_max = lam / w.sum()  # l1_ratio = 1: l1 = S * alpha * P1
    for factor, zero in [(1.0001, True), (0.999, False)]:
        est = PoissonRegressor(alpha=alpha_max * factor, l1_ratio=1.0, P1=P1, tol=1e-12)
        coef = est.fit(X, y, sample_weight=w, offset=off).coef_
        assert np.all(coef[:-1] == 0) == zero
        assert coef[-1] != 0


@pytest.mark.parametrize("kw", [dict(l1_ratio=0.0), dict(l1_ratio=0.6),
                                dict(l1_ratio=0.2, P2=np.r_[1, 2, 1, 1, 0.5, 1, 1, 1.0])])
def test_glm_warm_steps_equal_cold_fits(poisson_data, kw):
    X, y, w = poisson_data
    off = 0.1 * np.cos(np.arange(len(y)))
    path = glm_path(X, y, family="poisson", n_alphas=8, min_alpha_ratio=1e-3, sample_weight=w,
                    offset=off, tol=1e-12, **kw)
    assert path.coefs.shape == (8, X.shape[1]) and path.intercepts.shape == (8,)
    assert path.n_iter.shape == (8,) and np.all(path.n_iter >= 0)
    for a, c, b in zip(path.alphas, path.coefs, path.intercepts):
        cold = GeneralizedLinearRegressor(family="poisson", alpha=a, tol=1e-12, **kw)
        cold.fit(X, y, sample_weight=w, offset=off)
        np.testing.assert_allclose(c, cold.coef_, atol=1e-9)
        np.testing.assert_allclose(b, cold.intercept_, atol=1e-9)


def test_logistic_l2_path_equals_sklearn_fits(cancer):
    from sklearn.linear_model import LogisticRegression as SkLR

    X, y = cancer
    path = logistic_regression_path(X, y, Cs=6, tol=1e-10)
    assert np.all(np.diff(path.Cs) > 0)  # strongest penalty (smallest C) first
    assert path.coefs.shape == (6, 1, X.shape[1]) and path.intercepts.shape == (6, 1)
    for C, c, b in zip(path.Cs, path.coefs, path.intercepts):
        ref = SkLR(C=C, tol=1e-12, max_iter=10000, solver="newton-cholesky").fit(X, y)
        np.testing.assert_allclose(c, ref.coef_, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(b, ref.intercept_, rtol=1e-6, atol=1e-9)


def test_logistic_multinomial_path_equals_cold_fits():
    X, y = load_iris(return_X_y=True)
    X = scale(X)
    Cs = [0.01, 0.1, 1.0, 10.0]
    path = regularization_path(LogisticRegression(tol=1e-10, class_weight="balanced"), X, y,
                               Cs=Cs)
    assert path.coefs.shape == (4, 3, 4) and path.intercepts.shape == (4, 3)
    for C, c in zip(Cs, path.coefs):
        cold = LogisticRegression(C=C, tol=1e-10, class_weight="balanced").fit(X, y)
        np.testing.assert_allclose(c, cold.coef_, atol=1e-8)


@needs_l1_logistic
@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_logistic_l1_path_starts_at_zero_and_equals_sklearn(cancer, l1_ratio):
    from sklearn.linear_model import LogisticRegression as SkLR

    X, y = cancer
    path = logistic_regression_path(X, y, Cs=6, l1_ratio=l1_ratio, min_penalty_ratio=1e-2,
                                    tol=1e-10)
    assert path.n_nonzero[0] == 0
    above = LogisticRegression(C=path.Cs[0] * 1.001, l1_ratio=l1_ratio, tol=1e-10).fit(X, y)
    assert np.count_nonzero(above.coef_) >= 1
    for C, c in zip(path.Cs[1:], path.coefs[1:]):
        ref = SkLR(C=C, **sklearn_l1_params(l1_ratio), solver="saga", tol=1e-12,
                   max_iter=100000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref.fit(X, y)
        np.testing.assert_allclose(c, ref.coef_, atol=2e-5)


def test_logistic_ridge_grid_uses_glums_rule(cancer):
    """Pure L2: the path starts where an L1 of ratio 1e-3 would zero every
    standardised coefficient: C0 = 1e-3 / max_j |g_j| / sd_j."""
    X, y = cancer
    X = X * np.arange(1, 11)
    p = y.mean()
    g = X.T @ (p - y)
    C0 = 1e-3 / np.max(np.abs(g) / X.std(axis=0))
    path = logistic_regression_path(X, y, Cs=3, min_penalty_ratio=1e-4)
    np.testing.assert_allclose(path.Cs, C0 * np.array([1, 1e2, 1e4]), rtol=1e-10)
    sd = X.std(axis=0)
    first, last = np.abs(path.coefs[0] * sd).max(), np.abs(path.coefs[-1] * sd).max()
    assert first < 0.05 * last


def test_path_errors(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="pass Cs, not alphas"):
        regularization_path(LogisticRegression(), X, y, alphas=[1.0])
    with pytest.raises(ValueError, match="pass alphas, not Cs"):
        regularization_path(PoissonRegressor(), X, y, Cs=[1.0])
    with pytest.raises(ValueError, match="Cs must be positive"):
        regularization_path(LogisticRegression(), X, y, Cs=[0.0, 1.0])
    with pytest.raises(ValueError, match="alphas must be a non-empty"):
        regularization_path(PoissonRegressor(), X, y, alphas=[-1.0])
    with pytest.raises(ValueError, match="min_penalty_ratio"):
        regularization_path(LogisticRegression(), X, y, Cs=3, min_penalty_ratio=2.0)
    with pytest.raises(ValueError, match="l1_ratio must be a number"):
        glm_path(X, y, family="poisson", l1_ratio=1.5)
    with pytest.raises(ValueError, match="min_alpha must lie"):
        glm_path(X, y, family="poisson", min_alpha=1e9)
    path = regularization_path(PoissonRegressor(), X, y, alphas=[1.0, 0.1])
    with pytest.raises(AttributeError, match="no 'C' values"):
        path.Cs
