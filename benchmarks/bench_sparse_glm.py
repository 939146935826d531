"""Benchmark: an elastic-net Poisson path, skngd beside glum and skglm.

Problem: Poisson-log, dense 200,000 x 50 standard-normal columns (10 non-zero
true coefficients), an intercept, ``l1_ratio=0.5``; 20 values of ``alpha``
geometric from ``alpha_max`` (the smallest with every coefficient zero) down
to ``1e-3 * alpha_max``. Objective (glum's / scikit-learn's scaling):

    mean_i [mu_i - y_i eta_i + y_i log y_i - y_i]
        + alpha (rho ||w||_1 + (1 - rho)/2 ||w||^2).

* skngd: ``PoissonRegressor(l1_ratio=0.5, warm_start=True)``, refitted along
  the path with ``set_params(alpha=...)`` (proximal Newton), ``tol`` on the
  relative KKT violation; ``n_jobs=None`` (one thread);
* glum: its own path, ``alpha_search=True, alphas=...`` (IRLS-CD), same
  ``gradient_tol``; its default threads;
* skglm: ``GeneralizedLinearEstimator(Poisson(), L1_plus_L2(alpha, 0.5),
  ProxNewton(fit_intercept=True, warm_start=True))``, refitted along the path,
  same ``tol``.

Every solver gets the same tolerance (``--tol``, default 1e-8, on the
mean-scale gradient). The objectives of the three are evaluated by one
function at each alpha; a solver counts as converged when it is within
``1e-8`` (relative) of the lowest objective reached at every alpha. The table
gives the total path time (best of ``--repeat``), the largest relative gap
over the path, the alphas within 1e-8, and skngd's time over the fastest
converged peer.

Usage: ``python benchmarks/bench_sparse_glm.py [--quick] [--repeat R]``
(``--quick``: 20,000 rows).
"""

import argparse
import time
import warnings

import numpy as np

N, P, N_ALPHAS, RHO = 200_000, 50, 20, 0.5
GAP_TOL = 1e-8


def make_data(n=N, p=P, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:10] = rng.normal(size=10) * 0.15
    y = rng.poisson(np.exp(0.5 + X @ beta)).astype(float)
    return X, y


def alpha_grid(X, y, rho=RHO, n_alphas=N_ALPHAS, ratio=1e-3):
    """Geometric alphas from alpha_max: the mean-scale gradient at the
    intercept-only model (mu = mean(y)) over rho."""
    amax = float(np.max(np.abs(X.T @ (y - y.mean())))) / (X.shape[0] * rho)
    return amax * np.geomspace(1.0, ratio, n_alphas)


def objective(X, y, coef, intercept, alpha, rho=RHO):
    eta = X @ coef + intercept
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(y), 0.0)
    dev = float(np.mean(np.exp(eta) - y * eta + ylogy - y))
    return dev + alpha * (rho * float(np.abs(coef).sum()) + 0.5 * (1 - rho) * float(coef @ coef))


def path_skngd(X, y, alphas, tol):
    from skngd.linear_model import PoissonRegressor

    est = PoissonRegressor(alpha=alphas[0], l1_ratio=RHO, warm_start=True, tol=tol, max_iter=200)
    out = []
    for a in alphas:
        est.set_params(alpha=a).fit(X, y)
        out.append((est.coef_.copy(), est.intercept_))
    return out


def path_skngd_glm_path(X, y, alphas, tol, n_jobs=None):
    from skngd.linear_model import glm_path

    path = glm_path(X, y, family="poisson", alphas=alphas, l1_ratio=RHO, tol=tol, max_iter=200,
                    n_jobs=n_jobs)
    return [(path.coefs[i].copy(), float(path.intercepts[i])) for i in range(len(alphas))]


def path_glum(X, y, alphas, tol):
    import glum

    est = glum.GeneralizedLinearRegressor(family="poisson", link="log", alpha_search=True,
                                          alphas=alphas, l1_ratio=RHO, gradient_tol=tol,
                                          max_iter=1000)
    est.fit(X, y)
    return [(est.coef_path_[i].copy(), float(est.intercept_path_[i]))
            for i in range(len(alphas))]


