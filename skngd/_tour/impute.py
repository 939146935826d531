"""Tour section: imputing 20% MCAR holes in load_wine with a Gaussian fitted by EM."""

import numpy as np
from sklearn.datasets import load_wine
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.preprocessing import StandardScaler

from skngd._tour import Row, timed_fit


def run():
    from skngd.impute import GaussianEMImputer

    X_full = StandardScaler().fit_transform(load_wine().data)
    rng = np.random.default_rng(0)
    X = X_full.copy()
    mask = rng.random(X.shape) < 0.2
    X[mask] = np.nan
    task = "impute wine (20% MCAR)"
    models = [
        ("skngd GaussianEMImputer", GaussianEMImputer()),
        ("sklearn IterativeImputer", IterativeImputer(random_state=0)),
        ("sklearn KNNImputer", KNNImputer()),
        ("sklearn SimpleImputer", SimpleImputer()),
    ]
    rows = []
    for name, est in models:
        est, t = timed_fit(est, X)
        err = float(np.sqrt(np.mean((est.transform(X)[mask] - X_full[mask]) ** 2)))
        note = ""
        if isinstance(est, GaussianEMImputer):
            note = f"{est.n_iter_} EM updates; mean log-lik {est.score(X):.2f}"
        rows.append(Row(task, name, t, err, "RMSE on holes (std units)", note))
    return rows
