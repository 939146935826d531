"""Logistic kernels against their NumPy twins: float32/float64, read-only, 1 vs 2 threads."""

import numpy as np
import pytest

from skngd._kernels import logistic as K
from skngd.utils import numba_threads


def _data(dtype, n=257, k=4, seed=0):
    rng = np.random.default_rng(seed)
    raw = (rng.standard_normal(n) * 8).astype(dtype)
    raw[:3] = [-800, 800, 0]  # extremes must not overflow
    y = rng.integers(0, 2, n).astype(dtype)
    sw = rng.uniform(0, 2, n).astype(dtype)
    rawk = (rng.standard_normal((n, k)) * 5).astype(dtype)
    rawk[0] = [900, -900, 0, 1]
    yk = rng.integers(0, k, n).astype(np.int64)
    return y, raw, sw, yk, rawk


def _readonly(*arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_binomial_kernel_matches_reference(dtype, n_jobs):
    y, raw, sw, _, _ = _data(dtype)
    y, raw, sw = _readonly(y, raw, sw)
    out = [np.empty_like(raw) for _ in range(3)]
    with numba_threads(n_jobs):
        K.binomial_loss_grad_fisher(y, raw, sw, *out)
    ref = K.binomial_loss_grad_fisher_ref(y.astype(float), raw, sw.astype(float))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(out, ref):
        assert a.dtype == dtype
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_multinomial_kernel_matches_reference(dtype, n_jobs):
    _, _, sw, yk, rawk = _data(dtype)
    sw, yk, rawk = _readonly(sw, yk, rawk)
    n, k = rawk.shape
    loss = np.empty(n, dtype)
    grad = np.empty((n, k), dtype)
    proba = np.empty((n, k), dtype)
    with numba_threads(n_jobs):
        K.multinomial_loss_grad_proba(yk, rawk, sw, loss, grad, proba)
    ref = K.multinomial_loss_grad_proba_ref(yk, rawk, sw.astype(float))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip((loss, grad, proba), ref):
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])  # data dtype; the kernel runs in float64
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_binomial_loss_change_matches_reference(dtype, n_jobs):
    from skngd._loss.family import binomial_loss_change_numpy

    y, raw, sw, _, _ = _data(dtype)
    u = np.linspace(-3, 3, raw.shape[0]).astype(dtype)  # both branches (|u| <= 1 and > 1)
    y, raw, sw, u = _readonly(*(a.astype(np.float64) for a in (y, raw, sw, u)))
    with numba_threads(n_jobs):
        got = K.binomial_loss_change(y, raw, u, sw)
    ref = binomial_loss_change_numpy(y, raw, u, sw)
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    assert all(np.isfinite(got))
