"""CSR kernels against SciPy: float32/float64, vector and matrix right-hand sides, 1 vs 2 threads."""

import numpy as np
import pytest
from scipy import sparse

from skngd._kernels import sparse as S
from skngd.utils import numba_threads


def _csr(dtype, n=301, d=37, density=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, d, density=density, format="csr", random_state=seed,
                      dtype=np.float64)
    X.data = rng.standard_normal(X.nnz)
    X = X.astype(dtype)
    X.data.setflags(write=False)
    return X, rng


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("k", [None, 3])
def test_csr_products_match_scipy(dtype, n_jobs, k):
    X, rng = _csr(dtype)
    n, d = X.shape
    V = rng.standard_normal(d if k is None else (d, k)).astype(dtype)
    R = rng.standard_normal(n if k is None else (n, k)).astype(dtype)
    w = rng.uniform(0, 3, n)
    with numba_threads(n_jobs):
        XV = S.csr_matmul(X, V)
        XtR = S.csr_rmatmul(X, R)
        diag = S.csr_weighted_sq_colsum(X, w)
    rtol = 2e-5 if dtype == np.float32 else 1e-12
    assert XV.shape == (n,) if k is None else (n, k)
    assert XV.dtype == dtype and XtR.dtype == dtype
    np.testing.assert_allclose(XV, S.csr_matmul_ref(X, V), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(XtR, S.csr_rmatmul_ref(X, R), rtol=rtol, atol=10 * rtol)
    np.testing.assert_allclose(diag, S.csr_weighted_sq_colsum_ref(X, w), rtol=rtol,
                               atol=10 * rtol)


def test_csr_empty_rows_and_int64_indices():
    X, rng = _csr(np.float64, density=0.02)
    X64 = sparse.csr_matrix((X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64)),
                            shape=X.shape)
    v = rng.standard_normal(X.shape[1])
    np.testing.assert_allclose(S.csr_matmul(X64, v), X @ v, atol=1e-12)
    r = rng.standard_normal(X.shape[0])
    np.testing.assert_allclose(S.csr_rmatmul(X64, r), X.T @ r, atol=1e-12)
