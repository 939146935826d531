"""Input checks shared by the functional OT solvers."""

import numbers

import numpy as np


def check_reg(reg, name="reg"):
    """``reg`` must be a finite real > 0."""
    if (
        isinstance(reg, bool)
        or not isinstance(reg, numbers.Real)
        or not np.isfinite(reg)
        or reg <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {reg!r}.")
    return float(reg)


def check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    return int(value)


def check_cost(M, name="M"):
    """A finite 2-D float64 C-contiguous cost matrix with no empty side."""
    M = np.asarray(M)
    if M.ndim != 2:
        raise ValueError(f"{name} must be a 2-D cost matrix, got shape {M.shape}.")
    if M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(f"{name} has an empty side: shape {M.shape}.")
    M = np.ascontiguousarray(M, dtype=np.float64)
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return M


def check_points(X, name):
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {X.shape}.")
    X = np.ascontiguousarray(X, dtype=np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return X


def check_marginal(w, n, name):
    """``None`` gives uniform weights; otherwise positive, summing to one."""
    if w is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(w, dtype=np.float64).ravel()
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
