"""Tour section: L1 logistic regression and its regularisation path beside
scikit-learn's (breast_cancer, standardised).

scikit-learn's default solver (lbfgs) has no L1 penalty, so its rows use
``solver='saga'`` (the solver its documentation recommends for ``l1_ratio``),
otherwise at its defaults. The path rows fit 20 values of ``C`` from
scikit-learn's ``l1_min_c`` (every coefficient zero) up 1000-fold, with warm
starts, pick ``C`` on a validation split of the training rows and score the
test rows.
"""

import time

import numpy as np

from skngd._tour import Row, timed_fit
from skngd.utils._sklearn_compat import sklearn_l1_params

TASK = "L1 logistic + path: breast_cancer"
METRIC = "test accuracy"


def _data():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0, stratify=y)
    sc = StandardScaler().fit(Xtr)
    return sc.transform(Xtr), sc.transform(Xte), ytr, yte


def _pick(coefs, intercepts, Xva, yva, Xte, yte):
    """Test accuracy at the path step with the best validation accuracy."""
    def acc(k, X, y):
        return float(np.mean(((X @ coefs[k] + intercepts[k]) > 0) == y))

    best = max(range(len(coefs)), key=lambda k: acc(k, Xva, yva))
    return acc(best, Xte, yte), best


def _sklearn_path(Cs, X, y):
    from sklearn.linear_model import LogisticRegression as SkLR

    est = SkLR(**sklearn_l1_params(1.0), solver="saga", warm_start=True)
    coefs, intercepts = [], []
    for C in Cs:
        est.set_params(C=C).fit(X, y)
        coefs.append(est.coef_[0].copy())
        intercepts.append(float(est.intercept_[0]))
    return coefs, intercepts


def _skngd_path(Cs, X, y):
    from skngd.linear_model import logistic_regression_path

    path = logistic_regression_path(X, y, Cs=Cs, l1_ratio=1.0)
    return [c[0] for c in path.coefs], [float(b[0]) for b in path.intercepts]


def _path_rows(Xtr, Xte, ytr, yte):
    import warnings

    from sklearn.model_selection import train_test_split
    from sklearn.svm import l1_min_c

    Xfit, Xva, yfit, yva = train_test_split(Xtr, ytr, random_state=1, stratify=ytr)
    Cs = l1_min_c(Xfit, yfit, loss="log") * np.logspace(0, 3, 20)
    rows = []
    for name, run in (("skngd logistic_regression_path", _skngd_path),
                      ("sklearn saga, warm-started loop", _sklearn_path)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run(Cs[:3], Xfit, yfit)  # warm-up: one-time costs out of the timing
            t0 = time.perf_counter()
            coefs, intercepts = run(Cs, Xfit, yfit)
            dt = time.perf_counter() - t0
        score, best = _pick(coefs, intercepts, Xva, yva, Xte, yte)
        nnz = [int(np.count_nonzero(c)) for c in coefs]
        note = f"20 Cs, non-zeros {nnz[0]}->{nnz[-1]}; picked C={Cs[best]:.3g} ({nnz[best]} nz)"
        warns = tuple({(w.category.__name__, str(w.message).split("\n")[0]) for w in caught})
        rows.append(Row(TASK, name, dt, score, METRIC, note, warnings=warns))
    return rows


def run():
    from sklearn.linear_model import LogisticRegression as SkLR

    from skngd.linear_model import LogisticRegression

    Xtr, Xte, ytr, yte = _data()
    rows = []
    for name, est in (("skngd LogisticRegression(l1_ratio=1)", LogisticRegression(l1_ratio=1.0)),
                      ("sklearn LogisticRegression(l1_ratio=1)", SkLR(**sklearn_l1_params(1.0),
                                                                     solver="saga"))):
        est, dt = timed_fit(est, Xtr, ytr)
        note = f"{int(np.count_nonzero(est.coef_))} of {est.coef_.size} coefficients non-zero"
        if hasattr(est, "solver_"):
            note += f", solver={est.solver_}"
        else:
            note += ", solver=saga (lbfgs has no L1)"
        rows.append(Row(TASK, name, dt, est.score(Xte, yte), METRIC, note))
    return rows + _path_rows(Xtr, Xte, ytr, yte)
