"""Package-level contracts: import is cheap and has no side effects."""

import subprocess
import sys

import skngd


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_import_is_lazy_and_side_effect_free():
    out = _run(
        "import sys, sklearn; cfg = dict(sklearn.get_config()); before = set(sys.modules); "
        "import skngd; "
        "heavy = [m for m in ('numba', 'ot', 'statsmodels', 'matplotlib', 'pandas') "
        "if m in sys.modules and m not in before]; "
        "print(heavy, sklearn.get_config() == cfg)"
    )
    assert out == "[] True"


def test_all_names_resolve():
    for name in skngd.__all__:
        assert getattr(skngd, name) is not None, name


def test_version():
    assert isinstance(skngd.__version__, str) and skngd.__version__


def test_small_logistic_fit_does_not_load_numba():
    """The first small fit in a fresh process stays cheap: no Numba import."""
    out = _run(
        "import sys; import numpy as np; from skngd import LogisticRegression; "
        "rng = np.random.default_rng(0); X = rng.normal(size=(200, 5)); "
        "y = (X[:, 0] > 0).astype(int); LogisticRegression().fit(X, y); "
        "print('numba' in sys.modules, 'skngd.linear_model._glm' in sys.modules)"
    )
    assert out == "False False"
