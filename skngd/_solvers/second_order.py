r"""The second-order solver spine: one template every Newton-type fit runs on.

A fit of a linear model by Newton's method, Fisher scoring (IRLS) or a
quasi-Newton variant repeats the same named steps over a state object;
:class:`SecondOrderSolver` holds the loop and subclasses fill in the steps:

.. code-block:: text

    setup(coef0)                      state, buffers, starting point
    repeat up to max_iter:
        [start_step()]                only while at_start(): e.g. IRLS from mu0
        update_curvature()            M = X~^T W X~ + lambda P (Fisher or observed)
        inner_solve()                 direction Delta ~ -M^{-1} g (pluggable strategy)
        check_convergence()           stopping rule -> StopReason or None
        line_search()                 step length, new iterate -> StopReason or None
    finalize(status)                  typed result object

Who uses it: :class:`skngd._solvers.newton.LogisticNewton`
(``LogisticRegression(solver='newton')``, on
:class:`~skngd._loss.linear_loss.LinearModelLoss`) and
:class:`skngd._solvers.irls.GLMNewton` (``GeneralizedLinearRegressor``, on
:class:`~skngd._loss.glm_loss.GLMProblem`). Both call :meth:`SecondOrderSolver.solve`
in this module.

**Inner solves** are strategies with one method, ``__call__(M, g, solver) ->
Direction``: :class:`CholeskySolve` (Cholesky, minimum-norm pseudo-inverse for a
singular ``M``), :class:`EquilibratedCholeskySolve` (unit-diagonal scaling and a
collinearity test, for the GLM covariance), and the GLM's observed-information
refinement by conjugate gradients preconditioned with the Fisher factor
(:class:`skngd._solvers.irls.ObservedNewtonPCG`). A new inner solve is a class
with that one method.

**The stopping rule** (the one definition of ``tol``; the developer page
``doc/developer/linear_core.rst``, section "The stopping rule and tol", shows
the same table): stop when the estimated suboptimality
:math:`\tfrac12 g^T M^{-1} g = -\tfrac12 g^T\Delta` (the decrease the
quadratic model promises) is at most ``rel_tol`` times
:math:`\max(|f|, 10^{-12})` (:func:`converged`). ``rel_tol`` is a relative
objective accuracy. An estimator's public ``tol`` maps to it by one of two
named functions, on the scale the estimator's peers use:

=====================================  ===========================  ==========================
estimator                              ``tol`` is on the scale of   ``rel_tol``
=====================================  ===========================  ==========================
``LogisticRegression`` (every solver)  the gradient (scikit-learn)  :func:`gradient_tol`:
                                                                    ``max(tol, 10 eps)**2``
the GLMs                               the objective (glum,         :func:`objective_tol`:
                                       statsmodels' deviance        ``tol``
                                       change)
=====================================  ===========================  ==========================

So ``LogisticRegression(tol=1e-4)`` stops at about 1e-8 relative objective
accuracy, and a GLM at ``tol=1e-12`` at 1e-12 (its last Newton step leaves a
coefficient error of order ``tol``). Below the rule, every solver stops with
``StopReason.ROUNDING`` when no step makes representable progress.
``StudentTRegressor`` is an EM iteration, not on this rule: it has no Newton
decrement, and its ``tol`` bounds the last step (fitted values and scale
relative to the scale, ``nu`` relative to itself).

**Step control** is one backtracking loop, :func:`backtrack`, with the
acceptance test as its argument: Armijo on the accurately summed objective
change (:func:`line_search`, used by Newton and NGD on ``LinearModelLoss``)
or "no increase beyond a slack" (the GLM's
:meth:`~skngd._solvers.irls.GLMNewton.line_search`, whose kernels return
``inf`` outside the family's domain). A step is taken only on a decrease;
:func:`take_step` keeps the recorded objective monotone. (MM needs no search:
its bound step decreases the objective by construction; its Anderson
safeguard is in :mod:`skngd._solvers.mm`.)

**Non-convergence** is reported in one place per estimator family through
:mod:`skngd._solvers._result` (``warn_not_converged`` / ``warn_step_failed``,
which name the parameter to raise).
"""

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from skngd._solvers._result import LinearSolverResult, StopReason
from skngd._solvers.linalg import equilibrated_cholesky, solve_psd, solve_spd

