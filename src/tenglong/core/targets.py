"""The A.2 targets, and the one comparison of a figure against its target.

附件 二、主要目标 sets county figures for the end of 2023 ("超过20.3万元", "达2.3%"…).
Each target is a parameter (``targets.<key>`` in ``policy/parameters/targets.yaml``)
with its boundary word (``term``); whether a figure meets it is decided here and
nowhere else, exactly (``Fraction``), by the word's meaning under
《民法典》第一千二百五十九条: "超过 20.3" is not met by 20.3 itself, "达到 2.3%" is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .boundary import SYMBOL, Boundary, boundary
from .parameters import ParameterSet

__all__ = ["COUNTY_KEYS", "RATIOS", "Target", "figure", "meets", "targets_at"]

RATIOS: dict[str, tuple[str, str, int]] = {
    "tax_per_mu": ("tax_paid", "land_area_mu", 10_000),
    "value_added_per_mu": ("value_added", "land_area_mu", 10_000),
    "labor_productivity": ("value_added", "employees", 10_000),
    "rd_intensity": ("rd_expense", "revenue", 1),
}
"""How each A.2 figure aggregates 规上 firms: Σ numerator / (Σ denominator × scale), in the target's unit.

Money sums are in 元 and land in 亩, so ``× 10_000`` turns 元/亩 into 万元/亩 and 元/人 into 万元/人."""

COUNTY_KEYS = tuple(RATIOS)
"""The A.2 targets computed from the evaluation's 规上 aggregates."""

_OPS = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


@dataclass(frozen=True)
class Target:
    """One target as in force on a day: its number, unit, boundary word and clause."""

    key: str
    value: Decimal
    term: str
    unit: str
    clause: str
    description_zh: str = ""
    description_en: str = ""

    @property
    def boundary(self) -> Boundary:
        """How the term compares (``超过`` → ``>``)."""
        return boundary(self.term)

    def met_by(self, figure: Fraction | Decimal | int | None) -> bool:
        """Whether ``figure`` meets the target (``None``: no figure, not met)."""
        return meets(figure, self.value, self.term)

    def label(self, lang: str = "zh") -> str:
        """The target as read, e.g. ``超过 20.3`` / ``> 20.3``."""
        return f"{self.term} {self.value}" if lang == "zh" else f"{SYMBOL[self.boundary.op]} {self.value}"


def figure(key: str, sums: dict[str, Fraction | Decimal | int | None]) -> Fraction | None:
    """The exact aggregate figure ``key`` from column sums (元, 亩, 人); ``None`` when its denominator is not positive.

    >>> figure("tax_per_mu", {"tax_paid": Decimal("2030000"), "land_area_mu": 10})
    Fraction(203, 10)
    >>> figure("rd_intensity", {"rd_expense": 0, "revenue": 0}) is None
    True
    """
    num, den, scale = RATIOS[key]
    d = Fraction(sums.get(den) or 0) * scale
    return Fraction(sums.get(num) or 0) / d if d > 0 else None


def meets(figure: Fraction | Decimal | int | None, target: Decimal | Fraction | int, term: str) -> bool:
    """Whether ``figure`` meets ``target`` under the boundary word ``term``, compared exactly.

    >>> meets(Decimal("20.3"), Decimal("20.3"), "超过"), meets(Decimal("20.31"), Decimal("20.3"), "超过")
    (False, True)
    >>> meets(Fraction(23, 1000), Decimal("0.023"), "达到")
    True
    >>> meets(None, Decimal("1"), "以上")
    False
    """
    if figure is None:
        return False
    return _OPS[boundary(term).op](Fraction(figure), Fraction(target))


def targets_at(params: ParameterSet, day: dt.date, keys: tuple[str, ...] = COUNTY_KEYS) -> dict[str, Target]:
    """The targets ``keys`` in force on ``day`` (a target that has ended is left out).

    Raises:
        KeyError: for a key with no ``targets.<key>`` parameter.
    """
    out = {}
    for key in keys:
        p = params[f"targets.{key}"]
        value = p.at(day)
        if value is None:
            continue
        out[key] = Target(
            key, Decimal(str(value)), p.term, p.unit, p.clause or "A.2", p.description_zh, p.description_en
        )
    return out
