r"""Proximal Newton for L1 / elastic-net linear models (glmnet / glum irls-cd style).

Minimises

.. math::

    F(W) = f(W) + \sum_j \lambda_j |W_j|,

with :math:`f` a :class:`~skngd._loss.linear_loss.LinearModelLoss` (the data
term and its ridge, through the loss's penalty methods only) and
:math:`\lambda` = ``l1`` of the loss's shape (0: unpenalised, e.g. the
intercept row; ``inf``: held at zero). Binary, multinomial (scikit-learn's
symmetric parametrisation, one column per class) and GLM losses; dense or CSR
``X``.

Each outer step, as named steps of :class:`ProxNewton`:

.. code-block:: text

    working_set()       rows with a non-zero or unpenalised coefficient, and the
                        KKT violators among the zero rows (at most
                        max(64, 2 x kept) of them, the largest violations first)
    update_curvature()  H = X~_S^T diag(h) X~_S (+ ridge block): Fisher or observed
                        weights, the multinomial class coupling (Kronecker Gram);
                        one pass over the working-set columns
    inner_solve()       coordinate descent on q(z) = g^T(z-w) + (z-w)^T H (z-w)/2
                        + sum lambda |z| with covariance updates
                        (skngd._kernels.cd), then a direct solve on the active
                        signs (polish); inner tolerance relative to the outer
                        KKT violation, so steps become exact Newton steps
    line_search()       Armijo on F (second_order.backtrack) with the accurate
                        smooth change (loss.value_change) and the exact L1 change

**The stopping rule** (the one definition of ``tol`` here): with :math:`v`
the minimum-norm subgradient of :math:`F` (:math:`\nabla_j f + \lambda_j
\mathrm{sign}(W_j)` at a non-zero :math:`W_j`, the soft-threshold
:math:`\mathrm{sign}(g_j)\max(|g_j| - \lambda_j, 0)` at zero), the relative
KKT violation is :math:`\|v\|_\infty / \sum_i s_i`, the violation of the
mean-scale objective (scikit-learn's ``tol`` scale for ``lbfgs``). Once it is
at most ``tol`` at the current iterate and the decrease the quadratic model
promises for the step from there, :math:`-\Delta` (``line_search``), is at most
``max(tol, 10 eps)**2 * |F|`` (the smooth solvers' rule,
:func:`~skngd._solvers.second_order.gradient_tol`: about ``tol**2`` relative
objective accuracy), that Newton step is still taken (inner tolerance ``tol``-relative, so this last step is exact to
about the square of the violation) and the solver stops: the returned point is
one quadratic step beyond the test. Below the test, ``StopReason.ROUNDING``
ends the fit when the objective change of the step cannot be told from
rounding (the full step is then taken if it lowers the KKT violation); at
``tol=1e-12`` this leaves the objective at rounding accuracy.

Kernels: the coordinate descent runs on Numba from ``NUMBA_MIN_SIZE`` rows of
``X`` (or for working sets over 500 entries), on its NumPy twin below, whatever
the loss's ``kernels`` flag (GLM problems are built with ``kernels=False``).
"""

import numpy as np

from skngd._loss.family import NUMBA_MIN_SIZE
from skngd._solvers._result import ProxNewtonResult, StopReason
from scipy import linalg

from skngd._solvers.second_order import StepSearch, backtrack, converged, gradient_tol

