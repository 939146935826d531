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


class _KeptHeap:
    """glibc's heap kept for the temporaries of a pass, then handed back.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_`` set, and a
    fixed trim threshold also fixes glibc's mmap threshold (128 KiB, no
    longer raised as large blocks are freed): every temporary of more than
    16k doubles is then a fresh ``mmap`` whose pages fault in zero-filled,
    which made the chunks' passes 1.3-1.7x slower than in a plain process.
    While a pass runs (any thread of the worker), both thresholds are
    raised; when the last running pass ends they are set back to what the
    environment says (the next free at the heap's top trims it again, so
    the heap keeps at most one pass's temporaries). A process without
    either variable keeps glibc's own dynamic thresholds: nothing is
    changed.
    """

    _MMAP, _TRIM = -3, -1  # glibc's M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
    _RAISED = (32 << 20, 64 << 20)  # glibc's largest mmap threshold, twice that

    def __init__(self):
        import os
        import threading

        self.lock, self.depth, self.libc = threading.Lock(), 0, None
        env = os.environ
        if not ("MALLOC_TRIM_THRESHOLD_" in env or "MALLOC_MMAP_THRESHOLD_" in env):
            return
        try:
            self.restore = (int(env.get("MALLOC_MMAP_THRESHOLD_", 128 << 10)),
                            int(env.get("MALLOC_TRIM_THRESHOLD_", 128 << 10)))
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt  # glibc only
        except (OSError, AttributeError, ValueError):
            return
        self.libc = libc

    def _set(self, mmap, trim):
        self.libc.mallopt(self._MMAP, mmap)
        self.libc.mallopt(self._TRIM, trim)

    def __enter__(self):
        if self.libc is not None:
            with self.lock:
                self.depth += 1
                if self.depth == 1:
                    self._set(*self._RAISED)
        return self

    def __exit__(self, *exc):
        if self.libc is not None:
            with self.lock:
                self.depth -= 1
                if self.depth == 0:
                    self._set(*self.restore)
        return False


_heap = None


def _kept_heap():
    global _heap
    if _heap is None:
        _heap = _KeptHeap()
    return _heap


def _call(fn, obj, args, spec=None):
    if spec is not None:
        obj = obj.bind(spec)
    _single_thread(obj)
    with _kept_heap():
        return fn(obj, *args)


def _call_group(fn, args, spec, combine, *objs):
    """``combine`` of ``fn`` over the chunks of one worker, in their order."""
    with _kept_heap():
        return combine([_call(fn, obj, args, spec) for obj in objs])


class _Failed:
    """An exception raised by a pass's function on a worker (not by Dask)."""

    def __init__(self, exc):
        self.exc = exc


class _Group:
    """The chunk objects of one worker, as a Dask actor built there from
    the chunks' blocks (``make(*row)`` per row of blocks): a pass is one
    direct call from the client to the worker (about 2 ms on this machine,
    against 12 ms for a task through the scheduler)."""

    def __init__(self, make, rows):
        with _kept_heap():
            self.objs = [make(*row) for row in rows]

    def run(self, fn, args, spec, combine):
        try:
            return _call_group(fn, args, spec, combine, *self.objs)
        except Exception as exc:  # handed back as the function's own error
            return _Failed(exc)

    def derive(self, make, args):
        """Replace every chunk object ``o`` by ``make(o, *args)``."""
        try:
            with _kept_heap():
                self.objs = [make(o, *args) for o in self.objs]
        except Exception as exc:
            return _Failed(exc)
        return None


