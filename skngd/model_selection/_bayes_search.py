"""BayesSearchCV: Gaussian-process Bayesian optimisation over a search space."""

import numbers

import numpy as np
from skngd.utils._sklearn_compat import Interval, StrOptions

from ._proposers import GPProposer
from ._search import _SequentialSearchCV

_COMMON_DOC = """
    Parameters
    ----------
    estimator : estimator object
        Cloned for every candidate; must implement ``fit`` and be scorable.
    param_distributions : dict or list of dicts
        Everything :class:`~sklearn.model_selection.RandomizedSearchCV` accepts
        (lists are categorical; scipy.stats frozen ``loguniform``, ``uniform``,
        ``randint`` and other continuous distributions), plus
        :class:`Real`, :class:`Integer` and :class:`Categorical`, scikit-optimize's
        ``skopt.space.Real/Integer/Categorical`` and Optuna's ``FloatDistribution``,
        ``IntDistribution`` (``log``, ``step``) and ``CategoricalDistribution``
        (read through their attributes; neither package is imported). A list of
        dicts is a conditional space, each dict its own subspace.
    n_iter : int, default=50
        Number of candidates evaluated (>= 1). When a finite space has at most
        ``n_iter`` candidates the search is exhaustive: every candidate once, in
        GridSearchCV's order (with a warning if the space is smaller).
    scoring : str, callable, list, tuple, dict or None, default=None
        As in RandomizedSearchCV; with several metrics the search optimises the
        ``refit`` metric (else the first one).
    n_jobs : int or None, default=None
        Parallel fits through joblib (any backend, e.g. dask).
    refit : bool, str or callable, default=True
        As in RandomizedSearchCV.
    cv : int, cross-validation generator, iterable or None, default=None
        As in RandomizedSearchCV (5-fold by default).
    verbose : int, default=0
        ``> 0`` also shows a progress bar (tqdm if installed, else one line per
        batch); larger values print scikit-learn's per-fit messages.
    pre_dispatch : int or str, default='2*n_jobs'
        As in RandomizedSearchCV.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial design and the proposals: the same integer gives the same
        candidate sequence whatever ``n_jobs`` (no default depends on it).
    error_score : 'raise' or float, default=np.nan
        Score of a failed fit, exactly as in RandomizedSearchCV. A batch whose every
        fit failed is recorded with this score and the search goes on; only when
        every fit of the whole search failed does ``fit`` raise.
    return_train_score : bool, default=False
        As in RandomizedSearchCV.
    n_initial_points : int or None, default=None
        Size of the scrambled-Sobol initial design; default
        ``max(n_params + 1, round(0.1 * n_iter))``.
    batch_size : int or None, default=None
        Candidates per call to ``evaluate_candidates`` (all their folds run in
        parallel on ``n_jobs`` workers; one checkpoint write each). The default
        never depends on ``n_jobs``: the whole initial design in one call, then
        one proposal per round for BayesSearchCV (the best score per evaluation in
        the benchmark; raise it when ``n_jobs`` exceeds the number of folds) and
        one whole generation per call for CMAESSearchCV (whose proposals do not
        depend on ``batch_size``). An exhaustive search is one call. For
        BayesSearchCV an explicit ``batch_size`` is the number of proposals per
        round (constant liar or kriging believer).
    callbacks : list of callables or scikit-learn FitCallback, default=None
        A callable receives the ``cv_results_``-style dict of the results so far
        after each batch and returns True to stop the search. A
        :class:`sklearn.callback.FitCallback` (e.g. ``ProgressBar``) is registered
        through scikit-learn's callback API for the duration of ``fit``, like
        ``set_callbacks``; each batch is a ``"search-round"`` task under a
        ``"search"`` task, and a FitCallback whose ``on_fit_task_end`` returns True
        on a round stops the search (its ``fitted_estimator`` carries the partial
        ``cv_results_`` and ``best_*``).
    checkpoint : str, path-like or None, default=None
        SQLite file recording every finished candidate and the CV splits. Re-running
        the same search (same estimator, space, data, scoring, cv, settings; any
        ``n_jobs``) with the same file resumes it: recorded candidates are not
        re-evaluated, the proposal sequence continues and new candidates are scored
        on the recorded splits. The file holds data only (encoded points, scores,
        times, error texts), read back without pickle, so it never runs code. A
        different search, a damaged file or a file in use by another running
        search raises :class:`~skngd.model_selection.CheckpointError` naming the
        fault.
"""

