"""The generalised ridge (a diagonal vector or a PSD matrix over the feature
rows) behind LinearModelLoss's penalty methods: against the explicit
quadratic form, finite differences and the scalar ridge it generalises."""

import numpy as np
import pytest
from scipy import sparse

from skngd._loss import Binomial, Multinomial, get_family, get_link
from skngd._loss.glm_loss import GLMProblem
from skngd._loss.linear_loss import LinearModelLoss

D = 5


def _ridge(kind, rng):
    if kind == "diag":
        r = rng.uniform(0.0, 2.0, D)
        r[1] = 0.0  # an unpenalised feature
        return r
    A = rng.standard_normal((D, D - 2))
    R = A @ A.T  # rank-deficient PSD
    return sparse.csr_matrix(R) if kind == "sparse" else R


def _dense(kind, ridge):
    if kind == "diag":
        return np.diag(ridge)
    return ridge.toarray() if sparse.issparse(ridge) else ridge


def _loss(family, kind, fit_intercept, rng, n=50, l2=0.8):
    X = rng.standard_normal((n, D))
    sw = rng.uniform(0.3, 2.0, n)
    ridge = _ridge(kind, rng)
    if family == "multinomial":
        fam, y = Multinomial(3), rng.integers(0, 3, n)
        loss = LinearModelLoss(fam, X, y, sw, fit_intercept=fit_intercept, l2_reg_strength=l2,
                               ridge=ridge)
    elif family == "binary":
        fam, y = Binomial(), rng.integers(0, 2, n).astype(float)
        loss = LinearModelLoss(fam, X, y, sw, fit_intercept=fit_intercept, l2_reg_strength=l2,
                               ridge=ridge)
    else:
        fam, y = get_family("gamma"), rng.gamma(2.0, 1.0, n)
        loss = GLMProblem(X, y, sw, np.zeros(n), fam, get_link("log"), fit_intercept, l2,
                          ridge=ridge)
    return loss, _dense(kind, ridge), rng.standard_normal(loss.shape) * 0.3


CASES = [(f, k, i) for f in ("binary", "multinomial", "gamma-log")
         for k in ("diag", "matrix", "sparse") for i in (False, True)]


