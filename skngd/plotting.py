"""Plotting helpers for fitted skngd estimators (matplotlib, optional).

Each function draws on the given matplotlib Axes (``ax=``) or on a new one,
and returns the Axes. matplotlib is imported inside the functions, so
``import skngd`` never imports it; install it with ``pip install skngd[plot]``.
"""

from numbers import Integral
import warnings

import numpy as np
from sklearn.exceptions import NotFittedError

__all__ = [
    "plot_coefficients",
    "plot_convergence",
    "plot_objective_history",
    "plot_transport",
]

# fitted attribute holding a per-iteration history -> (axis label, minimised?)
_HISTORIES = {
    "objective_history_": ("objective", True),
    "loglik_history_": ("log-likelihood", False),
}


def _get_axes(ax):
    """Return ``ax`` or a new Axes; a clear ImportError without matplotlib."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching
        raise ImportError(
            "skngd.plotting needs matplotlib, which is not installed; "
            "install it with: pip install 'skngd[plot]' (or pip install matplotlib)"
        ) from exc
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _named_items(objs, labels, what):
    """Normalise one object, a list/tuple or a dict into (label, obj) pairs."""
    if isinstance(objs, dict):
        items = [(str(k), v) for k, v in objs.items()]
    elif isinstance(objs, (list, tuple)):
        items = [(None, o) for o in objs]
    else:
        items = [(None, objs)]
    if not items:
        raise ValueError(f"{what}: got an empty collection; pass at least one.")
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(items):
            raise ValueError(
                f"labels has {len(labels)} entries but {len(items)} {what} were given."
            )
        items = [(str(lab), o) for lab, (_, o) in zip(labels, items)]
    return items


def _check_fitted(obj, attrs, param):
    """NotFittedError naming the missing fitted attributes (duck-typed: any
    object exposing them is accepted, not only estimators)."""
    missing = [a for a in attrs if not hasattr(obj, a)]
    if missing:
        raise NotFittedError(
            f"{param}: this {type(obj).__name__} has no fitted attribute(s) {missing}; "
            "fit it first."
        )


def _final_step(estimator):
    """The last step of a Pipeline, or the estimator itself."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def plot_convergence(search_cv, *, labels=None, metric=None, show_evaluations=False, ax=None):
    """Plot the best cross-validated score against the number of evaluations.

    Works with any fitted scikit-learn search (:class:`skngd.BayesSearchCV`,
    :class:`skngd.CMAESSearchCV`, ``RandomizedSearchCV``, ...): candidates are
    taken in the order of ``cv_results_`` (evaluation order for skngd's
    searches) and the running maximum of the mean test score is drawn as a
    step line. Failed candidates (NaN scores) do not improve the best score.

    Parameters
    ----------
    search_cv : fitted search, list of them, or dict of label -> search(es)
        The searches to compare, one line each. A dict value may also be a
        list of searches (repeated runs, e.g. several seeds): they are drawn
        as thin lines of one colour, with their mean running best as a thick
        line carrying the label.
    labels : list of str, default=None
        Legend labels, one per search; default: the dict keys or the class
        names.
    metric : str, default=None
        For multi-metric searches, the scorer name whose ``mean_test_<metric>``
        is drawn; default: the search's ``refit`` scorer when it is a string.
    show_evaluations : bool, default=False
        Also draw each candidate's mean test score as a faint point.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    ax : matplotlib Axes
        The Axes with one step line per search.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.model_selection import RandomizedSearchCV
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skngd import BayesSearchCV, LogisticRegression
    >>> from skngd.plotting import plot_convergence
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> space = {"C": loguniform(1e-3, 1e2)}
    >>> clf = LogisticRegression(solver="newton")
    >>> bayes = BayesSearchCV(clf, space, n_iter=8, cv=3, random_state=0).fit(X, y)
    >>> rand = RandomizedSearchCV(clf, space, n_iter=8, cv=3, random_state=0).fit(X, y)
    >>> ax = plot_convergence({"Bayesian": bayes, "random": rand})
    >>> len(ax.get_lines())
    2
    """
    ax = _get_axes(ax)
    max_n = 0
    for label, group in _named_items(search_cv, labels, "searches"):
        runs = list(group) if isinstance(group, (list, tuple)) else [group]
        if not runs:
            raise ValueError(f"search_cv: the entry {label!r} is an empty list of searches.")
        color = None
        bests = []
        for search in runs:
            _check_fitted(search, ["cv_results_"], "search_cv")
            scores = _search_scores(search, metric)
            best = np.fmax.accumulate(np.where(np.isnan(scores), -np.inf, scores))
            best[np.isneginf(best)] = np.nan
            bests.append(best)
            n_eval = np.arange(1, len(scores) + 1)
            max_n = max(max_n, len(scores))
            single = len(runs) == 1
            (line,) = ax.step(n_eval, best, where="post", color=color,
                              lw=1.5 if single else 0.8, alpha=1.0 if single else 0.35,
                              label=(label or type(search).__name__) if single else "_nolegend_")
            color = line.get_color()
            if show_evaluations:
                ax.plot(n_eval, scores, "o", color=color, alpha=0.3, ms=3)
        if len(runs) > 1:
            n = min(len(b) for b in bests)
            with warnings.catch_warnings():  # a step where every run failed stays NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(np.array([b[:n] for b in bests]), axis=0)
            ax.step(np.arange(1, n + 1), mean, where="post", color=color, lw=2.2,
                    label=f"{label or type(runs[0]).__name__} (mean of {len(runs)})")
    ax.set_xlabel("number of evaluations")
    ax.set_ylabel("best mean CV score")
    ax.set_xlim(0.5, max_n + 0.5)
    ax.legend()
    return ax


