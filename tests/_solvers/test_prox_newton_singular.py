"""Proximal Newton on singular quadratic models: a weakly penalised lasso with
p >= n (the model's Hessian has a null space in the active set) and a weakly
penalised multinomial fit (the intercepts' common shift is a null direction
with no penalty). Before the polish followed the null space (a ray to the
next zero) and the inner solve stopped at its rounding level, the 30 x 30
lasso ran its 100 outer steps (~40 s) and stopped short of the optimum."""

import warnings

import numpy as np
import pytest
from scipy.optimize import linprog
from sklearn.exceptions import ConvergenceWarning

from skngd import GeneralizedLinearRegressor, LogisticRegression


def _basis_pursuit(X, y):
    """min ||c||_1 subject to X c + b = y (b free), by linear programming."""
    n, p = X.shape
    res = linprog(np.r_[np.ones(2 * p), 0.0], A_eq=np.c_[X, -X, np.ones(n)], b_eq=y,
                  bounds=[(0, None)] * (2 * p) + [(None, None)], method="highs")
    return res.fun


@pytest.mark.parametrize("n, p", [(30, 30), (20, 40)])
def test_weak_lasso_with_p_ge_n_reaches_basis_pursuit(n, p):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p))
    y = X @ rng.normal(size=p) + rng.normal(size=n)
    alpha = 1e-7
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        m = GeneralizedLinearRegressor(alpha=alpha, l1_ratio=1.0, tol=1e-10).fit(X, y)
    assert m.n_iter_ < 30
    r = y - X @ m.coef_ - m.intercept_
    obj = 0.5 * np.mean(r ** 2) + alpha * np.abs(m.coef_).sum()
    bp = _basis_pursuit(X, y)
    # the lasso optimum lies just below alpha * (basis pursuit's minimum)
    assert obj <= alpha * bp * (1 + 1e-9)
    assert obj >= alpha * bp * (1 - 1e-4)
    assert np.count_nonzero(m.coef_) <= n  # a vertex: at most n non-zeros with the intercept


def test_weak_multinomial_l1_with_p_near_n_converges():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 30))
    y = rng.integers(0, 3, size=30)
    warm = LogisticRegression(C=1.0, l1_ratio=0.5, warm_start=True).fit(X, y)
    warm.set_params(C=1e4).fit(X, y)
    cold = LogisticRegression(C=1e4, l1_ratio=0.5, tol=1e-10).fit(X, y)
    assert warm.n_iter_[0] < 30 and cold.n_iter_[0] < 40

    def F(m):
        P = m.predict_proba(X)
        return (-np.log(P[np.arange(30), y]).sum()
                + (0.5 * np.abs(m.coef_).sum() + 0.25 * (m.coef_ ** 2).sum()) / 1e4)

    assert abs(F(warm) - F(cold)) <= 1e-7 * F(cold)