_ARMIJO_C = 1e-4
_MAX_HALVINGS = 40
#: a step whose predicted decrease is below this many times the rounding
#: level of the objective change cannot be told from zero
_SIGNIFICANT = 8.0
#: ``tol`` below this many machine epsilons of the data dtype asks for more
#: than floating point resolves; it acts as this value
_TOL_FLOOR_EPS = 10.0
#: objective scale below which the relative rule becomes absolute
_VALUE_FLOOR = 1e-12


# -- the stopping rule -----------------------------------------------------
def converged(suboptimality, value, rel_tol):
    """The one stopping rule: ``suboptimality <= rel_tol * max(|value|, 1e-12)``."""
    return suboptimality <= rel_tol * max(abs(value), _VALUE_FLOOR)


def gradient_tol(tol, dtype):
    """``rel_tol`` of a ``tol`` on the gradient scale (``LogisticRegression``):
    ``max(tol, 10 eps)**2``.

    An objective accurate to ``tol**2`` has its gradient at the rounding level
    of its own computation once ``tol`` reaches 10 eps of the data dtype
    (``2.2e-15`` for float64); below, ``tol`` acts as that floor.
    """
    return max(tol, _TOL_FLOOR_EPS * np.finfo(dtype).eps) ** 2


def objective_tol(tol):
    """``rel_tol`` of a ``tol`` on the objective scale (the GLMs): ``tol``
    itself, a relative objective accuracy with no floor."""
    return tol


def is_converged(st, decrement, tol):
    """:func:`converged` for a ``LinearModelLoss`` state ``st`` with
    ``LogisticRegression``'s ``tol`` (see :func:`gradient_tol`)."""
    return converged(decrement, st.value, gradient_tol(tol, st.raw.dtype))


# -- inner solves ----------------------------------------------------------
@dataclass
class Direction:
    """Outcome of an inner solve.

    ``step`` is :math:`\\Delta`, ``decrement`` is :math:`-g^T\\Delta` (twice the
    decrease the quadratic model predicts), ``step_eta`` its change of the
    linear predictor when the inner solve computed it (else None), ``kind``
    a label for ``verbose``, ``deficient`` whether ``M`` was singular (the
    minimum-norm solution was used) and ``factor`` the factorisation of ``M``
    when one was formed (for refinements).
    """

    step: np.ndarray
    decrement: float
    step_eta: object = None
    kind: str = "newton"
    deficient: bool = False
    factor: object = None


class CholeskySolve:
    """:math:`\\Delta = -M^{-1} g` by Cholesky; the minimum-norm solution by an
    eigen pseudo-inverse when ``M`` is singular."""

    def __call__(self, M, g, solver=None):
        d = -solve_psd(M, g)
        return Direction(d, -float(g @ d))


class EquilibratedCholeskySolve:
    """:math:`\\Delta = -M^{-1} g` by Cholesky of ``M`` scaled to unit diagonal;
    a pivot :math:`1 - R^2 < 10^{-11}` (perfectly collinear columns) switches to
    the minimum-norm pseudo-inverse solution and flags ``deficient``."""

    def __call__(self, M, g, solver=None):
        fac = equilibrated_cholesky(M)
        if fac is None:
            d, _ = solve_spd(M, -g)
            return Direction(d, -float(g @ d), kind="fisher (pseudo-inverse)", deficient=True)
        L, s = fac
        d = -s * linalg.cho_solve((L, True), s * g, check_finite=False)
        return Direction(d, -float(g @ d), factor=fac)


