"""Ask/tell engines behind the search classes.

A proposer sees the search space, a seeded generator and the scores so far; ``ask(k,
seen)`` returns up to ``k`` new candidates ``(params, u, key)`` whose keys are not in
``seen`` (so finished and failed candidates are never proposed again) and ``tell(u,
y)`` records scores (higher is better, NaN for a failed candidate). ``k=None`` asks
for the engine's natural batch: the rest of the initial design, then one proposal
(GP) or the rest of the current generation (CMA-ES); it never depends on ``n_jobs``.
Both engines start with the same scrambled-Sobol design, evaluated before any
model-based proposal.
"""

import numpy as np
from scipy.stats import qmc

from ._acquisition import maximize_acquisition
from ._cmaes import CMAES
from ._gp import GaussianProcess


class _Proposer:
    def __init__(self, space, rng, n_initial):
        self.space = space
        self.rng = rng
        self.n_initial = n_initial
        self.U, self.y = [], []
        self._enum = space.enumerate()
        d = max(space.n_columns, 1)
        m = int(np.ceil(np.log2(max(n_initial, 1))))
        sobol = qmc.Sobol(d, scramble=True, seed=rng).random_base2(m)
        self._initial = list(sobol[:n_initial, : space.n_columns])

    def _random_unseen(self, seen):
        if self._enum is not None:
            free = [c for c in self._enum if c[2] not in seen]
            if not free:
                return None
            return free[int(self.rng.integers(len(free)))]
        for _ in range(1000):
            c = self.space.canonical(self.rng.uniform(size=self.space.n_columns))
            if c[2] not in seen:
                return c
        return None

    def _first_unseen(self, points, seen):
        for u in points:
            c = self.space.canonical(u)
            if c[2] not in seen:
                return c
        return self._random_unseen(seen)

    def _initial_batch(self, k, seen):
        out = []
        while self._initial and (k is None or len(out) < k):
            c = self._first_unseen([self._initial.pop(0)], seen)
            if c is None:
                break
            seen.add(c[2])
            out.append(c)
        return out

    def tell(self, U, y):
        self.U.extend(np.asarray(U, dtype=float))
        self.y.extend(np.asarray(y, dtype=float))

    def _filled(self):
        """Scores with failures replaced by the worst successful score."""
        y = np.asarray(self.y, dtype=float)
        ok = np.isfinite(y)
        if not ok.any():
            return None
        return np.where(ok, y, y[ok].min())


class GPProposer(_Proposer):
    """Bayesian optimisation: GP surrogate, acquisition, constant liar / believer."""

    def __init__(self, space, rng, n_initial, acquisition="ei", kappa=1.96, xi=0.01,
                 batch_strategy="constant_liar"):
        super().__init__(space, rng, n_initial)
        self.acquisition, self.kappa, self.xi = acquisition, kappa, xi
        self.batch_strategy = batch_strategy
        self.theta_ = None
        self.n_fits_ = 0

    def ask(self, k, seen):
        seen = set(seen)
        out = self._initial_batch(k, seen)
        if out or self._initial:
            return out
        k = 1 if k is None else k
        y = self._filled()
        if y is None or len(self.y) < 2 or self.space.n_columns == 0:
            while len(out) < k:
                c = self._random_unseen(seen)
                if c is None:
                    break
                seen.add(c[2])
                out.append(c)
            return out
        X = np.asarray(self.U)
        gp = GaussianProcess(
            n_restarts=2 if self.n_fits_ % 5 == 0 else 0,
            theta0=self.theta_, random_state=self.rng,
        ).fit(X, y)
        self.theta_, self.n_fits_ = gp.theta_, self.n_fits_ + 1
        anchors = X[np.argsort(-y)]
        while len(out) < k:
            pts, _ = maximize_acquisition(
                gp, self.acquisition, gp.y_.max(), self.rng,
                kappa=self.kappa, xi=self.xi, anchors=anchors,
            )
            c = self._first_unseen(pts, seen)
            if c is None:
                break
            seen.add(c[2])
            out.append(c)
            if len(out) < k:
                if self.batch_strategy == "kriging_believer":
                    lie = float(gp.predict(c[1][None, :])[0][0])
                else:
                    lie = float(gp.y_.min())
                gp = gp.fantasize(c[1], lie)
        return out


class CMAESProposer(_Proposer):
    """CMA-ES on the encoding, started at the best point of the initial design.

    Candidates whose canonical form was already evaluated are not re-evaluated:
    their recorded score is reused in the ranking.
    """

    def __init__(self, space, rng, n_initial, sigma0=0.3, popsize=None):
        super().__init__(space, rng, n_initial)
        self.sigma0, self.popsize = sigma0, popsize
        self.es = None
        self.values = {}
        self._gen = None  # list of [raw x, key] of the current generation
        self._queue = []

    def tell(self, U, y):
        super().tell(U, y)
        for u, v in zip(U, y):
            self.values[self.space.canonical(u)[2]] = v

    def _maybe_finish_generation(self):
        if self._gen is None or any(k not in self.values for _, k in self._gen):
            return
        X = np.array([x for x, _ in self._gen])
        f = np.array([-self.values[k] for _, k in self._gen])
        self.es.tell(X, f)
        self._gen = None
        if np.max(self.es.marginal_sd) < 1e-6:
            self.es.restart(np.asarray(self.U)[int(np.argmax(self._filled()))])

    def _new_generation(self, seen):
        if self.es is None:
            y = self._filled()
            mean = (np.asarray(self.U)[int(np.argmax(y))] if y is not None
                    else np.full(self.space.n_columns, 0.5))
            self.es = CMAES(
                mean, self.sigma0, self.popsize, bounds=(0.0, 1.0),
                margin_widths=self._margin_widths(), random_state=self.rng,
            )
        X = self.es.ask()
        self._gen, self._queue = [], []
        for x in X:
            c = self.space.canonical(x)
            self._gen.append((x, c[2]))
            if c[2] not in self.values and c[2] not in seen:
                seen.add(c[2])
                self._queue.append(c)

    def _margin_widths(self):
        w = self.space.integer_widths()
        # one-hot categorical columns: a flip needs a move of about 1/2
        for i, s in enumerate(self.space.subspaces):
            j = self.space.offsets[i]
            for d in s.dims:
                if d.n_columns > 1:
                    w[j : j + d.n_columns] = 0.5
                j += d.n_columns
        w[: self.space.n_head] = 0.5
        return w

    def ask(self, k, seen):
        seen = set(seen)
        out = self._initial_batch(k, seen)
        if out or self._initial:
            return out
        if self.space.n_columns == 0:
            return out
        for _ in range(30):
            self._maybe_finish_generation()
            if self._gen is None:
                self._new_generation(seen)
            if self._queue:
                k = len(self._queue) if k is None else k
                out, self._queue = self._queue[:k], self._queue[k:]
                return out
            if self._gen is not None and any(kk not in self.values for _, kk in self._gen):
                return out  # pending members still being evaluated
        c = self._random_unseen(seen)
        return [] if c is None else [c]


class GridProposer:
    """Every candidate of a finite space, in ParameterGrid order (``n_iter >= size``).

    When the budget covers the whole space the order cannot change what is found,
    so the search evaluates it as GridSearchCV would (one call for ``k=None``).
    """

    def __init__(self, space):
        self._todo = space.enumerate(limit=float("inf"))

    def ask(self, k, seen):
        self._todo = [c for c in self._todo if c[2] not in seen]
        k = len(self._todo) if k is None else k
        out, self._todo = self._todo[:k], self._todo[k:]
        return out

    def tell(self, U, y):
        pass
