r"""The GLM's elastic-net fit: the L1 part by the proximal Newton solver.

Minimises, on the half-deviance-sum scale of :class:`~skngd._loss.glm_loss.GLMProblem`,

.. math::

    f(\beta) = \tfrac12\sum_i s_i\, d(y_i, g^{-1}(\tilde x_i^T\beta + o_i))
    + \tfrac{\lambda_2}{2}\beta^T P_2 \beta + \sum_j \lambda_{1,j} |\beta_j|

by :func:`skngd._solvers.prox_newton.prox_newton` on the problem's own loss
methods (value, gradient, Fisher or observed Hessian blocks, the generalised
ridge behind ``penalty*``), with the Fisher information for a canonical link
and the observed information otherwise. The result is packaged as a
:class:`~skngd._solvers._result.GLMResult` (deviance, means and the Fisher
Gram matrix at the solution from one fused pass), so the estimator's
inference code sees one result type.
"""

import numpy as np

from skngd._loss.design import weighted_gram
from skngd._solvers._result import GLMResult, StopReason, warn_not_converged, warn_step_failed
from skngd._solvers.irls import _pass, _Workspace


def fit_l1(problem, l1, coef0=None, *, tol=1e-8, max_iter=100, verbose=0):
    """Elastic-net fit of ``problem`` with L1 weights ``l1`` (shape
    ``problem.shape``, zero on unpenalised rows); returns a
    :class:`GLMResult` with ``coef`` flat (features, then the intercept),
    ``gram`` the Fisher Gram matrix over the active rows (non-zero or
    unpenalised coefficients; zero rows and columns elsewhere) and the
    prox-Newton result as ``result.prox``."""
    from skngd._solvers.prox_newton import prox_newton

    start = None if coef0 is None else np.asarray(coef0, dtype=np.float64).reshape(problem.shape)
    hessian = "observed" if problem.observed else "fisher"
    l1 = np.asarray(l1, dtype=np.float64).reshape(problem.shape)
    if _fast(problem):
        return _fit_dense(problem, l1, start, tol, max_iter, verbose, hessian)
    if start is not None and not np.isfinite(problem.value(start)):
        start = None  # invalid means at the previous solution: start afresh
    if start is None:
        start = _intercept_start(problem)
    res = prox_newton(problem, start, l1=l1, tol=tol, max_iter=max_iter, verbose=verbose,
                      hessian=hessian)
    coef = np.asarray(res.coef, dtype=np.float64).reshape(-1).copy()
    ws = _Workspace(problem)
    eta = problem.linear_predictor(coef)
    dev = _pass(problem, eta, ws)
    G = _active_gram(problem, ws.w, coef, l1)
    return _result(res, coef, dev, G, ws.mu.copy(), 2)


def _fast(problem):
    """Whether the dense GLM solver (:mod:`skngd._solvers.glm_prox_newton`)
    runs: dense ``X`` on the Numba row passes."""
    return not problem.sparse and problem.use_numba


def _fit_dense(problem, l1, start, tol, max_iter, verbose, hessian):
    """:func:`glm_prox_newton`; the deviance and means from its final state
    (no further pass), the Fisher Gram matrix over the active rows there."""
    from skngd._solvers.glm_prox_newton import glm_prox_newton

    # a warm start with invalid means restarts from the intercept (the solver's setup)
    res, solver = glm_prox_newton(problem, start, l1=l1, tol=tol, max_iter=max_iter,
                                  verbose=verbose, hessian=hessian,
                                  restart=lambda: _intercept_start(problem))
    st = solver.st
    coef = np.asarray(st.coef, dtype=np.float64).reshape(-1).copy()
    G = _active_gram(problem, st.curv[:, 0], coef, l1)
    out = _result(res, coef, 2.0 * st.half_deviance, G, st.mu, 1)
    out.n_grams, out.n_reused = solver.n_grams, solver.n_reused
    return out


