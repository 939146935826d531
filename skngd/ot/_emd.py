"""Exact optimal transport (earth mover's distance) through POT."""

import numpy as np

from skngd.ot._result import OTResult
from skngd.ot._validation import check_balanced, check_cost, check_marginal, ot_params


@ot_params("a", "b", "M", "max_iter")
def emd(a, b, M, *, max_iter=1_000_000):
    r"""Exact optimal transport by the network simplex (POT's solver).

    Solves the linear program

    .. math::

        \min_{P \ge 0,\ P 1 = a,\ P^T 1 = b} \langle P, M \rangle .

    POT is imported here, lazily: ``import ot`` loads every installed
    backend and can take seconds, so it is only paid when this runs.

    Parameters
    ----------
    a, b : array-like of shape (n,), (m,) or None
        Weights (> 0, equal total mass); ``None`` means uniform.
    M : array-like of shape (n, m)
        Finite ground cost.
    max_iter : int >= 1, default=1_000_000
        Maximum number of network-simplex pivots.

    Returns
    -------
    result : OTResult
        ``plan``, dual potentials ``f``, ``g``, ``cost`` (the optimal value,
        equal to ``ot.emd2``), ``converged`` (the simplex reached optimality),
        ``marginal_error``; ``n_iter`` is 0 (the simplex does not report it).

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.ot import emd
    >>> res = emd(None, None, np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> res.plan
    array([[0.5, 0. ],
           [0. , 0.5]])
    >>> float(res.cost)
    0.0
    """
    M = check_cost(M)
    n, m = M.shape
    a = check_marginal(a, n, "a")
    b = check_marginal(b, m, "b")
    check_balanced(a, b)
    max_iter = int(max_iter)
    b = b * (a.sum() / b.sum())  # POT requires exactly equal masses
    import ot  # lazy: see docstring

    plan, log = ot.emd(a, b, M, numItermax=max_iter, log=True)
    plan = np.asarray(plan, dtype=np.float64)
    converged = int(log.get("result_code", 1)) == 1
    if not converged:
        from skngd._solvers._result import warn_not_converged

        warn_not_converged("emd", max_iter, detail=str(log.get("warning", "")))
    err = float(np.abs(plan.sum(1) - a).sum() + np.abs(plan.sum(0) - b).sum())
    return OTResult(
        plan=plan,
        f=np.asarray(log["u"], dtype=np.float64),
        g=np.asarray(log["v"], dtype=np.float64),
        cost=float(log["cost"]),
        n_iter=0,
        converged=converged,
        marginal_error=err,
    )
