"""Tour section: digits whose target half went through a fixed random affine
feature shift; an SVC trained on the source, with and without OT adaptation.

Every skngd model runs at its defaults: ``DomainAdaptedEstimator()`` chooses
its adapter without target labels (``selection='auto'``), the single-method
rows use ``OTDomainAdapter(method=...)`` as given."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from skngd._tour import Row, timed_fit


def _shifted_digits(seed=0):
    X, y = load_digits(return_X_y=True)
    rng = np.random.RandomState(seed)
    idx = rng.permutation(len(X))
    s, t = idx[:900], idx[900:]
    A = np.eye(X.shape[1]) + 0.3 * rng.randn(X.shape[1], X.shape[1]) / 8
    shift = 4 * rng.randn(X.shape[1])
    return X[s], y[s], X[t] @ A + shift, y[t]


def run():
    from skngd.domain_adaptation import DomainAdaptedEstimator, OTDomainAdapter

    Xs, ys, Xt, yt = _shifted_digits()
    X = np.r_[Xs, Xt]
    y = np.r_[ys, -np.ones(len(Xt), dtype=int)]  # target labels masked
    task = "digits, affine-shifted target"
    metric = "target accuracy"
    rows = []
    svc, t = timed_fit(SVC(), Xs, ys)
    rows.append(Row(task, "sklearn SVC (source only)", t, svc.score(Xt, yt), metric,
                    "no adaptation"))
    est, t = timed_fit(DomainAdaptedEstimator(), X, y)
    rows.append(Row(task, "skngd DomainAdaptedEstimator()", t, est.score(Xt, yt), metric,
                    f"defaults; chose {est.selection_.chosen}"))
    for method in ("sinkhorn", "emd", "gaussian"):
        est = DomainAdaptedEstimator(OTDomainAdapter(method=method), SVC(), selection=None)
        est, t = timed_fit(est, X, y)
        ad = est.adapter_
        note = f"n_iter_={ad.n_iter_}, cost_={ad.cost_:.4g}"
        if ad.reg_ is not None:
            note += f", reg_={ad.reg_:.3g} (reg='auto')"
        rows.append(Row(task, f"skngd OT '{method}' + SVC", t, est.score(Xt, yt), metric, note))
    try:  # the same mapping through POT's ot.da (imported only here)
        import ot

        tr, t_ot = timed_fit(ot.da.EMDTransport(), Xs=Xs, Xt=Xt)
        clf, t_svc = timed_fit(SVC(), tr.transform(Xs=Xs), ys)
        rows.append(Row(task, "POT EMDTransport + SVC", t_ot + t_svc,
                        clf.score(Xt, yt), metric, "reference for 'emd'",
                        warnings=t_ot.warnings + t_svc.warnings))
    except ImportError:  # pragma: no cover - POT is a dependency
        pass
    return rows
