r"""Regularisation paths: one fit per penalty strength, strongest first, each
warm-started from the previous solution.

The path functions use only the estimators' public API (``clone``,
``set_params(warm_start=True, C=...)`` / ``alpha=...``, ``fit``), so each
step is exactly the fit a user would get for that strength, started where
the previous, stronger penalty left off. The automatic grid starts at the
smallest penalty that makes every penalised coefficient zero (the
Karush-Kuhn-Tucker condition at the fit of the unpenalised coefficients, see
:func:`max_penalty`); for a pure ridge, where coefficients are never exactly
zero, it starts where they are small, as glum does.
"""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d

from skngd._loss.family import Binomial, Multinomial
from skngd._loss.glm_loss import GLMProblem
from skngd._loss.linear_loss import LinearModelLoss
from skngd.utils.validation import check_sample_weight

#: relative margin above the exact all-zero strength at which an L1 grid starts
BOUNDARY_MARGIN = 1e-9
#: ``l1_ratio`` stand-in for a pure ridge: the grid then starts at the
#: strength an L1 penalty of 1/1000 of the size would need to zero every
#: coefficient of the standardised design (glum's ``max |gradient| / 0.001``
#: with the gradient in column-standard-deviation units)
RIDGE_RATIO = 1e-3


@dataclass
class RegularizationPath:
    """Coefficients along a regularisation path.

    Attributes
    ----------
    param : {'C', 'alpha'}
        The estimator parameter that varied.
    values : ndarray of shape (n_steps,)
        Its values, in the order fitted: strongest penalty first (``C``
        ascending, ``alpha`` descending) for automatic grids.
    coefs : ndarray of shape (n_steps, n_features) or (n_steps, n_out, n_features)
        ``coefs[i]`` is the ``coef_`` after step ``i``: ``(n_steps, n_features)``
        for a GLM, ``(n_steps, 1, n_features)`` for a binary and
        ``(n_steps, n_classes, n_features)`` for a multinomial logistic
        regression (scikit-learn's ``coef_`` shapes, stacked).
    intercepts : ndarray of shape (n_steps,) or (n_steps, n_out)
        ``(n_steps,)`` for a GLM, ``(n_steps, 1)`` / ``(n_steps, n_classes)``
        for logistic regression.
    n_iter : ndarray of shape (n_steps,)
        Solver iterations of each step.
    l1_ratio : float
        The elastic-net mixing parameter of the path.
    """

    param: str
    values: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    n_iter: np.ndarray
    l1_ratio: float

    @property
    def alphas(self):
        """``values`` of an ``alpha`` path."""
        return self._named("alpha")

    @property
    def Cs(self):  # noqa: N802 - scikit-learn's name
        """``values`` of a ``C`` path."""
        return self._named("C")

    @property
    def n_nonzero(self):
        """Non-zero coefficients (intercepts excluded) after each step."""
        return np.count_nonzero(self.coefs.reshape(len(self.values), -1), axis=1)

    def _named(self, name):
        if self.param != name:
            raise AttributeError(f"this is a {self.param!r} path, it has no {name!r} values")
        return self.values


# -- the penalty that zeroes every coefficient -------------------------------------
def _is_logistic(est):
    return "C" in est.get_params()


def _logistic_loss(est, X, y, sample_weight):
    from skngd.linear_model._logistic_problem import sample_weights

    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    classes, y_enc = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError("y must contain at least 2 classes for a logistic regression path.")
    sw = sample_weights(est.class_weight, classes, y_enc, sample_weight, X)
    family = Binomial() if len(classes) == 2 else Multinomial(len(classes))
    return LinearModelLoss(family, X, y_enc, sw, fit_intercept=est.fit_intercept)


def _glm_loss(est, X, y, sample_weight, offset):
    family = est._get_family()
    link = est._get_link(family)
    y = np.ascontiguousarray(column_or_1d(y, warn=True), dtype=np.float64)
    sw = check_sample_weight(sample_weight, X, dtype=np.float64)
    off = np.zeros(X.shape[0]) if offset is None else np.asarray(offset, dtype=np.float64)
    return GLMProblem(X, y, sw, off, family, link, est.fit_intercept, l2=0.0)


