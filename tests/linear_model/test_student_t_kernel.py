"""The fused Student-t row pass against its NumPy reference."""

import numpy as np
import pytest

from skngd._kernels.student_t import t_row_pass, t_row_pass_ref
from skngd.utils import numba_threads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("readonly", [False, True])
@pytest.mark.parametrize("nu", [0.7, 4.0, 1e6])
def test_row_pass_matches_reference(dtype, n_jobs, readonly, nu):
    rng = np.random.default_rng(0)
    n, p = 257, 5
    X = rng.normal(size=(n, p)).astype(dtype)
    y = (X @ rng.normal(size=p) + rng.standard_t(2, size=n)).astype(dtype)
    coef = rng.normal(size=p).astype(dtype)
    if readonly:
        for a in (X, y, coef):
            a.setflags(write=False)
    out = [np.empty(n, dtype=dtype) for _ in range(3)]
    with numba_threads(n_jobs):
        t_row_pass(X, y, coef, 0.3, 1 / 1.7, nu, *out)
    ref = t_row_pass_ref(X, y, coef.astype(np.float64), 0.3, 1 / 1.7, nu)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(out, ref):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


def test_weights_and_loglik_at_zero_residual():
    X = np.zeros((3, 2))
    y = np.zeros(3)
    out = [np.empty(3) for _ in range(3)]
    t_row_pass(X, y, np.zeros(2), 0.0, 1.0, 4.0, *out)
    np.testing.assert_array_equal(out[1], 5.0 / 4.0)
    np.testing.assert_array_equal(out[2], 0.0)
