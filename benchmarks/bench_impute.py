"""GaussianEMImputer beside scikit-learn's imputers and the oracle.

Data: n x d Gaussian with a random covariance (A A^T / d + 0.1 I) and a random
mean, 30% of the entries removed completely at random. For each imputer we
report the wall time of ``fit_transform`` and the RMSE on the removed entries. The
oracle imputes conditional means E[x_m | x_o] under the *true* parameters
(the best any imputer can do in mean squared error).

KNNImputer and IterativeImputer are quadratic / slow at the large size on a
2-core machine: above ``--cap-rows`` rows they run on a random subsample of
that many rows (their RMSE is then on the subsample, shown beside the oracle
RMSE on the same subsample), and the IterativeImputer time is also
extrapolated linearly to the full n (its cost is linear in n: one
BayesianRidge SVD of an n x (d-1) matrix per feature and round), labelled as
such. All timings run with one BLAS thread (threadpoolctl), so that BLAS
threads do not fight each other on shared cores; skngd is timed with
``n_jobs=1`` and ``n_jobs=2`` Numba threads.

Usage: python benchmarks/bench_impute.py [--quick]
"""

import argparse
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


def timed(est, X):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = est.fit_transform(X)
    return out, time.perf_counter() - t0


def run_size(n, d, rate, cap_rows, seed=0):
    X_full, X, mu, S = make_data(n, d, rate, seed)
    mask = np.isnan(X)
    rows = []
    t0 = time.perf_counter()
    X_or = oracle(X, mu, S)
    oracle_rmse = rmse(X_or, X_full, mask)
    rows.append(("oracle (true params)", time.perf_counter() - t0, oracle_rmse,
                 "conditional means, true mu/Sigma", oracle_rmse))
    em_times = {}
    for init, n_jobs in (("complete_rows", 1), ("pairwise", 1), ("pairwise", 2)):
        est = GaussianEMImputer(init=init, n_jobs=n_jobs)
        X_em, t = timed(est, X)
        em_times[init, n_jobs] = t
        label = "default" if init == "complete_rows" else f"init={init!r}"
        rows.append((f"skngd GaussianEMImputer {label} n_jobs={n_jobs}", t,
                     rmse(X_em, X_full, mask),
                     f"{est.n_iter_} updates, converged={est.converged_}",
                     oracle_rmse))
    X_si, t = timed(SimpleImputer(), X)
    rows.append(("SimpleImputer(mean)", t, rmse(X_si, X_full, mask), "",
                 oracle_rmse))

    rng = np.random.default_rng(seed + 1)
    sub = np.sort(rng.choice(n, size=min(n, cap_rows), replace=False))
    Xs, Xs_full, ms = X[sub], X_full[sub], mask[sub]
    sub_oracle = rmse(X_or[sub], Xs_full, ms)
    sub_note = "" if len(sub) == n else (
        f"subsample of {len(sub)} rows (RMSE vs oracle on it: {sub_oracle:.4f})")
    X_knn, t = timed(KNNImputer(n_neighbors=5), Xs)
    rows.append(("KNNImputer(k=5)", t, rmse(X_knn, Xs_full, ms), sub_note,
                 sub_oracle))
    ii = IterativeImputer(estimator=BayesianRidge(), random_state=0)
    X_ii, t = timed(ii, Xs)
    note = f"{ii.n_iter_} rounds"
    ii_full_time = t
    if len(sub) < n:
        ii_full_time = t * n / len(sub)
        note += f"; {sub_note}; time x{n / len(sub):.0f} -> {ii_full_time:.1f}s (linear extrapolation)"
    rows.append(("IterativeImputer(BayesianRidge)", t, rmse(X_ii, Xs_full, ms), note,
                 sub_oracle))
    return rows, oracle_rmse, em_times, ii_full_time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--cap-rows", type=int, default=None,
                        help="subsample size for KNN/IterativeImputer at large n")
    args = parser.parse_args(argv)
    if args.quick:
        sizes, cap = [(5_000, 10), (10_000, 20)], args.cap_rows or 10_000
    else:
        sizes, cap = [(20_000, 20), (200_000, 50)], args.cap_rows or 10_000
    # warm the Numba cache / compile outside the timings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        GaussianEMImputer(max_iter=2, tol=0).fit(make_data(50, 3, 0.3, 0)[1])
    rate = 0.3
    print(f"GaussianEMImputer benchmark: {int(rate * 100)}% MCAR, Gaussian data with a "
          "random covariance; fit_transform wall time; RMSE on the missing entries")
    for n, d in sizes:
        with threadpool_limits(1, user_api="blas"):
            rows, _, em_t, ii_t = run_size(n, d, rate,
                                           cap_rows=cap if n > 20_000 else n)
        print(f"\nn={n:,} x d={d}")
        w = max(len(r[0]) for r in rows)
        print(f"{'method'.ljust(w)}  {'time (s)':>9}  {'RMSE':>7}  {'vs oracle':>9}  note")
        for name, t, e, note, ref in rows:
            print(f"{name.ljust(w)}  {t:9.3f}  {e:7.4f}  {e / ref - 1:+9.2%}  {note}")
        print("speed-up over IterativeImputer (time ratio; BLAS 1 thread for all, skngd Numba threads = n_jobs): "
              + ", ".join(f"init={k[0]!r} n_jobs={k[1]}: {ii_t / t:.1f}x"
                          for k, t in em_t.items()))


if __name__ == "__main__":
    main()
