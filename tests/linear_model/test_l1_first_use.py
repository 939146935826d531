"""Small L1 / elastic-net fits and the CV classes run the NumPy twins of the
coordinate-descent kernel: they never import Numba (issue 14: first use
without pauses; importing Numba alone costs ~0.3 s per process)."""

import subprocess
import sys


def test_small_l1_and_cv_fits_never_load_numba():
    code = (
        "import sys\n"
        "from sklearn.datasets import load_breast_cancer, load_diabetes\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "from skngd import (GeneralizedLinearRegressorCV, LogisticRegression,\n"
        "                   LogisticRegressionCV, PoissonRegressor)\n"
        "X, y = load_breast_cancer(return_X_y=True)\n"
        "X = StandardScaler().fit_transform(X)\n"
        "LogisticRegression(l1_ratio=1.0).fit(X, y).predict(X)\n"
        "LogisticRegressionCV(Cs=3, l1_ratios=(0.5,), cv=3).fit(X, y)\n"
        "X, y = load_diabetes(return_X_y=True)\n"
        "PoissonRegressor(alpha=0.1, l1_ratio=0.5).fit(X, y).summary()\n"
        "GeneralizedLinearRegressorCV(n_alphas=10).fit(X, y)\n"
        "GeneralizedLinearRegressorCV(l1_ratio=[0.5, 1.0], n_alphas=10).fit(X, y)\n"
        "assert 'numba' not in sys.modules, 'Numba imported for a small L1 / CV fit'\n"
    )
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True)