def _result(res, coef, dev, G, mu, extra_passes):
    out = GLMResult(coef=coef, n_iter=int(res.n_iter), converged=bool(res.converged),
                    history=list(res.history), n_passes=int(res.n_passes) + extra_passes,
                    status=res.status, deviance=float(dev), gram=G, mu=mu,
                    rank_deficient=False, predicted_decrease=float(getattr(res, "kkt", np.nan)))
    out.prox = res
    return out


def fit_l1_path(problem, penalties, coef0=None, *, tol=1e-8, max_iter=100, verbose=0):
    """Elastic-net fits of one dense ``problem`` (:func:`_fast`) along
    ``penalties``, an iterable of ``(l2, l1)`` (the ridge strength set on
    ``problem.l2``, L1 weights as in :func:`fit_l1`): each fit starts at the
    previous solution with its row pass, gradient and Gram matrix (no pass
    repeated between fits). Yields one :class:`GLMResult` per fit (``gram``
    None: no inference), after warning as :func:`fit_l1` would."""
    from skngd._solvers.glm_prox_newton import glm_prox_newton

    hessian = "observed" if problem.observed else "fisher"
    start = None if coef0 is None else np.asarray(coef0, dtype=np.float64).reshape(problem.shape)
    state = gram = None
    for l2, l1 in penalties:
        problem.l2 = float(l2)
        res, solver = glm_prox_newton(
            problem, start, l1=np.asarray(l1, dtype=np.float64).reshape(problem.shape),
            tol=tol, max_iter=max_iter, verbose=verbose, hessian=hessian, gram=gram,
            state=state, restart=lambda: _intercept_start(problem))
        state, gram = solver.st, solver.cache
        start = state.coef
        out = _result(res, np.asarray(state.coef, dtype=np.float64).reshape(-1).copy(),
                      2.0 * state.half_deviance, None, state.mu, 0)
        warn_l1_stop(out, max_iter)
        yield out


def _intercept_start(problem):
    """All coefficients zero and, with an intercept, the intercept at
    ``g(ybar)`` (less the mean offset): a valid mean for every link (zero is
    not for the inverse links, where ``g^{-1}(0)`` is infinite). None (the
    solver's zero start) when that is not finite."""
    coef = np.zeros(problem.shape)
    if problem.fit_intercept:
        sw = np.asarray(problem.sample_weight, dtype=np.float64)
        ybar = float(np.average(problem.y, weights=sw))
        with np.errstate(all="ignore"):
            b = float(problem.link.link(np.asarray([ybar]))[0])
        if problem.offset is not None:
            b -= float(np.average(problem.offset, weights=sw))
        coef[-1, 0] = b
    with np.errstate(all="ignore"):
        ok = np.isfinite(problem.value(coef))
    return coef if ok else None


def _active_gram(problem, w, coef, l1):
    """The Fisher Gram matrix over the active rows (non-zero or without L1
    weight: what the covariance uses), zero elsewhere: one Gram over the
    active columns only."""
    active = np.flatnonzero((coef != 0) | (np.asarray(l1).reshape(-1) == 0))
    p = problem.n_features
    feats = active[active < p]
    G = np.zeros((problem.n_coef, problem.n_coef))
    sub = weighted_gram(problem.X, np.asarray(w, dtype=np.float64),
                        fit_intercept=problem.fit_intercept, use_numba=problem.gram_kernel,
                        cols=feats)[0]
    rows = np.r_[feats, [p] if problem.fit_intercept else []].astype(np.intp)
    problem.gram_rows += problem.X.shape[0]
    G[np.ix_(rows, rows)] = sub
    return G


def warn_l1_stop(res, max_iter):
    """The ``ConvergenceWarning`` for an elastic-net fit that stopped early."""
    detail = f"The final relative KKT violation is {res.predicted_decrease:.3g}."
    if res.status is StopReason.MAX_ITER:
        warn_not_converged("prox-Newton (elastic net)", max_iter, detail=detail)
    elif not res.converged:
        warn_step_failed("prox-Newton (elastic net)", res.n_iter, detail=detail)


__all__ = ["fit_l1", "fit_l1_path", "warn_l1_stop"]
