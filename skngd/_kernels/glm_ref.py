"""NumPy twins of the GLM kernels in :mod:`skngd._kernels.glm`.

Built on the family and link objects of :mod:`skngd._loss`, no Numba: the
tests' reference and the path fits below ``NUMBA_MIN_SIZE`` rows take
(:attr:`skngd._loss.glm_loss.GLMProblem.use_numba`), so a small fit neither
imports Numba nor compiles anything. Edge cases follow the kernels: a row
whose variance or mean derivative is not finite and positive gets zero
weight and score; a mean outside the family's domain makes the deviance
``inf``; rows of zero weight do not enter the deviance.
"""

import numpy as np

# a mean of a bounded link (logit, probit, cloglog) that rounds to 0 or 1 is
# moved just inside (0, 1): the deviance stays finite, as the exact one is
_MU_LOW, _MU_HIGH = 1e-300, 1.0 - 2.0**-53


def _inside_family_domain(family, mu):
    if family.name == "binomial":
        return bool(np.all((mu > 0) & (mu < 1)))
    if family.name == "normal" or (family.name == "tweedie" and family.power <= 0):
        return True
    return bool(np.all(mu > 0))


def _means(eta, family, link):
    mu = link.inverse(eta)
    if family.name == "binomial" and link.name in ("logit", "probit", "cloglog"):
        mu = np.clip(mu, _MU_LOW, _MU_HIGH)
    return mu


def _deviance(y, mu, sw, family):
    if not _inside_family_domain(family, mu):
        return np.inf
    keep = sw != 0
    return float(np.dot(sw[keep], family.unit_deviance(y[keep], mu[keep])))


def irls_pass_ref(y, eta, sw, family, link):
    """NumPy twin of :func:`~skngd._kernels.glm.irls_pass`.

    Returns ``(mu, w, u, deviance)``.
    """
    with np.errstate(all="ignore"):
        mu = _means(eta, family, link)
        dmu = link.inverse_derivative(eta)
        var = family.variance(mu)
        ok = (var > 0) & np.isfinite(dmu) & np.isfinite(var)
        w = np.where(ok, sw * dmu * dmu / var, 0.0)
        u = np.where(ok, sw * (y - mu) * dmu / var, 0.0)
        dev = _deviance(y, mu, sw, family)
    return mu, w, u, dev


def glm_deviance_ref(y, eta, sw, family, link):
    """NumPy twin of :func:`~skngd._kernels.glm.glm_deviance`."""
    with np.errstate(all="ignore"):
        return _deviance(y, _means(eta, family, link), sw, family)


def dense_hessian_vector_ref(X, v, v0, h):
    """NumPy twin of :func:`~skngd._kernels.glm.dense_hessian_vector`:
    ``(t, sum over chunks)``."""
    t = X @ v + v0
    return t, np.r_[X.T @ (h * t), (h * t).sum()]


def dense_step_pass_gradient_ref(X, eta, step, step0, y, sw, family, link):
    """NumPy twin: ``(eta_new, mu, w, u, gradient (p + 1,), deviance)``."""
    eta_new = eta + X @ step + step0
    mu, w, u, dev = irls_pass_ref(y, eta_new, sw, family, link)
    return eta_new, mu, w, u, np.r_[-(X.T @ u), -u.sum()], dev


def csr_weighted_gram_ref(X, w, v, intercept):
    """NumPy/scipy twin of :func:`~skngd._kernels.glm.csr_weighted_gram`
    (summed over chunks)."""
    import scipy.sparse as sp

    A = sp.hstack([X, np.ones((X.shape[0], 1))]).tocsr() if intercept else X
    Aw = A.multiply(w[:, None]).tocsr()
    G = (A.T @ Aw).toarray()
    return np.column_stack([G, A.T @ v])


def loglink_pass_ref(y, eta, sw, p):
    """NumPy twin of :func:`~skngd._kernels.glm.loglink_pass`; returns
    ``(mu, w, u, value, scale)``."""
    with np.errstate(all="ignore"):
        mu = np.exp(eta)
        if p == 1.0:
            w, u, v = sw * mu, sw * (y - mu), mu - y * eta
        elif p == 2.0:
            r = y * np.exp(-eta)
            w, u, v = sw * np.ones_like(mu), sw * (r - 1.0), r + eta
        else:
            m1p = np.exp((1.0 - p) * eta)
            w, u = sw * mu * m1p, sw * (y - mu) * m1p
            v = mu * m1p / (2.0 - p) - y * m1p / (1.0 - p)
        keep = sw != 0
        val = float(np.dot(sw[keep], v[keep]))
        scale = float(np.dot(sw[keep], np.abs(v[keep])))
    return mu, w, u, val, scale


def loglink_constant(y, sw, p):
    """The ``y``-only part of the weighted half deviance that
    :func:`loglink_pass_ref` leaves out (the half deviance is ``value`` plus
    this)."""
    with np.errstate(all="ignore"):
        pos = y > 0
        ly = np.log(np.where(pos, y, 1.0))
        if p == 1.0:
            c = np.where(pos, y * ly, 0.0) - y
        elif p == 2.0:
            c = -1.0 - ly
        else:
            c = np.where(pos, np.exp((2.0 - p) * ly), 0.0) / ((1.0 - p) * (2.0 - p))
    keep = sw != 0
    return float(np.dot(sw[keep], c[keep]))
