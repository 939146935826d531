"""scikit-optimize and Optuna search spaces and arguments, read without importing either.

A value of ``param_distributions`` whose class comes from ``skopt.space`` or
``optuna.distributions`` is recognised by its class name and read through its
public attributes:

==============================================  ==================================
scikit-optimize / Optuna                         skngd dimension
==============================================  ==================================
``skopt.space.Real(low, high, prior)``           ``Real(low, high, prior)``
``skopt.space.Integer(low, high, prior)``        ``Integer(low, high, prior)``
``skopt.space.Categorical(categories)``          ``Categorical(categories)``
``FloatDistribution(low, high, log=b)``          ``Real(low, high, 'log-uniform' if b)``
``FloatDistribution(low, high, step=s)``         the grid ``low, low + s, ..., high``
``IntDistribution(low, high, log=b, step=s)``    ``Integer`` (``s == 1``) or the grid
``CategoricalDistribution(choices)``             ``Categorical(choices)``
==============================================  ==================================

Optuna's deprecated ``UniformDistribution``, ``LogUniformDistribution``,
``DiscreteUniformDistribution``, ``IntUniformDistribution`` and
``IntLogUniformDistribution`` map the same way. A range with ``low == high`` is the
single value. Arguments that only exist in scikit-optimize's ``BayesSearchCV`` or
Optuna's ``OptunaSearchCV`` raise a ``TypeError`` that names the skngd equivalent.
"""

import math
import numbers

import numpy as np

from skngd.utils._warnings import warn

from ._space import Categorical, Dimension, Integer, Real


class SteppedDimension(Dimension):
    """The grid ``low, low + step, ..., high`` (Optuna's ``step``), searched by index.

    Parameters
    ----------
    low, high : float or int
        First value and upper bound (``high`` is kept if it lies on the grid).
    step : float or int
        Spacing, > 0.
    integer : bool
        Whether values are ``int`` (IntDistribution) or ``float``.

    Examples
    --------
    >>> from skngd.model_selection._foreign import SteppedDimension
    >>> d = SteppedDimension(0.0, 1.0, 0.25, integer=False)
    >>> [v for v, _, _ in d.grid()]
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """

    finite = True

    def __init__(self, low, high, step, integer):
        if not (isinstance(step, numbers.Real) and step > 0 and np.isfinite(step)):
            raise ValueError(f"step must be a positive number, got {step!r}.")
        self.low, self.high, self.step, self.integer = low, high, step, integer
        self.size = int(math.floor((high - low) / step + 1e-9)) + 1
        if self.size < 2:
            raise ValueError(f"the grid from {low!r} to {high!r} by {step!r} has "
                             "fewer than two values.")
        self._index = Integer(0, self.size - 1)

    def __repr__(self):
        return f"SteppedDimension({self.low!r}, {self.high!r}, {self.step!r})"

    def _value(self, i):
        v = self.low + i * self.step
        return int(v) if self.integer else float(round(v, 12))

    def encode(self, value):
        return self._index.encode(int(round((value - self.low) / self.step)))

    def decode(self, u):
        return self._value(self._index.decode(u))

    def key(self, value):
        return int(round((value - self.low) / self.step))

    def values(self):
        return [self._value(i) for i in range(self.size)]

    def grid(self):
        return [(self._value(i), e, i) for i, e, _ in self._index.grid()]

    @property
    def bin_width(self):
        return self._index.bin_width


def _origin(value):
    mod = type(value).__module__ or ""
    for lib in ("skopt", "optuna"):
        if mod == lib or mod.startswith(lib + "."):
            return lib, type(value).__name__
    return None, None


def _range(low, high, *, integer, log, step, where):
    if low == high:
        return Categorical([int(low) if integer else float(low)])
    prior = "log-uniform" if log else "uniform"
    if integer:
        step = 1 if step is None else step
        if step == 1:
            return Integer(int(low), int(high), prior=prior)
        return SteppedDimension(int(low), int(high), int(step), integer=True)
    if step is None:
        return Real(float(low), float(high), prior=prior)
    return SteppedDimension(float(low), float(high), float(step), integer=False)


def _from_skopt(name, value, where):
    if name == "Categorical":
        prior = getattr(value, "prior", None)
        if prior is not None and len(set(np.round(np.asarray(prior, float), 12))) > 1:
            warn(f"{where}: the prior weights of skopt's Categorical are "
                 "ignored; every category is searched alike.", UserWarning)
        return Categorical(list(value.categories))
    prior = getattr(value, "prior", "uniform")
    if prior not in ("uniform", "log-uniform"):
        raise ValueError(f"{where}: skopt prior {prior!r} is not supported; use "
                         "'uniform' or 'log-uniform'.")
    return _range(value.low, value.high, integer=name == "Integer",
                  log=prior == "log-uniform", step=None, where=where)


def _from_optuna(name, value, where):
    if name == "CategoricalDistribution":
        return Categorical(list(value.choices))
    log = bool(getattr(value, "log", name.endswith("LogUniformDistribution")))
    step = getattr(value, "step", getattr(value, "q", None))
    return _range(value.low, value.high, integer=name.startswith("Int"), log=log,
                  step=step, where=where)


