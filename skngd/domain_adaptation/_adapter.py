"""OTDomainAdapter: map labelled source rows onto the target distribution."""

from numbers import Integral, Real

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.metrics import pairwise_distances_argmin
from skngd.utils._sklearn_compat import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skngd.domain_adaptation._validation import (
    domains_for_fit,
    source_mask_for_transform,
    target_mask_from_labels,
)
from skngd.ot import emd, gaussian_map, sinkhorn, sinkhorn_group_lasso

_NORMS = {"max": np.max, "median": np.median}
_METRICS = ("sqeuclidean", "euclidean", "cityblock", "cosine")


def _fit_emd(est, C, Xs, Xt, ys):
    return emd(None, None, C)


def _fit_sinkhorn(est, C, Xs, Xt, ys):
    return sinkhorn(
        None, None, C, est.reg, max_iter=est.max_iter, tol=est.tol, n_jobs=est.n_jobs
    )


def _fit_sinkhorn_class(est, C, Xs, Xt, ys):
    return sinkhorn_group_lasso(
        None,
        None,
        C,
        ys,
        est.reg,
        est.reg_class,
        max_iter=est.max_iter,
        tol=est.tol,
        n_jobs=est.n_jobs,
    )


# method -> solver on the normalised cost; 'gaussian' needs no cost matrix
_COUPLINGS = {"emd": _fit_emd, "sinkhorn": _fit_sinkhorn, "sinkhorn_class": _fit_sinkhorn_class}
_METHODS = tuple(_COUPLINGS) + ("gaussian",)


def _barycentric(P, Y, X):
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


