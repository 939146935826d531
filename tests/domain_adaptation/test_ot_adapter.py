"""OTDomainAdapter: domains, maps, metadata routing, bad input."""

import numpy as np
import pytest
import sklearn
from hypothesis import given, strategies as st
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skngd.domain_adaptation import OTDomainAdapter
from skngd.ot import gaussian_map

METHODS = ["emd", "sinkhorn", "gaussian", "sinkhorn_class"]


@pytest.mark.parametrize("method", METHODS)
def test_source_mapped_target_unchanged_inputs_untouched(method, moons):
    X, y, sd, ns = moons
    copies = X.copy(), y.copy(), sd.copy()
    ad = OTDomainAdapter(method=method, reg=0.1, reg_class=0.1)
    params = ad.get_params()
    Xm = ad.fit_transform(X, y, sample_domain=sd)
    assert ad.get_params() == params  # fit never rewrites hyperparameters
    np.testing.assert_array_equal(Xm[ns:], X[ns:])
    assert not np.allclose(Xm[:ns], X[:ns])
    # mapped source is closer to the target than the raw source
    assert np.linalg.norm(Xm[:ns].mean(0) - X[ns:].mean(0)) < 0.1 * np.linalg.norm(
        X[:ns].mean(0) - X[ns:].mean(0)
    ) + 0.05
    # inference from masked labels gives the same result as explicit domains
    np.testing.assert_allclose(clone(ad).fit_transform(X, y), Xm, atol=1e-12)
    # transform with the same domains reproduces the in-sample map
    np.testing.assert_allclose(ad.transform(X, sample_domain=sd), Xm, atol=1e-10)
    # sample_domain=None at transform: every row is target, identity
    np.testing.assert_array_equal(ad.transform(X), X)
    Xi = ad.inverse_transform(X, sample_domain=sd)
    np.testing.assert_array_equal(Xi[:ns], X[:ns])
    for arr, c in zip((X, y, sd), copies):
        np.testing.assert_array_equal(arr, c)
    assert ad.converged_ and ad.n_iter_ >= 1 and np.isfinite(ad.cost_)


@pytest.mark.parametrize("method", ["emd", "sinkhorn"])
def test_coupling_and_barycentric_projection(method, moons):
    X, y, sd, ns = moons
    ad = OTDomainAdapter(method=method).fit(X, sample_domain=sd)
    P = ad.coupling_
    assert P.shape == (ns, len(X) - ns) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(1), 1 / ns, atol=1e-9)
    np.testing.assert_allclose(P.sum(0), 1 / (len(X) - ns), atol=1e-9)
    Xm = ad.fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(Xm[:ns], ns * P @ X[ns:], atol=1e-10)
    Xi = ad.inverse_transform(X, sample_domain=sd)
    np.testing.assert_allclose(Xi[ns:], (len(X) - ns) * P.T @ X[:ns], atol=1e-10)
    C = ((X[:ns, None] - X[None, ns:]) ** 2).sum(-1)
    assert abs(ad.cost_ - np.sum(P * C)) < 1e-9


def test_out_of_sample_nearest_displacement(moons):
    X, y, sd, ns = moons
    ad = OTDomainAdapter(method="emd").fit(X, sample_domain=sd)
    Xm = ad.fit_transform(X, sample_domain=sd)
    new = X[:5] + 1e-3
    out = ad.transform(new, sample_domain=np.zeros(5, int))
    np.testing.assert_allclose(out, new + (Xm[:5] - X[:5]), atol=1e-12)
    kept = ad.set_params(out_of_sample="identity").transform(
        new, sample_domain=np.zeros(5, int)
    )
    np.testing.assert_array_equal(kept, new)


def test_gaussian_exact_out_of_sample(moons):
    X, y, sd, ns = moons
    ad = OTDomainAdapter(method="gaussian").fit(X, sample_domain=sd)
    T = gaussian_map(X[:ns], X[ns:])
    new = np.random.RandomState(0).randn(7, 2)
    np.testing.assert_allclose(
        ad.transform(new, sample_domain=np.ones(7, int)), T.transform(new), atol=1e-12
    )
    np.testing.assert_allclose(ad.inverse_transform(T.transform(new)), new, atol=1e-8)
    assert ad.coupling_ is None and abs(ad.cost_ - T.cost) < 1e-12


def test_float32_preserved(moons):
    X, y, sd, ns = moons
    out = OTDomainAdapter().fit_transform(X.astype(np.float32), sample_domain=sd)
    assert out.dtype == np.float32