_ARMIJO_C = 1e-4
#: a step whose predicted decrease is below this many rounding levels of its
#: objective change cannot be told from zero (as the smooth solvers)
_SIGNIFICANT = 8.0
#: coordinate-descent sweeps per inner round, and rounds of (sweeps, polish)
_MAX_SWEEPS, _INNER_ROUNDS = 200, 10
#: up to this support (or half working set), a polish after every
#: _POLISH_EVERY sweeps; larger ones after _MAX_SWEEPS
_POLISH_EVERY, _POLISH_OFTEN_MAX = 10, 200
#: largest active set the polish solves directly, and its sign-change moves
_POLISH_MAX, _POLISH_ROUNDS = 1000, 50
#: smallest cap on the violators added to the working set in one step
_MIN_WS = 64
#: an inner violation within this factor of eps |H||z| that stops shrinking is rounding
_ROUNDING_SPAN = 1e4
#: working sets over this many entries use the Numba kernel at any n
_NUMBA_WS = 500
#: penalty Hessians up to this size are formed densely once
_DENSE_PENALTY_MAX = 4000
_EPS = float(np.finfo(np.float64).eps)


def l1_term(l1, W):
    """:math:`\\sum_j \\lambda_j |W_j|` over the non-zero entries (so ``inf * 0 = 0``)."""
    W = np.asarray(W).ravel()
    nz = W != 0
    return float(np.sum(np.asarray(l1).ravel()[nz] * np.abs(W[nz])))


def min_norm_subgradient(g, W, l1):
    """The minimum-norm element of :math:`\\partial F` (same shape as ``W``)."""
    with np.errstate(invalid="ignore"):
        v = np.where(W > 0, g + l1, np.where(W < 0, g - l1, 0.0))
        zero = W == 0
        v[zero] = np.sign(g[zero]) * np.maximum(np.abs(g[zero]) - l1[zero], 0.0)
    return v


def _cd_kernel(use_numba):
    if use_numba:
        from skngd._kernels.cd import cd_gram
        return cd_gram
    from skngd._kernels.cd_ref import cd_gram_ref  # no Numba import for small fits
    return cd_gram_ref


def polish(H, r, z, lam):
    r"""Active-set Newton steps on the signs of ``z`` (entries non-zero or
    unpenalised): solve :math:`H_{AA}\delta = -(r_A + \lambda_A
    \mathrm{sign}(z_A))`, move along :math:`\delta` up to the first
    penalised entry that would change sign, set it to zero, drop it and
    repeat (the model decreases along each move). ``z`` and ``r`` are updated
    in place; returns whether ``z`` moved."""
    moved = False
    A = np.flatnonzero((z != 0) | (lam == 0))
    for _ in range(_POLISH_ROUNDS):
        if A.size == 0 or A.size > _POLISH_MAX:
            return moved
        s = np.sign(z[A])
        pen = lam[A] > 0
        rhs = r[A] + np.where(pen, lam[A] * s, 0.0)
        delta, ray = _polish_direction(H[np.ix_(A, A)], rhs, pen, z[A])
        if not np.all(np.isfinite(delta)):
            return moved
        new = z[A] + delta
        cross = pen & (np.sign(new) != s)
        alpha = 1.0
        if cross.any():
            frac = z[A][cross] / (z[A][cross] - new[cross])
            k = int(np.argmin(frac))
            alpha = float(frac[k])
            hit = A[np.flatnonzero(cross)[k]]
        elif ray:  # no sign change ahead: take the minimum-norm Newton step
            delta, _ = _polish_direction(H[np.ix_(A, A)], rhs, pen, z[A], ray=False)
        step = alpha * delta
        z[A] += step
        r += H[:, A] @ step
        moved = True
        if alpha == 1.0:
            return True
        r -= H[:, hit] * z[hit]
        z[hit] = 0.0
        A = A[A != hit]
    return moved


