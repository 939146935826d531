"""``LogisticRegression.fit`` on Dask arrays: the in-memory solvers on a
:class:`~skngd._dask.design.DaskLinearModelLoss`."""

import numpy as np
import scipy.sparse as sp

from skngd._dask._chunks import Chunks, as_float, row_blocks
from skngd._dask._input import (
    as_dask_array,
    check_design,
    check_no_l1,
    is_sparse_chunks,
    set_features,
)
from skngd._dask.design import DaskLinearModelLoss, dask_preconditioner
from skngd._loss.family import Binomial, Multinomial
from skngd._loss.linear_loss import LinearModelLoss
from skngd._solvers._result import StopReason, warn_not_converged, warn_step_failed
from skngd._solvers.mm import mm
from skngd._solvers.newton import newton
from skngd._solvers.ngd import NaturalGradient
from skngd.utils._threads import fit_threads

_MAX_ITER = {"ngd": 100, "newton": 100, "mm": 1000}


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
    """The penalty-free in-memory loss of one chunk (built on its worker)."""
    y_enc, sw = _weights_block(yb, swb, classes, cw, dtype)
    c = LinearModelLoss(family, _design_block(Xb, dtype), y_enc, sw,
                        fit_intercept=fit_intercept, l2_reg_strength=0.0)
    c._numba_one = c.uses_numba
    return c


def _c_stats(c):
    return [float(c.sw.sum(dtype=np.float64)), float(np.count_nonzero(c.sw > 0))]


def _check_weights(sw):
    if sw is None:
        return
    import dask

    lo, finite = dask.compute(sw.min(), da_isfinite_all(sw))
    if not (finite and lo >= 0):
        raise ValueError("sample_weight must be finite and non-negative.")


def da_isfinite_all(A):
    import dask.array as da

    return da.isfinite(A).all()


def _classes(est, y, sw):
    """classes_, the class weights (or None) from one pass over y."""
    import dask
    import dask.array as da

    classes = np.unique(da.unique(y).compute())
    if len(classes) < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but "
                         f"the data contains only one class: {classes[0]!r}.")
    cw_param, K = est.class_weight, len(classes)
    if cw_param is None:
        return classes, None
    if isinstance(cw_param, str):
        enc = y.map_blocks(lambda b: np.searchsorted(classes, b), dtype=np.int64)
        w = da.ones(y.shape, chunks=y.chunks) if sw is None else sw
        counts = dask.compute(da.bincount(enc, weights=w, minlength=K))[0]
        return classes, np.divide(counts.sum(), K * counts, out=np.zeros(K), where=counts > 0)
    from sklearn.utils.class_weight import compute_class_weight

    values = list(cw_param.values())
    if not (np.all(np.isfinite(values)) and np.all(np.asarray(values, float) >= 0)):
        raise ValueError("class_weight must map classes to finite, non-negative numbers; "
                         f"got {cw_param!r}.")
    return classes, compute_class_weight(cw_param, classes=classes, y=classes)


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


def build_loss(est, X, y, sample_weight):
    """The chunked loss of a ``LogisticRegression`` fit, and its classes."""
    X = check_design(X)
    y = as_dask_array(y, "y", like=X)
    sw = as_dask_array(sample_weight, "sample_weight", like=X)
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    _check_weights(sw)
    classes, cw = _classes(est, y, sw)
    K = len(classes)
    family = Binomial() if K == 2 else Multinomial(K)
    dtype = as_float(X)
    Xb, yb, swb = row_blocks(X, y, sw)
    chunks = Chunks(_make_chunk, Xb, yb, swb,
                    *[[v] * len(Xb) for v in (classes, cw, family, est.fit_intercept, dtype)])
    total, n_pos = chunks.map_sum(_c_stats)
    if not total > 0:
        raise ValueError("class_weight together with sample_weight gives every sample zero "
                         "weight.")
    loss = DaskLinearModelLoss(
        chunks, family=family, n_samples=X.shape[0], n_features=X.shape[1], dtype=dtype,
        sw_total=total, fit_intercept=est.fit_intercept, l2=_l2(est),
        sparse=is_sparse_chunks(X), offset=None,
        sub=_subsampler(X, y, sw, classes, cw, family, est.fit_intercept, dtype))
    return loss, classes


def _run(est, loss, solver, coef0, max_iter):
    kw = dict(tol=est.tol, max_iter=max_iter, verbose=est.verbose)
    if solver == "newton":
        loss.prefetch = "exact"
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
        loss, classes = build_loss(est, X, y, sample_weight)
        try:
            est.classes_ = classes
            solver = est.solver
            if solver == "auto":
                solver = _auto(X.shape[0], loss.n_dof * loss.n_out, loss.sparse, auto_solver)
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
