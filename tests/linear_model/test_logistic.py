"""skngd.LogisticRegression against scikit-learn's lbfgs optimum, invariances, bad input."""

import functools
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler

from skngd._solvers._result import SeparationWarning
from skngd.linear_model import LogisticRegression
from skngd.linear_model._logistic import auto_solver

SOLVERS = ["ngd", "mm", "newton"]


def _std(load):
    X, y = load(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _sparse_problem(n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = sparse.random(400, 60, density=0.1, format="csr", random_state=seed)
    X.data = rng.standard_normal(X.nnz)
    W = rng.standard_normal((60, n_classes))
    y = np.argmax(X @ W + rng.gumbel(size=(400, n_classes)), axis=1)
    return X, y


_LOADERS = {
    "breast_cancer": lambda: _std(load_breast_cancer),
    "wine": lambda: _std(load_wine),
    "sparse_binary": lambda: _sparse_problem(2),
    "sparse_multinomial": lambda: _sparse_problem(3),
}


@functools.lru_cache(maxsize=None)
def _load(name):
    return _LOADERS[name]()


DATASETS = {name: functools.partial(_load, name) for name in _LOADERS}


def _sk_objective(X, y, coef, intercept, C, sw=None):
    """Penalised weighted log-loss of (coef, intercept), computed independently."""
    classes = np.unique(y)
    raw = X @ coef.T + intercept
    sw = np.ones(X.shape[0]) if sw is None else sw
    if len(classes) == 2:
        z = np.ravel(raw)
        yy = (y == classes[1]).astype(float)
        ll = np.logaddexp(0, z) - yy * z
    else:
        from scipy.special import logsumexp

        ll = logsumexp(raw, axis=1) - raw[np.arange(len(y)), np.searchsorted(classes, y)]
    return float(sw @ ll) + 0.5 / C * float(np.sum(coef**2))


def _reference(X, y, C=1.0, **kw):
    key = (id(X), C, repr(sorted(kw.items())))
    if key not in _REF_CACHE:
        _REF_CACHE[key] = (X, _fit_reference(X, y, C, **kw))
    return _REF_CACHE[key][1]


_REF_CACHE = {}


def _fit_reference(X, y, C=1.0, **kw):
    return SkLogisticRegression(C=C, tol=1e-12, max_iter=10000, **kw).fit(X, y)


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("solver", SOLVERS)
def test_matches_sklearn_optimum(name, solver):
    X, y = DATASETS[name]()
    ref = _reference(X, y)
    max_iter = 20000 if solver == "mm" else 100
    m = LogisticRegression(solver=solver, tol=1e-10, max_iter=max_iter).fit(X, y)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(m.intercept_, ref.intercept_, rtol=1e-5, atol=1e-5 * scale)
    f = _sk_objective(X, y, m.coef_, m.intercept_, 1.0)
    f_ref = _sk_objective(X, y, ref.coef_, ref.intercept_, 1.0)
    assert f <= f_ref * (1 + 1e-8)
    assert abs(m.objective_history_[-1] - f) <= 1e-10 * f
    h = m.objective_history_
    # every solver descends; MM must be monotone (asserted for every dataset here)
    assert np.all(np.diff(h) <= 1e-13 * abs(h[0]))


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["ngd", "newton"])
def test_digits_multinomial_matches_sklearn(solver):
    X, y = _std(load_digits)
    ref = _reference(X, y)
    m = LogisticRegression(solver=solver, tol=1e-10).fit(X, y)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-5, atol=1e-5 * scale)
    assert m.coef_.shape == (10, 64) and m.intercept_.shape == (10,)


