"""The functional OT core against POT and closed forms."""

import warnings

import numpy as np
import pytest
from hypothesis import example, given, strategies as st
from scipy.spatial.distance import cdist
from sklearn.exceptions import ConvergenceWarning

from skngd.ot import (
    bures_wasserstein,
    emd,
    gaussian_map,
    sinkhorn,
    sinkhorn_group_lasso,
    sinkhorn_online,
)

ot = pytest.importorskip("ot")


def _clouds(n=60, m=70, d=3, seed=0):
    rng = np.random.RandomState(seed)
    Xs = rng.randn(n, d)
    Xt = rng.randn(m, d) @ rng.randn(d, d) * 0.7 + 1.5
    return Xs, Xt


def _cost(Xs, Xt):
    M = cdist(Xs, Xt, "sqeuclidean")
    return M / M.max()


@pytest.mark.parametrize("reg", [1.0, 0.1, 0.01])
def test_sinkhorn_matches_pot_log(reg):
    Xs, Xt = _clouds()
    M = _cost(Xs, Xt)
    a = np.random.RandomState(1).rand(60) + 0.5
    a /= a.sum()
    b = ot.unif(70)
    res = sinkhorn(a, b, M, reg, tol=1e-12, max_iter=100_000)
    ref = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", stopThr=1e-14,
                      numItermax=100_000)
    assert res.converged
    np.testing.assert_allclose(res.plan, ref, atol=1e-8, rtol=0)
    assert res.marginal_error < 1e-12
    np.testing.assert_allclose(res.cost, np.sum(ref * M), atol=1e-8)
    # the plan is exp((f + g - M)/reg)
    np.testing.assert_allclose(
        np.exp((res.f[:, None] + res.g[None] - M) / reg), res.plan, atol=1e-12
    )


