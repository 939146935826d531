r"""The fused per-row pass of IRLS / Newton for every (family, link) pair.

For the linear predictor :math:`\eta_i` (offset included) one pass computes

.. math::

    \mu_i = g^{-1}(\eta_i), \quad
    u_i = s_i \frac{(y_i - \mu_i)\, \mu_i'}{V(\mu_i)}, \quad
    D = \sum_i s_i\, d(y_i, \mu_i)

(:math:`\mu_i' = d\mu_i/d\eta_i`, :math:`s_i` frequency weights;
:math:`-u_i` is the derivative of the half deviance in :math:`\eta_i`) and
the Fisher (expected information) weight

.. math::

    W_i = s_i \frac{\mu_i'^2}{V(\mu_i)} .

The kernels switch on the integer codes of :mod:`skngd._kernels.codes`
(the family and link objects' ``code``). The pass returns ``inf``
as deviance when a mean leaves the family's domain (e.g. a negative Poisson
mean under the identity link), which tells the solver to halve its step.
:func:`irls_pass_ref` is the NumPy twin, built on the family and link objects;
the twins live in the Numba-free :mod:`skngd._kernels.glm_ref` and are the
path small fits take (``GLMProblem.use_numba``), so those never import Numba.
"""

import math

import numpy as np

from skngd._kernels._jit import jit, pjit, prange
from skngd._kernels.glm_ref import (  # noqa: F401 - the NumPy twins
    _MU_HIGH,
    _MU_LOW,
    csr_weighted_gram_ref,
    dense_hessian_vector_ref,
    dense_step_pass_gradient_ref,
    glm_deviance_ref,
    irls_pass_ref,
)

from skngd._kernels.codes import FAMILY_CODES as _F, LINK_CODES as _L

# compile-time constants read from the one table (skngd._kernels.codes)
_NORMAL, _BINOMIAL, _POISSON = _F["normal"], _F["binomial"], _F["poisson"]
_GAMMA, _INVGAUSS, _TWEEDIE = _F["gamma"], _F["inverse_gaussian"], _F["tweedie"]
_NEGBIN = _F["negative_binomial"]
_IDENTITY, _LOG, _LOGIT, _PROBIT = _L["identity"], _L["log"], _L["logit"], _L["probit"]
_CLOGLOG, _INVERSE, _INVSQ, _POWER = _L["cloglog"], _L["inverse"], _L["inverse_squared"], _L["power"]
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@jit
def _inverse_link(eta, link, lpower):
    """(mu, dmu/deta) for one linear predictor."""
    if link == _IDENTITY:
        return eta, 1.0
    if link == _LOG:
        m = math.exp(eta)
        return m, m
    if link == _LOGIT:
        if eta >= 0:
            m = 1.0 / (1.0 + math.exp(-eta))
        else:
            e = math.exp(eta)
            m = e / (1.0 + e)
        return m, m * (1.0 - m)
    if link == _PROBIT:
        return 0.5 * math.erfc(-eta / _SQRT2), _INV_SQRT_2PI * math.exp(-0.5 * eta * eta)
    if link == _CLOGLOG:
        e = math.exp(eta)
        return -math.expm1(-e), math.exp(eta - e)
    if link == _INVERSE:
        return 1.0 / eta, -1.0 / (eta * eta)
    if link == _INVSQ:
        m = 1.0 / math.sqrt(eta)
        return m, -0.5 * m * m * m
    # power link eta = mu ** p (p == 0: log)
    if lpower == 0.0:
        m = math.exp(eta)
        return m, m
    m = eta ** (1.0 / lpower)
    return m, m / (lpower * eta)


@jit
def _clip_mean(m, family, link):
    if family == _BINOMIAL and (link == _LOGIT or link == _PROBIT or link == _CLOGLOG):
        return min(max(m, _MU_LOW), _MU_HIGH)
    return m


@jit
def _xlogy_ratio(y, mu):
    if y == 0.0:
        return 0.0
    return y * math.log(y / mu)


