r"""The linear-model loss over a chunked (Dask) design matrix.

:class:`DaskLinearModelLoss` has the interface of
:class:`~skngd._loss.linear_loss.LinearModelLoss` that the logistic solvers
use (``state``, ``value_change``, ``matmul`` / ``rmatmul`` of Fisher
products, ``fisher_matrix``, ``gram``, the penalty methods), so
:func:`~skngd._solvers.newton.newton`, :func:`~skngd._solvers.ngd.ngd` and
:func:`~skngd._solvers.mm.mm` run on it unchanged. Each chunk of rows is an
in-memory ``LinearModelLoss`` (penalty-free) on a worker; every quantity the
solvers need is a sum over chunks (:class:`~skngd._dask._chunks.Chunks`).

No n-sized array ever reaches the client. A linear predictor is linear in
the coefficients, so :meth:`matmul` returns a *handle* :class:`Lin` holding
``V`` (``X~ V`` is recomputed per chunk when needed) and the solvers'
``raw + t U`` updates act on the coefficients; a Fisher product
``X~^T [H o (X~ V)]`` is one pass (:meth:`rmatmul` of a :class:`FisherApplied`).
Passes are fused: the step search's pass at ``W + t D`` also returns the
value, gradient (and, for Newton, the Fisher matrix) there, kept for the
``state`` call that follows an accepted step. Newton and MM then make one
pass per iteration (plus one per rejected trial step), NGD one per CG
iteration plus one.
"""

import numpy as np

from skngd._loss.family import Multinomial
from skngd._loss.linear_loss import LinearModelLoss, PointState
from skngd._solvers.ngd import _BlockFisher, _DiagFisher, _weighted_sq_colsum


class Lin:
    """``X~ V`` (+ the offset when ``offset``), never formed on the client."""

    def __init__(self, V, dtype, offset=False):
        self.V, self.dtype, self.offset = np.asarray(V, dtype=np.float64), dtype, offset

    def __add__(self, other):
        return Lin(self.V + other.V, self.dtype, self.offset or other.offset)

    def __mul__(self, t):
        return Lin(self.V * float(t), self.dtype, self.offset)

    __rmul__ = __mul__


class FisherApplied:
    """The per-sample Fisher blocks at ``coef`` applied to ``X~ V``."""

    def __init__(self, coef, V, kind):
        self.coef, self.V, self.kind = coef, V, kind


class _Weights:
    """The sample weights of a Dask fit as the solvers read them: their total
    and, for a row subsample, the gathered rows."""

    def __init__(self, total, loss):
        self.total, self.loss = float(total), loss

    def astype(self, dtype):
        return self

    def sum(self):
        return self.total

    def __getitem__(self, rows):
        return self.loss.subsample(rows).sw


class _Shape:
    def __init__(self, shape):
        self.shape = shape


# -- per-chunk functions (run on the workers) -----------------------------
_KEEP = 2  # per-sample states kept per chunk: the current point and one trial


def _chunk_state(c, coef, raw=None):
    """The chunk's per-sample state at ``coef`` (value and gradient not
    summed): one of the last states kept on the chunk (the step search's
    ``raw + t U``, as the in-memory solvers carry it) or, from ``raw`` or
    one product with the chunk's rows, a new one, kept."""
    key = coef.tobytes()
    kept = c.__dict__.setdefault("_kept", {})
    st = kept.get(key)
    if st is not None:
        return st
    if raw is None and not np.any(coef) and _binary_logit(c):
        return _keep(c, _logit_zero_state(c, coef))
    if raw is None:
        raw = c.raw_prediction(coef)
    lo, g, cu = c.per_sample(raw)
    st = PointState(coef, raw, lo, g, cu, float(np.sum(lo, dtype=np.float64)), None)
    return _keep(c, st)


def _binary_logit(c):
    from skngd._loss import link as _link

    return (not c.multinomial and c.dtype == np.float64 and c.offset is None
            and getattr(c.link, "code", None) == _link.LOGIT)


def _logit_zero_state(c, coef):
    r"""The per-sample state of a binary logit chunk at ``W = 0`` (every
    probability 1/2, so no pass over ``X`` and no exponential), as
    ``per_sample`` gives it, with the ``z`` :math:`= e^{-|\eta|} = 1` of a
    fused step's state."""
    sw = np.asarray(c.sw, dtype=np.float64)
    n = sw.shape[0]
    lo = sw * np.log(2.0)
    st = PointState(coef, np.zeros((n, 1)), lo, (sw * (0.5 - c.y))[:, None],
                    (0.25 * sw)[:, None], float(np.sum(lo, dtype=np.float64)), None)
    st.z = np.ones(n)
    return st