def test_mm_converges_on_digits_subset_monotone():
    X, y = _std(load_digits)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        m = LogisticRegression(solver="mm", max_iter=200).fit(X[:400], y[:400])
    h = m.objective_history_
    assert len(h) == m.n_iter_[0] + 1 < 201
    assert np.all(np.diff(h) <= 0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_binary_single_row_and_predict_methods(solver):
    X, y = _std(load_breast_cancer)
    m = LogisticRegression(solver=solver, max_iter=5000).fit(X, y)
    assert m.coef_.shape == (1, 30) and m.intercept_.shape == (1,)
    P = m.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1)
    np.testing.assert_allclose(np.exp(m.predict_log_proba(X)), P, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(m.predict(X), m.classes_[(P[:, 1] > 0.5).astype(int)])
    assert m.score(X, y) > 0.97
    assert m.n_iter_.shape == (1,) and m.n_iter_[0] >= 1


@pytest.mark.parametrize("solver", SOLVERS)
def test_unit_weights_and_integer_weights_equal_duplicated_rows(solver):
    X, y = _std(load_wine)
    rng = np.random.default_rng(0)
    sw = rng.integers(0, 4, len(y))
    kw = dict(solver=solver, tol=1e-10, max_iter=20000)
    a = LogisticRegression(**kw).fit(X, y)
    b = LogisticRegression(**kw).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-12)
    c = LogisticRegression(**kw).fit(X, y, sample_weight=sw)
    d = LogisticRegression(**kw).fit(np.repeat(X, sw, 0), np.repeat(y, sw))
    np.testing.assert_allclose(c.coef_, d.coef_, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sparse_x", [False, True])
def test_float32_gives_float32_close_to_float64(solver, sparse_x):
    X, y = _std(load_breast_cancer)
    X32 = X.astype(np.float32)
    if sparse_x:
        X, X32 = sparse.csr_matrix(X), sparse.csr_matrix(X32)
    kw = dict(solver=solver, tol=1e-6, max_iter=20000)
    m64 = LogisticRegression(**kw).fit(X, y)
    m32 = LogisticRegression(**kw).fit(X32, y)
    assert m32.coef_.dtype == np.float32 and m32.intercept_.dtype == np.float32
    scale = np.abs(m64.coef_).max()
    np.testing.assert_allclose(m32.coef_, m64.coef_, rtol=1e-2, atol=1e-2 * scale)
    assert np.mean(m32.predict(X32) == m64.predict(X)) > 0.99


def test_class_weight_matches_sklearn():
    X, y = _std(load_wine)
    for cw in ("balanced", {0: 1.0, 1: 3.0, 2: 0.5}):
        ref = _reference(X, y, class_weight=cw)
        m = LogisticRegression(class_weight=cw, tol=1e-10).fit(X, y)
        np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-5, atol=1e-6)


def test_unpenalised_and_penalty_none():
    X, y = _std(load_breast_cancer)
    X = X[:, :5]
    ref = SkLogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(X, y)
    for kw in (dict(C=np.inf), dict(penalty=None)):
        for solver in SOLVERS:
            m = LogisticRegression(solver=solver, tol=1e-10, max_iter=20000, **kw).fit(X, y)
            np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-5)


