"""The result object returned by every solver in :mod:`skngd.ot`."""

from dataclasses import dataclass

import numpy as np


@dataclass
class OTResult:
    """Outcome of an optimal-transport solve.

    Attributes
    ----------
    plan : ndarray of shape (n, m) or None
        The transport plan (coupling). ``None`` for :func:`sinkhorn_online`,
        which never forms an n x m array.
    f, g : ndarray of shape (n,) and (m,)
        Dual potentials. For entropic solvers the plan is
        ``exp((f_i + g_j - M_ij) / reg)``.
    cost : float
        Transport cost ``<plan, M>`` (without the entropy term).
    n_iter : int
        Iterations performed (one iteration updates both potentials).
    converged : bool
        Whether the marginal violation fell below ``tol`` within ``max_iter``.
    marginal_error : float
        ``||plan 1 - a||_1 + ||plan^T 1 - b||_1`` at the returned plan.
    n_newton_iter : int or None
        :func:`sinkhorn`: Newton steps among the ``n_iter`` (None for the
        other solvers).
    history : list of float or None
        :func:`sinkhorn_group_lasso`: the objective after each outer
        iteration (None for the other solvers).
    eps_reached : float or None
        :func:`sinkhorn_online`: the entropic scale where the eps-scaling
        schedule stopped (None for the other solvers).
    extra : dict
        Read-only view of the solver-specific fields above that are set,
        by name (kept for code written against the former ``extra`` dict).

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.ot import sinkhorn
    >>> res = sinkhorn(None, None, np.array([[0.0, 1.0], [1.0, 0.0]]), 0.1)
    >>> res.plan.round(3).tolist(), bool(res.converged)
    ([[0.5, 0.0], [0.0, 0.5]], True)
    """

    plan: np.ndarray
    f: np.ndarray
    g: np.ndarray
    cost: float
    n_iter: int
    converged: bool
    marginal_error: float
    n_newton_iter: int = None
    history: list = None
    eps_reached: float = None

    @property
    def extra(self):
        """dict: the solver-specific fields that are set, by name."""
        return {name: getattr(self, name) for name in _SOLVER_FIELDS
                if getattr(self, name) is not None}


_SOLVER_FIELDS = ("n_newton_iter", "history", "eps_reached")