def max_penalty(estimator, X, y, *, l1_pattern=None, sample_weight=None, offset=None):
    r"""The smallest L1 strength that makes every penalised coefficient zero.

    With the penalised coefficients held at zero, the unpenalised ones (the
    intercept, features with :math:`P_j = 0`) are fitted; at that point
    :math:`\hat\beta` the data term has gradient :math:`g` (on the
    estimator's sum-of-losses scale: the log-loss sum, half the deviance
    sum). Zero is optimal for the penalty :math:`\lambda \sum_j P_j
    |\beta_j|` exactly when :math:`|g_j| \le \lambda P_j` for every
    penalised ``j`` (the KKT condition), so

    .. math:: \lambda_{\max} = \max_{j: P_j > 0} |g_j| / P_j

    (``skngd._solvers.prox_newton.l1_max`` on the estimator's loss).

    Parameters
    ----------
    estimator : LogisticRegression or GeneralizedLinearRegressor
        Supplies the family, link, ``fit_intercept`` and (logistic)
        ``class_weight``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    l1_pattern : array-like of shape (n_features,), default=None
        :math:`P_j >= 0` (0: unpenalised); ``None`` is all ones. For a
        multinomial model every class's coefficient of feature ``j`` gets
        :math:`P_j`.
    sample_weight, offset : array-like of shape (n_samples,), default=None
        As in the estimator's ``fit`` (``offset``: GLMs only).

    Returns
    -------
    lam : float
        :math:`\lambda_{\max}` on the sum scale; 0 when the unpenalised fit
        is already optimal for every coefficient.
    """
    from skngd._solvers.prox_newton import l1_max

    X = check_array(X, accept_sparse="csr", dtype=np.float64, order="C")
    if _is_logistic(estimator):
        loss = _logistic_loss(estimator, X, y, sample_weight)
    else:
        loss = _glm_loss(estimator, X, y, sample_weight, offset)
    pattern = np.ones(X.shape[1]) if l1_pattern is None else np.asarray(l1_pattern, float)
    if pattern.shape != (X.shape[1],) or np.any(pattern < 0) or not np.all(np.isfinite(pattern)):
        raise ValueError("l1_pattern must be finite, non-negative, of shape (n_features,).")
    if not np.any(pattern > 0):
        raise ValueError("l1_pattern penalises no coefficient; there is no maximal penalty.")
    full = np.zeros(loss.shape)
    full[: X.shape[1]] = pattern[:, None]
    return float(l1_max(loss, full))


# -- the path ----------------------------------------------------------------------
def _grid(start, n, ratio, n_samples, n_features):
    """``n`` strengths from ``start`` down by ``ratio``, log-spaced."""
    if ratio is None:
        ratio = 1e-6 if n_samples >= n_features else 1e-2
    if not (isinstance(ratio, Real) and 0 < ratio < 1):
        raise ValueError(f"min_penalty_ratio must lie in (0, 1), got {ratio!r}.")
    return start * np.logspace(0.0, np.log10(ratio), n)


def auto_grid(estimator, X, y, n_steps, *, min_penalty_ratio=None, sample_weight=None,
              offset=None):
    """The automatic path grid of :func:`regularization_path`: ``C`` ascending
    (logistic) or ``alpha`` descending (GLM), from :func:`max_penalty`.

    Returns
    -------
    values : ndarray of shape (n_steps,)
    """
    params = estimator.get_params()
    rho = float(params.get("l1_ratio", 0.0) or 0.0)
    l1 = rho > 0
    X = check_array(X, accept_sparse="csr", dtype=np.float64, order="C")
    if l1:
        pattern = None if _is_logistic(estimator) else _p1_pattern(params.get("P1"), X.shape[1])
    else:  # ridge: glum's rule, the gradient in standard-deviation units
        rho, pattern = RIDGE_RATIO, _column_std(X, sample_weight)
    lam = max_penalty(estimator, X, y, l1_pattern=pattern, sample_weight=sample_weight,
                      offset=offset)
    n, p = X.shape
    if l1:
        # a hair above the boundary, so rounding in the solver cannot leave a
        # penalised coefficient at 1e-16 where the optimum is exactly zero
        lam *= 1.0 + BOUNDARY_MARGIN
    if _is_logistic(estimator):  # l1 = rho / C
        start = rho / lam if lam > 0 else 1e-4
        return 1.0 / _grid(1.0 / start, n_steps, min_penalty_ratio, n, p)
    s = float(check_sample_weight(sample_weight, X, dtype=np.float64).sum())
    start = lam / (s * rho) if lam > 0 else 10.0  # l1 = S * alpha * rho * P1
    return _grid(start, n_steps, min_penalty_ratio, n, p)


