"""Fits on Dask arrays equal the in-memory fits (threaded scheduler; the
cluster tests are in test_dask_cluster.py)."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

da = pytest.importorskip("dask.array")

from skngd.impute import GaussianEMImputer  # noqa: E402
from skngd.linear_model import (  # noqa: E402
    GammaRegressor,
    GeneralizedLinearRegressor,
    LogisticRegression,
    PoissonRegressor,
)

CHUNKINGS = [1000, 1777]  # the second leaves a ragged last chunk


def rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _logistic_data(K, n=5201, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    scores = X @ rng.standard_normal((d, K)) + rng.gumbel(size=(n, K))
    y = scores.argmax(axis=1) if K > 2 else (scores[:, 0] > scores[:, 1]).astype(int)
    return X, y, rng.uniform(0.5, 2.0, n)


def _grid(pairs, full):
    """The cases in ``pairs`` in the default run, the rest of ``full`` marked slow
    (every case keeps both chunkings)."""
    return [c if c in pairs else pytest.param(*c, marks=pytest.mark.slow) for c in full]


@pytest.mark.parametrize("solver", ["newton", "ngd", "mm"])
@pytest.mark.parametrize("K, chunk", _grid([(2, 1000), (3, 1777)],
                                           [(K, c) for K in (2, 3) for c in CHUNKINGS]))
def test_logistic_equals_in_memory(K, solver, chunk):
    # NGD above 5000 rows preconditions with a row subsample (gathered once)
    X, y, sw = _logistic_data(K, n=5201 if solver == "ngd" else 3001)
    kw = dict(solver=solver, C=0.5, tol=1e-6)
    ref = LogisticRegression(**kw).fit(X, y, sample_weight=sw)
    est = LogisticRegression(**kw).fit(da.from_array(X, chunks=(chunk, X.shape[1])),
                                       da.from_array(y, chunks=chunk),
                                       sample_weight=da.from_array(sw, chunks=chunk))
    assert rel(est.coef_, ref.coef_) < 1e-8
    assert rel(est.intercept_, ref.intercept_) < 1e-8
    assert est.n_iter_[0] == ref.n_iter_[0]
    np.testing.assert_allclose(est.objective_history_, ref.objective_history_, rtol=1e-10)
    assert est.n_passes_ > 0


def test_logistic_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression as SkLR

    X, y, _ = _logistic_data(3, n=3000)
    ref = SkLR(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y)
    est = LogisticRegression(C=0.5, tol=1e-10, solver="newton").fit(
        da.from_array(X, chunks=(700, 6)), da.from_array(y, chunks=700))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("solver", ["ngd", "newton", "mm"])
def test_logistic_sparse_chunks(solver):
    rng = np.random.default_rng(1)
    X = sp.random(3001, 25, density=0.2, format="csr", random_state=1)
    y = (X @ rng.standard_normal(25) + rng.logistic(size=3001) > 0).astype(int)
    Xd = da.from_array(X, chunks=(800, 25), asarray=False)
    assert sp.issparse(Xd._meta)
    ref = LogisticRegression(solver=solver, tol=1e-6).fit(X, y)
    est = LogisticRegression(solver=solver, tol=1e-6).fit(Xd, da.from_array(y, chunks=800))
    assert rel(est.coef_, ref.coef_) < 1e-8
    proba = est.predict_proba(Xd)
    assert isinstance(proba, da.Array)
    np.testing.assert_allclose(proba.compute(), ref.predict_proba(X), rtol=1e-8)


def test_logistic_predictions_are_lazy_and_chunk_wise():
    X, y, _ = _logistic_data(3, n=2500)
    Xd = da.from_array(X, chunks=(600, 6))
    est = LogisticRegression(solver="newton").fit(Xd, da.from_array(y, chunks=600))
    for method in ("decision_function", "predict_proba", "predict_log_proba", "predict"):
        out = getattr(est, method)(Xd)
        assert isinstance(out, da.Array) and out.chunks[0] == Xd.chunks[0]
        np.testing.assert_allclose(out.compute(), getattr(est, method)(X), rtol=1e-12)
    assert est.predict(Xd).dtype == est.classes_.dtype


def test_logistic_class_weight_and_labels():
    X, y, _ = _logistic_data(2, n=3000)
    labels = np.array(["neg", "pos"])[y]
    for cw in ("balanced", {"neg": 2.0, "pos": 0.5}):
        ref = LogisticRegression(class_weight=cw, solver="newton").fit(X, labels)
        est = LogisticRegression(class_weight=cw, solver="newton").fit(
            da.from_array(X, chunks=(1000, 6)), da.from_array(labels, chunks=1000))
        assert rel(est.coef_, ref.coef_) < 1e-8
        assert list(est.classes_) == ["neg", "pos"]


def test_dask_dataframe_input():
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y, _ = _logistic_data(2, n=2000)
    df = dd.from_pandas(pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), npartitions=3)
    ys = dd.from_pandas(pd.Series(y), npartitions=3)
    est = LogisticRegression(solver="newton").fit(df, ys)
    ref = LogisticRegression(solver="newton").fit(X, y)
    assert rel(est.coef_, ref.coef_) < 1e-8
    assert est.n_features_in_ == 6


def _glm_data(n=6007, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = 0.3 * rng.standard_normal((n, d))
    off = rng.uniform(-0.5, 0.5, n)
    eta = X @ rng.standard_normal(d) * 0.5 + 0.2 + off
    return X, eta, off, rng.uniform(0.5, 2.0, n), rng


@pytest.mark.parametrize("case, chunk", _grid(
    [("poisson", 1000), ("gamma", 1777), ("normal", 1777)],
    [(f, c) for f in ("poisson", "gamma", "normal") for c in CHUNKINGS]))
def test_glm_equals_in_memory(case, chunk):
    X, eta, off, sw, rng = _glm_data()
    est_cls, y, kw = {
        "poisson": (PoissonRegressor, rng.poisson(np.exp(eta)).astype(float), {"alpha": 0.01}),
        "gamma": (GammaRegressor, rng.gamma(2.0, np.exp(eta) / 2.0), {}),
        "normal": (GeneralizedLinearRegressor, eta + rng.standard_normal(eta.size),
                   {"family": "normal"}),
    }[case]
    ref = est_cls(tol=1e-10, **kw).fit(X, y, sample_weight=sw, offset=off)
    c = (chunk,)
    est = est_cls(tol=1e-10, **kw).fit(
        da.from_array(X, chunks=(chunk, X.shape[1])), da.from_array(y, chunks=c),
        sample_weight=da.from_array(sw, chunks=c), offset=da.from_array(off, chunks=c))
    assert rel(est.coef_, ref.coef_) < 1e-8
    assert abs(est.intercept_ - ref.intercept_) < 1e-8 * max(1.0, abs(ref.intercept_))
    for attr in ("covariance_", "deviance_", "null_deviance_", "scale_", "llf_", "aic_"):
        assert rel(getattr(est, attr), getattr(ref, attr)) < 1e-8, attr
    assert est.n_iter_ <= ref.n_iter_
    mu = est.predict(da.from_array(X, chunks=(chunk, X.shape[1])), offset=off)
    assert isinstance(mu, da.Array)
    np.testing.assert_allclose(mu.compute(), ref.predict(X, offset=off), rtol=1e-8)


def test_glm_sparse_chunks():
    rng = np.random.default_rng(3)
    X = sp.random(3000, 12, density=0.3, format="csr", random_state=3)
    y = rng.poisson(np.exp(X @ rng.uniform(-0.5, 0.5, 12))).astype(float)
    ref = PoissonRegressor(alpha=1e-3, tol=1e-10).fit(X, y)
    est = PoissonRegressor(alpha=1e-3, tol=1e-10).fit(
        da.from_array(X, chunks=(700, 12), asarray=False), da.from_array(y, chunks=700))
    assert rel(est.coef_, ref.coef_) < 1e-8


@pytest.mark.parametrize("init, chunk", _grid(
    [("complete_rows", 1777), ("pairwise", 1000)],
    [("complete_rows", 1000), ("complete_rows", 1777), ("mean", 1777), ("pairwise", 1000)]))
def test_em_imputer_equals_in_memory(init, chunk):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3003, 6)) @ rng.standard_normal((6, 6)) + 1.0
    X[rng.random(X.shape) < 0.3] = np.nan
    X[:3] = np.nan  # rows with nothing observed
    kw = dict(init=init, tol=1e-10, max_iter=300, add_indicator=True)
    ref = GaussianEMImputer(**kw).fit(X)
    Xd = da.from_array(X, chunks=(chunk, 6))
    est = GaussianEMImputer(**kw).fit(Xd)
    assert rel(est.mean_, ref.mean_) < 1e-8
    assert rel(est.covariance_, ref.covariance_) < 1e-8
    assert est.n_iter_ == ref.n_iter_
    out = est.transform(Xd)
    assert isinstance(out, da.Array) and out.shape == (3003, 12)
    np.testing.assert_allclose(out.compute(), ref.transform(X), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(est.fit_transform(Xd).compute(), ref.transform(X),
                               rtol=1e-8, atol=1e-10)


def test_em_imputer_empty_feature_is_refused():
    X = np.random.default_rng(0).standard_normal((300, 3))
    X[:, 1] = np.nan
    with pytest.raises(ValueError, match="no observed value"):
        GaussianEMImputer().fit(da.from_array(X, chunks=(100, 3)))


def test_l1_on_dask_is_refused():
    X, y, _ = _logistic_data(2, n=500)
    Xd, yd = da.from_array(X, chunks=(100, 6)), da.from_array(y, chunks=100)
    est = LogisticRegression()
    est.l1_ratio = 0.5  # the elastic net of the l1core branch
    with pytest.raises(ValueError, match="l1_ratio"):
        est.fit(Xd, yd)
    glm = PoissonRegressor()
    glm.P1 = np.ones(6)
    with pytest.raises(ValueError, match="not supported on Dask"):
        glm.fit(Xd, da.from_array(np.ones(500), chunks=100))


def test_bad_dask_input():
    X, y, _ = _logistic_data(2, n=500)
    Xd = da.from_array(X, chunks=(100, 6))
    with pytest.raises(ValueError, match="sample_weight"):
        LogisticRegression().fit(Xd, da.from_array(y, chunks=100),
                                 sample_weight=-np.ones(500))
    with pytest.raises(ValueError, match="rows"):
        LogisticRegression().fit(Xd, da.from_array(y[:400], chunks=100))
    with pytest.raises(ValueError, match="range"):
        PoissonRegressor().fit(Xd, da.from_array(-np.ones(500), chunks=100))
    est = LogisticRegression().fit(Xd, da.from_array(y, chunks=100))
    with pytest.raises(ValueError, match="features"):
        est.predict(da.from_array(X[:, :3], chunks=(100, 3)))


def test_importing_skngd_does_not_import_dask():
    code = ("import sys, skngd, skngd.linear_model, skngd.impute; "
            "print('dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("K, cw", [(2, None), (2, {0: 2.0, 1: 0.5}), (3, None)])
def test_first_pass_state_at_zero_equals_in_memory(K, cw):
    """The first pass's classes, weight total and state at W = 0 (value,
    gradient, exact Fisher matrix) equal the in-memory loss's."""
    from skngd._dask.logistic import build_loss
    from skngd._loss.family import Binomial, Multinomial
    from skngd._loss.linear_loss import LinearModelLoss

    X, y, sw = _logistic_data(K, n=2301)
    est = LogisticRegression(class_weight=cw)
    loss, classes = build_loss(est, da.from_array(X, chunks=(700, 6)),
                               da.from_array(y, chunks=700), da.from_array(sw, chunks=700))
    loss.prefetch = "exact"
    w = sw * (1.0 if cw is None else np.array([cw[c] for c in y]))
    ref = LinearModelLoss(Binomial() if K == 2 else Multinomial(K), X, y, w,
                          l2_reg_strength=loss.l2)
    st, F = loss.cached(loss.zeros())
    assert loss.chunks.n_passes == 1
    np.testing.assert_array_equal(classes, np.arange(K))
    assert rel(loss.sw.sum(), w.sum()) < 1e-14
    rst = ref.state(ref.zeros())
    assert rel(st.value, rst.value) < 1e-13
    assert rel(st.grad, rst.grad) < 1e-12
    np.testing.assert_allclose(loss.fisher_matrix(st), ref.fisher_matrix(rst), rtol=1e-12,
                               atol=1e-12 * np.abs(ref.fisher_matrix(rst)).max())
    assert loss.chunks.n_passes == 1  # all of it from the first pass


