"""The Numba E-step kernel against its NumPy reference."""

import numpy as np
import pytest

from skngd._kernels.em_gaussian import estep, estep_ref
from skngd._solvers.em_gaussian import ChunkPool, PatternData
from skngd.utils._threads import blas_threads


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


def _run(data, X, mu, P, noise=None, want_quad=True, want_stats=True, threads=1):
    n, d = X.shape
    dt = X.dtype
    nc = data.n_chunks if want_stats else 0
    # outputs start as garbage: the kernel must overwrite every entry
    out = dict(R=np.full_like(X, 7.0), logdet=np.full(n, 7.0, dtype=dt),
               quad=np.full(n, 7.0, dtype=dt),
               ccov=np.full((max(nc, 1), d, d), 7.0, dtype=dt),
               gram=np.full((nc, d, d), 7.0, dtype=dt),
               colsum=np.full((nc, d), 7.0, dtype=dt))
    sample = noise is not None
    if noise is None:
        noise = np.zeros((1, 1), dtype=dt)
    with ChunkPool(threads) as pool:
        estep(X, mu, P, data.miss_idx, data.pat_off, data.pat_rows, data.batch_bounds,
              data.chunk_bounds, noise, sample, want_quad, want_stats, out["R"],
              out["logdet"], out["quad"], out["ccov"], out["gram"], out["colsum"],
              pool=pool)
    return out


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
    with blas_threads(1):
        out = _run(data, Xs, mu_d, P, threads=threads)
    xr, ldr, qr, ccr = estep_ref(data.X, mu, S)
    xhat = out["R"] + mu_d
    # the kernel returns log det P_mm; log det Sigma_oo = log det Sigma + that
    ld_sigma = np.linalg.slogdet(S)[1]
    all_missing = np.isnan(data.X).all(axis=1)
    rtol = 2e-3 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(xhat, xr, rtol=rtol, atol=rtol)
    np.testing.assert_allclose((ld_sigma + out["logdet"])[~all_missing],
                               ldr[~all_missing], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(out["quad"], qr, rtol=rtol, atol=rtol)
    low = out["ccov"].sum(axis=0)
    np.testing.assert_allclose(low + np.tril(low, -1).T, ccr, rtol=rtol, atol=rtol * n)
    R = xr - mu
    np.testing.assert_allclose(out["gram"].sum(axis=0), R.T @ R, rtol=rtol, atol=rtol * n)
    np.testing.assert_allclose(out["colsum"].sum(axis=0), R.sum(axis=0),
                               rtol=rtol, atol=rtol * n)


def test_layout_covers_every_row_once():
    X, _, _ = _problem(n=5000, d=12)
    data = PatternData(X)
    # rows of a pattern share their missing set, patterns are distinct
    miss = np.isnan(data.X)
    sets = set()
    for p in range(data.n_patterns):
        rows = miss[data.pat_rows[p]:data.pat_rows[p + 1]]
        assert (rows == rows[0]).all()
        idx = tuple(data.miss_idx[data.pat_off[p]:data.pat_off[p + 1]])
        assert idx == tuple(np.flatnonzero(rows[0]))
        sets.add(idx)
    assert len(sets) == data.n_patterns
    # batches hold patterns with the same number missing; chunks tile the batches
    k = np.diff(data.pat_off)
    for b0, b1 in zip(data.batch_bounds[:-1], data.batch_bounds[1:]):
        assert (k[b0:b1] == k[b0]).all()
    assert data.chunk_bounds[0] == 0 and data.chunk_bounds[-1] == data.batch_bounds.size - 1
    assert data.n_chunks > 1
    np.testing.assert_array_equal(np.sort(data.order), np.arange(X.shape[0]))


def test_estep_sampling_adds_conditional_noise():
    X, mu, S = _problem(n=50, d=4)
    data = PatternData(X)
    P = np.linalg.inv(S)
    n, d = data.X.shape
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((n, d))
    with blas_threads(1):
        out = [_run(data, data.X, mu, P, noise=ns)["R"] + mu for ns in (noise, None)]
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


@pytest.mark.parametrize("threads", [1, 2])
def test_estep_without_statistics_gives_the_same_rows(threads):
    # the transform / score path skips the statistics (and gets a one-chunk
    # dummy accumulator); rows must be identical to the fit path's
    X, mu, S = _problem(n=3000, d=9)
    data = PatternData(X)
    P = np.linalg.inv(S)
    with blas_threads(1):
        full = _run(data, data.X, mu, P, threads=threads)
        rows = _run(data, data.X, mu, P, want_stats=False, threads=threads)
    for key in ("R", "logdet", "quad"):
        np.testing.assert_array_equal(rows[key], full[key])
    assert np.all(rows["ccov"] == 7.0)  # untouched


@pytest.mark.parametrize("threads", [1, 2])
def test_estep_large_blocks_match_reference(threads):
    # blocks above K_BATCH missing coordinates take the one-pattern path;
    # mix them with small blocks in one problem
    from skngd._kernels.em_gaussian import K_BATCH
    d = K_BATCH + 20
    rng = np.random.default_rng(3)
    A = rng.normal(size=(d, d))
    S = A @ A.T / d + 0.5 * np.eye(d)
    mu = rng.normal(size=d)
    X = rng.multivariate_normal(mu, S, size=300)
    X[:100][rng.random((100, d)) < 0.9] = np.nan  # ~60 missing: large blocks
    X[100:][rng.random((200, d)) < 0.1] = np.nan  # ~7 missing: batched
    X[100:110] = X[0]  # a large block shared by several rows
    data = PatternData(X)
    assert np.diff(data.pat_off).max() > K_BATCH
    P = np.linalg.inv(S)
    noise = rng.standard_normal(X.shape)
    with blas_threads(1):
        out = _run(data, data.X, mu, P, threads=threads)
        drawn = _run(data, data.X, mu, P, noise=noise, threads=threads)
    xr, ldr, qr, ccr = estep_ref(data.X, mu, S)
    np.testing.assert_allclose(out["R"] + mu, xr, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.linalg.slogdet(S)[1] + out["logdet"], ldr,
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out["quad"], qr, rtol=1e-9, atol=1e-8)
    low = out["ccov"].sum(axis=0)
    np.testing.assert_allclose(low + np.tril(low, -1).T, ccr, rtol=1e-9, atol=1e-8)
    # the draw adds Linv^T eps, whose covariance is P_mm^{-1}: check one
    # large-block row exactly
    i = int(np.argmax(np.isnan(data.X).sum(axis=1)))
    m = np.isnan(data.X[i])
    L = np.linalg.cholesky(P[np.ix_(m, m)])
    expect = np.linalg.solve(L.T, noise[i, m])
    np.testing.assert_allclose(drawn["R"][i, m] - out["R"][i, m], expect, rtol=1e-8,
                               atol=1e-10)
