"""GaussianEMImputer on ill-conditioned fits: score_samples, score and
loglik_history_ agree with each other and with a Cholesky factor of every
row's observed block (issue 12, item 16)."""

import warnings

import numpy as np
import pytest
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning

from skngd._kernels.em_gaussian import estep_ref, observed_block_loglik, observed_block_work
from skngd._solvers.em_gaussian import (STABLE_COND, PatternData, needs_stable_loglik,
                                        observed_loglik)
from skngd.impute import GaussianEMImputer


def _reference(mean, cov, X):
    """log N(x_o; mu_o, Sigma_oo) row by row, by scipy's Cholesky."""
    out = np.zeros(len(X))
    for i, x in enumerate(X):
        o = ~np.isnan(x)
        if o.any():
            c = linalg.cholesky(cov[np.ix_(o, o)], lower=True)
            z = linalg.solve_triangular(c, x[o] - mean[o], lower=True)
            out[i] = -0.5 * (o.sum() * np.log(2 * np.pi) + z @ z) - np.log(np.diag(c)).sum()
    return out


def _collinear(eps, n=300, d=5, rate=0.2, seed=0):
    """x1 = x0 + eps * noise, x3 = x2 - x0 + eps * noise: cond(Sigma) ~ 1/eps^2."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    Z[:, 1] = Z[:, 0] + eps * rng.normal(size=n)
    Z[:, 3] = Z[:, 2] - Z[:, 0] + eps * rng.normal(size=n)
    Z[:, 4] *= 1e3  # badly scaled too (scaling alone must not matter)
    Z[rng.random(Z.shape) < rate] = np.nan
    return Z


def _fit(X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianEMImputer(reg_covar=0.0, max_iter=500, **kw).fit(X)


@pytest.mark.parametrize("eps", [1e-4, 1e-5])
def test_score_samples_matches_observed_block_cholesky(eps):
    X = _collinear(eps)
    imp = _fit(X)
    assert np.linalg.cond(imp.covariance_) > 1e9
    ref = _reference(imp.mean_, imp.covariance_, X)
    ss = imp.score_samples(X)
    # before: the precision route was off by up to 4.6 (eps=1e-4) and 4.8e4
    # (eps=1e-5) per row, summing to 46767 instead of 2785
    np.testing.assert_allclose(ss, ref, rtol=1e-6, atol=1e-4)  # conditioning-limited
    assert imp.score(X) == pytest.approx(ss.mean(), rel=1e-12)


@pytest.mark.parametrize("eps", [1e-4, 1e-5, 1e-6])
def test_history_score_and_score_samples_agree(eps):
    X = _collinear(eps)
    imp = _fit(X)
    h = imp.loglik_history_
    assert np.all(np.diff(h) >= -1e-10 * np.maximum(1.0, np.abs(h[1:])))
    total = imp.score_samples(X).sum()
    assert h[-1] == pytest.approx(total, rel=1e-10)
    assert imp.score(X) * len(X) == pytest.approx(total, rel=1e-10)
    # and all three are the density a Cholesky per observed block gives, up to
    # the conditioning of the fitted covariance (cond ~1e13 for eps=1e-6)
    ref = _reference(imp.mean_, imp.covariance_, X).sum()
    assert total == pytest.approx(ref, rel=1e-6)


def test_an_em_step_that_really_lowers_the_objective_is_caught():
    """At cond ~1e13 the E-step's conditional means are inexact and the first
    EM step lowers the (now exactly computed) likelihood: the fit keeps the
    start and says why, instead of iterating on noise."""
    X = _collinear(1e-6)
    with pytest.warns(ConvergenceWarning, match="nearly singular"):
        imp = GaussianEMImputer(reg_covar=0.0, max_iter=500).fit(X)
    assert imp.loglik_history_[-1] == pytest.approx(imp.score_samples(X).sum(), rel=1e-10)


def test_well_conditioned_fits_keep_the_fast_route():
    rng = np.random.default_rng(1)
    X = rng.multivariate_normal(np.zeros(4), np.eye(4) + 0.5, size=200)
    X[rng.random(X.shape) < 0.3] = np.nan
    imp = GaussianEMImputer().fit(X)
    assert not needs_stable_loglik(imp.covariance_)
    data = PatternData(X)
    stable = data.unsort(observed_loglik(data, imp.mean_, imp.covariance_))
    np.testing.assert_allclose(imp.score_samples(X), stable, rtol=1e-10, atol=1e-12)


def test_needs_stable_is_about_correlation_not_scale():
    C = np.array([[1.0, 0.5], [0.5, 1.0]])
    D = np.diag([1e-6, 1e6])
    assert not needs_stable_loglik(C) and not needs_stable_loglik(D @ C @ D)
    r = 1 - 1 / STABLE_COND  # correlation whose matrix has cond ~ 2 * STABLE_COND
    assert needs_stable_loglik(D @ np.array([[1.0, r], [r, 1.0]]) @ D)
    assert needs_stable_loglik(np.ones((2, 2)))  # singular


@pytest.mark.parametrize("readonly", [False, True])
def test_observed_block_kernel_matches_reference(readonly):
    rng = np.random.default_rng(2)
    d = 6
    A = rng.normal(size=(d, d))
    S = A @ A.T / d + 0.3 * np.eye(d)
    mu = rng.normal(size=d)
    X = rng.multivariate_normal(mu, S, size=300)
    X[rng.random(X.shape) < 0.35] = np.nan
    X[:3] = np.nan  # nothing observed
    X[3:30] = np.where(np.isnan(X[3:30]), 1.0, X[3:30])  # complete rows
    data = PatternData(X)
    Xs = data.X
    if readonly:
        for a in (Xs, mu, S):
            a.setflags(write=False)
    out = np.full(len(X), 7.0)
    assert observed_block_loglik(Xs, mu, S, data.miss_idx, data.pat_off,
                                 data.pat_rows, out, *observed_block_work(d)) == -1
    _, logdet, quad, _ = estep_ref(Xs, mu, S)
    k = (~np.isnan(Xs)).sum(axis=1)
    ref = np.where(k > 0, -0.5 * (k * np.log(2 * np.pi) + logdet + quad), 0.0)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


def test_numerically_singular_block_is_a_clear_error():
    X = np.array([[1.0, 2.0, np.nan], [2.0, np.nan, 1.0], [np.nan, 1.0, 3.0]])
    S = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # x0 == x1
    data = PatternData(X)
    with pytest.raises(ValueError, match="numerically singular.*reg_covar"):
        observed_loglik(data, np.zeros(3), S)
