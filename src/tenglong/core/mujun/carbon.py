"""碳效码: carbon intensity, level, efficiency value and grade (规上 firms with data).

* L = CO₂ (t) / value added (万元); level 低碳 L ≤ 0.6 < 中碳 ≤ 2.0 < 高碳.
* K = L / the aggregate L of the firm's GB/T 4754 division (Σ CO₂ / Σ value added).
* grade 1–5 with cut points 0.6, 0.8, 1.2, 2.0, upper bounds inclusive.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import numpy as np

LEVELS = ("", "low", "medium", "high")
LEVEL_ZH = {"": "", "low": "低碳", "medium": "中碳", "high": "高碳"}


def carbon_code(
    co2: np.ndarray,
    value_added: np.ndarray,
    division: np.ndarray,
    eligible: np.ndarray,
    low_max: float,
    medium_max: float,
    cuts: list[float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    """Vectorised 碳效码.

    Returns:
        (intensity L, level code index into ``LEVELS``, efficiency value K,
        grade 1–5 or 0, aggregate L by division).

    >>> L, lv, K, g, agg = carbon_code(np.array([5.0, 15.0]), np.array([10e4, 10e4]), np.array(["C27", "C27"]),
    ...                                np.ones(2, bool), 0.6, 2.0, [0.6, 0.8, 1.2, 2.0])
    >>> L.tolist(), agg, K.tolist(), g.tolist(), lv.tolist()
    ([0.5, 1.5], {'C27': 1.0}, [0.5, 1.5], [1, 4], [1, 2])
    """
    n = len(co2)
    ok = eligible & np.isfinite(co2) & (co2 >= 0) & np.isfinite(value_added) & (value_added > 0)
    wan = np.where(ok, value_added / 10_000.0, 1.0)
    intensity = np.where(ok, co2 / wan, np.nan)
    level = np.where(~ok, 0, np.where(intensity <= low_max, 1, np.where(intensity <= medium_max, 2, 3))).astype(np.int8)
    agg: dict[str, float] = {}
    k = np.full(n, np.nan)
    if ok.any():
        divs, inverse = np.unique(division[ok], return_inverse=True)
        # Per-division totals, exactly rounded (fsum) so that they do not depend on row order.
        by_div = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[by_div], np.arange(len(divs) + 1))
        c_sorted, w_sorted = co2[ok][by_div], wan[ok][by_div]
        co2_sum = np.array([math.fsum(c_sorted[a:b]) for a, b in pairwise(bounds)])
        va_sum = np.array([math.fsum(w_sorted[a:b]) for a, b in pairwise(bounds)])
        agg_l = np.where(va_sum > 0, co2_sum / np.where(va_sum > 0, va_sum, 1), np.nan)
        agg = {d.item(): float(v) for d, v in zip(divs, agg_l, strict=True)}
        base = agg_l[inverse]
        k[ok] = np.where(base > 0, intensity[ok] / np.where(base > 0, base, 1), np.nan)
    edges = np.asarray(cuts, dtype=float)
    # searchsorted(side="left") puts K equal to a cut in the lower grade: upper bounds are inclusive.
    grade = np.where(np.isfinite(k), np.searchsorted(edges, np.nan_to_num(k, nan=0.0), side="left") + 1, 0).astype(
        np.int8
    )
    _settle_edges(co2, value_added, division, ok, intensity, k, level, grade, low_max, medium_max, cuts)
    return intensity, level, k, grade, agg


def _near(x: np.ndarray, cuts: list[float]) -> np.ndarray:
    near = np.zeros(len(x), dtype=bool)
    for c in cuts:
        near |= np.abs(x - c) <= 1e-9 * max(abs(c), 1.0)
    return near


def _exact(v: float) -> Fraction:
    """The decimal a float was read from (inputs have ≤ 15 significant digits), exactly."""
    return Fraction(Decimal(repr(float(v))))


def _settle_edges(co2, value_added, division, ok, intensity, k, level, grade, low_max, medium_max, cuts) -> None:
    """Recompute, with exact fractions, the few firms whose L or K is within rounding of a cut.

    Floats decide everywhere else; at a cut "upper bound inclusive" must hold exactly.
    """
    rows = np.flatnonzero(ok & (_near(intensity, [low_max, medium_max]) | _near(np.nan_to_num(k), cuts)))
    if not len(rows):
        return
    sums: dict[object, tuple[Fraction, Fraction]] = {}
    for i in rows:
        d = division[i].item()
        if d not in sums:
            members = np.flatnonzero(ok & (division == division[i]))
            sums[d] = (
                sum((_exact(co2[j]) for j in members), Fraction(0)),
                sum((_exact(value_added[j]) for j in members), Fraction(0)),
            )
        l_exact = _exact(co2[i]) * 10_000 / _exact(value_added[i])
        c_sum, v_sum = sums[d]
        k_exact = l_exact / (c_sum * 10_000 / v_sum) if c_sum > 0 else None
        lo, mid = Fraction(Decimal(repr(low_max))), Fraction(Decimal(repr(medium_max)))
        level[i] = 1 if l_exact <= lo else 2 if l_exact <= mid else 3
        if k_exact is not None:
            grade[i] = 1 + sum(1 for c in cuts if k_exact > Fraction(Decimal(repr(c))))
