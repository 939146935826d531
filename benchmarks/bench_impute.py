"""GaussianEMImputer beside scikit-learn's imputers and the oracle.

Data: n x d Gaussian with a random covariance (A A^T / d + 0.1 I) and a random
mean, 30% of the entries removed completely at random. For each imputer we
report the wall time of ``fit_transform`` and the RMSE on the removed
entries. The oracle imputes conditional means E[x_m | x_o] under the *true*
parameters (the best any imputer can do in mean squared error).

Threads. Every method runs twice on this (2-core) machine:

* ``1 core``: BLAS held to one thread (threadpoolctl) for everybody, skngd
  with ``n_jobs=1``;
* ``all cores``: skngd with ``n_jobs=-1`` (its Numba threads; it holds BLAS
  to one thread itself), scikit-learn with its default BLAS threads.

IterativeImputer runs at the full size (its cost is linear in n). KNNImputer
is quadratic in n: above ``--cap-rows`` rows it runs on a random subsample of
that many rows, its RMSE shown beside the oracle RMSE on the same subsample.
Times are the best of ``--repeat`` runs (one run for methods slower than
10 s); ratios come from the same run.

Usage: python benchmarks/bench_impute.py [--quick | --small] [--repeat R]
"""

import argparse
from contextlib import nullcontext
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import BayesianRidge

from skngd.impute import GaussianEMImputer
from skngd._solvers.em_gaussian import PatternData, e_step, precision_from_covariance


def make_data(n, d, rate, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    S = A @ A.T / d + 0.1 * np.eye(d)
    mu = rng.normal(size=d)
    X_full = rng.multivariate_normal(mu, S, size=n)
    X = X_full.copy()
    X[rng.random(X.shape) < rate] = np.nan
    return X_full, X, mu, S


def oracle(X, mu, S):
    data = PatternData(X)
    P, _ = precision_from_covariance(S)
    return data.unsort(e_step(data, mu, P).R + mu)


def rmse(X_imp, X_full, mask):
    return float(np.sqrt(np.mean((X_imp[mask] - X_full[mask]) ** 2)))


def timed(make, X, repeat):
    best, out, est = np.inf, None, None
    for _ in range(repeat):
        est = make()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = est.fit_transform(X)
        t = time.perf_counter() - t0
        best = min(best, t)
        if t > 10:
            break
    return out, best, est


def run_size(n, d, rate, cap_rows, repeat, seed=0):
    X_full, X, mu, S = make_data(n, d, rate, seed)
    mask = np.isnan(X)
    rows, times = [], {}
    t0 = time.perf_counter()
    X_or = oracle(X, mu, S)
    oracle_rmse = rmse(X_or, X_full, mask)
    rows.append(("oracle (true params)", "", time.perf_counter() - t0, oracle_rmse,
                 "conditional means, true mu/Sigma", oracle_rmse))
    rng = np.random.default_rng(seed + 1)
    sub = np.sort(rng.choice(n, size=min(n, cap_rows), replace=False))
    Xs, Xs_full, ms = X[sub], X_full[sub], mask[sub]
    sub_oracle = rmse(X_or[sub], Xs_full, ms)
    sub_note = "" if len(sub) == n else (
        f"subsample of {len(sub)} rows (oracle RMSE on it: {sub_oracle:.4f})")
    for cores in ("1 core", "all cores"):
        n_jobs = 1 if cores == "1 core" else -1
        limit = threadpool_limits(1, user_api="blas") if n_jobs == 1 else nullcontext()
        with limit:
            for init in ("complete_rows", "pairwise"):
                X_em, t, est = timed(lambda: GaussianEMImputer(init=init, n_jobs=n_jobs),
                                     X, repeat)
                label = "default" if init == "complete_rows" else f"init={init!r}"
                times[cores, label] = t
                rows.append((f"skngd GaussianEMImputer {label}", cores, t,
                             rmse(X_em, X_full, mask),
                             f"{est.n_iter_} E-steps after the start, converged={est.converged_}",
                             oracle_rmse))
            X_si, t, _ = timed(SimpleImputer, X, repeat)
            rows.append(("SimpleImputer(mean)", cores, t, rmse(X_si, X_full, mask), "",
                         oracle_rmse))
            X_ii, t, ii = timed(lambda: IterativeImputer(estimator=BayesianRidge(),
                                                         random_state=0), X, repeat)
            times[cores, "iterative"] = t
            rows.append(("IterativeImputer(BayesianRidge)", cores, t,
                         rmse(X_ii, X_full, mask), f"{ii.n_iter_} rounds", oracle_rmse))
    X_knn, t, _ = timed(lambda: KNNImputer(n_neighbors=5), Xs, 1)
    rows.append(("KNNImputer(k=5)", "all cores", t, rmse(X_knn, Xs_full, ms), sub_note,
                 sub_oracle))
    return rows, times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--small", action="store_true",
                        help="only the first (20,000 x 20) size of the full run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cap-rows", type=int, default=10_000,
                        help="subsample size for KNNImputer at large n")
    args = parser.parse_args(argv)
    sizes = [(5_000, 10), (10_000, 20)] if args.quick else [(20_000, 20), (200_000, 50)]
    if args.small:
        sizes = sizes[:1]
    # warm the Numba cache / compile outside the timings (on 5,000 x 20, above
    # the size below which the imputer runs on NumPy and never loads Numba)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for init in ("complete_rows", "pairwise"):
            GaussianEMImputer(init=init, max_iter=3, tol=0).fit_transform(
                make_data(5_000, 20, 0.3, 0)[1])
    rate = 0.3
    print(f"GaussianEMImputer benchmark: {int(rate * 100)}% MCAR, Gaussian data with a "
          "random covariance; fit_transform wall time (best of "
          f"{args.repeat}); RMSE on the missing entries")
    for n, d in sizes:
        rows, times = run_size(n, d, rate, args.cap_rows, args.repeat)
        print(f"\nn={n:,} x d={d}")
        w = max(len(r[0]) for r in rows)
        print(f"{'method'.ljust(w)}  {'threads':9}  {'time (s)':>9}  {'RMSE':>7}  "
              f"{'vs oracle':>9}  note")
        for name, cores, t, e, note, ref in rows:
            print(f"{name.ljust(w)}  {cores:9}  {t:9.3f}  {e:7.4f}  {e / ref - 1:+9.2%}  {note}")
        ii_best = min(times["1 core", "iterative"], times["all cores", "iterative"])
        for cores in ("1 core", "all cores"):
            ii = times[cores, "iterative"]
            print(f"speed-up over IterativeImputer, {cores}: "
                  + ", ".join(f"{label} {ii / times[cores, label]:.1f}x"
                              for label in ("default", "init='pairwise'")))
        print("speed-up of skngd on all cores over IterativeImputer's fastest run "
              f"({ii_best:.2f} s): "
              + ", ".join(f"{label} {ii_best / times['all cores', label]:.1f}x"
                          for label in ("default", "init='pairwise'")))


if __name__ == "__main__":
    main()
