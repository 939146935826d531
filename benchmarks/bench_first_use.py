"""First use: how long the first fit of every public estimator takes in a new
process, with an empty Numba cache (the first process after installation) and
with a warm one (every later process, e.g. each joblib worker of a
``GridSearchCV(n_jobs=2)``), beside scikit-learn's baseline on the same data.

Each measurement runs in a fresh ``python`` process. The time reported is the
first ``fit`` after ``import skngd``, the estimator's module, scikit-learn and
the data are loaded (so it excludes the import, which the issue counts apart);
``import`` is the import of the estimator's module. ``NUMBA_CACHE_DIR`` points
at a new empty folder for the cold run, and at that same folder, now filled,
for the warm run.

Targets (issue 14): cold first fit <= 3 s, warm first fit <= 0.5 s on 2 cores.
Where the fit's own work (the second fit) is itself longer than 0.5 s, no
first-use saving can meet the warm target: such a row is judged on the
overhead columns and says so ("met on overhead").
The ``overhead`` columns subtract the second fit in the same process (the
fit's own work), leaving what first use adds: compiling or loading kernels,
first imports. ``import`` (the estimator's module) is shown apart and is
counted in neither.

    python benchmarks/bench_first_use.py              # every estimator
    python benchmarks/bench_first_use.py --only glm   # cases whose name contains 'glm'
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

# name -> (data snippet, estimator snippet, scikit-learn baseline snippet or None).
# The data snippet defines X (and y); the estimator snippets define `est`.
_DATA = {
    "digits": """
        from sklearn.datasets import load_digits
        from sklearn.preprocessing import StandardScaler
        X, y = load_digits(return_X_y=True)
        X = StandardScaler().fit_transform(X)
    """,
    "breast_cancer": """
        from sklearn.datasets import load_breast_cancer
        from sklearn.preprocessing import StandardScaler
        X, y = load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
    """,
    "diabetes": """
        from sklearn.datasets import load_diabetes
        from sklearn.preprocessing import StandardScaler
        X, y = load_diabetes(return_X_y=True)
        X = StandardScaler().fit_transform(X)
    """,
    "wine_missing": """
        import numpy as np
        from sklearn.datasets import load_wine
        X, _ = load_wine(return_X_y=True)
        rng = np.random.default_rng(0)
        X = X.copy()
        X[rng.random(X.shape) < 0.2] = np.nan
        y = None
    """,
    "wine_shifted": """
        import numpy as np
        from sklearn.datasets import load_wine
        from sklearn.preprocessing import StandardScaler
        X0, y0 = load_wine(return_X_y=True)
        X0 = StandardScaler().fit_transform(X0)
        rng = np.random.RandomState(0)
        idx = rng.permutation(len(X0))
        s, t = idx[:90], idx[90:]
        A = np.eye(13) + 0.3 * rng.randn(13, 13) / 4
        X = np.r_[X0[s], X0[t] @ A + rng.randn(13)]
        y = np.r_[y0[s], -np.ones(len(t), dtype=int)]
        sample_domain = np.r_[np.ones(len(s), dtype=int), -np.ones(len(t), dtype=int)]
    """,
    "digits_shifted": """
        import numpy as np
        from sklearn.datasets import load_digits
        X0, y0 = load_digits(return_X_y=True)
        rng = np.random.RandomState(0)
        idx = rng.permutation(len(X0))
        s, t = idx[:900], idx[900:]
        A = np.eye(64) + 0.3 * rng.randn(64, 64) / 8
        X = np.r_[X0[s], X0[t] @ A + 4 * rng.randn(64)]
        y = np.r_[y0[s], -np.ones(len(t), dtype=int)]
        sample_domain = np.r_[np.ones(len(s), dtype=int), -np.ones(len(t), dtype=int)]
    """,
}

CASES = [
    ("LogisticRegression", "digits", "from skngd import LogisticRegression as E; est = E()",
     "from sklearn.linear_model import LogisticRegression as E; est = E(max_iter=1000)"),
    ("LogisticRegression binary", "breast_cancer",
     "from skngd import LogisticRegression as E; est = E()",
     "from sklearn.linear_model import LogisticRegression as E; est = E()"),
    ("GeneralizedLinearRegressor", "diabetes",
     "from skngd import GeneralizedLinearRegressor as E; est = E()",
     "from sklearn.linear_model import Ridge as E; est = E(alpha=1e-12)"),
    ("PoissonRegressor", "diabetes", "from skngd import PoissonRegressor as E; est = E()",
     "from sklearn.linear_model import PoissonRegressor as E; est = E()"),
    ("GammaRegressor", "diabetes", "from skngd import GammaRegressor as E; est = E()",
     "from sklearn.linear_model import GammaRegressor as E; est = E()"),
    ("TweedieRegressor", "diabetes", "from skngd import TweedieRegressor as E; est = E()",
     "from sklearn.linear_model import TweedieRegressor as E; est = E()"),
    ("StudentTRegressor", "diabetes", "from skngd import StudentTRegressor as E; est = E()",
     "from sklearn.linear_model import HuberRegressor as E; est = E(max_iter=1000)"),
    ("GaussianEMImputer", "wine_missing", "from skngd import GaussianEMImputer as E; est = E()",
     "from sklearn.experimental import enable_iterative_imputer\n"
     "from sklearn.impute import IterativeImputer as E; est = E()"),
    ("OTDomainAdapter", "wine_shifted", "from skngd import OTDomainAdapter as E; est = E()",
     None),
    ("OTDomainAdapter digits", "digits_shifted",
     "from skngd import OTDomainAdapter as E; est = E()", None),
    ("DomainAdaptedEstimator", "wine_shifted",
     "from skngd import DomainAdaptedEstimator as E; est = E()",
     "from sklearn.svm import SVC as E; est = E()"),
    ("DomainAdaptedEstimator digits", "digits_shifted",
     "from skngd import DomainAdaptedEstimator as E; est = E()",
     "from sklearn.svm import SVC as E; est = E()"),
    ("BayesSearchCV", "breast_cancer",
     "from skngd import BayesSearchCV as E, LogisticRegression\n"
     "from skngd.model_selection import Real\n"
     "est = E(LogisticRegression(), {'C': Real(1e-2, 1e2, prior='log-uniform')}, n_iter=8,"
     " cv=3, random_state=0)",
     "from sklearn.model_selection import RandomizedSearchCV as E\n"
     "from sklearn.linear_model import LogisticRegression\n"
     "from scipy.stats import loguniform\n"
     "est = E(LogisticRegression(), {'C': loguniform(1e-2, 1e2)}, n_iter=8, cv=3,"
     " random_state=0)"),
    ("CMAESSearchCV", "breast_cancer",
     "from skngd import CMAESSearchCV as E, LogisticRegression\n"
     "from skngd.model_selection import Real\n"
     "est = E(LogisticRegression(), {'C': Real(1e-2, 1e2, prior='log-uniform')}, n_iter=8,"
     " cv=3, random_state=0)",
     None),
    ("LogisticRegression L1", "breast_cancer",
     "from skngd import LogisticRegression as E; est = E(l1_ratio=1.0)",
     "from sklearn.linear_model import LogisticRegression as E; est = E(l1_ratio=1.0,"
     " solver='saga')"),
    ("PoissonRegressor elastic net", "diabetes",
     "from skngd import PoissonRegressor as E; est = E(alpha=0.1, l1_ratio=0.5)", None),
    ("LogisticRegressionCV", "breast_cancer",
     "from skngd import LogisticRegressionCV as E; est = E()",
     "from sklearn.linear_model import LogisticRegressionCV as E; est = E()"),
    ("GeneralizedLinearRegressorCV", "diabetes",
     "from skngd import GeneralizedLinearRegressorCV as E; est = E()", None),
]

_CHILD = """
import json, time, warnings
t0 = time.perf_counter()
import sklearn, skngd
{data}
t1 = time.perf_counter()
{estimator}
t2 = time.perf_counter()
fit_kw = {{}}
if "sample_domain" in dir() and type(est).__name__ == "OTDomainAdapter":
    fit_kw = {{"sample_domain": sample_domain}}
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    args = (X,) if y is None else (X, y)
    t3 = time.perf_counter()
    est.fit(*args, **fit_kw)
    t4 = time.perf_counter()
    est.fit(*args, **fit_kw)
    t5 = time.perf_counter()
