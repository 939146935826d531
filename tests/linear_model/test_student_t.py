"""StudentTRegressor: agreement with a direct maximiser of the t likelihood,
monotone EM, limits, invariances, degenerate and bad input."""

import warnings

import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge

from skngd.linear_model import StudentTRegressor
from skngd._solvers.em_t import t_log_const


def _direct_fit(X, y, nu, alpha=0.0, sw=None):
    """Maximise the exact penalised t log-likelihood over (beta, b, log sigma)
    with BFGS, in standardised coordinates, from a statsmodels Huber start."""
    import statsmodels.api as sm

    n, p = X.shape
    sw = np.ones(n) if sw is None else sw
    mx, sx = X.mean(0), X.std(0)
    my, sy = np.median(y), np.std(y)
    Xt, yt = (X - mx) / sx, (y - my) / sy
    # penalty alpha * ||beta||^2 / sigma^2 in original units
    pen = alpha / sx**2

    def negll(theta):
        beta, b, s = theta[:p], theta[p], theta[p + 1]
        sig2 = np.exp(2 * s)
        r = yt - Xt @ beta - b
        q = nu * sig2 + r**2
        ll = sw @ (t_log_const(nu) - s - 0.5 * (nu + 1) * np.log1p(r**2 / (nu * sig2)))
        ll -= 0.5 * (pen * beta**2).sum() / sig2
        u = sw * (nu + 1) * r / q
        g_beta = Xt.T @ u - pen * beta / sig2
        g_b = u.sum()
        g_s = sw @ (-1 + (nu + 1) * r**2 / q) + (pen * beta**2).sum() / sig2
        return -ll, -np.concatenate([g_beta, [g_b, g_s]])

    rlm = sm.RLM(yt, sm.add_constant(Xt, has_constant="add"), M=sm.robust.norms.HuberT())
    fit = rlm.fit()
    theta0 = np.concatenate([fit.params[1:], [fit.params[0], np.log(fit.scale)]])
    res = optimize.minimize(negll, theta0, jac=True, method="BFGS",
                            options={"gtol": 1e-10, "maxiter": 10_000})
    beta_t, b_t, s_t = res.x[:p], res.x[p], res.x[p + 1]
    coef = beta_t * sy / sx
    intercept = my + sy * b_t - coef @ mx
    return coef, intercept, sy * np.exp(s_t)


def _assert_monotone(est):
    h = est.loglik_history_
    assert np.all(np.isfinite(h))
    assert np.all(np.diff(h) >= -1e-10 * np.abs(h[1:])), np.diff(h).min()


def _contaminated(n=300, p=3, frac=0.1, seed=0, noise="normal"):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    coef = np.arange(1, p + 1, dtype=float)
    e = rng.normal(size=n) if noise == "normal" else rng.standard_t(3, size=n)
    y = X @ coef + 2.0 + e
    out = rng.random(n) < frac
    y[out] += rng.uniform(15, 40, size=out.sum())
    return X, y, coef, out


def _diabetes_outliers():
    X, y = load_diabetes(return_X_y=True)
    rng = np.random.default_rng(1)
    idx = rng.choice(len(y), 45, replace=False)
    y = y.copy()
    y[idx] += rng.uniform(300, 600, size=idx.size)
    return X, y


