r"""``GeneralizedLinearRegressor.fit`` on Dask arrays: Newton / IRLS with one
fused pass per iteration.

Each chunk is an in-memory :class:`~skngd._loss.glm_loss.GLMProblem`
(penalty-free) on a worker. A pass at coefficients :math:`\beta` returns,
summed over chunks, the deviance, the Fisher Gram matrix
:math:`\tilde X^T W \tilde X` with the score :math:`\tilde X^T u` (one fused
sweep, :meth:`GLMProblem.gram_score`) and, for a non-canonical link, the
observed-information Gram matrix: so the step search's pass at the trial
point is also the next iteration's curvature. The iteration is
:class:`~skngd._solvers.irls.GLMNewton`'s (the same stopping rule,
``rel_tol = tol`` on the objective, the same "no increase" step halving):
the first step is IRLS from the starting means
:math:`\mu_0 = (y + \bar y)/2`, then Newton steps (the Fisher step for a
canonical link; for a non-canonical one the observed-information Newton step
where that matrix is positive definite, the Fisher step otherwise; the
in-memory solver reaches the same step by preconditioned CG).

Passes: two to start (sums of ``y``; the first IRLS step), one per
iteration and one per halved step. The last evaluation (the converged step)
also returns the Pearson statistic, the null deviance at :math:`\bar y` and,
for a fixed-scale family, the log-likelihood, so inference needs no further
pass unless the scale is estimated (one pass for the log-likelihood) or the
fit stopped otherwise (one pass for the statistics).
"""

import numpy as np
import scipy.sparse as sp
from scipy import linalg, stats

from skngd._dask._chunks import Chunks, nbytes, row_blocks
from skngd._dask._input import (
    as_dask_array,
    check_design,
    check_no_l1,
    set_features,
)
from skngd._loss.glm_loss import GLMProblem
from skngd._solvers._result import StopReason, warn_not_converged, warn_step_failed
from skngd._solvers.irls import _Workspace, _observed, _pass, noise_sum
from skngd._solvers.linalg import inverse_pd, solve_spd
from skngd._solvers.second_order import EquilibratedCholeskySolve, converged
from skngd.utils._threads import fit_threads

_ROUNDING = 1e4 * np.finfo(np.float64).eps
_APPROX_RATE = 0.05  # assumed contraction of an approximate-Hessian step (see _Fit.approx)
_EPS = np.finfo(np.float64).eps


class _Chunk:
    """One chunk: its GLM problem, the intercept-only problem (for the null
    deviance with an offset) and, with ``frac > 0``, the fraction of its rows
    the subsample start draws (with the chunk's ``seed``, :meth:`subsample`)."""

    def __init__(self, Xb, yb, swb, offb, family, link, fit_intercept, frac=0.0, seed=0):
        n = len(yb)
        X = sp.csr_matrix(Xb, dtype=np.float64) if sp.issparse(Xb) else \
            np.ascontiguousarray(Xb, dtype=np.float64)
        y = np.ascontiguousarray(yb, dtype=np.float64)
        sw = np.ones(n) if swb is None else np.ascontiguousarray(swb, dtype=np.float64)
        off = np.zeros(n) if offb is None else np.ascontiguousarray(offb, dtype=np.float64)
        self.full = GLMProblem(X, y, sw, off, family, link, fit_intercept, 0.0)
        self.null = GLMProblem(np.empty((n, 0)), y, sw, off, family, link, True, 0.0)
        self._numba_one = self.full.use_numba
        self.frac, self.seed = float(frac), int(seed)

    def subsample(self, alpha):
        """The problem of a random ``frac`` of the rows, with its share of
        the ridge ``alpha`` (per unit weight); not kept."""
        p = self.full
        rows = np.flatnonzero(np.random.default_rng(self.seed).random(p.y.shape[0]) < self.frac)
        X, sw = p.X[rows], p.sample_weight[rows]
        return GLMProblem(X if sp.issparse(X) else np.ascontiguousarray(X), p.y[rows], sw,
                          p.offset[rows], p.family, p.link, p.fit_intercept,
                          alpha * float(sw.sum()))

    def __sizeof__(self):
        p = self.full
        return nbytes(p.X, p.y, p.sw, p.offset) + 1024


