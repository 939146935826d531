r"""Data access of a linear model: the one place for weighted Gram products.

Every second-order solver forms :math:`\tilde X^T \mathrm{diag}(w) \tilde X`
with :math:`\tilde X = [X, 1]` (the ones column only with an intercept): the
GLM's Fisher matrix and its score :math:`\tilde X^T v` (fused in one sweep),
the logistic Fisher / Böhning / NGD block matrices
(:meth:`skngd._loss.linear_loss.LinearModelLoss.gram`) and the Student-t
normal equations (:func:`skngd._solvers.em_t.weighted_gram_solver`). They all
call :func:`weighted_gram` here, so a new storage of ``X`` (row blocks,
chunks) needs one new branch. The multinomial Fisher matrix adds its
class-coupling term, a Kronecker-structured Gram :func:`kron_gram`, from the
same module.
"""

import numpy as np
import scipy.sparse as sp

from skngd._kernels.glm_ref import csr_weighted_gram_ref

_TINY_WEIGHT = 1e-280  # below, v / sqrt(w) could overflow: such rows are added apart
_BLOCK_BYTES = 1 << 21  # ~2 MB row blocks: stay in cache


def n_chunks(n):
    """Row chunks of the Numba kernels: four per thread, at least 1000 rows each."""
    import numba

    return int(max(1, min(numba.get_num_threads() * 4, n // 1000)))


def gram_width(cols):
    """The width a Gram buffer of ``cols`` used columns gets: rounded up to
    4, the rest zero (OpenBLAS's ``syrk`` takes 15 % longer on 31 columns
    than on 32)."""
    return -(-cols // 4) * 4


class GramSum:
    r"""A sum of :math:`\pm B^T B` over row blocks ``B`` (C order): BLAS
    ``dsyrk`` on float64 blocks, accumulated in place into the upper
    triangle (NumPy's ``B.T @ B`` also calls ``syrk``, then mirrors the
    triangle into a new array per block: about 25 % slower on 52 columns);
    other blocks by NumPy. :meth:`result` is the symmetric float64 sum."""

    def __init__(self, width):
        self.G = np.zeros((width, width), order="F")

    def add(self, B, alpha=1.0):
        if not B.size:
            return
        if B.dtype == np.float64 and B.flags.c_contiguous:
            from scipy.linalg.blas import dsyrk

            self.G = dsyrk(alpha, B.T, beta=1.0, c=self.G, trans=0, lower=0, overwrite_c=1)
        else:
            self.G += np.triu(alpha * (B.T @ B))

    def result(self, k=None):
        """The symmetric sum (its leading ``k`` x ``k`` block), a new C-order array."""
        G = self.G if k is None else self.G[:k, :k]
        return np.ascontiguousarray(np.triu(G) + np.triu(G, 1).T)


def gram_buffer(n, k, dtype):
    """``(rows per block, buffer)`` for :func:`weighted_gram` on dense ``X``
    with ``k`` coefficients: a cache-sized zeroed (block, gram_width(k + 1))
    array."""
    dt, width = np.dtype(dtype), gram_width(k + 1)
    block = int(max(64, min(n, _BLOCK_BYTES // (dt.itemsize * width))))
    return block, np.zeros((block, width), dtype=dt)


def weighted_gram(X, w, v=None, *, fit_intercept, use_numba=False, buffer=None, cols=None):
    r"""Return ``(X~^T diag(w) X~, X~^T v)`` with ``X~ = [X, 1]`` (ones column
    only if ``fit_intercept``), in float64; the second is None without ``v``.
    The weights may have any sign; ``w=None`` means unit weights (dense
    float64 ``X``: symmetric products of the row blocks of ``X`` itself, no
    scaled copy).

    CSR ``X``: one Numba pass over the rows (``use_numba``; cost: sum of
    squared non-zeros per row, chunked over threads) or its scipy twin.
    Dense ``X``: row blocks of :math:`\sqrt{|w|}\,[X, 1, v/\sqrt{w}]` are
    written into one cache-sized buffer (``buffer = (block, array)`` from
    :func:`gram_buffer`, reused across calls; its dtype is the products'
    precision) and ``B^T B`` (NumPy's ``syrk``, so no second thread pool
    competes) accumulates the Gram matrix and ``X~^T v`` together; rows with
    negative weights are subtracted (then ``X~^T v`` is a separate product),
    and rows with zero weight but non-zero ``v`` are added apart.

    ``cols`` (sorted feature indices) restricts :math:`\tilde X` to those
    columns of ``X`` (and the ones column): dense row blocks gather them into
    the cache-sized buffer, so no copy of the selected columns is made.
    """
    if cols is not None and sp.issparse(X):
        X, cols = X[:, np.asarray(cols, dtype=np.intp)], None
    sel = None if cols is None else np.asarray(cols, dtype=np.intp)
    p = X.shape[1] if sel is None else sel.size
    k = p + int(fit_intercept)
    if w is None:
        if (v is None and sel is None and not sp.issparse(X) and X.dtype == np.float64
                and X.flags.c_contiguous):
            return unit_gram(X, fit_intercept)[0], None
        w = np.ones(X.shape[0])
    if sp.issparse(X):
        return _csr_gram(X, w, v, k, fit_intercept, use_numba)
    if buffer is None:
        buffer = gram_buffer(X.shape[0], k, np.result_type(X.dtype, w.dtype))
    signed = bool(w.size and w.min() < 0)  # NaN weights count as non-negative
    fused = v is not None and not signed  # X~^T v as the last column of the syrk
    used = k + 1 if fused else k
    width = gram_width(used)  # the buffer's columns past `used` are zeroed per block
    G = GramSum(width)
    rhs = None if v is None or fused else np.zeros(k, dtype=np.float64)
    apart = []  # zero-weight rows that still carry their score
    block, buf = buffer
    flat = buf.reshape(-1)
    for start in range(0, X.shape[0], block):
        # the weights' square roots per block: block-sized temporaries stay in
        # malloc's heap (n-sized ones are fresh pages on every call under the
        # MALLOC_TRIM_THRESHOLD_ that Dask's workers set)
        stop = min(X.shape[0], start + block)
        blk = flat[: (stop - start) * width].reshape(stop - start, width)  # contiguous
        blk[:, used:] = 0.0
        Xb = X[start:stop] if sel is None else np.take(X[start:stop], sel, axis=1)
        wb = w[start:stop]
        swb = np.sqrt(np.abs(wb)) if signed else np.sqrt(wb)
        np.multiply(Xb, swb[:, None], out=blk[:, :p])
        if fit_intercept:
            blk[:, p] = swb
        if fused:
            vb = v[start:stop]
            tiny = wb <= _TINY_WEIGHT
            with np.errstate(all="ignore"):
                blk[:, k] = np.where(tiny, 0.0, vb / swb)
            if tiny.any():
                apart.append(start + np.flatnonzero(tiny & (vb != 0)))
        nb = wb < 0 if signed else None
        if nb is not None and nb.any():
            G.add(blk[~nb])
            G.add(blk[nb], -1.0)
        else:
            G.add(blk)
        if rhs is not None:
            vb = v[start:stop]
            rhs[:p] += Xb.T @ vb
            if fit_intercept:
                rhs[p] += vb.sum()
    G = G.result(k + 1 if fused else k)
    if not fused:
        return G, rhs
    rhs = G[:k, k].copy()
    if apart:  # zero-weight rows still carry their score
        add_rows_score(rhs, X, v, np.concatenate(apart), fit_intercept, sel)
    return np.ascontiguousarray(G[:k, :k]), rhs


def add_rows_score(rhs, X, v, rows, fit_intercept, sel=None):
    r"""Add :math:`\tilde X_R^T v_R` over the rows ``R = rows`` (those a Gram
    product's score column left out: zero or vanishing weight) to ``rhs``;
    ``sel`` restricts ``X`` to those columns."""
    if not rows.size:
        return
    p = X.shape[1] if sel is None else sel.size
    Xr = X[rows] if sel is None else X[rows][:, sel]
    rhs[:p] += Xr.T @ v[rows]
    if fit_intercept:
        rhs[p] += v[rows].sum()


def unit_gram(X, fit_intercept, W=None, block_bytes=_BLOCK_BYTES, stride=1):
    r"""``(X~^T X~, W X~)`` of dense float64 C-order ``X``: a symmetric BLAS
    product per cache-sized row block of ``X`` itself (``weighted_gram``
    with unit weights). ``W`` (``(K, n)``, or None: then the second is None)
    is multiplied by the same blocks while they are in cache, and so are
    the column sums of the intercept: one read of ``X`` in all. ``stride >
    1``: the first is that of every ``stride``-th row of each block, times
    ``stride`` (an estimate; ``W X~`` stays exact)."""
    n, p = X.shape
    k = p + int(fit_intercept)
    S = GramSum(p)
    G = np.zeros((k, k))
    WX = None if W is None else np.zeros((W.shape[0], k))
    block = int(max(64, block_bytes // (8 * max(p, 1))))
    rows = 0
    for start in range(0, n, block):
        Xb = X[start:start + block]
        Xs = Xb if stride == 1 else np.ascontiguousarray(Xb[::stride])
        S.add(Xs)
        rows += Xs.shape[0]
        if fit_intercept:
            G[:p, p] += Xs.sum(axis=0)
        if W is not None:  # every class in one product
            WX[:, :p] += W[:, start:start + block] @ Xb
    G[:p, :p] = S.result()
    if fit_intercept:
        G[p, :p] = G[:p, p]
        G[p, p] = rows
        if W is not None:
            WX[:, p] = W.sum(axis=1)
    if stride != 1:
        G *= stride
    return G, WX


def _csr_gram(X, w, v, k, fit_intercept, use_numba):
    vv = np.zeros_like(w) if v is None else v
    if use_numba:
        from skngd._kernels.glm import csr_weighted_gram

        out = np.empty((n_chunks(X.shape[0]), k, k + 1))
        csr_weighted_gram(X.data, X.indices, X.indptr, w, vv, int(fit_intercept), out)
        A = out.sum(axis=0)
    else:
        A = csr_weighted_gram_ref(X, w, vv, int(fit_intercept))
    return A[:, :k].copy(), (None if v is None else A[:, k].copy())


def kron_gram(X, V, D=None, *, sign=1.0, fit_intercept, block_bytes=8 * _BLOCK_BYTES):
    r"""Return :math:`\sum_i (\mathrm{diag}(d_i) + \sigma\, v_i v_i^T)
    \otimes (\tilde x_i \tilde x_i^T)` in float64 (``D`` zero when None,
    :math:`\sigma` = ``sign``), shape ``(k K, k K)`` with ``k`` columns of
    :math:`\tilde X` and ``K = V.shape[1]``; entry ``(j K + a, l K + b)`` is
    :math:`\sum_i \tilde x_{ij} \tilde x_{il} (d_{ia}\delta_{ab} + \sigma v_{ia} v_{ib})`
    (the C-order coefficient layout).

    The multinomial Fisher matrix
    (:meth:`skngd._loss.linear_loss.LinearModelLoss.fisher_matrix`;
    ``D = s P``, ``V = sqrt(s) P``, ``sign = -1``) and its empirical variant.
    Over row blocks of :math:`\tilde X` (CSR blocks densified one at a time):
    one ``Z_b^T Z_b`` product per block with ``Z = [\tilde x_{ij} v_{ia}]``
    (``n x kK``, never formed whole) and, with ``D``, ``K`` weighted block
    products for the class-diagonal blocks.
    """
    n, p = X.shape
    k, K = p + int(fit_intercept), V.shape[1]
    block = int(max(16, min(n, block_bytes // (8 * k * K))))
    G = np.zeros((k * K, k * K))
    G4 = G.reshape(k, K, k, K)
    Xt = np.empty((block, k))
    for start in range(0, n, block):
        stop = min(n, start + block)
        Xb, Xt_b = X[start:stop], Xt[: stop - start]
        Xt_b[:, :p] = Xb.toarray() if sp.issparse(Xb) else Xb
        if fit_intercept:
            Xt_b[:, p] = 1.0
        Z = (Xt_b[:, :, None] * V[start:stop, None, :]).reshape(stop - start, k * K)
        G += sign * (Z.T @ Z)
        for a in range(K if D is not None else 0):
            G4[:, a, :, a] += (Xt_b * D[start:stop, a, None]).T @ Xt_b
    return G


def _ridge_rows(ridge, n_features, n_dof):
    """``(rows, kind)``: the ridge over the coefficient rows (intercept row
    zero): None for the scalar ridge, a (n_dof,) diagonal or a dense
    (n_dof, n_dof) symmetric matrix."""
    if ridge is None:
        return None, "scalar"
    if sp.issparse(ridge):
        ridge = ridge.toarray()
    R = np.asarray(ridge, dtype=np.float64)
    if R.ndim == 1 and R.shape == (n_features,):
        out = np.zeros(n_dof)
        out[:n_features] = R
        return out, "diag"
    if R.shape != (n_features, n_features):
        raise ValueError(f"ridge must have shape ({n_features},) or ({n_features}, "
                         f"{n_features}), got {R.shape}.")
    out = np.zeros((n_dof, n_dof))
    out[:n_features, :n_features] = 0.5 * (R + R.T)
    return out, "matrix"


__all__ = ["gram_buffer", "gram_width", "kron_gram", "n_chunks", "weighted_gram"]


class LinearDesign:
    r"""The data of one linear-model fit and every pass over it.

    Holds :math:`\tilde X = [X, 1]` (the ones column, last, only with an
    intercept) as dense or CSR ``X``, the sample weights ``sw``, an optional
    offset of the linear predictor and the ridge penalty :math:`\lambda`
    (``l2``, never on the intercept: ``penalty_mask``), optionally shaped by a
    ridge matrix ``ridge`` over the feature rows (a diagonal vector or a
    symmetric PSD matrix: :attr:`ridge_kind` ``'diag'`` / ``'matrix'``).
    Products with
    :math:`\tilde X` and :math:`\tilde X^T` (:meth:`matmul`, :meth:`rmatmul`,
    :meth:`linear_predictor`, :meth:`rmatvec`) and weighted Gram matrices
    (:meth:`weighted_gram`) are formed here and only here: the logistic loss
    (:class:`~skngd._loss.linear_loss.LinearModelLoss`) and the GLM problem
    (:class:`~skngd._loss.glm_loss.GLMProblem`) are its specialisations.

    ``kernels`` lets large products run on the Numba matrix-vector kernels
    (dense C-contiguous ``X`` of at least ``10 * NUMBA_MIN_SIZE`` entries, CSR
    with at least ``NUMBA_MIN_SIZE`` non-zeros); without it they are NumPy /
    scipy products. Every product counts in :attr:`n_passes`, every Gram row
    in :attr:`gram_rows`.
    """

    def __init__(self, X, sample_weight=None, *, offset=None, fit_intercept=True, l2=0.0,
                 ridge=None, kernels=True):
        from skngd._loss.family import NUMBA_MIN_SIZE

        self.X = X
        self.sparse = sp.issparse(X)
        self.dtype = X.dtype
        n, d = X.shape
        sw = np.ones(n) if sample_weight is None else sample_weight
        self.sw = np.ascontiguousarray(sw, dtype=self.dtype)
        self.offset = offset
        self.fit_intercept = bool(fit_intercept)
        self.n_features = d
        self.n_dof = d + int(self.fit_intercept)
        self.l2 = float(l2)
        self.penalty_mask = np.ones(self.n_dof)
        if self.fit_intercept:
            self.penalty_mask[-1] = 0.0
        self.ridge, self.ridge_kind = _ridge_rows(ridge, d, self.n_dof)
        self._ridge_null = None
        self.n_passes = 0
        self.gram_rows = 0
        # Numba matrix-vector kernels for large X (BLAS is capped at one thread
        # inside fits; see skngd._kernels.dense)
        self._dense_kernels = (kernels and not self.sparse and X.flags.c_contiguous
                               and X.size >= NUMBA_MIN_SIZE * 10)
        self._sparse_kernels = kernels and self.sparse and X.nnz >= NUMBA_MIN_SIZE

    @property
    def gram_kernel(self):
        """Whether a CSR Gram matrix is formed by the Numba kernel."""
        return False

    def penalty_operator(self):
        """The ridge's matrix :math:`\\Lambda` over the coefficient rows: a
        vector (its diagonal, scalar or diagonal ridge; ``l2 * penalty_mask``
        for a scalar one) or an ``(n_dof, n_dof)`` matrix (zero intercept row
        and column)."""
        if self.ridge_kind == "scalar":
            return self.l2 * self.penalty_mask
        return self.l2 * self.ridge

    # -- products with the augmented design matrix ---------------------------
    def matmul(self, V):
        """:math:`\\tilde X V` for ``V`` of shape (n_dof, k); returns (n, k)
        (no offset)."""
        V = np.asarray(V).reshape(self.n_dof, -1)
        W = V[: self.n_features].astype(self.dtype, copy=False)
        self.n_passes += 1
        if self._sparse_kernels:
            from skngd._kernels.sparse import csr_matmul

            out = csr_matmul(self.X, W)
        elif self._dense_kernels and W.shape[1] == 1:
            from skngd._kernels.dense import matvec

            out = matvec(self.X, W[:, 0])[:, None]
        else:
            out = np.asarray(self.X @ W)
        if self.fit_intercept:
            out += V[-1].astype(self.dtype)
        return out

    def rmatmul(self, R):
        """:math:`\\tilde X^T R` for ``R`` of shape (n, k); returns (n_dof, k) float64."""
        R = np.ascontiguousarray(R, dtype=self.dtype).reshape(self.X.shape[0], -1)
        self.n_passes += 1
        if self._sparse_kernels:
            from skngd._kernels.sparse import csr_rmatmul

            top = csr_rmatmul(self.X, R)
        elif self.sparse:
            top = np.asarray(self.X.T @ R)
        elif R.shape[1] == 1 and self._dense_kernels:
            from skngd._kernels.dense import rmatvec

            top = rmatvec(self.X, R[:, 0])[:, None]
        elif R.shape[1] == 1:  # r @ X streams X row-major: faster than X.T @ r
            top = (R[:, 0] @ self.X)[:, None]
        else:
            top = (R.T @ self.X).T
        out = np.empty((self.n_dof, R.shape[1]))
        out[: self.n_features] = top
        if self.fit_intercept:
            out[-1] = R.sum(axis=0, dtype=np.float64)
        return out

    def linear_predictor(self, coef):
        """:math:`\\eta = \\tilde X \\beta + o` for a flat ``coef`` (intercept
        last); (n,) of the data dtype."""
        eta = self.matmul(coef)[:, 0]
        if self.offset is not None:
            eta += self.offset
        return eta

    def rmatvec(self, r):
        """:math:`\\tilde X^T r` for ``r`` of shape (n,); (n_dof,) float64."""
        return self.rmatmul(r)[:, 0]

    def weighted_gram(self, w, v=None, rows=None, buffer=None):
        """``(X~_S^T diag(w) X~_S, X~_S^T v)`` over the rows ``S`` (all by
        default): :func:`weighted_gram` on this design."""
        X = self.X if rows is None else self.X[rows]
        self.gram_rows += X.shape[0]
        return weighted_gram(X, w, v, fit_intercept=self.fit_intercept,
                             use_numba=self.gram_kernel, buffer=buffer)

    def kron_gram(self, V, D=None, sign=1.0, rows=None):
        """:func:`kron_gram` over the rows ``S`` (all by default) of this
        design; ``V`` and ``D`` have one row per row of ``S``."""
        X = self.X if rows is None else self.X[rows]
        self.gram_rows += X.shape[0] * V.shape[1]
        return kron_gram(X, np.asarray(V, dtype=np.float64), D, sign=sign,
                         fit_intercept=self.fit_intercept)

    def columns_gram(self, w, cols, V=None, D=None, sign=1.0):
        r""":math:`\tilde X_{:,S}^T \mathrm{diag}(w) \tilde X_{:,S}` over the
        sorted augmented columns ``S = cols`` only (``n_features`` is the
        intercept column), float64 ``(|S|, |S|)``; with ``V`` (and ``D``,
        ``sign``) instead the :func:`kron_gram` over those columns
        (``(|S| K, |S| K)``, C-order (column, class) layout). The working-set
        curvature of the L1 solver (:mod:`skngd._solvers.prox_newton`).

        Dense ``X``: the selected columns are copied once (no copy when all
        are selected); CSR: a CSC copy of ``X`` is kept on the design and its
        columns sliced, the Gram kernel is Numba's from ``NUMBA_MIN_SIZE`` rows.
        """
        from skngd._loss.family import NUMBA_MIN_SIZE

        cols = np.asarray(cols, dtype=np.intp)
        feats = cols[cols < self.n_features]
        intercept = self.fit_intercept and bool(np.any(cols == self.n_features))
        n = self.X.shape[0]
        Xs = self._selected_columns(feats)
        if V is not None:
            self.gram_rows += n * V.shape[1]
            return kron_gram(Xs, np.asarray(V, dtype=np.float64), D, sign=sign,
                             fit_intercept=intercept)
        self.gram_rows += n
        return weighted_gram(Xs, np.asarray(w, dtype=np.float64), fit_intercept=intercept,
                             use_numba=self.sparse and n >= NUMBA_MIN_SIZE)[0]

    def csc_columns(self, feats):
        """``X[:, feats]`` of a sparse design as a CSC matrix (the column
        access of the sparse L1 inner solver, :mod:`skngd._kernels.cd_sparse`),
        sliced from one CSC copy of ``X`` kept on the design (built on first
        use)."""
        if getattr(self, "_csc", None) is None:
            self._csc = self.X.tocsc()
        return self._csc[:, np.asarray(feats, dtype=np.intp)]

    def _selected_columns(self, feats):
        """``X[:, feats]`` (C-contiguous / CSR), kept until other columns are
        asked for: the working set of the L1 solver is the same over its last
        steps, so they reuse one copy instead of gathering the columns again."""
        if feats.size == self.n_features:
            return self.X
        key = feats.tobytes()
        cached = getattr(self, "_cols_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        if self.sparse:
            if getattr(self, "_csc", None) is None:
                self._csc = self.X.tocsc()
            Xs = self._csc[:, feats].tocsr()
        else:
            Xs = np.ascontiguousarray(np.take(self.X, feats, axis=1))
        self._cols_cache = (key, Xs)
        return Xs


__all__ += ["LinearDesign"]