@pytest.mark.parametrize("family,kind,fit_intercept", CASES)
def test_penalty_methods_match_the_quadratic_form(family, kind, fit_intercept):
    rng = np.random.default_rng(0)
    loss, R, coef = _loss(family, kind, fit_intercept, rng)
    W = coef[:D]
    want = 0.5 * 0.8 * float(np.sum(W * (R @ W)))
    assert np.isclose(loss.penalty(coef), want, rtol=1e-13)
    V = rng.standard_normal(loss.shape)
    PV = loss.penalty_matvec(V)
    np.testing.assert_allclose(PV[:D], 0.8 * R @ V[:D], rtol=1e-12, atol=1e-14)
    if fit_intercept:  # the intercept row is never penalised
        assert np.all(PV[-1] == 0)
    H = loss.penalty_hessian()
    np.testing.assert_allclose(H @ V.ravel(), PV.ravel(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(H, H.T, atol=0)


@pytest.mark.parametrize("family,kind,fit_intercept", CASES)
def test_gradient_and_hessian_with_ridge_match_finite_differences(family, kind, fit_intercept):
    rng = np.random.default_rng(1)
    loss, _, coef = _loss(family, kind, fit_intercept, rng)
    _, g = loss.loss_gradient(coef)
    h, fd = 1e-6, np.zeros(coef.size)
    for j in range(coef.size):
        e = np.zeros(coef.size)
        e[j] = h
        fd[j] = (loss.value(coef.ravel() + e) - loss.value(coef.ravel() - e)) / (2 * h)
    np.testing.assert_allclose(g.ravel(), fd, rtol=1e-6, atol=1e-6)
    st, v = loss.state(coef), rng.standard_normal(loss.shape)
    _, gp = loss.loss_gradient(coef + h * v)
    _, gm = loss.loss_gradient(coef - h * v)
    Hv = loss.hessian_matvec(st, v)
    np.testing.assert_allclose(Hv, (gp - gm) / (2 * h), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loss.hessian_matrix(st) @ v.ravel(), Hv.ravel(), rtol=1e-10,
                               atol=1e-10)
    # the Fisher matrix adds the same penalty Hessian to the data term
    data = loss.fisher_matrix(st) - loss.penalty_hessian()
    np.testing.assert_allclose(data @ v.ravel() + loss.penalty_hessian() @ v.ravel(),
                               loss.fisher_matvec(st, v).ravel(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("family,kind,fit_intercept", CASES)
def test_value_change_is_exact_with_ridge(family, kind, fit_intercept):
    rng = np.random.default_rng(2)
    loss, _, coef = _loss(family, kind, fit_intercept, rng)
    st = loss.state(coef)
    Dir = rng.standard_normal(loss.shape) * 0.1
    for t in (1.0, 0.25):
        change, noise = loss.value_change(st, Dir, loss.matmul(Dir), t)
        want = loss.value(coef + t * Dir) - loss.value(coef)
        assert abs(change - want) <= 1e-10 * abs(st.value) + 10 * noise


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_scalar_fast_path_equals_identity_ridges(fit_intercept):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, D)), rng.integers(0, 3, 40)
    args = dict(fit_intercept=fit_intercept, l2_reg_strength=0.6)
    base = LinearModelLoss(Multinomial(3), X, y, **args)
    coef, V = rng.standard_normal(base.shape), rng.standard_normal(base.shape)
    for ridge in (np.ones(D), np.eye(D), sparse.identity(D, format="csr")):
        other = LinearModelLoss(Multinomial(3), X, y, ridge=ridge, **args)
        assert np.isclose(other.penalty(coef), base.penalty(coef), rtol=1e-14)
        np.testing.assert_allclose(other.penalty_matvec(V), base.penalty_matvec(V), rtol=1e-14)
        np.testing.assert_allclose(other.penalty_hessian(), base.penalty_hessian(), rtol=1e-14)
        np.testing.assert_allclose(other.center_null_space(coef), base.center_null_space(coef),
                                   rtol=1e-12, atol=1e-14)
    assert base.ridge_kind == "scalar" and base.ridge is None


@pytest.mark.parametrize("kind", ["diag", "matrix"])
def test_center_null_space_with_ridge_keeps_the_objective(kind):
    # softmax is invariant under W -> W + v 1^T; the penalty too iff P2 v = 0: the
    # centring removes exactly that component of the class mean
    rng = np.random.default_rng(4)
    loss, R, coef = _loss("multinomial", kind, True, rng)
    c = loss.center_null_space(coef)
    assert np.isclose(loss.value(c), loss.value(coef), rtol=1e-12)
    assert loss.value(c) <= loss.value(coef) + 1e-12 * abs(loss.value(coef))
    Rfull = np.zeros((D + 1, D + 1))
    Rfull[:D, :D] = R
    w, Q = np.linalg.eigh(Rfull)
    null = Q[:, np.abs(w) < 1e-10]
    mean = c.mean(axis=1)
    np.testing.assert_allclose(null.T @ mean, 0.0, atol=1e-12)
    # the removed part lies in the null space: the penalised rows keep P2 W
    np.testing.assert_allclose(Rfull @ c, Rfull @ coef, atol=1e-12)


def test_ridge_shape_errors():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((10, D)), rng.integers(0, 2, 10).astype(float)
    for bad in (np.ones(D + 1), np.eye(D + 1), np.ones((D, D + 1))):
        with pytest.raises(ValueError, match="ridge must have shape"):
            LinearModelLoss(Binomial(), X, y, ridge=bad)


@pytest.mark.parametrize("family,link", [("poisson", "log"), ("gamma", "log"),
                                         ("tweedie", "log"), ("gamma", "identity")])
def test_glm_fused_state_value_and_change_match_the_generic_ones(family, link):
    # from NUMBA_MIN_SIZE rows GLMProblem's state / value / loss_change run on the
    # fused IRLS kernels; they must equal the family-object (NumPy) versions
    from skngd._loss.family import NUMBA_MIN_SIZE

    rng = np.random.default_rng(6)
    n = NUMBA_MIN_SIZE + 7
    X = rng.standard_normal((n, D))
    y = rng.gamma(2.0, 1.0, n) + (3.0 if link == "identity" else 0.0)
    fam = get_family(family, power=1.5) if family == "tweedie" else get_family(family)
    sw = rng.uniform(0.0, 2.0, n)
    P = GLMProblem(X, y, sw, rng.uniform(-0.1, 0.1, n), fam, get_link(link), True, 2.0,
                   ridge=_ridge("matrix", rng))
    assert P.use_numba
    coef = rng.standard_normal(P.shape) * 0.05
    if link == "identity":
        coef[-1] = 5.0
    fused, generic = P.state(coef), LinearModelLoss.state(P, coef)
    assert np.isclose(fused.value, generic.value, rtol=1e-13)
    assert np.isclose(P.value(coef), generic.value, rtol=1e-13)
    np.testing.assert_allclose(fused.grad, generic.grad, rtol=1e-11, atol=1e-9)
    np.testing.assert_allclose(fused.curv, generic.curv, rtol=1e-12)
    np.testing.assert_allclose(P.hessian_matrix(fused), LinearModelLoss.hessian_matrix(P, generic),
                               rtol=1e-11)
    Dir = rng.standard_normal(P.shape) * 0.01
    U = P.matmul(Dir)
    d_f, _ = P.loss_change(fused, U)
    d_g, scale = LinearModelLoss.loss_change(P, generic, U)
    assert abs(d_f - d_g) <= 1e-12 * scale
