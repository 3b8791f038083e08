"""政策计算器: a form over the calculation contract, answered by ``services.calculation.contract.calculate``.

The form is built from the variable registry (labels, units and types come from
``policy/variables.yaml``): one section per clause of the chosen kind of case
(a project, a land transfer, a land sale, a merger), plus the enterprise's
attributes for a project. A clause is computed when any field of its own
section is filled; every output of that clause is then requested, so the answer
shows, per clause, the amount or decision, its status, the quoted clause text,
the conditions tested and the assumptions in force. Input problems come back
keyed by form field (from the ``where`` of the contract's problems), in the
field's own words: its label, never a contract path.

Units as officials use them: an amount field takes 万元 or 元 (a switch beside
it, ``<field>__unit``; 万元 first for investment amounts, ``input_unit`` in
``policy/variables.yaml``), a ratio field takes a percentage (``12`` = 12 %).
The form converts, exactly, to the contract's 元 and ratios; a field posted
without its unit (stored inputs, a script) is in the contract's unit. A field
left blank is not sent: the contract says what it needs (``missing_input``) or
answers ``insufficient_data``; it is shown as 未填写, never as 0.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
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
UNIT_SUFFIX = "__unit"
YUAN, WAN, PERCENT, RATIO = "元", "万元", "%", "ratio"
WAN_DECIMALS, PERCENT_DECIMALS = 6, 4
"""Most decimals a form takes in 万元 (exact to the 分) and in percent (the contract keeps six decimals of a ratio)."""
BEIJING = dt.timezone(dt.timedelta(hours=8), "UTC+8")
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


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

    @property
    def unit_key(self) -> str:
        """The form name of the field's unit (a 元/万元 switch, or a hidden ``%``)."""
        return self.key + UNIT_SUFFIX

    @property
    def units(self) -> tuple[str, ...]:
        """The units the field offers, the default first: ``(万元, 元)`` or ``(元, 万元)`` for money, ``(%,)`` for a
        ratio, none otherwise.
        """
        t = self.var.type
        if t.name == "money":
            return (WAN, YUAN) if self.var.input_unit == WAN else (YUAN, WAN)
        if t.unit == RATIO:
            return (PERCENT,)
        return ()

    @property
    def contract_unit(self) -> str:
        """The unit of the contract: 元, a ratio, or the variable's own."""
        return RATIO if self.var.type.unit == RATIO else self.var.type.unit

    def unit_of(self, form: dict[str, str]) -> str:
        """The unit the field's text is in: the one posted with it; else, for a value posted without one (stored
        inputs, a script), the contract's; else (an empty field) the field's default.
        """
        chosen = (form.get(self.unit_key) or "").strip()
        if chosen in self.units:
            return chosen
        if (form.get(self.key) or "").strip():
            return self.contract_unit
        return self.units[0] if self.units else self.contract_unit

    def shown(self, form: dict[str, str]) -> str:
        """The text the input shows: as typed, or a contract ratio (posted without its unit) as a percentage."""
        text = (form.get(self.key) or "").strip()
        if text and self.units == (PERCENT,) and self.unit_of(form) == RATIO:
            number = _number(text)
            if number is not None and not text.endswith(("%", "％")):
                return plain_number(number * 100)
        return form.get(self.key) or ""

    def unit_shown(self, form: dict[str, str]) -> str:
        """The unit the input shows (a contract ratio is shown as a percentage)."""
        unit = self.unit_of(form)
        return PERCENT if unit == RATIO else unit

    def example_for(self, problem: Problem, form: dict[str, str]) -> str:
        """The example shown with a problem at this field: in the unit the field is in; none for a broken relation
        (its message names both values).
        """
        if problem.code in _relation_codes() or not problem.example:
            return ""
        if self.widget == "number":
            return _example(self, self.unit_of(form))
        return problem.example

    @property
    def example(self) -> str:
        """An example of what to type, in the field's default unit."""
        t = self.var.type
        if t.name == "money":
            return "800" if self.units[0] == WAN else "8000000"
        if t.unit == RATIO:
            return "12" if t.name == "signed_ratio" else "25"
        return t.example


@dataclass(frozen=True)
class Section:
    """The fields of one clause (``clause`` None: general, or the enterprise's attributes)."""

    key: str
    clause: str | None
    fields: tuple[Field, ...]


