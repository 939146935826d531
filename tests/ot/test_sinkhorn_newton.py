"""The Newton finish of :func:`skngd.ot.sinkhorn` (Newton on the entropic dual)."""

import decimal
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import skngd.ot._newton as N
import skngd.ot._sinkhorn as S
from skngd.ot import sinkhorn


def _problem(n, m, seed, scale=1.0):
    """The draw of ``test_sinkhorn_properties``."""
    rng = np.random.RandomState(seed)
    M = rng.rand(n, m) * scale
    a, b = rng.rand(n) + 0.05, rng.rand(m) + 0.05
    return a / a.sum(), b / b.sum(), M


def _sweep_problem(seed):
    """A random-sweep draw: sizes, then the cost and weights, from one stream."""
    rng = np.random.RandomState(seed)
    n, m = rng.randint(1, 13, 2)
    M = rng.rand(n, m)
    a, b = rng.rand(n) + 0.05, rng.rand(m) + 0.05
    return a / a.sum(), b / b.sum(), M


def _errors(P, a, b):
    return np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()


@pytest.fixture
def sinkhorn_only(monkeypatch):
    """sinkhorn without the Newton finish (the solver before it existed)."""
    monkeypatch.setattr(S, "newton_horizon", lambda n, m: np.inf)


HARD = {
    "n=11 m=12 seed=0": (*_problem(11, 12, 0), 10**-2.5),
    "sweep seed=260 (n=m=11)": (*_sweep_problem(260), 10**-2.5),
    "n=11 m=12 seed=0 scale=1e3": (*_problem(11, 12, 0, 1e3), 10**-2.5 * 1e3),
}


