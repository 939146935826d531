"""Search spaces and their encoding to the unit cube.

Every dimension maps its values to ``n_columns`` coordinates in ``[0, 1]``:

* :class:`Real` -- one column, affine in ``x`` (``prior='uniform'``) or in
  ``log x`` (``prior='log-uniform'``);
* :class:`Integer` -- one column; the integer ``v`` owns the bin
  ``[v - 1/2, v + 1/2]`` of the (possibly log-scaled) real line, is encoded at the
  centre of its bin and decoded by rounding, so every integer gets the same share
  of the cube and ``decode(encode(v)) == v`` exactly;
* :class:`Categorical` -- one column per value (one-hot); decoding takes the arg-max,
  so any point of the cube decodes to a valid value;
* scipy.stats frozen distributions -- ``loguniform`` becomes a log-uniform
  :class:`Real`, ``uniform`` a :class:`Real`, ``randint`` an :class:`Integer`; any other
  continuous distribution is mapped through its CDF (``u = F(x)``, ``x = F^{-1}(u)``);
* scikit-optimize and Optuna dimensions -- read through their attributes
  (:mod:`._foreign`), without importing either package.

A list of dicts is a conditional space: each dict is a subspace with its own block
of columns, preceded by a one-hot block choosing the subspace (when there is more
than one). Inactive blocks are encoded at 0.5, so canonical encodings of points of
different subspaces differ only in the blocks that matter.
"""

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

_PRIORS = ("uniform", "log-uniform")


def _check_bounds(low, high, prior, cls, integer=False):
    kind = numbers.Integral if integer else numbers.Real
    for name, v in (("low", low), ("high", high)):
        if not isinstance(v, kind) or isinstance(v, bool) or not np.isfinite(v):
            what = "an integer" if integer else "a finite real number"
            raise ValueError(f"{cls}: {name} must be {what}, got {v!r}.")
    if not low < high:
        raise ValueError(f"{cls}: low ({low!r}) must be < high ({high!r}).")
    if prior not in _PRIORS:
        raise ValueError(f"{cls}: prior must be one of {_PRIORS}, got {prior!r}.")
    if prior == "log-uniform" and low <= 0:
        raise ValueError(
            f"{cls}: prior='log-uniform' needs low > 0, got low={low!r}."
        )


class Dimension:
    """Base class: a one-parameter search dimension encoded into ``[0, 1]^k``."""

    n_columns = 1
    finite = False

    def encode(self, value):  # pragma: no cover - abstract
        raise NotImplementedError

    def decode(self, u):  # pragma: no cover - abstract
        raise NotImplementedError

    def rvs(self, size=None, random_state=None):
        """Draw values uniformly on the encoding (so RandomizedSearchCV accepts it)."""
        from sklearn.utils import check_random_state

        rng = check_random_state(random_state)
        n = 1 if size is None else int(np.prod(size))
        draws = [self.decode(rng.uniform(size=max(self.n_columns, 1)))
                 for _ in range(n)]
        return draws[0] if size is None else draws

    def key(self, value):
        """Hashable identity of a value, used to recognise repeated candidates.

        Reals are compared to 12 significant digits, so that a value and its
        decode(encode(.)) image (equal up to rounding) are the same candidate.
        """
        return float(f"{float(value):.12g}")

    def snap(self, u):
        """Canonical point of the block ``u``: ``(value, encoding, key)``."""
        value = self.decode(u)
        return value, self.encode(value), self.key(value)


class Real(Dimension):
    """A real parameter in ``[low, high]``.

    Parameters
    ----------
    low, high : float
        Bounds, ``low < high``.
    prior : {'uniform', 'log-uniform'}, default='uniform'
        'log-uniform' searches ``log x`` uniformly and needs ``low > 0``.

    Examples
    --------
    >>> from skngd.model_selection import Real
    >>> d = Real(1e-3, 1e3, prior="log-uniform")
    >>> float(d.encode(1.0)[0])
    0.5
    """

    def __init__(self, low, high, prior="uniform"):
        _check_bounds(low, high, prior, "Real")
        self.low, self.high, self.prior = float(low), float(high), prior
        self._log = prior == "log-uniform"
        self._a = math.log(self.low) if self._log else self.low
        self._b = math.log(self.high) if self._log else self.high

    def __repr__(self):
        return f"Real({self.low!r}, {self.high!r}, prior={self.prior!r})"

    def encode(self, value):
        t = math.log(value) if self._log else float(value)
        return np.array([min(1.0, max(0.0, (t - self._a) / (self._b - self._a)))])

    def decode(self, u):
        t = self._a + float(np.clip(u[0], 0.0, 1.0)) * (self._b - self._a)
        x = math.exp(t) if self._log else t
        return float(min(self.high, max(self.low, x)))


