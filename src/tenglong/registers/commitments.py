"""Whether an enterprise kept what it committed to (A.4.2 企业承诺事项闭环监管): pure checks of one commitment.

A commitment (``policy/registers/commitment.yaml``) records the 标准地 indicators, the investment and three dates.
Each is checked against what is known — the project's life cycle (``projects.lifecycle``: the stage dates and
the acceptance's actual investment and plot ratio) and the enterprise-year data — and each check is kept,
broken, or not yet known. The services bring the data; the comparison of a figure with what was committed is
``core/targets.meets``, by the boundary word of each commitment.

Readings (``docs/readings.md``, commitments):

* **Dates.** A committed date is the last day the stage may be reached (不迟于, the day included): kept when the
  life cycle records the stage on or before it; broken when it records it later, or records nothing and the
  date has passed (the day after it, as every deadline, ``rectification.is_overdue``); otherwise not yet known.
* **Investment, intensity, plot ratio** are 不少于 (at least, included) and are read from the acceptance record
  (达产/验收: actual investment in 元, actual plot ratio); the intensity is the actual investment ÷ the
  commitment's land area, in 万元/亩. Without an acceptance they are not yet known — the late full-production
  date is what breaks them in time.
* **亩均税收 and energy per value added** at full production are read from the enterprise-year data of the first
  whole year after the committed full-production date (``full_production_by.year + 1``): 亩均税收 不少于 the
  commitment (tax paid ÷ land, 万元/亩), energy per value added 不超过 it (tce ÷ value added, tce/万元). The
  enterprise's own figures are used: a firm's data are not kept per project.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..core.targets import meets
from .rectification import is_overdue

__all__ = ["CHECKS", "CommitmentCheck", "check_commitment", "data_year"]


@dataclass(frozen=True)
class _Spec:
    zh: str
    en: str
    term: str  # the boundary word of the commitment (不少于, 不超过) or 不迟于 for a date
    unit: str
    unit_en: str
    source: str  # lifecycle | acceptance | data


CHECKS: dict[str, _Spec] = {
    "start_by": _Spec("开工", "start", "不迟于", "", "", "lifecycle"),
    "complete_by": _Spec("竣工", "completion", "不迟于", "", "", "lifecycle"),
    "full_production_by": _Spec("达产（投产）", "full production", "不迟于", "", "", "lifecycle"),
    "investment": _Spec("实际投资总额", "actual investment", "不少于", "元", "yuan", "acceptance"),
    "investment_intensity": _Spec("投资强度", "investment intensity", "不少于", "万元/亩", "10k yuan/mu", "acceptance"),
    "plot_ratio": _Spec("容积率", "plot ratio", "不少于", "", "", "acceptance"),
    "tax_per_mu": _Spec("亩均税收", "tax per mu", "不少于", "万元/亩", "10k yuan/mu", "data"),
    "energy_per_value_added": _Spec(
        "单位增加值能耗", "energy per unit of value added", "不超过", "吨标准煤/万元", "tce/10k yuan", "data"
    ),
}
"""What a commitment may promise, in the order checked: how it is named, its boundary word and unit, and where
the actual figure comes from."""
STAGE_OF = {"start_by": "started_on", "complete_by": "completed_on", "full_production_by": "producing_on"}
"""The life-cycle date that keeps each committed date (达产: the 投产 date; the acceptance date also counts)."""


@dataclass(frozen=True)
class CommitmentCheck:
    """One committed item against what is known: the actual figure (None: not known) and the verdict."""

    key: str
    committed: Decimal | dt.date
    actual: Fraction | dt.date | None
    met: bool | None
    year: int | None = None  # the data year, for a figure from the enterprise-year data

    @property
    def spec(self) -> _Spec:
        """How the item is named and compared."""
        return CHECKS[self.key]

    def describe(self, lang: str = "zh") -> str:
        """One line, e.g. ``亩均税收 18.2000 万元/亩（承诺不少于 20 万元/亩，2024 年度数据，未履行）``."""
        s = self.spec
        if isinstance(self.committed, dt.date):
            got = "—" if self.actual is None else str(self.actual)
            committed = self.committed.isoformat()
        else:
            got = "—" if self.actual is None else f"{_decimal(self.actual):.4f}".rstrip("0").rstrip(".")
            committed = str(self.committed)
        unit = s.unit if lang == "zh" else s.unit_en
        got, committed = (f"{got} {unit}".strip(), f"{committed} {unit}".strip()) if got != "—" else (got, committed)
        if lang == "zh":
            verdict = {True: "已履行", False: "未履行", None: "尚无数据"}[self.met]
            where = f"，{self.year} 年度数据" if self.year else ""
            return f"{s.zh} {got}（承诺{s.term} {committed}{where}，{verdict}）"
        word = {"不迟于": "by", "不少于": "at least", "不超过": "at most"}[s.term]
        verdict = {True: "kept", False: "not kept", None: "no data yet"}[self.met]
        where = f", {self.year} data" if self.year else ""
        return f"{s.en} {got} (committed {word} {committed}{where}, {verdict})"


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _fraction(value: Any) -> Fraction | None:
    if value in (None, "") or isinstance(value, bool):
        return None
    return Fraction(Decimal(str(value))) if not isinstance(value, (int, Fraction)) else Fraction(value)


def data_year(fields: Mapping[str, Any]) -> int | None:
    """The data year of the figures at full production: the year after the committed full-production date."""
    day = _date(fields.get("full_production_by"))
    return day.year + 1 if day else None


def _date_check(key: str, by: dt.date, lifecycle: Mapping[str, Any], today: dt.date) -> CommitmentCheck:
    reached = _date(lifecycle.get(STAGE_OF[key]))
    if key == "full_production_by" and reached is None:
        reached = _date(lifecycle.get("accepted_on"))
    if reached is not None:
        return CommitmentCheck(key, by, reached, reached <= by)
    return CommitmentCheck(key, by, None, False if is_overdue(by, today) else None)


def _actual(key: str, fields: Mapping[str, Any], lifecycle: Mapping[str, Any], year: Mapping[str, Any]) -> Any:
    if key == "investment":
        return _fraction(lifecycle.get("actual_investment"))
    if key == "investment_intensity":
        invested, land = _fraction(lifecycle.get("actual_investment")), _fraction(fields.get("land_area_mu"))
        return invested / land / 10_000 if invested is not None and land else None
    if key == "plot_ratio":
        return _fraction(lifecycle.get("actual_plot_ratio"))
    if key == "tax_per_mu":
        tax, land = _fraction(year.get("tax_paid")), _fraction(year.get("land_area_mu"))
        return tax / land / 10_000 if tax is not None and land else None
    energy, value_added = _fraction(year.get("energy_tce")), _fraction(year.get("value_added"))
    return energy / (value_added / 10_000) if energy is not None and value_added else None


def check_commitment(
    fields: Mapping[str, Any],
    lifecycle: Mapping[str, Any] | None,
    year: Mapping[str, Any] | None,
    today: dt.date,
) -> tuple[bool | None, list[CommitmentCheck]]:
    """The commitment ``fields`` against the project's ``lifecycle`` and the enterprise-year ``year`` (of
    :func:`data_year`, None without data) on ``today``: the verdict and one check per committed item.

    The verdict is ``False`` as soon as one item is broken, ``True`` when every item is known and kept, and
    ``None`` otherwise.

    >>> f = {"start_by": "2023-03-31", "investment": "10000000.00"}
    >>> check_commitment(f, {"started_on": "2023-03-31"}, None, dt.date(2023, 4, 1))[0] is None
    True
    >>> check_commitment(f, {}, None, dt.date(2023, 4, 1))[0]
    False
    >>> ok = {"started_on": "2023-03-01", "actual_investment": "10000000.00"}
    >>> check_commitment(f, ok, None, dt.date(2023, 4, 1))[0]
    True
    """
    lifecycle, year = lifecycle or {}, year or {}
    checks = []
    for key, spec in CHECKS.items():
        value = fields.get(key)
        if value in (None, ""):
            continue
        if spec.source == "lifecycle":
            checks.append(_date_check(key, _date(value), lifecycle, today))  # type: ignore[arg-type]
            continue
        committed, actual = Decimal(str(value)), _actual(key, fields, lifecycle, year)
        met = None if actual is None else meets(actual, committed, spec.term)
        checks.append(
            CommitmentCheck(key, committed, actual, met, int(year["year"]) if spec.source == "data" and year else None)
        )
    verdicts = [c.met for c in checks]
    if False in verdicts:
        return False, checks
    return (True if checks and all(v is True for v in verdicts) else None), checks
