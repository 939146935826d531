"""Chunk-wise predictions on Dask arrays: each block runs the estimator's
in-memory method, so the result is a lazy Dask array (a prediction over a
larger-than-memory table streams)."""

import numpy as np

from skngd._dask._input import as_dask_array, check_design, set_features


def _width(est, method):
    """Columns of the output (None: 1-D)."""
    if method == "predict":
        return None
    if method == "decision_function":
        return None if est.coef_.ndim == 1 or est.coef_.shape[0] == 1 else est.coef_.shape[0]
    if method in ("predict_proba", "predict_log_proba"):
        return len(est.classes_)
    if method == "transform":
        ind = getattr(est, "indicator_", None)
        return est.n_features_in_ + (0 if ind is None else len(ind.features_))
    raise ValueError(f"{method!r} has no Dask implementation.")


def _apply(Xb, *rest, est, method, with_offset):
    if with_offset:
        return getattr(est, method)(Xb, offset=rest[0][:, 0])
    return getattr(est, method)(Xb)


def _dtype(est, method):
    if method == "predict" and hasattr(est, "classes_"):
        return est.classes_.dtype
    return np.float64


def predict(est, method, X, offset=None):
    """``est.<method>`` of every block of ``X`` (and ``offset``), lazily."""
    import dask.array as da
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    X = check_design(X)
    set_features(est, X, reset=False)
    width = _width(est, method)
    args = [X]
    if offset is not None:
        args.append(as_dask_array(offset, "offset", like=X).rechunk({0: X.chunks[0]})[:, None])
    dtype = _dtype(est, method)
    kw = dict(est=est, method=method, with_offset=offset is not None, dtype=dtype)
    if width is None:
        return da.map_blocks(_apply, *args, drop_axis=1, chunks=(X.chunks[0],),
                             meta=np.empty((0,), dtype=dtype), **kw)
    return da.map_blocks(_apply, *args, chunks=(X.chunks[0], (width,)),
                         meta=np.empty((0, 0), dtype=dtype), **kw)


__all__ = ["predict"]
