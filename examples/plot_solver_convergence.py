"""
=======================================================================
Solver convergence: natural gradient, MM and Newton beside scikit-learn
=======================================================================

:class:`skngd.LogisticRegression` records the penalised objective

.. math::

    f(w, b) = \\sum_{i=1}^n \\log\\bigl(1 + e^{-\\tilde y_i (x_i^\\top w + b)}\\bigr)
    + \\frac{1}{2C}\\lVert w\\rVert^2, \\qquad \\tilde y_i \\in \\{-1, 1\\},

after every iteration in ``objective_history_``. This example draws it for the
three skngd solvers (``'ngd'``: natural gradient with truncated conjugate
gradient, ``'mm'``: Böhning's bound factorised once, Anderson-accelerated,
``'newton'``: exact Newton) beside scikit-learn's ``lbfgs``, ``newton-cg`` and ``newton-cholesky``
on the breast-cancer data set, once with standardised features and once with
the raw features, whose scales span seven orders of magnitude.

scikit-learn does not record a history, so its path is rebuilt by refitting
with ``max_iter = 1, 2, ...`` (its solvers are deterministic, so fit ``k``
stops at the ``k``-th iterate). Both libraries minimise the same objective, so
every curve is measured against one optimum :math:`f^\\star`.
"""

# %%
# The data and the common objective
# ---------------------------------
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn import linear_model
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import skngd
from skngd.plotting import plot_objective_history

X_raw, y = load_breast_cancer(return_X_y=True)
X_std = StandardScaler().fit_transform(X_raw)
C = 1.0
print(f"{X_raw.shape[0]} samples, {X_raw.shape[1]} features; column scales "
      f"from {X_raw.std(0).min():.1e} to {X_raw.std(0).max():.1e}")


def objective(X, coef, intercept):
    """Sum of log-losses plus ||w||^2 / (2C): what both libraries minimise."""
    z = X @ np.ravel(coef) + np.ravel(intercept)[0]
    sign = np.where(y == 1, 1.0, -1.0)
    return np.logaddexp(0.0, -sign * z).sum() + np.dot(np.ravel(coef), np.ravel(coef)) / (2 * C)


# %%
# skngd: one fit per solver, the history comes with it
# ----------------------------------------------------
# :func:`skngd.plotting.plot_objective_history` draws ``objective_history_``;
# with ``gap=True`` it shows the distance to the best value reached, on a log
# scale. MM decreases the objective at every step (it is a majorise-minimise
# method, and the Anderson-mixed points it takes are checked to decrease it
# too); NGD and Newton converge quadratically near the optimum.

