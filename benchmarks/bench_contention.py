"""Fits under load: each skngd estimator and its peers, timed on a quiet
machine and beside a competing CPU-bound process, with the slowdown of each.

A fit that collapses when the machine is busy (threads spinning against each
other, or against the other process, while one of them waits for a core) is a
defect even if its quiet time is good. Every method runs at its defaults
(skngd: ``n_jobs=None``; the peers: their default threading), on the same data
in the same process. ``--competitors K`` busy-loop processes (default 1: one of
the two cores taken) start before the loaded timings and are killed after.

Quiet and loaded fits alternate in ``--repeat`` rounds (the competitors start
and stop in each round), so drifting background load reaches both alike.
Reported per method: median and worst of ``--repeat`` fits quiet and loaded,
and slowdown = loaded median / quiet median. The last column gives skngd's
slowdown over its peers' best (target: <= 1, i.e. skngd degrades no more than
the peers).

    python benchmarks/bench_contention.py [--repeat 5] [--competitors 1] [--only robust]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

_BUSY = "while True:\n    pass\n"


def _logistic():
    from sklearn.linear_model import LogisticRegression as SkLR

    from skngd import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 30))
    y = (X @ rng.normal(size=30) * 0.5 + rng.logistic(size=len(X)) > 0).astype(int)
    return "logistic 100k x 30", (X, y), [
        ("skngd LogisticRegression", LogisticRegression),
        ("sklearn LogisticRegression lbfgs", lambda: SkLR(max_iter=1000)),
    ]


def _poisson():
    from sklearn.linear_model import PoissonRegressor as SkP

    from skngd import PoissonRegressor

    rng = np.random.default_rng(1)
    X = rng.normal(size=(100_000, 30))
    y = rng.poisson(np.exp(0.3 + X @ rng.normal(size=30) * 0.1)).astype(float)
    methods = [("skngd PoissonRegressor", PoissonRegressor),
               ("sklearn PoissonRegressor lbfgs", SkP),
               ("sklearn PoissonRegressor newton-cholesky",
                lambda: SkP(solver="newton-cholesky"))]
    try:
        import glum

        methods.append(("glum GeneralizedLinearRegressor",
                        lambda: glum.GeneralizedLinearRegressor(family="poisson", alpha=1.0)))
    except ImportError:  # pragma: no cover - optional peer
        pass
    return "poisson 100k x 30", (X, y), methods


def _robust():
    from sklearn.linear_model import HuberRegressor

    from skngd import StudentTRegressor

    rng = np.random.default_rng(2)
    X = rng.normal(size=(100_000, 20))
    y = X @ rng.normal(size=20) + 1.0 + rng.normal(size=len(X))
    out = rng.random(len(X)) < 0.1
    y[out] += rng.uniform(10, 50, size=out.sum())
    return "robust 100k x 20", (X, y), [
        ("skngd StudentTRegressor", StudentTRegressor),
        ("sklearn HuberRegressor", lambda: HuberRegressor(max_iter=1000)),
    ]


def _impute():
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer

    from skngd import GaussianEMImputer

    rng = np.random.default_rng(3)
    A = rng.normal(size=(20, 20))
    X = rng.normal(size=(20_000, 20)) @ A
    X[rng.random(X.shape) < 0.3] = np.nan
    return "impute 20k x 20, 30% MCAR", (X,), [
        ("skngd GaussianEMImputer", GaussianEMImputer),
        ("sklearn IterativeImputer", IterativeImputer),
        ("sklearn KNNImputer (2k rows)", lambda: _Sub(KNNImputer(), 2000)),
    ]


def _ot():
    from skngd import OTDomainAdapter

    rng = np.random.default_rng(4)
    Xs = rng.normal(size=(1500, 10))
    Xt = rng.normal(size=(1500, 10)) @ (np.eye(10) + 0.2 * rng.normal(size=(10, 10))) + 1.0
    X = np.r_[Xs, Xt]
    y = np.r_[rng.integers(0, 3, 1500), -np.ones(1500, dtype=int)]
    methods = [("skngd OTDomainAdapter", OTDomainAdapter)]
    try:
        import ot

        methods += [("POT SinkhornTransport", lambda: _POT(ot.da.SinkhornTransport())),
                    ("POT EMDTransport", lambda: _POT(ot.da.EMDTransport()))]
    except ImportError:  # pragma: no cover - POT is a dependency
        pass
    return "OT 1500 -> 1500 x 10", (X, y), methods


class _Sub:
    """Fit a peer on the first ``n`` rows (peers too slow at full size)."""

    def __init__(self, est, n):
        self.est, self.n = est, n

    def fit(self, X, *rest):
        self.est.fit(X[: self.n], *(r[: self.n] for r in rest))
        return self


class _POT:
    """POT's transport classes take (Xs, Xt) instead of stacked X with masked labels."""

    def __init__(self, tr):
        self.tr = tr

    def fit(self, X, y):
        src = y >= 0
        self.tr.fit(Xs=X[src], ys=y[src], Xt=X[~src])
        return self


