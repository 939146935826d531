import numpy as np
import pytest
import scipy.sparse as sp

from skngd.utils import check_magnitude, check_numeric_target


def test_numeric_target_rejects_strings_with_named_message():
    with pytest.raises(ValueError, match="y must be numeric.*could not convert"):
        check_numeric_target(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="target must be numeric"):
        check_numeric_target(np.array(["a", 1], dtype=object), name="target")


def test_numeric_target_converts_numbers():
    out = check_numeric_target(np.array(["1.5", "2"]))
    np.testing.assert_array_equal(out, [1.5, 2.0])
    assert check_numeric_target([True, False]).dtype == np.float64
    assert check_numeric_target(np.arange(3)).dtype == np.float64


def test_magnitude_rejects_overflowing_squares_dense_and_sparse():
    with pytest.raises(ValueError, match="X has entries as large as 1e\\+300.*Rescale X"):
        check_magnitude(np.array([[1e300]]))
    with pytest.raises(ValueError, match="Rescale X"):
        check_magnitude(sp.csr_matrix(np.array([[0.0, 1e200], [1.0, 0.0]])))
    assert check_magnitude(np.array([[1e100, -2.0]])) == 1e100
    assert check_magnitude(np.zeros((0, 3))) == 0.0
