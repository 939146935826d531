"""No function over 80 lines outside ``skngd/_kernels/`` (docstrings not
counted): a reader sees a loop as a sequence of named steps. Hand-vectorised
kernels may be longer, up to 150.

Run as a script (``python tests/test_function_length.py``) to list the
longest functions.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "skngd"
LIMIT, KERNEL_LIMIT = 80, 150
#: (path, function) pairs allowed over the limit while a change splits them
PENDING = set()


def function_lengths():
    """``(lines without the docstring, path relative to skngd/, name)`` of
    every function and method of the package."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            n = node.end_lineno - node.lineno + 1
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                n -= first.end_lineno - first.lineno + 1
            out.append((n, rel, node.name))
    return out


def test_no_function_over_the_limit():
    too_long = [(n, rel, name) for n, rel, name in function_lengths()
                if n > (KERNEL_LIMIT if rel.startswith("_kernels/") else LIMIT)
                and (rel, name) not in PENDING]
    assert not too_long, f"functions over the limit (lines, file, name): {too_long}"


def test_the_counter_counts():
    lengths = {(rel, name): n for n, rel, name in function_lengths()}
    assert 5 < lengths[("_solvers/second_order.py", "solve")] < 30


if __name__ == "__main__":  # pragma: no cover
    for n, rel, name in sorted(function_lengths(), reverse=True)[:20]:
        print(f"{n:4d}  skngd/{rel}  {name}")
