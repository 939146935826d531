"""Row chunks of a Dask fit: one in-memory object per chunk, kept on the
workers, and passes that map a function over them and tree-sum the results.

A pass sends the coefficients (p-sized) to every chunk, runs a function of
the chunk's in-memory problem there (the same NumPy / Numba code an
in-memory fit runs, on that chunk's rows) and adds the p- or p²-sized
results pairwise in a tree of ``split_every``-ary sums, so the client only
ever receives one small result. Dask is imported here lazily (skngd never
imports it at import time).
"""

import numpy as np

_SPLIT_EVERY = 8


def _add(parts):
    """Elementwise sum of lists of results (None stays None)."""
    out = list(parts[0])
    for part in parts[1:]:
        for i, v in enumerate(part):
            if v is not None:
                out[i] = v if out[i] is None else out[i] + v
    return out


def _single_thread(obj):
    """Numba threads of this task: one (the workers are the parallelism)."""
    if getattr(obj, "_numba_one", False):
        import numba

        numba.set_num_threads(1)


def _call(fn, obj, args, spec=None):
    if spec is not None:
        obj = obj.bind(spec)
    _single_thread(obj)
    return fn(obj, *args)


def _call_where(fn, obj, args, spec=None):
    """``_call`` and the address of the worker that ran it (the first pass
    learns where each chunk lives)."""
    from distributed import get_worker

    return get_worker().address, _call(fn, obj, args, spec)


def _call_group(fn, args, spec, combine, *objs):
    """``combine`` of ``fn`` over the chunks of one worker, in their order."""
    return combine([_call(fn, obj, args, spec) for obj in objs])


def nbytes(*arrays):
    """Bytes held by NumPy arrays / scipy.sparse matrices / None (the
    ``__sizeof__`` of a chunk object: Dask's scheduler then knows that moving
    a chunk costs as much as moving its rows, and never ships one to another
    worker to balance load)."""
    total = 0
    for a in arrays:
        if a is None:
            continue
        for part in (getattr(a, "data", None), getattr(a, "indices", None),
                     getattr(a, "indptr", None)) if hasattr(a, "indptr") else (a,):
            total += int(getattr(part, "nbytes", 0))
    return total


def _client():
    """The active ``distributed.Client`` when Dask's scheduler is distributed, else None."""
    import sys

    if "distributed" not in sys.modules:
        return None
    import dask
    from distributed import default_client

    if dask.config.get("scheduler", None) not in (None, "dask.distributed", "distributed"):
        return None
    try:
        return default_client()
    except ValueError:
        return None


class Chunks:
    """Persisted per-chunk objects and the passes over them.

    ``blocks`` are lists (one per array, all with the same row chunks) of
    ``dask.delayed`` blocks; ``make(*blocks_of_one_chunk)`` builds the
    in-memory object of one chunk on the worker that holds its rows.
    ``n_passes`` counts the passes (each reads every chunk once). ``spec``
    (None, or an object with a ``key``) is sent with every task and handed
    to the chunk objects' ``bind`` (their problem once the client knows its
    classes); a chunk rebuilt after a lost worker binds again.

    On a ``distributed.Client`` the chunk objects are futures. The first
    pass maps over the chunks and learns which worker holds each; every
    later pass is one task per worker (preferring that worker), which runs
    the function over its chunks in turn and adds their results there, so a
    pass costs one round trip and ``n_workers`` small results, and a chunk
    is never moved to balance load (moving one costs more than its pass).
    Up to ``gather_max`` results are gathered and added on the client, more
    are first added in a tree of ``split_every``-ary sums on the workers.
    Under the local schedulers a pass is one ``dask.compute`` of the tree.
    """

    gather_max = 16

    def __init__(self, make, *blocks, split_every=_SPLIT_EVERY):
        import dask
        from dask import delayed

        build = delayed(make, pure=True)
        parts = [build(*row) for row in zip(*blocks)]
        self.client = _client()
        if self.client is not None:
            self.parts = self.client.compute(parts)
        else:
            self.parts = list(dask.persist(*parts))
        self.split_every = split_every
        self.n_passes = 0
        self.spec = None
        self.groups = None  # [(worker address, [chunk indices])] once known

    def __len__(self):
        return len(self.parts)

    def map_sum(self, fn, *args, combine=None):
        """``combine([fn(chunk_c, *args) for c])`` (default: the elementwise
        sum of lists of arrays / floats / None); one pass."""
        self.n_passes += 1
        combine = _add if combine is None else combine
        if self.client is not None:
            return self._distributed(fn, args, combine)
        import dask
        from dask import delayed

        k = self.split_every
        call = delayed(_call, pure=False)
        add = delayed(combine, pure=False)
        level = [call(fn, part, args, self.spec) for part in self.parts]
        while len(level) > 1:
            level = [add(level[i:i + k]) for i in range(0, len(level), k)]
        return dask.compute(level[0])[0]

    def _distributed(self, fn, args, combine):
        client, k = self.client, self.split_every
        if self.groups is None:
            n = len(self.parts)
            got = client.gather(client.map(_call_where, [fn] * n, self.parts, [args] * n,
                                           [self.spec] * n, pure=False))
            where = {}
            for i, (addr, _) in enumerate(got):
                where.setdefault(addr, []).append(i)
            self.groups = sorted(where.items(), key=lambda g: g[1][0])
            return combine([r for _, r in got])
        level = [client.submit(_call_group, fn, args, self.spec, combine,
                               *[self.parts[i] for i in idx], workers=[addr],
                               allow_other_workers=True, pure=False)
                 for addr, idx in self.groups]
        while len(level) > self.gather_max:
            level = [client.submit(combine, level[i:i + k], pure=False)
                     for i in range(0, len(level), k)]
        return combine(client.gather(level, direct=True))  # from the workers: one hop less

    def release(self):
        self.parts = []


def row_blocks(*arrays):
    """Delayed row blocks of dask arrays / None (one list per array) with
    the row chunks of the first; 1-D and 2-D arrays."""
    X = arrays[0]
    rows = X.chunks[0]
    out = []
    for A in arrays:
        if A is None:
            out.append([None] * len(rows))
            continue
        if A.chunks[0] != rows:
            A = A.rechunk({0: rows})
        if A.ndim == 2 and len(A.chunks[1]) > 1:
            A = A.rechunk({1: -1})
        blocks = A.to_delayed()
        out.append(list(blocks.ravel()) if A.ndim == 1 else [b[0] for b in blocks])
    return out


def as_float(X, dtypes=(np.float64, np.float32)):
    """The dtype a chunk is converted to (the first of ``dtypes`` unless the
    array already has one of them)."""
    dt = np.dtype(X.dtype)
    return dt if dt in [np.dtype(d) for d in dtypes] else np.dtype(dtypes[0])


__all__ = ["Chunks", "as_float", "nbytes", "row_blocks"]