class _BlasLoop:
    """Reference, not an estimator: one-thread BLAS products (compute-bound)."""

    def fit(self, X, y=None):
        from threadpoolctl import threadpool_limits

        w = np.ones(X.shape[1])
        with threadpool_limits(1):
            for _ in range(40):
                X @ w
        return self


class _PythonLoop:
    """Reference, not an estimator: an interpreter-bound loop (one thread)."""

    def fit(self, X, y=None):
        s = 0
        for i in range(1_000_000):
            s += i
        return self


def _machine():
    """What the machine does to any single-threaded work beside the competitor:
    if these slow down as much as skngd's fits, the slowdown is the machine's
    (cores shared below the VM), not thread oversubscription in the fit."""
    X = np.random.default_rng(0).normal(size=(100_000, 30))
    return "machine reference (one thread, no estimator)", (X,), [
        ("one-thread BLAS products X @ w", _BlasLoop),
        ("pure-Python loop", _PythonLoop),
    ]


CASES = {"machine": _machine, "logistic": _logistic, "poisson": _poisson, "robust": _robust,
         "impute": _impute, "ot": _ot}


def _times(make, data, repeat):
    out = []
    for _ in range(repeat):
        est = make()
        t0 = time.perf_counter()
        est.fit(*data)
        out.append(time.perf_counter() - t0)
    return out


def _competitors(k):
    procs = [subprocess.Popen([sys.executable, "-c", _BUSY]) for _ in range(k)]
    time.sleep(0.5)
    return procs


def run_case(name, repeat, competitors):
    """Quiet and loaded timings in interleaved rounds: each round times every
    method once quiet, then starts the competitors and times every method once
    loaded, then stops them. Drift in the machine's background load (these are
    shared machines) then reaches both columns alike instead of biasing one."""
    task, data, methods = CASES[name]()
    quiet = {label: [] for label, _ in methods}
    loaded = {label: [] for label, _ in methods}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, make in methods:  # warm-up: imports, Numba cache, first-call costs
            make().fit(*data)
        for _ in range(repeat):
            for label, make in methods:
                quiet[label] += _times(make, data, 1)
            procs = _competitors(competitors)
            try:
                for label, make in methods:
                    loaded[label] += _times(make, data, 1)
            finally:
                for p in procs:
                    p.kill()
                for p in procs:
                    p.wait()
    rows = []
    for label, _ in methods:
        q, ld = statistics.median(quiet[label]), statistics.median(loaded[label])
        rows.append((label, q, max(quiet[label]), ld, max(loaded[label]), ld / q))
    return task, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--competitors", type=int, default=1)
    parser.add_argument("--only", default="")
    args = parser.parse_args(argv)
    print(f"Fit time quiet and beside {args.competitors} busy-loop process(es), "
          f"median and worst of {args.repeat}; slowdown = loaded median / quiet median")
    head = (f"{'method':<42}{'quiet':>8}{'worst':>8}{'loaded':>9}{'worst':>8}"
            f"{'slowdown':>10}{'vs peers':>10}")
    for name in CASES:
        if args.only and args.only not in name:
            continue
        load0 = os.getloadavg()[0]
        task, rows = run_case(name, args.repeat, args.competitors)
        print(f"\n{task}  (1-min load average {load0:.2f} before the case)\n{head}\n"
              f"{'-' * len(head)}")
        peers = [r[5] for r in rows if not r[0].startswith("skngd")]
        best_peer = min(peers) if peers else float("nan")
        for label, q, qw, ld, lw, s in rows:
            rel = f"{s / best_peer:10.2f}" if label.startswith("skngd") else ""
            print(f"{label:<42}{q:8.3f}{qw:8.3f}{ld:9.3f}{lw:8.3f}{s:10.2f}{rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
