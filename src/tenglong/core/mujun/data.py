"""One data year of a county's enterprises, as numpy columns.

The services build a ``YearData`` from the imported table (natural units, money
in 元 with at most two decimals). Exact integer copies (分, 亩×10⁴) are derived
for comparisons against thresholds; scores use float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .matching import CodeKey

FLOAT_COLUMNS = (
    "land_area_mu",
    "tax_paid",
    "value_added",
    "revenue",
    "rd_expense",
    "energy_tce",
    "emission_equivalent_t",
    "employees",
    "electricity_kwh",
    "carbon_emission_t",
    "fixed_asset_investment",
)


@dataclass
class YearData:
    """The enterprises of one data year.

    Float columns use ``nan`` for missing values (e.g. no emission data).
    """

    year: int
    credit_code: np.ndarray
    name: np.ndarray
    town: np.ndarray
    industry: np.ndarray
    above_scale: np.ndarray
    in_construction_period: np.ndarray
    veto: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)
    _exact: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        """Number of enterprises."""
        return len(self.credit_code)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def fen(self, name: str) -> np.ndarray:
        """A money column in exact 分 (validated input has at most two decimals); computed once."""
        key = f"{name}#fen"
        if key not in self._exact:
            self._exact[key] = np.rint(np.nan_to_num(self.values[name]) * 100).astype(np.int64)
        return self._exact[key]

    def mu4(self) -> np.ndarray:
        """Land in exact 亩×10⁴; computed once."""
        if "land#mu4" not in self._exact:
            self._exact["land#mu4"] = np.rint(np.nan_to_num(self.values["land_area_mu"]) * 10_000).astype(np.int64)
        return self._exact["land#mu4"]

    def code_key(self) -> CodeKey:
        """The credit codes with their integer encoding, computed once per data year (see ``matching``)."""
        if "codes#key" not in self._exact:
            from .matching import CodeKey

            self._exact["codes#key"] = CodeKey.of(self.credit_code)
        return self._exact["codes#key"]

    def division(self) -> np.ndarray:
        """GB/T 4754 division (大类) of each firm, e.g. ``C27``."""
        return self.industry.astype("U3")

    def division_number(self) -> np.ndarray:
        """The two digits of the division as an int (``C27`` → 27; −1 when not a code), without string sorting."""
        chars = (
            np.asarray(self.industry.astype("U3")).view(np.uint32).reshape(self.n, 3)
            if self.n
            else np.zeros((0, 3), np.uint32)
        )
        tens, units = chars[:, 1].astype(np.int64) - 48, chars[:, 2].astype(np.int64) - 48
        ok = (tens >= 0) & (tens <= 9) & (units >= 0) & (units <= 9)
        return np.where(ok, tens * 10 + units, -1)

    @classmethod
    def from_columns(cls, year: int, columns: dict[str, np.ndarray]) -> YearData:
        """Build from a mapping of column name → array (the import table's columns)."""
        n = len(columns["credit_code"])
        get = lambda k, default: np.asarray(columns[k]) if k in columns else np.full(n, default)  # noqa: E731
        return cls(
            year=year,
            credit_code=get("credit_code", "").astype(str),
            name=get("name", "").astype(str),
            town=get("town", "").astype(str),
            industry=get("industry", "").astype(str),
            above_scale=get("above_scale", False).astype(bool),
            in_construction_period=np.asarray([bool(x) for x in get("in_construction_period", False)], dtype=bool)
            if n
            else np.zeros(0, bool),
            veto=np.where(get("veto", "") == None, "", get("veto", "")).astype(str),  # noqa: E711 - nulls from the table
            values={
                k: np.asarray(columns[k], dtype=np.float64) if k in columns else np.full(n, np.nan)
                for k in FLOAT_COLUMNS
            },
        )
