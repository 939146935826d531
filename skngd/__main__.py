"""``python -m skngd``: a short tour.

Fits each skngd estimator on a bundled scikit-learn dataset (no downloads) and
prints it beside the scikit-learn baseline: fit time and score.
"""

import sys

from skngd._tour import run_tour


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    only = argv or None
    return run_tour(only=only)


if __name__ == "__main__":
    sys.exit(main())
