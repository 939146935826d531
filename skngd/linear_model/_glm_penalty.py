r"""Validation and construction of the GLM's elastic-net penalty (glum's
``P1`` / ``P2``).

The estimator's objective (mean scale, as glum and scikit-learn's
``ElasticNet``)

.. math::

    \frac{1}{2 S}\sum_i s_i\, d_i + \alpha\Big(\rho \sum_j P_{1,j} |\beta_j|
    + \frac{1-\rho}{2}\, \beta^T P_2 \beta\Big), \qquad S = \sum_i s_i,

is solved on skngd's sum scale (times :math:`S`): the ridge strength is
``l2 = S * alpha * (1 - rho)`` with shape ``P2`` (None: the identity, the
scalar fast path), the L1 weights ``l1 = S * alpha * rho * P1`` over the
coefficient rows (zero on the intercept row). Zero entries of ``P1`` / ``P2``
leave a coefficient unpenalised.
"""

import numpy as np
import scipy.sparse as sp

_PSD_RTOL = 1e-10  # eigenvalues above -_PSD_RTOL * max|eig| count as non-negative


def _is_identity(P):
    return P is None or (isinstance(P, str) and P == "identity")


def _bad_string(P, name):
    if isinstance(P, str) and P != "identity":
        raise ValueError(f"{name} must be None, 'identity' or an array; got {P!r}.")


def check_P1(P1, n_features):
    """``P1`` as a float vector of length ``n_features`` (None / 'identity':
    ones), or a ValueError naming ``P1``."""
    _bad_string(P1, "P1")
    if _is_identity(P1):
        return np.ones(n_features)
    if sp.issparse(P1):
        raise ValueError("P1 must be a 1-D array of per-feature L1 weights, got a sparse matrix.")
    try:
        P = np.asarray(P1, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"P1 must be a numeric 1-D array; got {P1!r}.") from exc
    if P.ndim != 1 or P.shape[0] != n_features:
        raise ValueError(f"P1 must be a 1-D array of length n_features={n_features}, "
                         f"got shape {P.shape}.")
    if not np.all(np.isfinite(P)):
        raise ValueError("P1 contains NaN or infinity.")
    if np.any(P < 0):
        raise ValueError(f"P1 must not have negative values; got min(P1)={P.min():g}.")
    return P


def check_P2(P2, n_features):
    """``P2`` as None (the identity), a non-negative vector of length
    ``n_features`` (a diagonal) or a symmetrised PSD (n_features, n_features)
    float matrix, or a ValueError naming ``P2``."""
    _bad_string(P2, "P2")
    if _is_identity(P2):
        return None
    if sp.issparse(P2):
        P = P2.toarray().astype(np.float64)
    else:
        try:
            P = np.asarray(P2, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"P2 must be a numeric array or sparse matrix; got {P2!r}.") from exc
    if not np.all(np.isfinite(P)):
        raise ValueError("P2 contains NaN or infinity.")
    if P.ndim == 1:
        if P.shape[0] != n_features:
            raise ValueError(f"A 1-D P2 (the diagonal) must have length n_features={n_features},"
                             f" got shape {P.shape}.")
        if np.any(P < 0):
            raise ValueError(f"1-D P2 must not have negative values; got min(P2)={P.min():g}.")
        return None if np.all(P == 1.0) else P
    if P.shape != (n_features, n_features):
        raise ValueError(f"P2 must be 1-D of length n_features={n_features} or a square matrix "
                         f"of shape ({n_features}, {n_features}), got shape {P.shape}.")
    P = 0.5 * (P + P.T)  # only the symmetric part enters b^T P2 b (as glum)
    eig = np.linalg.eigvalsh(P) if n_features else np.zeros(0)
    if eig.size and eig.min() < -_PSD_RTOL * max(float(np.abs(eig).max()), 1e-300):
        raise ValueError(f"P2 must be positive semi-definite; its smallest eigenvalue is "
                         f"{eig.min():.3g}.")
    return P


class Penalty:
    """The penalty of one fit on the sum scale: ``l2`` (scalar), ``ridge``
    (``P2``: None, a vector or a matrix) and ``l1`` (n_dof, 1) or None (no
    L1 term: the IRLS path)."""

    def __init__(self, l2, ridge, l1):
        self.l2, self.ridge, self.l1 = l2, ridge, l1

    @property
    def has_l1(self):
        return self.l1 is not None


def build_penalty(alpha, l1_ratio, P1, P2, n_features, fit_intercept, weight_sum):
    """The :class:`Penalty` for ``alpha``, ``l1_ratio`` (``rho``), ``P1``,
    ``P2`` and ``S = weight_sum``. With ``l1_ratio = 0`` and ``P2`` None the
    ridge is ``alpha * S``, exactly as the pure-ridge fit always had it."""
    P1v = check_P1(P1, n_features)
    ridge = check_P2(P2, n_features)
    rho = float(l1_ratio)
    l2 = alpha * weight_sum if rho == 0.0 else alpha * (1.0 - rho) * weight_sum
    l1 = None
    if rho > 0 and alpha > 0 and np.any(P1v > 0):
        l1 = np.zeros((n_features + int(fit_intercept), 1))
        l1[:n_features, 0] = weight_sum * alpha * rho * P1v
    return Penalty(float(l2), ridge if l2 > 0 else None, l1)


__all__ = ["Penalty", "build_penalty", "check_P1", "check_P2"]
