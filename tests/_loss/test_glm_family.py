"""GLM families against scipy.stats densities and statsmodels' families."""

import numpy as np
import pytest
from scipy import stats

from skngd._loss import FAMILIES, Binomial, get_family, get_link
from skngd._loss.glm_family import (
    Gamma, InverseGaussian, NegativeBinomial, Normal, Poisson, Tweedie, check_link_for_family)

rng = np.random.default_rng(0)
Y_POS = rng.gamma(2.0, 1.5, 50)
MU_POS = rng.gamma(3.0, 1.0, 50)
COUNTS = rng.poisson(2.0, 50).astype(float)
SW = rng.uniform(0.5, 2.0, 50)


def test_registry_has_every_family_and_keeps_binomial():
    assert set(FAMILIES) == {"normal", "binomial", "poisson", "gamma", "inverse_gaussian",
                             "tweedie", "negative_binomial"}
    assert isinstance(get_family("binomial"), Binomial)
    assert get_family("tweedie", power=1.3).power == 1.3
    assert get_family("negative_binomial", alpha=0.4).alpha == 0.4
    with pytest.raises(ValueError, match="'gamma'"):
        get_family("gama")


@pytest.mark.parametrize("fam,y,mu", [
    (Normal(), Y_POS - 2, MU_POS - 2), (Poisson(), COUNTS, MU_POS), (Gamma(), Y_POS, MU_POS),
    (InverseGaussian(), Y_POS, MU_POS), (Tweedie(1.5), Y_POS, MU_POS),
    (Tweedie(3.0), Y_POS, MU_POS), (NegativeBinomial(0.5), COUNTS, MU_POS)])
def test_unit_deviance_is_twice_loglik_ratio_and_zero_at_y(fam, y, mu):
    """d(y, mu) = 2 phi [l(y; y) - l(mu; y)] and d(y, y) = 0."""
    scale = 1.0 if fam.fixed_scale else 0.7
    sat = np.array([fam.loglike(y[i:i + 1], y[i:i + 1], scale=scale) for i in range(len(y))])
    fit = np.array([fam.loglike(y[i:i + 1], mu[i:i + 1], scale=scale) for i in range(len(y))])
    np.testing.assert_allclose(fam.unit_deviance(y, mu), 2 * scale * (sat - fit), rtol=1e-8, atol=1e-10)
    ypos = y[y > 0]
    np.testing.assert_allclose(fam.unit_deviance(ypos, ypos), 0.0, atol=1e-12)


@pytest.mark.parametrize("fam,dist", [
    (Normal(), lambda y, mu, s: stats.norm(mu, np.sqrt(s)).logpdf(y)),
    (Poisson(), lambda y, mu, s: stats.poisson(mu).logpmf(y)),
    (Gamma(), lambda y, mu, s: stats.gamma(1 / s, scale=mu * s).logpdf(y)),
    (InverseGaussian(), lambda y, mu, s: stats.invgauss(mu * s, scale=1 / s).logpdf(y)),
    (NegativeBinomial(0.5), lambda y, mu, s: stats.nbinom(2.0, 1 / (1 + 0.5 * mu)).logpmf(y)),
])
def test_loglike_matches_scipy_density(fam, dist):
    y = COUNTS if fam.name in ("poisson", "negative_binomial") else Y_POS
    s = 1.0 if fam.fixed_scale else 0.6
    want = float(np.dot(SW, dist(y, MU_POS, s)))
    assert fam.loglike(y, MU_POS, SW, scale=s) == pytest.approx(want, rel=1e-10)


def test_tweedie_loglike_matches_statsmodels_and_integrates_to_one():
    sm_family = pytest.importorskip("statsmodels.genmod.families.family")
    fam = Tweedie(1.4)
    y = np.r_[0.0, 0.0, Y_POS[:20]]
    mu = MU_POS[: y.shape[0]]
    ref = sm_family.Tweedie(var_power=1.4).loglike(y, mu, scale=0.8)
    assert fam.loglike(y, mu, scale=0.8) == pytest.approx(ref, rel=1e-9)
    # density (point mass at 0 plus continuous part) integrates to one
    grid = np.linspace(1e-6, 60, 200001)
    dens = np.exp([fam.loglike(np.array([g]), np.array([2.0]), scale=0.8) for g in grid[::50]])
    p0 = np.exp(fam.loglike(np.array([0.0]), np.array([2.0]), scale=0.8))
    assert p0 + np.trapezoid(dens, grid[::50]) == pytest.approx(1.0, abs=2e-3)