def _c_stats(c, alpha=0.0, tol=1e-4):
    """Weight and response sums, the checks of the data and, with a
    subsample (``c.frac > 0``), its sums and :func:`_local_start`."""
    p = c.full
    bad = int(not p.family.in_y_range(p.y)) if p.y.size else 0
    finite = bool(np.all(np.isfinite(p.sample_weight))) and \
        bool(np.all(np.isfinite(p.offset))) and bool(np.all(np.isfinite(p.y)))
    neg = bool(np.any(p.sample_weight < 0))
    q = c.subsample(alpha) if c.frac > 0 and finite and not (bad or neg) else None
    sub = [0.0, 0.0, None, None, 0] if q is None else [
        float(q.sample_weight.sum()), float(q.sample_weight @ q.y), *_local_start(q, tol)]
    return [float(p.sample_weight.sum()), float(p.sample_weight @ p.y), bad,
            int(not finite), int(neg), float(np.any(p.offset != 0)), *sub]


def _local_start(q, tol):
    r"""The in-memory fit (loose, Fisher scoring) of one chunk's subsample
    ``q`` (with its share of the penalty): ``[A, A beta, 1]`` with ``A`` its
    penalised Fisher Gram matrix at its solution ``beta`` (summed over
    chunks, :math:`(\sum A)^{-1} \sum A\beta` is the start), or
    ``[None, None, 0]`` when the subsample is too small (under 20 rows per
    coefficient) or its fit fails."""
    import warnings

    from skngd._solvers.irls import irls

    k = q.n_coef
    if q.y.shape[0] < 20 * k or not float(q.sample_weight.sum()) > 0:
        return [None, None, 0]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            res = irls(q, max_iter=20, tol=max(tol, 1e-6), subsample=False, newton=False,
                       warn=False)
    except (ValueError, np.linalg.LinAlgError):
        return [None, None, 0]
    if res.rank_deficient or res.gram is None or not np.all(np.isfinite(res.coef)):
        return [None, None, 0]
    A = res.gram + np.diag(_pdiag(q.l2, k, q.fit_intercept))
    return [A, A @ res.coef, 1]


def _pdiag(l2, k, fit_intercept):
    """The ridge's diagonal (the intercept unpenalised)."""
    return l2 * np.r_[np.ones(k - int(fit_intercept)), np.zeros(int(fit_intercept))]


def _c_first(c, which, ybar, const):
    """Fisher Gram matrix and right-hand side of the IRLS step from mu0."""
    p = getattr(c, which)
    with np.errstate(all="ignore"):
        if const:
            eta = np.full_like(p.y, p.link.link(ybar))
        else:
            eta = np.asarray(p.link.link((p.y + ybar) / 2.0), dtype=np.float64)
    bad = int(not np.all(np.isfinite(eta)))
    if bad:
        return [None, None, bad]
    ws = _workspace(p)
    _pass(p, eta, ws)
    with np.errstate(all="ignore"):
        v = ws.w * (eta - p.offset) + ws.u
    G, rhs = p.gram_score(ws.w, v, ws)
    return [G, rhs, 0]


def _c_eval(c, which, coef, gram, observed, final=None):
    """Deviance at ``coef`` and, with ``gram``, the Fisher Gram matrix, the
    score, the observed Gram matrix (``observed``) and the decrement's
    rounding level (``gram='score'``: the score only); with ``final`` (the
    arguments of :func:`_c_final`) also the Pearson statistic, null deviance
    and log-likelihood there."""
    p = getattr(c, which)
    ws = _workspace(p)
    G = None
    if _poisson_log(p):
        eta, dev, score, G = _sweep_poisson_log(p, coef, ws, gram is True)
    else:
        eta, dev, score = _sweep(p, coef, ws)
    extra = None if final is None else np.array(_c_final(c, coef, *final, mu=ws.mu))
    if not (gram and np.isfinite(dev)):
        return [dev, None, None, None, None, extra]
    if gram == "score":
        return [dev, None, p.rmatvec(ws.u) if score is None else score, None, None, extra]
    if score is None:
        G, score = p.gram_score(ws.w, ws.u, ws)
    elif G is None:
        G = p.gram_score(ws.w, None, ws)[0]
    H = p.gram_score(_observed(p, eta, ws))[0] if observed else None
    return [dev, G, score, H, noise_sum(ws.w, eta, p.offset), extra]