class Integer(Dimension):
    """An integer parameter in ``{low, ..., high}`` (both included).

    Parameters
    ----------
    low, high : int
        Bounds, ``low < high``.
    prior : {'uniform', 'log-uniform'}, default='uniform'
        'log-uniform' gives each integer ``v`` a share proportional to
        ``log((v + 1/2) / (v - 1/2))`` and needs ``low > 0``.

    Examples
    --------
    >>> from skngd.model_selection import Integer
    >>> d = Integer(1, 10)
    >>> d.decode(d.encode(7))
    7
    """

    def __init__(self, low, high, prior="uniform"):
        _check_bounds(low, high, prior, "Integer", integer=True)
        self.low, self.high, self.prior = int(low), int(high), prior
        self._log = prior == "log-uniform"
        f = math.log if self._log else float
        self._f = f
        self._a, self._b = f(self.low - 0.5), f(self.high + 0.5)
        self.finite = True
        self.size = self.high - self.low + 1

    def __repr__(self):
        return f"Integer({self.low!r}, {self.high!r}, prior={self.prior!r})"

    @property
    def bin_width(self):
        """Smallest bin width in encoded units (used by CMA-ES with margin)."""
        if self._log:
            return (self._f(self.high + 0.5) - self._f(self.high - 0.5)) / (
                self._b - self._a
            )
        return 1.0 / self.size

    def encode(self, value):
        v = int(value)
        c = 0.5 * (self._f(v - 0.5) + self._f(v + 0.5))
        return np.array([(c - self._a) / (self._b - self._a)])

    def decode(self, u):
        t = self._a + float(np.clip(u[0], 0.0, 1.0)) * (self._b - self._a)
        x = math.exp(t) if self._log else t
        return int(min(self.high, max(self.low, math.floor(x + 0.5))))

    def key(self, value):
        """Hashable identity of a value, used to recognise repeated candidates."""
        return int(value)

    def values(self):
        return list(range(self.low, self.high + 1))

    def grid(self):
        """Every ``(value, encoding, key)`` of the dimension, in order."""
        return [(v, self.encode(v), v) for v in self.values()]


class Categorical(Dimension):
    """A parameter taking one of ``values`` (any Python objects), one-hot encoded.

    Parameters
    ----------
    values : sequence
        The candidate values, at least one.

    Examples
    --------
    >>> from skngd.model_selection import Categorical
    >>> d = Categorical(["a", "b", "c"])
    >>> d.encode("b").tolist()
    [0.0, 1.0, 0.0]
    >>> d.decode(d.encode("b"))
    'b'
    """

    finite = True

    def __init__(self, values):
        values = list(values)
        if len(values) == 0:
            raise ValueError("Categorical: values must not be empty.")
        self.values_ = values
        self.size = len(values)
        self.n_columns = len(values) if len(values) > 1 else 0

    def __repr__(self):
        return f"Categorical({self.values_!r})"

    def _index(self, value):
        for i, v in enumerate(self.values_):
            if v is value:
                return i
        for i, v in enumerate(self.values_):
            try:
                if bool(v == value):
                    return i
            except Exception:  # arrays, estimators with odd __eq__
                continue
        raise ValueError(f"{value!r} is not one of {self.values_!r}.")

    def encode(self, value):
        u = np.zeros(self.n_columns)
        if self.n_columns:
            u[self._index(value)] = 1.0
        return u

    def _position(self, u):
        return int(np.argmax(u)) if self.n_columns else 0

    def decode(self, u):
        return self.values_[self._position(u)]

    def key(self, value):
        """Hashable identity of a value (its index among the categories)."""
        return self._index(value)

    def snap(self, u):
        """One-hot at the arg-max: a repeated value keeps its own position."""
        i = self._position(u)
        e = np.zeros(self.n_columns)
        if self.n_columns:
            e[i] = 1.0
        return self.values_[i], e, i

    def values(self):
        return list(self.values_)

    def grid(self):
        """Every ``(value, encoding, key)``, one per position (repeats included)."""
        return [self.snap(np.eye(max(self.n_columns, 1))[i])
                for i in range(self.size)]


