"""What every rule needs: the context it reads, exact thresholds, money helpers."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..boundary import Boundary
from ..clauses import Policy
from ..errors import ParameterError
from ..exact import I64, div_half_up
from ..parameters import Parameter, ParameterSet
from ..trace import (
    APPLIED,
    INSUFFICIENT_DATA,
    NOT_APPLICABLE,
    NOT_GIVEN_EN,
    NOT_GIVEN_ZH,
    NOT_IN_FORCE,
    Note,
    Outcome,
    fmt_percent,
)


class Columns(Protocol):
    """What a rule reads of one entity kind (``core.frame.Frame`` or an ``ArrayFrame``)."""

    kind: str
    n: int
    ids: list[str]

    def get(self, name: str, year: int | None = None) -> np.ndarray: ...

    def present(self, name: str, year: int | None = None) -> np.ndarray: ...

    def column(self, name: str, year: int | None = None, strict: bool = False) -> tuple[np.ndarray, np.ndarray]: ...

    def days(self, as_of: dt.date) -> np.ndarray: ...


@dataclass(frozen=True)
class Need:
    """An input a requested output needs.

    Attributes:
        var: the input's name.
        on: ``self`` or ``enterprise`` (the project's enterprise).
        when: the need applies only on rows where these (same-entity) booleans
            or choices have these values, e.g. ``{"kind": "split"}``.
    """

    var: str
    on: str = "self"
    when: tuple[tuple[str, Any], ...] = ()


def needs(*names: str, on: str = "self", **when: Any) -> tuple[Need, ...]:
    """Shorthand: ``needs("a", "b", kind="split")``."""
    cond = tuple(sorted(when.items()))
    return tuple(Need(n, on, cond) for n in names)


@dataclass(frozen=True)
class Rule:
    """A vectorised rule implementing one clause for one entity kind."""

    id: str
    clause: str
    entity: str
    outputs: tuple[str, ...]
    compute: Callable[[Context], list[Outcome]]
    needs: dict[str, tuple[Need, ...]] = field(default_factory=dict)
    parameters: tuple[str, ...] = ()
    title_zh: str = ""
    title_en: str = ""


@dataclass
class Context:
    """Everything a rule may read: frames, parameters, dates, earlier outcomes."""

    params: ParameterSet
    policy: Policy
    as_of: dt.date
    period: int
    frames: dict[str, Columns]
    results: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    _days: dict[str, np.ndarray] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def frame(self, kind: str) -> Columns:
        """The columns of one entity kind."""
        return self.frames[kind]

    def days(self, kind: str) -> np.ndarray:
        """Judging date per row of ``kind``."""
        with self.lock:
            if kind not in self._days:
                self._days[kind] = self.frames[kind].days(self.as_of)
            return self._days[kind]

    def in_force(self, clause: str, days: np.ndarray) -> np.ndarray:
        """Per-row validity of a clause (its ``in_force.<id>`` parameter)."""
        p = self.params[f"in_force.{clause}"]
        idx = p.index_at(days)
        table = np.array([bool(v) for v in p.values] + [False], dtype=bool)
        return table[np.where(idx < 0, len(p.values), idx)]

    def p(self, path: str) -> Parameter:
        """A parameter."""
        return self.params[path]

    def of_enterprise(self, values: np.ndarray) -> np.ndarray:
        """An enterprise column aligned to the projects (neutral where a project has no enterprise)."""
        ent = self.frame("projects").get("enterprise")
        n = self.frame("projects").n
        if len(values) == 0:
            return np.zeros(n, dtype=values.dtype)
        return np.where(ent >= 0, values[np.maximum(ent, 0)], np.zeros(1, dtype=values.dtype))

    def result(self, kind: str, var: str) -> Outcome:
        """An earlier rule's outcome."""
        return self.results[(kind, var)]


def boundary_of(p: Parameter) -> Boundary:
    """The boundary word of a threshold parameter.

    Raises:
        ParameterError: when the parameter has no ``term``.
    """
    b = p.boundary
    if b is None:
        raise ParameterError(
            f"参数 {p.path} 不是门槛参数（缺少 term）。", f"Parameter {p.path} is not a threshold (no term)."
        )
    return b


def meets(values: np.ndarray, p: Parameter, days: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``values (op) threshold`` with the parameter's boundary word.

    Returns:
        (ok per row, threshold per row at ``scale``).
    """
    b = boundary_of(p)
    limit = p.scaled_at(days, scale)
    ops = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
    return ops[b.op](values, limit), limit


def ratio_meets(num: np.ndarray, den: np.ndarray, p: Parameter, days: np.ndarray, plus_one: bool = False) -> np.ndarray:
    """Exact ``num/den (op) r`` (or ``num/den − 1 (op) r`` with ``plus_one``) without dividing.

    ``den`` ≥ 0; with a zero denominator the ratio is undefined and the test is not met.
    """
    b = boundary_of(p)
    rn, rd = p.fraction_at(days)
    if plus_one:
        rn = rn + rd
    left = np.asarray(num, dtype=I64) * rd
    right = np.asarray(den, dtype=I64) * rn
    ops = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
    # A share or a rise of nothing is undefined, so a zero base never meets the test.
    return ops[b.op](left, right) & (np.asarray(den) > 0)


def apply_rate(amount: np.ndarray, p: Parameter, days: np.ndarray) -> np.ndarray:
    """``amount × rate``, half up to the 分, exactly (amount in 分)."""
    num, den = p.fraction_at(days)
    _guard(p, num)
    return div_half_up(np.asarray(amount, dtype=I64) * num, den)


def percents(p: Parameter, days: np.ndarray) -> Callable[[int], str]:
    """Row ``i`` → the rate ``p`` holds at that row's date, as an exact percentage (for explanations)."""
    num, den = p.fraction_at(days)
    return lambda i: fmt_percent(num[i], den[i])


def table_keys(p: Parameter, days: np.ndarray, want: Any = True) -> Callable[[int], list[str]]:
    """Row ``i`` → the keys of table ``p`` (at that row's date) whose entry is ``want``, e.g. the classes allowed."""
    vals, idx = p._per_row(days)
    keys = [[k for k, v in t.items() if v is want or (not isinstance(want, bool) and v == want)] for t in vals]
    return lambda i: keys[int(idx[i])]


def capped(amount_fen: np.ndarray, cap_fen: np.ndarray) -> np.ndarray:
    """``min(amount, cap)``."""
    return np.minimum(amount_fen, cap_fen)


def _guard(p: Parameter, num: np.ndarray) -> None:
    # Money is ≤ 10**14 分 by input bounds, so a numerator below 90,000 keeps
    # amount × numerator under 2**63.
    if len(num) and int(np.max(num)) > 90_000:
        raise ParameterError(
            f"参数 {p.path} 的比例分母过细，超出精确计算范围，请用不超过四位小数的比例。",
            f"Parameter {p.path} has too fine a rate for exact arithmetic; use at most 4 decimals.",
        )


def status(live: np.ndarray, applies: np.ndarray, unknown: np.ndarray | None = None) -> np.ndarray:
    """Status codes: not in force, else insufficient data (``unknown``: a needed input was not given), else applied /
    not applicable.
    """
    # bool → int8 is a byte copy: applied (0) / not applicable (1), then lapsed rows set to 2.
    if (APPLIED, NOT_APPLICABLE) != (0, 1):
        raise RuntimeError("status() relies on APPLIED == 0 and NOT_APPLICABLE == 1")
    out = (~np.asarray(applies, dtype=bool)).astype(np.int8)
    if unknown is not None:
        out[np.asarray(unknown, dtype=bool)] = INSUFFICIENT_DATA
    out[~live] = NOT_IN_FORCE
    return out


def missing_note(rows: np.ndarray, zh: str, en: str) -> Note:
    """The line of an output that cannot be decided on ``rows``: what was not given, and what it would decide."""
    return Note(f"{NOT_GIVEN_ZH}{zh}", f"{NOT_GIVEN_EN}{en}", rows=rows)


def table_lookup(
    p: Parameter, days: np.ndarray, keys: np.ndarray, scale: int | None = None, default: Any = 0
) -> np.ndarray:
    """Per-row lookup of a table parameter by a key array (e.g. class → rate).

    With ``scale`` the entries are numbers returned as scaled int64; without,
    they are returned as they are (bools or strings). Keys absent from the
    table get ``default``. Tables are small, so one vectorised comparison per
    entry beats sorting the keys.
    """
    from ..exact import scaled as to_scaled

    vals, idx = p._per_row(days)
    keys = np.asarray(keys)
    if keys.dtype.kind not in "US":
        keys = keys.astype(str)
    n = len(keys)
    entries_all = [{k: (to_scaled(v, scale) if scale is not None else v) for k, v in t.items()} for t in vals]
    fill = to_scaled(default, scale) if scale is not None else default
    sample = [v for t in entries_all for v in t.values()] + [fill]
    dtype = I64 if scale is not None else bool if all(isinstance(v, bool) for v in sample) else object
    out = np.full(n, fill, dtype=dtype)
    uniform = idx.strides == (0,)
    for k, table in enumerate(entries_all):
        rows = None if uniform else (idx == k)
        for key, value in table.items():
            hit = keys == key
            out[hit if rows is None else hit & rows] = value
    return out


def table_entry(p: Parameter, days: np.ndarray, key: str, scale: int) -> np.ndarray:
    """One numeric entry of a table parameter, per row (a zero-copy broadcast when uniform)."""
    from ..exact import scaled as to_scaled
    from ..parameters import _gather

    vals, idx = p._per_row(days)
    return _gather(np.array([to_scaled(t[key], scale) for t in vals], dtype=I64), idx)


def table_codes(p: Parameter, days: np.ndarray, keys: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Per-row code into ``labels`` of a table parameter mapping keys to labels (absent keys → 0)."""
    vals, idx = p._per_row(days)
    out = np.zeros(len(keys), dtype=np.int8)
    uniform = idx.strides == (0,)
    for k, table in enumerate(vals):
        rows = None if uniform else (idx == k)
        for key, label in table.items():
            hit = keys == key
            out[hit if rows is None else hit & rows] = labels.index(label)
    return out


def years_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each ``datetime64[D]``."""
    return days.astype("datetime64[Y]").astype(np.int64) + 1970
