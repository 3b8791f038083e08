"""The project form of the "new application" page: 2.10 / 2.11 inputs, read from form text.

Built from the variable registry like the calculator's form, so labels, units and
types come from ``policy/variables.yaml``. Field names are the variable names
(enterprise attributes do not clash with project ones), so a stored problem
``inputs.<name>`` points straight at its field.
"""

from __future__ import annotations

from typing import Any

from ...core import loader
from ..enterprises.projects import ENTERPRISE_INPUTS, project_inputs
from .calculator import Field, Section, form_value


def sections() -> list[Section]:
    """The enterprise's 2.10 attributes, then the 2.10 and the 2.11 project inputs."""
    reg = loader.variables()
    names = project_inputs()
    return [
        Section("enterprise", None, tuple(Field(n, reg[("enterprises", n)]) for n in ENTERPRISE_INPUTS)),
        *(
            Section(c, c, tuple(Field(n, reg[("projects", n)]) for n in names if reg[("projects", n)].clause == c))
            for c in ("2.10", "2.11")
        ),
    ]


def inputs_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The filled fields as contract values (text that is not a number is passed on for the check to report)."""
    out: dict[str, Any] = {}
    for sec in sections():
        for f in sec.fields:
            text = (form.get(f.key) or "").strip()
            if text:
                out[f.key] = form_value(f, text)
    return out


def problems_by_field(problems: list[Any]) -> tuple[dict[str, list[Any]], list[Any]]:
    """Problems keyed by form field (``inputs.x`` → ``x``; ``name``, ``application_date``, ``credit_code`` as they
    are), and the rest.
    """
    keyed: dict[str, list[Any]] = {}
    rest = []
    for p in problems:
        where = p.where.removeprefix("inputs.")
        if where in {f.key for s in sections() for f in s.fields} | {"name", "application_date", "credit_code"}:
            keyed.setdefault(where, []).append(p)
        else:
            rest.append(p)
    return keyed, rest
