"""Tests for skngd.plotting: the artists drawn (not pixels), on real skngd
estimators fitted to bundled datasets, with the Agg backend."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import loguniform  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import RandomizedSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skngd import (  # noqa: E402
    BayesSearchCV,
    GaussianEMImputer,
    GeneralizedLinearRegressor,
    LogisticRegression,
    OTDomainAdapter,
)
from skngd.plotting import (  # noqa: E402
    plot_coefficients,
    plot_convergence,
    plot_objective_history,
    plot_transport,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X[:, :8]), y


@pytest.fixture(scope="module")
def logistic_fits(cancer):
    X, y = cancer
    return {s: LogisticRegression(solver=s, max_iter=300).fit(X, y) for s in ("ngd", "newton")}


@pytest.fixture(scope="module")
def moons_adapter():
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(30, 2))
    Xt = rng.normal(size=(25, 2)) @ np.array([[0.8, 0.6], [-0.6, 0.8]]) + [3.0, 1.0]
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.zeros(30, int), -np.ones(25, int)]
    return X, sd


# -- import behaviour -------------------------------------------------------
def test_import_skngd_does_not_import_matplotlib():
    code = (
        "import sys, skngd, skngd.plotting; "
        "assert 'matplotlib' not in sys.modules, sorted(m for m in sys.modules if 'matplotlib' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_matplotlib_gives_clear_error(monkeypatch):
    class Fitted:
        objective_history_ = np.array([2.0, 1.0])

    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'skngd\[plot\]'"):
        plot_objective_history(Fitted())


# -- plot_objective_history --------------------------------------------------
def test_objective_history_lines_are_the_recorded_histories(logistic_fits):
    fig, ax = plt.subplots()
    out = plot_objective_history(list(logistic_fits.values()), ax=ax)
    assert out is ax
    lines = ax.get_lines()
    assert len(lines) == 2
    for line, est in zip(lines, logistic_fits.values()):
        np.testing.assert_array_equal(line.get_ydata(), est.objective_history_)
        np.testing.assert_array_equal(line.get_xdata(), np.arange(len(est.objective_history_)))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["LogisticRegression (ngd)", "LogisticRegression (newton)"]
    assert ax.get_ylabel() == "objective"


def test_objective_history_gap_is_log_distance_to_best(logistic_fits):
    ax = plot_objective_history(logistic_fits, gap=True)
    assert ax.get_yscale() == "log"
    best = min(np.min(e.objective_history_) for e in logistic_fits.values())
    for line, est in zip(ax.get_lines(), logistic_fits.values()):
        dist = np.asarray(est.objective_history_) - best
        np.testing.assert_allclose(line.get_ydata(), dist[dist > 0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(logistic_fits)


def test_objective_history_through_pipeline_and_em_loglik():
    X, _ = load_diabetes(return_X_y=True)
    X = X[:, :4].copy()
    X[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan
    imp = make_pipeline(GaussianEMImputer(max_iter=30)).fit(X)
    ax = plot_objective_history(imp)
    hist = imp[-1].loglik_history_
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), hist)
    assert ax.get_ylabel() == "log-likelihood"
    assert np.all(np.diff(hist) >= -1e-8 * np.abs(hist[:-1]))  # EM: monotone


def test_objective_history_errors(logistic_fits):
    with pytest.raises(ValueError, match="records no history"):
        plot_objective_history(StandardScaler().fit(np.eye(3)))
    imp = GaussianEMImputer().fit(np.array([[1.0, np.nan], [2.0, 1.0], [0.5, 3.0], [1.5, 2.0]]))
    with pytest.raises(ValueError, match="cannot draw"):
        plot_objective_history([logistic_fits["ngd"], imp])
    with pytest.raises(ValueError, match="labels has 1 entries"):
        plot_objective_history(list(logistic_fits.values()), labels=["a"])
    with pytest.raises(ValueError, match="empty"):
        plot_objective_history([])


# -- plot_convergence ----------------------------------------------------------
def _running_best(scores):
    return np.fmax.accumulate(np.where(np.isnan(scores), -np.inf, scores))


def test_convergence_bayes_and_random_search(cancer):
    X, y = cancer
    space = {"C": loguniform(1e-3, 1e2)}
    est = LogisticRegression(solver="newton")
    bayes = BayesSearchCV(est, space, n_iter=6, cv=3, random_state=0).fit(X, y)
    rand = RandomizedSearchCV(est, space, n_iter=6, cv=3, random_state=0).fit(X, y)
    ax = plot_convergence({"BO": bayes, "random": rand}, show_evaluations=True)
    steps = [ln for ln in ax.get_lines() if ln.get_drawstyle().startswith("steps")]
    points = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert len(steps) == 2 and len(points) == 2
    for line, search in zip(steps, (bayes, rand)):
        scores = np.asarray(search.cv_results_["mean_test_score"])
        np.testing.assert_allclose(line.get_ydata(), _running_best(scores))
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(scores) + 1))
        assert line.get_ydata()[-1] == pytest.approx(search.best_score_)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["BO", "random"]


class FittedSearch:
    """A fitted search reduced to the attributes plot_convergence reads."""

    def __init__(self, cv_results, refit=True):
        self.cv_results_ = cv_results
        self.refit = refit


def test_convergence_failed_candidates_and_multimetric():
    nan_first = FittedSearch({"mean_test_score": np.array([np.nan, 0.5, np.nan, 0.7, 0.6])})
    ax = plot_convergence(nan_first)
    y = ax.get_lines()[0].get_ydata()
    assert np.isnan(y[0])
    np.testing.assert_array_equal(y[1:], [0.5, 0.5, 0.7, 0.7])

    multi = {"mean_test_acc": np.array([0.1, 0.3]), "mean_test_f1": np.array([0.4, 0.2])}
    ax = plot_convergence(FittedSearch(multi, refit="f1"))
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [0.4, 0.4])
    ax = plot_convergence(FittedSearch(multi, refit="f1"), metric="acc")
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [0.1, 0.3])
    with pytest.raises(ValueError, match="pass metric="):
        plot_convergence(FittedSearch(multi, refit=False))
    with pytest.raises(ValueError, match="valid: \\['acc', 'f1'\\]"):
        plot_convergence(FittedSearch(multi), metric="auc")
    with pytest.raises(NotFittedError, match="cv_results_"):
        plot_convergence(RandomizedSearchCV(LogisticRegression(), {"C": [1.0]}))


# -- plot_coefficients ---------------------------------------------------------
@pytest.fixture(scope="module")
def poisson_glm():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X = X[["bmi", "bp", "s5"]]
    counts = np.round(y.to_numpy() / 25.0)
    return GeneralizedLinearRegressor(family="poisson").fit(X, counts)


def test_coefficients_intervals_match_conf_int(poisson_glm):
    fig, ax = plt.subplots()
    out = plot_coefficients(poisson_glm, alpha=0.1, ax=ax)
    assert out is ax
    (container,) = ax.containers
    data_line, caplines, (barcol,) = container.lines
    np.testing.assert_allclose(data_line.get_xdata(), poisson_glm.coef_)
    # each horizontal bar spans the confidence interval reported by conf_int
    ci = np.asarray(poisson_glm.conf_int(alpha=0.1))[-3:]
    spans = np.array([seg[:, 0] for seg in barcol.get_segments()])
    np.testing.assert_allclose(np.sort(spans, axis=1), ci, rtol=1e-10)
    # one row per coefficient, the first on top, labelled by the DataFrame columns
    rows = dict(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())))
    assert rows == {2: "bmi", 1: "bp", 0: "s5"}
    np.testing.assert_array_equal(data_line.get_ydata(), [2, 1, 0])
    vlines = [ln for ln in ax.get_lines() if np.all(np.asarray(ln.get_xdata()) == 0)]
    assert len(vlines) == 1  # the zero reference line


def test_coefficients_intercept_and_errors(poisson_glm):
    ax = plot_coefficients(poisson_glm, include_intercept=True, feature_names=["a", "b", "c"])
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels == {"intercept", "a", "b", "c"}
    with pytest.raises(ValueError, match="alpha must be"):
        plot_coefficients(poisson_glm, alpha=1.5)
    with pytest.raises(ValueError, match="feature_names has 2"):
        plot_coefficients(poisson_glm, feature_names=["a", "b"])
    with pytest.raises(NotFittedError, match="coef_stderr_"):
        plot_coefficients(GeneralizedLinearRegressor())


def test_coefficients_default_names_without_dataframe():
    X, y = load_diabetes(return_X_y=True)
    glm = GeneralizedLinearRegressor(family="normal").fit(X[:, :2], y)
    ax = plot_coefficients(glm)
    assert {t.get_text() for t in ax.get_yticklabels()} == {"x0", "x1"}


# -- plot_transport ------------------------------------------------------------
@pytest.mark.parametrize("method", ["sinkhorn", "emd"])
def test_transport_draws_points_and_strongest_couplings(moons_adapter, method):
    X, sd = moons_adapter
    adapter = OTDomainAdapter(method=method, reg=0.1).fit(X, sample_domain=sd)
    fig, ax = plt.subplots()
    out = plot_transport(adapter, X, sd, n_lines=20, ax=ax)
    assert out is ax
    lines, src, tgt, mapped = ax.collections
    np.testing.assert_allclose(src.get_offsets(), X[sd >= 0])
    np.testing.assert_allclose(tgt.get_offsets(), X[sd < 0])
    np.testing.assert_allclose(mapped.get_offsets(),
                               adapter.transform(X, sample_domain=sd)[sd >= 0])
    segs = lines.get_segments()
    assert len(segs) == 20
    # the segments are the 20 largest entries of the coupling
    P = adapter.coupling_
    Xs, Xt = X[sd >= 0], X[sd < 0]
    drawn = sorted(P[np.argmin(((Xs - s[0]) ** 2).sum(1)), np.argmin(((Xt - s[1]) ** 2).sum(1))]
                   for s in segs)
    np.testing.assert_allclose(drawn, np.sort(P.ravel())[-20:])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "strongest couplings", "source", "target", "mapped source"]


def test_transport_gaussian_map_draws_displacements(moons_adapter):
    X, sd = moons_adapter
    adapter = OTDomainAdapter(method="gaussian").fit(X, sample_domain=sd)
    ax = plot_transport(adapter, X, sd, n_lines=5)
    segs = ax.collections[0].get_segments()
    mapped = adapter.transform(X, sample_domain=sd)[sd >= 0]
    assert len(segs) == 5
    np.testing.assert_allclose([s[1] for s in segs], mapped[:5])


def test_transport_errors(moons_adapter):
    X, sd = moons_adapter
    adapter = OTDomainAdapter(method="sinkhorn", reg=0.1).fit(X, sample_domain=sd)
    with pytest.raises(ValueError, match="pass the X and sample_domain used at fit"):
        plot_transport(adapter, X[:-1], sd[:-1])
    with pytest.raises(ValueError, match="one entry per row"):
        plot_transport(adapter, X, sd[:-1])
    with pytest.raises(ValueError, match="n_lines"):
        plot_transport(adapter, X, sd, n_lines=-1)
    with pytest.raises(ValueError, match="dims"):
        plot_transport(adapter, X, sd, dims=(0, 2))
    with pytest.raises(NotFittedError, match="coupling_"):
        plot_transport(OTDomainAdapter(), X, sd)


def test_convergence_groups_repeated_runs():
    runs = [FittedSearch({"mean_test_score": np.array(v)})
            for v in ([0.2, 0.5, 0.4], [0.6, 0.1, 0.7], [np.nan, 0.3, 0.3])]
    single = FittedSearch({"mean_test_score": np.array([0.1, 0.9])})
    ax = plot_convergence({"BO": runs, "random": single})
    lines = ax.get_lines()
    assert len(lines) == 3 + 1 + 1  # three thin runs, their mean, the single search
    mean = lines[3]
    # running bests [.2 .5 .5], [.6 .6 .7], [nan .3 .3]: NaN is left out of the mean
    np.testing.assert_allclose(mean.get_ydata(), [0.4, 1.4 / 3, 0.5])
    assert len({ln.get_color() for ln in lines[:4]}) == 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["BO (mean of 3)", "random"]
    with pytest.raises(ValueError, match="empty list"):
        plot_convergence({"BO": []})


def test_transport_colours_source_by_label(moons_adapter):
    X, sd = moons_adapter
    y = np.where(X[:, 0] > 0, 1, 0)
    y[sd < 0] = -1  # masked target labels are not read
    adapter = OTDomainAdapter(method="sinkhorn", reg=0.1).fit(X, sample_domain=sd)
    ax = plot_transport(adapter, X, sd, y=y)
    _, src, tgt, mapped = ax.collections
    np.testing.assert_array_equal(src.get_array(), y[sd >= 0])
    np.testing.assert_array_equal(mapped.get_array(), y[sd >= 0])
    assert tgt.get_array() is None
    with pytest.raises(ValueError, match="y must have one entry per row"):
        plot_transport(adapter, X, sd, y=y[:-1])
