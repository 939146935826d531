"""The one thread policy of a fit: ``n_jobs`` to Numba threads, a BLAS limit,
and safe parallel launches, applied once at the top of ``fit`` and restored in
``finally``.

Three pieces of process state are involved, and each is handled so that fits
running at the same time in several Python threads (a ``GridSearchCV`` with the
threading backend, a notebook with a thread pool) cannot corrupt it:

* **Numba's thread count** (:func:`numba.set_num_threads`) is thread-local in
  Numba, so setting it in one Python thread never changes another's; it is set
  and restored per ``with`` block.
* **The BLAS limit** (OpenBLAS / MKL, through threadpoolctl) is process-wide.
  Every request goes through one reference-counted, lock-protected limiter: the
  first request saves the original limits, the effective limit is the smallest
  one any active fit asked for, and the last release restores the original. Two
  interleaved fits therefore never leave the process at one BLAS thread (with
  plain nested ``threadpool_limits`` contexts the second one restores the first
  one's temporary value).
* **Numba's ``workqueue`` threading layer** (its fallback when neither OpenMP
  nor TBB is available) is not thread-safe: two Python threads launching
  ``parallel=True`` kernels at once abort the process. Under that layer the
  parallel sections of concurrent fits take one process-wide lock and run one
  at a time; under ``omp`` and ``tbb`` they run concurrently.

Solvers and kernels never change this state themselves; estimators call
:func:`fit_threads` once per fit.
"""

from contextlib import contextmanager
import os
import threading

from joblib import effective_n_jobs


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

    Yields the number of threads in use. The previous setting of the calling
    thread (Numba's count is thread-local) is restored on exit, also when the
    block raises. Under a threading layer that is not thread-safe the block
    holds the process-wide launch lock (:func:`serial_parallel_launches`).
    """
    import numba

    n = effective_n_threads(n_jobs)
    with serial_parallel_launches():
        previous = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            yield n
        finally:
            numba.set_num_threads(previous)


class _BlasLimiter:
    """Process-wide, reference-counted BLAS thread limit (see module docstring)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._controller = None
        self._original = None  # threadpoolctl limiter holding the saved limits
        self._active = {}  # token -> requested limit
        self._applied = None
        self._next = 0

    def _get_controller(self):
        if self._controller is None:
            # scipy.linalg loads its own OpenBLAS: load it before scanning, so
            # the controller sees every BLAS a fit calls. Built once: a new
            # scan costs about 20 ms, more than a small fit.
            import scipy.linalg  # noqa: F401
            from threadpoolctl import ThreadpoolController

            self._controller = ThreadpoolController()
        return self._controller

    def _set(self, n):
        """Set the BLAS limit from the calling thread, under ``self._lock``.

        threadpoolctl >= 3.8 lets only one "controlling" thread change a
        process-wide OpenBLAS pool and silently ignores the others; every
        change here is serialised by our own lock, so hand control to the
        calling thread for the call and release it after.
        """
        _release_blas_control()
        try:
            limiter = self._get_controller().limit(limits=int(n), user_api="blas")
        finally:
            _release_blas_control()
        return limiter

    def _apply(self):
        target = min(self._active.values())
        if target != self._applied:
            self._set(target)
            self._applied = target

    def acquire(self, n):
        with self._lock:
            token, self._next = self._next, self._next + 1
            if not self._active:
                self._original = self._set(n)
                self._applied = int(n)
            self._active[token] = int(n)
            self._apply()
            return token

    def release(self, token):
        with self._lock:
            del self._active[token]
            if self._active:
                self._apply()
                return
            _release_blas_control()
            try:
                self._original.restore_original_limits()
            finally:
                _release_blas_control()
                self._original, self._applied = None, None

    @property
    def n_active(self):
        return len(self._active)


def _release_blas_control():
    import threadpoolctl

    clear = getattr(getattr(threadpoolctl, "OpenBLASController", None),
                    "clear_controlling_thread", None)
    if clear is not None:  # threadpoolctl >= 3.8
        clear(force=True)


_BLAS = _BlasLimiter()


@contextmanager
def blas_threads(n):
    """Limit BLAS (OpenBLAS/MKL) to ``n`` threads for the block.

    Requests from several threads combine: the smallest active limit applies,
    and the original limits come back when the last block exits (see the
    module docstring). Use it through :func:`fit_threads` in estimators.
    """
    token = _BLAS.acquire(max(1, int(n)))
    try:
        yield
    finally:
        _BLAS.release(token)


_LAYER_LOCK = threading.RLock()
_LAYER_SAFE = []


def parallel_launches_are_threadsafe():
    """Whether Numba's threading layer may be entered from several Python
    threads at once (``omp`` and ``tbb``: yes; ``workqueue``: no).

    Starts Numba's thread pool if it is not running yet (it would start at the
    first parallel kernel anyway); the answer is cached for the process.
    """
    if not _LAYER_SAFE:
        try:
            import numba
            from numba.np.ufunc import parallel

            parallel._launch_threads()
            layer = numba.threading_layer()
        except Exception:  # pragma: no cover - unknown layer: be safe
            layer = "unknown"
        _LAYER_SAFE.append(layer in ("omp", "tbb"))
    return _LAYER_SAFE[0]


@contextmanager
def serial_parallel_launches():
    """Hold the process-wide launch lock for the block when Numba's threading
    layer is not thread-safe (``workqueue``: a concurrent launch aborts the
    process, even with one thread per kernel); a no-op under ``omp``/``tbb``."""
    if parallel_launches_are_threadsafe():
        yield
        return
    with _LAYER_LOCK:
        yield


@contextmanager
def fit_threads(n_jobs, *, blas=None, numba=True, verbose=0):
    """The thread policy of one fit.

    Parameters
    ----------
    n_jobs : int or None
        scikit-learn's ``n_jobs``: the number of Numba threads (see
        :func:`effective_n_threads`).
    blas : int or None, default=None
        BLAS thread limit during the fit; ``None`` means the same count as the
        Numba threads, so ``n_jobs`` bounds every pool the fit uses and the
        Numba and BLAS pools never oversubscribe the cores between them.
    numba : bool, default=True
        Whether the fit runs Numba kernels. ``False`` skips importing Numba
        (small problems solved in NumPy) and applies only the BLAS limit (and
        ``verbose``, for kernels a caller compiles lazily).
    verbose : int, default=0
        The estimator's ``verbose``: above 0, a first compilation of kernels in
        this process is announced at once (otherwise only once it has lasted a
        second; see :mod:`skngd.utils._compile_notice`).

    Yields the number of threads. Everything is restored on exit.
    """
    from skngd.utils._compile_notice import compile_verbosity

    if not numba:
        n = max(1, min(effective_n_jobs(n_jobs if n_jobs is None else int(n_jobs)),
                       os.cpu_count() or 1))
        # kernels may still compile lazily inside the block (a fit that picks
        # its path from the data): the notice follows ``verbose`` there too
        with compile_verbosity(verbose), blas_threads(n if blas is None else blas):
            yield n
        return
    with compile_verbosity(verbose), numba_threads(n_jobs) as n, \
            blas_threads(n if blas is None else blas):
        yield n


def parallel_section(n_jobs):
    """Numba threads from ``n_jobs`` and BLAS limited to the same count
    (kept for callers that predate :func:`fit_threads`)."""
    return fit_threads(n_jobs)