def _relation_codes() -> set[str]:
    return {r.code for r in loader.variables().relations()}


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


def now() -> dt.datetime:
    """The time in Beijing (UTC+8)."""
    return dt.datetime.now(BEIJING)


def today() -> dt.date:
    """Today in Beijing."""
    return now().date()


def default_date(day: dt.date | None = None) -> dt.date:
    """The default application date: today (Beijing), also outside the policy's validity (``validity_notice`` says
    so; the user may pick a date inside it).
    """
    return day or today()


def policy_window():
    """The policy's validity (临政发〔2022〕22号: 2022-07-16 to 2023-12-31), for the page and its printout."""
    return loader.policy().window


def validity_notice(day: dt.date | str | None = None) -> dict[str, Any] | None:
    """What to tell a user whose date (default today) lies outside the policy's validity, or None inside it.

    Returns:
        ``{"day", "start", "end", "after", "suggest", "today"}``: ``suggest`` is the nearest date inside the window,
        ``today`` whether the date is today.
    """
    w = loader.policy().window
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day.strip())
        except ValueError:
            return None
    day = day or today()
    if w.start <= day and (w.end is None or day <= w.end):
        return None
    after = w.end is not None and day > w.end
    return {
        "day": day,
        "start": w.start,
        "end": w.end,
        "after": after,
        "suggest": w.end if after else w.start,
        "today": day == today(),
    }


def _number(text: str) -> Decimal | None:
    """Typed number text as an exact decimal: thousands separators and full-width digits allowed; None if not one."""
    raw = "".join(chr(ord(c) - 0xFEE0) if "０" <= c <= "９" else c for c in text.strip())
    raw = (
        raw.replace(",", "").replace("，", "").replace(" ", "").replace("．", ".").removesuffix("%").removesuffix("％")
    )
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def plain_number(d: Decimal) -> str:
    """A decimal as plain text without trailing zeros (``1200.00`` → ``1200``, ``0.050`` → ``0.05``)."""
    text = f"{d.normalize():f}"
    return text


def _decimals(d: Decimal) -> int:
    exponent = d.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def form_value(f: Field, text: str, unit: str | None = None) -> Any:
    """A form text as a contract value: exact decimals, 万元 → 元 and percentages → ratios.

    ``unit`` is the field's unit (``Field.unit_of``); ``None`` means the contract's. Text that is not a number is
    passed on unchanged (``read_field`` reports it; the contract would too).
    """
    base = f.var.type.base
    text = text.strip()
    if base == "bool":
        return {"true": True, "false": False}.get(text.lower(), text)
    if base in ("decimal", "int"):
        number = _number(text)
        if number is None:
            return text
        if unit == WAN:
            return number * 10000
        if unit == PERCENT or text.endswith(("%", "％")):
            return number / 100
        return number
    if base == "list_decimal":
        parts = [p for p in text.replace("，", ",").replace(";", ",").split(",") if p.strip()]
        try:
            return [Decimal(p.strip()) for p in parts]
        except InvalidOperation:
            return text
    return text


def read_field(f: Field, form: dict[str, str], lang: str = "zh") -> tuple[Any, Problem | None]:
    """The contract value of one filled field, or the problem with what was typed (in the field's words)."""
    text = (form.get(f.key) or "").strip()
    unit = f.unit_of(form)
    if f.var.type.base not in ("decimal", "int"):
        return form_value(f, text, unit), None
    number = _number(text)
    label_zh, label_en = f.var.zh, f.var.en
    shown_unit = "" if unit in (RATIO, "") else f"（{unit}）"
    if number is None:
        return None, _form_problem(
            f,
            "not_a_number",
            text,
            f"{label_zh}：“{text}”不是数字，请填写数字{shown_unit}。",
            f"{label_en}: “{text}” is not a number; type a number{shown_unit.replace('（', ' (').replace('）', ')')}.",
            unit,
        )
    most = {WAN: WAN_DECIMALS, PERCENT: PERCENT_DECIMALS}.get(unit, f.var.type.scale)
    if unit in (WAN, PERCENT) and _decimals(number) > most:
        return None, _form_problem(
            f,
            "too_many_decimals",
            text,
            f"{label_zh}按{unit}填写时最多 {most} 位小数（{'精确到分' if unit == WAN else '即比率的六位小数'}）。",
            f"{label_en} in {unit} takes at most {most} decimals.",
            unit,
        )
    return form_value(f, text, unit), None