# -- step control ------------------------------------------------------------
@dataclass
class StepSearch:
    """Outcome of :func:`line_search`: step ``t``, the objective change
    there and, when no step was taken, why (``status``)."""

    t: float
    change: float
    status: StopReason = None


def backtrack(trial, t0=1.0, max_halvings=_MAX_HALVINGS):
    """The one step-control loop: try ``t0, t0/2, ...`` (at most
    ``max_halvings`` halvings) until ``trial(t)`` returns a
    :class:`StepSearch` (a step taken, or a reason to stop); ``None`` means
    halve. Ends with ``StopReason.STEP_FAILED`` when no trial qualified.

    The acceptance test is the trial's: Armijo on the accurate objective
    change for ``LinearModelLoss`` (:func:`line_search`), "no increase beyond
    a slack" for the GLM (whose kernels return ``inf`` outside the family's
    domain, so a halving also brings the means back into it).
    """
    t = t0
    for _ in range(max_halvings + 1):
        out = trial(t)
        if out is not None:
            return out
        t *= 0.5
    return StepSearch(0.0, 0.0, StopReason.STEP_FAILED)


def line_search(loss, st, D, U, t0=1.0):
    r"""Armijo backtracking (:func:`backtrack`) on the accurate objective
    change (no pass over X).

    Takes the first ``t`` in ``t0, t0/2, ...`` with
    :math:`f(W + tD) - f(W) \le c\,t\,g^TD` and a strict decrease, the change
    summed from per-sample differences (:meth:`LinearModelLoss.value_change`),
    so the test stays meaningful down to the rounding level of the gradient.
    Stops with ``StopReason.ROUNDING`` once the predicted decrease
    :math:`-t\,g^TD` is within a few rounding levels of the change (no
    representable progress is left), with ``STEP_FAILED`` after
    ``_MAX_HALVINGS`` halvings otherwise.
    """
    slope = float(np.sum(st.grad * D))
    if not np.isfinite(slope):
        return StepSearch(0.0, 0.0, StopReason.STEP_FAILED)

    def armijo(t):
        change, noise = loss.value_change(st, D, U, t)
        if not -t * slope > _SIGNIFICANT * noise:
            return StepSearch(0.0, 0.0, StopReason.ROUNDING)
        if change <= _ARMIJO_C * t * slope and change < 0:
            return StepSearch(t, change)
        return None

    return backtrack(armijo, t0, _MAX_HALVINGS - 1)


def negligible_step(coef, step):
    """Whether ``coef + step`` differs from ``coef`` only at rounding level
    (every entry of ``step`` below 4 ulps of the largest coefficient)."""
    big = float(np.max(np.abs(coef), initial=0.0))
    return float(np.max(np.abs(step), initial=0.0)) <= 4 * np.finfo(np.float64).eps * big


def take_step(loss, st, D, U, t, change):
    """Move to ``coef + t D``; one pass (``X^T`` residual) since ``raw`` is
    updated from ``U = X D``.

    ``change < 0`` is the accurately computed objective change. The new value
    is the directly summed objective when that is not above the current one,
    else the current value plus ``change`` (the direct sum's rounding hides a
    decrease that small): the recorded objective is monotone and accurate to
    the rounding of the objective itself.
    """
    coef = st.coef + t * D
    raw = st.raw + U * np.asarray(t, dtype=U.dtype)
    new = loss.state(coef, raw=raw)
    if not new.value <= st.value:
        new.value = st.value + change
    return new


