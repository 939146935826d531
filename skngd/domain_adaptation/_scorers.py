r"""Scorers that validate a domain-adapted model without target labels.

Every scorer is a scikit-learn scorer: ``scorer(estimator, X, y,
sample_domain=None)`` returns a float, greater is better, so it goes
wherever ``scoring=`` does (``cross_validate``, ``GridSearchCV``,
:class:`~skngd.BayesSearchCV`, a dict of scorers). Source and target rows are
told apart by ``sample_domain`` (>= 0 source, < 0 target), which each scorer
requests under metadata routing, or, when it is not routed, by the masked
labels of ``y`` (-1 / NaN). Target labels are never read: masked rows are
never scored. A scorer that cannot produce a finite value raises a
``ValueError`` that says why (a search then reports it instead of ranking a
silent NaN).

The model is evaluated the way it is deployed: target rows, and source rows
evaluated "as if they were target data", are predicted without
``sample_domain``, i.e. without being mapped.
"""

import inspect

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, get_scorer, r2_score
from sklearn.neighbors import NearestNeighbors, radius_neighbors_graph
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.validation import check_array

from skngd.domain_adaptation._validation import check_sample_domain, target_mask_from_labels


def _accepts(method, name):
    try:
        return name in inspect.signature(method).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return False


def predict_as_target(estimator, X, method="predict"):
    """``estimator.<method>(X)`` with every row presented as target data."""
    fn = getattr(estimator, method)
    if _accepts(fn, "sample_domain"):
        return fn(X, sample_domain=np.full(X.shape[0], -1, dtype=np.int64))
    return fn(X)


def _task(estimator):
    return "classification" if is_classifier(estimator) else "regression"


class _DomainScorer:
    """Shared plumbing: domain masks, metadata request, finite result."""

    def __call__(self, estimator, X, y=None, sample_domain=None, **kwargs):
        X = check_array(X, dtype=[np.float64, np.float32])
        y = None if y is None else np.asarray(y)
        source, target = self._domains(X, y, sample_domain, estimator)
        value = float(self._score(estimator, X, y, source, target))
        if not np.isfinite(value):
            raise ValueError(
                f"{type(self).__name__} gave a non-finite score ({value}); the "
                "estimator's predictions on these rows are not finite."
            )
        return value

    def _domains(self, X, y, sample_domain, estimator):
        name = type(self).__name__
        n = X.shape[0]
        masked = (
            np.zeros(n, bool) if y is None else target_mask_from_labels(y, _task(estimator))
        )
        if sample_domain is not None:
            target = check_sample_domain(sample_domain, n) < 0
        elif y is not None:
            target = masked
        else:
            raise ValueError(
                f"{name} needs sample_domain (route it: "
                "sklearn.set_config(enable_metadata_routing=True) and pass it "
                "to fit) or labels y whose target rows are masked (-1 / NaN)."
            )
        source = ~target & ~masked  # masked labels are never scored
        if not target.any():
            raise ValueError(
                f"{name}: these rows contain no target rows (sample_domain < 0 "
                "or a masked label), so the adaptation cannot be validated. "
                "Route sample_domain to the scorer, or mask the target labels."
            )
        if self._needs_source and not source.any():
            raise ValueError(f"{name}: these rows contain no labelled source row.")
        return source, target

    _needs_source = True

    def get_metadata_routing(self):
        """Request ``sample_domain`` for ``score`` (metadata routing)."""
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="sample_domain", alias=self._request)
        return request

    _request = True

    def set_score_request(self, *, sample_domain=True):
        """Whether ``sample_domain`` is requested (True by default)."""
        self._request = sample_domain
        return self

    def __repr__(self):
        params = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_")
        )
        return f"{type(self).__name__}({params})"


# --------------------------------------------------------------- weights
def default_domain_classifier():
    """Logistic regression on standardised quadratic features.

    The log density ratio of two Gaussians is a quadratic function, so this
    discriminator is exact for Gaussian domains (Bickel et al. 2007).
    """
    return make_pipeline(
        StandardScaler(),
        PolynomialFeatures(degree=2, include_bias=False),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )


