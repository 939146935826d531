"""skngd: scikit-learn-compatible estimators fitted by second-order and
bound-optimisation methods (natural gradient, MM, EM, IRLS), with Numba cores.

Public names are imported lazily (PEP 562), so ``import skngd`` stays cheap:
nothing heavy (Numba, POT, statsmodels) is loaded until a name is used.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:  # pragma: no cover - depends on how the package was installed
    __version__ = version("skngd")
except PackageNotFoundError:  # pragma: no cover
    __version__ = "0.0.0+unknown"

# public name -> module that defines it
_LAZY = {
    "LogisticRegression": "skngd.linear_model",
    "GeneralizedLinearRegressor": "skngd.linear_model",
    "PoissonRegressor": "skngd.linear_model",
    "GammaRegressor": "skngd.linear_model",
    "TweedieRegressor": "skngd.linear_model",
    "StudentTRegressor": "skngd.linear_model",
    "LogisticRegressionCV": "skngd.linear_model",
    "GeneralizedLinearRegressorCV": "skngd.linear_model",
    "GaussianEMImputer": "skngd.impute",
    "OTDomainAdapter": "skngd.domain_adaptation",
    "DomainAdaptedEstimator": "skngd.domain_adaptation",
    "BayesSearchCV": "skngd.model_selection",
    "CMAESSearchCV": "skngd.model_selection",
}
_SUBMODULES = (
    "linear_model",
    "impute",
    "domain_adaptation",
    "model_selection",
    "ot",
    "plotting",
    "utils",
)

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return import_module(f"skngd.{name}")
    raise AttributeError(f"module 'skngd' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
