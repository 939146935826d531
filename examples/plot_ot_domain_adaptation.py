"""
==========================================
Optimal-transport domain adaptation: moons
==========================================

A classifier trained on two moons (the labelled *source*) is applied to the
same moons rotated by 40 degrees (the unlabelled *target*). Its accuracy
drops. :class:`skngd.OTDomainAdapter` couples source and target points by
optimal transport and moves every source point to the barycentre of the
target points it is coupled with; :class:`skngd.DomainAdaptedEstimator`
trains the classifier on those mapped source points (never on target labels).

Domains travel as in skada: one stacked ``X`` and ``sample_domain`` (>= 0
source, < 0 target), or masked labels ``y == -1`` for the target rows.

At its defaults, :class:`skngd.DomainAdaptedEstimator` chooses, without
target labels, between no adaptation and several transport maps, and says
what it chose and why in ``selection_``.
"""

# %%
# Data: source moons and the rotated target moons
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.svm import SVC

from skngd.domain_adaptation import DomainAdaptedEstimator, OTDomainAdapter
from skngd.plotting import plot_transport

Xs, ys = make_moons(150, noise=0.1, random_state=0)
Xt0, yt = make_moons(150, noise=0.1, random_state=1)
theta = np.deg2rad(40)
R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
Xt = (Xt0 - Xt0.mean(0)) @ R.T + Xt0.mean(0)

X = np.r_[Xs, Xt]
y = np.r_[ys, -np.ones(len(Xt), dtype=int)]  # target labels are masked
sample_domain = np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]

# %%
# Fit the exact (EMD) coupling and map the source rows
adapter = OTDomainAdapter(method="emd")
X_mapped = adapter.fit_transform(X, sample_domain=sample_domain)
Xs_mapped = X_mapped[: len(Xs)]
P = adapter.coupling_
print(f"transport cost {adapter.cost_:.3f}, coupling shape {P.shape}")

# %%
# Accuracy on the target: no adaptation, each OT method as given
# (``selection=None``), and the default estimator, which chooses
scores = {"no adaptation": SVC().fit(Xs, ys).score(Xt, yt)}
for name, ad in [
    ("emd", OTDomainAdapter(method="emd")),
    ("sinkhorn", OTDomainAdapter(method="sinkhorn")),  # reg='auto'
    ("sinkhorn_class", OTDomainAdapter(method="sinkhorn_class", reg_class=0.5)),
    ("gaussian", OTDomainAdapter(method="gaussian")),
]:
    clf = DomainAdaptedEstimator(ad, SVC(), selection=None).fit(X, y)
    scores[name] = clf.score(Xt, yt)
default = DomainAdaptedEstimator().fit(X, y)
scores["default"] = default.score(Xt, yt)
for name, s in scores.items():
    print(f"{name:>15}: target accuracy {s:.3f}")
print("default chose:", default.selection_.reason)

# %%
# Source, target, coupling lines, mapped source, and the accuracy gain
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
# :func:`skngd.plotting.plot_transport` draws the strongest couplings
ax = plot_transport(adapter, X, sample_domain, y=y, n_lines=np.count_nonzero(P), ax=axes[0])
ax.set_title("source, target and the EMD coupling")
ax.legend(loc="lower left")

ax = axes[1]
ax.scatter(*Xt.T, c="k", marker="x", s=15, label="target")
ax.scatter(*Xs_mapped.T, c=ys, cmap="coolwarm", s=15, label="mapped source")
ax.set_title("source mapped onto the target (barycentric)")
ax.legend(loc="lower left")

ax = axes[2]
names = list(scores)
ax.bar(names, [scores[k] for k in names],
       color=["0.6"] + ["tab:blue"] * (len(names) - 2) + ["tab:green"])
ax.axhline(scores["no adaptation"], color="0.3", ls="--", lw=1)
ax.set_ylim(0.4, 1.0)
ax.set_ylabel("target accuracy (SVC)")
ax.set_title("accuracy gain from OT adaptation")
ax.tick_params(axis="x", rotation=20)
fig.tight_layout()
plt.show()
