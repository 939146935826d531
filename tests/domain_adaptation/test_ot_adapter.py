"""OTDomainAdapter: domains, maps, metadata routing, bad input."""

import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import given, strategies as st
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skngd.domain_adaptation import CollapsedMapWarning, OTDomainAdapter
from skngd.ot import gaussian_map

METHODS = ["emd", "sinkhorn", "gaussian", "sinkhorn_class"]


@pytest.mark.parametrize("method", METHODS)
def test_source_mapped_target_unchanged_inputs_untouched(method, moons):
    X, y, sd, ns = moons
    copies = X.copy(), y.copy(), sd.copy()
    ad = OTDomainAdapter(method=method, reg=0.1, reg_class=0.1)
    params = ad.get_params()
    Xm = ad.fit(X, y, sample_domain=sd).transform(X, sample_domain=sd)
    assert ad.get_params() == params  # fit never rewrites hyperparameters
    if method != "sinkhorn_class":  # which needs its labels in fit
        np.testing.assert_array_equal(clone(ad).fit_transform(X, sample_domain=sd), Xm)
    np.testing.assert_array_equal(Xm[ns:], X[ns:])
    assert not np.allclose(Xm[:ns], X[:ns])
    # mapped source is closer to the target than the raw source
    assert np.linalg.norm(Xm[:ns].mean(0) - X[ns:].mean(0)) < 0.1 * np.linalg.norm(
        X[:ns].mean(0) - X[ns:].mean(0)
    ) + 0.05
    # inference from masked labels gives the same result as explicit domains
    np.testing.assert_allclose(
        clone(ad).fit(X, y).transform(X, sample_domain=sd), Xm, atol=1e-12
    )
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
        # requested by default: routing works without set_*_request
        out = make_pipeline(StandardScaler(), OTDomainAdapter(method="emd")).fit_transform(
            X, sample_domain=sd
        )
        np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, fit_kwargs, match",
    [
        ({}, dict(sample_domain="all_source"), "no target rows"),
        ({}, dict(sample_domain="all_target"), "no source rows"),
        ({}, dict(y="all_masked", sample_domain=None), "No source rows"),
        ({}, dict(sample_domain="short"), "one entry per row"),
        ({"reg": 0.0}, {}, "reg"),
        ({"reg": "big"}, {}, "reg"),
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
    ad = OTDomainAdapter()
    out = ad.fit_transform(X, sample_domain=sd)
    out_p = clone(ad).fit_transform(X[perm], sample_domain=sd[perm])
    np.testing.assert_allclose(out_p, out[perm], atol=1e-8)
    assert np.all(ad.coupling_ >= 0) and abs(ad.coupling_.sum() - 1) < 1e-9


# --------------------------------------------------------------- reg='auto'
def test_auto_reg_is_translation_invariant(moons):
    # the plan depends on the cost only through its double-centred part, so
    # translating the target leaves reg='auto' and the coupling unchanged;
    # a reg relative to the cost's max grows with the square of the shift
    X, y, sd, ns = moons
    far = X.copy()
    far[ns:] += [40.0, -25.0]
    a = OTDomainAdapter().fit(X, sample_domain=sd)
    b = OTDomainAdapter().fit(far, sample_domain=sd)
    assert a.reg_ == pytest.approx(b.reg_, rel=1e-9)
    np.testing.assert_allclose(a.coupling_, b.coupling_, atol=1e-9)
    assert a.spread_ratio_ > 0.5 and a.coupling_entropy_ < 0.9


def test_default_adapter_does_not_collapse_on_a_large_shift(da_data):
    # PCA digits with an affine target shift: reg=0.1 of the max cost (the
    # old default) blurred the coupling and every source row went to the
    # target mean; reg='auto' keeps the classes apart
    Xs, ys, Xt, yt = da_data.pca_digits(0)
    X, y, sd = da_data.stack(Xs, ys, Xt)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapsedMapWarning)
        ad = OTDomainAdapter().fit(X, sample_domain=sd)
    Xm = ad.transform(X, sample_domain=sd)
    acc = SVC().fit(Xm[: len(Xs)], ys).score(Xt, yt)
    assert acc > 0.9 > SVC().fit(Xs, ys).score(Xt, yt)
    assert ad.spread_ratio_ > 0.5


def test_collapsed_map_warns_naming_reg(da_data):
    Xs, ys, Xt, yt = da_data.pca_digits(0)
    X, y, sd = da_data.stack(Xs, ys, Xt)
    with pytest.warns(CollapsedMapWarning, match=r"collapsed.*Decrease reg \(reg_=0.1\)"):
        ad = OTDomainAdapter(reg=0.1, norm="max").fit(X, sample_domain=sd)
    assert ad.spread_ratio_ < 0.1 and ad.coupling_entropy_ > 0.9


def test_norm_only_matters_for_a_numeric_reg(moons):
    X, y, sd, ns = moons
    plans = [OTDomainAdapter(norm=n).fit(X, sample_domain=sd).coupling_ for n in (None, "max", "median")]
    for P in plans[1:]:
        np.testing.assert_allclose(P, plans[0], atol=1e-9)


