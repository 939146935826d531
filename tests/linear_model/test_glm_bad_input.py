"""GLM inputs that used to crash or mislead (issue 12, item 5)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skngd.linear_model import (
    GammaRegressor, GeneralizedLinearRegressor, PoissonRegressor, TweedieRegressor)
from skngd.linear_model._glm_inference import CollinearityWarning, InferenceWarning
from skngd.linear_model._glm_separation import PerfectSeparationWarning

ALL = [GeneralizedLinearRegressor(), GeneralizedLinearRegressor(family="binomial"),
       PoissonRegressor(), GammaRegressor(), TweedieRegressor(power=1.5),
       GeneralizedLinearRegressor(family="inverse_gaussian", link="log")]


def _X(n=40, p=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, p))


# -- score() on a constant y -------------------------------------------------
@pytest.mark.parametrize("est", ALL, ids=lambda e: repr(e))
def test_score_constant_y_is_defined(est):
    """D² is 0/0 for a constant y: 1.0 for perfect predictions, 0.0 otherwise
    (scikit-learn's r2_score / d2_absolute_error_score with force_finite)."""
    X = _X()
    c = 1.0 if est._get_family().name == "binomial" else 3.0
    y = np.full(X.shape[0], c)
    rng = np.random.default_rng(1)
    y_other = (rng.random(40) < 0.5).astype(float) if c == 1.0 else rng.gamma(2.0, 1.5, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, PerfectSeparationWarning))
        other = est.fit(X, y_other)
        assert other.score(X, y) == 0.0
        if c != 1.0:  # a binomial fit on y == 1 has no MLE
            fitted = GeneralizedLinearRegressor(**est.get_params()) if type(est) is \
                GeneralizedLinearRegressor else type(est)(**est.get_params())
            assert fitted.fit(X, y).score(X, y) == 1.0


# -- string targets ------------------------------------------------------------
@pytest.mark.parametrize("est", ALL, ids=lambda e: repr(e))
def test_string_target_gives_clear_error(est):
    X = _X(5)
    with pytest.raises(ValueError, match="y must be numeric"):
        est.fit(X, np.array(list("abcde")))


def test_numeric_strings_are_converted_as_in_sklearn():
    X = _X(5)
    y = np.array(["1", "2", "3", "4", "5"])
    a = PoissonRegressor().fit(X, y)
    b = PoissonRegressor().fit(X, y.astype(float))
    np.testing.assert_allclose(a.coef_, b.coef_)
    with pytest.raises(ValueError, match="y must be numeric"):
        b.score(X, np.array(list("abcde")))


# -- overflow -----------------------------------------------------------------
@pytest.mark.parametrize("X,y,name", [
    ([[1e300]], [1.0], "X"), ([[1e200], [1.0]], [1.0, 2.0], "X"),
    ([[1.0], [2.0]], [1e300, 1.0], "y")])
def test_overflowing_entries_rejected_at_the_boundary(X, y, name):
    with pytest.raises(ValueError, match=f"{name} has entries as large as"):
        PoissonRegressor().fit(X, y)
    with pytest.raises(ValueError, match=f"{name} has entries as large as"):
        GeneralizedLinearRegressor().fit(X, y)


# -- warm start on new data shapes ----------------------------------------------
def test_warm_start_with_different_number_of_features_starts_afresh():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 3))
    y = rng.poisson(np.exp(0.2 + X @ [0.3, -0.2, 0.1])).astype(float)
    est = PoissonRegressor(alpha=0.0, warm_start=True).fit(X[:, :2], y)
    est.fit(X, y)
    ref = PoissonRegressor(alpha=0.0).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-8)
    est.fit(X[:, :1], y)  # and back to fewer
    assert est.coef_.shape == (1,)


def test_warm_start_toggling_fit_intercept():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 2))
    y = rng.poisson(np.exp(0.2 + X @ [0.3, -0.2])).astype(float)
    est = PoissonRegressor(alpha=0.0, warm_start=True).fit(X, y)
    est.set_params(fit_intercept=False).fit(X, y)
    ref = PoissonRegressor(alpha=0.0, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-8)


