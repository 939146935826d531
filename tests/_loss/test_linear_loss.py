"""The linear-model loss: gradient and Fisher products against finite differences."""

import numpy as np
import pytest
from scipy import sparse

from skngd._loss import Binomial, Multinomial
from skngd._loss.linear_loss import LinearModelLoss


def _problem(kind, sparse_x, fit_intercept, seed=0, n=60, d=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if sparse_x:
        X[rng.random((n, d)) < 0.5] = 0.0
        X = sparse.csr_matrix(X)
    sw = rng.uniform(0.2, 2.0, n)
    if kind == "binary":
        fam, y = Binomial(), rng.integers(0, 2, n).astype(float)
    else:
        fam, y = Multinomial(3), rng.integers(0, 3, n)
    loss = LinearModelLoss(fam, X, y, sw, fit_intercept=fit_intercept, l2_reg_strength=0.7)
    coef = rng.standard_normal(loss.shape) * 0.5
    return loss, coef, rng


CASES = [(k, s, i) for k in ("binary", "multinomial") for s in (False, True)
         for i in (False, True)]


@pytest.mark.parametrize("kind,sparse_x,fit_intercept", CASES)
def test_gradient_matches_finite_differences(kind, sparse_x, fit_intercept):
    loss, coef, rng = _problem(kind, sparse_x, fit_intercept)
    f, g = loss.loss_gradient(coef)
    h = 1e-6
    fd = np.zeros(coef.size)
    for j in range(coef.size):
        e = np.zeros(coef.size)
        e[j] = h
        fd[j] = (loss.value(coef.ravel() + e) - loss.value(coef.ravel() - e)) / (2 * h)
    np.testing.assert_allclose(g.ravel(), fd, rtol=1e-6, atol=1e-6)
    assert np.isclose(f, loss.value(coef))


@pytest.mark.parametrize("kind,sparse_x,fit_intercept", CASES)
def test_fisher_products_match_finite_differences_and_matrix(kind, sparse_x, fit_intercept):
    # canonical links: the Fisher information equals the Hessian of f
    loss, coef, rng = _problem(kind, sparse_x, fit_intercept)
    st = loss.state(coef)
    v = rng.standard_normal(loss.shape)
    Fv = loss.fisher_matvec(st, v)
    h = 1e-6
    _, gp = loss.loss_gradient(coef + h * v)
    _, gm = loss.loss_gradient(coef - h * v)
    np.testing.assert_allclose(Fv, (gp - gm) / (2 * h), rtol=1e-5, atol=1e-6)
    F = loss.fisher_matrix(st)
    np.testing.assert_allclose(F @ v.ravel(), Fv.ravel(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(F, F.T, atol=1e-10)


@pytest.mark.parametrize("kind", ["binary", "multinomial"])
def test_empirical_fisher_is_sum_of_gradient_outer_products(kind):
    loss, coef, rng = _problem(kind, False, True, n=20, d=3)
    st = loss.state(coef)
    X1 = np.hstack([loss.X, np.ones((20, 1))])
    ref = np.diag(np.repeat(loss.l2 * loss.penalty_mask, loss.n_out))
    for i in range(20):
        gi = np.outer(X1[i], st.grad_raw[i] / loss.sw[i]).ravel()
        ref += loss.sw[i] * np.outer(gi, gi)
    np.testing.assert_allclose(loss.fisher_matrix(st, "empirical"), ref, rtol=1e-10)
    v = rng.standard_normal(loss.shape)
    np.testing.assert_allclose(loss.fisher_matvec(st, v, "empirical").ravel(),
                               ref @ v.ravel(), rtol=1e-10, atol=1e-12)


def test_subsampled_gram_and_pass_counting():
    loss, coef, rng = _problem("binary", False, True, n=50)
    rows = np.arange(0, 50, 2)
    st = loss.state(coef)
    assert loss.n_passes == 2  # coef is non-zero: X coef and X^T r
    F_sub = loss.fisher_matrix(st, rows=rows, scale=2.0)
    X1 = np.hstack([loss.X, np.ones((50, 1))])[rows]
    ref = 2.0 * X1.T @ (st.curv[rows, 0][:, None] * X1) + np.diag(loss.l2 * loss.penalty_mask)
    np.testing.assert_allclose(F_sub, ref, rtol=1e-12)
    assert loss.gram_rows == 25


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_family_fast_path_matches_generic_numpy(dtype):
    from skngd._loss.link import LogitLink
    from skngd._loss.family import Family

    fam = Binomial()
    rng = np.random.default_rng(3)
    raw = rng.standard_normal(40).astype(dtype)
    y = rng.random(40)  # proportions are allowed
    sw = rng.uniform(0, 2, 40)
    fast = fam.loss_gradient_fisher(y, raw, sw, LogitLink())
    slow = Family.loss_gradient_fisher(fam, y, raw.astype(float), sw, LogitLink())
    # half deviance differs from the log-loss by a y-only constant; gradient and Fisher agree
    const = fast[0] - slow[0]
    np.testing.assert_allclose(const, sw * (-(y * np.log(y) + (1 - y) * np.log1p(-y))),
                               rtol=1e-4, atol=1e-5)
    for a, b in zip(fast[1:], slow[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-6)


def _objective_mp(loss, coef, D=None, t=0.0):
    """The penalised objective at ``coef + t D`` in 50-digit arithmetic (mpmath;
    the step is not rounded to float64)."""
    import mpmath

    mpmath.mp.dps = 50
    X = np.asarray(loss.X.toarray() if sparse.issparse(loss.X) else loss.X)
    C0 = np.asarray(coef).reshape(loss.shape)
    D = np.zeros(loss.shape) if D is None else np.asarray(D).reshape(loss.shape)
    W = [[mpmath.mpf(float(C0[j, k])) + mpmath.mpf(t) * mpmath.mpf(float(D[j, k]))
          for k in range(loss.n_out)] for j in range(loss.n_dof)]
    total = mpmath.mpf(0)
    for i in range(X.shape[0]):
        eta = [sum(mpmath.mpf(float(X[i, j])) * W[j][k] for j in range(loss.n_features))
               + (W[-1][k] if loss.fit_intercept else 0) for k in range(loss.n_out)]
        if loss.multinomial:
            li = mpmath.log(sum(mpmath.exp(e) for e in eta)) - eta[int(loss.y[i])]
        else:
            li = mpmath.log(1 + mpmath.exp(eta[0])) - mpmath.mpf(float(loss.y[i])) * eta[0]
        total += mpmath.mpf(float(loss.sw[i])) * li
    pen = sum(mpmath.mpf(float(m)) * w ** 2 for m, row in zip(loss.penalty_mask, W) for w in row)
    return total + mpmath.mpf(loss.l2) / 2 * pen


@pytest.mark.parametrize("kind", ["binary", "multinomial"])
@pytest.mark.parametrize("t", [1.0, 1e-6, 1e-10])
def test_value_change_is_accurate_where_the_objective_difference_is_noise(kind, t):
    # the line searches and MM's monotonicity check use this change: it must
    # stay accurate for steps whose effect is far below the rounding of f
    loss, coef, rng = _problem(kind, False, True, n=40, d=3)
    D = rng.standard_normal(loss.shape)
    st = loss.state(coef)
    U = loss.matmul(D)
    change, noise = loss.value_change(st, D, U, t)
    exact = float(_objective_mp(loss, coef, D, t) - _objective_mp(loss, coef))
    assert abs(change - exact) <= max(noise, 1e-300) * 10
    assert abs(change - exact) <= 1e-12 * abs(exact)
    if t <= 1e-10:  # the difference of the two rounded sums keeps about 5 digits
        plain = loss.value(coef + t * D) - loss.value(coef)
        assert abs(plain - exact) > 1e-8 * abs(exact)


@pytest.mark.parametrize("kind", ["binary", "multinomial"])
def test_value_change_large_steps_use_the_plain_difference(kind):
    loss, coef, rng = _problem(kind, True, False)
    D = 30 * rng.standard_normal(loss.shape)  # |u| >> 1: the subtracting branch
    st = loss.state(coef)
    change, _ = loss.value_change(st, D, loss.matmul(D))
    assert change == pytest.approx(loss.value(coef + D) - loss.value(coef), rel=1e-12)


@pytest.mark.parametrize("sparse_x", [False, True])
def test_hessian_matrix_is_the_observed_hessian_with_its_penalty(sparse_x):
    # a non-canonical link: the observed Hessian differs from the Fisher matrix
    from skngd._loss import get_family, get_link

    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 4))
    if sparse_x:
        X[rng.random(X.shape) < 0.4] = 0.0
        X = sparse.csr_matrix(X)
    y = rng.gamma(2.0, 1.0, 80)
    loss = LinearModelLoss(get_family("gamma"), X, y, rng.uniform(0.5, 2, 80),
                           l2_reg_strength=0.3, link=get_link("log"))
    coef = rng.standard_normal(loss.shape) * 0.1
    st = loss.state(coef)
    v = rng.standard_normal(loss.shape)
    H = loss.hessian_matrix(st)
    np.testing.assert_allclose(H @ v.ravel(), loss.hessian_matvec(st, v).ravel(), rtol=1e-10)
    h = 1e-6
    fd = (loss.loss_gradient(coef + h * v)[1] - loss.loss_gradient(coef - h * v)[1]) / (2 * h)
    np.testing.assert_allclose(H @ v.ravel(), fd.ravel(), rtol=1e-5, atol=1e-6)
    P = loss.penalty_hessian()
    np.testing.assert_allclose(P @ v.ravel(), loss.penalty_matvec(v).ravel())
