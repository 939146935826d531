"""Fits on a real LocalCluster with worker processes (distributed.Client)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

from skngd.impute import GaussianEMImputer  # noqa: E402
from skngd.linear_model import LogisticRegression, PoissonRegressor  # noqa: E402


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


def test_logistic_and_glm_on_worker_processes(cluster_client):
    rng = np.random.default_rng(0)
    n, d = 4003, 5
    X = rng.standard_normal((n, d))
    y3 = (X @ rng.standard_normal((d, 3)) + rng.gumbel(size=(n, 3))).argmax(axis=1)
    Xd = da.from_array(X, chunks=(1000, d)).persist()
    for solver in ("newton", "ngd"):
        ref = LogisticRegression(solver=solver, tol=1e-6).fit(X, y3)
        est = LogisticRegression(solver=solver, tol=1e-6).fit(Xd, da.from_array(y3, chunks=1000))
        assert rel(est.coef_, ref.coef_) < 1e-8
    proba = est.predict_proba(Xd)
    np.testing.assert_allclose(proba.compute(), ref.predict_proba(X), rtol=1e-10)
    off = rng.uniform(-0.3, 0.3, n)
    yp = rng.poisson(np.exp(0.2 * X.sum(axis=1) + off)).astype(float)
    ref = PoissonRegressor(alpha=0.01, tol=1e-10).fit(X, yp, offset=off)
    est = PoissonRegressor(alpha=0.01, tol=1e-10).fit(
        Xd, da.from_array(yp, chunks=1000), offset=da.from_array(off, chunks=1000))
    assert rel(est.coef_, ref.coef_) < 1e-8
    assert rel(est.covariance_, ref.covariance_) < 1e-8


def test_em_imputer_on_worker_processes(cluster_client):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3000, 5)) @ rng.standard_normal((5, 5))
    X[rng.random(X.shape) < 0.25] = np.nan
    ref = GaussianEMImputer(tol=1e-10).fit(X)
    est = GaussianEMImputer(tol=1e-10).fit(da.from_array(X, chunks=(700, 5)))
    assert rel(est.covariance_, ref.covariance_) < 1e-8
    np.testing.assert_allclose(est.transform(da.from_array(X, chunks=(700, 5))).compute(),
                               ref.transform(X), rtol=1e-8, atol=1e-10)


def test_numba_kernels_run_on_the_workers(cluster_client):
    """Chunks of NUMBA_MIN_SIZE rows take the Numba paths on the workers."""
    from skngd._loss.family import NUMBA_MIN_SIZE

    rng = np.random.default_rng(2)
    n, d = 2 * NUMBA_MIN_SIZE, 4
    X = rng.standard_normal((n, d))
    y = (X.sum(axis=1) + rng.logistic(size=n) > 0).astype(int)
    est = LogisticRegression(solver="newton").fit(
        da.from_array(X, chunks=(NUMBA_MIN_SIZE, d)), da.from_array(y, chunks=NUMBA_MIN_SIZE))
    assert est.n_iter_[0] > 0
    on_workers = cluster_client.run(lambda: "numba" in sys.modules)
    assert any(on_workers.values())  # the chunks may all sit on one worker


def test_passes_keep_the_heap_on_workers_with_a_fixed_trim_threshold(cluster_client):
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_; the passes then raise
    glibc's thresholds while they run (and only then)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")

    def _heap_on_worker():  # nested: pickled by value (workers cannot import tests)
        import os

        from skngd._dask import _chunks

        return "MALLOC_TRIM_THRESHOLD_" in os.environ, _chunks._kept_heap().libc is not None

    for has_env, active in cluster_client.run(_heap_on_worker).values():
        assert active == has_env


def test_search_with_the_joblib_dask_backend(cluster_client):
    import joblib
    from scipy.stats import loguniform

    from skngd.model_selection import BayesSearchCV

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 4))
    y = (X[:, 0] + rng.logistic(size=300) > 0).astype(int)
    kw = dict(n_iter=4, cv=3, batch_size=2, random_state=0, n_initial_points=2)
    with joblib.parallel_config(backend="dask"):
        s = BayesSearchCV(LogisticRegression(), {"C": loguniform(1e-2, 1e2)}, n_jobs=2,
                          **kw).fit(X, y)
    local = BayesSearchCV(LogisticRegression(), {"C": loguniform(1e-2, 1e2)}, **kw).fit(X, y)
    assert s.cv_results_["params"] == local.cv_results_["params"]
    np.testing.assert_allclose(s.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])


@pytest.mark.slow
def test_client_never_imports_numba_for_worker_work():
    """A fit whose chunks run Numba kernels loads none of skngd's Numba kernel
    modules on the client (Dask itself imports Numba; nothing is compiled)."""
    code = textwrap.dedent("""
        import sys
        import numpy as np, dask.array as da
        from distributed import Client, LocalCluster
        from skngd.linear_model import LogisticRegression, PoissonRegressor
        from skngd.impute import GaussianEMImputer
        def kernels():
            return {m for m in sys.modules if m.startswith("skngd._kernels.")}
        if __name__ == "__main__":
            before = kernels()
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None) as c, Client(c):
                rng = np.random.default_rng(0)
                n = 200_000
                X = rng.standard_normal((n, 8))
                y = (X.sum(axis=1) + rng.logistic(size=n) > 0).astype(int)
                Xd = da.from_array(X, chunks=(100_000, 8))
                for s in ("newton", "ngd", "mm"):
                    LogisticRegression(solver=s).fit(Xd, da.from_array(y, chunks=100_000))
                PoissonRegressor().fit(Xd, da.from_array(y.astype(float), chunks=100_000))
                Xm = X.copy(); Xm[rng.random(Xm.shape) < 0.2] = np.nan
                GaussianEMImputer().fit(da.from_array(Xm, chunks=(100_000, 8)))
                print(sorted(kernels() - before))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=600)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_chunks_stay_on_their_workers(cluster_client):
    """A chunk object reports its rows' size to Dask; each worker's actor
    builds the chunks planned for it, where their rows are (only the chunks
    the balance moves are copied, once), and the passes run there."""
    from dask.sizeof import sizeof

    from skngd._dask._chunks import Chunks, _holders, plan, row_blocks
    from skngd._dask.logistic import _Chunk

    X = np.random.default_rng(4).standard_normal((8000, 6))
    y = (X[:, 0] > 0).astype(int)
    assert sizeof(_Chunk(X, y, None, True, np.dtype(np.float64))) >= X.nbytes
    Xd = da.from_array(X, chunks=(1000, 6)).persist()
    yd = da.from_array(y, chunks=1000).persist()
    distributed.wait([Xd, yd])
    blocks = row_blocks(Xd, yd, None)
    before = _holders(cluster_client, blocks[0])
    chunks = Chunks(_Chunk, *blocks, [True] * 8, [np.dtype(np.float64)] * 8, rows=Xd.chunks[0])
    for _ in range(4):
        n = chunks.map_sum(lambda c: [c.X.shape[0]])[0]
    assert n == 8000 and chunks.n_passes == 4
    assert sorted(i for _, idx in chunks.groups for i in idx) == list(range(8))
    where = {i: w for w, idx in chunks.groups for i in idx}
    assert [where[i] for i in range(8)] == plan([1000] * 8, before, sorted(cluster_client.nthreads()))
    actors = cluster_client.who_has(chunks._actors)
    assert [actors[f.key][0] for f in chunks._actors] == [w for w, _ in chunks.groups]
    after = _holders(cluster_client, blocks[0])
    moved = sum(where[i] not in before[i] for i in range(8))
    assert all(before) and moved <= 4
    assert sum(len(h) > 1 for h in after) == moved  # the moved blocks were copied, no other
    chunks.release()


