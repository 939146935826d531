"""skngd on Dask arrays beside dask-ml (dask-glm's solvers) on a real
LocalCluster (2 worker processes, 1 thread each).

Prints, for logistic regression and Poisson regression on persisted data
generated on the workers: skngd's time, passes and objective beside every
dask-ml solver's time and relative objective gap (the objective is dask-glm's,
``sum of per-sample losses + lam/2 ||b||^2`` on all coefficients, so both fit
the same problem: a column of ones stands for the intercept); the EM imputer
on Dask against its in-memory fit on the same cores; peak RSS per worker and
of the client during the largest fit; and a scaling table (time vs rows and
vs chunk size, with passes x per-pass cost).

    python benchmarks/bench_dask.py            # the target sizes (~15 min on 2 cores)
    python benchmarks/bench_dask.py --quick    # small sizes (smoke test)
"""

import argparse
import threading
import time

import numpy as np

_GAP = 1e-6  # a dask-ml solver within this relative objective gap counts as converged
_GAP_TIGHT = 1e-9  # ... and at skngd's objective (its own gap is ~1e-11)


# -- memory sampling (runs on each worker via client.run, and on the client) --
class _Sampler:
    def __init__(self):
        import psutil

        self.proc, self.peak, self.stop = psutil.Process(), 0, threading.Event()
        self.base = self.proc.memory_info().rss
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)

    def finish(self):
        self.stop.set()
        self.thread.join()
        return self.base, max(self.peak, self.proc.memory_info().rss)


def _start_sampler(dask_worker):
    dask_worker._skngd_sampler = _Sampler()


def _stop_sampler(dask_worker):
    return dask_worker._skngd_sampler.finish()


# -- data generated on the workers --------------------------------------------
def _block(kind, m, p, beta, seed, i, what):
    """Row chunk ``i`` of ``X`` (last column ones) or of ``y`` (its own seed)."""
    rng = np.random.default_rng([seed, i])
    X = np.empty((m, p))
    X[:, :-1] = rng.standard_normal((m, p - 1))
    X[:, -1] = 1.0
    if what == "X":
        return X
    eta = X @ beta
    if kind == "logistic":
        return (rng.random(m) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float64)
    return rng.poisson(np.exp(0.5 * eta)).astype(np.float64)


def make_data(kind, n, p, chunk, seed=0):
    """Persisted ``X`` (last column ones) and ``y``; never on the client.
    Chunk ``i`` of both is generated on worker ``i mod n_workers`` (a
    balanced, co-located layout, as a well-partitioned persisted table has:
    neither library then moves rows between workers)."""
    import dask
    import dask.array as da
    from distributed import default_client, wait

    workers = sorted(default_client().nthreads())
    beta = np.random.default_rng(seed).standard_normal(p) / np.sqrt(p)
    xs, ys = [], []
    for i, start in enumerate(range(0, n, chunk)):
        m = min(chunk, n - start)
        with dask.annotate(workers=[workers[i % len(workers)]], allow_other_workers=False):
            bx = dask.delayed(_block, pure=True)(kind, m, p, beta, seed, i, "X")
            by = dask.delayed(_block, pure=True)(kind, m, p, beta, seed, i, "y")
        xs.append(da.from_delayed(bx, (m, p), dtype=np.float64))
        ys.append(da.from_delayed(by, (m,), dtype=np.float64))
    X, y = da.concatenate(xs), da.concatenate(ys)
    X, y = dask.persist(X, y, optimize_graph=False)
    wait([X, y])
    return X, y


def objective(kind, X, y, b, lam):
    """dask-glm's objective at ``b`` (one pass on the cluster)."""
    eta = X @ b
    if kind == "logistic":
        loss = (da_log1pexp(eta) - y * eta).sum()
    else:
        import dask.array as da

        loss = (da.exp(eta) - y * eta).sum()
    return float(loss.compute()) + 0.5 * lam * float(b @ b)


def da_log1pexp(eta):
    import dask.array as da

    return da.maximum(eta, 0) + da.log1p(da.exp(-abs(eta)))


def fit_skngd(kind, X, y, lam, **kw):
    from skngd.linear_model import LogisticRegression, PoissonRegressor

    if kind == "logistic":
        est = LogisticRegression(C=1.0 / lam, fit_intercept=False, **kw)
    else:
        S = X.shape[0]
        est = PoissonRegressor(alpha=lam / S, fit_intercept=False, **kw)
    t = time.perf_counter()
    est.fit(X, y)
    t = time.perf_counter() - t
    return est, t, np.ravel(est.coef_)