def test_unpenalised_multinomial_probabilities():
    X, y = _std(load_wine)
    X = X[:, :4]
    ref = SkLogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(X, y)
    for solver in SOLVERS:
        m = LogisticRegression(solver=solver, C=np.inf, tol=1e-10, max_iter=50000).fit(X, y)
        np.testing.assert_allclose(m.predict_proba(X), ref.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_collinear_and_constant_columns_do_not_fail(solver):
    X, y = _std(load_breast_cancer)
    X = np.hstack([X[:, :4], X[:, :2], np.zeros((len(y), 1)), np.ones((len(y), 1))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for C in (1.0, np.inf):
            m = LogisticRegression(solver=solver, C=C, max_iter=3000).fit(X, y)
            assert np.all(np.isfinite(m.coef_))
            assert m.score(X, y) > 0.85
            assert np.all(np.diff(m.objective_history_) <= 1e-12 * m.objective_history_[0])


@pytest.mark.parametrize("solver", SOLVERS)
def test_separable_unpenalised_warns_and_stays_finite(solver):
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    with pytest.warns(SeparationWarning, match="linearly separable.*smaller C"):
        m = LogisticRegression(solver=solver, C=np.inf, max_iter=50).fit(X, y)
    assert np.all(np.isfinite(m.coef_)) and np.all(np.isfinite(m.intercept_))
    assert m.score(X, y) == 1.0


@pytest.mark.parametrize("solver", SOLVERS)
def test_separable_huge_C_says_what_happened(solver):
    # issue 12, item 4: newton/ngd stopped early (step search at rounding level)
    # but warned "did not converge within max_iter=100"
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        m = LogisticRegression(solver=solver, C=1e30).fit(X, y)
    msgs = [str(w.message) for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(msgs) == 1 and issubclass(rec[0].category, SeparationWarning)
    assert "linearly separable" in msgs[0] and "smaller C" in msgs[0]
    if m.n_iter_[0] < 100:  # stopped early: the message says where and why
        assert "did not converge within max_iter" not in msgs[0]
        assert f"iteration {m.n_iter_[0]}" in msgs[0]


@pytest.mark.parametrize(
    "params,X,y,sw,match",
    [
        ({}, [[np.nan, 1.0], [1.0, 2.0]], [0, 1], None, "NaN"),
        ({}, [[np.inf, 1.0], [1.0, 2.0]], [0, 1], None, "infinity"),
        ({}, [[0.0], [1.0]], [1, 1], None, "only one class"),
        ({}, np.empty((0, 2)), [], None, "0 sample"),
        ({}, [[0.0], [1.0]], [0, 1], [1.0], "sample_weight"),
        ({}, [[0.0], [1.0]], [0, 1], [1.0, -1.0], "[Nn]egative"),
        ({"C": 0.0}, [[0.0], [1.0]], [0, 1], None, "'C' parameter"),
        ({"C": -1.0}, [[0.0], [1.0]], [0, 1], None, "'C' parameter"),
        ({"solver": "lbfgs"}, [[0.0], [1.0]], [0, 1], None, "'solver' parameter"),
        ({}, [[0.0], [1.0]], [0.5, 1.5], None, "Unknown label type"),
    ],
)
def test_bad_input_raises_value_error(params, X, y, sw, match):
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**params).fit(np.asarray(X, float), np.asarray(y), sample_weight=sw)


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = (X - X.mean()) / X.std()
    m = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(m.feature_names_in_, X.columns.to_numpy(dtype=object))
    with pytest.warns(UserWarning, match="feature names"):
        m.predict(X.to_numpy())
    assert isinstance(X, pd.DataFrame)


def test_warm_start_and_history():
    X, y = _std(load_breast_cancer)
    m = LogisticRegression(solver="mm", warm_start=True, max_iter=5000, tol=1e-6).fit(X, y)
    n1 = m.n_iter_[0]
    m.fit(X, y)
    assert m.n_iter_[0] < n1
    assert m.objective_history_[0] <= m.objective_history_[-1] * (1 + 1e-8)


def test_auto_rule_and_solver_attribute():
    X, y = _std(load_breast_cancer)
    assert LogisticRegression().fit(X, y).solver_ == auto_solver(569, 31, False) == "newton"
    assert auto_solver(200_000, 101, False) == "ngd"
    assert auto_solver(1000, 50, True) == "ngd"
    Xs, ys = _sparse_problem()
    assert LogisticRegression().fit(Xs, ys).solver_ == "ngd"


def test_empirical_fisher_reaches_the_optimum_more_slowly():
    X, y = _std(load_breast_cancer)
    exact = LogisticRegression(solver="ngd", tol=1e-8).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        emp = LogisticRegression(solver="ngd", fisher="empirical", tol=1e-8,
                                 max_iter=500).fit(X, y)
    f_e, f_x = emp.objective_history_[-1], exact.objective_history_[-1]
    assert f_e <= f_x * (1 + 1e-3)
    assert emp.n_iter_[0] > exact.n_iter_[0]


def test_ngd_subsampled_preconditioner_on_larger_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12000, 8)) * np.logspace(-1, 1, 8)
    y = (X @ (1 / np.logspace(-1, 1, 8)) + rng.logistic(size=12000) > 0).astype(int)
    ref = _reference(X, y)
    m = LogisticRegression(solver="ngd", tol=1e-8, random_state=0).fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-5)


def test_n_jobs_two_threads_gives_the_same_fit():
    # large enough for the Numba paths (dense fused kernels and CSR products:
    # n >= NUMBA_MIN_SIZE rows, X.size >= 10 * NUMBA_MIN_SIZE)
    from skngd._loss.family import NUMBA_MIN_SIZE

    n = 10 * NUMBA_MIN_SIZE // 5
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, 6))
    y = (X[:, 0] - X[:, 1] + rng.logistic(size=n) > 0).astype(int)
    Xs = sparse.csr_matrix(np.where(rng.random(X.shape) < 0.5, X, 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for data in (X, Xs):
            a = LogisticRegression(solver="ngd", tol=1e-8, n_jobs=1).fit(data, y)
            b = LogisticRegression(solver="ngd", tol=1e-8, n_jobs=2).fit(data, y)
            np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8)


def test_multinomial_empirical_fisher_and_verbose(capsys):
    X, y = _std(load_wine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = LogisticRegression(solver="ngd", fisher="empirical", verbose=1, max_iter=50).fit(X, y)
    assert "[ngd] iter 1" in capsys.readouterr().out
    h = m.objective_history_
    assert np.all(np.diff(h) <= 1e-12 * h[0]) and h[-1] < 0.2 * h[0]