_SKOPT = {"Real", "Integer", "Categorical"}
_OPTUNA = {"FloatDistribution", "IntDistribution", "CategoricalDistribution",
           "UniformDistribution", "LogUniformDistribution",
           "DiscreteUniformDistribution", "IntUniformDistribution",
           "IntLogUniformDistribution"}


def foreign_dimension(value, where):
    """A :class:`Dimension` for a skopt or Optuna space object, else None."""
    lib, name = _origin(value)
    if lib == "skopt" and name in _SKOPT:
        return _from_skopt(name, value, where)
    if lib == "optuna" and name in _OPTUNA:
        return _from_optuna(name, value, where)
    if lib is not None:
        raise ValueError(f"{where}: {lib} object {name} is not a search dimension "
                         "skngd can read; use Real, Integer or Categorical.")
    return None


def check_tuple_shorthand(value, where):
    """Refuse skopt's ``(low, high, prior)`` tuple; warn on a ``(low, high)`` pair."""
    if not isinstance(value, tuple) or len(value) not in (2, 3):
        return
    nums = all(isinstance(v, numbers.Real) and not isinstance(v, bool)
               for v in value[:2])
    if not nums:
        return
    if len(value) == 3 and value[2] in ("uniform", "log-uniform"):
        raise ValueError(
            f"{where} is {value!r}, scikit-optimize's (low, high, prior) shorthand; "
            f"write Real({value[0]!r}, {value[1]!r}, prior={value[2]!r}) (or Integer) "
            "here, since a tuple is a list of values in RandomizedSearchCV."
        )
    if len(value) == 2:
        warn(
            f"{where} is the tuple {value!r}: searched as {len(value)} categorical "
            "values, as RandomizedSearchCV does. For scikit-optimize's range "
            f"shorthand write Real({value[0]!r}, {value[1]!r}) or Integer(...).",
            UserWarning,
        )


_ACQ = {"EI": "ei", "PI": "pi", "LCB": "ucb", "gp_hedge": "ei", "EIps": "ei",
        "PIps": "pi"}


def _optimizer_kwargs_hint(kwargs):
    parts = []
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    if "n_initial_points" in kwargs:
        parts.append(f"n_initial_points={kwargs['n_initial_points']!r}")
    if "acq_func" in kwargs:
        parts.append(f"acquisition={_ACQ.get(kwargs['acq_func'], 'ei')!r}")
    for k in ("xi", "kappa"):
        v = (kwargs.get("acq_func_kwargs") or {}).get(k)
        if v is not None:
            parts.append(f"{k}={v!r}")
    ignored = sorted(set(kwargs) - {"n_initial_points", "acq_func", "acq_func_kwargs"})
    hint = ("pass " + ", ".join(parts) + " to the constructor" if parts else
            "use the constructor arguments n_initial_points, acquisition ('ei', "
            "'pi', 'ucb', 'ts'), xi and kappa")
    if ignored:
        hint += f"; {', '.join(ignored)} have no equivalent (the surrogate is a GP)"
    return hint


_HINTS = {
    "search_spaces": "scikit-optimize's search_spaces is param_distributions here "
                     "(a dict, or a list of dicts for a conditional space; "
                     "(dict, n_iter) pairs are not supported)",
    "n_points": "use batch_size (candidates per call to evaluate_candidates)",
    "fit_params": "pass fit parameters to fit(X, y, **params), as in scikit-learn",
    "iid": "scikit-learn removed iid; folds are weighted equally",
    "n_trials": "Optuna's n_trials is n_iter here",
    "timeout": "pass callbacks=[f] where f(results) returns True once the time "
               "budget is spent",
    "study": "pass checkpoint='file.sqlite' to keep and resume a search",
    "enable_pruning": "pruning is not supported",
    "max_iter": "pruning (and its max_iter) is not supported",
    "subsample": "subsampling the data is not supported",
    "catch": "use error_score (a number or 'raise'), as in scikit-learn",
}


def check_foreign_arguments(cls, kwargs):
    """Raise a TypeError naming the skngd equivalent of a skopt/Optuna argument."""
    for name in kwargs:
        if name == "optimizer_kwargs":
            hint = _optimizer_kwargs_hint(kwargs[name])
        elif name in _HINTS:
            hint = _HINTS[name]
        else:
            continue
        raise TypeError(f"{cls.__name__}() got an unexpected keyword argument "
                        f"{name!r}: {hint}.")


def check_foreign_fit_params(params, estimator):
    """skopt's ``fit(X, y, callback=...)``: point to ``callbacks=``."""
    if "callback" not in params:
        return
    from inspect import signature

    try:
        accepted = signature(estimator.fit).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return
    if "callback" not in accepted and not any(p.kind == p.VAR_KEYWORD
                                              for p in accepted.values()):
        raise TypeError("fit() got callback=, scikit-optimize's fit argument; pass "
                        "callbacks=[...] to the constructor instead (each receives "
                        "the results so far and returns True to stop).")
