"""scikit-learn estimator checks and bad-input handling for GaussianEMImputer."""

import warnings

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skngd.impute import GaussianEMImputer


@parametrize_with_checks(
    [
        GaussianEMImputer(),
        GaussianEMImputer(init="mean", add_indicator=True),
        GaussianEMImputer(init="pairwise", n_jobs=2),
        GaussianEMImputer(sample_posterior=True, random_state=0, reg_covar=1e-3),
    ]
)
def test_sklearn_checks(estimator, check):
    check(estimator)


def _data(n=60, d=4, rate=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
    X[rng.random(X.shape) < rate] = np.nan
    return X


def test_all_nan_column_raises_naming_it():
    X = _data()
    X[:, 2] = np.nan
    with pytest.raises(ValueError, match=r"Feature\(s\) 2 .*keep_empty_features"):
        GaussianEMImputer().fit(X)
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["a", "b", "income", "d"])
    with pytest.raises(ValueError, match="income"):
        GaussianEMImputer().fit(df)


def test_keep_empty_features_documented_behaviour():
    X = _data()
    X[:, 2] = np.nan
    imp = GaussianEMImputer(keep_empty_features=True).fit(X)
    ref = GaussianEMImputer().fit(np.delete(X, 2, axis=1))
    keep = [0, 1, 3]
    Xt = imp.transform(X)
    assert np.all(Xt[:, 2] == 0.0)
    np.testing.assert_allclose(Xt[:, keep], ref.transform(X[:, keep]))
    assert imp.mean_[2] == 0 and np.all(imp.covariance_[2] == 0)
    np.testing.assert_allclose(imp.covariance_[np.ix_(keep, keep)], ref.covariance_)
    np.testing.assert_allclose(imp.score_samples(X), ref.score_samples(X[:, keep]))
    # an observed value at transform time is kept, and ignored by the score
    X2 = X.copy()
    X2[:, 2] = 5.0
    assert np.all(imp.transform(X2)[:, 2] == 5.0)
    np.testing.assert_allclose(imp.score_samples(X2), imp.score_samples(X))
    assert np.all(imp.sample(5)[:, 2] == 0.0)


def test_all_nan_rows_imputed_with_mean_and_ignored_by_likelihood():
    X = _data()
    X_more = np.vstack([X, np.full((7, X.shape[1]), np.nan)])
    a = GaussianEMImputer().fit(X)
    b = GaussianEMImputer().fit(X_more)
    np.testing.assert_allclose(b.mean_, a.mean_, rtol=1e-12)
    np.testing.assert_allclose(b.covariance_, a.covariance_, rtol=1e-12)
    np.testing.assert_allclose(b.loglik_history_, a.loglik_history_, rtol=1e-12)
    Xt = b.transform(X_more)
    np.testing.assert_allclose(Xt[-7:], np.tile(b.mean_, (7, 1)))
    assert np.all(b.score_samples(X_more)[-7:] == 0.0)


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_inf_raises(value):
    X = _data()
    X[3, 1] = value
    with pytest.raises(ValueError, match="infinity"):
        GaussianEMImputer().fit(X)
    imp = GaussianEMImputer().fit(_data())
    with pytest.raises(ValueError, match="infinity"):
        imp.transform(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fewer_samples_than_features_warns_and_stays_pd():
    X = _data(n=6, d=10, rate=0.2)
    with pytest.warns(UserWarning, match="reg_covar"):
        imp = GaussianEMImputer(reg_covar=1e-3, max_iter=300).fit(X)
    assert np.all(np.linalg.eigvalsh(imp.covariance_) > 0)
    Xt = imp.transform(X)
    assert np.all(np.isfinite(Xt)) and np.all(np.isfinite(imp.score_samples(X)))
    h = imp.loglik_history_
    assert np.all(np.diff(h) >= -1e-10 * np.abs(h[1:]))
    with pytest.raises(ValueError, match="reg_covar"):
        GaussianEMImputer(reg_covar=0).fit(X)


def test_transform_with_other_number_of_columns_raises():
    imp = GaussianEMImputer().fit(_data(d=4))
    with pytest.raises(ValueError, match="4 features"):
        imp.transform(_data(d=5))
    with pytest.raises(ValueError, match="4 features"):
        imp.score_samples(_data(d=3))


@pytest.mark.parametrize(
    "params", [{"max_iter": 0}, {"tol": -1.0}, {"reg_covar": -1e-3}, {"init": "random"}]
)
def test_invalid_parameters_raise(params):
    with pytest.raises(ValueError, match=next(iter(params))):
        GaussianEMImputer(**params).fit(_data())


def test_collinear_features_with_reg_covar_zero_raise_clear_error():
    X = _data(rate=0.0)
    X = np.hstack([X, X[:, :1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="reg_covar"):
            GaussianEMImputer(reg_covar=0).fit(X)
    imp = GaussianEMImputer().fit(X)  # default reg_covar copes
    assert np.all(np.isfinite(imp.precision_))


def test_sample_rejects_bad_n_samples():
    imp = GaussianEMImputer().fit(_data())
    with pytest.raises(ValueError, match="n_samples"):
        imp.sample(0)
