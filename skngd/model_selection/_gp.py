r"""Gaussian-process surrogate: Matérn 5/2 with automatic relevance determination.

The kernel on the unit-cube encoding is

.. math::

    k(x, x') = s^2 \left(1 + \sqrt5 r + \tfrac53 r^2\right) e^{-\sqrt5 r},
    \qquad r^2 = \sum_j \frac{(x_j - x'_j)^2}{\ell_j^2},

with observations :math:`y = f(x) + \varepsilon`, :math:`\varepsilon \sim
N(0, \sigma_n^2)` on standardised targets. The hyper-parameters
:math:`\theta = (\log s^2, \log \ell_1, \dots, \log \ell_d, \log \sigma_n^2)` maximise
the log marginal likelihood

.. math::

    \log p(y \mid \theta) = -\tfrac12 y^\top K_\theta^{-1} y
    - \tfrac12 \log |K_\theta| - \tfrac n2 \log 2\pi

plus a weak log-normal prior on the length-scales (which keeps them off the box
bounds when there are only a handful of points), by L-BFGS-B with analytic gradients
from several starts (the previous optimum and random points). Written in NumPy/SciPy
so that one fit at 100 observations takes milliseconds.

References
----------
Rasmussen, C. E. and Williams, C. K. I. (2006). Gaussian Processes for Machine
Learning, chapters 2 and 5. MIT Press.
"""

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.linalg.lapack import dpotrf, dpotri, dpotrs
from scipy.optimize import minimize

SQRT5 = np.sqrt(5.0)
_BOUNDS_AMP = (np.log(0.05), np.log(20.0))
_BOUNDS_LS = (np.log(0.01), np.log(10.0))
_BOUNDS_NOISE = (np.log(1e-6), np.log(1.0))
_LS_PRIOR = (np.log(0.5), 2.0)  # mean and sd of log length-scale


def matern52(X1, X2, length_scale, amplitude=1.0):
    """Matérn 5/2 ARD kernel matrix between the rows of ``X1`` and ``X2``."""
    A = X1 / length_scale
    B = X2 / length_scale
    r2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    r = np.sqrt(np.maximum(r2, 0.0))
    return amplitude * (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-SQRT5 * r)


def _c_of_r(r, amplitude):
    # -(1/r) dk/dr = s^2 (5/3) (1 + sqrt5 r) exp(-sqrt5 r), finite at r = 0
    return amplitude * (5.0 / 3.0) * (1.0 + SQRT5 * r) * np.exp(-SQRT5 * r)


