"""Reading a register kind file: each part checked, every mistake named by its key (``registers/kinds.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..core import loader
from ..core.boundary import TERMS
from ..core.mujun.indicators import ALL as INDICATORS
from .kind_parts import FIELD_TYPES, Category, Deadline, EntryField, Mark, Refusal, Unit
from .roles import ROLES
from .workflow import Workflow

CONDITIONS = ("overdue", "target_met", "commitment_met", "settles", "nothing_due")
"""The facts a move may be conditioned on: the services compute them (``services/campaign/entries.facts_of``) — a
passed deadline; the plan's targets checked against the enterprise-year data; a commitment checked against the
project's life cycle and the data; whether a repayment settles the clawback; whether anything was paid under it."""
CREATED = ("propose", "add", "import", "suggest")
"""The kind's events outside its moves: a system proposal, a person's addition, an entry imported from a workbook,
a system suggestion of a move."""


class Errors(list):
    """Mistakes of one file, each naming the key."""

    def at(self, where: str, what: str) -> None:
        self.append(f"{where}: {what}")


def text(data: Mapping[str, Any], key: str, errors: Errors, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.at(f"{where}.{key}" if where else key, "missing (a text)")
        return ""
    return value.strip()


def units(data: Any, errors: Errors) -> tuple[Unit, ...]:
    out = []
    for i, u in enumerate(data if isinstance(data, list) else []):
        where = f"responsible_units[{i}]"
        if not isinstance(u, Mapping):
            errors.at(where, "must be a mapping")
            continue
        role = str(u.get("role", ""))
        if role not in ROLES:
            errors.at(f"{where}.role", f"{role!r} is not one of {', '.join(ROLES)}")
        out.append(
            Unit(
                text(u, "key", errors, where),
                text(u, "zh", errors, where),
                text(u, "en", errors, where),
                role,
                bool(u.get("lead", False)),
                str(u.get("duty_zh", "")),
                str(u.get("duty_en", "")),
            )
        )
    if not out:
        errors.at("responsible_units", "at least one unit is needed")
    if sum(u.lead for u in out) != 1:
        errors.at("responsible_units", "exactly one unit must be the lead (lead: true)")
    unique([u.key for u in out], "responsible_units", errors)
    return tuple(out)


def unique(keys: list[str], where: str, errors: Errors) -> None:
    for k in sorted({k for k in keys if keys.count(k) > 1}):
        errors.at(where, f"the key {k!r} is used twice")


def fields(data: Any, errors: Errors) -> dict[str, EntryField]:
    out = {}
    for key, spec in (data or {}).items():
        where = f"fields.{key}"
        if not isinstance(spec, Mapping):
            errors.at(where, "must be a mapping")
            continue
        type_name = str(spec.get("type", ""))
        if type_name not in FIELD_TYPES:
            errors.at(f"{where}.type", f"{type_name!r} is not one of {', '.join(sorted(FIELD_TYPES))}")
            continue
        values = tuple(str(v) for v in spec.get("values") or ())
        if (FIELD_TYPES[type_name].base == "enum") != bool(values):
            errors.at(f"{where}.values", "an enum field lists its values, and only an enum field")
        out[str(key)] = EntryField(
            str(key),
            text(spec, "zh", errors, where),
            text(spec, "en", errors, where),
            FIELD_TYPES[type_name],
            bool(spec.get("required", False)),
            values,
            int(spec.get("max_length", 500)),
        )
    return out


def categories(data: Any, errors: Errors) -> tuple[Category, ...]:
    out = []
    for i, c in enumerate(data if isinstance(data, list) else []):
        where = f"categories[{i}]"
        if not isinstance(c, Mapping):
            errors.at(where, "must be a mapping")
            continue
        out.append(
            Category(
                text(c, "key", errors, where),
                text(c, "zh", errors, where),
                text(c, "en", errors, where),
                str(c.get("note_zh", "")),
                str(c.get("note_en", "")),
            )
        )
    if not out:
        errors.at("categories", "at least one category is needed")
    unique([c.key for c in out], "categories", errors)
    return tuple(out)


def workflow_mapping(
    data: Mapping[str, Any], key: str, entry: Mapping[str, Any], units, categories, errors: Errors
) -> dict:
    """The ``workflow`` block completed for the engine: name, nouns, evidence, choices, default permission."""
    wf = dict(data.get("workflow") or {})
    choices = {
        "categories": [c.key for c in categories],
        "responsible_units": [u.key for u in units],
        "indicators": list(INDICATORS),
    }
    fields = {}
    for name, spec in (wf.get("fields") or {}).items():
        spec = dict(spec or {})
        if isinstance(spec.get("choices"), str):
            if spec["choices"] not in choices:
                errors.at(f"workflow.fields.{name}.choices", f"{spec['choices']!r} is not one of {', '.join(choices)}")
            spec["choices"] = choices.get(spec["choices"], [])
        fields[name] = spec
    moves = []
    for m in wf.get("moves") or []:
        m = dict(m or {})
        m.setdefault("permission", "register")
        if len(f"{key}.{m.get('action')}") > 64:
            errors.at(f"workflow.moves.{m.get('action')}", "the event name (key.action) passes 64 characters")
        if m.get("action") in CREATED:
            errors.at(
                f"workflow.moves.{m.get('action')}", f"the actions {', '.join(CREATED)} are the kind's own events"
            )
        moves.append(m)
    for c in wf.get("conditions") or {}:
        if c not in CONDITIONS:
            errors.at(f"workflow.conditions.{c}", f"not one of {', '.join(CONDITIONS)} (the facts the services know)")
    intake = data.get("intake") or {}
    return {
        **wf,
        "name": key,
        "entity": key,
        "event_prefix": key,
        "noun_zh": str(entry.get("zh", key)),
        "noun_en": str(entry.get("en", key)),
        "initial": str(intake.get("manual", "")),
        "evidence": data.get("evidence") or {},
        "fields": fields,
        "moves": moves,
    }


def deadline(data: Any, wf: Workflow, errors: Errors) -> Deadline | None:
    if data is None:
        return None
    where = "deadline"
    states = tuple(str(s) for s in data.get("states") or ())
    for s in states:
        if s not in wf.states or wf.states[s].terminal:
            errors.at(f"{where}.states", f"{s!r} is not an open state of the workflow")
    set_by = []
    for i, spec in enumerate(data.get("set_by") or ()):
        move, field, months = str(spec.get("move", "")), str(spec.get("field", "")), int(spec.get("months", 0))
        found = wf.named(move)
        if not found:
            errors.at(f"{where}.set_by[{i}].move", f"{move!r} is not a move")
        elif (
            any(field not in (*m.requires, *m.accepts) for m in found)
            or wf.fields.get(field) is None
            or (wf.fields[field].kind != "date")
        ):
            errors.at(f"{where}.set_by[{i}].field", f"{field!r} is not a date field of the move {move}")
        set_by.append((move, field, months))
    if not set_by:
        errors.at(f"{where}.set_by", "name the moves (and fields) that set the deadline")
    return Deadline(
        text(data, "zh", errors, where),
        text(data, "en", errors, where),
        str(data.get("clause", "")),
        states,
        tuple(set_by),
    )


def marks(data: Any, fields: Mapping[str, EntryField], errors: Errors) -> tuple[Mark, ...]:
    out = []
    for i, m in enumerate(data or ()):
        where = f"marks[{i}]"
        f = fields.get(str(m.get("field")))
        if f is None or f.type.base not in ("decimal", "int"):
            errors.at(f"{where}.field", f"{m.get('field')!r} is not a number field of the kind")
        if m.get("term") not in TERMS:
            errors.at(f"{where}.term", f"{m.get('term')!r} is not a threshold word of core/boundary.py")
        out.append(
            Mark(
                text(m, "key", errors, where),
                str(m.get("field")),
                str(m.get("term")),
                Decimal(str(m.get("value", 0))),
                text(m, "zh", errors, where),
                text(m, "en", errors, where),
                str(m.get("clause", "")),
            )
        )
    return tuple(out)


def refusals(data: Any, fields: Mapping[str, EntryField], errors: Errors) -> tuple[Refusal, ...]:
    out = []
    for i, r in enumerate(data or ()):
        where = f"refuse[{i}]"
        f = fields.get(str(r.get("field")))
        if f is None or f.type.base != "bool":
            errors.at(f"{where}.field", f"{r.get('field')!r} is not a true/false field of the kind")
        out.append(
            Refusal(
                str(r.get("field")), text(r, "zh", errors, where), text(r, "en", errors, where), str(r.get("clause"))
            )
        )
    return tuple(out)


def clauses(data: Mapping[str, Any], errors: Errors) -> None:
    known = {c.id for c in loader.policy().clauses}
    named = [("clause", data.get("clause")), ("deadline.clause", (data.get("deadline") or {}).get("clause"))]
    named += [(f"marks[{i}].clause", m.get("clause")) for i, m in enumerate(data.get("marks") or ())]
    named += [(f"refuse[{i}].clause", r.get("clause")) for i, r in enumerate(data.get("refuse") or ())]
    for where, clause in named:
        if (where == "clause" or clause is not None) and str(clause) not in known:
            errors.at(where, f"{clause!r} is not a clause id of policy/clauses.yaml")
