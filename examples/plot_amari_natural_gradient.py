"""
=========================================================================
Natural gradient on a coupled 2-D Gaussian: parameter and whitened spaces
=========================================================================

The textbook picture behind natural gradient (Amari, 1998). Fit the mean
:math:`\\theta` of a two-dimensional Gaussian :math:`N(\\theta, \\Sigma)` whose
coordinates are strongly coupled (correlated, with very different scales).
The average negative log-likelihood is, up to a constant,

.. math::

    f(\\theta) = \\tfrac12 (\\theta - \\bar x)^\\top \\Sigma^{-1} (\\theta - \\bar x),
    \\qquad \\nabla f = \\Sigma^{-1}(\\theta - \\bar x),
    \\qquad F = \\Sigma^{-1},

so the Fisher information :math:`F` is constant and equals the Hessian.
Gradient descent must keep its step below :math:`2/\\lambda_{\\max}(F)` and
then crawls along the flat direction, zig-zagging across the valley. The
natural gradient :math:`F^{-1}\\nabla f = \\theta - \\bar x` points straight at
the optimum.

In the *whitened* coordinates :math:`\\phi = \\Sigma^{-1/2}\\theta` the Fisher
metric becomes the identity and the contours become circles: there, plain
gradient descent *is* natural gradient descent. The natural gradient is the
steepest descent of the model's geometry, whatever coordinates it is written
in. The last part checks the same invariance on
:class:`skngd.LogisticRegression`: its NGD iterations do not change when the
features are mixed by an invertible matrix, while L-BFGS's do.
(The natural-gradient versus gradient-descent example in this gallery shows
the other half of Amari's example, the coupled mean and scale
:math:`(\\mu, \\sigma)` of a one-dimensional Gaussian.)
"""

# %%
# A strongly coupled Gaussian
# ---------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import sqrtm
from sklearn import linear_model
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import skngd
from skngd.plotting import plot_objective_history

rng = np.random.default_rng(0)
angle = np.deg2rad(30)
R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
Sigma = R @ np.diag([4.0, 0.04]) @ R.T  # condition number 100
x = rng.multivariate_normal([1.0, 0.5], Sigma, size=400)
x_bar = x.mean(axis=0)
F = np.linalg.inv(Sigma)  # Fisher information of the mean (per sample)
W = np.real(sqrtm(F))  # whitening map: phi = W theta


def f(theta):
    d = theta - x_bar
    return 0.5 * d @ F @ d


def descend(direction, step, n_iter=40, start=(-2.5, 2.0)):
    path = [np.asarray(start, dtype=float)]
    for _ in range(n_iter):
        path.append(path[-1] - step * direction(path[-1]))
    return np.array(path)


lam_max = np.linalg.eigvalsh(F).max()
gd = descend(lambda t: F @ (t - x_bar), step=1.5 / lam_max)  # stable below 2 / lam_max
ngd = descend(lambda t: np.linalg.solve(F, F @ (t - x_bar)), step=0.3)
# plain gradient descent in the whitened coordinates, mapped back to theta
gd_white = descend(lambda p: p - W @ x_bar, step=0.3, start=W @ gd[0])
assert np.allclose(np.linalg.solve(W, gd_white.T).T, ngd)  # the same path

print(f"after 40 steps: f - f* = {f(gd[-1]):.2e} (gradient descent), "
      f"{f(ngd[-1]):.2e} (natural gradient)")

# %%
# Paths in the parameter space and in the whitened space
# ------------------------------------------------------
# Left: the contours of :math:`f` are thin ellipses; gradient descent
# zig-zags, the natural gradient goes straight. Right: the same two paths
# after whitening, :math:`\phi = \Sigma^{-1/2}\theta`; the contours are
# circles and the natural-gradient path is the plain gradient path there.

fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
levels = f(gd[0]) * np.array([0.002, 0.01, 0.04, 0.15, 0.4, 1.0])

for ax, (space, transform) in zip(axes, (("parameter space", np.eye(2)), ("whitened space", W))):
    # contours of f drawn on a grid of this space (f(theta) with theta = T^-1 p)
    pts = np.vstack([gd, ngd]) @ transform.T
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.15 * (hi - lo).max()
    G1, G2 = np.meshgrid(np.linspace(lo[0] - pad, hi[0] + pad, 200),
                         np.linspace(lo[1] - pad, hi[1] + pad, 200))
    thetas = np.linalg.solve(transform, np.stack([G1.ravel(), G2.ravel()])).T
    values = 0.5 * np.einsum("ij,jk,ik->i", thetas - x_bar, F, thetas - x_bar)
    ax.contour(G1, G2, values.reshape(G1.shape), levels=levels, colors="0.75", linewidths=0.8)
    for path, label, color in ((gd, "gradient descent", "C0"), (ngd, "natural gradient", "C3")):
        mapped = path @ transform.T
        ax.plot(mapped[:, 0], mapped[:, 1], ".-", color=color, ms=4, lw=1, label=label)
    opt = transform @ x_bar
    ax.plot(*opt, "k*", ms=12, label="maximum likelihood")
    ax.set_title(space)
    ax.set_aspect("equal", adjustable="datalim")
axes[0].set_xlabel(r"$\theta_1$")
axes[0].set_ylabel(r"$\theta_2$")
axes[1].set_xlabel(r"$\phi_1$")
axes[1].set_ylabel(r"$\phi_2$")
axes[0].legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# The same invariance in ``skngd.LogisticRegression``
# ---------------------------------------------------
# Mix the (standardised) diabetes features with a random invertible matrix
# :math:`A`, :math:`X \to XA`: the model class is unchanged (``w -> A^{-1} w``).
# Without a penalty (``C=np.inf``; an L2 penalty is not invariant) the natural
# gradient takes the same steps in both parametrisations, so the two objective
# histories coincide; L-BFGS needs a different number of iterations.
X, y_cont = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
y = (y_cont > np.median(y_cont)).astype(int)
A = rng.normal(size=(X.shape[1], X.shape[1])) @ np.diag(np.logspace(-1, 1, X.shape[1]))
XA = X @ A
print(f"condition number of X: {np.linalg.cond(X):.1f}, of XA: {np.linalg.cond(XA):.1f}")

fits = {}
for name, data in (("X", X), ("XA", XA)):
    fits[f"ngd on {name}"] = skngd.LogisticRegression(C=np.inf, solver="ngd", tol=1e-8).fit(data, y)
h1, h2 = (np.asarray(e.objective_history_) for e in fits.values())
print("NGD iterations:", [int(e.n_iter_[0]) for e in fits.values()],
      f"largest history difference: {np.max(np.abs(h1[:len(h2)] - h2[:len(h1)])):.1e}")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    lbfgs = {name: linear_model.LogisticRegression(C=np.inf, max_iter=1000).fit(data, y)
             for name, data in (("X", X), ("XA", XA))}
print("L-BFGS iterations:", {k: int(v.n_iter_[0]) for k, v in lbfgs.items()})

ax = plot_objective_history(fits, gap=True)
ax.set_title("skngd NGD: the same iterations on X and on XA")
plt.show()