SOLVERS = ("ngd", "mm", "newton")
skngd_fits = {}
for s in SOLVERS:
    est = skngd.LogisticRegression(C=C, solver=s, tol=1e-10, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # every solver converges
        skngd_fits[s] = est.fit(X_std, y)
    # the recorded history is the objective defined above
    assert np.isclose(est.objective_history_[-1], objective(X_std, est.coef_, est.intercept_),
                      rtol=1e-8)
    if s == "mm":  # a majorise-minimise method never increases the objective
        assert np.all(np.diff(est.objective_history_) <= 0)

ax = plot_objective_history(skngd_fits, gap=True)
ax.set_title("skngd solvers, standardised breast-cancer features")
plt.show()

for s, est in skngd_fits.items():
    print(f"{s:>6}: {est.n_iter_[0]:4d} iterations, {est.n_passes_:5d} passes over X, "
          f"final objective {est.objective_history_[-1]:.8f}")

# %%
# Newton and NGD agree to all digits after eight steps. MM converges linearly:
# the classes are almost separable, most predicted probabilities are close to
# 0 or 1, where the Böhning bound :math:`p(1-p) \le 1/4` is loose, so a plain
# MM step is far shorter than a Newton step (about 1,800 of them to
# ``tol=1e-4``). Anderson mixing of the MM map brings that to under 40 and
# ``tol=1e-10`` to about 130 steps; see the :ref:`bound_optimisation` page.


# %%
# scikit-learn's paths, rebuilt by refitting
# ------------------------------------------
def sklearn_path(X, solver, n_max):
    """Objective after k iterations of a scikit-learn solver, k on a log grid."""
    ks, values = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in np.unique(np.geomspace(1, n_max, 30).astype(int)):
            est = linear_model.LogisticRegression(C=C, solver=solver, max_iter=k, tol=1e-15)
            est.fit(X, y)
            ks.append(k)
            values.append(objective(X, est.coef_, est.intercept_))
            if est.n_iter_[0] < k:  # stopped before max_iter: converged
                break
    return np.array(ks), np.array(values)


def skngd_path(X, solver):
    est = skngd.LogisticRegression(C=C, solver=solver, tol=1e-10, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    values = np.asarray(est.objective_history_)[1:]  # entry 0 is the starting point
    return np.arange(1, len(values) + 1), values


paths = {}
for name, X in (("standardised", X_std), ("raw", X_raw)):
    paths[name] = {f"skngd {s}": skngd_path(X, s) for s in SOLVERS}
    paths[name]["sklearn lbfgs"] = sklearn_path(X, "lbfgs", 300)
    paths[name]["sklearn newton-cg"] = sklearn_path(X, "newton-cg", 60)
    paths[name]["sklearn newton-cholesky"] = sklearn_path(X, "newton-cholesky", 40)

# %%
# Suboptimality against iterations
# --------------------------------
# One iteration means different work for each solver (an MM step costs two
# passes over ``X``, a Newton step forms the 31 x 31 Fisher matrix, an NGD step
# a few Fisher-vector products), so the timing table below completes the
# picture. On the raw features lbfgs, a first-order method, crawls: its
# quasi-Newton memory cannot capture curvatures that differ by many orders of
# magnitude, whereas the natural-gradient and Newton steps are invariant to
# the scaling of the features.

styles = {"skngd": "-", "sklearn": "--"}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
for ax, (name, curves) in zip(axes, paths.items()):
    f_star = min(v.min() for _, v in curves.values())
    for label, (iters, values) in curves.items():
        gap = values - f_star
        keep = gap > 0
        hollow = label == "skngd ngd"  # on top of Newton: same steps on this small problem
        ax.semilogy(iters[keep], gap[keep], styles[label.split()[0]],
                    marker="o" if hollow else ".", ms=6 if hollow else 3,
                    mfc="none" if hollow else None, label=label)
    ax.set_xscale("log")
    ax.set_title(f"{name} features")
    ax.set_xlabel("iteration")
axes[0].set_ylabel(r"$f - f^\star$")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Fit time at the default tolerance
# ---------------------------------
# Each estimator with its default ``tol``; time of one fit (the best of three,
# one thread each: skngd's default ``n_jobs=None`` and scikit-learn's BLAS /
# OpenMP limited to one thread, so the comparison does not depend on the
# machine's load), iterations and the distance to the optimum reached. On a
# problem this small every solver takes milliseconds and fixed per-fit
# overheads dominate the times; what matters here is the last column: at
# their default tolerances scikit-learn's lbfgs stops far from the optimum
# on the raw features, the Newton-type solvers do not. The
# :ref:`natural_gradient` page has the timings at scale.


def timed(make, X):
    best = np.inf
    for _ in range(3):
        est = make()
        t0 = time.perf_counter()
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        best = min(best, time.perf_counter() - t0)
    return est, best


rows = []
for name, X in (("standardised", X_std), ("raw", X_raw)):
    f_star = min(v.min() for _, v in paths[name].values())
    candidates = {f"skngd {s}": (lambda s=s: skngd.LogisticRegression(C=C, solver=s))
                  for s in SOLVERS}
    candidates.update({
        f"sklearn {s}": (lambda s=s: linear_model.LogisticRegression(C=C, solver=s))
        for s in ("lbfgs", "newton-cg", "newton-cholesky")
    })
    for label, make in candidates.items():
        est, seconds = timed(make, X)
        gap = (objective(X, est.coef_, est.intercept_) - f_star) / abs(f_star)
        rows.append((name, label, seconds * 1e3, int(np.ravel(est.n_iter_)[0]), gap))

print(f"{'features':<13}{'solver':<26}{'fit (ms)':>9}{'iters':>7}{'rel. gap':>11}")
for name, label, ms, n_iter, gap in rows:
    print(f"{name:<13}{label:<26}{ms:9.1f}{n_iter:7d}{max(gap, 0.0):11.1e}")
