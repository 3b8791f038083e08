"""The campaign's targets as data (附件 二、主要目标 and the yearly numbers of 三、重点任务), and how progress
meets them.

``policy/campaign_targets.yaml`` holds one entry per target: its clause, names, unit, boundary word
(``term``), direction, value, baseline year (for a change), deadline or yearly period, the policy's
words, where its figure comes from (``computed`` by a named computation, or ``manual``) and whether a
town breakdown makes sense. The four county ratios of A.2 name their parameter (``targets.<key>``) and
take value, term, unit and words from it, so no number is written twice.

:func:`parse` checks a file completely and lists every mistake; :func:`achieved` turns a figure into the
number compared with the target (a change against its baseline, an average yearly growth), and
:func:`met` decides, exactly, through :func:`core.targets.meets` — the one comparison of a figure with
its target.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any

from . import loader
from .boundary import TERMS
from .clauses import Policy
from .parameters import ParameterSet
from .targets import meets

__all__ = [
    "COMPUTATIONS",
    "CampaignTarget",
    "Catalogue",
    "achieved",
    "compared_with",
    "load",
    "met",
    "parse",
    "read_value",
]

FILE = "campaign_targets.yaml"
KEY = re.compile(r"[a-z][a-z0-9_]{1,47}")
MEASURES = ("ratio", "count", "change", "annual_growth")
"""``ratio``: a level that does not add up over towns; ``count``: a number that does (家, 亩…); ``change``: the
relative change from the baseline year; ``annual_growth``: the average yearly growth from the baseline year."""
DIRECTIONS = ("increase", "reduction")
PERIODS = ("campaign", "yearly")
SOURCES = ("computed", "manual")
COMPUTATIONS = (
    "ratio",
    "low_tax_rectified",
    "energy_intensity",
    "manufacturing_investment",
    "firms_rectified",
    "major_projects",
    "provincial_key_rd",
    "billion_projects",
)
"""The named computations ``services/reports/progress.py`` implements (one function each)."""
_FROM_PARAMETER = ("value", "term", "unit", "quote")
_PROJECT_COUNTS = ("major_projects", "billion_projects")
"""Computations that count projects from a least total investment (``min_investment``, 元, inclusive)."""
_FRACTION = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class CampaignTarget:
    """One target, checked and built from its entry."""

    key: str
    clause: str
    zh: str
    en: str
    unit: str
    term: str
    direction: str
    measure: str
    value: Fraction
    value_text: str
    period: str
    deadline: dt.date | None
    quote: str
    source: str
    computation: str | None
    by_town: bool
    baseline_year: int | None = None
    parameter: str | None = None
    assumption: bool = False
    note_zh: str = ""
    note_en: str = ""
    min_investment: Fraction | None = None

    @property
    def additive(self) -> bool:
        """Whether town figures add up to the county's (a count), so a town's share of it makes sense."""
        return self.measure == "count"

    def name(self, lang: str = "zh") -> str:
        """The target's name in ``lang``."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Catalogue:
    """Every target, in the order of the file, with the campaign's start and deadline."""

    start: dt.date
    deadline: dt.date
    targets: tuple[CampaignTarget, ...]

    def __getitem__(self, key: str) -> CampaignTarget:
        for t in self.targets:
            if t.key == key:
                return t
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(t.key == key for t in self.targets)

    def __iter__(self):
        return iter(self.targets)