def _form_problem(f: Field, code: str, text: str, zh: str, en: str, unit: str) -> Problem:
    exp_zh, exp_en = _expected(f, unit)
    return Problem(code, f.key, text, exp_zh, exp_en, _example(f, unit), zh, en)


def _expected(f: Field, unit: str) -> tuple[str, str]:
    if unit == WAN:
        return "金额（万元，最多六位小数）", "an amount in 10k yuan (at most 6 decimals)"
    if unit == YUAN:
        return "金额（元，最多两位小数）", "an amount in yuan (at most 2 decimals)"
    if unit == PERCENT:
        return "百分数（12 表示 12%）", "a percentage (12 means 12%)"
    return f.var.expected()


def _example(f: Field, unit: str) -> str:
    if unit == WAN:
        return "800"
    if unit == YUAN:
        return "8000000"
    if unit == PERCENT:
        return "12" if f.var.type.name == "signed_ratio" else "25"
    return f.var.example()


def build_request(kind: Kind, form: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The contract document for a filled form, and the clauses requested.

    A clause is requested when a field of its own section is filled; all of its
    outputs are then asked for (``null``). A field whose text cannot be read is left out (``form_problems`` names it).
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
            value, problem = read_field(f, form)
            if problem is not None:
                continue
            if f.key.startswith(ENTERPRISE_PREFIX):
                ent[f.var.name] = value
            else:
                row[f.key] = value
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


def form_problems(kind: Kind, form: dict[str, str]) -> dict[str, list[Problem]]:
    """Problems of what was typed (a text that is no number, too many decimals for its unit), by field."""
    out: dict[str, list[Problem]] = {}
    for sec in sections(kind):
        for f in sec.fields:
            if (form.get(f.key) or "").strip():
                _, problem = read_field(f, form)
                if problem is not None:
                    out.setdefault(f.key, []).append(problem)
    return out


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
        "problems": form_problems(kind, form),
        "general_problems": [],
        "inputs": input_rows(kind, form, requested),
        "notice": validity_notice(doc["as_of"]),
    }
    if not requested and not out["problems"]:
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
    if not requested:
        return out
    try:
        answer = calculate(doc, explain=True, lang=lang)
    except InvalidInput as exc:
        fields = {f.key: f for sec in sections(kind) for f in sec.fields}
        for p in exc.problems:
            key = field_of(kind, p.where)
            if key and key in out["problems"]:
                continue  # already said in the field's own words (what was typed could not be read)
            f = fields.get(key or "")
            if f is None:
                out["general_problems"].append(p)
                continue
            out["problems"].setdefault(key, []).append(in_words_of(f, p, form))
            for other in (p.context or {}).get("fields", [])[1:]:
                okey = field_of(kind, other)
                if okey in fields and okey != key:
                    out["problems"].setdefault(okey, []).append(_see_also(fields[okey], f, p))
        return out
    if out["problems"]:
        return out
    out["answer"] = answer
    out["clauses"] = clause_results(kind, answer, requested, "P1", lang)
    return out


def in_words_of(f: Field, p: Problem, form: dict[str, str]) -> Problem:
    """A contract problem as the form says it: the field's label instead of its contract path, what the field
    needs, and an example in the unit the field is in.
    """
    unit = f.unit_of(form)
    if p.code == "missing_input":
        return replace(
            p,
            where=f.key,
            message_zh=f"{f.var.zh}未填写：计算所填条款需要这一项。",
            message_en=f"{f.var.en} is blank; the clause being computed needs it.",
            example=_example(f, unit),
        )
    if p.code in ("negative_value", "out_of_range", "too_many_decimals", "wrong_type"):
        exp_zh, exp_en = _expected(f, unit)
        return replace(
            p,
            where=f.key,
            message_zh=p.message_zh.replace(p.where, f.var.zh),
            message_en=p.message_en.replace(p.where, f.var.en),
            expected_zh=exp_zh,
            expected_en=exp_en,
            example=_example(f, unit),
        )
    # implausible values and broken relations are written in labels already; any path left is said by its label
    return replace(
        p,
        where=f.key,
        message_zh=p.message_zh.replace(p.where, f.var.zh),
        message_en=p.message_en.replace(p.where, f.var.en),
        example=_example(f, unit) if p.code == "implausible_value" else p.example,
    )