def plan(rows, holders, workers):
    """Worker of each chunk: balanced by rows, moving as few as possible.

    ``rows[i]`` rows of chunk ``i``, ``holders[i]`` the workers that hold
    its rows (may be empty), ``workers`` the addresses. Largest chunks
    first, a chunk stays on a holder whose load stays within the mean (or
    that has none yet); the rest go to the least-loaded worker, so no
    worker gets more than the mean plus one chunk. A pass lasts as long as
    its most loaded worker, so this pays for the moved chunks after a pass
    or two.
    """
    load = {w: 0 for w in workers}
    cap = sum(rows) / max(len(workers), 1)
    order = sorted(range(len(rows)), key=lambda i: (-rows[i], i))
    out = [None] * len(rows)
    for i in order:
        mine = [h for h in holders[i] if h in load]
        if mine:
            h = min(mine, key=lambda w: load[w])
            if load[h] == 0 or load[h] + rows[i] <= cap * (1 + 1e-12):
                out[i] = h
                load[h] += rows[i]
    for i in order:
        if out[i] is None:
            w = min(workers, key=lambda w: (load[w], workers.index(w)))
            out[i] = w
            load[w] += rows[i]
    return out


def _holders(client, blocks):
    """The workers holding each of ``blocks`` (Dask futures, or delayed
    blocks of a persisted collection: their keys), an empty tuple where
    unknown (not computed yet)."""
    keys = [getattr(b, "key", None) for b in blocks]

    async def ask():
        return await client.scheduler.who_has(keys=[k for k in keys if k is not None])

    try:
        who = client.sync(ask)
    except Exception:  # an old scheduler: no preference
        who = {}
    return [tuple(who.get(k, ())) if k is not None else () for k in keys]


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
    ``dask.delayed`` blocks (or futures); ``make(*blocks_of_one_chunk)``
    builds the in-memory object of one chunk on a worker; ``rows`` (the row
    count of each chunk, default all equal) balances the workers.
    ``n_passes`` counts the passes (each reads every chunk once). ``spec``
    (None, or an object with a ``key``) is sent with every pass and handed
    to the chunk objects' ``bind`` (their problem once the client knows its
    classes); a chunk rebuilt after a lost worker binds again.

    On a ``distributed.Client`` each worker gets one :class:`_Group` actor
    that builds and holds its chunk objects, planned by :func:`plan` (a
    chunk stays where its rows are, unless that worker would then hold more
    than its share of the rows): one task per worker, and every pass is one
    direct call per worker that runs the function over that worker's chunks
    in turn and adds their results there, so a pass costs one round trip
    and ``n_workers`` small results, and no chunk is moved. Should an actor
    fail (a lost worker), the chunk objects become futures built from their
    graph and the passes tasks, one per worker (``allow_other_workers``).
    Up to ``gather_max`` task results are gathered and added on the client,
    more are first added in a tree of ``split_every``-ary sums on the
    workers. Under the local schedulers the chunk objects are persisted and
    a pass is one ``dask.compute`` of the tree.
    """

    gather_max = 16

    def __init__(self, make, *blocks, rows=None, split_every=_SPLIT_EVERY):
        import dask
        from dask import delayed

        self._graph = (make, blocks)  # the chunk objects' graph, built when needed
        self._built = None
        self.n_chunks = len(blocks[0])
        self.rows = [int(r) if r == r else 1 for r in (rows or [1] * self.n_chunks)]
        self.client = _client()
        self.split_every = split_every
        self.n_passes = 0
        self.spec = None
        self.groups = None  # [(worker address, [chunk indices])]
        self.parts = None  # futures / persisted chunk objects (not while actors hold them)
        self._actors = None  # futures of the _Group actors, False once given up
        self._proxies = None  # their resolved handles
        if self.client is None:
            self.parts = list(dask.persist(*self._delayed))
            return
        client = self.client
        workers = sorted(client.nthreads())
        where = plan(self.rows, _holders(client, blocks[0]), workers)
        self.groups = [(w, [i for i, x in enumerate(where) if x == w]) for w in workers]
        self.groups = [g for g in self.groups if g[1]]
        rows_of = list(zip(*blocks))
        self._actors = []
        lazy = any(getattr(b, "__dask_graph__", None) is not None for col in blocks for b in col)
        for w, idx in self.groups:
            rows = [list(rows_of[i]) for i in idx]
            if lazy:  # a graph to compute first: one task per worker
                group = delayed(_Group, pure=False)(make, rows)
                fut = client.compute(group, workers=[w], allow_other_workers=True,
                                     actors=group)  # this task only
            else:  # futures: submitted as they are
                fut = client.submit(_Group, make, rows, workers=[w], allow_other_workers=True,
                                    actor=True, pure=False)
            self._actors.append(fut)

    def __len__(self):
        return self.n_chunks

    @property
    def _delayed(self):
        """The chunk objects as ``dask.delayed`` calls (for the local
        schedulers, and to rebuild them after a lost worker); tokenising
        them costs milliseconds, so a fit on actors never builds them."""
        if self._built is None:
            from dask import delayed

            make, blocks = self._graph
            build = delayed(make, pure=True)
            self._built = [build(*row) for row in zip(*blocks)]
        return self._built

    def derive(self, make, *args):
        """A new ``Chunks`` of ``make(chunk, *args)`` per chunk (built where
        the chunks are; this one is then used up)."""
        import dask
        from dask import delayed

        new = Chunks.__new__(Chunks)
        new.__dict__.update(self.__dict__)
        build = delayed(make, pure=True)
        new._built = [build(d, *args) for d in self._delayed]
        new.n_passes, new.spec = 0, None
        self._actors, self._proxies, self.parts = False, None, None
        if new.client is None:
            new.parts = list(dask.persist(*[build(p, *args) for p in new.parts]))
            return new
        if not (new._actors and new._on_actors("derive", make, args) is not None):
            new.parts = None  # rebuilt from the graph by the first pass
        return new

    def _handles(self):
        if self._proxies is None:  # resolving a finished future still costs a round trip
            actors = [f.result() for f in self._actors]
            direct = _reachable(self.client, [a._address for a in actors])
            self._proxies = [_direct_actor(a, direct) for a in actors]
        return self._proxies

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

    def _on_actors(self, method, *args):
        """``method(*args)`` on every actor, their results in order; None
        when Dask lost an actor (the actors are then given up, and passes
        become tasks). A function's own error is raised here."""
        try:
            got = self._call_actors(method, args)
        except OSError:
            if not any(getattr(a, "direct", False) for a in self._proxies or ()):
                got = None
            else:  # workers the client cannot reach: through the scheduler
                for a in self._proxies:
                    a.direct = False
                got = self._on_actors(method, *args)
                if got is not None:  # reachable that way: not a lost worker
                    _direct_ok[self.client.id] = False
            if got is None:
                self._actors, self._proxies = False, None
            return got
        except Exception as exc:
            if not _dask_failure(exc):
                raise
            self._actors, self._proxies = False, None
            return None
        for g in got:
            if isinstance(g, _Failed):
                raise g.exc
        return got

    def _call_actors(self, method, args):
        got = [getattr(a, method)(*args) for a in self._handles()]
        return [g.result() for g in got]

    def _materialize(self):
        """The chunk objects as futures on their planned workers (the task
        passes' inputs, once the actors are gone)."""
        client, parts = self.client, [None] * len(self._delayed)
        for w, idx in self.groups:
            futs = client.compute([self._delayed[i] for i in idx], workers=[w],
                                  allow_other_workers=True)
            for i, f in zip(idx, futs):
                parts[i] = f
        self.parts = parts

    def _distributed(self, fn, args, combine):
        if self._actors:
            got = self._on_actors("run", fn, args, self.spec, combine)
            if got is not None:
                return combine(got)
        client, k = self.client, self.split_every
        if self.parts is None:
            self._materialize()
        level = [client.submit(_call_group, fn, args, self.spec, combine,
                               *[self.parts[i] for i in idx], workers=[addr],
                               allow_other_workers=True, pure=False)
                 for addr, idx in self.groups]
        while len(level) > self.gather_max:
            level = [client.submit(combine, level[i:i + k], pure=False)
                     for i in range(0, len(level), k)]
        return combine(client.gather(level, direct=True))  # from the workers: one hop less

    def release(self):
        self._actors, self._proxies = False, None
        self.parts = []
        self._built, self._graph = [], None


