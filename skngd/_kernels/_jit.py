"""The one decorator policy for every Numba kernel in skngd.

* ``cache=True``: compiled code is written next to the module, so only the very
  first process after installation pays compilation.
* ``error_model="numpy"``: division by zero gives inf/nan as NumPy does
  instead of raising (no Python exception machinery in the loops).
* ``nogil=True``: kernels release the GIL, so joblib threads can overlap.
* Signatures are left lazy: compiling float32 and float64, read-only and
  writable variants eagerly at import would cost seconds for every user.

Use :data:`jit` for serial kernels and :data:`pjit` for kernels whose outer
loop is a ``numba.prange`` over rows, each iteration writing its own slice.
:data:`jit_inline` marks helpers that are only called from other kernels:
they are inlined into each caller at Numba's IR level instead of being
compiled (and cached, and loaded) as separate functions, which costs compile
time and load time for every helper.
Call kernels inside :func:`skngd.utils.numba_threads` so ``n_jobs`` is honoured.

Importing this module registers :mod:`skngd.utils._compile_notice`'s listener:
the first compilation in a process that lasts over a second (or any, at
``verbose > 0``) prints one line saying that kernels compile once.
"""

import numba

from skngd.utils._compile_notice import install_compile_notice

# one line on stderr, once per process, when kernels compile (never on a cache load)
install_compile_notice()

_OPTIONS = dict(cache=True, nogil=True, error_model="numpy")

jit = numba.njit(**_OPTIONS)
pjit = numba.njit(parallel=True, **_OPTIONS)
jit_inline = numba.njit(inline="always", **_OPTIONS)
prange = numba.prange

__all__ = ["jit", "jit_inline", "pjit", "prange"]
