"""
Poisson regression with an exposure offset: summary table and intervals
========================================================================

Claim counts :math:`y_i` observed over an exposure :math:`t_i` (years at
risk) follow :math:`y_i \\sim \\mathrm{Poisson}(t_i \\exp(x_i^T\\beta + b))`.
The exposure enters the linear predictor as the offset :math:`\\log t_i`, so
the coefficients describe the claim *rate* per year.

:class:`skngd.PoissonRegressor` fits this by IRLS and, unlike scikit-learn's
estimator, also returns standard errors, Wald confidence intervals, the
log-likelihood, AIC/BIC and a statsmodels-style ``summary()``.
"""

# %%
# Simulated portfolio
# -------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skngd import PoissonRegressor
from skngd.plotting import plot_coefficients

rng = np.random.default_rng(0)
n = 5000
X = pd.DataFrame({
    "driver_age": rng.normal(size=n),
    "vehicle_power": rng.normal(size=n),
    "urban": rng.binomial(1, 0.4, size=n).astype(float),
    "bonus_malus": rng.normal(size=n),
    "noise": rng.normal(size=n),
})
true_coef = np.array([-0.25, 0.15, 0.4, 0.3, 0.0])
exposure = rng.uniform(0.1, 1.0, size=n)
rate = np.exp(-2.0 + X.to_numpy() @ true_coef)
y = rng.poisson(exposure * rate)

# %%
# Fit with the offset log(exposure)
# ---------------------------------
glm = PoissonRegressor(alpha=0.0).fit(X, y, offset=np.log(exposure))
print(glm.summary())

# %%
# The summary prints as a table and also holds it as data: ``tables[1]`` is
# the coefficient table as a DataFrame indexed by the column names, and
# ``pvalues_`` / ``conf_int()`` carry the same rows.
coefs = glm.summary().tables[1]
print(coefs.loc[["urban", "noise"], ["coef", "std err", "P>|z|"]])
print(glm.conf_int().loc["urban"])

# %%
# The prediction for a new policy needs its exposure as offset; without an
# offset the model predicts the yearly rate.
print("expected claims over half a year:", glm.predict(X.iloc[:3], offset=np.log([0.5] * 3)))
print("yearly claim rate:              ", glm.predict(X.iloc[:3]))

# %%
# Coefficients with 95 % confidence intervals
# -------------------------------------------
# ``conf_int()`` returns one row per parameter (intercept first). The true
# values lie inside the intervals (up to the 5 % error rate).
# :func:`skngd.plotting.plot_coefficients` draws them, one row per feature.
fig, ax = plt.subplots(figsize=(6, 3.5))
plot_coefficients(glm, alpha=0.05, ax=ax)
ax.scatter(true_coef, ax.get_yticks(), marker="x", color="k", zorder=3, label="true value")
ax.set_xlabel("coefficient (log claim rate)")
ax.set_title("Poisson GLM with exposure offset")
ax.legend(loc="lower right")
fig.tight_layout()

# %%
# Observed and predicted claims by decile of the predicted rate
# -------------------------------------------------------------
mu = glm.predict(X, offset=np.log(exposure))
decile = pd.qcut(glm.predict(X), 10, labels=False)
obs = pd.Series(y).groupby(decile).sum() / pd.Series(exposure).groupby(decile).sum()
pred = pd.Series(mu).groupby(decile).sum() / pd.Series(exposure).groupby(decile).sum()
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(pred.to_numpy(), obs.to_numpy(), "o-", label="deciles")
lim = [0, 1.05 * max(obs.max(), pred.max())]
ax.plot(lim, lim, "k--", lw=0.8, label="y = x")
ax.set_xlabel("predicted claims per year")
ax.set_ylabel("observed claims per year")
ax.set_title(f"D² = {glm.score(X, y, offset=np.log(exposure)):.3f}, AIC = {glm.aic_:.0f}")
ax.legend()
fig.tight_layout()
plt.show()