def _recycled(c, st):
    """The per-sample arrays of a kept fused-pass state other than ``st``,
    dropped from the chunk for the next state to be written into (no fresh
    pages per pass), or None (the current point ``st`` is always kept)."""
    kept = c.__dict__.setdefault("_kept", {})
    if len(kept) < _KEEP:
        return None
    for key, old in list(kept.items()):
        if old is not st and getattr(old, "arrays", None) is not None:
            del kept[key]
            return old.arrays
    return None


def _keep(c, st):
    """Keep ``st`` on the chunk (the last ``_KEEP`` states)."""
    kept = c.__dict__.setdefault("_kept", {})
    if len(kept) >= _KEEP:
        kept.pop(next(iter(kept)))
    kept[st.coef.tobytes()] = st
    return st


def _grad_fisher(c, st, fisher):
    """The chunk's gradient and (``fisher``: its kind) Fisher matrix at
    ``st``: for the binary loss one fused sweep (the gradient is the extra
    column of the Gram matrix's BLAS product), else a product with the rows
    and the Fisher matrix."""
    if fisher and not c.multinomial and c.dtype == np.float64:
        F, g = c.weighted_gram(np.asarray(c.fisher_weights(st, fisher), dtype=np.float64),
                               np.asarray(st.grad_raw[:, 0], dtype=np.float64))
        return g[:, None], F
    grad = c.rmatmul(st.grad_raw)
    return grad, (c.fisher_matrix(st, fisher) if fisher else None)


def _c_state(c, coef, fisher):
    st = _chunk_state(c, coef)
    grad, F = _grad_fisher(c, st, fisher)
    return [st.value, grad, F]


def _c_change(c, coef, D, t, kind, fisher_rows=1):
    r"""The step to ``coef + t D``: loss change and its rounding level, value,
    gradient, (``kind`` given and ``fisher_rows``) the Fisher matrix of that
    kind there and :math:`\max_i |t\,\tilde x_i^T D|`; the exact kind takes
    the one-sweep path where it applies. ``fisher_rows``: 0 for no Fisher
    matrix, 1 for all rows', ``s > 1`` for that of every ``s``-th row times
    ``s`` on the one-sweep path (all rows' elsewhere)."""
    fisher = kind if fisher_rows else None
    st = _chunk_state(c, coef)
    fused = None
    if kind == "exact":
        fused = c.fused_step(st, D, t, out=_recycled(c, st), fisher=bool(fisher_rows),
                             stride=max(1, int(fisher_rows)))
    if fused is not None:  # binary, dense float64: one sweep over the chunk
        d, noise, new, F = fused
        _keep(c, new)
        return [d, noise, new.value, new.grad, F, new.step_max]
    U = c.matmul(D)
    d, noise = c.value_change(st, D, U, t)
    new = _chunk_state(c, coef + t * D, raw=st.raw + U * np.asarray(t, dtype=U.dtype))
    grad, F = _grad_fisher(c, new, fisher)
    return [d, noise, new.value, grad, F, abs(float(t)) * float(np.max(np.abs(U), initial=0.0))]


def _add_max_last(parts):
    """:func:`~skngd._dask._chunks._add` of all but the last entries, the
    maximum of the last."""
    from skngd._dask._chunks import _add

    return _add([p[:-1] for p in parts]) + [max(p[-1] for p in parts)]


def _meets(r, rho, steps, loss):
    """Whether ``steps`` more Newton steps from relative decrement ``r``
    (:meth:`DaskLinearModelLoss._forecast`) likely meet the fit's stopping
    rule (relative decrement ``loss.rel_tol``), with a factor 2 to spare."""
    rel = getattr(loss, "rel_tol", None)
    if rel is None:
        return False
    for _ in range(steps - 1):
        r = rho * r * r
    return 2.0 * rho * r * r <= rel


def _c_fisher(c, coef, kind):
    return [c.fisher_matrix(_chunk_state(c, coef), kind)]


def _c_fisher_product(c, coef, V, kind):
    st = _chunk_state(c, coef)
    return [c.rmatmul(c.raw_fisher(st, c.matmul(V), kind))]


def _c_gram_sw(c):
    return [c.gram(c.sw)]


def _c_diag(c, coef, kind):
    st = _chunk_state(c, coef)
    if c.multinomial:
        H = (c.sw[:, None] * st.curv * (1 - st.curv) if kind == "exact"
             else np.divide(st.grad_raw ** 2, c.sw[:, None], out=np.zeros_like(st.grad_raw),
                            where=c.sw[:, None] > 0))
    else:
        H = c.fisher_weights(st, kind)[:, None]
    return [_weighted_sq_colsum(c, H)]


