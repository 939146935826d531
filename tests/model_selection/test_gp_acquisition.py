"""GP surrogate and acquisition functions against direct computations."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.stats import norm

from skngd.model_selection._acquisition import (
    log_ei, log_h, log_pi, maximize_acquisition, ucb,
)
from skngd.model_selection._gp import GaussianProcess, matern52


def _dense_matern(X1, X2, ls, amp):
    out = np.empty((len(X1), len(X2)))
    for i, a in enumerate(X1):
        for j, b in enumerate(X2):
            r = np.sqrt((((a - b) / ls) ** 2).sum())
            out[i, j] = amp * (1 + np.sqrt(5) * r + 5 * r * r / 3) * np.exp(-np.sqrt(5) * r)
    return out


@pytest.fixture
def fitted():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(30, 3))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2 + 0.05 * rng.standard_normal(30)
    return X, y, GaussianProcess(random_state=0).fit(X, y)


def test_posterior_matches_dense_formula(fitted):
    X, y, gp = fitted
    Xs = np.random.default_rng(1).uniform(size=(7, 3))
    ls, amp, noise = gp.length_scale_, gp.amplitude_, gp.noise_
    K = _dense_matern(X, X, ls, amp) + (noise + 1e-10) * np.eye(len(X))
    Ks = _dense_matern(Xs, X, ls, amp)
    ys = (y - y.mean()) / y.std()
    mu = Ks @ np.linalg.solve(K, ys)
    var = amp - np.einsum("ij,ji->i", Ks, np.linalg.solve(K, Ks.T))
    m, s = gp.predict(Xs)
    np.testing.assert_allclose(m, mu, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(s**2, var, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(matern52(Xs, X, ls, amp), Ks, rtol=1e-10)


def test_marginal_likelihood_gradient_and_optimum(fitted):
    X, y, gp = fitted
    ys = (y - y.mean()) / y.std()
    theta = np.r_[0.2, np.log([0.3, 0.5, 0.9]), np.log(0.01)]
    f = lambda t: gp.neg_log_marginal_likelihood(t, X, ys)[0]  # noqa: E731
    g = gp.neg_log_marginal_likelihood(theta, X, ys)[1]
    np.testing.assert_allclose(g, approx_fprime(theta, f, 1e-7), rtol=1e-4, atol=1e-4)
    # the fitted theta is a (box-constrained) local optimum: no random perturbation
    # improves the objective
    rng = np.random.default_rng(2)
    best = f(gp.theta_)
    for _ in range(20):
        assert f(gp.theta_ + 0.05 * rng.standard_normal(theta.size)) >= best - 1e-6


def test_prediction_gradients(fitted):
    _, _, gp = fitted
    Xs = np.random.default_rng(3).uniform(0.1, 0.9, size=(4, 3))
    mu, sd, dmu, dsd = gp.predict(Xs, return_grad=True)
    for j in range(3):
        e = np.zeros(3)
        e[j] = 1e-6
        np.testing.assert_allclose((gp.predict(Xs + e)[0] - gp.predict(Xs - e)[0]) / 2e-6,
                                   dmu[:, j], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose((gp.predict(Xs + e)[1] - gp.predict(Xs - e)[1]) / 2e-6,
                                   dsd[:, j], rtol=1e-3, atol=1e-5)


def test_fantasize_is_exact_conditioning(fitted):
    X, y, gp = fitted
    x_new = np.array([0.5, 0.5, 0.5])
    g2 = gp.fantasize(x_new, 1.3)
    Xa = np.vstack([X, x_new])
    ls, amp, noise = gp.length_scale_, gp.amplitude_, gp.noise_
    K = _dense_matern(Xa, Xa, ls, amp) + (noise + 1e-10) * np.eye(len(Xa))
    Xs = np.array([[0.2, 0.4, 0.6]])
    mu = _dense_matern(Xs, Xa, ls, amp) @ np.linalg.solve(K, np.r_[gp.y_, 1.3])
    np.testing.assert_allclose(g2.predict(Xs)[0], mu, rtol=1e-8)


MU = np.array([-3.0, -0.5, 0.0, 0.2, 1.0, 2.5])
SD = np.array([0.1, 0.5, 1.0, 0.3, 2.0, 0.05])


def test_ei_pi_ucb_closed_forms():
    best, xi = 0.4, 0.01
    z = (MU - best - xi) / SD
    ei = (MU - best - xi) * norm.cdf(z) + SD * norm.pdf(z)
    v, dmu, dsd = log_ei(MU, SD, best, xi)
    np.testing.assert_allclose(np.exp(v), ei, rtol=1e-8)  # direct form cancels at z=-34
    np.testing.assert_allclose(dmu * ei, norm.cdf(z), rtol=1e-8)
    np.testing.assert_allclose(dsd * ei, norm.pdf(z), rtol=1e-8)
    v, dmu, dsd = log_pi(MU, SD, best, xi)
    np.testing.assert_allclose(np.exp(v), norm.cdf(z), rtol=1e-10)
    np.testing.assert_allclose(dmu, norm.pdf(z) / norm.cdf(z) / SD, rtol=1e-8)
    v, dmu, dsd = ucb(MU, SD, kappa=1.5)
    np.testing.assert_allclose(v, MU + 1.5 * SD)
    np.testing.assert_allclose(dsd, 1.5)


def test_log_ei_is_finite_and_accurate_far_in_the_tail():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    for z in [-1.0, -5.0, -20.0, -39.9, -40.1, -100.0, -1e3, -1e5]:
        zz = mpmath.mpf(z)
        ref = mpmath.log(mpmath.npdf(zz) + zz * mpmath.ncdf(zz))
        assert log_h(np.array([z]))[0] == pytest.approx(float(ref), rel=1e-9)
    assert np.all(np.diff(log_h(np.linspace(-300, 5, 2000))) > 0)


def test_surrogate_finds_the_maximum_of_a_1d_function():
    f = lambda x: np.exp(-((x - 0.37) ** 2) / 0.01) + 0.3 * np.sin(9 * x)  # noqa: E731
    grid = np.linspace(0, 1, 2001)
    x_star = grid[np.argmax(f(grid))]
    X = np.linspace(0, 1, 15)[:, None]
    gp = GaussianProcess(random_state=0).fit(X, f(X[:, 0]))
    mu, _ = gp.predict(grid[:, None])
    assert abs(grid[np.argmax(mu)] - x_star) < 0.02
    # a few rounds of EI then find it to within 1e-3
    rng = np.random.default_rng(0)
    X = np.array([[0.05], [0.5], [0.95]])
    for _ in range(12):
        gp = GaussianProcess(random_state=rng).fit(X, f(X[:, 0]))
        pts, _ = maximize_acquisition(gp, "ei", gp.y_.max(), rng, anchors=X)
        X = np.vstack([X, pts[:1]])
    assert abs(X[np.argmax(f(X[:, 0])), 0] - x_star) < 1e-2


@pytest.mark.parametrize("name", ["ei", "pi", "ucb", "ts"])
def test_acquisition_proposals_lie_in_the_cube(name, fitted):
    _, _, gp = fitted
    rng = np.random.default_rng(0)
    pts, vals = maximize_acquisition(gp, name, gp.y_.max(), rng)
    assert np.all((pts >= 0) & (pts <= 1))
    assert np.all(np.diff(vals) <= 1e-12)
