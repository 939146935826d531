"""
=====================================================================
Bayesian optimisation, CMA-ES and random search: best score vs budget
=====================================================================

:class:`~skngd.model_selection.BayesSearchCV` and
:class:`~skngd.model_selection.CMAESSearchCV` are drop-in replacements for
:class:`~sklearn.model_selection.RandomizedSearchCV`: same arguments, same
``cv_results_`` (one row per evaluated candidate, in evaluation order). Unlike random
search they choose each next candidate from the scores of the finished ones.

We tune an RBF support-vector classifier (``C`` and ``gamma`` on log scales) on a
third of the digits data and plot, for each method and a few seeds, the best mean
cross-validated accuracy found after each evaluation.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold
from sklearn.svm import SVC

from skngd.model_selection import BayesSearchCV, CMAESSearchCV, Real
from skngd.plotting import plot_convergence

X, y = load_digits(return_X_y=True)
X, y = X[::3] / 16.0, y[::3]
space = {"C": Real(1e-2, 1e3, prior="log-uniform"),
         "gamma": Real(1e-5, 1e0, prior="log-uniform")}
n_iter, seeds = 25, (0, 1)

# %%
# Run the three searches. ``Real`` dimensions also work with RandomizedSearchCV.
methods = {"BayesSearchCV (GP, log-EI)": BayesSearchCV,
           "CMAESSearchCV": CMAESSearchCV,
           "RandomizedSearchCV": RandomizedSearchCV}
curves, searches = {}, {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for name, cls in methods.items():
        runs = []
        for seed in seeds:
            s = cls(SVC(), space, n_iter=n_iter, cv=StratifiedKFold(3),
                    random_state=seed).fit(X, y)
            runs.append(np.maximum.accumulate(s.cv_results_["mean_test_score"]))
            searches[name, seed] = s
        curves[name] = np.array(runs)

# %%
# Best score so far against the number of evaluations (mean over seeds, and the
# individual runs as thin lines).
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
plot_convergence({name: [searches[name, seed] for seed in seeds] for name in methods}, ax=ax)
ax.set_ylabel("best mean CV accuracy so far")
ax.set_ylim(0.9, 1.0)
ax.legend(loc="lower right")
ax.set_title("Convergence")

# %%
# Where each method looked (seed 0): BO and CMA-ES concentrate their evaluations
# in the high-accuracy ridge, random search spreads them over the whole box.
for (name, _), color in zip(curves.items(), ("C0", "C1", "C2")):
    res = searches[name, 0].cv_results_
    C = np.array([p["C"] for p in res["params"]])
    g = np.array([p["gamma"] for p in res["params"]])
    ax2.scatter(C, g, s=18, color=color, label=name, alpha=0.8)
ax2.set_xscale("log")
ax2.set_yscale("log")
ax2.set_xlabel("C")
ax2.set_ylabel("gamma")
ax2.set_title("Evaluated candidates (seed 0)")
fig.tight_layout()
plt.show()

for name in curves:
    print(f"{name:<28} best after {n_iter}: {curves[name][:, -1].mean():.4f}")
