"""Dated policy parameters, loaded from YAML and looked up per row.

Every number a rule uses lives in ``policy/parameters/*.yaml`` with its unit,
clause, boundary word and dated values (habit 3). A value dated ``D`` holds from
``D`` until the next date; ``null`` ends it. Numbers are read as ``Decimal`` (the
YAML loader never makes a float), so ``0.1`` is exactly one tenth.

Example file::

    namespace: tech_renovation
    clause: "2.10"
    parameters:
      major_rate:
        description_zh: 重大项目补助比例
        description_en: Subsidy rate of a major project
        unit: ratio
        quote: 按设备投资额的10%给予补助
        values: {2022-07-16: 0.10, 2024-01-01: null}
"""

from __future__ import annotations

import datetime as dt
import weakref
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from .boundary import Boundary, boundary
from .errors import ParameterError
from .exact import I64, fraction, scaled
from .periods import DAY, as_day

PARAMETER_KINDS = ("number", "bool", "choice", "table")


@dataclass(frozen=True)
class Parameter:
    """One dated parameter.

    Attributes:
        path: ``namespace.name``, e.g. ``tech_renovation.major_rate``.
        clause: clause id the number comes from (``"2.10"``), or ``None`` when
            the source is outside the policy (then ``source`` says where).
        kind: ``number`` | ``bool`` | ``choice`` | ``table`` (a mapping such as
            class → rate, or land grade → price).
        unit: unit text (元, 元/m², 亩, ratio, …).
        term: the boundary word for thresholds (以上, 超过, …), else ``None``.
        assumption: True when the value is our reading, not the text's.
        dates: sorted start dates; ``values[i]`` holds from ``dates[i]``.
    """

    path: str
    description_zh: str
    description_en: str
    clause: str | None
    kind: str
    unit: str
    dates: tuple[dt.date, ...]
    values: tuple[Any, ...]
    term: str | None = None
    quote: str | None = None
    assumption: bool = False
    source: str | None = None
    choices: tuple[str, ...] = ()
    note_zh: str | None = None
    note_en: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def boundary(self) -> Boundary | None:
        """The legal boundary of a threshold parameter."""
        return boundary(self.term) if self.term else None

    def at(self, day: dt.date) -> Any:
        """Value in force on ``day``, or ``None`` when not (yet / any more) defined."""
        i = bisect_right(self.dates, day) - 1
        return None if i < 0 else self.values[i]

    def since(self, day: dt.date) -> dt.date | None:
        """Start date of the value in force on ``day``."""
        i = bisect_right(self.dates, day) - 1
        return None if i < 0 or self.values[i] is None else self.dates[i]

    def index_at(self, days: np.ndarray) -> np.ndarray:
        """Per-row index into ``values`` (−1 before the first date).

        Parameters mostly share their dates, so the search is cached per
        (dates, days array) for as long as the array lives.
        """
        key = (id(days), self.dates)
        hit = _INDEX_CACHE.get(key)
        if hit is not None and hit[0]() is days:
            return hit[1]
        starts = np.array([as_day(d) for d in self.dates], dtype=DAY)
        days_ = np.asarray(days, dtype=DAY)
        if len(days_) and (days_ == days_[0]).all():  # one judging day for every row (an evaluation)
            idx = np.broadcast_to(np.searchsorted(starts, days_[:1], side="right")[0] - 1, days_.shape)
        else:
            idx = np.searchsorted(starts, days_, side="right") - 1
        try:
            _INDEX_CACHE[key] = (weakref.ref(days), idx)
            weakref.finalize(days, _INDEX_CACHE.pop, key, None)
        except TypeError:  # not weak-referenceable (e.g. a list): no caching
            pass
        return idx

    def last_value(self) -> Any:
        """The last non-null value, used for rows where the clause is not in force.

        Rows outside a clause's validity are masked by the rule; they still need
        *some* number to keep the arithmetic vectorised.
        """
        for v in reversed(self.values):
            if v is not None:
                return v
        raise ParameterError(f"参数 {self.path} 没有任何取值。", f"Parameter {self.path} has no value at all.")

    def _per_row(self, days: np.ndarray) -> tuple[list[Any], np.ndarray]:
        """Distinct values and the per-row position in that list.

        When every date gets the same value (the usual case: one value, then
        ``null``), the positions are a zero-copy broadcast and no date is searched.
        """
        fallback = self.last_value()
        vals = [fallback if v is None else v for v in self.values]
        n = len(days)
        if all(repr(v) == repr(vals[0]) for v in vals):
            return vals[:1], np.broadcast_to(np.int64(0), (n,))
        idx = self.index_at(days)
        return vals, np.where(idx < 0, len(vals) - 1, idx)

    def scaled_at(self, days: np.ndarray, scale: int) -> np.ndarray:
        """Number parameter as an int64 array at ``scale`` decimals, per row."""
        vals, idx = self._per_row(days)
        table = np.array([scaled(v, scale) for v in vals], dtype=I64)
        return _gather(table, idx)

    def fraction_at(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Number parameter as exact (numerator, denominator) int64 arrays."""
        vals, idx = self._per_row(days)
        fr = [fraction(v) for v in vals]
        return (
            _gather(np.array([f.numerator for f in fr], dtype=I64), idx),
            _gather(np.array([f.denominator for f in fr], dtype=I64), idx),
        )

    def uniform(self, days: np.ndarray) -> Any:
        """The single value that applies to all ``days`` (rows outside validity use the last one).

        Raises:
            ParameterError: if rows need different values; the rule must then
                use the per-row lookups instead.
        """
        vals, idx = self._per_row(days)
        if len(vals) == 1:
            return vals[0]
        used = np.unique(idx) if len(idx) else np.array([len(vals) - 1])
        distinct = {repr(vals[i]) for i in used}
        if len(distinct) > 1:
            raise ParameterError(
                f"参数 {self.path} 在所涉日期内有多个取值，规则须逐行取值。",
                f"Parameter {self.path} changes within the dates involved; the rule must look it up per row.",
            )
        return vals[int(used[0])]

    def fraction_value(self, days: np.ndarray) -> Fraction:
        """The uniform value as an exact Fraction."""
        return fraction(self.uniform(days))


def _gather(table: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``table[idx]``, kept a zero-copy broadcast when ``idx`` is one."""
    if idx.strides == (0,):
        return np.broadcast_to(table[0], idx.shape)
    return table[idx]


_INDEX_CACHE: dict[tuple[int, tuple[dt.date, ...]], tuple[weakref.ref, np.ndarray]] = {}


class ParameterSet:
    """All parameters, by path. Immutable; ``with_values`` returns a changed copy."""

    def __init__(self, parameters: dict[str, Parameter]) -> None:
        self._p = dict(parameters)

    def __getitem__(self, path: str) -> Parameter:
        try:
            return self._p[path]
        except KeyError:
            raise ParameterError(f"找不到参数 {path}。", f"Parameter {path} does not exist.") from None

    def __contains__(self, path: str) -> bool:
        return path in self._p

    def __iter__(self):
        return iter(self._p.values())

    def __len__(self) -> int:
        return len(self._p)

    def paths(self) -> list[str]:
        """All parameter paths, sorted."""
        return sorted(self._p)

    def for_clause(self, clause: str) -> list[Parameter]:
        """Parameters citing ``clause``."""
        return [p for p in self._p.values() if p.clause == clause]

    def with_values(self, changes: dict[str, dict[dt.date, Any]]) -> ParameterSet:
        """A copy where each ``path`` gets extra dated values (a reform).

        Later dates in ``changes`` replace existing values from that date on.
        The caller validates ``changes`` first (``core/reforms.py``).
        """
        out = dict(self._p)
        for path, dated in changes.items():
            p = self[path]
            merged = dict(zip(p.dates, p.values, strict=True))
            merged.update(dated)
            dates = tuple(sorted(merged))
            out[path] = replace(p, dates=dates, values=tuple(merged[d] for d in dates))
        return ParameterSet(out)


def _check_value(path: str, kind: str, value: Any, choices: tuple[str, ...]) -> Any:
    if value is None:
        return None
    ok = {
        "number": isinstance(value, (int, Decimal)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "choice": isinstance(value, str) and (not choices or value in choices),
        "table": isinstance(value, dict),
    }[kind]
    if not ok:
        raise ParameterError(
            f"参数 {path} 的取值 {value!r} 不是 {kind} 类型。",
            f"Parameter {path}: value {value!r} is not of kind {kind}.",
        )
    if kind == "table":
        return {str(k): v for k, v in value.items()}
    return value


def build_parameter(namespace: str, name: str, spec: dict[str, Any], default_clause: str | None) -> Parameter:
    """Validate one YAML entry and make a ``Parameter``.

    Raises:
        ParameterError: naming the path and the field that is wrong.
    """
    path = f"{namespace}.{name}"
    missing = [k for k in ("description_zh", "description_en", "unit", "values") if k not in spec]
    if missing:
        raise ParameterError(f"参数 {path} 缺少字段 {missing}。", f"Parameter {path} lacks fields {missing}.")
    kind = spec.get("kind", "number")
    if kind not in PARAMETER_KINDS:
        raise ParameterError(f"参数 {path} 的 kind={kind!r} 无效。", f"Parameter {path}: unknown kind {kind!r}.")
    raw = spec["values"]
    if not isinstance(raw, dict) or not raw:
        raise ParameterError(
            f"参数 {path} 的 values 必须是 日期: 取值 映射。", f"Parameter {path}: values must map dates to values."
        )
    for d in raw:
        if not isinstance(d, dt.date):
            raise ParameterError(
                f"参数 {path} 的日期 {d!r} 不是 YYYY-MM-DD，例如 2022-07-16。",
                f"Parameter {path}: {d!r} is not a valid YYYY-MM-DD instant, such as 2022-07-16.",
            )
    choices = tuple(spec.get("choices", ()))
    dates = tuple(sorted(raw))
    values = tuple(_check_value(path, kind, raw[d], choices) for d in dates)
    term = spec.get("term")
    if term is not None:
        try:
            boundary(term)
        except KeyError:
            raise ParameterError(
                f"参数 {path} 的界限词 {term!r} 不在对照表中。", f"Parameter {path}: unknown boundary word {term!r}."
            ) from None
    return Parameter(
        path=path,
        description_zh=spec["description_zh"],
        description_en=spec["description_en"],
        clause=str(spec["clause"]) if spec.get("clause") is not None else default_clause,
        kind=kind,
        unit=spec["unit"],
        dates=dates,
        values=values,
        term=term,
        quote=spec.get("quote"),
        assumption=bool(spec.get("assumption", False)),
        source=spec.get("source"),
        choices=choices,
        note_zh=spec.get("note_zh"),
        note_en=spec.get("note_en"),
    )
