"""The Numba E-step kernel against its NumPy reference."""

import numpy as np
import pytest

from skngd._kernels.em_gaussian import estep, estep_ref
from skngd._solvers.em_gaussian import PatternData
from skngd.utils import numba_threads


def _problem(n=700, d=7, rate=0.35, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    S = A @ A.T / d + 0.5 * np.eye(d)
    mu = rng.normal(size=d)
    X = rng.multivariate_normal(mu, S, size=n)
    X[rng.random(X.shape) < rate] = np.nan
    X[:5] = np.nan  # all-missing rows
    X[5:40] = np.where(np.isnan(X[5:40]), 0.0, X[5:40])  # complete rows
    X[40:200, :3] = np.nan  # one pattern shared by many rows
    return X, mu, S


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("readonly", [False, True])
def test_estep_matches_reference(dtype, threads, readonly):
    X, mu, S = _problem()
    data = PatternData(X)
    Xs = data.X.astype(dtype)
    P = np.linalg.inv(S).astype(dtype)
    mu_d = mu.astype(dtype)
    if readonly:
        for a in (Xs, P, mu_d):
            a.setflags(write=False)
    n, d = Xs.shape
    xhat = np.empty_like(Xs)
    logdet = np.empty(n, dtype=dtype)
    quad = np.empty(n, dtype=dtype)
    ccov = np.zeros((data.chunk_bounds.size - 1, d, d), dtype=dtype)
    noise = np.zeros((1, 1), dtype=dtype)
    with numba_threads(threads):
        estep(Xs, data.pattern_id, data.chunk_bounds, mu_d, P, noise, False,
              xhat, logdet, quad, ccov)
    xr, ldr, qr, ccr = estep_ref(data.X, mu, S)
    # the kernel returns log det P_mm; log det Sigma_oo = log det Sigma + that
    ld_sigma = np.linalg.slogdet(S)[1]
    all_missing = np.isnan(data.X).all(axis=1)
    rtol = 2e-3 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(xhat, xr, rtol=rtol, atol=rtol)
    np.testing.assert_allclose((ld_sigma + logdet)[~all_missing], ldr[~all_missing],
                               rtol=rtol, atol=rtol)
    np.testing.assert_allclose(quad, qr, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(ccov.sum(axis=0), ccr, rtol=rtol, atol=rtol * n)


def test_estep_sampling_adds_conditional_noise():
    X, mu, S = _problem(n=50, d=4)
    data = PatternData(X)
    P = np.linalg.inv(S)
    n, d = data.X.shape
    out = [np.empty((n, d)) for _ in range(2)]
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((n, d))
    for o, (ns, flag) in zip(out, [(noise, True), (noise, False)]):
        estep(data.X, data.pattern_id, data.chunk_bounds, mu, P, ns, flag, o,
              np.empty(n), np.empty(n), np.zeros((data.chunk_bounds.size - 1, d, d)))
    miss = np.isnan(data.X)
    obs = ~miss
    np.testing.assert_array_equal(out[0][obs], out[1][obs])
    # the draws differ from the means exactly on missing entries
    assert np.all(out[0][miss] != out[1][miss])
    # one missing coordinate: draw = mean + noise * conditional sd
    rows = np.flatnonzero(miss.sum(axis=1) == 1)
    for i in rows[:5]:
        j = np.flatnonzero(miss[i])[0]
        sd = 1.0 / np.sqrt(P[j, j])
        assert out[0][i, j] == pytest.approx(out[1][i, j] + sd * noise[i, j])
