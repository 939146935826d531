"""Elastic-net GLMs (``l1_ratio``, ``P1``, ``P2``) against glum 3 and against
the optimality conditions of the objective, written out here:

    1/(2 S) sum_i s_i d_i + alpha (rho sum_j P1_j |b_j| + (1 - rho)/2 b^T P2 b).
"""

import warnings

import numpy as np
import pytest
from scipy import sparse

from skngd.linear_model import (
    GammaRegressor,
    GeneralizedLinearRegressor,
    PoissonRegressor,
    TweedieRegressor,
)

glum = pytest.importorskip("glum")

FAMILIES = {"poisson": 1.0, "gamma": 2.0, "tweedie": 1.5}


# -- the objective, its gradient and Hessian, from the formulas (log link) ----
def _half_dev_terms(y, mu, p):
    """Unit half deviances of the Tweedie family (p = 1 Poisson, p = 2 gamma)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 1.0:
            return np.where(y > 0, y * np.log(y / mu), 0.0) - y + mu
        if p == 2.0:
            return -np.log(y / mu) + (y - mu) / mu
        return (np.maximum(y, 0) ** (2 - p) / ((1 - p) * (2 - p)) - y * mu ** (1 - p) / (1 - p)
                + mu ** (2 - p) / (2 - p))


def _parts(coef, X, y, sw, off, p):
    eta = X @ coef[1:] + coef[0] + off
    mu = np.exp(eta)
    g = sw * (mu - y) * mu ** (1 - p)  # d half-dev / d eta
    h = sw * ((2 - p) * mu ** (2 - p) - (1 - p) * y * mu ** (1 - p))
    return mu, g, h


def _P2_dense(P2, d):
    if P2 is None:
        return np.eye(d)
    P2 = P2.toarray() if sparse.issparse(P2) else np.asarray(P2, dtype=float)
    return np.diag(P2) if P2.ndim == 1 else 0.5 * (P2 + P2.T)


def objective(coef, X, y, sw, off, p, alpha, rho, P1, P2):
    """glum's mean-scale objective at ``[intercept, *coef]``."""
    mu, _, _ = _parts(coef, X, y, sw, off, p)
    b = coef[1:]
    P1 = np.ones(X.shape[1]) if P1 is None else P1
    R = _P2_dense(P2, X.shape[1])
    return (float(np.sum(sw * _half_dev_terms(y, mu, p))) / sw.sum()
            + alpha * (rho * float(P1 @ np.abs(b)) + 0.5 * (1 - rho) * float(b @ R @ b)))


def polished_optimum(coef, X, y, sw, off, p, alpha, rho, P1, P2):
    """Newton's method on the smooth problem over the support and signs of
    ``coef`` (zeros held at zero): the optimum to rounding, if ``coef`` has
    the right support."""
    S, d = sw.sum(), X.shape[1]
    P1 = np.ones(d) if P1 is None else P1
    R = np.zeros((d + 1, d + 1))
    R[1:, 1:] = alpha * (1 - rho) * _P2_dense(P2, d)
    l1 = np.r_[0.0, alpha * rho * P1]
    act = np.r_[True, (coef[1:] != 0) | (P1 == 0)]
    sign = np.sign(coef)
    Xt = np.column_stack([np.ones(len(y)), X])[:, act]
    c = coef.copy()
    for _ in range(50):
        _, g, h = _parts(c, X, y, sw, off, p)
        grad = Xt.T @ g / S + (R @ c)[act] + (l1 * sign)[act]
        H = (Xt * h[:, None]).T @ Xt / S + R[np.ix_(act, act)]
        step = np.linalg.solve(H, grad)
        c[act] -= step
        if np.max(np.abs(step)) < 1e-15 * max(1.0, np.max(np.abs(c))):
            break
    return c