@jit
def _variance_deviance(y, mu, family, fpower):
    """(V(mu), unit deviance d(y, mu)); deviance is inf outside the domain."""
    if family == _NORMAL:
        r = y - mu
        return 1.0, r * r
    if family == _BINOMIAL:
        if not (0.0 < mu < 1.0):
            return 1.0, math.inf
        return mu * (1.0 - mu), 2.0 * (_xlogy_ratio(y, mu) + _xlogy_ratio(1.0 - y, 1.0 - mu))
    if family == _NEGBIN:
        if not mu > 0.0:
            return 1.0, math.inf
        a = fpower
        d = 2.0 * (_xlogy_ratio(y, mu) - (y + 1.0 / a) * math.log((1.0 + a * y) / (1.0 + a * mu)))
        return mu + a * mu * mu, d
    p = fpower
    if family == _POISSON:
        p = 1.0
    elif family == _GAMMA:
        p = 2.0
    elif family == _INVGAUSS:
        p = 3.0
    if p == 0.0:
        r = y - mu
        return 1.0, r * r
    if not mu > 0.0:
        return 1.0, math.inf
    if p == 1.0:
        return mu, 2.0 * (_xlogy_ratio(y, mu) - y + mu)
    if p == 2.0:
        return mu * mu, 2.0 * ((y - mu) / mu - math.log(y / mu))
    if p == 3.0:
        r = y - mu
        return mu * mu * mu, r * r / (y * mu * mu)
    # one log and one exp for the three powers of mu
    m1p = math.exp((1.0 - p) * math.log(mu))  # mu ** (1 - p)
    y2p = math.exp((2.0 - p) * math.log(y)) if y > 0.0 else 0.0
    d = 2.0 * (y2p / ((1.0 - p) * (2.0 - p)) - y * m1p / (1.0 - p) + mu * m1p / (2.0 - p))
    return mu / m1p, d


@jit
def _irls_row(yi, e, s, family, fpower, link, lpower):
    """One row at linear predictor ``e``: mean, Fisher weight, score ``u``
    and unit deviance."""
    m, dm = _inverse_link(e, link, lpower)
    m = _clip_mean(m, family, link)
    v, d = _variance_deviance(yi, m, family, fpower)
    if not (v > 0.0 and math.isfinite(dm) and math.isfinite(v)):
        return m, 0.0, 0.0, d
    return m, s * dm * dm / v, s * (yi - m) * dm / v, d


@pjit
def irls_pass(y, eta, sw, family, fpower, link, lpower, mu, w, u):
    """One fused pass; writes the means ``mu``, Fisher weights ``w`` and
    scores ``u``, and returns the weighted deviance (``inf`` if a mean is
    outside the family's domain).

    All arrays are 1-D of length n and the same float dtype; ``eta`` includes
    the offset. ``fpower`` is the Tweedie power or negative-binomial alpha,
    ``lpower`` the exponent of the power link.
    """
    n = y.shape[0]
    dev = 0.0
    for i in prange(n):
        s = float(sw[i])
        m, wi, ui, d = _irls_row(float(y[i]), float(eta[i]), s, family, fpower, link, lpower)
        mu[i] = m
        w[i] = wi
        u[i] = ui
        if s != 0.0:
            dev += s * d
    return dev


@pjit
def glm_deviance(y, eta, sw, family, fpower, link, lpower):
    """Weighted deviance only (``inf`` outside the domain)."""
    n = y.shape[0]
    dev = 0.0
    for i in prange(n):
        m, dm = _inverse_link(float(eta[i]), link, lpower)
        m = _clip_mean(m, family, link)
        v, d = _variance_deviance(float(y[i]), m, family, fpower)
        if sw[i] != 0.0:
            dev += sw[i] * d
    return dev


@jit
def _chunk_rows(c, n, n_chunks):
    """Rows ``[start, stop)`` of chunk ``c`` of ``n`` rows in ``n_chunks``."""
    size = (n + n_chunks - 1) // n_chunks
    return c * size, min(n, (c + 1) * size)


@jit
def _row_dot(X, i, v, p):
    """``X[i, :p] @ v`` with four accumulators (no serial dependency chain;
    the kernels do not use fastmath, so LLVM may not reassociate itself)."""
    a0 = a1 = a2 = a3 = 0.0
    j = 0
    while j + 4 <= p:
        a0 += X[i, j] * v[j]
        a1 += X[i, j + 1] * v[j + 1]
        a2 += X[i, j + 2] * v[j + 2]
        a3 += X[i, j + 3] * v[j + 3]
        j += 4
    while j < p:
        a0 += X[i, j] * v[j]
        j += 1
    return (a0 + a1) + (a2 + a3)


@pjit
def dense_hessian_vector(X, v, v0, h, t_out, out_part):
    """Partial sums of ``[X, 1]^T (h * t)``, ``t = X v + v0`` (written to
    ``t_out``), over chunks of rows of dense ``X`` in one sweep: ``out_part``
    (n_chunks, p + 1), last column the intercept component; the caller sums
    over chunks."""
    n, p = X.shape
    for c in prange(out_part.shape[0]):
        o = out_part[c]
        o[:] = 0.0
        start, stop = _chunk_rows(c, n, out_part.shape[0])
        for i in range(start, stop):
            t = _row_dot(X, i, v, p) + v0
            t_out[i] = t
            t *= h[i]
            for j in range(p):
                o[j] += X[i, j] * t
            o[p] += t


