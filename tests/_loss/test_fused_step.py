"""``LinearModelLoss.fused_step``: one sweep gives what ``value_change``,
``state`` and ``fisher_matrix`` give in three."""

import numpy as np
import pytest

from skngd._loss.family import NUMBA_MIN_SIZE, Binomial
from skngd._loss.linear_loss import LinearModelLoss


def _problem(fit_intercept, labels, l2, seed=0):
    rng = np.random.default_rng(seed)
    n, p = NUMBA_MIN_SIZE + 1234, 7  # Numba size, several blocks and a partial one
    X = rng.standard_normal((n, p))
    y = (rng.random(n) < 0.4).astype(float) if labels == "binary" else rng.random(n)
    sw = rng.uniform(0.0, 2.0, n)
    sw[::11] = 0.0
    loss = LinearModelLoss(Binomial(), X, y, sw, fit_intercept=fit_intercept,
                           l2_reg_strength=l2)
    k = p + int(fit_intercept)
    coef = rng.standard_normal((k, 1)) * 0.3
    D = rng.standard_normal((k, 1)) * 0.2
    return loss, coef, D


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("labels", ["binary", "proportions"])
@pytest.mark.parametrize("t", [1.0, 0.25, 40.0])
def test_fused_step_matches_the_separate_passes(fit_intercept, labels, t):
    loss, coef, D = _problem(fit_intercept, labels, l2=0.3)
    st = loss.state(coef)
    change, noise, new, F = loss.fused_step(st, D, t)
    ref_change, ref_noise = loss.value_change(st, D, loss.matmul(D), t)
    ref = loss.state(coef + t * D)
    scale = abs(ref.value) * np.finfo(float).eps
    assert abs(change - ref_change) <= 50 * max(ref_noise, scale)
    assert noise == pytest.approx(ref_noise, rel=0.1)
    np.testing.assert_allclose(new.value, ref.value, rtol=1e-13)
    np.testing.assert_allclose(new.grad, ref.grad, rtol=1e-11, atol=1e-9)
    np.testing.assert_allclose(new.raw, ref.raw, rtol=1e-12, atol=1e-12)
    F_ref = loss.fisher_matrix(ref) - loss.penalty_hessian()
    np.testing.assert_allclose(F, F_ref, rtol=1e-11, atol=1e-9)


def test_rows_with_vanishing_fisher_weight_keep_their_gradient():
    """|eta| ~ 800: p(1-p) underflows but a misclassified row's gradient is
    +-s; the gradient comes out exact, the Fisher matrix without NaN."""
    loss, coef, D = _problem(True, "binary", l2=0.0, seed=1)
    X = loss.X
    X[:5] = 0.0
    X[:5, 0] = 900.0  # eta = 900 * coef[0]: far in the tails
    coef[0, 0] = 1.0
    D[:] = 0.0
    D[0, 0] = -0.01
    st = loss.state(coef)
    _, _, new, F = loss.fused_step(st, D)
    ref = loss.state(coef + D)
    np.testing.assert_allclose(new.grad, ref.grad, rtol=1e-11, atol=1e-9)
    assert np.all(np.isfinite(F))


def test_recycled_arrays_give_the_same_step():
    loss, coef, D = _problem(True, "binary", l2=0.1)
    st = loss.state(coef)
    _, _, a, Fa = loss.fused_step(st, D)
    junk = tuple(np.full(loss.X.shape[0], np.nan) for _ in range(5))
    _, _, b, Fb = loss.fused_step(st, D, out=junk)
    assert b.arrays[0] is junk[0]
    np.testing.assert_array_equal(Fa, Fb)
    np.testing.assert_array_equal(a.grad, b.grad)


def test_small_float32_sparse_and_multinomial_problems_decline():
    loss, coef, D = _problem(True, "binary", l2=0.0)
    small = LinearModelLoss(Binomial(), loss.X[:100], loss.y[:100], None)
    assert small.fused_step(small.state(np.zeros((8, 1))), np.ones((8, 1))) is None
    f32 = LinearModelLoss(Binomial(), loss.X.astype(np.float32), loss.y, None)
    assert f32.fused_step(f32.state(coef), D) is None


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_without_the_fisher_matrix_the_gradient_is_summed_in_the_sweep(fit_intercept):
    loss, coef, D = _problem(fit_intercept, "binary", l2=0.2, seed=2)
    st = loss.state(coef)
    for t in (1.0, 0.5):
        c1, n1, a, Fa = loss.fused_step(st, D, t)
        c2, n2, b, Fb = loss.fused_step(st, D, t, fisher=False)
        assert Fb is None and Fa is not None
        assert (c1, n1) == (c2, n2)
        np.testing.assert_allclose(b.grad, a.grad, rtol=1e-11, atol=1e-9)
        assert b.step_max == pytest.approx(np.abs(t * loss.matmul(D)).max(), rel=1e-12)


@pytest.mark.parametrize("labels", ["binary", "proportions"])
def test_chained_steps_reuse_the_kept_exponentials(labels):
    """A step from a fused step's state reads its ``z = exp(-|eta|)``
    instead of forming it: the chain equals separate passes at every point,
    and a state without ``z`` gives the same step."""
    loss, coef, D = _problem(False, labels, l2=0.1, seed=3)
    st = loss.state(coef)
    for t in (1.0, 0.5, 3.0):  # 3.0: some rows take long steps (|v| > 1)
        change, _, new, F = loss.fused_step(st, D, t)
        np.testing.assert_allclose(new.z, np.exp(-np.abs(new.raw[:, 0])), rtol=1e-15)
        ref = loss.state(st.coef + t * D)
        ref_change, ref_noise = loss.value_change(st, D, loss.matmul(D), t)
        assert abs(change - ref_change) <= 50 * max(ref_noise, abs(ref.value) * 1e-16)
        np.testing.assert_allclose(new.value, ref.value, rtol=1e-13)
        np.testing.assert_allclose(new.grad, ref.grad, rtol=1e-11, atol=1e-9)
        plain = loss.state(new.coef)  # no z: formed from raw
        nxt = loss.fused_step(new, D, 0.5)
        np.testing.assert_allclose(nxt[0], loss.fused_step(plain, D, 0.5)[0], rtol=1e-12)
        st = new


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("stride", [2, 4])
def test_subsampled_fisher_matrix_is_that_of_every_stride_th_row_of_each_block(
        fit_intercept, stride):
    loss, coef, D = _problem(fit_intercept, "binary", l2=0.2, seed=3)
    st = loss.state(coef)
    c1, n1, a, Fa = loss.fused_step(st, D, 0.5)
    c2, n2, b, Fb = loss.fused_step(st, D, 0.5, stride=stride)
    assert (c1, n1) == (c2, n2) and b.value == a.value
    np.testing.assert_allclose(b.grad, a.grad, rtol=1e-11, atol=1e-9)  # all rows
    block = loss._step_buffer[0]
    n = loss.X.shape[0]
    rows = np.concatenate([np.arange(s, min(n, s + block), stride) for s in range(0, n, block)])
    Xt = loss.X[rows]
    if fit_intercept:
        Xt = np.c_[Xt, np.ones(rows.size)]
    h = np.asarray(b.curv)[rows, 0]
    want = stride * (Xt.T * h) @ Xt
    np.testing.assert_allclose(Fb, want, rtol=1e-11, atol=1e-9)
    assert np.abs(Fb - Fa).max() < 0.1 * np.abs(Fa).max()  # an estimate of all rows'