def importance_weights(X_source, X_target, domain_classifier=None):
    r"""Density ratios :math:`w(x) = p_t(x)/p_s(x)` at the source rows.

    A probabilistic classifier told to separate target (1) from source (0)
    rows gives :math:`w = \frac{n_s}{n_t}\frac{P(t\mid x)}{P(s\mid x)}`;
    the weights are normalised to mean 1.
    """
    clf = clone(domain_classifier) if domain_classifier is not None else default_domain_classifier()
    Z = np.r_[X_source, X_target]
    d = np.r_[np.zeros(len(X_source), int), np.ones(len(X_target), int)]
    clf.fit(Z, d)
    p = np.clip(clf.predict_proba(X_source)[:, 1], 1e-12, 1 - 1e-12)
    w = p / (1 - p) * (len(X_source) / len(X_target))
    return w / w.mean()


def _losses(estimator, X, y):
    pred = predict_as_target(estimator, X)
    if is_classifier(estimator):
        return (pred != y).astype(np.float64)
    return (np.asarray(pred, dtype=np.float64).ravel() - y.astype(np.float64)) ** 2


class ImportanceWeightedScorer(_DomainScorer):
    r"""Importance-weighted source score (IWCV, Sugiyama et al. 2007).

    .. math::

        \widehat{S} = \frac{\sum_{i \in S} w(x_i)\, s(h(x_i), y_i)}{\sum_{i \in S} w(x_i)},
        \qquad w = p_t / p_s,

    an estimate of the target score of :math:`h` under covariate shift
    (:math:`p(y\mid x)` shared by the domains). The weights come from a
    domain classifier (``importance_weights``).

    Parameters
    ----------
    scoring : str, callable or None, default=None
        A scikit-learn scorer name or callable accepting ``sample_weight``;
        None: accuracy for classifiers, :math:`R^2` for regressors.
    domain_classifier : classifier with ``predict_proba`` or None
        None: logistic regression on standardised quadratic features.

    References
    ----------
    Sugiyama, M., Krauledat, M. and Müller, K.-R. (2007). Covariate shift
    adaptation by importance weighted cross validation. JMLR 8.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.domain_adaptation import (DomainAdaptedEstimator,
    ...     ImportanceWeightedScorer)
    >>> rng = np.random.RandomState(0)
    >>> Xs = rng.randn(60, 2); ys = (Xs[:, 0] > 0).astype(int)
    >>> X = np.r_[Xs, rng.randn(40, 2) + 0.5]
    >>> y = np.r_[ys, -np.ones(40, int)]          # target labels masked
    >>> model = DomainAdaptedEstimator().fit(X, y)
    >>> 0.0 <= ImportanceWeightedScorer()(model, X, y) <= 1.0
    True
    """

    def __init__(self, scoring=None, domain_classifier=None):
        self.scoring = scoring
        self.domain_classifier = domain_classifier

    def _score(self, estimator, X, y, source, target):
        w = importance_weights(X[source], X[target], self.domain_classifier)
        Xs, ys = X[source], y[source]
        if self.scoring is not None:
            return get_scorer(self.scoring)(estimator, Xs, ys, sample_weight=w)
        pred = predict_as_target(estimator, Xs)
        metric = accuracy_score if is_classifier(estimator) else r2_score
        return metric(ys, pred, sample_weight=w)


