"""Hyper-parameter search panel: BayesSearchCV and CMAESSearchCV beside their peers.

For each task, seed and method one search of ``max(budgets)`` evaluations is run
(cv=3); the best mean CV score after the first 20 / 50 / 100 evaluations is read
from its evaluation-ordered history. Methods: RandomizedSearchCV, GridSearchCV (the
largest full grid that fits the budget; deterministic), BayesSearchCV,
CMAESSearchCV, and optuna-integration's OptunaSearchCV with the TPE and CMA-ES
samplers. Every method searches the same space on the same data and CV splits.
Ranks (1 = best, ties averaged) are taken per (task, seed, budget) among the
methods that ran, then averaged.

A second table measures the surrogate overhead of one BayesSearchCV proposal
(GP fit + acquisition maximisation) at 100 observations in 2..6 dimensions.

Usage::

    python benchmarks/bench_search.py            # the full panel
    python benchmarks/bench_search.py --quick    # 3 tasks, budgets 10/20, 2 seeds
    python benchmarks/bench_search.py --batch-sizes None 2 4 --budgets 20 50 --seeds 3
"""

import argparse
import functools
import itertools
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skngd.model_selection import (
    BayesSearchCV, Categorical, CMAESSearchCV, Integer, Real, SearchSpace,
)

print = functools.partial(print, flush=True)  # noqa: A001 - progress when piped


class Synthetic10D(RegressorMixin, BaseEstimator):
    """A dummy estimator whose score is a 10-D test function of its parameters.

    score = -log(1 + Rosenbrock(4 x - 2)), x in [0, 1]^10 (optimum at x = 0.75).
    """

    def __init__(self, x0=0.5, x1=0.5, x2=0.5, x3=0.5, x4=0.5, x5=0.5, x6=0.5,
                 x7=0.5, x8=0.5, x9=0.5):
        for i, v in enumerate((x0, x1, x2, x3, x4, x5, x6, x7, x8, x9)):
            setattr(self, f"x{i}", v)

    def fit(self, X, y):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y, sample_weight=None):
        z = 4.0 * np.array([getattr(self, f"x{i}") for i in range(10)]) - 2.0
        f = (100 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2).sum()
        return -float(np.log1p(f))


def _tasks():
    tasks = {}
    X, y = load_digits(return_X_y=True)
    tasks["svc_digits"] = dict(
        X=X[::3] / 16.0, y=y[::3], est=SVC(), cv=StratifiedKFold(3),
        space={"C": Real(1e-2, 1e3, "log-uniform"), "gamma": Real(1e-5, 1e-1, "log-uniform")},
        note="SVC C,gamma; digits 1/3 (599 rows)",
    )
    X, y = load_breast_cancer(return_X_y=True)
    tasks["logreg_cancer"] = dict(
        X=X, y=y, est=make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        cv=StratifiedKFold(3),
        space={"logisticregression__C": Real(1e-4, 1e4, "log-uniform")},
        note="LogisticRegression C; breast_cancer (569 rows)",
    )
    X, y = load_diabetes(return_X_y=True)
    tasks["hgb_diabetes"] = dict(
        X=X, y=y, cv=KFold(3, shuffle=True, random_state=0),
        est=HistGradientBoostingRegressor(max_iter=30, early_stopping=False, random_state=0),
        space={"learning_rate": Real(0.01, 0.5, "log-uniform"),
               "max_leaf_nodes": Integer(4, 64, "log-uniform"),
               "min_samples_leaf": Integer(2, 60),
               "l2_regularization": Real(1e-4, 10.0, "log-uniform"),
               "max_features": Real(0.3, 1.0)},
        note="HistGradientBoosting 5 hyper-parameters; diabetes",
    )
    try:
        from skngd.linear_model import TweedieRegressor

        glm, which = TweedieRegressor(link="log"), "skngd TweedieRegressor"
    except ImportError:  # pragma: no cover
        from sklearn.linear_model import TweedieRegressor

        glm, which = TweedieRegressor(link="log", max_iter=1000), "sklearn TweedieRegressor"
    tasks["glm_diabetes"] = dict(
        X=X, y=y, est=glm, cv=KFold(3, shuffle=True, random_state=0), scoring="r2",
        space={"alpha": Real(1e-4, 10.0, "log-uniform"), "power": Real(1.0, 3.0)},
        note=f"{which} alpha,power (log link), r2; diabetes",
    )
    tasks["synthetic_10d"] = dict(
        X=np.zeros((30, 1)), y=np.zeros(30), est=Synthetic10D(), cv=KFold(3),
        space={f"x{i}": Real(0.0, 1.0) for i in range(10)},
        note="-log(1+Rosenbrock) in 10-D through a dummy estimator",
    )
    return tasks