def fit_daskml(kind, X, y, lam, solver, max_iter=100):
    from dask_ml.linear_model import LogisticRegression, PoissonRegression

    cls = LogisticRegression if kind == "logistic" else PoissonRegression
    est = cls(C=1.0 / lam, fit_intercept=False, solver=solver, max_iter=max_iter)
    t = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - t, np.ravel(est.coef_)


_FAST = ("lbfgs", "newton")  # dask-ml solvers timed as often as skngd (the others once)


def compare(kind, n, p, chunk, solvers, lam=1.0, repeat=3):
    """skngd beside every dask-ml solver on the same persisted data. skngd and
    the fast dask-ml solvers are timed ``repeat`` times, interleaved, and
    their best time is reported (single fits vary by up to 2x on a shared
    machine); the slow ones once."""
    t0 = time.perf_counter()
    X, y = make_data(kind, n, p, chunk)
    warm = 2 * X.chunks[0][0]  # chunks as large as the real ones: the Numba paths
    fit_skngd(kind, X[:warm], y[:warm], lam, max_iter=2)  # warm the workers
    fit_daskml(kind, X[:warm], y[:warm], lam, "newton", max_iter=2)
    rows = []
    times = {"skngd": [], **{s: [] for s in solvers if s in _FAST}}
    fits = {}
    for _ in range(repeat):
        est, t, b = fit_skngd(kind, X, y, lam)
        times["skngd"].append(t)
        fits["skngd"] = (est, b)
        for solver in _FAST:
            if solver in times:
                t, bs = fit_daskml(kind, X, y, lam, solver)
                times[solver].append(t)
                fits[solver] = bs
    est, b = fits["skngd"]
    f0 = objective(kind, X, y, b, lam)
    label = f"skngd {getattr(est, 'solver_', 'irls')}"
    rows.append((label, min(times["skngd"]), est.n_passes_, f0, 0.0))
    print("\n(all times, s: " + "; ".join(f"{k} " + " ".join(f"{v:.3f}" for v in ts)
                                         for k, ts in times.items()) + ")")
    for solver in solvers:
        try:
            if solver in times:
                t, b = min(times[solver]), fits[solver]
            else:
                t, b = fit_daskml(kind, X, y, lam, solver)
            f = objective(kind, X, y, b, lam)
            rows.append((f"dask-ml {solver}", t, None, f, (f - f0) / abs(f0)))
        except Exception as exc:  # noqa: BLE001 - report and go on
            rows.append((f"dask-ml {solver} ({type(exc).__name__})", np.nan, None, np.nan,
                         np.nan))
    print(f"## {kind} {n:,} x {p} (chunks of {chunk:,} rows, persisted), lam = {lam}; "
          f"best of {repeat} for skngd, {', '.join(times.keys() - {'skngd'})}")
    print(f"{'fit':34s} {'time s':>8s} {'passes':>7s} {'objective':>20s} {'rel. gap':>10s}")
    for name, t, passes, f, gap in rows:
        ps = "" if passes is None else str(passes)
        print(f"{name:34s} {t:8.2f} {ps:>7s} {f:20.10f} {gap:10.1e}")
    for gap in (_GAP, _GAP_TIGHT):
        ok = [r for r in rows[1:] if np.isfinite(r[4]) and r[4] <= gap]
        if ok:
            best = min(ok, key=lambda r: r[1])
            print(f"fastest converged dask-ml (gap <= {gap:g}): {best[0]} {best[1]:.2f} s; "
                  f"skngd / it = {rows[0][1] / best[1]:.3f}")
        else:
            print(f"no dask-ml solver reached a relative gap <= {gap:g}")
    print(f"(section {time.perf_counter() - t0:.0f} s; load average {_load()})", flush=True)
    return X, y