@pytest.mark.parametrize("nu", [1.5, 4.0])
def test_matches_direct_maximiser_synthetic(nu):
    X, y, _, _ = _contaminated()
    est = StudentTRegressor(nu=nu).fit(X, y)
    coef, intercept, scale = _direct_fit(X, y, nu)
    np.testing.assert_allclose(est.coef_, coef, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(est.intercept_, intercept, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(est.scale_, scale, rtol=1e-6)
    assert est.converged_
    _assert_monotone(est)


def test_matches_direct_maximiser_with_ridge_and_weights():
    X, y, _, _ = _contaminated(n=150, p=4, seed=3)
    sw = np.random.default_rng(3).uniform(0.5, 2.0, size=len(y))
    est = StudentTRegressor(nu=3.0, alpha=5.0).fit(X, y, sample_weight=sw)
    coef, intercept, scale = _direct_fit(X, y, 3.0, alpha=5.0, sw=sw)
    np.testing.assert_allclose(est.coef_, coef, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(est.intercept_, intercept, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(est.scale_, scale, rtol=1e-6)
    _assert_monotone(est)


def test_matches_direct_maximiser_diabetes():
    X, y = _diabetes_outliers()
    est = StudentTRegressor(nu=4.0).fit(X, y)
    coef, intercept, scale = _direct_fit(X, y, 4.0)
    size = np.abs(coef).max()
    np.testing.assert_allclose(est.coef_, coef, rtol=1e-6, atol=1e-6 * size)
    np.testing.assert_allclose(est.intercept_, intercept, rtol=1e-6)
    np.testing.assert_allclose(est.scale_, scale, rtol=1e-6)
    _assert_monotone(est)
    # the injected outliers get the smallest weights
    clean = LinearRegression().fit(*load_diabetes(return_X_y=True))
    assert np.corrcoef(est.coef_, clean.coef_)[0, 1] > 0.95


def test_objective_in_history_matches_loglik():
    X, y, _, _ = _contaminated(seed=5)
    est = StudentTRegressor(nu=2.5).fit(X, y)
    r = y - est.predict(X)
    ll = stats.t.logpdf(r / est.scale_, 2.5).sum() - len(y) * np.log(est.scale_)
    np.testing.assert_allclose(est.loglik_history_[-1], ll, rtol=1e-10)
    _assert_monotone(est)


@pytest.mark.parametrize("alpha", [0.0, 3.0])
def test_large_nu_gives_least_squares(alpha):
    X, y, _, _ = _contaminated(frac=0.0, seed=2)
    est = StudentTRegressor(nu=1e9, alpha=alpha, init="ols").fit(X, y)
    ref = Ridge(alpha=alpha).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6)
    np.testing.assert_allclose(est.weights_, 1.0, atol=1e-6)
    _assert_monotone(est)


def test_auto_nu_recovers_t3_noise():
    X, y, coef, _ = _contaminated(n=2000, frac=0.0, seed=11, noise="t3")
    est = StudentTRegressor(nu="auto").fit(X, y)
    assert 2.3 < est.nu_ < 3.9, est.nu_
    np.testing.assert_allclose(est.coef_, coef, atol=0.1)
    _assert_monotone(est)


def test_auto_nu_is_the_profile_maximum():
    X, y, _, _ = _contaminated(n=400, seed=4, noise="t3")
    auto = StudentTRegressor(nu="auto").fit(X, y)
    best = auto.loglik_history_[-1]
    for nu in (0.7 * auto.nu_, 1.4 * auto.nu_):
        assert StudentTRegressor(nu=nu).fit(X, y).loglik_history_[-1] < best
    fixed = StudentTRegressor(nu=auto.nu_).fit(X, y)
    np.testing.assert_allclose(fixed.coef_, auto.coef_, rtol=1e-5, atol=1e-6)
    _assert_monotone(auto)
    _assert_monotone(fixed)


@pytest.mark.parametrize("nu", [1.5, "auto"])
def test_heavy_contamination_lands_on_bulk(nu):
    # 30% one-sided gross outliers: below the 1/(nu+1) breakdown point for nu=1.5
    X, y, coef, out = _contaminated(n=1000, frac=0.3, seed=7)
    y[out] += 200.0
    est = StudentTRegressor(nu=nu).fit(X, y)
    np.testing.assert_allclose(est.coef_, coef, atol=0.15)
    assert est.weights_[out].max() < 0.01 < est.weights_[~out].min()
    _assert_monotone(est)


def test_sample_weight_ones_and_integer_duplicates():
    X, y, _, _ = _contaminated(n=80, seed=9)
    base = StudentTRegressor().fit(X, y)
    ones = StudentTRegressor().fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(base.coef_, ones.coef_)
    sw = np.random.default_rng(0).integers(0, 4, size=len(y))
    weighted = StudentTRegressor().fit(X, y, sample_weight=sw)
    dup = StudentTRegressor().fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.coef_, dup.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(weighted.intercept_, dup.intercept_, rtol=1e-6)
    np.testing.assert_allclose(weighted.scale_, dup.scale_, rtol=1e-6)
    for est in (base, weighted, dup):
        _assert_monotone(est)


def test_predict_interval_coverage():
    X, y, _, _ = _contaminated(n=3000, frac=0.0, seed=12, noise="t3")
    est = StudentTRegressor(nu="auto").fit(X[:2000], y[:2000])
    lo, hi = est.predict_interval(X[2000:], alpha=0.1).T
    cover = np.mean((y[2000:] >= lo) & (y[2000:] <= hi))
    assert 0.87 < cover < 0.93
    _assert_monotone(est)
    with pytest.raises(ValueError, match="alpha"):
        est.predict_interval(X, alpha=1.5)


def test_warm_start_and_verbose(capsys):
    X, y, _, _ = _contaminated(seed=13)
    est = StudentTRegressor(warm_start=True, verbose=1).fit(X, y)
    first = est.n_iter_
    est.fit(X, y)
    assert est.n_iter_ < first
    _assert_monotone(est)
    assert "loglik" in capsys.readouterr().out


def test_not_converged_warns_naming_max_iter():
    X, y, _, _ = _contaminated(seed=14)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        est = StudentTRegressor(max_iter=1).fit(X, y)
    assert not est.converged_ and est.n_iter_ == 1


def test_threads_do_not_change_the_result():
    X, y, _, _ = _contaminated(n=500, seed=15)
    a = StudentTRegressor(n_jobs=1).fit(X, y)
    b = StudentTRegressor(n_jobs=2).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10)
    np.testing.assert_allclose(a.loglik_history_, b.loglik_history_, rtol=1e-10)
    _assert_monotone(a)


def test_constant_y_is_an_exact_fit_without_warnings():
    X = np.random.default_rng(0).normal(size=(30, 3))
    for c in (0.0, 3.5):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            est = StudentTRegressor().fit(X, np.full(30, c))
        assert est.scale_ == 0.0
        np.testing.assert_allclose(est.coef_, 0.0, atol=1e-12)
        np.testing.assert_allclose(est.predict(X), c, atol=1e-12)
        assert np.all(np.isfinite(est.weights_)) and est.converged_


def test_exact_linear_y_with_an_outlier():
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = X @ [1.0, 2.0] - 1.0
    y[0] += 100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = StudentTRegressor().fit(X, y)
    np.testing.assert_allclose(est.coef_, [1.0, 2.0], atol=1e-6)
    assert est.scale_ < 1e-6


@pytest.mark.parametrize(
    "params, match",
    [({"nu": 0.0}, "nu"), ({"nu": -1.0}, "nu"), ({"nu": np.inf}, "nu"),
     ({"nu": "gauss"}, "nu"), ({"alpha": -1.0}, "alpha"), ({"init": "x"}, "init")],
)
def test_bad_params(params, match):
    X, y, _, _ = _contaminated(n=30)
    with pytest.raises(ValueError, match=match):
        StudentTRegressor(**params).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_input(bad):
    X, y, _, _ = _contaminated(n=30)
    Xb, yb = X.copy(), y.copy()
    Xb[3, 1] = bad
    yb[4] = bad
    with pytest.raises(ValueError):
        StudentTRegressor().fit(Xb, y)
    with pytest.raises(ValueError):
        StudentTRegressor().fit(X, yb)


def test_too_few_samples():
    X, y, _, _ = _contaminated(n=30, p=5)
    with pytest.raises(ValueError, match="n_samples=1"):
        StudentTRegressor().fit(X[:1], y[:1])
    # no more samples than parameters: documented minimum-norm interpolation
    wide = StudentTRegressor().fit(X[:4], y[:4])
    Xc = X[:4] - X[:4].mean(0)
    np.testing.assert_allclose(wide.coef_, np.linalg.pinv(Xc) @ (y[:4] - y[:4].mean()),
                               atol=1e-10)
    np.testing.assert_allclose(wide.predict(X[:4]), y[:4], atol=1e-10)
    assert wide.scale_ == 0.0
    est = StudentTRegressor(alpha=1.0).fit(X[:4], y[:4])  # wide data with a ridge
    assert np.all(np.isfinite(est.coef_))
    with pytest.raises(ValueError, match="sample_weight"):
        StudentTRegressor().fit(X, y, sample_weight=-np.ones(30))


@pytest.mark.parametrize("with_nu", [False, True])
def test_newton_step_matches_finite_differences(with_nu):
    from skngd._solvers.em_t import _newton_step, t_loglik

    rng = np.random.default_rng(0)
    n, p, alpha = 50, 3, 0.7
    X = rng.normal(size=(n, p))
    y = X @ [1.0, 2.0, 3.0] + 0.5 + rng.standard_t(3, size=n)
    sw = rng.uniform(0.5, 2, n)
    theta = np.array([0.9, 2.1, 2.8, 0.4, 0.1, np.log(3.0)])
    m = len(theta) if with_nu else len(theta) - 1

    def L(th):
        th = np.concatenate([th, theta[m:]])
        beta, b, s, t = th[:p], th[p], th[p + 1], th[p + 2]
        r = y - X @ beta - b
        return t_loglik(r, np.exp(s), np.exp(t), sw) - 0.5 * alpha * beta @ beta / np.exp(2 * s)

    eps, E, th = 1e-5, np.eye(m), theta[:m]
    g = np.array([(L(th + eps * e) - L(th - eps * e)) / (2 * eps) for e in E])
    H = np.array([[(L(th + eps * (a + c)) - L(th + eps * (a - c)) - L(th - eps * (a - c))
                    + L(th - eps * (a + c))) / (4 * eps**2) for c in E] for a in E])
    beta, b, s = theta[:p], theta[p], theta[p + 1]
    d = _newton_step(X, y - X @ beta - b, sw, beta, np.exp(s), 3.0, alpha, True,
                     with_nu=with_nu)
    got = np.concatenate([d[0], [d[1], d[2], d[3]]])[:m]
    np.testing.assert_allclose(got, np.linalg.solve(-H, g), rtol=1e-4, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("frac", [0.1, 0.3])
def test_benchmark_design_accuracy(frac):
    """The benchmark's data (gross, asymmetric outliers) at n=20,000, at the
    defaults: error within 10% of the oracle's at 10% contamination, no worse
    than Huber's."""
    from sklearn.linear_model import HuberRegressor

    rng = np.random.default_rng(0)
    n, p = 20_000, 20
    X = rng.normal(size=(n, p))
    beta = rng.normal(size=p)
    y = X @ beta + 1.0 + rng.normal(size=n)
    out = rng.random(n) < frac
    y[out] += np.where(rng.random(out.sum()) < 0.7, 1.0, -1.0) * rng.uniform(10, 50, out.sum())
    est = StudentTRegressor().fit(X, y)
    err = np.linalg.norm(est.coef_ - beta)
    oracle = np.linalg.norm(LinearRegression().fit(X[~out], y[~out]).coef_ - beta)
    huber = np.linalg.norm(HuberRegressor(max_iter=1000).fit(X, y).coef_ - beta)
    assert err <= huber
    if frac == 0.1:
        assert err <= 1.1 * oracle
    _assert_monotone(est)


def test_tour_section_runs():
    from skngd._tour import robust

    rows = robust.run()
    scores = {r.model: r.score for r in rows}
    assert all(np.isfinite(list(scores.values())))
    assert scores["skngd StudentTRegressor(nu='auto')"] > scores["sklearn LinearRegression"]
    # the tour runs the estimator at its defaults, and the default wins
    default = scores["skngd StudentTRegressor() [default]"]
    assert default > scores["sklearn HuberRegressor"]
    assert default > scores["skngd StudentTRegressor(nu=4)"]


@pytest.mark.parametrize("with_nu", [False, True])
def test_chord_step_with_the_same_hessian_is_the_newton_step(with_nu):
    from skngd._solvers.em_t import _newton_step

    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    r = rng.standard_t(3, size=80)
    beta, sw = np.array([0.5, -1.0, 2.0]), rng.uniform(0.5, 2.0, 80)
    full = _newton_step(X, r, sw, beta, 1.3, 3.0, 0.4, True, with_nu=with_nu)
    chord = _newton_step(X, r, sw, beta, 1.3, 3.0, 0.4, True, with_nu=with_nu, H=full[4])
    for a, b in zip(full[:4], chord[:4]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("nu", [2.0, "adaptive", "auto"])
def test_tiny_tol_reaches_rounding_accuracy(nu):
    """No floor in the stopping rule: at tol=1e-15 the Newton step left at the
    solution is at rounding level (chord steps converge to the exact root)."""
    from skngd._solvers.em_t import _newton_step

    X, y, _, _ = _contaminated(n=3000, p=5, frac=0.1, seed=21, noise="t3")
    est = StudentTRegressor(nu=nu, tol=1e-15, max_iter=2000).fit(X, y)
    assert est.converged_
    _assert_monotone(est)
    xm = X.mean(axis=0)
    r = y - (X - xm) @ est.coef_ - (est.intercept_ + xm @ est.coef_)
    d = _newton_step(X - xm, r, np.ones(len(y)), est.coef_, est.scale_, est.nu_, 0.0, True)
    assert np.abs(np.append(d[0], d[1])).max() <= 1e-12 * np.abs(est.coef_).max()
    assert abs(d[2]) <= 1e-12