def test_tweedie_special_powers_delegate():
    for p, fam in [(0.0, Normal()), (1.0, Poisson()), (2.0, Gamma()), (3.0, InverseGaussian())]:
        y = COUNTS if p == 1.0 else Y_POS
        np.testing.assert_allclose(Tweedie(p).unit_deviance(y, MU_POS), fam.unit_deviance(y, MU_POS))
        assert Tweedie(p).loglike(y, MU_POS, scale=1.0) == pytest.approx(fam.loglike(y, MU_POS))


@pytest.mark.parametrize("bad", [0.5, np.nan, np.inf])
def test_tweedie_rejects_invalid_power(bad):
    with pytest.raises(ValueError, match="power"):
        Tweedie(bad)


def test_negative_binomial_rejects_bad_alpha():
    with pytest.raises(ValueError, match="alpha"):
        NegativeBinomial(0.0)


@pytest.mark.parametrize("fam,ok,bad", [
    (Poisson(), [0.0, 3.0], [-1.0]), (Gamma(), [0.1], [0.0]), (InverseGaussian(), [2.0], [-2.0]),
    (Tweedie(1.5), [0.0], [-0.1]), (Tweedie(2.5), [0.5], [0.0]), (Tweedie(0.0), [-5.0], [np.inf]),
    (Normal(), [-3.0], [np.inf]), (NegativeBinomial(1.0), [0.0], [-1.0])])
def test_support(fam, ok, bad):
    assert fam.in_y_range(np.array(ok))
    assert not fam.in_y_range(np.array(bad))


@pytest.mark.parametrize("fam", [Normal(), Poisson(), Gamma(), InverseGaussian(), Tweedie(1.5),
                                 NegativeBinomial(0.3)])
def test_gradient_and_fisher_against_finite_differences(fam):
    link = fam.default_link()
    y = COUNTS + 0.5 if fam.name in ("gamma", "inverse_gaussian") else COUNTS
    raw = link.link(MU_POS) if fam.name != "normal" else MU_POS
    loss, grad, fisher = fam.loss_gradient_fisher(y, raw, SW, link)
    h = 1e-6
    lp = fam.loss_gradient_fisher(y, raw + h, SW, link)[0]
    lm = fam.loss_gradient_fisher(y, raw - h, SW, link)[0]
    np.testing.assert_allclose(grad, (lp - lm) / (2 * h), rtol=1e-5, atol=1e-8)
    # Fisher weight = expected Hessian: E[d2 loss] with E[y] = mu
    np.testing.assert_allclose(fisher, SW * link.inverse_derivative(raw) ** 2 / fam.variance(link.inverse(raw)))


def test_invalid_link_for_family():
    with pytest.raises(ValueError, match="not valid for the poisson family"):
        check_link_for_family(Poisson(), get_link("logit"))
    check_link_for_family(Poisson(), get_link("identity"))


# -- second-order quantities of the observed information --------------------
@pytest.mark.parametrize("name,power", [("identity", None), ("log", None), ("logit", None),
                                        ("probit", None), ("cloglog", None), ("inverse", None),
                                        ("inverse_squared", None), ("power", 0.5),
                                        ("power", -0.5), ("power", 0.0)])
