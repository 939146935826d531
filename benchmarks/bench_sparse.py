"""L1 logistic regression: skngd's proximal Newton beside scikit-learn's saga,
glum's irls-cd and skglm's ProxNewton, same data, same run.

Every peer minimises the same objective (sum scale)
``sum_i logloss_i + (1/C) ||W||_1`` (glum and skglm: the mean scale, alpha =
1 / (C n)); the table reports each fit's time and its objective gap to the best
objective any of them reached (``gap`` relative; a peer whose gap exceeds 1e-8
is marked ``not converged``), and whether its support equals skngd's. One
thread for everyone (BLAS, OpenMP, Numba).

Panels: (a) correctness on breast_cancer, wine (multinomial: glum and skglm have
no multinomial L1, n/a) and a sparse CSR problem; (b) a dense 200,000 x 100
problem; (c) a sparse 100,000 x 20,000 CSR problem. With a
``benchmarks/bench_sparse_glm.py`` present, its ``poisson_path_rows()`` is
appended (the GLM L1 path rows).

Run: ``python -u benchmarks/bench_sparse.py [--small] [--large-only] [--no-saga]
[--repeats N] [--panels abc]`` (``--help``).
"""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

GAP_OK = 1e-8


def objective(X, y, coef, intercept, C):
    """Sum-scale L1 logistic objective (binary or multinomial)."""
    from skngd._loss.family import Binomial, Multinomial
    from skngd._loss.linear_loss import LinearModelLoss
    from skngd._solvers.prox_newton import l1_term

    K = len(np.unique(y))
    fam = Binomial() if K == 2 else Multinomial(K)
    loss = LinearModelLoss(fam, X, np.searchsorted(np.unique(y), y).astype(
        float if K == 2 else np.int64))
    W = np.vstack([np.atleast_2d(coef).T if K == 2 else coef.T, np.atleast_1d(intercept)])
    l1 = np.full(loss.shape, 1.0 / C)
    l1[-1] = 0.0
    return loss.value(W) + l1_term(l1, W), np.asarray(coef).ravel() != 0


def run_skngd(X, y, C, tol=1e-4):
    from skngd import LogisticRegression

    m = LogisticRegression(C=C, l1_ratio=1.0, tol=tol).fit(X, y)
    return m.coef_.ravel() if m.coef_.shape[0] == 1 else m.coef_, m.intercept_


def run_saga(X, y, C, max_iter=1000):
    from sklearn.linear_model import LogisticRegression

    from skngd.utils._sklearn_compat import sklearn_l1_params

    m = LogisticRegression(C=C, **sklearn_l1_params(1.0), solver="saga", tol=1e-10,
                           max_iter=max_iter).fit(X, y)
    return m.coef_.ravel() if m.coef_.shape[0] == 1 else m.coef_, m.intercept_


def run_glum(X, y, C):
    if len(np.unique(y)) > 2:
        return None
    import glum

    m = glum.GeneralizedLinearRegressor(family="binomial", alpha=1.0 / (C * X.shape[0]),
                                        l1_ratio=1.0, solver="irls-cd", gradient_tol=1e-8,
                                        max_iter=1000).fit(X, y)
    return m.coef_, m.intercept_


def run_skglm(X, y, C):
    if len(np.unique(y)) > 2:
        return None
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Logistic
    from skglm.penalties import L1
    from skglm.solvers import ProxNewton

    m = GeneralizedLinearEstimator(Logistic(), L1(1.0 / (C * X.shape[0])), ProxNewton(
        tol=1e-9, max_iter=200, fit_intercept=True)).fit(X, 2.0 * y - 1.0)
    return m.coef_.ravel(), m.intercept_


PEERS = {"skngd": run_skngd, "sklearn saga": run_saga, "glum irls-cd": run_glum,
         "skglm ProxNewton": run_skglm}


#: a peer is fitted again (best-of ``--repeats``) only while its fits so far
#: took less than this many seconds in all
REPEAT_BUDGET = 20.0


def timed_fit(fit, X, y, C, reps, **kw):
    """``(best time, output)`` over up to ``reps`` fits (see REPEAT_BUDGET)."""
    best, spent, out = np.inf, 0.0, None
    for _ in range(max(1, reps)):
        t = time.perf_counter()
        out = fit(X, y, C, **kw)
        dt = time.perf_counter() - t
        best, spent = min(best, dt), spent + dt
        if out is None or spent > REPEAT_BUDGET:
            break
    return best, out


