r"""Iteratively reweighted least squares (Fisher scoring) for GLMs.

Minimises the penalised half deviance

.. math::

    f(\beta) = \tfrac12 \sum_i s_i\, d(y_i, g^{-1}(x_i^T\beta + o_i))
    + \tfrac{\lambda}{2} \lVert \beta_{\setminus 0} \rVert^2

(the intercept is not penalised). Each iteration solves the weighted least
squares system :math:`(X^T W X + \lambda P)\beta = X^T W z` with the working
weights and response of the fused Numba pass (:func:`skngd._kernels.glm.irls_pass`).
The Gram matrix is accumulated by BLAS over row blocks of
:math:`\sqrt{W} [X, 1, z]` kept in one small reusable buffer (dense ``X``) or by a
sparse product (CSR ``X``), equilibrated to unit diagonal and solved by
Cholesky. A step is halved while the penalised objective increases (needed for
non-canonical links); iteration stops when its relative change is below
``tol``. A numerically singular system (perfectly collinear columns: a column
whose :math:`1 - R^2` on the others is below 1e-11) falls back to the
minimum-norm pseudo-inverse solution and is reported in ``extra``.

Threads: ``n_jobs`` sets both Numba's and the BLAS thread count for the fit
(``None`` means one, scikit-learn's convention). Many short multi-threaded
BLAS calls degrade badly when the cores are shared (spinning worker threads),
so the BLAS pool is never left at its default inside the solver.
"""

from dataclasses import dataclass
import warnings

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from skngd._kernels.glm import csr_weighted_gram, dense_step_pass_gradient, irls_pass
from skngd._solvers._result import SolverResult, warn_not_converged
from skngd.utils._threads import parallel_section

_COLLINEAR_TOL = 1e-11
_SUBSAMPLE_MIN_ROWS = 50_000
_BLOCK_BYTES = 1 << 21  # ~2 MB row blocks: stay in cache


@dataclass
class GLMProblem:
    """Data of one fit. ``X`` is C-contiguous dense or CSR, all of one float
    dtype; ``l2`` is the penalty :math:`\\lambda` on the half-deviance scale
    (``alpha * sum(sample_weight)`` for scikit-learn's scaling)."""

    X: object
    y: np.ndarray
    sample_weight: np.ndarray
    offset: np.ndarray
    family: object
    link: object
    fit_intercept: bool = True
    l2: float = 0.0
    n_jobs: object = None

    @property
    def n_coef(self):
        return self.X.shape[1] + int(self.fit_intercept)

    def linear_predictor(self, coef):
        """eta = X beta (+ intercept, stored last in ``coef``) + offset."""
        p = self.X.shape[1]
        eta = np.asarray(self.X @ coef[:p], dtype=self.y.dtype)
        if self.fit_intercept:
            eta += coef[p]
        eta += self.offset
        return eta


