"""``LogisticRegression.fit`` on Dask arrays: the in-memory solvers on a
:class:`~skngd._dask.design.DaskLinearModelLoss`."""

import numpy as np
import scipy.sparse as sp

from skngd._dask._chunks import Chunks, as_float, nbytes, row_blocks
from skngd._dask._input import (
    as_dask_array,
    check_design,
    check_no_l1,
    is_sparse_chunks,
    set_features,
)
from skngd._dask.design import (
    DaskLinearModelLoss,
    ZeroState,
    dask_preconditioner,
    fisher_stride,
)
from skngd._loss.family import Binomial, Multinomial
from skngd._loss.design import unit_gram, weighted_gram
from skngd._loss.linear_loss import LinearModelLoss
from skngd._solvers._result import StopReason, warn_not_converged, warn_step_failed
from skngd._solvers.mm import mm
from skngd._solvers.newton import newton
from skngd._solvers.ngd import NaturalGradient
from skngd._solvers.second_order import gradient_tol
from skngd.utils._threads import fit_threads

_MAX_ITER = {"ngd": 100, "newton": 100, "mm": 1000}


_MAX_START_CLASSES = 16  # first pass: per-class column sums up to this many labels per chunk


def _design_block(Xb, dtype):
    if sp.issparse(Xb):
        return sp.csr_matrix(Xb, dtype=dtype)
    return np.ascontiguousarray(Xb, dtype=dtype)


def _weights_block(yb, swb, classes, cw, dtype):
    y_enc = np.searchsorted(classes, yb)
    sw = np.ones(len(yb)) if swb is None else np.asarray(swb, dtype=np.float64)
    if cw is not None:
        sw = sw * cw[y_enc]
    return y_enc, sw.astype(dtype)


def _make_chunk(Xb, yb, swb, classes, cw, family, fit_intercept, dtype):
    """The penalty-free in-memory loss of one chunk."""
    y_enc, sw = _weights_block(yb, swb, classes, cw, dtype)
    c = LinearModelLoss(family, _design_block(Xb, dtype), y_enc, sw,
                        fit_intercept=fit_intercept, l2_reg_strength=0.0)
    c._numba_one = c.uses_numba
    return c


class _Spec:
    """What the chunks learn once the client knows the classes: the labels,
    class weights, family and dtype (``key`` tells a chunk it is bound)."""

    def __init__(self, classes, cw, family, dtype):
        import uuid

        self.classes, self.cw, self.family, self.dtype = classes, cw, family, dtype
        self.key = uuid.uuid4().hex


class _Chunk:
    """The rows of one chunk on its worker (``X`` in the fit's dtype, labels
    and weights as given); :meth:`bind` makes their in-memory loss."""

    def __init__(self, Xb, yb, swb, fit_intercept, dtype):
        self.X = _design_block(Xb, dtype)
        self.y = np.asarray(yb).reshape(-1)
        self.sw = None if swb is None else np.asarray(swb, dtype=np.float64).reshape(-1)
        self.fit_intercept = fit_intercept
        self.key, self.loss = None, None

    def __sizeof__(self):
        extra = 0 if self.loss is None else nbytes(self.loss.y, self.loss.sw)
        return nbytes(self.X, self.y, self.sw) + extra + 1024

    def bind(self, spec):
        if self.key != spec.key:
            self.loss = _make_chunk(self.X, self.y, self.sw, spec.classes, spec.cw,
                                    spec.family, self.fit_intercept, spec.dtype)
            self.key = spec.key
        return self.loss


def _c_start(c, gram, cw_dict):
    r"""First pass on a raw chunk: its labels with their weight sums and
    counts, the weights' minimum and non-finite count, the total weight (with
    the class weights of a dict ``cw_dict``) and, for at most
    ``_MAX_START_CLASSES`` labels in float64, the per-label column sums
    :math:`\tilde X^T (s \circ [y = v])` and (``gram``) the weighted Gram
    matrix (the state at ``W = 0``, :class:`~skngd._dask.design.ZeroState`):
    all rows' for ``gram == 1``, that of every ``gram``-th row times ``gram``
    for ``gram > 1`` (Newton's first step, :func:`~skngd._dask.design.fisher_stride`)."""
    vals, inv = _labels(c.y)
    sw = np.ones(len(c.y)) if c.sw is None else c.sw
    raw_sums = np.bincount(inv, weights=sw, minlength=len(vals))
    counts = np.bincount(inv, minlength=len(vals)).astype(np.float64)
    bad = 0 if c.sw is None else int(np.count_nonzero(~np.isfinite(sw)))
    low = float(np.min(sw, initial=np.inf))
    if cw_dict is not None:
        sw = sw * np.array([float(cw_dict.get(v, 1.0)) for v in vals.tolist()])[inv]
    total = float(sw.astype(c.X.dtype).sum(dtype=np.float64))
    C = G = None
    if len(vals) <= _MAX_START_CLASSES and c.X.dtype == np.float64 and bad == 0 and len(vals):
        W = np.empty((len(vals), len(c.y)))
        for v in range(len(vals)):
            np.multiply(sw, inv == v, out=W[v])
        unit = c.sw is None and cw_dict is None
        stride = max(1, int(gram))
        if gram and unit and not sp.issparse(c.X) and c.X.flags.c_contiguous:
            G, C = unit_gram(c.X, c.fit_intercept, W, stride=stride)  # one read of X for both
            C = C.T
        else:
            C = np.empty((c.X.shape[1] + int(c.fit_intercept), len(vals)))
            C[: c.X.shape[1]] = np.asarray(c.X.T @ W.T) if sp.issparse(c.X) else (W @ c.X).T
            if c.fit_intercept:
                C[-1] = W.sum(axis=1)
            if gram:
                G = stride * weighted_gram(c.X[::stride], None if unit else sw[::stride],
                                           fit_intercept=c.fit_intercept)[0]
    return [vals, raw_sums, counts, low, bad, total, C, G]