class GaussianProcess:
    """Matérn 5/2 ARD GP regression with hyper-parameters by marginal likelihood.

    Parameters
    ----------
    n_restarts : int, default=2
        Random L-BFGS-B starts in addition to ``theta0`` (or the default start).
    theta0 : ndarray or None
        Warm start ``(log s^2, log l_1..l_d, log noise)``.
    random_state : numpy Generator or RandomState or int, default=None
    max_iter : int, default=60
        L-BFGS-B iterations per start.
    """

    def __init__(self, n_restarts=2, theta0=None, random_state=None, max_iter=60):
        self.n_restarts = n_restarts
        self.theta0 = theta0
        self.random_state = random_state
        self.max_iter = max_iter

    # -- hyper-parameters ------------------------------------------------
    def _unpack(self, theta):
        d = theta.size - 2
        return np.exp(theta[0]), np.exp(theta[1 : 1 + d]), np.exp(theta[-1])

    def neg_log_marginal_likelihood(self, theta, X=None, y=None, S=None):
        """Negative log marginal likelihood (plus prior) and its gradient."""
        X = self.X_ if X is None else X
        y = self.y_ if y is None else y
        n, d = X.shape
        amp, ls, noise = self._unpack(theta)
        if S is None:
            S = (X[:, None, :] - X[None, :, :]) ** 2
            S = np.ascontiguousarray(np.moveaxis(S, 2, 0)).reshape(d, n * n)
        r = np.sqrt(np.maximum((1.0 / ls**2) @ S, 0.0)).reshape(n, n)
        e = np.exp(-SQRT5 * r)
        Kf = amp * (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * e
        K = Kf + (noise + 1e-10) * np.eye(n)
        L, info = dpotrf(K, lower=1, clean=1)
        if info != 0:
            return 1e25, np.zeros_like(theta)
        alpha = dpotrs(L, y, lower=1)[0]
        Kinv, info = dpotri(L, lower=1)
        Kinv = Kinv + np.tril(Kinv, -1).T
        nll = 0.5 * y @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * np.log(2 * np.pi)
        W = Kinv - np.outer(alpha, alpha)
        grad = np.empty_like(theta)
        grad[0] = 0.5 * (W * Kf).sum()
        G = (W * (amp * (5.0 / 3.0) * (1.0 + SQRT5 * r) * e)).ravel()
        grad[1 : 1 + d] = 0.5 * (S @ G) / ls**2
        grad[-1] = 0.5 * noise * np.trace(W)
        # weak log-normal prior on the length-scales
        mu, sd = _LS_PRIOR
        z = (theta[1 : 1 + d] - mu) / sd
        nll += 0.5 * (z * z).sum()
        grad[1 : 1 + d] += z / sd
        return nll, grad

    def fit(self, X, y):
        """Fit the hyper-parameters and condition on ``(X, y)``; returns self."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        n, d = X.shape
        self.y_mean_ = float(y.mean())
        std = float(y.std())
        self.y_std_ = std if std > 1e-12 else 1.0
        ys = (y - self.y_mean_) / self.y_std_
        rng = self.random_state
        if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
            rng = np.random.default_rng(rng)
        bounds = [_BOUNDS_AMP] + [_BOUNDS_LS] * d + [_BOUNDS_NOISE]
        lo = np.array([b[0] for b in bounds])
        hi = np.array([b[1] for b in bounds])
        starts = []
        if self.theta0 is not None and np.size(self.theta0) == d + 2:
            starts.append(np.clip(np.asarray(self.theta0, dtype=float), lo, hi))
        else:
            starts.append(np.r_[0.0, np.full(d, np.log(0.3)), np.log(1e-2)])
        for _ in range(self.n_restarts):
            starts.append(lo + (hi - lo) * rng.uniform(size=d + 2))
        S = (X[:, None, :] - X[None, :, :]) ** 2
        S = np.ascontiguousarray(np.moveaxis(S, 2, 0)).reshape(d, n * n)
        best = None
        for t0 in starts:
            res = minimize(
                self.neg_log_marginal_likelihood,
                t0,
                args=(X, ys, S),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": self.max_iter},
            )
            if best is None or res.fun < best.fun:
                best = res
        self.theta_ = np.clip(best.x, lo, hi)
        self._condition(X, ys)
        return self

    def _condition(self, X, ys):
        amp, ls, noise = self._unpack(self.theta_)
        self.amplitude_, self.length_scale_, self.noise_ = amp, ls, noise
        self.X_, self.y_ = X, ys
        K = matern52(X, X, ls, amp) + (noise + 1e-10) * np.eye(X.shape[0])
        self.L_ = cholesky(K, lower=True, check_finite=False)
        self.alpha_ = cho_solve((self.L_, True), ys, check_finite=False)
        self.K_inv_ = cho_solve((self.L_, True), np.eye(X.shape[0]), check_finite=False)

    def fantasize(self, x, y_std):
        """Return a copy conditioned on one more point (standardised target).

        Hyper-parameters are kept: this is the constant-liar / kriging-believer step.
        """
        new = object.__new__(GaussianProcess)
        new.__dict__.update(self.__dict__)
        new._condition(np.vstack([self.X_, x[None, :]]), np.r_[self.y_, y_std])
        return new

    # -- posterior ---------------------------------------------------------
    def predict(self, Xs, return_grad=False):
        """Posterior mean and std of the latent function, standardised units.

        With ``return_grad`` also their gradients with respect to ``Xs``
        (arrays of shape (m, d)).
        """
        Xs = np.atleast_2d(np.asarray(Xs, dtype=float))
        ls, amp = self.length_scale_, self.amplitude_
        Ks = matern52(Xs, self.X_, ls, amp)
        mu = Ks @ self.alpha_
        KiKs = Ks @ self.K_inv_  # (m, n)
        var = np.maximum(amp - (KiKs * Ks).sum(1), 1e-12)
        sd = np.sqrt(var)
        if not return_grad:
            return mu, sd
        diff = (Xs[:, None, :] - self.X_[None, :, :]) / ls**2  # (m, n, d)
        A = Xs / ls
        B = self.X_ / ls
        r2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
        G = -_c_of_r(np.sqrt(np.maximum(r2, 0.0)), amp)  # dK/dx = G * diff
        dmu = np.einsum("mn,mnd->md", G * self.alpha_[None, :], diff)
        dvar = -2.0 * np.einsum("mn,mnd->md", G * KiKs, diff)
        dsd = dvar / (2.0 * sd[:, None])
        return mu, sd, dmu, dsd

    def sample(self, Xs, n_samples, rng):
        """Joint posterior samples of the latent function at ``Xs``, (n_samples, m)."""
        Xs = np.atleast_2d(Xs)
        Ks = matern52(Xs, self.X_, self.length_scale_, self.amplitude_)
        mu = Ks @ self.alpha_
        v = solve_triangular(self.L_, Ks.T, lower=True, check_finite=False)
        cov = matern52(Xs, Xs, self.length_scale_, self.amplitude_) - v.T @ v
        cov[np.diag_indices_from(cov)] += 1e-6 * self.amplitude_
        root, info = dpotrf(cov, lower=1, clean=1)
        if info != 0:  # numerically indefinite: fall back to the eigen-root
            w, Q = np.linalg.eigh(cov)
            root = Q * np.sqrt(np.maximum(w, 0.0))
        z = rng.standard_normal((n_samples, Xs.shape[0]))
        return mu[None, :] + z @ root.T
