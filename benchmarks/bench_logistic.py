"""Logistic regression: skngd solvers beside scikit-learn and glum.

Prints, for each dataset, fit time (best of ``--repeat``), the final penalised
objective computed by one independent function for every method, its relative
gap to the best objective, passes over X (skngd: products with X or X^T, plus
Gram rows / n in brackets) and iterations.

Datasets (full size; ``--quick`` divides n by 10 and the sparse width by 4):
binary L2 (C=1) dense 200,000 x 100 standard normal; the same ill-conditioned
(columns scaled from 10^-1.5 to 10^1.5, coefficients rescaled so the linear
predictor has the same distribution); multinomial 10 classes dense
100,000 x 50; sparse CSR 100,000 x 20,000 at 0.5% density.

glum is given ``alpha = 1 / (C * n)``, ``l1_ratio = 0``: its objective is the mean
half deviance (= mean log-loss) plus ``alpha/2 ||w||^2``, i.e. ours divided by n.

Section ``mm``: ``solver='mm'`` on the standardised bundled datasets
(breast_cancer, wine, digits; C=1) at the default ``tol``/``max_iter``, with
Anderson acceleration (now) and without (the plain Böhning map, before),
beside scikit-learn's lbfgs in the same run, every method on one thread;
"warns" says whether the fit raised a ConvergenceWarning, "rel. gap" is
measured against a tol=1e-13 Newton fit.

Also measures a fresh ``python -c`` process importing skngd and fitting a small
problem (Numba cache warm).

Run: ``python benchmarks/bench_logistic.py [--quick] [--repeat 2] [--only binary,ill,mm]``
"""

import argparse
import contextlib
import functools
import subprocess
import sys
import time
import warnings

import numpy as np
from scipy import sparse
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

C = 1.0
N_JOBS = None  # skngd default (1 thread); set with --n-jobs


def make_binary(n, d, ill, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) * 2.0 / np.sqrt(d)
    eta = X @ w + 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    if ill:
        X *= np.logspace(-1.5, 1.5, d)  # coefficients w / scale give the same eta
    return X, y


