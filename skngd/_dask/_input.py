"""Validation of Dask inputs (arrays and DataFrames) shared by the fits."""

import numpy as np


def is_dask(X):
    """Whether ``X`` is a Dask collection (never imports Dask: a Dask object
    can only exist once Dask is imported)."""
    import sys

    if "dask" not in sys.modules:
        return False
    from dask.base import is_dask_collection

    return is_dask_collection(X)


def as_dask_array(A, name, like=None):
    """A dask array from a dask array / DataFrame / Series (``to_dask_array
    (lengths=True)``), or from a NumPy array with the row chunks of ``like``;
    None stays None. Row chunk sizes must be known."""
    import dask.array as da

    if A is None:
        return None
    if hasattr(A, "to_dask_array"):
        A = A.to_dask_array(lengths=True)
    elif not isinstance(A, da.Array):
        A = np.asarray(A)
        if like is None:
            raise ValueError(f"{name} must be a dask array when X is a NumPy array.")
        if A.shape[0] != like.shape[0]:
            raise ValueError(f"{name} has {A.shape[0]} rows but X has {like.shape[0]}.")
        A = da.from_array(A, chunks=(like.chunks[0],) + A.shape[1:])
    if any(np.isnan(c) for c in A.chunks[0]):
        A = A.compute_chunk_sizes()
    if like is not None and A.shape[0] != like.shape[0]:
        raise ValueError(f"{name} has {A.shape[0]} rows but X has {like.shape[0]}.")
    return A


def check_design(X, name="X"):
    """A 2-D dask design with one column chunk and known row chunks."""
    X = as_dask_array(X, name)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got a dask array with shape {X.shape}.")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def is_sparse_chunks(X):
    """Whether the blocks of ``X`` are scipy.sparse matrices."""
    import scipy.sparse as sp

    return sp.issparse(getattr(X, "_meta", None))


def set_features(est, X, reset):
    """``n_features_in_`` (a fit) or the check of it (predict)."""
    d = X.shape[1]
    if reset:
        est.n_features_in_ = d
        est.__dict__.pop("feature_names_in_", None)
    elif d != est.n_features_in_:
        raise ValueError(f"X has {d} features, but {type(est).__name__} is expecting "
                         f"{est.n_features_in_} features as input.")


def check_no_l1(est):
    """ValueError for an L1 penalty on Dask input (not supported yet)."""
    pen = getattr(est, "penalty", None)
    l1 = getattr(est, "l1_ratio", 0) or 0
    strength = getattr(est, "alpha", None)
    if strength is None:
        C = getattr(est, "C", 1.0)
        strength = 0.0 if pen is None or C is None or np.isinf(C) else 1.0 / C
    if (l1 > 0 and strength > 0) or pen in ("l1", "elasticnet") or \
            getattr(est, "P1", None) is not None or getattr(est, "P2", None) is not None:
        raise ValueError(
            f"{type(est).__name__}: L1 / elastic-net penalties (l1_ratio > 0, P1, P2) are "
            "not supported on Dask input yet; use l1_ratio=0 or fit on a NumPy array.")


__all__ = ["as_dask_array", "check_design", "check_no_l1", "is_dask", "is_sparse_chunks",
           "set_features"]