def _polish_direction(M, rhs, pen, zA, ray=True):
    """``(delta, is_ray)``: the Newton step ``-M^{-1} rhs`` of :func:`polish`,
    or, when ``M`` is singular (more active entries than the data determine,
    e.g. a weakly penalised lasso with p >= n) and ``rhs`` has a part in its
    null space, a ray along minus that part. The model has zero curvature and
    a negative slope there, so it decreases without bound until a penalised
    entry reaches zero: the ray (scaled to cross every entry it heads for)
    drops one entry per round until ``M`` is regular, where the
    pseudo-inverse step alone would stall (it ignores that part)."""
    try:
        c = linalg.cho_factor(M, lower=True, check_finite=False)
        delta = -linalg.cho_solve(c, rhs, check_finite=False)
        if np.all(np.isfinite(delta)):
            return delta, False
    except linalg.LinAlgError:
        pass
    eps = np.finfo(np.result_type(M.dtype, np.float32)).eps  # a float32 H rounds at its eps
    M, rhs = np.asarray(M, dtype=np.float64), np.asarray(rhs, dtype=np.float64)
    ev, Q = linalg.eigh(M, check_finite=False)
    null = ev <= max(ev.max(initial=0.0), 0.0) * M.shape[0] * eps
    coef = Q.T @ rhs
    part = Q[:, null] @ coef[null]
    size = np.linalg.norm(part)
    # a null direction of unpenalised entries only (the multinomial intercepts'
    # common shift) has no penalised entry to drop: no ray along it
    if (ray and size > np.sqrt(eps) * np.linalg.norm(rhs)
            and np.linalg.norm(part[pen]) > 1e-3 * size):
        # entries the ray -part drives towards zero (components above rounding)
        heads = pen & (part * zA > 0) & (np.abs(part) > 1e-6 * size)
        scale = 2.0 * np.max(np.abs(zA[heads] / part[heads]), initial=0.0)
        if heads.any() and np.isfinite(scale):
            return -part * scale, True
    inv = np.where(null, 0.0, 1.0 / np.where(null, 1.0, ev))
    return -(Q @ (inv * coef)), False


def _at_rounding(H, z, viol, prev):
    r"""Whether coordinate descent has stalled at the rounding level of its
    model gradient :math:`r = g + H(z - w)`, about :math:`\epsilon\,|H||z|`
    (kept by updates, so its error grows with the sweeps): a chunk of sweeps
    that did not halve the violation, already within ``_ROUNDING_SPAN`` of that
    level. Near-singular ``H`` with large ``|z|`` (weakly penalised p ~ n
    multinomial fits) otherwise ran the full sweep budget there."""
    if viol < 0.5 * prev:
        return False
    level = _EPS * float(np.max(np.abs(H) @ np.abs(z), initial=0.0))
    return viol <= _ROUNDING_SPAN * level


class GramModel:
    """The quadratic model of one outer step with its Gram matrix ``H`` over
    the working set (covariance updates, :func:`skngd._kernels.cd.cd_gram`):
    dense ``X``, multinomial losses and matrix ridges."""

    #: polish after sweeps that converged (the polish is a cheap dense solve here)
    polish_converged = True

    def __init__(self, H, idx, use_numba):
        self.H, self.idx = np.ascontiguousarray(H), idx
        self.cd = _cd_kernel(use_numba)

    def start(self, w, g):
        self.r = np.array(g, dtype=np.float64)

    def sweeps(self, z, lam, tol, n):
        return self.cd(self.H, self.r, z, lam, tol, n)

    def polish(self, z, lam):
        return polish(self.H, self.r, z, lam)

    def at_rounding(self, z, viol, prev):
        return _at_rounding(self.H, z, viol, prev)

    def image(self, z):
        """``X~ D`` of the step, or None: the line search forms it."""
        return None


