"""L1 / elastic-net LogisticRegression: scikit-learn 1.9's objective and
parameter semantics, against its saga solver and skglm."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler

from skngd import LogisticRegression
from skngd.utils._sklearn_compat import sklearn_l1_params


def _std(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _objective(m, X, y, C, rho, sw=None):
    """scikit-learn's objective at the fitted coefficients (sum scale)."""
    s = np.ones(len(y)) if sw is None else sw
    Z = X @ m.coef_.T + m.intercept_
    if Z.shape[1] == 1:
        z = Z[:, 0]
        t = (y == m.classes_[1]).astype(float)
        lo = np.logaddexp(0, z) - t * z
    else:
        idx = np.searchsorted(m.classes_, y)
        lo = np.logaddexp.reduce(Z, axis=1) - Z[np.arange(len(y)), idx]
    W = m.coef_
    return float(s @ lo) + (rho * np.abs(W).sum() + 0.5 * (1 - rho) * (W ** 2).sum()) / C


def _saga(X, y, C, rho, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SkLogisticRegression(C=C, **sklearn_l1_params(rho), solver="saga", tol=1e-12,
                                    max_iter=100000, **kw).fit(X, y)


@pytest.mark.parametrize("loader, C, rho", [(load_breast_cancer, 0.3, 0.5),
                                            (load_wine, 1.0, 1.0), (load_wine, 0.1, 0.5)])
def test_matches_saga(loader, C, rho):
    X, y = _std(loader)
    m = LogisticRegression(C=C, l1_ratio=rho, tol=1e-10).fit(X, y)
    ref = _saga(X, y, C, rho)
    assert m.solver_ == "prox-newton"
    F, F_ref = _objective(m, X, y, C, rho), _objective(ref, X, y, C, rho)
    assert F <= F_ref * (1 + 1e-12)
    assert F == pytest.approx(F_ref, rel=1e-8)
    assert np.array_equal(m.coef_ != 0, ref.coef_ != 0)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(m.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_matches_skglm_breast_cancer_and_sparse():
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Logistic
    from skglm.penalties import L1
    from skglm.solvers import ProxNewton

    X, y = _std(load_breast_cancer)
    rng = np.random.default_rng(0)
    Xs = sp.random(500, 200, density=0.05, format="csr", random_state=0,
                   data_rvs=rng.standard_normal)
    ys = (Xs @ np.r_[np.ones(10), np.zeros(190)] + 0.3 * rng.normal(size=500) > 0).astype(int)
    for A, b, C in ((X, y, 1.0), (Xs, ys, 0.5)):
        m = LogisticRegression(C=C, l1_ratio=1.0, tol=1e-10).fit(A, b)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = GeneralizedLinearEstimator(Logistic(), L1(1.0 / (C * A.shape[0])), ProxNewton(
                tol=1e-14, max_iter=1000, fit_intercept=True)).fit(A, 2.0 * b - 1.0)
        assert np.array_equal(m.coef_.ravel() != 0, ref.coef_.ravel() != 0)
        np.testing.assert_allclose(m.coef_.ravel(), ref.coef_.ravel(), rtol=1e-6, atol=1e-8)


def test_default_tol_reaches_1e8_relative_objective():
    X, y = _std(load_breast_cancer)
    for C in (1.0, 1e4):
        best = LogisticRegression(C=C, l1_ratio=1.0, tol=1e-12).fit(X, y)
        m = LogisticRegression(C=C, l1_ratio=1.0).fit(X, y)
        Fb, F = _objective(best, X, y, C, 1.0), _objective(m, X, y, C, 1.0)
        assert (F - Fb) / Fb < 1e-8


def test_l1_ratio_zero_default_is_unchanged():
    """l1_ratio=0 takes the L2 path bit for bit (the default solver choice too)."""
    X, y = _std(load_wine)
    a = LogisticRegression().fit(X, y)
    b = LogisticRegression(l1_ratio=0.0).fit(X, y)
    assert a.solver_ == b.solver_ != "prox-newton"
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_strengths():
    assert LogisticRegression(C=2.0, l1_ratio=0.25)._strengths() == (0.125, 0.375)
    assert LogisticRegression(C=np.inf, l1_ratio=1.0)._strengths() == (0.0, 0.0)
    assert LogisticRegression(penalty=None, l1_ratio=1.0)._strengths() == (0.0, 0.0)
    assert LogisticRegression(penalty="l1", C=4.0)._strengths() == (0.25, 0.0)


@pytest.mark.parametrize("penalty, l1_ratio, expect", [
    ("l2", 0.0, (0.0, 1.0)), ("l1", 1.0, (1.0, 0.0)), ("elasticnet", 0.5, (0.5, 0.5)),
    (None, 0.0, (0.0, 0.0))])
def test_deprecated_penalty_alias(penalty, l1_ratio, expect):
    X, y = _std(load_breast_cancer)
    X = X[:, :5]  # not separable: the unpenalised fit exists
    m = LogisticRegression(penalty=penalty, l1_ratio=l1_ratio)
    assert m._strengths() == expect
    with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
        m.fit(X, y)
    ref = LogisticRegression(l1_ratio=l1_ratio, C=np.inf if penalty is None else 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref.fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_)


def test_penalty_warnings_as_sklearn():
    X, y = _std(load_breast_cancer)
    with pytest.warns(UserWarning, match="Inconsistent values: penalty=l1"):
        LogisticRegression(penalty="l1", l1_ratio=0.0).fit(X, y)
    with pytest.warns(UserWarning, match="only used when penalty is 'elasticnet'"):
        LogisticRegression(penalty="l2", l1_ratio=0.5).fit(X, y)
    with pytest.warns(FutureWarning, match="l1_ratio=None"):
        LogisticRegression(l1_ratio=None).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio must be specified"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            LogisticRegression(penalty="elasticnet", l1_ratio=None).fit(X, y)


@pytest.mark.parametrize("solver", ["ngd", "mm", "newton"])
def test_smooth_solvers_refuse_l1(solver):
    X, y = _std(load_breast_cancer)
    with pytest.raises(ValueError, match="solver='%s'.*l1_ratio" % solver):
        LogisticRegression(l1_ratio=0.5, solver=solver).fit(X, y)
    # without an L1 part (C=inf) they are fine
    LogisticRegression(l1_ratio=0.5, C=np.inf, solver=solver, max_iter=2000).fit(X[:, :5], y)
    assert not hasattr(LogisticRegression(l1_ratio=0.5), "partial_fit")
    assert hasattr(LogisticRegression(), "partial_fit")


def test_invalid_l1_ratio():
    X, y = _std(load_breast_cancer)
    for bad in (-0.1, 1.5, "half"):
        with pytest.raises(ValueError, match="l1_ratio"):
            LogisticRegression(l1_ratio=bad).fit(X, y)


def test_warm_start_with_changed_C_reuses_coef():
    X, y = _std(load_breast_cancer)
    m = LogisticRegression(C=0.1, l1_ratio=1.0, warm_start=True).fit(X, y)
    cold = LogisticRegression(C=0.2, l1_ratio=1.0, tol=1e-10).fit(X, y)
    m.set_params(C=0.2, tol=1e-10)
    m.fit(X, y)
    np.testing.assert_allclose(m.coef_, cold.coef_, atol=1e-8)
    assert m.n_iter_[0] < cold.n_iter_[0]


def test_sample_weights_and_float32():
    X, y = _std(load_wine)
    sw = np.random.default_rng(1).integers(0, 3, size=len(y))
    rep = np.repeat(np.arange(len(y)), sw)
    a = LogisticRegression(C=0.5, l1_ratio=0.7, tol=1e-10).fit(X, y, sample_weight=sw)
    b = LogisticRegression(C=0.5, l1_ratio=0.7, tol=1e-10).fit(X[rep], y[rep])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-9)
    f = LogisticRegression(C=0.5, l1_ratio=0.7).fit(X.astype(np.float32), y)
    d = LogisticRegression(C=0.5, l1_ratio=0.7).fit(X, y)
    assert f.coef_.dtype == np.float32
    np.testing.assert_allclose(f.coef_, d.coef_, atol=1e-3)


def test_sparse_equals_dense():
    X, y = _std(load_breast_cancer)
    X[np.abs(X) < 0.5] = 0.0
    a = LogisticRegression(C=0.5, l1_ratio=1.0, tol=1e-10).fit(X, y)
    b = LogisticRegression(C=0.5, l1_ratio=1.0, tol=1e-10).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)
