"""How numbers, towns, industries and indicators read on the dashboard, enterprise and evaluation pages and workbooks.

Money is a ``Decimal`` and is shown exactly, with thousands separators and two
decimals; indicators are floats shown with a fixed number of places.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from ..core import loader, reference_data
from ..core.boundary import SYMBOL, boundary
from ..core.mujun import indicators as ind
from ..core.variables import ENTITY_KINDS
from ..registers import workflows
from .i18n import catalogue, t

DASH = "—"
CLASS_KEYS = ("A", "B", "C", "D")
CHINA = dt.timezone(dt.timedelta(hours=8), "UTC+8")


def when(value: dt.datetime | str | None, seconds: bool = False) -> str:
    """A stored time (UTC; SQLite hands it back without a zone; ISO text from JSON) as Beijing time,
    ``2023-03-01 09:30``.
    """
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def wan(value: Decimal | str | int | None) -> str:
    """An amount in 元 as 万元, exact: 2 to 6 decimals (``800000`` → ``80.00``, ``123456.78`` → ``12.345678``).

    >>> wan(Decimal("800000.00")), wan("123456.78"), wan("12345678901.5"), wan(None)
    ('80.00', '12.345678', '1,234,567.89015', '—')
    """
    if value is None or value == "":
        return DASH
    text = f"{Decimal(str(value)).scaleb(-4):,.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def money(value: Decimal | str | int | None) -> str:
    """``Decimal('1234567.5')`` (or its text) → ``1,234,567.50`` (exact; ``—`` for none)."""
    if value is None or value == "":
        return DASH
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):,.2f}"


def number(value: float | int | Decimal | None, digits: int = 2) -> str:
    """A figure with thousands separators and ``digits`` places (``—`` for none)."""
    if value is None or (isinstance(value, float) and value != value):
        return DASH
    return f"{value:,.{digits}f}"


def percent(value: float | Decimal | None, digits: int = 2) -> str:
    """A ratio as a percentage, ``0.02395`` → ``2.40%``."""
    if value is None or (isinstance(value, float) and value != value):
        return DASH
    return f"{float(value):.{digits}%}"


@functools.cache
def _towns() -> dict[str, tuple[str, str]]:
    return {u.code: (u.name_zh, u.name_en) for u in reference_data.towns()}


def town_name(code: str | None, lang: str = "zh") -> str:
    """The town's name in ``lang`` (the code itself when unknown)."""
    names = _towns().get(code or "")
    return (names[0] if lang == "zh" else names[1]) if names else (code or DASH)


def towns(lang: str = "zh") -> list[tuple[str, str]]:
    """(code, name) of the 19 镇(街道) and 2 zones, in the reference order."""
    return [(u.code, u.name_zh if lang == "zh" else u.name_en) for u in reference_data.towns()]


def divisions(lang: str = "zh") -> list[tuple[str, str]]:
    """(code, name) of the manufacturing divisions C13–C43."""
    return [
        (i.code, f"{i.code} {i.name_zh if lang == 'zh' else i.name_en}")
        for i in reference_data.industries()
        if i.level == "division"
    ]


@functools.cache
def _industry(code: str, lang: str) -> str:
    names = reference_data.industry_name(code) or reference_data.industry_name(code[:3])
    return f"{code} {names[0 if lang == 'zh' else 1]}" if names else code


def industry_label(code: str | None, lang: str = "zh") -> str:
    """``C3872`` → ``C3872 照明器具制造`` (or the division's name when the class is not listed)."""
    return _industry(code, lang) if code else DASH


def industry_name(code: str | None) -> str | None:
    """The Chinese name of an industry code (its division's when the class is not listed)."""
    if not code:
        return None
    names = reference_data.industry_name(code) or reference_data.industry_name(code[:3])
    return names[0] if names else None


def indicator(key: str, lang: str = "zh") -> str:
    """The indicator's name from the catalogue."""
    return t(f"enterprises.ind.{key}", lang)


def unit(key: str, lang: str = "zh") -> str:
    """The indicator's unit (``万元/亩``; R&D intensity is a ratio shown as %)."""
    u = ind.UNITS.get(key, "")
    if key == "rd_intensity":
        return "%"
    return u if lang == "zh" else ind.UNITS_EN.get(u, u)


def indicator_value(key: str, value: float | None) -> str:
    """An indicator as shown: R&D intensity as a percentage, the others with 2 (per kWh: 4) places."""
    if key == "rd_intensity":
        return percent(value)
    return number(value, 4 if key == "tax_per_kwh" else 2)