def test_sinkhorn_small_reg_stays_finite_where_plain_underflows():
    Xs, Xt = _clouds(40, 50)
    Xs[0] = [-20.0, 0.0, 0.0]  # an outlier: its whole Gibbs row underflows
    M = _cost(Xs, Xt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = ot.sinkhorn(ot.unif(40), ot.unif(50), M, 1e-3, method="sinkhorn")
    plain_err = np.abs(plain.sum(1) - 1 / 40).sum() + np.abs(plain.sum(0) - 1 / 50).sum()
    assert not plain_err < 1e-3
    res = sinkhorn(None, None, M, 1e-3, tol=1e-9, max_iter=20_000)
    assert res.converged and np.all(np.isfinite(res.plan))
    assert res.marginal_error < 1e-9
    # close to the exact (unregularised) optimum
    assert res.cost - emd(None, None, M).cost < 5e-3


def test_sinkhorn_not_converged_warns_and_is_finite():
    M = _cost(*_clouds())
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = sinkhorn(None, None, M, 1e-3, max_iter=3)
    assert not res.converged and res.n_iter == 3
    assert np.all(np.isfinite(res.plan)) and np.isfinite(res.marginal_error)


@pytest.mark.parametrize("reg", [1.0, 0.05])
@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean"])
def test_online_matches_dense(reg, metric):
    Xs, Xt = _clouds(45, 52)
    C = cdist(Xs, Xt, metric)
    res = sinkhorn(None, None, C / C.max(), reg, tol=1e-12, max_iter=50_000)
    onl = sinkhorn_online(Xs, Xt, reg, metric=metric, cost_scale=C.max(),
                          tol=1e-12, max_iter=50_000, n_jobs=2)
    assert onl.plan is None and onl.converged
    plan = np.exp((onl.f[:, None] + onl.g[None] - C / C.max()) / reg)
    np.testing.assert_allclose(plan, res.plan, atol=1e-10)
    np.testing.assert_allclose(onl.cost, res.cost, rtol=1e-8)
    assert onl.marginal_error < 1e-11


def test_emd_matches_pot():
    Xs, Xt = _clouds(80, 90)
    M = cdist(Xs, Xt, "sqeuclidean")
    a = np.random.RandomState(3).rand(80) + 0.1
    a /= a.sum()
    res = emd(a, None, M)
    assert res.converged
    assert abs(res.cost - ot.emd2(a, ot.unif(90), M)) < 1e-10
    assert abs(res.cost - np.sum(res.plan * M)) < 1e-10
    assert res.marginal_error < 1e-12


def test_gaussian_map_closed_form_and_moments():
    rng = np.random.RandomState(0)
    d = 3
    L = rng.randn(d, d)
    Ss = L @ L.T + np.eye(d)
    Lt = rng.randn(d, d)
    St = Lt @ Lt.T + 0.5 * np.eye(d)
    ms, mt = rng.randn(d), rng.randn(d) + 2
    Xs = rng.multivariate_normal(ms, Ss, size=4000)
    Xt = rng.multivariate_normal(mt, St, size=3000)
    T = gaussian_map(Xs, Xt, reg=0.0)
    # closed form on the empirical moments
    es = np.cov(Xs, rowvar=False, bias=True)
    et = np.cov(Xt, rowvar=False, bias=True)
    w, V = np.linalg.eigh(es)
    r = V @ np.diag(np.sqrt(w)) @ V.T
    ri = V @ np.diag(1 / np.sqrt(w)) @ V.T
    w2, V2 = np.linalg.eigh(r @ et @ r)
    A = ri @ (V2 @ np.diag(np.sqrt(w2)) @ V2.T) @ ri
    np.testing.assert_allclose(T.A, A, rtol=1e-8, atol=1e-10)
    # pushes source samples to the target moments (exact in-sample)
    Y = T.transform(Xs)
    np.testing.assert_allclose(Y.mean(0), Xt.mean(0), atol=1e-10)
    np.testing.assert_allclose(np.cov(Y, rowvar=False, bias=True), et, atol=1e-8)
    np.testing.assert_allclose(T.inverse_transform(Y), Xs, atol=1e-8)
    # and agrees with POT's empirical mapping
    A_pot, b_pot = ot.gaussian.empirical_bures_wasserstein_mapping(Xs, Xt, reg=1e-6)
    np.testing.assert_allclose(gaussian_map(Xs, Xt).transform(Xs), Xs @ A_pot + b_pot,
                               atol=1e-6)


def test_bures_wasserstein_commuting():
    rng = np.random.RandomState(1)
    d1, d2 = rng.rand(4) + 0.1, rng.rand(4) + 0.2
    Q, _ = np.linalg.qr(rng.randn(4, 4))
    S1, S2 = Q @ np.diag(d1) @ Q.T, Q @ np.diag(d2) @ Q.T
    m1, m2 = rng.randn(4), rng.randn(4)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(d1) - np.sqrt(d2)) ** 2)
    assert abs(bures_wasserstein(m1, S1, m2, S2, squared=True) - expected) < 1e-12
    assert abs(bures_wasserstein(m1, S1, m2, S2) - np.sqrt(expected)) < 1e-12
    assert bures_wasserstein(m1, S1, m1, S1) < 1e-6


