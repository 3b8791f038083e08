"""The rows of a register's import (``imports.py``), each checked against the kind, the importer's scope and the
register as it stands; every problem located at its cell (``导入!C3 (类别)``) with its row and column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, select

from ...adapters.db.tables import enterprises, projects
from ...adapters.tabular.calculation_sheets import parse_date
from ...core import credit_code as gb32100
from ...core.errors import Problem
from ...registers.kinds import Kind
from ...registers.roles import Actor
from ..data.messages import render
from ._import_columns import HeaderMap, columns, norm, where
from .common import E
from .entries import REASON_MAX

CHUNK = 500
"""Values per ``IN (…)`` of a lookup (within every database's limit on parameters)."""
_DIGITS = Context(prec=15)  # the precision Excel keeps and shows
MESSAGES = {
    "missing_input": ("请填写{name}。", "The {name_en} is required."),
    "unknown_enterprise": (
        "统一社会信用代码 {value} 不是您可查看的企业（或尚未登记）。",
        "The credit code {value} is not a firm you can see (or is not registered).",
    ),
    "invalid_project": ("项目编号 {value} 不是该企业的项目。", "The project id {value} is not a project of the firm."),
    "invalid_choice": (
        "{name}“{value}”不是{kind}的{name}（{expected}）。",
        "{value!r} is not a {name_en} of the {kind_en} ({expected_en}).",
    ),
    "invalid_date": (
        "{name}“{value}”不是日期，请写成 {example}。",
        "The {name_en} {value!r} is not a date; write e.g. {example}.",
    ),
    "future_date": (
        "列入日期 {value} 晚于导入当天（{day}）。",
        "The listing date {value} is after the day of the import ({day}).",
    ),
    "too_long": ("理由有 {length} 个字符，最多 {limit} 个。", "The reason has {length} characters; at most {limit}."),
    "not_your_unit": (
        "您只能导入本单位（{unit}）负责的条目。",
        "You may import only the entries of your own unit ({unit_en}).",
    ),
    "duplicate_row": (
        "该{noun}已在第{first}行出现；同一企业（项目）只能有一个未办结的条目。",
        "It is already on row {first}; one open entry per firm (project).",
    ),
    "already_listed": (
        "该{noun}已在{kind}中（条目 #{entry}，{state}），不能重复列入。",
        "It is already on the {kind_en} (entry #{entry}, {state_en}).",
    ),
}
"""The words of each row problem (zh, en), formatted with the column's names and the problem's values."""


@dataclass
class Row:
    """One row, read: the entry it makes (``values``), or its problems."""

    number: int
    values: dict[str, Any]
    problems: list[Problem]


def listed_states(kind: Kind) -> set[str]:
    """The states of an entry that was listed: the manual state and every state its moves lead to (a proposal,
    and what only a proposal leads to — 不予列入 —, never was)."""
    found, todo = {kind.manual_state}, [kind.manual_state]
    while todo:
        state = todo.pop()
        for m in kind.workflow.moves:
            if state in m.sources and m.target not in found:
                found.add(m.target)
                todo.append(m.target)
    return found


def excel_number(text: str) -> str:
    """Numeric text rounded to the 15 significant digits Excel keeps (``12345678901.229999542`` → ``12345678901.23``);
    other text unchanged (the field says what is wrong with it)."""
    try:
        d = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        return text
    if not d.is_finite():
        return text
    d = _DIGITS.create_decimal(d).normalize()
    return format(d.quantize(Decimal(1)) if d.as_tuple().exponent > 0 else d, "f")


def _chunks(values: list) -> Iterable[list]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _lookup(conn: Connection, table: Any, column: Any, values: list) -> dict:
    out = {}
    for chunk in _chunks(values):
        for row in conn.execute(select(table).where(column.in_(chunk))):
            out[row._mapping[column.name]] = row
    return out


class Checker:
    """Checks the rows of one sheet against the kind, the actor's scope and the register as it stands (read once,
    in bulk, inside the import's transaction)."""

    def __init__(self, kind: Kind, actor: Actor, sheet: str, headers: HeaderMap, rows: list, day: dt.date, conn):
        self.kind, self.actor, self.sheet, self.headers, self.day = kind, actor, sheet, headers, day
        self.cols = {c.key: c for c in columns(kind)}
        self.listed = listed_states(kind)
        codes = sorted({r.get("credit_code", "").upper() for _, r in rows} - {""})
        self.firms = _lookup(conn, enterprises, enterprises.c.credit_code, codes)
        self.open: dict[tuple[str, int | None], Any] = {}
        for chunk in _chunks(codes):
            query = select(E.id, E.credit_code, E.project_id, E.status).where(
                E.kind == kind.key, E.credit_code.in_(chunk), E.status.in_(kind.open_states)
            )
            for e in conn.execute(query):
                self.open.setdefault((e.credit_code, e.project_id), e)
        ids = sorted({int(n) for _, r in rows if (n := _integer(r.get("project_id", ""))) is not None})
        self.projects = _lookup(conn, projects, projects.c.id, ids) if kind.subject == "project" else {}
        self.seen: dict[tuple[str, int | None], int] = {}
        self.unit = None
        if actor.role == "department":
            self.unit = next((u.key for u in kind.units if u.zh == actor.department), None)

    def locate(self, key: str, number: int, p: Problem) -> Problem:
        """``p`` located at the cell of column ``key`` in row ``number``."""
        _, letter, header = self.headers.found.get(key, (None, None, self.cols[key].header))
        at = where(self.sheet, letter, number, header)
        ctx = {"sheet": self.sheet, "row": number, "column": letter, "header": header, "key": key}
        return replace(p, where=at, message_zh=f"{at}：{p.message_zh}", message_en=f"{at}: {p.message_en}", context=ctx)

    def say(self, out: list[Problem], key: str, number: int, code: str, value: Any, **fmt: Any) -> None:
        """Add the problem ``code`` of column ``key`` in row ``number`` (words of :data:`MESSAGES`)."""
        c, k = self.cols[key], self.kind
        names = {"name": c.zh, "name_en": c.en, "kind": k.zh, "kind_en": k.en, "noun": k.entry_zh, "example": c.example}
        names |= {"expected": c.expected_zh, "expected_en": c.expected_en, "value": value, **fmt}
        zh, en = (text.format(**names) for text in MESSAGES[code])
        out.append(self.locate(key, number, Problem(code, key, value, c.expected_zh, c.expected_en, c.example, zh, en)))

    def check(self, number: int, cells: dict[str, str]) -> Row:
        """Row ``number`` (its cells by column key): the entry it makes, or every problem it has."""
        out: dict[str, Any] = {}
        problems: list[Problem] = []
        firm = self._firm(number, cells, problems)
        out["project_id"] = self._project(number, cells, firm, problems)
        for key in ("category", "state", "responsible_unit"):
            out[key] = self._choice(key, number, cells.get(key), problems)
        out["state"] = out["state"] or self.kind.manual_state
        if self.unit is not None and out["responsible_unit"] not in (None, self.unit):
            mine = self.kind.unit(self.unit)
            self.say(
                problems,
                "responsible_unit",
                number,
                "not_your_unit",
                cells.get("responsible_unit"),
                unit=mine.zh,
                unit_en=mine.en,
            )
        out["responsible_unit"] = out["responsible_unit"] or self.unit
        out["opened"] = self._date("opened", number, cells.get("opened"), problems) or self.day
        if out["opened"] > self.day:
            self.say(problems, "opened", number, "future_date", out["opened"].isoformat(), day=self.day.isoformat())
        out["deadline"] = self._date("deadline", number, cells.get("deadline"), problems)
        out["reason"] = self._reason(number, cells.get("reason"), problems)
        out["fields"] = self._fields(number, cells, out["state"], problems)
        out["enterprise"] = firm
        if firm is not None and (self.kind.subject == "enterprise" or out["project_id"] is not None):
            self._duplicate(number, firm["credit_code"], out, problems)
        return Row(number, out, problems)

    def _missing(self, key: str, number: int, problems: list[Problem]) -> None:
        if key in self.headers.found:  # a missing column is said once, at the header
            self.say(problems, key, number, "missing_input", None)

    def _firm(self, number: int, cells: dict[str, str], problems: list[Problem]) -> dict | None:
        code = cells.get("credit_code", "").upper()
        if not code:
            self._missing("credit_code", number, problems)
            return None
        reason = gb32100.problem(code)
        if reason is not None:
            fields = {
                "length": len(code),
                "actual": code[-1:],
                "bad_chars": "".join(sorted(set(code) - set(gb32100.CHARSET))),
            }
            if reason == "check_character":
                fields["expected_char"] = gb32100.check_character(code[:17])
            zh, en, _, _ = render(f"credit_code_{reason}", {"where": "", "value": code, **fields})
            c = self.cols["credit_code"]
            p = Problem(
                f"credit_code_{reason}",
                "credit_code",
                code,
                c.expected_zh,
                c.expected_en,
                c.example,
                zh.lstrip("："),
                en.lstrip(": "),
            )
            problems.append(self.locate("credit_code", number, p))
            return None
        row = self.firms.get(code)
        if row is None or not self.actor.may_see_enterprise(row.credit_code, row.town):
            self.say(problems, "credit_code", number, "unknown_enterprise", code)  # the same words for both
            return None
        return dict(row._mapping)

    def _project(self, number: int, cells: dict[str, str], firm: dict | None, problems: list[Problem]) -> int | None:
        if self.kind.subject != "project":
            return None
        raw = cells.get("project_id")
        if raw is None:
            self._missing("project_id", number, problems)
            return None
        n = _integer(raw)
        found = self.projects.get(n) if n is not None else None
        if found is None or (firm is not None and found.credit_code != firm["credit_code"]):
            self.say(problems, "project_id", number, "invalid_project", raw)
            return None
        return int(found.id)

    def _choice(self, key: str, number: int, raw: str | None, problems: list[Problem]) -> str | None:
        if raw is None:
            return None
        items = {
            "category": self.kind.categories,
            "state": self.kind.workflow.states.values(),
            "responsible_unit": self.kind.units,
        }[key]
        text = norm(raw)
        hit = next((i.key for i in items if text in {norm(i.zh), norm(i.en), norm(i.key)}), None)
        if hit is None:
            self.say(problems, key, number, "invalid_choice", raw)
        return hit

    def _date(self, key: str, number: int, raw: str | None, problems: list[Problem]) -> dt.date | None:
        if raw is None:
            return None
        try:
            return dt.date.fromisoformat(parse_date(raw))
        except ValueError:
            self.say(problems, key, number, "invalid_date", raw)
            return None

    def _reason(self, number: int, raw: str | None, problems: list[Problem]) -> str | None:
        if raw is None:
            self._missing("reason", number, problems)
        elif len(raw) > REASON_MAX:
            self.say(problems, "reason", number, "too_long", f"{raw[:40]}…", length=len(raw), limit=REASON_MAX)
        return raw

    def _fields(self, number: int, cells: dict[str, str], state: str, problems: list[Problem]) -> dict[str, Any]:
        raw = {}
        for key, f in self.kind.fields.items():
            text = cells.get(f"fields.{key}")
            if text is not None:
                base = f.type.base
                raw[key] = (
                    parse_date(text) if base == "date" else excel_number(text) if base in ("decimal", "int") else text
                )
        listed = state in self.listed  # a listed entry is complete and passes the entry rules, as on admission
        clean, found = self.kind.read_fields(raw, complete=listed)
        if listed:
            found += self.kind.refused(clean)
        invalid = {p.where for p in found if p.code == "invalid_field"}
        for p in found:
            if p.code == "missing_input" and (p.where not in self.headers.found or p.where in invalid):
                continue  # the missing column is said once, at the header; a bad value once, as bad
            problems.append(self.locate(p.where, number, replace(p, value=cells.get(p.where, p.value))))
        return clean

    def _duplicate(self, number: int, code: str, out: dict[str, Any], problems: list[Problem]) -> None:
        if self.kind.workflow.states[out["state"]].terminal:
            return  # a closed entry is history: it may stand beside an open one
        subject = (code, out["project_id"])
        if subject in self.seen:
            self.say(problems, "credit_code", number, "duplicate_row", code, first=self.seen[subject])
            return
        self.seen[subject] = number
        existing = self.open.get(subject)
        if existing is not None:
            state = self.kind.workflow.state(existing.status)
            self.say(
                problems,
                "credit_code",
                number,
                "already_listed",
                code,
                entry=existing.id,
                state=state.zh,
                state_en=state.en,
            )


def _integer(text: str) -> int | None:
    """A whole number of a cell (``12``, or ``12.0`` as a number cell reads), else None."""
    text = text[:-2] if text.endswith(".0") else text
    return int(text) if text.isdigit() and len(text) < 10 else None
