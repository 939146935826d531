r"""The loss of a linear model as a function of its coefficients.

:class:`LinearModelLoss` binds a family (per-sample loss, gradient and Fisher
weights as functions of the linear predictor) to a design matrix ``X`` (dense
or CSR), targets ``y`` and sample weights ``s``, and gives what every solver
needs as functions of the coefficients :math:`W`:

.. math::

    f(W) = \sum_i s_i\, \ell(y_i, \eta_i) + \frac{\lambda}{2}\|W_{1:d}\|^2,
    \qquad \eta_i = W^T \tilde x_i, \quad \tilde x_i = (x_i, 1),

its gradient :math:`\tilde X^T G + \lambda P W`, Fisher-vector products
:math:`F V = \tilde X^T [\,H \circ (\tilde X V)\,] + \lambda P V` and the
Fisher matrix itself (``P`` masks the unpenalised intercept row).

Coefficient layout: a 2-D array of shape ``(n_dof, n_out)`` with
``n_dof = n_features + fit_intercept`` (intercept in the last row) and
``n_out = 1`` for binary/GLM families, ``K`` for the multinomial
(scikit-learn's symmetric parametrisation, one column per class). Flattened
vectors use C order, so entry ``(j, k)`` sits at ``j * n_out + k``.

``fisher='exact'`` uses the model's Fisher information (for canonical links the
Hessian); ``fisher='empirical'`` uses :math:`\sum_i s_i \nabla\ell_i\nabla\ell_i^T`,
which vanishes where the residuals do and is kept only for comparison.

The data access (products with :math:`\tilde X` and :math:`\tilde X^T`,
weighted Gram matrices, sample weights, intercept column, penalty mask) is the
base class :class:`~skngd._loss.design.LinearDesign`, shared with the GLM's
:class:`~skngd._loss.glm_loss.GLMProblem`. Every product with ``X`` or
``X^T`` increments :attr:`LinearModelLoss.n_passes`; rows used to form Gram
matrices are counted in :attr:`LinearModelLoss.gram_rows`.
"""

from dataclasses import dataclass

import numpy as np
from skngd._loss.design import LinearDesign
from skngd._loss.family import NUMBA_MIN_SIZE, Multinomial
from skngd._loss.glm_family import is_canonical, observed_weights


@dataclass
class PointState:
    """Everything known at one coefficient value (avoids repeated passes)."""

    coef: np.ndarray
    raw: np.ndarray  # (n, n_out) linear predictor
    loss: np.ndarray  # (n,) weighted per-sample losses
    grad_raw: np.ndarray  # (n, n_out) d loss / d eta (weighted)
    curv: np.ndarray  # binary: Fisher weights (n, 1); multinomial: proba (n, K)
    value: float
    grad: np.ndarray  # (n_dof, n_out)


