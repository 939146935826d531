"""Hypothesis property tests: shapes, scales and missingness patterns."""

import warnings

import numpy as np
from hypothesis import given, strategies as st

from skngd.impute import GaussianEMImputer


@st.composite
def incomplete_data(draw):
    n = draw(st.integers(2, 60))
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rate = draw(st.floats(0.0, 0.8))
    log_scale = draw(st.floats(-3, 3))
    structure = draw(st.sampled_from(["mcar", "blocks", "monotone"]))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)
    X *= 10.0 ** log_scale
    if structure == "mcar":
        mask = rng.random((n, d)) < rate
    elif structure == "blocks":  # few distinct patterns shared by many rows
        patterns = rng.random((3, d)) < rate
        mask = patterns[rng.integers(0, 3, size=n)]
    else:  # monotone dropout
        start = rng.integers(1, d + 1, size=n)
        mask = np.arange(d) >= start[:, None]
        mask &= (rng.random(n) < rate)[:, None]
    # every column keeps at least one observed value
    for j in range(d):
        if mask[:, j].all():
            mask[rng.integers(n), j] = False
    X[mask] = np.nan
    return X


@given(X=incomplete_data(), init=st.sampled_from(["complete_rows", "mean", "pairwise"]))
def test_properties(X, init):
    imp = GaussianEMImputer(init=init, max_iter=50, reg_covar=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, n_samples < n_features
        Xt = imp.fit_transform(X)
    assert Xt.shape == X.shape
    assert np.all(np.isfinite(Xt))
    observed = ~np.isnan(X)
    np.testing.assert_array_equal(Xt[observed], X[observed])
    h = imp.loglik_history_
    assert np.all(np.isfinite(h))
    # the objective is evaluated to about eps * cond(Sigma) relative: with
    # n <= d the covariance is singular but for reg_covar, cond ~ 1e10, and
    # an EM step at the fixed point can "lower" it by that rounding noise
    m = imp._modelled
    cond = np.linalg.cond(imp.covariance_[np.ix_(m, m)])
    rel = max(1e-9, 100 * np.finfo(float).eps * cond)
    assert np.all(np.diff(h) >= -rel * np.maximum(1.0, np.abs(h[1:])))
    scores = imp.score_samples(X)
    assert scores.shape == (X.shape[0],) and np.all(np.isfinite(scores))
    assert np.all(np.linalg.eigvalsh(imp.covariance_) > 0)