_direct_ok = {}  # client id -> whether it reaches its workers directly
_PROBE_TIMEOUT = 2.0  # s (Dask's own connect timeout is 30 s)


def _reachable(client, addresses):
    """Whether ``client`` connects to the workers at ``addresses`` directly
    (probed once per client, with a short timeout, so that a client that
    only reaches the scheduler does not wait Dask's connect timeout)."""
    ok = _direct_ok.get(client.id)
    if ok is not None:
        return ok

    async def probe():
        from distributed.comm import connect

        for addr in addresses:
            comm = await connect(addr, timeout=_PROBE_TIMEOUT, **client.connection_args)
            await comm.close()

    try:
        client.sync(probe)
        ok = True
    except Exception:  # unreachable, or a comm this check does not know
        ok = False
    _direct_ok[client.id] = ok
    return ok


_DirectActor = None


def _direct_actor(actor, direct=True):
    """``actor`` (a ``distributed`` Actor proxy) calling its worker
    directly: a client not running on a worker (``direct_to_workers`` unset)
    routes every actor call through the scheduler, two hops more (here
    4.2 ms instead of 2.8 for a call to each of two workers, and the
    scheduler's CPU). ``direct = False`` goes back to the scheduler's
    route (workers the client cannot reach)."""
    global _DirectActor
    if _DirectActor is None:
        from distributed.actor import Actor

        class _DirectActor(Actor):
            direct = True

            @property
            def _worker_rpc(self):
                if self.direct and self._client is not None and self._worker is None:
                    return self._client.rpc(self._address)
                return super()._worker_rpc

    out = _DirectActor(actor._cls, actor._address, actor.key)
    out.direct = direct
    return out


