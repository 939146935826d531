"""Property tests: any shape, scale and weighting gives finite coefficients at a
stationary point of the documented objective."""

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skngd._loss import Binomial, Multinomial
from skngd._loss.linear_loss import LinearModelLoss
from skngd.linear_model import LogisticRegression


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(5, 80),
    d=st.integers(1, 6),
    k=st.integers(2, 4),
    log_scale=st.floats(-3, 3),
    solver=st.sampled_from(["ngd", "mm", "newton"]),
    weighted=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_fit_is_finite_and_stationary(n, d, k, log_scale, solver, weighted, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * 10.0**log_scale
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)  # every class present
    sw = rng.uniform(0.1, 3.0, n) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = LogisticRegression(solver=solver, tol=1e-8, max_iter=5000).fit(X, y, sample_weight=sw)
    assert np.all(np.isfinite(m.coef_)) and np.all(np.isfinite(m.intercept_))
    P = m.predict_proba(X)
    assert np.all(np.isfinite(P)) and np.allclose(P.sum(1), 1)
    # gradient of the objective at the returned coefficients is small
    fam = Binomial() if k == 2 else Multinomial(k)
    loss = LinearModelLoss(fam, X, y if k > 2 else y.astype(float), sw, l2_reg_strength=1.0)
    W = np.vstack([m.coef_.T, m.intercept_[None, :]])
    _, g = loss.loss_gradient(W)
    scale = np.abs(X).max() * (n if sw is None else sw.sum()) + 1.0
    assert np.abs(g).max() <= 1e-3 * scale