def path_skglm(X, y, alphas, tol):
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Poisson
    from skglm.penalties import L1_plus_L2
    from skglm.solvers import ProxNewton

    est = GeneralizedLinearEstimator(Poisson(), L1_plus_L2(alphas[0], RHO),
                                     ProxNewton(fit_intercept=True, warm_start=True, tol=tol,
                                                max_iter=100))
    out = []
    for a in alphas:
        est.penalty = L1_plus_L2(float(a), RHO)
        est.fit(X, y)
        out.append((np.asarray(est.coef_).ravel().copy(), float(est.intercept_)))
    return out


SOLVERS = [("skngd prox-newton", path_skngd), ("glum irls-cd path", path_glum),
           ("skglm ProxNewton", path_skglm)]


def _timed_paths(X, y, alphas, tol, repeat):
    out = {}
    for name, fit in SOLVERS:
        with warnings.catch_warnings():  # one-time costs (imports, JIT) untimed
            warnings.simplefilter("ignore")
            fit(X[:5000], y[:5000], alphas[:3], tol)
        best, path = np.inf, None
        for _ in range(repeat):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                path = fit(X, y, alphas, tol)
                best = min(best, time.perf_counter() - t0)
        out[name] = (best, path)
    return out


def poisson_path_rows(n=N, p=P, tol=1e-8, repeat=1, seed=0):
    """Summary rows (one per solver, dicts) of the 20-alpha elastic-net
    Poisson path: ``solver``, ``time`` (s, whole path), ``objectives`` and
    ``gaps`` (relative to the lowest objective at each alpha), ``max_gap``,
    ``n_equal`` (alphas within 1e-8), ``converged``, ``nnz`` (non-zero
    coefficients at each alpha) and, for skngd, ``ratio`` (its time over the
    fastest converged peer's)."""
    X, y = make_data(n, p, seed)
    alphas = alpha_grid(X, y)
    runs = _timed_paths(X, y, alphas, tol, repeat)
    objs = {s: np.array([objective(X, y, c, b, a) for (c, b), a in zip(path, alphas)])
            for s, (_, path) in runs.items()}
    best = np.min(np.vstack(list(objs.values())), axis=0)
    rows = []
    for s, (t, path) in runs.items():
        gaps = (objs[s] - best) / np.abs(best)
        rows.append(dict(solver=s, time=t, objectives=objs[s], gaps=gaps,
                         max_gap=float(gaps.max()), n_equal=int(np.sum(gaps <= GAP_TOL)),
                         converged=bool(np.all(gaps <= GAP_TOL)),
                         nnz=[int(np.sum(c != 0)) for c, _ in path], alphas=alphas))
    peers = [r["time"] for r in rows[1:] if r["converged"]]
    rows[0]["ratio"] = rows[0]["time"] / min(peers) if peers else float("nan")
    return rows


def _print(rows, n, tol, repeat):
    print(f"Elastic-net Poisson path: n={n}, p={P}, {N_ALPHAS} alphas (alpha_max .. "
          f"1e-3 alpha_max), l1_ratio={RHO}, tol={tol:g}, best of {repeat}; skngd n_jobs=None "
          "(1 thread), peers: default threads")
    head = (f"{'solver':<20} {'path time (s)':>13} {'max rel. gap':>13} {'alphas eq.':>10} "
            f"{'conv':>4}  note")
    print(head)
    print("-" * len(head))
    for r in rows:
        note = (f"{r['ratio']:.2f}x the fastest converged peer" if "ratio" in r else "")
        print(f"{r['solver']:<20} {r['time']:>13.3f} {r['max_gap']:>13.1e} "
              f"{r['n_equal']:>7}/{len(r['gaps']):<2} {'yes' if r['converged'] else 'no':>4}  "
              f"{note}")
    print()
    names = [r["solver"] for r in rows]
    print(f"{'i':>2} {'alpha':>10} {'objective (skngd)':>20} "
          + " ".join(f"{'gap ' + s.split()[0]:>11}" for s in names) + "  nnz (skngd)")
    for i, a in enumerate(rows[0]["alphas"]):
        print(f"{i:>2} {a:>10.3e} {rows[0]['objectives'][i]:>20.14f} "
              + " ".join(f"{r['gaps'][i]:>11.1e}" for r in rows) + f"  {rows[0]['nnz'][i]:>4}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows instead of 200,000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--tol", type=float, default=1e-8)
    args = parser.parse_args(argv)
    n = 20_000 if args.quick else N
    _print(poisson_path_rows(n=n, tol=args.tol, repeat=args.repeat), n, args.tol, args.repeat)


if __name__ == "__main__":
    main()
