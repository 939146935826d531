r"""Setting up and reporting a :class:`LogisticRegression` fit: sample weights
from ``class_weight``, the row-space reduction of wide data, size guards for
the solvers that form :math:`p \times p` matrices, and the warnings that say
why a solver stopped."""

from numbers import Real

import numpy as np
from scipy import sparse
from sklearn.utils.class_weight import compute_class_weight

from skngd._solvers._result import (
    SeparationWarning,
    StopReason,
    warn_not_converged,
    warn_step_failed,
)
from skngd.utils._warnings import warn
from skngd.utils.validation import check_sample_weight

#: 'newton' factorises a (p x p) Fisher matrix, 'mm' an (n_dof x n_dof) Gram
#: matrix; above this many coefficients the matrix alone takes >= 128 MB
MAX_DENSE_P = 4000
#: sparse wide X is densified for the row-space reduction up to this many cells
_MAX_DENSIFY = 1 << 22
#: per-sample log-loss below which a sample counts as perfectly fitted
_SEPARATED_LOSS = 1e-8
#: penalty strength 1/C at or below which a non-converged fit that classifies
#: every sample correctly is reported as separation
_WEAK_PENALTY = 1e-6


_PENALTY_DEPRECATION = (
    "'penalty' was deprecated in version 1.8 and will be removed in 1.10. To avoid "
    "this warning, leave 'penalty' set to its default value and use 'l1_ratio' or 'C' "
    "instead. Use l1_ratio=0 instead of penalty='l2', l1_ratio=1 instead of "
    "penalty='l1', l1_ratio set to a float between 0 and 1 instead of "
    "penalty='elasticnet', and C=np.inf instead of penalty=None.")
#: solvers that minimise an objective with an L1 part
L1_SOLVERS = ("auto", "prox-newton")


def resolve_penalty(penalty, C, l1_ratio, *, warn_user=False):
    """``(rho, C)`` of scikit-learn 1.9's ``penalty`` / ``l1_ratio`` / ``C``.

    ``penalty='deprecated'`` (the default): ``rho = l1_ratio`` (``None`` read
    as 0 with a ``FutureWarning``). An explicit ``penalty`` is a deprecated
    alias (``FutureWarning``): 'l2' is ``rho = 0``, 'l1' ``rho = 1``,
    'elasticnet' ``rho = l1_ratio`` (required), ``None`` ``C = inf``; the
    same consistency warnings as scikit-learn. ``warn_user=False`` only computes.
    """
    def say(msg, cat=UserWarning):
        if warn_user:
            warn(msg, cat)

    if penalty == "deprecated":
        if l1_ratio is None:
            say("'l1_ratio=None' was deprecated in version 1.8 and will trigger an error "
                "in 1.10. Use 0<=l1_ratio<=1 instead.", FutureWarning)
            return 0.0, C
        return float(l1_ratio), C
    say(_PENALTY_DEPRECATION, FutureWarning)
    if penalty is None:
        if C != 1.0:
            say("Setting penalty=None will ignore the C and l1_ratio parameters")
        return 0.0, np.inf
    if penalty == "elasticnet":
        if l1_ratio is None:
            raise ValueError("l1_ratio must be specified when penalty is elasticnet.")
        return float(l1_ratio), C
    if l1_ratio is not None and 0 < l1_ratio < 1:
        say(f"l1_ratio parameter is only used when penalty is 'elasticnet'. Got "
            f"(penalty={penalty})")
    elif (penalty == "l2" and l1_ratio != 0) or (penalty == "l1" and l1_ratio != 1):
        say(f"Inconsistent values: penalty={penalty} with l1_ratio={l1_ratio}. penalty "
            "is deprecated. Please use l1_ratio only.")
    return (1.0 if penalty == "l1" else 0.0), C


def check_l1_solver(solver, l1):
    """ValueError for an explicit solver that cannot minimise an L1 part."""
    if l1 > 0 and solver not in L1_SOLVERS:
        raise ValueError(
            f"solver={solver!r} does not support an L1 penalty (l1_ratio > 0 with a "
            "finite C): it needs a smooth objective. Use solver='auto' or "
            "solver='prox-newton', or set l1_ratio=0.")


def l1_pattern(loss):
    """Per-coefficient L1 weights of ``LogisticRegression``: 1 on the feature
    rows, 0 on the (unpenalised) intercept row; shape ``loss.shape``."""
    pat = np.ones(loss.shape)
    pat[loss.penalty_mask == 0] = 0.0
    return pat