def _column_std(X, sample_weight):
    """Weighted column standard deviations (1 where a column is constant)."""
    w = check_sample_weight(sample_weight, X, dtype=np.float64)
    w = w / w.sum()
    mean = np.asarray(X.T @ w).ravel()
    sq = np.asarray(X.multiply(X).T @ w if hasattr(X, "multiply") else (X * X).T @ w).ravel()
    sd = np.sqrt(np.clip(sq - mean * mean, 0.0, None))
    return np.where(sd > 0, sd, 1.0)


def _p1_pattern(P1, n_features):
    if P1 is None or (isinstance(P1, str) and P1 == "identity"):
        return None
    return np.asarray(P1, dtype=float).ravel()


def iter_path(estimator, X, y, param, values, fit_params):
    """Yield ``(value, fitted_estimator)`` along ``values``: one clone with
    ``warm_start=True``, refitted after each ``set_params(param=value)``.

    The yielded estimator is the same object each time (copy what you keep).
    """
    est = clone(estimator).set_params(warm_start=True)
    for v in values:
        est.set_params(**{param: v})
        est.fit(X, y, **fit_params)
        yield v, est


def _check_values(values, name, positive_open=True):
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0 or not np.all(np.isfinite(arr) | (arr == np.inf)) or np.any(arr < 0):
        raise ValueError(f"{name} must be a non-empty sequence of non-negative numbers, "
                         f"got {values!r}.")
    if name == "Cs" and np.any(arr == 0):
        raise ValueError(f"Cs must be positive, got {values!r}.")
    return arr


def regularization_path(estimator, X, y, *, alphas=None, Cs=None, min_penalty_ratio=None,
                        **fit_params):
    r"""Fit ``estimator`` along a sequence of penalty strengths with warm starts.

    Dispatches on the estimator's penalty parameter: ``C`` (logistic
    regression: ``Cs``) or ``alpha`` (GLMs: ``alphas``). Each step is
    ``clone(estimator).set_params(warm_start=True, **{param: value}).fit(...)``
    continued from the previous step's solution, so the coefficients are
    those of separate fits (to the solver's ``tol``) at a fraction of the
    cost. The estimator's ``l1_ratio`` (and a GLM's ``P1`` / ``P2``) hold
    along the path.

    Parameters
    ----------
    estimator : LogisticRegression or GeneralizedLinearRegressor (or subclass)
        The model at every step; its own ``C`` / ``alpha`` is ignored.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    alphas, Cs : int or array-like, default=None
        The strengths (fitted in the order given), or their number for the
        automatic grid: starts at the strength where every penalised
        coefficient is zero (:func:`max_penalty`; for ``l1_ratio=0`` where
        they are small: the strength an L1 penalty with ratio ``1e-3`` would
        need) and decreases log-evenly by ``min_penalty_ratio``. Only the one
        matching the estimator may be given; ``None`` is 100 alphas or 10 Cs.
    min_penalty_ratio : float in (0, 1), default=None
        Weakest / strongest penalty of the automatic grid (glum's
        ``min_alpha_ratio``); ``None``: ``1e-6`` if ``n_samples >=
        n_features``, else ``1e-2``.
    **fit_params : dict
        Passed to every ``fit`` (``sample_weight``, a GLM's ``offset``); also
        used for the automatic grid.

    Returns
    -------
    path : RegularizationPath
        ``values``, ``coefs`` (shape ``(n_steps, *coef_.shape)``),
        ``intercepts``, ``n_iter``, ``n_nonzero``.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from skngd.linear_model import LogisticRegression, regularization_path
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> path = regularization_path(LogisticRegression(), scale(X), y, Cs=5)
    >>> path.coefs.shape
    (5, 1, 30)
    """
    logistic = _is_logistic(estimator)
    param, given, other = ("C", Cs, alphas) if logistic else ("alpha", alphas, Cs)
    if other is not None:
        raise ValueError(f"{type(estimator).__name__} is penalised by {param!r}: pass "
                         f"{'Cs' if logistic else 'alphas'}, not "
                         f"{'alphas' if logistic else 'Cs'}.")
    name = "Cs" if logistic else "alphas"
    if given is None:
        given = 10 if logistic else 100
    if isinstance(given, Integral) and not isinstance(given, bool):
        if given < 1:
            raise ValueError(f"{name} must be a positive int or a sequence, got {given!r}.")
        values = auto_grid(estimator, X, y, int(given), min_penalty_ratio=min_penalty_ratio,
                           sample_weight=fit_params.get("sample_weight"),
                           offset=fit_params.get("offset"))
    else:
        values = _check_values(given, name)
    path = None if logistic else _direct_glm_path(estimator, X, y, values, fit_params)
    return _collect(estimator, X, y, param, values, fit_params) if path is None else path


