"""The one weighted-Gram implementation against the explicit product, for
dense and CSR X, with and without the intercept column and the fused score."""

import numpy as np
import pytest
import scipy.sparse as sp

from skngd._loss.design import GramSum, LinearDesign, gram_buffer, unit_gram, weighted_gram


def _explicit(X, w, v, fit_intercept):
    A = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    if fit_intercept:
        A = np.c_[A, np.ones(A.shape[0])]
    return A.T @ (w[:, None] * A), (None if v is None else A.T @ v)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("storage", ["dense", "csr", "csr-numba"])
@pytest.mark.parametrize("weights", ["positive", "signed", "some zero", "unit (None)"])
@pytest.mark.parametrize("with_v", [True, False])
def test_weighted_gram_matches_explicit_product(fit_intercept, storage, weights, with_v):
    rng = np.random.default_rng(0)
    n, p = 2500, 6
    X = rng.normal(size=(n, p))
    w = rng.uniform(0.1, 2.0, n)
    if weights == "signed":
        w -= 0.8
    elif weights == "some zero":
        w[::7] = 0.0
    elif weights == "unit (None)":
        w = np.ones(n)
    v = rng.normal(size=n) if with_v else None
    if storage != "dense":
        X = sp.csr_matrix(np.where(rng.random(X.shape) < 0.3, X, 0.0))
    # small blocks: several of them, and a last partial one
    buffer = None if storage != "dense" else gram_buffer(300, p + fit_intercept, np.float64)
    G, r = weighted_gram(X, None if weights == "unit (None)" else w, v,
                         fit_intercept=fit_intercept,
                         use_numba=storage == "csr-numba", buffer=buffer)
    G0, r0 = _explicit(X, w, v, fit_intercept)
    np.testing.assert_allclose(G, G0, rtol=1e-12, atol=1e-10)
    if with_v:
        np.testing.assert_allclose(r, r0, rtol=1e-12, atol=1e-10)
    else:
        assert r is None


def test_design_gram_rows_and_float32_products_in_float64():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 4)).astype(np.float32)
    d = LinearDesign(X, rng.uniform(size=500))
    rows = np.arange(0, 500, 3)
    w = rng.uniform(size=rows.size)
    G, _ = d.weighted_gram(w, rows=rows)
    G0, _ = _explicit(X[rows], w, None, True)
    assert G.dtype == np.float64
    np.testing.assert_allclose(G, G0, rtol=1e-12)
    assert d.gram_rows == rows.size


@pytest.mark.parametrize("sparse_x", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_kron_gram_is_the_kronecker_sum(sparse_x, fit_intercept):
    import scipy.sparse as sp

    from skngd._loss.design import kron_gram

    rng = np.random.default_rng(3)
    X = rng.normal(size=(97, 4)) * (rng.random((97, 4)) < 0.6)
    V, D = rng.normal(size=(97, 3)), rng.random((97, 3))
    Xt = np.hstack([X, np.ones((97, 1))]) if fit_intercept else X
    ref = sum(np.kron(np.outer(Xt[i], Xt[i]), np.diag(D[i]) - np.outer(V[i], V[i]))
              for i in range(97))
    Xi = sp.csr_matrix(X) if sparse_x else X
    # a small block size makes several row blocks, with a ragged last one
    G = kron_gram(Xi, V, D, sign=-1.0, fit_intercept=fit_intercept, block_bytes=3000)
    np.testing.assert_allclose(G, ref, rtol=1e-12, atol=1e-12)


def test_gram_sum_accumulates_signed_blocks_of_any_dtype():
    rng = np.random.default_rng(3)
    blocks = [rng.standard_normal((m, 7)) for m in (5, 1, 0, 12)]
    blocks.append(rng.standard_normal((9, 7)).astype(np.float32))
    blocks.append(np.asfortranarray(rng.standard_normal((4, 7))))  # not C order: NumPy
    signs = [1.0, -1.0, 1.0, 2.0, 1.0, -0.5]
    S = GramSum(7)
    for B, a in zip(blocks, signs):
        S.add(B, a)
    want = sum(a * (B.astype(np.float64).T @ B.astype(np.float64)) for B, a in zip(blocks, signs))
    got = S.result()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(got, got.T)
    assert got.flags.c_contiguous and S.result(3).shape == (3, 3)
    np.testing.assert_array_equal(S.result(3), got[:3, :3])
    assert GramSum(0).result().shape == (0, 0)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_unit_gram_with_class_rows(fit_intercept):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((1000, 6))
    W = rng.random((3, 1000))
    G, WX = unit_gram(X, fit_intercept, W, block_bytes=800)  # many row blocks
    Xt = np.c_[X, np.ones(1000)] if fit_intercept else X
    np.testing.assert_allclose(G, Xt.T @ Xt, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(WX, W @ Xt, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_unit_gram_with_a_row_stride(fit_intercept):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((1003, 4))
    W = rng.random((2, 1003))
    G, WX = unit_gram(X, fit_intercept, W, block_bytes=8 * 4 * 100, stride=3)  # 100-row blocks
    rows = np.concatenate([np.arange(s, min(1003, s + 100), 3) for s in range(0, 1003, 100)])
    Xt = np.c_[X, np.ones(1003)] if fit_intercept else X
    np.testing.assert_allclose(G, 3 * Xt[rows].T @ Xt[rows], rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(WX, W @ Xt, rtol=1e-12, atol=1e-10)  # all rows
