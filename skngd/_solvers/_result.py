"""The result object every solver returns, and the convergence warning."""

from dataclasses import dataclass, field
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning


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
    extra : dict
        Solver-specific by-products (e.g. final gradient norm, dual potentials).
    """

    coef: np.ndarray
    n_iter: int
    converged: bool
    history: list = field(default_factory=list)
    n_passes: int = 0
    extra: dict = field(default_factory=dict)


def warn_not_converged(what, max_iter, param="max_iter", detail=""):
    """Emit a ``ConvergenceWarning`` that names the parameter to raise."""
    msg = (
        f"{what} did not converge within {param}={max_iter} iterations. "
        f"Increase {param}, relax tol, or check the data for scaling problems."
    )
    if detail:
        msg += f" {detail}"
    warnings.warn(msg, ConvergenceWarning, stacklevel=3)