def _c_block(c, coef, kind):
    st = _chunk_state(c, coef)
    if kind == "exact":
        H = c.sw[:, None] * st.curv * (1 - st.curv)
    else:
        g = st.grad_raw
        H = np.divide(g * g, c.sw[:, None], out=np.zeros_like(g), where=c.sw[:, None] > 0)
    return [np.stack([c.gram(H[:, k]) for k in range(c.n_out)])]


_SUB_FISHER_STRIDE = 4  # Newton's early Fisher matrices: every 4th row ...
_SUB_FISHER_ROWS = 2000  # ... when that leaves this many rows per coefficient


def fisher_stride(n_samples, n_dof):
    r"""The row stride of the Fisher matrices of a Dask Newton fit's early
    steps (1: all rows). Every 4th row (times 4) estimates the Fisher matrix
    to about :math:`\sqrt{k/m}` relative (2 % with at least 2000 rows per
    coefficient), which changes the step's direction by as much and the
    decrease it makes by about its square, while its Gram product costs a
    quarter; the steps that certify convergence use all rows."""
    if n_samples // _SUB_FISHER_STRIDE >= _SUB_FISHER_ROWS * n_dof:
        return _SUB_FISHER_STRIDE
    return 1


class ZeroState:
    r"""What the first pass of a logistic fit (classes, weights) also knows:
    the value, gradient and Fisher matrix at ``W = 0``, where every
    probability is :math:`1/K`.

    From ``C`` (``(n_dof, K)``: :math:`\tilde X^T (s \circ [y = k])` per
    class), the weighted Gram matrix ``G`` (:math:`\tilde X^T \mathrm{diag}(s)
    \tilde X`) and the weight total ``total``: :math:`f(0) = \log K \sum_i s_i`,
    gradient column :math:`k` :math:`\tfrac1K \sum_l C_l - C_k`, exact Fisher
    matrix :math:`G \otimes (I/K - 11^T/K^2)` (binary: :math:`G/4`, also the
    empirical one). ``G`` may be None (then no Fisher matrix); ``exact``:
    whether it is all rows' (else a row subsample's, for Newton's first
    step only).
    """

    def __init__(self, C, G, total, multinomial, exact=True):
        self.C, self.G, self.total, self.multinomial = C, G, float(total), multinomial
        self.exact = exact

    def value_grad(self):
        K = self.C.shape[1]
        grad = self.C.sum(axis=1, keepdims=True) / K - self.C
        if not self.multinomial:
            grad = grad[:, 1:]
        return np.log(K) * self.total, grad

    def fisher(self, kind):
        if self.G is None or (self.multinomial and kind != "exact"):
            return None
        if not self.multinomial:
            return 0.25 * self.G
        K = self.C.shape[1]
        return np.kron(self.G, np.eye(K) / K - 1.0 / K ** 2)


