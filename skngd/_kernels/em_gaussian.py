"""E-step kernel of the Gaussian EM imputer.

For a row with observed coordinates ``o`` and missing coordinates ``m`` and a
Gaussian :math:`N(\\mu, \\Sigma)` with precision :math:`P = \\Sigma^{-1}`,

.. math::

    E[x_m \\mid x_o] = \\mu_m - P_{mm}^{-1} P_{mo} (x_o - \\mu_o), \\qquad
    \\operatorname{Cov}[x_m \\mid x_o] = P_{mm}^{-1},

and :math:`\\log\\det \\Sigma_{oo} = \\log\\det\\Sigma + \\log\\det P_{mm}`.
Working from the precision matrix only the missing block (size :math:`|m|`)
is factorised, instead of the observed block :math:`\\Sigma_{oo}`.

Rows arrive sorted by missingness pattern (``pattern_id`` non-decreasing) and
cut into a fixed number of contiguous chunks (independent of the thread
count, so results do not depend on ``n_jobs``). Each chunk is one ``prange``
iteration; inside a chunk the Cholesky factor of :math:`P_{mm}` is computed
once per pattern and reused for every row of that pattern. The summed
conditional covariances are accumulated per chunk (``out_ccov[c]``) and merged
by the caller; conditional means go to ``out_xhat`` and the per-row
:math:`\\log\\det P_{mm}` to ``out_logdet`` (NaN if the block was not
positive definite).

:func:`estep_ref` is the NumPy reference: it uses the textbook formulas on
:math:`\\Sigma_{oo}` (a different route to the same numbers).
"""

import numpy as np
from scipy import linalg

from skngd._kernels._jit import jit, pjit, prange


@jit
def _factor_pattern(P, mi, nm, U, Linv, Cinv):
    """Factor P_mm = U^T U (U upper), Linv = U^{-T} and Cinv = P_mm^{-1}.

    Returns log det P_mm (NaN if P_mm is not positive definite). Every inner
    loop is an independent update along a row (no running sum), so it is
    contiguous and not bound by floating-point latency. ``Cinv`` doubles as
    the work array of the right-looking Cholesky.
    """
    A = Cinv
    for a in range(nm):
        ra = mi[a]
        for e in range(a, nm):
            A[a, e] = P[ra, mi[e]]
    logdet = 0.0
    for k in range(nm):
        piv = A[k, k]
        if not piv > 0.0:
            logdet = np.nan
            piv = 1.0
        ukk = np.sqrt(piv)
        U[k, k] = ukk
        inv = 1.0 / ukk
        for j in range(k + 1, nm):
            U[k, j] = A[k, j] * inv
        for i in range(k + 1, nm):
            uki = U[k, i]
            for j in range(i, nm):
                A[i, j] -= uki * U[k, j]
        logdet += 2.0 * np.log(ukk)
    L = U.T  # L[a, k] = U[k, a]
    # Linv row a: Linv[a, :a] = -(1 / L[a, a]) sum_k L[a, k] Linv[k, :a]
    for a in range(nm):
        for e in range(a + 1):
            Linv[a, e] = 0.0
        for k in range(a):
            lak = L[a, k]
            for e in range(k + 1):
                Linv[a, e] -= lak * Linv[k, e]
        inv = 1.0 / L[a, a]
        for e in range(a):
            Linv[a, e] *= inv
        Linv[a, a] = inv
    # Cinv = Linv^T Linv (lower half accumulated row by row, then mirrored)
    for a in range(nm):
        for e in range(a + 1):
            Cinv[a, e] = 0.0
    for k in range(nm):
        for a in range(k + 1):
            lka = Linv[k, a]
            for e in range(a + 1):
                Cinv[a, e] += lka * Linv[k, e]
    for a in range(nm):
        for e in range(a):
            Cinv[e, a] = Cinv[a, e]
    return logdet


@jit
def _flush(out, mi, nm, Cinv, count):
    for a in range(nm):
        ra = mi[a]
        for e in range(nm):
            out[ra, mi[e]] += count * Cinv[a, e]


