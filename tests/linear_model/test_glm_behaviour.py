"""GLM behaviour: bad input, invariances, sparse input, inference details."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, strategies as st
from sklearn.exceptions import ConvergenceWarning

from skngd.linear_model import (
    GammaRegressor, GeneralizedLinearRegressor, PoissonRegressor, TweedieRegressor)
from skngd.linear_model._glm_inference import CollinearityWarning


def _poisson(n=300, p=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = rng.poisson(np.exp(0.2 + X @ np.linspace(-0.3, 0.3, p))).astype(float)
    return X, y, rng


@pytest.mark.parametrize("family,y_bad,match", [
    ("poisson", -1.0, "poisson"), ("gamma", 0.0, "gamma"), ("inverse_gaussian", -2.0, "inverse_gaussian"),
    ("binomial", 1.5, "binomial"), ("tweedie", -0.5, "tweedie")])
def test_y_outside_support(family, y_bad, match):
    X, y, _ = _poisson()
    y = y + 0.5 if family in ("gamma", "inverse_gaussian") else y
    y = (y > 1).astype(float) if family == "binomial" else y
    y[3] = y_bad
    with pytest.raises(ValueError, match=f"valid range of the loss of the {match} family"):
        GeneralizedLinearRegressor(family=family).fit(X, y)


@pytest.mark.parametrize("family,link", [("poisson", "logit"), ("binomial", "inverse"),
                                         ("gamma", "probit"), ("normal", "cloglog")])
def test_invalid_link_for_family(family, link):
    X, y, _ = _poisson()
    y = (y > 1).astype(float) if family == "binomial" else y + 1
    with pytest.raises(ValueError, match=f"link='{link}' is not valid for the {family} family"):
        GeneralizedLinearRegressor(family=family, link=link).fit(X, y)


@pytest.mark.parametrize("where", ["X", "y", "offset"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_input(where, value):
    X, y, _ = _poisson()
    offset = np.zeros_like(y)
    {"X": X[:, 0], "y": y, "offset": offset}[where][5] = value
    with pytest.raises(ValueError, match="offset contains NaN" if where == "offset" else "Input"):
        GeneralizedLinearRegressor(family="poisson").fit(X, y, offset=offset)


def test_offset_wrong_length_and_shape():
    X, y, _ = _poisson()
    with pytest.raises(ValueError, match="offset must be a 1-D array of length n_samples=300"):
        GeneralizedLinearRegressor(family="poisson").fit(X, y, offset=np.zeros(299))
    est = GeneralizedLinearRegressor(family="poisson").fit(X, y)
    with pytest.raises(ValueError, match="offset"):
        est.predict(X, offset=np.zeros((300, 2)))


def test_bad_family_and_power_named():
    X, y, _ = _poisson()
    with pytest.raises(ValueError, match="family"):
        GeneralizedLinearRegressor(family="poison").fit(X, y)
    with pytest.raises(ValueError, match="power"):
        GeneralizedLinearRegressor(family="tweedie", power=0.5).fit(X, y)
    with pytest.raises(ValueError, match="power"):
        TweedieRegressor(power=0.5).fit(X, y)


def test_perfect_collinearity_warns_and_gives_min_norm_solution():
    X, y, _ = _poisson()
    Xc = np.column_stack([X, X[:, 0] + X[:, 1]])
    with pytest.warns(CollinearityWarning, match="rank deficient"):
        est = GeneralizedLinearRegressor(family="poisson").fit(Xc, y)
    full = GeneralizedLinearRegressor(family="poisson").fit(X, y)
    # same fitted means and deviance as the identifiable model
    np.testing.assert_allclose(est.predict(Xc), full.predict(X), rtol=1e-6)
    assert est.deviance_ == pytest.approx(full.deviance_, rel=1e-8)
    assert est.aic_ == pytest.approx(full.aic_, rel=1e-8)  # k counts the rank
    # penalised fits are well posed: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollinearityWarning)
        GeneralizedLinearRegressor(family="poisson", alpha=0.1).fit(Xc, y)


def test_not_converged_warns_naming_max_iter():
    X, y, _ = _poisson()
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        GeneralizedLinearRegressor(family="poisson", max_iter=1).fit(X, y)


@pytest.mark.parametrize("family,link", [("poisson", "log"), ("gamma", "log"), ("normal", "identity")])
def test_sparse_equals_dense(family, link):
    X, y, rng = _poisson(seed=1)
    X[rng.random(X.shape) < 0.6] = 0.0
    y = y + 1.0 if family == "gamma" else y
    sw = rng.uniform(0.5, 2, y.shape[0])
    dense = GeneralizedLinearRegressor(family=family, link=link, alpha=0.01).fit(X, y, sample_weight=sw)
    sparse = GeneralizedLinearRegressor(family=family, link=link, alpha=0.01).fit(
        sp.csr_matrix(X), y, sample_weight=sw)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sparse.covariance_, dense.covariance_, rtol=1e-8)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X), rtol=1e-9)


def test_integer_weights_equal_duplicated_rows():
    X, y, rng = _poisson(n=120, seed=2)
    w = rng.integers(0, 4, y.shape[0])
    a = GeneralizedLinearRegressor(family="gamma", link="log").fit(X, y + 1, sample_weight=w)
    rep = np.repeat(np.arange(y.shape[0]), w)
    b = GeneralizedLinearRegressor(family="gamma", link="log").fit(X[rep], y[rep] + 1)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8)
    np.testing.assert_allclose(a.covariance_, b.covariance_, rtol=1e-7)
    for attr in ("deviance_", "llf_", "aic_", "bic_", "scale_", "null_deviance_"):
        assert getattr(a, attr) == pytest.approx(getattr(b, attr), rel=1e-8)


def test_exposure_offset_equals_rate_model_and_predict_offset():
    X, y, rng = _poisson(seed=3)
    exposure = rng.uniform(0.5, 3.0, y.shape[0])
    y = rng.poisson(exposure * np.exp(0.1 + X @ [0.2, 0.0, -0.2])).astype(float)
    est = PoissonRegressor(alpha=0.0).fit(X, y, offset=np.log(exposure))
    np.testing.assert_allclose(est.coef_, [0.2, 0.0, -0.2], atol=0.1)
    np.testing.assert_allclose(est.predict(X, offset=np.log(exposure)), exposure * est.predict(X))


def test_warm_start_continues_from_previous_solution():
    X, y, _ = _poisson(seed=4)
    est = GeneralizedLinearRegressor(family="poisson", warm_start=True).fit(X, y)
    first = est.coef_.copy()
    est.fit(X, y)
    np.testing.assert_allclose(est.coef_, first, rtol=1e-8)
    assert est.n_iter_ <= 2


def test_summary_uses_dataframe_names_and_score_is_d2():
    pd = pytest.importorskip("pandas")
    from sklearn.metrics import d2_tweedie_score

    X, y, _ = _poisson(seed=5)
    df = pd.DataFrame(X, columns=["age", "dose", "bmi"])
    est = GeneralizedLinearRegressor(family="poisson").fit(df, y)
    text = str(est.summary())
    for name in ("intercept", "age", "dose", "bmi", "P>|z|", "AIC"):
        assert name in text
    assert est.score(df, y) == pytest.approx(d2_tweedie_score(y, est.predict(df), power=1), rel=1e-10)
    assert est.score(df, y) == pytest.approx(1 - est.deviance_ / est.null_deviance_, rel=1e-10)
    ci = np.asarray(est.conf_int(0.1))
    params = np.r_[est.intercept_, est.coef_]
    assert np.all(ci[:, 0] < params) and np.all(params < ci[:, 1])


def test_subclasses_equal_generic_estimator():
    X, y, _ = _poisson(seed=6)
    pairs = [(PoissonRegressor(alpha=0.5), dict(family="poisson", alpha=0.5)),
             (GammaRegressor(alpha=0.5), dict(family="gamma", link="log", alpha=0.5)),
             (TweedieRegressor(power=1.5, alpha=0.5), dict(family="tweedie", power=1.5, alpha=0.5))]
    for sub, kw in pairs:
        yy = y + 1 if kw["family"] == "gamma" else y
        a, b = sub.fit(X, yy), GeneralizedLinearRegressor(**kw).fit(X, yy)
        np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
        assert a.aic_ == pytest.approx(b.aic_)


@given(scale=st.floats(1e-3, 1e3), shift=st.floats(-5, 5), seed=st.integers(0, 50))
def test_column_scaling_rescales_coefficients(scale, shift, seed):
    """Scaling a column by c divides its coefficient and standard error by c;
    shifting a column only moves the intercept (unpenalised fits)."""
    X, y, _ = _poisson(n=150, seed=seed)
    a = GeneralizedLinearRegressor(family="poisson", tol=1e-12).fit(X, y)
    X2 = X.copy()
    X2[:, 1] = X2[:, 1] * scale + shift
    b = GeneralizedLinearRegressor(family="poisson", tol=1e-12).fit(X2, y)
    assert b.coef_[1] * scale == pytest.approx(a.coef_[1], rel=1e-6, abs=1e-7)
    assert b.coef_stderr_[1] * scale == pytest.approx(a.coef_stderr_[1], rel=1e-6)
    assert b.deviance_ == pytest.approx(a.deviance_, rel=1e-9)


@given(n=st.integers(1, 40), p=st.integers(1, 5), bad=st.sampled_from(["nan_y", "neg_y", "inf_X", "offset"]))
def test_bad_input_always_value_error(n, p, bad):
    rng = np.random.default_rng(n * 7 + p)
    X = rng.normal(size=(n, p))
    y = rng.poisson(1.0, n).astype(float)
    offset = None
    if bad == "nan_y":
        y[rng.integers(n)] = np.nan
    elif bad == "neg_y":
        y[rng.integers(n)] = -1.0
    elif bad == "inf_X":
        X[rng.integers(n), rng.integers(p)] = np.inf
    else:
        offset = np.zeros(n + 1)
    with pytest.raises(ValueError):
        GeneralizedLinearRegressor(family="poisson").fit(X, y, offset=offset)


@given(c=st.floats(1e-2, 1e2))
def test_gamma_scale_equivariance(c):
    """Multiplying y by c moves only the log-link intercept by log(c)."""
    X, y, _ = _poisson(n=100, seed=7)
    y = y + 0.5
    a = GeneralizedLinearRegressor(family="gamma", link="log", tol=1e-12).fit(X, y)
    b = GeneralizedLinearRegressor(family="gamma", link="log", tol=1e-12).fit(X, c * y)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-6, atol=1e-9)
    assert b.intercept_ == pytest.approx(a.intercept_ + np.log(c), rel=1e-7, abs=1e-9)
    np.testing.assert_allclose(b.coef_stderr_, a.coef_stderr_, rtol=1e-6)


def test_subsample_start_gives_the_same_solution(monkeypatch):
    """Large-n fits start from a subsample fit; the solution must not change."""
    import skngd._solvers.irls as irls_mod

    X, y, _ = _poisson(n=3000, p=4, seed=8)
    monkeypatch.setattr(irls_mod, "_SUBSAMPLE_MIN_ROWS", 1000)
    a = GeneralizedLinearRegressor(family="poisson", tol=1e-12).fit(X, y)
    monkeypatch.setattr(irls_mod, "_SUBSAMPLE_MIN_ROWS", 10**9)
    b = GeneralizedLinearRegressor(family="poisson", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7)
    np.testing.assert_allclose(a.covariance_, b.covariance_, rtol=1e-7)


def test_all_zero_counts_raise_clear_error():
    X, _, _ = _poisson(n=50)
    with pytest.raises(ValueError, match="maximum-likelihood estimate does not exist"):
        GeneralizedLinearRegressor(family="poisson").fit(X, np.zeros(50))


def test_power_link_exponent():
    from skngd._loss.link import PowerLink

    X, y, _ = _poisson(seed=9)
    tw = GeneralizedLinearRegressor(family="tweedie", power=1.5, link="power").fit(X, y)
    assert tw._link_.power == pytest.approx(-0.5)
    sq = GeneralizedLinearRegressor(family="poisson", link="power", power=0.5).fit(X, y)
    assert sq._link_.power == 0.5
    with pytest.raises(ValueError, match="PowerLink"):
        GeneralizedLinearRegressor(family="negative_binomial", power=0.5, link="power").fit(X, y)
    nb = GeneralizedLinearRegressor(family="negative_binomial", power=0.5, link=PowerLink(0.5)).fit(X, y)
    assert np.all(np.isfinite(nb.coef_stderr_))


def test_warm_start_from_invalid_means_falls_back_to_mu0():
    rng = np.random.default_rng(10)
    X = rng.uniform(0, 1, size=(200, 2))
    y = rng.poisson(1.0 + X @ [2.0, 1.0]).astype(float)
    ref = GeneralizedLinearRegressor(family="poisson", link="identity").fit(X, y)
    est = GeneralizedLinearRegressor(family="poisson", link="identity", warm_start=True).fit(X, y)
    est.intercept_ = -100.0  # negative means everywhere: not a valid start
    est.fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7)
    assert np.isfinite(est.deviance_)


def test_score_accepts_column_vector_y():
    """score(X, y[:, None]) equals score(X, y), as scikit-learn's regressors."""
    from skngd import GeneralizedLinearRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X @ [1.0, -0.5] + rng.normal(size=40)
    glm = GeneralizedLinearRegressor().fit(X, y)
    assert glm.score(X, y.reshape(-1, 1)) == pytest.approx(glm.score(X, y))
