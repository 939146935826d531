"""``python -m skngd``: a short tour.

Fits each skngd estimator, at its defaults, on a bundled scikit-learn dataset
(no downloads) and prints it beside the scikit-learn baseline: first-fit time,
fit time, score and any warning raised.
"""

import argparse
import sys

from skngd._tour import SECTIONS, run_tour


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m skngd",
        description="A tour of skngd: every estimator at its defaults on bundled "
                    "scikit-learn datasets, beside its scikit-learn baseline.",
    )
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"run only these sections (default: all): {', '.join(SECTIONS)}")
    parser.add_argument("--list", action="store_true", help="list the sections and exit")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.list:
        print("\n".join(SECTIONS))
        return 0
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return run_tour(only=args.sections or None)


if __name__ == "__main__":
    sys.exit(main())
