"""Dense matrix-vector kernels against NumPy: float32/float64, read-only, 1 vs 2 threads."""

import numpy as np
import pytest

from skngd._kernels import dense as D
from skngd.utils import numba_threads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_dense_products_match_numpy(dtype, n_jobs):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((503, 17)).astype(dtype)
    X.setflags(write=False)
    v = rng.standard_normal(17).astype(dtype)
    r = rng.standard_normal(503).astype(dtype)
    with numba_threads(n_jobs):
        Xv, Xtr = D.matvec(X, v), D.rmatvec(X, r)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert Xv.dtype == dtype
    np.testing.assert_allclose(Xv, D.matvec_ref(X.astype(float), v.astype(float)),
                               rtol=rtol, atol=rtol)
    np.testing.assert_allclose(Xtr, D.rmatvec_ref(X.astype(float), r.astype(float)),
                               rtol=rtol, atol=10 * rtol)