def panel(name, X, y, C, saga_iter=1000, reps=1):
    """Fit every peer (after one warm-up fit each on a small slice, so
    compilation is not timed; best of ``reps`` fits) and print the rows of one
    problem."""
    rows, best = [], np.inf
    ref = run_skngd(X, y, C, tol=1e-12)
    F_best, supp_ref = objective(X, y, ref[0], ref[1], C)
    for peer, fit in PEERS.items():
        kw = {"max_iter": saga_iter} if peer == "sklearn saga" else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            small = slice(0, min(X.shape[0], 2000))
            try:
                fit(X[small], y[small], C, **kw)  # warm-up (Numba compilation, imports)
            except Exception:  # noqa: BLE001 - a peer's warm-up is not the measurement
                pass
            dt, out = timed_fit(fit, X, y, C, reps, **kw)
        if out is None:
            rows.append((peer, None, None, None))
            continue
        F, supp = objective(X, y, out[0], out[1], C)
        best = min(best, F)
        rows.append((peer, dt, F, bool(np.array_equal(supp, supp_ref))))
    best = min(best, F_best)
    print(f"\n{name}: n={X.shape[0]} d={X.shape[1]} {'CSR' if sp.issparse(X) else 'dense'} "
          f"C={C:g}  (best objective {best:.12g}, support size {int(supp_ref.sum())})")
    print(f"{'peer':<18}{'time [s]':>10}{'rel. gap':>12}{'support':>9}  status")
    times = {}
    for peer, dt, F, same in rows:
        if dt is None:
            print(f"{peer:<18}{'n/a':>10}{'':>12}{'':>9}  no multinomial L1")
            continue
        gap = (F - best) / abs(best)
        ok = gap <= GAP_OK
        times[peer] = (dt, ok)
        print(f"{peer:<18}{dt:>10.3f}{gap:>12.1e}{'equal' if same else 'differs':>9}  "
              f"{'converged' if ok else 'not converged'}")
    peers = [dt for p, (dt, ok) in times.items() if p != "skngd" and ok]
    if peers and times.get("skngd", (None, False))[1]:
        print(f"skngd / fastest converged peer: {times['skngd'][0] / min(peers):.2f}x")
    return times


def dense_problem(n, d, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    X = 0.7 * Z + 0.3 * Z[:, [0]]  # correlated columns
    beta = np.zeros(d)
    beta[: d // 10] = rng.normal(size=d // 10)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(int)
    return np.ascontiguousarray(X), y


def sparse_problem(n, d, nnz_row=20, seed=0):
    rng = np.random.default_rng(seed)
    # a Generator as random_state: scipy then draws the positions without the
    # n * d permutation a legacy integer seed costs (15 GB at 100k x 20k)
    X = sp.random(n, d, density=nnz_row / d, format="csr",
                  random_state=np.random.default_rng(seed + 1), data_rvs=rng.standard_normal)
    beta = np.zeros(d)
    beta[:100] = rng.normal(size=100) * 2
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(int)
    return X, y


def C_at(X, y, frac):
    """C with 1/C = frac * l1_max (the L1 path's first knot)."""
    from skngd._loss.family import Binomial
    from skngd._loss.linear_loss import LinearModelLoss
    from skngd._solvers.prox_newton import l1_max

    loss = LinearModelLoss(Binomial(), X, y.astype(float))
    pat = np.ones(loss.shape)
    pat[-1] = 0.0
    return 1.0 / (frac * l1_max(loss, pat))


def main(small=False, large_only=False, reps=1, panels="abcp"):
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.preprocessing import StandardScaler

    print(__doc__.split("\n\n")[0])
    print(f"(best of {reps} fit(s) per peer within {REPEAT_BUDGET:g} s; load average "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())} at start)")
    if not large_only and "a" in panels:
        print("(a) correctness")
        for loader, C in ((load_breast_cancer, 1.0), (load_wine, 1.0)):
            X, y = loader(return_X_y=True)
            panel(loader.__name__[5:], StandardScaler().fit_transform(X), y, C, reps=reps)
        Xs, ys = sparse_problem(5000, 1000, seed=1)
        panel("sparse", Xs, ys, C_at(Xs, ys, 0.05), reps=reps)
    n_b, n_c, d_c = (20_000, 10_000, 2000) if small else (200_000, 100_000, 20_000)
    if "b" in panels:
        print("\n(b) dense L1 logistic")
        Xb, yb = dense_problem(n_b, 100)
        panel("dense", Xb, yb, C_at(Xb, yb, 0.02), saga_iter=100, reps=reps)
    if "c" in panels:
        print("\n(c) sparse L1 logistic")
        Xc, yc = sparse_problem(n_c, d_c)
        panel("sparse", Xc, yc, C_at(Xc, yc, 0.2), saga_iter=100, reps=reps)
    try:
        from bench_sparse_glm import poisson_path_rows
    except ImportError:
        poisson_path_rows = None
    if poisson_path_rows is not None and "p" in panels:
        print("\nGLM (Poisson) L1 path")
        poisson_path_rows()
    print(f"(load average {', '.join(f'{v:.2f}' for v in os.getloadavg())} at the end)")


def _args(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", action="store_true", help="20k x 100 / 10k x 2000 problems")
    ap.add_argument("--large-only", action="store_true", help="skip panel (a)")
    ap.add_argument("--no-saga", action="store_true",
                    help="leave out scikit-learn's saga (minutes at full size)")
    ap.add_argument("--repeats", type=int, default=1,
                    help="best of this many fits per peer (within %g s)" % REPEAT_BUDGET)
    ap.add_argument("--panels", default="abcp",
                    help="panels to run: a, b, c and p (the Poisson path rows), e.g. 'bc'")
    return ap.parse_args(argv)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    args = _args()
    if args.no_saga:  # saga needs minutes at full size on a shared machine
        del PEERS["sklearn saga"]
    main(small=args.small, large_only=args.large_only, reps=args.repeats, panels=args.panels)