def _see_also(f: Field, first: Field, p: Problem) -> Problem:
    """The note at the second field of a broken relation: check it together with the first."""
    return Problem(
        p.code,
        f.key,
        None,
        p.expected_zh,
        p.expected_en,
        "",
        f"请与“{first.var.zh}”一起核对（见该项说明）。",
        f"Check together with “{first.var.en}” (see there).",
    )


def input_rows(kind: Kind, form: dict[str, str], requested: list[str]) -> list[dict[str, Any]]:
    """The inputs of the sections computed (general, enterprise, requested clauses), as shown and printed: each with
    its label, its value in the unit typed (and money also in 元), or ``None`` when left blank.
    """
    rows = []
    for sec in sections(kind):
        if sec.clause and sec.clause not in requested:
            continue
        for f in sec.fields:
            text = (form.get(f.key) or "").strip()
            rows.append(
                {
                    "section": sec.key,
                    "clause": sec.clause,
                    "key": f.key,
                    "zh": f.var.zh,
                    "en": f.var.en,
                    "base": f.var.type.base,
                    "text": text or None,
                    "shown": _input_text(f, form, text) if text else None,
                    "default": f.var.default if f.var.has_default and not text else None,
                    "has_default": f.var.has_default and not text,
                }
            )
    return rows


def _input_text(f: Field, form: dict[str, str], text: str) -> dict[str, str]:
    """A filled input as shown: ``{"zh", "en"}`` with its unit (money also in 元)."""
    base = f.var.type.base
    if base not in ("decimal", "int"):
        return {"zh": text, "en": text}
    value, problem = read_field(f, form)
    if problem is not None or not isinstance(value, Decimal):
        return {"zh": text, "en": text}
    t = f.var.type
    if t.name == "money":
        return {"zh": money_text(value, "zh"), "en": money_text(value, "en")}
    if t.unit == RATIO:
        pct = f"{plain_number(value * 100)}%"
        return {"zh": pct, "en": pct}
    number = f"{value.normalize():,f}" if abs(value) >= 1000 else plain_number(value)
    unit_zh = {"亩": " 亩", "m²": " m²", "": ""}.get(t.unit, f" {t.unit}")
    unit_en = {"亩": " mu", "m²": " m²", "": ""}.get(t.unit, f" {t.unit}")
    if t.name == "count":
        number = f"{int(value):,}"
    return {"zh": number + unit_zh, "en": number + unit_en}


def wan(value: Decimal) -> str:
    """元 as 万元, exactly: 2 to 6 decimals with thousands separators (``800000`` → ``80.00``).

    >>> wan(Decimal("800000")), wan(Decimal("123456.78")), wan(Decimal("30000000")), wan(Decimal("1"))
    ('80.00', '12.345678', '3,000.00', '0.0001')
    """
    text = f"{value.scaleb(-4):,.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def money_text(value: Decimal, lang: str = "zh") -> str:
    """An amount in 元 as officials read it: 万元 first, the exact 元 beside it.

    >>> money_text(Decimal("800000")), money_text(Decimal("800000"), "en")
    ('80.00 万元（800,000.00 元）', '80.00 × 10k yuan (800,000.00 yuan)')
    """
    yuan = f"{value.quantize(Decimal('0.01')):,.2f}"
    if lang == "zh":
        return f"{wan(value)} 万元（{yuan} 元）"
    return f"{wan(value)} × 10k yuan ({yuan} yuan)"