def _grid(space, budget):
    """Largest full grid with at most ``budget`` points, or None."""
    dims = dict(zip(space.subspaces[0].names, space.subspaces[0].dims))
    d = len(dims)
    k = int(np.floor(budget ** (1.0 / d) + 1e-9))
    if k < 2:
        return None
    grid = {}
    for name, dim in dims.items():
        if isinstance(dim, Real):
            pts = (np.geomspace(dim.low, dim.high, k) if dim.prior == "log-uniform"
                   else np.linspace(dim.low, dim.high, k))
            grid[name] = [float(p) for p in pts]
        elif isinstance(dim, Integer):
            grid[name] = sorted({int(round(p)) for p in np.linspace(dim.low, dim.high, k)})
        else:
            grid[name] = dim.values()
    return grid


def _optuna_space(space):
    from optuna.distributions import (
        CategoricalDistribution, FloatDistribution, IntDistribution,
    )

    out = {}
    for name, dim in zip(space.subspaces[0].names, space.subspaces[0].dims):
        log = getattr(dim, "prior", "") == "log-uniform"
        if isinstance(dim, Real):
            out[name] = FloatDistribution(dim.low, dim.high, log=log)
        elif isinstance(dim, Integer):
            out[name] = IntDistribution(dim.low, dim.high, log=log)
        elif isinstance(dim, Categorical):
            out[name] = CategoricalDistribution(dim.values())
    return out


def _history_sklearn(search):
    return np.asarray(search.cv_results_["mean_test_score"], dtype=float)


def _history_optuna(search):
    vals = [t.value if t.value is not None else np.nan for t in search.study_.trials]
    return np.asarray(vals, dtype=float)


def _run(method, task, budget, seed, **extra):
    kw = dict(cv=task["cv"], scoring=task.get("scoring"), **extra)
    est, space_d = task["est"], task["space"]
    if method == "random":
        s = RandomizedSearchCV(est, space_d, n_iter=budget, random_state=seed, **kw)
    elif method == "bayes":
        s = BayesSearchCV(est, space_d, n_iter=budget, random_state=seed, **kw)
    elif method == "cmaes":
        s = CMAESSearchCV(est, space_d, n_iter=budget, random_state=seed, **kw)
    elif method.startswith("grid"):
        s = GridSearchCV(est, task["grid"], **kw)
    else:
        import optuna
        from optuna_integration import OptunaSearchCV

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = (optuna.samplers.TPESampler(seed=seed) if method == "optuna_tpe"
                   else optuna.samplers.CmaEsSampler(seed=seed))
        study = optuna.create_study(direction="maximize", sampler=sampler)
        s = OptunaSearchCV(est, _optuna_space(SearchSpace(space_d)), n_trials=budget,
                           random_state=seed, refit=False, study=study, **kw)
    t0 = time.perf_counter()
    s.fit(task["X"], task["y"])
    wall = time.perf_counter() - t0
    hist = _history_optuna(s) if method.startswith("optuna") else _history_sklearn(s)
    return hist, wall


def _ranks(values):
    """Rank (1 = best) with ties averaged; NaN values rank last."""
    v = np.where(np.isfinite(values), values, -np.inf)
    order = (-v).argsort(kind="stable")
    ranks = np.empty(len(v))
    ranks[order] = np.arange(1, len(v) + 1)
    for val in np.unique(v):
        ranks[v == val] = ranks[v == val].mean()
    return ranks


def surrogate_overhead(dims=(2, 4, 6), n_obs=100, repeats=7, seed=0):
    """Seconds of one BayesSearchCV proposal (GP fit + acquisition): wall and CPU.

    The mean includes the every-fifth fit with random hyper-parameter restarts.
    """
    from threadpoolctl import threadpool_limits

    from skngd.model_selection._proposers import GPProposer

    rows = []
    for d in dims:
        space = SearchSpace({f"x{i}": Real(0.0, 1.0) for i in range(d)})
        rng = np.random.default_rng(seed)
        prop = GPProposer(space, rng, n_initial=1)
        U = rng.uniform(size=(n_obs, d))
        prop._initial = []
        prop.tell(U, -((U - 0.3) ** 2).sum(1) + 0.1 * np.sin(10 * U).sum(1))
        wall, cpu = [], []
        with threadpool_limits(1):
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                prop.ask(1, set())
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        rows.append((d, float(np.median(wall)), float(np.mean(wall)),
                     float(np.median(cpu)), float(np.mean(cpu))))
    return rows


