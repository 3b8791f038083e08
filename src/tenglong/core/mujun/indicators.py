"""The seven 亩均 indicators (float64; a missing or zero denominator gives ``nan``).

* ``tax_per_mu`` 万元/亩, ``value_added_per_mu`` 万元/亩, ``value_added_per_energy`` 万元/tce,
  ``value_added_per_emission`` 万元/t, ``labor_productivity`` 万元/人,
  ``rd_intensity`` (R&D / revenue), ``tax_per_kwh`` 元/kWh.
"""

from __future__ import annotations

import math

import numpy as np

from .data import YearData

WAN = 10_000.0
ABOVE = (
    "tax_per_mu",
    "value_added_per_mu",
    "value_added_per_energy",
    "value_added_per_emission",
    "labor_productivity",
    "rd_intensity",
)
BELOW = ("tax_per_mu", "tax_per_kwh")
ALL = (*ABOVE, "tax_per_kwh")

# indicator → (numerator column, denominator column, scale of the numerator)
DEFINITIONS: dict[str, tuple[str, str, float]] = {
    "tax_per_mu": ("tax_paid", "land_area_mu", 1 / WAN),
    "value_added_per_mu": ("value_added", "land_area_mu", 1 / WAN),
    "value_added_per_energy": ("value_added", "energy_tce", 1 / WAN),
    "value_added_per_emission": ("value_added", "emission_equivalent_t", 1 / WAN),
    "labor_productivity": ("value_added", "employees", 1 / WAN),
    "rd_intensity": ("rd_expense", "revenue", 1.0),
    "tax_per_kwh": ("tax_paid", "electricity_kwh", 1.0),
}

UNITS = {
    "tax_per_mu": "万元/亩",
    "value_added_per_mu": "万元/亩",
    "value_added_per_energy": "万元/吨标准煤",
    "value_added_per_emission": "万元/吨",
    "labor_productivity": "万元/人",
    "rd_intensity": "",
    "tax_per_kwh": "元/千瓦时",
}
UNITS_EN = {
    "万元/亩": "10k yuan/mu",
    "万元/吨标准煤": "10k yuan/tce",
    "万元/吨": "10k yuan/t",
    "万元/人": "10k yuan/person",
    "元/千瓦时": "yuan/kWh",
    "": "ratio",
}
LABELS = {
    "tax_per_mu": ("亩均税收", "tax per mu"),
    "value_added_per_mu": ("亩均增加值", "value added per mu"),
    "value_added_per_energy": ("单位能耗增加值", "value added per tce"),
    "value_added_per_emission": ("单位排放增加值", "value added per t of emissions"),
    "labor_productivity": ("全员劳动生产率", "labour productivity"),
    "rd_intensity": ("研发经费占营业收入比重", "R&D intensity"),
    "tax_per_kwh": ("单位电耗税收", "tax per kWh"),
}


def compute(d: YearData) -> dict[str, np.ndarray]:
    """Every indicator for every firm; ``nan`` where the denominator is missing or zero."""
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, (num, den, scale) in DEFINITIONS.items():
            a, b = d[num], d[den]
            out[name] = np.where((b > 0) & np.isfinite(a), a * scale / np.where(b > 0, b, 1), np.nan)
    return out


def aggregate(d: YearData, name: str, rows: np.ndarray) -> float:
    """County aggregate of an indicator over ``rows``: Σ numerator / Σ denominator (rows with both)."""
    num, den, scale = DEFINITIONS[name]
    a, b = d[num], d[den]
    ok = rows & np.isfinite(a) & (b > 0)
    total = exact_sum(d, den, ok)
    return exact_sum(d, num, ok) * scale / total if total > 0 else float("nan")


MONEY = ("tax_paid", "value_added", "revenue", "rd_expense")


def exact_sum(d: YearData, column: str, rows: np.ndarray) -> float:
    """A county total that never depends on the order of the rows.

    Money (exact 分), land (亩×10⁴) and head counts are summed as integers;
    other quantities with ``math.fsum``, which is exactly rounded.
    """
    if column in MONEY:
        return int(d.fen(column)[rows].sum()) / 100
    if column == "land_area_mu":
        return int(d.mu4()[rows].sum()) / 10_000
    if column == "employees":
        return float(np.rint(d[column][rows]).astype(np.int64).sum())
    return math.fsum(d[column][rows])
