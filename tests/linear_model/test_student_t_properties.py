"""Hypothesis property tests for StudentTRegressor: equivariance in y over
random shapes, scales and shifts."""

import numpy as np
from hypothesis import given, settings, strategies as st

from skngd.linear_model import StudentTRegressor


@st.composite
def problems(draw):
    n = draw(st.integers(12, 60))
    p = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * draw(st.sampled_from([1e-2, 1.0, 1e2]))
    y = X @ rng.normal(size=p) + rng.standard_t(3, size=n)
    return X, y


def _fit(X, y, **kw):
    return StudentTRegressor(tol=1e-10, max_iter=1000, **kw).fit(X, y)


@settings(max_examples=20)
@given(problems(), st.floats(1e-3, 1e3), st.floats(-1e3, 1e3),
       st.sampled_from([0.0, 1.0]), st.sampled_from([2.0, 4.0]))
def test_affine_equivariance_in_y(problem, c, shift, alpha, nu):
    X, y = problem
    base = _fit(X, y, nu=nu, alpha=alpha)
    scaled = _fit(X, c * y + shift, nu=nu, alpha=alpha)
    tol = dict(rtol=1e-5, atol=1e-6 * base.scale_ * (1 + np.abs(base.coef_).max()))
    np.testing.assert_allclose(scaled.coef_ / c, base.coef_, **tol)
    np.testing.assert_allclose((scaled.intercept_ - shift) / c, base.intercept_,
                               rtol=1e-5, atol=1e-5 * base.scale_)
    np.testing.assert_allclose(scaled.scale_ / c, base.scale_, rtol=1e-5)
    np.testing.assert_allclose(scaled.weights_, base.weights_, rtol=1e-4, atol=1e-6)
    assert np.all(np.diff(scaled.loglik_history_) >= -1e-9 * np.abs(scaled.loglik_history_[1:]))


@settings(max_examples=15)
@given(problems(), st.floats(1e-2, 1e2))
def test_scaling_a_column_rescales_its_coefficient(problem, c):
    X, y = problem
    base = _fit(X, y)
    X2 = X.copy()
    X2[:, 0] *= c
    other = _fit(X2, y)
    np.testing.assert_allclose(other.coef_[0] * c, base.coef_[0], rtol=1e-5,
                               atol=1e-6 * base.scale_ / np.std(X[:, 0]))
    np.testing.assert_allclose(other.scale_, base.scale_, rtol=1e-5)
