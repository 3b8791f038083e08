"""政策计算器: a form over the calculation contract, answered by ``services.calculation.contract.calculate``.

The form is built from the variable registry (labels, units and types come from
``policy/variables.yaml``): one section per clause of the chosen kind of case
(a project, a land transfer, a land sale, a merger), plus the enterprise's
attributes for a project. A clause is computed when any field of its own
section is filled; every output of that clause is then requested, so the answer
shows, per clause, the amount or decision, its status, the quoted clause text,
the conditions tested and the assumptions in force. Input problems come back
keyed by form field (from the ``where`` of the contract's problems).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from ...adapters.db.tables import enterprises
from ...core import loader
from ...core.errors import InvalidInput, Problem
from ...core.variables import Variable
from ...registers.roles import Actor
from ..enterprises.projects import published_class
from ..kernel.scope import enterprise_scope, visible_enterprise
from ..kernel.uow import UnitOfWork
from .contract import calculate

ENTERPRISE_PREFIX = "ent."
GENERAL = ("name", "application_date")


@dataclass(frozen=True)
class Kind:
    """A kind of case the calculator answers."""

    key: str
    entity: str
    clauses: tuple[str, ...]
    enterprise_fields: tuple[str, ...] = ()
    class_field: str | None = None  # the field prefilled with the chosen enterprise's latest final class


KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind(
            "project",
            "projects",
            ("2.10", "2.11", "2.3", "2.4", "2.5", "2.6", "2.14"),
            (
                "mujun_class",
                "is_2513_enterprise",
                "local_contribution_growth",
                "industrial_equipment_investment",
                "leading_enterprise",
            ),
            "ent.mujun_class",
        ),
        Kind("land_transfer", "land_transfers", ("2.7", "2.12"), class_field="transferee_mujun_class_last_year"),
        Kind("land_sale", "land_sales", ("2.13",)),
        Kind("merger", "mergers", ("2.9",), class_field="acquirer_mujun_class_last_year"),
    )
}


@dataclass(frozen=True)
class Field:
    """One input of the form: ``key`` is the form name (``ent.`` prefix for enterprise attributes)."""

    key: str
    var: Variable

    @property
    def widget(self) -> str:
        """select (bool, enum), date, list or number/text input."""
        base = self.var.type.base
        if base in ("bool", "enum"):
            return "select"
        return {"date": "date", "list_decimal": "list", "text": "text"}.get(base, "number")

    @property
    def options(self) -> list[str]:
        """Choices of a select (``true``/``false`` for a bool)."""
        return ["true", "false"] if self.var.type.base == "bool" else list(self.var.values)


@dataclass(frozen=True)
class Section:
    """The fields of one clause (``clause`` None: general, or the enterprise's attributes)."""

    key: str
    clause: str | None
    fields: tuple[Field, ...]


def sections(kind: Kind) -> list[Section]:
    """The form of ``kind``: general fields, the enterprise's attributes, then one section per clause."""
    reg = loader.variables()
    own = [v for v in reg.of(kind.entity) if v.is_input and v.role == "input" and v.name != "enterprise"]
    general = [Field(v.name, v) for v in own if v.name in GENERAL]
    if not any(
        f.key == "application_date" for f in general
    ):  # a land sale has no date of its own: it is judged on this day
        general.append(Field("application_date", reg[("projects", "application_date")]))
    out = [Section("general", None, tuple(general))]
    if kind.enterprise_fields:
        out.append(
            Section(
                "enterprise",
                None,
                tuple(Field(ENTERPRISE_PREFIX + n, reg[("enterprises", n)]) for n in kind.enterprise_fields),
            )
        )
    for clause in kind.clauses:
        fields = tuple(Field(v.name, v) for v in own if v.clause == clause and v.name not in GENERAL)
        if fields:
            out.append(Section(clause, clause, fields))
    return out


def clause_titles(kind: Kind, lang: str = "zh") -> dict[str, str]:
    """Clause id → its title (Chinese number and heading, or the English heading)."""
    pol = loader.policy()
    return {c: pol[c].title_zh() if lang == "zh" else pol[c].heading_en for c in kind.clauses}


def outputs_of(kind: Kind, clause: str) -> list[Variable]:
    """The outputs of ``kind`` that belong to ``clause``."""
    return [v for v in loader.variables().of(kind.entity) if v.is_output and v.role == "output" and v.clause == clause]


def default_date(today: dt.date | None = None) -> dt.date:
    """Today, kept inside the policy's validity so that a fresh form computes something."""
    w = loader.policy().window
    day = today or dt.date.today()
    return min(max(day, w.start), w.end) if w.end else max(day, w.start)


def form_value(f: Field, text: str) -> Any:
    """A form text as a contract value (exact decimals; unparseable text is passed on for the contract to report)."""
    base = f.var.type.base
    text = text.strip()
    if base == "bool":
        return {"true": True, "false": False}.get(text.lower(), text)
    if base in ("decimal", "int"):
        raw = text.replace(",", "").replace("，", "")
        pct = raw.endswith("%")
        try:
            number = Decimal(raw[:-1] if pct else raw)
        except InvalidOperation:
            return text
        return number / 100 if pct else number
    if base == "list_decimal":
        parts = [p for p in text.replace("，", ",").replace(";", ",").split(",") if p.strip()]
        try:
            return [Decimal(p.strip()) for p in parts]
        except InvalidOperation:
            return text
    return text


def build_request(kind: Kind, form: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The contract document for a filled form, and the clauses requested.

    A clause is requested when a field of its own section is filled; all of its
    outputs are then asked for (``null``).
    """
    day = (form.get("application_date") or "").strip() or default_date().isoformat()
    row: dict[str, Any] = {}
    ent: dict[str, Any] = {}
    requested: list[str] = []
    for sec in sections(kind):
        filled = False
        for f in sec.fields:
            text = (form.get(f.key) or "").strip()
            if not text:
                continue
            filled = True
            if f.key.startswith(ENTERPRISE_PREFIX):
                ent[f.var.name] = form_value(f, text)
            else:
                row[f.key] = form_value(f, text)
        if sec.clause and filled:
            requested.append(sec.clause)
    row["application_date"] = day
    if kind.entity != "projects" and loader.variables().get(kind.entity, "application_date") is None:
        row.pop("application_date")
    for clause in requested:
        for v in outputs_of(kind, clause):
            row[v.name] = None
    doc: dict[str, Any] = {"as_of": day}
    if day[:4].isdigit():
        doc["period"] = day[:4]
    if kind.entity == "projects":
        row["enterprise"] = "E1"
        doc["enterprises"] = {"E1": ent}
    doc[kind.entity] = {"P1": row}
    return doc, requested


def field_of(kind: Kind, where: str) -> str | None:
    """The form field a problem's ``where`` points at (``projects.P1.x`` → ``x``, ``enterprises.E1.y`` → ``ent.y``)."""
    parts = where.split(".")
    if len(parts) >= 3 and parts[0] == kind.entity:
        return parts[2].split("[")[0]
    if len(parts) >= 3 and parts[0] == "enterprises":
        return ENTERPRISE_PREFIX + parts[2].split("[")[0]
    if parts[0] == "as_of":
        return "application_date"
    return None


def run_form(kind_key: str, form: dict[str, str], lang: str = "zh") -> dict[str, Any]:
    """Answer a calculator form.

    Returns:
        ``{"kind", "requested", "request", "clauses": [per-clause results], "problems": {field: [Problem]},
        "general_problems": [...]}``; with problems, nothing is computed (``clauses`` is empty).
    """
    kind = KINDS.get(kind_key) or KINDS["project"]
    doc, requested = build_request(kind, form)  # form keys are variable names (a land transfer has its own ``kind``)
    out: dict[str, Any] = {
        "kind": kind.key,
        "requested": requested,
        "request": doc,
        "clauses": [],
        "problems": {},
        "general_problems": [],
    }
    if not requested:
        out["general_problems"].append(
            Problem(
                "nothing_requested",
                kind.entity,
                None,
                "",
                "",
                "",
                "请至少填写一个条款的输入项。",
                "Fill in the inputs of at least one clause.",
            )
        )
        return out
    try:
        answer = calculate(doc, explain=True, lang=lang)
    except InvalidInput as exc:
        for p in exc.problems:
            key = field_of(kind, p.where)
            if key:
                out["problems"].setdefault(key, []).append(p)
            else:
                out["general_problems"].append(p)
        return out
    out["answer"] = answer
    out["clauses"] = clause_results(kind, answer, requested, "P1")
    return out


def clause_results(kind: Kind, answer: dict[str, Any], requested: list[str], row_id: str) -> list[dict[str, Any]]:
    """Per clause of ``kind``: each output's value, status, quoted text, conditions and assumptions."""
    pol = loader.policy()
    values = answer[kind.entity][row_id]
    notes = answer.get("explanations", {}).get(kind.entity, {}).get(row_id, {})
    out = []
    for clause in kind.clauses:
        c = pol[clause]
        items = []
        for v in outputs_of(kind, clause):
            if v.name not in values:
                continue
            e = notes.get(v.name, {})
            items.append(
                {
                    "name": v.name,
                    "zh": v.zh,
                    "en": v.en,
                    "type": v.type.name,
                    "unit": v.unit,
                    "value": values[v.name],
                    "display": display(v, values[v.name]),
                    "status": e.get("status"),
                    "text": e.get("text"),
                    "text_en": e.get("text_en"),
                    "because": e.get("because", []),
                    "assumptions": e.get("assumptions", []),
                    "clause": e.get("clause", clause),
                }
            )
        statuses = {i["status"] for i in items}
        status = (
            None
            if not items
            else "applied"
            if "applied" in statuses
            else "not_in_force"
            if statuses == {"not_in_force"}
            else "not_applicable"
        )
        out.append(
            {
                "clause": clause,
                "anchor": c.anchor,
                "title_zh": c.title_zh(),
                "title_en": c.heading_en,
                "requested": clause in requested,
                "status": status,
                "outputs": items,
            }
        )
    return out


def display(v: Variable, value: Any) -> str:
    """A computed value as text (money with thousands separators and two decimals); booleans and enums stay codes."""
    if value is None:
        return ""
    if v.type.base == "decimal" and not isinstance(value, bool):
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if v.type.name == "money":
            return f"{d.quantize(Decimal('0.01')):,}"
        if v.type.name == "share":
            return f"{(d * 100).normalize():f}%"
        return f"{d.normalize():f}"
    if isinstance(value, list):
        return "; ".join(str(x.get("message") if isinstance(x, dict) else x) for x in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def enterprise_prefill(uow: UnitOfWork, actor: Actor, credit_code: str) -> dict[str, Any]:
    """The chosen enterprise (in the actor's scope) and its latest published final class.

    Raises:
        NotFound: when the enterprise does not exist or is outside the actor's scope.
    """
    with uow.read() as conn:
        ent = visible_enterprise(conn, actor, credit_code)
        cls = published_class(conn, credit_code) or {}
    return {
        "credit_code": ent["credit_code"],
        "name": ent["name"],
        "town": ent["town"],
        "mujun_class": cls.get("mujun_class"),
        "class_year": cls.get("year"),
        "run_id": cls.get("run_id"),
    }


def prefill_form(kind: Kind, ent: dict[str, Any] | None) -> dict[str, str]:
    """Initial form values: the default date, and the enterprise's class where the kind uses one."""
    form = {"application_date": default_date().isoformat()}
    if ent and ent.get("mujun_class") and kind.class_field:
        form[kind.class_field] = ent["mujun_class"]
    return form


def enterprise_options(uow: UnitOfWork, actor: Actor, query: str = "", limit: int = 30) -> list[dict[str, str]]:
    """Enterprises in the actor's scope whose name or credit code contains ``query`` (for pickers)."""
    stmt = (
        select(enterprises.c.credit_code, enterprises.c.name, enterprises.c.town)
        .order_by(enterprises.c.name)
        .where(enterprise_scope(actor))
        .limit(limit)
    )
    if query.strip():
        like = f"%{query.strip()}%"
        stmt = stmt.where(enterprises.c.name.like(like) | enterprises.c.credit_code.like(like))
    with uow.read() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
