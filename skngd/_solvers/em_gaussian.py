"""EM for a multivariate Gaussian observed with missing values (MAR).

The solver maximises the penalised observed-data log-likelihood

.. math::

    \\ell_\\lambda(\\mu, \\Sigma) = \\sum_i \\log N(x_{i,o_i}; \\mu_{o_i},
    \\Sigma_{o_i o_i}) - \\frac{n\\lambda}{2} \\operatorname{tr}(\\Sigma^{-1}),

where :math:`\\lambda` is ``reg_covar``. Its EM M-step is exactly
:math:`\\Sigma = S + \\lambda I` (with :math:`S` the expected scatter matrix), so
every iteration increases :math:`\\ell_\\lambda`; with ``reg_covar=0`` it is the
plain observed-data log-likelihood.

E-step: for each row the conditional mean of the missing block and its
conditional covariance (:mod:`skngd._kernels.em_gaussian`), computed from the
precision matrix so only the missing block is factorised, once per
missingness pattern. M-step:

.. math::

    \\mu = \\frac{1}{n}\\sum_i \\hat x_i, \\qquad
    \\Sigma = \\frac{1}{n}\\sum_i \\left[(\\hat x_i - \\mu)(\\hat x_i - \\mu)^T
    + C_i\\right] + \\lambda I.

EM converges linearly, slowly when much information is missing, so every
two EM steps are followed by a SQUAREM extrapolation (Varadhan & Roland
2008, scheme S3) along them. The extrapolated point is kept only if its
objective is not lower than the last EM iterate's, so the recorded history
stays monotone; the convergence test uses plain EM steps only.

References
----------
Dempster, Laird & Rubin (1977), JRSS-B 39(1). Varadhan & Roland (2008),
Scand. J. Statist. 35(2), 335-353. Little & Rubin (2019),
*Statistical Analysis with Missing Data*, 3rd ed., ch. 11.
"""

import numpy as np
from scipy import linalg

from skngd._kernels.em_gaussian import estep
from skngd._solvers._result import SolverResult, warn_not_converged
from skngd.utils._threads import blas_threads, numba_threads

_LOG_2PI = np.log(2.0 * np.pi)


_ROWS_PER_CHUNK = 1024
_MAX_CHUNKS = 256