class DeepEmbeddedValidation(_DomainScorer):
    r"""Deep embedded validation (You et al. 2019): IW risk with a control variate.

    With per-row losses :math:`\ell_i` on the source rows and density ratios
    :math:`w_i` (mean 1),

    .. math::

        \widehat{R} = \overline{w\ell} + \eta\,(\bar w - 1), \qquad
        \eta = -\frac{\operatorname{Cov}(w\ell, w)}{\operatorname{Var}(w)},

    which keeps the importance-weighted estimate unbiased while cancelling
    the variance the weights bring. The score is :math:`-\widehat{R}`
    (greater is better). The losses are the 0-1 loss for classifiers and
    the squared error for regressors; the density ratios are estimated in
    the input space, which is the representation the deployed model reads
    target rows in.

    Parameters
    ----------
    domain_classifier : classifier with ``predict_proba`` or None
        As in :class:`ImportanceWeightedScorer`.

    References
    ----------
    You, K., Wang, X., Long, M. and Jordan, M. I. (2019). Towards accurate
    model selection in deep unsupervised domain adaptation. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.domain_adaptation import DeepEmbeddedValidation, DomainAdaptedEstimator
    >>> rng = np.random.RandomState(0)
    >>> Xs = rng.randn(60, 2); ys = (Xs[:, 0] > 0).astype(int)
    >>> X, y = np.r_[Xs, rng.randn(40, 2) + 0.5], np.r_[ys, -np.ones(40, int)]
    >>> model = DomainAdaptedEstimator().fit(X, y)
    >>> DeepEmbeddedValidation()(model, X, y) <= 0.0      # minus a risk
    True
    """

    def __init__(self, domain_classifier=None):
        self.domain_classifier = domain_classifier

    def _score(self, estimator, X, y, source, target):
        w = importance_weights(X[source], X[target], self.domain_classifier)
        L = w * _losses(estimator, X[source], y[source])
        var = np.var(w)
        eta = -np.cov(L, w, bias=True)[0, 1] / var if var > 0 else 0.0
        return -(L.mean() + eta * (w.mean() - 1.0))


class PredictionEntropyScorer(_DomainScorer):
    r"""Minus the mean entropy of the predicted class probabilities on target rows.

    .. math::

        S = \frac{1}{n_t} \sum_{j \in T} \sum_c p_c(x_j) \log p_c(x_j)

    Confident target predictions score higher (Morerio et al. 2018). Needs
    ``predict_proba`` (e.g. ``SVC(probability=True)``); uses no label.

    References
    ----------
    Morerio, P., Cavazza, J. and Murino, V. (2018). Minimal-entropy
    correlation alignment for unsupervised deep domain adaptation. ICLR.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skngd.domain_adaptation import DomainAdaptedEstimator, PredictionEntropyScorer
    >>> rng = np.random.RandomState(0)
    >>> Xs = rng.randn(60, 2); ys = (Xs[:, 0] > 0).astype(int)
    >>> X, y = np.r_[Xs, rng.randn(40, 2) + 0.5], np.r_[ys, -np.ones(40, int)]
    >>> model = DomainAdaptedEstimator(estimator=LogisticRegression()).fit(X, y)
    >>> -np.log(2) <= PredictionEntropyScorer()(model, X, y) <= 0.0
    True
    """

    _needs_source = False

    def _score(self, estimator, X, y, source, target):
        if not hasattr(estimator, "predict_proba"):
            raise ValueError(
                f"PredictionEntropyScorer needs predict_proba, which "
                f"{type(estimator).__name__} lacks here (for SVC pass "
                "probability=True)."
            )
        P = np.asarray(predict_as_target(estimator, X[target], "predict_proba"))
        logP = np.log(np.where(P > 0, P, 1.0))
        return float(np.mean(np.sum(P * logP, axis=1)))


def _fit_reverse(estimator, X, source, target, yt_hat, y_dtype):
    """The estimator refitted with the domains swapped and pseudo-labels."""
    rev = clone(estimator)
    if not _accepts(rev.fit, "sample_domain"):
        return rev.fit(X[target], yt_hat)
    y_rev = np.empty(X.shape[0], dtype=np.result_type(yt_hat.dtype, y_dtype, np.int64))
    if y_rev.dtype.kind == "f" and not is_classifier(estimator):
        y_rev[:] = np.nan
    elif y_rev.dtype.kind in "USV":
        y_rev = y_rev.astype(object)
        y_rev[:] = -1
    else:
        y_rev[:] = -1
    y_rev[target] = yt_hat
    sd = np.where(target, 0, -1).astype(np.int64)
    keep = source | target
    return rev.fit(X[keep], y_rev[keep], sample_domain=sd[keep])


