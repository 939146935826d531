"""The second-order spine: both linear-model stacks run on it, and a new inner
solve or a new family is a few lines (doc/developer/linear_core.rst)."""

import numpy as np
import pytest

from skngd._loss import Binomial, Family
from skngd._loss.linear_loss import LinearModelLoss
from skngd._solvers import second_order
from skngd._solvers.newton import LogisticNewton, newton
from skngd._solvers.second_order import (
    Direction,
    SecondOrderSolver,
    converged,
    gradient_tol,
    objective_tol,
)
from skngd.linear_model import GeneralizedLinearRegressor, LogisticRegression


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    beta = np.array([0.4, -0.3, 0.2, 0.1])
    return X, beta, rng


def test_glm_and_logistic_enter_the_same_solver_module(monkeypatch, data):
    X, beta, rng = data
    entered = []
    solve = SecondOrderSolver.solve

    def spy(self, coef0=None):
        # the loop that runs is the template's: no subclass overrides solve
        owner = next(c for c in type(self).__mro__ if "solve" in c.__dict__)
        entered.append((type(self).__name__, owner))
        return solve(self, coef0)

    monkeypatch.setattr(SecondOrderSolver, "solve", spy)
    y_count = rng.poisson(np.exp(X @ beta))
    GeneralizedLinearRegressor(family="poisson").fit(X, y_count)
    LogisticRegression(solver="newton").fit(X, (X @ beta + rng.normal(size=400)) > 0)
    kinds = {name for name, _ in entered}
    assert {"GLMNewton", "LogisticNewton"} <= kinds
    assert {owner for _, owner in entered} == {SecondOrderSolver}
    assert SecondOrderSolver.__module__ == second_order.__name__


def test_a_new_inner_solve_is_a_few_lines(data):
    """An inner solve is one callable ``(M, g, solver) -> Direction``: here a
    least-squares solve, which reaches Cholesky's optimum."""
    X, beta, rng = data
    y = ((X @ beta + rng.normal(size=400)) > 0).astype(float)
    loss = LinearModelLoss(Binomial(), X, y, l2_reg_strength=1.0)

    class LstsqSolve:
        def __call__(self, M, g, solver=None):
            d = -np.linalg.lstsq(M, g, rcond=None)[0]
            return Direction(d, -float(g @ d), kind="lstsq")

    solver = LogisticNewton(loss, tol=1e-10)
    solver.inner = LstsqSolve()
    res = solver.solve(loss.zeros())
    ref = newton(loss, loss.zeros(), tol=1e-10)
    assert res.converged and ref.converged
    np.testing.assert_allclose(res.coef, ref.coef, rtol=1e-9, atol=1e-12)


def test_a_new_family_is_a_few_lines(data):
    """A family is its variance, unit deviance, support and (for Newton with a
    non-canonical link) ``variance_power``; it runs on the NumPy path of the
    same solver. A power variance mu**1.5 written from scratch fits like
    Tweedie(1.5)."""
    X, beta, rng = data

    class Power15(Family):
        name = "power_1.5"
        variance_power = 1.5
        canonical_link = "log"
        y_support = (0.0, np.inf, True, False)

        def variance(self, mu):
            return np.asarray(mu, dtype=float) ** 1.5

        def unit_deviance(self, y, mu):
            return 4.0 * (y / np.sqrt(mu) + np.sqrt(mu) - 2.0 * np.sqrt(y))

        def loglike(self, y, mu, sample_weight=None, scale=1.0):
            return np.nan  # no closed-form density: a quasi-likelihood family

    assert Power15.code == -1  # unknown to the kernels: NumPy path only
    y = rng.gamma(2.0, np.exp(X @ beta) / 2.0)
    new = GeneralizedLinearRegressor(family=Power15(), link="log", tol=1e-12).fit(X, y)
    ref = GeneralizedLinearRegressor(family="tweedie", power=1.5, link="log",
                                     tol=1e-12).fit(X, y)
    np.testing.assert_allclose(new.coef_, ref.coef_, rtol=1e-9)
    np.testing.assert_allclose(new.intercept_, ref.intercept_, rtol=1e-9)


def test_the_one_stopping_rule():
    assert converged(1e-9, 10.0, 1e-10)
    assert not converged(1.1e-9, 10.0, 1e-10)
    assert converged(1e-23, 0.0, 1e-10)  # |f| floored at 1e-12
    assert gradient_tol(1e-4, np.float64) == pytest.approx(1e-8)
    assert gradient_tol(0.0, np.float64) == (10 * np.finfo(np.float64).eps) ** 2
    assert objective_tol(1e-12) == 1e-12


def test_glm_stops_on_the_spines_rule(monkeypatch):
    """The GLM's stop is second_order.converged with rel_tol = objective_tol(tol)."""
    import skngd._solvers.irls as irls_mod

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = rng.poisson(np.exp(0.3 + X @ [0.2, -0.1, 0.3])).astype(float)
    calls = []

    def spy(subopt, value, rel_tol):
        calls.append(rel_tol)
        return converged(subopt, value, rel_tol)

    monkeypatch.setattr(irls_mod, "converged", spy)
    est = GeneralizedLinearRegressor(family="poisson", tol=1e-9).fit(X, y)
    assert calls and set(calls) == {1e-9}
    assert est.n_iter_ >= 2


@pytest.mark.parametrize("solver", ["newton", "ngd", "mm"])
def test_every_logistic_solver_runs_the_template(monkeypatch, data, solver):
    X, beta, rng = data
    entered = []
    solve = SecondOrderSolver.solve

    def spy(self, coef0=None):
        entered.append(type(self).__name__)
        return solve(self, coef0)

    monkeypatch.setattr(SecondOrderSolver, "solve", spy)
    LogisticRegression(solver=solver).fit(X, (X @ beta + rng.normal(size=400)) > 0)
    assert entered == [{"newton": "LogisticNewton", "ngd": "NaturalGradient",
                        "mm": "AndersonMM"}[solver]]


def test_step_control_is_one_backtracking_loop(monkeypatch, data):
    """Newton / NGD (Armijo) and the GLM (no increase) take their steps
    through the spine's one ``backtrack`` loop, with their own acceptance test."""
    from skngd._solvers import irls

    X, beta, rng = data
    calls = []
    real = second_order.backtrack

    def spy(trial, t0=1.0, max_halvings=40):
        out = real(trial, t0, max_halvings)
        calls.append(out.t)
        return out

    monkeypatch.setattr(second_order, "backtrack", spy)
    monkeypatch.setattr(irls, "backtrack", spy)
    y = (X @ beta + rng.logistic(size=len(X)) > 0).astype(int)
    LogisticRegression(solver="newton").fit(X, y)
    n_logistic = len(calls)
    GeneralizedLinearRegressor(family="poisson").fit(X, rng.poisson(np.exp(X @ beta)))
    assert n_logistic > 0 and len(calls) > n_logistic


def test_backtrack_halves_until_accepted_then_gives_up():
    from skngd._solvers._result import StopReason

    seen = []

    def accept_below(t):
        seen.append(t)
        return second_order.StepSearch(t, -1.0) if t <= 0.25 else None

    assert second_order.backtrack(accept_below).t == 0.25 and seen == [1.0, 0.5, 0.25]
    seen.clear()
    out = second_order.backtrack(lambda t: seen.append(t), max_halvings=3)
    assert out.status is StopReason.STEP_FAILED and seen == [1.0, 0.5, 0.25, 0.125]
