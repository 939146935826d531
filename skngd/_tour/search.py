"""Tour section: BayesSearchCV and CMAESSearchCV beside RandomizedSearchCV (digits SVC)."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold
from sklearn.svm import SVC

from skngd._tour import Row, timed_fit


def run():
    from skngd.model_selection import BayesSearchCV, CMAESSearchCV, Real

    X, y = load_digits(return_X_y=True)
    X, y = X[::3] / 16.0, y[::3]
    space = {"C": Real(1e-2, 1e3, "log-uniform"), "gamma": Real(1e-5, 1e-1, "log-uniform")}
    kw = dict(n_iter=15, cv=StratifiedKFold(3), random_state=0)
    task = "digits/3 SVC C,gamma (15 evals)"
    rows = []
    for name, cls in (("skngd BayesSearchCV", BayesSearchCV),
                      ("skngd CMAESSearchCV", CMAESSearchCV),
                      ("sklearn RandomizedSearchCV", RandomizedSearchCV)):
        s, t = timed_fit(cls(SVC(), space, **kw), X, y)
        scores = s.cv_results_["mean_test_score"]
        first = int(np.argmax(scores >= scores.max() - 1e-12)) + 1
        rows.append(Row(task, name, t, s.best_score_, "best CV accuracy",
                        f"best found at evaluation {first}; C={s.best_params_['C']:.3g}"
                        f", gamma={s.best_params_['gamma']:.2g}"))
    return rows
