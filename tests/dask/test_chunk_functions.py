"""What runs on the workers, tested in-process: the per-chunk state at
``W = 0`` and the glibc heap setting of a pass."""

import threading

import numpy as np
import pytest

pytest.importorskip("dask")

from skngd._dask import _chunks  # noqa: E402
from skngd._dask.design import _chunk_state, _logit_zero_state  # noqa: E402
from skngd._loss.family import Binomial  # noqa: E402
from skngd._loss.linear_loss import LinearModelLoss  # noqa: E402


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_zero_state_equals_the_per_sample_pass(fit_intercept):
    rng = np.random.default_rng(0)
    n, p = 3000, 4
    y = np.r_[(rng.random(n - 10) < 0.3).astype(float), rng.random(10)]  # and proportions
    sw = rng.uniform(0.0, 2.0, n)
    loss = LinearModelLoss(Binomial(), rng.standard_normal((n, p)), y, sw,
                           fit_intercept=fit_intercept, l2_reg_strength=0.0)
    coef = np.zeros((p + int(fit_intercept), 1))
    st = _logit_zero_state(loss, coef)
    lo, g, h = loss.per_sample(loss.raw_prediction(coef))
    np.testing.assert_array_equal(st.loss, lo)
    np.testing.assert_array_equal(st.grad_raw, g)
    np.testing.assert_array_equal(st.curv, h)
    np.testing.assert_array_equal(st.z, 1.0)
    assert st.value == float(np.sum(lo, dtype=np.float64))
    assert _chunk_state(loss, coef).z is not None  # the chunks take this path at W = 0


class _FakeLibc:
    def __init__(self):
        self.calls = []

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return 1


def _heap(monkeypatch, **env):
    for k in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return _chunks._KeptHeap()


def test_kept_heap_changes_nothing_without_the_environment(monkeypatch):
    heap = _heap(monkeypatch)
    assert heap.libc is None
    with heap:  # a no-op
        pass


def test_kept_heap_raises_once_and_restores_the_environment(monkeypatch):
    heap = _heap(monkeypatch, MALLOC_TRIM_THRESHOLD_="65536")
    if heap.libc is None:
        pytest.skip("not glibc")
    heap.libc = fake = _FakeLibc()
    mmap, trim = _chunks._KeptHeap._MMAP, _chunks._KeptHeap._TRIM
    raised = _chunks._KeptHeap._RAISED
    with heap:
        with heap:  # nested (a worker's group of chunks): set once
            assert fake.calls == [(mmap, raised[0]), (trim, raised[1])]
        assert len(fake.calls) == 2
    # back to the environment's trim threshold and glibc's default mmap threshold
    assert fake.calls[2:] == [(mmap, 128 << 10), (trim, 65536)]


def test_kept_heap_restores_when_the_last_thread_leaves(monkeypatch):
    heap = _heap(monkeypatch, MALLOC_TRIM_THRESHOLD_="65536", MALLOC_MMAP_THRESHOLD_="262144")
    if heap.libc is None:
        pytest.skip("not glibc")
    heap.libc = fake = _FakeLibc()
    inside, release = threading.Barrier(3), threading.Event()

    def work():
        with heap:
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()  # both threads inside: raised once, not restored
    assert len(fake.calls) == 2
    release.set()
    for t in threads:
        t.join()
    assert fake.calls[2:] == [(_chunks._KeptHeap._MMAP, 262144),
                              (_chunks._KeptHeap._TRIM, 65536)]