def _labels(y, span=1024):
    """``np.unique(y, return_inverse=True)`` without a sort when the labels
    are integers (or integer-valued floats) within ``span`` of each other."""
    if y.size and y.dtype.kind in "fiu":
        lo, hi = y.min(), y.max()
        if np.isfinite(lo) and np.isfinite(hi) and hi - lo < span:
            yi = (y - lo).astype(np.intp)
            if y.dtype.kind != "f" or np.array_equal(yi + lo, y):
                present = np.flatnonzero(np.bincount(yi))
                lut = np.zeros(int(hi - lo) + 1, dtype=np.intp)
                lut[present] = np.arange(present.size)
                return (present + lo).astype(y.dtype), lut[yi]
    vals, inv = np.unique(y, return_inverse=True)
    return vals, inv.reshape(-1)


def _merge_start(parts):
    """Combine :func:`_c_start` results (over the union of the labels)."""
    vals = np.unique(np.concatenate([p[0] for p in parts]))
    m = len(vals)
    raw_sums, counts = np.zeros(m), np.zeros(m)
    C = None if any(p[6] is None for p in parts) else np.zeros((parts[0][6].shape[0], m))
    G = None if any(p[7] is None for p in parts) else sum(p[7] for p in parts)
    for p in parts:
        at = np.searchsorted(vals, p[0])
        raw_sums[at] += p[1]
        counts[at] += p[2]
        if C is not None:
            C[:, at] += p[6]
    return [vals, raw_sums, counts, min(p[3] for p in parts), sum(p[4] for p in parts),
            sum(p[5] for p in parts), C, G]


def _c_stats(c):
    return [float(c.sw.sum(dtype=np.float64))]


def _class_weights(est, classes, weighted_counts):
    """The class weights (or None) of ``est.class_weight`` for ``classes``."""
    cw_param, K = est.class_weight, len(classes)
    if cw_param is None:
        return None
    if isinstance(cw_param, str):
        c = weighted_counts
        return np.divide(c.sum(), K * c, out=np.zeros(K), where=c > 0)
    from sklearn.utils.class_weight import compute_class_weight

    return compute_class_weight(cw_param, classes=classes, y=classes)


def _check_class_weight(est):
    cw_param = est.class_weight
    if isinstance(cw_param, dict):
        values = list(cw_param.values())
        if not (np.all(np.isfinite(values)) and np.all(np.asarray(values, float) >= 0)):
            raise ValueError("class_weight must map classes to finite, non-negative numbers; "
                             f"got {cw_param!r}.")
        return cw_param
    return None


def _subsampler(X, y, sw, classes, cw, family, fit_intercept, dtype):
    """rows, l2 -> the in-memory loss of those rows (gathered in one compute)."""

    def sub(rows, l2):
        import dask

        parts = [X[rows], y[rows]] + ([] if sw is None else [sw[rows]])
        got = dask.compute(*parts)
        y_enc, w = _weights_block(got[1], None if sw is None else got[2], classes, cw, dtype)
        return LinearModelLoss(family, _design_block(got[0], dtype), y_enc, w,
                               fit_intercept=fit_intercept, l2_reg_strength=l2)

    return sub


def _l2(est):
    if hasattr(est, "_strengths"):
        return float(est._strengths()[1])
    return float(est._l2())


def _classes(est, res, has_sw):
    """classes_, the class weights and the weight total from the first pass."""
    vals, raw_sums, _, low, bad, total, _, _ = res
    if has_sw and not (bad == 0 and low >= 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    if len(vals) < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but "
                         f"the data contains only one class: {vals[0]!r}.")
    return vals, _class_weights(est, vals, raw_sums), total


