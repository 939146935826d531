"""The coordinate-descent kernel against its NumPy twin, and both against the
optimality conditions of the problem they solve."""

import numpy as np
import pytest

from skngd._kernels.cd import cd_gram, cd_gram_ref


def _problem(m, seed, singular=False):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(3 * m, m))
    if singular:
        A[:, -1] = A[:, 0]
    H = np.ascontiguousarray(A.T @ A)
    g = A.T @ rng.normal(size=3 * m)  # a gradient X^T r: in the range of H
    w = rng.normal(size=m) * (rng.random(m) < 0.5)
    lam = np.abs(rng.normal(size=m)) * 2
    lam[0] = 0.0  # one unpenalised coordinate
    return H, g, w, lam


def _kkt(H, g, w, z, lam):
    r = g + H @ (z - w)
    v = np.where(z > 0, r + lam, np.where(z < 0, r - lam, np.maximum(np.abs(r) - lam, 0)))
    return np.abs(v).max()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("singular", [False, True])
def test_kernel_matches_numpy_twin(seed, singular):
    H, g, w, lam = _problem(12, seed, singular)
    outs = []
    for f in (cd_gram, cd_gram_ref):
        z, r = w.copy(), g.copy()
        sweeps, viol = f(H, r, z, lam, 1e-10, 5000)
        outs.append((z, r, sweeps, viol))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-10, atol=1e-10)
    assert outs[0][2] == outs[1][2]
    z = outs[0][0]
    # the returned model gradient is the model gradient at z, and z is optimal
    np.testing.assert_allclose(outs[0][1], g + H @ (z - w), atol=1e-9)
    assert _kkt(H, g, w, z, lam) < 1e-8


def test_read_only_inputs_and_zero_curvature():
    H, g, w, lam = _problem(6, 3)
    H[2, :] = H[:, 2] = 0.0  # an all-zero column: left where it is
    H.setflags(write=False)
    lam.setflags(write=False)
    for f in (cd_gram, cd_gram_ref):
        z, r = w.copy(), g.copy()
        f(H, r, z, lam, 1e-12, 2000)
        assert z[2] == w[2]
        assert np.all(np.isfinite(z))


def test_soft_threshold_one_coordinate():
    # min g (z - w) + h (z - w)^2 / 2 + lam |z| in closed form
    H = np.array([[2.0]])
    for g0, w0, lam0 in [(3.0, 0.0, 1.0), (-3.0, 0.0, 1.0), (0.5, 0.0, 1.0), (1.0, 2.0, 0.5)]:
        u = w0 - g0 / 2.0
        expect = np.sign(u) * max(abs(u) - lam0 / 2.0, 0.0)
        for f in (cd_gram, cd_gram_ref):
            z, r = np.array([w0]), np.array([g0])
            f(H, r, z, np.array([lam0]), 1e-14, 10)
            assert z[0] == pytest.approx(expect, abs=1e-15)
