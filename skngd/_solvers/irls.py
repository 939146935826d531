r"""Newton's method for GLMs (IRLS with the observed information), on the
second-order spine (:class:`GLMNewton`, a
:class:`~skngd._solvers.second_order.SecondOrderSolver`).

Minimises the penalised half deviance

.. math::

    f(\beta) = \tfrac12 \sum_i s_i\, d(y_i, g^{-1}(x_i^T\beta + o_i))
    + \tfrac{\lambda}{2} \lVert \beta_{\setminus 0} \rVert^2

(the intercept is not penalised), or with a generalised ridge
:math:`\tfrac{\lambda}{2}\beta^T P_2 \beta` (glum's ``P2``: a diagonal or a PSD
matrix; :math:`P` below is then :math:`P_2`, through
:meth:`~skngd._loss.design.LinearDesign.penalty_operator`). Each iteration forms the Fisher information
:math:`F = X^T W X + \lambda P` (working weights and scores from the fused
Numba pass, :func:`skngd._kernels.glm.irls_pass`) and steps by
:math:`\Delta = -F^{-1} \nabla f`: for a canonical link :math:`F` is the
Hessian and this is Newton's method (classical IRLS). For a non-canonical
link the Hessian is the observed information :math:`H = X^T W^O X + \lambda
P`; the step is refined towards :math:`-H^{-1}\nabla f` by conjugate
gradients preconditioned with :math:`F` (two products with ``X`` per
refinement, no second Gram matrix), with a forcing term that shrinks with the
gradient, so the iteration converges quadratically. Where :math:`H` is not
positive definite (negative curvature, far from the optimum or on a boundary)
the Fisher scoring step is kept. The first step, from the starting means, is
the IRLS step. The Gram matrix is accumulated by BLAS over row blocks of
:math:`\sqrt{W}\,[X, 1]` kept in one small reusable buffer (dense ``X``) or by
a sparse pass (CSR ``X``), equilibrated to unit diagonal and solved by
Cholesky.

Step length: a step is halved while the penalised objective increases (the
spine's one backtracking loop, :func:`~skngd._solvers.second_order.backtrack`,
with a "no increase" acceptance test). Once
the decrease the step promises, :math:`\tfrac12 \Delta^T H \Delta`, is below
what float64 can resolve in the objective (``_ROUNDING`` times it), the
objective cannot judge it and the Newton step is taken as it is.

Stopping: the spine's rule (:func:`~skngd._solvers.second_order.converged`
with ``rel_tol = objective_tol(tol) = tol``, see
:mod:`skngd._solvers.second_order`): when the predicted decrease
:math:`\tfrac12 \Delta^T H \Delta` is at most ``tol`` times the objective,
that last step is taken (without a new Gram matrix) and the fit has converged; for a Newton step the coefficient error is
then of order ``tol``. There is no other floor: a ``tol`` below float64's
resolution iterates until the gradient is at its rounding level, which shows
as a Newton decrement that stops decreasing, or one below the rounding noise
of the gradient, :math:`\Delta^T H \Delta \lesssim \epsilon^2 \sum_i |W_i|
(|\eta_i| + |o_i|)^2` (the scores move by :math:`W_i\,\delta\eta_i` when the
linear predictor is rounded by :math:`\delta\eta_i`; this matters for fits
whose deviance is near zero, e.g. interpolation with more features than
samples). A numerically singular system (perfectly
collinear columns: a column whose :math:`1 - R^2` on the others is below
1e-11) falls back to the minimum-norm pseudo-inverse solution (Fisher scoring)
and is reported as :attr:`~skngd._solvers._result.GLMResult.rank_deficient`.

Threads: the solver changes no thread setting. The estimator applies one
policy per fit (:func:`skngd.utils._threads.fit_threads`): ``n_jobs`` sets both
Numba's and the BLAS thread count (``None`` means one, scikit-learn's
convention); many short multi-threaded BLAS calls degrade badly when the
cores are shared (spinning worker threads). Below ``NUMBA_MIN_SIZE`` rows the
per-row passes run on NumPy twins of the kernels (:attr:`GLMProblem.use_numba`).
"""