def build_loss(est, X, y, sample_weight, want_zero=True):
    """The chunked loss of a ``LogisticRegression`` fit, and its classes.

    One pass: the chunks are built and return their labels, weight sums and
    (``want_zero``, no 'balanced' class weights) the pieces of the state at
    ``W = 0`` (:class:`~skngd._dask.design.ZeroState`), so a fit from zero
    starts without another pass.
    """
    X = check_design(X)
    y = as_dask_array(y, "y", like=X)
    sw = as_dask_array(sample_weight, "sample_weight", like=X)
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    cw_dict = _check_class_weight(est)
    dtype = as_float(X)
    Xb, yb, swb = row_blocks(X, y, sw)
    chunks = Chunks(_Chunk, Xb, yb, swb, [est.fit_intercept] * len(Xb), [dtype] * len(Xb),
                    rows=X.chunks[0])
    balanced = isinstance(est.class_weight, str)
    gram = int(want_zero and not balanced)
    if gram and est.solver in ("newton", "auto") and not is_sparse_chunks(X):
        gram = fisher_stride(X.shape[0], X.shape[1] + int(est.fit_intercept))  # Newton's first step
    res = chunks.map_sum(_c_start, gram, cw_dict, combine=_merge_start)
    classes, cw, total = _classes(est, res, sw is not None)
    K = len(classes)
    family = Binomial() if K == 2 else Multinomial(K)
    chunks.spec = _Spec(classes, cw, family, dtype)
    if balanced:
        total = chunks.map_sum(_c_stats)[0]
    if not total > 0:
        raise ValueError("class_weight together with sample_weight gives every sample zero "
                         "weight.")
    loss = DaskLinearModelLoss(
        chunks, family=family, n_samples=X.shape[0], n_features=X.shape[1], dtype=dtype,
        sw_total=total, fit_intercept=est.fit_intercept, l2=_l2(est),
        sparse=is_sparse_chunks(X), offset=None,
        sub=_subsampler(X, y, sw, classes, cw, family, est.fit_intercept, dtype))
    C, G = res[6], res[7]
    if want_zero and not balanced and C is not None:
        loss.zero = ZeroState(C, G, total, K > 2, exact=gram <= 1)
    return loss, classes


def _run(est, loss, solver, coef0, max_iter):
    kw = dict(tol=est.tol, max_iter=max_iter, verbose=est.verbose)
    if solver == "newton":
        loss.prefetch = "exact"
        loss.rel_tol = gradient_tol(est.tol, loss.dtype)  # the last Fisher matrix may be skipped
        loss.fisher_stride = fisher_stride(loss.X.shape[0], loss.n_dof)  # early ones subsampled
        return newton(loss, coef0, **kw)
    if solver == "mm":
        return mm(loss, coef0, **kw)
    seed = 0
    if est.random_state is not None:  # as the in-memory fit (_logistic._seed)
        from sklearn.utils import check_random_state

        seed = int(check_random_state(est.random_state).randint(np.iinfo(np.int32).max))
    ngd = NaturalGradient(loss, fisher=est.fisher, random_state=seed, **kw)
    ngd.M = dask_preconditioner(ngd.M, loss, est.fisher)
    if getattr(ngd.M, "rows", 1) is None:
        loss.prefetch = est.fisher  # the exact Fisher matrix, fused into each pass
    return ngd.solve(coef0)


def _auto(n, n_coef, sparse, auto_solver):
    """``solver='auto'`` on Dask: 'newton' for dense X with at most 200
    coefficients (one pass per iteration, about half NGD's passes, and each
    pass costs a round trip to the workers), else the in-memory rule."""
    if not sparse and n_coef <= 200:
        return "newton"
    return auto_solver(n, n_coef, sparse)


def _report(solver, res, max_iter):
    what = f"LogisticRegression(solver={solver!r})"
    if res.status is StopReason.MAX_ITER:
        warn_not_converged(what, max_iter)
    elif res.status is StopReason.STEP_FAILED:
        warn_step_failed(what, res.n_iter)


def fit_logistic(est, X, y, sample_weight=None, auto_solver=None):
    """Fit ``est`` (a ``LogisticRegression``) on Dask ``X``; returns ``est``."""
    check_no_l1(est)
    X = check_design(X)
    set_features(est, X, reset=True)
    with fit_threads(est.n_jobs, blas=1, numba=False):
        warm = est.warm_start and hasattr(est, "coef_")
        loss, classes = build_loss(est, X, y, sample_weight, want_zero=not warm)
        try:
            est.classes_ = classes
            solver = est.solver
            if solver == "auto":
                solver = _auto(X.shape[0], loss.n_dof * loss.n_out, loss.sparse, auto_solver)
            if solver != "newton" and loss.zero is not None and not loss.zero.exact:
                loss.zero.G = None  # a row subsample's: Newton's only
            max_iter = _MAX_ITER[solver] if est.max_iter is None else est.max_iter
            coef0 = est._coef_matrix(X.shape[1], loss.n_out) if est.warm_start else None
            res = _run(est, loss, solver, loss.zeros() if coef0 is None else coef0, max_iter)
        finally:
            loss.chunks.release()
    _report(solver, res, max_iter)
    est._unpack(loss.center_null_space(res.coef), loss.dtype)
    est.solver_ = solver
    est.n_iter_ = np.array([res.n_iter], dtype=np.int32)
    est.objective_history_ = np.asarray(res.history)
    est.n_passes_ = int(res.n_passes)
    return est


__all__ = ["build_loss", "fit_logistic"]