def kkt(coef, X, y, sw, off, p, alpha, rho, P1, P2):
    """Largest violation of the mean-scale optimality conditions."""
    d = X.shape[1]
    P1 = np.ones(d) if P1 is None else P1
    _, g, _ = _parts(coef, X, y, sw, off, p)
    grad = np.r_[g.sum(), X.T @ g] / sw.sum()
    grad[1:] += alpha * (1 - rho) * _P2_dense(P2, d) @ coef[1:]
    l1 = np.r_[0.0, alpha * rho * P1]
    nz = coef != 0
    viol = np.where(nz, np.abs(grad + l1 * np.sign(coef)), np.maximum(np.abs(grad) - l1, 0))
    return float(viol.max())


# -- data ---------------------------------------------------------------------
def _data(family, n=600, d=8, seed=0, weights=False, offset=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[:, 3] *= 3.0  # unequal scales
    beta = np.array([0.4, -0.3, 0.0, 0.05, 0.0, 0.2, 0.0, -0.1][:d])
    off = rng.uniform(-0.5, 0.5, n) if offset else np.zeros(n)
    mu = np.exp(0.3 + X @ beta + off)
    if family == "poisson":
        y = rng.poisson(mu).astype(float)
    elif family == "gamma":
        y = rng.gamma(2.0, mu / 2.0)
    else:  # compound Poisson-gamma: exact zeros and positive values
        counts = rng.poisson(mu ** 0.5 / 0.5)
        y = np.array([rng.gamma(2.0, 0.5 * m ** 0.5 / 2.0, c).sum()
                      for c, m in zip(counts, mu)])
    sw = rng.uniform(0.5, 2.0, n) if weights else np.ones(n)
    return X, y, sw, off


def _diabetes():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return X * 10.0, y / 100.0  # features on unit-ish scale, target of mean ~1.5


def _skngd(family, **kw):
    if family == "poisson":
        return PoissonRegressor(**kw)
    if family == "gamma":
        return GammaRegressor(**kw)
    return TweedieRegressor(power=FAMILIES[family], link="log", **kw)


def _glum(family, alpha, rho, P1, P2):
    fam = {"poisson": "poisson", "gamma": "gamma", "tweedie": glum.TweedieDistribution(1.5)}
    return glum.GeneralizedLinearRegressor(
        family=fam[family], link="log", alpha=alpha, l1_ratio=rho,
        P1="identity" if P1 is None else P1, P2="identity" if P2 is None else P2,
        gradient_tol=1e-12, step_size_tol=1e-300, max_iter=1000, max_inner_iter=100000)


def _check_against_glum(family, X, y, sw, off, alpha, rho, P1=None, P2=None, tol=1e-12):
    p = FAMILIES[family]
    est = _skngd(family, alpha=alpha, l1_ratio=rho, P1=P1, P2=P2, tol=tol, max_iter=200)
    est.fit(X, y, sample_weight=sw, offset=off)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _glum(family, alpha, rho, P1, P2).fit(X, y, sample_weight=sw, offset=off)
    ours = np.r_[est.intercept_, est.coef_]
    theirs = np.r_[ref.intercept_, ref.coef_]
    args = (X, y, sw, off, p, alpha, rho, P1, P2)
    f_ours, f_theirs = objective(ours, *args), objective(theirs, *args)
    # same optimum: objectives to 1e-8 (ours no worse), coefficients to 1e-6
    assert f_ours <= f_theirs + 1e-12 * abs(f_theirs)
    assert abs(f_ours - f_theirs) <= 1e-8 * abs(f_theirs)
    scale = np.max(np.abs(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6 * scale)
    np.testing.assert_array_equal(ours[1:] == 0, theirs[1:] == 0)
    assert kkt(ours, *args) <= 1e-8
    return est, ours


ALPHAS = [(0.05, 0.5), (0.03, 1.0), (0.2, 0.2)]


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("alpha,rho", ALPHAS)
def test_elastic_net_matches_glum(family, alpha, rho):
    X, y, sw, off = _data(family)
    est, coef = _check_against_glum(family, X, y, sw, off, alpha, rho)
    assert np.any(coef[1:] == 0) and np.any(coef[1:] != 0)  # the L1 part selects


@pytest.mark.parametrize("family", list(FAMILIES))
def test_P1_P2_vectors_match_glum(family):
    X, y, sw, off = _data(family, weights=True)
    P1 = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 1.0, 3.0, 0.0])  # zero: no L1 on that feature
    P2 = np.array([0.5, 1.0, 0.0, 2.0, 1.0, 1.0, 1.0, 4.0])
    _check_against_glum(family, X, y, sw, off, 0.05, 0.6, P1, P2)


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("as_sparse", [False, True])
def test_P2_matrix_matches_glum(family, as_sparse):
    X, y, sw, off = _data(family, offset=True)
    Dm = np.diff(np.eye(X.shape[1]), axis=0)
    P2 = Dm.T @ Dm + 0.1 * np.eye(X.shape[1])  # smoothness (difference) penalty
    P2 = sparse.csr_matrix(P2) if as_sparse else P2
    _check_against_glum(family, X, y, sw, off, 0.05, 0.4, None, P2)


