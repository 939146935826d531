"""Benchmark: skngd GLM (IRLS) beside glum, scikit-learn and statsmodels.

Unpenalised fits with an intercept on four problems (same data for every
solver, in one run):

* Poisson-log, dense 200,000 x 50, standard-normal columns;
* Poisson-log, dense 200,000 x 50, columns scaled from 10^-1.5 to 10^1.5
  (ill-conditioned);
* gamma-log, dense 200,000 x 50;
* Tweedie(1.5)-log, sparse CSR 200,000 x 100 (5 % non-zeros).

Every solver runs with its default stopping rule and threading (skngd:
``n_jobs=None``, i.e. one Numba and one BLAS thread; the peers: all cores, or
``--peer-threads N`` BLAS/OpenMP threads). The table shows the best
fit time over ``--repeat`` runs, the final deviance (evaluated by the same
function for every solver from its predicted means) and its relative gap to
the lowest deviance reached; a solver counts as converged at ``gap <= 1e-8``.
The last columns give skngd's time over the fastest converged peer and over
statsmodels.

Usage: ``python benchmarks/bench_glm.py [--quick] [--repeat R]``
(``--quick``: 20,000 rows).
"""

import argparse
import time
import warnings

import numpy as np
import scipy.sparse as sp

from skngd._loss import get_family
from skngd.linear_model import GeneralizedLinearRegressor

GAP_TOL = 1e-8


def make_problems(n, seed=0):
    rng = np.random.default_rng(seed)
    p = 50
    X = rng.standard_normal((n, p))
    beta = rng.normal(size=p) * 0.5 / np.sqrt(p)
    mu = np.exp(0.5 + X @ beta)
    y_pois = rng.poisson(mu).astype(float)
    scales = 10.0 ** np.linspace(-1.5, 1.5, p)
    X_ill = X * scales
    y_gamma = rng.gamma(2.0, mu / 2.0)
    ps = 100
    Xs = sp.random(n, ps, density=0.05, format="csr", random_state=seed, dtype=np.float64)
    Xs.data = rng.standard_normal(Xs.data.shape[0])
    mus = np.exp(0.3 + Xs @ (rng.normal(size=ps) * 0.3))
    n_claims = rng.poisson(mus / 2.0)
    y_tw = np.where(n_claims > 0, rng.gamma(np.maximum(n_claims, 1) * 2.0, 1.0), 0.0)
    return [
        ("poisson-log dense", "poisson", None, X, y_pois),
        ("poisson-log ill-conditioned", "poisson", None, X_ill, y_pois),
        ("gamma-log dense", "gamma", None, X, y_gamma),
        ("tweedie(1.5)-log CSR", "tweedie", 1.5, Xs, y_tw),
    ]


def _skngd(family, power, X, y):
    return GeneralizedLinearRegressor(family=family, link="log", power=power).fit(X, y).predict(X)


def _sklearn(solver):
    def fit(family, power, X, y):
        import sklearn.linear_model as sklm

        if family == "tweedie":
            est = sklm.TweedieRegressor(power=power, link="log", alpha=0.0, solver=solver)
        else:
            cls = {"poisson": sklm.PoissonRegressor, "gamma": sklm.GammaRegressor}[family]
            est = cls(alpha=0.0, solver=solver)
        return est.fit(X, y).predict(X)

    return fit


def _glum(family, power, X, y):
    import glum

    fam = glum.TweedieDistribution(power) if family == "tweedie" else family
    est = glum.GeneralizedLinearRegressor(family=fam, link="log", alpha=0.0)
    return est.fit(X, y).predict(X)


def _statsmodels(family, power, X, y):
    import statsmodels.api as sm

    fam = {
        "poisson": lambda: sm.families.Poisson(),
        "gamma": lambda: sm.families.Gamma(sm.families.links.Log()),
        "tweedie": lambda: sm.families.Tweedie(var_power=power),
    }[family]()
    Xc = sp.hstack([sp.csr_matrix(np.ones((X.shape[0], 1))), X]).toarray() if sp.issparse(X) \
        else np.column_stack([np.ones(X.shape[0]), X])
    return sm.GLM(y, Xc, family=fam).fit().mu


SOLVERS = [
    ("skngd irls", _skngd),
    ("glum", _glum),
    ("sklearn newton-cholesky", _sklearn("newton-cholesky")),
    ("sklearn lbfgs", _sklearn("lbfgs")),
    ("statsmodels GLM", _statsmodels),
]


def run(n, repeat, peer_threads=None):
    from threadpoolctl import threadpool_limits

    for name, family, power, X, y in make_problems(n):
        fam = get_family(family, power=power)
        results = {}
        for solver, fit in SOLVERS:
            with warnings.catch_warnings():  # one-time costs (imports, JIT cache) untimed
                warnings.simplefilter("ignore")
                fit(family, power, X[:2000], y[:2000])
            reps = 1 if solver.startswith("statsmodels") else repeat
            best, mu = np.inf, None
            for _ in range(reps):
                with warnings.catch_warnings(), threadpool_limits(peer_threads):
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    mu = fit(family, power, X, y)
                    best = min(best, time.perf_counter() - t0)
            results[solver] = (best, fam.deviance(y, np.asarray(mu)))
        dmin = min(d for _, d in results.values())
        t_sk = results["skngd irls"][0]
        peers = [t for s, (t, d) in results.items()
                 if s != "skngd irls" and (d - dmin) / dmin <= GAP_TOL]
        t_sm = results["statsmodels GLM"][0]
        rows = []
        for solver, (t, d) in results.items():
            gap = (d - dmin) / dmin
            note = ""
            if solver == "skngd irls":
                fastest = min(peers) if peers else np.nan
                note = f"{t_sk / fastest:.2f}x fastest conv. peer, {t_sk / t_sm:.3f}x statsmodels"
            rows.append((name, solver, t, d, gap, "yes" if gap <= GAP_TOL else "no", note))
        yield rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows instead of 200,000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-threads", type=int, default=None,
                        help="limit the peers' BLAS/OpenMP threads (default: their own)")
    args = parser.parse_args(argv)
    n = 20_000 if args.quick else 200_000
    head = f"{'problem':<28} {'solver':<24} {'time (s)':>9} {'deviance':>18} {'rel. gap':>9} {'conv':>4}  note"
    threads = "default" if args.peer_threads is None else args.peer_threads
    print(f"GLM benchmark, n={n}, best of {args.repeat} (statsmodels: 1 run); "
          f"skngd n_jobs=None (1 thread), peer threads: {threads}")
    print(head)
    print("-" * len(head), flush=True)
    for i, rows in enumerate(run(n, args.repeat, args.peer_threads)):
        if i:
            print()
        for name, solver, t, d, gap, conv, note in rows:
            print(f"{name:<28} {solver:<24} {t:>9.3f} {d:>18.10f} {gap:>9.1e} {conv:>4}  {note}",
                  flush=True)


if __name__ == "__main__":
    main()
