"""The NumPy path of the EM imputer (small problems) against the Numba path,
and the thread policy of a fit (one pool per call, shut down at its end)."""

import subprocess
import sys
import threading

import numpy as np
import pytest

from skngd._kernels import em_gaussian as nb
from skngd._kernels import em_gaussian_ref as ref
from skngd._solvers import em_gaussian as solver
from skngd._solvers.em_gaussian import ChunkPool, PatternData
from skngd.impute import GaussianEMImputer
from skngd.utils._threads import blas_threads


def _gaussian(d, rng, ridge=0.5):
    A = rng.normal(size=(d, d))
    return rng.normal(size=d), A @ A.T / d + ridge * np.eye(d)


def _many_patterns(rng, n=900, d=7):
    mu, S = _gaussian(d, rng)
    X = rng.multivariate_normal(mu, S, size=n)
    X[rng.random(X.shape) < 0.35] = np.nan
    X[:6] = np.nan  # all-missing rows
    X[6:40] = np.where(np.isnan(X[6:40]), 0.5, X[6:40])  # complete rows
    X[40:200, :3] = np.nan  # one pattern shared by many rows
    X[40:200, 3:] = np.where(np.isnan(X[40:200, 3:]), 0.1, X[40:200, 3:])
    return X, mu, S


def _single_pattern(rng, n=300, d=5):
    mu, S = _gaussian(d, rng)
    X = rng.multivariate_normal(mu, S, size=n)
    X[:, [1, 3]] = np.nan
    return X, mu, S


def _large_blocks(rng):
    # blocks above K_BATCH missing take the kernel's one-pattern path, the
    # others its batched path; mixed in one problem, chunked (n > 2048)
    d = nb.K_BATCH + 12
    mu, S = _gaussian(d, rng)
    X = rng.multivariate_normal(mu, S, size=2600)
    X[:80][rng.random((80, d)) < 0.9] = np.nan
    X[80:][rng.random((2520, d)) < 0.1] = np.nan
    X[80:90] = X[0]
    X[90:92] = np.nan
    return X, mu, S


PROBLEMS = {"many_patterns": _many_patterns, "single_pattern": _single_pattern,
            "large_blocks": _large_blocks}


def _run(fn, data, mu, P, noise=None, want_quad=True, want_stats=True, threads=1):
    X = data.X
    n, d = X.shape
    nc = data.n_chunks if want_stats else 0
    out = dict(R=np.full_like(X, 7.0), logdet=np.full(n, 7.0), quad=np.full(n, 7.0),
               ccov=np.full((max(nc, 1), d, d), 7.0), gram=np.full((nc, d, d), 7.0),
               colsum=np.full((nc, d), 7.0))
    sample = noise is not None
    with blas_threads(1), ChunkPool(threads) as pool:
        fn(X, mu, P, data.miss_idx, data.pat_off, data.pat_rows, data.batch_bounds,
           data.chunk_bounds, np.zeros((1, 1)) if noise is None else noise, sample,
           want_quad, want_stats, out["R"], out["logdet"], out["quad"], out["ccov"],
           out["gram"], out["colsum"], pool=pool)
    return out


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("sample", [False, True])
@pytest.mark.parametrize("want_stats", [False, True])
def test_numpy_estep_equals_numba_estep(problem, sample, want_stats):
    rng = np.random.default_rng(len(problem))
    X, mu, S = PROBLEMS[problem](rng)
    data = PatternData(X)
    P = np.linalg.inv(S)
    noise = rng.standard_normal(X.shape) if sample else None
    a = _run(nb.estep, data, mu, P, noise, want_stats=want_stats, threads=2)
    b = _run(ref.estep_np, data, mu, P, noise, want_stats=want_stats)
    if problem == "large_blocks":
        assert np.diff(data.pat_off).max() > nb.K_BATCH >= np.diff(data.pat_off).min()
        assert data.n_chunks > 1
    for key in ("R", "logdet", "quad"):
        np.testing.assert_allclose(b[key], a[key], rtol=1e-10, atol=1e-10, err_msg=key)
    for key in ("ccov", "gram", "colsum"):
        if want_stats:
            np.testing.assert_allclose(b[key], a[key], rtol=1e-10, atol=1e-9, err_msg=key)
        else:
            assert np.all(b[key] == 7.0) and np.all(a[key] == 7.0)