class DaskLinearModelLoss(LinearModelLoss):
    """A :class:`LinearModelLoss` whose rows live in chunks on Dask workers.

    ``chunks`` is a :class:`~skngd._dask._chunks.Chunks` of penalty-free
    chunk losses; ``sub`` builds the in-memory loss of a row subsample (the
    NGD preconditioner's rows, gathered once); ``prefetch`` is the Fisher
    kind the fused passes also return (Newton), or None.
    """

    def __init__(self, chunks, *, family, n_samples, n_features, dtype, sw_total,
                 fit_intercept, l2, sparse, offset, sub, prefetch=None):
        self.chunks, self.family, self.link = chunks, family, family.default_link()
        self.multinomial = isinstance(family, Multinomial)
        self.n_out = family.n_classes if self.multinomial else 1
        self.dtype, self.sparse = np.dtype(dtype), bool(sparse)
        self.X = _Shape((n_samples, n_features))
        self.offset = offset
        self.fit_intercept = bool(fit_intercept)
        self.n_features, self.n_dof = n_features, n_features + int(fit_intercept)
        self.l2 = float(l2)
        self.penalty_mask = np.ones(self.n_dof)
        if self.fit_intercept:
            self.penalty_mask[-1] = 0.0
        self.ridge, self.ridge_kind, self._ridge_null = None, "scalar", None  # scalar ridge only
        self.sw = _Weights(sw_total, self)
        self.gram_rows = 0
        self._sub_fn, self._subs = sub, {}
        self.prefetch = prefetch
        self._cache, self._exact = {}, True
        self.zero = None  # a ZeroState from the first pass, if known
        self.fisher_stride = 1  # Newton's early steps: fisher_stride() (set by the fit)

    # -- bookkeeping ----------------------------------------------------------
    @property
    def n_passes(self):
        return self.chunks.n_passes

    @n_passes.setter
    def n_passes(self, value):
        pass

    @property
    def uses_numba(self):
        return False  # the chunks' kernels run on the workers

    def subsample(self, rows):
        """The in-memory loss (with this loss's penalty) of the rows ``rows``."""
        key = rows.tobytes()
        if key not in self._subs:
            self._subs = {key: self._sub_fn(rows, self.l2)}
        return self._subs[key]

    def cached(self, coef):
        """``(state, Fisher matrix or None)`` known at ``coef`` without a
        pass (the last pass's point, or ``W = 0`` from :attr:`zero`)."""
        hit = self._cache.get(coef.tobytes())
        if hit is None and self.zero is not None and not np.any(coef):
            value, grad = self.zero.value_grad()
            self._point(coef, value, grad, self.zero.fisher(self.prefetch), self.zero.exact)
            hit = self._cache[coef.tobytes()]
        return hit

    def _point(self, coef, value, grad, F, exact=True):
        st = PointState(coef, Lin(coef, self.dtype, True), None, None, None,
                        float(value) + self.penalty(coef), grad + self.penalty_matvec(coef))
        self._cache = {coef.tobytes(): (st, F)}
        self._exact = exact  # whether F is all rows' (else a row subsample's)
        return st

    # -- the loss -------------------------------------------------------------
    def state(self, coef, raw=None):
        coef = np.asarray(coef, dtype=np.float64).reshape(self.shape)
        hit = self.cached(coef)
        if hit is not None:
            return hit[0]
        value, grad, F = self.chunks.map_sum(_c_state, coef, self.prefetch)
        return self._point(coef, value, grad, F)

    def value(self, coef):
        return self.state(coef).value

    def raw_prediction(self, coef):
        return Lin(coef, self.dtype, True)

    def matmul(self, V):
        return Lin(np.asarray(V).reshape(self.n_dof, -1), self.dtype)

    def raw_fisher(self, st, U, kind="exact"):
        return FisherApplied(st.coef, U.V, kind)

    def rmatmul(self, R):
        if not isinstance(R, FisherApplied):
            raise TypeError("DaskLinearModelLoss.rmatmul takes Fisher products only")
        return self.chunks.map_sum(_c_fisher_product, R.coef, R.V, R.kind)[0]

    def value_change(self, st, D, U, t=1.0):
        D = np.asarray(D, dtype=np.float64).reshape(self.shape)
        hit = self._cache.get(st.coef.tobytes())
        F_here = None if hit is None else hit[1]
        fused = self.prefetch == "exact" and F_here is not None
        r, rho = self._forecast(st, D) if fused else (np.inf, 4.0)
        # the next point likely meets tol: certified without its Fisher matrix
        skip = fused and self._exact and _meets(r, rho, 1, self)
        # the step after likely the last: all rows' Fisher matrix (it certifies
        # that step), else a row subsample's (the direction only)
        rows = 0 if skip else 1 if _meets(r, rho, 2, self) else self.fisher_stride
        d, noise, value, grad, F, M = self.chunks.map_sum(
            _c_change, st.coef, D, t, self.prefetch, rows, combine=_add_max_last)
        a = t * float(np.sum(st.coef * self.penalty_matvec(D)))
        b = 0.5 * t * t * float(np.sum(D * self.penalty_matvec(D)))
        self._point(st.coef + t * D, value, grad, F, rows <= 1)  # the state after this step
        self._bound = (F_here, M) if skip else None
        eps = float(np.finfo(self.dtype).eps)
        return d + a + b, noise + eps * (abs(a) + b)

    # -- the last step's convergence, certified without the Fisher matrix ------
    def _forecast(self, st, D):
        r"""``(r, rho)`` of the Newton step ``D`` from ``st``: the decrement's
        relative size :math:`r_k`, which squares under Newton's method,
        :math:`r_{k+1} \approx \rho\, r_k^2`, with :math:`\rho` measured on
        the last two steps (4 before that); see :func:`_meets`."""
        r = 0.5 * max(-float(np.sum(st.grad * D)), 0.0) / max(abs(st.value), 1e-12)
        key, prev = st.coef.tobytes(), getattr(self, "_last_dec", None)  # (point, r)
        new_point = prev is None or prev[0] != key
        rho = max(r / prev[1] ** 2, 1e-3) if new_point and prev is not None and prev[1] > 0 \
            else 4.0
        if new_point:
            self._last_dec = (key, r)
        return r, rho

    def decrement_bound(self, st):
        r"""An upper bound of the Newton decrement :math:`g^T H^{-1} g` at
        ``st`` when its Fisher matrix was skipped, else None: the Fisher
        weights :math:`s\,\sigma'(\eta)` change by at most a factor
        :math:`e^{\pm M}` over a step that moves every :math:`|\eta_i|` by
        at most ``M`` (:math:`|(\log\sigma')'| \le 1`), so
        :math:`H \succeq e^{-M} H_{\mathrm{prev}}` and the decrement is at
        most :math:`e^{M} g^T H_{\mathrm{prev}}^{-1} g` (the penalty is
        unchanged)."""
        bound = getattr(self, "_bound", None)
        if bound is None or np.asarray(st.coef).tobytes() not in self._cache:
            return None  # no skipped Fisher matrix, or not at the point it was skipped
        from scipy import linalg

        F_prev, M = bound
        g = np.asarray(st.grad, dtype=np.float64).ravel()
        try:
            c = linalg.cho_factor(F_prev + self.penalty_hessian(), check_finite=True)
        except (linalg.LinAlgError, ValueError):
            return None
        return float(np.exp(M) * (g @ linalg.cho_solve(c, g)))

    def fisher_matrix(self, st, kind="exact", rows=None, scale=1.0):
        if rows is not None:
            sub = self.subsample(rows)
            return sub.fisher_matrix(sub.state(st.coef), kind, scale=scale)
        hit = self.cached(np.asarray(st.coef, dtype=np.float64).reshape(self.shape))
        if hit is not None and hit[1] is not None and kind == self.prefetch:
            F = hit[1]
        else:
            F = self.chunks.map_sum(_c_fisher, st.coef, kind)[0]
        return scale * F + self.penalty_hessian()

    def hessian_matrix(self, st):
        return self.fisher_matrix(st)  # logistic links are canonical

    def gram(self, weights, rows=None):
        if weights is not self.sw or rows is not None:
            raise TypeError("DaskLinearModelLoss.gram takes the sample weights only")
        if self.zero is not None and self.zero.G is not None and self.zero.exact:
            return self.zero.G
        return self.chunks.map_sum(_c_gram_sw)[0]


