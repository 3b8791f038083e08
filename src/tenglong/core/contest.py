"""季擂台 and 年评优 (附件 四(二) "实施‘月通报、季擂台、年评优’"): how the 19 镇(街道) and the two zones are ranked.

The policy names the practice and not its method; the method here is ours, every choice a parameter of
``policy/parameters/contest.yaml`` (flagged ``assumption``) and written out in ``docs/contest.md``:

1. **Indicators**, each "more is better", one value per unit (town or zone), ``None`` where the unit has none:
   ``targets`` (the share of the unit's assessed targets it meets), ``closure`` (the share of the A.3 registers'
   open loops it closed in the period), ``starts`` (projects started in the period) and ``mujun`` (the growth of
   its 规上 亩均税收 between two data years).
2. **Scores**: each indicator is scaled to 0–100 over the units that have it, by its range —
   ``100 × (value − lowest) / (highest − lowest)``; an indicator on which every unit that has it is equal (or only
   one unit has it) separates nobody and is left out, as if no unit had it.
3. **Composite**: the weighted mean of the unit's scores, ``Σ weight × score / Σ weight`` over the indicators the
   unit has (an indicator it lacks is left out and the others' weights carry it), rounded half up to
   ``decimals`` places — the published figure, and the one ranked.
4. **Ranking**: by the published composite, highest first; a tie is broken by the indicators' scores in the
   order of the weights table (the first differing decides, a missing score below any); units still equal
   share the rank (并列) and the next rank is skipped (1, 2, 2, 4). A unit with no indicator at all is not ranked.

Everything is exact (``Fraction``); only the published composite is rounded, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .errors import ParameterError
from .parameters import ParameterSet

__all__ = ["INDICATORS", "Method", "Standing", "composite", "method_at", "rank", "scale"]

INDICATORS = ("targets", "closure", "starts", "mujun")
"""The indicators the composite may weigh (the keys of ``contest.weights``)."""
HUNDRED = Fraction(100)


@dataclass(frozen=True)
class Method:
    """The contest's method as in force: the weights in tie-break order, and the decimals of the composite."""

    weights: tuple[tuple[str, Fraction], ...]
    decimals: int

    @property
    def order(self) -> tuple[str, ...]:
        """The indicators, in the order that breaks ties."""
        return tuple(k for k, _ in self.weights)


@dataclass(frozen=True)
class Standing:
    """One unit's place: its indicator values and scores, published composite, rank, and how a tie was decided.

    Attributes:
        unit: the unit's code.
        values: indicator → the exact value (None: the unit has none).
        scores: indicator → the exact 0–100 score (None: the unit has none).
        composite: the published composite (rounded), None for a unit with no indicator.
        rank: 1 for the first; units tied after every tie-break share a rank. None: not ranked.
        shared: the other units holding the same rank (并列).
        decided_by: the indicator that separated this unit from the one just above with the same composite.
    """

    unit: str
    values: Mapping[str, Fraction | None]
    scores: Mapping[str, Fraction | None]
    composite: Decimal | None
    rank: int | None
    shared: tuple[str, ...] = ()
    decided_by: str | None = None


def method_at(params: ParameterSet, day: dt.date) -> Method:
    """The method in force on ``day`` from ``contest.weights`` and ``contest.decimals``.

    Raises:
        ParameterError: an unknown indicator, a negative weight, or weights that sum to zero.
    """
    table = params["contest.weights"].at(day)
    decimals = params["contest.decimals"].at(day)
    if table is None or decimals is None:
        raise ParameterError(f"{day} 无擂台评分方法。", f"No contest method is in force on {day}.")
    unknown = [k for k in table if k not in INDICATORS]
    weights = tuple((str(k), Fraction(v)) for k, v in table.items())
    if unknown or any(w < 0 for _, w in weights) or sum(w for _, w in weights) <= 0:
        raise ParameterError(
            f"擂台权重须为 {'、'.join(INDICATORS)} 的非负数且合计大于 0：{dict(table)}。",
            f"Contest weights must be non-negative numbers of {', '.join(INDICATORS)} summing above 0: {dict(table)}.",
        )
    return Method(weights, int(decimals))