# -- no residual degrees of freedom -------------------------------------------------
@pytest.mark.parametrize("est", [GammaRegressor(alpha=0.0), TweedieRegressor(power=1.5, alpha=0.0),
                                 GeneralizedLinearRegressor(family="normal")])
@pytest.mark.parametrize("n", [2, 3])
def test_no_residual_df_warns_and_fixed_scale_defines_inference(est, n):
    """n <= number of parameters: the dispersion is undefined (statsmodels:
    infinite standard errors, NaN aic, divide-by-zero RuntimeWarnings only)."""
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(n, 2)), rng.gamma(2.0, 1.0, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollinearityWarning)
        with pytest.warns(InferenceWarning, match="No residual degrees of freedom.*scale=<float>"):
            est.fit(X, y)
    assert np.isnan(est.scale_) and np.all(np.isnan(est.coef_stderr_))
    assert np.all(np.isnan(est.conf_int()))
    fixed = type(est)(**{**est.get_params(), "scale": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollinearityWarning)
        warnings.simplefilter("error", InferenceWarning)
        fixed.fit(X, y)
    assert np.all(np.isfinite(fixed.coef_stderr_)) and np.isfinite(fixed.aic_)


def test_fixed_scale_families_need_no_residual_df():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(3, 2)), np.array([1.0, 3.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        est = PoissonRegressor(alpha=0.0).fit(X, y)
    assert est.scale_ == 1.0


# -- separation -----------------------------------------------------------------------
def _separable(n=60, seed=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] + 0.3 * X[:, 1] > 0).astype(float)


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_complete_separation_warns(link):
    X, y = _separable()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        GeneralizedLinearRegressor(family="binomial", link=link).fit(X, y)
    kinds = [type(w.message) for w in rec]
    assert PerfectSeparationWarning in kinds
    msg = next(str(w.message) for w in rec if w.category is PerfectSeparationWarning)
    assert "sample(s) to 0 or 1" in msg and "alpha > 0" in msg
    # one explanation, not three: no collinearity / max_iter warnings on top
    assert CollinearityWarning not in kinds and ConvergenceWarning not in [
        k for k in kinds if k is not PerfectSeparationWarning]


def test_quasi_complete_separation_warns():
    """x0 = 1 only for y = 1; the other rows overlap."""
    rng = np.random.default_rng(7)
    n = 80
    X = np.column_stack([np.r_[np.ones(20), np.zeros(n - 20)], rng.normal(size=n)])
    y = np.r_[np.ones(20), (rng.random(n - 20) < 0.5)].astype(float)
    with pytest.warns(PerfectSeparationWarning, match="20 sample"):
        GeneralizedLinearRegressor(family="binomial").fit(X, y)


def test_poisson_zero_counts_separated_by_a_dummy_warn():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(100, 2))
    d = (X[:, 0] > 1).astype(float)
    y = rng.poisson(2.0, 100).astype(float)
    y[d == 1] = 0.0
    with pytest.warns(PerfectSeparationWarning, match="to 0"):
        PoissonRegressor(alpha=0.0).fit(np.column_stack([X, d]), y)


def test_penalised_or_overlapping_data_do_not_warn():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = _separable()
    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb = StandardScaler().fit_transform(Xb[:, [0, 1, 4, 8, 9]])
    rng = np.random.default_rng(9)
    Xp = rng.normal(size=(200, 2))
    yp = rng.poisson(np.exp(-1.5 + Xp[:, 0])).astype(float)  # many zeros, no separation
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GeneralizedLinearRegressor(family="binomial", alpha=0.1).fit(X, y)
        for link in ("logit", "probit", "cloglog"):
            GeneralizedLinearRegressor(family="binomial", link=link).fit(Xb, yb.astype(float))
        PoissonRegressor(alpha=0.0).fit(Xp, yp)