def _direct_glm_path(estimator, X, y, values, fit_params):
    """The elastic-net GLM path on one problem, or None where the estimator
    loop (:func:`iter_path`) applies.

    For dense ``X`` (an ndarray of at least ``NUMBA_MIN_SIZE`` rows),
    ``l1_ratio > 0`` and positive alphas: the first value is an ordinary
    ``fit`` (all of the estimator's input checks and errors), the others are
    solved on the same :class:`GLMProblem` by
    :func:`~skngd._solvers.glm_elastic_net.fit_l1_path`, each from the
    previous solution, its row pass and Gram matrix, with no per-fit
    validation or inference (a path needs the coefficients only). Same
    solver, objective and ``tol`` as the loop.
    """
    from skngd._loss.family import NUMBA_MIN_SIZE
    from skngd._solvers.glm_elastic_net import fit_l1_path
    from skngd.linear_model._glm import _check_offset
    from skngd.linear_model._glm_penalty import build_penalty
    from skngd.utils._threads import fit_threads

    prm = estimator.get_params()
    if (_is_logistic(estimator) or not float(prm.get("l1_ratio", 0.0) or 0.0) > 0
            or not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[0] < NUMBA_MIN_SIZE
            or values.size < 2 or not np.all(values > 0)):
        return None
    est = clone(estimator).set_params(warm_start=True, alpha=float(values[0]))
    est.fit(X, y, **fit_params)
    X = check_array(X, dtype=np.float64, order="C")
    y = np.ascontiguousarray(column_or_1d(y), dtype=np.float64)
    sw = check_sample_weight(fit_params.get("sample_weight"), X, dtype=np.float64)
    family, fi, p = est._family_, est.fit_intercept, X.shape[1]
    pens = [build_penalty(float(a), est.l1_ratio, est.P1, est.P2, p, fi, float(sw.sum()))
            for a in values[1:]]
    problem = GLMProblem(X, y, sw, _check_offset(fit_params.get("offset"), X.shape[0]),
                         family, est._link_, fi, l2=pens[0].l2, n_jobs=est.n_jobs,
                         ridge=pens[0].ridge)
    if problem.sparse or not problem.use_numba or any(pen.l1 is None for pen in pens):
        return _collect(estimator, X, y, "alpha", values, fit_params)  # no L1 term: IRLS
    coefs, intercepts = [est.coef_.copy()], [est.intercept_]
    n_iter = [int(est.n_iter_)]
    start = np.r_[est.coef_, [est.intercept_] if fi else []]
    with fit_threads(est.n_jobs, numba=True, verbose=est.verbose):
        for res in fit_l1_path(problem, ((pen.l2, pen.l1) for pen in pens), start,
                               tol=est.tol, max_iter=est.max_iter, verbose=est.verbose):
            coefs.append(res.coef[:p].copy())
            intercepts.append(float(res.coef[p]) if fi else 0.0)
            n_iter.append(int(res.n_iter))
    return RegularizationPath("alpha", np.asarray(values, dtype=np.float64), np.asarray(coefs),
                              np.asarray(intercepts), np.asarray(n_iter), float(est.l1_ratio))