def _step_from_kept(p, coef):
    """``(base, step, out)`` of a sweep to ``coef`` from the latest linear
    predictor kept on ``p`` (that of the last point, or the offset): the
    caller writes ``base + X~ step`` into ``out`` (the older of the two kept
    predictors, or a new array) and appends ``(coef, out)`` to
    ``p._dask_eta``."""
    kept = p.__dict__.setdefault("_dask_eta", [])  # [(coef, eta)], latest last
    base_coef, base = kept[-1] if kept else (np.zeros_like(coef), p.offset)
    out = kept.pop(0)[1] if len(kept) >= 2 else np.empty_like(p.y)
    return base, np.asarray(coef, dtype=np.float64) - base_coef, out


def _sweep(p, coef, ws):
    """``(eta, deviance, score or None)`` at ``coef``, the pass's means,
    weights and scores in ``ws``. Dense chunks of Numba size: one sweep over
    the rows from a kept linear predictor (that of the last point, or the
    offset), :func:`~skngd._kernels.glm.dense_step_pass_gradient`, which
    also sums the score; the two latest predictors are kept on ``p``."""
    X = p.X
    if not (p.use_numba and isinstance(X, np.ndarray) and X.dtype == np.float64
            and X.flags.c_contiguous):
        with np.errstate(all="ignore"):
            eta = p.linear_predictor(coef)
        return eta, float(_pass(p, eta, ws)), None
    from skngd._kernels.glm import dense_step_pass_gradient
    from skngd._loss.design import n_chunks

    base, step, out = _step_from_kept(p, coef)
    d, m = X.shape[1], n_chunks(X.shape[0])
    gpart, dpart = np.empty((m, d + 1)), np.empty(m)
    f, lk = p.family, p.link
    with np.errstate(all="ignore"):
        dense_step_pass_gradient(X, base, np.ascontiguousarray(step[:d]),
                                 float(step[d]) if p.fit_intercept else 0.0, p.y,
                                 p.sample_weight, f.code, float(f.power), lk.code,
                                 float(lk.power), out, *ws.out, gpart, dpart)
    p._dask_eta.append((np.array(coef, dtype=np.float64), out))
    score = -gpart.sum(axis=0)[: p.n_coef]
    return out, float(dpart.sum()), score


def _poisson_log(p):
    """Whether chunk problem ``p`` takes :func:`_sweep_poisson_log`."""
    from skngd._kernels.codes import FAMILY_CODES, LINK_CODES

    X = p.X
    return (p.family.code == FAMILY_CODES["poisson"] and p.link.code == LINK_CODES["log"]
            and isinstance(X, np.ndarray) and X.dtype == np.float64
            and X.flags.c_contiguous and X.shape[0] >= 1)