class CircularValidation(_DomainScorer):
    r"""Circular (reverse) validation (Bruzzone & Marconcini 2010; Zhong et al. 2010).

    The model labels the target rows, :math:`\hat y_t = h(x_t)`; a clone is
    fitted with the roles swapped (target rows with the pseudo-labels
    :math:`\hat y_t` as source, source rows as unlabelled target) and
    predicts the source rows; the score is its agreement with the true source
    labels. A good adaptation survives the round trip.

    Parameters
    ----------
    scoring : str, callable or None, default=None
        A scikit-learn scorer for the reverse model on the source rows; None:
        accuracy for classifiers, :math:`R^2` for regressors.

    References
    ----------
    Bruzzone, L. and Marconcini, M. (2010). Domain adaptation problems: a
    DASVM classification technique and a circular validation strategy. IEEE
    TPAMI 32(5).
    Zhong, E. et al. (2010). Cross validation framework to choose amongst
    models and datasets for transfer learning. ECML PKDD.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.domain_adaptation import CircularValidation, DomainAdaptedEstimator
    >>> rng = np.random.RandomState(1)
    >>> centres = np.repeat([[-3.0, 0.0], [3.0, 0.0]], 40, axis=0)
    >>> Xs, ys = centres + rng.randn(80, 2), np.repeat([0, 1], 40)
    >>> X = np.r_[Xs, 1.5 * Xs + 10.0]               # scaled, shifted target
    >>> y = np.r_[ys, -np.ones(80, int)]
    >>> score = CircularValidation()(DomainAdaptedEstimator().fit(X, y), X, y)
    >>> bool(score > 0.95)
    True
    """

    def __init__(self, scoring=None):
        self.scoring = scoring

    def _score(self, estimator, X, y, source, target):
        yt_hat = np.asarray(predict_as_target(estimator, X[target]))
        Xs, ys = X[source], y[source]
        if is_classifier(estimator) and np.unique(yt_hat).shape[0] < 2:
            # a one-class labelling cannot train the reverse model: it says
            # every source row is that class
            return accuracy_score(ys, np.full(len(ys), yt_hat[0], dtype=yt_hat.dtype))
        rev = _fit_reverse(estimator, X, source, target, yt_hat, y.dtype)
        if self.scoring is not None:
            return get_scorer(self.scoring)(rev, Xs, ys)
        pred = predict_as_target(rev, Xs)
        metric = accuracy_score if is_classifier(estimator) else r2_score
        return metric(ys, pred)


def assortativity(G, labels):
    r"""Newman's assortativity coefficient of ``labels`` on the graph ``G``.

    With :math:`e_{cd}` the fraction of edge ends joining a class-:math:`c`
    node to a class-:math:`d` node and :math:`a_c = \sum_d e_{cd}`,

    .. math:: r = \frac{\sum_c e_{cc} - \sum_c a_c^2}{1 - \sum_c a_c^2},

    1 when no edge joins two classes, 0 for labels independent of the graph.
    A labelling with a single class (or a graph without edges) gives 0.
    """
    _, code = np.unique(labels, return_inverse=True)
    code = code.ravel()
    k = int(code.max()) + 1 if code.size else 0
    G = csr_matrix(G)
    if k < 2 or G.nnz == 0:
        return 0.0
    rows, cols = G.nonzero()
    E = np.zeros((k, k))
    np.add.at(E, (code[rows], code[cols]), np.asarray(G[rows, cols]).ravel())
    E /= E.sum()
    a = E.sum(axis=1)
    chance = float(a @ a)
    return float((np.trace(E) - chance) / (1.0 - chance)) if chance < 1 else 0.0


