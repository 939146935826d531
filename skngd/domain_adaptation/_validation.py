"""The one place where domain labels are validated and inferred.

Encoding (interoperable with skada): ``sample_domain >= 0`` marks source
rows, ``< 0`` target rows. When ``sample_domain`` is None at fit, target rows
are the rows with a masked label (``-1`` for classification labels, NaN for
regression targets). Arrays passed in are never modified.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.utils.multiclass import type_of_target

from skngd.utils._warnings import warn


@dataclass
class Domains:
    """Boolean masks of source and target rows.

    ``identity`` is True when no domain information was given (no
    ``sample_domain`` and no masked label): the adapters then learn the
    identity map and every row is treated as a labelled source row.
    """

    source: np.ndarray
    target: np.ndarray
    identity: bool = False

    def as_sample_domain(self):
        """An explicit int array: 1 for source rows, -1 for target rows."""
        return np.where(self.target, -1, 1).astype(np.int64)


def check_sample_domain(sample_domain, n_samples):
    """Validate an explicit ``sample_domain`` and return an int64 copy."""
    sd = np.asarray(sample_domain)
    if sd.ndim != 1 or sd.shape[0] != n_samples:
        raise ValueError(
            f"sample_domain must be a 1-D array with one entry per row of X "
            f"({n_samples}), got shape {sd.shape}."
        )
    if sd.dtype.kind not in "iuf" or (
        sd.dtype.kind == "f"
        and not (np.all(np.isfinite(sd)) and np.all(sd == np.round(sd)))
    ):
        raise ValueError(
            "sample_domain must hold integers (>= 0 for source rows, < 0 for "
            f"target rows), got dtype {sd.dtype}."
        )
    return sd.astype(np.int64)


def target_mask_from_labels(y, task=None):
    """Rows whose label is masked: NaN, or -1 for classification labels.

    ``task`` is 'classification', 'regression' or None (guess: -1 counts as a
    mask when the labels are integers or integer-valued floats).
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.dtype.kind == "f":
        nan = np.isnan(y)
        if task == "regression":
            return nan if y.ndim == 1 else nan.all(axis=1)
        finite = y[~nan]
        integral = finite.size > 0 and bool(np.all(finite == np.round(finite)))
        is_class = task == "classification" or integral
        mask = nan | ((y == -1) if is_class else False)
    elif y.dtype.kind in "iu":
        mask = (y == -1) if task != "regression" else np.zeros(y.shape, bool)
    elif y.dtype.kind == "O":
        mask = np.array(
            [
                (isinstance(v, (int, float, np.integer, np.floating)) and (v == -1 or v != v))
                for v in y.ravel()
            ],
            dtype=bool,
        ).reshape(y.shape)
    else:  # strings, booleans: nothing can be masked
        mask = np.zeros(y.shape, dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    return mask if mask.ndim == 1 else mask.all(axis=1)


def task_of(y):
    """'regression' for continuous targets, else 'classification'."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        y = y[~np.isnan(y).reshape(len(y), -1).any(axis=1)]
    if y.size == 0:
        return None
    return "regression" if type_of_target(y).startswith("continuous") else "classification"


def domains_for_fit(y, sample_domain, n_samples, task=None):
    """Source/target masks at fit time (the central rule of the package).

    * ``sample_domain`` given: validated; it must contain source (>= 0) and
      target (< 0) rows, otherwise ``ValueError``.
    * ``sample_domain`` None and masked labels in ``y``: masked rows are the
      target; if every label is masked there is no source: ``ValueError``.
    * no ``sample_domain`` and nothing masked (or ``y`` None): no domain
      information, ``identity=True`` and every row is a source row.
    * the one ambiguous labelling, exactly ``{-1, +1}`` with no NaN and no
      ``sample_domain``, is the usual binary encoding: it is read as two
      classes (no domain information) and a ``UserWarning`` says how to mark
      target rows instead. Any other label set reads -1 as the mask, so a
      source with a single class is reported by the caller, never learnt
      from the mask (see :func:`check_source_classes`).
    """
    if sample_domain is not None:
        sd = check_sample_domain(sample_domain, n_samples)
        target = sd < 0
        if not target.any():
            raise ValueError(
                "sample_domain has no target rows (values < 0): there is "
                "nothing to adapt to."
            )
        if target.all():
            raise ValueError(
                "sample_domain has no source rows (values >= 0): there is "
                "nothing to adapt from."
            )
        return Domains(~target, target)
    if y is None:
        return Domains(np.ones(n_samples, bool), np.zeros(n_samples, bool), True)
    target = target_mask_from_labels(y, task)
    if target.shape[0] != n_samples:
        raise ValueError(f"y has {target.shape[0]} rows but X has {n_samples}.")
    if target.all():
        raise ValueError(
            "No source rows: every label in y is masked (-1 or NaN) and no "
            "sample_domain was given."
        )
    if not target.any():
        return Domains(np.ones(n_samples, bool), np.zeros(n_samples, bool), True)
    if _plus_minus_one(y, target, task):
        warn(
            "y holds exactly the labels -1 and +1 and no sample_domain was "
            "given: they are read as two classes, so no domain adaptation "
            "takes place. If -1 marks the target rows, pass sample_domain "
            "(>= 0 source, < 0 target) to say so.",
            UserWarning,
        )
        return Domains(np.ones(n_samples, bool), np.zeros(n_samples, bool), True)
    return Domains(~target, target)


def _plus_minus_one(y, target, task):
    """True for the {-1, +1} binary labelling (no NaN)."""
    if task == "regression":
        return False
    y = np.asarray(y)
    if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
        return False
    y = y.ravel()
    if y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and np.isnan(y).any()):
        return False
    rest = np.unique(y[~target])
    return rest.shape[0] == 1 and rest[0] == 1


def check_source_classes(y_source, who):
    """A classifier needs two source classes; the mask is never one of them."""
    classes = np.unique(y_source)
    if classes.shape[0] < 2:
        raise ValueError(
            f"{who}: every labelled source row has the single class "
            f"{classes[0].item() if hasattr(classes[0], 'item') else classes[0]!r}, "
            "so no classifier can be trained (target rows are masked and "
            "their labels are never read). Provide source rows of at least "
            "two classes."
        )


def source_mask_for_transform(sample_domain, n_samples):
    """Rows to map at transform time; ``None`` means all rows are target."""
    if sample_domain is None:
        return np.zeros(n_samples, dtype=bool)
    return check_sample_domain(sample_domain, n_samples) >= 0
