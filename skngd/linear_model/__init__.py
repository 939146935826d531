"""Linear models: LogisticRegression (NGD / MM / Newton), the IRLS GLMs with
inference, StudentTRegressor, regularisation paths and the CV classes.

Names are imported on first use (PEP 562), so ``from skngd import
LogisticRegression`` does not load the GLM or Student-t modules (and their
Numba kernels) it does not need.
"""

from importlib import import_module

_LAZY = {
    "LogisticRegression": "skngd.linear_model._logistic",
    "GeneralizedLinearRegressor": "skngd.linear_model._glm",
    "PoissonRegressor": "skngd.linear_model._glm_distributions",
    "GammaRegressor": "skngd.linear_model._glm_distributions",
    "TweedieRegressor": "skngd.linear_model._glm_distributions",
    "StudentTRegressor": "skngd.linear_model._student_t",
    "make_offset_scorer": "skngd.linear_model._glm_scoring",
    "LogisticRegressionCV": "skngd.linear_model._logistic_cv",
    "GeneralizedLinearRegressorCV": "skngd.linear_model._glm_cv",
    "RegularizationPath": "skngd.linear_model._path",
    "regularization_path": "skngd.linear_model._path",
    "logistic_regression_path": "skngd.linear_model._path",
    "glm_path": "skngd.linear_model._path",
    "max_penalty": "skngd.linear_model._path",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skngd.linear_model' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