def adjustment(row: dict[str, Any], lang: str = "zh") -> str:
    """Why the final class differs from the ranking: 一票否决 or the 第（八）项 override (empty otherwise)."""
    if row.get("vetoed"):
        return t("enterprises.adjust.veto", lang)
    override = row.get("mujun_class_override") or "none"
    return t(f"enterprises.adjust.{override}", lang) if override != "none" else ""


def target_word(key: str, stored: dict[str, Any], lang: str = "zh") -> str:
    """The boundary word a stored county figure was judged by (超过 / 达到; ``more than`` / ``at least``)."""
    term = stored.get("term") or loader.parameters()[f"targets.{key}"].term
    return term if lang == "zh" else SYMBOL[boundary(term).op]


def state_name(workflow: str, state: str | None, lang: str = "zh") -> str:
    """The name of a workflow state (``registers/workflows/<workflow>.yaml``), e.g. 已批准 / approved."""
    return workflows.load(workflow).state(state or "").name(lang)


def group_key(above_scale: bool | None) -> str:
    """The catalogue key of 规上 / 规下."""
    return "enterprises.above_scale" if above_scale else "enterprises.below_scale"


FIGURES = SimpleNamespace(
    money=money,
    number=number,
    percent=percent,
    town=town_name,
    industry=industry_label,
    indicator=indicator,
    unit=unit,
    value=indicator_value,
    adjustment=adjustment,
    group=group_key,
    target_word=target_word,
    when=when,
    dash=DASH,
)


# --- where a problem is, as a person reads it (the error box) -----------------------------------------------------

_WHERE_PREFIXES = ("query", "body", "path", "form", "header", "cookie")
_JSON_PLACE = re.compile(r"line (\d+), (column|byte) (\d+)")


@functools.cache
def _variable_labels() -> dict[tuple[str, str], tuple[str, str]]:
    return {(v.entity, v.name): (v.zh, v.en) for v in loader.variables()}


@functools.cache
def _field_labels() -> dict[str, tuple[str, str]]:
    """The fields the workflows' moves carry (a note, a payment reference…), by key."""
    out: dict[str, tuple[str, str]] = {}
    for wf in workflows.load_all():
        for key, f in wf.fields.items():
            out.setdefault(key, (f.zh, f.en))
    return out


def _field_label(key: str, lang: str) -> str | None:
    """A form field or known key: the catalogue's ``where.field.*``, a workflow's field, a contract variable."""
    if f"where.field.{key}" in catalogue():
        return t(f"where.field.{key}", lang)
    if key in _field_labels():
        return _field_labels()[key][0 if lang == "zh" else 1]
    for entity in ("projects", "enterprises", *(k for k in ENTITY_KINDS if k not in ("projects", "enterprises"))):
        names = _variable_labels().get((entity, key))
        if names:
            return names[0 if lang == "zh" else 1]
    return None


def _contract_label(parts: list[str], lang: str) -> str | None:
    """``projects.P1.total_investment[2023]`` (as parts, the year split off) → 项目 P1 · 项目投资（2023 年）."""
    kind, rest = parts[0], parts[1:]
    if kind not in ENTITY_KINDS or not rest:
        return None
    year = rest.pop() if len(rest) > 1 and rest[-1].isdigit() and len(rest[-1]) == 4 else None
    names = _variable_labels().get((kind, rest[-1])) if len(rest) > 1 else None
    entity_id = ".".join(rest[:-1] if names else rest)
    text = f"{t(f'where.entity.{kind}', lang)} {entity_id}"
    if names:
        text += f" · {names[0 if lang == 'zh' else 1]}"
    if year:
        text += f"（{year} 年）" if lang == "zh" else f" ({year})"
    return text


