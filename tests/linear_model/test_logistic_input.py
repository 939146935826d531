"""LogisticRegression at its input boundary: class weights (with sample
weights, as scikit-learn), invalid class_weight / n_jobs, and a rejected
partial_fit that leaves no half-built state."""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

from skngd.linear_model import LogisticRegression

# scikit-learn computes 'balanced' class weights from the sample-weighted class
# counts since 1.7 (its PR 30057); before, from plain counts. skngd always uses
# the weighted counts: on older scikit-learn its reference is the explicit weights.
SKLEARN_WEIGHTED_BALANCED = parse_version(sklearn.__version__).release >= (1, 7)


def _four_classes():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = y.copy()
    y[::7] = 3  # a fourth class
    return X, y


def _binary():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("data", [_binary, _four_classes], ids=["binary", "4 classes"])
def test_balanced_class_weight_uses_sample_weighted_counts(data):
    # issue 12, item 1: plain counts gave intercept 1.378 vs scikit-learn's -0.225
    X, y = data()
    sw = np.where(y == 1, 5.0, 1.0)
    if SKLEARN_WEIGHTED_BALANCED:
        ref = SkLogisticRegression(class_weight="balanced", solver="newton-cholesky", tol=1e-12,
                                   max_iter=1000).fit(X, y, sample_weight=sw)
    else:
        counts = np.bincount(y, weights=sw)
        cw = counts.sum() / (len(counts) * counts)
        ref = SkLogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000)
        ref.fit(X, y, sample_weight=sw * cw[y])
    m = LogisticRegression(class_weight="balanced", tol=1e-12).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(m.intercept_, ref.intercept_, rtol=0, atol=1e-6)


def test_balanced_class_weight_equals_explicit_weights():
    X, y = _four_classes()
    sw = np.random.default_rng(0).uniform(0.5, 3.0, len(y))
    counts = np.bincount(y, weights=sw)
    cw = counts.sum() / (len(counts) * counts)
    a = LogisticRegression(class_weight="balanced", tol=1e-10).fit(X, y, sample_weight=sw)
    b = LogisticRegression(tol=1e-10).fit(X, y, sample_weight=sw * cw[y])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-12)


def test_balanced_class_weight_with_a_zero_weight_class():
    X, y = _four_classes()
    sw = np.where(y == 3, 0.0, 1.0)  # class 3 present but weightless
    m = LogisticRegression(class_weight="balanced").fit(X, y, sample_weight=sw)
    assert np.all(np.isfinite(m.coef_)) and np.all(np.isfinite(m.intercept_))


@pytest.mark.parametrize("cw", [
    {0: np.nan, 1: 1.0}, {0: np.inf, 1: 1.0}, {0: -1.0, 1: 1.0}, {0: 0.0, 1: 0.0},
    {0: "a", 1: 1.0},
])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_invalid_class_weight_raises_naming_it(cw, method):
    # issue 12, item 5: {0: nan, 1: 1} silently gave an all-zero model
    X, y = _binary()
    m = LogisticRegression(class_weight=cw)
    kw = {"classes": [0, 1]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match="class_weight"):
        getattr(m, method)(X, y, **kw)
    with pytest.raises(NotFittedError):
        m.predict(X)


@pytest.mark.parametrize("n", [50, 12000])  # NumPy path and Numba path
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_n_jobs_zero_is_rejected_whatever_the_size(n, method):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 3))
    y = (X[:, 0] > 0).astype(int)
    kw = {"classes": [0, 1]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        getattr(LogisticRegression(n_jobs=0), method)(X, y, **kw)
    getattr(LogisticRegression(n_jobs=-2), method)(X, y, **kw)  # all but one core


@pytest.mark.parametrize("bad", [
    dict(y=[0, 1, 2]),                  # label not in classes
    dict(sample_weight=[1.0, -1.0, 1.0]),
    dict(X=[[np.nan], [1.0], [2.0]]),
    dict(class_weight="balanced"),
])
def test_rejected_first_partial_fit_leaves_the_estimator_unfitted(bad):
    args = dict(X=[[0.0], [1.0], [2.0]], y=[0, 1, 0], sample_weight=None)
    args.update({k: v for k, v in bad.items() if k != "class_weight"})
    m = LogisticRegression(class_weight=bad.get("class_weight"))
    with pytest.raises(ValueError):
        m.partial_fit(np.asarray(args["X"]), np.asarray(args["y"]), classes=[0, 1],
                      sample_weight=args["sample_weight"])
    assert not [k for k in vars(m) if k.endswith("_") and not k.startswith("__")]
    with pytest.raises(NotFittedError):
        m.predict([[0.5]])
    m.set_params(class_weight=None)
    m.partial_fit(np.array([[0.0], [1.0]]), np.array([0, 1]), classes=[0, 1])
    assert m.predict([[0.5]]).shape == (1,)


def test_rejected_fit_keeps_the_previous_fit():
    X, y = _binary()
    m = LogisticRegression().fit(X, y)
    coef = m.coef_.copy()
    with pytest.raises(ValueError, match="class_weight"):
        m.set_params(class_weight={0: np.nan, 1: 1.0}).fit(X[:, :5], y)
    assert m.n_features_in_ == 30
    np.testing.assert_array_equal(m.coef_, coef)