class OTDomainAdapter(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    r"""Optimal-transport domain adaptation: move source rows onto the target.

    Source and target rows come stacked in one ``X``; ``sample_domain`` (>= 0
    source, < 0 target, as in skada) tells them apart and travels as
    metadata (``set_fit_request(sample_domain=True)``). Without it, target
    rows are those with a masked label (``y == -1`` or NaN); with no masked
    label either there is nothing to adapt and the adapter is the identity.

    A coupling :math:`P` between the :math:`n_s` source and :math:`n_t`
    target rows solves, with :math:`C` the ground cost divided by its
    ``norm``,

    .. math::

        \min_{P \in U(1/n_s, 1/n_t)} \langle P, C\rangle
        + \varepsilon \sum_{ij} P_{ij}(\log P_{ij} - 1)
        + \eta \sum_j \sum_c \|P_{I_c j}\|_2

    (:math:`\varepsilon` = ``reg`` for 'sinkhorn' and 'sinkhorn_class', 0 for
    'emd'; :math:`\eta` = ``reg_class`` for 'sinkhorn_class' only). Source
    row :math:`i` is mapped to its barycentric projection
    :math:`n_s \sum_j P_{ij} x^t_j`; target rows are left unchanged. New
    (out-of-sample) source points move by the displacement of their nearest
    fitted source point (``out_of_sample='barycentric'``), which reproduces
    the in-sample map exactly on fitted points. 'gaussian' fits Gaussians to
    both domains and uses the closed-form map
    :math:`x \mapsto A(x - m_s) + m_t`, exact for any point.

    Parameters
    ----------
    method : {'sinkhorn', 'emd', 'gaussian', 'sinkhorn_class'}, default='sinkhorn'
        Exact OT (network simplex, POT imported lazily), entropic OT
        (stabilised log-domain Sinkhorn), the Gaussian (Bures-Wasserstein)
        map, or entropic OT with the class group-lasso (needs source labels).
    reg : float > 0, default=0.1
        Entropic regularisation, in units of the normalised cost.
    reg_class : float >= 0, default=0.0
        Group-lasso weight for 'sinkhorn_class'. For 'gaussian' it is not
        used (the covariance ridge is fixed at 1e-6).
    metric : {'sqeuclidean', 'euclidean', 'cityblock', 'cosine'}, default='sqeuclidean'
        Ground cost between rows.
    norm : {'max', 'median'} or None, default='max'
        The cost is divided by its max or median (None: unscaled).
    max_iter : int >= 1, default=1000
        Sinkhorn iterations ('sinkhorn', 'sinkhorn_class').
    tol : float >= 0, default=1e-9
        Marginal violation (L1) at which Sinkhorn stops.
    out_of_sample : {'barycentric', 'identity'}, default='barycentric'
        How new source points are mapped by the discrete methods: by the
        displacement of the nearest fitted source point, or left unchanged
        (fitted points are always mapped). Ignored by 'gaussian'.
    n_jobs : int or None, default=None
        Threads for the Sinkhorn kernels.
    random_state : int, RandomState or None, default=None
        Unused: every method is deterministic. Accepted so searches that set
        ``random_state`` on all steps keep working.

    Attributes
    ----------
    coupling_ : ndarray of shape (n_source, n_target) or None
        The transport plan (None for 'gaussian' and for the identity map).
    cost_ : float
        Transport cost :math:`\langle P, C_{\text{raw}}\rangle` in the units of
        the unnormalised ground cost (squared Bures-Wasserstein distance for
        'gaussian', 0 for the identity map).
    n_iter_ : int
        Sinkhorn iterations; 1 for the one-shot methods ('emd', 'gaussian')
        and the identity map.
    converged_ : bool
    identity_ : bool
        True when fit saw no domain information and learnt the identity.
    n_features_in_ : int

    References
    ----------
    Courty, N., Flamary, R., Tuia, D. and Rakotomamonjy, A. (2017). Optimal
    transport for domain adaptation. IEEE TPAMI 39(9).

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.domain_adaptation import OTDomainAdapter
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.randn(30, 2), rng.randn(40, 2) + 5]
    >>> sample_domain = np.r_[np.ones(30), -np.ones(40)].astype(int)
    >>> Xm = OTDomainAdapter(method="emd").fit_transform(X, sample_domain=sample_domain)
    >>> bool(abs(Xm[:30].mean() - X[30:].mean()) < 0.1)
    True
    """

    _parameter_constraints = {
        "method": [StrOptions(set(_METHODS))],
        "reg": [Interval(Real, 0, None, closed="neither")],
        "reg_class": [Interval(Real, 0, None, closed="left")],
        "metric": [StrOptions(set(_METRICS))],
        "norm": [StrOptions(set(_NORMS)), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "out_of_sample": [StrOptions({"barycentric", "identity"})],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        method="sinkhorn",
        reg=0.1,
        reg_class=0.0,
        metric="sqeuclidean",
        norm="max",
        max_iter=1000,
        tol=1e-9,
        out_of_sample="barycentric",
        n_jobs=None,
        random_state=None,
    ):
        self.method = method
        self.reg = reg
        self.reg_class = reg_class
        self.metric = metric
        self.norm = norm
        self.max_iter = max_iter
        self.tol = tol
        self.out_of_sample = out_of_sample
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _source_labels(self, y, dom):
        if y is None:
            raise ValueError(
                "method='sinkhorn_class' needs the source labels: pass y."
            )
        y = np.asarray(y).ravel()
        ys = y[dom.source]
        if target_mask_from_labels(ys, "classification").any():
            raise ValueError(
                "method='sinkhorn_class': some source rows have a masked "
                "label (-1 or NaN); every source row needs its class."
            )
        # classes that are labelled anywhere but have no source row
        labelled = y[~target_mask_from_labels(y, "classification")]
        missing = np.setdiff1d(np.unique(labelled), np.unique(ys))
        if missing.size:
            raise ValueError(
                f"method='sinkhorn_class': class(es) {missing.tolist()} have "
                "no source rows, so no source mass can carry them."
            )
        return ys

    def _cost(self, Xs, Xt):
        C = cdist(Xs, Xt, self.metric)
        if not np.all(np.isfinite(C)):
            raise ValueError(
                f"metric={self.metric!r} gives a non-finite cost between some "
                "source and target rows (e.g. an all-zero row with 'cosine')."
            )
        scale = 1.0 if self.norm is None else float(_NORMS[self.norm](C))
        return C, (scale if scale > 0 else 1.0)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_domain=None):
        """Learn the coupling between the source and target rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,) or None
            Labels; target rows may be masked (-1 or NaN). Only the source
            labels are read, and only by 'sinkhorn_class'.
        sample_domain : array-like of int, shape (n_samples,) or None
            >= 0 for source rows, < 0 for target rows; None infers the target
            from masked labels (no masked label: identity map).

        Returns
        -------
        self
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        dom = domains_for_fit(y, sample_domain, X.shape[0])
        self._fit_domains(X, y, dom)
        return self

    def _fit_domains(self, X, y, dom):
        self.identity_ = dom.identity
        self.coupling_, self.cost_, self.n_iter_, self.converged_ = None, 0.0, 1, True
        self.gaussian_map_ = None
        if dom.identity:
            return
        Xs = np.asarray(X[dom.source], dtype=np.float64)
        Xt = np.asarray(X[dom.target], dtype=np.float64)
        if self.method == "gaussian":
            self.gaussian_map_ = gaussian_map(Xs, Xt)
            self.cost_ = self.gaussian_map_.cost
            return
        ys = self._source_labels(y, dom) if self.method == "sinkhorn_class" else None
        C, scale = self._cost(Xs, Xt)
        res = _COUPLINGS[self.method](self, C / scale, Xs, Xt, ys)
        self.coupling_ = res.plan
        self.cost_ = float(np.einsum("ij,ij->", res.plan, C))
        self.n_iter_ = max(1, int(res.n_iter))
        self.converged_ = bool(res.converged)
        self.source_fit_, self.target_fit_ = Xs, Xt
        self.source_mapped_ = _barycentric(res.plan, Xt, Xs)
        self.target_mapped_ = _barycentric(res.plan.T, Xs, Xt)

    def fit_transform(self, X, y=None, sample_domain=None):
        """Fit, then map the source rows of ``X`` (in-sample) onto the target.

        Unlike ``fit(X).transform(X)``, whose ``sample_domain=None`` means
        "all rows are target", the domains used at fit are applied here.
        """
        self.fit(X, y, sample_domain=sample_domain)
        X = np.asarray(validate_data(self, X, reset=False, dtype=[np.float64, np.float32]))
        out = X.copy()
        if self.identity_:
            return out
        dom = domains_for_fit(y, sample_domain, X.shape[0])
        if self.gaussian_map_ is not None:
            out[dom.source] = self.gaussian_map_.transform(X[dom.source])
        else:
            out[dom.source] = self.source_mapped_
        return out

    # ------------------------------------------------------------ transform
    def _move(self, X, rows, fitted, mapped, exact):
        out = X.copy()
        if not rows.any():
            return out
        Z = np.asarray(X[rows], dtype=np.float64)
        if exact is not None:
            out[rows] = exact(Z)
            return out
        idx = pairwise_distances_argmin(Z, fitted)
        moved = Z + (mapped[idx] - fitted[idx])
        if self.out_of_sample == "identity":
            new = np.any(Z != fitted[idx], axis=1)
            moved[new] = Z[new]
        out[rows] = moved
        return out

    def transform(self, X, sample_domain=None):
        """Map source rows onto the target domain; target rows are unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_domain : array-like of int or None
            >= 0 marks the source rows to map. None: every row is a target
            row, so ``X`` is returned unchanged (what prediction on new target
            data needs).

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            A new array; ``X`` is never modified.
        """
        check_is_fitted(self)
        X = np.asarray(validate_data(self, X, reset=False, dtype=[np.float64, np.float32]))
        rows = source_mask_for_transform(sample_domain, X.shape[0])
        if self.identity_:
            return X.copy()
        if self.gaussian_map_ is not None:
            return self._move(X, rows, None, None, self.gaussian_map_.transform)
        return self._move(X, rows, self.source_fit_, self.source_mapped_, None)

    def inverse_transform(self, X, sample_domain=None):
        """Map target rows back onto the source domain.

        Target rows (``sample_domain < 0``; all rows when None) move by the
        barycentric projection onto the source (nearest fitted target point's
        displacement for new points; the inverse linear map for 'gaussian').
        Source rows are unchanged.
        """
        check_is_fitted(self)
        X = np.asarray(validate_data(self, X, reset=False, dtype=[np.float64, np.float32]))
        rows = ~source_mask_for_transform(sample_domain, X.shape[0])
        if self.identity_:
            return X.copy()
        if self.gaussian_map_ is not None:
            return self._move(X, rows, None, None, self.gaussian_map_.inverse_transform)
        return self._move(X, rows, self.target_fit_, self.target_mapped_, None)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
