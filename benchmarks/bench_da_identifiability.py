"""Why no label-free default can meet issue 13's per-case target on skada's
``subspace`` shift: the same inputs admit two labellings that demand opposite
choices.

skada's ``make_shifted_datasets(shift='subspace')`` draws the target from the
source's distribution and reflects it through the origin (``X_target *= -1``).
The source's big class-0 blob then lies, reflected, between the two reflected
class-1 blobs, so every OT map (which aligns the marginals) sends target class 0
onto source class 1 and the reverse: OT scores 0.03-0.11, below the source-only
classifier (0.16-0.20).

World A is skada's labelling. World B keeps every input (source points, source
labels, target points) and swaps the two target classes: a labelling that is
just as consistent with everything a label-free method sees (both classes keep
half the target rows; the reflection is as much a "subspace" shift as the
identity). A method that never reads target labels makes the same predictions
in both worlds, so for binary labels its accuracies satisfy
``acc_B = 1 - acc_A``. The target asks, in each world, for accuracy within 2
points of ``max(no adaptation, best OT method)``:

* in A: ``acc_A >= max(none_A, bestOT_A) - 0.02`` (about 0.18),
* in B: ``1 - acc_A >= max(1 - none_A, 1 - worstOT_A) - 0.02``, i.e.
  ``acc_A <= worstOT_A + 0.02`` (about 0.06-0.08).

Both cannot hold when ``max(none_A, bestOT_A) > worstOT_A + 0.04``, which the
table shows on every seed. This script measures it (it does not assume it): it
fits every method of ``bench_da.py`` in both worlds, checks that skngd's
default chose the same candidate in both (it never sees target labels), and
prints, for every method and for every fixed choice a selector could make,
whether it meets the target in A and in B.

    python benchmarks/bench_da_identifiability.py [--seeds 0 1 2]
"""

import argparse
import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_da as B  # noqa: E402


def _methods():
    from sklearn.svm import SVC

    methods = {"no adaptation": lambda Xs, ys, Xt, yt: (SVC().fit(Xs, ys).score(Xt, yt), "")}
    methods.update(B.skngd_methods())
    methods.update(B.pot_methods())
    methods.update(B.skada_methods())
    return methods


def _run(methods, Xs, ys, Xt, yt):
    out, chose = {}, ""
    for key, fn in methods.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                acc, note = fn(Xs, ys, Xt, yt)
            except Exception:  # a peer failing is reported as NaN
                acc, note = np.nan, ""
        out[key] = acc
        if key == "skngd default":
            chose = note
    return out, chose


def _target(row):
    best_ot = np.nanmax([row[k] for k in B.OT_COLUMNS])
    return max(row["no adaptation"], best_ot) - 0.02


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args(argv)
    methods = _methods()
    keys = list(methods)
    print("skada subspace shift: world A = skada's target labels; world B = the same inputs,")
    print("target classes swapped. A label-free method predicts the same in both worlds.")
    print("Target per world: accuracy >= max(no adaptation, best OT) - 0.02.\n")
    meets = {k: [0, 0] for k in keys}
    for seed in args.seeds:
        Xs, ys, Xt, yt = B.skada_case("subspace", seed)
        row_a, chose_a = _run(methods, Xs, ys, Xt, yt)
        row_b, chose_b = _run(methods, Xs, ys, Xt, 1 - yt)
        ta, tb = _target(row_a), _target(row_b)
        print(f"seed {seed}: target A >= {ta:.3f}, target B >= {tb:.3f}; a label-free method"
              f" needs acc_A >= {ta:.3f} and acc_A <= {1 - tb:.3f}: "
              f"{'impossible' if ta > 1 - tb else 'possible'}")
        print(f"  skngd default chose {chose_a!r} in A and {chose_b!r} in B "
              f"({'same' if chose_a == chose_b else 'DIFFERENT'})")
        print(f"  {'method':36s}{'acc A':>7}{'acc B':>7}  meets A  meets B")
        for k in keys:
            a, b = row_a[k], row_b[k]
            ma, mb = bool(a >= ta), bool(b >= tb)
            meets[k][0] += ma
            meets[k][1] += mb
            print(f"  {k:36s}{a:7.3f}{b:7.3f}  {str(ma):7s}  {mb}")
        print()
    n = len(args.seeds)
    print(f"over {n} seeds, cases where each method meets the target in world A and in world B:")
    for k in keys:
        print(f"  {k:36s} A {meets[k][0]}/{n}   B {meets[k][1]}/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
