"""Arrows point inward: web, cli → services → adapters / core / registers; core and registers are pure.

Each rule is checked over the real package, and each is also run once against a
planted violation (a module written for the test in a copy of the layer), to prove
that the check can fail for what it claims.
"""

from __future__ import annotations

import ast
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import tenglong

ROOT = Path(tenglong.__file__).parent
STDLIB_IO = {"sqlite3", "socket", "http", "urllib", "subprocess", "shutil", "ftplib", "smtplib", "asyncio"}
"""Standard-library modules that do I/O beyond reading the package's own data: never in the pure centre."""


def imports_of(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute module names imported by ``path`` (relative imports resolved against its package)."""
    package = ["tenglong", *path.relative_to(root).parent.parts]
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


def _pure(extra_ok: set[str], own: tuple[str, ...]) -> Callable[[Path, str], bool]:
    """Allowed: the stdlib without I/O modules, ``extra_ok`` third-party packages, and the ``own`` packages."""

    def allowed(path: Path, name: str) -> bool:
        top = name.split(".")[0]
        if top == "tenglong":
            return name.startswith(own)
        if top == "yaml":  # the policy pack is YAML: only the loader reads it
            return path.name == "loader.py" and path.parent.name == "core"
        return top in extra_ok or (top in sys.stdlib_module_names and top not in STDLIB_IO)

    return allowed


def _never(*forbidden: str) -> Callable[[Path, str], bool]:
    return lambda path, name: not name.startswith(forbidden)


@dataclass(frozen=True)
class Rule:
    """Modules under ``layer`` may import a name only when ``allowed(path, name)``."""

    name: str
    layers: tuple[str, ...]
    allowed: Callable[[Path, str], bool]
    violation: str  # an import line that breaks the rule, planted to prove the check can fail


RULES = (
    Rule(
        "core is pure: stdlib (no I/O modules), numpy, itself; YAML only in core/loader.py",
        ("core",),
        _pure({"numpy"}, ("tenglong.core",)),
        "import sqlite3\n",
    ),
    Rule(
        "registers are pure: stdlib (no I/O modules), the core and themselves",
        ("registers",),
        _pure(set(), ("tenglong.core", "tenglong.registers")),
        "from ..services.kernel.uow import now\n",
    ),
    Rule(
        "adapters take plain rows: they never reach services, web, CLI or benchmarks",
        ("adapters",),
        _never("tenglong.services", "tenglong.web", "tenglong.cli", "tenglong.bench"),
        "from ...services.evaluation import evaluate\n",
    ),
    Rule(
        "services never reach the web, the CLI or the benchmarks",
        ("services",),
        _never("tenglong.web", "tenglong.cli", "tenglong.bench"),
        "from ..web.app import create_app\n",
    ),
    Rule(
        "web and CLI never reach the database adapter: they call the services",
        ("web", "cli.py"),
        _never("tenglong.adapters.db"),
        "from ..adapters.db.tables import users\n",
    ),
)


def violations(rule: Rule, root: Path = ROOT) -> list[tuple[str, str]]:
    """(module, import) pairs under the rule's layers that break it."""
    out = []
    for layer in rule.layers:
        target = root / layer
        paths = [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))
        for path in paths:
            for name in sorted(imports_of(path, root)):
                if not rule.allowed(path, name):
                    out.append((str(path.relative_to(root)), name))
    return out


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_layer_when_its_imports_are_scanned_keeps_the_rule(rule):
    """No module of the layer imports what the rule forbids."""
    assert violations(rule) == []


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_layer_check_when_a_violation_is_planted_reports_it(rule, tmp_path):
    """A module written for the test with one forbidden import makes the check fail, naming it."""
    root = tmp_path / "tenglong"
    layer = rule.layers[0]
    if layer.endswith(".py"):
        root.mkdir()
        planted = root / layer
        planted.write_text((ROOT / layer).read_text(encoding="utf-8") + "\n" + rule.violation, encoding="utf-8")
    else:
        shutil.copytree(ROOT / layer, root / layer, ignore=shutil.ignore_patterns("__pycache__"))
        planted = root / layer / ("planted/deep.py" if layer == "adapters" else "planted.py")
        planted.parent.mkdir(exist_ok=True)
        planted.write_text(rule.violation, encoding="utf-8")
    found = violations(Rule(rule.name, (layer,), rule.allowed, rule.violation), root)
    assert [m for m, _ in found] == [str(planted.relative_to(root))], found


def test_core_yaml_check_when_yaml_is_imported_outside_the_loader_reports_it(tmp_path):
    """YAML is allowed in core/loader.py only: the same import elsewhere in the core is a violation."""
    root = tmp_path / "tenglong"
    shutil.copytree(ROOT / "core", root / "core", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "core" / "rules" / "planted.py").write_text("import yaml\n", encoding="utf-8")
    assert violations(RULES[0], root) == [("core/rules/planted.py", "yaml")]