# -- the template ------------------------------------------------------------
class SecondOrderSolver:
    """Template of a second-order fit: :meth:`solve` runs the named steps.

    Subclasses implement :meth:`setup`, :meth:`update_curvature`,
    :meth:`inner_solve`, :meth:`check_convergence`, :meth:`line_search` and
    :meth:`finalize`, and may use :meth:`at_start` / :meth:`start_step` for a
    first iteration of another kind. ``inner`` is the inner-solve strategy.
    """

    name = "second-order"
    inner = CholeskySolve()

    def __init__(self, *, tol, max_iter, verbose=0):
        self.tol, self.max_iter, self.verbose = tol, max_iter, verbose
        self.n_iter = 0

    # -- the steps ---------------------------------------------------------
    def setup(self, coef0):  # pragma: no cover - abstract
        raise NotImplementedError

    def at_start(self):
        """Whether the next iteration is :meth:`start_step` (no iterate yet)."""
        return False

    def start_step(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def update_curvature(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def inner_solve(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def check_convergence(self):  # pragma: no cover - abstract
        """``StopReason`` to stop with, or None to go on."""
        raise NotImplementedError

    def line_search(self):  # pragma: no cover - abstract
        """Move to the next iterate; ``StopReason`` to stop with, or None."""
        raise NotImplementedError

    def finalize(self, status):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- the loop ----------------------------------------------------------
    def solve(self, coef0=None):
        """Run the fit from ``coef0`` and return the subclass's result object."""
        self.setup(coef0)
        status = StopReason.MAX_ITER
        for self.n_iter in range(1, self.max_iter + 1):
            if self.at_start():
                self.start_step()
                continue
            self.update_curvature()
            self.inner_solve()
            status = self.check_convergence()
            if status is not None:
                break
            status = self.line_search()
            if status is not None:
                break
        else:
            status = StopReason.MAX_ITER
        return self.finalize(status)


class LossSolver(SecondOrderSolver):
    """The template on a :class:`~skngd._loss.linear_loss.LinearModelLoss`
    (``LogisticRegression``'s solvers: Newton, NGD, MM): the state is the
    loss's point state ``st``; :meth:`finalize` returns a
    :class:`~skngd._solvers._result.LinearSolverResult`. ``decrement`` is the
    suboptimality estimate the result reports, ``decs`` one per iteration."""

    def __init__(self, loss, *, tol=1e-4, max_iter=100, verbose=0):
        super().__init__(tol=tol, max_iter=max_iter, verbose=verbose)
        self.loss = loss

    def setup(self, coef0):
        self.st = self.loss.state(coef0)
        self.history = [self.st.value]
        self.decs = []
        self.decrement = np.nan

    def record(self, dec):
        """Keep ``dec`` as this iteration's suboptimality estimate."""
        self.decs.append(dec)
        self.decrement = dec

    def advance(self, D, U, step, name, note=""):
        """Move to ``coef + t D`` (``U = X D``) after an accepted step search,
        record the objective, and report the iteration at ``verbose``."""
        self.st = take_step(self.loss, self.st, D, U, step.t, step.change)
        self.history.append(self.st.value)
        if self.verbose:
            print(f"[{name}] iter {self.n_iter}: objective {self.st.value:.10g} "
                  f"step {step.t:.3g}{note}")

    def check_convergence(self):
        """Stop when the recorded decrement meets the stopping rule
        (:func:`is_converged`); the iteration that only checked is not counted."""
        if is_converged(self.st, self.decrement, self.tol):
            self.n_iter -= 1
            return StopReason.CONVERGED
        return None

    def result_fields(self):
        """Solver-specific fields of the result (``n_cg_iter``, ``n_rejected``)."""
        return {}

    def finalize(self, status):
        st, loss = self.st, self.loss
        return LinearSolverResult(st.coef, self.n_iter, status.converged, self.history,
                                  loss.n_passes, status=status, grad=st.grad,
                                  decrement=self.decrement, gram_rows=loss.gram_rows,
                                  decrements=self.decs, **self.result_fields())


__all__ = ["CholeskySolve", "Direction", "EquilibratedCholeskySolve", "LossSolver",
           "SecondOrderSolver",
           "StepSearch", "backtrack", "converged", "gradient_tol", "is_converged", "line_search",
           "negligible_step", "objective_tol", "take_step"]