def where_label(where: str | None, lang: str = "zh") -> str:
    """Where a problem is, as a person reads it: a contract path as the entity and the variable's label, a form field
    or request parameter by its label, a JSON position in words; a spreadsheet cell (``企业数据!C12 (年度)``), a file
    name or anything else unknown stays as it is.

    >>> where_label("projects.P1.total_investment"), where_label("enterprises.E1.tax_paid[2023]", "en")
    ('项目 P1 · 项目投资', 'enterprise E1 · Tax paid (2023)')
    >>> where_label("credit_code"), where_label("query.date_from"), where_label("inputs.equipment_investment")
    ('统一社会信用代码', '起始日期', '设备（装备）投资额')
    >>> where_label("企业数据!C12 (年度)"), where_label("line 3, column 7"), where_label("$", "en")
    ('企业数据!C12 (年度)', '第 3 行第 7 列', 'the whole request')
    """
    text = (where or "").strip()
    if not text or "!" in text or text.startswith("第"):
        return text
    if text in ("$", "body"):
        return t("where.request", lang)
    place = _JSON_PLACE.fullmatch(text)
    if place:
        line, unit, n = place.groups()
        return t(f"where.json_{unit}", lang, line=line, n=n)
    year = None
    bracket = re.fullmatch(r"(.+)\[(\d{4})\]", text)
    if bracket:
        text, year = bracket.groups()
    parts = text.split(".")
    if parts[0] in _WHERE_PREFIXES and len(parts) > 1:
        parts = parts[1:]
    if parts[0] == "inputs" and len(parts) == 2:
        parts = parts[1:]
    contract = _contract_label(parts + ([year] if year else []), lang)
    if contract:
        return contract
    if len(parts) == 1:
        label = _field_label(parts[0], lang)
        if label:
            return label + ((f"（{year} 年）" if lang == "zh" else f" ({year})") if year else "")
    return where or ""


UNIT_NAMES_EN = {
    "元": "yuan",
    "万元": "10k yuan",
    "亩": "mu",
    "万元/亩": "10k yuan/mu",
    "元/亩": "yuan/mu",
    "元/m²": "yuan/m²",
    "元/kWh": "yuan/kWh",
    "元/千瓦时": "yuan/kWh",
    "万元/人": "10k yuan/person",
    "万元/吨标准煤": "10k yuan/tce",
    "万元/吨": "10k yuan/t",
    "t/万元": "t/10k yuan",
    "分": "points",
    "位": "places",
    "宗": "parcels",
    "幢": "buildings",
    "年": "years",
    "等": "grade",
    "ratio": "ratio",
}
"""The English of the units the policy's parameters and variables are given in."""


def unit_name(unit: str | None, lang: str = "zh") -> str:
    """A unit as written in ``lang``: ``元`` → yuan, ``亩`` → mu, ``万元/亩`` → 10k yuan/mu (``ratio`` → 比例).

    >>> unit_name("万元/亩", "en"), unit_name("元/m²", "en"), unit_name("ratio"), unit_name("亩")
    ('10k yuan/mu', 'yuan/m²', '比例', '亩')
    """
    if not unit:
        return ""
    if lang == "zh":
        return "比例" if unit == "ratio" else unit
    return UNIT_NAMES_EN.get(unit, unit)


@functools.cache
def _messages() -> frozenset[str]:
    return frozenset(catalogue())


@functools.cache
def _parameters() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    return {p.path: (p.description_zh, p.description_en, tuple(p.choices)) for p in loader.parameters()}


_PARAMETER_PATH = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)(\*?)(?: = ([a-z_]+))?")


def parameter_names(text: str | None, lang: str = "zh") -> str:
    """Stored explanation text with each parameter path read as its name, and a choice value as its label.

    The evaluation and the register proposals cite the parameters they used by path
    (``mujun.benchmark_mode = aggregate``); people read “基准值口径” = 当年参评企业合计之比. A path ending in
    ``*`` (a family) reads as the name of its first member. Text that is not a parameter path is left as it is.

    >>> parameter_names("（参数 mujun.below_scale_min_land_mu，假设）")
    '（参数 “参评规下企业的最小实际用地面积”，假设）'
    >>> parameter_names("(mujun.benchmark_mode = aggregate, assumption)", "en")
    "(parameter “How benchmarks are set” = the year's aggregate of the evaluated firms, assumption)"
    >>> parameter_names("参见 example.com 与 2.10")
    '参见 example.com 与 2.10'
    """
    if not text:
        return text or ""
    params = _parameters()

    def name(m: re.Match[str]) -> str:
        path, family, value = m.group(1), m.group(2), m.group(3)
        found = params.get(path) or (
            next((v for k, v in params.items() if k.startswith(path)), None) if family else None
        )
        if found is None:
            return m.group(0)
        zh, en, choices = found
        label = f"“{zh if lang == 'zh' else en}”"
        out = label if lang == "zh" else f"parameter {label}"
        if value is not None:
            key = f"policy.value.{value}"
            out += f" = {t(key, lang) if value in choices and key in _messages() else value}"
        return out

    return _PARAMETER_PATH.sub(name, text)