@pjit
def dense_step_pass_gradient(X, eta, step, step0, y, sw, family, fpower, link, lpower,
                             eta_out, mu, w, u, grad_part, dev_part):
    """Move to ``eta + X step + step0`` and run the pass of :func:`irls_pass`
    there, also accumulating the half-deviance gradient ``-[X, 1]^T u`` in one
    sweep over the rows of dense ``X``.

    ``grad_part`` (n_chunks, p + 1) and ``dev_part`` (n_chunks,) receive one
    partial sum per chunk of rows (the caller sums them); the last column of
    ``grad_part`` is the intercept component.
    """
    n, p = X.shape
    for c in prange(grad_part.shape[0]):
        g = grad_part[c]
        g[:] = 0.0
        dev = 0.0
        start, stop = _chunk_rows(c, n, grad_part.shape[0])
        for i in range(start, stop):
            e = float(eta[i]) + step0 + _row_dot(X, i, step, p)
            eta_out[i] = e
            s = float(sw[i])
            m, wi, ui, d = _irls_row(float(y[i]), e, s, family, fpower, link, lpower)
            mu[i] = m
            w[i] = wi
            u[i] = ui
            for j in range(p):
                g[j] -= X[i, j] * ui
            g[p] -= ui
            if s != 0.0:
                dev += s * d
        dev_part[c] = dev


@pjit
def csr_weighted_gram(data, indices, indptr, w, v, intercept, out):
    """Accumulate ``[X, 1]^T [diag(w) [X, 1] | v]`` for CSR ``X`` into ``out``.

    ``out`` has shape (n_chunks, k, k + 1) with ``k = p + intercept``; chunk
    ``c`` handles a contiguous block of rows and writes only ``out[c]``, so the
    caller sums over the first axis: columns ``:k`` hold the Gram matrix (any
    sign of ``w``), the last column ``[X, 1]^T v``. Cost: sum over rows of
    (non-zeros per row) squared.
    """
    n_chunks = out.shape[0]
    n = indptr.shape[0] - 1
    k = out.shape[1]
    p = k - intercept
    for c in prange(n_chunks):
        G = out[c]
        G[:, :] = 0.0
        start, stop = _chunk_rows(c, n, n_chunks)
        for i in range(start, stop):
            wi = float(w[i])
            vi = float(v[i])
            if wi == 0.0 and vi == 0.0:
                continue
            for a in range(indptr[i], indptr[i + 1]):
                ja = indices[a]
                va = wi * data[a]
                for b in range(indptr[i], indptr[i + 1]):
                    G[ja, indices[b]] += va * data[b]
                G[ja, k] += data[a] * vi
                if intercept:
                    G[ja, p] += va
                    G[p, ja] += va
            if intercept:
                G[p, p] += wi
                G[p, k] += vi




@jit
def _loglink_row(yi, e, s, p):
    """One row of a log-link power-variance family (``V(mu) = mu**p``,
    ``p >= 1``): mean, Fisher weight, score and the half unit deviance less
    its part that depends on ``y`` only (no logarithm per row)."""
    m = math.exp(e)
    if p == 1.0:  # Poisson: d/2 = y log y - y + (mu - y eta)
        return m, s * m, s * (yi - m), m - yi * e
    if p == 2.0:  # Gamma: d/2 = -1 - log y + (y / mu + eta)
        r = yi * math.exp(-e)
        return m, s, s * (r - 1.0), r + e
    m1p = math.exp((1.0 - p) * e)  # mu ** (1 - p)
    return (m, s * m * m1p, s * (yi - m) * m1p,
            m * m1p / (2.0 - p) - yi * m1p / (1.0 - p))


@pjit
def loglink_pass(y, eta, sw, p, mu, w, u):
    """The fused pass of :func:`irls_pass` for a log-link family with
    variance ``mu**p`` (Poisson ``p = 1``, Gamma 2, Tweedie ``p >= 1``):
    writes ``mu``, ``w``, ``u`` and returns ``(value, scale)``, the weighted
    sum of the half unit deviances less their ``y``-only part (see
    :func:`_loglink_row`; the caller adds that constant once) and the sum of
    the magnitudes of its terms (its rounding scale). ``value`` is ``inf``
    when a mean overflows."""
    n = y.shape[0]
    val = 0.0
    scale = 0.0
    for i in prange(n):
        s = float(sw[i])
        m, wi, ui, v = _loglink_row(float(y[i]), float(eta[i]), s, p)
        mu[i] = m
        w[i] = wi
        u[i] = ui
        if s != 0.0:
            val += s * v
            scale += s * abs(v)
    return val, scale