from dataclasses import dataclass
import warnings

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from skngd._kernels.glm_ref import irls_pass_ref
from skngd._loss.glm_family import observed_weights
from skngd._solvers._result import GLMResult, StopReason, warn_not_converged, warn_step_failed
from skngd._loss.design import gram_buffer
from skngd._loss.glm_loss import GLMProblem
from skngd._solvers.linalg import (  # noqa: F401 - solve_spd: public here too
    n_chunks,
    newton_pcg,
    penalty_diag,
    solve_spd,
)
from skngd._solvers.second_order import (
    Direction,
    EquilibratedCholeskySolve,
    SecondOrderSolver,
    StepSearch,
    backtrack,
    converged,
    objective_tol,
)

_SUBSAMPLE_MIN_ROWS = 50_000
#: objective changes below this fraction of the objective are rounding noise
#: for the line search (not a stopping rule)
_ROUNDING = 1e4 * np.finfo(np.float64).eps

class _Workspace:
    """Buffers reused across iterations (no per-iteration n x p allocation):
    means, Fisher weights and scores of the last pass."""

    def __init__(self, problem):
        n, p = problem.X.shape
        dt = problem.y.dtype
        self.mu, self.w, self.u = (np.empty(n, dtype=dt) for _ in range(3))
        if not sp.issparse(problem.X):
            self.block, self.buf = gram_buffer(n, problem.n_coef, dt)

    @property
    def out(self):
        return self.mu, self.w, self.u


@dataclass
class _State:
    """The current iterate: coefficients (None before the first step),
    linear predictor, deviance and penalised objective."""

    coef: object
    eta: np.ndarray
    dev: float
    obj: float


def _objective(dev, coef, problem):
    if problem.ridge_kind != "scalar":
        return 0.5 * dev + problem.penalty(coef)
    pen = coef[: problem.X.shape[1]]
    return 0.5 * dev + 0.5 * problem.l2 * float(pen @ pen)


def _pen_mv(pen, v):
    """The ridge's Hessian times ``v``: ``pen`` is its diagonal (the scalar or a
    diagonal ridge) or the matrix (:meth:`LinearDesign.penalty_operator`)."""
    return pen * v if pen.ndim == 1 else pen @ v


def _pen_mat(pen):
    """The ridge's Hessian as a dense matrix."""
    return np.diag(pen) if pen.ndim == 1 else pen


def _start(problem, ws):
    """Starting linear predictor from mu0 (as statsmodels), or the intercept-
    only model when that is not valid for the link."""
    fam, link = problem.family, problem.link
    with np.errstate(all="ignore"):
        eta = np.asarray(link.link(fam.starting_mu(problem.y, problem.sample_weight)))
    if not np.all(np.isfinite(eta)):
        ybar = np.average(problem.y, weights=problem.sample_weight)
        with np.errstate(all="ignore"):
            eta = np.full_like(problem.y, link.link(ybar))
        if not np.all(np.isfinite(eta)):
            raise ValueError(
                f"IRLS cannot start: the weighted mean of y ({ybar:g}) is outside the domain "
                f"of the {link.name} link, so the maximum-likelihood estimate does not exist "
                "(e.g. all counts are zero under the log link)."
            )
    return np.ascontiguousarray(eta, dtype=problem.y.dtype)


def _decrement_noise(problem, ws, eta):
    r"""Rounding level of the Newton decrement :math:`\Delta^T H \Delta`:
    :math:`(16\epsilon)^2 \sum_i |W_i| (|\eta_i| + |o_i|)^2`."""
    return (16.0 * np.finfo(np.float64).eps) ** 2 * noise_sum(ws.w, eta, problem.offset)


def noise_sum(w, eta, offset, block=8192):
    r""":math:`\sum_i |w_i| (|\eta_i| + |o_i|)^2` in row blocks (small
    temporaries: no n-sized arrays allocated)."""
    total = 0.0
    for a in range(0, len(w), block):
        b = a + block
        e = np.abs(eta[a:b]) + np.abs(offset[a:b])
        total += float(np.dot(np.abs(w[a:b]), e * e))
    return total