@pytest.mark.parametrize("family", ["poisson", "gamma"])
def test_diabetes_matches_glum(family):
    X, y = _diabetes()
    n = len(y)
    sw, off = np.ones(n), np.zeros(n)
    for alpha, rho in [(0.01, 0.5), (0.002, 1.0)]:
        _check_against_glum(family, X, y, sw, off, alpha, rho)
    A = np.random.default_rng(0).standard_normal((X.shape[1], 4))
    _check_against_glum(family, X, y, sw, off, 0.01, 0.5, None, A @ A.T)  # singular P2


@pytest.mark.parametrize("family", list(FAMILIES))
def test_ridge_P2_without_l1_matches_glum(family):
    # l1_ratio=0 with P2: the IRLS path with the generalised ridge
    X, y, sw, off = _data(family, weights=True, offset=True)
    A = np.random.default_rng(1).standard_normal((X.shape[1], X.shape[1]))
    _check_against_glum(family, X, y, sw, off, 0.05, 0.0, None, A @ A.T)
    _check_against_glum(family, X, y, sw, off, 0.05, 0.0, None, np.linspace(0, 2, 8))


@pytest.mark.parametrize("family", list(FAMILIES))
def test_sample_weights_and_offset_match_glum(family):
    X, y, sw, off = _data(family, weights=True, offset=True, seed=3)
    _check_against_glum(family, X, y, sw, off, 0.03, 0.7)


def test_integer_weights_equal_repeated_rows():
    X, y, _, _ = _data("poisson", n=200)
    w = np.random.default_rng(0).integers(0, 4, len(y)).astype(float)
    a = PoissonRegressor(alpha=0.05, l1_ratio=0.5, tol=1e-12).fit(X, y, sample_weight=w)
    rep = np.repeat(np.arange(len(y)), w.astype(int))
    b = PoissonRegressor(alpha=0.05, l1_ratio=0.5, tol=1e-12).fit(X[rep], y[rep])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)
    assert np.isclose(a.intercept_, b.intercept_, rtol=1e-9)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_tol_1e12_reaches_rounding_accuracy(family):
    X, y, sw, off = _data(family, weights=True, seed=5)
    alpha, rho = 0.05, 0.5
    est = _skngd(family, alpha=alpha, l1_ratio=rho, tol=1e-12, max_iter=200).fit(
        X, y, sample_weight=sw)
    coef = np.r_[est.intercept_, est.coef_]
    args = (X, y, sw, off, FAMILIES[family], alpha, rho, None, None)
    best = polished_optimum(coef, *args)
    f, f_best = objective(coef, *args), objective(best, *args)
    assert f - f_best <= 1e-13 * abs(f_best)
    np.testing.assert_allclose(coef, best, rtol=1e-9, atol=1e-11)
    assert kkt(best, *args) <= 1e-13  # the polished support is optimal
    assert kkt(coef, *args) <= 1e-11


