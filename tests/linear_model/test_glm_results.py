"""Named inference results: summary object, p-values, intervals with names."""

import numpy as np
import pytest

from skngd.linear_model import GeneralizedLinearRegressor, PoissonRegressor
from skngd.linear_model._glm_summary import COEF_COLUMNS, GLMSummary

pd = pytest.importorskip("pandas")
sm = pytest.importorskip("statsmodels.api")


def _data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["age", "dose", "bmi"])
    y = rng.poisson(np.exp(0.2 + X.to_numpy() @ [0.3, 0.0, -0.2])).astype(float)
    return X, y


def test_summary_object_prints_the_table_and_exposes_dataframes():
    X, y = _data()
    est = PoissonRegressor(alpha=0.0).fit(X, y)
    s = est.summary()
    assert isinstance(s, GLMSummary)
    text = str(s)
    assert text == repr(s) == s.as_text()
    for name in ("PoissonRegressor results", "intercept", "age", "dose", "bmi", "P>|z|", "AIC"):
        assert name in text
    info, coefs = s.tables
    assert isinstance(coefs, pd.DataFrame) and isinstance(info, pd.DataFrame)
    assert list(coefs.index) == ["intercept", "age", "dose", "bmi"]
    assert list(coefs.columns) == list(COEF_COLUMNS) + ["[0.025", "0.975]"]
    np.testing.assert_allclose(coefs["coef"], np.r_[est.intercept_, est.coef_])
    np.testing.assert_allclose(coefs["std err"], np.r_[est.intercept_stderr_, est.coef_stderr_])
    np.testing.assert_allclose(coefs["P>|z|"], est.pvalues_)
    assert info.loc["Family", "value"] == "poisson"
    assert info.loc["AIC", "value"] == pytest.approx(est.aic_)
    assert "<table" in s._repr_html_()


def test_pvalues_conf_int_and_table_match_statsmodels():
    X, y = _data(seed=1)
    est = GeneralizedLinearRegressor(family="poisson", tol=1e-12).fit(X, y)
    ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit(tol=1e-14)
    np.testing.assert_allclose(est.pvalues_, ref.pvalues.to_numpy(), rtol=1e-6)
    ci = est.conf_int(0.1)
    assert isinstance(ci, pd.DataFrame)
    assert list(ci.index) == ["intercept", "age", "dose", "bmi"]
    np.testing.assert_allclose(ci.to_numpy(), ref.conf_int(0.1).to_numpy(), rtol=1e-6)
    ours = est.summary(alpha=0.1).tables[1]
    theirs = ref.summary2(alpha=0.1).tables[1].rename(index={"const": "intercept"})
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-6)
    assert list(ours.index) == list(theirs.index)


def test_unnamed_fit_keeps_arrays_and_generic_names():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 2))
    y = rng.poisson(1.0, 100).astype(float)
    est = PoissonRegressor().fit(X, y)
    assert isinstance(est.conf_int(), np.ndarray) and est.conf_int().shape == (3, 2)
    assert list(est.summary().tables[1].index) == ["intercept", "x0", "x1"]
    assert est.pvalues_.shape == (3,)
    nofit = PoissonRegressor(fit_intercept=False).fit(X, y)
    assert list(nofit.summary().tables[1].index) == ["x0", "x1"]
    assert nofit.pvalues_.shape == (2,)


def test_tables_without_pandas_are_split_dicts(monkeypatch):
    import builtins

    X, y = _data(seed=3)
    s = PoissonRegressor().fit(X, y).summary()
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    info, coefs = s.tables
    assert set(coefs) == {"index", "columns", "data"}
    assert coefs["index"] == ["intercept", "age", "dose", "bmi"]
    assert np.asarray(coefs["data"]).shape == (4, 6)
    assert info["index"][0] == "Family"
    assert "intercept" in s.as_html()
