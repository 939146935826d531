"""CMA-ES engine against the `cmaes` package on standard test functions."""

import numpy as np
import pytest

from skngd.model_selection._cmaes import CMAES

N = 10
Q = np.linalg.qr(np.random.default_rng(0).standard_normal((N, N)))[0]
FUNCS = {
    "sphere": (lambda x: (x**2).sum(), 3.0),
    "rosenbrock": (lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum(), 0.0),
    "rotated_ellipsoid": (lambda x: (1e6 ** (np.arange(N) / (N - 1)) * (Q @ x) ** 2).sum(), 3.0),
}


def _ours(f, x0, seed, budget=30000):
    es = CMAES(np.full(N, x0), 1.0, random_state=np.random.default_rng(seed))
    n, best = 0, np.inf
    while best > 1e-8 and n < budget:
        X = es.ask()
        v = np.array([f(x) for x in X])
        n, best = n + len(X), min(best, v.min())
        es.tell(X, v)
    return n, best


def _reference(f, x0, seed, budget=30000):
    cmaes = pytest.importorskip("cmaes")
    opt = cmaes.CMA(mean=np.full(N, x0), sigma=1.0, seed=seed)
    n, best = 0, np.inf
    while best > 1e-8 and n < budget:
        sols = []
        for _ in range(opt.population_size):
            x = opt.ask()
            sols.append((x, f(x)))
            best = min(best, sols[-1][1])
        n += len(sols)
        opt.tell(sols)
    return n, best


@pytest.mark.parametrize(
    "name",
    ["sphere", pytest.param("rosenbrock", marks=pytest.mark.slow),
     pytest.param("rotated_ellipsoid", marks=pytest.mark.slow)],
)
def test_reaches_1e8_within_reference_budget(name):
    f, x0 = FUNCS[name]
    ours = [_ours(f, x0, s) for s in range(3)]
    ref = [_reference(f, x0, s) for s in range(3)]
    # every run of ours reaches the target (Rosenbrock's local optimum aside: at
    # least 2 of 3), with a median budget within 1.6x of the reference package
    reached = [b <= 1e-8 for _, b in ours]
    assert sum(reached) >= (2 if name == "rosenbrock" else 3)
    n_ours = np.median([n for n, b in ours if b <= 1e-8])
    n_ref = np.median([n for n, b in ref if b <= 1e-8])
    assert n_ours <= 1.6 * n_ref, (n_ours, n_ref)


def test_sphere_budget_matches_hansen_order_of_magnitude():
    f, x0 = FUNCS["sphere"]
    n, best = _ours(f, x0, 0)
    assert best <= 1e-8 and n < 2500  # ~1500 evaluations expected for n=10


def test_box_constraints_and_margin_keep_integers_moving():
    widths = np.array([1 / 8, 1 / 8, 0.0])
    es = CMAES(np.full(3, 0.5), 0.3, bounds=(0.0, 1.0), margin_widths=widths,
               random_state=np.random.default_rng(0))
    target = np.array([0.3, 0.7, 0.2])
    for _ in range(200):
        X = es.ask()
        assert np.all((X >= 0) & (X <= 1))
        snapped = X.copy()  # integer coordinates are evaluated at their bin centre
        snapped[:, :2] = (np.minimum(np.floor(X[:, :2] * 8), 7) + 0.5) / 8
        es.tell(X, ((snapped - target) ** 2).sum(1))
    sd = es.marginal_sd
    # the continuous coordinate converges; the integer ones keep their margin
    assert sd[2] < 1e-6
    from scipy.stats import norm
    alpha = 1 / (3 * es.lam)
    assert np.all(sd[:2] >= widths[:2] / (2 * norm.ppf(1 - alpha / 2)) * (1 - 1e-9))
    assert abs(es.mean[2] - 0.2) < 1e-4