@pjit
def estep(X, pattern_id, chunk_bounds, mu, P, noise, sample,
          out_xhat, out_logdet, out_quad, out_ccov):
    """Conditional means, per-row log det P_mm and quadratic form, summed
    conditional covariances.

    Parameters
    ----------
    X : (n, d) array, NaN marks missing; rows sorted by ``pattern_id``.
    pattern_id : (n,) int64, equal for rows sharing a missingness pattern.
    chunk_bounds : (n_chunks + 1,) int64 row boundaries.
    mu : (d,) mean; P : (d, d) precision matrix.
    noise : (n, d) standard normal draws, used only when ``sample`` is True
        (adds a draw from the conditional Gaussian to the conditional mean).
    out_xhat : (n, d); out_logdet : (n,); out_quad : (n,) receives
    :math:`r_o^T \\Sigma_{oo}^{-1} r_o = r_o^T P_{oo} r_o - b^T P_{mm}^{-1} b`
    with :math:`r_o = x_o - \\mu_o`, :math:`b = P_{mo} r_o`;
    out_ccov : (n_chunks, d, d) zeroed.
    """
    n, d = X.shape
    n_chunks = chunk_bounds.shape[0] - 1
    for c in prange(n_chunks):
        mi = np.empty(d, np.int64)
        oi = np.empty(d, np.int64)
        L = np.zeros((d, d), dtype=P.dtype)
        Linv = np.zeros((d, d), dtype=P.dtype)
        Cinv = np.zeros((d, d), dtype=P.dtype)
        b = np.empty(d, dtype=P.dtype)
        r = np.empty(d, dtype=P.dtype)
        w = np.empty(d, dtype=P.dtype)
        cur = -1
        nm = 0
        no = 0
        count = 0
        logdet = 0.0
        for i in range(chunk_bounds[c], chunk_bounds[c + 1]):
            if pattern_id[i] != cur:
                if count > 0 and nm > 0:
                    _flush(out_ccov[c], mi, nm, Cinv, count)
                cur = pattern_id[i]
                count = 0
                nm = 0
                no = 0
                for j in range(d):
                    if np.isnan(X[i, j]):
                        mi[nm] = j
                        nm += 1
                    else:
                        oi[no] = j
                        no += 1
                logdet = _factor_pattern(P, mi, nm, L, Linv, Cinv)
            count += 1
            out_logdet[i] = logdet
            for k in range(no):
                j = oi[k]
                r[k] = X[i, j] - mu[j]
                out_xhat[i, j] = X[i, j]
            # w = P[:, o] r_o along contiguous rows of P (P symmetric)
            for j in range(d):
                w[j] = 0.0
            for k in range(no):
                rk = r[k]
                row = oi[k]
                for j in range(d):
                    w[j] += P[row, j] * rk
            q = 0.0
            for k in range(no):
                q += r[k] * w[oi[k]]
            if nm == 0:
                out_quad[i] = q
                continue
            # b = -P_mo r_o ; z = P_mm^{-1} b (into r), as independent updates
            for a in range(nm):
                b[a] = -w[mi[a]]
            for a in range(nm):
                r[a] = 0.0
            for e in range(nm):
                be = b[e]
                for a in range(nm):
                    r[a] += Cinv[e, a] * be
            for a in range(nm):
                q -= b[a] * r[a]
            out_quad[i] = q
            if sample:
                # Linv^T eps has covariance Linv^T Linv = P_mm^{-1}
                for k in range(nm):
                    eps = noise[i, mi[k]]
                    for a in range(k + 1):
                        r[a] += Linv[k, a] * eps
            for a in range(nm):
                out_xhat[i, mi[a]] = mu[mi[a]] + r[a]
        if count > 0 and nm > 0:
            _flush(out_ccov[c], mi, nm, Cinv, count)


def estep_ref(X, mu, Sigma):
    """NumPy reference on Sigma_oo, row by row.

    Returns ``(xhat, logdet_sigma_oo, quad, ccov_sum)`` where ``quad`` is
    :math:`(x_o - \\mu_o)^T \\Sigma_{oo}^{-1} (x_o - \\mu_o)` and ``ccov_sum``
    the sum over rows of the conditional covariance on the missing block.
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    xhat = X.copy()
    logdet = np.zeros(n)
    quad = np.zeros(n)
    ccov = np.zeros((d, d))
    for i in range(n):
        m = np.isnan(X[i])
        o = ~m
        if not m.any():
            logdet[i] = np.linalg.slogdet(Sigma)[1]
            quad[i] = (X[i] - mu) @ np.linalg.solve(Sigma, X[i] - mu)
            continue
        if o.any():
            S_oo = Sigma[np.ix_(o, o)]
            S_mo = Sigma[np.ix_(m, o)]
            c = linalg.cho_factor(S_oo, lower=True)
            sol = linalg.cho_solve(c, X[i, o] - mu[o])
            xhat[i, m] = mu[m] + S_mo @ sol
            quad[i] = (X[i, o] - mu[o]) @ sol
            C = Sigma[np.ix_(m, m)] - S_mo @ linalg.cho_solve(c, S_mo.T)
            logdet[i] = 2.0 * np.sum(np.log(np.diag(c[0])))
        else:
            xhat[i, m] = mu[m]
            C = Sigma[np.ix_(m, m)]
        ccov[np.ix_(m, m)] += C
    return xhat, logdet, quad, ccov


__all__ = ["estep", "estep_ref"]
