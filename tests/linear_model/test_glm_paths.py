"""The GLM's two paths: NumPy twins below NUMBA_MIN_SIZE rows (no Numba import
or compile for small fits) and the Numba kernels above; same fits."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import skngd._loss.glm_loss as glm_loss_mod
from skngd.linear_model import GeneralizedLinearRegressor


def test_small_glm_fits_never_load_numba():
    code = (
        "import sys\n"
        "from sklearn.datasets import load_diabetes\n"
        "from skngd import GammaRegressor, PoissonRegressor, TweedieRegressor\n"
        "X, y = load_diabetes(return_X_y=True)\n"
        "for E in (GammaRegressor, PoissonRegressor, TweedieRegressor):\n"
        "    m = E().fit(X, y)\n"
        "    m.summary(); m.score(X, y); m.predict(X)\n"
        "assert 'numba' not in sys.modules, 'Numba imported for a small GLM'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("family, link, sparse", [
    ("poisson", "log", False), ("gamma", "log", False), ("gamma", "inverse", False),
    ("binomial", "probit", False), ("tweedie", "log", True),
])
def test_numpy_and_numba_paths_give_the_same_fit(monkeypatch, family, link, sparse):
    rng = np.random.default_rng(0)
    n, p = 3000, 5
    X = rng.normal(size=(n, p)) * 0.3
    eta = 0.2 + X @ rng.normal(size=p) * 0.5
    if family == "binomial":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    elif family == "poisson":
        y = rng.poisson(np.exp(eta)).astype(float)
    elif family == "tweedie":
        y = np.where(rng.random(n) < 0.3, 0.0, rng.gamma(2.0, np.exp(eta) / 2))
    else:
        y = rng.gamma(2.0, (np.exp(eta) if link == "log" else 1 / (1.5 + 0.2 * np.tanh(eta))) / 2)
    if sparse:
        X = sp.csr_matrix(np.where(rng.random(X.shape) < 0.4, X, 0.0))
    kw = dict(family=family, link=link, tol=1e-12, **({"power": 1.5} if family == "tweedie" else {}))
    small = GeneralizedLinearRegressor(**kw).fit(X, y)
    monkeypatch.setattr(glm_loss_mod, "NUMBA_MIN_SIZE", 0)  # every pass on the kernels
    big = GeneralizedLinearRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(big.coef_, small.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(big.coef_stderr_, small.coef_stderr_, rtol=1e-8)
    assert big.deviance_ == pytest.approx(small.deviance_, rel=1e-12)
    assert big.null_deviance_ == pytest.approx(small.null_deviance_, rel=1e-12)
