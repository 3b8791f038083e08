"""How numbers, towns, industries and indicators read on the dashboard, enterprise and evaluation pages and workbooks.

Money is a ``Decimal`` and is shown exactly, with thousands separators and two
decimals; indicators are floats shown with a fixed number of places.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from ..core import loader, reference_data
from ..core.boundary import SYMBOL, boundary
from ..core.mujun import indicators as ind
from ..registers import workflows
from .i18n import t

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