class PatternData:
    """Rows sorted by missingness pattern, with chunk boundaries.

    ``order`` maps sorted positions back to the input rows
    (``X_sorted = X[order]``).
    """

    def __init__(self, X):
        X = np.asarray(X, dtype=np.float64)
        n, d = X.shape
        mask = np.isnan(X)
        packed = np.packbits(mask, axis=1)
        if n > 0 and packed.shape[1] > 0:
            order = np.lexsort(packed.T[::-1])
            ps = packed[order]
            change = np.any(ps[1:] != ps[:-1], axis=1)
            pid = np.concatenate([[0], np.cumsum(change)]).astype(np.int64)
        else:
            order = np.arange(n)
            pid = np.zeros(n, dtype=np.int64)
        self.order = order
        self.X = np.ascontiguousarray(X[order])
        self.pattern_id = pid
        self.n_observed = (~mask[order]).sum(axis=1)
        self.n_patterns = int(pid[-1]) + 1 if n else 0
        n_chunks = int(min(_MAX_CHUNKS, max(1, -(-n // _ROWS_PER_CHUNK))))
        self.chunk_bounds = np.linspace(0, n, n_chunks + 1).round().astype(np.int64)

    def unsort(self, A):
        out = np.empty_like(A)
        out[self.order] = A
        return out


def precision_from_covariance(Sigma):
    """Precision matrix and log det Sigma; ValueError if not positive definite."""
    try:
        c, _ = linalg.cho_factor(Sigma, lower=True, check_finite=True)
    except (linalg.LinAlgError, ValueError) as exc:
        raise ValueError(
            "The covariance matrix is not positive definite (collinear or "
            "constant features?). Increase reg_covar."
        ) from exc
    P = linalg.cho_solve((c, True), np.eye(Sigma.shape[0]))
    P = 0.5 * (P + P.T)
    return P, 2.0 * np.sum(np.log(np.diag(c)))


def e_step(data, mu, P, logdet_sigma, *, n_jobs=None, noise=None, out=None):
    """Run the E-step kernel on sorted rows.

    Returns ``(xhat, loglik_rows, ccov_sum)`` in sorted row order, with
    ``loglik_rows`` the log density of each row's observed coordinates
    (computed at the conditional mean, also when ``noise`` adds a draw).
    ``out`` is an optional ``(n, d)`` buffer for ``xhat``.
    """
    X = data.X
    n, d = X.shape
    xhat = np.empty_like(X) if out is None else out
    logdet_pmm = np.empty(n)
    quad = np.empty(n)
    ccov = np.zeros((data.chunk_bounds.shape[0] - 1, d, d))
    sample = noise is not None
    if noise is None:
        noise = np.zeros((1, 1))
    with numba_threads(n_jobs):
        estep(X, data.pattern_id, data.chunk_bounds, mu, P, noise, sample,
              xhat, logdet_pmm, quad, ccov)
    if not np.all(np.isfinite(logdet_pmm)):
        raise ValueError(
            "A conditional covariance block is not positive definite. "
            "Increase reg_covar."
        )
    ll = -0.5 * (data.n_observed * _LOG_2PI + logdet_sigma + logdet_pmm + quad)
    ll[data.n_observed == 0] = 0.0
    return xhat, ll, ccov.sum(axis=0)


def m_step(xhat, ccov, reg_covar, *, overwrite=False):
    """Closed-form M-step; ``overwrite=True`` centres ``xhat`` in place."""
    n, d = xhat.shape
    mu = xhat.mean(axis=0)
    if overwrite:
        xhat -= mu
        Xc = xhat
    else:
        Xc = xhat - mu
    Sigma = (Xc.T @ Xc + ccov) / n
    Sigma = 0.5 * (Sigma + Sigma.T)
    Sigma.flat[:: d + 1] += reg_covar
    return mu, Sigma


def em_gaussian(data, mu0, Sigma0, *, reg_covar=1e-6, max_iter=100, tol=1e-6,
                n_jobs=None, verbose=0):
    """Fit a Gaussian to ``data`` (a :class:`PatternData`) by EM.

    Returns a :class:`SolverResult` whose ``coef`` is the ``(d + 1, d)`` array
    ``[mean; covariance]``, ``history`` the penalised observed-data
    log-likelihood at the start and at every accepted iterate (EM steps and
    accepted extrapolations), ``n_iter`` the number of parameter updates
    tried (each costs one E-step), and ``extra`` holds ``precision``,
    ``logdet`` and ``n_rejected_extrapolations``. Stops when the relative
    change of the objective over a plain EM step is below ``tol``; ``tol=0``
    runs exactly ``max_iter`` iterations.
    """
    # EM's BLAS products are thin (n x d by d x d): BLAS threads would only
    # compete with the Numba threads of the E-step
    with blas_threads(1):
        return _em_loop(data, mu0, Sigma0, reg_covar, max_iter, tol, n_jobs,
                        verbose)


class _Point:
    """Parameters with their E-step: precision, statistics, objective."""

    def __init__(self, data, mu, Sigma, reg_covar, n_jobs, buffer):
        self.mu, self.Sigma = mu, Sigma
        self.P, self.logdet = precision_from_covariance(Sigma)
        xhat, ll_rows, ccov = e_step(data, mu, self.P, self.logdet,
                                     n_jobs=n_jobs, out=buffer)
        n = data.X.shape[0]
        self.obj = float(ll_rows.sum() - 0.5 * n * reg_covar * np.trace(self.P))
        # the M-step from this point, computed now so ``buffer`` can be reused
        self.next = m_step(xhat, ccov, reg_covar, overwrite=True)

    def theta(self):
        return np.concatenate([self.mu, self.Sigma.ravel()])


_MAX_STEP = 64.0  # bound on the SQUAREM step length |alpha|


def _extrapolate(p0, p1, p2):
    """SQUAREM (Varadhan & Roland 2008, scheme S3) from three EM iterates.

    Returns (mu, Sigma) or None when the step is the plain EM step or no
    positive-definite extrapolation is found.
    """
    t0, t1, t2 = p0.theta(), p1.theta(), p2.theta()
    r = t1 - t0
    v = t2 - 2.0 * t1 + t0
    nv = np.linalg.norm(v)
    if not nv > 0:
        return None
    alpha = max(-np.linalg.norm(r) / nv, -_MAX_STEP)
    d = p0.mu.size
    while alpha < -1.0:
        t = t0 - 2.0 * alpha * r + alpha * alpha * v
        mu, Sigma = t[:d], t[d:].reshape(d, d)
        Sigma = 0.5 * (Sigma + Sigma.T)
        if np.all(np.isfinite(t)) and np.linalg.eigvalsh(Sigma)[0] > 0:
            return mu, Sigma
        alpha = 0.5 * (alpha - 1.0)
    return None


def _em_loop(data, mu0, Sigma0, reg_covar, max_iter, tol, n_jobs, verbose):
    buffer = np.empty_like(data.X)

    def point(mu, Sigma):
        return _Point(data, mu, Sigma, reg_covar, n_jobs, buffer)

    cur = point(np.asarray(mu0, dtype=float), np.asarray(Sigma0, dtype=float))
    history = [cur.obj]
    chain = [cur]
    converged = False
    n_iter = 0
    n_rejected = 0
    while n_iter < max_iter:
        new = point(*cur.next)
        n_iter += 1
        change = new.obj - cur.obj
        history.append(new.obj)
        cur = new
        chain.append(cur)
        if verbose:
            print(f"[GaussianEMImputer] iter {n_iter:4d}  objective "
                  f"{cur.obj:.10g}  change {change:.3g}")
        if abs(change) < tol * abs(cur.obj):
            converged = True
            break
        if len(chain) < 3 or n_iter >= max_iter:
            continue
        # accelerate: extrapolate along the last two EM steps, keep the
        # result only if it does not lower the objective (monotone history)
        step = _extrapolate(*chain)
        chain = [cur]
        if step is None:
            continue
        try:
            trial = point(*step)
        except ValueError:
            trial = None
        n_iter += 1
        if trial is not None and trial.obj >= cur.obj:
            cur = trial
            chain = [cur]
            history.append(cur.obj)
            if verbose:
                print(f"[GaussianEMImputer] iter {n_iter:4d}  objective "
                      f"{cur.obj:.10g}  (extrapolated)")
        else:
            n_rejected += 1
    if not converged:
        warn_not_converged("GaussianEMImputer (EM)", max_iter)
    return SolverResult(
        coef=np.vstack([cur.mu, cur.Sigma]),
        n_iter=n_iter,
        converged=converged,
        history=history,
        n_passes=n_iter + 1,
        extra={"precision": cur.P, "logdet": cur.logdet,
               "n_rejected_extrapolations": n_rejected},
    )


__all__ = ["PatternData", "e_step", "m_step", "em_gaussian",
           "precision_from_covariance"]