def test_l1_ratio_zero_is_the_ridge_fit():
    # l1_ratio=0 (and P1, which then does not enter) keeps the ridge IRLS fit
    X, y, _, _ = _data("poisson")
    a = PoissonRegressor(alpha=0.1).fit(X, y)
    b = PoissonRegressor(alpha=0.1, l1_ratio=0.0, P1=np.full(8, 3.0), P2="identity").fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.coef_stderr_, b.coef_stderr_)


def test_warm_start_with_changed_alpha_reuses_coef(monkeypatch):
    import skngd._solvers.prox_newton as pn

    X, y, _, _ = _data("poisson")
    seen = []
    real = pn.prox_newton

    def spy(loss, coef0=None, **kw):
        seen.append(None if coef0 is None else np.array(coef0, copy=True))
        return real(loss, coef0, **kw)

    monkeypatch.setattr(pn, "prox_newton", spy)
    est = PoissonRegressor(alpha=0.1, l1_ratio=0.5, warm_start=True, tol=1e-12).fit(X, y)
    first = np.r_[est.coef_, est.intercept_]
    est.set_params(alpha=0.02).fit(X, y)
    # a cold fit starts at the intercept-only mean (every slope zero)
    assert seen[0] is not None and not np.any(seen[0].ravel()[:-1])
    np.testing.assert_array_equal(seen[1].ravel(), first)
    cold = PoissonRegressor(alpha=0.02, l1_ratio=0.5, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(est.coef_, cold.coef_, rtol=1e-8, atol=1e-10)


def test_inference_on_active_set_and_summary_marks_zeros():
    X, y, _, _ = _data("poisson", n=800)
    est = PoissonRegressor(alpha=0.05, l1_ratio=1.0, tol=1e-12).fit(X, y)
    zero = est.coef_ == 0
    assert zero.any() and not zero.all()
    assert np.all(np.isnan(est.coef_stderr_[zero]))
    assert np.all(np.isfinite(est.coef_stderr_[~zero])) and np.isfinite(est.intercept_stderr_)
    assert np.all(np.isnan(est.pvalues_[1:][zero]))
    assert np.all(np.isnan(est.conf_int()[1:][zero]))
    # the active block is the (unpenalised-ridge) inverse Fisher information of the
    # refitted active model's design at these means: statsmodels' naive post-selection SE
    act = np.flatnonzero(~zero)
    Xa = np.column_stack([np.ones(len(y)), X[:, act]])
    mu = est.predict(X)
    cov = np.linalg.inv((Xa * mu[:, None]).T @ Xa)
    np.testing.assert_allclose(est.covariance_[np.ix_(np.r_[0, act + 1], np.r_[0, act + 1])],
                               cov, rtol=1e-8)
    text = str(est.summary())
    assert "zero" in text and "ignore the selection" in text
    assert sum(line.split()[2] == "zero" for line in text.splitlines()
               if line.startswith("x")) == zero.sum()


def test_inference_with_ridge_part_uses_penalised_information():
    X, y, _, _ = _data("poisson", n=800)
    alpha, rho = 0.05, 0.5
    est = PoissonRegressor(alpha=alpha, l1_ratio=rho, tol=1e-12).fit(X, y)
    act = np.flatnonzero(est.coef_ != 0)
    Xa = np.column_stack([X[:, act], np.ones(len(y))])
    G = (Xa * est.predict(X)[:, None]).T @ Xa
    P = np.diag(np.r_[np.full(len(act), alpha * (1 - rho) * len(y)), 0.0])
    Hi = np.linalg.inv(G + P)
    want = Hi @ G @ Hi  # the sandwich, as the pure ridge's covariance
    order = np.r_[len(act), np.arange(len(act))]
    got = est.covariance_[np.ix_(np.r_[0, act + 1], np.r_[0, act + 1])]
    np.testing.assert_allclose(got, want[np.ix_(order, order)], rtol=1e-8)


BAD = [
    (dict(P1=-np.ones(8)), "P1 must not have negative"),
    (dict(P1=np.ones(7)), "P1 must be a 1-D array of length"),
    (dict(P1=np.ones((8, 8))), "P1 must be a 1-D array of length"),
    (dict(P1=np.r_[np.nan, np.ones(7)]), "P1 contains NaN"),
    (dict(P1="ones"), "'P1' parameter"),
    (dict(P2=-np.ones(8)), "1-D P2 must not have negative"),
    (dict(P2=np.ones(9)), "P2 .*must have length"),
    (dict(P2=np.ones((8, 7))), "P2 must be 1-D of length"),
    (dict(P2=-np.eye(8)), "P2 must be positive semi-definite"),
    (dict(P2=np.diag(np.r_[1.0, -1.0, np.ones(6)])), "P2 must be positive semi-definite"),
    (dict(P2=np.full((8, 8), np.inf)), "P2 contains NaN"),
    (dict(P2="diag"), "'P2' parameter"),
]


@pytest.mark.parametrize("kw,msg", BAD)
def test_invalid_P1_P2_raise_naming_them(kw, msg):
    X, y, _, _ = _data("poisson", n=50)
    est = GeneralizedLinearRegressor(family="poisson", alpha=0.1, l1_ratio=0.5, **kw)
    with pytest.raises(ValueError, match=msg):
        est.fit(X, y)


def test_invalid_l1_ratio():
    X, y, _, _ = _data("poisson", n=50)
    with pytest.raises(ValueError, match="l1_ratio"):
        PoissonRegressor(l1_ratio=1.5).fit(X, y)


@pytest.mark.parametrize("family", ["poisson", "gamma"])
def test_large_n_fused_path_matches_glum(family):
    # NUMBA_MIN_SIZE rows and more: the loss runs on the fused IRLS kernels
    from skngd._loss.family import NUMBA_MIN_SIZE

    X, y, sw, off = _data(family, n=NUMBA_MIN_SIZE + 11, weights=True, offset=True, seed=7)
    _check_against_glum(family, X, y, sw, off, 0.02, 0.5)


def test_elastic_net_with_the_inverse_link_starts_from_a_valid_mean():
    """Gamma's default (canonical, inverse) link has no valid mean at zero
    coefficients; the elastic-net fit starts at the intercept-only mean and
    reaches the optimum (first-order conditions of the objective checked by
    finite differences; glum has no inverse link to compare with)."""
    import warnings

    from skngd import GeneralizedLinearRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = rng.gamma(2.0, 1.0 / np.exp(0.2 * X[:, 0]))
    alpha, rho = 0.01, 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = GeneralizedLinearRegressor(family="gamma", alpha=alpha, l1_ratio=rho,
                                       tol=1e-12).fit(X, y)
    assert m.link == "auto" and np.all(np.isfinite(m.coef_))

    def objective(beta, b0):
        mu = 1.0 / (X @ beta + b0)
        dev = np.mean(y / mu - np.log(y / mu) - 1.0)
        return dev + alpha * (rho * np.abs(beta).sum() + 0.5 * (1 - rho) * beta @ beta)

    f0, h = objective(m.coef_, m.intercept_), 1e-6
    assert objective(m.coef_, m.intercept_ + h) >= f0 - 1e-13
    assert objective(m.coef_, m.intercept_ - h) >= f0 - 1e-13
    for j in range(X.shape[1]):
        e = np.zeros(X.shape[1])
        e[j] = h
        assert objective(m.coef_ + e, m.intercept_) >= f0 - 1e-13
        assert objective(m.coef_ - e, m.intercept_) >= f0 - 1e-13
