"""Label-free choice between adaptation candidates and no adaptation."""

import warnings

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.utils import Bunch

from skngd.domain_adaptation._adapter import OTDomainAdapter
from skngd.domain_adaptation._maps import cost_spread
from skngd.domain_adaptation._scorers import AssortativityScorer

PASSTHROUGH = "passthrough"
# the candidates' Sinkhorn stopping rule: an L1 marginal error of 1e-4 moves
# a barycentric image by ~1e-4 of the target spread, far below what changes
# a classifier, at a fraction of the iterations 1e-9 needs at small reg
_CANDIDATE_TOL, _CANDIDATE_MAX_ITER = 1e-4, 5000
# scores within this of the best are ties, won by the candidate listed first
# (no adaptation, then the adapter's own default): differences below it are
# within the spread seen between resamples of a few hundred target rows
BASELINE_MARGIN = 0.02


def default_candidates(Xs, Xt):
    """In order of preference: no adaptation, Sinkhorn at the adapter's
    default blur (0.1), the Gaussian map, Sinkhorn at 0.03 (near-exact
    matching) and at 1 (a strong blur that smooths the map where exact
    matching mixes classes, e.g. large rotations).

    The regularisations are those multiples of the spread of the
    double-centred squared Euclidean cost (see :func:`cost_spread`), given
    to the adapter in raw cost units.
    """
    s = cost_spread(cdist(Xs, Xt, "sqeuclidean"))

    def sinkhorn(r):
        return OTDomainAdapter(
            method="sinkhorn", reg=r * s, max_iter=_CANDIDATE_MAX_ITER, tol=_CANDIDATE_TOL
        )

    return [PASSTHROUGH, sinkhorn(0.1), OTDomainAdapter(method="gaussian"), sinkhorn(0.03), sinkhorn(1.0)]


def candidate_name(adapter):
    """A short readable name: 'no adaptation', "sinkhorn(reg=0.734)", ..."""
    if adapter is None or (isinstance(adapter, str) and adapter == PASSTHROUGH):
        return "no adaptation"
    if isinstance(adapter, OTDomainAdapter):
        if adapter.method in ("sinkhorn", "sinkhorn_class"):
            reg = adapter.reg if isinstance(adapter.reg, str) else f"{adapter.reg:.3g}"
            return f"{adapter.method}(reg={reg})"
        return adapter.method
    return type(adapter).__name__


def default_selection_scorer(task):
    """'auto' for classifiers: :class:`AssortativityScorer`.

    For regressors there is no label-free score that tells a good map from
    no adaptation in general (circular validation of a linear model
    reproduces any labelling of its own, so it ties), so 'auto' selects
    nothing there (None) and the adapter is used as given.
    """
    return AssortativityScorer() if task == "classification" else None


def select(fits, scorer, X, y_masked, sample_domain, margin):
    """Score each fitted candidate and pick one.

    ``fits`` is a list of ``(name, model, caught_warnings)`` in order of
    preference, ``model`` a fitted single-candidate estimator. The chosen
    candidate is the first whose score is within ``margin`` of the best, so
    no adaptation (listed first) is kept unless beaten by more than
    ``margin``. Returns ``(index, Bunch)``.
    """
    models = [m for _, m, _ in fits]
    if hasattr(scorer, "score_candidates"):
        scores = np.asarray(scorer.score_candidates(models, X, y_masked, sample_domain), float)
    else:
        scores = np.array([_safe_score(scorer, m, X, y_masked, sample_domain) for m in models])
    names = [name for name, _, _ in fits]
    if not np.any(np.isfinite(scores)):
        raise ValueError(
            f"selection: {type(scorer).__name__} could not score any candidate "
            f"({', '.join(names)})."
        )
    ranked = np.where(np.isfinite(scores), scores, -np.inf)
    top = int(np.argmax(ranked))
    best = int(np.flatnonzero(ranked >= ranked[top] - margin)[0])
    base = names.index("no adaptation") if "no adaptation" in names else None
    reason = _reason(names, ranked, best, top, base, scorer, margin)
    report = Bunch(
        candidates=names,
        scores=scores,
        chosen=names[best],
        scorer=type(scorer).__name__,
        reason=reason,
    )
    return best, report


def _safe_score(scorer, model, X, y, sample_domain):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(scorer(model, X, y, sample_domain=sample_domain))
        except ValueError:
            return np.nan


def _reason(names, scores, best, top, base, scorer, margin):
    name = getattr(scorer, "__name__", type(scorer).__name__)
    text = f"{names[best]!r} has {name} {scores[best]:.3f}"
    if best != top:
        text += (
            f", within {margin:g} of the best ({names[top]!r}, {scores[top]:.3f}), "
            "and comes first in the order of preference"
        )
    elif base is not None and best == base:
        text += f"; no candidate beats it by more than {margin:g}"
    if base is not None and best != base:
        text += f"; no adaptation scores {scores[base]:.3f}"
    others = [f"{n} {s:.3f}" for i, (n, s) in enumerate(zip(names, scores)) if i != best]
    return text + (f" (others: {', '.join(others)})" if others else "")