def _trim():
    """Hand glibc's free heap back (so "RSS before" is live memory, not
    what earlier fits, skngd's or dask-ml's, left free in the heap)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def memory(client, kind, X, y, lam):
    """Peak RSS per worker and of the client during one fit (from live
    memory: the heaps are trimmed first)."""
    client.run(_trim)
    _trim()
    client.run(_start_sampler)
    me = _Sampler()
    est, t, _ = fit_skngd(kind, X, y, lam)
    cbase, cpeak = me.finish()
    per = client.run(_stop_sampler)
    nbytes = X.nbytes / len(per)
    chunk = X.chunks[0][0] * X.shape[1] * 8
    print(f"\n## memory during the {kind} fit of {X.shape[0]:,} x {X.shape[1]} ({t:.2f} s)")
    print(f"data per worker {nbytes / 2**20:.0f} MiB, one chunk {chunk / 2**20:.1f} MiB")
    for addr, (base, peak) in per.items():
        print(f"worker {addr}: RSS before {base / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB "
              f"(+{(peak - base) / 2**20:.0f} MiB = {(peak - base) / chunk:.1f} chunks)")
    print(f"client: RSS before {cbase / 2**20:.0f} MiB, peak {cpeak / 2**20:.0f} MiB "
          f"(+{(cpeak - cbase) / 2**20:.1f} MiB; p = {X.shape[1]}, p^2 doubles = "
          f"{8 * X.shape[1] ** 2 / 2**10:.0f} KiB)")


def em(client, n, d, chunk):
    import dask.array as da

    from skngd.impute import GaussianEMImputer

    rng = da.random.default_rng(5)
    A = np.random.default_rng(5).standard_normal((d, d)) / np.sqrt(d)
    X = rng.standard_normal((n, d), chunks=(chunk, d)) @ A
    X = da.where(rng.random((n, d), chunks=(chunk, d)) < 0.2, np.nan, X).persist()
    import warnings

    warnings.simplefilter("ignore")  # the warm-up fits stop at max_iter=2
    GaussianEMImputer(max_iter=2).fit(X[: 2 * chunk])  # warm the workers
    t = time.perf_counter()
    est = GaussianEMImputer().fit(X)
    t_dask = time.perf_counter() - t
    Xl = X.compute()
    GaussianEMImputer(max_iter=2, n_jobs=2).fit(Xl[: 2 * chunk])
    t = time.perf_counter()
    ref = GaussianEMImputer(n_jobs=2).fit(Xl)
    t_mem = time.perf_counter() - t
    err = np.max(np.abs(est.covariance_ - ref.covariance_)) / np.max(np.abs(ref.covariance_))
    print(f"\n## GaussianEMImputer {n:,} x {d}, 20 % missing (chunks of {chunk:,} rows)")
    print(f"in memory (n_jobs=2): {t_mem:.2f} s, {ref.n_iter_} iterations")
    print(f"Dask (2 workers): {t_dask:.2f} s, {est.n_iter_} iterations, {est.n_passes_} passes; "
          f"ratio {t_dask / t_mem:.2f}; covariance rel. difference {err:.1e}")
    del Xl


def scaling(sizes, chunks, p_rows, p_chunk, n_chunk):
    print("\n## scaling: LogisticRegression (auto solver) on persisted data, lam = 1")
    print(f"{'rows':>10s} {'p':>4s} {'chunk':>8s} {'solver':>7s} {'time s':>8s} "
          f"{'passes':>7s} {'s / pass':>9s}")
    cases = [(n, p_rows, min(250_000, n // 4)) for n in sizes]
    cases += [(n_chunk, p_chunk, c) for c in chunks]
    for n, p, c in cases:
        X, y = make_data("logistic", n, p, c, seed=1)
        fit_skngd("logistic", X[: 2 * c], y[: 2 * c], 1.0, max_iter=2)
        est, t, _ = fit_skngd("logistic", X, y, 1.0)
        print(f"{n:10,d} {p:4d} {c:8,d} {est.solver_:>7s} {t:8.2f} {est.n_passes_:7d} "
              f"{t / est.n_passes_:9.3f}")
        del X, y


def _load():
    import os

    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    import warnings

    warnings.simplefilter("ignore")  # warm-up fits stop at max_iter; overflow in dask-ml
    from distributed import Client, LocalCluster

    solvers = ["lbfgs", "newton", "admm", "proximal_grad", "gradient_descent"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        print(f"LocalCluster: {len(client.scheduler_info()['workers'])} worker processes, "
              f"1 thread each; load average {_load()}")
        if args.quick:
            X, y = compare("logistic", 40_000, 10, 10_000, solvers)
            memory(client, "logistic", X, y, 1.0)
            compare("poisson", 40_000, 10, 10_000, solvers)
            em(client, 40_000, 10, 10_000)
            scaling([20_000, 40_000], [5_000, 20_000], 10, 10, 40_000)
            return
        t0 = time.perf_counter()
        compare("logistic", 400_000, 30, 100_000, solvers, repeat=5)
        compare("poisson", 400_000, 30, 100_000, solvers, repeat=5)
        em(client, 1_000_000, 30, 125_000)
        # admm: minutes at this size (10 s at 40,000 x 10 already); the others run
        big = [s for s in solvers if s != "admm"]
        X, y = compare("logistic", 2_000_000, 50, 250_000, big)
        memory(client, "logistic", X, y, 1.0)
        del X, y
        compare("poisson", 2_000_000, 50, 250_000, big)
        scaling([250_000, 500_000, 1_000_000, 2_000_000], [25_000, 50_000, 100_000, 250_000],
                50, 30, 1_000_000)
        print(f"\ntotal {time.perf_counter() - t0:.0f} s; load average {_load()}")

if __name__ == "__main__":
    main()
