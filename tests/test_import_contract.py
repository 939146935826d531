"""The import contract of pyproject.toml ([tool.importlinter]) holds.

The same check as ``lint-imports`` in .ci/run, so the README's ``pytest`` runs
it too.
"""

from pathlib import Path

from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

ROOT = Path(__file__).resolve().parents[1]


def _lint(config):
    status = lint_imports(config_filename=str(config), no_cache=True, no_logo=True)
    return status == EXIT_STATUS_SUCCESS


def test_import_contract_is_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert _lint(ROOT / "pyproject.toml")


def test_contract_sees_the_real_edges(tmp_path, monkeypatch):
    """The checker is not vacuous: the layers turned upside down are broken
    (``skngd._loss`` imports ``skngd._kernels``)."""
    monkeypatch.chdir(ROOT)
    cfg = tmp_path / "upside_down.ini"
    cfg.write_text(
        "[importlinter]\nroot_package = skngd\n\n"
        "[importlinter:contract:reversed]\nname = reversed\ntype = layers\n"
        "containers = skngd\nlayers =\n    _kernels\n    _loss\n"
    )
    assert not _lint(cfg)
