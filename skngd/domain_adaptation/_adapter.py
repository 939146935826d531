"""OTDomainAdapter: map labelled source rows onto the target distribution."""

from numbers import Integral, Real

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.metrics import pairwise_distances_argmin
from sklearn.utils.validation import check_is_fitted, validate_data

from skngd.domain_adaptation._maps import (
    AUTO_REG,
    barycentric,
    cost_spread,
    coupling_entropy,
    merge_duplicates,
    spread_ratio,
    warn_if_collapsed,
)
from skngd.domain_adaptation._validation import (
    domains_for_fit,
    source_mask_for_transform,
    target_mask_from_labels,
)
from skngd.ot import emd, gaussian_map, sinkhorn, sinkhorn_group_lasso
from skngd.utils._sklearn_compat import Interval, StrOptions, _fit_context
from skngd.utils._threads import fit_threads
from skngd.utils.validation import check_magnitude

_NORMS = {"max": np.max, "median": np.median}
_METRICS = ("sqeuclidean", "euclidean", "cityblock", "cosine")


def _fit_emd(est, C, reg, ys):
    return emd(None, None, C)


def _fit_sinkhorn(est, C, reg, ys):
    return sinkhorn(None, None, C, reg, max_iter=est.max_iter, tol=est.tol, n_jobs=est.n_jobs)


def _fit_sinkhorn_class(est, C, reg, ys):
    return sinkhorn_group_lasso(
        None,
        None,
        C,
        ys,
        reg,
        est.reg_class,
        max_iter=est.max_iter,
        tol=est.tol,
        n_jobs=est.n_jobs,
    )


# method -> solver on the normalised cost; 'gaussian' needs no cost matrix
_COUPLINGS = {"emd": _fit_emd, "sinkhorn": _fit_sinkhorn, "sinkhorn_class": _fit_sinkhorn_class}
_METHODS = tuple(_COUPLINGS) + ("gaussian",)
_ENTROPIC = ("sinkhorn", "sinkhorn_class")


