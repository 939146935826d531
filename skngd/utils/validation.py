"""Validation helpers shared by every estimator.

Everything goes through scikit-learn's own helpers where one exists, so the
messages users see are the ones they know from scikit-learn.
"""

import numbers

import numpy as np
from sklearn.utils.validation import _check_sample_weight


def check_sample_weight(sample_weight, X, *, dtype=None, allow_all_zero=False):
    """Validate ``sample_weight``: right length, finite, non-negative.

    Returns a contiguous 1-D array of ``dtype`` (default ``X.dtype``). Raises
    ``ValueError`` naming ``sample_weight`` for a wrong length, NaN/inf,
    negative entries or (unless ``allow_all_zero``) an all-zero vector.
    """
    n = X.shape[0]
    if dtype is None:
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    if sample_weight is not None:
        sw = np.asarray(sample_weight)
        if sw.ndim != 1 and sw.ndim != 0:
            raise ValueError(
                f"sample_weight must be 1-D, got an array of shape {sw.shape}."
            )
        if sw.ndim == 1 and sw.shape[0] != n:
            raise ValueError(
                f"sample_weight has {sw.shape[0]} entries but X has {n} samples."
            )
    sw = _check_sample_weight(sample_weight, X, dtype=dtype, ensure_non_negative=True)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if not allow_all_zero and n > 0 and not np.any(sw > 0):
        raise ValueError("sample_weight is zero for every sample.")
    return np.ascontiguousarray(sw)


def check_finite_param(value, name):
    """Raise ``ValueError`` naming ``name`` if ``value`` is not a finite real."""
    if not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}.")
    return float(value)


def resolve_from_registry(value, registry, name, base=None):
    """Resolve a string (or an instance of ``base``) through ``registry``.

    ``registry`` maps names to factories (classes or callables). Unknown names
    raise a ``ValueError`` that lists the valid choices.
    """
    if base is not None and isinstance(value, base):
        return value
    if isinstance(value, str) and value in registry:
        return registry[value]()
    valid = ", ".join(repr(k) for k in sorted(registry))
    extra = f" or an instance of {base.__name__}" if base is not None else ""
    raise ValueError(f"{name}={value!r} is not valid; choose one of {valid}{extra}.")