def test_plan_balances_rows_and_keeps_chunks_on_their_holders():
    from skngd._dask._chunks import plan

    w = ["a", "b"]
    # three of four equal chunks on "a": one moves, two stay
    where = plan([10, 10, 10, 10], [("a",), ("a",), ("a",), ("b",)], w)
    assert sorted(where) == ["a", "a", "b", "b"] and where[3] == "b"
    assert sum(x == y[0] for x, y in zip(where, [("a",), ("a",), ("a",), ("b",)])) == 3
    # unknown holders: balanced by rows, ragged last chunk
    where = plan([100, 100, 100, 50], [()] * 4, w)
    load = {x: sum(r for r, y in zip([100, 100, 100, 50], where) if y == x) for x in w}
    assert max(load.values()) <= 200
    # a chunk larger than the mean stays where it is
    assert plan([1000, 10, 10], [("b",), ("a",), ("a",)], w)[0] == "b"
    # holders that are not workers (gone) count as unknown
    assert set(plan([1, 1], [("gone",), ("gone",)], w)) == {"a", "b"}


def test_passes_fall_back_to_tasks_when_the_actors_are_lost(cluster_client):
    from skngd._dask._chunks import Chunks, row_blocks
    from skngd._dask.logistic import _Chunk

    X = np.random.default_rng(5).standard_normal((4000, 3))
    y = (X[:, 0] > 0).astype(int)
    Xd = da.from_array(X, chunks=(1000, 3)).persist()
    yd = da.from_array(y, chunks=1000).persist()
    chunks = Chunks(_Chunk, *row_blocks(Xd, yd, None), [True] * 4,
                    [np.dtype(np.float64)] * 4, rows=Xd.chunks[0])
    assert chunks.map_sum(lambda c: [c.X.sum()])[0] == pytest.approx(X.sum())
    assert chunks._actors
    cluster_client.cancel(chunks._actors)
    assert chunks.map_sum(lambda c: [c.X.sum()])[0] == pytest.approx(X.sum())
    assert chunks._actors is False  # tasks from now on
    with pytest.raises(ZeroDivisionError):  # a pass's own error is not a lost worker
        chunks.map_sum(lambda c: [1 / 0])
    chunks.release()


