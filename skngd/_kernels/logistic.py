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

from skngd._kernels._jit import jit, jit_inline, pjit, prange


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
def binomial_loss_change(y, raw, u, sw):
    r"""Change of the weighted log-loss sum from ``raw`` to ``raw + u``.

    Returns ``(change, scale)`` in float64: the sum of per-sample changes and
    the sum of the magnitudes they are formed from (``eps * scale`` bounds the
    rounding error). For :math:`|u_i| \le 1` each change is
    :math:`y\log(1 + (1-p)(e^{-u} - 1)) + (1-y)\log(1 + p(e^u - 1))` with
    :math:`p = \sigma(\eta)`, free of cancellation; larger steps subtract the
    two losses. NumPy twin: :func:`skngd._loss.family.binomial_loss_change_numpy`.
    Called with float64 arrays (the wrapper converts float32 data).
    One pass over ``n`` numbers, no pass over ``X``: the line search of the
    Newton and NGD solvers and MM's monotonicity check.
    """
    n = raw.shape[0]
    change = 0.0
    scale = 0.0
    for i in prange(n):
        e = float(raw[i])
        v = float(u[i])
        yi = float(y[i])
        s = float(sw[i])
        if abs(v) <= 1.0:
            a, b = _short_step_change(e, v, yi)
            change += s * (a + b)
            scale += s * (abs(a) + abs(b))
        else:
            lo0 = _log1pexp(e) - yi * e
            e1 = e + v
            lo1 = _log1pexp(e1) - yi * e1
            change += s * (lo1 - lo0)
            scale += s * (abs(lo1) + abs(lo0))
    return change, scale


@jit_inline
def _short_step_args(e, z, em, yi):
    r"""The two ``log1p`` arguments of the stable loss change of one sample
    for :math:`|v| \le 1` (:func:`binomial_loss_change`), from
    :math:`z = e^{-|\eta|}` and ``em`` :math:`= e^v - 1`:
    :math:`-(1-p)\,e_m / (1 + e_m)` and :math:`p\,e_m`; a label of 0 or 1
    has only its own term (the other is 0)."""
    if e > 0.0:
        p = 1.0 / (1.0 + z)
        q = z / (1.0 + z)
    else:
        p = z / (1.0 + z)
        q = 1.0 / (1.0 + z)
    a = 0.0
    b = 0.0
    if yi != 0.0:
        a = -q * em / (1.0 + em)
    if yi != 1.0:
        b = p * em
    return a, b


@jit_inline
def _short_step_change(e, v, yi):
    r"""The two terms of the stable loss change of one sample for
    :math:`|v| \le 1` (:func:`binomial_loss_change`):
    :math:`y \log1p(\cdot)` and :math:`(1-y) \log1p(\cdot)` of
    :func:`_short_step_args`."""
    a, b = _short_step_args(e, math.exp(-abs(e)), math.expm1(v), yi)
    return yi * math.log1p(a), (1.0 - yi) * math.log1p(b)


@jit
def binomial_step_args(raw, z0, v, em, y, start, stop, A, B):
    r"""The ``log1p`` arguments of the stable loss change for rows
    ``start:stop`` (:func:`_short_step_args`; block arrays ``z0``
    :math:`= e^{-|\eta|}`, ``v`` the step, ``em`` :math:`= e^{v} - 1` are
    indexed from 0 at ``start``): written into ``A`` and ``B``, 0 for rows
    with :math:`|v| > 1` (their change is a difference of losses). The
    caller takes ``log1p`` of both with NumPy (vectorised, unlike Numba's
    scalar ``math.log1p``)."""
    for i in range(start, stop):
        r = i - start
        if abs(v[r]) <= 1.0:
            A[r], B[r] = _short_step_args(raw[i], z0[r], em[r], y[i])
        else:
            A[r] = 0.0
            B[r] = 0.0