def _sweep_poisson_log(p, coef, ws, gram):
    r""":func:`_sweep` for the Poisson family with its log link, and (``gram``)
    the Fisher Gram matrix in the same sweep: ``(eta, deviance, score,
    Gram matrix or None)``. Per cache-sized row block: the linear predictor
    from the kept one (a BLAS product), the means :math:`\mu = e^\eta`,
    weights :math:`s\mu`, scores :math:`s(y - \mu)` and unit deviances
    :math:`2(y\log y - y\eta - y + \mu)` by NumPy's vectorised loops (the
    Numba kernel's scalar ``exp`` and ``log`` cost 30 ns a row), then from
    cache the score :math:`\tilde X^T u` (a BLAS product) and the block's
    rows :math:`\sqrt{w}\,\tilde x` of the Gram matrix's symmetric product.
    As :func:`~skngd._kernels.glm._irls_row`: a mean that is zero or not
    finite gets zero weight and score, and an infinite deviance unless its
    row's weight is zero. :math:`y \log y` is computed once per chunk."""
    from skngd._kernels.dense import scaled_rows
    from skngd._loss.design import GramSum, gram_width

    X, y, sw = p.X, p.y, p.sample_weight
    n, d = X.shape
    k = p.n_coef
    base, step, out = _step_from_kept(p, coef)
    sd, s0 = np.ascontiguousarray(step[:d]), float(step[d]) if p.fit_intercept else 0.0
    ylogy = p.__dict__.get("_dask_ylogy")
    if ylogy is None:
        pos = y > 0
        ylogy = p._dask_ylogy = np.where(pos, y * np.log(np.where(pos, y, 1.0)), 0.0)
    block, buf = ws.block, ws.buf
    width = gram_width(k + 1)
    flat = buf.reshape(-1)
    t = p.__dict__.get("_dask_tmp")
    if t is None or t.shape[0] < block:
        t = p._dask_tmp = np.empty(block)
    score, dev = np.zeros(k), 0.0
    S = GramSum(width) if gram else None
    for a in range(0, n, block):
        b = min(n, a + block)
        e, m, w, u = out[a:b], ws.mu[a:b], ws.w[a:b], ws.u[a:b]
        yb, sb, tb = y[a:b], sw[a:b], t[: b - a]
        np.dot(X[a:b], sd, out=e)
        e += base[a:b]
        if s0:
            e += s0
        with np.errstate(over="ignore"):
            np.exp(e, out=m)
        np.multiply(sb, m, out=w)
        np.subtract(yb, m, out=u)
        u *= sb
        np.multiply(yb, e, out=tb)
        np.subtract(ylogy[a:b], tb, out=tb)
        tb -= yb
        tb += m
        with np.errstate(invalid="ignore"):
            part = 2.0 * float(np.dot(sb, tb))
        if not (m.min(initial=1.0) > 0.0 and np.isfinite(m.max(initial=1.0))
                and np.isfinite(part)):
            bad = ~((m > 0.0) & np.isfinite(m))
            w[bad] = 0.0
            u[bad] = 0.0
            tb[bad] = np.inf
            keep = sb != 0.0
            part = 2.0 * float(np.dot(sb[keep], tb[keep]))
        dev += part
        score[:d] += u @ X[a:b]
        if p.fit_intercept:
            score[d] += u.sum()
        if gram:
            blk = flat[: (b - a) * width].reshape(b - a, width)
            scaled_rows(X, a, np.sqrt(w, out=tb), blk, bool(p.fit_intercept))
            blk[:, k:] = 0.0
            S.add(blk)
    p._dask_eta.append((np.array(coef, dtype=np.float64), out))
    return out, dev, score, (S.result(k) if gram else None)


def _workspace(p):
    """The buffers of the chunk problem ``p``'s passes, kept on it: passes
    then allocate no n-sized arrays (each would be fresh pages under the
    MALLOC_TRIM_THRESHOLD_ that Dask's workers set)."""
    ws = p.__dict__.get("_dask_ws")
    if ws is None:
        ws = p.__dict__["_dask_ws"] = _Workspace(p)
    return ws


def _c_final(c, coef, ybar, null_at_mean, llf=False, mu=None, block=8192):
    """Pearson statistic, null deviance at ``ybar`` (``null_at_mean``) and
    (``llf``) the log-likelihood at scale 1 (a fixed-scale family's), summed
    over row blocks (no n-sized temporaries)."""
    p = c.full
    kept = p.__dict__.get("_dask_eta")
    if mu is not None and kept and _poisson_log(p) and np.array_equal(kept[-1][0], coef):
        return _final_poisson_log(p, kept[-1][1], mu, ybar, null_at_mean, llf, block)
    with np.errstate(all="ignore"):
        if mu is None:
            mu = p.link.inverse(p.linear_predictor(coef))
        chi2 = null = ll = 0.0
        for a in range(0, p.y.shape[0], block):
            y, m, w = p.y[a:a + block], mu[a:a + block], p.sample_weight[a:a + block]
            chi2 += float(np.dot(w, (y - m) ** 2 / p.family.variance(m)))
            if null_at_mean:
                null += float(p.family.deviance(y, np.full_like(y, ybar), w))
            if llf:
                ll += float(p.family.loglike(y, m, w, 1.0))
    return [chi2, null, ll]


