r"""MM (majorise-minimise) with Böhning's curvature bound for logistic losses.

The logistic Hessian is bounded by a constant matrix (Böhning & Lindsay 1988;
Böhning 1992): :math:`p(1-p) \le \tfrac14` and, for the softmax,
:math:`\mathrm{diag}(p) - pp^T \preceq \tfrac12 (I - 11^T/K) =: \tfrac12 A`. Hence

.. math::

    f(W + \Delta) \le f(W) + \langle g, \Delta\rangle
    + \tfrac12 \langle \Delta, B\Delta \rangle, \qquad
    B\Delta = \tfrac{c}{1}\,\tilde X^T S \tilde X\,\Delta\,A + \lambda P\Delta,

with :math:`c = 1/4`, :math:`A = 1` for the binary model and :math:`c = 1/2`
for the multinomial. Minimising the bound gives each step
:math:`\Delta = -B^{-1} g`, and :math:`f` decreases monotonically.

``B`` is factorised once per fit. In the multinomial case the Kronecker
structure is solved through the eigenvectors of ``A`` (eigenvalue 1 on the
vectors orthogonal to :math:`1`, 0 on :math:`1`): on the orthogonal part one
symmetric matrix :math:`G = \tfrac12\tilde X^T S\tilde X + \lambda P` is needed,
and along :math:`1` only the penalty acts, which drives penalised rows to sum
to zero over the classes (scikit-learn's symmetric solution). ``G`` is
eigendecomposed and pseudo-inverted, so a singular :math:`X^TX` (collinear or
constant columns, no penalty) never fails; the gradient has no component in the
null space, so the step is the bound's minimiser there too.

Stopping: the shared rule of :mod:`skngd._solvers.newton` applied to the
larger of the bound's decrement :math:`\tfrac12 g^TB^{-1}g` (an underestimate,
since ``B`` majorises the Fisher matrix) and the geometric-tail estimate
:math:`\Delta_k\rho/(1-\rho)` of the remaining decrease, with
:math:`\rho = \Delta_k/\Delta_{k-1}` the observed ratio of decreases.

Each iteration costs two passes over ``X`` (``X\Delta`` and ``X^T r``) plus
:math:`O(p^2)`; the Gram matrix is formed once.

References
----------
Böhning, D. and Lindsay, B. G. (1988). Monotonicity of quadratic-approximation
algorithms. Ann. Inst. Statist. Math. 40, 641-663.
Böhning, D. (1992). Multinomial logistic regression algorithm. Ann. Inst.
Statist. Math. 44, 197-200.
"""

import numpy as np

from skngd._solvers._result import SolverResult
from skngd._solvers.newton import PsdInverse, is_converged, stalled_at_optimum, take_step


class BohningBound:
    """The factorised bound :math:`B` of a :class:`LinearModelLoss`."""

    def __init__(self, loss):
        self.loss = loss
        c = 0.5 if loss.multinomial else 0.25
        G = c * loss.gram(loss.sw) + np.diag(loss.l2 * loss.penalty_mask)
        self.inv = PsdInverse(G)

    def step(self, coef, grad):
        """:math:`-B^{-1} g` (minimiser of the majoriser around ``coef``)."""
        loss = self.loss
        if not loss.multinomial:
            return -self.inv.solve(grad)
        # orthogonal-to-1 part of the gradient, solved with G
        g_perp = grad - grad.mean(axis=1, keepdims=True)
        D = -self.inv.solve(g_perp)
        if loss.l2 > 0:
            # along 1: lambda * Delta 1 = -lambda * W 1 on penalised rows
            D -= (loss.penalty_mask * coef.mean(axis=1))[:, None]
        return D


def mm(loss, coef0, *, tol=1e-4, max_iter=100, verbose=0):
    """Böhning MM on ``loss`` from ``coef0``; returns a SolverResult whose
    ``history`` is monotone non-increasing."""
    bound = BohningBound(loss)
    st = loss.state(coef0)
    history = [st.value]
    converged = False
    it = 0
    prev_drop = None
    gap = np.inf
    for it in range(1, max_iter + 1):
        D = bound.step(st.coef, st.grad)
        dec = -0.5 * float(np.sum(st.grad * D))
        # B majorises F, so dec underestimates the gap; MM converges linearly,
        # so also bound the gap by the geometric tail of the observed decreases
        if is_converged(st, max(dec, gap), tol):
            converged, it = True, it - 1
            break
        U = loss.matmul(D)
        new = take_step(loss, st, D, U, 1.0)
        if not new.value <= st.value:  # rounding level: the bound guarantees descent
            converged = stalled_at_optimum(st, dec)
            break
        drop = st.value - new.value
        if prev_drop is not None and prev_drop > 0:
            rate = min(drop / prev_drop, 0.999)
            gap = drop * rate / (1.0 - rate)
        prev_drop = drop
        st = new
        history.append(st.value)
        if verbose:
            print(f"[mm] iter {it}: objective {st.value:.10g}")
    return SolverResult(st.coef, it, converged, history, loss.n_passes,
                        {"gram_rows": loss.gram_rows, "grad": st.grad})


__all__ = ["BohningBound", "mm"]
