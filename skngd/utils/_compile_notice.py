"""Tell the user, once per process, that skngd's Numba kernels are compiling.

The first fit after installation compiles kernels for this machine and caches
them on disk; later processes load the cache. A silent pause of several seconds
looks like a hang, so a listener on Numba's ``numba:compile`` event (fired only
on a real compilation, never on a cache load) prints one line to stderr:

* at once, when the fit runs with ``verbose > 0`` (see :func:`compile_verbosity`);
* otherwise when a compilation of skngd kernels has been running for more than
  :data:`NOTICE_AFTER` seconds.

The listener is registered when :mod:`skngd._kernels._jit` is imported, i.e.
only once Numba is loaded for a kernel; it changes no Numba configuration.
"""

from contextlib import contextmanager
import contextvars
import sys
import threading
import time

NOTICE_AFTER = 1.0
MESSAGE = ("skngd: compiling Numba kernels for this machine, once (they are cached on "
           "disk for later processes)...")

_VERBOSE = contextvars.ContextVar("skngd_compile_verbose", default=0)
_STATE = {"installed": False, "announced": False, "depth": 0, "timer": None, "t0": None}
_LOCK = threading.Lock()


@contextmanager
def compile_verbosity(verbose):
    """Within the block, a compilation is announced at once if ``verbose > 0``."""
    token = _VERBOSE.set(int(verbose or 0))
    try:
        yield
    finally:
        _VERBOSE.reset(token)


def _announce():
    with _LOCK:
        if _STATE["announced"]:
            return
        _STATE["announced"] = True
    print(MESSAGE, file=sys.stderr, flush=True)


def _is_skngd(event):
    disp = event.data.get("dispatcher") if isinstance(event.data, dict) else None
    module = getattr(getattr(disp, "py_func", None), "__module__", "") or ""
    return module.startswith("skngd.")


def _make_listener():
    from numba.core import event as ev

    class _CompileNotice(ev.Listener):
        def on_start(self, event):
            if _STATE["announced"] or not _is_skngd(event):
                return
            if _VERBOSE.get() > 0:
                _announce()
                return
            with _LOCK:
                _STATE["depth"] += 1
                if _STATE["depth"] == 1 and _STATE["timer"] is None:
                    timer = threading.Timer(NOTICE_AFTER, _announce)
                    timer.daemon = True
                    _STATE["timer"], _STATE["t0"] = timer, time.perf_counter()
                    timer.start()

        def on_end(self, event):
            if not _is_skngd(event):
                return
            with _LOCK:
                if _STATE["depth"] == 0:
                    return
                _STATE["depth"] -= 1
                if _STATE["depth"] == 0 and _STATE["timer"] is not None:
                    _STATE["timer"].cancel()
                    _STATE["timer"] = None

    return _CompileNotice()


def install_compile_notice():
    """Register the listener (idempotent)."""
    with _LOCK:
        if _STATE["installed"]:
            return
        _STATE["installed"] = True
    from numba.core import event as ev

    ev.register("numba:compile", _make_listener())