def batch_size_table(names, tasks, budgets, n_seeds, sizes):
    """BayesSearchCV best score at each budget for ``batch_size`` in ``sizes``."""
    top = max(budgets)
    print(f"# BayesSearchCV batch_size (n_jobs=1; default None = initial design in "
          f"one call, then 1 per round); best of the first b of {top}, {n_seeds} seeds")
    print(f"{'task':<15}{'batch_size':>11}" + "".join(f"{'best@' + str(b):>12}"
                                                   for b in budgets) + f"{'wall s':>9}")
    for name in names:
        for k in sizes:
            bests, walls = {b: [] for b in budgets}, []
            for seed in range(n_seeds):
                hist, wall = _run("bayes", tasks[name], top, seed, batch_size=k)
                walls.append(wall)
                for b in budgets:
                    bests[b].append(np.nanmax(hist[:b]))
            print(f"{name:<15}{str(k):>11}" + "".join(
                f"{np.mean(bests[b]):>12.5f}" for b in budgets)
                + f"{np.mean(walls):>9.2f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seeds", type=int, default=None)
    p.add_argument("--budgets", type=int, nargs="+", default=None)
    p.add_argument("--tasks", nargs="+", default=None)
    p.add_argument("--methods", nargs="+", default=None)
    p.add_argument("--batch-sizes", nargs="+", default=None,
                   help="only the BayesSearchCV batch_size table, e.g. None 2 4")
    p.add_argument("--separate", action="store_true",
                   help="run BayesSearchCV/CMAESSearchCV once per budget (n_iter=b, so "
                        "their initial design scales with b) instead of reading prefixes")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    # one BLAS thread everywhere: every search runs n_jobs=1 on a shared machine,
    # and multi-threaded BLAS on small problems only adds contention
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    budgets = args.budgets or ([10, 20] if args.quick else [20, 50, 100])
    n_seeds = args.seeds or (2 if args.quick else 5)
    tasks = _tasks()
    names = args.tasks or (["logreg_cancer", "svc_digits", "synthetic_10d"]
                           if args.quick else list(tasks))
    methods = args.methods or ["random", "grid", "bayes", "cmaes", "optuna_tpe",
                               "optuna_cmaes"]
    if args.batch_sizes:
        sizes = [None if k == "None" else int(k) for k in args.batch_sizes]
        batch_size_table(names, tasks, budgets, n_seeds, sizes)
        return
    top = max(budgets)
    how = ("BayesSearchCV/CMAESSearchCV: one run per budget; others: best of the "
           f"first b evaluations of one {top}-evaluation run" if args.separate else
           f"best of the first b evaluations of one {top}-evaluation run")
    print(f"budgets {budgets} ({how}), {n_seeds} seeds, cv=3\n")
    best = {}  # (task, method, budget) -> list over seeds
    walls = {}
    for name in names:
        task = tasks[name]
        print(f"# {name}: {task['note']}")
        for method in methods:
            for b in budgets:
                best[name, method, b] = []
            walls[name, method] = []
            if method == "grid":
                space = SearchSpace(task["space"])
                for b in budgets:
                    grid = _grid(space, b)
                    if grid is None:
                        continue
                    task["grid"] = grid
                    hist, wall = _run("grid", task, b, 0)
                    best[name, method, b] = [np.nanmax(hist)] * n_seeds
                    if b == top:
                        walls[name, method] = [wall]
                continue
            for seed in range(n_seeds):
                if args.separate and method in ("bayes", "cmaes"):
                    runs = {b: _run(method, task, b, seed) for b in budgets}
                else:
                    hist, wall = _run(method, task, top, seed)
                    runs = {b: (hist, wall) for b in budgets}
                walls[name, method].append(runs[top][1])
                for b in budgets:
                    h = runs[b][0][:b]
                    best[name, method, b].append(
                        np.nanmax(h) if np.isfinite(h).any() else np.nan)
        header = f"{'method':<14}" + "".join(f"{'best@' + str(b):>12}" for b in budgets)
        print(header + f"{'wall s @' + str(top):>12}")
        for method in methods:
            cells = []
            for b in budgets:
                v = best[name, method, b]
                cells.append(f"{np.mean(v):>12.5f}" if v else f"{'n/a':>12}")
            w = walls[name, method]
            print(f"{method:<14}" + "".join(cells)
                  + (f"{np.mean(w):>12.2f}" if w else f"{'n/a':>12}"))
        print()
    print("# mean rank over tasks x seeds (1 = best; methods that ran at that budget)")
    print(f"{'method':<14}" + "".join(f"{'budget ' + str(b):>12}" for b in budgets))
    rank_sum = {(m, b): [] for m in methods for b in budgets}
    for name, b in itertools.product(names, budgets):
        present = [m for m in methods if best[name, m, b]]
        for seed in range(n_seeds):
            r = _ranks(np.array([best[name, m, b][seed] for m in present]))
            for m, rv in zip(present, r):
                rank_sum[m, b].append(rv)
    for m in methods:
        print(f"{m:<14}" + "".join(
            f"{np.mean(rank_sum[m, b]):>12.2f}" if rank_sum[m, b] else f"{'n/a':>12}"
            for b in budgets))
    print("\n# BayesSearchCV surrogate overhead per proposal, 100 observations")
    print(f"{'dims':<6}{'wall median':>12}{'wall mean':>12}{'CPU median':>12}"
          f"{'CPU mean':>12}   (ms)")
    for d, *t in surrogate_overhead():
        print(f"{d:<6}" + "".join(f"{1e3 * v:>12.1f}" for v in t))


if __name__ == "__main__":
    main()
