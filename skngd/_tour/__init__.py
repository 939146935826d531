"""The tour behind ``python -m skngd``.

Each section is a module in this package with a ``run()`` function returning a
list of :class:`Row`. A section fits the skngd estimator and its scikit-learn
(or statsmodels / POT) baseline on the same bundled data.
"""

from dataclasses import dataclass
import importlib
import time

# section module names, in the order they are shown
SECTIONS = (
    "logistic",
    "glm",
    "impute",
    "robust",
    "domain_adaptation",
    "search",
)


@dataclass
class Row:
    task: str
    model: str
    fit_time: float
    score: float
    metric: str
    note: str = ""


def timed_fit(estimator, *args, **kwargs):
    """Fit and return (estimator, seconds)."""
    t0 = time.perf_counter()
    estimator.fit(*args, **kwargs)
    return estimator, time.perf_counter() - t0


def _format(rows):
    headers = ("task", "model", "fit time (s)", "score", "metric", "note")
    table = [
        (r.task, r.model, f"{r.fit_time:.3f}", f"{r.score:.4f}", r.metric, r.note)
        for r in rows
    ]
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    prev = None
    for t in table:
        if prev is not None and t[0] != prev:
            out.append("")
        out.append("  ".join(c.ljust(w) for c, w in zip(t, widths)))
        prev = t[0]
    return "\n".join(out)


def run_tour(only=None, print_fn=print):
    """Run every section (or those named in ``only``) and print one table."""
    import skngd

    print_fn(f"skngd {skngd.__version__}: a tour on bundled scikit-learn datasets\n")
    rows = []
    names = SECTIONS if only is None else [s for s in SECTIONS if s in only]
    for name in names:
        module = importlib.import_module(f"skngd._tour.{name}")
        rows.extend(module.run())
    print_fn(_format(rows))
    return 0
