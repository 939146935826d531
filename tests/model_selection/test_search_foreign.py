"""scikit-optimize and Optuna users swap their search space and arguments as they are."""

import math

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from skngd.model_selection import BayesSearchCV, CMAESSearchCV, SearchSpace

SEARCHES = [BayesSearchCV, CMAESSearchCV]


def _stand_in(module, name, **attrs):
    """An object of class ``name`` from ``module``, with attributes ``attrs``."""
    cls = type(name, (), {"__module__": module})
    obj = cls()
    obj.__dict__.update(attrs)
    return obj


def _optuna_stand_ins():
    mod = "optuna.distributions"
    return {
        "lr": _stand_in(mod, "FloatDistribution", low=1e-4, high=1.0, log=True,
                        step=None),
        "frac": _stand_in(mod, "FloatDistribution", low=0.1, high=0.9, log=False,
                          step=0.2),
        "depth": _stand_in(mod, "IntDistribution", low=1, high=9, log=False, step=2),
        "leaves": _stand_in(mod, "IntDistribution", low=2, high=256, log=True, step=1),
        "kind": _stand_in(mod, "CategoricalDistribution", choices=("a", None, 3)),
        "fixed": _stand_in(mod, "IntDistribution", low=4, high=4, log=False, step=1),
        "old_q": _stand_in(mod, "DiscreteUniformDistribution", low=0.0, high=1.0,
                           q=0.25),
    }


def _skopt_stand_ins():
    mod = "skopt.space.space"
    return {
        "C": _stand_in(mod, "Real", low=1e-3, high=1e3, prior="log-uniform", base=10),
        "l1": _stand_in(mod, "Real", low=0.0, high=1.0, prior="uniform"),
        "k": _stand_in(mod, "Integer", low=1, high=50, prior="log-uniform"),
        "kind": _stand_in(mod, "Categorical", categories=("x", "y"), prior=None),
    }


def _check_optuna_values(p):
    assert 1e-4 <= p["lr"] <= 1.0 and isinstance(p["lr"], float)
    assert p["frac"] in (0.1, 0.3, 0.5, 0.7, 0.9)
    assert p["depth"] in (1, 3, 5, 7, 9) and isinstance(p["depth"], int)
    assert 2 <= p["leaves"] <= 256 and isinstance(p["leaves"], int)
    assert p["kind"] in ("a", None, 3) and p["fixed"] == 4
    assert p["old_q"] in (0.0, 0.25, 0.5, 0.75, 1.0)


@pytest.mark.parametrize("seed", range(5))
def test_optuna_distributions_map_onto_the_search_space(seed):
    space = SearchSpace(_optuna_stand_ins())
    rng = np.random.default_rng(seed)
    for _ in range(50):
        params, u, _ = space.canonical(rng.uniform(size=space.n_columns))
        _check_optuna_values(params)
        assert space.canonical(u)[0] == params
    grid = {v for v, _, _ in space.subspaces[0].dims[
        space.subspaces[0].names.index("frac")].grid()}
    assert grid == {0.1, 0.3, 0.5, 0.7, 0.9}


def test_log_scales_are_kept():
    space = SearchSpace(_optuna_stand_ins())
    lr = space.subspaces[0].dims[space.subspaces[0].names.index("lr")]
    assert lr.decode(np.array([0.5])) == pytest.approx(1e-2)
    space = SearchSpace(_skopt_stand_ins())
    C = space.subspaces[0].dims[space.subspaces[0].names.index("C")]
    assert C.decode(np.array([0.5])) == pytest.approx(1.0)


class _Model(Ridge):
    def __init__(self, alpha=1.0, lr=0.1, frac=0.5, depth=1, leaves=2, kind="a",
                 fixed=4, old_q=0.0):
        super().__init__(alpha=alpha)
        self.lr, self.frac, self.depth, self.leaves = lr, frac, depth, leaves
        self.kind, self.fixed, self.old_q = kind, fixed, old_q


@pytest.mark.parametrize("cls", SEARCHES)
def test_a_search_over_optuna_style_distributions(cls):
    X, y = load_diabetes(return_X_y=True)
    s = cls(_Model(), _optuna_stand_ins(), n_iter=8, cv=2, random_state=0).fit(X, y)
    for p in s.cv_results_["params"]:
        _check_optuna_values(p)


def test_real_optuna_distributions():
    d = pytest.importorskip("optuna.distributions")
    space = {"lr": d.FloatDistribution(1e-4, 1.0, log=True),
             "frac": d.FloatDistribution(0.1, 0.9, step=0.2),
             "depth": d.IntDistribution(1, 9, step=2),
             "leaves": d.IntDistribution(2, 256, log=True),
             "kind": d.CategoricalDistribution(["a", None, 3]),
             "fixed": d.IntDistribution(4, 4),
             "old_q": d.FloatDistribution(0.0, 1.0, step=0.25)}
    X, y = load_diabetes(return_X_y=True)
    s = BayesSearchCV(_Model(), space, n_iter=6, cv=2, random_state=0).fit(X, y)
    for p in s.cv_results_["params"]:
        _check_optuna_values(p)


