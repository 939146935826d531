"""Shared helpers: validation, thread control. The only place that touches
scikit-learn private API (see :mod:`skngd.utils._sklearn_compat`)."""

from skngd.utils._threads import (
    blas_threads,
    effective_n_threads,
    numba_threads,
    parallel_section,
)
from skngd.utils.validation import (
    check_finite_param,
    check_magnitude,
    check_numeric_target,
    check_sample_weight,
    resolve_from_registry,
)

__all__ = [
    "blas_threads",
    "parallel_section",
    "check_finite_param",
    "check_magnitude",
    "check_numeric_target",
    "check_sample_weight",
    "effective_n_threads",
    "numba_threads",
    "resolve_from_registry",
]