def test_large_chunks_match_the_in_memory_fits(cluster_client):
    """Chunks of Numba size: the fused logistic step and the GLM's subsample
    start on the workers reach the in-memory solutions."""
    from skngd._loss.family import NUMBA_MIN_SIZE

    rng = np.random.default_rng(6)
    n, d = 2 * NUMBA_MIN_SIZE + 777, 5  # ragged last chunk
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + rng.logistic(size=n) > 0).astype(int)
    Xd = da.from_array(X, chunks=(NUMBA_MIN_SIZE, d)).persist()
    ref = LogisticRegression(solver="newton", tol=1e-8).fit(X, y)
    est = LogisticRegression(solver="newton", tol=1e-8).fit(
        Xd, da.from_array(y, chunks=NUMBA_MIN_SIZE))
    assert rel(est.coef_, ref.coef_) < 1e-8
    assert est.n_iter_[0] == ref.n_iter_[0]  # the same iterates
    yp = rng.poisson(np.exp(0.3 * X.sum(axis=1))).astype(float)
    ref = PoissonRegressor(alpha=1e-3, tol=1e-10).fit(X, yp)
    est = PoissonRegressor(alpha=1e-3, tol=1e-10).fit(
        Xd, da.from_array(yp, chunks=NUMBA_MIN_SIZE))
    assert rel(est.coef_, ref.coef_) < 1e-8
    # the covariance uses the Gram matrix of the point that met tol (as in
    # memory); the two subsample starts meet it at different points
    assert rel(est.covariance_, ref.covariance_) < 1e-5
    default = PoissonRegressor(alpha=1e-3).fit(Xd, da.from_array(yp, chunks=NUMBA_MIN_SIZE))
    assert default.n_passes_ <= 6  # subsample start: one Gram matrix of all rows
    assert rel(default.coef_, ref.coef_) < 1e-4


