r"""Inference for fitted GLMs: dispersion, covariance, likelihood criteria and
the summary table.

With :math:`\tilde X = [1, X]`, curvature weights :math:`W` at the solution
(Fisher weights :math:`W^F` or observed ones :math:`W^O`, see
:mod:`skngd._kernels.glm`), :math:`G = \tilde X^T W \tilde X` and
dispersion :math:`\phi`:

* ``nonrobust`` / ``eim``: :math:`\phi\,G_F^{-1}` (expected information, as
  statsmodels' IRLS and R); ``oim``: :math:`\phi\,G_O^{-1}` (observed
  information, as statsmodels' Newton fits and Stata). With an L2 penalty
  :math:`P` the sandwich :math:`\phi H^{-1} G H^{-1}`, :math:`H = G + P`.
* ``HC0``: :math:`H_O^{-1} \big(\sum_i s_i u_i u_i^T\big) H_O^{-1}` with the
  observed :math:`H_O = G_O + P` (as statsmodels) and the per-sample scores
  :math:`u_i = \tilde x_i (y_i-\mu_i)\mu_i'/V(\mu_i)`.

After an elastic-net fit with an L1 part the covariance is that of the active
set (non-zero coefficients, the intercept and unpenalised features): the
rows and columns of coefficients at zero are NaN, and the others are the
naive standard errors, conditional on the selection (as glum and statsmodels'
``fit_regularized`` document); ``k`` counts the active parameters.

Pearson dispersion :math:`\chi^2/(\sum_i s_i - k)`, log-likelihood, AIC
:math:`-2\ell + 2k` and BIC :math:`-2\ell + k\log\sum_i s_i` follow statsmodels'
``GLMResults`` (``bic`` = ``bic_llf``), with :math:`k` the number of estimated
mean parameters.
"""


import numpy as np
from scipy import linalg, stats

from skngd._solvers.linalg import inverse_pd
from skngd.utils._warnings import warn


class CollinearityWarning(UserWarning):
    """The design matrix is (numerically) rank deficient."""


class InferenceWarning(UserWarning):
    """An inference quantity (dispersion, standard errors, likelihood) is
    undefined for this fit, or the call is likely a mistake."""


def warn_no_dispersion(family, n_obs, k):
    warn(
        f"No residual degrees of freedom: {n_obs:g} (weighted) samples for {k} estimated "
        f"parameters, so the dispersion (scale) of the {family.name} family cannot be "
        "estimated. scale_, coef_stderr_, intercept_stderr_, covariance_, pvalues_, "
        "conf_int(), llf_, aic_ and bic_ are NaN (statsmodels reports infinite standard "
        "errors). Pass a fixed scale=<float>, add samples or remove features.",
        InferenceWarning)


def warn_score_without_offset(name):
    warn(
        f"{name} was fitted with an offset but score() is called without one, so the "
        "predictions ignore the exposure and D² is computed on the wrong scale. Pass "
        "offset=...; under cross-validation enable metadata routing "
        "(sklearn.set_config(enable_metadata_routing=True)) and request it with "
        "set_score_request(offset=True).",
        InferenceWarning)


def unit_scores(problem, coef, mu):
    r"""Per-sample score factors :math:`(y_i-\mu_i)\mu_i'/V(\mu_i)` at ``coef``."""
    with np.errstate(all="ignore"):
        eta = problem.linear_predictor(coef)
        u = (problem.y - mu) * problem.link.inverse_derivative(eta) / problem.family.variance(mu)
    return np.where(np.isfinite(u), u, 0.0)


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


def covariance(gram, penalty, scale, cov_type, meat=None, rank_deficient=False):
    """Covariance of the parameters (in the layout of ``gram``); ``penalty``
    is the ridge's diagonal or its matrix (``P2``)."""
    P = penalty if np.ndim(penalty) == 2 else np.diag(penalty)  # a ridge matrix or diagonal
    H = gram + P
    Hinv = linalg.pinvh(H) if rank_deficient else inverse_pd(H)
    if cov_type == "HC0":
        return Hinv @ meat @ Hinv
    if np.any(P != 0):
        return scale * (Hinv @ gram @ Hinv)
    return scale * Hinv


def check_rank(rank_deficient, k):
    if rank_deficient:
        warn(
            f"The design matrix (with intercept) is rank deficient: some of its {k} "
            "columns are linear combinations of others, so their coefficients are not "
            "identifiable. The minimum-norm (pseudo-inverse) solution is returned and the "
            "covariance uses the pseudo-inverse; standard errors of aliased coefficients "
            "are not meaningful. Remove redundant columns or set alpha > 0.",
            CollinearityWarning,
        )


def wald_table(params, stderr, level=0.05):
    """z statistics, two-sided p-values and a (k, 2) confidence interval."""
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = params / stderr
    pval = 2.0 * stats.norm.sf(np.abs(zval))
    q = stats.norm.isf(level / 2.0)
    ci = np.column_stack([params - q * stderr, params + q * stderr])
    return zval, pval, ci


def summarize(est, names, level=0.05):
    """The :class:`~skngd.linear_model._glm_summary.GLMSummary` of a fitted estimator."""
    from skngd.linear_model._glm_summary import GLMSummary

    params, se = est._params_vector(), np.sqrt(np.clip(np.diag(est.covariance_), 0.0, None))
    zval, pval, ci = wald_table(params, se, level)
    info = [
        ("Family", est._family_.name), ("No. Observations", est._n_obs_),
        ("Link", est._link_.name), ("Df Residuals", est._df_resid_),
        ("Method", "IRLS"), ("Df Model", len(params) - int(est.fit_intercept)),
        ("Iterations", est.n_iter_), ("Scale", est.scale_),
        ("Covariance", est.cov_type), ("Log-Likelihood", est.llf_),
        ("Deviance", est.deviance_), ("AIC", est.aic_),
        ("Null deviance", est.null_deviance_), ("BIC", est.bic_),
    ]
    zero = np.asarray(getattr(est, "_zero_coef_", np.zeros(len(params), dtype=bool)))
    rho = float(getattr(est, "l1_ratio", 0.0))
    notes = []
    if est.alpha > 0 and rho > 0:
        notes.append(
            f"Elastic-net penalty alpha={est.alpha:g}, l1_ratio={rho:g}: {int(zero.sum())} "
            "coefficient(s) are exactly zero (marked 'zero'; std err, z, P>|z| and the "
            "interval are NaN). The standard errors of the others are naive: computed on "
            "the selected (non-zero) coefficients as if the selection were fixed, they ignore "
            "the selection and the shrinkage bias, so p-values and intervals are too "
            "optimistic.")
    elif est.alpha > 0:
        notes.append(f"L2 penalty alpha={est.alpha:g}: standard errors ignore the shrinkage bias.")
    return GLMSummary(f"{type(est).__name__} results", info, names, params, se, zval, pval, ci,
                      level, notes, zero=zero)