def test_no_domain_information_is_identity():
    X = np.random.RandomState(0).randn(20, 3)
    ad = OTDomainAdapter().fit(X, np.arange(20) % 2)
    assert ad.identity_ and ad.coupling_ is None
    np.testing.assert_array_equal(ad.fit_transform(X, np.arange(20) % 2), X)


def test_metadata_routing_in_pipeline(moons):
    X, y, sd, ns = moons
    ref = make_pipeline(StandardScaler(), OTDomainAdapter(method="emd"))
    expected = ref[-1].fit_transform(ref[0].fit_transform(X), sample_domain=sd)
    with sklearn.config_context(enable_metadata_routing=True):
        ad = OTDomainAdapter(method="emd")
        ad.set_fit_request(sample_domain=True).set_transform_request(sample_domain=True)
        pipe = make_pipeline(StandardScaler(), ad)
        out = pipe.fit_transform(X, sample_domain=sd)
        np.testing.assert_allclose(out, expected, atol=1e-12)
        np.testing.assert_allclose(pipe.transform(X, sample_domain=sd), expected, atol=1e-10)
        with pytest.raises(Exception, match="sample_domain"):
            make_pipeline(OTDomainAdapter()).fit(X, sample_domain=sd)  # not requested


@pytest.mark.parametrize(
    "kwargs, fit_kwargs, match",
    [
        ({}, dict(sample_domain="all_source"), "no target rows"),
        ({}, dict(sample_domain="all_target"), "no source rows"),
        ({}, dict(y="all_masked", sample_domain=None), "No source rows"),
        ({}, dict(sample_domain="short"), "one entry per row"),
        ({"reg": 0.0}, {}, "reg"),
        ({"reg": -1.0}, {}, "reg"),
        ({"method": "sinkhorn_class"}, dict(y=None), "source labels"),
        ({"method": "sinkhorn_class"}, dict(y="class_only_in_target"), "no source rows"),
        ({"method": "sinkhorn_class"}, dict(y="masked_source"), "masked"),
        ({"method": "nope"}, {}, "method"),
    ],
)
def test_bad_input(kwargs, fit_kwargs, match, moons):
    X, y, sd, ns = moons
    y_full = np.r_[y[:ns], np.zeros(len(X) - ns, int)]
    special = {
        "all_source": np.ones(len(X), int),
        "all_target": -np.ones(len(X), int),
        "all_masked": -np.ones(len(X), int),
        "short": sd[:-1],
        "class_only_in_target": np.r_[y[:ns], np.full(len(X) - ns, 7)],
        "masked_source": np.r_[y[: ns - 1], -1, y_full[ns:]],
    }
    args = dict(y=y, sample_domain=sd)
    args.update({k: special.get(v, v) if isinstance(v, str) else v for k, v in fit_kwargs.items()})
    with pytest.raises(ValueError, match=match):
        OTDomainAdapter(**kwargs).fit(X, **args)


def test_bad_values_and_features(moons):
    X, y, sd, ns = moons
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[3, 1] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            OTDomainAdapter().fit(Xb, sample_domain=sd)
    Xz = X.copy()
    Xz[0] = 0.0
    with pytest.raises(ValueError, match="non-finite cost"):
        OTDomainAdapter(metric="cosine").fit(Xz, sample_domain=sd)
    ad = OTDomainAdapter(method="emd").fit(X, sample_domain=sd)
    with pytest.raises(ValueError, match="features"):
        ad.transform(np.c_[X, X], sample_domain=sd)


def test_not_converged_warns_finite(moons):
    X, y, sd, ns = moons
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        ad = OTDomainAdapter(reg=1e-3, max_iter=2).fit(X, sample_domain=sd)
    assert not ad.converged_
    assert np.all(np.isfinite(ad.transform(X, sample_domain=sd)))


@given(seed=st.integers(0, 2**31 - 1), n=st.integers(3, 25), m=st.integers(3, 25))
def test_adapter_permutation_invariance(seed, n, m):
    rng = np.random.RandomState(seed)
    X = np.r_[rng.randn(n, 2), rng.randn(m, 2) * 2 + 3]
    sd = np.r_[np.ones(n, int), -np.ones(m, int)]
    perm = rng.permutation(n + m)
    ad = OTDomainAdapter(reg=0.5)
    out = ad.fit_transform(X, sample_domain=sd)
    out_p = clone(ad).fit_transform(X[perm], sample_domain=sd[perm])
    np.testing.assert_allclose(out_p, out[perm], atol=1e-8)
    assert np.all(ad.coupling_ >= 0) and abs(ad.coupling_.sum() - 1) < 1e-9
