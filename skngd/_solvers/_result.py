"""The result objects solvers return, why they stopped, and the convergence warnings."""

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skngd.utils._warnings import warn


class StopReason(str, Enum):
    """Why an iterative solver stopped.

    ``CONVERGED`` and ``ROUNDING`` count as convergence: the second means the
    objective can no longer be decreased in floating point (the solution is
    at working precision, whatever ``tol`` asked for).
    """

    CONVERGED = "converged"
    #: the objective change of a step is at rounding level: optimum to working precision
    ROUNDING = "rounding"
    #: no decrease along the search direction, away from rounding level
    STEP_FAILED = "step_failed"
    MAX_ITER = "max_iter"

    @property
    def converged(self):
        return self in (StopReason.CONVERGED, StopReason.ROUNDING)


@dataclass
class SolverResult:
    """Outcome of an iterative solver.

    Attributes
    ----------
    coef : ndarray
        Final parameters (solver-specific layout, documented by the solver).
    n_iter : int
        Iterations performed.
    converged : bool
        Whether the stopping rule was met before ``max_iter``.
    history : list of float
        Objective value after each iteration (the first entry is the starting
        point). Monotone for bound-optimisation solvers (MM, EM).
    n_passes : int
        Full passes over the data matrix (matrix-vector products with X or
        X^T), the unit the benchmarks count.
    status : StopReason or None
        Why the solver stopped; ``None`` is read as ``CONVERGED`` or
        ``MAX_ITER`` according to ``converged``.
    """

    coef: np.ndarray
    n_iter: int
    converged: bool
    history: list = field(default_factory=list)
    n_passes: int = 0
    status: StopReason = None

    def __post_init__(self):
        if self.status is None:
            self.status = StopReason.CONVERGED if self.converged else StopReason.MAX_ITER


@dataclass
class LinearSolverResult(SolverResult):
    """:class:`SolverResult` of the linear-model solvers (NGD, MM, Newton).

    Attributes
    ----------
    grad : ndarray
        Gradient of the objective at ``coef`` (same layout).
    decrement : float
        The last estimate of the suboptimality :math:`f - f^*` the stopping
        rule compared with ``tol**2 * |f|``.
    gram_rows : int
        Rows used to form Gram / Fisher matrices (the other cost unit).
    n_cg_iter : int
        NGD: conjugate-gradient iterations over the whole fit.
    n_rejected : int
        MM: Anderson-mixed points replaced by the plain MM step.
    decrements : list of float
        The suboptimality estimate at each iteration (``decrement`` is the
        last), from which the rate of convergence can be read.
    """

    grad: np.ndarray = None
    decrement: float = np.nan
    gram_rows: int = 0
    n_cg_iter: int = 0
    n_rejected: int = 0
    decrements: list = field(default_factory=list)


@dataclass
class GLMResult(SolverResult):
    r""":class:`SolverResult` of the GLM Newton / IRLS solver.

    ``coef`` holds the feature coefficients followed by the intercept (if
    fitted).

    Attributes
    ----------
    deviance : float
        Weighted deviance at ``coef``.
    gram : ndarray or None
        The unpenalised Fisher information :math:`\tilde X^T W \tilde X` of
        the last iteration (the covariance's bread).
    mu : ndarray or None
        Means at ``coef``.
    rank_deficient : bool
        The last system was numerically singular (perfectly collinear columns):
        the minimum-norm solution was used.
    predicted_decrease : float
        The decrease :math:`\tfrac12 \Delta^T M \Delta` the last Newton step
        promised (``nan`` before the first Newton step).
    """

    deviance: float = np.nan
    gram: np.ndarray = None
    mu: np.ndarray = None
    rank_deficient: bool = False
    predicted_decrease: float = np.nan


@dataclass
class StudentTResult(SolverResult):
    r""":class:`SolverResult` of the Student-t EM / Newton fit: ``coef`` is
    :math:`\beta`.

    Attributes
    ----------
    intercept, scale, nu : float
        Intercept, scale :math:`\sigma` and degrees of freedom :math:`\nu`.
    weights : ndarray
        E-step weights :math:`E[\tau_i \mid y_i]` at the solution.
    resid : ndarray or None
        Residuals at the solution.
    exact : bool
        The data are fitted exactly (zero residuals on enough rows): the
        scale is 0 and the weights are their limit.
    """

    intercept: float = 0.0
    scale: float = 0.0
    nu: float = np.nan
    weights: np.ndarray = None
    resid: np.ndarray = None
    exact: bool = False


class SeparationWarning(ConvergenceWarning):
    """The classes (or a binomial response) are perfectly separated by the
    features: the unpenalised maximum-likelihood estimate does not exist and
    the coefficients are set by the penalty or by where the solver stopped."""


def warn_not_converged(what, max_iter, param="max_iter", detail=""):
    """Emit a ``ConvergenceWarning`` that names the parameter to raise."""
    _warn(f"{what} did not converge within {param}={max_iter} iterations. "
          f"Increase {param}, relax tol, or check the data for scaling problems.", detail)


def warn_step_failed(what, n_iter, detail=""):
    """``ConvergenceWarning`` for a solver that stopped because no step along
    its search direction decreased the objective (not at rounding level)."""
    _warn(f"{what} stopped at iteration {n_iter}: the step search found no decrease "
          f"of the objective, which is not yet at rounding level.", detail)


def _warn(msg, detail):
    # attributed to the user's call, however many skngd / sklearn frames lie between
    warn(f"{msg} {detail}" if detail else msg, ConvergenceWarning)


__all__ = ["GLMResult", "LinearSolverResult", "StudentTResult", "SeparationWarning", "SolverResult", "StopReason",
           "warn_not_converged", "warn_step_failed"]


@dataclass
class ProxNewtonResult(SolverResult):
    r""":class:`SolverResult` of the L1 proximal Newton solver
    (:func:`skngd._solvers.prox_newton.prox_newton`); ``coef`` has the loss's
    layout ``(n_dof, n_out)``.

    Attributes
    ----------
    objective : float
        :math:`F(W) = f(W) + \sum_j \lambda_j |W_j|` at ``coef``.
    kkt : float
        Relative KKT violation at ``coef``: the largest entry of the
        minimum-norm subgradient of ``F`` divided by the total sample weight.
    n_active : int
        Non-zero entries of ``coef``.
    grad : ndarray
        Gradient of the smooth part ``f`` at ``coef``.
    decrement : float
        Decrease the quadratic model promised for the last step.
    decrements : list of float
        That decrease at each step.
    """

    objective: float = np.nan
    kkt: float = np.nan
    n_active: int = 0
    grad: np.ndarray = None
    decrement: float = np.nan
    decrements: list = field(default_factory=list)
    gram_rows: int = 0


__all__ += ["ProxNewtonResult"]