class LinearModelLoss(LinearDesign):
    """Penalised weighted loss of a linear model, bound to its data.

    Parameters
    ----------
    family : Family
        :class:`~skngd._loss.family.Binomial`, :class:`Multinomial` or a GLM family.
    X : ndarray or CSR matrix of shape (n_samples, n_features), float32/float64
    y : ndarray of shape (n_samples,)
        Targets (class indices ``0..K-1`` for the multinomial).
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool
    l2_reg_strength : float >= 0
        :math:`\\lambda` (``1 / C``), not applied to the intercept.
    ridge : None, ndarray of shape (n_features,) or (n_features, n_features)
        Shape of the ridge (the penalty is :math:`\\tfrac{\\lambda}{2}\\sum_k
        W_{1:d,k}^T R\\, W_{1:d,k}`): None is the identity, a vector a diagonal
        ``R``, a matrix (dense or scipy sparse, symmetrised) a generalised ridge.
    link : Link or None
        Defaults to the family's canonical link.
    offset : ndarray of shape (n_samples,) or None
        Added to the linear predictor (binary / GLM families).
    kernels : bool
        Whether large products with ``X`` may run on the Numba kernels
        (:class:`~skngd._loss.design.LinearDesign`).
    """

    def __init__(self, family, X, y, sample_weight=None, *, fit_intercept=True,
                 l2_reg_strength=0.0, link=None, offset=None, kernels=True, ridge=None):
        super().__init__(X, sample_weight, offset=offset, fit_intercept=fit_intercept,
                         l2=l2_reg_strength, ridge=ridge, kernels=kernels)
        self.family = family
        self.link = family.default_link() if link is None else link
        self.multinomial = isinstance(family, Multinomial)
        self.n_out = family.n_classes if self.multinomial else 1
        self.y = (np.ascontiguousarray(y, dtype=np.int64) if self.multinomial
                  else np.ascontiguousarray(y, dtype=self.dtype))

    @property
    def uses_numba(self):
        """Whether any Numba kernel can run on this problem.

        Below the size thresholds every product and per-sample pass takes its
        NumPy path, so a small fit never imports Numba (keeps the first fit in
        a fresh process fast).
        """
        n = self.X.shape[0]
        if self.sparse:
            return self.X.nnz >= NUMBA_MIN_SIZE or n * self.n_out >= NUMBA_MIN_SIZE
        return self._dense_kernels or n * self.n_out >= NUMBA_MIN_SIZE

    # -- shapes -------------------------------------------------------------
    @property
    def shape(self):
        return (self.n_dof, self.n_out)

    def zeros(self):
        return np.zeros(self.shape)

    def gram(self, weights, rows=None):
        """:math:`\\tilde X_S^T \\mathrm{diag}(w_S) \\tilde X_S` (n_dof, n_dof) float64.

        ``rows`` optionally restricts to a row subset ``S``; the product is
        :meth:`~skngd._loss.design.LinearDesign.weighted_gram` (cache-sized
        blocks of :math:`\\sqrt{w}\\,\\tilde X` in float64 and a symmetric
        BLAS product for dense ``X``, a sparse product for CSR).
        """
        return self.weighted_gram(np.asarray(weights, dtype=np.float64), rows=rows)[0]

    def center_null_space(self, coef):
        """Multinomial: centre over classes the rows along which ``f`` is flat
        (the intercept; every row without penalty), as scikit-learn reports them.

        Applied to a search direction it removes the component along which
        ``f`` does not change (the Fisher matrix is singular there), so
        iterative solvers cannot drift along it. Returns a new array.
        """
        coef = np.array(coef, dtype=np.float64).reshape(self.shape)
        if not self.multinomial:
            return coef
        if self.ridge_kind == "scalar" or self.l2 <= 0:
            rows = (self.penalty_mask == 0) if self.l2 > 0 else slice(None)
            coef[rows] -= coef[rows].mean(axis=1, keepdims=True)
        elif self.ridge_kind == "diag":
            rows = self.ridge == 0
            coef[rows] -= coef[rows].mean(axis=1, keepdims=True)
        else:  # the class mean's component in the ridge matrix's null space
            Q = self._ridge_null_basis()
            coef -= Q @ (Q.T @ coef.mean(axis=1, keepdims=True))
        return coef

    def _ridge_null_basis(self):
        """Orthonormal basis (n_dof, m) of the null space of a ridge matrix."""
        if self._ridge_null is None:
            s, Q = np.linalg.eigh(self.ridge)
            cut = max(float(np.abs(s).max(initial=0.0)), 1e-300) * len(s) * np.finfo(float).eps
            self._ridge_null = Q[:, np.abs(s) <= cut]
        return self._ridge_null

    # -- penalty ----------------------------------------------------------------
    def penalty(self, coef):
        r""":math:`\tfrac{\lambda}{2}\sum_k W_k^T R\, W_k` (``R`` the mask, the
        diagonal ridge or the ridge matrix, zero on the intercept)."""
        c = np.asarray(coef).reshape(self.shape)
        if self.ridge_kind == "scalar":
            return 0.5 * self.l2 * float(np.sum(self.penalty_mask[:, None] * c * c))
        if self.ridge_kind == "diag":
            return 0.5 * self.l2 * float(np.sum(self.ridge[:, None] * c * c))
        return 0.5 * self.l2 * float(np.sum(c * (self.ridge @ c)))

    def penalty_matvec(self, V):
        """The penalty's Hessian times ``V`` (shape ``self.shape``)."""
        V = np.asarray(V).reshape(self.shape)
        if self.ridge_kind == "scalar":
            return self.l2 * self.penalty_mask[:, None] * V
        if self.ridge_kind == "diag":
            return self.l2 * self.ridge[:, None] * V
        return self.l2 * (self.ridge @ V)

    def penalty_hessian(self):
        """Hessian of the L2 penalty, (p, p) with ``p = n_dof * n_out`` in the
        C-order coefficient layout (what :meth:`fisher_matrix` and
        :meth:`hessian_matrix` add to the data term)."""
        if self.ridge_kind == "matrix":
            R = self.l2 * self.ridge
            return R.copy() if self.n_out == 1 else np.kron(R, np.eye(self.n_out))
        return np.diag(np.repeat(self.penalty_operator(), self.n_out))

    # -- per-sample layer ------------------------------------------------------
    def per_sample(self, raw):
        """(loss (n,), grad_raw (n, n_out), curv (n, n_out)) from the family."""
        if self.multinomial:
            return self.family.loss_gradient_fisher(self.y, raw, self.sw)
        lo, g, fi = self.family.loss_gradient_fisher(
            self.y, np.ascontiguousarray(raw[:, 0]), self.sw, self.link)
        return lo, g[:, None], fi[:, None]

    def state(self, coef, raw=None):
        """Loss, gradient and curvature at ``coef`` (two passes, one if ``raw`` is given)."""
        coef = np.asarray(coef, dtype=np.float64).reshape(self.shape)
        if raw is None:
            raw = self.raw_prediction(coef)
        loss, graw, curv = self.per_sample(raw)
        value = float(np.sum(loss, dtype=np.float64)) + self.penalty(coef)
        grad = self.rmatmul(graw) + self.penalty_matvec(coef)
        return PointState(coef, raw, loss, graw, curv, value, grad)

    def value_change(self, st, D, U, t=1.0):
        r"""Accurate :math:`f(W + tD) - f(W)` at state ``st`` given ``U = X D``
        (no pass over ``X``), and its rounding level.

        Returns ``(change, noise)``: the change summed from per-sample
        differences (see :meth:`Family.loss_change`) plus the exact penalty
        change :math:`\lambda \sum P(tWD + \tfrac12 t^2 D^2)`, and
        ``noise = eps * scale``, the rounding level of ``change`` (``eps`` of
        the data dtype). A change whose magnitude is below a few ``noise``
        cannot be told from zero.
        """
        tU = U * np.asarray(t, dtype=U.dtype)
        d, scale = self.loss_change(st, tU)
        a, b = self._penalty_change(st.coef, np.asarray(D).reshape(self.shape), t)
        eps = float(np.finfo(self.dtype).eps)
        return d + a + b, eps * (scale + abs(a) + b)

    def fused_step(self, st, D, t=1.0, out=None, fisher=True, stride=1):
        r"""The step to :math:`W + tD` in one sweep over ``X``, or None.

        Binary logit loss on dense float64 ``X`` of at least
        ``NUMBA_MIN_SIZE`` rows (else None: use :meth:`value_change`,
        :meth:`state` and :meth:`fisher_matrix`). Returns ``(change, noise,
        state, F)``: :meth:`value_change`'s pair, the :class:`PointState` at
        :math:`W + tD` and the exact Fisher matrix there (data term only, as
        :meth:`fisher_matrix` without the penalty). Each cache-sized row
        block is read from memory once: a BLAS product forms its
        :math:`X D`, NumPy's vectorised loops the exponentials and
        logarithms of the block (Numba's ``math`` functions are scalar, about
        8x slower), then (from cache)
        :func:`~skngd._kernels.logistic.binomial_step_block` forms the loss
        change, the new per-sample state and
        :math:`\sqrt{F}\,[\tilde X, g/\sqrt{F}]`, and one symmetric BLAS
        product per block sums the Fisher matrix and the gradient. The new
        state also keeps :math:`e^{-|\eta|}` (``z``) for the next step.
        ``out``: five float64 ``(n,)`` arrays to write the new state into
        (those of a state no longer needed), else new ones; the block
        buffers are kept on the loss, so a pass allocates no n-sized array.
        Without ``fisher`` ``F`` is None (no Gram product; the gradient is
        a BLAS product per block, in the sweep). ``stride > 1``: ``F`` is the
        Fisher matrix of every ``stride``-th row of each block, times
        ``stride`` (an unbiased estimate, its Gram product ``stride`` times
        cheaper). The new state's ``step_max`` is
        :math:`\max_i |t\,\tilde x_i^T D|`.
        """
        from skngd._loss import link as _link
        from skngd._loss.design import _TINY_WEIGHT, GramSum, gram_width

        X = self.X
        if (self.multinomial or self.sparse or X.dtype != np.float64
                or getattr(self.link, "code", None) != _link.LOGIT
                or X.shape[0] < NUMBA_MIN_SIZE or not X.flags.c_contiguous):
            return None
        from skngd._kernels.logistic import binomial_step_args, binomial_step_block

        n, p, k = X.shape[0], self.n_features, self.n_dof
        D = np.asarray(D, dtype=np.float64).reshape(self.shape)
        d = np.ascontiguousarray(D[:p, 0])
        d0 = float(D[p, 0]) if self.fit_intercept else 0.0
        t = float(t)
        raw = np.ascontiguousarray(st.raw[:, 0], dtype=np.float64)
        loss0 = np.ascontiguousarray(st.loss, dtype=np.float64)
        z0 = getattr(st, "z", None)  # exp(-|raw|), kept by the step that made st
        raw1, loss1, g1, h1, z1 = out if out is not None else (np.empty(n) for _ in range(5))
        width = gram_width(k + 1)  # the buffer's padding columns stay zero
        block, flat, work = self._step_buffers(n, k)
        G = GramSum(width)
        gsum = np.zeros(k)
        change = scale = vmax = 0.0
        tiny = 0
        stride = max(1, int(stride)) if fisher else 1
        for start in range(0, n, block):
            stop = min(n, start + block)
            m = stop - start
            mb = -(-m // stride)
            blk = flat[: mb * width].reshape(mb, width)
            v, em, A, B, l1, zo = (w[:m] for w in work)
            np.dot(X[start:stop], d, out=v)  # BLAS, the block stays in cache
            if d0:
                v += d0
            if t != 1.0:
                v *= t
            # the transcendentals by NumPy's vectorised loops, block-wise
            e1 = np.add(raw[start:stop], v, out=raw1[start:stop])
            z = np.negative(np.abs(e1, out=z1[start:stop]), out=z1[start:stop])
            np.exp(z, out=z)
            np.log1p(z, out=l1)
            np.expm1(np.clip(v, -1.0, 1.0, out=em), out=em)
            if z0 is None:
                np.exp(np.negative(np.abs(raw[start:stop], out=zo), out=zo), out=zo)
            else:
                zo = z0[start:stop]
            binomial_step_args(raw, zo, v, em, self.y, start, stop, A, B)
            np.log1p(A, out=A)
            np.log1p(B, out=B)
            c, sc, nt, vm = binomial_step_block(
                X, v, A, B, l1, loss0, self.y, self.sw, start, stop, int(self.fit_intercept),
                raw1, loss1, g1, h1, z1, blk, _TINY_WEIGHT, bool(fisher), stride)
            change, scale, tiny, vmax = change + c, scale + sc, tiny + nt, max(vmax, vm)
            if fisher:
                G.add(blk)
            if not fisher or stride > 1:  # the gradient from the block in cache
                gsum[:p] += g1[start:stop] @ X[start:stop]
                if self.fit_intercept:
                    gsum[p] += g1[start:stop].sum()
        G = G.result(k + 1) if fisher else None
        grad = G[:k, k].copy() if fisher and stride == 1 else gsum
        if tiny and fisher and stride == 1:  # such rows still carry their gradient
            self._add_tiny_rows(grad, g1, h1, _TINY_WEIGHT)
        self.n_passes += 1
        self.gram_rows += n
        a, b = self._penalty_change(st.coef, D, t)
        eps = float(np.finfo(self.dtype).eps)
        coef1 = st.coef + t * D
        new = PointState(coef1, raw1[:, None], loss1, g1[:, None], h1[:, None],
                         float(np.sum(loss1)) + self.penalty(coef1),
                         grad[:, None] + self.penalty_matvec(coef1))
        new.arrays = (raw1, loss1, g1, h1, z1)  # the arrays a later step may write into
        new.z = z1
        new.step_max = vmax
        return (change + a + b, eps * (scale + abs(a) + b), new,
                np.ascontiguousarray(G[:k, :k]) if fisher else None)

    def _step_buffers(self, n, k):
        """``(rows per block, flat Gram buffer, (6, block) work array)`` of
        :meth:`fused_step`, kept on the loss (no allocation per pass)."""
        from skngd._loss.design import gram_buffer

        block, buf = self.__dict__.get("_step_buffer") or gram_buffer(n, k, np.float64)
        self._step_buffer = (block, buf)
        work = self.__dict__.get("_step_work")
        if work is None or work.shape[1] < block:
            work = self._step_work = np.empty((6, block))
        return block, buf.reshape(-1), work

    def _add_tiny_rows(self, grad, g, h, tiny):
        """Add to ``grad`` the gradient of the rows whose Fisher weight is at
        most ``tiny`` (left out of the Gram product's gradient column)."""
        from skngd._loss.design import add_rows_score

        add_rows_score(grad, self.X, g, np.flatnonzero((h <= tiny) & (g != 0)),
                       self.fit_intercept)

    def _penalty_change(self, coef, D, t):
        """``(a, b)``: the penalty's change from ``coef`` to ``coef + tD`` is ``a + b``."""
        a = b = 0.0
        if self.l2 > 0 and self.ridge_kind == "scalar":
            mD = (self.penalty_mask[:, None] * D).ravel()
            a = self.l2 * t * float(np.asarray(coef).ravel() @ mD)
            b = 0.5 * self.l2 * t * t * float(D.ravel() @ mD)
        elif self.l2 > 0:  # the ridge's Lambda D: exact for a diagonal or a matrix ridge
            LD = self.penalty_matvec(D).ravel()
            a = t * float(np.asarray(coef).ravel() @ LD)
            b = 0.5 * t * t * float(D.ravel() @ LD)
        return a, b

    def loss_change(self, st, tU):
        """``(change, scale)`` of the data term from ``st.raw`` to
        ``st.raw + tU`` (:meth:`Family.loss_change`)."""
        if self.multinomial:
            return self.family.loss_change(self.y, st.raw, tU, self.sw, proba=st.curv)
        return self.family.loss_change(self.y, np.ascontiguousarray(st.raw[:, 0]),
                                       np.ascontiguousarray(tU[:, 0]), self.sw, self.link)

    # -- functions of the coefficients -------------------------------------------
    def raw_prediction(self, coef):
        """:math:`\\tilde X W` (+ offset), (n, n_out); no pass at ``W = 0``."""
        if np.any(coef):
            raw = self.matmul(coef)
        else:  # the usual start
            raw = np.zeros((self.X.shape[0], self.n_out), dtype=self.dtype)
        if self.offset is not None:
            raw += np.asarray(self.offset, dtype=self.dtype)[:, None]
        return raw

    def value(self, coef):
        raw = self.raw_prediction(coef)
        loss, _, _ = self.per_sample(raw)
        return float(np.sum(loss, dtype=np.float64)) + self.penalty(coef)

    def loss_gradient(self, coef):
        """Objective value and gradient (n_dof, n_out)."""
        st = self.state(coef)
        return st.value, st.grad

    def fisher_weights(self, st, kind="exact"):
        """Binary only: per-sample weights ``H`` with ``F = X^T diag(H) X``."""
        if kind == "exact":
            return st.curv[:, 0]
        g = st.grad_raw[:, 0]
        return np.divide(g * g, self.sw, out=np.zeros_like(g), where=self.sw > 0)

    def raw_fisher(self, st, U, kind="exact"):
        """Apply the per-sample Fisher blocks to ``U = X V`` (n, n_out)."""
        if not self.multinomial:
            return self.fisher_weights(st, kind)[:, None] * U
        if kind == "exact":
            PU = st.curv * U
            return self.sw[:, None] * (PU - st.curv * PU.sum(axis=1, keepdims=True))
        G = st.grad_raw
        inv = np.divide(1.0, self.sw, out=np.zeros_like(self.sw), where=self.sw > 0)
        return G * ((G * U).sum(axis=1) * inv)[:, None]

    def hessian_weights(self, st):
        """Binary / GLM families: per-sample weights of the observed Hessian,
        :math:`H = \\tilde X^T \\mathrm{diag}(h) \\tilde X` (+ penalty);
        the Fisher weights for a canonical link
        (:func:`~skngd._loss.glm_family.observed_weights`)."""
        if is_canonical(self.family, self.link):
            return st.curv[:, 0]
        eta = st.raw[:, 0]
        with np.errstate(all="ignore"):
            mu = self.link.inverse(eta)
        return observed_weights(self.family, self.link, eta, mu, st.curv[:, 0],
                                -st.grad_raw[:, 0])

    def hessian_matvec(self, st, V, U=None):
        """Observed-Hessian product :math:`H V` (+ penalty) at ``st``; for the
        multinomial (softmax, canonical) the Fisher product."""
        if self.multinomial:
            return self.fisher_matvec(st, V, U=U)
        V = np.asarray(V, dtype=np.float64).reshape(self.shape)
        if U is None:
            U = self.matmul(V)
        return self.rmatmul(self.hessian_weights(st)[:, None] * U) + self.penalty_matvec(V)

    def fisher_matvec(self, st, V, kind="exact", U=None):
        """:math:`F V` (+ penalty) at state ``st``; two passes (one if ``U = X V`` given)."""
        V = np.asarray(V, dtype=np.float64).reshape(self.shape)
        if U is None:
            U = self.matmul(V)
        return self.rmatmul(self.raw_fisher(st, U, kind)) + self.penalty_matvec(V)

    def fisher_matrix(self, st, kind="exact", rows=None, scale=1.0):
        """Dense Fisher matrix (p, p), ``p = n_dof * n_out``, C-order layout.

        ``rows`` restricts the data term to a subset (scaled by ``scale``), the
        penalty is always added in full.
        """
        pen = self.penalty_hessian()
        if not self.multinomial:
            w = self.fisher_weights(st, kind)
            w = w if rows is None else w[rows]
            return scale * self.gram(w, rows) + pen
        # exact: F = sum_i s_i (diag(p_i) - p_i p_i^T) (x) x~_i x~_i^T;
        # empirical: sum_i (g_i g_i^T / s_i) (x) x~_i x~_i^T
        sel = slice(None) if rows is None else rows
        sw = self.sw[sel].astype(np.float64)
        if kind == "exact":
            P = st.curv[sel].astype(np.float64)
            F = self.kron_gram(np.sqrt(sw)[:, None] * P, sw[:, None] * P, sign=-1.0, rows=rows)
        else:
            G = st.grad_raw[sel].astype(np.float64)
            inv = np.divide(1.0, np.sqrt(sw), out=np.zeros_like(sw), where=sw > 0)
            F = self.kron_gram(G * inv[:, None], rows=rows)
        return scale * F + pen

    def hessian_matrix(self, st):
        """Dense observed Hessian (p, p) at ``st`` (+ penalty): the Gram
        matrix of :meth:`hessian_weights` for binary / GLM families (the
        Fisher matrix for a canonical link), the Fisher matrix for the
        multinomial."""
        if self.multinomial:
            return self.fisher_matrix(st)
        return self.gram(self.hessian_weights(st)) + self.penalty_hessian()


__all__ = ["LinearModelLoss", "PointState"]
