"""Arrows point inward: the core imports nothing from outer layers and no I/O library."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import tenglong

ROOT = Path(tenglong.__file__).parent
THIRD_PARTY_OK = {"numpy"}
STDLIB_IO = {"sqlite3", "socket", "http", "urllib", "subprocess", "shutil"}


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    package = ["tenglong", *path.relative_to(ROOT).parent.parts]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            else:
                names.add(node.module or "")
    return names


def test_core_when_imported_uses_only_stdlib_and_numpy():
    """core/ imports only the stdlib (no I/O modules), numpy, itself — and YAML in loader.py alone."""
    for path in (ROOT / "core").rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "tenglong":
                assert name.startswith("tenglong.core"), (path, name)
            elif top == "yaml":
                assert path.name == "loader.py", path
            else:
                assert top in THIRD_PARTY_OK or (top in sys.stdlib_module_names and top not in STDLIB_IO), (path, name)


def test_services_when_imported_never_reach_adapters():
    """services/ call the core; they never import the web, the CLI or the database adapters."""
    for path in (ROOT / "services").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(("tenglong.web", "tenglong.cli")), (path, name)