@pytest.mark.parametrize("real", [False, True])
def test_skopt_dimensions(real):
    if real:
        sp = pytest.importorskip("skopt.space")
        space = {"C": sp.Real(1e-3, 1e3, prior="log-uniform"), "l1": sp.Real(0, 1),
                 "k": sp.Integer(1, 50, prior="log-uniform"),
                 "kind": sp.Categorical(["x", "y"])}
    else:
        space = _skopt_stand_ins()
    s = SearchSpace(space)
    rng = np.random.default_rng(0)
    for _ in range(100):
        p = s.decode(rng.uniform(size=s.n_columns))
        assert 1e-3 <= p["C"] <= 1e3 and 0 <= p["l1"] <= 1
        assert 1 <= p["k"] <= 50 and isinstance(p["k"], int) and p["kind"] in "xy"
    k = s.subspaces[0].dims[s.subspaces[0].names.index("k")]
    # log scale over the bins [0.5, 50.5]: the middle is sqrt(0.5 * 50.5) = 5.02
    assert k.decode(np.array([0.5])) == round(math.sqrt(0.5 * 50.5))


def test_skopt_categorical_prior_weights_are_ignored_with_a_warning():
    c = _stand_in("skopt.space.space", "Categorical", categories=("x", "y"),
                  prior=[0.9, 0.1])
    with pytest.warns(UserWarning, match=r"param_distributions\['c'\].*prior"):
        SearchSpace({"c": c})


def test_unknown_foreign_objects_and_priors_are_refused():
    with pytest.raises(ValueError, match="optuna object Trial"):
        SearchSpace({"c": _stand_in("optuna.trial", "Trial")})
    bad = _stand_in("skopt.space.space", "Real", low=0.0, high=1.0, prior="normal")
    with pytest.raises(ValueError, match="skopt prior 'normal'"):
        SearchSpace({"c": bad})


def test_skopt_tuple_shorthand():
    with pytest.raises(ValueError, match=r"Real\(0.001, 1000.0, prior='log-uniform'\)"):
        SearchSpace({"C": (1e-3, 1e3, "log-uniform")})
    with pytest.warns(UserWarning, match="searched as 2 categorical values"):
        space = SearchSpace({"C": (1, 10)})
    assert space.size() == 2
    SearchSpace({"kind": ("a", "b")})  # strings: a plain list of values, no warning


@pytest.mark.parametrize("cls", SEARCHES)
@pytest.mark.parametrize("kwargs, hint", [
    ({"search_spaces": {"alpha": [1.0]}}, "search_spaces is param_distributions"),
    ({"n_points": 3}, "use batch_size"),
    ({"fit_params": {"sample_weight": None}}, r"fit\(X, y, \*\*params\)"),
    ({"iid": False}, "removed iid"),
    ({"optimizer_kwargs": {"acq_func": "LCB", "n_initial_points": 7,
                           "acq_func_kwargs": {"kappa": 3.0}, "base_estimator": "RF"}},
     "acquisition='ucb'.*n_initial_points=7|n_initial_points=7.*acquisition='ucb'"),
    ({"n_trials": 30}, "n_trials is n_iter"),
    ({"timeout": 60}, "time budget"),
    ({"study": None}, "checkpoint="),
])
def test_skopt_and_optuna_arguments_name_the_equivalent(cls, kwargs, hint):
    with pytest.raises(TypeError, match=hint) as info:
        cls(Ridge(), {"alpha": [1.0, 2.0]}, **kwargs)
    assert repr(next(iter(kwargs))) in str(info.value)


def test_optimizer_kwargs_without_equivalent_are_named():
    with pytest.raises(TypeError, match="base_estimator have no equivalent"):
        BayesSearchCV(Ridge(), {"alpha": [1.0]}, optimizer_kwargs={"acq_func": "EI",
                                                                    "base_estimator": "ET"})


def test_skopt_fit_callback_points_to_callbacks():
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(TypeError, match="callbacks="):
        BayesSearchCV(Ridge(), {"alpha": [1.0, 2.0]}, n_iter=2).fit(
            X, y, callback=lambda r: False)


def test_real_skopt_search_runs_and_swaps():
    sp = pytest.importorskip("skopt.space")
    X, y = load_diabetes(return_X_y=True)
    s = BayesSearchCV(Ridge(), {"alpha": sp.Real(1e-3, 1e2, prior="log-uniform"),
                                "fit_intercept": sp.Categorical([True, False])},
                      n_iter=6, cv=3, random_state=0).fit(X, y)
    assert all(1e-3 <= p["alpha"] <= 1e2 for p in s.cv_results_["params"])
