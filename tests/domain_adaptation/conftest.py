"""Fixtures: shift benchmarks shared by the domain-adaptation tests."""

from types import SimpleNamespace

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_digits, make_moons
from sklearn.decomposition import PCA


def rotated_moons(angle=40, n=300, seed=0):
    """Two moons (source) and two moons rotated by ``angle`` degrees (target)."""
    Xs, ys = make_moons(n, noise=0.1, random_state=seed)
    Xt0, yt = make_moons(n, noise=0.1, random_state=seed + 1)
    th = np.deg2rad(angle)
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    c = Xt0.mean(0)
    return Xs, ys, (Xt0 - c) @ R.T + c, yt


def shifted_digits(seed=0):
    """Digits split in two; the target half goes through a fixed random affine map."""
    X, y = load_digits(return_X_y=True)
    rng = np.random.RandomState(seed)
    idx = rng.permutation(len(X))
    s, t = idx[:900], idx[900:]
    A = np.eye(64) + 0.3 * rng.randn(64, 64) / 8
    shift = 4 * rng.randn(64)
    return X[s], y[s], X[t] @ A + shift, y[t]


def pca_digits(seed=0, n_components=20):
    """Digits reduced by PCA; the target half goes through a random affine map
    (the panel case of benchmarks/bench_da.py)."""
    X, y = load_digits(return_X_y=True)
    rng = np.random.RandomState(seed)
    Z = PCA(n_components, random_state=0).fit_transform(X)
    idx = rng.permutation(len(X))
    s, t = idx[:900], idx[900:]
    A = np.eye(n_components) + 0.3 * rng.randn(n_components, n_components) / np.sqrt(n_components)
    shift = 2 * Z.std(0) * rng.randn(n_components)
    return Z[s], y[s], Z[t] @ A + shift, y[t]


def skada_shifted(shift, seed=0, n=50, noise=0.3):
    """skada's make_shifted_datasets as (Xs, ys, Xt, yt); skada switches
    metadata routing on when imported, so the import is confined."""
    with sklearn.config_context():
        datasets = pytest.importorskip("skada.datasets")
    X, y, sd = datasets.make_shifted_datasets(
        n_samples_source=n, n_samples_target=n, shift=shift, noise=noise, random_state=seed
    )
    src = sd >= 0
    return X[src], y[src], X[~src], y[~src]


def stack(Xs, ys, Xt):
    X = np.r_[Xs, Xt]
    y = np.r_[ys, -np.ones(len(Xt), dtype=int)]
    sd = np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]
    return X, y, sd


@pytest.fixture
def da_data():
    """The shift benchmarks, as a namespace of functions."""
    return SimpleNamespace(
        rotated_moons=rotated_moons,
        shifted_digits=shifted_digits,
        pca_digits=pca_digits,
        skada_shifted=skada_shifted,
        stack=stack,
    )


@pytest.fixture
def moons():
    Xs, ys, Xt, yt = rotated_moons(40, n=80)
    return stack(Xs, ys, Xt) + (len(Xs),)
