"""The parts of a register kind (``registers/kinds.py``): units, categories, typed entry fields, the deadline,
marks and entry rules. Pure data classes; an entry field reads a value exactly (decimals as text at its scale).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..core.errors import Problem
from ..core.variables import TYPES, VarType

__all__ = [
    "EXTRA_TYPES",
    "FIELD_TYPES",
    "Category",
    "Deadline",
    "EntryField",
    "Mark",
    "Refusal",
    "Unit",
    "missing_field",
    "unknown_field",
]

EXTRA_TYPES: dict[str, VarType] = {
    "energy_tce": VarType(
        "energy_tce", "decimal", 4, "吨标准煤", "0", "100000000", "1200", "能耗（吨标准煤）", "energy use in tce"
    ),
    "investment_per_mu": VarType(
        "investment_per_mu",
        "decimal",
        4,
        "万元/亩",
        "0",
        "1000000",
        "350",
        "投资强度（万元/亩，至多四位小数）",
        "investment per mu in 10k yuan/mu, at most 4 decimals",
    ),
    "energy_per_value_added": VarType(
        "energy_per_value_added",
        "decimal",
        4,
        "吨标准煤/万元",
        "0",
        "1000",
        "0.35",
        "单位增加值能耗（吨标准煤/万元，至多四位小数）",
        "energy per unit of value added in tce per 10k yuan, at most 4 decimals",
    ),
}
"""Types of entry fields beyond ``core/variables.py``'s (a register records what the contract does not)."""
FIELD_TYPES = {k: v for k, v in TYPES.items() if v.base in ("decimal", "int", "bool", "enum", "date", "text")}
FIELD_TYPES.update(EXTRA_TYPES)
"""The types an entry field may have: the contract's scalar types and :data:`EXTRA_TYPES`."""
UNIT_EN = {
    "亩": "mu",
    "元": "yuan",
    "m²": "m²",
    "万元/亩": "10k yuan/mu",
    "吨标准煤": "tce",
    "吨标准煤/万元": "tce/10k yuan",
    "ratio": "",
    "年": "years",
}


@dataclass(frozen=True)
class Unit:
    """A 责任单位 and the role that acts for it."""

    key: str
    zh: str
    en: str
    role: str
    lead: bool = False
    duty_zh: str = ""
    duty_en: str = ""


@dataclass(frozen=True)
class Category:
    """One category of a register (整治类别…)."""

    key: str
    zh: str
    en: str
    note_zh: str = ""
    note_en: str = ""


@dataclass(frozen=True)
class EntryField:
    """A value an entry records, typed with its unit."""

    key: str
    zh: str
    en: str
    type: VarType
    required: bool = False
    values: tuple[str, ...] = ()
    max_length: int = 500

    @property
    def unit(self) -> str:
        """The unit (Chinese), empty for none."""
        return "" if self.type.unit == "ratio" else self.type.unit

    @property
    def unit_en(self) -> str:
        """The unit in English."""
        return UNIT_EN.get(self.type.unit, self.type.unit)

    def read(self, raw: Any) -> tuple[Any, Problem | None]:
        """The value as stored (decimals as exact text at the type's scale), or a problem; ``None`` when blank."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None, None
        base, t = self.type.base, self.type
        if base == "bool":
            found = {"true": True, "false": False, "是": True, "否": False}.get(str(raw).strip().lower())
            return (raw, None) if isinstance(raw, bool) else (found, None if found is not None else self._bad(raw))
        if base == "date":
            try:
                return (raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw).strip())).isoformat(), None
            except ValueError:
                return None, self._bad(raw)
        if base in ("text", "enum"):
            text = str(raw).strip()
            ok = len(text) <= self.max_length and (base == "text" or text in self.values)
            return (text, None) if ok else (None, self._bad(raw))
        return self._number(raw, t)

    def _number(self, raw: Any, t: VarType) -> tuple[Any, Problem | None]:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal, str)):
            return None, self._bad(raw)
        try:
            d = Decimal(str(raw).strip().replace(",", ""))
        except InvalidOperation:
            return None, self._bad(raw)
        step = Decimal(1).scaleb(-t.scale)
        if not d.is_finite() or d != d.quantize(step) or not Decimal(t.minimum or "-Infinity") <= d:
            return None, self._bad(raw)
        if t.maximum is not None and d > Decimal(t.maximum):
            return None, self._bad(raw)
        return (int(d) if t.base == "int" else format(d.quantize(step), "f")), None

    def _bad(self, raw: Any) -> Problem:
        expected_zh = self.type.zh + (f"：{' | '.join(self.values)}" if self.values else "")
        expected_en = self.type.en + (f": {' | '.join(self.values)}" if self.values else "")
        return Problem(
            "invalid_field",
            f"fields.{self.key}",
            str(raw)[:80],
            expected_zh,
            expected_en,
            self.values[0] if self.values else self.type.example,
            f"{self.zh}的值 {str(raw)[:80]!r} 无效，应为{expected_zh}。",
            f"The {self.en} {str(raw)[:80]!r} is not valid; expected {expected_en}.",
        )


@dataclass(frozen=True)
class Deadline:
    """When an entry's deadline passes, and which moves set it (``months`` after the date given, for a start rule)."""

    zh: str
    en: str
    clause: str
    states: tuple[str, ...]
    set_by: tuple[tuple[str, str, int], ...]  # (move, field, months)


@dataclass(frozen=True)
class Mark:
    """A flag of an entry: its ``field`` compared with ``value`` by the threshold word ``term`` (以上, 超过…)."""

    key: str
    field: str
    term: str
    value: Decimal
    zh: str
    en: str
    clause: str


@dataclass(frozen=True)
class Refusal:
    """An entry rule: an entry whose ``field`` is true is refused, with the reason and the clause."""

    field: str
    zh: str
    en: str
    clause: str


def missing_field(f: EntryField) -> Problem:
    """The problem of a required entry field left out."""
    return Problem(
        "missing_input",
        f"fields.{f.key}",
        None,
        f.zh,
        f.en,
        f.type.example,
        f"请填写{f.zh}。",
        f"The {f.en} is required.",
    )


def unknown_field(key: str, kind: Any) -> Problem:
    """The problem of a field the kind (``registers/kinds.Kind``) does not have."""
    return Problem(
        "unknown_field",
        f"fields.{key}",
        key,
        "、".join(f.zh for f in kind.fields.values()),
        ", ".join(kind.fields),
        next(iter(kind.fields), ""),
        f"{kind.zh}没有字段 {key}。",
        f"The {kind.en} has no field {key}.",
    )
