"""Every Sinkhorn kernel against its NumPy reference, over dtypes, read-only
inputs and 1 vs 2 threads."""

import numpy as np
import pytest

from skngd._kernels import sinkhorn as ks
from skngd.utils._threads import numba_threads


def _ro(x):
    x = np.array(x)
    x.setflags(write=False)
    return x


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def n_jobs(request):
    return request.param


def _problem(dtype, n=37, m=300, d=3, seed=0):
    rng = np.random.RandomState(seed)
    X, Y = rng.randn(n, d).astype(dtype), rng.randn(m, d).astype(dtype)
    C = ((X[:, None] - Y[None]) ** 2).sum(-1).astype(dtype)
    return X, Y, C, rng


@pytest.mark.parametrize("eps", [1.0, 1e-3])
def test_lse_rows(dtype, n_jobs, eps):
    X, Y, C, rng = _problem(dtype)
    h = rng.randn(C.shape[1])
    a = np.full(C.shape[0], 1 / C.shape[0])
    out, K = np.empty(C.shape[0]), np.empty(C.shape)
    ref_out, ref_K = np.empty_like(out), np.empty_like(K)
    with numba_threads(n_jobs):
        ks.lse_rows(_ro(C), _ro(h), eps, _ro(a), out, K, True)
    ks.lse_rows_ref(C, h, eps, a, ref_out, ref_K, True)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12)
    np.testing.assert_allclose(K, ref_K, rtol=1e-10, atol=1e-300)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("eps", [1.0, 1e-3])
def test_lse_cols(dtype, n_jobs, eps):
    X, Y, C, rng = _problem(dtype)
    h = rng.randn(C.shape[0])
    out, ref = np.empty(C.shape[1]), np.empty(C.shape[1])
    with numba_threads(n_jobs):
        ks.lse_cols(_ro(C), _ro(h), eps, out)
    ks.lse_cols_ref(C, h, eps, ref)
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_scaling_pass(dtype, n_jobs):
    X, Y, C, rng = _problem(dtype)
    K = np.exp(-C).astype(dtype)
    v = rng.rand(C.shape[1]) + 0.5
    a = rng.rand(C.shape[0]) + 0.1
    u, w = np.empty(C.shape[0]), np.empty(C.shape[1])
    ru, rw = np.empty_like(u), np.empty_like(w)
    with numba_threads(n_jobs) as nt:
        ks.scaling_pass(_ro(K), _ro(v), _ro(a), u, w, np.empty((nt, C.shape[1])))
    ks.scaling_pass_ref(K, v, a, ru, rw, None)
    np.testing.assert_allclose(u, ru, rtol=1e-12)
    np.testing.assert_allclose(w, rw, rtol=1e-12)


@pytest.mark.parametrize("squared", [True, False])
def test_online_kernels(dtype, n_jobs, squared):
    X, Y, C, rng = _problem(dtype)
    yy = (Y.astype(np.float64) ** 2).sum(1).astype(dtype)
    h = rng.randn(Y.shape[0])
    f = rng.randn(X.shape[0]) - 3
    out, ref = np.empty(X.shape[0]), np.empty(X.shape[0])
    pc, pc_ref = np.empty((X.shape[0], 2)), np.empty((X.shape[0], 2))
    with numba_threads(n_jobs) as nt:
        work = np.empty((nt, 4, Y.shape[0]))
        ks.lse_rows_online(_ro(X), _ro(Y), _ro(yy), _ro(h), 0.5, 0.3, squared, out, work)
        ks.plan_cost_online(_ro(X), _ro(Y), _ro(yy), f, h, 0.5, 0.3, squared, pc, work)
    ks.lse_rows_online_ref(X, Y, yy, h, 0.5, 0.3, squared, ref, None)
    ks.plan_cost_online_ref(X, Y, yy, f, h, 0.5, 0.3, squared, pc_ref, None)
    np.testing.assert_allclose(out, ref, **_tol(dtype))
    np.testing.assert_allclose(pc, pc_ref, **_tol(dtype))
