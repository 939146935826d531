r"""Logistic regression (binary and multinomial) with an L2, L1 or elastic-net
penalty, fitted by natural gradient, Böhning MM, Newton or (with an L1 part)
proximal Newton."""

from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from scipy import sparse, special
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from skngd import _dask
from skngd._loss.family import Binomial, Multinomial
from skngd._loss.linear_loss import LinearModelLoss
from skngd._solvers.mm import mm
from skngd._solvers.newton import newton
from skngd._solvers.ngd import ngd
from skngd._solvers.prox_newton import prox_newton
from skngd.linear_model._logistic_online import online_ngd_step
from skngd.linear_model._logistic_problem import (
    RowSpace,
    check_dense_size,
    check_l1_solver,
    l1_pattern,
    report_stop,
    resolve_penalty,
    sample_weights,
)
from skngd.utils._threads import fit_threads
from skngd.utils._sklearn_compat import (
    Interval,
    LinearClassifierMixin,
    StrOptions,
    _fit_context,
)

_SOLVERS = {"ngd": ngd, "mm": mm, "newton": newton, "prox-newton": prox_newton}
#: ``max_iter=None``: iterations each solver gets. Newton and NGD converge
#: quadratically (tens of steps); MM linearly, one cheap step per iteration
#: (Anderson-accelerated MM needs 37 / 40 / 184 steps on standardised
#: breast_cancer / wine / digits at ``tol=1e-4``).
_DEFAULT_MAX_ITER = {"ngd": 100, "newton": 100, "mm": 1000, "prox-newton": 100}
#: what to try when a solver reaches max_iter
_ADVICE = {
    "mm": "MM converges linearly (here slowly: the bound is loose where the classes "
          "are nearly separable); solver='newton' or 'ngd' converge quadratically.",
}


_PROBA_DOC = """{summary}

Parameters
----------
X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
    Samples.

Returns
-------
{name} : ndarray of shape (n_samples, n_classes)
    {what} of the classes in ``classes_`` order.
"""


def auto_solver(n_samples, n_coef, is_sparse):
    """The rule behind ``solver='auto'``.

    ``'newton'`` when ``X`` is dense, ``p = n_coef <= 200`` and
    ``n_samples <= max(5000, 50 p)``: there 'ngd' would precondition with the
    exact Fisher matrix anyway, i.e. take the same Newton steps. ``'ngd'``
    otherwise: subsampled-Fisher preconditioning beats forming the full Fisher
    matrix every iteration. Measured (binary, ill-conditioned, best of 3, one
    thread): n=20,000 p=101: newton 0.080 s, ngd 0.048 s; n=50,000 p=61: 0.103 s
    vs 0.066 s; n=20,000 p=201: 0.190 s vs 0.148 s; n=200,000 p=101: 1.37 s vs
    0.88 s (``benchmarks/bench_logistic.py``); n=5,000 p=51: both 0.022 s.
    Sparse or wide ``X`` always gets 'ngd' (Jacobi-preconditioned truncated CG).
    """
    if is_sparse or n_coef > 200:
        return "ngd"
    return "newton" if n_samples <= max(5000, 50 * n_coef) else "ngd"


def _smooth_penalty(est):
    """Whether the estimator's penalty has no L1 part (``partial_fit`` exists
    only then); unreadable parameters count as smooth (``fit`` rejects them)."""
    try:
        return not est._strengths()[0] > 0
    except (TypeError, ValueError):
        return True



def proba_from_scores(scores, log=False):
    """Class (log-)probabilities from ``decision_function`` scores: the
    logistic of a binary score (two columns), the softmax of several."""
    if scores.ndim == 1:
        if log:
            return np.column_stack([special.log_expit(-scores), special.log_expit(scores)])
        p = special.expit(scores)
        return np.column_stack([1.0 - p, p])
    return special.log_softmax(scores, axis=1) if log else special.softmax(scores, axis=1)