def _final_poisson_log(p, eta, mu, ybar, null_at_mean, llf, block):
    r""":func:`_c_final` for the Poisson family with its log link from the
    pass's linear predictor ``eta`` and means ``mu``, by vectorised loops:
    :math:`\log\mu = \eta`, :math:`y\log y` kept from the pass
    (:func:`_sweep_poisson_log`) and :math:`\log y!` from a table when the
    counts are integers below 1024 (else ``gammaln``)."""
    from scipy import special

    y, sw = p.y, p.sample_weight
    ylogy = p._dask_ylogy
    chi2 = null = ll = 0.0
    log_ybar = float(np.log(ybar)) if ybar > 0 else None
    table = special.gammaln(np.arange(1025.0) + 1.0) if llf else None
    with np.errstate(all="ignore"):
        for a in range(0, y.shape[0], block):
            yb, m, w, e = y[a:a + block], mu[a:a + block], sw[a:a + block], eta[a:a + block]
            chi2 += float(np.dot(w, (yb - m) ** 2 / m))
            if null_at_mean:
                if log_ybar is None:
                    null += float(p.family.deviance(yb, np.full_like(yb, ybar), w))
                else:
                    null += 2.0 * float(np.dot(w, ylogy[a:a + block] - yb * log_ybar - yb + ybar))
            if llf:
                yi = yb.astype(np.intp)
                small = yb.size == 0 or (yb.max() < 1024 and np.array_equal(yi, yb))
                lg = table[yi] if small else special.gammaln(yb + 1.0)
                ll += float(np.dot(w, np.where(yb > 0, yb * e, 0.0) - m - lg))
    return [chi2, null, ll]


def _c_llf(c, coef, scale):
    p = c.full
    with np.errstate(all="ignore"):
        mu = p.link.inverse(p.linear_predictor(coef))
        return [float(p.family.loglike(p.y, mu, p.sample_weight, scale))]


