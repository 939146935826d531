r"""CMA-ES (minimisation) following Hansen's tutorial, with a margin for integers.

One generation samples :math:`x_k = m + \sigma A y_k`, :math:`y_k \sim N(0, C)`,
:math:`k = 1..\lambda`, ranks them by :math:`f`, and updates (positive weights
:math:`w_i \propto \log\frac{\lambda+1}{2} - \log i`, :math:`i \le \mu`):

.. math::

    m &\leftarrow m + \sigma A \textstyle\sum_i w_i y_{i:\lambda} \\
    p_\sigma &\leftarrow (1-c_\sigma) p_\sigma + \sqrt{c_\sigma(2-c_\sigma)\mu_w}\,
        C^{-1/2} \langle y\rangle_w \\
    p_c &\leftarrow (1-c_c) p_c + h_\sigma \sqrt{c_c(2-c_c)\mu_w}\, \langle y\rangle_w \\
    C &\leftarrow (1 - c_1 - c_\mu + c_1\delta(h_\sigma)) C + c_1 p_c p_c^\top
        + c_\mu \textstyle\sum_i w_i y_{i:\lambda} y_{i:\lambda}^\top \\
    \sigma &\leftarrow \sigma \exp\!\Big(\frac{c_\sigma}{d_\sigma}
        \big(\tfrac{\|p_\sigma\|}{E\|N(0,I)\|} - 1\big)\Big)

with the default constants of the tutorial. Box constraints (the unit cube) are
handled by re-sampling out-of-box points a few times and then clipping; the update
uses the points that were actually evaluated.

*Margin.* For discrete coordinates ``j`` (integer bins of width :math:`w_j`, one-hot
categorical columns) the diagonal :math:`A` is reset each generation so that the
marginal standard deviation :math:`\sigma A_j \sqrt{C_{jj}}` never falls below
:math:`w_j / (2\Phi^{-1}(1 - \alpha/2))`, :math:`\alpha = 1/(n\lambda)`: a sample
leaves the current bin with probability at least :math:`\alpha`, so integer
coordinates cannot freeze. This is the lower bound on the marginal step of
CMA-ES with margin (Hamano et al., 2022) without its mean correction.

References
----------
Hansen, N. (2016). The CMA evolution strategy: a tutorial. arXiv:1604.00772.
Hamano, Saito, Nomura, Shirakawa (2022). CMA-ES with margin: lower-bounding
marginal probability for mixed-integer black-box optimization. GECCO.
"""

import numpy as np
from scipy.stats import norm


