"""Read a calculation request (a JSON document as Python objects) exactly and completely.

The document::

    {"as_of": "2023-03-01", "period": "2023",
     "enterprises": {"E1": {"mujun_class": "A"}},
     "projects": {"P1": {"enterprise": "E1", "equipment_investment": 8000000,
                         "tech_renovation_subsidy": null}}}

* a variable set to ``null`` is requested;
* a value is a scalar (the situation's ``period``) or an object keyed by year;
* numbers must arrive as ``int`` or ``Decimal`` (parse JSON with
  ``parse_float=Decimal``), so nothing is ever rounded on the way in.

Every problem in the document is collected before anything is computed; the
caller gets ``InvalidInput`` with all of them, or a ``Situation``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from .errors import InvalidInput, Problem
from .exact import scaled
from .periods import parse_date
from .variables import ENTITY_KINDS, TYPES, Registry, Variable

TOP_LEVEL = ("as_of", "period", "explanations", *ENTITY_KINDS)


class YearValues(dict):
    """Values of one variable keyed by year (int → value); a value may be ``REQUEST``."""


class _Request:
    """Marker of a requested (``null``) value."""

    def __repr__(self) -> str:
        return "REQUEST"


REQUEST = _Request()


@dataclass
class EntityTable:
    """Entities of one kind: ids in document order and raw columns.

    ``columns[var][i]`` is ``None`` (absent), ``REQUEST``, a converted scalar, or
    ``YearValues``.
    """

    kind: str
    ids: list[str]
    columns: dict[str, list[Any]] = field(default_factory=dict)
    index: dict[str, int] = field(default_factory=dict)

    def requests(self, var: str) -> list[tuple[int, int | None]]:
        """(row, year) pairs requested for ``var``; year ``None`` = the period, scalar."""
        out: list[tuple[int, int | None]] = []
        for i, v in enumerate(self.columns.get(var, ())):
            if v is REQUEST:
                out.append((i, None))
            elif isinstance(v, YearValues):
                out.extend((i, y) for y, x in v.items() if x is REQUEST)
        return out


@dataclass
class Situation:
    """A validated request."""

    as_of: dt.date
    period: int
    tables: dict[str, EntityTable]
    raw: dict[str, Any]

    def table(self, kind: str) -> EntityTable:
        """The table of one kind (empty if the document has none)."""
        return self.tables.get(kind) or EntityTable(kind, [])


def _p(
    code: str, where: str, value: Any, var: Variable | None, zh: str, en: str, example: str | None = None
) -> Problem:
    exp_zh, exp_en = var.expected() if var else ("", "")
    ex = example if example is not None else (var.example() if var else "")
    return Problem(code, where, _show(value), exp_zh, exp_en, ex, zh, en)


def _show(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list)):
        return repr(value)[:80]
    return value


def convert(var: Variable, value: Any, where: str, problems: list[Problem], refs: dict[str, set[str]]) -> Any:
    """Convert one JSON value of ``var`` exactly, or record a problem and return None."""
    t = var.type
    base = t.base
    if base == "decimal":
        return _decimal(var, value, where, problems)
    if base == "int":
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            problems.append(_p("wrong_type", where, value, var, f"{where} 应为整数。", f"{where} must be an integer."))
            return None
        if isinstance(value, Decimal) and value != value.to_integral_value():
            problems.append(
                _p(
                    "not_integer",
                    where,
                    value,
                    var,
                    f"{where} 应为整数，不能有小数。",
                    f"{where} must be a whole number.",
                )
            )
            return None
        n = int(value)
        if (t.minimum is not None and n < int(t.minimum)) or (t.maximum is not None and n > int(t.maximum)):
            problems.append(
                _p(
                    "out_of_range",
                    where,
                    value,
                    var,
                    f"{where} 超出范围 {t.minimum}–{t.maximum}。",
                    f"{where} is outside {t.minimum}–{t.maximum}.",
                )
            )
            return None
        return n
    if base in _CHECKS:
        ok, code, zh, en = _CHECKS[base]
        if not ok(value, var):
            problems.append(_p(code, where, value, var, f"{where} {zh}", f"{where} {en}"))
            return None
        return value
    if base == "date":
        try:
            return parse_date(value)
        except (ValueError, TypeError):
            problems.append(
                _p(
                    "invalid_date",
                    where,
                    value,
                    var,
                    f"{where} 不是有效日期（YYYY-MM-DD，且须为日历上存在的日期）。",
                    f"{where} is not a valid calendar date (YYYY-MM-DD).",
                )
            )
            return None
    if base == "ref":
        if not isinstance(value, str) or value not in refs.get(var.ref or "", set()):
            problems.append(
                _p(
                    "missing_reference",
                    where,
                    value,
                    var,
                    f"{where} 引用的 {var.ref} 中没有编号 {value!r}。",
                    f"{where} refers to {value!r}, which is not among the {var.ref}.",
                    '"E1"',
                )
            )
            return None
        return value
    if base == "list_decimal":
        if not isinstance(value, list) or len(value) < 2:
            problems.append(
                _p(
                    "wrong_type",
                    where,
                    value,
                    var,
                    f"{where} 应为至少两个数的列表。",
                    f"{where} must be a list of two or more numbers.",
                )
            )
            return None
        items = [_decimal(var, x, f"{where}[{k}]", problems) for k, x in enumerate(value)]
        return None if any(x is None for x in items) else tuple(items)
    problems.append(
        _p(
            "not_an_input",
            where,
            value,
            var,
            f"{where} 是输出变量，只能以 null 请求。",
            f"{where} is an output; request it with null.",
        )
    )
    return None


# Types whose check is one predicate: (accepts, problem code, zh, en).
_CHECKS = {
    "bool": (lambda v, var: isinstance(v, bool), "wrong_type", "应为 true 或 false。", "must be true or false."),
    "enum": (
        lambda v, var: isinstance(v, str) and v in var.values,
        "unknown_choice",
        "的取值无效。",
        "has an invalid value.",
    ),
    "text": (lambda v, var: isinstance(v, str), "wrong_type", "应为文本。", "must be text."),
}


def _decimal(var: Variable, value: Any, where: str, problems: list[Problem]) -> int | None:
    t = var.type
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        problems.append(
            _p(
                "wrong_type",
                where,
                value,
                var,
                f"{where} 应为数值（不加引号）。",
                f"{where} must be a number (without quotes).",
            )
        )
        return None
    try:
        if isinstance(value, Decimal) and not value.is_finite():
            raise InvalidOperation
        s = scaled(value, t.scale)
    except (ValueError, InvalidOperation):
        problems.append(
            _p(
                "too_many_decimals",
                where,
                value,
                var,
                f"{where} 最多允许 {t.scale} 位小数。",
                f"{where} allows at most {t.scale} decimals.",
            )
        )
        return None
    lo, hi = _bounds(t.name)
    if lo is not None and s < lo:
        code = "negative_value" if s < 0 and lo == 0 else "out_of_range"
        zh = f"{where} 不能为负数。" if code == "negative_value" else f"{where} 小于下限 {t.minimum}。"
        en = (
            f"{where} must not be negative."
            if code == "negative_value"
            else f"{where} is below the minimum {t.minimum}."
        )
        problems.append(_p(code, where, value, var, zh, en))
        return None
    if hi is not None and s > hi:
        problems.append(
            _p(
                "out_of_range",
                where,
                value,
                var,
                f"{where} 超过上限 {t.maximum}。",
                f"{where} exceeds the maximum {t.maximum}.",
            )
        )
        return None
    return s


@cache
def _bounds(type_name: str) -> tuple[int | None, int | None]:
    t = TYPES[type_name]
    lo = scaled(Decimal(t.minimum), t.scale) if t.minimum is not None else None
    hi = scaled(Decimal(t.maximum), t.scale) if t.maximum is not None else None
    return lo, hi


def _year_key(key: Any) -> int | None:
    if isinstance(key, str) and len(key) == 4 and key.isdigit():
        return int(key)
    return None


def read_situation(doc: Any, registry: Registry) -> Situation:
    """Validate and convert a request document.

    Args:
        doc: the parsed JSON (numbers as ``int``/``Decimal``).
        registry: the variable registry.

    Returns:
        The situation, when the document has no problem at all.

    Raises:
        InvalidInput: listing every problem found.
    """
    problems: list[Problem] = []
    if not isinstance(doc, dict):
        raise InvalidInput(
            [
                Problem(
                    "not_an_object",
                    "$",
                    _show(doc),
                    "JSON 对象",
                    "a JSON object",
                    '{"as_of": "2023-03-01", "projects": {}}',
                    "输入必须是 JSON 对象。",
                    "The input must be a JSON object.",
                )
            ]
        )
    for key in doc:
        if key not in TOP_LEVEL:
            close = difflib.get_close_matches(str(key), TOP_LEVEL, n=1)
            problems.append(
                Problem(
                    "unknown_entity_kind",
                    str(key),
                    None,
                    "实体类型之一：" + "、".join(ENTITY_KINDS),
                    "one of the entity kinds: " + ", ".join(ENTITY_KINDS),
                    close[0] if close else "projects",
                    f"未知的实体类型 {key!r}。",
                    f"Unknown entity kind {key!r}.",
                )
            )
    as_of = _read_as_of(doc.get("as_of"), problems)
    period = _read_period(doc.get("period"), as_of, problems)

    ids: dict[str, set[str]] = {}
    for kind in ENTITY_KINDS:
        block = doc.get(kind)
        if block is None:
            continue
        if not isinstance(block, dict):
            problems.append(
                Problem(
                    "wrong_type",
                    kind,
                    _show(block),
                    "以编号为键的对象",
                    "an object keyed by entity id",
                    '{"P1": {...}}',
                    f"{kind} 应为以编号为键的对象。",
                    f"{kind} must be an object keyed by id.",
                )
            )
            continue
        ids[kind] = set(block)

    tables: dict[str, EntityTable] = {}
    for kind in ENTITY_KINDS:
        block = doc.get(kind)
        if not isinstance(block, dict):
            continue
        tables[kind] = _read_table(kind, block, registry, ids, problems)
    if problems:
        raise InvalidInput(problems)
    if as_of is None or period is None:  # each is reported as a problem above, so this cannot happen
        raise RuntimeError("as_of and period must be set when no problem was found")
    return Situation(as_of, period, tables, doc)


def _read_as_of(value: Any, problems: list[Problem]) -> dt.date | None:
    if value is None:
        problems.append(
            Problem(
                "missing_as_of",
                "as_of",
                None,
                "判断日期 YYYY-MM-DD",
                "the date the situation is judged at, YYYY-MM-DD",
                '"2023-03-01"',
                "缺少 as_of（判断日期）。",
                "as_of (the judging date) is missing.",
            )
        )
        return None
    try:
        return parse_date(value)
    except (ValueError, TypeError):
        problems.append(
            Problem(
                "invalid_date",
                "as_of",
                _show(value),
                "日历上存在的日期 YYYY-MM-DD",
                "a real calendar date YYYY-MM-DD",
                '"2023-03-01"',
                f"as_of 的值 {value!r} 不是有效日期。",
                f"as_of {value!r} is not a valid date.",
            )
        )
        return None


def _read_period(value: Any, as_of: dt.date | None, problems: list[Problem]) -> int | None:
    if value is None:
        return as_of.year if as_of else None
    year = (
        _year_key(value)
        if isinstance(value, str)
        else (value if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2200 else None)
    )
    if year is None:
        problems.append(
            Problem(
                "invalid_period",
                "period",
                _show(value),
                "四位年份",
                "a four-digit year",
                '"2023"',
                f"period 的值 {value!r} 不是年份。",
                f"period {value!r} is not a year.",
            )
        )
    return year


def _read_table(
    kind: str, block: dict[str, Any], registry: Registry, ids: dict[str, set[str]], problems: list[Problem]
) -> EntityTable:
    table = EntityTable(kind, list(block))
    table.index = {e: i for i, e in enumerate(table.ids)}
    n = len(table.ids)
    known = {v.name: v for v in registry.of(kind)}
    for i, (eid, entity) in enumerate(block.items()):
        if not isinstance(entity, dict):
            problems.append(
                Problem(
                    "wrong_type",
                    f"{kind}.{eid}",
                    _show(entity),
                    "变量对象",
                    "an object of variables",
                    '{"equipment_investment": 8000000}',
                    f"{kind}.{eid} 应为对象。",
                    f"{kind}.{eid} must be an object.",
                )
            )
            continue
        for name, value in entity.items():
            where = f"{kind}.{eid}.{name}"
            var = known.get(name)
            if var is None:
                close = difflib.get_close_matches(name, list(known), n=1)
                problems.append(
                    Problem(
                        "unknown_variable",
                        where,
                        None,
                        f"{kind} 的变量名（tenglong variables 可列出全部）",
                        f"a variable of {kind} (tenglong variables lists them)",
                        close[0] if close else next(iter(known)),
                        f"{kind} 没有变量 {name!r}" + (f"，是否要写 {close[0]}？" if close else "。"),
                        f"{kind} has no variable {name!r}" + (f"; did you mean {close[0]}?" if close else "."),
                    )
                )
                continue
            col = table.columns.get(name)
            if col is None:
                col = table.columns[name] = [None] * n
            col[i] = _read_value(var, value, where, problems, ids)
    return table


def _read_value(var: Variable, value: Any, where: str, problems: list[Problem], ids: dict[str, set[str]]) -> Any:
    if value is None:
        if not var.is_output:
            problems.append(
                _p(
                    "not_an_output",
                    where,
                    None,
                    var,
                    f"{where} 是输入变量，不能以 null 请求，请给出取值。",
                    f"{where} is an input; give its value instead of null.",
                )
            )
            return None
        return REQUEST
    if isinstance(value, dict):
        out = YearValues()
        for key, v in value.items():
            year = _year_key(key)
            if year is None:
                problems.append(
                    Problem(
                        "invalid_year_key",
                        f"{where}.{key}",
                        key,
                        "四位年份作键",
                        "a four-digit year as key",
                        '{"2022": 4.1, "2023": 4.9}',
                        f"{where} 的键 {key!r} 不是年份。",
                        f"{where}: key {key!r} is not a year.",
                    )
                )
                continue
            out[year] = _read_value(var, v, f"{where}.{key}", problems, ids)
        return out
    if not var.is_input:
        problems.append(
            _p(
                "not_an_input",
                where,
                value,
                var,
                f"{where} 是输出变量，只能以 null 请求。",
                f"{where} is an output; request it with null.",
            )
        )
        return None
    return convert(var, value, where, problems, ids)
