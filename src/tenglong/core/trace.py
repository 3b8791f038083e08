"""Explanations: what each rule tested, with the values used, citing its clause.

A rule returns one ``Outcome`` per output variable: the vector of values, a
status per row, the clause and quoted sentence, and the ``Check`` objects it
tested. Rendering a row's explanation is per-row Python, done only for the rows
and variables the user asked about (and not at all with ``--no-explain``).

A blank is not a zero: a check whose input was not given on a row says
"未提供，不能判断：…" there (``Check.given``), never "不满足：… 0", and an output
that cannot be decided without it has status ``insufficient_data`` and value
``null`` (``Outcome.null``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from .boundary import SYMBOL, Boundary
from .exact import unscale

APPLIED, NOT_APPLICABLE, NOT_IN_FORCE, INSUFFICIENT_DATA = 0, 1, 2, 3
STATUS_NAMES = ("applied", "not_applicable", "not_in_force", "insufficient_data")
NOT_GIVEN_ZH, NOT_GIVEN_EN = "未提供，不能判断：", "not given, cannot be decided: "


def fmt_number(value: int | Decimal, scale: int) -> str:
    """Scaled int as text with thousands separators, e.g. ``8,000,000.00``."""
    d = unscale(int(value), scale) if not isinstance(value, Decimal) else value
    return f"{d:,.{scale}f}" if scale else f"{int(d):,}"


def fmt_exact(num: int, den: int, decimals: int = 4) -> str:
    """An exact quotient as text: ``decimals`` places when exact, else more digits and "…".

    Rounding must never hide what decided a comparison, so an inexact value is
    truncated (not rounded) and marked.

    >>> fmt_exact(5, 1), fmt_exact(50000001, 10000000), fmt_exact(1, 3, 2)
    ('5.0000', '5.0000001', '0.333333333333…')
    """
    num, den = int(num), int(den)
    if den <= 0:
        return "—"
    whole, rest = divmod(abs(num), den)
    digits = []
    for k in range(12):
        if k >= decimals and rest == 0:
            break
        rest *= 10
        digits.append(str(rest // den))
        rest %= den
    sign = "-" if num < 0 else ""
    return f"{sign}{whole:,}." + "".join(digits) + ("…" if rest else "") if digits else f"{sign}{whole:,}"


def fmt_percent(num: int, den: int) -> str:
    """An exact rate as a percentage, e.g. ``10%``, ``0.5%``; an inexact one ends in "…".

    >>> fmt_percent(1, 10), fmt_percent(1, 200), fmt_percent(3, 20), fmt_percent(1, 3)
    ('10%', '0.5%', '15%', '33.333333333333…%')
    """
    return fmt_exact(100 * int(num), int(den), 0) + "%"


def fmt_trim(value: int, scale: int) -> str:
    """A scaled int as a plain number without trailing zeros, for prose, e.g. ``10`` or ``9.5``.

    >>> fmt_trim(100000, 4), fmt_trim(95000, 4), fmt_trim(3, 0)
    ('10', '9.5', '3')
    """
    return f"{unscale(int(value), scale).normalize():f}"


def fmt_classes(keys: list[str], lang: str, last: str = "or") -> str:
    """Class codes as text: ``A、B、C`` in Chinese, ``A, B or C`` (or ``and``) in English.

    >>> fmt_classes(["A", "B", "C"], "zh"), fmt_classes(["A", "B", "C"], "en"), fmt_classes(["C"], "en")
    ('A、B、C', 'A, B or C', 'C')
    """
    names = [("未参评" if lang == "zh" else "not evaluated") if k == "none" else k for k in keys]
    if not names:
        return "无" if lang == "zh" else "none"
    if lang == "zh":
        return "、".join(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {last} " + names[-1]


def fmt_plain(value: Any) -> str:
    """A value in an explanation line."""
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    return str(value)


@dataclass
class Check:
    """One condition a rule tested.

    Attributes:
        code: stable id, e.g. ``major_min_equipment_investment``.
        ok: per-row result.
        zh / en: templates; ``{name}`` placeholders are filled per row from
            ``values`` (arrays are indexed, scalars used as they are).
        values: the numbers shown, already formatted per row by ``formats``.
        applies: rows where the check was actually part of the decision
            (``None`` = all rows).
        clause: cited clause when it differs from the outcome's.
        given: rows where every input of the check was given (``None`` = all);
            elsewhere the line says the input is missing (``missing_zh`` /
            ``missing_en``: what would have been tested) instead of a verdict on 0.
    """

    code: str
    ok: np.ndarray
    zh: str
    en: str
    values: dict[str, Any] = field(default_factory=dict)
    applies: np.ndarray | None = None
    clause: str | None = None
    given: np.ndarray | None = None
    missing_zh: str = ""
    missing_en: str = ""

    def render(self, i: int, lang: str) -> str:
        """The line for row ``i``."""
        if self.given is not None and not self.given[i]:
            return NOT_GIVEN_ZH + self.missing_zh if lang == "zh" else NOT_GIVEN_EN + self.missing_en
        filled = {
            k: (v(i) if callable(v) else v[i] if isinstance(v, (np.ndarray, list)) else v)
            for k, v in self.values.items()
        }
        template = self.zh if lang == "zh" else self.en
        body = template.format(**{k: fmt_plain(v) for k, v in filled.items()})
        met = bool(self.ok[i])
        if lang == "zh":
            return ("满足：" if met else "不满足：") + body
        return ("met: " if met else "not met: ") + body


@dataclass
class Note:
    """A plain statement in an explanation (not a condition), e.g. a cap applied."""

    zh: str | Callable[[int], str]
    en: str | Callable[[int], str]
    rows: np.ndarray | None = None

    def render(self, i: int, lang: str) -> str:
        """The line for row ``i``."""
        t = self.zh if lang == "zh" else self.en
        return t(i) if callable(t) else t


@dataclass
class Outcome:
    """The answer of one rule for one output variable, over all rows."""

    variable: str
    values: np.ndarray
    status: np.ndarray
    clause: str
    quote: str
    checks: list[Check | Note] = field(default_factory=list)
    parameters: tuple[str, ...] = ()
    null: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] | None = None

    def label(self, i: int) -> str:
        """The choice of row ``i`` when ``values`` holds codes into ``labels``."""
        v = self.values[i]
        return self.labels[int(v)] if self.labels is not None else str(v)

    def quote_of(self, i: int) -> str:
        """The quoted sentence for row ``i`` (some rules quote different sentences per row)."""
        per_row = self.extra.get("quote_per_row")
        return per_row(i) if per_row is not None else self.quote


def threshold_check(
    code: str,
    label_zh: str,
    label_en: str,
    values: np.ndarray,
    scale: int,
    unit: str,
    limit: int | np.ndarray,
    b: Boundary,
    ok: np.ndarray,
    applies: np.ndarray | None = None,
    given: np.ndarray | None = None,
) -> Check:
    """A check ``value (op) limit`` with both numbers and the boundary word shown.

    ``limit`` is one scaled int, or one per row when the parameter changes
    between the rows' dates; ``unit`` ``"%"`` shows a ratio as a percentage.
    Where ``given`` is False the value was not given and the line says so,
    with the limit it would have been tested against.

    >>> from tenglong.core.boundary import boundary
    >>> c = threshold_check(
    ...     "x", "装备投资", "equipment", np.array([800000000]), 2, "元", 500000000, boundary("及以上"),
    ...     np.array([True]),
    ... )
    >>> c.render(0, "zh")
    '满足：装备投资 8,000,000.00 元 ≥ 5,000,000.00 元（及以上，含本数）'
    >>> c = threshold_check(
    ...     "x", "增长率", "growth", np.array([0]), 6, "%", 120000, boundary("以上"), np.array([False]),
    ...     given=np.array([False]),
    ... )
    >>> c.render(0, "zh")
    '未提供，不能判断：增长率（须 ≥ 12%，以上，含本数）'
    >>> c.render(0, "en")
    'not given, cannot be decided: growth (must be ≥ 12%, at least (inclusive))'
    """
    values = np.asarray(values)
    limits = np.broadcast_to(np.asarray(limit), values.shape)
    if unit == "%":  # a ratio (scaled at ``scale``) shown as an exact percentage: 0.12 → 12%
        u, den = "", 10**scale

        def show(x: int) -> str:
            return fmt_percent(int(x), den)
    else:
        u = f" {unit}" if unit else ""

        def show(x: int) -> str:
            return fmt_number(x, scale)

    check = Check(
        code,
        ok,
        f"{label_zh} {{v}}{u} {SYMBOL[b.op]} {{lim}}{u}（{b.zh}）",
        f"{label_en} {{v}}{u} {SYMBOL[b.op]} {{lim}}{u} ({b.en})",
        {"v": lambda i: show(values[i]), "lim": lambda i: show(limits[i])},
        applies,
        given=given,
    )
    if given is not None:
        lim0 = show(limits.flat[0]) if limits.size else ""
        check.missing_zh = f"{label_zh}（须 {SYMBOL[b.op]} {lim0}{u}，{b.zh}）"
        check.missing_en = f"{label_en} (must be {SYMBOL[b.op]} {lim0}{u}, {b.en})"
    return check


def flag_check(
    code: str, label_zh: str, label_en: str, values: np.ndarray, want: bool = True, applies: np.ndarray | None = None
) -> Check:
    """A check that a yes/no input has the wanted value."""
    values = np.asarray(values, dtype=bool)
    ok = values if want else ~values
    yes_zh, yes_en = ("是", "yes") if want else ("否", "no")
    return Check(
        code,
        ok,
        f"{label_zh}：{{v}}（须为“{yes_zh}”）",
        f"{label_en}: {{ven}} (must be {yes_en})",
        {"v": lambda i: "是" if values[i] else "否", "ven": lambda i: "yes" if values[i] else "no"},
        applies,
    )
