import numba
import numpy as np
import pytest
from joblib import parallel_config

from skngd.utils import check_sample_weight, effective_n_threads, numba_threads, resolve_from_registry


def test_numba_threads_sets_and_restores():
    before = numba.get_num_threads()
    with numba_threads(1) as n:
        assert n == 1
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_numba_threads_restores_on_error():
    before = numba.get_num_threads()
    with pytest.raises(RuntimeError):
        with numba_threads(1):
            raise RuntimeError("boom")
    assert numba.get_num_threads() == before


def test_effective_n_threads_conventions():
    cap = numba.config.NUMBA_NUM_THREADS
    assert effective_n_threads(None) == 1
    assert effective_n_threads(1) == 1
    assert effective_n_threads(-1) == min(cap, __import__("os").cpu_count())
    assert effective_n_threads(10_000) <= cap
    with parallel_config(n_jobs=2):
        assert effective_n_threads(None) == min(2, cap)


def test_check_sample_weight_messages():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="sample_weight has 2 entries but X has 3"):
        check_sample_weight(np.ones(2), X)
    with pytest.raises(ValueError, match="[Nn]egative|non-negative"):
        check_sample_weight(np.array([1.0, -1.0, 1.0]), X)
    with pytest.raises(ValueError, match="NaN|infinity"):
        check_sample_weight(np.array([1.0, np.nan, 1.0]), X)
    with pytest.raises(ValueError, match="non-zero|zero for every sample"):
        check_sample_weight(np.zeros(3), X)
    sw = check_sample_weight(None, X)
    assert sw.dtype == np.float64 and np.all(sw == 1)
    sw32 = check_sample_weight([1, 2, 3], X.astype(np.float32))
    assert sw32.dtype == np.float32


def test_registry_lists_valid_choices():
    reg = {"a": dict, "b": list}
    assert resolve_from_registry("a", reg, "thing") == {}
    with pytest.raises(ValueError, match="thing='c' is not valid; choose one of 'a', 'b'"):
        resolve_from_registry("c", reg, "thing")


def test_blas_threads_and_parallel_section_restore():
    from threadpoolctl import threadpool_info

    from skngd.utils import blas_threads, parallel_section

    def blas_counts():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before, nb = blas_counts(), numba.get_num_threads()
    with blas_threads(1):
        assert all(c == 1 for c in blas_counts())
    assert blas_counts() == before
    with parallel_section(1) as n:
        assert n == 1 and numba.get_num_threads() == 1
        assert all(c == 1 for c in blas_counts())
    assert blas_counts() == before and numba.get_num_threads() == nb
