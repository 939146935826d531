"""Validate the numpydoc docstrings of skngd's public names.

Usage::

    python doc/check_docstrings.py            # report; exit 1 if an enforced check fails
    python doc/check_docstrings.py --strict   # exit 1 if any reported check fails

What is checked: every name in ``skngd.__all__``, ``skngd.ot.__all__`` and
``skngd.plotting.__all__`` and, for classes, every public method and property
that the class defines itself (inherited scikit-learn members and the generated
``set_*_request`` methods are scikit-learn's docstrings, not ours).

Two tiers:

``ENFORCED_CHECKS``
    numpydoc checks run inside the Sphinx build (``numpydoc_validation_checks``
    in ``conf.py``); with ``sphinx-build -W`` a failure fails the build. Only
    checks that every public docstring passes are listed here.
``REPORTED_CHECKS``
    the wider set this script prints, grouped by the module that defines the
    object, so owners can fix them; promote a check to ``ENFORCED_CHECKS`` once
    it passes everywhere.

Besides numpydoc's codes, public classes and functions (not methods) get
``EX01`` (an Examples section, which ``pytest --doctest-modules skngd`` runs),
and estimator classes two project checks: ``SK01`` (objective in a
``.. math::`` block) and ``SK02`` (a References section).
"""

import argparse
import dataclasses
import importlib
import inspect
import re
import sys

# checks run by the Sphinx build on every documented object (classes, their
# own methods, functions); -W makes a failure an error
ENFORCED_CHECKS = (
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "GL08",  # no docstring
    "PR02",  # a documented parameter does not exist
    "SS01",  # no summary line
)

# checks reported by this script on every documented object
REPORTED_CHECKS = ENFORCED_CHECKS + (
    "PR01",  # a parameter is not documented
    "GL02",  # closing quotes placement
    "GL03",  # double blank line
    "PR03",  # parameters in the wrong order
    "PR04",  # parameter without a type
    "PR07",  # parameter without a description
    "PR10",  # "name: type" spacing
    "RT01",  # no Returns section
    "RT03",  # return value without a description
    "SS03",  # summary does not end with a period
    "SS05",  # summary starts with "Returns" instead of "Return"
    "SS06",  # summary longer than one line
)

# checks on public classes / functions only (not on their methods)
TOP_LEVEL_CHECKS = ("EX01",)
PROJECT_MSGS = {
    "SK01": "estimator docstring has no '.. math::' block stating the objective",
    "SK02": "estimator docstring has no References section",
}

# (module, attribute holding the names) of every public namespace
PUBLIC_MODULES = (
    "skngd",
    "skngd.linear_model",
    "skngd.impute",
    "skngd.domain_adaptation",
    "skngd.model_selection",
    "skngd.ot",
    "skngd.plotting",
)

_REQUEST_METHOD = re.compile(r"^set_\w+_request$")


def skip_member(name, obj):
    """True for class members that skngd does not define itself.

    Used by the ``autodoc-skip-member`` hook in ``conf.py`` and by this script.
    """
    if _REQUEST_METHOD.match(name):
        return True
    target = obj.fget if isinstance(obj, property) else obj
    module = getattr(target, "__module__", None)
    return module is not None and not module.startswith("skngd")


def inherited_exclusions(objects=()):
    """Regexes for ``numpydoc_validation_exclude`` in ``conf.py``.

    scikit-learn's generated ``set_*_request`` methods, and dataclasses (result
    objects), whose fields numpydoc expects under Parameters while we document
    them under Attributes; this script checks those with :func:`check`.
    ``objects`` are the ``(module, name, obj)`` triples of the API reference.
    """
    out = {r"\.set_\w+_request$"}
    for modname, name, obj in objects:
        if dataclasses.is_dataclass(obj):
            out.add("^" + re.escape(f"{modname}.{name}") + "$")
    return out


