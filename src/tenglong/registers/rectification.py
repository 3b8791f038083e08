"""Dates and targets of a register entry's loop: its deadline, whether it is overdue, and whether a plan's
indicators are met by an enterprise-year's data. Pure functions (``registers/kinds.py`` says which moves set a
deadline; the services bring the data).

Readings (``docs/readings.md``, registers):

* **Overdue.** A deadline is the last day on which the step may still be done: an entry is overdue from the day
  *after* its deadline (``today > deadline``); on the deadline itself it is not. 《民法典》第二百零三条: 期间的最后
  一日的截止时间为二十四时.
* **N months after a day** (the 3-month start rule of A.3.15). 《民法典》第二百零一条、第二百零二条: the day itself
  is not counted, and the period ends on the day of the same number N months later; a month without that day
  ends on its last day. No public-holiday extension (第二百零三条) is made: tenglong holds no holiday calendar.
* **Targets.** A plan's target is a value to *reach* (达到, inclusive, ``core/boundary.py``): met when the
  indicator ≥ the target. Every 亩均 indicator is "higher is better".
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..core.boundary import boundary
from ..core.mujun.indicators import DEFINITIONS, LABELS, UNITS

__all__ = ["TARGET_TERM", "Check", "add_months", "check_targets", "indicator_values", "is_overdue"]

TARGET_TERM = "达到"
"""The threshold word of a plan's target: reached when the value is at least the target (inclusive)."""


def is_overdue(deadline: dt.date | None, today: dt.date) -> bool:
    """Whether a step due by ``deadline`` is late on ``today`` (never without a deadline).

    >>> d = dt.date(2023, 6, 30)
    >>> is_overdue(d, dt.date(2023, 6, 29)), is_overdue(d, d), is_overdue(d, dt.date(2023, 7, 1)), is_overdue(None, d)
    (False, False, True, False)
    """
    return deadline is not None and today > deadline


def add_months(day: dt.date, months: int) -> dt.date:
    """The last day of a period of ``months`` months that starts the day after ``day``.

    >>> add_months(dt.date(2023, 1, 15), 3), add_months(dt.date(2022, 11, 30), 3), add_months(dt.date(2023, 3, 31), 0)
    (datetime.date(2023, 4, 15), datetime.date(2023, 2, 28), datetime.date(2023, 3, 31))
    >>> add_months(dt.date(2023, 10, 31), 4)
    datetime.date(2024, 2, 29)
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _fraction(value: Any) -> Fraction | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = Fraction(value) if not isinstance(value, str) else Fraction(Decimal(value))
    except (ValueError, ArithmeticError, TypeError):
        return None
    return f


def indicator_values(row: Mapping[str, Any]) -> dict[str, Fraction | None]:
    """The 亩均 indicators of one enterprise-year (``tax_paid``, ``land_area_mu``… as stored), exactly.

    Money and land are exact decimals, so 亩均税收 and 亩均增加值 are exact; energy, emissions and electricity are
    stored as floats and are taken as the float's exact value. An indicator without its data, or with a zero
    denominator, is ``None``.

    >>> v = indicator_values({"tax_paid": Decimal("500000.00"), "land_area_mu": Decimal("100.0000")})
    >>> v["tax_per_mu"], v["value_added_per_mu"]
    (Fraction(1, 2), None)
    """
    out: dict[str, Fraction | None] = {}
    for name, (num, den, scale) in DEFINITIONS.items():
        a, b = _fraction(row.get(num)), _fraction(row.get(den))
        out[name] = None if a is None or b is None or b <= 0 else a * Fraction(scale).limit_denominator(10**6) / b
    return out


@dataclass(frozen=True)
class Check:
    """One target against the data: the indicator, its target, the value found (None: no data), and the verdict."""

    indicator: str
    target: Decimal
    value: Fraction | None

    @property
    def met(self) -> bool | None:
        """Reached (≥, 达到), not reached, or unknown without data."""
        if self.value is None:
            return None
        target = Fraction(self.target)
        op = boundary(TARGET_TERM).op  # the word decides the comparison (达到: at least, the number included)
        return {">=": self.value >= target, ">": self.value > target}[op]

    def describe(self, lang: str = "zh") -> str:
        """One line, e.g. ``亩均税收 5.2300 万元/亩（目标 5 万元/亩，达到）``."""
        zh, en = LABELS[self.indicator]
        unit = UNITS[self.indicator]
        got = "—" if self.value is None else f"{Decimal(self.value.numerator) / Decimal(self.value.denominator):.4f}"
        if lang == "zh":
            verdict = {True: "已达到", False: "未达到", None: "无数据，以证明材料为准"}[self.met]
            return f"{zh} {got} {unit}（目标 {self.target} {unit}，{verdict}）"
        verdict = {True: "met", False: "not met", None: "no data: the evidence decides"}[self.met]
        return f"{en} {got} {unit} (target {self.target} {unit}, {verdict})"


def check_targets(targets: Mapping[str, Any], values: Mapping[str, Fraction | None]) -> tuple[bool | None, list[Check]]:
    """A plan's targets against the indicator ``values``: the verdict and one check per target.

    The verdict is ``False`` as soon as the data shows one target not reached, ``True`` when the data shows every
    one reached, and ``None`` otherwise (some indicator has no data: the evidence decides).

    >>> check_targets({"tax_per_mu": "5"}, {"tax_per_mu": Fraction(5)})[0]
    True
    >>> check_targets({"tax_per_mu": "5", "rd_intensity": "0.02"}, {"tax_per_mu": Fraction(6)})[0] is None
    True
    >>> check_targets({"tax_per_mu": "5"}, {"tax_per_mu": Fraction(4999, 1000)})[0]
    False
    """
    checks = [Check(k, Decimal(str(t)), values.get(k)) for k, t in targets.items()]
    verdicts = [c.met for c in checks]
    if False in verdicts:
        return False, checks
    if checks and all(v is True for v in verdicts):
        return True, checks
    return None, checks