def test_newton_skips_the_last_fisher_matrix_only_when_certified(cluster_client, monkeypatch):
    """The last pass of a Dask Newton fit may skip its Fisher matrix: the
    decrement there is then bounded from the previous one (a certificate);
    when the guess is wrong, one more pass forms it. The iterates are the
    in-memory ones either way."""
    from skngd._dask import design
    from skngd._loss.family import NUMBA_MIN_SIZE

    rng = np.random.default_rng(7)
    n, d = NUMBA_MIN_SIZE + 999, 4
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + rng.logistic(size=n) > 0).astype(int)
    Xd = da.from_array(X, chunks=(n // 2 + 1, d)).persist()
    yd = da.from_array(y, chunks=n // 2 + 1)
    ref = LogisticRegression(solver="newton", tol=1e-6).fit(X, y)
    est = LogisticRegression(solver="newton", tol=1e-6).fit(Xd, yd)
    assert est.n_passes_ == est.n_iter_[0] + 1  # certified: no extra pass
    assert rel(est.coef_, ref.coef_) < 1e-10 and est.n_iter_[0] == ref.n_iter_[0]
    monkeypatch.setattr(design, "_meets", lambda r, rho, steps, loss: True)  # always guessed
    wrong = LogisticRegression(solver="newton", tol=1e-6).fit(Xd, yd)
    assert wrong.n_passes_ > est.n_passes_  # the Fisher matrices formed afterwards
    assert rel(wrong.coef_, ref.coef_) < 1e-10 and wrong.n_iter_[0] == ref.n_iter_[0]


def test_glm_subsample_start_falls_back_to_mu0_on_small_chunks(cluster_client):
    """Chunks whose tenth is too small for a local fit (under 20 rows per
    coefficient): the fit starts from mu0 and still reaches the optimum."""
    rng = np.random.default_rng(8)
    n, d = 60_000, 4
    X = rng.standard_normal((n, d))
    y = rng.poisson(np.exp(0.2 * X.sum(axis=1))).astype(float)
    ref = PoissonRegressor(alpha=1e-3, tol=1e-10).fit(X, y)
    est = PoissonRegressor(alpha=1e-3, tol=1e-10).fit(
        da.from_array(X, chunks=(500, d)), da.from_array(y, chunks=500))
    assert rel(est.coef_, ref.coef_) < 1e-8


def test_actor_calls_fall_back_to_the_scheduler_when_workers_are_unreachable(
        cluster_client, monkeypatch):
    """Passes call the workers' actors directly; a client that cannot reach
    the workers (only the scheduler) goes through the scheduler instead,
    with the same result."""
    from skngd._dask import _chunks

    rng = np.random.default_rng(7)
    X = rng.standard_normal((3000, 4))
    y = (X[:, 0] + rng.logistic(size=3000) > 0).astype(int)
    Xd, yd = da.from_array(X, chunks=(1000, 4)), da.from_array(y, chunks=1000)
    ref = LogisticRegression(solver="newton").fit(X, y)
    LogisticRegression(solver="newton").fit(Xd, yd)  # defines _DirectActor
    assert _chunks._direct_ok[cluster_client.id] is True  # this machine's workers are reachable
    # direct calls that fail although the probe passed: through the scheduler
    base = _chunks._DirectActor.__mro__[1]._worker_rpc

    def unreachable(self):
        if self.direct:
            raise OSError("unreachable")
        return base.fget(self)

    monkeypatch.setattr(_chunks._DirectActor, "_worker_rpc", property(unreachable))
    est = LogisticRegression(solver="newton").fit(Xd, yd)
    assert _chunks._direct_ok[cluster_client.id] is False
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-8)
    # a probe that fails: no direct call is tried
    monkeypatch.delitem(_chunks._direct_ok, cluster_client.id)
    import distributed.comm

    async def refused(*args, **kwargs):
        raise OSError("unreachable")

    monkeypatch.setattr(distributed.comm, "connect", refused)
    monkeypatch.setattr(_chunks._DirectActor, "_worker_rpc", property(base.fget))
    est = LogisticRegression(solver="newton").fit(Xd, yd)
    assert _chunks._direct_ok[cluster_client.id] is False
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-8)
    monkeypatch.undo()
    _chunks._direct_ok.pop(cluster_client.id, None)  # probed again by the next fit