class CMAES:
    """Ask/tell CMA-ES.

    Parameters
    ----------
    mean : ndarray of shape (n,)
    sigma : float
    popsize : int or None
        :math:`\\lambda`, default ``4 + floor(3 ln n)``.
    bounds : tuple (low, high) or None
        Box constraints (scalars or arrays); None for an unconstrained problem.
    margin_widths : ndarray of shape (n,) or None
        Bin width of each discrete coordinate, 0 for continuous ones.
    random_state : numpy Generator
    """

    def __init__(self, mean, sigma, popsize=None, bounds=None, margin_widths=None,
                 random_state=None):
        m = np.asarray(mean, dtype=float).copy()
        n = m.size
        self.n = n
        lam = int(popsize) if popsize else 4 + int(3 * np.log(n))
        self.lam = max(lam, 2)
        mu = self.lam // 2
        w = np.log((self.lam + 1) / 2) - np.log(np.arange(1, mu + 1))
        self.weights = w / w.sum()
        self.mu_eff = 1.0 / (self.weights**2).sum()
        me = self.mu_eff
        self.c_c = (4 + me / n) / (n + 4 + 2 * me / n)
        self.c_s = (me + 2) / (n + me + 5)
        self.c_1 = 2 / ((n + 1.3) ** 2 + me)
        self.c_mu = min(1 - self.c_1, 2 * (me - 2 + 1 / me) / ((n + 2) ** 2 + me))
        self.d_s = 1 + 2 * max(0.0, np.sqrt((me - 1) / (n + 1)) - 1) + self.c_s
        self.chi_n = np.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
        self.mean, self.sigma, self.sigma0 = m, float(sigma), float(sigma)
        self.C = np.eye(n)
        self.B, self.D = np.eye(n), np.ones(n)
        self.p_s, self.p_c = np.zeros(n), np.zeros(n)
        self.bounds = bounds
        self.rng = random_state if random_state is not None else np.random.default_rng()
        self.generation = 0
        mw = np.zeros(n) if margin_widths is None else np.asarray(margin_widths, float)
        self._margin_widths = mw
        alpha = 1.0 / (n * self.lam)
        self._min_sd = mw / (2.0 * norm.ppf(1.0 - alpha / 2.0))
        self.A = np.ones(n)
        self._update_margin()

    def _update_margin(self):
        sd = self.sigma * np.sqrt(np.diag(self.C))
        self.A = np.maximum(1.0, self._min_sd / np.maximum(sd, 1e-300))

    def _inside(self, x):
        if self.bounds is None:
            return np.ones(len(x), dtype=bool)
        lo, hi = self.bounds
        return np.all((x >= lo) & (x <= hi), axis=1)

    def ask(self):
        """One generation, shape (popsize, n)."""
        X = np.empty((self.lam, self.n))
        todo = np.arange(self.lam)
        for _ in range(10):
            z = self.rng.standard_normal((todo.size, self.n))
            y = (z * self.D) @ self.B.T
            X[todo] = self.mean + self.sigma * self.A * y
            todo = todo[~self._inside(X[todo])]
            if todo.size == 0:
                break
        if self.bounds is not None:
            X = np.clip(X, *self.bounds)
        return X

    def tell(self, X, f):
        """Update from the evaluated points ``X`` and their values ``f`` (lower is better)."""
        X = np.asarray(X, dtype=float)
        f = np.asarray(f, dtype=float)
        f = np.where(np.isfinite(f), f, np.inf)
        order = np.argsort(f, kind="stable")[: self.weights.size]
        Y = (X[order] - self.mean) / (self.sigma * self.A)
        y_w = self.weights @ Y
        self.mean = self.mean + self.sigma * self.A * y_w
        inv_sqrt = (self.B / self.D) @ self.B.T
        self.p_s = (1 - self.c_s) * self.p_s + np.sqrt(
            self.c_s * (2 - self.c_s) * self.mu_eff
        ) * (inv_sqrt @ y_w)
        self.generation += 1
        norm_ps = np.linalg.norm(self.p_s)
        h_s = norm_ps / np.sqrt(1 - (1 - self.c_s) ** (2 * self.generation)) < (
            1.4 + 2 / (self.n + 1)
        ) * self.chi_n
        self.p_c = (1 - self.c_c) * self.p_c + h_s * np.sqrt(
            self.c_c * (2 - self.c_c) * self.mu_eff
        ) * y_w
        delta = (1 - h_s) * self.c_c * (2 - self.c_c)
        rank_mu = (Y.T * self.weights) @ Y
        self.C = (
            (1 + self.c_1 * delta - self.c_1 - self.c_mu) * self.C
            + self.c_1 * np.outer(self.p_c, self.p_c)
            + self.c_mu * rank_mu
        )
        self.sigma *= np.exp((self.c_s / self.d_s) * (norm_ps / self.chi_n - 1))
        self.C = 0.5 * (self.C + self.C.T)
        ev, self.B = np.linalg.eigh(self.C)
        self.D = np.sqrt(np.maximum(ev, 1e-300))
        self._update_margin()

    @property
    def marginal_sd(self):
        """Marginal standard deviation of each coordinate of the next sample."""
        return self.sigma * self.A * np.sqrt(np.diag(self.C))

    def restart(self, mean):
        """Reset the distribution around ``mean`` (used when it has collapsed)."""
        self.__init__(mean, self.sigma0, self.lam, self.bounds,
                      self._margin_widths, self.rng)
