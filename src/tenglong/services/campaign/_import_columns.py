"""The columns of a register's import (``imports.py``) and how a workbook's header row is matched to them.

A header matches a column by its Chinese or English name or its key, compared loosely (full-width brackets and
letters folded, spaces dropped, case folded); a trailing bracket is the unit (``项目总投资(元)``), which must be
the field's when it is given. Headers of no column are ignored (and listed); a required column missing, a column
given twice or a wrong unit is a problem of the header row.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ...adapters.tabular.xlsx import Column
from ...core.errors import Problem
from ...registers.kinds import Kind
from ..data.messages import render
from .entries import REASON_MAX

EXAMPLE_CODE = "91331082MA2AB3CF7N"
"""A valid credit code, for the examples."""


@dataclass(frozen=True)
class ImportColumn:
    """One column of the import: its key (``credit_code``… or ``fields.<key>``), names, unit and what it takes."""

    key: str
    zh: str
    en: str
    unit_zh: str = ""
    unit_en: str = ""
    required: bool = False
    expected_zh: str = ""
    expected_en: str = ""
    example: str = ""
    kind: str = "text"
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def header(self) -> str:
        """The template's header: the Chinese name, with the unit (or 是/否) in brackets."""
        return Column(self.key, self.zh, unit=self.unit_zh).title


def _names(items: Iterable[Any]) -> tuple[str, str]:
    listed = list(items)
    return "、".join(i.zh for i in listed), ", ".join(i.en for i in listed)


def columns(kind: Kind) -> list[ImportColumn]:
    """The columns of ``kind``'s import, in the template's order: the firm (and project), category, state,
    responsible unit, dates, reason, then every entry field of the kind."""
    states = list(kind.workflow.states.values())
    manual = kind.workflow.states[kind.manual_state]
    out = [
        ImportColumn(
            "credit_code", "统一社会信用代码", "credit code", required=True,
            expected_zh="18位统一社会信用代码，须为您可查看的企业",
            expected_en="an 18-character credit code of a firm you can see", example=EXAMPLE_CODE, kind="code",
        )
    ]  # fmt: skip
    if kind.subject == "project":
        out.append(
            ImportColumn(
                "project_id", "项目编号", "project id", required=True,
                expected_zh="该企业已登记项目的编号（项目页面上的编号）",
                expected_en="the id of a project of the firm (as its page shows it)", example="12", kind="count",
            )
        )  # fmt: skip
    if kind.categories:
        zh, en = _names(kind.categories)
        out.append(
            ImportColumn(
                "category", "类别", "category", expected_zh=zh, expected_en=en, example=kind.categories[0].zh,
                choices=tuple(c.zh for c in kind.categories),
            )
        )  # fmt: skip
    out += [
        ImportColumn(
            "state", "状态", "state", expected_zh=f"{_names(states)[0]}；留空为“{manual.zh}”",
            expected_en=f"{_names(states)[1]}; blank: {manual.en}", example=manual.zh,
            choices=tuple(s.zh for s in states),
        ),
        ImportColumn(
            "responsible_unit", "责任单位", "responsible unit", expected_zh=_names(kind.units)[0],
            expected_en=_names(kind.units)[1], example=kind.lead.zh, choices=tuple(u.zh for u in kind.units),
        ),
        ImportColumn(
            "opened", "列入日期", "listed on", expected_zh="日期（年-月-日），不晚于导入当天；留空为导入当天",
            expected_en="a date (YYYY-MM-DD), not after the day of the import; blank: that day",
            example="2023-03-01", kind="date",
        ),
    ]  # fmt: skip
    if kind.deadline is not None:
        out.append(
            ImportColumn(
                "deadline", kind.deadline.zh, kind.deadline.en, expected_zh="日期（年-月-日）",
                expected_en="a date (YYYY-MM-DD)", example="2023-12-31", kind="date",
            )
        )  # fmt: skip
    out.append(
        ImportColumn(
            "reason", "理由", "reason", required=True, expected_zh=f"列入的理由，最多 {REASON_MAX} 个字",
            expected_en=f"why it is listed, at most {REASON_MAX} characters", example="实地排摸发现", kind="wrap",
            aliases=("列入理由", "列入依据", "why it entered"),
        )
    )  # fmt: skip
    return out + [_field_column(f) for f in kind.fields.values()]