def make_multinomial(n, d, k, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((d, k)) * 2.0 / np.sqrt(d)
    y = np.argmax(X @ W + rng.gumbel(size=(n, k)), axis=1)
    return X, y


def make_sparse(n, d, density, seed=2):
    rng = np.random.default_rng(seed)
    k = max(1, int(round(d * density)))  # non-zeros per row
    indices = np.sort(rng.integers(0, d, size=(n, k)), axis=1).ravel()
    X = sparse.csr_matrix((rng.standard_normal(n * k), indices, np.arange(0, n * k + 1, k)),
                          shape=(n, d))
    X.sum_duplicates()
    w = rng.standard_normal(d)
    eta = X @ w
    eta *= 2.0 / eta.std()
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    return X, y


def objective(X, y, coef, intercept):
    """sum of log-losses + ||coef||^2 / (2C), float64, independent of every solver."""
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    raw = np.asarray(X @ coef.T) + np.asarray(intercept, dtype=np.float64)
    if coef.shape[0] == 1:
        z = raw[:, 0]
        ll = np.logaddexp(0, z) - y * z
    else:
        ll = logsumexp(raw, axis=1) - raw[np.arange(len(y)), y]
    return float(ll.sum()) + 0.5 / C * float(np.sum(coef**2))


#: at full size on a shared 2-core machine these take minutes on the multinomial
#: set (a 510 x 510 Hessian from 100k rows per iteration; MM's linear rate)
SLOW_MULTINOMIAL = ("skngd mm", "skngd newton", "sklearn newton-cholesky")
QUICK = False


def methods(kind, d):
    import skngd
    from sklearn.linear_model import LogisticRegression as SK

    out = {}
    for s in ("auto", "ngd", "mm", "newton"):
        if kind == "sparse" and s in ("mm", "newton"):
            continue  # d = 20,000: a d x d Gram / Fisher matrix does not fit
        out[f"skngd {s}"] = lambda s=s: skngd.LogisticRegression(
            C=C, solver=s, n_jobs=N_JOBS, max_iter=1000 if s == "mm" else 100)
    out["sklearn lbfgs (tol=1e-4)"] = lambda: SK(C=C)
    out["sklearn lbfgs (tol=1e-10)"] = lambda: SK(C=C, tol=1e-10, max_iter=1000)
    if kind != "sparse":
        out["sklearn newton-cholesky"] = lambda: SK(C=C, solver="newton-cholesky")
    if kind != "multinomial":
        try:
            import glum  # noqa: F401

            out["glum (lbfgs)" if kind == "sparse" else "glum (irls-cd)"] = "glum"
        except ImportError:  # pragma: no cover
            pass
    if kind == "multinomial" and not QUICK:
        out = {k: v for k, v in out.items() if k not in SLOW_MULTINOMIAL}
    return out


def fit_glum(X, y, kind):
    import glum

    n = X.shape[0]
    m = glum.GeneralizedLinearRegressor(
        family="binomial", alpha=1.0 / (C * n), l1_ratio=0.0, fit_intercept=True,
        solver="lbfgs" if kind == "sparse" else "irls-cd", gradient_tol=1e-8 if kind == "sparse" else None)
    m.fit(X, y)
    return m.coef_, np.atleast_1d(m.intercept_), int(getattr(m, "n_iter_", -1)), "-"


def run_one(factory, X, y, kind, repeat):
    best = np.inf
    res = None
    for _ in range(repeat):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            if factory == "glum":
                coef, b, n_iter, passes = fit_glum(X, y, kind)
            else:
                m = factory().fit(X, y)
                coef, b = m.coef_, m.intercept_
                n_iter = int(np.max(m.n_iter_))
                passes = "-"
                if hasattr(m, "n_passes_"):
                    passes = f"{m.n_passes_}"
            dt = time.perf_counter() - t0
        if dt < best:
            best, res = dt, (coef, b, n_iter, passes)
        if dt > 5.0:  # slow methods: one run is enough to rank them
            break
    return best, res


def bench(name, X, y, kind, repeat):
    import skngd

    # load the Numba kernels once (each process pays this once, not each fit)
    skngd.LogisticRegression(n_jobs=N_JOBS).fit(X[:20000], y[:20000])
    rows = []
    for label, factory in methods(kind, X.shape[1]).items():
        dt, (coef, b, n_iter, passes) = run_one(factory, X, y, kind, repeat)
        rows.append((label, dt, objective(X, y, coef, b), passes, n_iter))
    fbest = min(r[2] for r in rows)
    print(f"\n## {name}: n={X.shape[0]}, d={X.shape[1]}" + (
        f", nnz={X.nnz}" if sparse.issparse(X) else ""))
    print(f"{'method':<28}{'fit time (s)':>13}{'objective':>22}{'rel. gap':>11}"
          f"{'passes':>8}{'n_iter':>8}")
    for label, dt, f, passes, n_iter in rows:
        gap = (f - fbest) / abs(fbest)
        print(f"{label:<28}{dt:>13.3f}{f:>22.10f}{gap:>11.1e}{passes:>8}{n_iter:>8}")
    sys.stdout.flush()
    return rows


@contextlib.contextmanager
def plain_mm():
    """``solver='mm'`` without Anderson mixing (memory 0): the MM of before."""
    from skngd._solvers import mm as mm_mod
    from skngd.linear_model import _logistic

    saved = _logistic._SOLVERS["mm"]
    _logistic._SOLVERS["mm"] = functools.partial(mm_mod.mm, memory=0)
    try:
        yield
    finally:
        _logistic._SOLVERS["mm"] = saved


def bench_mm(repeat):
    """MM at its defaults on the bundled datasets, before/after acceleration,
    beside scikit-learn's lbfgs (same run)."""
    import skngd
    from sklearn.datasets import load_breast_cancer, load_digits, load_wine
    from sklearn.linear_model import LogisticRegression as SK
    from sklearn.preprocessing import StandardScaler

    from threadpoolctl import threadpool_limits

    print("\n## solver='mm' at the defaults (tol=1e-4, max_iter=None: 1000 for mm), "
          "standardised, C=1; one thread for every method (BLAS limited to 1)")
    print(f"{'dataset':<15}{'method':<34}{'fit time (s)':>13}{'rel. gap':>10}"
          f"{'n_iter':>8}{'passes':>8}{'warns':>7}")
    cases = [
        ("mm (Anderson), defaults", lambda: skngd.LogisticRegression(solver="mm"), None),
        ("mm (plain map), defaults", lambda: skngd.LogisticRegression(solver="mm"), plain_mm),
        ("mm (plain map), max_iter=5000", lambda: skngd.LogisticRegression(
            solver="mm", max_iter=5000), plain_mm),
        ("sklearn lbfgs, defaults", lambda: SK(), None),
        ("sklearn lbfgs, tol=1e-10", lambda: SK(tol=1e-10, max_iter=10000), None),
        ("newton, defaults", lambda: skngd.LogisticRegression(solver="newton"), None),
    ]
    for name, load in (("breast_cancer", load_breast_cancer), ("wine", load_wine),
                       ("digits", load_digits)):
        X, y = load(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        ref = skngd.LogisticRegression(solver="newton", tol=1e-13).fit(X, y)
        f_star = objective(X, np.searchsorted(ref.classes_, y), ref.coef_, ref.intercept_)
        for label, factory, context in cases:
            best, m, warned = np.inf, None, False
            for _ in range(repeat):
                with (context() if context else contextlib.nullcontext()), \
                        warnings.catch_warnings(record=True) as rec, threadpool_limits(1):
                    warnings.simplefilter("always")
                    t0 = time.perf_counter()
                    fitted = factory().fit(X, y)
                    dt = time.perf_counter() - t0
                warned = any(issubclass(w.category, ConvergenceWarning) for w in rec)
                if dt < best:
                    best, m = dt, fitted
            f = objective(X, np.searchsorted(m.classes_, y), m.coef_, m.intercept_)
            passes = getattr(m, "n_passes_", "-")
            print(f"{name:<15}{label:<34}{best:>13.4f}{(f - f_star) / f_star:>10.1e}"
                  f"{int(np.max(m.n_iter_)):>8}{passes:>8}{'yes' if warned else 'no':>7}")
        sys.stdout.flush()


def fresh_process():
    code = ("import time; t=time.perf_counter(); import numpy as np, skngd; "
            "from sklearn.datasets import load_breast_cancer; "
            "X, y = load_breast_cancer(return_X_y=True); X = (X - X.mean(0)) / X.std(0); "
            "skngd.LogisticRegression().fit(X, y); "
            "skngd.LogisticRegression(solver='ngd').fit(X, y); "
            "print(time.perf_counter() - t)")
    base = ("import time; t=time.perf_counter(); import numpy, scipy.sparse, sklearn.base, "
            "sklearn.datasets; print(time.perf_counter() - t)")
    times = []
    for _ in range(3):  # the first run may compile and fill the cache
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        wall = time.perf_counter() - t0
        ref = subprocess.run([sys.executable, "-c", base], capture_output=True, text=True,
                             check=True)
        times.append((wall, float(out.stdout.strip()), float(ref.stdout.strip())))
    print("\n## fresh process: `python -c` importing skngd and fitting breast_cancer "
          "(solver auto and ngd)")
    for i, (wall, inner, ref) in enumerate(times):
        print(f"run {i + 1}: wall {wall:.2f} s (import + fit inside: {inner:.2f} s; of which "
              f"importing numpy/scipy/sklearn alone takes {ref:.2f} s in a separate process)"
              + ("  [may compile]" if i == 0 else "  [cache warm]"))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--only", default="binary,ill,multinomial,sparse,mm,fresh")
    ap.add_argument("--n-jobs", type=int, default=None)
    args = ap.parse_args(argv)
    global N_JOBS, QUICK
    N_JOBS, QUICK = args.n_jobs, args.quick
    f = 10 if args.quick else 1
    only = args.only.split(",")
    print(f"skngd logistic benchmark ({'quick' if args.quick else 'full'} size), C={C}; "
          f"skngd with n_jobs={N_JOBS}; time = best of", args.repeat)
    if "binary" in only:
        bench("binary, well-conditioned", *make_binary(200_000 // f, 100, False), "binary",
              args.repeat)
    if "ill" in only:
        bench("binary, ill-conditioned (columns 10^-1.5..10^1.5)",
              *make_binary(200_000 // f, 100, True), "binary", args.repeat)
    if "multinomial" in only:
        bench("multinomial, 10 classes", *make_multinomial(100_000 // f, 50, 10),
              "multinomial", args.repeat)
    if "sparse" in only:
        bench("sparse CSR, 0.5% density", *make_sparse(100_000 // f, 20_000 // (f // 2 or 1),
                                                         0.005), "sparse", args.repeat)
    if "mm" in only:
        bench_mm(args.repeat)
    if "fresh" in only:
        fresh_process()


if __name__ == "__main__":
    main()
