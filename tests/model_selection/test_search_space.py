"""Search-space encoding: round trips, validity of decoded points, bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from skngd.model_selection import Categorical, Integer, Real, SearchSpace

SPACE = [
    {
        "C": stats.loguniform(1e-3, 1e3),
        "l1": stats.uniform(0.2, 0.5),
        "k": stats.randint(2, 40),
        "n": Integer(1, 1000, prior="log-uniform"),
        "g": stats.norm(0.0, 2.0),
        "kind": ["a", None, 3.5],
    },
    {"alpha": Real(-2.0, 5.0), "solver": Categorical(["x"]), "m": [1, 2]},
]


def _in_space(params):
    if "C" in params:
        return (1e-3 <= params["C"] <= 1e3 and 0.2 <= params["l1"] <= 0.7
                and 2 <= params["k"] <= 39 and isinstance(params["k"], int)
                and 1 <= params["n"] <= 1000 and isinstance(params["n"], int)
                and np.isfinite(params["g"]) and params["kind"] in ("a", None, 3.5))
    return -2 <= params["alpha"] <= 5 and params["solver"] == "x" and params["m"] in (1, 2)


@given(st.lists(st.floats(0, 1), min_size=13, max_size=13))
def test_any_point_of_the_cube_decodes_into_the_space(u):
    space = SearchSpace(SPACE)
    assert space.n_columns == 2 + 8 + 3  # head + first block + second block
    params = space.decode(np.array(u))
    assert _in_space(params)
    # canonical form is a fixed point
    p2, u2, key = space.canonical(np.array(u))
    assert space.canonical(u2)[2] == key
    np.testing.assert_allclose(space.canonical(u2)[1], u2)


@given(st.integers(0, 10**6))
def test_round_trip_encode_decode(seed):
    rng = np.random.default_rng(seed)
    space = SearchSpace(SPACE)
    params = space.decode(rng.uniform(size=space.n_columns))
    back = space.decode(space.encode(params))
    assert back.keys() == params.keys()
    for k, v in params.items():
        if isinstance(v, float):
            assert back[k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
        else:
            assert back[k] == v and type(back[k]) is type(v), k


@pytest.mark.parametrize("prior", ["uniform", "log-uniform"])
def test_integer_round_trip_and_equal_share(prior):
    d = Integer(1, 20, prior=prior)
    for v in range(1, 21):
        assert d.decode(d.encode(v)) == v
    grid = np.linspace(0, 1, 20001)
    counts = np.bincount([d.decode([g]) for g in grid], minlength=21)[1:]
    assert counts.min() > 0
    if prior == "uniform":
        assert counts.max() - counts.min() <= 2


def test_scipy_distributions_map_to_native_dimensions():
    space = SearchSpace({"a": stats.loguniform(1e-2, 1e2), "b": stats.randint(0, 5),
                         "c": stats.uniform(1, 2), "d": stats.expon()})
    dims = dict(zip(space.subspaces[0].names, space.subspaces[0].dims))
    assert isinstance(dims["a"], Real) and dims["a"].prior == "log-uniform"
    assert isinstance(dims["b"], Integer) and (dims["b"].low, dims["b"].high) == (0, 4)
    assert isinstance(dims["c"], Real) and (dims["c"].low, dims["c"].high) == (1, 3)
    # expon is searched through its CDF: the cube midpoint is the median
    u = np.full(space.n_columns, 0.5)
    assert space.decode(u)["d"] == pytest.approx(np.log(2))
    assert space.decode(u)["a"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "space, match",
    [
        ({}, "param_distributions is empty"),
        ([], "param_distributions is empty"),
        ({"C": []}, r"param_distributions\['C'\].*empty"),
        ({"C": "abc"}, r"param_distributions\['C'\].*unknown distribution"),
        ({"C": 3.0}, r"param_distributions\['C'\].*unknown distribution"),
        ({"C": stats.poisson(3)}, r"param_distributions\['C'\].*unsupported"),
        ([{"a": [1]}, {}], r"param_distributions\[1\] is empty"),
    ],
)
def test_bad_spaces_raise_naming_the_parameter(space, match):
    with pytest.raises(ValueError, match=match):
        SearchSpace(space)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Real(1.0, 1.0), r"low \(1.0\) must be < high"),
        (lambda: Real(2.0, 1.0), r"low \(2.0\) must be < high"),
        (lambda: Integer(5, 2), r"low \(5\) must be < high"),
        (lambda: Real(0.0, 1.0, prior="log-uniform"), "low > 0"),
        (lambda: Integer(-1, 4, prior="log-uniform"), "low > 0"),
        (lambda: Real(0.0, 1.0, prior="normal"), "prior must be one of"),
        (lambda: Integer(0.5, 3), "low must be an integer"),
        (lambda: Categorical([]), "values must not be empty"),
    ],
)
def test_bad_dimensions_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_enumerate_finite_space():
    space = SearchSpace([{"a": [1, 2, 3], "b": Integer(0, 1)}, {"c": ["x", "y"]}])
    allc = space.enumerate()
    assert len(allc) == space.size() == 8
    assert len({k for _, _, k in allc}) == 8