def _field_column(f: Any) -> ImportColumn:
    """The column of an entry field (``kind_parts.EntryField``): its unit in the header, 是/否 for a yes/no."""
    base, yes_no = f.type.base, f.type.base == "bool"
    expected_zh = "是 或 否" if yes_no else "、".join(f.values) if f.values else f.type.zh
    expected_en = "是 (yes) or 否 (no)" if yes_no else " | ".join(f.values) if f.values else f.type.en
    kind = "money" if base == "decimal" and f.unit == "元" else "indicator" if base == "decimal" else None
    return ImportColumn(
        f"fields.{f.key}",
        f.zh,
        f.en,
        unit_zh="是/否" if yes_no else f.unit,
        unit_en="yes/no" if yes_no else f.unit_en,
        required=f.required,
        expected_zh=expected_zh + (f"（{f.unit}）" if f.unit else ""),
        expected_en=expected_en + (f" ({f.unit_en})" if f.unit_en else ""),
        example="否" if yes_no else f.values[0] if f.values else f.type.example,
        kind=kind or {"int": "count", "date": "date", "text": "wrap"}.get(base, "text"),
        choices=("是", "否") if yes_no else tuple(f.values),
    )


def norm(text: str) -> str:
    """A name compared loosely: full-width forms folded (（）→ ()), no spaces, case folded."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _split_unit(text: str) -> tuple[str, str | None]:
    """``项目总投资(元)`` → (``项目总投资``, ``元``); a header without a trailing bracket has no unit."""
    if text.endswith(")") and "(" in text:
        at = text.rindex("(")
        return text[:at], text[at + 1 : -1]
    return text, None


def where(sheet: str, letter: str | None, row: int | None, header: str | None) -> str:
    """``导入!C3 (类别)``: the cell, with its column's header."""
    cell = f"{sheet}!{letter or ''}{row or ''}"
    return f"{cell} ({header})" if header else cell


def file_problem(code: str, at: str, value: Any, example: str, context: dict, **fields: Any) -> Problem:
    """A problem of the file or its headers, in the words of the data import (``data/messages.py``)."""
    zh, en, expected_zh, expected_en = render(code, {"where": at, "value": value, **fields})
    return Problem(code, at, value, expected_zh, expected_en, example, zh, en, context)


@dataclass
class HeaderMap:
    """The columns found (key → position, letter, header), the headers ignored, and the header row's problems."""

    found: dict[str, tuple[int, str, str]]
    ignored: list[str]
    problems: list[Problem]


def map_headers(cols: list[ImportColumn], headers: tuple, letters: tuple, sheet: str, row: int) -> HeaderMap:
    """Match the header row (``headers`` with their column ``letters``) to ``cols``."""
    names = {c.key: {norm(n) for n in (c.zh, c.en, c.key, *c.aliases)} for c in cols}
    by_key = {c.key: c for c in cols}
    out = HeaderMap({}, [], [])
    for pos, (header, letter) in enumerate(zip(headers, letters, strict=True)):
        if header is None:
            continue
        text, unit = norm(header), None
        key = next((k for k, n in names.items() if text in n), None)
        if key is None:  # the name with a unit (or a note) in brackets
            text, unit = _split_unit(text)
            key = next((k for k, n in names.items() if text in n), None)
        if key is None:
            out.ignored.append(header)
            continue
        col = by_key[key]
        ctx = {"sheet": sheet, "row": row, "column": letter, "header": header, "key": key}
        at = where(sheet, letter, row, header)
        units = {norm(u) for u in (col.unit_zh, col.unit_en) if u}
        if key in out.found:
            first = out.found[key][1]
            out.problems.append(
                file_problem("duplicate_column", at, header, col.header, ctx, header=header, first=first)
            )
        elif unit is not None and units and unit not in units:
            fields = {"header": header, "unit": unit, "accepted": col.header}
            out.problems.append(file_problem("unknown_unit", at, header, col.header, ctx, **fields))
        else:
            out.found[key] = (pos, letter, header)
    for c in cols:
        if c.required and c.key not in out.found:
            ctx = {"sheet": sheet, "row": row, "column": None, "header": c.header, "key": c.key}
            fields = {"header": c.header, "accepted": f"{c.header} / {c.en}"}
            out.problems.append(
                file_problem(
                    "missing_column", where(sheet, None, None, None) + f"{row}:{row}", None, c.header, ctx, **fields
                )
            )
    return out
