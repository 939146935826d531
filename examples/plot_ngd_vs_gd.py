"""
Natural gradient against plain gradient descent on a badly conditioned problem
===============================================================================

Plain gradient descent follows the steepest direction in the Euclidean metric
of the parameters, so on a badly conditioned objective it zig-zags across the
narrow valley with a step limited by the largest curvature. Natural gradient
descent (NGD) measures steps in the metric of the model, the Fisher
information :math:`F`, and moves along :math:`-F^{-1}\\nabla f`: the result
does not depend on how the parameters are scaled or correlated.

For logistic regression the Fisher matrix is the Hessian, so a full NGD step
with step size one is Newton's step (what ``skngd.LogisticRegression(solver='ngd')``
takes, with Armijo backtracking).
"""

# %%
# A two-parameter logistic regression with correlated, badly scaled features
# ---------------------------------------------------------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from skngd import LogisticRegression

rng = np.random.default_rng(0)
n = 2000
Z = rng.standard_normal((n, 2))
X = np.column_stack([Z[:, 0], 0.9 * Z[:, 0] + 0.1 * Z[:, 1]]) * np.array([1.0, 4.0])
w_true = np.array([1.5, -0.2])
y = (rng.random(n) < expit(X @ w_true)).astype(int)
C = 10.0


def objective(w):
    z = X @ w
    return np.sum(np.logaddexp(0, z) - y * z) + 0.5 / C * w @ w


def gradient(w):
    return X.T @ (expit(X @ w) - y) + w / C


# %%
# Plain gradient descent with the largest stable fixed step ``1 / L``
L = np.linalg.eigvalsh(0.25 * X.T @ X).max() + 1 / C
w = np.zeros(2)  # the same start as skngd
gd_path = [w.copy()]
for _ in range(200):
    w = w - gradient(w) / L
    gd_path.append(w.copy())
gd_path = np.array(gd_path)

# %%
# Natural gradient descent: ``max_iter=k`` fits give the iterates of skngd's solver
# (no intercept, so the parameter space is the plane plotted below).
ngd_path = [np.array([0.0, 0.0])]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for k in range(1, 8):
        clf = LogisticRegression(C=C, solver="ngd", fit_intercept=False, max_iter=k,
                                 tol=1e-12).fit(X, y)
        ngd_path.append(clf.coef_[0].copy())
ngd_path = np.array(ngd_path)
f_opt = objective(ngd_path[-1])

# %%
# Trajectories over the contours, and objective gap against iterations
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.5))
a = np.linspace(-0.5, 2.5, 200)
b = np.linspace(-1.0, 0.6, 200)
A, B = np.meshgrid(a, b)
F = np.array([[objective(np.array([u, v])) for u in a] for v in b])
ax0.contour(A, B, np.log(F - f_opt + 1e-3), levels=25, cmap="Greys")
ax0.plot(gd_path[:, 0], gd_path[:, 1], ".-", color="C0", ms=3, label="gradient descent")
ax0.plot(ngd_path[:, 0], ngd_path[:, 1], "o-", color="C3", label="natural gradient (skngd)")
ax0.set_xlabel("$w_1$")
ax0.set_ylabel("$w_2$")
ax0.set_title("iterates in parameter space")
ax0.legend()
gaps_gd = [objective(w) - f_opt for w in gd_path]
gaps_ngd = [max(objective(w) - f_opt, 1e-14) for w in ngd_path]
ax1.semilogy(gaps_gd, color="C0", label="gradient descent")
ax1.semilogy(gaps_ngd, "o-", color="C3", label="natural gradient (skngd)")
ax1.set_xlabel("iteration")
ax1.set_ylabel("$f(w) - f^*$")
ax1.set_title("objective gap")
ax1.legend()
fig.tight_layout()

# %%
# Amari's example: fitting a Gaussian's mean and standard deviation
# -----------------------------------------------------------------
# The negative log-likelihood of :math:`N(\mu, \sigma^2)` couples the two
# parameters through :math:`\sigma`: its curvature in :math:`\mu` is
# :math:`1/\sigma^2`, so plain gradient steps are tiny where :math:`\sigma` is
# large and explode where it is small. The Fisher metric is
# :math:`\mathrm{diag}(1/\sigma^2, 2/\sigma^2)`; the natural gradient rescales
# both coordinates by it and heads straight for the maximum-likelihood estimate.
data = rng.normal(3.0, 0.5, size=500)
m, s2 = data.mean(), data.var()


def nll_grad(mu, sigma):
    r = (mu - m) ** 2 + s2
    return (mu - m) / sigma**2, 1 / sigma - r / sigma**3


paths = {}
for name, step in (("gradient descent", 0.02), ("natural gradient", 0.2)):
    mu, sigma = 0.0, 2.0
    path = [(mu, sigma)]
    for _ in range(60):
        gmu, gsig = nll_grad(mu, sigma)
        if name == "natural gradient":
            gmu, gsig = sigma**2 * gmu, sigma**2 / 2 * gsig
        mu, sigma = mu - step * gmu, max(sigma - step * gsig, 1e-3)
        path.append((mu, sigma))
    paths[name] = np.array(path)

fig2, ax = plt.subplots(figsize=(5.5, 4.5))
for (name, path), c in zip(paths.items(), ("C0", "C3")):
    ax.plot(path[:, 0], path[:, 1], ".-", color=c, label=name)
ax.plot(m, np.sqrt(s2), "k*", ms=12, label="maximum likelihood")
ax.set_xlabel(r"$\mu$")
ax.set_ylabel(r"$\sigma$")
ax.set_title("Gaussian fit: 60 iterations from (0, 2)")
ax.legend()
fig2.tight_layout()
plt.show()