def balanced_class_weights(y_enc, sw, n_classes):
    """``'balanced'`` class weights from the sample-weighted class counts,
    :math:`w_k = \\sum_i s_i / (K \\sum_{i: y_i = k} s_i)`, 0 for a class of
    zero total weight (scikit-learn >= 1.7's rule, on every version)."""
    counts = np.bincount(y_enc, weights=sw, minlength=n_classes)
    return np.divide(counts.sum(), n_classes * counts, out=np.zeros(n_classes),
                     where=counts > 0)


def sample_weights(class_weight, classes, y_enc, sample_weight, X):
    """Sample weights times class weights, validated.

    ``'balanced'`` uses the sample-weighted class counts, as scikit-learn:
    :math:`w_k = \\sum_i s_i / (K \\sum_{i: y_i = k} s_i)` (a class whose
    samples all have zero weight gets weight 0). A dict must map classes to
    finite non-negative numbers. Raises ``ValueError`` naming
    ``class_weight`` or ``sample_weight``.
    """
    sw = check_sample_weight(sample_weight, X)
    if class_weight is None:
        return sw
    K = len(classes)
    if isinstance(class_weight, str):  # 'balanced' (the only string allowed)
        cw = balanced_class_weights(y_enc, sw, K)
    else:
        values = list(class_weight.values())
        if not all(isinstance(v, Real) and not isinstance(v, bool) for v in values) or not (
                np.all(np.isfinite(values)) and np.all(np.asarray(values) >= 0)):
            raise ValueError(
                "class_weight must map classes to finite, non-negative numbers; "
                f"got {class_weight!r}.")
        cw = compute_class_weight(class_weight, classes=classes, y=classes[y_enc])
    sw = sw * cw[y_enc].astype(sw.dtype)
    if X.shape[0] > 0 and not np.any(sw > 0):
        raise ValueError(
            f"class_weight={class_weight!r} together with sample_weight gives every "
            "sample zero weight.")
    return sw


class RowSpace:
    r"""Fit wide data in the row space of ``X``.

    With fewer weighted rows than features, the loss depends on the feature
    coefficients :math:`w` only through :math:`Xw`, and the L2 penalty
    :math:`\tfrac{\lambda}2\|w\|^2` is minimised, for a given :math:`Xw`, by
    the :math:`w` in the row space of ``X``. With :math:`X_+ = U S V^T` (thin
    SVD of the rows of positive weight, ``r`` singular values kept) every
    optimum is :math:`w = V\omega`, where :math:`\omega` solves the same
    logistic problem on the ``n x r`` design :math:`Z = XV` with the same
    penalty (``V`` has orthonormal columns) and the same intercept. Without
    penalty the minimum-norm solution is the one in the row space. So 'newton'
    and 'mm' factorise ``r``-sized instead of ``d``-sized matrices.
    """

    def __init__(self, V, dtype):
        self.V = V
        self.dtype = dtype

    @classmethod
    def of(cls, X, sw):
        """The reduction of ``X`` (dense, or small enough sparse), or None when
        the weighted rows already span at least as many dimensions as there
        are features."""
        n_pos = int(np.count_nonzero(sw > 0))
        d = X.shape[1]
        if n_pos >= d or (sparse.issparse(X) and X.shape[0] * d > _MAX_DENSIFY):
            return None
        rows = X[sw > 0]
        rows = rows.toarray() if sparse.issparse(rows) else rows
        _, s, Vt = np.linalg.svd(np.asarray(rows, dtype=np.float64), full_matrices=False)
        keep = s > s.max(initial=0.0) * max(rows.shape) * np.finfo(np.float64).eps
        return cls(np.ascontiguousarray(Vt[keep].T), X.dtype)

    def transform(self, X):
        """:math:`Z = XV` (C-contiguous, ``X``'s dtype)."""
        Z = X @ self.V if sparse.issparse(X) else np.asarray(X, dtype=np.float64) @ self.V
        return np.ascontiguousarray(Z, dtype=self.dtype)

    def to_full(self, W, fit_intercept):
        """Coefficients of the reduced problem -> full solver layout."""
        r = self.V.shape[1]
        top = self.V @ W[:r]
        return np.vstack([top, W[r:]]) if fit_intercept else top

    def to_reduced(self, W, fit_intercept):
        """Full solver layout -> reduced (projection onto the row space)."""
        d = self.V.shape[0]
        top = self.V.T @ W[:d]
        return np.vstack([top, W[d:]]) if fit_intercept else top