def public_objects(allow_missing=True):
    """Yield ``(qualified_name, obj, is_top_level)`` for every public object.

    An object exported by several modules (``skngd.LogisticRegression`` and
    ``skngd.linear_model.LogisticRegression``) is checked once, under the first.
    """
    seen = set()
    for modname in PUBLIC_MODULES:
        try:
            mod = importlib.import_module(modname)
        except ImportError as exc:
            if not allow_missing:
                raise
            print(f"# not importable yet: {modname} ({exc})")
            continue
        for name in getattr(mod, "__all__", []):
            if name.startswith("_"):
                continue
            try:
                obj = getattr(mod, name)
            except (ImportError, AttributeError) as exc:
                if not allow_missing:
                    raise
                print(f"# not importable yet: {modname}.{name} ({exc})")
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            qual = f"{modname}.{name}"
            yield qual, obj, True
            if inspect.isclass(obj):
                for mname, member in sorted(vars(obj).items()):
                    if mname.startswith("_") or skip_member(mname, member):
                        continue
                    if callable(member) or isinstance(member, property):
                        yield f"{qual}.{mname}", member, False


def _is_estimator(obj):
    return inspect.isclass(obj) and hasattr(obj, "fit") and hasattr(obj, "get_params")


def check(qual, obj, top_level):
    """Return a list of ``(code, message)`` for one object."""
    from numpydoc.validate import validate

    result = validate(qual)
    codes = set(REPORTED_CHECKS) | (set(TOP_LEVEL_CHECKS) if top_level else set())
    errors = [(c, m) for c, m in result["errors"] if c in codes]
    target = obj.fget if isinstance(obj, property) else obj
    if not top_level and not getattr(target, "__doc__", None) and "GL08" not in dict(errors):
        # numpydoc's validator falls back to an inherited docstring, the
        # Sphinx build does not: an override without its own docstring is GL08
        errors.append(("GL08", "The object does not have a docstring (of its own)"))
    if isinstance(obj, property):  # a property returns its value: no Returns section
        errors = [(c, m) for c, m in errors if c not in ("RT01", "PR01", "PR02")]
    if dataclasses.is_dataclass(obj):  # fields documented as Attributes
        attrs = _attribute_names(obj)
        missing = {f.name for f in dataclasses.fields(obj) if f.init} - attrs
        errors = [(c, m) for c, m in errors if c not in ("PR01", "PR02")]
        if missing:
            errors.append(("PR01", f"Fields {sorted(missing)} not documented under Attributes"))
    if top_level and _is_estimator(obj):
        doc = inspect.getdoc(obj) or ""
        if ".. math::" not in doc:
            errors.append(("SK01", PROJECT_MSGS["SK01"]))
        if not re.search(r"^References\n-{3,}", doc, flags=re.M):
            errors.append(("SK02", PROJECT_MSGS["SK02"]))
    return errors


def _attribute_names(obj):
    from numpydoc.docscrape import ClassDoc

    names = set()
    for item in ClassDoc(obj)["Attributes"]:
        names.update(n.strip() for n in item.name.split(":")[0].split(","))
    return names


def _defining_module(obj):
    target = obj.fget if isinstance(obj, property) else obj
    return getattr(target, "__module__", "?")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if any reported check fails")
    args = parser.parse_args(argv)

    by_module = {}
    n_checked = 0
    for qual, obj, top in public_objects():
        n_checked += 1
        errs = check(qual, obj, top)
        if errs:
            by_module.setdefault(_defining_module(obj), []).append((qual, errs))

    enforced_failures = 0
    for module in sorted(by_module):
        print(f"\n== {module}")
        for qual, errs in by_module[module]:
            for code, msg in errs:
                mark = "*" if code in ENFORCED_CHECKS else " "
                enforced_failures += code in ENFORCED_CHECKS
                print(f" {mark} {qual}: {code} {msg}")
    n_fail = sum(len(v) for v in by_module.values())
    print(f"\n{n_checked} public objects checked; {n_fail} with findings; "
          f"{enforced_failures} enforced-check failures (marked *)")
    if enforced_failures or (args.strict and n_fail):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
