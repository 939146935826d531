"""GeneralizedLinearRegressor against statsmodels GLM and scikit-learn's GLMs."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

from skngd.linear_model._glm import GeneralizedLinearRegressor

sm = pytest.importorskip("statsmodels.api")
F, L = sm.families, sm.families.links
RTOL = 1e-6


def _synthetic(family, link, n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    eta = 0.3 + X @ [0.2, -0.1, 0.15]
    mu_log = np.exp(eta)
    y = {
        ("normal", "identity"): lambda: eta + rng.normal(size=n),
        ("poisson", "log"): lambda: rng.poisson(mu_log),
        ("poisson", "identity"): lambda: rng.poisson(eta + 2),
        ("gamma", "inverse"): lambda: rng.gamma(2, 1 / (eta + 2) / 2),
        ("gamma", "log"): lambda: rng.gamma(2, mu_log / 2),
        ("inverse_gaussian", "inverse_squared"): lambda: rng.wald(1 / np.sqrt(eta + 2), 5.0),
        ("inverse_gaussian", "log"): lambda: rng.wald(mu_log, 5.0),
        ("binomial", "logit"): lambda: rng.random(n) < 1 / (1 + np.exp(-eta)),
        ("binomial", "probit"): lambda: rng.random(n) < 1 / (1 + np.exp(-eta)),
        ("binomial", "cloglog"): lambda: rng.random(n) < 1 / (1 + np.exp(-eta)),
        ("tweedie", "log"): lambda: rng.poisson(mu_log) * rng.gamma(2, size=n),
        ("negative_binomial", "log"): lambda: rng.negative_binomial(1 / 0.7, 1 / (1 + 0.7 * mu_log)),
    }[(family, link)]()
    return X, np.asarray(y, dtype=float), rng


SM_FAMILY = {
    ("normal", "identity"): lambda: F.Gaussian(),
    ("poisson", "log"): lambda: F.Poisson(),
    ("poisson", "identity"): lambda: F.Poisson(L.Identity()),
    ("gamma", "inverse"): lambda: F.Gamma(),
    ("gamma", "log"): lambda: F.Gamma(L.Log()),
    ("inverse_gaussian", "inverse_squared"): lambda: F.InverseGaussian(),
    ("inverse_gaussian", "log"): lambda: F.InverseGaussian(L.Log()),
    ("binomial", "logit"): lambda: F.Binomial(),
    ("binomial", "probit"): lambda: F.Binomial(L.Probit()),
    ("binomial", "cloglog"): lambda: F.Binomial(L.CLogLog()),
    ("tweedie", "log"): lambda: F.Tweedie(var_power=1.5),
    ("negative_binomial", "log"): lambda: F.NegativeBinomial(alpha=0.7),
}
POWER = {"tweedie": 1.5, "negative_binomial": 0.7}


def _fit_both(family, link, X, y, sample_weight=None, offset=None, cov_type="nonrobust", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sm.GLM(y, sm.add_constant(X, has_constant="add"), family=SM_FAMILY[(family, link)](),
                     offset=offset, freq_weights=sample_weight).fit(tol=1e-14, maxiter=300, cov_type=cov_type)
    est = GeneralizedLinearRegressor(family=family, link=link, power=POWER.get(family), tol=1e-14,
                                     cov_type=cov_type, **kw).fit(X, y, sample_weight=sample_weight, offset=offset)
    return est, ref


def _assert_agree(est, ref, se=True):
    params = np.r_[est.intercept_, est.coef_]
    atol = RTOL * np.max(np.abs(ref.params))
    np.testing.assert_allclose(params, ref.params, rtol=RTOL, atol=atol)
    if se:
        np.testing.assert_allclose(np.r_[est.intercept_stderr_, est.coef_stderr_], ref.bse, rtol=RTOL)
        np.testing.assert_allclose(est.conf_int(), ref.conf_int(), rtol=RTOL, atol=atol)
    assert est.deviance_ == pytest.approx(ref.deviance, rel=RTOL)
    assert est.null_deviance_ == pytest.approx(ref.null_deviance, rel=RTOL)
    assert est.llf_ == pytest.approx(ref.llf, rel=RTOL)
    assert est.aic_ == pytest.approx(ref.aic, rel=RTOL)
    assert est.bic_ == pytest.approx(ref.bic_llf, rel=RTOL)
    assert est.scale_ == pytest.approx(ref.scale, rel=RTOL)


@pytest.mark.parametrize("family,link", list(SM_FAMILY))
def test_agrees_with_statsmodels(family, link):
    X, y, _ = _synthetic(family, link)
    est, ref = _fit_both(family, link, X, y)
    _assert_agree(est, ref)


@pytest.mark.parametrize("family,link", [("poisson", "log"), ("gamma", "log"), ("binomial", "probit"),
                                         ("normal", "identity"), ("negative_binomial", "log")])
def test_agrees_with_statsmodels_with_frequency_weights(family, link):
    X, y, rng = _synthetic(family, link, seed=1)
    est, ref = _fit_both(family, link, X, y, sample_weight=rng.integers(1, 5, y.shape[0]).astype(float))
    _assert_agree(est, ref)


@pytest.mark.parametrize("family,link", [("poisson", "log"), ("gamma", "log"), ("tweedie", "log"),
                                         ("binomial", "logit")])
def test_agrees_with_statsmodels_with_offset(family, link):
    X, y, rng = _synthetic(family, link, seed=2)
    est, ref = _fit_both(family, link, X, y, offset=0.3 * rng.normal(size=y.shape[0]))
    _assert_agree(est, ref)


def test_hc0_covariance_agrees_with_statsmodels():
    X, y, _ = _synthetic("poisson", "log", seed=3)
    est, ref = _fit_both("poisson", "log", X, y, cov_type="HC0")
    np.testing.assert_allclose(est.covariance_, ref.cov_params(), rtol=RTOL)


def test_diabetes_normal_and_gamma():
    X, y = load_diabetes(return_X_y=True)
    est, ref = _fit_both("normal", "identity", X, y)
    _assert_agree(est, ref)
    est, ref = _fit_both("gamma", "log", X, y)
    _assert_agree(est, ref)


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_breast_cancer_binomial(link):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X[:, [0, 1, 4, 8, 9]])
    est, ref = _fit_both("binomial", link, X, y.astype(float))
    _assert_agree(est, ref)


def test_no_intercept_matches_statsmodels_without_constant():
    X, y, _ = _synthetic("poisson", "log", seed=4)
    ref = sm.GLM(y, X, family=F.Poisson()).fit(tol=1e-14)
    est = GeneralizedLinearRegressor(family="poisson", fit_intercept=False, tol=1e-14).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.params, rtol=RTOL)
    np.testing.assert_allclose(est.coef_stderr_, ref.bse, rtol=RTOL)
    assert est.aic_ == pytest.approx(ref.aic, rel=RTOL)


@pytest.mark.parametrize("family,power,sk_name", [
    ("poisson", None, "PoissonRegressor"), ("gamma", None, "GammaRegressor"),
    ("tweedie", 1.5, "TweedieRegressor")])
@pytest.mark.parametrize("alpha", [0.01, 1.0])
def test_penalised_agrees_with_sklearn(family, power, sk_name, alpha):
    import sklearn.linear_model as sklm

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = y / 100.0 if family != "poisson" else np.round(y / 10.0)
    kw = {"power": power} if power is not None else {}
    ref = getattr(sklm, sk_name)(alpha=alpha, solver="newton-cholesky", tol=1e-12, max_iter=1000,
                                 **kw).fit(X, y)
    link = "log"
    est = GeneralizedLinearRegressor(family=family, link=link, power=power, alpha=alpha,
                                     tol=1e-14).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL, atol=RTOL * np.abs(ref.coef_).max())
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=RTOL)


# -- covariance types for non-canonical links: expected vs observed information
NON_CANONICAL = [("gamma", "log"), ("inverse_gaussian", "log"), ("binomial", "probit"),
                 ("binomial", "cloglog"), ("poisson", "identity"), ("tweedie", "log"),
                 ("negative_binomial", "log")]


def _sm_fit(family, link, X, y, sample_weight=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.GLM(y, sm.add_constant(X, has_constant="add"),
                       family=SM_FAMILY[(family, link)](), freq_weights=sample_weight)
        irls = model.fit(tol=1e-14, maxiter=300)
        if kw.get("method") == "newton":  # statsmodels' Newton fit: observed information
            return model.fit(method="newton", start_params=irls.params, tol=1e-14, maxiter=50)
        return model.fit(tol=1e-14, maxiter=300, **kw)


@pytest.mark.parametrize("family,link", NON_CANONICAL)
@pytest.mark.parametrize("cov_type,sm_kw", [
    ("nonrobust", {}),                  # statsmodels' IRLS: expected information
    ("eim", {}),
    ("oim", {"method": "newton"}),      # statsmodels' Newton fits: observed information
    ("HC0", {"cov_type": "HC0"}),       # sandwich with the observed Hessian as bread
])
def test_covariance_types_agree_with_statsmodels(family, link, cov_type, sm_kw):
    X, y, rng = _synthetic(family, link, seed=5)
    sw = rng.integers(1, 4, y.shape[0]).astype(float)
    ref = _sm_fit(family, link, X, y, sample_weight=sw, **sm_kw)
    est = GeneralizedLinearRegressor(family=family, link=link, power=POWER.get(family),
                                     tol=1e-14, cov_type=cov_type).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(est.covariance_, ref.cov_params(), rtol=RTOL,
                               atol=RTOL * np.max(np.abs(np.diag(ref.cov_params()))))
    np.testing.assert_allclose(np.r_[est.intercept_stderr_, est.coef_stderr_], ref.bse, rtol=RTOL)
    np.testing.assert_allclose(est.pvalues_, ref.pvalues, rtol=1e-5, atol=1e-12)


def test_observed_and_expected_information_differ_for_non_canonical_link():
    """The choice matters (about 5 % here), so the test above can tell them apart."""
    X, y, _ = _synthetic("gamma", "log", seed=5)
    a = GeneralizedLinearRegressor(family="gamma", link="log", cov_type="nonrobust").fit(X, y)
    b = GeneralizedLinearRegressor(family="gamma", link="log", cov_type="oim").fit(X, y)
    assert np.max(np.abs(a.coef_stderr_ / b.coef_stderr_ - 1)) > 1e-2


def test_hc0_diabetes_gamma_log_agrees_with_statsmodels():
    """The issue's case: HC0 for gamma-log was 1 % off (Fisher bread)."""
    X, y = load_diabetes(return_X_y=True)
    ref = _sm_fit("gamma", "log", X, y, cov_type="HC0")
    est = GeneralizedLinearRegressor(family="gamma", link="log", cov_type="HC0",
                                     tol=1e-14).fit(X, y)
    np.testing.assert_allclose(np.r_[est.intercept_stderr_, est.coef_stderr_], ref.bse, rtol=RTOL)