@jit
def binomial_step_block(X, v, A, B, l1, loss0, y, sw, start, stop, fit_intercept,
                        raw1, loss1, grad1, fisher1, z1, blk, tiny, gram, stride):
    r"""One row block of a Newton step's fused pass (binary, logit link).

    For rows ``start:stop`` of ``X`` (float64, C order), with what the
    caller formed by vectorised NumPy for the block (indexed from 0 at
    ``start``): the step ``v`` :math:`= t(x^T d + d_0)`, ``A`` and ``B`` the
    ``log1p`` of :func:`binomial_step_args`'s arguments, ``l1``
    :math:`= \log1p(e^{-|\eta_1|})`; and for the rows themselves the new
    linear predictor :math:`\eta_1 = \eta + v` (``raw1``) and
    :math:`e^{-|\eta_1|}` (``z1``): the change of the weighted loss from the
    weighted losses ``loss0`` (as :func:`binomial_loss_change`: the stable
    terms for :math:`|v| \le 1`, a difference of losses beyond), the loss,
    gradient and Fisher weight at :math:`\eta_1` (``loss1``, ``grad1``,
    ``fisher1``, as :func:`binomial_loss_grad_fisher`), and block row ``r``
    of the Gram buffer ``blk`` set to :math:`\sqrt{F}\,[x, 1, g/\sqrt{F}]`
    (the ones column only with ``fit_intercept``), so ``blk^T blk`` holds the
    Fisher matrix and the gradient. Rows whose Fisher weight is at most
    ``tiny`` get a zero buffer row (their gradient is added apart by the
    caller). Without ``gram`` no buffer row is written (the caller sums the
    gradient :math:`\tilde X^T g` by one BLAS product on the block); with
    ``stride > 1`` only block rows ``r = 0, stride, 2 stride, ...`` are
    written, to buffer row ``r // stride``, as
    :math:`\sqrt{\mathrm{stride}\,F}\,[x, 1, 0]` (zero when ``F <= tiny``):
    ``blk^T blk`` is then the Fisher matrix of that row subsample, an
    unbiased estimate of the block's (the caller sums the gradient).
    Returns ``(change, scale, number of tiny rows, max |v|)``; the block of
    ``X`` is read from cache (the caller's BLAS product just read it).
    """
    p = X.shape[1]
    k = p + fit_intercept
    change = 0.0
    scale = 0.0
    n_tiny = 0
    vmax = 0.0
    for i in range(start, stop):
        r = i - start
        vi = v[r]
        if abs(vi) > vmax:
            vmax = abs(vi)
        yi = y[i]
        s = sw[i]
        e1 = raw1[i]
        z = z1[i]
        if e1 > 0.0:
            lo1 = (1.0 - yi) * e1 + l1[r]
            p1 = 1.0 / (1.0 + z)
        else:
            lo1 = l1[r] - yi * e1
            p1 = z / (1.0 + z)
        if abs(vi) <= 1.0:
            a = yi * A[r]
            b = (1.0 - yi) * B[r]
            change += s * (a + b)
            scale += s * (abs(a) + abs(b))
        else:  # a long step: the difference of the two losses
            change += s * lo1 - loss0[i]
            scale += abs(s * lo1) + abs(loss0[i])
        loss1[i] = s * lo1
        g = s * (p1 - yi)
        h = s * p1 * (1.0 - p1)
        grad1[i] = g
        fisher1[i] = h
        if not gram:
            continue
        if stride > 1:  # every stride-th row, weighted by stride; no gradient column
            if r % stride == 0:
                q = r // stride
                sq = math.sqrt(stride * h) if h > tiny else 0.0
                for j in range(p):
                    blk[q, j] = X[i, j] * sq
                if fit_intercept:
                    blk[q, p] = sq
                blk[q, k] = 0.0
        elif h > tiny:
            sq = math.sqrt(h)
            for j in range(p):
                blk[r, j] = X[i, j] * sq
            if fit_intercept:
                blk[r, p] = sq
            blk[r, k] = g / sq
        else:
            n_tiny += 1
            for j in range(k + 1):
                blk[r, j] = 0.0
    return change, scale, n_tiny, vmax


@jit
def _log1pexp(e):
    if e > 0.0:
        return e + math.log1p(math.exp(-e))
    return math.log1p(math.exp(e))


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
    "binomial_loss_change",
    "binomial_loss_grad_fisher",
    "binomial_loss_grad_fisher_ref",
    "multinomial_loss_grad_proba",
    "multinomial_loss_grad_proba_ref",
]
