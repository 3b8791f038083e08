"""The platform's workflows, written as data (one YAML file each), built by ``registers.workflow``.

``subsidy_application``, ``data_import``, ``evaluation_run`` and ``project_lifecycle`` ship here; the
campaign registers bring theirs in their own kind files (``registers/kinds.py``), and
:func:`load_all` lists them too.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from ...core.loader import load_yaml
from ..kinds import load as load_kinds
from ..workflow import Workflow

__all__ = ["NAMES", "load"]

NAMES = ("subsidy_application", "data_import", "evaluation_run", "project_lifecycle")


@cache
def load(name: str) -> Workflow:
    """The workflow ``name`` (its move events registered).

    Raises:
        KeyError: for a name that has no file here.
        ValueError: for an inconsistent file.
    """
    if name not in NAMES:
        raise KeyError(name)
    text = resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return Workflow.from_mapping(load_yaml(text))


def load_all() -> list[Workflow]:
    """Every workflow shipped here and every register kind's (so every move event is registered)."""
    return [*(load(n) for n in NAMES), *(k.workflow for k in load_kinds().values())]
