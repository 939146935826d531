"""SQLite checkpoint of a search: one row per finished candidate.

Schema (stdlib :mod:`sqlite3`)::

    meta(key TEXT PRIMARY KEY, value TEXT)
        format      'skngd-search-checkpoint-1'
        seed        seed of the proposal generator
        <component> fingerprint of each part of the search (estimator, space, data,
                    scoring, cv, engine settings); a mismatch names the part
    candidates(idx INTEGER PRIMARY KEY, params_json TEXT, u BLOB, payload BLOB,
               created REAL)

``payload`` pickles ``(params, outs)`` where ``outs`` are scikit-learn's per-split
``_fit_and_score`` results (fold scores, fit and score times, fit errors), so a
resumed search rebuilds exactly the same ``cv_results_`` rows. Each batch is written
in one transaction as soon as it returns, so a killed process loses no finished
batch. Payloads are pickles: only resume from checkpoints you wrote yourself.
"""

import json
import pickle
import sqlite3
import time

import numpy as np

FORMAT = "skngd-search-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint file that is unreadable or belongs to a different search.

    A subclass of ``ValueError``, raised by ``fit`` of the search classes
    when ``checkpoint`` names such a file; the message says which part of
    the search differs.

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


class Checkpoint:
    """Open (or create) the checkpoint at ``path`` for a search with ``fingerprint``.

    Parameters
    ----------
    path : str or path-like
    fingerprint : dict of str -> str
        Identity of the search; an existing file must have the same one.
    seed : int
        Seed to record for a new file (an existing file keeps its own).
    """

    def __init__(self, path, fingerprint, seed):
        self.path = str(path)
        try:
            self.con = sqlite3.connect(self.path, timeout=30.0)
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)"
            )
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS candidates (idx INTEGER PRIMARY KEY, "
                "params_json TEXT, u BLOB, payload BLOB, created REAL)"
            )
            self.con.commit()
            meta = dict(self.con.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            raise CheckpointError(
                f"checkpoint={self.path!r} is not a readable skngd search checkpoint "
                f"({exc}). Delete it or choose another file."
            ) from None
        if not meta:
            rows = [("format", FORMAT), ("seed", str(int(seed)))]
            rows += [(k, v) for k, v in fingerprint.items()]
            with self.con:
                self.con.executemany("INSERT INTO meta VALUES (?, ?)", rows)
            meta = dict(rows)
        if meta.get("format") != FORMAT:
            raise CheckpointError(
                f"checkpoint={self.path!r} is not a skngd search checkpoint "
                f"(format {meta.get('format')!r}, expected {FORMAT!r})."
            )
        bad = [k for k, v in fingerprint.items() if meta.get(k) != v]
        if bad:
            raise CheckpointError(
                f"checkpoint={self.path!r} was written by a different search: "
                f"{', '.join(bad)} differ. Use a new checkpoint file for a new search."
            )
        self.seed = int(meta["seed"])

    def load(self):
        """Finished candidates in evaluation order: list of (params, u, outs)."""
        try:
            rows = self.con.execute(
                "SELECT idx, u, payload FROM candidates ORDER BY idx"
            ).fetchall()
            out = []
            for i, (idx, u, payload) in enumerate(rows):
                if idx != i:
                    raise ValueError(f"missing candidate {i}")
                params, outs = pickle.loads(payload)
                out.append((params, np.frombuffer(u, dtype=np.float64).copy(), outs))
        except Exception as exc:
            raise CheckpointError(
                f"checkpoint={self.path!r} is corrupt ({exc}). Delete it or choose "
                "another file."
            ) from None
        return out

    def append(self, start, params_list, U, outs_list):
        """Write a finished batch (one transaction)."""
        now = time.time()
        rows = [
            (
                start + i,
                json.dumps(p, default=_json_default, sort_keys=True),
                np.asarray(u, dtype=np.float64).tobytes(),
                pickle.dumps((p, o), protocol=pickle.HIGHEST_PROTOCOL),
                now,
            )
            for i, (p, u, o) in enumerate(zip(params_list, U, outs_list))
        ]
        with self.con:
            self.con.executemany(
                "INSERT INTO candidates VALUES (?, ?, ?, ?, ?)", rows
            )

    def close(self):
        self.con.close()