def test_numpy_estep_marks_a_non_positive_definite_block():
    rng = np.random.default_rng(4)
    X, mu, S = _many_patterns(rng)
    data = PatternData(X)
    P = np.linalg.inv(S)
    P[2, 2] = -1.0  # every block holding coordinate 2 fails
    b = _run(ref.estep_np, data, mu, P)
    assert np.isnan(b["logdet"]).any()
    with pytest.raises(ValueError, match="not positive definite"):
        with blas_threads(1):
            solver.e_step(data, mu, P)


@pytest.mark.parametrize("readonly", [False, True])
def test_numpy_helpers_equal_numba_helpers(readonly):
    rng = np.random.default_rng(5)
    X, mu, S = _many_patterns(rng)
    data = PatternData(X)
    Xs = data.X
    if readonly:
        for arr in (Xs, mu, S):
            arr.setflags(write=False)
    outs = [np.full(len(X), 7.0) for _ in range(2)]
    args = (Xs, mu, S, data.miss_idx, data.pat_off, data.pat_rows)
    work = nb.observed_block_work(X.shape[1])
    assert nb.observed_block_loglik(*args, outs[0], *work) == -1
    assert ref.observed_block_loglik_ref(*args, outs[1]) == -1
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-10, atol=1e-10)
    # the first failing pattern is reported alike
    S2 = S.copy()
    S2[4, 4] = -1.0
    assert (ref.observed_block_loglik_ref(Xs, mu, S2, *args[3:], outs[1])
            == nb.observed_block_loglik(Xs, mu, S2, *args[3:], outs[0], *work) >= 0)
    Z = [np.empty_like(X) for _ in range(2)]
    (c0, m0), (c1, m1) = nb.observed_moments(Xs, Z[0]), ref.observed_moments_ref(Xs, Z[1])
    np.testing.assert_array_equal(c0, c1)
    np.testing.assert_allclose(m1, m0, rtol=1e-13)
    np.testing.assert_allclose(Z[1], Z[0], rtol=1e-12, atol=1e-13)
    # fill_missing writes into a wider, unsorted array
    wide = np.c_[X, np.full(len(X), np.nan)]
    R = rng.normal(size=X.shape)
    cols = np.arange(X.shape[1])
    f0, f1 = wide.copy(), wide.copy()
    nb.fill_missing(f0, R, mu, data.order, cols)
    ref.fill_missing_ref(f1, R, mu, data.order, cols)
    np.testing.assert_array_equal(f0, f1)


def _fit_both(monkeypatch, X, **params):
    fits = []
    for threshold in (0, np.inf):  # Numba path, then NumPy path
        monkeypatch.setattr(solver, "NUMBA_MIN_ENTRIES", threshold)
        imp = GaussianEMImputer(**params).fit(X)
        fits.append((imp, imp.transform(X), imp.score_samples(X)))
    return fits


@pytest.mark.parametrize("case", ["many_patterns", "single_pattern", "all_missing_rows",
                                  "sample_posterior", "ill_conditioned"])
