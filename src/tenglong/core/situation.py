"""Read a calculation request (a JSON document as Python objects) exactly and completely.

The document::

    {"as_of": "2023-03-01", "period": "2023",
     "enterprises": {"E1": {"mujun_class": "A"}},
     "projects": {"P1": {"enterprise": "E1", "equipment_investment": 8000000,
                         "tech_renovation_subsidy": null}}}

* a variable set to ``null`` is requested;
* a value is a scalar (the situation's ``period``) or an object keyed by year;
* numbers must arrive as ``int`` or ``Decimal`` (parse JSON with
  ``parse_float=Decimal``), so nothing is ever rounded on the way in;
* money is in 元, ratios are ratios (``0.12`` = 12 %): a form may offer 万元 and
  percentages, but converts them before they get here.

Beyond each type's bounds, a variable may have a **plausible range**
(``plausible`` in ``policy/variables.yaml``): a value outside it is refused as
``implausible_value``, naming the range and why (a unit slip is the usual cause:
``5`` for a 5 % growth reads as 500 %). Inputs of one entity must keep the
**relations** declared there (``relations``: the equipment investment within the
total investment, the renovated floor area within the total after, …); each
broken one is a problem named by its code, at the first field, with both fields
in its ``context``. Every adapter (the JSON contract, the calculator form, the
batch upload, the application form) reads through here, so all get the same
checks and the same words.

Every problem in the document is collected before anything is computed; the
caller gets ``InvalidInput`` with all of them, or a ``Situation``. The first
``LISTED`` problems are listed in full and the rest only counted
(``ProblemList``): a document with a million bad values costs a count, not a
million problems. ``max_entities`` refuses a document with too many entities
before any of them is read.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException
from fractions import Fraction
from functools import cache
from typing import Any

from .errors import InvalidInput, Problem
from .exact import scaled, unscale
from .periods import parse_date
from .variables import ENTITY_KINDS, TYPES, Registry, Relation, Variable

TOP_LEVEL = ("as_of", "period", "explanations", *ENTITY_KINDS)
LISTED = 1000
"""Problems listed in full; beyond them a reader only counts (``InvalidInput.more``)."""


class ProblemList:
    """The problems of one input: the first ``limit`` built in full, the rest only counted.

    ``add`` takes the function that builds a problem and its arguments, and calls it only
    while there is room, so nothing is built for a problem that will not be listed.

    >>> problems = ProblemList(limit=1)
    >>> for k in range(3):
    ...     problems.add(Problem, "wrong_type", f"x{k}", k, "", "", "")
    >>> [p.where for p in problems.items], problems.more, len(problems)
    (['x0'], 2, 3)
    """

    def __init__(self, limit: int = LISTED) -> None:
        self.items: list[Problem] = []
        self.more = 0
        self.limit = limit

    def __len__(self) -> int:
        return len(self.items) + self.more

    @property
    def full(self) -> bool:
        """Whether a further problem would only be counted."""
        return len(self.items) >= self.limit

    def add(self, build: Callable[..., Problem], *args: Any) -> None:
        """Record one problem: ``build(*args)`` while there is room, else only count it."""
        if len(self.items) < self.limit:
            self.items.append(build(*args))
        else:
            self.more += 1

    def count(self, n: int) -> None:
        """Count ``n`` more problems without building them (found in bulk, e.g. by a vectorised check)."""
        self.more += n

    def error(self) -> InvalidInput:
        """The error listing the problems built, with the count of the rest."""
        return InvalidInput(self.items, self.more)


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
    """The value as a problem shows it: JSON-safe (decimals as text, containers and odd text as a short repr)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list)):
        return safe_text(repr(value)[:80])
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        # No input has such a number: shown by its size (Python will not even print one of 4,300 digits).
        return f"<integer of about {int(abs(value).bit_length() * 0.30103) + 1:,} digits>"
    return value