class ColumnModel:
    r"""The quadratic model of one outer step on the CSC columns of a sparse
    ``X`` (binary / GLM losses, scalar or diagonal ridge): coordinate descent
    keeps :math:`u = X_S d` instead of a Gram matrix
    (:mod:`skngd._kernels.cd_sparse`); the polish forms the Gram matrix of
    the active entries only, and :meth:`image` hands the line search
    :math:`\tilde X D` from the working-set columns (no pass over ``X``)."""

    #: converged sweeps are final: the polish (a Gram matrix of the active
    #: columns and its factorisation) only runs when the sweeps stall
    polish_converged = False

    def __init__(self, Xs, h, ridge, idx, dtype, use_numba):
        if use_numba:
            from skngd._kernels import cd_sparse as kernels
            cd, grad, weighted = (kernels.cd_csc, kernels.model_gradient,
                                  kernels.weighted_columns)
        else:  # the NumPy twins, in a module that never imports Numba
            from skngd._kernels import cd_sparse_ref as kernels
            cd, grad, weighted = (kernels.cd_csc_ref, kernels.model_gradient_ref,
                                  kernels.weighted_columns_ref)
        self.Xs, self.idx, self.dtype = Xs, idx, dtype
        self.h = np.asarray(h, dtype=np.float64)
        self.mf = Xs.shape[1]
        self.data = np.asarray(Xs.data, dtype=np.float64)
        self.indices = Xs.indices.astype(np.int64)
        self.indptr = Xs.indptr.astype(np.int64)
        self.hdata = np.empty_like(self.data)
        self.c = np.empty(self.mf)
        hdiag = np.empty(idx.size)
        weighted(self.data, self.indices, self.indptr, self.h, self.hdata, self.c, hdiag)
        if idx.size > self.mf:  # the intercept, last
            hdiag[-1] = self.h.sum()
        self.ridge = np.ascontiguousarray(ridge, dtype=np.float64)
        self.hdiag = hdiag + self.ridge
        self.cd, self.grad_kernel = cd, grad

    def start(self, w, g):
        self.w, self.g = w, np.ascontiguousarray(g, dtype=np.float64)
        self.u = np.zeros(self.Xs.shape[0])

    def sweeps(self, z, lam, tol, n):
        return self.cd(self.data, self.hdata, self.indices, self.indptr, self.u, self.g, z,
                       self.w, lam, self.hdiag, self.ridge, self.c, tol, n)

    def refresh(self, z):
        """Recompute ``u = X_S d`` from ``z`` (exact, no accumulated rounding)."""
        d = z[: self.mf] - self.w[: self.mf]
        self.u = np.asarray(self.Xs @ d, dtype=np.float64).ravel()

    def active_gram(self, A):
        """:math:`H_{AA}` over working-set positions ``A`` (sorted)."""
        Af = A[A < self.mf]
        Xa = self.Xs[:, Af]
        Xw = Xa.copy()
        Xw.data = Xw.data * self.h[Xw.indices]
        k = Af.size
        H = np.zeros((A.size, A.size))
        H[:k, :k] = (Xa.T @ Xw).toarray()
        if A.size > k:  # the intercept
            H[:k, k] = H[k, :k] = self.c[Af]
            H[k, k] = self.h.sum()
        H[np.diag_indices(A.size)] += self.ridge[A]
        return H

    def polish(self, z, lam):
        """:func:`polish` on the active entries' Gram matrix; ``u`` follows."""
        A = np.flatnonzero((z != 0) | (lam == 0))
        if A.size == 0 or A.size > _POLISH_MAX:
            return False
        r = np.empty(z.size)
        self.grad_kernel(self.hdata, self.indices, self.indptr, self.u, self.g, z, self.w,
                         self.hdiag, self.ridge, self.c, r)
        zA = z[A].copy()
        moved = polish(self.active_gram(A), r[A], zA, lam[A])
        if moved:
            z[A] = zA
            self.refresh(z)
        return moved

    def at_rounding(self, z, viol, prev):
        """:func:`_at_rounding` with :math:`|H||z|` from the columns."""
        if viol < 0.5 * prev:
            return False
        az = np.abs(z)
        absX = abs(self.Xs)
        q = np.asarray(absX @ az[: self.mf], dtype=np.float64).ravel()
        if self.idx.size > self.mf:
            q += az[-1]
        habs = np.abs(self.h)
        lev = np.asarray(absX.T @ (habs * q)).ravel() + self.ridge[: self.mf] * az[: self.mf]
        if self.idx.size > self.mf:
            lev = np.append(lev, habs @ q + self.ridge[-1] * az[-1])
        level = _EPS * float(np.max(lev, initial=0.0))
        return viol <= _ROUNDING_SPAN * level

    def image(self, z):
        """:math:`\\tilde X D` of the step ``D = z - w`` on the working set, (n, 1)."""
        self.refresh(z)
        U = self.u
        if self.idx.size > self.mf:
            U = U + (z[-1] - self.w[-1])
        return U.astype(self.dtype)[:, None]