def test_numpy_fit_equals_numba_fit(monkeypatch, case):
    rng = np.random.default_rng(11)
    params = {}
    if case == "single_pattern":
        X, _, _ = _single_pattern(rng)
        X[:60] = np.where(np.isnan(X[:60]), 1.0, X[:60])  # a few complete rows
    elif case == "ill_conditioned":
        mu, S = _gaussian(5, rng)
        X = rng.multivariate_normal(mu, S, size=400)
        X[:, 4] = X[:, 3] + 1e-4 * rng.normal(size=400)  # stable log-likelihoods
        X[rng.random(X.shape) < 0.2] = np.nan
    else:
        X, _, _ = _many_patterns(rng)
    if case == "all_missing_rows":
        X[rng.random(len(X)) < 0.1] = np.nan
        params["init"] = "pairwise"
    if case == "sample_posterior":
        params.update(sample_posterior=True, random_state=0)
    (a, ta, sa), (b, tb, sb) = _fit_both(monkeypatch, X, **params)
    for imp in (a, b):
        h = imp.loglik_history_
        assert np.all(np.diff(h) >= -1e-10 * np.abs(h[1:])), np.diff(h).min()
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(b.loglik_history_, a.loglik_history_, rtol=1e-10)
    np.testing.assert_allclose(b.mean_, a.mean_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(b.covariance_, a.covariance_, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(tb, ta, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sb, sa, rtol=1e-9, atol=1e-9)


def test_small_problems_never_load_numba():
    """Below NUMBA_MIN_ENTRIES a fit, transform and score run on the NumPy
    twins: Numba is neither imported nor compiled (first use without pauses)."""
    code = (
        "import sys, numpy as np\n"
        "from sklearn.datasets import load_wine\n"
        "from skngd.impute import GaussianEMImputer\n"
        "X = load_wine(return_X_y=True)[0].copy()\n"
        "X[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan\n"
        "imp = GaussianEMImputer(n_jobs=2).fit(X)\n"
        "imp.transform(X); imp.score(X); imp.fit_transform(X)\n"
        "GaussianEMImputer(sample_posterior=True, random_state=0).fit_transform(X)\n"
        "assert 'numba' not in sys.modules, 'Numba imported for a small problem'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("path", ["numpy", "numba"])
def test_threads_give_identical_results_on_both_paths(monkeypatch, path):
    rng = np.random.default_rng(8)
    mu, S = _gaussian(8, rng)
    X = rng.multivariate_normal(mu, S, size=5000)
    X[rng.random(X.shape) < 0.3] = np.nan
    monkeypatch.setattr(solver, "NUMBA_MIN_ENTRIES", 0 if path == "numba" else np.inf)
    a = GaussianEMImputer(n_jobs=1).fit(X)
    b = GaussianEMImputer(n_jobs=2).fit(X)
    np.testing.assert_array_equal(a.covariance_, b.covariance_)
    np.testing.assert_array_equal(a.loglik_history_, b.loglik_history_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_no_thread_outlives_a_fit(monkeypatch):
    """n_jobs=2 runs the E-step's chunks on a pool owned by the call: its
    threads exist during the fit and none is left afterwards (the process-wide
    pool cache this replaced kept them forever)."""
    rng = np.random.default_rng(9)
    mu, S = _gaussian(4, rng)
    X = rng.multivariate_normal(mu, S, size=20000)  # 80,000 entries: Numba path
    X[rng.random(X.shape) < 0.3] = np.nan
    started = []
    start = threading.Thread.start

    def spy(self):
        started.append(self.name)
        return start(self)

    before = {t.ident for t in threading.enumerate()}
    monkeypatch.setattr(threading.Thread, "start", spy)
    imp = GaussianEMImputer(n_jobs=2).fit(X)
    imp.transform(X)
    imp.score(X)
    monkeypatch.undo()
    assert any("skngd-estep" in name for name in started), started  # threads were used
    left = [t.name for t in threading.enumerate()
            if t.ident not in before and t.is_alive()]
    assert not any("skngd-estep" in name for name in left), left


def test_a_fit_compiles_only_the_kernels_it_runs():
    """Blocks of at most K_BATCH missing never load the one-pattern kernel,
    and the fit's kernels have one signature each (no Literal or dtype
    variants compiled twice)."""
    code = (
        "import numpy as np\n"
        "from skngd.impute import GaussianEMImputer\n"
        "from skngd._kernels import em_gaussian as k\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(20000, 6))\n"
        "X[rng.random(X.shape) < 0.3] = np.nan\n"
        "GaussianEMImputer(init='mean').fit_transform(X)\n"
        "assert not k.estep_chunk_large.signatures, k.estep_chunk_large.signatures\n"
        "for f in (k.estep_chunk, k.center_observed_rows, k.observed_moments, k.fill_missing):\n"
        "    assert len(f.signatures) == 1, (f, f.signatures)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_compile_notice_on_the_numba_path_only(tmp_path):
    """At verbose > 0 a first compilation is announced once; the NumPy path
    of a small fit compiles nothing and says nothing."""
    import os

    from skngd.utils._compile_notice import MESSAGE

    code = (
        "import numpy as np\n"
        "from skngd.impute import GaussianEMImputer\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(N, 4))\n"
        "X[rng.random(X.shape) < 0.3] = np.nan\n"
        "GaussianEMImputer(verbose=1, max_iter=3).fit_transform(X)\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    err = {}
    for n in (100, 20000):  # NumPy path, then Numba path (80,000 entries)
        out = subprocess.run([sys.executable, "-c", code.replace("N", str(n))], env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        err[n] = out.stderr
    assert MESSAGE not in err[100]
    assert err[20000].count(MESSAGE) == 1