def clause_results(
    kind: Kind, answer: dict[str, Any], requested: list[str], row_id: str, lang: str = "zh"
) -> list[dict[str, Any]]:
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
                    "display": display(v, values[v.name], lang),
                    "status": e.get("status"),
                    "text": e.get("text"),
                    "text_en": e.get("text_en"),
                    "because": [readable(line, lang) for line in e.get("because", [])],
                    "assumptions": e.get("assumptions", []),
                    "clause": e.get("clause", clause),
                }
            )
        statuses = {i["status"] for i in items}
        # A clause with an output that cannot be decided says so first; else applied when any output applies.
        status = (
            None
            if not items
            else "insufficient_data"
            if "insufficient_data" in statuses
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


_PARAMETER = re.compile(r"(假设参数|assumption) ([a-z0-9_]+\.[a-z0-9_.]+[a-z0-9_])")


def readable(line: str, lang: str = "zh") -> str:
    """An explanation line for the page: a parameter cited by its path (``假设参数 tech_renovation.stacking_2513``)
    is cited by what it decides (the JSON contract keeps the path).

    >>> readable("按“就高不重复”（假设参数 tech_renovation.stacking_2513）：…")
    '按“就高不重复”（假设：“2513”奖励与技改补助能否叠加）：…'
    """
    params = loader.parameters()

    def name(m: re.Match) -> str:
        path = m.group(2)
        if path not in params:
            return m.group(0)
        p = params[path]
        return f"假设：{p.description_zh}" if m.group(1) == "假设参数" else f"assumption: {p.description_en}"

    return _PARAMETER.sub(name, line)


def display(v: Variable, value: Any, lang: str = "zh") -> str:
    """A computed value as text: money in 万元 with the exact 元 beside it, a share as a percentage, other numbers
    with thousands separators and their unit; booleans and enums stay codes.
    """
    if value is None:
        return ""
    if v.type.base == "decimal" and not isinstance(value, bool):
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if v.type.name == "money":
            return money_text(d, lang)
        if v.type.name in ("share", "signed_ratio"):
            return f"{plain_number(d * 100)}%"
        unit = {"亩": " 亩" if lang == "zh" else " mu", "m²": " m²", "年": " 年" if lang == "zh" else " years"}
        return f"{d.normalize():,f}" + unit.get(v.type.unit, "")
    if isinstance(value, list):
        return "; ".join(str(x.get("message") if isinstance(x, dict) else x) for x in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def enterprise_prefill(uow: UnitOfWork, actor: Actor, credit_code: str) -> dict[str, Any]:
    """The chosen enterprise (in the actor's scope), its latest published final class, and its listing on the
    严重失信名单 if it is listed (A.4.2: flagged wherever it appears — the transferee of a 2.7 transfer too).

    Raises:
        NotFound: when the enterprise does not exist or is outside the actor's scope.
    """
    from ..campaign.commitments import listed  # the campaign builds on the calculation, not the reverse

    with uow.read() as conn:
        ent = visible_enterprise(conn, actor, credit_code)
        cls = published_class(conn, credit_code) or {}
        dishonest = listed(conn, [ent["credit_code"]]).get(ent["credit_code"])
    return {
        "dishonest": dishonest,
        "credit_code": ent["credit_code"],
        "name": ent["name"],
        "town": ent["town"],
        "mujun_class": cls.get("mujun_class"),
        "class_year": cls.get("year"),
        "run_id": cls.get("run_id"),
    }


def prefill_form(kind: Kind, ent: dict[str, Any] | None) -> dict[str, str]:
    """Initial form values: the default date (today), and the enterprise's class where the kind uses one."""
    form = {"application_date": default_date().isoformat()}
    if ent and ent.get("mujun_class") and kind.class_field:
        form[kind.class_field] = ent["mujun_class"]
    return form


def enterprise_options(uow: UnitOfWork, actor: Actor, query: str = "", limit: int = 30) -> list[dict[str, str]]:
    """Enterprises in the actor's scope whose name or credit code contains ``query`` (for pickers), by name."""
    stmt = (
        select(enterprises.c.credit_code, enterprises.c.name, enterprises.c.town)
        .order_by(enterprises.c.name)
        .where(enterprise_scope(actor))
        .limit(limit)
    )
    text = query.strip()[:100]
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            enterprises.c.name.like(like, escape="\\") | enterprises.c.credit_code.like(like.upper(), escape="\\")
        )
    with uow.read() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def find_enterprise(uow: UnitOfWork, actor: Actor, text: str) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """The enterprise a user typed into 按企业预填: a credit code (NotFound when unknown or out of scope), or (part
    of) a name in the actor's scope.

    Returns:
        (the enterprise with its latest published class, when exactly one matches; else None, and the matches —
        none, or up to 20 to choose from).

    Raises:
        NotFound: a credit code that is unknown or outside the actor's scope.
    """
    text = text.strip()
    if CREDIT_CODE.match(text.upper()):
        return enterprise_prefill(uow, actor, text.upper()), []
    matches = enterprise_options(uow, actor, text, 21)
    exact = [m for m in matches if m["name"] == text]
    if len(exact) == 1 or len(matches) == 1:
        return enterprise_prefill(uow, actor, (exact or matches)[0]["credit_code"]), []
    return None, matches[:20]