def test_group_lasso_monotone_and_purer_than_pot():
    rng = np.random.RandomState(0)
    Xs = np.r_[rng.randn(30, 2), rng.randn(30, 2) + 3]
    ys = np.r_[np.zeros(30), np.ones(30)]
    Xt = np.r_[rng.randn(25, 2), rng.randn(35, 2) + 3] + [1.0, 0.5]
    M = _cost(Xs, Xt)
    res = sinkhorn_group_lasso(None, None, M, ys, reg=0.05, reg_class=0.5)
    hist = np.array(res.history)
    assert np.all(np.diff(hist) <= 1e-12)
    assert res.marginal_error < 1e-6
    ref = ot.da.sinkhorn_l1l2_gl(ot.unif(60), ys, ot.unif(60), M, 0.05, 0.5)
    from skngd.ot._group_lasso import _groups, _objective

    groups = _groups(ys, 60)
    assert _objective(res.plan, M, 0.05, 0.5, groups) <= (
        _objective(ref, M, 0.05, 0.5, groups) + 1e-6
    )
    # class purity: mass each target point receives from its main class
    purity = np.maximum(res.plan[:30].sum(0), res.plan[30:].sum(0)).sum()
    plain = sinkhorn(None, None, M, 0.05).plan
    assert purity > np.maximum(plain[:30].sum(0), plain[30:].sum(0)).sum()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(reg=0.0), "reg"),
        (dict(reg=-1.0), "reg"),
        (dict(reg=np.nan), "reg"),
        (dict(M=np.array([[0.0, np.nan], [1.0, 0.0]])), "NaN"),
        (dict(M=np.array([[0.0, np.inf], [1.0, 0.0]])), "NaN or infinity"),
        (dict(a=np.array([0.5, 0.6])), "same total mass"),
        (dict(a=np.array([1.0])), "entries"),
        (dict(M=np.zeros((0, 2))), "empty"),
        (dict(max_iter=0), "max_iter"),
    ],
)
def test_sinkhorn_bad_input(kwargs, match):
    args = dict(a=None, b=None, M=np.array([[0.0, 1.0], [1.0, 0.0]]), reg=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sinkhorn(args.pop("a"), args.pop("b"), args.pop("M"), args.pop("reg"), **args)


def test_online_bad_input():
    with pytest.raises(ValueError, match="features"):
        sinkhorn_online(np.zeros((3, 2)), np.zeros((3, 3)), 0.1)
    with pytest.raises(ValueError, match="NaN"):
        sinkhorn_online(np.full((3, 2), np.nan), np.zeros((3, 2)), 0.1)
    with pytest.raises(ValueError, match="metric"):
        sinkhorn_online(np.zeros((3, 2)), np.zeros((3, 2)), 0.1, metric="cosine")


@given(
    n=st.integers(1, 12),
    m=st.integers(1, 12),
    log_reg=st.floats(-2.5, 0.5),
    scale=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**31 - 1),
)
# instances hypothesis found where Sinkhorn alone needs 8,877 and 21,853
# iterations (with the Newton finish: 86 and 61)
@example(n=11, m=12, log_reg=-2.5, scale=1.0, seed=0)
@example(n=6, m=8, log_reg=-2.0, scale=1.0, seed=454)
def test_sinkhorn_properties(n, m, log_reg, scale, seed):
    rng = np.random.RandomState(seed)
    M = rng.rand(n, m) * scale
    a, b = rng.rand(n) + 0.05, rng.rand(m) + 0.05
    a, b = a / a.sum(), b / b.sum()
    reg = 10.0**log_reg * scale
    res = sinkhorn(a, b, M, reg, tol=1e-9, max_iter=5000)
    P = res.plan
    assert res.converged and np.all(np.isfinite(P)) and np.all(P >= 0)
    assert res.marginal_error < 1e-9
    np.testing.assert_allclose(P.sum(1), a, atol=1e-9)
    np.testing.assert_allclose(P.sum(0), b, atol=1e-9)
    # invariance to permuting the rows
    perm = rng.permutation(n)
    res_p = sinkhorn(a[perm], b, M[perm], reg, tol=1e-9, max_iter=5000)
    np.testing.assert_allclose(res_p.plan, P[perm], atol=1e-8)