print(json.dumps({{"import": t2 - t1, "first": t4 - t3, "second": t5 - t4,
                   "warnings": sorted({{type(x.message).__name__ for x in w}})}}))
"""


def _child(data, estimator, cache_dir, threads):
    code = _CHILD.format(data=textwrap.dedent(_DATA[data]), estimator=estimator)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    if threads:
        env["NUMBA_NUM_THREADS"] = str(threads)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--threads", type=int, default=0, help="NUMBA_NUM_THREADS (0: default)")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if args.only.lower() in c[0].lower()]
    head = (f"{'estimator':<30}{'data':<15}{'import':>7}{'cold 1st':>9}{'warm 1st':>9}"
            f"{'2nd fit':>8}{'overhead c/w':>14}{'sklearn':>9}  targets")
    print("First fit in a new process, seconds beyond the import (2 cores); targets: cold 1st"
          " <= 3 s, warm 1st <= 0.5 s")
    print(head)
    print("-" * len(head))
    for name, data, est, base in cases:
        with tempfile.TemporaryDirectory(prefix="skngd-numba-") as cache:
            cold = _child(data, est, cache, args.threads)
            warm = _child(data, est, cache, args.threads)
        ref = _child(data, base, tempfile.gettempdir(), args.threads) if base else None
        if "error" in cold or "error" in warm:
            print(f"{name:<28}{data:<16}  error: {cold.get('error') or warm.get('error')}")
            continue
        over_cold, over_warm = cold["first"] - warm["second"], warm["first"] - warm["second"]
        ok = cold["first"] <= 3.0 and warm["first"] <= 0.5
        # a fit whose own work (its second fit) is longer than a target cannot
        # meet it by any first-use saving: there the target is on what first
        # use adds (the overhead columns), and the note says so
        own_work = warm["second"] > 0.5
        ok_overhead = over_cold <= 3.0 and over_warm <= 0.5
        ref_s = f"{ref['first']:9.3f}" if ref and "error" not in ref else f"{'-':>9}"
        if ok:
            note = "met"
        elif own_work and ok_overhead:
            note = f"met on overhead (the fit itself takes {warm['second']:.2f} s)"
        else:
            note = "MISSED"
        if cold["warnings"]:
            note += "  warnings: " + ",".join(cold["warnings"])
        over = f"{over_cold:6.2f}/{over_warm:.2f}"
        print(f"{name:<30}{data:<15}{warm['import']:7.2f}{cold['first']:9.3f}"
              f"{warm['first']:9.3f}{warm['second']:8.3f}{over:>14}{ref_s}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
