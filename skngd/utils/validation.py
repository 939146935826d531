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


def check_numeric_target(y, *, name="y", estimator=None):
    """Return a regression target as a float64 array, or raise ``ValueError``.

    Strings, bytes and objects that are not numbers are rejected with the
    message scikit-learn's regressors give ("could not convert string to
    float"), prefixed with ``name`` and the estimator's class name, instead of
    NumPy's ``UFuncTypeError`` deep inside a solver. Booleans and integers are
    converted to float64; complex targets are returned unchanged, so that
    ``validate_data`` rejects them with scikit-learn's "Complex data not
    supported". The shape is left as given.
    """
    arr = np.asarray(y)
    who = f"{type(estimator).__name__}: " if estimator is not None else ""
    if arr.dtype.kind in "USV" or arr.dtype.kind == "O":
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{who}{name} must be numeric for a regressor; {exc}. Encode "
                f"categorical targets first, or use a classifier."
            ) from None
    if arr.dtype.kind == "c":  # validate_data rejects it: "Complex data not supported"
        return arr
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{who}{name} must be numeric, got dtype {arr.dtype}.")
    return arr.astype(np.float64, copy=False)


def check_magnitude(X, *, name="X", power=2, estimator=None):
    """Raise ``ValueError`` when entries of ``X`` are so large that sums of
    their ``power``-th powers overflow float64.

    Second-order solvers form Gram matrices (``power=2``) and sums of squares;
    with entries near 1e300 those overflow to inf and a LAPACK routine later
    fails with an unrelated message. This checks at the boundary and names the
    parameter and the remedy (rescaling). ``X`` may be dense or sparse and must
    already be finite. Returns the largest absolute entry.
    """
    import scipy.sparse as sp

    data = X.data if sp.issparse(X) else np.asarray(X)
    if data.size == 0:
        return 0.0
    big = max(float(np.max(data)), -float(np.min(data)))  # no |data| temporary
    n = max(int(X.shape[0]), 1)
    limit = (np.finfo(np.float64).max / (16.0 * n)) ** (1.0 / power)
    if not big <= limit:
        who = f"{type(estimator).__name__}: " if estimator is not None else ""
        raise ValueError(
            f"{who}{name} has entries as large as {big:.3g} in absolute value; "
            f"their {'squares' if power == 2 else f'{power}-th powers'} summed over "
            f"{n} samples overflow float64 (limit about {limit:.3g}). Rescale {name} "
            f"(for example with sklearn.preprocessing.StandardScaler)."
        )
    return big


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
