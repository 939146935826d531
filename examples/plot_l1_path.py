"""
L1 and elastic-net regularisation paths
=======================================

:func:`skngd.linear_model.regularization_path` fits a sequence of penalty
strengths, strongest first, each fit warm-started from the previous one. The
automatic grid starts at the strength where every penalised coefficient is
exactly zero (the optimality condition at the fit of the unpenalised
coefficients), so the first point of an L1 path is the empty model.

Left: an L1-penalised logistic regression on the (standardised) breast-cancer
data (its first ten, strongly correlated, features: the lasso swaps between
them), coefficients against :math:`\\log_{10} C`, with scikit-learn's
``LogisticRegression(l1_ratio=1, solver='saga')`` fitted at every fourth
``C`` as markers. Right: a Poisson elastic net (``l1_ratio=0.5``) on
simulated counts, coefficients against :math:`\\log_{10}\\alpha`, with glum's
path (``alpha_search=True``) as markers when glum is installed.
"""

# %%
# Logistic regression, L1
# -----------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler

from skngd.linear_model import glm_path, logistic_regression_path

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)[:, :10]
path = logistic_regression_path(X, y, Cs=20, l1_ratio=1.0, min_penalty_ratio=1e-3,
                                tol=1e-8)
print("C grid:", np.round(path.Cs[[0, -1]], 5), " non-zeros:", path.n_nonzero)

reference = []
for C in path.Cs[::4]:
    sk = SkLogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=1e-8, max_iter=20000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.append(sk.fit(X, y).coef_[0])
reference = np.array(reference)
print("max |skngd - scikit-learn| on the marked Cs:",
      f"{np.abs(path.coefs[::4, 0] - reference).max():.1e}")

# %%
# Poisson elastic net
# -------------------
rng = np.random.default_rng(0)
n, p = 500, 8
Z = rng.normal(size=(n, p))
beta = np.array([0.5, -0.4, 0.3, 0.0, 0.0, 0.15, 0.0, 0.0])
counts = rng.poisson(np.exp(0.2 + Z @ beta))
gpath = glm_path(Z, counts, family="poisson", l1_ratio=0.5, n_alphas=30,
                 min_alpha_ratio=1e-3, tol=1e-10)
print("alpha_max:", f"{gpath.alphas[0]:.4g}", " non-zeros:", gpath.n_nonzero)

try:
    import glum
except ImportError:  # glum is optional
    glum = None
if glum is not None:
    ref = glum.GeneralizedLinearRegressor(family="poisson", l1_ratio=0.5, alpha_search=True,
                                          alphas=gpath.alphas, gradient_tol=1e-10).fit(Z, counts)
    print("max |skngd - glum| along the path:", f"{np.abs(gpath.coefs - ref.coef_path_).max():.1e}")

# %%
# The two paths
# -------------
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
logC = np.log10(path.Cs)
ax1.plot(logC, path.coefs[:, 0, :], lw=1.5)
ax1.plot(logC[::4], reference, "k.", ms=4)
ax1.plot([], [], "k.", label="scikit-learn (saga)")
ax1.set_xlabel(r"$\log_{10} C$")
ax1.set_ylabel("coefficient")
ax1.set_title("Logistic regression, L1")
ax1.legend(loc="upper left")

loga = np.log10(gpath.alphas)
ax2.plot(loga, gpath.coefs, lw=1.5)
if glum is not None:
    ax2.plot(loga[::3], ref.coef_path_[::3], "k.", ms=4)
    ax2.plot([], [], "k.", label="glum")
    ax2.legend(loc="upper right")
ax2.invert_xaxis()
ax2.set_xlabel(r"$\log_{10}\alpha$")
ax2.set_title("Poisson, elastic net (l1_ratio=0.5)")
fig.tight_layout()
plt.show()
