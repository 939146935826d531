r"""Acquisition functions (for maximisation) and their optimiser.

With posterior mean :math:`\mu`, standard deviation :math:`\sigma`, incumbent
:math:`f^*` and :math:`z = (\mu - f^* - \xi) / \sigma`:

.. math::

    \mathrm{EI} = \sigma\,h(z),\quad h(z) = \varphi(z) + z\,\Phi(z), \qquad
    \mathrm{PI} = \Phi(z), \qquad
    \mathrm{UCB} = \mu + \kappa\,\sigma .

EI and PI are optimised in log space: :math:`\log h(z)` is evaluated through the
scaled complementary error function for :math:`z < 0` (and an asymptotic series far
in the tail), so it stays finite and smooth where EI itself underflows to 0.
Thompson sampling ('ts') draws one joint posterior sample on a candidate set and
takes its arg-max.

Each function returns ``(value, d value / d mu, d value / d sigma)``.

References
----------
Jones, Schonlau, Welch (1998). Efficient global optimization of expensive black-box
functions. J. Global Optim. 13.
Ament et al. (2023). Unexpected improvements to expected improvement for Bayesian
optimization. NeurIPS.
"""

import numpy as np
from scipy.optimize import minimize
from scipy.special import erfcx, log_ndtr, ndtr

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)
_SQRT_PI_2 = np.sqrt(np.pi / 2)


def log_h(z):
    """``log(phi(z) + z Phi(z))`` computed stably for every real ``z``."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= -1.0
    zp = z[pos]
    out[pos] = np.log(np.exp(-0.5 * zp * zp - _LOG_SQRT_2PI) + zp * ndtr(zp))
    neg = ~pos
    t = -z[neg]  # t > 1
    far = t > 40.0
    inner = np.empty_like(t)
    tn = t[~far]
    inner[~far] = np.log1p(-tn * _SQRT_PI_2 * erfcx(tn / np.sqrt(2.0)))
    tf = t[far]
    inner[far] = np.log(1.0 / tf**2 - 3.0 / tf**4 + 15.0 / tf**6)
    out[neg] = -0.5 * t * t - _LOG_SQRT_2PI + inner
    return out


def log_ei(mu, sigma, best, xi=0.01):
    """Log expected improvement over ``best`` and its partial derivatives."""
    z = (mu - best - xi) / sigma
    lh = log_h(z)
    val = np.log(sigma) + lh
    # dEI/dmu = Phi(z), dEI/dsigma = phi(z); divide by EI = sigma h(z)
    d_mu = np.exp(log_ndtr(z) - lh) / sigma
    d_sigma = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - lh) / sigma
    return val, d_mu, d_sigma


def log_pi(mu, sigma, best, xi=0.01):
    """Log probability of improvement and its partial derivatives."""
    z = (mu - best - xi) / sigma
    lp = log_ndtr(z)
    ratio = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - lp)  # phi / Phi
    return lp, ratio / sigma, -ratio * z / sigma


def ucb(mu, sigma, best=None, kappa=1.96):
    """Upper confidence bound ``mu + kappa sigma`` and its partial derivatives."""
    mu = np.asarray(mu, dtype=float)
    return mu + kappa * sigma, np.ones_like(mu), np.full_like(mu, kappa)


ACQUISITIONS = {"ei": log_ei, "pi": log_pi, "ucb": ucb}


def _acq_kwargs(name, kappa, xi):
    return {"kappa": kappa} if name == "ucb" else {"xi": xi}


def maximize_acquisition(
    gp, name, best, rng, *, kappa=1.96, xi=0.01, n_candidates=512, n_starts=5,
    anchors=None, max_iter=50,
):
    """Points of ``[0,1]^d`` ranked by acquisition (best first).

    Random candidates plus perturbations of ``anchors`` (the best observed points)
    are scored; the ``n_starts`` best seed one joint L-BFGS-B run (the sum of
    independent acquisitions is separable, so one run optimises every start).
    Returns ``(points, values)``, the optimised starts followed by the remaining
    candidates, sorted by decreasing value.
    """
    d = gp.X_.shape[1]
    cand = rng.uniform(size=(n_candidates, d))
    if anchors is not None and len(anchors):
        k = min(len(anchors), 5)
        jitter = anchors[:k, None, :] + 0.05 * rng.standard_normal((k, 16, d))
        cand = np.vstack([cand, np.clip(jitter.reshape(-1, d), 0.0, 1.0)])
    mu, sd = gp.predict(cand)
    if name == "ts":
        m = min(len(cand), 256)
        idx = np.argsort(-(mu + sd))[:m]
        sample = gp.sample(cand[idx], 1, rng)[0]
        order = np.argsort(-sample)
        return cand[idx][order], sample[order]
    fn = ACQUISITIONS[name]
    kw = _acq_kwargs(name, kappa, xi)
    vals = fn(mu, sd, best, **kw)[0]
    order = np.argsort(-vals)
    starts = cand[order[:n_starts]]

    def objective(flat):
        X = flat.reshape(-1, d)
        m_, s_, dm, ds = gp.predict(X, return_grad=True)
        v, a, b = fn(m_, s_, best, **kw)
        g = a[:, None] * dm + b[:, None] * ds
        return -v.sum(), -g.ravel()

    res = minimize(
        objective, starts.ravel(), jac=True, method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * starts.size, options={"maxiter": max_iter},
    )
    opt = np.clip(res.x.reshape(-1, d), 0.0, 1.0)
    opt_vals = fn(*gp.predict(opt), best, **kw)[0]
    pts = np.vstack([opt, cand[order]])
    allv = np.r_[opt_vals, vals[order]]
    o = np.argsort(-allv, kind="stable")
    return pts[o], allv[o]
