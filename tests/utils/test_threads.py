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


def _blas_counts():
    from threadpoolctl import threadpool_info

    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_interleaved_blas_limits_from_two_threads_restore_the_original():
    """Thread A limits, thread B limits, A exits, B exits: both limits are in
    force while they overlap, and the process is back at its original BLAS
    limits at the end (nested threadpool_limits contexts leave it at 1: B saved
    A's temporary value and restores it last)."""
    import threading

    from skngd.utils import blas_threads

    before = _blas_counts()
    assert max(before) > 1, "the test needs a multi-threaded BLAS"
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with blas_threads(1):
            a_in.set()
            b_in.wait(5)
            seen["a"] = _blas_counts()
        a_out.set()

    def b():
        a_in.wait(5)
        with blas_threads(1):
            b_in.set()
            a_out.wait(5)
            seen["b_after_a"] = _blas_counts()

    ts = [threading.Thread(target=a), threading.Thread(target=b)]
    [t.start() for t in ts]
    [t.join(10) for t in ts]
    assert all(c == 1 for c in seen["a"])
    # A left while B still runs: B's limit stays in force ...
    assert all(c == 1 for c in seen["b_after_a"])
    # ... and once both left, the original limits are back
    assert _blas_counts() == before
    # the main thread can still change the limits afterwards
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        assert all(c == 1 for c in _blas_counts())
    assert _blas_counts() == before


def test_concurrent_fits_leave_blas_limits_unchanged():
    import threading

    from skngd import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(70_000, 8))  # above the Numba thresholds (kernel path)
    y = (X[:, 0] + rng.normal(size=len(X)) > 0).astype(int)
    before = _blas_counts()
    errors = []

    def work():
        try:
            for _ in range(3):
                LogisticRegression(n_jobs=2).fit(X, y)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    ts = [threading.Thread(target=work) for _ in range(4)]
    [t.start() for t in ts]
    [t.join(120) for t in ts]
    assert not errors
    assert _blas_counts() == before


_WORKQUEUE_SCRIPT = """
import sys
import threading
import numpy as np
from skngd import LogisticRegression
rng = np.random.default_rng(0)
X = rng.normal(size=(60_000, 20))  # above the Numba thresholds (kernel path)
y = (X[:, 0] + rng.normal(size=len(X)) > 0).astype(int)
errors = []
def work():
    try:
        for _ in range(3):
            LogisticRegression(n_jobs=2).fit(X, y)
    except Exception as exc:
        errors.append(repr(exc))
ts = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
assert "numba" in sys.modules, "the fits did not take the Numba path"
import numba
print(numba.threading_layer(), len(errors))
"""


def test_concurrent_fits_under_the_workqueue_layer_do_not_abort(tmp_path):
    """Numba's workqueue layer aborts the process (SIGABRT) when two Python
    threads launch parallel kernels at once; skngd serialises its launches."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    out = subprocess.run([sys.executable, "-c", _WORKQUEUE_SCRIPT], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["workqueue", "0"]
