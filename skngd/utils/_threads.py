"""Map scikit-learn's ``n_jobs`` to Numba's thread count, and keep BLAS from
oversubscribing the cores while Numba kernels run.

Numba's thread count is global state: :func:`numba_threads` sets it for the
duration of a ``with`` block and always restores the previous value.
"""

from contextlib import contextmanager
import os

from joblib import effective_n_jobs

_CONTROLLER = []


def _max_threads():
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def effective_n_threads(n_jobs):
    """Number of threads ``n_jobs`` stands for, clipped to what Numba allows.

    ``None`` means 1 unless inside a :func:`joblib.parallel_config` context
    (scikit-learn's convention); ``-1`` means all cores; ``-2`` all but one.
    """
    if n_jobs is None:
        n = effective_n_jobs(None)
    else:
        n = effective_n_jobs(int(n_jobs))
    cap = _max_threads()
    return int(max(1, min(n, cap, os.cpu_count() or 1)))


@contextmanager
def numba_threads(n_jobs):
    """Run the block with ``effective_n_threads(n_jobs)`` Numba threads.

    Yields the number of threads in use. The previous Numba setting is
    restored on exit, also when the block raises.
    """
    import numba

    n = effective_n_threads(n_jobs)
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(previous)


def blas_threads(n):
    """Context manager limiting BLAS (OpenBLAS/MKL) to ``n`` threads.

    Use it around code that mixes BLAS calls with Numba parallel kernels, so
    the two thread pools do not oversubscribe the cores (on 2 busy cores a
    gemm was measured 300x slower under contention), and around many small
    BLAS products where threading only adds overhead. The threadpoolctl
    controller is built once per process: a fresh ``threadpool_limits`` costs
    about 20 ms, more than a small fit. The previous limits are restored on
    exit.
    """
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=int(n), user_api="blas")


@contextmanager
def parallel_section(n_jobs):
    """Numba threads from ``n_jobs`` and BLAS limited to the same count.

    Yields the number of threads. Both settings are restored on exit.
    """
    with numba_threads(n_jobs) as n, blas_threads(n):
        yield n