def test_newton_passes_are_one_per_iteration():
    """A Newton fit from zero: one pass to start (classes, weights and the
    curvature at zero together), then one per iteration (its step's pass; no
    rejected step on this problem), as the user guide says."""
    X, y, _ = _logistic_data(2, n=3000)
    est = LogisticRegression(solver="newton", tol=1e-8).fit(
        da.from_array(X, chunks=(1000, 6)), da.from_array(y, chunks=1000))
    assert est.n_passes_ == est.n_iter_[0] + 1
    assert len(est.objective_history_) == est.n_passes_


@pytest.mark.parametrize("weighted", [False, True])
def test_newton_on_many_rows_starts_with_subsampled_fisher_matrices(weighted, monkeypatch):
    """With 2000+ rows per coefficient in every 4th row, a Dask Newton fit's
    early steps use the Fisher matrix of every 4th row (the steps that
    certify convergence use all rows): the iterates then differ from the
    in-memory ones, the optimum does not."""
    from skngd._dask import _chunks, design

    rng = np.random.default_rng(11)
    n, d = 120_001, 3  # two Numba-sized chunks and a one-row chunk
    X = rng.standard_normal((n, d))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 + rng.logistic(size=n) > 0).astype(int)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    seen = []  # the Fisher rows of each step's pass (asked on the client)
    map_sum = _chunks.Chunks.map_sum

    def spy(self, fn, *args, **kw):
        if fn is design._c_change:
            seen.append(args[4])
        return map_sum(self, fn, *args, **kw)

    monkeypatch.setattr(_chunks.Chunks, "map_sum", spy)
    kw = dict(solver="newton", C=0.5, tol=1e-10)
    ref = LogisticRegression(**kw).fit(X, y, sample_weight=sw)
    est = LogisticRegression(**kw).fit(
        da.from_array(X, chunks=(60_000, d)), da.from_array(y, chunks=60_000),
        sample_weight=None if sw is None else da.from_array(sw, chunks=60_000))
    assert 4 in seen and seen[-1] in (0, 1)  # subsampled early, all rows (or none) at the end
    assert rel(est.coef_, ref.coef_) < 1e-8 and rel(est.intercept_, ref.intercept_) < 1e-8
    assert est.objective_history_[-1] <= ref.objective_history_[-1] * (1 + 1e-14)
    assert np.all(np.diff(est.objective_history_) <= 0)


@pytest.mark.parametrize("est_cls", [PoissonRegressor, GammaRegressor])
def test_glm_inference_from_the_last_pass(est_cls):
    """Without an offset the Pearson statistic, null deviance and (Poisson:
    fixed scale) log-likelihood come with the last evaluation: passes are
    the two starting ones plus one per iteration, and every inference
    attribute equals the in-memory fit's."""
    X, eta, _, sw, rng = _glm_data(n=3001)
    y = rng.poisson(np.exp(eta)).astype(float) + (est_cls is GammaRegressor)
    ref = est_cls(tol=1e-10).fit(X, y, sample_weight=sw)
    est = est_cls(tol=1e-10).fit(da.from_array(X, chunks=(1000, 5)),
                                 da.from_array(y, chunks=1000),
                                 sample_weight=da.from_array(sw, chunks=1000))
    for attr in ("coef_", "covariance_", "deviance_", "null_deviance_", "scale_", "llf_"):
        assert rel(getattr(est, attr), getattr(ref, attr)) < 1e-8, attr
    assert est.n_passes_ == est.n_iter_ + 2