class _Workspace:
    """Buffers reused across iterations (no per-iteration n x p allocation)."""

    def __init__(self, problem):
        n, p = problem.X.shape
        dt = problem.y.dtype
        self.mu, self.w, self.z = (np.empty(n, dtype=dt) for _ in range(3))
        if not sp.issparse(problem.X):
            k = problem.n_coef + 1
            self.block = int(max(64, min(n, _BLOCK_BYTES // (dt.itemsize * k))))
            self.buf = np.empty((self.block, k), dtype=dt)


def weighted_gram(problem, w, z, ws=None):
    """Return ``(X~^T W X~, X~^T W z)`` with ``X~ = [X, 1]`` (ones column only
    if ``fit_intercept``), in float64.

    CSR ``X``: one Numba pass over the rows (cost: sum of squared non-zeros
    per row), chunked over threads. Dense ``X``: row blocks of ``[sqrt(w) X, sqrt(w), sqrt(w) z]`` are written
    into one cache-sized buffer and ``B^T B`` (one BLAS ``gemm`` per block, of
    NumPy's BLAS only, so no second thread pool competes) accumulates the
    Gram matrix and the right-hand side together. Measured on this machine,
    OpenBLAS ``syrk`` was not faster than ``gemm`` for ~50 columns.
    """
    X, p, k = problem.X, problem.X.shape[1], problem.n_coef
    if sp.issparse(X):
        out = np.empty((_n_chunks(X.shape[0]), k, k + 1))
        csr_weighted_gram(X.data, X.indices, X.indptr, w, z, int(problem.fit_intercept), out)
        A = out.sum(axis=0)
        return A[:, :k].copy(), A[:, k].copy()
    ws = _Workspace(problem) if ws is None else ws
    n, buf = X.shape[0], ws.buf
    A = np.zeros((k + 1, k + 1), dtype=np.float64)
    sw = np.sqrt(w)
    for start in range(0, n, ws.block):
        stop = min(n, start + ws.block)
        blk = buf[: stop - start]
        np.multiply(X[start:stop], sw[start:stop, None], out=blk[:, :p])
        if problem.fit_intercept:
            blk[:, p] = sw[start:stop]
        np.multiply(sw[start:stop], z[start:stop], out=blk[:, k])
        A += blk.T @ blk
    return A[:k, :k].copy(), A[:k, k].copy()


def _n_chunks(n):
    import numba

    return int(max(1, min(numba.get_num_threads() * 4, n // 1000)))


def penalty_diag(problem):
    d = np.full(problem.n_coef, problem.l2)
    if problem.fit_intercept:
        d[-1] = 0.0
    return d


def solve_spd(H, b):
    """Solve ``H x = b`` for a symmetric PSD ``H``; returns ``(x, deficient)``.

    Equilibrates to unit diagonal and uses Cholesky; a pivot
    ``1 - R^2 < 1e-11`` (perfect collinearity) switches to ``pinvh``.
    """
    d = np.diag(H).copy()
    if np.all(d > 0) and np.all(np.isfinite(H)):
        s = 1.0 / np.sqrt(d)
        S = H * s[:, None] * s[None, :]
        try:
            L = linalg.cholesky(S, lower=True, check_finite=False)
            if np.min(np.diag(L)) ** 2 > _COLLINEAR_TOL:
                return s * linalg.cho_solve((L, True), s * b, check_finite=False), False
        except linalg.LinAlgError:
            pass
    return linalg.pinvh(H) @ b, True


def _objective(dev, coef, problem):
    pen = coef[: problem.X.shape[1]]
    return 0.5 * dev + 0.5 * problem.l2 * float(pen @ pen)


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


def _pass(problem, eta, out):
    f, lk = problem.family, problem.link
    mu, w, z = out
    return irls_pass(problem.y, eta, problem.offset, problem.sample_weight,
                     f.code, float(f.power), lk.code, float(lk.power), mu, w, z)


def _subsample_start(problem, tol):
    r"""Coefficients fitted (loosely) on a random tenth of the rows, or None.

    The full-data iterations then start near the solution: from the
    subsample optimum, at statistical distance :math:`O(m^{-1/2})`, one or
    two Fisher steps reach ``tol`` (instead of the four to eight needed from
    :math:`\mu_0`), and each subsample iteration costs a tenth of a full one.
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
                     problem.n_jobs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = irls(sub, max_iter=20, tol=max(tol, 1e-6), subsample=False)
    except (ValueError, np.linalg.LinAlgError):
        return None
    if res.extra["rank_deficient"] or not np.all(np.isfinite(res.coef)):
        return None
    scale = float(problem.sample_weight.sum()) / float(sw.sum())
    return res.coef, scale * res.extra["gram"] + np.diag(penalty_diag(problem))


def _gradient(problem, coef, eta, ws):
    """Gradient of the penalised half deviance from the current pass:
    :math:`-\\tilde X^T [W (z - \\eta + o)] + \\lambda P \\beta`."""
    v = ws.w * (ws.z - (eta - problem.offset))
    p = problem.X.shape[1]
    g = np.empty(problem.n_coef)
    g[:p] = -(problem.X.T @ v)
    if problem.fit_intercept:
        g[p] = -v.sum()
    return g + penalty_diag(problem) * coef


def _approx_newton(problem, coef, eta, dev, obj, hess, tol, ws, out, history, max_steps=8):
    """Steps with the full gradient and a fixed approximate Hessian (from the
    subsample fit): each costs one fused sweep over dense X (new linear
    predictor, IRLS pass and gradient; two passes for CSR) instead of a Gram
    matrix, and
    contracts the error by the relative Hessian error, O((p/m)^{1/2}). Stops
    when the predicted decrease is below ``tol`` times the objective or a
    step fails to decrease the objective; the exact iterations follow."""
    try:
        factor = linalg.cho_factor(hess, check_finite=False)
    except linalg.LinAlgError:
        return coef, eta, dev, obj, 0
    n_passes, p = 1, problem.X.shape[1]
    grad = _gradient(problem, coef, eta, ws)
    fused = not sp.issparse(problem.X)
    if fused:
        n_chunks = _n_chunks(problem.X.shape[0])
        gpart, dpart = np.empty((n_chunks, p + 1)), np.empty(n_chunks)
        eta_buf = np.empty_like(eta)
        fam, lk = problem.family, problem.link
    pdiag = penalty_diag(problem)
    for _ in range(max_steps):
        step = -linalg.cho_solve(factor, grad, check_finite=False)
        if 0.5 * float(step @ hess @ step) <= tol * abs(obj):
            break
        new = coef + step
        n_passes += 1
        if fused:  # new eta, pass and gradient in one sweep over X
            s0 = float(step[p]) if problem.fit_intercept else 0.0
            dense_step_pass_gradient(
                problem.X, eta, step[:p], s0, problem.y, problem.offset, problem.sample_weight,
                fam.code, float(fam.power), lk.code, float(lk.power), eta_buf, *out, gpart, dpart)
            new_eta, new_dev = eta_buf, float(dpart.sum())
        else:
            new_eta = problem.linear_predictor(new)
            new_dev = _pass(problem, new_eta, out)
        new_obj = _objective(new_dev, new, problem)
        if not new_obj <= obj:
            _pass(problem, eta, out)  # restore mu, w, z at coef
            break
        if fused:
            eta_buf = eta  # the new eta lives in the old buffer; reuse the old eta's array
            grad = gpart.sum(axis=0)[: problem.n_coef] + pdiag * new
        else:
            grad = _gradient(problem, new, new_eta, ws)
            n_passes += 1
        coef, eta, dev, obj = new, new_eta, new_dev, new_obj
        history.append(obj)
    return coef, eta, dev, obj, n_passes


def irls(problem, coef0=None, max_iter=100, tol=1e-8, verbose=0, max_halvings=40,
         subsample=True, hess0=None):
    r"""Fit by IRLS. Returns a :class:`SolverResult` whose ``coef`` holds the
    feature coefficients followed by the intercept (if fitted); ``extra`` has
    ``deviance``, ``gram`` (unpenalised :math:`X^T W X` at the solution),
    ``mu``, ``working_weights`` and ``rank_deficient``.

    For large ``n`` (and no ``coef0``) the fit starts from a subsample fit and
    first takes approximate Newton steps with the subsample's Hessian
    (``hess0``), so usually a single full Gram matrix is formed.

    Convergence: the decrease of the penalised objective predicted by the next
    Fisher step, :math:`\tfrac12 \Delta^T H \Delta`, is at most ``tol``
    times the objective (that step is then taken without forming a new Gram
    matrix; the last Gram matrix serves the covariance), or a step decreased
    the objective by at most ``tol`` times its value.
    """
    if coef0 is None and subsample:
        start = _subsample_start(problem, tol)
        if start is not None:
            # the subsample coefficients are only a starting point: a failing
            # fit from them falls back to mu0, it does not stop the fit
            try:
                return irls(problem, start[0], max_iter, tol, verbose, max_halvings,
                            subsample=False, hess0=start[1])
            except ValueError:
                pass
    ws = _Workspace(problem)
    pdiag = penalty_diag(problem)
    sumw = float(problem.sample_weight.sum())
    history, n_passes, deficient = [], 0, False
    out = (ws.mu, ws.w, ws.z)
    with parallel_section(problem.n_jobs) as n_threads:
        coef = None
        if coef0 is not None:
            coef = np.asarray(coef0, dtype=np.float64)
            eta = problem.linear_predictor(coef)
            n_passes += 1
            dev = _pass(problem, eta, out)
            obj = _objective(dev, coef, problem)
            if np.isfinite(obj):
                history.append(obj)
            else:  # invalid means at the given start: start from mu0 instead
                coef = None
        if coef is None:
            eta = _start(problem, ws)
            dev = _pass(problem, eta, out)
            obj = np.inf  # mu0 is not attained by any coefficient vector
        elif hess0 is not None:
            coef, eta, dev, obj, k = _approx_newton(problem, coef, eta, dev, obj, hess0, tol, ws,
                                                    out, history)
            n_passes += k
        converged, gram_current, n_iter, G = False, False, 0, None
        for n_iter in range(1, max_iter + 1):
            G, rhs = weighted_gram(problem, ws.w, ws.z, ws)
            n_passes += 2
            H = G + np.diag(pdiag)
            new, deficient = solve_spd(H, rhs)
            if coef is not None:
                step = new - coef
                decrement = 0.5 * float(step @ H @ step)
                if verbose:
                    print(f"IRLS iter {n_iter}: objective {obj:.12g}, predicted decrease {decrement:.3g}")
                if decrement <= tol * abs(obj) or decrement <= 1e-15 * sumw:
                    converged = gram_current = True
                    # take the (tiny) final step without a new Gram matrix: the
                    # coefficients gain a quadratic order of accuracy, while the
                    # Gram matrix at ``coef`` stays O(step) from the one at ``new``
                    new_eta = problem.linear_predictor(new)
                    new_dev = _pass(problem, new_eta, out)
                    new_obj = _objective(new_dev, new, problem)
                    if new_obj <= obj:
                        coef, eta, dev, obj = new, new_eta, new_dev, new_obj
                        history.append(obj)
                    else:
                        dev = _pass(problem, eta, out)
                    break
            new_eta = problem.linear_predictor(new)
            n_passes += 1
            new_dev = _pass(problem, new_eta, out)
            new_obj = _objective(new_dev, new, problem)
            halvings = 0
            while not (np.isfinite(new_obj) and new_obj <= obj * (1 + 1e-12) + 1e-300):
                if coef is None or halvings >= max_halvings:
                    break
                new = 0.5 * (new + coef)
                new_eta = 0.5 * (new_eta + eta)
                new_dev = _pass(problem, new_eta, out)
                new_obj = _objective(new_dev, new, problem)
                halvings += 1
            if not np.isfinite(new_obj):
                raise ValueError(
                    "IRLS cannot find coefficients with valid means: the step gives means "
                    f"outside the domain of {problem.family!r} under {problem.link!r}; "
                    "try another link or starting values."
                )
            change = obj - new_obj
            coef, eta, dev, obj = new, new_eta, new_dev, new_obj
            history.append(obj)
            if change <= tol * abs(obj) or halvings >= max_halvings:
                # the step barely moved the objective although the quadratic
                # model promised more (e.g. a non-canonical link whose Fisher
                # step needed halving): stop, as statsmodels does
                converged = change <= tol * abs(obj)
                break
        if not gram_current:  # the last Gram was built before the last step
            G, _ = weighted_gram(problem, ws.w, ws.z, ws)
            n_passes += 2
        if not converged:
            warn_not_converged("IRLS", max_iter)
    return SolverResult(
        coef=coef, n_iter=n_iter, converged=converged, history=history, n_passes=n_passes,
        extra=dict(deviance=float(dev), gram=G, mu=ws.mu.copy(), working_weights=ws.w.copy(),
                   rank_deficient=bool(deficient)),
    )