class _Fit:
    """State of one chunked IRLS fit (see the module docstring)."""

    def __init__(self, chunks, which, k, l2, fit_intercept, observed, tol, max_iter,
                 max_halvings=40):
        self.chunks, self.which, self.k = chunks, which, k
        self.pdiag = _pdiag(l2, k, fit_intercept)
        self.observed, self.tol, self.max_iter = observed, tol, max_iter
        self.max_halvings = max_halvings
        self.history, self.deficient = [], False
        self.final = None  # _c_final's arguments for the last evaluation, or None

    def objective(self, dev, coef):
        return 0.5 * dev + 0.5 * float(coef @ (self.pdiag * coef))

    def evaluate(self, coef, gram=True, final=False):
        dev, G, score, H, noise, extra = self.chunks.map_sum(
            _c_eval, self.which, coef, gram, self.observed, self.final if final else None)
        return {"coef": coef, "dev": dev, "obj": self.objective(dev, coef), "G": G,
                "score": score, "H": H, "noise": noise, "extra": extra}

    def start(self, ybar, coef0):
        self.from_mu0 = False
        if coef0 is not None:
            st = self.evaluate(np.asarray(coef0, dtype=np.float64))
            if np.isfinite(st["obj"]):
                return st
        self.from_mu0 = True  # the IRLS step from mu0 counts as an iteration
        G, rhs, bad = self.chunks.map_sum(_c_first, self.which, ybar, False)
        if bad:
            G, rhs, bad = self.chunks.map_sum(_c_first, self.which, ybar, True)
        if bad:
            raise ValueError(
                f"IRLS cannot start: the weighted mean of y ({ybar:g}) is outside the "
                "domain of the link, so the maximum-likelihood estimate does not exist.")
        coef, self.deficient = solve_spd(G + np.diag(self.pdiag), rhs)
        st = self.evaluate(coef)
        if not np.isfinite(st["obj"]):
            coef = np.zeros(self.k)
            with np.errstate(all="ignore"):
                coef[-1] = float(self.link.link(ybar))
            st = self.evaluate(coef)
        if not np.isfinite(st["obj"]):
            raise ValueError("IRLS cannot find coefficients with valid means; try another "
                             "link or starting values.")
        return st

    def direction(self, st):
        grad = self.pdiag * st["coef"] - st["score"]
        d = EquilibratedCholeskySolve()(st["G"] + np.diag(self.pdiag), grad)
        self.deficient = d.deficient
        step = d.step
        if self.observed and not d.deficient:
            try:
                c = linalg.cho_factor(st["H"] + np.diag(self.pdiag), check_finite=False)
                step = -linalg.cho_solve(c, grad, check_finite=False)
            except linalg.LinAlgError:
                pass
        return step, -float(grad @ step)

    def move(self, st, step, slack, max_halvings, final=False, gram=True):
        t = 1.0
        for _ in range(max_halvings + 1):
            new = self.evaluate(st["coef"] + t * step, gram=gram, final=final)
            if np.isfinite(new["obj"]) and new["obj"] <= st["obj"] + slack:
                return new
            t *= 0.5
        return None

    def approx(self, st, hess, max_steps=8):
        """Steps with the full gradient and the fixed approximate Hessian
        ``hess`` (the subsample's, rescaled) from ``st`` (a ``gram='score'``
        state), as the in-memory solver's
        (:func:`~skngd._solvers.irls._approx_newton`): one pass each and no
        Gram matrix; stops when the predicted decrease is below ``tol`` times
        the objective or a step does not decrease the objective. Returns the
        last state and the number of steps taken.

        A step whose predicted decrease, times the contraction of the last
        two predictions (``_APPROX_RATE`` before that) and 2 to spare, meets
        ``tol`` likely ends the approximate steps, so its pass also forms the
        Gram matrix there (the exact iterations' first): a pass saved when
        the guess holds, a Gram matrix wasted when not.
        """
        try:
            factor = linalg.cho_factor(hess, check_finite=False)
        except linalg.LinAlgError:
            return st, 0
        taken, prev = 0, None
        for _ in range(max_steps):
            step = -linalg.cho_solve(factor, self.pdiag * st["coef"] - st["score"],
                                     check_finite=False)
            pred = 0.5 * float(step @ hess @ step)
            if not np.all(np.isfinite(step)) or converged(pred, st["obj"], self.tol):
                break
            rate = _APPROX_RATE if not prev else min(max(pred / prev, 1e-6), 1.0)
            prev = pred
            last = converged(2.0 * pred * rate, st["obj"], self.tol)
            new = self.evaluate(st["coef"] + step, gram=True if last else "score")
            if not new["obj"] <= st["obj"]:
                break
            st, taken = new, taken + 1
            self.history.append(st["obj"])
        return st, taken

    def run(self, st):
        """Newton iterations from ``st``; returns ``(state, status, n_iter)``.
        At ``tol`` the last (tiny) step is taken without a new Gram matrix,
        as in memory: the state keeps the Gram matrices of the point that
        met ``tol`` (the inference's, as the in-memory ``GLMResult.gram``)."""
        if not self.history or self.history[-1] != st["obj"]:
            self.history.append(st["obj"])
        prev_dec, prev_trusted = np.inf, False
        for it in range(1, self.max_iter + 1):
            step, dec = self.direction(st)
            trusted = 0.5 * dec <= _ROUNDING * abs(st["obj"])
            if dec <= (16.0 * _EPS) ** 2 * st["noise"]:
                return st, StopReason.ROUNDING, it
            if converged(0.5 * dec, st["obj"], self.tol):
                new = self.move(st, step, _ROUNDING * abs(st["obj"]), 0, final=True,
                                gram=False)
                if new is not None:
                    new.update(G=st["G"], H=st["H"], noise=st["noise"])
                    st = new
                    self.history.append(st["obj"])
                return st, StopReason.CONVERGED, it
            if trusted and prev_trusted and dec >= prev_dec:
                return st, StopReason.ROUNDING, it
            new = self.move(st, step, np.inf if trusted else 0.0, self.max_halvings)
            if new is None:
                return st, StopReason.STEP_FAILED, it
            st = new
            self.history.append(st["obj"])
            prev_dec, prev_trusted = dec, trusted
        return st, StopReason.MAX_ITER, self.max_iter


