"""SQLite checkpoint of a search: data only, read back without pickle.

Schema (stdlib :mod:`sqlite3`, typed columns; JSON text for lists and dicts)::

    meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)
        format      'skngd-search-checkpoint-2'
        seed        seed of the proposal generator (an integer)
        n_columns   dimension of the encoded search space
        <component> fingerprint of each part of the search (estimator, space, data,
                    scoring, cv, engine settings); a mismatch names the part
    splits(idx INTEGER PRIMARY KEY, train BLOB NOT NULL, test BLOB NOT NULL)
        the cross-validation splits every candidate is scored on, int64 indices
    candidates(idx INTEGER PRIMARY KEY, u TEXT NOT NULL, params TEXT NOT NULL,
               scores TEXT, fit_time REAL, fit_time_std REAL, score_time REAL,
               score_time_std REAL, fit_error TEXT, created REAL NOT NULL)
        u       the candidate's point of the unit cube (JSON list of floats); the
                parameters are rebuilt by decoding it through the search space
        params  the parameters as readable JSON, for people; never read back
        scores  {"test": {metric: [one float per split]}, "train": ... or null},
                or NULL when every fit of the candidate failed (then fit_error
                holds scikit-learn's error text)

Nothing in the file is executed or unpickled: a value that is not of the expected
type, shape or range raises :class:`CheckpointError`. A new file is written to a
temporary name and moved into place, so a file at the path is either a complete
checkpoint or a fault. While a search runs it holds an exclusive lock on
``<path>.lock``; a second search on the same file fails at once.
"""

import json
import math
import os
import sqlite3
import time
import uuid

import numpy as np

from ._evaluation import Outcome

FORMAT = "skngd-search-checkpoint-2"

_SCHEMA = {
    "meta": [("key", "TEXT"), ("value", "TEXT")],
    "splits": [("idx", "INTEGER"), ("train", "BLOB"), ("test", "BLOB")],
    "candidates": [("idx", "INTEGER"), ("u", "TEXT"), ("params", "TEXT"),
                   ("scores", "TEXT"), ("fit_time", "REAL"), ("fit_time_std", "REAL"),
                   ("score_time", "REAL"), ("score_time_std", "REAL"),
                   ("fit_error", "TEXT"), ("created", "REAL")],
}
_DDL = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE splits (idx INTEGER PRIMARY KEY, train BLOB NOT NULL, "
    "test BLOB NOT NULL)",
    "CREATE TABLE candidates (idx INTEGER PRIMARY KEY, u TEXT NOT NULL, "
    "params TEXT NOT NULL, scores TEXT, fit_time REAL, fit_time_std REAL, "
    "score_time REAL, score_time_std REAL, fit_error TEXT, created REAL NOT NULL)",
]


class CheckpointError(ValueError):
    """A checkpoint file that is unreadable, damaged, in use, or of another search.

    A subclass of ``ValueError``, raised by ``fit`` of the search classes when
    ``checkpoint`` names such a file; the message names the file and the fault.

    Examples
    --------
    >>> from skngd.model_selection import CheckpointError
    >>> issubclass(CheckpointError, ValueError)
    True
    """


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    return repr(o)


class _Lock:
    """Exclusive, non-blocking lock on ``path``, released when the process ends."""

    def __init__(self, path):
        self.path, self.fd = path, os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._acquire()
        except OSError:
            os.close(self.fd)
            raise

    def _acquire(self):
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(self.fd, msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self):
        os.close(self.fd)  # closing the descriptor drops the lock


