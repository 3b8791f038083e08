"""The project form of the "new application" page: 2.10 / 2.11 inputs, read from form text.

Built from the variable registry like the calculator's form, so labels, units and
types come from ``policy/variables.yaml``. Field names are the variable names
(enterprise attributes do not clash with project ones), so a stored problem
``inputs.<name>`` points straight at its field.

Amounts are typed in 万元 or 元 (the switch ``<name>__unit``, 万元 first for
investment amounts) and rates as percentages, exactly as in the calculator
(``calculator.Field``); the inputs are stored in the contract's 元 and ratios. A
field posted without its unit (a stored project filled back into the form) is in
those units already.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...core import loader
from ..enterprises.projects import ENTERPRISE_INPUTS, project_inputs
from .calculator import PERCENT, WAN, Field, Section, form_value, plain_number


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
    """The filled fields as contract values, in 元 and ratios (text that is not a number is passed on as typed, for
    the check to report at its field).
    """
    out: dict[str, Any] = {}
    for sec in sections():
        for f in sec.fields:
            text = (form.get(f.key) or "").strip()
            if text:
                out[f.key] = form_value(f, text, f.unit_of(form))
    return out


def form_of_inputs(inputs: dict[str, Any]) -> dict[str, str]:
    """Stored inputs (元, ratios) as the form shows them, each in its field's first unit with the unit chosen:
    ``{"total_investment": 15000000}`` → ``{"total_investment": "1500", "total_investment__unit": "万元"}``.

    >>> form_of_inputs({"total_investment": 15000000, "traditional_industry": True})
    {'total_investment': '1500', 'total_investment__unit': '万元', 'traditional_industry': 'true'}
    """
    fields = {f.key: f for sec in sections() for f in sec.fields}
    out: dict[str, str] = {}
    for k, v in inputs.items():
        f = fields.get(k)
        if isinstance(v, bool):
            out[k] = "true" if v else "false"
        elif f is not None and f.units and isinstance(v, int | Decimal | str) and f.units[0] in (WAN, PERCENT):
            number = Decimal(str(v))
            out[k] = plain_number(number / 10000 if f.units[0] == WAN else number * 100)
            out[f.unit_key] = f.units[0]
        else:
            out[k] = str(v)
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
