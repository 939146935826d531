"""CMAESSearchCV: CMA-ES over a search space."""

import numbers

import numpy as np
from skngd.utils._sklearn_compat import Interval

from ._bayes_search import _ATTRS_DOC, _COMMON_DOC
from ._proposers import CMAESProposer
from ._search import _SequentialSearchCV


class CMAESSearchCV(_SequentialSearchCV):
    __doc__ = (
        r"""Hyper-parameter search by CMA-ES.

    A drop-in replacement for RandomizedSearchCV. After a scrambled-Sobol initial
    design, a CMA-ES (rank-one and rank-:math:`\mu` covariance updates, cumulative
    step-size adaptation) starts at the best initial point of the unit-cube encoding
    and minimises :math:`-f`, :math:`f` the mean CV score; each generation

    .. math::

        x_k = m + \sigma A y_k,\quad y_k \sim N(0, C),\quad k = 1..\lambda,
        \qquad m \leftarrow m + \sigma A \textstyle\sum_{i \le \mu} w_i
        y_{i:\lambda}

    is evaluated in batches of ``batch_size``. Out-of-cube samples are re-drawn, then clipped. Integer
    coordinates keep a lower bound on their marginal step (CMA-ES with margin) so
    they do not freeze. *Categoricals*: each value has a column of the cube and the
    candidate takes the arg-max column (a one-hot relaxation); the same margin,
    with width 1/2, keeps every column able to overtake the leader. Samples whose
    decoded candidate was already evaluated reuse its score instead of being
    re-evaluated; failed candidates rank last and are never proposed again.
"""
        + _COMMON_DOC
        + """    sigma0 : float, default=0.3
        Initial step size in units of the unit cube (> 0).
    popsize : int or None, default=None
        Generation size :math:`\\lambda`; default ``4 + floor(3 ln n)`` for ``n``
        encoded columns.
"""
        + _ATTRS_DOC
        + """
    See Also
    --------
    BayesSearchCV : the same interface driven by a Gaussian process.

    References
    ----------
    Hansen, N. (2016). The CMA evolution strategy: a tutorial. arXiv:1604.00772.
    Hamano et al. (2022). CMA-ES with margin. GECCO.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skngd.model_selection import CMAESSearchCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> search = CMAESSearchCV(LogisticRegression(max_iter=2000),
    ...                        {"C": loguniform(1e-3, 1e2)}, n_iter=6, cv=3,
    ...                        random_state=0).fit(X[:, :5], y)
    >>> len(search.cv_results_["params"])
    6
    """
    )

    _parameter_constraints: dict = {
        **_SequentialSearchCV._parameter_constraints,
        "sigma0": [Interval(numbers.Real, 0, None, closed="neither")],
        "popsize": [Interval(numbers.Integral, 2, None, closed="left"), None],
    }

    def __init__(self, estimator, param_distributions, *, n_iter=50, scoring=None,
                 n_jobs=None, refit=True, cv=None, verbose=0,
                 pre_dispatch="2*n_jobs", random_state=None, error_score=np.nan,
                 return_train_score=False, n_initial_points=None, batch_size=None,
                 callbacks=None, checkpoint=None, sigma0=0.3, popsize=None):
        super().__init__(
            estimator, param_distributions, n_iter=n_iter, scoring=scoring,
            n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
            pre_dispatch=pre_dispatch, random_state=random_state,
            error_score=error_score, return_train_score=return_train_score,
            n_initial_points=n_initial_points, batch_size=batch_size,
            callbacks=callbacks, checkpoint=checkpoint,
        )
        self.sigma0 = sigma0
        self.popsize = popsize

    def _engine_fingerprint(self):
        return {"sigma0": self.sigma0, "popsize": self.popsize}

    def _make_proposer(self, space, rng, n_initial):
        return CMAESProposer(space, rng, n_initial, sigma0=self.sigma0,
                             popsize=self.popsize)