def _pass(problem, eta, ws):
    """Means, Fisher weights and scores at ``eta`` into ``ws``; returns the
    weighted deviance (the Numba pass or its NumPy twin)."""
    f, lk = problem.family, problem.link
    if not problem.use_numba:
        ws.mu[:], ws.w[:], ws.u[:], dev = irls_pass_ref(problem.y, eta, problem.sample_weight,
                                                        f, lk)
        return dev
    from skngd._kernels.glm import irls_pass

    return irls_pass(problem.y, eta, problem.sample_weight, f.code, float(f.power), lk.code,
                     float(lk.power), *ws.out)


def _observed(problem, eta, ws):
    """Observed-information weights at the last pass."""
    return observed_weights(problem.family, problem.link, eta, ws.mu, ws.w, ws.u)


def gram_at(problem, coef, observed):
    """Unpenalised Gram matrix at ``coef`` with Fisher (``observed=False``) or
    observed-information weights, and the means there."""
    ws = _Workspace(problem)
    eta = problem.linear_predictor(coef)
    _pass(problem, eta, ws)
    G, _ = problem.gram_score(_observed(problem, eta, ws) if observed else ws.w, None, ws)
    return G, ws.mu


def _subsample_start(problem, tol):
    r"""Coefficients fitted (loosely) on a random tenth of the rows and the
    rescaled Hessian there, or None.

    The full-data iterations then start near the solution: from the
    subsample optimum, at statistical distance :math:`O(m^{-1/2})`, a few
    cheap steps with the subsample's Hessian and one Newton step reach ``tol``
    (instead of the four to eight needed from :math:`\mu_0`), and each
    subsample iteration costs a tenth of a full one.
    """
    n = problem.X.shape[0]
    m = max(n // 10, 20 * problem.n_coef)
    if n < _SUBSAMPLE_MIN_ROWS or m >= n // 2:
        return None
    idx = np.sort(np.random.default_rng(0).choice(n, size=m, replace=False))
    sw = problem.sample_weight[idx]
    X = problem.X[idx]
    sub = GLMProblem(X if sp.issparse(X) else np.ascontiguousarray(X), problem.y[idx], sw,
                     problem.offset[idx], problem.family, problem.link, problem.fit_intercept,
                     problem.l2 * float(sw.sum()) / float(problem.sample_weight.sum()),
                     problem.n_jobs, ridge=problem.ridge_input)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = irls(sub, max_iter=20, tol=max(tol, 1e-6), subsample=False, newton=False)
    except (ValueError, np.linalg.LinAlgError):
        return None
    if res.rank_deficient or not np.all(np.isfinite(res.coef)):
        return None
    scale = float(problem.sample_weight.sum()) / float(sw.sum())
    return res.coef, scale * res.gram + _pen_mat(problem.penalty_operator())


def _gradient(problem, coef, ws):
    """Gradient of the penalised half deviance from the scores of the last
    pass: :math:`-\\tilde X^T u + \\lambda P \\beta`."""
    return -problem.rmatvec(ws.u) + _pen_mv(problem.penalty_operator(), coef)


def _approx_newton(problem, st, hess, tol, ws, history, max_steps=8):
    """Steps with the full gradient and a fixed approximate Hessian (from the
    subsample fit): each costs one fused sweep over dense X (new linear
    predictor, pass and gradient; two passes for CSR) instead of a Gram
    matrix, and contracts the error by the relative Hessian error,
    O((p/m)^{1/2}). Stops when the predicted decrease is below ``tol`` times
    the objective or a step fails to decrease the objective; the exact Newton
    iterations follow. Returns the number of passes over X."""
    try:
        factor = linalg.cho_factor(hess, check_finite=False)
    except linalg.LinAlgError:
        return 0
    n_passes, p = 1, problem.X.shape[1]
    grad = _gradient(problem, st.coef, ws)
    fused = not sp.issparse(problem.X) and problem.use_numba
    if fused:
        from skngd._kernels.glm import dense_step_pass_gradient

        chunks = n_chunks(problem.X.shape[0])
        gpart, dpart = np.empty((chunks, p + 1)), np.empty(chunks)
        eta_buf = np.empty_like(st.eta)
        fam, lk = problem.family, problem.link
    pdiag = problem.penalty_operator()
    for _ in range(max_steps):
        step = -linalg.cho_solve(factor, grad, check_finite=False)
        if converged(0.5 * float(step @ hess @ step), st.obj, tol):
            break
        new = st.coef + step
        n_passes += 1
        if fused:  # new eta, pass and gradient in one sweep over X
            s0 = float(step[p]) if problem.fit_intercept else 0.0
            dense_step_pass_gradient(
                problem.X, st.eta, step[:p], s0, problem.y, problem.sample_weight, fam.code,
                float(fam.power), lk.code, float(lk.power), eta_buf, *ws.out, gpart, dpart)
            new_eta, new_dev = eta_buf, float(dpart.sum())
        else:
            new_eta = problem.linear_predictor(new)
            new_dev = _pass(problem, new_eta, ws)
        new_obj = _objective(new_dev, new, problem)
        if not new_obj <= st.obj:
            _pass(problem, st.eta, ws)  # restore the pass at coef
            break
        if fused:
            eta_buf = st.eta  # the new eta lives in the old buffer; reuse the old eta's array
            grad = gpart.sum(axis=0)[: problem.n_coef] + _pen_mv(pdiag, new)
        else:
            grad = _gradient(problem, new, ws)
            n_passes += 1
        st.coef, st.eta, st.dev, st.obj = new, new_eta, new_dev, new_obj
        history.append(st.obj)
    return n_passes


def _first_step(problem, st, ws, pdiag):
    r"""The IRLS step from the starting means (Fisher weights): solves
    :math:`(\tilde X^T W \tilde X + \lambda P)\beta = \tilde X^T W z`. If
    it lands outside the domain of the means, the iterations start instead
    from the intercept-only model :math:`\beta_0 = g(\bar y)` (valid means),
    from which every step is halved back into the domain."""
    _pass(problem, st.eta, ws)
    with np.errstate(all="ignore"):
        v = ws.w * (st.eta - problem.offset) + ws.u  # W z
    G, rhs = problem.gram_score(ws.w, v, ws)
    new, deficient = solve_spd(G + _pen_mat(pdiag), rhs)
    eta = problem.linear_predictor(new)
    dev = _pass(problem, eta, ws)
    obj = _objective(dev, new, problem)
    if not np.isfinite(obj):
        new = np.zeros(problem.n_coef)
        if problem.fit_intercept:
            ybar = np.average(problem.y, weights=problem.sample_weight)
            with np.errstate(all="ignore"):
                new[-1] = float(problem.link.link(ybar))
        with np.errstate(all="ignore"):
            eta = problem.linear_predictor(new)
        dev = _pass(problem, eta, ws)
        obj = _objective(dev, new, problem)
    if not np.isfinite(obj):
        raise ValueError(
            "IRLS cannot find coefficients with valid means: the first step and the "
            f"intercept-only model give means outside the domain of {problem.family!r} under "
            f"{problem.link!r}; try another link or starting values."
        )
    st.coef, st.eta, st.dev, st.obj = new, eta, dev, obj
    return G, deficient


def _take_step(problem, st, ws, d, d_eta, slack, max_halvings):
    """Move along ``d`` (``d_eta``: its change of the linear predictor, if
    known) by the spine's :func:`~skngd._solvers.second_order.backtrack`,
    halving while the objective increases by more than ``slack`` (``inf``
    for a step whose promised decrease is below the objective's rounding
    level: only valid means are then required). Returns the number of
    halvings, or -1 (iterate unchanged) if no step qualified."""
    new = st.coef + d
    eta1 = problem.linear_predictor(new) if d_eta is None else st.eta + d_eta
    d_eta = eta1 - st.eta if d_eta is None else d_eta

    def no_increase(t):
        coef, eta = (new, eta1) if t == 1.0 else (st.coef + t * d, st.eta + t * d_eta)
        dev = _pass(problem, eta, ws)
        obj = _objective(dev, coef, problem)
        if not (np.isfinite(obj) and obj <= st.obj + slack):
            return None
        change = obj - st.obj
        st.coef, st.eta, st.dev, st.obj = coef, eta, dev, obj
        return StepSearch(t, change)

    step = backtrack(no_increase, 1.0, max_halvings)
    if step.status is StopReason.STEP_FAILED:
        _pass(problem, st.eta, ws)  # restore the pass at coef
        return -1
    return int(round(-np.log2(step.t)))


class ObservedNewtonPCG(EquilibratedCholeskySolve):
    r"""Inner solve for a non-canonical link: the Fisher scoring step
    (equilibrated Cholesky of the Fisher matrix), refined towards the
    observed-information Newton step :math:`-H^{-1}\nabla f` by
    :func:`~skngd._solvers.linalg.newton_pcg` (conjugate gradients
    preconditioned with the Fisher factor, two products with ``X`` per
    refinement, no second Gram matrix)."""

    def __call__(self, M, g, solver):
        fisher = super().__call__(M, g, solver)
        if fisher.deficient:
            return fisher
        st, problem = solver.st, solver.problem
        # forcing term: sqrt(relative decrement) gives quadratic convergence; no
        # tighter than what leaves an error of order tol after this step
        rel = np.sqrt(max(fisher.decrement, 0.0) / max(abs(st.obj), 1e-300))
        forcing = min(0.5, max(rel, 10.0 * solver.rel_tol / rel if rel > 0 else np.inf))
        h = _observed(problem, st.eta, solver.ws)
        d, dt, n_cg = newton_pcg(problem, h, fisher.factor, g, solver.pdiag, forcing)
        return Direction(d, -float(g @ d), dt, f"newton ({n_cg} PCG steps)")


_STOPS = {StopReason.CONVERGED: "tol", StopReason.ROUNDING: "rounding",
          StopReason.STEP_FAILED: "line_search", StopReason.MAX_ITER: "max_iter"}


class GLMNewton(SecondOrderSolver):
    """Newton / IRLS on a :class:`GLMProblem`: the template's steps (see the
    module docstring). ``tol`` is on the objective scale: the stopping rule
    (:func:`~skngd._solvers.second_order.converged`) runs with
    ``rel_tol = objective_tol(tol)``."""

    name = "IRLS"

    def __init__(self, problem, *, tol=1e-8, max_iter=100, verbose=0, max_halvings=40,
                 hess0=None, newton=True):
        super().__init__(tol=tol, max_iter=max_iter, verbose=verbose)
        self.rel_tol = objective_tol(tol)
        self.problem, self.max_halvings, self.hess0 = problem, max_halvings, hess0
        observed = problem.observed and newton
        self.inner = ObservedNewtonPCG() if observed else EquilibratedCholeskySolve()

    # -- setup: buffers and the starting point -------------------------------
    def setup(self, coef0):
        problem = self.problem
        self.ws = ws = _Workspace(problem)
        self.pdiag = problem.penalty_operator()  # diagonal, or the ridge matrix
        self.history, self.n_passes, self.deficient = [], 0, False
        self.G, self.kind = None, "IRLS"
        self.prev_dec, self.prev_trusted, self.dec = np.inf, False, np.nan
        self.st = None
        if coef0 is not None:
            coef = np.asarray(coef0, dtype=np.float64)
            eta = problem.linear_predictor(coef)
            dev = _pass(problem, eta, ws)
            self.n_passes += 1
            self.st = _State(coef, eta, dev, _objective(dev, coef, problem))
            if not np.isfinite(self.st.obj):  # invalid means at the given start: from mu0
                self.st = None
            else:
                self.history.append(self.st.obj)
        if self.st is None:
            self.st = _State(None, _start(problem, ws), np.inf, np.inf)
        elif self.hess0 is not None:
            self.n_passes += _approx_newton(problem, self.st, self.hess0, self.rel_tol, ws,
                                            self.history)

    def at_start(self):
        return self.st.coef is None

    def start_step(self):
        self.n_passes += 2
        self.G, self.deficient = _first_step(self.problem, self.st, self.ws, self.pdiag)
        self.kind = "IRLS from mu0"
        self.history.append(self.st.obj)

    # -- one Newton iteration -----------------------------------------------
    def update_curvature(self):
        """The Fisher Gram matrix (it also serves the covariance) and the
        gradient, from the last pass."""
        self.n_passes += 2
        problem, ws = self.problem, self.ws
        self.G, score = problem.gram_score(ws.w, ws.u, ws)
        self.grad = _pen_mv(self.pdiag, self.st.coef) - score
        self.M = self.G + _pen_mat(self.pdiag)

    def inner_solve(self):
        self.direction = d = self.inner(self.M, self.grad, self)
        self.dec, self.kind, self.deficient = d.decrement, d.kind, d.deficient
        if self.verbose:
            print(f"IRLS iter {self.n_iter}: objective {self.st.obj:.15g}, predicted decrease "
                  f"{0.5 * self.dec:.3g} ({self.kind})")

    def check_convergence(self):
        """Stop at ``tol`` (after taking the tiny last step without a new Gram
        matrix: a Newton step squares the error), or when the gradient is at
        its rounding level (a decrement below its rounding noise, or one that
        stops decreasing where the objective can no longer judge steps)."""
        st, dec = self.st, self.dec
        self.trusted = 0.5 * dec <= _ROUNDING * abs(st.obj)
        if dec <= _decrement_noise(self.problem, self.ws, st.eta):
            return StopReason.ROUNDING
        if converged(0.5 * dec, st.obj, self.rel_tol):
            if self._move(_ROUNDING * abs(st.obj), 0) >= 0:
                self.history.append(st.obj)
            return StopReason.CONVERGED
        if self.trusted and self.prev_trusted and dec >= self.prev_dec:
            return StopReason.ROUNDING
        return None

    def line_search(self):
        """Halve the step while the objective increases (any valid step once
        the promised decrease is below the objective's rounding level)."""
        if self._move(np.inf if self.trusted else 0.0, self.max_halvings) < 0:
            return StopReason.STEP_FAILED
        self.history.append(self.st.obj)
        self.prev_dec, self.prev_trusted = self.dec, self.trusted
        return None

    def _move(self, slack, max_halvings):
        d = self.direction
        return _take_step(self.problem, self.st, self.ws, d.step, d.step_eta, slack,
                          max_halvings)

    def finalize(self, status):
        st = self.st
        return GLMResult(
            coef=st.coef, n_iter=self.n_iter, converged=status.converged,
            history=self.history, n_passes=self.n_passes, status=status,
            deviance=float(st.dev), gram=self.G, mu=self.ws.mu.copy(),
            rank_deficient=bool(self.deficient),
            predicted_decrease=(0.5 * self.dec if st.coef is not None and self.n_iter > 1
                                else np.nan))


def irls(problem, coef0=None, max_iter=100, tol=1e-8, verbose=0, max_halvings=40,
         subsample=True, hess0=None, warn=True, newton=True):
    r"""Fit by Newton / IRLS (:class:`GLMNewton`); returns a
    :class:`~skngd._solvers._result.GLMResult` whose ``coef`` holds the
    feature coefficients followed by the intercept (if fitted).

    For large ``n`` (and no ``coef0``) the fit starts from a subsample fit and
    first takes approximate Newton steps with the subsample's Hessian
    (``hess0``), so usually a single full Gram matrix is formed. With
    ``warn=False`` the caller reports the stop (:func:`warn_stop`);
    ``newton=False`` keeps Fisher scoring for a non-canonical link (a loose
    start needs no quadratic convergence).
    """
    if coef0 is None and subsample:
        start = _subsample_start(problem, tol)
        if start is not None:
            # the subsample coefficients are only a starting point: a failing
            # fit from them falls back to mu0, it does not stop the fit
            try:
                return irls(problem, start[0], max_iter, tol, verbose, max_halvings,
                            subsample=False, hess0=start[1], warn=warn, newton=newton)
            except ValueError:
                pass
    res = GLMNewton(problem, tol=tol, max_iter=max_iter, verbose=verbose,
                    max_halvings=max_halvings, hess0=hess0, newton=newton).solve(coef0)
    if warn:
        warn_stop(res, max_iter, max_halvings)
    return res


def warn_stop(res, max_iter, max_halvings=40):
    """The ``ConvergenceWarning`` for a fit that stopped before ``tol``:
    ``max_iter`` reached, or a step search that found no decrease."""
    if res.status is StopReason.MAX_ITER:
        warn_not_converged("IRLS", max_iter)
    elif res.status is StopReason.STEP_FAILED:
        warn_step_failed("IRLS", res.n_iter, detail=(
            f"No step along the Newton direction ({max_halvings} halvings) decreased the "
            f"objective although a decrease of {res.predicted_decrease:.3g} was predicted. "
            "The maximum-likelihood estimate may not exist (means on the boundary of their "
            "domain) or the problem is badly scaled; set alpha > 0, rescale X or try another "
            "link."))