def safe_text(text: str) -> str:
    """``text`` with any lone surrogate written as its escape (``\\ud800``), so that it can always be encoded.

    >>> safe_text("P\\ud800")
    'P\\\\ud800'
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def convert(var: Variable, value: Any, where: str, problems: ProblemList, refs: dict[str, set[str]]) -> Any:
    """Convert one JSON value of ``var`` exactly, or record a problem and return None."""
    t = var.type
    base = t.base
    if base == "decimal":
        return _decimal(var, value, where, problems)
    if base == "int":
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            problems.add(_p, "wrong_type", where, value, var, f"{where} 应为整数。", f"{where} must be an integer.")
            return None
        if isinstance(value, Decimal) and value != value.to_integral_value():
            problems.add(
                _p,
                "not_integer",
                where,
                value,
                var,
                f"{where} 应为整数，不能有小数。",
                f"{where} must be a whole number.",
            )
            return None
        n = int(value)
        if (t.minimum is not None and n < int(t.minimum)) or (t.maximum is not None and n > int(t.maximum)):
            problems.add(
                _p,
                "out_of_range",
                where,
                value,
                var,
                f"{where} 超出范围 {t.minimum}–{t.maximum}。",
                f"{where} is outside {t.minimum}–{t.maximum}.",
            )
            return None
        return n
    if base in _CHECKS:
        ok, code, zh, en = _CHECKS[base]
        if not ok(value, var):
            problems.add(_p, code, where, value, var, f"{where} {zh}", f"{where} {en}")
            return None
        return value
    if base == "date":
        try:
            return parse_date(value)
        except (ValueError, TypeError):
            problems.add(
                _p,
                "invalid_date",
                where,
                value,
                var,
                f"{where} 不是有效日期（YYYY-MM-DD，且须为日历上存在的日期）。",
                f"{where} is not a valid calendar date (YYYY-MM-DD).",
            )
            return None
    if base == "ref":
        if not isinstance(value, str) or value not in refs.get(var.ref or "", set()):
            problems.add(
                _p,
                "missing_reference",
                where,
                value,
                var,
                f"{where} 引用的 {var.ref} 中没有编号 {value!r}。",
                f"{where} refers to {value!r}, which is not among the {var.ref}.",
                '"E1"',
            )
            return None
        return value
    if base == "list_decimal":
        if not isinstance(value, list) or len(value) < 2:
            problems.add(
                _p,
                "wrong_type",
                where,
                value,
                var,
                f"{where} 应为至少两个数的列表。",
                f"{where} must be a list of two or more numbers.",
            )
            return None
        items = [_decimal(var, x, f"{where}[{k}]", problems) for k, x in enumerate(value)]
        return None if any(x is None for x in items) else tuple(items)
    problems.add(
        _p,
        "not_an_input",
        where,
        value,
        var,
        f"{where} 是输出变量，只能以 null 请求。",
        f"{where} is an output; request it with null.",
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


def _decimal(var: Variable, value: Any, where: str, problems: ProblemList) -> int | None:
    t = var.type
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        problems.add(
            _p,
            "wrong_type",
            where,
            value,
            var,
            f"{where} 应为数值（不加引号）。",
            f"{where} must be a number (without quotes).",
        )
        return None
    try:
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"{value} is not finite")
        s = scaled(value, t.scale)
    except ValueError:
        problems.add(
            _p,
            "too_many_decimals",
            where,
            value,
            var,
            f"{where} 最多允许 {t.scale} 位小数。",
            f"{where} allows at most {t.scale} decimals.",
        )
        return None
    except DecimalException:  # an exponent beyond what Decimal can scale (1e999999): far outside any range
        problems.add(
            _p,
            "out_of_range",
            where,
            value,
            var,
            f"{where} 超出允许的范围（{t.minimum}–{t.maximum}）。",
            f"{where} is outside the allowed range ({t.minimum}–{t.maximum}).",
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
        problems.add(_p, code, where, value, var, zh, en)
        return None
    if hi is not None and s > hi:
        problems.add(
            _p,
            "out_of_range",
            where,
            value,
            var,
            f"{where} 超过上限 {t.maximum}。",
            f"{where} exceeds the maximum {t.maximum}.",
        )
        return None
    if var.plausible is not None and not _plausible(var, s):
        problems.add(_implausible, where, value, var, s)
        return None
    return s


def _plausible(var: Variable, s: int) -> bool:
    lo, hi = _plausible_bounds(var.entity, var.name, var.type.scale, var.plausible.minimum, var.plausible.maximum)
    return (lo is None or s >= lo) and (hi is None or s <= hi)


@cache
def _plausible_bounds(
    entity: str, name: str, scale: int, minimum: str | None, maximum: str | None
) -> tuple[int | None, int | None]:
    lo = scaled(Decimal(minimum), scale) if minimum is not None else None
    hi = scaled(Decimal(maximum), scale) if maximum is not None else None
    return lo, hi


def human(var: Variable, s: int, lang: str = "zh") -> str:
    """A scaled value as people read it, with its unit: money in 元 and 万元, a ratio as a percentage.

    >>> from tenglong.core import loader
    >>> reg = loader.variables()
    >>> human(reg["projects", "equipment_investment"], 1500000000)
    '15,000,000.00 元（1,500 万元）'
    >>> human(reg["enterprises", "local_contribution_growth"], 5000000)
    '500%'
    >>> human(reg["projects", "land_area"], 600000, "en"), human(reg["projects", "plot_ratio_after"], 12000)
    ('6,000 m²', '1.2')
    """
    t = var.type
    d = unscale(s, t.scale)
    if t.name == "money":
        wan = f"{d.scaleb(-4).normalize():,f}"
        return f"{d:,.2f} 元（{wan} 万元）" if lang == "zh" else f"{d:,.2f} yuan ({wan} × 10k yuan)"
    if t.unit == "ratio":
        return f"{(d * 100).normalize():f}%"
    text = f"{d.normalize():,f}" if d == d.to_integral_value() or abs(d) >= 1000 else f"{d.normalize():f}"
    unit = {"亩": " 亩" if lang == "zh" else " mu", "m²": " m²"}.get(t.unit, f" {t.unit}" if t.unit else "")
    return text + unit


def _range_text(var: Variable, lang: str) -> str:
    pl = var.plausible
    lo = human(var, scaled(Decimal(pl.minimum), var.type.scale), lang) if pl.minimum is not None else None
    hi = human(var, scaled(Decimal(pl.maximum), var.type.scale), lang) if pl.maximum is not None else None
    if lang == "zh":
        return f"{lo} 至 {hi}" if lo and hi else f"不低于 {lo}" if lo else f"不超过 {hi}"
    return f"{lo} to {hi}" if lo and hi else f"at least {lo}" if lo else f"at most {hi}"


def _implausible(where: str, value: Any, var: Variable, s: int) -> Problem:
    pl = var.plausible
    zh_range, en_range = _range_text(var, "zh"), _range_text(var, "en")
    tag_zh = "（合理范围为本平台的假设）" if pl.assumption else ""
    tag_en = " (the range is this platform's assumption)" if pl.assumption else ""
    example = var.type.example
    return Problem(
        "implausible_value",
        where,
        _show(value),
        f"{var.zh}：{zh_range}",
        f"{var.en}: {en_range}",
        example,
        f"{var.zh}为 {human(var, s)}，超出合理范围（{zh_range}）{tag_zh}。{pl.note_zh}。",
        f"{var.en} is {human(var, s, 'en')}, outside the plausible range ({en_range}){tag_en}. {pl.note_en}.",
        {"variable": var.name, "range": [pl.minimum, pl.maximum], "assumption": pl.assumption},
    )


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


def read_situation(doc: Any, registry: Registry, max_entities: int | None = None) -> Situation:
    """Validate and convert a request document.

    Args:
        doc: the parsed JSON (numbers as ``int``/``Decimal``).
        registry: the variable registry.
        max_entities: refuse a document with more entities (of all kinds together) than this, before reading
            any of them; ``None``: no limit.

    Returns:
        The situation, when the document has no problem at all.

    Raises:
        InvalidInput: listing every problem found (the first ``LISTED`` in full, then the count of the rest).
    """
    problems = ProblemList()
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
    _check_size(doc, max_entities)
    for key in doc:
        if key not in TOP_LEVEL:
            if problems.full:
                problems.count(1)
                continue
            close = difflib.get_close_matches(str(key), TOP_LEVEL, n=1)
            problems.add(
                Problem,
                "unknown_entity_kind",
                str(key),
                None,
                "实体类型之一：" + "、".join(ENTITY_KINDS),
                "one of the entity kinds: " + ", ".join(ENTITY_KINDS),
                close[0] if close else "projects",
                f"未知的实体类型 {key!r}。",
                f"Unknown entity kind {key!r}.",
            )
    as_of = _read_as_of(doc.get("as_of"), problems)
    period = _read_period(doc.get("period"), as_of, problems)

    ids: dict[str, set[str]] = {}
    for kind in ENTITY_KINDS:
        block = doc.get(kind)
        if block is None:
            continue
        if not isinstance(block, dict):
            problems.add(
                Problem,
                "wrong_type",
                kind,
                _show(block),
                "以编号为键的对象",
                "an object keyed by entity id",
                '{"P1": {...}}',
                f"{kind} 应为以编号为键的对象。",
                f"{kind} must be an object keyed by id.",
            )
            continue
        ids[kind] = set(block)

    tables: dict[str, EntityTable] = {}
    for kind in ENTITY_KINDS:
        block = doc.get(kind)
        if not isinstance(block, dict):
            continue
        tables[kind] = _read_table(kind, block, registry, ids, problems)
        check_relations(tables[kind], registry, period, problems)
    if problems:
        raise problems.error()
    if as_of is None or period is None:  # each is reported as a problem above, so this cannot happen
        raise RuntimeError("as_of and period must be set when no problem was found")
    return Situation(as_of, period, tables, doc)


def _check_size(doc: dict[str, Any], max_entities: int | None) -> None:
    """Refuse a document with more entities than ``max_entities``, counting them without reading them."""
    if max_entities is None:
        return
    n = sum(len(block) for kind in ENTITY_KINDS if isinstance(block := doc.get(kind), dict))
    if n > max_entities:
        raise InvalidInput(
            [
                Problem(
                    "too_many_entities",
                    "$",
                    n,
                    f"至多 {max_entities:,} 个实体（各类合计）",
                    f"at most {max_entities:,} entities (all kinds together)",
                    "分成几次提交 / split the request",
                    f"请求含 {n:,} 个实体，超过每次至多 {max_entities:,} 个的上限，未作任何计算；请分成几次提交。",
                    f"The request has {n:,} entities, more than the {max_entities:,} allowed at once; nothing was "
                    "computed. Split it into several requests.",
                )
            ]
        )


def _read_as_of(value: Any, problems: ProblemList) -> dt.date | None:
    if value is None:
        problems.add(
            Problem,
            "missing_as_of",
            "as_of",
            None,
            "判断日期 YYYY-MM-DD",
            "the date the situation is judged at, YYYY-MM-DD",
            '"2023-03-01"',
            "缺少 as_of（判断日期）。",
            "as_of (the judging date) is missing.",
        )
        return None
    try:
        return parse_date(value)
    except (ValueError, TypeError):
        problems.add(
            Problem,
            "invalid_date",
            "as_of",
            _show(value),
            "日历上存在的日期 YYYY-MM-DD",
            "a real calendar date YYYY-MM-DD",
            '"2023-03-01"',
            f"as_of 的值 {value!r} 不是有效日期。",
            f"as_of {value!r} is not a valid date.",
        )
        return None


def _read_period(value: Any, as_of: dt.date | None, problems: ProblemList) -> int | None:
    if value is None:
        return as_of.year if as_of else None
    year = (
        _year_key(value)
        if isinstance(value, str)
        else (value if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2200 else None)
    )
    if year is None:
        problems.add(
            Problem,
            "invalid_period",
            "period",
            _show(value),
            "四位年份",
            "a four-digit year",
            '"2023"',
            f"period 的值 {value!r} 不是年份。",
            f"period {value!r} is not a year.",
        )
    return year


def _read_table(
    kind: str, block: dict[str, Any], registry: Registry, ids: dict[str, set[str]], problems: ProblemList
) -> EntityTable:
    table = EntityTable(kind, list(block))
    table.index = {e: i for i, e in enumerate(table.ids)}
    n = len(table.ids)
    known = {v.name: v for v in registry.of(kind)}
    for i, (eid, entity) in enumerate(block.items()):
        if not isinstance(entity, dict):
            problems.add(
                Problem,
                "wrong_type",
                f"{kind}.{eid}",
                _show(entity),
                "变量对象",
                "an object of variables",
                '{"equipment_investment": 8000000}',
                f"{kind}.{eid} 应为对象。",
                f"{kind}.{eid} must be an object.",
            )
            continue
        for name, value in entity.items():
            where = f"{kind}.{eid}.{name}"
            var = known.get(name)
            if var is None:
                if problems.full:  # only counted: skip the costly "did you mean"
                    problems.count(1)
                    continue
                close = difflib.get_close_matches(name, list(known), n=1)
                problems.add(
                    Problem,
                    "unknown_variable",
                    where,
                    None,
                    f"{kind} 的变量名（tenglong variables 可列出全部）",
                    f"a variable of {kind} (tenglong variables lists them)",
                    close[0] if close else next(iter(known)),
                    f"{kind} 没有变量 {name!r}" + (f"，是否要写 {close[0]}？" if close else "。"),
                    f"{kind} has no variable {name!r}" + (f"; did you mean {close[0]}?" if close else "."),
                )
                continue
            col = table.columns.get(name)
            if col is None:
                col = table.columns[name] = [None] * n
            col[i] = _read_value(var, value, where, problems, ids)
    return table


def _read_value(
    var: Variable, value: Any, where: str, problems: ProblemList, ids: dict[str, set[str]], in_year: bool = False
) -> Any:
    if value is None:
        if not var.is_output:
            problems.add(
                _p,
                "not_an_output",
                where,
                None,
                var,
                f"{where} 是输入变量，不能以 null 请求，请给出取值。",
                f"{where} is an input; give its value instead of null.",
            )
            return None
        return REQUEST
    if isinstance(value, dict) and in_year:
        problems.add(
            Problem,
            "nested_years",
            where,
            _show(value),
            "一个取值（不能再按年份嵌套）",
            "one value (years do not nest)",
            '{"2022": 4.1, "2023": 4.9}',
            f"{where} 已是某一年的取值，不能再写成按年份的对象。",
            f"{where} is already the value of one year; it cannot be an object of years again.",
        )
        return None
    if isinstance(value, dict):
        out = YearValues()
        for key, v in value.items():
            year = _year_key(key)
            if year is None:
                problems.add(
                    Problem,
                    "invalid_year_key",
                    f"{where}.{key}",
                    key,
                    "四位年份作键",
                    "a four-digit year as key",
                    '{"2022": 4.1, "2023": 4.9}',
                    f"{where} 的键 {key!r} 不是年份。",
                    f"{where}: key {key!r} is not a year.",
                )
                continue
            out[year] = _read_value(var, v, f"{where}.{key}", problems, ids, in_year=True)
        return out
    if not var.is_input:
        problems.add(
            _p,
            "not_an_input",
            where,
            value,
            var,
            f"{where} 是输出变量，只能以 null 请求。",
            f"{where} is an output; request it with null.",
        )
        return None
    return convert(var, value, where, problems, ids)


def check_relations(table: EntityTable, registry: Registry, period: int | None, problems: ProblemList) -> None:
    """Record a problem for every relation of ``registry`` that a row of ``table`` breaks.

    Only values that were read without a problem take part; a value keyed by year is compared with the other's value
    of that year (a scalar belongs to the situation's ``period``). A relation with a side wholly absent is not checked.
    """
    for rel in registry.relations(table.kind):
        cols = [table.columns.get(n) for n in (*rel.left, rel.right)]
        if cols[-1] is None or all(c is None for c in cols[:-1]):
            continue
        n = len(table.ids)
        for i in range(n):
            right = _by_year(cols[-1][i], period)
            if not right:
                continue
            lefts = [_by_year(c[i], period) if c is not None else {} for c in cols[:-1]]
            for year, r in right.items():
                parts = [(rel.left[k], lv[year]) for k, lv in enumerate(lefts) if year in lv]
                if parts and _broken(rel, registry, [v for _, v in parts], r):
                    problems.add(_relation_problem, rel, registry, table, i, year, period, parts, r)


_NUMERALS = "一二三四五六七八九十"


def clause_name(clause: str) -> str:
    """A clause id of part 二 (政策扶持) as the policy numbers it, ``2.10`` → ``第（十）项``; other ids as they are.

    >>> clause_name("2.10"), clause_name("2.3"), clause_name("2.15"), clause_name("A.2")
    ('第（十）项', '第（三）项', '第（十五）项', 'A.2')
    """
    part, _, item = clause.partition(".")
    if part != "2" or not item.isdigit() or not 1 <= int(item) <= 19:
        return clause
    n = int(item)
    item_zh = _NUMERALS[n - 1] if n <= 10 else "十" + _NUMERALS[n - 11]
    return f"第（{item_zh}）项"


def _by_year(value: Any, period: int | None) -> dict[int | None, int]:
    """The read values of one cell by year (a scalar under ``period``), leaving out requests and failed values."""
    if isinstance(value, YearValues):
        return {y: v for y, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}
    if isinstance(value, int) and not isinstance(value, bool):
        return {period: value}
    return {}


def _broken(rel: Relation, registry: Registry, left: list[int], right: int) -> bool:
    """Whether ``sum(left) op right`` fails (values scaled at their variables' types)."""
    lv = registry[(rel.entity, rel.left[0])]
    rv = registry[(rel.entity, rel.right)]
    a = Fraction(sum(left), 10**lv.type.scale)
    b = Fraction(right, 10**rv.type.scale) * Fraction(rel.factor)
    if rel.op == "<=":
        return a > b
    if rel.op == "~=":
        return abs(a - b) > Fraction(rel.tolerance) * max(a, b)
    raise ValueError(f"unknown relation operator {rel.op!r} in {rel.code}")


def _relation_problem(
    rel: Relation,
    registry: Registry,
    table: EntityTable,
    row: int,
    year: int | None,
    period: int | None,
    parts: list[tuple[str, int]],
    right: int,
) -> Problem:
    kind, eid = table.kind, table.ids[row]
    at = f"{kind}.{eid}"
    suffix = f".{year}" if year is not None and isinstance(table.columns[rel.right][row], YearValues) else ""
    rv = registry[(kind, rel.right)]
    lvars = [registry[(kind, n)] for n, _ in parts]
    total = sum(v for _, v in parts)
    l_zh = "、".join(v.zh for v in lvars) + ("之和" if len(lvars) > 1 else "")
    l_en = " + ".join(v.en for v in lvars)
    op_zh = "超过" if rel.op == "<=" else "与"
    shown_zh = f"{l_zh} {human(lvars[0], total)} {op_zh} {rv.zh} {human(rv, right)}"
    shown_en = f"{l_en} {human(lvars[0], total, 'en')} {'exceeds' if rel.op == '<=' else 'disagrees with'} {rv.en} "
    shown_en += human(rv, right, "en")
    if rel.op == "~=":
        shown_zh += " 不一致"
    clause_zh = f"（{clause_name(rel.clause)}）" if rel.clause else ""
    clause_en = f" (clause {rel.clause})" if rel.clause else ""
    tag_zh = "这一关系是本平台的假设；" if rel.assumption else ""
    tag_en = " This relation is this platform's assumption." if rel.assumption else ""
    when = f"（{year} 年）" if suffix else ""
    when_en = f" ({year})" if suffix else ""
    return Problem(
        rel.code,
        f"{at}.{parts[0][0]}{suffix}",
        str(unscale(total, lvars[0].type.scale)),
        f"{l_zh}不超过{rv.zh}" if rel.op == "<=" else f"{l_zh}与{rv.zh}一致",
        f"{l_en} at most {rv.en}" if rel.op == "<=" else f"{l_en} consistent with {rv.en}",
        str(unscale(right, rv.type.scale)) if rel.op == "<=" else "",
        f"{shown_zh}{when}：{tag_zh}{rel.zh}{clause_zh}。请核对这两项。",
        f"{shown_en}{when_en}: {rel.en}{clause_en}.{tag_en} Check both fields.",
        {
            "relation": rel.code,
            "fields": [f"{at}.{n}{suffix}" for n, _ in parts] + [f"{at}.{rel.right}{suffix}"],
            "assumption": rel.assumption,
        },
    )
