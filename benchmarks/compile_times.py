"""Which Numba kernels a first fit compiles, and how long each takes.

For every case of ``bench_first_use.py`` (and a larger synthetic variant that
takes the Numba paths small problems skip), a fresh process with an empty
``NUMBA_CACHE_DIR`` fits once while a listener records Numba's
``numba:compile`` events. Times are exclusive (a kernel's time excludes the
kernels it calls that compiled inside it), one line per kernel and signature.

    python benchmarks/compile_times.py              # every case
    python benchmarks/compile_times.py --only glm   # cases whose name contains 'glm'
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_first_use import CASES, _DATA  # noqa: E402

# larger inputs of the same shape, so size thresholds send the fit to Numba
_LARGE = {
    "digits": "X = np.tile(X, (12, 1)); y = np.tile(y, 12)",
    "breast_cancer": "X = np.tile(X, (40, 1)); y = np.tile(y, 40)",
    "diabetes": "X = np.tile(X, (150, 1)); y = np.tile(y, 150)",  # 66k rows: the GLM kernels run from 50k
    "wine_missing": "X = np.tile(X, (120, 1))",
    "digits_shifted": "",
}

_CHILD = """
import json, time, warnings
import numpy as np
from numba.core import event as ev
{data}
{large}
{estimator}
stack, rows = [], {{}}
class Rec(ev.Listener):
    def on_start(self, e):
        stack.append([time.perf_counter(), 0.0])
    def on_end(self, e):
        t0, inner = stack.pop()
        dt = time.perf_counter() - t0
        if stack:
            stack[-1][1] += dt
        d = e.data["dispatcher"]
        key = d.py_func.__module__ + "." + d.py_func.__qualname__ + str(tuple(map(str, e.data["args"])))
        rows[key] = rows.get(key, 0.0) + dt - inner
ev.register("numba:compile", Rec())
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    est.fit(*((X,) if y is None else (X, y)))
    total = time.perf_counter() - t0
print(json.dumps({{"total": total, "rows": rows}}))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="")
    parser.add_argument("--small-only", action="store_true")
    args = parser.parse_args(argv)
    for name, data, est, _ in CASES:
        if args.only.lower() not in name.lower():
            continue
        for size in ("small",) if args.small_only else ("small", "large"):
            large = _LARGE[data] if size == "large" else ""
            if size == "large" and not large:
                continue
            code = _CHILD.format(data=textwrap.dedent(_DATA[data]), large=large, estimator=est)
            with tempfile.TemporaryDirectory() as cache:
                out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                     env=dict(os.environ, NUMBA_CACHE_DIR=cache), check=False)
            if out.returncode:
                print(f"{name} ({size}): failed: {out.stderr.strip().splitlines()[-1]}")
                continue
            res = json.loads(out.stdout.strip().splitlines()[-1])
            rows = sorted(res["rows"].items(), key=lambda kv: -kv[1])
            comp = sum(v for _, v in rows)
            print(f"\n{name} on {data} ({size}): first fit {res['total']:.2f} s, of which "
                  f"compiling {comp:.2f} s in {len(rows)} kernel signatures")
            for key, sec in rows:
                print(f"  {sec:7.2f}  {key[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