# ------------------------------------------------------------- ties (item 6)
def test_duplicated_source_rows_share_one_image():
    # two identical source rows, two target points: the exact plan matches
    # the copies to different targets; as a map they must share one image
    X = np.array([[0.0, 0.0], [0.0, 0.0], [-1.0, 0.0], [1.0, 0.0]])
    sd = np.array([1, 1, -1, -1])
    for method in ("emd", "sinkhorn"):
        ad = OTDomainAdapter(method=method, reg=0.01)
        with warnings.catch_warnings():  # one source atom: the map is one point
            warnings.simplefilter("ignore", CollapsedMapWarning)
            fitted = ad.fit_transform(X, sample_domain=sd)
        np.testing.assert_allclose(fitted[:2], [[0.0, 0.0], [0.0, 0.0]], atol=1e-9)
        np.testing.assert_array_equal(ad.transform(X, sample_domain=sd), fitted)
        back = ad.inverse_transform(X, sample_domain=sd)
        np.testing.assert_allclose(back[2:], [[0.0, 0.0], [0.0, 0.0]], atol=1e-9)


@given(seed=st.integers(0, 2**31 - 1), n=st.integers(3, 12), dup=st.integers(1, 4))
def test_transform_of_fitted_rows_equals_fit_transform(seed, n, dup):
    rng = np.random.RandomState(seed)
    Xs = rng.randn(n, 2)
    Xs = np.r_[Xs, Xs[rng.randint(0, n, dup)]]  # some rows duplicated
    X = np.r_[Xs, rng.randn(n + 2, 2) * 2 + 3]
    sd = np.r_[np.ones(len(Xs), int), -np.ones(n + 2, int)]
    for method in ("emd", "sinkhorn"):
        ad = OTDomainAdapter(method=method)
        fitted = ad.fit_transform(X, sample_domain=sd)
        np.testing.assert_array_equal(ad.transform(X, sample_domain=sd), fitted)
        # identical rows have identical images
        _, inv = np.unique(Xs, axis=0, return_inverse=True)
        for k in np.unique(inv):
            rows = fitted[: len(Xs)][inv.ravel() == k]
            np.testing.assert_allclose(rows, rows[:1].repeat(len(rows), 0), atol=1e-12)


# ----------------------------------------------------- pipelines (item 3)
def test_pipeline_never_trains_on_target_rows(moons):
    X, y, sd, ns = moons
    pipe = make_pipeline(OTDomainAdapter(), SVC())
    with pytest.raises(ValueError, match="DomainAdaptedEstimator"):
        pipe.fit(X, y)  # masked target rows would become class -1
    y_full = np.r_[y[:ns], np.zeros(len(X) - ns, int)]
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(OTDomainAdapter(), SVC().set_fit_request(sample_weight=False))
        with pytest.raises(ValueError, match="DomainAdaptedEstimator"):
            pipe.fit(X, y_full, sample_domain=sd)  # would read the target labels
    # no domain information: nothing to hide, the pipeline fits as usual
    pipe = make_pipeline(OTDomainAdapter(), SVC()).fit(X[:ns], y[:ns])
    assert set(pipe.classes_) == {0, 1}


# -------------------------------------------------- POT parity (item 2)
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (dict(method="sinkhorn", reg=0.1), ("SinkhornTransport", dict(reg_e=0.1))),
        (dict(method="sinkhorn", reg=1.0), ("SinkhornTransport", {})),
        (dict(method="emd"), ("EMDTransport", {})),
        (
            dict(method="sinkhorn", reg=0.1, norm="max"),
            ("SinkhornTransport", dict(reg_e=0.1, norm="max")),
        ),
    ],
)
def test_documented_pot_swaps_give_the_same_model(ours, theirs, moons):
    ot = pytest.importorskip("ot")
    X, y, sd, ns = moons
    Xs, Xt = X[:ns], X[ns:]
    name, kw = theirs
    ref = getattr(ot.da, name)(**kw, **({"tol": 1e-12, "max_iter": 100_000} if "Sinkhorn" in name else {}))
    ref.fit(Xs=Xs, Xt=Xt)
    ad = OTDomainAdapter(**ours, tol=1e-12, max_iter=100_000).fit(X, sample_domain=sd)
    np.testing.assert_allclose(ad.coupling_, ref.coupling_, atol=1e-9)
    np.testing.assert_allclose(
        ad.transform(X, sample_domain=sd)[:ns], ref.transform(Xs=Xs), atol=1e-7
    )
    # cost_ is the transport cost in raw units; POT's cost_ is the (normalised) matrix
    C = cdist(Xs, Xt, "sqeuclidean")
    assert ad.cost_ == pytest.approx(np.sum(ad.coupling_ * C), rel=1e-12)
    scale = C.max() if ours.get("norm") == "max" else 1.0
    np.testing.assert_allclose(ref.cost_, C / scale, rtol=1e-12)


def test_gaussian_matches_pot_linear_transport(moons):
    ot = pytest.importorskip("ot")
    X, y, sd, ns = moons
    ref = ot.da.LinearTransport().fit(Xs=X[:ns], Xt=X[ns:]).transform(Xs=X[:ns])
    ours = OTDomainAdapter(method="gaussian").fit(X, sample_domain=sd).transform(X, sample_domain=sd)
    np.testing.assert_allclose(ours[:ns], ref, atol=1e-4)  # ridges 1e-6 vs 1e-8


def test_overflowing_entries_fail_at_the_boundary(moons):
    X, y, sd, ns = moons
    for method in ("gaussian", "sinkhorn"):
        with pytest.raises(ValueError, match="X has entries as large as .*Rescale X"):
            OTDomainAdapter(method=method).fit(X * 1e300, sample_domain=sd)
