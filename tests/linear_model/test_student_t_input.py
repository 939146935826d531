"""StudentTRegressor at the boundary: string and complex targets, entries so
large their squares overflow, tiny and huge scales of X, y and weights, zero
weights. Each is a clear ValueError or the fit that the equivariances of the
model define."""

import warnings

import numpy as np
import pytest

from skngd.linear_model import StudentTRegressor


def _data(n=60, p=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = X @ np.arange(1.0, p + 1) + 0.5 + rng.standard_t(3, size=n)
    y[:5] += 30.0
    return X, y


def _fit(X, y, sw=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value RuntimeWarning
        return StudentTRegressor(**kw).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("y", [np.array(["a", "b", "c"] * 20),
                               np.array(["a", 1.0, 2.0] * 20, dtype=object),
                               ["x"] + [1.0] * 59])
def test_string_target_is_a_clear_error(y):
    X, _ = _data()
    with pytest.raises(ValueError, match="StudentTRegressor: y must be numeric"):
        StudentTRegressor().fit(X, y)


def test_numeric_strings_and_objects_are_converted():
    X, y = _data()
    ref = StudentTRegressor().fit(X, y)
    for target in (y.astype(str), y.astype(object)):
        np.testing.assert_allclose(StudentTRegressor().fit(X, target).coef_, ref.coef_)


def test_complex_target_gets_scikit_learns_message():
    X, y = _data()
    with pytest.raises(ValueError, match="Complex data not supported"):
        StudentTRegressor().fit(X, y + 1j)


@pytest.mark.parametrize("where", ["X", "y"])
def test_overflowing_entries_are_rejected_at_the_boundary(where):
    X, y = _data()
    if where == "X":
        X = X.copy()
        X[3, 0] = 1e300
    else:
        y = y.copy()
        y[3] = 1e300
    with pytest.raises(ValueError, match=f"StudentTRegressor: {where} has entries as large"):
        StudentTRegressor().fit(X, y)


def test_overflow_check_applies_to_whole_columns_at_1e300():
    rng = np.random.default_rng(1)
    X = np.full((30, 1), 1e300) * rng.uniform(1, 2, size=(30, 1))
    with pytest.raises(ValueError, match="Rescale X"):
        StudentTRegressor().fit(X, rng.normal(size=30))


@pytest.mark.parametrize("c", [1e-300, 1e-150, 1e150])
def test_scale_of_y_is_equivariant(c):
    X, y = _data()
    ref = StudentTRegressor().fit(X, y)
    est = _fit(X, c * y)
    np.testing.assert_allclose(est.coef_ / c, ref.coef_, rtol=1e-7)
    np.testing.assert_allclose(est.intercept_ / c, ref.intercept_, rtol=1e-7)
    np.testing.assert_allclose(est.scale_ / c, ref.scale_, rtol=1e-7)
    np.testing.assert_allclose(est.weights_, ref.weights_, rtol=1e-7)
    assert est.nu_ == ref.nu_ and est.scale_ > 0
    # log-likelihood shifts by -n log c
    np.testing.assert_allclose(est.loglik_history_[-1] + len(y) * np.log(c),
                               ref.loglik_history_[-1], rtol=1e-9)


@pytest.mark.parametrize("c", [1e-300, 1e-150, 1e150])
def test_scale_of_x_is_equivariant_without_ridge(c):
    X, y = _data()
    ref = StudentTRegressor().fit(X, y)
    est = _fit(X * c, y)
    np.testing.assert_allclose(est.coef_ * c, ref.coef_, rtol=1e-7)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-7)
    np.testing.assert_allclose(est.scale_, ref.scale_, rtol=1e-7)
    np.testing.assert_allclose(est.predict(X * c), ref.predict(X), rtol=1e-7)


def test_tiny_x_with_ridge_is_dominated_by_the_penalty():
    X, y = _data()
    est = _fit(X * 1e-200, y, alpha=1.0)
    assert np.all(np.isfinite(est.coef_))
    np.testing.assert_allclose(est.predict(X * 1e-200), est.intercept_, rtol=1e-12)


@pytest.mark.parametrize("c", [1e-300, 1e300])
@pytest.mark.parametrize("alpha", [0.0, 2.0])
def test_scale_of_weights(c, alpha):
    """Weights times c: without a ridge nothing changes; with one, the fit is
    that of alpha / c with unit weights (the objective is sum w l - penalty)."""
    X, y = _data()
    sw = np.random.default_rng(2).uniform(0.5, 2.0, size=len(y))
    ref = StudentTRegressor(alpha=alpha / c).fit(X, y, sample_weight=sw)
    est = _fit(X, y, alpha=alpha, sw=c * sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(est.scale_, ref.scale_, rtol=1e-7)
    np.testing.assert_allclose(est.loglik_history_[-1] / c, ref.loglik_history_[-1],
                               rtol=1e-9)


def test_zero_weight_rows_are_ignored_even_if_extreme():
    X, y = _data()
    Xb = np.vstack([X, [[50.0, -50.0], [0.0, 0.0]]])
    yb = np.append(y, [1e6, -1e6])
    sw = np.append(np.ones(len(y)), [0.0, 0.0])
    ref = StudentTRegressor().fit(X, y)
    est = _fit(Xb, yb, sw=sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(est.scale_, ref.scale_, rtol=1e-7)
    assert est.nu_ == ref.nu_ and np.all(np.isfinite(est.weights_))


@pytest.mark.parametrize("sw_pos", [0, 1])
def test_fewer_than_two_positive_weights(sw_pos):
    X, y = _data(n=10)
    sw = np.zeros(10)
    sw[:sw_pos] = 1.0
    with pytest.raises(ValueError, match="[Ss]ample.weight|positive weight"):
        StudentTRegressor().fit(X, y, sample_weight=sw)


def test_constant_y_and_wide_data_at_the_default():
    X, _ = _data(n=12, p=3)
    est = _fit(X, np.full(12, -7.0))
    assert est.scale_ == 0.0 and est.converged_
    np.testing.assert_allclose(est.predict(X), -7.0, atol=1e-12)
    wide = _fit(X[:3], np.array([1.0, 2.0, 4.0]))  # 3 rows, 4 parameters
    np.testing.assert_allclose(wide.predict(X[:3]), [1.0, 2.0, 4.0], atol=1e-10)
    assert wide.scale_ == 0.0 and np.all(np.isfinite(wide.weights_))


def test_verbose_reports_the_callers_units(capsys):
    X, y = _data()
    est = StudentTRegressor(verbose=1).fit(X, 1e6 * y)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert f"scale {est.scale_:.6g}" in last
    assert f"loglik {est.loglik_history_[-1]: .10g}" in last


@pytest.mark.parametrize("nu", ["adaptive", 4.0])
def test_duplicated_column_is_a_defined_fit(nu):
    """Collinear columns: the L1 start must not wander along the null space
    (it reached +-5e15 and a non-monotone history when its solve ignored the
    rank deficiency); the fit equals the one without the copy."""
    X, y = _data(n=50, p=3)
    ref = StudentTRegressor(nu=nu).fit(X, y)
    est = _fit(np.column_stack([X, X[:, 0]]), y, nu=nu)
    assert est.converged_
    h = est.loglik_history_
    assert np.all(np.diff(h) >= -1e-10 * np.abs(h[1:]))
    np.testing.assert_allclose(est.coef_[0] + est.coef_[3], ref.coef_[0], rtol=1e-6)
    np.testing.assert_allclose(est.predict(np.column_stack([X, X[:, 0]])), ref.predict(X),
                               rtol=1e-6, atol=1e-8)
    assert np.abs(est.coef_).max() < 10 * np.abs(ref.coef_).max()
