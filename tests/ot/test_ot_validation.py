"""Bad input to the public OT functions: clear errors at the boundary, and a
plan with its mass when sinkhorn_online runs out of iterations."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skngd.ot import (
    bures_wasserstein,
    emd,
    gaussian_map,
    sinkhorn,
    sinkhorn_group_lasso,
    sinkhorn_online,
)

RNG = np.random.RandomState(0)
XS, XT = RNG.randn(30, 2), RNG.randn(40, 2) + 1
M = np.abs(RNG.randn(4, 5))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sinkhorn(None, None, M + 1j, 0.1), "complex"),
        (lambda: sinkhorn(None, None, M, 0.1, tol=np.nan), "'tol' parameter"),
        (lambda: sinkhorn(None, None, M, 0.1, n_jobs="x"), "'n_jobs' parameter"),
        (lambda: sinkhorn(None, None, M, "0.1"), "'reg' parameter"),
        (lambda: sinkhorn(None, None, M, 0.1, max_iter=0), "'max_iter' parameter"),
        (lambda: sinkhorn(np.full(4, 0.25) + 0j, None, M, 0.1), "complex"),
        (lambda: emd(None, None, M, max_iter=1.5), "'max_iter' parameter"),
        (lambda: sinkhorn_online(XS, XT, 0.1, tol=np.nan), "'tol' parameter"),
        (lambda: sinkhorn_online(XS, XT, 0.1, n_jobs="x"), "'n_jobs' parameter"),
        (lambda: sinkhorn_online(XS, XT, 0.1, metric="cosine"), "'metric' parameter"),
        (lambda: sinkhorn_online(XS, XT, 0.1, cost_scale=0), "'cost_scale' parameter"),
        (lambda: sinkhorn_online(XS + 1j, XT, 0.1), "complex"),
        (lambda: sinkhorn_group_lasso(None, None, M, [0, np.nan, 1, 1], 0.1, 0.1), "NaN"),
        (lambda: sinkhorn_group_lasso(None, None, M, [[0], [1], [1], [0]], 0.1, 0.1), "1-D"),
        (lambda: sinkhorn_group_lasso(None, None, M, [0, 1, 1, 0], 0.1, -1.0), "'reg_class'"),
        (lambda: sinkhorn_group_lasso(None, None, M, [0, 1, 1, 0], 0.1, 0.1, tol=np.nan), "'tol'"),
        (lambda: gaussian_map(XS, XT, reg="x"), "'reg' parameter"),
        (lambda: gaussian_map(XS, XT, reg=np.nan), "'reg' parameter"),
        (lambda: bures_wasserstein([0], [[1]], [0], [[1]], squared="yes"), "'squared'"),
    ],
)
def test_bad_parameters_fail_at_the_boundary(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("scale", [1e160, 1e300])
def test_overflowing_points_fail_at_the_boundary(scale):
    # squares of these entries overflow float64: the failure used to come
    # from inside the eigen-decomposition ("S1 contains NaN or infinity")
    with pytest.raises(ValueError, match="Xs has entries as large as .*Rescale Xs"):
        gaussian_map(XS * scale, XT)
    with pytest.raises(ValueError, match="Xt has entries as large as"):
        gaussian_map(XS, XT * scale)
    with pytest.raises(ValueError, match="Xs has entries as large as"):
        sinkhorn_online(XS * scale, XT, 0.1)
    with pytest.raises(ValueError, match="S1 has entries as large as"):
        bures_wasserstein([0.0], [[1e300]], [0.0], [[1.0]])


@pytest.mark.parametrize("max_iter", [1, 5, 50])
def test_online_out_of_iterations_keeps_the_mass(max_iter):
    # max_iter runs out while eps-scaling is still at a large eps: the plan
    # used to be evaluated at reg with those potentials and carried no mass
    # (cost 1e-300, marginal error 1.0)
    with pytest.warns(ConvergenceWarning, match="max_iter=.*eps-scaling schedule stopped"):
        res = sinkhorn_online(XS, XT, 1e-3, max_iter=max_iter)
    assert not res.converged and res.n_iter == max_iter
    assert res.cost > 0.1 and np.isfinite(res.marginal_error)
    assert res.marginal_error < 2.0 - 1e-6  # a massless plan has error ~2 - 0
    # rows carry their mass a_i = 1/n: the cost lies between the nearest and
    # the farthest target of every row
    C = ((XS[:, None] - XT[None]) ** 2).sum(-1)
    assert C.min(1).mean() - 1e-9 <= res.cost <= C.max(1).mean() + 1e-9
    assert res.eps_reached >= 1e-3


def test_online_converged_reaches_reg():
    res = sinkhorn_online(XS, XT, 0.5, tol=1e-10, max_iter=100_000)
    assert res.converged and res.eps_reached == 0.5
    assert res.marginal_error < 1e-9