_ATTRS_DOC = """
    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        Same keys as :class:`~sklearn.model_selection.RandomizedSearchCV`, one row
        per evaluated candidate in evaluation order.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_,
    refit_time_, multimetric_, classes_, n_features_in_, feature_names_in_
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
"""


class BayesSearchCV(_SequentialSearchCV):
    __doc__ = (
        r"""Hyper-parameter search by Bayesian optimisation (GP surrogate).

    A drop-in replacement for RandomizedSearchCV.

    After a scrambled-Sobol initial design, a Gaussian process (Matérn 5/2, one
    length-scale per encoded column, noise and length-scales by marginal likelihood
    with multi-start L-BFGS-B) models the mean CV score :math:`f` on the unit-cube
    encoding of the space, and each next candidate maximises an acquisition

    .. math::

        x_{t+1} = \arg\max_x\ a(\mu_t(x), \sigma_t(x)),\qquad
        \log\mathrm{EI} = \log\sigma + \log\big(\varphi(z) + z\Phi(z)\big),\
        z = \frac{\mu - f^* - \xi}{\sigma},

    by multi-start L-BFGS-B from random and best points. ``batch_size`` candidates
    are chosen per round by a constant liar (fantasised score = worst seen) or a
    kriging believer (fantasised score = posterior mean). Categoricals are one-hot,
    integers rounded; candidates already evaluated (failed ones included) are never
    proposed again.
"""
        + _COMMON_DOC
        + """    acquisition : {'ei', 'pi', 'ucb', 'ts'}, default='ei'
        Log expected improvement, log probability of improvement, upper confidence
        bound, or Thompson sampling.
    kappa : float, default=1.96
        Exploration weight of 'ucb' (>= 0).
    xi : float, default=0.01
        Improvement margin of 'ei' and 'pi', in standardised score units (>= 0).
    batch_strategy : {'constant_liar', 'kriging_believer'}, default='constant_liar'
        How a round proposes several candidates.
"""
        + _ATTRS_DOC
        + """
    See Also
    --------
    CMAESSearchCV : the same interface driven by CMA-ES.
    sklearn.model_selection.RandomizedSearchCV

    References
    ----------
    Snoek, Larochelle, Adams (2012). Practical Bayesian optimization of machine
    learning algorithms. NeurIPS.
    Ginsbourger, Le Riche, Carraro (2010). Kriging is well-suited to parallelize
    optimization. Computational Intelligence in Expensive Optimization Problems.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skngd.model_selection import BayesSearchCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> search = BayesSearchCV(LogisticRegression(max_iter=2000),
    ...                        {"C": loguniform(1e-3, 1e2)}, n_iter=6, cv=3,
    ...                        random_state=0).fit(X[:, :5], y)
    >>> len(search.cv_results_["params"])
    6
    >>> bool(search.best_score_ > 0.85)
    True
    """
    )

    _parameter_constraints: dict = {
        **_SequentialSearchCV._parameter_constraints,
        "acquisition": [StrOptions({"ei", "pi", "ucb", "ts"})],
        "kappa": [Interval(numbers.Real, 0, None, closed="left")],
        "xi": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_strategy": [StrOptions({"constant_liar", "kriging_believer"})],
    }

    def __init__(self, estimator, param_distributions, *, n_iter=50, scoring=None,
                 n_jobs=None, refit=True, cv=None, verbose=0,
                 pre_dispatch="2*n_jobs", random_state=None, error_score=np.nan,
                 return_train_score=False, n_initial_points=None, batch_size=None,
                 callbacks=None, checkpoint=None, acquisition="ei", kappa=1.96,
                 xi=0.01, batch_strategy="constant_liar"):
        super().__init__(
            estimator, param_distributions, n_iter=n_iter, scoring=scoring,
            n_jobs=n_jobs, refit=refit, cv=cv, verbose=verbose,
            pre_dispatch=pre_dispatch, random_state=random_state,
            error_score=error_score, return_train_score=return_train_score,
            n_initial_points=n_initial_points, batch_size=batch_size,
            callbacks=callbacks, checkpoint=checkpoint,
        )
        self.acquisition = acquisition
        self.kappa = kappa
        self.xi = xi
        self.batch_strategy = batch_strategy

    def _engine_fingerprint(self):
        return {"acquisition": self.acquisition, "kappa": self.kappa, "xi": self.xi,
                "batch_strategy": self.batch_strategy}

    def _make_proposer(self, space, rng, n_initial):
        return GPProposer(space, rng, n_initial, acquisition=self.acquisition,
                          kappa=self.kappa, xi=self.xi,
                          batch_strategy=self.batch_strategy)
