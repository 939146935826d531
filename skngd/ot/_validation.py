"""Input checks shared by the functional OT solvers.

Scalar parameters are validated declaratively, by scikit-learn's
``validate_params``, through the one prologue :func:`ot_params`: each public
function names its parameters and the shared constraints below apply, so a
bad ``tol``, ``n_jobs`` or ``reg`` gets the same message everywhere.
Arrays are checked by the ``check_*`` helpers (shape, finiteness, real
dtype, magnitude).
"""

from numbers import Integral, Real

import numpy as np

from skngd.utils._sklearn_compat import Interval, StrOptions, validate_params
from skngd.utils.validation import check_magnitude

_POSITIVE = Interval(Real, 0, None, closed="neither")
_CONSTRAINTS = {
    "a": ["array-like", None],
    "b": ["array-like", None],
    "M": ["array-like"],
    "Xs": ["array-like"],
    "Xt": ["array-like"],
    "labels": ["array-like"],
    "reg": [_POSITIVE],
    "reg_class": [Interval(Real, 0, None, closed="left")],
    "cost_scale": [_POSITIVE],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "max_outer": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "n_jobs": [Integral, None],
    "metric": [StrOptions({"sqeuclidean", "euclidean"})],
    "squared": ["boolean"],
}


def ot_params(*names, **overrides):
    """The validation prologue of a public OT function.

    ``ot_params("a", "b", "M", "reg", ...)`` decorates the function with
    ``validate_params`` over those parameters, using the shared constraints
    (``overrides`` replace one, e.g. a ``reg`` that may be 0).
    """
    constraints = {name: _CONSTRAINTS[name] for name in names}
    constraints.update(overrides)
    return validate_params(constraints, prefer_skip_nested_validation=True)


def _real_array(X, name):
    X = np.asarray(X)
    if X.dtype.kind == "c":
        raise ValueError(
            f"{name} is complex ({X.dtype}); optimal transport needs a real "
            "cost and real weights (take .real explicitly if that is meant)."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}.")
    return X


def check_cost(M, name="M"):
    """A finite 2-D float64 C-contiguous cost matrix with no empty side."""
    M = _real_array(M, name)
    if M.ndim != 2:
        raise ValueError(f"{name} must be a 2-D cost matrix, got shape {M.shape}.")
    if M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(f"{name} has an empty side: shape {M.shape}.")
    M = np.ascontiguousarray(M, dtype=np.float64)
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return M


def check_points(X, name):
    """A finite, real, non-empty 2-D float64 point cloud whose squares do not
    overflow (costs and covariances square the entries)."""
    X = _real_array(X, name)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {X.shape}.")
    X = np.ascontiguousarray(X, dtype=np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinity.")
    check_magnitude(X, name=name, power=2)
    return X


def check_marginal(w, n, name):
    """``None`` gives uniform weights; otherwise positive, summing to one."""
    if w is None:
        return np.full(n, 1.0 / n)
    w = _real_array(w, name)
    if w.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {w.shape}.")
    w = w.astype(np.float64)
    if w.shape[0] != n:
        raise ValueError(f"{name} has {w.shape[0]} entries, expected {n}.")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"{name} must be finite and > 0 everywhere.")
    return np.ascontiguousarray(w)


def check_balanced(a, b):
    sa, sb = a.sum(), b.sum()
    if abs(sa - sb) > 1e-8 * max(sa, sb):
        raise ValueError(
            f"a and b must have the same total mass, got {sa!r} and {sb!r}."
        )


def check_labels(labels, n):
    """Class labels of the ``n`` source rows: 1-D, one per row, no NaN."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(
            f"labels must be 1-D (one class per source row), got shape {labels.shape}."
        )
    if labels.shape[0] != n:
        raise ValueError(f"labels has {labels.shape[0]} entries, expected {n}.")
    if labels.dtype.kind == "c":
        raise ValueError(f"labels is complex ({labels.dtype}).")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError("labels contains NaN or infinity.")
    if labels.dtype.kind == "O" and any(v is None or v != v for v in labels):
        raise ValueError("labels contains None or NaN.")
    return labels