class ProxNewton:
    """The proximal Newton loop (module docstring) over a loss; :meth:`solve`."""

    def __init__(self, loss, l1, *, tol, max_iter, verbose, hessian):
        self.loss, self.tol, self.max_iter, self.verbose = loss, tol, max_iter, verbose
        self.l1 = l1
        self.l1flat = l1.ravel()
        self.hessian = hessian
        self.K = loss.n_out
        self.scale = max(float(np.sum(loss.sw, dtype=np.float64)), 1e-300)
        self.n_rows = loss.X.shape[0]
        self.pen_dense = None
        self.step_image = None

    # -- state -----------------------------------------------------------------
    def setup(self, coef0):
        loss = self.loss
        W = (np.zeros(loss.shape) if coef0 is None
             else np.array(coef0, dtype=np.float64).reshape(loss.shape))
        W[np.isinf(self.l1)] = 0.0
        self.st = loss.state(W)
        self.F = self.st.value + l1_term(self.l1, W)
        self.history, self.decs = [self.F], []
        self.measure_kkt()

    def measure_kkt(self):
        """The minimum-norm subgradient at the current iterate and its size."""
        self.v = min_norm_subgradient(self.st.grad, self.st.coef, self.l1)
        self.kkt_abs = float(np.max(np.abs(self.v), initial=0.0))
        self.kkt = self.kkt_abs / self.scale

    # -- the steps ---------------------------------------------------------------
    def working_set(self):
        """Sorted row indices (features, intercept last) of this step's subproblem."""
        W, l1 = self.st.coef, self.l1
        keep = np.any(W != 0, axis=1) | np.any(l1 == 0, axis=1)
        score = np.max(np.abs(self.v), axis=1)
        cand = np.flatnonzero(~keep & (score > 0))
        cap = max(_MIN_WS, 2 * int(keep.sum()))
        if cand.size > cap:
            cand = cand[np.argsort(-score[cand], kind="stable")[:cap]]
        return np.union1d(np.flatnonzero(keep), cand)

    def curvature_model(self, rows):
        """The quadratic model over the working set ``rows``: a
        :class:`ColumnModel` for sparse binary / GLM losses with a scalar or
        diagonal ridge (no Gram matrix is built: its cost, the squared
        non-zeros per row, is spent on sweeps instead, and one kernel family
        compiles), else a :class:`GramModel` over :meth:`update_curvature`."""
        loss = self.loss
        use_numba = self.n_rows >= NUMBA_MIN_SIZE or rows.size * self.K > _NUMBA_WS
        if loss.sparse and not loss.multinomial:
            op = np.asarray(loss.penalty_operator())
            if op.ndim == 1:
                Xs = loss.csc_columns(rows[rows < loss.n_features])
                return ColumnModel(Xs, self.curvature_weights(), op[rows], rows, loss.dtype,
                                   use_numba)
        H, idx = self.update_curvature(rows)
        return GramModel(H, idx, use_numba)

    def curvature_weights(self):
        """The per-sample weights of the binary / GLM curvature (Fisher or observed)."""
        loss, st = self.loss, self.st
        return (loss.hessian_weights(st) if self.hessian == "observed"
                else loss.fisher_weights(st))

    def update_curvature(self, rows):
        """``(H, idx)``: the curvature over the working set (flat C-order
        indices ``idx``), ridge block included."""
        loss, st = self.loss, self.st
        if loss.multinomial:
            sw = np.asarray(loss.sw, dtype=np.float64)
            P = np.asarray(st.curv, dtype=np.float64)
            H = loss.columns_gram(None, rows, V=np.sqrt(sw)[:, None] * P,
                                  D=sw[:, None] * P, sign=-1.0)
        else:
            H = loss.columns_gram(self.curvature_weights(), rows)
        idx = (rows[:, None] * self.K + np.arange(self.K)).ravel()
        H += self.penalty_block(idx)
        return H, idx

    def penalty_block(self, idx):
        """Rows / columns ``idx`` of the ridge's Hessian (``loss.penalty_hessian``
        for small problems, else columns from ``loss.penalty_matvec``)."""
        p = self.l1flat.size
        op = np.asarray(self.loss.penalty_operator())
        if op.ndim == 1:  # scalar or diagonal ridge: its diagonal, no products
            return np.diag(np.repeat(op, self.K)[idx])
        if self.K == 1:
            return op[np.ix_(idx, idx)]
        if p <= _DENSE_PENALTY_MAX:
            if self.pen_dense is None:
                self.pen_dense = self.loss.penalty_hessian()
            return self.pen_dense[np.ix_(idx, idx)]
        out = np.empty((idx.size, idx.size))
        E = np.zeros(p)
        for c, j in enumerate(idx):
            E[j] = 1.0
            out[:, c] = np.asarray(self.loss.penalty_matvec(E.reshape(self.loss.shape))).ravel()[idx]
            E[j] = 0.0
        return out

    def inner_solve(self, model):
        """Minimise the quadratic ``model`` over its working set: coordinate
        descent to a tolerance of ``kkt_abs * min(0.1, kkt)`` (floored at
        rounding), alternating with the model's :func:`polish`. Returns the
        model's minimiser ``z`` on ``model.idx``."""
        idx = model.idx
        w = self.st.coef.ravel()[idx]
        g = np.array(self.st.grad.ravel()[idx], dtype=np.float64)
        lam = np.ascontiguousarray(self.l1flat[idx])
        z = w.copy()
        fin = lam[np.isfinite(lam)]
        floor = 16 * _EPS * (float(np.max(np.abs(g), initial=0.0))
                             + float(np.max(fin, initial=0.0)))
        tol_in = max(self.kkt_abs * min(0.1, self.kkt), floor)
        model.start(w, g)
        # small supports: polish every few sweeps (CD alone converges slowly
        # on correlated columns; the polish is exact once the signs are right)
        support = int(np.count_nonzero((z != 0) | (lam == 0)))
        chunk = _POLISH_EVERY if max(support, idx.size // 2) <= _POLISH_OFTEN_MAX else _MAX_SWEEPS
        used, prev = 0, np.inf
        while used < _MAX_SWEEPS * _INNER_ROUNDS:
            sweeps, viol = model.sweeps(z, lam, tol_in, chunk)
            used += sweeps
            if viol <= tol_in and (sweeps == 1 or not model.polish_converged):
                break
            if not model.polish(z, lam) and viol <= tol_in:
                break
            if model.at_rounding(z, viol, prev):
                break
            prev = viol
        self.sweeps_used = used
        return z

    def step_setup(self, z, idx):
        r"""The step ``D = z - w`` on the working set and the model's
        :math:`\Delta` (``line_search``): ``(w, d, lam, D, now, delta, early)``
        with ``early`` the search's result when no search is needed (a
        non-finite or non-negative :math:`\Delta`), else None."""
        st = self.st
        w = st.coef.ravel()[idx]
        d, lam = z - w, self.l1flat[idx]
        D = np.zeros(self.l1flat.size)
        D[idx] = d
        D = D.reshape(self.loss.shape)
        now = l1_term(lam, w)
        delta = float(st.grad.ravel()[idx] @ d) + l1_term(lam, z) - now
        early = None
        if not np.isfinite(delta):
            early = StepSearch(0.0, 0.0, StopReason.STEP_FAILED), D, None, delta
        elif not delta < 0:
            early = StepSearch(0.0, 0.0, StopReason.ROUNDING), D, None, delta
        return w, d, lam, D, now, delta, early

    def line_search(self, z, idx):
        """Armijo backtracking on ``F`` along ``D = z - w``
        (:func:`~skngd._solvers.second_order.backtrack`): accept ``t`` with
        :math:`F(W + tD) - F(W) \\le c\\, t\\, \\Delta`, :math:`\\Delta =
        g^T D + \\lambda(|W + D| - |W|)` (Tseng and Yun), and a strict
        decrease; ``ROUNDING`` once :math:`-t\\Delta` is within a few rounding
        levels of the change."""
        loss, st = self.loss, self.st
        w, d, lam, D, now, delta, early = self.step_setup(z, idx)
        if early is not None:
            return early
        U = self.step_image  # from the working-set columns, or one pass over X
        if U is None:
            U = loss.matmul(D)

        def armijo(t):
            smooth, noise = loss.value_change(st, D, U, t)
            at = l1_term(lam, z if t == 1.0 else w + t * d)
            change = smooth + at - now
            noise += _EPS * (now + at)
            if not -t * delta > _SIGNIFICANT * noise:
                return StepSearch(0.0, 0.0, StopReason.ROUNDING)
            if change <= _ARMIJO_C * t * delta and change < 0:
                return StepSearch(t, change)
            return None

        return backtrack(armijo), D, U, delta

    def advance(self, t, change, D, U, z, idx):
        """Move to ``W + t D`` (exactly ``z`` on the working set at ``t = 1``)
        with one pass; the recorded objective stays monotone."""
        loss, st = self.loss, self.st
        coef = st.coef + t * D
        if t == 1.0:
            coef.ravel()[idx] = z
        if U is None:
            U = loss.matmul(D)
        new = loss.state(coef, raw=st.raw + U * np.asarray(t, dtype=U.dtype))
        F = new.value + l1_term(self.l1, coef)
        if not F <= self.F:
            F = self.F + min(change, 0.0)
        self.st, self.F = new, F
        self.history.append(F)
        self.measure_kkt()

    def rounding_step(self, D, U, z, idx):
        """At rounding level: take the full step if it lowers the KKT
        violation (the objective change is then not resolvable); returns
        whether it was taken."""
        old = (self.st, self.F, self.kkt_abs, self.kkt, self.v, list(self.history))
        self.advance(1.0, 0.0, D, U, z, idx)
        if self.kkt_abs < old[2]:
            return True
        self.st, self.F, self.kkt_abs, self.kkt, self.v, self.history = old
        return False

    def converged_here(self, decrement):
        """The stopping rule at the current iterate (module docstring): KKT
        violation and the model's promised decrease both small."""
        return self.kkt <= self.tol and converged(
            decrement, self.F, gradient_tol(self.tol, self.loss.dtype))

    # -- the loop ------------------------------------------------------------------
    def solve(self, coef0=None):
        self.setup(coef0)
        status, n_iter = StopReason.MAX_ITER, 0
        for it in range(1, self.max_iter + 1):
            if self.kkt_abs == 0.0:
                status = StopReason.CONVERGED
                break
            model = self.curvature_model(self.working_set())
            z, idx = self.inner_solve(model), model.idx
            self.step_image = model.image(z)
            step, D, U, delta = self.line_search(z, idx)
            self.decs.append(-delta)
            final = self.converged_here(-delta)  # take this last step, then stop
            if step.status is not None:
                status = step.status
                if status is StopReason.ROUNDING and self.rounding_step(D, U, z, idx):
                    n_iter = it
                break
            self.advance(step.t, step.change, D, U, z, idx)
            n_iter = it
            if self.verbose:
                print(f"[prox-newton] iter {it}: objective {self.F:.12g} step {step.t:.3g} "
                      f"kkt {self.kkt:.3e} working set {idx.size} ({type(model).__name__}, "
                      f"{self.sweeps_used} sweeps)")
            if final:
                status = StopReason.CONVERGED
                break
        return self.finalize(status, n_iter)

    def finalize(self, status, n_iter):
        st, loss = self.st, self.loss
        return ProxNewtonResult(
            st.coef, n_iter, status.converged, self.history, loss.n_passes, status=status,
            objective=self.F, kkt=self.kkt, n_active=int(np.count_nonzero(st.coef)),
            grad=st.grad, decrement=self.decs[-1] if self.decs else np.nan,
            decrements=self.decs, gram_rows=loss.gram_rows)


def _check_l1(loss, l1):
    try:
        l1 = np.array(np.broadcast_to(np.asarray(l1, dtype=np.float64), loss.shape))
    except ValueError:
        raise ValueError(f"l1 must have the loss's shape {loss.shape} (or broadcast to "
                         f"it); got shape {np.shape(l1)}.") from None
    if np.any(np.isnan(l1)) or np.any(l1 < 0):
        raise ValueError("l1 must be non-negative (0: unpenalised, inf: held at zero); "
                         "got negative or NaN entries.")
    return l1


def prox_newton(loss, coef0=None, *, l1, tol=1e-4, max_iter=100, verbose=0,
                hessian="fisher"):
    r"""Minimise :math:`f(W) + \sum_j \lambda_j |W_j|` by proximal Newton.

    Parameters
    ----------
    loss : LinearModelLoss
        The smooth part :math:`f` (data term and ridge), e.g. a GLM problem.
    coef0 : ndarray of shape ``loss.shape`` or None
        Start (zeros by default).
    l1 : array-like broadcastable to ``loss.shape``, >= 0
        :math:`\lambda` per coefficient (0 unpenalised, ``inf`` held at zero).
    tol : float >= 0
        Relative KKT violation to reach (module docstring, "the stopping rule").
    max_iter : int >= 1
        Outer (Newton) steps.
    verbose : int
        Print one line per step when positive.
    hessian : {'fisher', 'observed'}
        Curvature of the quadratic model: the Fisher information, or the
        observed Hessian (GLMs with a non-canonical link).

    Returns
    -------
    ProxNewtonResult
    """
    if hessian not in ("fisher", "observed"):
        raise ValueError(f"hessian must be 'fisher' or 'observed'; got {hessian!r}.")
    if not (np.isscalar(tol) and tol >= 0):
        raise ValueError(f"tol must be a non-negative number; got {tol!r}.")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be >= 1; got {max_iter!r}.")
    l1 = _check_l1(loss, l1)
    solver = ProxNewton(loss, l1, tol=float(tol), max_iter=int(max_iter), verbose=verbose,
                        hessian=hessian)
    return solver.solve(coef0)


def l1_max(loss, l1_pattern):
    r"""The smallest :math:`s` such that with ``l1 = s * l1_pattern`` every
    penalised coefficient (pattern > 0) is zero at the optimum.

    Fits the unpenalised coefficients (pattern 0) with the penalised ones held
    at zero, then :math:`s = \max_j |\nabla_j f| / \text{pattern}_j` over the
    penalised entries (the KKT condition at zero). ``0.0`` when nothing is
    penalised.
    """
    pat = _check_l1(loss, l1_pattern)
    if not np.all(np.isfinite(pat)):
        raise ValueError("l1_pattern must be finite.")
    pen = pat > 0
    if not pen.any():
        return 0.0
    res = prox_newton(loss, None, l1=np.where(pen, np.inf, 0.0), tol=1e-12, max_iter=100)
    return float(np.max(np.abs(res.grad[pen]) / pat[pen]))


__all__ = ["ProxNewton", "l1_max", "l1_term", "min_norm_subgradient", "polish",
           "prox_newton"]
