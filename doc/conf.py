"""Sphinx configuration for the skngd documentation.

Build with ``bash doc/build.sh`` (warnings are errors, the gallery executes).

Environment switches
--------------------
SKNGD_DOCS_INTERSPHINX=1
    Enable intersphinx links to scikit-learn, NumPy, SciPy, POT and matplotlib.
    Off by default: the build machines have no network except the package
    index, no package on PyPI ships these ``objects.inv`` inventories, and a
    failed inventory fetch is a warning, which ``-W`` turns into an error.
    Offline, the pages link to the external projects with explicit URLs
    (``extlinks`` roles below) so nothing is left dangling.
SKNGD_DOCS_ALLOW_MISSING=1
    Let the API reference skip public names listed in ``__all__`` that cannot
    be imported yet (development only; each skipped name is printed). The
    default is strict: a name in ``__all__`` that does not import fails the
    build.
SKNGD_DOCS_NO_GALLERY=1
    Do not execute the gallery examples (quick iteration on the text only).
"""

import importlib
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import skngd  # noqa: E402

# -- project -----------------------------------------------------------------
project = "skngd"
author = "the skngd developers"
copyright = "2026, the skngd developers"
release = skngd.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.extlinks",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "**.ipynb_checkpoints", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip"]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skngd {release}"
html_static_path = ["_static"]
html_css_files = ["skngd.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_show_sourcelink = True

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- external links ----------------------------------------------------------
extlinks = {
    "sklearn": ("https://scikit-learn.org/stable/modules/generated/%s.html", "%s"),
    "statsmodels": ("https://www.statsmodels.org/stable/generated/%s.html", "%s"),
    "pot": ("https://pythonot.github.io/gen_modules/%s", "%s"),
    "skopt": ("https://scikit-optimize.github.io/stable/modules/generated/%s.html", "%s"),
    "scipy": ("https://docs.scipy.org/doc/scipy/reference/generated/%s.html", "%s"),
    "doi": ("https://doi.org/%s", "doi:%s"),
}

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "scipy": ("https://docs.scipy.org/doc/scipy/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "ot": ("https://pythonot.github.io/", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
}
# Every cross-reference must resolve (nitpicky): a broken reference to an
# skngd name fails the build.
nitpicky = True
nitpick_ignore_regex = []
if os.environ.get("SKNGD_DOCS_INTERSPHINX", "0") != "1":
    # Offline (the default on CI): keep the mapping above as documentation of
    # what a networked build links to, but do not try to fetch anything;
    # references into those projects render as code without a link.
    intersphinx_mapping = {}
    intersphinx_disabled_reftypes = ["*"]
    nitpick_ignore_regex += [
        (r"py:.*", r"(sklearn|numpy|np|scipy|ot|matplotlib|pandas|pd|joblib|dask|statsmodels)(\..*)?"),
    ]

# -- numpydoc validation -----------------------------------------------------
# The checks enforced during the build (``-W`` makes a failure an error). Only
# checks that every public docstring passes belong here; the wider report is
# ``python doc/check_docstrings.py`` (same exclusions, more checks).
sys.path.insert(0, str(HERE))
from check_docstrings import ENFORCED_CHECKS, inherited_exclusions, skip_member  # noqa: E402

numpydoc_validation_checks = set(ENFORCED_CHECKS)

# -- API reference generated from __all__ ------------------------------------
ALLOW_MISSING = os.environ.get("SKNGD_DOCS_ALLOW_MISSING", "0") == "1"

# (section title, module, names): the estimators come from skngd.__all__; each
# subpackage adds the public names of its own __all__ not re-exported at the
# top level (search-space classes, ...); the functional modules list their own
# __all__.
SUBPACKAGES = ("linear_model", "impute", "domain_adaptation", "model_selection")


def _api_sections():
    sections = [("Estimators", "skngd", None)]
    top = set(skngd.__all__)
    for sub in SUBPACKAGES:
        modname = f"skngd.{sub}"
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue  # reported when the estimators it exports are looked up
        extra = [n for n in getattr(mod, "__all__", []) if n not in top]
        if extra:
            sections.append((f"More in ``{modname}``", modname, extra))
    sections += [
        ("Optimal transport core: ``skngd.ot``", "skngd.ot", None),
        ("Plotting: ``skngd.plotting``", "skngd.plotting", None),
    ]
    return sections


def _public_names(modname, names):
    try:
        mod = importlib.import_module(modname)
    except ImportError as exc:
        if not ALLOW_MISSING:
            raise RuntimeError(
                f"API reference: cannot import {modname!r} ({exc}); set "
                "SKNGD_DOCS_ALLOW_MISSING=1 to build without it"
            ) from exc
        print(f"[skngd docs] SKIPPED module {modname}: {exc}")
        nitpick_ignore_regex.append((r"py:.*", re.escape(modname) + r"(\..*)?"))
        return None, []
    names = [n for n in (names or getattr(mod, "__all__", [])) if not n.startswith("_")]
    found = []
    for name in names:
        try:
            getattr(mod, name)
        except (ImportError, AttributeError) as exc:
            if not ALLOW_MISSING:
                raise RuntimeError(
                    f"API reference: {modname}.{name} is in __all__ but does not "
                    f"import ({exc}); set SKNGD_DOCS_ALLOW_MISSING=1 to skip it"
                ) from exc
            print(f"[skngd docs] SKIPPED {modname}.{name}: {exc}")
            nitpick_ignore_regex.append((r"py:.*", rf"(skngd\.)?{name}(\..*)?"))
            continue
        found.append(name)
    return mod, found


def _write_api_page():
    lines = [
        ".. This file is generated by doc/conf.py from the modules' __all__; do not edit.",
        "",
        ".. _api:",
        "",
        "API reference",
        "=============",
        "",
        ".. module:: skngd",
        "",
        "Every public name, generated from ``__all__``. Each estimator is also",
        "importable from its subpackage (``skngd.linear_model``, ``skngd.impute``,",
        "``skngd.domain_adaptation``, ``skngd.model_selection``).",
        "",
    ]
    documented = []
    for title, modname, names in _api_sections():
        mod, found = _public_names(modname, names)
        if not found:
            continue
        lines += [title, "-" * len(title), ""]
        if modname in ("skngd.ot", "skngd.plotting"):
            lines += [f".. automodule:: {modname}", "   :no-members:", ""]
        if modname.count(".") == 1 and modname not in ("skngd.ot", "skngd.plotting"):
            # a subpackage section declares its module, so :mod:`skngd.impute`
            # and the like resolve
            lines += [f".. module:: {modname}", ""]
        lines += [f".. currentmodule:: {modname}", ""]
        lines += [".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
        for name in found:
            lines.append(f"   {name}")
            documented.append((modname, name, getattr(mod, name)))
        lines.append("")
    (HERE / "api.rst").write_text("\n".join(lines) + "\n")
    return documented


API_OBJECTS = _write_api_page()
numpydoc_validation_exclude = inherited_exclusions(API_OBJECTS)


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document only what skngd defines: not scikit-learn's generated
    ``set_*_request`` methods nor members inherited from other packages."""
    if skip_member(name, obj):
        return True
    return None


def _import_object(dotted):
    """The object at a dotted path ``skngd.sub.Name[.attr]``, or None."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _resolve_short_skngd_names(app, env, node, contnode):
    """Resolve two kinds of references to skngd objects:

    * an unqualified name such as ``:class:`Real``` written in a docstring of
      another skngd module, when exactly one documented skngd object has that
      name (the Python domain's "refspecific" search);
    * a subpackage path such as ``skngd.impute.GaussianEMImputer`` to an object
      documented under its top-level name, when both paths import the same
      object.

    Anything else stays unresolved and, with ``nitpicky``, fails the build."""
    if node.get("refdomain") != "py" or node.get("refspecific"):
        return None
    target = node.get("reftarget", "")
    if not target or target.startswith(("sklearn", "numpy", "scipy")):
        return None
    domain = env.get_domain("py")
    if target.startswith("skngd."):
        # a subpackage path (skngd.impute.GaussianEMImputer) of an object the
        # API reference documents under another public path (skngd.GaussianEMImputer)
        obj = _import_object(target)
        if obj is None:
            return None
        short = target.rsplit(".", 1)[-1]
        matches = [m for m in domain.find_obj(env, None, None, short, node.get("reftype"), 1)
                   if _import_object(m[0]) is obj]
    else:
        matches = domain.find_obj(env, None, None, target, node.get("reftype"), 1)
    # autodoc also registers each object under its private canonical path
    # (skngd.x._module.Name, "aliased"): count an object once
    matches = [m for m in matches
               if m[0].startswith("skngd.") and not getattr(m[1], "aliased", False)]
    if len(matches) != 1:
        return None
    name, obj = matches[0]
    from sphinx.util.nodes import make_refnode

    return make_refnode(app.builder, node["refdoc"], obj.docname, obj.node_id,
                        contnode, name)


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.connect("missing-reference", _resolve_short_skngd_names)

# -- benchmark tables included in the user guide -----------------------------
# Each user-guide page includes ``_generated/bench_<name>.rst``: the table the
# script ``benchmarks/bench_<name>.py`` printed (benchmarks/results/*.txt), or
# a note saying it has not been measured yet.
BENCHES = ["logistic", "glm", "impute", "robust", "ot", "search"]


def _write_bench_includes():
    out = HERE / "_generated"
    out.mkdir(exist_ok=True)
    for name in BENCHES:
        result = ROOT / "benchmarks" / "results" / f"bench_{name}.txt"
        if result.exists():
            body = (
                f"Measured by ``python benchmarks/bench_{name}.py`` on a 2-core "
                "machine (``benchmarks/results/bench_" + name + ".txt``):\n\n"
                f".. literalinclude:: ../../benchmarks/results/bench_{name}.txt\n"
                "   :language: none\n"
            )
        else:
            body = (
                ".. note::\n\n"
                f"   No measured table yet: run ``python benchmarks/bench_{name}.py``\n"
                f"   and save its output to ``benchmarks/results/bench_{name}.txt``.\n"
            )
        (out / f"bench_{name}.rst").write_text(body)


_write_bench_includes()

# -- sphinx-gallery ----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "doc_module": ("skngd",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skngd": None},
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "min_reported_time": 1,
    "show_memory": False,
    "download_all_examples": False,
    "image_scrapers": ("matplotlib",),
}
if os.environ.get("SKNGD_DOCS_NO_GALLERY", "0") == "1":
    sphinx_gallery_conf["plot_gallery"] = "False"