def _prepare(est, X, y, sample_weight, offset):
    X = check_design(X)
    y = as_dask_array(y, "y", like=X)
    sw = as_dask_array(sample_weight, "sample_weight", like=X)
    off = as_dask_array(offset, "offset", like=X)
    family = est._get_family()
    link = est._get_link(family)
    blocks = row_blocks(X, y, sw, off)
    n = len(blocks[0])
    frac = _subsample_fraction(est, X)
    chunks = Chunks(_Chunk, *blocks, [family] * n, [link] * n, [est.fit_intercept] * n,
                    [frac] * n, list(range(n)), rows=X.chunks[0])
    S, Sy, bad, nonfinite, neg, has_off, *sub = chunks.map_sum(_c_stats, est.alpha, est.tol)
    if nonfinite:
        raise ValueError("y, sample_weight and offset must be finite (NaN or inf found).")
    if neg:
        raise ValueError("sample_weight must be non-negative.")
    if bad:
        raise ValueError("Some value(s) of y are out of the valid range of the loss of the "
                         f"{family.name} family: y must lie in {family.support_message()}.")
    if not S > 0:
        raise ValueError("sample_weight must have a positive sum.")
    chunks.sub_sums = sub
    return X, chunks, family, link, S, Sy / S, bool(has_off)


