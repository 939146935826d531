"""The log-link row pass (no logarithm per row) against its NumPy twin and
against the full fused pass: same means, weights and scores, and its value
plus the y-only constant is the weighted half deviance."""

import numpy as np
import pytest

from skngd._kernels.glm import irls_pass, loglink_pass
from skngd._kernels.glm_ref import irls_pass_ref, loglink_constant, loglink_pass_ref
from skngd._loss import get_family, get_link
from skngd.utils import numba_threads

FAMILIES = [("poisson", None), ("gamma", None), ("inverse_gaussian", None),
            ("tweedie", 1.5), ("tweedie", 2.5), ("tweedie", 1.0)]


def _data(fam, rng, n):
    eta = 0.7 * rng.normal(size=n)
    mu = np.exp(eta)
    if fam.name == "poisson" or (fam.name == "tweedie" and fam.power == 1.0):
        y = rng.poisson(mu).astype(float)
    elif fam.name == "tweedie" and fam.power < 2:
        y = rng.poisson(mu) * rng.gamma(2.0, size=n)
    else:
        y = rng.gamma(2.0, mu / 2.0)
    sw = rng.uniform(0.0, 2.0, n)
    sw[::7] = 0.0
    return y, eta, sw


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("name,power", FAMILIES)
def test_loglink_pass_matches_twin_and_full_pass(name, power, n_jobs):
    rng = np.random.default_rng(3)
    fam = get_family(name, **({"power": power} if power is not None else {}))
    p = float(fam.variance_power)
    y, eta, sw = _data(fam, rng, 1001)
    for a in (y, eta, sw):
        a.setflags(write=False)  # read-only inputs must work
    out = [np.empty_like(y) for _ in range(3)]
    with numba_threads(n_jobs):
        val, scale = loglink_pass(y, eta, sw, p, *out)
    ref = loglink_pass_ref(y, eta, sw, p)
    for got, want in zip(out, ref[:3]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert val == pytest.approx(ref[3], rel=1e-12)
    assert scale == pytest.approx(ref[4], rel=1e-12)
    assert scale >= abs(val)
    # the full pass of the family and link objects: same rows, half deviance = value + constant
    link = get_link("log")
    mu, w, u, dev = irls_pass_ref(y, eta, sw, fam, link)
    np.testing.assert_allclose(out[0], mu, rtol=1e-12)
    np.testing.assert_allclose(out[1], w, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(out[2], u, rtol=1e-10, atol=1e-12)
    half = val + loglink_constant(y, sw, p)
    assert half == pytest.approx(0.5 * dev, rel=1e-10)
    dev_numba = irls_pass(y, eta, sw, fam.code, float(fam.power), link.code, float(link.power),
                          *(np.empty_like(y) for _ in range(3)))
    assert half == pytest.approx(0.5 * dev_numba, rel=1e-10)


def test_loglink_pass_overflow_is_inf():
    y = np.array([1.0, 2.0])
    eta = np.array([0.0, 800.0])  # exp overflows
    out = [np.empty(2) for _ in range(3)]
    val, _ = loglink_pass(y, eta, np.ones(2), 1.0, *out)
    assert val == np.inf
