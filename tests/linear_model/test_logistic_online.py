"""partial_fit: online natural gradient with a running Fisher estimate."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.preprocessing import StandardScaler

from skngd.linear_model import LogisticRegression


def _batches(n, size, rng):
    idx = rng.permutation(n)
    return [idx[i:i + size] for i in range(0, n, size)]


@pytest.mark.parametrize("load", [load_breast_cancer, load_wine])
def test_many_passes_approach_full_batch_optimum(load):
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :6]
    C = 1e6  # the multi-pass online objective weakens the penalty: compare near-unpenalised
    full = LogisticRegression(C=C, tol=1e-10).fit(X, y)
    online = LogisticRegression(C=C)
    rng = np.random.default_rng(0)
    classes = np.unique(y)
    for _ in range(25):
        for b in _batches(len(y), 64, rng):
            online.partial_fit(X[b], y[b], classes=classes)
    scale = np.abs(full.coef_).max()
    err = np.abs(online.coef_ - full.coef_).max() / scale
    assert err < 0.05, err
    np.testing.assert_allclose(online.predict_proba(X), full.predict_proba(X), atol=0.05)
    assert online.n_iter_[0] == 25 * len(_batches(len(y), 64, rng))
    # first pass already gets close; later passes improve
    early = LogisticRegression(C=C)
    for b in _batches(len(y), 64, rng):
        early.partial_fit(X[b], y[b], classes=classes)
    assert np.abs(early.coef_ - full.coef_).max() / scale > err


def test_partial_fit_errors_and_shapes():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    m = LogisticRegression()
    with pytest.raises(ValueError, match="classes"):
        m.partial_fit(X[:10], y[:10])
    m.partial_fit(X[:50], y[:50], classes=[0, 1])
    assert m.coef_.shape == (1, 30)
    with pytest.raises(ValueError, match="features"):
        m.partial_fit(X[:50, :5], y[:50])
    with pytest.raises(ValueError, match="not in classes"):
        m.partial_fit(X[:5], np.array([0, 1, 2, 0, 1]))
    m.partial_fit(X[50:100], y[50:100], sample_weight=np.ones(50))
    assert m.n_iter_[0] == 2 and len(m.objective_history_) == 2


def test_partial_fit_rejects_balanced_class_weight_and_continues_a_fit():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.raises(ValueError, match="balanced"):
        LogisticRegression(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    m = LogisticRegression(tol=1e-10).fit(X, y)
    coef = m.coef_.copy()
    m.partial_fit(X, y)  # continues from the fit: already at its optimum
    np.testing.assert_allclose(m.coef_, coef, atol=1e-6)