class OTDomainAdapter(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    r"""Optimal-transport domain adaptation: move source rows onto the target.

    Source and target rows come stacked in one ``X``; ``sample_domain`` (>= 0
    source, < 0 target, as in skada) tells them apart and travels as
    metadata (requested by default under metadata routing). Without it,
    target rows are those with a masked label (``y == -1`` or NaN); with no
    masked label either there is nothing to adapt and the adapter is the
    identity.

    A coupling :math:`P` between the :math:`n_s` source and :math:`n_t`
    target rows solves, with :math:`C` the ground cost (divided by its
    ``norm`` when one is set),

    .. math::

        \min_{P \in U(1/n_s, 1/n_t)} \langle P, C\rangle
        + \varepsilon \sum_{ij} P_{ij}(\log P_{ij} - 1)
        + \eta \sum_j \sum_c \|P_{I_c j}\|_2

    (:math:`\varepsilon` = ``reg`` for 'sinkhorn' and 'sinkhorn_class', 0 for
    'emd'; :math:`\eta` = ``reg_class`` for 'sinkhorn_class' only). Source
    row :math:`i` is mapped to its barycentric projection
    :math:`n_s \sum_j P_{ij} x^t_j`; target rows are left unchanged.
    Identical source rows are one atom of the source measure and share one
    image, the barycentre of the target mass they receive together (an exact
    plan may split them). New (out-of-sample) source points move by the
    displacement of their nearest fitted source point
    (``out_of_sample='barycentric'``; a point at the same distance from
    several fitted points takes the first in fit order), which reproduces
    the fitted map exactly on fitted points, so ``transform`` of the fitted
    rows equals the in-sample map. 'gaussian' fits Gaussians to both domains
    and uses the closed-form map :math:`x \mapsto A(x - m_s) + m_t`, exact for
    any point.

    The default ``reg='auto'`` is :math:`\varepsilon = 0.1\, s`, with
    :math:`s` the spread of the double-centred cost
    :math:`C_{ij} - \bar C_{i\cdot} - \bar C_{\cdot j} + \bar C`, the only
    part of the cost the plan depends on: unlike a fraction of the cost's
    max, it does not grow when the domains are far apart, so a large shift
    cannot blur the coupling into a map that sends every source row to the
    target mean. The solver reaches it by :math:`\varepsilon`-scaling from
    the cost scale down. A map that still collapses (mapped source spread
    below 10% of the target's, near-uniform coupling rows) gives a
    :class:`CollapsedMapWarning` naming ``reg``.

    Parameters
    ----------
    method : {'sinkhorn', 'emd', 'gaussian', 'sinkhorn_class'}, default='sinkhorn'
        Entropic OT (stabilised log-domain Sinkhorn), exact OT (network
        simplex, POT imported lazily), the Gaussian (Bures-Wasserstein) map,
        or entropic OT with the class group-lasso (needs source labels).
    reg : float > 0 or 'auto', default='auto'
        Entropic regularisation, in units of the (normalised) cost, as
        POT's ``reg_e``; 'auto' is 0.1 times the cost spread (see above).
    reg_class : float >= 0, default=0.0
        Group-lasso weight for 'sinkhorn_class'. For 'gaussian' it is not
        used (the covariance ridge is fixed at 1e-6).
    metric : {'sqeuclidean', 'euclidean', 'cityblock', 'cosine'}, default='sqeuclidean'
        Ground cost between rows.
    norm : {'max', 'median'} or None, default=None
        Divide the cost by its max or median before solving (None: the raw
        cost, as POT's and skada's default). Only a numeric ``reg`` depends
        on it: with ``reg='auto'`` every ``norm`` gives the same plan.
    max_iter : int >= 1, default=10_000
        Cap on the Sinkhorn iterations ('sinkhorn', 'sinkhorn_class'); the
        solver stops at ``tol`` long before on most problems (a few hundred
        iterations at ``reg='auto'``), the cap only binds on slowly
        converging ones.
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
        The transport cost of the returned plan, :math:`\langle P,
        C_{\text{raw}}\rangle`, in the units of the unnormalised ground cost
        whatever ``norm`` (no entropy or group-lasso term; the squared
        Bures-Wasserstein distance for 'gaussian', 0 for the identity map).
        POT's ``cost_`` is something else: the (normalised) cost *matrix*.
    reg_ : float or None
        The entropic regularisation used, in units of the normalised cost
        (None for 'emd', 'gaussian' and the identity map).
    coupling_entropy_ : float or None
        Mean entropy of the coupling's rows divided by its maximum
        :math:`\log n_t` (0: a one-to-one matching; 1: uniform rows).
    spread_ratio_ : float or None
        Total variance of the mapped source rows over that of the target
        rows (1 for an exact matching of equal clouds; near 0: collapsed).
    n_iter_ : int
        Sinkhorn iterations; 1 for the one-shot methods ('emd', 'gaussian')
        and the identity map.
    converged_ : bool
    identity_ : bool
        True when fit saw no domain information and learnt the identity.
    n_features_in_ : int

    See Also
    --------
    DomainAdaptedEstimator : fits a predictor on the mapped source rows only.
        An adapter followed by an estimator in a plain ``Pipeline`` would
        train that estimator on the target rows too, so ``fit_transform``
        refuses labels once target rows are known.

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

    __metadata_request__fit = {"sample_domain": True}
    __metadata_request__transform = {"sample_domain": True}
    __metadata_request__inverse_transform = {"sample_domain": True}

    _parameter_constraints = {
        "method": [StrOptions(set(_METHODS))],
        "reg": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
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
        reg="auto",
        reg_class=0.0,
        metric="sqeuclidean",
        norm=None,
        max_iter=10_000,
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

    def _check_X(self, X, reset):
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        # squared distances and covariances square the entries
        power = 2 if self.metric == "sqeuclidean" or self.method == "gaussian" else 1
        check_magnitude(X, name="X", power=power, estimator=self)
        return X

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
        self : OTDomainAdapter
            The fitted adapter.
        """
        X = self._check_X(X, reset=True)
        dom = domains_for_fit(y, sample_domain, X.shape[0])
        self._fit_domains(X, y, dom)
        return self

    def _reset_fitted(self, identity):
        self.identity_ = identity
        self.coupling_, self.cost_, self.n_iter_, self.converged_ = None, 0.0, 1, True
        self.reg_ = self.coupling_entropy_ = self.spread_ratio_ = None
        self.gaussian_map_ = None

    def _fit_domains(self, X, y, dom):
        # the fit's one thread policy: the products and reductions after the
        # solve (barycentres, entropy) run under the solve's BLAS limit too, so
        # idle BLAS threads never spin against a busy machine between them
        with fit_threads(self.n_jobs, numba=False):
            self._fit_coupling(X, y, dom)

    def _fit_coupling(self, X, y, dom):
        self._reset_fitted(dom.identity)
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
        Cn = C / scale
        if self.method in _ENTROPIC:
            self.reg_ = AUTO_REG * cost_spread(Cn) if self.reg == "auto" else float(self.reg)
        res = _COUPLINGS[self.method](self, Cn, self.reg_, ys)
        P = res.plan
        self.coupling_ = P
        self.cost_ = float(np.einsum("ij,ij->", P, C))
        self.n_iter_ = max(1, int(res.n_iter))
        self.converged_ = bool(res.converged)
        self.source_fit_, self.target_fit_ = Xs, Xt
        self.source_mapped_ = merge_duplicates(Xs, barycentric(P, Xt, Xs), P.sum(1))
        self.target_mapped_ = merge_duplicates(Xt, barycentric(P.T, Xs, Xt), P.sum(0))
        self.coupling_entropy_ = coupling_entropy(P)
        self.spread_ratio_ = spread_ratio(self.source_mapped_, Xt)
        if self.method in _ENTROPIC:
            warn_if_collapsed(
                self.coupling_entropy_, self.spread_ratio_, f"reg_={self.reg_:.3g}"
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, sample_domain=None):
        """Fit, then map the source rows of ``X`` (in-sample) onto the target.

        Unlike ``fit(X).transform(X)``, whose ``sample_domain=None`` means
        "all rows are target", the domains used at fit are applied here.

        Labels are refused once target rows are known (from
        ``sample_domain`` or masked labels): ``fit_transform`` with ``y`` is
        what a ``Pipeline`` calls on a step followed by an estimator, which
        would then be trained on the target rows (and learn the mask -1 as a
        class). Use :class:`DomainAdaptedEstimator` to train an estimator
        on the mapped source rows, or pass ``sample_domain`` without ``y``
        to map features; 'sinkhorn_class' takes its labels in ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : None
            Accepted only when it carries no domain information.
        sample_domain : array-like of int, shape (n_samples,) or None
            >= 0 for source rows, < 0 for target rows.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Source rows mapped, target rows unchanged.
        """
        X = self._check_X(X, reset=True)
        dom = domains_for_fit(y, sample_domain, X.shape[0])
        if y is not None and not dom.identity:
            raise ValueError(
                "OTDomainAdapter.fit_transform got labels y together with "
                "target rows: as a step of a plain Pipeline it would hand "
                "the target rows (and their mask label -1) to the next "
                "estimator, which would learn from them. Use "
                "DomainAdaptedEstimator(OTDomainAdapter(...), estimator), "
                "which trains the estimator on the mapped source rows only; "
                "to map features alone pass sample_domain and no y (or call "
                "fit(X, y, sample_domain=...) and then "
                "transform(X, sample_domain=...))."
            )
        self._fit_domains(X, y, dom)
        X = np.asarray(X)
        return X.copy() if self.identity_ else self._in_sample(X, dom)

    def _in_sample(self, X, dom):
        out = X.copy()
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
        new = np.any(Z != fitted[idx], axis=1)
        moved[~new] = mapped[idx[~new]]  # fitted points: their image, exactly
        if self.out_of_sample == "identity":
            moved[new] = Z[new]
        out[rows] = moved
        return out

    def transform(self, X, sample_domain=None):
        """Map source rows onto the target domain; target rows are unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to map.
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
        X = np.asarray(self._check_X(X, reset=False))
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

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to map back.
        sample_domain : array-like of int or None
            < 0 marks the target rows to map; None: every row.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            A new array; ``X`` is never modified.
        """
        check_is_fitted(self)
        X = np.asarray(self._check_X(X, reset=False))
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