class Checkpoint:
    """Open (or create) the checkpoint at ``path`` for a search with ``fingerprint``.

    Parameters
    ----------
    path : str or path-like
    fingerprint : dict of str -> str
        Identity of the search; an existing file must have the same one.
    seed : int
        Seed to record for a new file (an existing file keeps its own).
    n_columns : int
        Dimension of the encoded search space (each stored point is checked).
    """

    def __init__(self, path, fingerprint, seed, n_columns):
        self.path, self.n_columns = str(path), int(n_columns)
        self.con, self.lock = None, None
        try:
            self.lock = _Lock(self.path + ".lock")
        except BlockingIOError:
            self._fail(f"is in use by another running search (it holds the lock "
                       f"{self.path}.lock); give each search its own file")
        except OSError as exc:
            self._fail(f"cannot be locked ({self.path}.lock: {exc})")
        try:
            if not os.path.exists(self.path):
                self._create(fingerprint, seed)
            self._open()
            self.seed = self._check_meta(fingerprint)
            self.splits = self._load_splits()
            self.rows = self._load_rows()
        except BaseException:
            self.close()
            raise

    def _fail(self, fault):
        raise CheckpointError(f"checkpoint={self.path!r} {fault}. Delete it or "
                              "choose another file.") from None

    # -- opening ---------------------------------------------------------------
    def _create(self, fingerprint, seed):
        tmp = f"{self.path}.{uuid.uuid4().hex}.tmp"
        try:
            con = sqlite3.connect(tmp)
            with con:
                for ddl in _DDL:
                    con.execute(ddl)
                rows = [("format", FORMAT), ("seed", str(int(seed))),
                        ("n_columns", str(self.n_columns)), *fingerprint.items()]
                con.executemany("INSERT INTO meta VALUES (?, ?)", rows)
            con.close()
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def _open(self):
        if os.path.getsize(self.path) == 0:
            self._fail("is an empty (0-byte) file, not a search checkpoint")
        try:
            uri = "file:" + os.path.abspath(self.path).replace("?", "%3f") + "?mode=rw"
            self.con = sqlite3.connect(uri, uri=True, timeout=30.0)
            self.con.execute("PRAGMA trusted_schema = OFF")
            ok = self.con.execute("PRAGMA quick_check").fetchone()[0]
            objects = self.con.execute(
                "SELECT type, name FROM sqlite_master").fetchall()
        except sqlite3.DatabaseError as exc:
            self._fail(f"is not a readable SQLite search checkpoint ({exc})")
        if ok != "ok":
            self._fail(f"is damaged (SQLite integrity check: {ok})")
        names = {n for t, n in objects if t == "table"}
        if "meta" in names:
            self._check_format()
        extra = [f"{t} {n!r}" for t, n in objects
                 if not (t == "table" and n in _SCHEMA)
                 and not (t == "index" and n.startswith("sqlite_autoindex_"))]
        if extra:
            self._fail(f"holds objects a checkpoint never has ({', '.join(extra)})")
        for table, columns in _SCHEMA.items():
            if table not in names:
                self._fail(f"has no table {table!r}")
            got = [(r[1], r[2].upper()) for r in
                   self.con.execute(f"PRAGMA table_info({table})")]
            if got != columns:
                self._fail(f"has a damaged table {table!r} (columns {got})")

    def _check_format(self):
        try:
            row = self.con.execute(
                "SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            self._fail(f"has a damaged table 'meta' ({exc})")
        if row is None or row[0] != FORMAT:
            self._fail(f"is not a skngd search checkpoint of this version (format "
                       f"{None if row is None else row[0]!r}, expected {FORMAT!r})")

    def _check_meta(self, fingerprint):
        self._check_format()
        meta = dict(self.con.execute("SELECT key, value FROM meta"))
        same_kind = meta.get("search") == fingerprint.get("search")
        for key in ("seed", "n_columns", *(fingerprint if same_kind else ())):
            if not isinstance(meta.get(key), str):
                self._fail(f"has damaged metadata: {key!r} is missing or not text")
        try:
            seed, n_columns = int(meta["seed"]), int(meta["n_columns"])
        except ValueError:
            self._fail("has damaged metadata: seed and n_columns must be integers")
        bad = [k for k, v in fingerprint.items() if meta.get(k) != v]
        if n_columns != self.n_columns:
            bad.insert(0, "param_distributions")
        if bad:
            raise CheckpointError(
                f"checkpoint={self.path!r} was written by a different search: "
                f"{', '.join(dict.fromkeys(bad))} differ. Use a new checkpoint file "
                "for a new search."
            )
        return seed

    # -- reading ---------------------------------------------------------------
    def _load_splits(self):
        rows = self.con.execute(
            "SELECT idx, train, test FROM splits ORDER BY idx").fetchall()
        out = []
        for i, (idx, train, test) in enumerate(rows):
            if idx != i or not isinstance(train, bytes) or not isinstance(test, bytes) \
                    or len(train) % 8 or len(test) % 8:
                self._fail(f"has a damaged split {i}")
            out.append((np.frombuffer(train, dtype="<i8").astype(np.intp),
                        np.frombuffer(test, dtype="<i8").astype(np.intp)))
        return out or None

    def _load_rows(self):
        rows = self.con.execute(
            "SELECT idx, u, scores, fit_time, fit_time_std, score_time, "
            "score_time_std, fit_error FROM candidates ORDER BY idx").fetchall()
        if rows and self.splits is None:
            self._fail("has candidates but no cross-validation splits")
        n_splits = 0 if self.splits is None else len(self.splits)
        out, names = [], None
        for i, row in enumerate(rows):
            if row[0] != i:
                self._fail(f"is missing candidate {i}")
            try:
                u, outcome = self._parse_row(row, n_splits)
            except (ValueError, TypeError, KeyError) as exc:
                self._fail(f"has a damaged candidate {i} ({exc})")
            if outcome.test is not None:
                names = names or list(outcome.test)
                if list(outcome.test) != names:
                    self._fail(f"has candidate {i} with metrics {list(outcome.test)}, "
                               f"others {names}")
            out.append((u, outcome))
        return out

    def _parse_row(self, row, n_splits):
        _, u, scores, ft, fts, st, sts, err = row
        if not isinstance(u, str) or not isinstance(scores, (str, type(None))):
            raise TypeError("u and scores must be JSON text")
        u = json.loads(u)
        if not (isinstance(u, list) and len(u) == self.n_columns
                and all(isinstance(v, (int, float)) and 0.0 <= v <= 1.0 for v in u)):
            raise ValueError(f"u is not a point of the {self.n_columns}-D unit cube")
        times = [ft, fts, st, sts]
        if not all(isinstance(t, float) and math.isfinite(t) and t >= 0 for t in times):
            raise ValueError("fit and score times must be non-negative numbers")
        if err is not None and not isinstance(err, str):
            raise ValueError("fit_error must be text")
        if scores is None:
            if err is None:
                raise ValueError("no scores and no fit error")
            test = train = None
        else:
            scores = json.loads(scores)
            test = _scores(scores["test"], n_splits, "test")
            train = (None if scores["train"] is None
                     else _scores(scores["train"], n_splits, "train"))
        return np.array(u, dtype=float), Outcome(test, train, (ft, fts), (st, sts), err)

    def check_splits(self, n_samples):
        """Every stored split must index rows of the data given to fit."""
        for k, (tr, te) in enumerate(self.splits or ()):
            if any(a.size and (a.min() < 0 or a.max() >= n_samples) for a in (tr, te)):
                self._fail(f"has a damaged split: split {k} indexes rows outside the {n_samples} "
                           "samples given to fit")

    # -- writing ---------------------------------------------------------------
    def append(self, start, candidates, outcomes, splits=None):
        """Write a finished batch, and the splits with the first one (one transaction)."""
        now = time.time()
        rows = []
        for i, ((params, u, _), o) in enumerate(zip(candidates, outcomes)):
            scores = None if o.test is None else json.dumps(
                {"test": o.test, "train": o.train})
            rows.append((
                start + i, json.dumps([float(v) for v in u]),
                json.dumps(params, default=_json_default, sort_keys=True), scores,
                float(o.fit_time[0]), float(o.fit_time[1]), float(o.score_time[0]),
                float(o.score_time[1]), o.fit_error, now,
            ))
        with self.con:
            if splits is not None:
                self.con.executemany("INSERT INTO splits VALUES (?, ?, ?)", [
                    (k, np.asarray(tr, dtype="<i8").tobytes(),
                     np.asarray(te, dtype="<i8").tobytes())
                    for k, (tr, te) in enumerate(splits)])
                self.splits = splits
            self.con.executemany(
                "INSERT INTO candidates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def close(self):
        if self.con is not None:
            self.con.close()
            self.con = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def _scores(block, n_splits, what):
    if not isinstance(block, dict) or not block:
        raise ValueError(f"{what} scores must map metric names to lists")
    out = {}
    for name, vals in block.items():
        if not (isinstance(vals, list) and len(vals) == n_splits
                and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                        for v in vals)):
            raise ValueError(f"{what} scores of {name!r} are not {n_splits} numbers")
        out[name] = [float(v) for v in vals]
    return out
