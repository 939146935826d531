"""Tour section: robust regression with Student-t errors (diabetes with
gross outliers injected into the training targets)."""

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skngd._tour import Row, timed_fit


def _data():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    rng = np.random.default_rng(0)
    out = rng.random(len(ytr)) < 0.2  # 20% of the training targets corrupted
    ytr = ytr.copy()
    ytr[out] += rng.uniform(300, 900, size=out.sum())
    return Xtr, Xte, ytr, yte, out


def run():
    import sklearn.linear_model as sklm

    from skngd.linear_model import StudentTRegressor

    Xtr, Xte, ytr, yte, out = _data()
    task = "diabetes, 20% outliers in y"
    rows = []
    for label, est in [("skngd StudentTRegressor() [default]", StudentTRegressor()),
                       ("skngd StudentTRegressor(nu=4)", StudentTRegressor(nu=4.0)),
                       ("skngd StudentTRegressor(nu='auto')", StudentTRegressor(nu="auto"))]:
        est, t = timed_fit(est, Xtr, ytr)
        # how well the per-sample weights separate corrupted from clean rows
        flagged = np.mean(est.weights_[out] < est.weights_[~out].min())
        rows.append(Row(task, label, t, est.score(Xte, yte), "clean test R2",
                        f"nu={est.nu_:.2g}, {est.n_iter_} iters, {flagged:.0%} of outliers "
                        "weighted below every clean row"))
    for label, est in [("sklearn HuberRegressor", sklm.HuberRegressor(max_iter=1000)),
                       ("sklearn LinearRegression", sklm.LinearRegression())]:
        est, t = timed_fit(est, Xtr, ytr)
        rows.append(Row(task, label, t, est.score(Xte, yte), "clean test R2"))
    oracle, t = timed_fit(sklm.LinearRegression(), Xtr[~out], ytr[~out])
    rows.append(Row(task, "oracle: OLS on clean rows", t, oracle.score(Xte, yte),
                    "clean test R2"))
    return rows