def test_inverse_second_derivative_is_derivative_of_inverse_derivative(name, power):
    link = get_link(name, power=power)
    eta = np.linspace(0.3, 2.0, 9) if name in ("inverse", "inverse_squared", "power") \
        else np.linspace(-2.0, 2.0, 9)
    h = 1e-6
    fd = (link.inverse_derivative(eta + h) - link.inverse_derivative(eta - h)) / (2 * h)
    np.testing.assert_allclose(link.inverse_second_derivative(eta), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("fam", [Normal(), Binomial(), Poisson(), Gamma(), InverseGaussian(),
                                 Tweedie(1.5), Tweedie(0.0), NegativeBinomial(0.7)],
                         ids=repr)
def test_variance_derivative(fam):
    from skngd._loss.glm_family import variance_derivative

    mu = np.linspace(0.2, 0.8, 7)
    h = 1e-6
    fd = (fam.variance(mu + h) - fam.variance(mu - h)) / (2 * h)
    np.testing.assert_allclose(variance_derivative(fam, mu), fd, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("fam,link", [
    (Gamma(), "log"), (InverseGaussian(), "log"), (Binomial(), "probit"), (Binomial(), "cloglog"),
    (Poisson(), "identity"), (Tweedie(1.5), "log"), (NegativeBinomial(0.7), "log"),
    (Normal(), "inverse"), (Gamma(), "identity"), (Binomial(), "logit"), (Poisson(), "log")],
    ids=str)
def test_observed_weights_are_the_second_derivative_of_the_half_deviance(fam, link):
    """W^O = d/d eta of the half-deviance derivative -u (finite differences of
    the unit deviance itself); equal to the Fisher weight for canonical links."""
    from skngd._kernels.glm import irls_pass_ref
    from skngd._loss.glm_family import observed_weights

    link = get_link(link)
    rng = np.random.default_rng(1)
    n = 40
    eta = rng.uniform(0.4, 1.5, n) if link.name in ("identity", "inverse") else rng.normal(0, 0.5, n)
    mu = link.inverse(eta)
    y = (rng.random(n) < mu).astype(float) if fam.name == "binomial" else rng.gamma(2.0, mu / 2.0)
    sw = rng.uniform(0.5, 2.0, n)
    mu, w, u, _ = irls_pass_ref(y, eta, sw, fam, link)
    h = observed_weights(fam, link, eta, mu, w, u)

    def half_dev(e):
        return 0.5 * sw * fam.unit_deviance(y, link.inverse(e))

    step = 1e-4
    fd = (half_dev(eta + step) - 2 * half_dev(eta) + half_dev(eta - step)) / step**2
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-7)
    fd1 = (half_dev(eta + step) - half_dev(eta - step)) / (2 * step)
    np.testing.assert_allclose(-u, fd1, rtol=1e-5, atol=1e-9)
    if fam.name == "binomial" and link.name == "logit" or fam.name == "poisson" and link.name == "log":
        np.testing.assert_allclose(h, w, rtol=1e-12)


def test_family_and_link_codes_come_from_the_one_table():
    """The kernels and the objects read one table (skngd._kernels.codes)."""
    from skngd._kernels import codes
    from skngd._kernels import glm as kglm
    from skngd._loss import family as _family
    from skngd._loss import glm_family as _gf
    from skngd._loss import link as _link

    fams = [_gf.Normal(), _gf.Poisson(), _gf.Gamma(), _gf.InverseGaussian(), _gf.Tweedie(1.5),
            _gf.NegativeBinomial(), _family.Binomial(), _family.Multinomial()]
    assert sorted(f.code for f in fams) == sorted(codes.FAMILY_CODES.values())
    for f in fams:
        assert f.code == codes.FAMILY_CODES[f.name]
    for name, cls in _link.LINKS.items():
        assert cls().code == codes.LINK_CODES[name]
    assert kglm._POISSON == _gf.Poisson().code and kglm._INVSQ == _link.InverseSquaredLink().code

    class Custom(_gf.Poisson):
        name = "my_poisson"

    assert Custom.code == codes.UNKNOWN


@pytest.mark.parametrize("fam, link, canonical", [
    ("poisson", "log", True), ("gamma", "inverse", True), ("gamma", "log", False),
    ("inverse_gaussian", "inverse_squared", True), ("normal", "identity", True),
    ("binomial", "logit", True), ("binomial", "probit", False), ("negative_binomial", "log", False),
])
def test_is_canonical_reads_the_objects(fam, link, canonical):
    from skngd._loss import get_family
    from skngd._loss.glm_family import is_canonical
    from skngd._loss.link import LINKS

    assert is_canonical(get_family(fam), LINKS[link]()) is canonical


def test_is_canonical_tweedie_and_power_link():
    from skngd._loss.glm_family import Tweedie, is_canonical
    from skngd._loss.link import LogLink, PowerLink

    assert is_canonical(Tweedie(1.0), LogLink())
    assert is_canonical(Tweedie(1.5), PowerLink(-0.5))
    assert not is_canonical(Tweedie(1.5), LogLink())


@pytest.mark.parametrize("family, params, positive", [
    ("normal", {}, False), ("binomial", {}, False), ("poisson", {}, True), ("gamma", {}, True),
    ("inverse_gaussian", {}, True), ("negative_binomial", {}, True),
    ("tweedie", {"power": 0.0}, False), ("tweedie", {"power": 1.5}, True),
    ("tweedie", {"power": 3.0}, True),
])
def test_positive_only_derives_from_the_support(family, params, positive):
    from skngd.linear_model import GeneralizedLinearRegressor

    assert get_family(family, **params).positive_only is positive
    est = GeneralizedLinearRegressor(family=family, **params)
    assert est.__sklearn_tags__().target_tags.positive_only is positive