def check_dense_size(solver, n_dof, n_out):
    """ValueError for 'newton' / 'mm' on problems whose dense matrix would not fit."""
    p = n_dof * n_out if solver == "newton" else n_dof
    if solver in ("newton", "mm") and p > MAX_DENSE_P:
        what = "Fisher" if solver == "newton" else "Gram"
        raise ValueError(
            f"solver={solver!r} forms and factorises a {p} x {p} {what} matrix for "
            f"this problem ({8 * p * p / 2**30:.1f} GiB, O(p^3) work); use "
            "solver='ngd' (matrix-free, the default for wide or sparse X) or "
            "solver='auto'.")


def fitted_losses(loss, coef):
    r"""Per-sample log-loss per unit weight, :math:`-\log p_{y_i}`, of the
    samples of positive weight (one pass over ``X``)."""
    lo, _, _ = loss.per_sample(loss.matmul(coef))
    pos = loss.sw > 0
    return lo[pos] / loss.sw[pos]


def report_stop(what, res, loss, *, C, tol, max_iter, advice=""):
    """Warn about how a fit ended, naming the cause and what to change:
    separation (perfect fit, whatever the stop; or, with ``C >= 1e6`` and no
    convergence, every sample classified correctly), a failed step search,
    or ``max_iter`` (then ``advice``). Nothing when it converged normally."""
    coef = res.coef
    done = res.status.converged
    data_loss = res.history[-1] - loss.penalty(coef)
    weak = loss.l2 <= _WEAK_PENALTY
    per = None
    if data_loss <= _SEPARATED_LOSS * float(np.sum(loss.sw)) or (weak and not done):
        per = fitted_losses(loss, coef)
    if per is not None and np.unique(loss.y[loss.sw > 0]).size < 2:
        warn(
            f"{what}: every sample of positive weight belongs to one class, so the "
            "unpenalised intercept grows without bound and every prediction is that "
            "class. Give samples of the other classes positive sample_weight.",
            SeparationWarning)
    elif per is not None and np.all(per < _SEPARATED_LOSS):
        _warn_separation(what, res, C, "every sample is fitted with probability above "
                         "1 - 1e-8. The optimum is then set by the penalty alone and")
    elif per is not None and not done and np.all(per < np.log(2.0)):
        _warn_separation(what, res, C, "every sample is classified correctly and the "
                         "objective keeps decreasing: without a penalty")
    elif res.status is StopReason.STEP_FAILED:
        warn_step_failed(what, res.n_iter, detail=(
            f"Estimated relative suboptimality {_relative(res):.1e} (tol**2 = {tol**2:.0e}). "
            "The search direction gives no decrease at working precision: standardise X "
            "(e.g. StandardScaler), remove nearly collinear features, or use a smaller C."))
    elif res.status is StopReason.MAX_ITER:
        detail = _max_iter_detail(res, tol)
        warn_not_converged(what, max_iter, detail=f"{detail} {advice}".strip())


def _warn_separation(what, res, C, evidence):
    stop = {StopReason.MAX_ITER: f"reached max_iter={res.n_iter}",
            StopReason.STEP_FAILED: f"stopped at iteration {res.n_iter} (step search failed)",
            StopReason.ROUNDING: f"stopped at iteration {res.n_iter} with the objective "
                                 f"at rounding level ({res.history[-1]:.2g})",
            StopReason.CONVERGED: f"converged in {res.n_iter} iterations"}[res.status]
    warn(
        f"{what}: the classes are linearly separable in the training data: {evidence} "
        f"the coefficients grow without bound as C increases (C={C:g}; largest "
        f"|coefficient| {np.abs(res.coef).max():.3g}; the solver {stop}). Use a smaller C "
        "(e.g. C=1.0) for a finite solution determined by the data.",
        SeparationWarning)


def _relative(res):
    return res.decrement / max(abs(res.history[-1]), 1e-12)


def _max_iter_detail(res, tol):
    """Where the solver stands and, from the recent rate, how far it is."""
    rel = _relative(res)
    msg = f"Estimated relative suboptimality {rel:.1e}, target tol**2 = {tol**2:.0e}."
    d = np.asarray([v for v in res.decrements if np.isfinite(v) and v > 0])
    k = min(20, len(d) - 1)
    if k >= 2 and d[-1] < d[-1 - k]:
        rate = (d[-1] / d[-1 - k]) ** (1.0 / k)
        more = int(np.ceil(np.log(max(tol, 1e-300) ** 2 / rel) / np.log(rate)))
        if more > 0:
            msg += f" At the recent rate about {more} more iterations are needed."
    return msg


__all__ = ["L1_SOLVERS", "MAX_DENSE_P", "RowSpace", "check_dense_size", "check_l1_solver",
           "fitted_losses", "l1_pattern", "report_stop", "resolve_penalty", "sample_weights"]