def test_pot_not_imported_by_import_or_sinkhorn():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "import skngd.ot, skngd.domain_adaptation\n"
        "skngd.ot.sinkhorn(None, None, np.eye(3), 0.5)\n"
        "assert 'ot' not in sys.modules, 'POT imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_small_problems_never_load_numba():
    """Below NUMBA_MIN_ENTRIES cost entries Sinkhorn runs on its NumPy twins:
    a small fit neither imports nor compiles Numba (first use without pauses)."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from skngd.domain_adaptation import DomainAdaptedEstimator, OTDomainAdapter\n"
        "rng = np.random.RandomState(0)\n"
        "X = np.r_[rng.randn(60, 3), rng.randn(50, 3) + 2]\n"
        "y = np.r_[rng.randint(0, 2, 60), -np.ones(50, dtype=int)]\n"
        "OTDomainAdapter().fit(X, y)\n"
        "DomainAdaptedEstimator().fit(X, y)\n"
        "assert 'numba' not in sys.modules, 'Numba imported for a small problem'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _numba_sinkhorn(M, reg, f32_switch, **kw):
    import skngd.ot._sinkhorn as S

    old = S.NUMBA_MIN_ENTRIES, S._F32_SWITCH
    try:
        S.NUMBA_MIN_ENTRIES, S._F32_SWITCH = 0, f32_switch
        return sinkhorn(None, None, M, reg, **kw)
    finally:
        S.NUMBA_MIN_ENTRIES, S._F32_SWITCH = old


def _default_switch():
    import skngd.ot._sinkhorn as S

    return S._F32_SWITCH


def test_numpy_and_numba_sinkhorn_agree():
    rng = np.random.RandomState(3)
    M = rng.rand(40, 30)
    ref = sinkhorn(None, None, M, 0.05)
    jit = _numba_sinkhorn(M, 0.05, None)  # float64 sweeps only: same iterates
    np.testing.assert_allclose(jit.plan, ref.plan, rtol=1e-9, atol=1e-15)
    assert jit.n_iter == ref.n_iter


@pytest.mark.parametrize("tol", [1e-9, 1e-13, 1e-4])
def test_float32_sweeps_reach_the_float64_optimum(tol):
    """The early sweeps read a float32 kernel; the converged plan is the
    float64 one: marginals below ``tol`` (down to rounding) and the same plan
    as the all-float64 solve to the accuracy ``tol`` implies."""
    rng = np.random.RandomState(4)
    M = rng.rand(60, 50) * 3
    exact = _numba_sinkhorn(M, 0.02, None, tol=tol, max_iter=20000)
    mixed = _numba_sinkhorn(M, 0.02, _default_switch(), tol=tol, max_iter=20000)
    assert exact.converged and mixed.converged
    assert mixed.marginal_error < tol
    scale = max(tol, 1e-12) * 1e3
    np.testing.assert_allclose(mixed.plan, exact.plan, rtol=0, atol=scale / M.size)
    assert abs(mixed.cost - exact.cost) <= scale * M.max()
    assert abs(mixed.n_iter - exact.n_iter) <= 3


def _loop_from(g0, f32_switch, monkeypatch):
    import skngd.ot._sinkhorn as S

    monkeypatch.setattr(S, "NUMBA_MIN_ENTRIES", 0)
    monkeypatch.setattr(S, "_F32_SWITCH", f32_switch)
    rng = np.random.RandomState(5)
    M = rng.rand(30, 20)
    a, b = np.full(30, 1 / 30), np.full(20, 1 / 20)
    state = S._Dense(M, a, b, 1)
    eps = 0.5
    f, g, _ = state.log_step(np.zeros(30), g0 * eps, eps, False)
    calls = []
    sweep = state._sweep
    state._sweep = lambda K, v: calls.append(K.dtype) or sweep(K, v)
    f, g, err, it, status = state.scaling_loop(f, g, eps, 1e-11, 5000)
    return f - f.mean(), g + f.mean(), err, status, calls


def test_float32_underflow_falls_back_to_the_exact_kernel(monkeypatch):
    """A column whose Gibbs entries are below float32's range (but not
    float64's) must not stop the loop: that sweep is redone in float64."""
    g0 = np.zeros(20)
    g0[0] = -115.0  # column 0's kernel entries ~ exp(-115) ~ 1e-50 of the rest
    f, g, err, status, calls = _loop_from(g0, _default_switch(), monkeypatch)
    assert calls[0] == np.float32 and calls[1] == np.float64  # redone at once
    assert status == "converged" and err < 1e-11
    fx, gx, _, status_x, calls_x = _loop_from(g0, None, monkeypatch)
    assert status_x == "converged" and set(calls_x) == {np.dtype(np.float64)}
    np.testing.assert_allclose(f, fx, atol=1e-9)
    np.testing.assert_allclose(g, gx, atol=1e-9)


def test_result_fields_are_typed_and_extra_is_their_view():
    M = np.array([[0.0, 1.0], [1.0, 0.0]])
    res = sinkhorn(None, None, M, 0.1)
    assert isinstance(res.n_newton_iter, int) and res.history is None and res.eps_reached is None
    assert res.extra == {"n_newton_iter": res.n_newton_iter}
