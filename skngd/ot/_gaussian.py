"""Closed-form optimal transport between Gaussians (Bures-Wasserstein)."""

from dataclasses import dataclass
from numbers import Real

import numpy as np

from skngd.ot._validation import check_points, ot_params
from skngd.utils._sklearn_compat import Interval
from skngd.utils.validation import check_magnitude


def _sym_sqrt(S, inverse=False):
    """Square root (or inverse square root) of a symmetric PSD matrix."""
    w, V = np.linalg.eigh((S + S.T) / 2)
    w = np.clip(w, 0.0, None)
    if inverse:
        tiny = np.finfo(np.float64).eps * max(w.max(), 1.0) * len(w)
        w = np.where(w > tiny, 1.0 / np.sqrt(np.maximum(w, tiny)), 0.0)
    else:
        w = np.sqrt(w)
    return (V * w) @ V.T


def monge_matrix(S1, S2):
    r"""The symmetric :math:`A` with :math:`A S_1 A = S_2`:
    :math:`A = S_1^{-1/2}(S_1^{1/2} S_2 S_1^{1/2})^{1/2} S_1^{-1/2}`."""
    r1 = _sym_sqrt(S1)
    r1i = _sym_sqrt(S1, inverse=True)
    A = r1i @ _sym_sqrt(r1 @ S2 @ r1) @ r1i
    return (A + A.T) / 2


