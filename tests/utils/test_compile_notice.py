"""The one-time compile notice: printed once per process on a real
compilation, never on a load from Numba's on-disk cache."""

import os
import subprocess
import sys

from skngd.utils._compile_notice import MESSAGE

_SCRIPT = """
import numpy as np
from skngd.utils._compile_notice import compile_verbosity
from skngd._kernels.dense import dense_matvec
with compile_verbosity(1):
    dense_matvec(np.ones((3, 2)), np.ones(2), np.empty(3))
    dense_matvec(np.ones((3, 2), dtype=np.float32), np.ones(2, dtype=np.float32),
                 np.empty(3, dtype=np.float32))
print("done")
"""


def _run(cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "done"
    return out.stderr


def test_compile_notice_once_then_silent_on_cache_load(tmp_path):
    cold = _run(tmp_path)
    # two signatures compiled, one line printed
    assert cold.count(MESSAGE) == 1
    warm = _run(tmp_path)
    assert MESSAGE not in warm
