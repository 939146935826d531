"""The CSC coordinate-descent kernel against its NumPy twin and against the
Gram-matrix kernel on the explicit Gram matrix (same iterates), and the model
gradient against ``g + H (z - w)``."""

import numpy as np
import pytest
import scipy.sparse as sp

from skngd._kernels.cd import cd_gram
from skngd._kernels.cd_sparse import cd_csc, cd_csc_ref, model_gradient, model_gradient_ref


def _problem(n, mf, seed, intercept=True, empty_col=False):
    rng = np.random.default_rng(seed)
    X = sp.random(n, mf, density=0.3, format="csc", random_state=seed,
                  data_rvs=rng.standard_normal)
    if empty_col:
        X = X.tolil()
        X[:, 2] = 0.0
        X = X.tocsc()
        X.eliminate_zeros()
    h = rng.random(n) * (rng.random(n) < 0.9)  # some zero weights
    m = mf + int(intercept)
    Xt = np.hstack([X.toarray(), np.ones((n, 1))]) if intercept else X.toarray()
    ridge = np.abs(rng.normal(size=m)) * 0.1
    ridge[-1] = 0.0
    if empty_col:
        ridge[2] = 0.0
    H = np.ascontiguousarray(Xt.T @ (h[:, None] * Xt) + np.diag(ridge))
    g = Xt.T @ rng.normal(size=n)
    w = rng.normal(size=m) * (rng.random(m) < 0.5)
    lam = np.abs(rng.normal(size=m)) * 2
    if intercept:
        lam[-1] = 0.0
    data = X.data.astype(np.float64)
    indices = X.indices.astype(np.int64)
    indptr = X.indptr.astype(np.int64)
    hdata = data * h[indices]
    c = np.asarray(X.T @ h).ravel()
    hdiag = np.diag(H).copy()
    arrays = dict(data=data, hdata=hdata, indices=indices, indptr=indptr, ridge=ridge,
                  c=c, hdiag=hdiag)
    return X, H, g, w, lam, arrays


def _run_csc(f, X, g, w, lam, a, tol, sweeps):
    z = w.copy()
    u = np.zeros(X.shape[0])
    out = f(a["data"], a["hdata"], a["indices"], a["indptr"], u, g, z, w, lam, a["hdiag"],
            a["ridge"], a["c"], tol, sweeps)
    return z, u, out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("sweeps", [1, 3, 5000])
def test_same_iterates_as_gram_kernel_and_numpy_twin(seed, intercept, sweeps):
    X, H, g, w, lam, a = _problem(60, 12, seed, intercept)
    zg, r = w.copy(), g.copy()
    ref = cd_gram(H, r, zg, lam, 1e-11, sweeps)
    for f in (cd_csc, cd_csc_ref):
        z, u, out = _run_csc(f, X, g, w, lam, a, 1e-11, sweeps)
        assert out[0] == ref[0]
        assert out[1] == pytest.approx(ref[1], rel=1e-8, abs=1e-11)
        np.testing.assert_allclose(z, zg, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(u, X @ (z[:12] - w[:12]), atol=1e-10)
    if sweeps == 5000:  # converged: z minimises the model
        v = np.where(zg > 0, r + lam, np.where(zg < 0, r - lam,
                                                 np.maximum(np.abs(r) - lam, 0)))
        assert np.abs(v).max() < 1e-9


@pytest.mark.parametrize("intercept", [True, False])
def test_model_gradient_matches_dense(intercept):
    X, H, g, w, lam, a = _problem(50, 9, 4, intercept)
    z = w + np.random.default_rng(5).normal(size=w.size)
    u = np.asarray(X @ (z[:9] - w[:9])).ravel()
    expect = g + H @ (z - w)
    for f in (model_gradient, model_gradient_ref):
        out = np.empty(z.size)
        f(a["hdata"], a["indices"], a["indptr"], u, g, z, w, a["hdiag"], a["ridge"], a["c"],
          out)
        np.testing.assert_allclose(out, expect, rtol=1e-10, atol=1e-10)


def test_empty_column_without_curvature_is_left_alone():
    X, H, g, w, lam, a = _problem(40, 6, 3, True, empty_col=True)
    for f in (cd_csc, cd_csc_ref):
        z, u, _ = _run_csc(f, X, g, w, lam, a, 1e-12, 2000)
        assert z[2] == w[2]
        assert np.all(np.isfinite(z)) and np.all(np.isfinite(u))


def test_soft_threshold_one_coordinate():
    # one column x = (1, 1), weights 1: H = 2; closed-form soft-threshold
    X = sp.csc_matrix(np.ones((2, 1)))
    a = dict(data=np.ones(2), hdata=np.ones(2), indices=np.arange(2, dtype=np.int64),
             indptr=np.array([0, 2], dtype=np.int64), ridge=np.zeros(1), c=np.array([2.0]),
             hdiag=np.array([2.0]))
    for g0, w0, lam0 in [(3.0, 0.0, 1.0), (-3.0, 0.0, 1.0), (0.5, 0.0, 1.0), (1.0, 2.0, 0.5)]:
        u0 = w0 - g0 / 2.0
        expect = np.sign(u0) * max(abs(u0) - lam0 / 2.0, 0.0)
        for f in (cd_csc, cd_csc_ref):
            z, _, _ = _run_csc(f, X, np.array([g0]), np.array([w0]), np.array([lam0]), a,
                               1e-14, 10)
            assert z[0] == pytest.approx(expect, abs=1e-15)


def test_weighted_columns_matches_scipy():
    from skngd._kernels.cd_sparse import weighted_columns, weighted_columns_ref

    X, H, g, w, lam, a = _problem(70, 11, 7, True, empty_col=True)
    h = np.random.default_rng(8).random(70) - 0.2  # any sign (observed Hessians)
    expect_c = np.asarray(X.T @ h).ravel()
    expect_d = np.asarray(X.multiply(X).T @ h).ravel()
    for f in (weighted_columns, weighted_columns_ref):
        hdata, c, hdiag = np.empty(X.nnz), np.empty(11), np.full(12, np.nan)
        f(a["data"], a["indices"], a["indptr"], h, hdata, c, hdiag)
        np.testing.assert_allclose(hdata, a["data"] * h[a["indices"]], rtol=1e-15)
        np.testing.assert_allclose(c, expect_c, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(hdiag[:11], expect_d, rtol=1e-12, atol=1e-14)
        assert np.isnan(hdiag[11])  # the intercept entry is the caller's
