"""Warnings attributed to the user's line, not to skngd or scikit-learn internals.

A fixed ``stacklevel`` is right for one call path only: the same solver
warning is reached from a public function (``skngd.ot.sinkhorn``), from an
estimator's ``fit`` behind scikit-learn's ``_fit_context`` and
``validate_params`` wrappers, or from a meta-estimator, each adding frames.
:func:`warn` counts the frames instead: the warning points at the first
frame outside the ``skngd`` and ``sklearn`` packages, the user's call.
"""

import sys
import warnings

# packages whose frames are internal: a warning never points into them
_INTERNAL = ("skngd", "sklearn")


def _is_internal(frame):
    name = frame.f_globals.get("__name__", "")
    return any(name == pkg or name.startswith(pkg + ".") for pkg in _INTERNAL)


def warn(message, category=UserWarning):
    """``warnings.warn(message, category)`` attributed to the user's line.

    Parameters
    ----------
    message : str
        The warning text: what happened and which parameter to change.
    category : type of Warning, default=UserWarning
        The warning class (``ConvergenceWarning``, ...).

    Examples
    --------
    >>> import warnings
    >>> from skngd.utils._warnings import warn
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("reg is tiny; increase reg", RuntimeWarning)
    >>> caught[0].category.__name__, str(caught[0].message)
    ('RuntimeWarning', 'reg is tiny; increase reg')
    """
    frame = sys._getframe(1)  # stacklevel=2: the caller of warn
    level = 2
    while frame is not None and _is_internal(frame):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level if frame is not None else 2)
