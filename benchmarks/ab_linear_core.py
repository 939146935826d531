"""A/B timing of two skngd source trees on the skngd rows of
``bench_logistic.py`` (quick sizes), ``bench_glm.py`` and ``bench_robust.py``.

Two worker processes, one per tree (``PYTHONPATH=<tree>``), build the same
data and fit on request; the parent interleaves them (before, after, before,
...) for ``--rounds`` rounds, so both see the same machine load, and reports
the best time of each and their ratio. It also checks that both trees return
the same coefficients (max abs difference).

    python benchmarks/ab_linear_core.py --before /path/to/old --after . [--rounds 5] [--only robust]
"""

import argparse
import json
import os
import subprocess
import sys
import time

WORKER = r"""
import json, sys, time, warnings
import numpy as np
sys.path.insert(0, {bench!r})
warnings.simplefilter("ignore")
from threadpoolctl import threadpool_limits
threadpool_limits(1)
import bench_glm, bench_logistic, bench_robust
from skngd.linear_model import GeneralizedLinearRegressor, LogisticRegression, StudentTRegressor

data = {{}}

def get(key):
    if key not in data:
        kind = key.split(":")[0]
        if kind == "binary":
            data[key] = bench_logistic.make_binary(20000, 100, False)
        elif kind == "ill":
            data[key] = bench_logistic.make_binary(20000, 100, True)
        elif kind == "multinomial":
            data[key] = bench_logistic.make_multinomial(10000, 50, 10)
        elif kind == "sparse":
            data[key] = bench_logistic.make_sparse(10000, 4000, 0.005)
        elif kind == "glm":
            probs = {{name: (fam, power, X, y) for name, fam, power, X, y
                      in bench_glm.make_problems(200000)}}
            for name, v in probs.items():
                data["glm:" + name] = v
        elif kind == "robust":
            frac = float(key.split(":")[1])
            data[key] = bench_robust.make_data(100000, 20, frac)[:2]
        elif kind == "bundled":
            from sklearn import datasets
            from sklearn.preprocessing import StandardScaler
            X, y = getattr(datasets, "load_" + key.split(":")[1])(return_X_y=True)
            data[key] = (StandardScaler().fit_transform(X), y)
    return data[key]

def fit(cfg):
    kind, arg = cfg.split("|")
    if kind.startswith("glm:"):
        fam, power, X, y = get(kind)
        est = GeneralizedLinearRegressor(family=fam, link="log", power=power)
        t = time.perf_counter(); est.fit(X, y); t = time.perf_counter() - t
        return t, np.r_[est.intercept_, est.coef_]
    if kind.startswith("robust:"):
        X, y = get(kind)
        nu = {{"default": "adaptive", "4": 4.0, "auto": "auto"}}[arg]
        est = StudentTRegressor(nu=nu)
        t = time.perf_counter(); est.fit(X, y); t = time.perf_counter() - t
        return t, np.r_[est.intercept_, est.coef_]
    X, y = get(kind)
    est = LogisticRegression(solver=arg, max_iter=1000 if arg == "mm" else None)
    t = time.perf_counter(); est.fit(X, y); t = time.perf_counter() - t
    return t, np.r_[est.intercept_.ravel(), est.coef_.ravel()]

for line in sys.stdin:
    cfg = line.strip()
    t, coef = fit(cfg)
    print(json.dumps([t, coef.tolist()]), flush=True)
"""

CONFIGS = (
    [f"{d}|{s}" for d in ("binary", "ill") for s in ("auto", "ngd", "mm", "newton")]
    + [f"multinomial|{s}" for s in ("auto", "ngd", "mm", "newton")]
    + [f"sparse|{s}" for s in ("auto", "ngd")]
    + [f"bundled:{d}|{s}" for d in ("breast_cancer", "wine", "digits") for s in ("mm", "newton")]
    + [f"glm:{p}|irls" for p in ("poisson-log dense", "poisson-log ill-conditioned",
                                  "gamma-log dense", "tweedie(1.5)-log CSR")]
    + [f"robust:{f}|{nu}" for f in ("0.1", "0.3") for nu in ("default", "4", "auto")]
)


def start(tree):
    bench = os.path.abspath(os.path.join(tree, "benchmarks"))
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
    return subprocess.Popen([sys.executable, "-c", WORKER.format(bench=bench)], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def ask(proc, cfg):
    proc.stdin.write(cfg + "\n")
    proc.stdin.flush()
    t, coef = json.loads(proc.stdout.readline())
    return t, coef


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="", help="configs containing this substring")
    args = ap.parse_args(argv)
    configs = [c for c in CONFIGS if args.only in c]
    workers = {"before": start(args.before), "after": start(args.after)}
    best = {(k, c): float("inf") for k in workers for c in configs}
    coefs = {}
    for k, w in workers.items():  # warm-up: data, imports, Numba cache loads
        for c in configs:
            coefs[k, c] = ask(w, c)[1]
    t0 = time.time()
    for r in range(args.rounds):
        order = list(workers) if r % 2 == 0 else list(workers)[::-1]
        for c in configs:
            for k in order:
                best[k, c] = min(best[k, c], ask(workers[k], c)[0])
    for w in workers.values():
        w.stdin.close()
        w.wait()
    print(f"# A/B, best of {args.rounds} interleaved rounds after one warm-up "
          f"({time.time() - t0:.0f} s), BLAS 1 thread, skngd n_jobs=None")
    print(f"{'config':44s} {'before (s)':>10s} {'after (s)':>10s} {'ratio':>6s} {'max|dcoef|':>11s}")
    for c in configs:
        b, a = best["before", c], best["after", c]
        diff = max(abs(x - y) for x, y in zip(coefs["before", c], coefs["after", c]))
        print(f"{c:44s} {b:10.4f} {a:10.4f} {a / b:6.3f} {diff:11.1e}")


if __name__ == "__main__":
    main()
