"""Fits and predictions on Dask arrays (``pip install skngd[dask]``).

The estimators' ``fit`` / ``predict`` hooks call :func:`is_dask` and, for a
Dask collection, the functions here. Dask itself is imported only inside
them: importing skngd never imports Dask.
"""

from skngd._dask._input import is_dask


def fit_logistic(est, X, y, sample_weight=None, auto_solver=None):
    from skngd._dask.logistic import fit_logistic as fit

    return fit(est, X, y, sample_weight, auto_solver)


def fit_glm(est, X, y, sample_weight=None, offset=None):
    from skngd._dask.glm import fit_glm as fit

    return fit(est, X, y, sample_weight, offset)


def fit_imputer(est, X):
    from skngd._dask.impute import fit_imputer as fit

    return fit(est, X)


def predict(est, method, X, **kwargs):
    from skngd._dask._predict import predict as run

    return run(est, method, X, **kwargs)


__all__ = ["fit_glm", "fit_imputer", "fit_logistic", "is_dask", "predict"]
