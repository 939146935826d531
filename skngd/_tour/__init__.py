"""The tour behind ``python -m skngd``.

Each section is a module in this package with a ``run()`` function returning a
list of :class:`Row`. A section fits the skngd estimator, at its defaults, and
its scikit-learn (or statsmodels / POT) baseline on the same bundled data.

Every fit goes through :func:`timed_fit`, which fits twice: the first fit in the
process pays one-time costs (Numba compiling or loading its cache, first
imports) and is shown in its own column; the second, on a fresh clone, is the
fit time. Warnings raised by either fit are not hidden: the row is marked and
the warnings are listed under the table.
"""

from dataclasses import dataclass, field
import importlib
import textwrap
import time
import warnings

from sklearn.base import clone

# section module names, in the order they are shown
SECTIONS = (
    "logistic",
    "sparse",
    "glm",
    "impute",
    "robust",
    "domain_adaptation",
    "search",
)

WIDTH = 120


class FitTime(float):
    """Seconds of the timed (second) fit; carries the first fit's seconds and
    the warnings of both fits, so sections keep writing ``est, t = timed_fit(...)``."""

    first = None
    warnings = ()


def _fit_recording(estimator, args, kwargs, caught):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        estimator.fit(*args, **kwargs)
        seconds = time.perf_counter() - t0
    for item in w:
        key = (item.category.__name__, str(item.message))
        if key not in caught:
            caught.append(key)
    return seconds


def timed_fit(estimator, *args, **kwargs):
    """Fit a clone of ``estimator`` (first fit: one-time costs), then fit
    ``estimator`` itself and return ``(estimator, seconds)``.

    ``seconds`` is a :class:`FitTime`: it also carries ``first`` (the first
    fit's seconds) and ``warnings`` (category and message of every warning
    either fit raised).
    """
    caught = []
    try:
        warm = clone(estimator)
    except TypeError:  # not a scikit-learn estimator (e.g. a POT transport)
        warm = None
    first = _fit_recording(warm, args, kwargs, caught) if warm is not None else None
    seconds = FitTime(_fit_recording(estimator, args, kwargs, caught))
    seconds.first = first
    seconds.warnings = tuple(caught)
    return estimator, seconds


@dataclass
class Row:
    task: str
    model: str
    fit_time: float
    score: float
    metric: str
    note: str = ""
    warnings: tuple = field(default=())

    def __post_init__(self):
        if not self.warnings:
            self.warnings = tuple(getattr(self.fit_time, "warnings", ()))

    @property
    def first_fit(self):
        return getattr(self.fit_time, "first", None)


_COLUMNS = (("model", 38, "<"), ("1st fit", 8, ">"), ("fit (s)", 8, ">"), ("score", 8, ">"))


def _task_header(task, rows, width):
    metrics = {r.metric for r in rows}
    head = f"[{task}]" + (f"  score: {metrics.pop()}" if len(metrics) == 1 else "")
    return head[:width]


def _format(rows, width=WIDTH):
    """One table, grouped by task (the score's metric in the task's header),
    every line at most ``width`` characters; warnings listed under it."""
    fixed = sum(w for _, w, _ in _COLUMNS) + 2 * len(_COLUMNS)
    note_width = width - fixed
    head = "  ".join(f"{h:{a}{w}}" for h, w, a in _COLUMNS) + "  note"
    out = [head, "-" * width]
    notes, prev = [], None
    for r in rows:
        if r.task != prev:
            if prev is not None:
                out.append("")
            out.append(_task_header(r.task, [q for q in rows if q.task == r.task], width))
            prev = r.task
        mark = ""
        if r.warnings:
            notes.append((r.model, r.warnings))
            mark = f"(W{len(notes)}) "
        shared = len({q.metric for q in rows if q.task == r.task}) == 1
        note = mark + ("" if shared else f"[{r.metric}] ") + r.note
        first = "-" if r.first_fit is None else f"{r.first_fit:.3f}"
        cells = (r.model[:38], first, f"{float(r.fit_time):.3f}", f"{r.score:.4f}")
        line = "  ".join(f"{c:{a}{w}}" for c, (_, w, a) in zip(cells, _COLUMNS))
        wrapped = textwrap.wrap(note, note_width) or [""]
        out.append(f"{line}  {wrapped[0]}".rstrip())
        out.extend(" " * fixed + rest for rest in wrapped[1:])
    out.append("")
    out.extend(textwrap.wrap(
        "'1st fit' is the first fit in this process (one-time costs: Numba compiling or "
        "loading its cache, first imports); 'fit (s)' is a second fit of a fresh clone.", width))
    if notes:
        out.append("")
        out.append("Warnings raised by the fits above:")
        for i, (model, caught) in enumerate(notes, 1):
            for cat, msg in caught:
                out.extend(textwrap.wrap(f"(W{i}) {model}: {cat}: {msg}", width,
                                         subsequent_indent="      "))
    return "\n".join(out)


def run_tour(only=None, print_fn=print):
    """Run every section (or those named in ``only``) and print one table."""
    import skngd

    print_fn(f"skngd {skngd.__version__}: a tour on bundled scikit-learn datasets, every"
             " estimator at its defaults\n")
    rows = []
    names = SECTIONS if not only else [s for s in SECTIONS if s in only]
    for name in names:
        module = importlib.import_module(f"skngd._tour.{name}")
        rows.extend(module.run())
    print_fn(_format(rows))
    return 0
