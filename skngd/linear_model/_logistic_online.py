r"""Online (mini-batch) natural gradient for :meth:`LogisticRegression.partial_fit`.

State (a dict kept on the estimator): coefficients ``coef``, step counter
``t``, total sample weight ``seen``, the running Fisher estimate ``F`` (dense
``p x p``, or the diagonal when ``p > _MAX_DENSE_P``) and the mini-batch
objective history. One call:

.. math::

    \bar g = \frac{1}{m}\tilde X_b^T G_b + \frac{\lambda}{N} P W, \quad
    \bar F \leftarrow \beta \bar F + (1-\beta) \frac{1}{m} F_b, \quad
    W \leftarrow W - \eta_t\,(\bar F_{\rm corr} + \tfrac{\lambda}{N}P + \delta I)^{-1}\bar g,

with ``m`` the batch weight, ``N`` the weight seen so far, :math:`\bar F_{\rm corr}`
the bias-corrected average (Adam-style :math:`1 - \beta^t`), damping
:math:`\delta = 10^{-4}\,\mathrm{mean\,diag}(\bar F)` and
:math:`\eta_t = (1 + t_0)/(t + t_0)` (asymptotically the Fisher-efficient
:math:`1/t` rate of Amari 1998).
"""

import numpy as np

from skngd._solvers.linalg import solve_psd
from skngd._solvers.newton import null_space_fill

_BETA = 0.9
_T0 = 10.0
_DAMPING = 1e-4
_MAX_DENSE_P = 1200


def online_ngd_step(state, loss, l2, kind="exact"):
    """Update ``state`` in place with one natural-gradient step on ``loss``'s batch."""
    W = state["coef"]
    st = loss.state(W)
    m = float(np.sum(loss.sw, dtype=np.float64))
    if m <= 0:
        return state
    state["seen"] += m
    lam = l2 / state["seen"]
    mask = np.repeat(loss.penalty_mask, loss.n_out)
    g = (st.value / m, (st.grad / m).ravel() + lam * (mask * W.ravel()))
    p = W.size
    if p <= _MAX_DENSE_P:
        Fb = loss.fisher_matrix(st, kind) / m
    else:
        from skngd._solvers.ngd import _weighted_sq_colsum

        H = (loss.sw[:, None] * st.curv * (1 - st.curv) if loss.multinomial
             else loss.fisher_weights(st, kind)[:, None])
        Fb = _weighted_sq_colsum(loss, H).ravel() / m
    t = state["t"] + 1
    F = Fb * (1 - _BETA) if state["F"] is None else _BETA * state["F"] + (1 - _BETA) * Fb
    state["F"] = F
    Fc = F / (1 - _BETA**t)
    if Fc.ndim == 2:
        delta = _DAMPING * max(float(np.mean(np.diag(Fc))), 1e-12)
        A = null_space_fill(loss, Fc + np.diag(lam * mask + delta))
        step = solve_psd(A, g[1])
    else:
        delta = _DAMPING * max(float(np.mean(Fc)), 1e-12)
        step = g[1] / (Fc + lam * mask + delta)
    eta = (1.0 + _T0) / (t + _T0)
    state["coef"] = W - eta * step.reshape(W.shape)
    state["t"] = t
    state["history"].append(g[0] + 0.5 * lam * float(np.sum(mask * W.ravel() ** 2)))
    return state


__all__ = ["online_ngd_step"]