def _subsample_fraction(est, X):
    """The row fraction of the subsample start (0: none), as in memory
    (:func:`~skngd._solvers.irls._subsample_start`): a tenth of the rows,
    at least 20 per coefficient, for 50,000 rows or more and no warm start."""
    from skngd._solvers.irls import _SUBSAMPLE_MIN_ROWS

    n, k = X.shape[0], X.shape[1] + int(est.fit_intercept)
    m = max(n // 10, 20 * k)
    if n < _SUBSAMPLE_MIN_ROWS or m >= n // 2 or est._warm_start_coef(X.shape[1]) is not None:
        return 0.0
    return m / n


def _subsample_start(est, fit, chunks, S):
    """The state after the subsample start, or None (no subsample, or its
    fits failed: the fit then starts from the means ``mu0``).

    The first pass fitted each chunk's subsample in memory
    (:func:`_local_start`, on the workers): their Gram-weighted average is
    the start and their Gram matrices, rescaled, the approximate Hessian of
    the full-data steps that follow (:meth:`_Fit.approx`, no Gram matrix
    per pass) until the exact Newton iterations take over, as in memory
    (:func:`~skngd._solvers.irls._subsample_start`, which fits one
    subsample of all rows). Each pass reads the rows once.
    """
    S_sub, _, A, b, ok = chunks.sub_sums
    if not ok or A is None or not S_sub > 0:
        return None
    try:
        coef = linalg.solve(A, b, assume_a="pos", check_finite=True)
    except (linalg.LinAlgError, ValueError):
        return None
    G = A - np.diag(_pdiag(est.alpha * S_sub, fit.k, est.fit_intercept))
    hess = (S / S_sub) * G + np.diag(fit.pdiag)
    full = fit.evaluate(coef, gram="score")
    if not np.isfinite(full["obj"]):
        return None
    full, fit.n_approx = fit.approx(full, hess)
    return full if full["G"] is not None else fit.evaluate(full["coef"])


def fit_glm(est, X, y, sample_weight=None, offset=None):
    """Fit ``est`` (a ``GeneralizedLinearRegressor``) on Dask ``X``; returns ``est``."""
    check_no_l1(est)
    if est.cov_type == "HC0":
        raise ValueError("cov_type='HC0' is not supported on Dask input; use 'nonrobust', "
                         "'eim' or 'oim'.")
    X = check_design(X)
    set_features(est, X, reset=True)
    with fit_threads(est.n_jobs, blas=1, numba=False):
        X, chunks, family, link, S, ybar, has_off = _prepare(est, X, y, sample_weight, offset)
        try:
            p = X.shape[1]
            k = p + int(est.fit_intercept)
            observed = not _canonical(family, link)
            fit = _Fit(chunks, "full", k, est.alpha * S, est.fit_intercept, observed,
                       est.tol, est.max_iter)
            fit.link = link
            fit.final = (ybar, not has_off, bool(family.fixed_scale))
            coef0 = est._warm_start_coef(p)
            fit.from_mu0, fit.n_approx = False, 0
            st = _subsample_start(est, fit, chunks, S) if coef0 is None else None
            if st is None:
                st = fit.start(ybar, coef0)
            st, status, n_iter = fit.run(st)
            _set_fit(est, fit, st, status, n_iter, family, link, has_off)
            _inference(est, fit, st, chunks, S, ybar, has_off, observed)
        finally:
            chunks.release()
    return est


def _canonical(family, link):
    from skngd._loss.glm_family import is_canonical

    return is_canonical(family, link)


def _set_fit(est, fit, st, status, n_iter, family, link, has_off):
    if status is StopReason.MAX_ITER:
        warn_not_converged("IRLS", est.max_iter)
    elif status is StopReason.STEP_FAILED:
        warn_step_failed("IRLS", n_iter)
    p = est.n_features_in_
    est.coef_ = st["coef"][:p].copy()
    est.intercept_ = float(st["coef"][p]) if est.fit_intercept else 0.0
    est.n_iter_ = int(n_iter) + int(fit.from_mu0) + int(fit.n_approx)
    est._family_, est._link_ = family, link
    est._offset_fitted_ = has_off
    est.n_passes_ = int(fit.chunks.n_passes)
    est.objective_history_ = np.asarray(fit.history)


def _null_deviance(est, fit, chunks, ybar, has_off):
    if not has_off:
        return None  # from the final pass, at mu = ybar
    null = _Fit(chunks, "null", 1, 0.0, True, fit.observed, est.tol, est.max_iter)
    null.link = fit.link
    st, _, _ = null.run(null.start(ybar, None))
    return st["dev"]


def _inference(est, fit, st, chunks, S, ybar, has_off, observed):
    """Deviance, dispersion, covariance and Wald table (as the in-memory fit).
    The Pearson statistic, null deviance and (fixed scale) log-likelihood
    come from the last pass of the fit when it was at the final point, else
    from one more pass (and one for the log-likelihood of an estimated scale)."""
    family, k = est._family_, fit.k
    gram = st["G"] if st["G"] is not None else fit.evaluate(st["coef"])["G"]
    if est.cov_type == "oim" and observed:
        gram = st["H"] if st["H"] is not None else fit.evaluate(st["coef"])["H"]
    if fit.deficient:
        k = int(np.linalg.matrix_rank(gram))
    extra = st.get("extra")
    if extra is None:
        extra = chunks.map_sum(_c_final, st["coef"], *fit.final)[0:3]
    chi2, null, llf1 = (float(v) for v in extra)
    est.deviance_ = float(st["dev"])
    est._n_obs_ = float(S)
    est._df_resid_ = est._n_obs_ - k
    nd = _null_deviance(est, fit, chunks, ybar, has_off)
    est.null_deviance_ = float(null if nd is None else nd)
    est.scale_ = _dispersion(est, family, chi2)
    est._k_ = k
    scale = est.scale_
    if family.name == "normal" and est._link_.name == "identity":
        scale = est.deviance_ / S
    est._llf_args_ = None
    est._llf_value_ = (llf1 if family.fixed_scale else
                       float(chunks.map_sum(_c_llf, st["coef"], scale)[0]))
    H = gram + np.diag(fit.pdiag)
    Hinv = linalg.pinvh(H) if fit.deficient else inverse_pd(H)
    cov = est.scale_ * (Hinv @ gram @ Hinv if np.any(fit.pdiag > 0) else Hinv)
    p = est.n_features_in_
    order = np.r_[[p] if est.fit_intercept else [], np.arange(p)].astype(int)
    est.covariance_ = cov[np.ix_(order, order)]
    se = np.sqrt(np.clip(np.diag(est.covariance_), 0.0, None))
    est.intercept_stderr_ = float(se[0]) if est.fit_intercept else float("nan")
    est.coef_stderr_ = se[int(est.fit_intercept):]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est._params_vector() / se
    est.pvalues_ = 2.0 * stats.norm.sf(np.abs(z))


def _dispersion(est, family, chi2):
    if family.fixed_scale:
        return 1.0
    if not isinstance(est.scale, str):
        return float(est.scale)
    if est._df_resid_ <= 0:
        return float("nan")
    if est.scale == "deviance":
        return est.deviance_ / est._df_resid_
    return chi2 / est._df_resid_


__all__ = ["fit_glm"]