@pytest.mark.parametrize("name", list(HARD))
def test_hard_instances_converge_with_newton(name):
    a, b, M, reg = HARD[name]
    res = sinkhorn(a, b, M, reg, tol=1e-9, max_iter=5000)
    assert res.converged and res.marginal_error < 1e-9
    assert 0 < res.n_newton_iter <= res.n_iter < 500
    # the certificate of entropic optimality: Gibbs form and feasible marginals
    P = np.exp((res.f[:, None] + res.g[None, :] - M) / reg)
    np.testing.assert_allclose(res.plan, P, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(res.plan.sum(1), a, atol=1e-9)
    np.testing.assert_allclose(res.plan.sum(0), b, atol=1e-9)


@pytest.mark.parametrize("name", list(HARD)[:2])
def test_hard_instances_stall_sinkhorn_alone(name, sinkhorn_only):
    """Why the finish exists: Sinkhorn's linear rate needs far more than 5000."""
    a, b, M, reg = HARD[name]
    with pytest.warns(ConvergenceWarning, match="max_iter=5000"):
        res = sinkhorn(a, b, M, reg, tol=1e-9, max_iter=5000)
    assert not res.converged and res.n_newton_iter == 0


def test_hard_instance_matches_long_sinkhorn(monkeypatch):
    a, b, M, reg = HARD["n=11 m=12 seed=0"]
    res = sinkhorn(a, b, M, reg, tol=1e-12, max_iter=5000)
    with monkeypatch.context() as mp:
        mp.setattr(S, "newton_horizon", lambda n, m: np.inf)
        ref = sinkhorn(a, b, M, reg, tol=1e-13, max_iter=100_000)  # ~15,000 iterations
    assert ref.converged and res.converged and res.n_newton_iter > 0
    np.testing.assert_allclose(res.plan, ref.plan, atol=1e-10, rtol=0)
    assert abs(res.cost - ref.cost) < 1e-10


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("reg", [1.0, 0.1, 0.01])
def test_newton_and_sinkhorn_agree_on_easy_problems(seed, reg, sinkhorn_only):
    rng = np.random.RandomState(seed)
    n, m = rng.randint(2, 30, 2)
    M = rng.rand(n, m)
    a, b = rng.rand(n) + 0.1, rng.rand(m) + 0.1
    a, b = a / a.sum(), b / b.sum()
    ref = sinkhorn(a, b, M, reg, tol=1e-13, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = sinkhorn(a, b, M, reg, max_iter=3)
    f, g, n_iter, status = N.newton_finish(M, a, b, start.f, start.g, reg, 1e-12, 100)
    assert status == "converged" and n_iter <= 30
    P = np.exp((f[:, None] + g[None, :] - M) / reg)
    assert _errors(P, a, b) < 1e-12
    np.testing.assert_allclose(P, ref.plan, atol=1e-9, rtol=0)
    # same potentials up to the gauge f + c, g - c
    shift = f - ref.f
    np.testing.assert_allclose(shift, shift.mean(), atol=1e-9 * max(1.0, reg))
    np.testing.assert_allclose(g - ref.g, -shift.mean(), atol=1e-9 * max(1.0, reg))


def test_forced_switch_agrees_with_sinkhorn(monkeypatch):
    """Through the public function: a zero horizon hands over at the first
    rate check; the plan equals Sinkhorn's."""
    a, b, M = _problem(25, 18, 7)
    ref = sinkhorn(a, b, M, 0.01, tol=1e-12, max_iter=100_000)
    monkeypatch.setattr(S, "newton_horizon", lambda n, m: 0.0)
    res = sinkhorn(a, b, M, 0.01, tol=1e-12, max_iter=5000)
    assert res.converged and res.n_newton_iter > 0
    np.testing.assert_allclose(res.plan, ref.plan, atol=1e-9, rtol=0)


def _degenerate():
    a, b, M = _problem(6, 5, 3)
    yield "n=1", np.ones(1), np.full(7, 1 / 7), np.random.RandomState(0).rand(1, 7)
    yield "m=1", np.full(6, 1 / 6), np.ones(1), np.random.RandomState(1).rand(6, 1)
    yield "1x1", np.ones(1), np.ones(1), np.array([[0.3]])
    yield "duplicated rows", np.r_[a[:3] / 2, a[:3] / 2, a[3:]], b, np.r_[M[:3], M[:3], M[3:]]
    yield "duplicated columns", a, np.r_[b[:2] / 2, b[2:], b[:2] / 2], np.c_[M, M[:, :2]]
    yield "constant cost", np.full(5, 0.2), np.full(4, 0.25), np.ones((5, 4))


@pytest.mark.parametrize("case", list(_degenerate()), ids=lambda c: c[0])
@pytest.mark.parametrize("reg", [1e-3, 1e-2, 1.0])
def test_newton_gauge_and_degenerate_cases(case, reg, sinkhorn_only):
    """One side of size 1 (the whole Hessian block is the gauge), repeated rows
    or columns (a rank-deficient plan), a constant cost: the pinned potential
    removes the null direction and Newton still converges quadratically."""
    _, a, b, M = case
    ref = sinkhorn(a, b, M, reg, tol=1e-13, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = sinkhorn(a, b, M, reg, max_iter=2)
    for f0, g0 in [(start.f, start.g), (start.f + 5.0, start.g - 5.0)]:  # any gauge
        f, g, _, status = N.newton_finish(M, a, b, f0, g0, reg, 1e-12, 100)
        assert status == "converged"
        P = np.exp((f[:, None] + g[None, :] - M) / reg)
        assert _errors(P, a, b) < 1e-12 and np.all(np.isfinite(f))
        np.testing.assert_allclose(P, ref.plan, atol=1e-10, rtol=0)


def test_newton_keeps_going_while_far_from_rounding():
    """Full Newton steps may raise the marginal error while the dual rises
    (sweep seed 558 at reg=1e-2: 1.4e-2 -> 2.5e-2); that is not a stall.
    Giving up there cost 1731 iterations, Sinkhorn alone needs 2651."""
    a, b, M = _sweep_problem(558)
    res = sinkhorn(a, b, M, 1e-2, tol=1e-9, max_iter=5000)
    assert res.converged and res.n_iter < 200 and res.n_newton_iter > 0


def test_tol_zero_runs_to_max_iter_at_rounding_level():
    """No hidden floor: tol=0 cannot be met, Newton stops at rounding level,
    Sinkhorn spends the rest of the budget, and the warning says so."""
    a, b, M, reg = HARD["sweep seed=260 (n=m=11)"]
    with pytest.warns(ConvergenceWarning, match="max_iter=3000"):
        res = sinkhorn(a, b, M, reg, tol=0.0, max_iter=3000)
    assert res.n_iter == 3000 and not res.converged
    assert res.marginal_error < 1e-14 and np.all(np.isfinite(res.plan))
    assert res.n_newton_iter < 40


def test_newton_budget_counts_in_n_iter():
    a, b, M, reg = HARD["n=11 m=12 seed=0"]
    full = sinkhorn(a, b, M, reg, tol=1e-9, max_iter=5000)
    budget = full.n_iter - 3  # runs out inside the Newton finish
    with pytest.warns(ConvergenceWarning, match=f"max_iter={budget}"):
        res = sinkhorn(a, b, M, reg, tol=1e-9, max_iter=budget)
    assert res.n_iter == budget and not res.converged and res.n_newton_iter > 0
    # the unconverged plan keeps every row's mass (final exact row update)
    np.testing.assert_allclose(res.plan.sum(1), a, rtol=1e-12)


def test_numba_path_takes_the_same_newton_finish(monkeypatch):
    a, b, M, reg = HARD["n=11 m=12 seed=0"]
    ref = sinkhorn(a, b, M, reg, tol=1e-9, max_iter=5000)
    monkeypatch.setattr(S, "NUMBA_MIN_ENTRIES", 0)
    monkeypatch.setattr(S, "_F32_SWITCH", None)  # float64 sweeps: the same iterates
    jit = sinkhorn(a, b, M, reg, tol=1e-9, max_iter=5000)
    assert jit.converged and jit.n_iter == ref.n_iter
    assert jit.n_newton_iter == ref.n_newton_iter > 0
    np.testing.assert_allclose(jit.plan, ref.plan, atol=1e-12, rtol=0)


def test_dual_change_is_exact_far_below_rounding():
    """sum P (e^x - 1 - x) to full relative precision for tiny and large x
    (what lets the Armijo test run when the dual change is ~1e-25)."""
    decimal.getcontext().prec = 50
    xs = np.r_[-np.logspace(-12, 1.5, 60), np.logspace(-12, 1.5, 60), 1.0, -1.0, 30.0, -30.0]
    for x in xs:
        X = decimal.Decimal(float(x))
        ref = float(X.exp() - 1 - X)
        got = N._loss(np.array([1.0, 0.0]), np.array([x, 0.1]))
        assert abs(got - ref) <= 4e-16 * ref, x


def test_rate_watch_predicts_remaining_iterations():
    """Linear decay err_k = rho^k: the watch fires once the iterations still
    needed to reach tol exceed the horizon, and never for a fast decay."""
    rho, tol = 0.999, 1e-9
    watch = N.RateWatch(horizon=1000, tol=tol)
    fired = next(k for k in range(1, 10_000) if watch.stalled(rho**k))
    assert fired == 2 * N._WINDOW  # log(1e-9) / log(0.999) ~ 20,700 > 1000
    watch = N.RateWatch(horizon=1000, tol=tol)
    assert not any(watch.stalled(0.5**k) for k in range(1, 30))
    watch = N.RateWatch(horizon=1e9, tol=tol)
    assert not any(watch.stalled(rho**k) for k in range(1, 500))
    watch = N.RateWatch(horizon=1e9, tol=tol)  # no decrease at all: stalled
    assert any(watch.stalled(1e-3) for _ in range(100))


def test_random_sweep_converges():
    """A slice of the 1000-draw sweep at reg = 10^-2.5 (all 1000 converge;
    before the Newton finish 43 of them needed more than 5000 iterations)."""
    for seed in range(150, 300):
        a, b, M = _sweep_problem(seed)
        res = sinkhorn(a, b, M, 10**-2.5, tol=1e-9, max_iter=5000)
        assert res.converged and res.marginal_error < 1e-9, seed


def test_newton_horizon_grows_with_size_and_stops_at_the_dense_limit():
    """The switch pays sooner on small problems (a Newton step costs a few
    Sinkhorn iterations) than on large ones; beyond 2^22 cost entries there
    is no dense finish (n = m = 3000 runs exactly the Sinkhorn it ran before)."""
    sizes = [(11, 12), (100, 120), (700, 840), (2000, 2000)]
    horizons = [N.newton_horizon(n, m) for n, m in sizes]
    assert horizons[0] < 100 and np.all(np.diff(horizons) > 0)
    assert np.isfinite(horizons[-1])
    assert N.newton_horizon(3000, 3000) == np.inf == N.newton_horizon(2, 2**22)