def _collect(estimator, X, y, param, values, fit_params):
    coefs, intercepts, n_iter = [], [], []
    for _, est in iter_path(estimator, X, y, param, values, fit_params):
        coefs.append(np.array(est.coef_, dtype=np.float64))
        intercepts.append(np.array(est.intercept_, dtype=np.float64))
        n_iter.append(int(np.max(est.n_iter_)))
    return RegularizationPath(param, np.asarray(values, dtype=np.float64), np.asarray(coefs),
                              np.asarray(intercepts), np.asarray(n_iter),
                              float(estimator.get_params().get("l1_ratio", 0.0) or 0.0))


def logistic_regression_path(X, y, *, Cs=10, l1_ratio=0.0, min_penalty_ratio=None,
                             fit_intercept=True, class_weight=None, sample_weight=None,
                             solver="auto", tol=1e-4, max_iter=None, random_state=None):
    r"""Logistic regression along a path of ``C`` values (warm starts).

    Minimises at each ``C`` the objective of
    :class:`~skngd.linear_model.LogisticRegression`,

    .. math::

        \sum_i s_i\,\ell(y_i, W^T x_i + b)
        + \frac{\rho}{C}\lVert W\rVert_1 + \frac{1 - \rho}{2C}\lVert W\rVert_F^2,

    with :math:`\rho` = ``l1_ratio``. See :func:`regularization_path` for the
    automatic grid (``Cs`` an int: it starts at the largest ``C`` with all
    coefficients zero, :math:`C = \rho / \max_j |g_j|`, and increases).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    Cs : int or array-like, default=10
        Number of automatic values, or the values themselves.
    l1_ratio : float in [0, 1], default=0.0
        Elastic-net mixing parameter (``> 0`` needs L1 support in
        :class:`~skngd.linear_model.LogisticRegression`).
    min_penalty_ratio : float in (0, 1), default=None
        ``Cs[0] / Cs[-1]`` of the automatic grid (see
        :func:`regularization_path`).
    fit_intercept, class_weight, solver, tol, max_iter, random_state
        As in :class:`~skngd.linear_model.LogisticRegression`.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    path : RegularizationPath
        ``path.Cs`` (n_Cs,), ``path.coefs`` (n_Cs, 1 or n_classes,
        n_features), ``path.intercepts`` (n_Cs, 1 or n_classes),
        ``path.n_iter`` (n_Cs,).
    """
    from skngd.linear_model._logistic import LogisticRegression

    params = dict(fit_intercept=fit_intercept, class_weight=class_weight, solver=solver,
                  tol=tol, max_iter=max_iter, random_state=random_state)
    est = LogisticRegression(**params)
    est = _with_l1_ratio(est, l1_ratio)
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
    return regularization_path(est, X, y, Cs=Cs, min_penalty_ratio=min_penalty_ratio,
                               **fit_params)


def _with_l1_ratio(est, l1_ratio, **more):
    """``est.set_params(l1_ratio=...)``, refusing ``l1_ratio > 0`` (and
    ``more`` non-default penalties) on an estimator without L1 support."""
    params = est.get_params()
    if not (isinstance(l1_ratio, Real) and 0.0 <= l1_ratio <= 1.0):
        raise ValueError(f"l1_ratio must be a number in [0, 1], got {l1_ratio!r}.")
    extra = {k: v for k, v in more.items() if v is not None}
    missing = [k for k in ["l1_ratio", *extra] if k not in params]
    if missing and (l1_ratio > 0 or extra):
        raise ValueError(f"{type(est).__name__} has no parameter {missing[0]!r} in this "
                         "version of skngd (no L1 / elastic-net support).")
    if "l1_ratio" in params:
        est.set_params(l1_ratio=float(l1_ratio))
    return est.set_params(**extra)