def _search_scores(search, metric):
    results = search.cv_results_
    if metric is None:
        if "mean_test_score" in results:
            return np.asarray(results["mean_test_score"], dtype=float)
        refit = getattr(search, "refit", None)
        if isinstance(refit, str):
            metric = refit
        else:
            names = sorted(k[len("mean_test_"):] for k in results if k.startswith("mean_test_"))
            raise ValueError(
                f"{type(search).__name__} was fitted with several scorers {names}; "
                "pass metric= to choose one."
            )
    key = f"mean_test_{metric}"
    if key not in results:
        names = sorted(k[len("mean_test_"):] for k in results if k.startswith("mean_test_"))
        raise ValueError(f"metric={metric!r} is not a scorer of this search; valid: {names}.")
    return np.asarray(results[key], dtype=float)


def plot_objective_history(estimator, *, labels=None, gap=False, ax=None):
    """Plot the per-iteration objective or log-likelihood of a fitted estimator.

    Reads the history an skngd estimator records while fitting:
    ``objective_history_`` (a penalised objective, minimised: NGD, MM and
    Newton solvers) or ``loglik_history_`` (a log-likelihood, maximised: the
    EM estimators, for which it must never decrease). A ``Pipeline`` is read
    through its final step.

    Parameters
    ----------
    estimator : fitted estimator, list of them, or dict of label -> estimator
        One line per estimator.
    labels : list of str, default=None
        Legend labels; default: the dict keys, or the class name with its
        ``solver`` when it has one.
    gap : bool, default=False
        Draw the distance to the best value reached,
        :math:`|h_t - h^\\star|`, on a log scale, instead of the raw values;
        the best is the minimum (objective) or maximum (log-likelihood) over
        all the estimators drawn. Points at zero distance are not drawn.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    ax : matplotlib Axes
        The Axes with one line per estimator.

    Raises
    ------
    ValueError
        If an estimator records no history, or the estimators mix objectives
        and log-likelihoods.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skngd import LogisticRegression
    >>> from skngd.plotting import plot_objective_history
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> fits = {s: LogisticRegression(solver=s).fit(X, y) for s in ("ngd", "newton")}
    >>> ax = plot_objective_history(fits, gap=True)
    >>> [line.get_label() for line in ax.get_lines()]
    ['ngd', 'newton']
    """
    ax = _get_axes(ax)
    items = []
    for label, est in _named_items(estimator, labels, "estimators"):
        final = _final_step(est)
        attr = next((a for a in _HISTORIES if hasattr(final, a)), None)
        if attr is None:
            raise ValueError(
                f"{type(final).__name__} records no history: expected one of the "
                f"fitted attributes {list(_HISTORIES)} (is it fitted?)."
            )
        if label is None:
            solver = getattr(final, "solver", None)
            label = type(final).__name__ + (f" ({solver})" if isinstance(solver, str) else "")
        items.append((label, attr, np.asarray(getattr(final, attr), dtype=float).ravel()))
    kinds = {attr for _, attr, _ in items}
    if len(kinds) > 1:
        raise ValueError(f"cannot draw {sorted(kinds)} on one Axes; plot them separately.")
    ylabel, minimised = _HISTORIES[kinds.pop()]
    if gap:
        best = (min if minimised else max)(h.min() if minimised else h.max() for _, _, h in items)
    for label, _, hist in items:
        iters = np.arange(len(hist))
        if gap:
            dist = np.abs(hist - best)
            keep = dist > 0
            ax.semilogy(iters[keep], dist[keep], marker=".", label=label)
        else:
            ax.plot(iters, hist, marker=".", label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"{ylabel} - best" if gap else ylabel)
    ax.legend()
    return ax