def neighbourhood_graph(X, n_neighbors="auto"):
    r"""Symmetric radius graph: radius = median distance to the k-th neighbour.

    ``n_neighbors='auto'`` is :math:`k = \lceil\sqrt{n}\rceil`, a radius that
    shrinks as the sample grows while the expected degree grows.

    One radius for every point (an epsilon-graph), so a dense region has
    more edges than a sparse one and a class boundary drawn through it cuts
    more of them: the graph measures density along a boundary, which a
    k-nearest-neighbour graph (k edges per point whatever the density) does
    not.
    """
    n = X.shape[0]
    k = int(np.ceil(np.sqrt(n))) if n_neighbors == "auto" else int(n_neighbors)
    k = min(k, n - 1)
    if k < 1:
        return csr_matrix((n, n))
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    radius = float(np.median(dist[:, k]))
    if radius <= 0:
        return csr_matrix((n, n))
    G = radius_neighbors_graph(X, radius, mode="connectivity", include_self=False)
    return G.maximum(G.T)


class AssortativityScorer(_DomainScorer):
    r"""How well the predicted target classes follow the target's own clusters.

    The target rows are joined in a neighbourhood graph with one radius for
    all (``neighbourhood_graph``: the median distance to the
    ``n_neighbors``-th neighbour), and the score is Newman's assortativity
    coefficient of the predicted classes on it (``assortativity``):
    the share of edges inside a predicted class, corrected for the share a
    labelling independent of the graph would have,

    .. math:: r = \frac{\sum_c e_{cc} - \sum_c a_c^2}{1 - \sum_c a_c^2}.

    It reads the cluster assumption (Chapelle & Zien 2005): a good
    adaptation puts its class boundaries through the low-density gaps of the
    target, cutting few edges, while a classifier left on the source's
    boundaries cuts through target clusters; the chance correction makes a
    single-class labelling score 0 rather than 1. It uses no label at all
    (the source rows are not needed) and is invariant to renaming classes,
    so it cannot see a labelling with the classes swapped. Classifiers only.

    Parameters
    ----------
    n_neighbors : int >= 1 or 'auto', default='auto'
        Sets the graph radius (the median distance to this neighbour);
        'auto' is the square root of the number of target rows.

    References
    ----------
    Newman, M. E. J. (2003). Mixing patterns in networks. Phys. Rev. E 67.
    Chapelle, O. and Zien, A. (2005). Semi-supervised classification by low
    density separation. AISTATS.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.domain_adaptation import AssortativityScorer, DomainAdaptedEstimator
    >>> rng = np.random.RandomState(0)
    >>> Xs = np.r_[rng.randn(50, 2) - 3, rng.randn(50, 2) + 3]
    >>> ys = np.r_[np.zeros(50, int), np.ones(50, int)]
    >>> X, y = np.r_[Xs, Xs + [0.0, 8.0]], np.r_[ys, -np.ones(100, int)]
    >>> model = DomainAdaptedEstimator().fit(X, y)
    >>> round(AssortativityScorer()(model, X, y), 2)
    1.0
    """

    _needs_source = False

    def __init__(self, n_neighbors="auto"):
        self.n_neighbors = n_neighbors

    def _score(self, estimator, X, y, source, target):
        return self._assortativities([estimator], X[target])[0]

    def _assortativities(self, estimators, Xt):
        for est in estimators:
            self._check_classifier(est)
        G = neighbourhood_graph(Xt, self.n_neighbors)
        return [assortativity(G, np.asarray(predict_as_target(e, Xt))) for e in estimators]

    @staticmethod
    def _check_classifier(estimator):
        if not is_classifier(estimator):
            raise ValueError(
                "AssortativityScorer scores class labellings; for a regressor "
                "use CircularValidation or ImportanceWeightedScorer."
            )

    def score_candidates(self, estimators, X, y=None, sample_domain=None):
        """Score several fitted models on the same rows, building one graph.

        Parameters
        ----------
        estimators : list of fitted classifiers
            The models to compare.
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,) or None
            Labels with the target rows masked (read only for the domains).
        sample_domain : array-like of int or None
            >= 0 source, < 0 target.

        Returns
        -------
        scores : list of float
            One assortativity per estimator.
        """
        X = check_array(X, dtype=[np.float64, np.float32])
        y = None if y is None else np.asarray(y)
        _, target = self._domains(X, y, sample_domain, estimators[0])
        return self._assortativities(estimators, X[target])
