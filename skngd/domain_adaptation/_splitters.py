"""Cross-validation splitters that keep the source/target structure.

Both take the domains from ``sample_domain`` (requested for ``split`` under
metadata routing) or, when it is not routed, from the masked labels of ``y``
(what ``GridSearchCV`` passes them without routing).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from skngd.domain_adaptation._validation import check_sample_domain, target_mask_from_labels
from skngd.utils._sklearn_compat import _MetadataRequester


def _sample_domain(X, y, sample_domain, who):
    n = len(X)
    if sample_domain is not None:
        return check_sample_domain(sample_domain, n)
    if y is not None:
        return np.where(target_mask_from_labels(y), -1, 0).astype(np.int64)
    raise ValueError(
        f"{who}.split needs sample_domain (routed with metadata routing, or "
        "passed directly) or labels y whose target rows are masked (-1 / NaN)."
    )


def _n_test(n, test_size, who):
    k = int(np.ceil(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 < k < n:
        raise ValueError(
            f"{who}: test_size={test_size!r} leaves no train or no test row among "
            f"{n} rows of a domain."
        )
    return k


class _DomainSplitter(_MetadataRequester):
    """``split`` reads the domains once and hands them to ``_iter_splits``."""

    __metadata_request__split = {"sample_domain": True}

    def split(self, X, y=None, groups=None, sample_domain=None):
        """Yield ``(train, test)`` index arrays.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows (only their number is used).
        y : array-like of shape (n_samples,) or None
            Labels; masked rows (-1 / NaN) are the target when
            ``sample_domain`` is not given.
        groups : None
            Ignored (scikit-learn's splitter signature).
        sample_domain : array-like of int or None
            >= 0 source, < 0 target.

        Yields
        ------
        train, test : ndarray of int
            Row indices.
        """
        yield from self._iter_splits(_sample_domain(X, y, sample_domain, type(self).__name__))


class SourceTargetShuffleSplit(_DomainSplitter):
    """Shuffle split done separately within the source and the target rows.

    Every split holds out ``test_size`` of the source rows and of the target
    rows, so train and test sets both contain the two domains, in the
    proportions of the data (a plain ``ShuffleSplit`` can leave a fold
    without target rows, where no label-free score is defined).

    Parameters
    ----------
    n_splits : int >= 1, default=5
        Number of splits.
    test_size : float in (0, 1) or int >= 1, default=0.2
        Share (or number) of the rows of each domain held out.
    random_state : int, RandomState or None, default=None
        Seed of the shuffles.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.domain_adaptation import SourceTargetShuffleSplit
    >>> sd = np.r_[np.zeros(10, int), -np.ones(5, int)]
    >>> cv = SourceTargetShuffleSplit(n_splits=2, test_size=0.2, random_state=0)
    >>> [(len(tr), len(te)) for tr, te in cv.split(np.zeros((15, 1)), sample_domain=sd)]
    [(12, 3), (12, 3)]
    """

    def __init__(self, n_splits=5, *, test_size=0.2, random_state=None):
        self.n_splits = n_splits
        self.test_size = test_size
        self.random_state = random_state

    def _check(self):
        if not isinstance(self.n_splits, Integral) or self.n_splits < 1:
            raise ValueError(f"n_splits must be an integer >= 1, got {self.n_splits!r}.")
        ok_float = isinstance(self.test_size, Real) and not isinstance(self.test_size, Integral)
        if not (
            (ok_float and 0 < self.test_size < 1)
            or (isinstance(self.test_size, Integral) and self.test_size >= 1)
        ):
            raise ValueError(
                f"test_size must be a float in (0, 1) or an integer >= 1, got "
                f"{self.test_size!r}."
            )

    def _iter_splits(self, sd):
        self._check()
        parts = [np.flatnonzero(sd >= 0), np.flatnonzero(sd < 0)]
        if any(p.size == 0 for p in parts):
            raise ValueError(
                "SourceTargetShuffleSplit needs source and target rows; one "
                "domain is empty."
            )
        sizes = [_n_test(p.size, self.test_size, type(self).__name__) for p in parts]
        rng = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            perms = [p[rng.permutation(p.size)] for p in parts]
            test = np.sort(np.concatenate([q[:k] for q, k in zip(perms, sizes)]))
            train = np.sort(np.concatenate([q[k:] for q, k in zip(perms, sizes)]))
            yield train, test

    def get_n_splits(self, X=None, y=None, groups=None, sample_domain=None):
        """Return the number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored.
        sample_domain : array-like of int or None
            Ignored.

        Returns
        -------
        n_splits : int
            The number of splits.
        """
        return self.n_splits


class LeaveOneDomainOut(_DomainSplitter):
    """Hold out one source domain at a time (several source domains).

    ``sample_domain`` numbers the source domains (0, 1, 2, ... >= 0) and
    marks the target rows (< 0). Split ``k`` trains on every row but those
    of source domain ``d_k`` (the other sources and the target rows) and
    tests on domain ``d_k``'s labelled rows together with the target rows,
    so a label-free scorer still sees both domains while the held-out
    domain's own labels measure how the adapted model does on a shifted
    domain it never saw (masked target rows are never scored).

    Parameters
    ----------
    max_n_splits : int >= 1 or None, default=None
        At most this many domains are held out (the first in sorted order);
        None: every source domain.

    Examples
    --------
    >>> import numpy as np
    >>> from skngd.domain_adaptation import LeaveOneDomainOut
    >>> sd = np.array([0, 0, 1, 1, 2, -1, -1])
    >>> [te.tolist() for _, te in LeaveOneDomainOut().split(np.zeros((7, 1)), sample_domain=sd)]
    [[0, 1, 5, 6], [2, 3, 5, 6], [4, 5, 6]]
    """

    def __init__(self, max_n_splits=None):
        self.max_n_splits = max_n_splits

    def _domains(self, sd):
        domains = np.unique(sd[sd >= 0])
        if domains.size < 2:
            raise ValueError(
                "LeaveOneDomainOut needs at least two source domains "
                f"(sample_domain values >= 0), got {domains.tolist()}."
            )
        m = self.max_n_splits
        if m is not None and (not isinstance(m, Integral) or m < 1):
            raise ValueError(f"max_n_splits must be None or an integer >= 1, got {m!r}.")
        return domains if m is None else domains[:m]

    def split(self, X, y=None, groups=None, sample_domain=None):
        if sample_domain is None:
            raise ValueError(
                "LeaveOneDomainOut.split needs sample_domain (several source "
                "domains cannot be read from masked labels)."
            )
        return super().split(X, y, groups, sample_domain)

    split.__doc__ = _DomainSplitter.split.__doc__

    def _iter_splits(self, sd):
        target = np.flatnonzero(sd < 0)
        for d in self._domains(sd):
            held = sd == d
            yield np.flatnonzero(~held), np.sort(np.r_[np.flatnonzero(held), target])

    def get_n_splits(self, X=None, y=None, groups=None, sample_domain=None):
        """Return the number of splits: the source domains held out.

        Parameters
        ----------
        X, y, groups : object
            Ignored.
        sample_domain : array-like of int or None
            The domains (needed unless ``max_n_splits`` is set).

        Returns
        -------
        n_splits : int
            The number of splits.
        """
        if sample_domain is None:
            if self.max_n_splits is None:
                raise ValueError("get_n_splits needs sample_domain when max_n_splits is None.")
            return self.max_n_splits
        return len(self._domains(check_sample_domain(sample_domain, len(sample_domain))))