def glm_path(X, y, *, family="normal", link="auto", power=None, alphas=None, n_alphas=100,
             min_alpha_ratio=None, min_alpha=None, l1_ratio=0.0, P1=None, P2=None,
             fit_intercept=True, sample_weight=None, offset=None, max_iter=100, tol=1e-8,
             n_jobs=None):
    r"""A generalised linear model along a path of ``alpha`` values (warm starts).

    Minimises at each ``alpha`` glum's elastic-net objective (the objective
    of :class:`~skngd.linear_model.GeneralizedLinearRegressor`),

    .. math::

        \frac{1}{2\sum_i s_i}\sum_i s_i\, d(y_i, \mu_i)
        + \alpha\Big(\rho \sum_j P1_j |\beta_j|
        + \frac{1 - \rho}{2}\beta^T P2\, \beta\Big),

    with :math:`\rho` = ``l1_ratio``. The automatic grid is glum's: ``n_alphas``
    values from :math:`\alpha_{\max} = \max_j |g_j| / (\rho\, P1_j)` (mean
    scale; with :math:`\rho = 10^{-3}` for a ridge) down to
    ``min_alpha`` or ``min_alpha_ratio * alpha_max``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    family, link, power, fit_intercept, max_iter, tol, n_jobs
        As in :class:`~skngd.linear_model.GeneralizedLinearRegressor`
        (``n_jobs=None``: one thread).
    alphas : array-like, default=None
        The strengths, fitted in the order given; ``None``: the automatic grid.
    n_alphas : int, default=100
        Length of the automatic grid.
    min_alpha_ratio : float in (0, 1), default=None
        ``alphas[-1] / alphas[0]``; ``None``: 1e-6 if ``n_samples >=
        n_features``, else 1e-2.
    min_alpha : float, default=None
        Last value of the automatic grid (overrides ``min_alpha_ratio``).
    l1_ratio : float in [0, 1], default=0.0
        Elastic-net mixing parameter.
    P1, P2 : array-like, default=None
        Per-coefficient L1 weights and the L2 penalty matrix (glum's meaning;
        need elastic-net support in the GLM).
    sample_weight, offset : array-like of shape (n_samples,), default=None

    Returns
    -------
    path : RegularizationPath
        ``path.alphas`` (n_alphas,), ``path.coefs`` (n_alphas, n_features)
        (glum's ``coef_path_`` of one fold), ``path.intercepts`` (n_alphas,),
        ``path.n_iter`` (n_alphas,).
    """
    from skngd.linear_model._glm import GeneralizedLinearRegressor

    est = GeneralizedLinearRegressor(family=family, link=link, power=power,
                                     fit_intercept=fit_intercept, max_iter=max_iter, tol=tol,
                                     n_jobs=n_jobs)
    est = _with_l1_ratio(est, l1_ratio, P1=P1, P2=P2)
    fit_params = {k: v for k, v in (("sample_weight", sample_weight), ("offset", offset))
                  if v is not None}
    if alphas is None:
        alphas = glm_alpha_grid(est, X, y, n_alphas=n_alphas, min_alpha_ratio=min_alpha_ratio,
                                min_alpha=min_alpha, **fit_params)
    return regularization_path(est, X, y, alphas=alphas, **fit_params)


def glm_alpha_grid(estimator, X, y, *, n_alphas=100, min_alpha_ratio=None, min_alpha=None,
                   sample_weight=None, offset=None):
    """glum's automatic ``alpha`` grid (descending) for a GLM estimator."""
    if not (isinstance(n_alphas, Integral) and n_alphas >= 1):
        raise ValueError(f"n_alphas must be a positive int, got {n_alphas!r}.")
    grid = auto_grid(estimator, X, y, n_alphas, min_penalty_ratio=min_alpha_ratio,
                     sample_weight=sample_weight, offset=offset)
    if min_alpha is None:
        return grid
    if not (isinstance(min_alpha, Real) and 0 < min_alpha < grid[0]):
        raise ValueError(f"min_alpha must lie in (0, alpha_max={grid[0]:.6g}), "
                         f"got {min_alpha!r}.")
    return np.logspace(np.log10(grid[0]), np.log10(min_alpha), n_alphas)


__all__ = ["RegularizationPath", "glm_path", "logistic_regression_path", "max_penalty",
           "regularization_path"]