@ot_params(
    "squared", m1=["array-like"], S1=["array-like"], m2=["array-like"], S2=["array-like"]
)
def bures_wasserstein(m1, S1, m2, S2, *, squared=False):
    r"""2-Wasserstein distance between :math:`N(m_1, S_1)` and :math:`N(m_2, S_2)`.

    .. math::

        W_2^2 = \|m_1 - m_2\|^2 + \operatorname{tr}\big(S_1 + S_2
        - 2 (S_1^{1/2} S_2 S_1^{1/2})^{1/2}\big)

    Parameters
    ----------
    m1 : array-like of shape (d,)
        Mean of the first Gaussian.
    S1 : array-like of shape (d, d)
        Its covariance (symmetric positive semi-definite).
    m2 : array-like of shape (d,)
        Mean of the second Gaussian.
    S2 : array-like of shape (d, d)
        Its covariance.
    squared : bool, default=False
        Return :math:`W_2^2` instead of :math:`W_2`.

    Returns
    -------
    distance : float
        :math:`W_2` (or :math:`W_2^2`).

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.ot import bures_wasserstein
    >>> float(bures_wasserstein([0, 0], np.eye(2), [3, 4], 4 * np.eye(2)))
    5.196152422706632
    """
    m1, m2 = np.asarray(m1, float).ravel(), np.asarray(m2, float).ravel()
    S1, S2 = np.atleast_2d(np.asarray(S1, float)), np.atleast_2d(np.asarray(S2, float))
    d = m1.shape[0]
    if m2.shape[0] != d or S1.shape != (d, d) or S2.shape != (d, d):
        raise ValueError(
            f"Shapes do not match: m1 {m1.shape}, S1 {S1.shape}, m2 {m2.shape}, "
            f"S2 {S2.shape}."
        )
    for name, arr in (("m1", m1), ("S1", S1), ("m2", m2), ("S2", S2)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinity.")
        check_magnitude(arr, name=name, power=2)
    r1 = _sym_sqrt(S1)
    cross = np.trace(_sym_sqrt(r1 @ S2 @ r1))
    w2 = float(np.sum((m1 - m2) ** 2) + np.trace(S1) + np.trace(S2) - 2 * cross)
    w2 = max(w2, 0.0)
    return w2 if squared else float(np.sqrt(w2))


@dataclass
class GaussianMap:
    r"""The affine Monge map :math:`x \mapsto A(x - m_s) + m_t` between
    Gaussian fits; ``cost`` is the squared Bures-Wasserstein distance.

    Returned by :func:`gaussian_map`.

    Attributes
    ----------
    A : ndarray of shape (d, d)
        The symmetric positive matrix of the map (applied as ``x @ A``).
    mean_source, mean_target : ndarray of shape (d,)
        Means of the two Gaussian fits.
    cov_source, cov_target : ndarray of shape (d, d)
        Covariances of the two Gaussian fits.
    cost : float
        Squared Bures-Wasserstein distance between the fits.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.ot import gaussian_map
    >>> rng = np.random.RandomState(0)
    >>> Xs, Xt = rng.randn(200, 2), 2 * rng.randn(300, 2) + 3
    >>> gm = gaussian_map(Xs, Xt)
    >>> np.allclose(gm.transform(Xs).mean(axis=0), Xt.mean(axis=0))
    True
    """

    A: np.ndarray
    mean_source: np.ndarray
    mean_target: np.ndarray
    cov_source: np.ndarray
    cov_target: np.ndarray
    cost: float

    def transform(self, X):
        """Map source points to the target domain.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Source points.

        Returns
        -------
        X_new : ndarray of shape (n, d)
            :math:`A(x - m_s) + m_t` for every row.
        """
        X = np.asarray(X, dtype=np.float64)
        return (X - self.mean_source) @ self.A + self.mean_target

    def inverse_transform(self, X):
        """Map target points back (the Monge map from target to source).

        Parameters
        ----------
        X : array-like of shape (n, d)
            Target points.

        Returns
        -------
        X_new : ndarray of shape (n, d)
            :math:`A^{-1}(x - m_t) + m_s` for every row.
        """
        X = np.asarray(X, dtype=np.float64)
        return (X - self.mean_target) @ np.linalg.pinv(self.A) + self.mean_source


@ot_params("Xs", "Xt", reg=[Interval(Real, 0, None, closed="left")])
def gaussian_map(Xs, Xt, *, reg=1e-6):
    r"""Closed-form optimal transport map between Gaussian fits of two clouds.

    With the empirical means :math:`m_s, m_t` and (biased, ridge ``reg``)
    covariances :math:`\Sigma_s, \Sigma_t`, the optimal map for the squared
    Euclidean cost between :math:`N(m_s, \Sigma_s)` and :math:`N(m_t,
    \Sigma_t)` is

    .. math::

        T(x) = A (x - m_s) + m_t, \qquad
        A = \Sigma_s^{-1/2} (\Sigma_s^{1/2} \Sigma_t \Sigma_s^{1/2})^{1/2}
        \Sigma_s^{-1/2}.

    Parameters
    ----------
    Xs : array-like of shape (n, d)
        Source points.
    Xt : array-like of shape (m, d)
        Target points.
    reg : float >= 0, default=1e-6
        Added to the diagonal of both covariances.

    Returns
    -------
    gaussian_map : GaussianMap
        The affine map and the two Gaussian fits.

    References
    ----------
    Knott, M. and Smith, C. S. (1984). On the optimal mapping of
    distributions. J. Optim. Theory Appl. 43(1).

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.ot import gaussian_map
    >>> rng = np.random.RandomState(0)
    >>> Xs = rng.randn(200, 2)
    >>> T = gaussian_map(Xs, 3 * Xs + 1, reg=0)
    >>> np.round(T.A, 6)
    array([[3., 0.],
           [0., 3.]])
    """
    Xs, Xt = check_points(Xs, "Xs"), check_points(Xt, "Xt")
    if Xs.shape[1] != Xt.shape[1]:
        raise ValueError(
            f"Xs has {Xs.shape[1]} features but Xt has {Xt.shape[1]}."
        )
    reg = float(reg)
    d = Xs.shape[1]
    ms, mt = Xs.mean(0), Xt.mean(0)
    Ss = np.atleast_2d(np.cov(Xs, rowvar=False, bias=True)) + reg * np.eye(d)
    St = np.atleast_2d(np.cov(Xt, rowvar=False, bias=True)) + reg * np.eye(d)
    A = monge_matrix(Ss, St)
    cost = bures_wasserstein(ms, Ss, mt, St, squared=True)
    return GaussianMap(A, ms, mt, Ss, St, cost)