def read_value(raw: Any) -> Fraction | None:
    """An exact number from a decimal (``20.3``, ``"0.104"``) or a fraction text (``"1/3"``); None when it is neither.

    >>> read_value("1/3"), read_value(Decimal("20.3")), read_value("20.3万"), read_value(True)
    (Fraction(1, 3), Fraction(203, 10), None, None)
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        m = _FRACTION.fullmatch(raw)
        if m:
            den = int(m.group(2))
            return Fraction(int(m.group(1)), den) if den else None
        try:
            d = Decimal(raw.strip().replace(",", ""))
        except InvalidOperation:
            return None
        return Fraction(d) if d.is_finite() else None
    if isinstance(raw, int | Decimal):
        return Fraction(raw) if not isinstance(raw, Decimal) or raw.is_finite() else None
    return None


def achieved(
    target: CampaignTarget, figure: Fraction | None, baseline: Fraction | None = None, year: int | None = None
) -> Fraction | None:
    """The number compared with the target: the figure itself, its change from the baseline, or the growth factor.

    ``change``: (figure − baseline) / baseline, or (baseline − figure) / baseline for a reduction.
    ``annual_growth``: figure / baseline, compared with (1 + value) ** years (see :func:`met`).
    None when a figure or a positive baseline is missing, or ``year`` (when given) is not after the baseline year.

    >>> t = load()["energy_intensity"]
    >>> achieved(t, Fraction(896, 1000), Fraction(1))
    Fraction(13, 125)
    """
    if figure is None:
        return None
    if target.measure in ("ratio", "count"):
        return figure
    if baseline is None or baseline <= 0:
        return None
    if year is not None and target.baseline_year is not None and year <= target.baseline_year:
        return None
    if target.measure == "change":
        return (baseline - figure) / baseline if target.direction == "reduction" else (figure - baseline) / baseline
    if year is None or target.baseline_year is None or year <= target.baseline_year:
        return None
    return figure / baseline


def met(target: CampaignTarget, value: Fraction | None, year: int | None = None, aim: Fraction | None = None) -> bool:
    """Whether ``value`` (from :func:`achieved`) meets the target — or ``aim`` (a town's share) in its place.

    A reduction of exactly 10.4% meets "下降10.4%以上"; a figure equal to 20.3 does not meet "超过20.3".

    >>> t = load()["energy_intensity"]
    >>> met(t, achieved(t, Fraction(896), Fraction(1000))), met(t, achieved(t, Fraction(897), Fraction(1000)))
    (True, False)
    >>> g = load()["manufacturing_investment"]
    >>> met(g, achieved(g, Fraction(121), Fraction(100), 2023), 2023), met(g, Fraction(120, 100), 2023)
    (True, False)
    """
    number = compared_with(target, year, aim)
    return meets(value, number, target.term) if number is not None else False


def compared_with(target: CampaignTarget, year: int | None = None, aim: Fraction | None = None) -> Fraction | None:
    """The number :func:`achieved` is compared with: the target's value (or ``aim``), or for an average yearly growth
    the factor (1 + value) ** years since the baseline (None in or before the baseline year).

    >>> compared_with(load()["manufacturing_investment"], 2023)
    Fraction(121, 100)
    """
    number = target.value if aim is None else aim
    if target.measure == "annual_growth":
        if year is None or target.baseline_year is None or year <= target.baseline_year:
            return None
        number = (1 + number) ** (year - target.baseline_year)
    return number


def growth_rate(factor: Fraction | None, years: int) -> float | None:
    """The average yearly growth of a growth factor over ``years`` (shown only; :func:`met` compares exactly)."""
    if factor is None or years <= 0 or factor <= 0:
        return None
    return float(factor) ** (1 / years) - 1


class _Errors(list):
    def at(self, where: str, what: str) -> None:
        self.append(f"{where}: {what}")


def _text(entry: Mapping[str, Any], key: str, where: str, errors: _Errors) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.at(f"{where}.{key}", "missing (a text)")
        return ""
    return value.strip()


def _one_of(entry: Mapping[str, Any], key: str, choices: tuple[str, ...], where: str, errors: _Errors) -> str:
    value = str(entry.get(key, ""))
    if value not in choices:
        errors.at(f"{where}.{key}", f"{value!r} is not one of {', '.join(choices)}")
    return value


def _entry(
    entry: Any, i: int, params: ParameterSet, policy: Policy, start: Any, deadline: Any, errors: _Errors
) -> CampaignTarget | None:
    where = f"targets[{i}]"
    if not isinstance(entry, Mapping):
        errors.at(where, "must be a mapping")
        return None
    key = str(entry.get("key", ""))
    if not KEY.fullmatch(key):
        errors.at(f"{where}.key", f"{key!r} must be lower-case letters, digits and _ (2 to 48, a letter first)")
    where = f"targets[{i}] ({key})"
    clause = str(entry.get("clause", ""))
    if clause not in policy:
        errors.at(f"{where}.clause", f"{clause!r} is not a clause of the policy")
    spec = dict(entry)
    parameter = entry.get("parameter")
    if parameter is not None:
        for k in _FROM_PARAMETER:
            if k in entry:
                errors.at(f"{where}.{k}", f"comes from the parameter {parameter}; do not write it again")
        try:
            p = params[str(parameter)]
        except KeyError:
            errors.at(f"{where}.parameter", f"{parameter!r} is not a parameter")
            p = None
        if p is not None:
            value = p.at(deadline) if isinstance(deadline, dt.date) else None
            spec |= {"value": value, "term": p.term, "unit": p.unit, "quote": p.quote}
    zh, en, unit = (
        _text(entry, "zh", where, errors),
        _text(entry, "en", where, errors),
        _text(spec, "unit", where, errors),
    )
    term = str(spec.get("term", ""))
    if term not in TERMS:
        errors.at(f"{where}.term", f"{term!r} is not a boundary word ({', '.join(TERMS)})")
    direction = _one_of(entry, "direction", DIRECTIONS, where, errors)
    measure = _one_of(entry, "measure", MEASURES, where, errors)
    period = _one_of(entry, "period", PERIODS, where, errors)
    source = _one_of(entry, "source", SOURCES, where, errors)
    value = read_value(spec.get("value"))
    if value is None or value < 0:
        errors.at(f"{where}.value", f"{spec.get('value')!r} is not a number ≥ 0 (a decimal, or a fraction like 1/3)")
    baseline = entry.get("baseline_year")
    if measure in ("change", "annual_growth"):
        if not isinstance(baseline, int) or isinstance(baseline, bool):
            errors.at(f"{where}.baseline_year", f"{baseline!r}: a change target needs its baseline year (e.g. 2021)")
    elif baseline is not None:
        errors.at(f"{where}.baseline_year", "only a change target (measure change or annual_growth) has one")
    if measure == "annual_growth" and direction != "increase":
        errors.at(f"{where}.direction", "an annual_growth target is an increase")
    quote = _text(spec, "quote", where, errors)
    if quote and clause in policy:
        try:
            policy[clause].quote(quote)
        except KeyError:
            errors.at(f"{where}.quote", f"{quote!r} is not verbatim text of clause {clause}")
    computation = entry.get("computation")
    if source == "computed" and computation not in COMPUTATIONS:
        errors.at(f"{where}.computation", f"{computation!r} is not one of {', '.join(COMPUTATIONS)}")
    if source == "manual" and computation is not None:
        errors.at(f"{where}.computation", "a manual target has no computation")
    least = read_value(entry.get("min_investment")) if "min_investment" in entry else None
    if (computation in _PROJECT_COUNTS) != ("min_investment" in entry) or ("min_investment" in entry and not least):
        errors.at(f"{where}.min_investment", f"a positive amount in 元 for (only) {', '.join(_PROJECT_COUNTS)}")
    by_town = entry.get("by_town")
    if not isinstance(by_town, bool):
        errors.at(f"{where}.by_town", f"{by_town!r} must be true or false")
    assumption = entry.get("assumption", False)
    if assumption is True:
        for k in ("note_zh", "note_en"):
            _text(entry, k, where, errors)
    elif assumption is not False:
        errors.at(f"{where}.assumption", f"{assumption!r} must be true or false")
    known = {
        "key", "clause", "zh", "en", "unit", "term", "direction", "measure", "value", "period", "quote", "source",
        "computation", "by_town", "baseline_year", "parameter", "assumption", "note_zh", "note_en", "min_investment",
    }  # fmt: skip
    for k in entry:
        if k not in known:
            errors.at(f"{where}.{k}", "unknown key")
    return CampaignTarget(
        key=key,
        clause=clause,
        zh=zh,
        en=en,
        unit=unit,
        term=term,
        direction=direction,
        measure=measure,
        value=value if value is not None else Fraction(0),
        value_text=str(spec.get("value")),
        period=period,
        deadline=deadline if period == "campaign" and isinstance(deadline, dt.date) else None,
        quote=quote,
        source=source,
        computation=str(computation) if source == "computed" and computation is not None else None,
        by_town=by_town is True,
        baseline_year=baseline if isinstance(baseline, int) else None,
        parameter=str(parameter) if parameter is not None else None,
        assumption=assumption is True,
        note_zh=str(entry.get("note_zh", "")),
        note_en=str(entry.get("note_en", "")),
        min_investment=least,
    )


def parse(data: Any, source: str, params: ParameterSet | None = None, policy: Policy | None = None) -> Catalogue:
    """Check a targets file's content completely and build the catalogue.

    Raises:
        ValueError: ``<source>: <where>: <what is wrong>; …`` listing every mistake.
    """
    params = params if params is not None else loader.parameters()
    policy = policy if policy is not None else loader.policy()
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: the file must hold a mapping")
    errors = _Errors()
    start, deadline = data.get("start"), data.get("deadline")
    for k, v in (("start", start), ("deadline", deadline)):
        if not isinstance(v, dt.date):
            errors.at(k, f"{v!r} is not a date (YYYY-MM-DD)")
    raw = data.get("targets")
    if not isinstance(raw, list) or not raw:
        errors.at("targets", "a list of targets is needed")
        raw = []
    built = [t for i, e in enumerate(raw) if (t := _entry(e, i, params, policy, start, deadline, errors)) is not None]
    keys = [t.key for t in built]
    for k in sorted({k for k in keys if keys.count(k) > 1}):
        errors.at("targets", f"the key {k!r} is used twice")
    if errors:
        raise ValueError(f"{source}: " + "; ".join(errors))
    return Catalogue(start, deadline, tuple(built))


@cache
def load() -> Catalogue:
    """The targets shipped in ``policy/campaign_targets.yaml``."""
    text = resources.files(loader.POLICY_PACKAGE).joinpath(FILE).read_text(encoding="utf-8")
    return parse(loader.load_yaml(text), FILE)
