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


def _poisson_chunk(y, sw, fit_intercept, off=None):
    from skngd._dask import glm
    from skngd.linear_model import PoissonRegressor

    est = PoissonRegressor(fit_intercept=fit_intercept)
    fam = est._get_family()
    rng = np.random.default_rng(1)
    X = rng.standard_normal((y.shape[0], 3))
    return glm._Chunk(X, y, sw, off, fam, est._get_link(fam), fit_intercept)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("counts", ["small", "large", "fractional"])
def test_poisson_log_sweep_and_final_statistics_equal_the_general_path(fit_intercept, counts):
    """The vectorised Poisson / log pass (score, Gram matrix, deviance in one
    sweep) and its final statistics equal the Numba kernel's pass and the
    family's own functions, zero weights and a vanishing mean included."""
    from skngd._dask import glm
    from skngd._solvers.irls import _Workspace

    rng = np.random.default_rng(2)
    n = 20_011  # several row blocks and a partial one
    y = {"small": rng.poisson(2.0, n), "large": rng.poisson(900.0, n) + 200 * (rng.random(n) < 0.1),
         "fractional": rng.gamma(2.0, 1.0, n)}[counts].astype(float)
    sw = rng.uniform(0.0, 2.0, n)
    sw[::7] = 0.0
    off = rng.uniform(-0.2, 0.2, n)
    c = _poisson_chunk(y, sw, fit_intercept, off)
    p = c.full
    assert glm._poisson_log(p)
    k = p.n_coef
    for coef in (np.full(k, 0.1), np.r_[np.full(k - 1, 0.3), -2.0]):
        ws, ws_ref = glm._workspace(p), _Workspace(p)
        eta, dev, score, G = glm._sweep_poisson_log(p, coef, ws, True)
        p.__dict__.pop("_dask_eta", None)
        eta_ref = p.linear_predictor(coef)
        dev_ref = glm._pass(p, eta_ref, ws_ref)
        G_ref, score_ref = p.gram_score(ws_ref.w, ws_ref.u)
        np.testing.assert_allclose(eta, eta_ref, rtol=1e-13, atol=1e-13)
        assert dev == pytest.approx(dev_ref, rel=1e-11)
        np.testing.assert_allclose(ws.mu, ws_ref.mu, rtol=1e-13)
        np.testing.assert_allclose(ws.w, ws_ref.w, rtol=1e-13)
        np.testing.assert_allclose(ws.u, ws_ref.u, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(score, score_ref, rtol=1e-11, atol=1e-9)
        np.testing.assert_allclose(G, G_ref, rtol=1e-12, atol=1e-10)
        p._dask_eta = [(np.array(coef), eta)]
        got = glm._c_final(c, coef, 2.5, True, True, mu=ws.mu)
        p.__dict__.pop("_dask_eta")
        want = glm._c_final(c, coef, 2.5, True, True, mu=ws.mu)
        np.testing.assert_allclose(got, want, rtol=1e-11)


def test_poisson_log_sweep_with_a_vanishing_mean():
    """A linear predictor far below -745 makes a mean 0: zero weight and
    score, and an infinite deviance unless that row's weight is zero."""
    from skngd._dask import glm

    y = np.array([0.0, 1.0, 2.0] * 20)
    for w0, finite in ((0.0, True), (1.0, False)):
        sw = np.ones(60)
        sw[0] = w0
        c = _poisson_chunk(y, sw, True)
        p = c.full
        p.X[0] = 500.0  # row 0: eta = -1500 at the coefficients below
        coef = np.array([-1.0, -1.0, -1.0, 0.0])
        eta, dev, score, G = glm._sweep_poisson_log(p, coef, glm._workspace(p), True)
        ws = glm._workspace(p)
        assert ws.mu[0] == 0.0 and ws.w[0] == 0.0 and ws.u[0] == 0.0
        assert np.isfinite(dev) == finite and np.all(np.isfinite(score))