def plot_coefficients(glm, alpha=0.05, *, include_intercept=False, feature_names=None, ax=None):
    """Plot a fitted GLM's coefficients with their confidence intervals.

    Draws each coefficient as a point with a horizontal bar for its Wald
    interval :math:`\\hat\\beta_j \\pm z_{1-\\alpha/2}\\, \\mathrm{se}_j`
    (from ``coef_`` and ``coef_stderr_``, the intervals of ``conf_int``),
    and a vertical line at zero.

    Parameters
    ----------
    glm : fitted GeneralizedLinearRegressor (or subclass)
        Any fitted estimator with ``coef_`` and ``coef_stderr_`` (and
        ``intercept_``, ``intercept_stderr_`` with ``include_intercept=True``).
    alpha : float in (0, 1), default=0.05
        One minus the confidence level of the intervals.
    include_intercept : bool, default=False
        Also draw the intercept (first row).
    feature_names : list of str, default=None
        Row labels; default: ``feature_names_in_`` when the estimator was
        fitted on a DataFrame, else ``x0, x1, ...``.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    ax : matplotlib Axes
        The Axes with the coefficients, one row each.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from skngd import GeneralizedLinearRegressor
    >>> from skngd.plotting import plot_coefficients
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> glm = GeneralizedLinearRegressor(family="gamma", link="log")
    >>> glm = glm.fit(X[["age", "bmi", "bp"]], y)
    >>> ax = plot_coefficients(glm, alpha=0.05)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['age', 'bmi', 'bp']
    """
    from scipy.stats import norm

    if not (isinstance(alpha, (float, Integral)) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a float in (0, 1); got {alpha!r}.")
    _check_fitted(glm, ["coef_", "coef_stderr_"], "glm")
    coef = np.ravel(glm.coef_).astype(float)
    se = np.ravel(glm.coef_stderr_).astype(float)
    if feature_names is None:
        feature_names = getattr(glm, "feature_names_in_", None)
    if feature_names is None:
        feature_names = [f"x{j}" for j in range(coef.size)]
    names = [str(n) for n in feature_names]
    if len(names) != coef.size:
        raise ValueError(f"feature_names has {len(names)} entries for {coef.size} coefficients.")
    if include_intercept:
        coef = np.r_[np.ravel(glm.intercept_), coef].astype(float)
        se = np.r_[np.ravel(glm.intercept_stderr_), se].astype(float)
        names = ["intercept"] + names
    half = norm.ppf(1 - alpha / 2) * se
    rows = np.arange(coef.size)[::-1]  # first coefficient on top
    ax = _get_axes(ax)
    ax.axvline(0.0, color="0.6", lw=1, ls="--")
    ax.errorbar(coef, rows, xerr=half, fmt="o", capsize=3,
                label=f"{100 * (1 - alpha):g}% confidence interval")
    ax.set_yticks(rows, names)
    ax.set_xlabel("coefficient")
    ax.legend(loc="best")
    return ax


def plot_transport(adapter, X, sample_domain, *, y=None, n_lines=100, dims=(0, 1), ax=None):
    """Plot source, target and mapped source points with the coupling lines.

    Source rows (``sample_domain >= 0``) are drawn as circles, target rows
    (``< 0``) as crosses, the source rows moved by ``adapter.transform`` as
    triangles, and the ``n_lines`` largest entries of ``adapter.coupling_``
    as segments from source to target points, darker for more mass. An
    adapter without a coupling (``method='gaussian'``, whose ``coupling_`` is
    None) gets segments from the first ``n_lines`` source points to their
    images instead.

    Parameters
    ----------
    adapter : fitted OTDomainAdapter
        Fitted on ``X`` and ``sample_domain``, so that ``coupling_`` has one
        row per source row and one column per target row of ``X``.
    X : array-like of shape (n_samples, n_features)
        The stacked source and target samples the adapter was fitted on.
    sample_domain : array-like of shape (n_samples,)
        Domain of each row: ``>= 0`` source, ``< 0`` target.
    y : array-like of shape (n_samples,), default=None
        Class labels; when given, the source and mapped source points are
        coloured by the labels of the source rows (target labels, usually
        masked, are not read).
    n_lines : int >= 0, default=100
        Number of strongest couplings drawn as lines.
    dims : pair of int, default=(0, 1)
        The two features used as horizontal and vertical coordinates.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    ax : matplotlib Axes
        The Axes with three point sets and one line collection.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd import OTDomainAdapter
    >>> from skngd.plotting import plot_transport
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(40, 2)), rng.normal(size=(40, 2)) + [3.0, 1.0]])
    >>> sample_domain = np.r_[np.zeros(40, dtype=int), -np.ones(40, dtype=int)]
    >>> adapter = OTDomainAdapter(method="sinkhorn", reg=0.1)
    >>> adapter = adapter.fit(X, sample_domain=sample_domain)
    >>> ax = plot_transport(adapter, X, sample_domain, n_lines=30)
    >>> len(ax.collections[0].get_segments())
    30
    """
    from matplotlib.collections import LineCollection

    _check_fitted(adapter, ["coupling_"], "adapter")
    X = np.asarray(X, dtype=float)
    sd = np.asarray(sample_domain)
    if X.ndim != 2 or sd.shape != (X.shape[0],):
        raise ValueError(
            f"X must be 2-D and sample_domain have one entry per row; got X of shape "
            f"{X.shape} and sample_domain of shape {sd.shape}."
        )
    if not (isinstance(n_lines, Integral) and n_lines >= 0):
        raise ValueError(f"n_lines must be an integer >= 0; got {n_lines!r}.")
    i, j = dims
    if not (0 <= i < X.shape[1] and 0 <= j < X.shape[1]):
        raise ValueError(f"dims={dims!r} is out of range for {X.shape[1]} features.")
    src, tgt = sd >= 0, sd < 0
    Xs, Xt = X[src], X[tgt]
    mapped = np.asarray(adapter.transform(X, sample_domain=sd), dtype=float)[src]
    if adapter.coupling_ is None:  # a map without a coupling: draw displacements
        n = min(n_lines, Xs.shape[0])
        starts, ends, mass, label = Xs[:n], mapped[:n], np.ones(n), "displacement"
    else:
        P = np.asarray(adapter.coupling_, dtype=float)
        if P.shape != (Xs.shape[0], Xt.shape[0]):
            raise ValueError(
                f"adapter.coupling_ has shape {P.shape} but X has {Xs.shape[0]} source "
                f"and {Xt.shape[0]} target rows: pass the X and sample_domain used at fit."
            )
        n = min(n_lines, int(np.count_nonzero(P)))
        flat = np.argpartition(P.ravel(), P.size - n)[P.size - n:]
        rows, cols = np.unravel_index(flat, P.shape)
        starts, ends, label = Xs[rows], Xt[cols], "strongest couplings"
        mass = P[rows, cols] / P[rows, cols].max() if n else np.ones(0)

    color = {}
    if y is not None:
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have one entry per row of X; got shape {y.shape}.")
        color = {"c": np.unique(y[src], return_inverse=True)[1], "cmap": "coolwarm"}

    ax = _get_axes(ax)
    if n:
        segments = np.stack([starts[:, [i, j]], ends[:, [i, j]]], axis=1)
        colors = np.zeros((n, 4))
        colors[:, 3] = 0.1 + 0.6 * mass
        ax.add_collection(LineCollection(segments, colors=colors, linewidths=0.8, label=label))
    ax.scatter(Xs[:, i], Xs[:, j], marker="o", s=20, alpha=0.7, label="source", **color)
    ax.scatter(Xt[:, i], Xt[:, j], marker="x", s=20, alpha=0.7, label="target",
               color="k" if color else None)
    ax.scatter(mapped[:, i], mapped[:, j], marker="^", s=20, alpha=0.7, label="mapped source",
               **color)
    ax.set_xlabel(f"feature {i}")
    ax.set_ylabel(f"feature {j}")
    ax.legend(loc="best")
    return ax
