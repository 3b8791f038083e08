"""Columns of one entity kind at one period, as numpy arrays.

A ``Frame`` turns the raw, validated values of a ``Situation`` into vectors the
rules compute on: scaled ``int64`` for decimals, ``bool``, fixed-width strings for
choices, ``datetime64[D]`` for dates, row indices for references. ``present``
says which rows had a value (or a default).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from .exact import I64, scaled
from .periods import DAY, as_day
from .situation import REQUEST, EntityTable, YearValues
from .variables import Registry, Variable

_MISSING = object()


def _fill(var: Variable) -> Any:
    base = var.type.base
    return {"decimal": 0, "int": 0, "bool": False, "enum": "", "text": "", "date": None, "ref": -1}.get(base)


class Frame:
    """One entity kind at one period.

    Args:
        table: the validated raw table.
        registry: the variable registry (types, defaults).
        period: the year values are read at.
        situation_period: the situation's period; scalar values belong to it.
        refs: for ``ref`` variables, the id → row maps of the referenced kinds.
    """

    def __init__(
        self,
        table: EntityTable,
        registry: Registry,
        period: int,
        situation_period: int,
        refs: dict[str, dict[str, int]],
    ) -> None:
        self.table = table
        self.kind = table.kind
        self.ids = table.ids
        self.n = len(table.ids)
        self.period = period
        self.situation_period = situation_period
        self.registry = registry
        self.refs = refs
        self._cache: dict[tuple[str, int, bool], tuple[np.ndarray, np.ndarray]] = {}

    def var(self, name: str) -> Variable:
        """The registry entry of ``name``."""
        v = self.registry.get(self.kind, name)
        if v is None:
            raise KeyError(f"{self.kind}.{name} is not a variable")
        return v

    def raw(self, name: str, year: int | None = None, strict: bool = False) -> list[Any]:
        """Per-row raw values at ``year`` (``_MISSING`` where absent).

        A scalar belongs to the situation's period; with ``strict`` it does not
        stand in for another year (used for previous-year lookups).
        """
        year = self.period if year is None else year
        col = self.table.columns.get(name)
        if col is None:
            return [_MISSING] * self.n
        out: list[Any] = []
        for v in col:
            if isinstance(v, YearValues):
                v = v.get(year, _MISSING)
            elif strict and year != self.situation_period:
                v = _MISSING
            out.append(_MISSING if v is None or v is REQUEST else v)
        return out

    def column(self, name: str, year: int | None = None, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(values, present) of ``name`` at ``year``, with defaults applied.

        Missing values without a default are filled with a neutral value (0,
        False, "") and ``present`` is False there; the situation checker has
        already refused requests whose needed inputs are missing.
        """
        year = self.period if year is None else year
        key = (name, year, strict)
        if key in self._cache:
            return self._cache[key]
        var = self.var(name)
        raw = self.raw(name, year, strict)
        present = np.fromiter((v is not _MISSING for v in raw), dtype=bool, count=self.n)
        fill = _fill(var)
        if var.has_default and var.default is not None:
            fill = self._convert_default(var)
            present = np.ones(self.n, dtype=bool) if self.n else present
        values = self._array(var, [fill if v is _MISSING else v for v in raw])
        if var.default_from and not var.default_from.endswith("@previous"):
            other, other_present = self.column(var.default_from, year, strict)
            values = np.where(present, values, other)
            present = present | other_present
        self._cache[key] = (values, present)
        return values, present

    def _convert_default(self, var: Variable) -> Any:
        base = var.type.base
        if base == "decimal":
            return scaled(var.default, var.type.scale)
        return var.default

    def _array(self, var: Variable, values: list[Any]) -> np.ndarray:
        base = var.type.base
        if base in ("decimal", "int"):
            return np.array(values, dtype=I64) if values else np.zeros(0, dtype=I64)
        if base == "bool":
            return np.array(values, dtype=bool) if values else np.zeros(0, dtype=bool)
        if base == "date":
            return np.array([as_day(v) if isinstance(v, dt.date) else np.datetime64("NaT") for v in values], dtype=DAY)
        if base == "ref":
            index = self.refs.get(var.ref or "", {})
            return np.array([index.get(v, -1) if isinstance(v, str) else -1 for v in values], dtype=np.int64)
        if base == "list_decimal":
            width = max((len(v) for v in values if isinstance(v, tuple)), default=1)
            out = np.full((len(values), width), -1, dtype=I64)
            for i, v in enumerate(values):
                if isinstance(v, tuple):
                    out[i, : len(v)] = v
            return out
        return np.array(values, dtype=object if base == "text" else str) if values else np.zeros(0, dtype=str)

    def get(self, name: str, year: int | None = None) -> np.ndarray:
        """Values only."""
        return self.column(name, year)[0]

    def present(self, name: str, year: int | None = None) -> np.ndarray:
        """Presence only."""
        return self.column(name, year)[1]

    def days(self, as_of: dt.date) -> np.ndarray:
        """Judging date per row: ``application_date`` where the kind has one, else ``as_of``."""
        if self.registry.get(self.kind, "application_date") is None:
            return np.full(self.n, as_day(as_of), dtype=DAY)
        values, present = self.column("application_date")
        return np.where(present, values, as_day(as_of))


class ArrayFrame:
    """Columns given directly as arrays (benchmarks, the evaluation, bulk services).

    Values are already in the engine's representation (scaled int64, bool, str,
    ``datetime64[D]``, row indices). Year-keyed columns are given as
    ``{"name@2022": array}``. A column is present on every row unless
    ``present`` gives its mask.
    """

    def __init__(
        self,
        kind: str,
        ids: list[str] | np.ndarray,
        columns: dict[str, np.ndarray],
        period: int,
        days: np.ndarray | None = None,
        present: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.kind = kind
        self.ids = ids
        self.n = len(ids)
        self.period = period
        self.columns = columns
        self._days = days
        self._present = present or {}

    def column(self, name: str, year: int | None = None, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(values, present); a missing column is all-absent zeros."""
        year = self.period if year is None else year
        key = name if year == self.period and name in self.columns else f"{name}@{year}"
        if key in self.columns:
            return self.columns[key], self._present.get(key, np.ones(self.n, dtype=bool))
        return np.zeros(self.n, dtype=I64), np.zeros(self.n, dtype=bool)

    def get(self, name: str, year: int | None = None) -> np.ndarray:
        """Values only."""
        return self.column(name, year)[0]

    def present(self, name: str, year: int | None = None) -> np.ndarray:
        """Presence only."""
        return self.column(name, year)[1]

    def days(self, as_of: dt.date) -> np.ndarray:
        """Judging dates (given, else ``as_of`` for every row)."""
        if self._days is not None:
            return self._days
        return np.full(self.n, as_day(as_of), dtype=DAY)
