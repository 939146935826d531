r"""Fused per-sample kernels for the logit (binary) and softmax (multinomial) losses.

Each kernel makes one pass over the rows, computing everything a solver needs
from the linear predictor in that pass (loss, gradient and Fisher weight), and
has a plain NumPy twin ``*_ref`` used as the test reference.

Binary, with :math:`p = \sigma(\eta)` and sample weight :math:`s`:

.. math::

    \ell = s\,[\log(1 + e^{\eta}) - y\eta], \qquad
    \partial_\eta \ell = s\,(p - y), \qquad F = s\,p(1-p).

Multinomial, with :math:`p = \mathrm{softmax}(\eta)` over ``K`` classes:

.. math::

    \ell = s\,[\log\textstyle\sum_k e^{\eta_k} - \eta_{y}], \qquad
    \nabla_\eta \ell = s\,(p - e_y).

Losses are accumulated in float64 whatever the input dtype.
"""

import math

import numpy as np
from scipy import special

from skngd._kernels._jit import pjit, prange


@pjit
def binomial_loss_grad_fisher(y, raw, sw, loss, grad, fisher):
    """Per-sample weighted loss, d loss / d eta and Fisher weight (logit link).

    ``y``, ``raw``, ``sw``: (n,) arrays; ``loss``, ``grad``, ``fisher``: (n,)
    outputs of ``raw``'s dtype.
    """
    n = raw.shape[0]
    for i in prange(n):
        e = raw[i]
        if e > 0.0:
            z = math.exp(-e)
            lo = (1.0 - y[i]) * e + math.log1p(z)
            p = 1.0 / (1.0 + z)
        else:
            z = math.exp(e)
            lo = math.log1p(z) - y[i] * e
            p = z / (1.0 + z)
        s = sw[i]
        loss[i] = s * lo
        grad[i] = s * (p - y[i])
        fisher[i] = s * p * (1.0 - p)


def binomial_loss_grad_fisher_ref(y, raw, sw):
    """NumPy twin of :func:`binomial_loss_grad_fisher`; returns the three arrays."""
    raw = np.asarray(raw, dtype=np.float64)
    p = special.expit(raw)
    loss = sw * (np.logaddexp(0.0, raw) - y * raw)
    return loss, sw * (p - y), sw * p * (1.0 - p)


@pjit
def binomial_line_terms(y, raw, u, t, sw):
    r"""Weighted loss and its first two t-derivatives at ``raw + t * u``.

    Returns :math:`(\sum_i \ell_i, \sum_i \ell_i' u_i, \sum_i F_i u_i^2)`, all
    float64, evaluated at :math:`\eta = raw + t\,u`. One pass over ``n``
    numbers, no pass over ``X``: this is the line search of the NGD solver.
    """
    n = raw.shape[0]
    f = 0.0
    d1 = 0.0
    d2 = 0.0
    for i in prange(n):
        e = float(raw[i]) + t * float(u[i])
        yi = float(y[i])
        if e > 0.0:
            z = math.exp(-e)
            lo = (1.0 - yi) * e + math.log1p(z)
            p = 1.0 / (1.0 + z)
        else:
            z = math.exp(e)
            lo = math.log1p(z) - yi * e
            p = z / (1.0 + z)
        s = float(sw[i])
        ui = float(u[i])
        f += s * lo
        d1 += s * (p - yi) * ui
        d2 += s * p * (1.0 - p) * ui * ui
    return f, d1, d2


def binomial_line_terms_ref(y, raw, u, t, sw):
    """NumPy twin of :func:`binomial_line_terms`."""
    e = np.asarray(raw, dtype=np.float64) + t * np.asarray(u, dtype=np.float64)
    lo, g, fi = binomial_loss_grad_fisher_ref(y, e, sw)
    return float(lo.sum()), float(g @ u), float(fi @ (np.asarray(u, float) ** 2))


@pjit
def multinomial_loss_grad_proba(y, raw, sw, loss, grad, proba):
    """Per-sample weighted softmax loss (n,), gradient (n, K), probabilities (n, K).

    ``y`` is an int64 class index in ``[0, K)``; ``raw`` is (n, K) C-contiguous.
    """
    n, k = raw.shape
    for i in prange(n):
        m = raw[i, 0]
        for c in range(1, k):
            if raw[i, c] > m:
                m = raw[i, c]
        tot = 0.0
        for c in range(k):
            z = math.exp(raw[i, c] - m)
            proba[i, c] = z
            tot += z
        s = sw[i]
        yi = y[i]
        loss[i] = s * (math.log(tot) + m - raw[i, yi])
        for c in range(k):
            p = proba[i, c] / tot
            proba[i, c] = p
            grad[i, c] = s * p
        grad[i, yi] -= s


def multinomial_loss_grad_proba_ref(y, raw, sw):
    """NumPy twin of :func:`multinomial_loss_grad_proba`."""
    raw = np.asarray(raw, dtype=np.float64)
    lse = special.logsumexp(raw, axis=1)
    proba = np.exp(raw - lse[:, None])
    n = raw.shape[0]
    loss = sw * (lse - raw[np.arange(n), y])
    grad = proba.copy()
    grad[np.arange(n), y] -= 1.0
    return loss, grad * sw[:, None], proba


__all__ = [
    "binomial_line_terms",
    "binomial_line_terms_ref",
    "binomial_loss_grad_fisher",
    "binomial_loss_grad_fisher_ref",
    "multinomial_loss_grad_proba",
    "multinomial_loss_grad_proba_ref",
]