class _CDFReal(Dimension):
    """A continuous scipy.stats frozen distribution searched through its CDF."""

    _EPS = 1e-9

    def __init__(self, dist):
        self.dist = dist

    def __repr__(self):
        return f"_CDFReal({self.dist.dist.name})"

    def encode(self, value):
        return np.array([float(np.clip(self.dist.cdf(value), 0.0, 1.0))])

    def decode(self, u):
        q = float(np.clip(u[0], self._EPS, 1.0 - self._EPS))
        return float(self.dist.ppf(q))


def _from_frozen(dist, where):
    """Turn a scipy.stats frozen distribution into a Dimension."""
    name = dist.dist.name
    try:
        _, loc, scale = dist.dist._parse_args(*dist.args, **dist.kwds)
    except Exception:  # pragma: no cover - unusual distribution object
        loc, scale = 0.0, 1.0
    lo, hi = dist.support()
    if name in ("loguniform", "reciprocal") and loc == 0:
        return Real(float(lo), float(hi), prior="log-uniform")
    if name == "uniform":
        return Real(float(lo), float(hi))
    if name == "randint":
        return Integer(int(lo), int(hi))
    from scipy.stats import rv_continuous

    if isinstance(dist.dist, rv_continuous):
        return _CDFReal(dist)
    raise ValueError(
        f"{where}: unsupported distribution {name!r}; use a continuous scipy.stats "
        "distribution, randint, a list, or Real/Integer/Categorical."
    )


def as_dimension(value, where):
    """Convert one entry of ``param_distributions`` into a :class:`Dimension`."""
    if isinstance(value, Dimension):
        return value
    from ._foreign import check_tuple_shorthand, foreign_dimension

    dim = foreign_dimension(value, where)
    if dim is not None:
        return dim
    check_tuple_shorthand(value, where)
    if hasattr(value, "rvs") and hasattr(value, "dist") and hasattr(value, "support"):
        return _from_frozen(value, where)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ValueError(
            f"{where}: unknown distribution type {type(value).__name__}; expected a "
            "list of values, a scipy.stats frozen distribution, "
            "Real/Integer/Categorical, or a scikit-optimize / Optuna dimension."
        )
    if len(value) == 0:
        raise ValueError(f"{where}: the list of values is empty.")
    return Categorical(value)


