"""Barycentric maps of a coupling, their tie rule and their collapse check."""

import warnings

import numpy as np

from skngd.utils._warnings import warn

# reg='auto': the entropic regularisation, in units of the cost spread
AUTO_REG = 0.1
# a map is reported as collapsed when the mapped source keeps less than this
# share of the target's total variance ...
COLLAPSE_SPREAD = 0.1
# ... while the coupling rows are this close to uniform (normalised entropy)
COLLAPSE_ENTROPY = 0.9


class CollapsedMapWarning(UserWarning):
    """The barycentric map sent the source rows towards the target mean.

    Emitted by :class:`OTDomainAdapter` when the mapped source keeps less
    than 10% of the target's spread while the coupling's rows are nearly
    uniform; the message names ``reg``.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skngd.domain_adaptation import CollapsedMapWarning, OTDomainAdapter
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.randn(30, 2), rng.randn(30, 2) + 20]
    >>> sd = np.r_[np.ones(30, int), -np.ones(30, int)]
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     _ = OTDomainAdapter(reg=0.5, norm="max").fit(X, sample_domain=sd)
    >>> any(issubclass(x.category, CollapsedMapWarning) for x in w)
    True
    """


def cost_spread(C):
    r"""Standard deviation of the double-centred cost matrix.

    .. math::

        s = \operatorname{std}_{ij}\big(C_{ij} - \bar C_{i\cdot} - \bar C_{\cdot j}
        + \bar C_{\cdot\cdot}\big)

    Adding a constant to a row or a column of the cost leaves every coupling
    of :math:`U(a, b)` with the same objective up to a constant, so the plan
    depends on the cost only through this double-centred part. For the
    squared Euclidean cost it is :math:`-2\langle x_i - \bar x, y_j - \bar
    y\rangle`: translating either domain leaves :math:`s` unchanged, unlike
    the max or the median of the cost, which grow with the square of the
    shift. ``0`` is returned as ``1`` (a constant cost).
    """
    Cc = C - C.mean(axis=0, keepdims=True) - C.mean(axis=1, keepdims=True) + C.mean()
    s = float(np.sqrt(np.mean(Cc * Cc)))
    return s if s > 0 else 1.0


def barycentric(P, Y, X):
    """Rows of ``P`` as weights over the rows of ``Y``.

    A row without mass (only possible for a non-converged plan) keeps its
    own point from ``X`` instead of becoming NaN.
    """
    mass = P.sum(axis=1, keepdims=True)
    out = P @ Y
    empty = mass[:, 0] <= 0
    out[~empty] /= mass[~empty]
    out[empty] = X[empty]
    return out


def merge_duplicates(Z, images, mass):
    """Give identical rows of ``Z`` one image: their mass-weighted barycentre.

    Identical rows are one atom of the empirical measure; the coupling may
    split the atom's mass between different target points (an exact plan
    matches each copy to its own point), but a map is a function of the
    point, so every copy is sent to the barycentre of the mass the atom
    receives as a whole. Rows without duplicates are returned unchanged.
    """
    _, inverse, counts = np.unique(Z, axis=0, return_inverse=True, return_counts=True)
    if np.all(counts == 1):
        return images
    inverse = inverse.ravel()
    w = np.maximum(mass, np.finfo(np.float64).tiny)
    total = np.bincount(inverse, weights=w)
    merged = np.stack(
        [np.bincount(inverse, weights=w * images[:, k]) for k in range(images.shape[1])],
        axis=1,
    ) / total[:, None]
    return merged[inverse]


def coupling_entropy(P):
    """Mean entropy of the rows of ``P`` (as conditionals), divided by log m.

    0: every source row goes to a single target row; 1: every row is spread
    uniformly over all ``m`` target rows.
    """
    m = P.shape[1]
    if m < 2:
        return 0.0
    mass = P.sum(axis=1, keepdims=True)
    Q = P / np.where(mass > 0, mass, 1.0)
    H = -np.sum(Q * np.log(np.where(Q > 0, Q, 1.0)), axis=1)
    return float(H.mean() / np.log(m))


def spread_ratio(mapped, Xt):
    """Total variance of the mapped source over that of the target."""
    vt = float(np.sum(np.var(Xt, axis=0)))
    if vt <= 0:
        return 1.0
    return float(np.sum(np.var(mapped, axis=0)) / vt)


def warn_if_collapsed(entropy, ratio, reg_text):
    """The collapse warning, naming the parameter to change."""
    if ratio < COLLAPSE_SPREAD and entropy > COLLAPSE_ENTROPY:
        warn(
            f"OTDomainAdapter: the coupling is nearly uniform (row entropy "
            f"{entropy:.2f} of its maximum 1) and the mapped source keeps only "
            f"{ratio:.1%} of the target's spread: the barycentric map collapsed "
            f"the source rows towards the target mean. Decrease reg ({reg_text}) "
            f"or use reg='auto', which scales it to the cost spread.",
            CollapsedMapWarning,
        )
