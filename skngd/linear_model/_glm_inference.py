r"""Inference for fitted GLMs: dispersion, covariance, likelihood criteria and
the summary table.

With :math:`\tilde X = [1, X]`, Fisher weights :math:`W` at the solution and
dispersion :math:`\phi`:

* ``nonrobust``: :math:`\phi\,(\tilde X^T W \tilde X)^{-1}` (expected
  information, as statsmodels' IRLS); with an L2 penalty :math:`P` the
  sandwich :math:`\phi H^{-1} \tilde X^T W \tilde X H^{-1}`,
  :math:`H = \tilde X^T W \tilde X + P`.
* ``HC0``: :math:`H^{-1} \big(\sum_i s_i u_i u_i^T\big) H^{-1}` with the
  per-sample scores :math:`u_i = \tilde x_i (y_i-\mu_i)\mu_i'/V(\mu_i)`.

Pearson dispersion :math:`\chi^2/(\sum_i s_i - k)`, log-likelihood, AIC
:math:`-2\ell + 2k` and BIC :math:`-2\ell + k\log\sum_i s_i` follow statsmodels'
``GLMResults`` (``bic`` = ``bic_llf``), with :math:`k` the number of estimated
mean parameters.
"""

import warnings

import numpy as np
from scipy import linalg, stats


class CollinearityWarning(UserWarning):
    """The design matrix is (numerically) rank deficient."""


def dispersion(scale, family, y, mu, sample_weight, deviance, df_resid):
    """The dispersion :math:`\\phi` for a ``scale`` setting."""
    if family.fixed_scale:
        return 1.0
    if not isinstance(scale, str):
        return float(scale)
    if df_resid <= 0:
        return float("nan")
    if scale == "deviance":
        return deviance / df_resid
    with np.errstate(all="ignore"):
        chi2 = float(np.dot(sample_weight, (y - mu) ** 2 / family.variance(mu)))
    return chi2 / df_resid


def loglikelihood(family, link, y, mu, sample_weight, deviance, scale):
    """statsmodels' ``llf``: profile likelihood (ML scale) for normal-identity."""
    if family.name == "normal" and link.name == "identity":
        scale = deviance / float(sample_weight.sum())
    return family.loglike(y, mu, sample_weight, scale)


def _inv(H):
    try:
        c = linalg.cho_factor(H, check_finite=False)
        return linalg.cho_solve(c, np.eye(H.shape[0]), check_finite=False)
    except linalg.LinAlgError:
        return linalg.pinvh(H)


def covariance(gram, penalty, scale, cov_type, meat=None, rank_deficient=False):
    """Covariance of the parameters (in the layout of ``gram``)."""
    H = gram + np.diag(penalty)
    Hinv = linalg.pinvh(H) if rank_deficient else _inv(H)
    if cov_type == "HC0":
        return Hinv @ meat @ Hinv
    if np.any(penalty > 0):
        return scale * (Hinv @ gram @ Hinv)
    return scale * Hinv


def check_rank(rank_deficient, k):
    if rank_deficient:
        warnings.warn(
            f"The design matrix (with intercept) is rank deficient: some of its {k} "
            "columns are linear combinations of others, so their coefficients are not "
            "identifiable. The minimum-norm (pseudo-inverse) solution is returned and the "
            "covariance uses the pseudo-inverse; standard errors of aliased coefficients "
            "are not meaningful. Remove redundant columns or set alpha > 0.",
            CollinearityWarning,
            stacklevel=5,
        )


def wald_table(params, stderr, level=0.05):
    """z statistics, two-sided p-values and a (k, 2) confidence interval."""
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = params / stderr
    pval = 2.0 * stats.norm.sf(np.abs(zval))
    q = stats.norm.isf(level / 2.0)
    ci = np.column_stack([params - q * stderr, params + q * stderr])
    return zval, pval, ci


def summary_text(est, names, level=0.05):
    """A statsmodels-like text table of a fitted estimator."""
    params, se = est._params_vector(), np.sqrt(np.diag(est.covariance_))
    zval, pval, ci = wald_table(params, se, level)
    lo, hi = f"[{level / 2:.3g}", f"{1 - level / 2:.3g}]"
    head = [
        ("Family", est._family_.name, "No. Observations", f"{est._n_obs_:g}"),
        ("Link", est._link_.name, "Df Residuals", f"{est._df_resid_:g}"),
        ("Method", "IRLS", "Df Model", f"{len(params) - int(est.fit_intercept)}"),
        ("Iterations", f"{est.n_iter_}", "Scale", f"{est.scale_:.6g}"),
        ("Covariance", est.cov_type, "Log-Likelihood", f"{est.llf_:.6g}"),
        ("Deviance", f"{est.deviance_:.6g}", "AIC", f"{est.aic_:.6g}"),
        ("Null deviance", f"{est.null_deviance_:.6g}", "BIC", f"{est.bic_:.6g}"),
    ]
    width = max(len(n) for n in names) if names else 5
    width = max(width, 9)
    cols = f"{'':<{width}} {'coef':>11} {'std err':>11} {'z':>9} {'P>|z|':>8} {lo:>11} {hi:>11}"
    rule = "=" * len(cols)
    lines = [f"{type(est).__name__} results".center(len(cols)), rule]
    for a, b, c, d in head:
        lines.append(f"{a + ':':<16}{b:>20}   {c + ':':<18}{d:>{len(cols) - 57}}")
    lines += [rule, cols, "-" * len(cols)]
    for i, name in enumerate(names):
        lines.append(
            f"{name:<{width}} {params[i]:>11.4f} {se[i]:>11.4f} {zval[i]:>9.3f} "
            f"{pval[i]:>8.3f} {ci[i, 0]:>11.4f} {ci[i, 1]:>11.4f}"
        )
    lines.append(rule)
    if est.alpha > 0:
        lines.append(f"L2 penalty alpha={est.alpha:g}: standard errors ignore the shrinkage bias.")
    return "\n".join(lines)