class LogisticRegression(LinearClassifierMixin, BaseEstimator):
    r"""Logistic regression with an L2, L1 or elastic-net penalty.

    Binary or multinomial. Minimises the scikit-learn (1.9) objective

    .. math::

        F(W) = \sum_{i=1}^n s_i\,\ell(y_i, W^T x_i + b)
        + \frac{1}{C}\Big(\rho\,\|W\|_1 + \frac{1 - \rho}{2}\|W\|_F^2\Big),

    with :math:`\ell` the binary log-loss (one coefficient row) or the softmax
    cross-entropy (one coefficient vector per class, scikit-learn's symmetric
    parametrisation), :math:`s_i` the sample weight times the class weight,
    :math:`\rho` = ``l1_ratio``, :math:`\|W\|_1` the sum of absolute
    values of all feature coefficients, and the intercept :math:`b`
    unpenalised. Coefficients are therefore those of
    :class:`sklearn.linear_model.LogisticRegression` (its 'saga' solver for
    ``l1_ratio > 0``).

    Parameters
    ----------
    penalty : {'l1', 'l2', 'elasticnet', None}, default='deprecated'
        Deprecated alias, as in scikit-learn 1.8+ (a ``FutureWarning``):
        'l2' is ``l1_ratio=0``, 'l1' is ``l1_ratio=1``, 'elasticnet' uses
        ``l1_ratio``, ``None`` is ``C=np.inf``. Leave it at its default and
        set ``l1_ratio`` and ``C`` instead.
    C : float in (0, inf], default=1.0
        Inverse penalty strength; ``np.inf`` means no penalty.
    l1_ratio : float in [0, 1], default=0.0
        Share :math:`\rho` of the L1 part of the penalty: 0 ridge (L2), 1
        lasso (L1), in between the elastic net. With ``l1_ratio > 0`` (and a
        finite ``C``) the fit is the proximal Newton solver
        (``solver='auto'`` or ``'prox-newton'``); ``None`` is deprecated
        (read as 0, a ``FutureWarning``), as in scikit-learn.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    tol : float >= 0, default=1e-4
        Stop when the estimated suboptimality :math:`f - f^*` falls below
        ``tol**2 * |f|``, i.e. about ``tol**2`` relative objective accuracy.
        The estimate is :math:`\tfrac12 g^T M^{-1} g` with ``M`` the solver's
        curvature ('mm': a quasi-Newton model of the Hessian). This is the
        second-order spine's one stopping rule with ``tol`` on the gradient
        scale, as scikit-learn's (``rel_tol = max(tol, 10 eps)**2``; see
        :ref:`stopping-rule`). A ``tol`` below ``10 * eps`` of ``X``'s dtype
        runs until no step makes representable progress: the gradient is then
        at its rounding level.
    max_iter : int >= 1 or None, default=None
        Maximum outer iterations (Newton / NGD steps, MM steps). ``None``
        gives each solver what it needs at the default ``tol``: 100 for
        'newton' and 'ngd' (quadratic convergence), 1000 for 'mm' (linear
        convergence, one cheap step per iteration).
    solver : {'auto', 'ngd', 'mm', 'newton', 'prox-newton'}, default='auto'
        'ngd': natural gradient descent with truncated preconditioned CG on
        Fisher-vector products (subsampled-Fisher preconditioner for dense
        ``X``, diagonal for sparse/wide ``X``) and Armijo backtracking.
        'mm': Böhning's bound, factorised once, accelerated by safeguarded
        Anderson mixing; monotone objective, two passes per iteration, linear
        convergence. 'newton': exact Newton with a Cholesky solve (small
        ``p``). 'auto': see ``skngd.linear_model._logistic.auto_solver``.
        With fewer (weighted) samples than features, 'newton', 'mm' and
        'auto' solve the equivalent problem in the row space of ``X`` (thin
        SVD of the weighted rows; same optimum, row-space sized matrices);
        'newton' and 'mm' refuse problems whose dense matrix would exceed 4000
        rows. 'prox-newton': proximal Newton (glmnet / glum irls-cd style:
        working set of the KKT violators, coordinate descent on its Fisher
        Gram matrix, composite line search; see
        the developer guide); the only solver for
        ``l1_ratio > 0``, which 'auto' then selects; with ``l1_ratio > 0``
        'ngd', 'mm' and 'newton' raise ``ValueError``. Its ``tol`` is the
        relative KKT violation (mean-scale minimum-norm subgradient), with
        also the model decrease below ``tol**2 * |F|``; the last Newton step
        is always taken.
    fisher : {'exact', 'empirical'}, default='exact'
        Fisher matrix used by 'ngd' and :meth:`partial_fit`. The empirical
        Fisher (mean outer product of per-sample gradients) degenerates where
        residuals vanish and is kept for comparison.
    class_weight : dict, 'balanced' or None, default=None
        Weights per class, multiplying ``sample_weight``. ``'balanced'``:
        :math:`\sum_i s_i / (K \sum_{y_i = k} s_i)` from the sample-weighted
        class counts, as scikit-learn. Dict values must be finite and
        non-negative.
    warm_start : bool, default=False
        Start from the previous ``coef_`` / ``intercept_`` when shapes match.
    n_jobs : int or None, default=None
        Numba threads for the kernels (``None``: 1, ``-1``: all cores, ``-2``:
        all but one; 0 is invalid); BLAS is held to one thread during the fit
        so the two pools never compete.
    verbose : int, default=0
        Print the objective after each iteration when positive.
    random_state : int, RandomState or None, default=None
        Row subsample of the 'ngd' preconditioner.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : ndarray of shape (1,)
    objective_history_ : ndarray
        Penalised objective after each iteration (first entry: the start).
        For :meth:`partial_fit`, the objective of each mini-batch (per unit weight).
    n_passes_ : int
        Passes over ``X`` (products with ``X`` or ``X^T``) in the last fit.
    solver_ : str
        The solver actually used.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    References
    ----------
    Amari, S. (1998). Natural gradient works efficiently in learning.
    Böhning, D. (1992). Multinomial logistic regression algorithm.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skngd import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = LogisticRegression(solver="ngd").fit(X, y)
    >>> round(clf.score(X, y), 3)
    0.988
    """

    _parameter_constraints = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet", "deprecated"}), None],
        "C": [Interval(Real, 0, np.inf, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "solver": [StrOptions({"auto", *_SOLVERS})],
        "fisher": [StrOptions({"exact", "empirical"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "n_jobs": [Interval(Integral, None, -1, closed="right"),
                   Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(self, penalty="deprecated", *, C=1.0, l1_ratio=0.0, fit_intercept=True,
                 tol=1e-4, max_iter=None, solver="auto", fisher="exact", class_weight=None,
                 warm_start=False, n_jobs=None, verbose=0, random_state=None):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.solver = solver
        self.fisher = fisher
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    # -- shared set-up ----------------------------------------------------------
    def _strengths(self, warn=False):
        """``(l1, l2)``: the penalty strengths on the loss's scale (sum of
        per-sample losses), ``rho / C`` and ``(1 - rho) / C``; ``(0, 0)`` for
        ``C=np.inf`` or ``penalty=None``. ``warn``: emit scikit-learn's
        deprecation / consistency warnings for ``penalty`` and ``l1_ratio``."""
        rho, C = resolve_penalty(self.penalty, self.C, self.l1_ratio, warn_user=warn)
        if np.isinf(C):
            return 0.0, 0.0
        return rho / C, (1.0 - rho) / C

    def _l2(self):
        return self._strengths()[1]

    def _weights(self, X, y_enc, sample_weight):
        return sample_weights(self.class_weight, self.classes_, y_enc, sample_weight, X)

    def _make_loss(self, X, y_enc, sw, l2):
        K = len(self.classes_)
        family = Binomial() if K == 2 else Multinomial(K)
        return LinearModelLoss(family, X, y_enc, sw, fit_intercept=self.fit_intercept,
                               l2_reg_strength=l2)

    def _coef_matrix(self, n_features, n_out):
        """Current coef_/intercept_ as the (full) solver layout, or None."""
        if not hasattr(self, "coef_") or self.coef_.shape != (n_out, n_features):
            return None
        W = np.zeros((n_features + int(self.fit_intercept), self.coef_.shape[0]))
        W[:n_features] = self.coef_.T
        if self.fit_intercept:
            W[-1] = self.intercept_
        return W

    def _unpack(self, W, dtype):
        d = self.n_features_in_
        self.coef_ = np.ascontiguousarray(W[:d].T, dtype=dtype)
        b = W[d] if self.fit_intercept else np.zeros(W.shape[1])
        self.intercept_ = np.asarray(b, dtype=dtype)

    def _validate_y(self, y):
        check_classification_targets(y)
        return y

    # -- fit ----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model; ``X`` dense or CSR, float32 kept as float32.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative finite weights, multiplied by ``class_weight``.

        Returns
        -------
        self : LogisticRegression
            The fitted estimator. A fit that raises leaves the estimator as
            it was before the call.
        """
        with _rollback_on_error(self):
            if _dask.is_dask(X):  # chunk-wise passes over a Dask array
                return _dask.fit_logistic(self, X, y, sample_weight, auto_solver)
            return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        X, y = validate_data(self, X, y, accept_sparse="csr",
                             dtype=[np.float64, np.float32], order="C")
        self._validate_y(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {self.classes_[0]!r}.")
        sw = self._weights(X, y_enc, sample_weight)
        self.__dict__.pop("_online", None)  # a later partial_fit continues from this fit
        n_out = 1 if len(self.classes_) == 2 else len(self.classes_)
        coef0 = self._coef_matrix(X.shape[1], n_out) if self.warm_start else None
        l1, l2 = self._strengths(warn=True)
        check_l1_solver(self.solver, l1)
        reduced = None if l1 > 0 else self._row_space(X, sw, n_out)
        if reduced is not None:
            X = reduced.transform(X)
            coef0 = None if coef0 is None else reduced.to_reduced(coef0, self.fit_intercept)
        loss = self._make_loss(X, y_enc, sw, l2)
        solver = self._resolve_solver(X, loss, l1)
        check_dense_size(solver, loss.n_dof, loss.n_out)
        max_iter = _DEFAULT_MAX_ITER[solver] if self.max_iter is None else self.max_iter
        kwargs = dict(tol=self.tol, max_iter=max_iter, verbose=self.verbose)
        if solver == "ngd":
            kwargs.update(fisher=self.fisher, random_state=_seed(self.random_state))
        if solver == "prox-newton":
            kwargs.update(l1=l1 * l1_pattern(loss))
        with _threads(self.n_jobs, loss, self.verbose):
            res = _SOLVERS[solver](loss, loss.zeros() if coef0 is None else coef0, **kwargs)
            self.n_passes_ = int(res.n_passes)
            report_stop(f"LogisticRegression(solver={solver!r})", res, loss, C=self.C,
                        tol=self.tol, max_iter=max_iter, advice=_ADVICE.get(solver, ""))
        W = self._center(loss, res.coef, l1)
        if reduced is not None:
            W = reduced.to_full(W, self.fit_intercept)
        self._unpack(W, X.dtype)
        self.solver_ = solver
        self.n_iter_ = np.array([res.n_iter], dtype=np.int32)
        self.objective_history_ = np.asarray(res.history)
        return self

    def _resolve_solver(self, X, loss, l1):
        """The solver this fit runs: 'prox-newton' for an L1 part under
        'auto', else :func:`auto_solver`'s choice or the explicit one."""
        if self.solver != "auto":
            return self.solver
        if l1 > 0:
            return "prox-newton"
        return auto_solver(X.shape[0], loss.n_dof * loss.n_out, sparse.issparse(X))

    def _center(self, loss, W, l1):
        """Multinomial: centre the flat directions over classes as scikit-learn
        reports them (:meth:`LinearModelLoss.center_null_space`); with an L1
        part only the unpenalised intercept (centring a penalised row would
        change the L1 norm)."""
        if l1 == 0 or not loss.multinomial:
            return loss.center_null_space(W)
        W = np.array(W, dtype=np.float64)
        if self.fit_intercept:
            W[-1] -= W[-1].mean()
        return W

    def _row_space(self, X, sw, n_out):
        """The row-space reduction when this fit should use it (wide X and a
        solver that forms dense matrices), else None."""
        if self.solver == "ngd" or X.shape[1] <= np.count_nonzero(sw > 0):
            return None
        if self.solver == "auto":
            p = (np.count_nonzero(sw > 0) + int(self.fit_intercept)) * n_out
            if auto_solver(X.shape[0], p, False) != "newton":
                return None
        return RowSpace.of(X, sw)

    @available_if(_smooth_penalty)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        r"""One online natural-gradient step on a mini-batch.

        Keeps an exponential moving average of the mini-batch Fisher matrices
        (diagonal when there are many coefficients), damps it, and steps
        :math:`W \leftarrow W - \eta_t (\bar F + \delta I)^{-1} \bar g` with
        :math:`\bar g` the per-unit-weight gradient and
        :math:`\eta_t = (1 + t_0)/(t + t_0)`. The penalty is scaled to the
        total sample weight seen so far, so one pass over a stream of ``n``
        samples targets ``fit``'s objective divided by ``n``; several passes
        over the same data weaken the penalty (use a large ``C`` or ``np.inf``
        for multi-pass training).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Mini-batch.
        y : array-like of shape (n_samples,)
            Labels of the mini-batch, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            All classes of the stream; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative finite weights of the mini-batch.

        Returns
        -------
        self : LogisticRegression
            The updated estimator; a call that raises leaves it unchanged (a
            rejected first call leaves it unfitted).
        """
        with _rollback_on_error(self):
            return self._partial_fit(X, y, classes, sample_weight)

    def _partial_fit(self, X, y, classes, sample_weight):
        if isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit (class "
                "frequencies of a stream are unknown); pass a dict of class weights.")
        first = not hasattr(self, "_online")
        fitted = hasattr(self, "classes_")
        if first:
            self._validate_params()
            if classes is None and not fitted:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            if classes is not None:
                classes = np.unique(np.asarray(classes))
                if len(classes) < 2:
                    raise ValueError("classes must contain at least 2 classes.")
                if fitted and not np.array_equal(classes, self.classes_):
                    fitted = False  # new label set: start afresh
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
                             order="C", reset=first and not fitted)
        self._validate_y(y)
        if first and classes is not None:
            self.classes_ = classes
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError("classes differs from the classes passed on the first call.")
        if not np.all(np.isin(y, self.classes_)):
            raise ValueError("y contains labels not in classes.")
        y_enc = np.searchsorted(self.classes_, y)
        sw = self._weights(X, y_enc, sample_weight)
        if self._strengths()[0] > 0:
            raise ValueError(
                "partial_fit does not support an L1 penalty (l1_ratio > 0 with a finite "
                "C): the online natural-gradient step needs a smooth objective. Use fit, "
                "or set l1_ratio=0.")
        loss = self._make_loss(X, y_enc, sw, 0.0)
        if first:
            # continue from a previous fit() when there is one
            coef0 = self._coef_matrix(loss.n_features, loss.n_out) if fitted else None
            self._online = {"coef": loss.zeros() if coef0 is None else coef0, "t": 0,
                            "seen": 0.0, "F": None, "history": []}
        with _threads(self.n_jobs, loss, self.verbose):
            online_ngd_step(self._online, loss, self._l2(), self.fisher)
        self._unpack(self._online["coef"], X.dtype)
        self.solver_ = "online-ngd"
        self.n_iter_ = np.array([self._online["t"]], dtype=np.int32)
        self.objective_history_ = np.asarray(self._online["history"])
        return self

    # -- prediction ------------------------------------------------------------------
    def decision_function(self, X):
        """Linear scores :math:`Xw + b`, (n_samples,) for two classes else
        (n_samples, n_classes); a lazy Dask array for Dask ``X``."""
        if _dask.is_dask(X):  # a lazy, chunk-wise Dask array
            return _dask.predict(self, "decision_function", X)
        return super().decision_function(X)

    def predict(self, X):
        """Class labels of ``X`` (a lazy Dask array for Dask ``X``)."""
        if _dask.is_dask(X):
            return _dask.predict(self, "predict", X)
        return super().predict(X)

    def predict_proba(self, X):
        if _dask.is_dask(X):
            return _dask.predict(self, "predict_proba", X)
        check_is_fitted(self)
        return proba_from_scores(self.decision_function(X))

    def predict_log_proba(self, X):
        if _dask.is_dask(X):
            return _dask.predict(self, "predict_log_proba", X)
        check_is_fitted(self)
        return proba_from_scores(self.decision_function(X), log=True)

    predict_proba.__doc__ = _PROBA_DOC.format(
        summary="Class probabilities.", name="proba", what="Probabilities")
    predict_log_proba.__doc__ = _PROBA_DOC.format(
        summary="Log of :meth:`predict_proba`, computed stably.", name="log_proba",
        what="Log-probabilities")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


@contextmanager
def _rollback_on_error(est):
    """Restore the estimator's attributes when the block raises, so a rejected
    ``fit`` / ``partial_fit`` leaves it as it was (unfitted stays unfitted:
    ``predict`` then raises ``NotFittedError``)."""
    saved = dict(est.__dict__)
    try:
        yield
    except BaseException:
        est.__dict__.clear()
        est.__dict__.update(saved)
        raise


def _threads(n_jobs, loss, verbose=0):
    """The fit's thread policy (:func:`skngd.utils._threads.fit_threads`):
    ``n_jobs`` Numba threads, BLAS capped at one thread.

    Problems too small for any Numba kernel (``loss.uses_numba`` is False)
    only cap BLAS, so they never import Numba.

    Multi-threaded OpenBLAS alternating with Numba's OpenMP pool makes the two
    thread pools spin against each other (measured: a 200,000 x 100 fit 2-10x
    slower); the bandwidth-bound products run on Numba's threads instead
    (:mod:`skngd._kernels.dense`)."""
    return fit_threads(n_jobs, blas=1, numba=loss.uses_numba, verbose=verbose)


def _seed(random_state):
    """An integer seed from ``random_state`` (None -> fixed 0: fits reproducible)."""
    from sklearn.utils import check_random_state

    if random_state is None:
        return 0
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


__all__ = ["LogisticRegression", "auto_solver"]