class Subspace:
    """One dict of ``param_distributions``: named dimensions, concatenated columns."""

    def __init__(self, mapping, where):
        if not isinstance(mapping, Mapping):
            raise ValueError(f"{where} must be a dict, got {type(mapping).__name__}.")
        if len(mapping) == 0:
            raise ValueError(f"{where} is empty: nothing to search.")
        self.names = sorted(mapping)
        for name in self.names:
            if not isinstance(name, str):
                raise ValueError(f"{where}: parameter names must be str, got {name!r}.")
        self.dims = [as_dimension(mapping[n], f"{where}[{n!r}]") for n in self.names]
        self.n_columns = sum(d.n_columns for d in self.dims)
        self.finite = all(d.finite for d in self.dims)

    def encode(self, params):
        parts = [d.encode(params[n]) for n, d in zip(self.names, self.dims)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def decode(self, u):
        out, j = {}, 0
        for n, d in zip(self.names, self.dims):
            out[n] = d.decode(u[j : j + d.n_columns])
            j += d.n_columns
        return out

    def key(self, params):
        return tuple(d.key(params[n]) for n, d in zip(self.names, self.dims))

    def _blocks(self, u):
        j = 0
        for d in self.dims:
            yield d, u[j : j + d.n_columns]
            j += d.n_columns

    def snap(self, u):
        """Canonical ``(params, encoding, key)`` of the block ``u``."""
        parts = [d.snap(b) for d, b in self._blocks(u)]
        return self._join(parts)

    def _join(self, parts):
        params = {n: p[0] for n, p in zip(self.names, parts)}
        enc = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
        return params, enc, tuple(p[2] for p in parts)

    def grid(self):
        """Every canonical point of a finite subspace, in ParameterGrid order."""
        import itertools

        return [self._join(c) for c in itertools.product(*(d.grid() for d in self.dims))]

    def size(self):
        return math.prod(d.size for d in self.dims) if self.finite else math.inf


class SearchSpace:
    """A (possibly conditional) search space built from ``param_distributions``.

    Parameters
    ----------
    param_distributions : dict or list of dict
        As accepted by :class:`~sklearn.model_selection.RandomizedSearchCV`, plus
        :class:`Real`, :class:`Integer` and :class:`Categorical` values and
        scikit-optimize / Optuna dimensions (see ``_foreign``).

    Attributes
    ----------
    n_columns : int
        Dimension of the unit cube the space is encoded into.
    n_params : int
        Largest number of parameters of a subspace.

    Examples
    --------
    >>> from skngd.model_selection import Integer, SearchSpace
    >>> space = SearchSpace({"C": [0.1, 1.0], "k": Integer(1, 5)})
    >>> space.n_columns, space.n_params
    (3, 2)
    """

    def __init__(self, param_distributions):
        where = "param_distributions"
        if isinstance(param_distributions, Mapping):
            subs = [Subspace(param_distributions, where)]
        elif isinstance(param_distributions, Sequence) and not isinstance(
            param_distributions, str
        ):
            if len(param_distributions) == 0:
                raise ValueError(f"{where} is empty: nothing to search.")
            subs = [
                Subspace(m, f"{where}[{i}]") for i, m in enumerate(param_distributions)
            ]
        else:
            raise ValueError(
                f"{where} must be a dict or a list of dicts, got "
                f"{type(param_distributions).__name__}."
            )
        self.subspaces = subs
        self.n_head = len(subs) if len(subs) > 1 else 0
        self.offsets = np.cumsum([self.n_head] + [s.n_columns for s in subs])
        self.n_columns = int(self.offsets[-1])
        self.n_params = max(len(s.names) for s in subs)
        self.finite = all(s.finite for s in subs)

    def size(self):
        return sum(s.size() for s in self.subspaces)

    def _which(self, params):
        keys = set(params)
        for i, s in enumerate(self.subspaces):
            if set(s.names) == keys:
                try:
                    s.encode(params)
                except ValueError:
                    continue
                return i
        raise ValueError(f"{params!r} does not belong to the search space.")

    def encode(self, params, subspace=None):
        """Canonical encoding of a parameter dict (inactive blocks at 0.5)."""
        i = self._which(params) if subspace is None else subspace
        return self._place(i, self.subspaces[i].encode(params))

    def decode(self, u):
        """Parameter dict of a point of the cube (any point decodes)."""
        u = np.asarray(u, dtype=float)
        i = int(np.argmax(u[: self.n_head])) if self.n_head else 0
        return self.subspaces[i].decode(u[self.offsets[i] : self.offsets[i + 1]])

    def _place(self, i, block):
        u = np.full(self.n_columns, 0.5)
        if self.n_head:
            u[: self.n_head] = 0.0
            u[i] = 1.0
        u[self.offsets[i] : self.offsets[i + 1]] = block
        return u

    def canonical(self, u):
        """Canonical ``(params, u, key)`` of a point of the cube.

        Snaps integers to their bin centre, categoricals to the one-hot of their
        arg-max (so a value listed twice keeps two distinct positions, as in
        ParameterGrid) and inactive blocks to 0.5.
        """
        u = np.asarray(u, dtype=float)
        i = int(np.argmax(u[: self.n_head])) if self.n_head else 0
        params, block, key = self.subspaces[i].snap(
            u[self.offsets[i] : self.offsets[i + 1]])
        return params, self._place(i, block), (i,) + key

    def key(self, params):
        i = self._which(params)
        return (i,) + self.subspaces[i].key(params)

    def enumerate(self, limit=20000):
        """All (params, u, key) of a finite space in ParameterGrid order, or None
        if the space is larger than ``limit``."""
        if not self.finite or self.size() > limit:
            return None
        return [(p, self._place(i, b), (i,) + k)
                for i, s in enumerate(self.subspaces) for p, b, k in s.grid()]

    def integer_widths(self):
        """Per-column bin width for integer columns (0 elsewhere), for CMA-ES margin."""
        w = np.zeros(self.n_columns)
        for i, s in enumerate(self.subspaces):
            j = self.offsets[i]
            for d in s.dims:
                if d.n_columns == 1 and hasattr(d, "bin_width"):
                    w[j] = d.bin_width
                j += d.n_columns
        return w