class DaskDiagFisher:
    """NGD's Jacobi preconditioner (:class:`~skngd._solvers.ngd._DiagFisher`)
    over chunks: one pass per update."""

    full = False

    def __init__(self, loss, kind):
        self.loss, self.kind = loss, kind

    def update(self, st):
        loss = self.loss
        diag = loss.chunks.map_sum(_c_diag, st.coef, self.kind)[0]
        diag = diag + loss.l2 * loss.penalty_mask[:, None]
        self.diag = np.maximum(diag, 1e-12 * max(diag.max(), 1e-300))

    def solve(self, r):
        return r / self.diag


class DaskBlockFisher(_BlockFisher):
    """NGD's per-class block preconditioner on all rows, its blocks summed
    over chunks (factorised and applied as in memory)."""

    def __init__(self, loss, kind):
        self.loss, self.kind, self.rows = loss, kind, None

    def update(self, st):
        self.factor(self.loss.chunks.map_sum(_c_block, st.coef, self.kind)[0])


class OnSubsample:
    """A preconditioner of the row subsample, run on its in-memory loss with
    the full-data scale (NGD's block preconditioner with ``rows``)."""

    def __init__(self, inner, loss, rows):
        self.inner, self.loss, self.rows = inner, loss, rows
        self.full = inner.full

    def update(self, st):
        sub = self.loss.subsample(self.rows)
        self.inner.update(sub.state(st.coef))

    def solve(self, r):
        return self.inner.solve(r)


def dask_preconditioner(M, loss, kind):
    """Replace NGD's in-memory preconditioner ``M`` by its chunked twin."""
    if isinstance(M, _DiagFisher):
        return DaskDiagFisher(loss, kind)
    if isinstance(M, _BlockFisher):
        if M.rows is None:
            return DaskBlockFisher(loss, kind)
        sub = loss.subsample(M.rows)
        inner = _BlockFisher(sub, None, kind)
        inner.scale = M.scale
        return OnSubsample(inner, loss, M.rows)
    return M  # _SubsampleFisher: loss.fisher_matrix handles rows


__all__ = ["DaskLinearModelLoss", "FisherApplied", "Lin", "dask_preconditioner"]