def scale(values: Mapping[str, Fraction | None]) -> dict[str, Fraction | None]:
    """Each unit's 0–100 score of one indicator, by the range of the units that have it; no score for anyone when
    they are all equal (the indicator separates nobody).

    >>> scale({"a": Fraction(1), "b": Fraction(3), "c": None, "d": Fraction(2)})
    {'a': Fraction(0, 1), 'b': Fraction(100, 1), 'c': None, 'd': Fraction(50, 1)}
    >>> scale({"a": Fraction(7), "b": Fraction(7), "c": None})
    {'a': None, 'b': None, 'c': None}
    """
    known = [v for v in values.values() if v is not None]
    if not known or min(known) == max(known):
        return dict.fromkeys(values)
    lo, hi = min(known), max(known)
    return {u: None if v is None else HUNDRED * (v - lo) / (hi - lo) for u, v in values.items()}


def composite(scores: Mapping[str, Fraction | None], method: Method) -> Fraction | None:
    """The exact weighted mean of the scores a unit has (None when it has none, or only weightless ones).

    >>> m = Method((("targets", Fraction(1, 2)), ("starts", Fraction(1, 2))), 2)
    >>> composite({"targets": Fraction(80), "starts": None}, m), composite({"targets": Fraction(80), "starts": 0}, m)
    (Fraction(80, 1), Fraction(40, 1))
    """
    had = [(w, scores[k]) for k, w in method.weights if scores.get(k) is not None]
    total = sum((w for w, _ in had), Fraction(0))
    if not had or total == 0:
        return None
    return sum((w * s for w, s in had), Fraction(0)) / total  # type: ignore[operator]


def _published(x: Fraction | None, decimals: int) -> Decimal | None:
    if x is None:
        return None
    q = Decimal(1).scaleb(-decimals)
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(q, ROUND_HALF_UP)


def rank(values: Mapping[str, Mapping[str, Fraction | None]], method: Method) -> list[Standing]:
    """Rank the units: ``values`` is unit → indicator → exact value. Ranked units first, in rank order (ties by
    unit code, for a stable list), then the unranked.

    Raises:
        ValueError: a unit names an indicator the method does not weigh.
    """
    order = method.order
    for unit, row in values.items():
        extra = set(row) - set(order)
        if extra:
            raise ValueError(f"unit {unit}: indicators {sorted(extra)} are not weighed")
    scores = {k: scale({u: row.get(k) for u, row in values.items()}) for k in order}
    by_unit = {u: {k: scores[k][u] for k in order} for u in values}
    published = {u: _published(composite(by_unit[u], method), method.decimals) for u in values}

    def key(u: str) -> tuple:
        return (
            -(published[u] or 0),
            *(-(s if (s := by_unit[u][k]) is not None else Fraction(-1)) for k in order),
            u,
        )

    ranked = sorted((u for u in values if published[u] is not None), key=key)
    out: list[Standing] = []
    groups: list[list[str]] = []
    for u in ranked:
        if groups and key(groups[-1][0])[:-1] == key(u)[:-1]:
            groups[-1].append(u)
        else:
            groups.append([u])
    place = 1
    previous: str | None = None
    for group in groups:
        decided = _decider(previous, group[0], by_unit, published, order) if previous else None
        for u in group:
            out.append(
                Standing(
                    u,
                    dict(values[u]),
                    by_unit[u],
                    published[u],
                    place,
                    tuple(x for x in group if x != u),
                    decided,
                )
            )
        place += len(group)
        previous = group[-1]
    out.extend(Standing(u, dict(values[u]), by_unit[u], None, None) for u in values if published[u] is None)
    return out


def _decider(
    above: str,
    unit: str,
    scores: Mapping[str, Mapping[str, Fraction | None]],
    published: Mapping[str, Decimal | None],
    order: Sequence[str],
) -> str | None:
    """The indicator that put ``above`` before ``unit`` when their composites are equal (None when they differ)."""
    if published[above] != published[unit]:
        return None
    for k in order:
        if scores[above][k] != scores[unit][k]:
            return k
    return None  # pragma: no cover - units equal on every indicator share a group