def _dask_failure(exc):
    """Whether ``exc`` comes from Dask (a lost worker or actor), not from a
    pass's function (those arrive as :class:`_Failed` and are re-raised)."""
    from distributed.client import FutureCancelledError

    try:
        from distributed.scheduler import KilledWorker
    except ImportError:  # pragma: no cover
        KilledWorker = ()
    return isinstance(exc, (OSError, RuntimeError, FutureCancelledError, KilledWorker)
                      ) or type(exc).__module__.startswith(("distributed", "tornado"))


def row_blocks(*arrays):
    """Row blocks of dask arrays / None (one list per array) with the row
    chunks of the first; 1-D and 2-D arrays. The blocks of an array
    persisted on a ``distributed.Client`` (and not rechunked) are its
    futures, else delayed blocks."""
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
        blocks = list(blocks.ravel()) if A.ndim == 1 else [b[0] for b in blocks]
        out.append(_as_futures(A, blocks))
    return out


def _as_futures(A, blocks):
    """``blocks`` as the futures of persisted ``A`` when it has one per
    block (submitting them costs far less than computing a graph)."""
    import sys

    if "distributed" not in sys.modules:
        return blocks
    from distributed import futures_of

    try:
        futs = {f.key: f for f in futures_of(A)}
    except Exception:  # not a collection distributed knows
        return blocks
    mine = [futs.get(b.key) for b in blocks]
    return mine if all(f is not None for f in mine) else blocks


def as_float(X, dtypes=(np.float64, np.float32)):
    """The dtype a chunk is converted to (the first of ``dtypes`` unless the
    array already has one of them)."""
    dt = np.dtype(X.dtype)
    return dt if dt in [np.dtype(d) for d in dtypes] else np.dtype(dtypes[0])


__all__ = ["Chunks", "as_float", "nbytes", "row_blocks"]
