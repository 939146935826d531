"""Solvers shared by the estimators. Each returns a :class:`SolverResult`."""

from skngd._solvers._result import SolverResult, warn_not_converged

__all__ = ["SolverResult", "warn_not_converged"]
