"""The fused IRLS pass against its NumPy twin (family and link objects)."""

import numpy as np
import pytest

from skngd._kernels.glm import glm_deviance, irls_pass, irls_pass_ref
from skngd._loss import get_family, get_link
from skngd.utils import numba_threads

CASES = [
    ("normal", "identity", None, None),
    ("normal", "log", None, None),
    ("poisson", "log", None, None),
    ("poisson", "identity", None, None),
    ("poisson", "power", None, 0.5),
    ("gamma", "inverse", None, None),
    ("gamma", "log", None, None),
    ("inverse_gaussian", "inverse_squared", None, None),
    ("inverse_gaussian", "log", None, None),
    ("binomial", "logit", None, None),
    ("binomial", "probit", None, None),
    ("binomial", "cloglog", None, None),
    ("tweedie", "log", 1.5, None),
    ("tweedie", "log", 2.5, None),
    ("tweedie", "identity", 0.0, None),
    ("tweedie", "power", 1.2, -0.2),
    ("negative_binomial", "log", 0.7, None),
]


def _data(fam, link, rng, n, dtype):
    positive_eta = link.name in ("identity", "inverse", "inverse_squared", "power")
    eta = rng.uniform(0.5, 2.0, n) if positive_eta and fam.name != "normal" else 0.5 * rng.normal(size=n)
    if link.name == "power" and link.power < 0:
        eta = rng.uniform(0.5, 2.0, n)
    mu = link.inverse(eta)
    if fam.name == "binomial":
        y = (rng.uniform(size=n) < mu).astype(float)
    elif fam.name in ("poisson", "negative_binomial"):
        y = rng.poisson(mu).astype(float)
    elif fam.name == "tweedie" and fam.power < 2 and fam.power > 0:
        y = rng.poisson(mu) * rng.gamma(2.0, size=n)
    elif fam.name == "normal" or fam.power == 0:
        y = mu + rng.normal(size=n)
    else:
        y = rng.gamma(2.0, mu / 2.0)
    off = 0.1 * rng.normal(size=n)
    sw = rng.uniform(0.0, 2.0, n)
    return [np.ascontiguousarray(a, dtype=dtype) for a in (y, eta, off, sw)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("fam_name,link_name,fpar,lpow", CASES)
def test_irls_pass_matches_reference(fam_name, link_name, fpar, lpow, dtype, n_jobs):
    rng = np.random.default_rng(0)
    key = {"tweedie": "power", "negative_binomial": "alpha"}.get(fam_name)
    fam = get_family(fam_name, **({key: fpar} if key else {}))
    link = get_link(link_name, power=lpow)
    y, eta, off, sw = _data(fam, link, rng, 301, dtype)
    for a in (y, eta, sw):
        a.setflags(write=False)  # read-only inputs must work
    out = [np.empty(y.shape[0], dtype=dtype) for _ in range(3)]
    with numba_threads(n_jobs):
        dev = irls_pass(y, eta, sw, fam.code, float(fam.power), link.code, float(link.power), *out)
        dev_only = glm_deviance(y, eta, sw, fam.code, float(fam.power), link.code, float(link.power))
    ref = irls_pass_ref(*(a.astype(np.float64) for a in (y, eta, sw)), fam, link)
    rtol = 1e-10 if dtype == np.float64 else 2e-4
    for got, want in zip(out, ref[:3]):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
    assert dev == pytest.approx(ref[3], rel=rtol)
    assert dev_only == pytest.approx(dev, rel=1e-12)


@pytest.mark.parametrize("fam_name,link_name,eta", [
    ("poisson", "identity", -0.5), ("binomial", "log", 0.3), ("gamma", "inverse", -1.0)])
def test_deviance_is_inf_outside_family_domain(fam_name, link_name, eta):
    fam, link = get_family(fam_name), get_link(link_name)
    n = 5
    y = np.full(n, 0.5 if fam_name == "binomial" else 1.0)
    e = np.full(n, eta)
    e[0] = 0.1 if link_name != "log" else -1.0
    out = [np.empty(n) for _ in range(3)]
    dev = irls_pass(y, e, np.ones(n), fam.code, fam.power, link.code, link.power, *out)
    assert dev == np.inf
    assert irls_pass_ref(y, e, np.ones(n), fam, link)[3] == np.inf


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("intercept", [0, 1])
@pytest.mark.parametrize("n_chunks", [1, 3])
def test_csr_weighted_gram_matches_reference(intercept, n_chunks, n_jobs):
    import scipy.sparse as sp

    from skngd._kernels.glm import csr_weighted_gram, csr_weighted_gram_ref

    rng = np.random.default_rng(1)
    X = sp.random(257, 9, density=0.3, format="csr", random_state=2)
    w, v = rng.uniform(-1, 2, 257), rng.normal(size=257)  # observed weights may be negative
    w[::7] = 0.0
    k = 9 + intercept
    out = np.empty((n_chunks, k, k + 1))
    with numba_threads(n_jobs):
        csr_weighted_gram(X.data, X.indices, X.indptr, w, v, intercept, out)
    np.testing.assert_allclose(out.sum(axis=0), csr_weighted_gram_ref(X, w, v, intercept),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("fam_name,link_name", [("poisson", "log"), ("gamma", "log"),
                                                ("binomial", "logit"), ("tweedie", "log")])
def test_dense_step_pass_gradient_matches_reference(fam_name, link_name, n_jobs):
    from skngd._kernels.glm import dense_step_pass_gradient, dense_step_pass_gradient_ref

    rng = np.random.default_rng(3)
    fam = get_family(fam_name, **({"power": 1.5} if fam_name == "tweedie" else {}))
    link = get_link(link_name)
    n, p = 203, 4
    X = rng.normal(size=(n, p))
    y, eta, off, sw = _data(fam, link, rng, n, np.float64)
    step = 0.1 * rng.normal(size=p)
    n_chunks = 3
    eta_out, mu, w, u = (np.empty(n) for _ in range(4))
    gpart, dpart = np.empty((n_chunks, p + 1)), np.empty(n_chunks)
    with numba_threads(n_jobs):
        dense_step_pass_gradient(X, eta, step, 0.05, y, sw, fam.code, float(fam.power),
                                 link.code, float(link.power), eta_out, mu, w, u, gpart, dpart)
    ref = dense_step_pass_gradient_ref(X, eta, step, 0.05, y, sw, fam, link)
    for got, want in zip((eta_out, mu, w, u, gpart.sum(axis=0)), ref[:5]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert dpart.sum() == pytest.approx(ref[5], rel=1e-12)


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("p", [1, 4, 7])
def test_dense_hessian_vector_matches_reference(p, n_jobs):
    """Signed weights (observed information), row counts not divisible by
    the chunks, a p not divisible by the four accumulators."""
    from skngd._kernels.glm import dense_hessian_vector, dense_hessian_vector_ref

    rng = np.random.default_rng(4)
    n, n_chunks = 211, 3
    X = rng.normal(size=(n, p))
    v, h = rng.normal(size=p), rng.normal(size=n)
    part, t = np.empty((n_chunks, p + 1)), np.empty(n)
    with numba_threads(n_jobs):
        dense_hessian_vector(X, v, 0.3, h, t, part)
    t_ref, hv_ref = dense_hessian_vector_ref(X, v, 0.3, h)
    np.testing.assert_allclose(t, t_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(part.sum(axis=0), hv_ref, rtol=1e-12, atol=1e-12)
