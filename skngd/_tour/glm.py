"""Tour section: GLMs by IRLS beside scikit-learn and statsmodels (diabetes).

Fit times exclude one-time costs (an untimed warm-up fit per estimator).
"""

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skngd._tour import Row, timed_fit


def _data():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def run():
    import sklearn.linear_model as sklm

    from skngd.linear_model import GammaRegressor, PoissonRegressor

    Xtr, Xte, ytr, yte = _data()
    rows = []
    counts_tr, counts_te = np.round(ytr / 10.0), np.round(yte / 10.0)
    tasks = [
        ("diabetes gamma-log", GammaRegressor, sklm.GammaRegressor, ytr, yte, "gamma"),
        ("diabetes/10 Poisson", PoissonRegressor, sklm.PoissonRegressor, counts_tr, counts_te,
         "poisson"),
    ]
    for task, ours_cls, sk_cls, y_tr, y_te, family in tasks:
        # one-time costs (loading the cached Numba kernels, first-call imports)
        # are paid by an untimed warm-up fit of each estimator
        ours_cls().fit(Xtr[:50], y_tr[:50])
        sk_cls().fit(Xtr[:50], y_tr[:50])
        ours, t = timed_fit(ours_cls(alpha=1e-3), Xtr, y_tr)
        sk, t_sk = timed_fit(sk_cls(alpha=1e-3, solver="newton-cholesky", tol=1e-10), Xtr, y_tr)
        gap = np.max(np.abs(ours.coef_ - sk.coef_))
        n_sig = int(np.sum(np.abs(ours.coef_ / ours.coef_stderr_) > 1.96))
        rows.append(Row(task, f"skngd {ours_cls.__name__}", t, ours.score(Xte, y_te), "test D2",
                        f"{n_sig}/10 coefs |z|>1.96; max|coef - sklearn| {gap:.1e}"))
        rows.append(Row(task, f"sklearn {sk_cls.__name__}", t_sk, sk.score(Xte, y_te), "test D2",
                        "no standard errors"))
        try:
            import statsmodels.api as sm
        except ImportError:  # pragma: no cover - optional baseline
            continue
        fam = sm.families.Gamma(sm.families.links.Log()) if family == "gamma" else sm.families.Poisson()
        model = sm.GLM(y_tr, sm.add_constant(Xtr), family=fam)
        import time

        t0 = time.perf_counter()
        res = model.fit()
        t_sm = time.perf_counter() - t0
        mu = res.predict(sm.add_constant(Xte))
        ours0 = ours_cls(alpha=0.0).fit(Xtr, y_tr)
        d2 = 1 - ours0._family_.deviance(y_te, mu) / ours0._family_.deviance(
            y_te, np.full_like(y_te, y_te.mean()))
        rows.append(Row(task, "statsmodels GLM (alpha=0)", t_sm, d2, "test D2",
                        f"AIC {res.aic:.1f} vs skngd {ours0.aic_:.1f}"))
    return rows
