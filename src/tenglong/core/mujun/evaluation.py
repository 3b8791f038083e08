"""The annual 亩均效益综合评价 of a whole county, vectorised.

For one data year: scope → indicators → benchmarks → item scores → ranking and
class quotas per group → clause 2.8 overrides and vetoes → differential prices
→ 碳效码 → the A.2 flags and the 高耗低效 candidate flag. ``explain`` says, for one
firm, how its class came about, citing the source of every number.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..clauses import Policy
from ..engine import run_rules
from ..frame import ArrayFrame
from ..parameters import ParameterSet
from ..periods import as_day
from ..rules import low_efficiency as a2
from ..rules.class_override import override_masks
from ..targets import figure
from . import indicators as ind
from .carbon import carbon_code
from .data import YearData
from .matching import match
from .method import Method, judging_day
from .ranking import classify

ABOVE, BELOW = "above_scale", "below_scale"
REASONS = ("", "no_land", "below_min_land")
OVERRIDES = ("none", "force_A", "not_D")


@dataclass
class Result:
    """Everything the evaluation of one data year found, one entry per firm."""

    year: int
    data: YearData
    method: Method
    evaluated: np.ndarray
    reason_code: np.ndarray
    group_id: np.ndarray
    group_names: tuple[str, ...]
    indicators: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]
    imputed: dict[str, np.ndarray]
    score: np.ndarray
    rank: np.ndarray
    group_size: np.ndarray
    computed: np.ndarray
    final: np.ndarray
    override_code: np.ndarray
    vetoed: np.ndarray
    relief: np.ndarray
    surcharge: np.ndarray
    d_streak: np.ndarray
    carbon_intensity: np.ndarray
    carbon_level: np.ndarray
    carbon_value: np.ndarray
    carbon_grade: np.ndarray
    carbon_industry: dict[str, float]
    low_efficiency: np.ndarray
    billion_low_tax: np.ndarray
    candidate: np.ndarray
    benchmarks: dict[str, dict[str, float]]
    counts: dict[str, dict[str, int]]
    edges: dict[str, dict[str, float]]
    county: dict[str, dict[str, object]] = field(default_factory=dict)
    thresholds: dict[str, tuple[object, str | None]] = field(default_factory=dict)
    """The clause 2.8 and A.2 thresholds the year was judged by: parameter path → (value, boundary word)."""

    @property
    def reason(self) -> np.ndarray:
        """Why a firm was not evaluated ("" when it was): ``no_land`` or ``below_min_land``."""
        return np.array(REASONS)[self.reason_code]

    @property
    def group(self) -> np.ndarray:
        """The ranking group of each firm (``above_scale``, ``below_scale``, or with an industry group)."""
        return np.array(self.group_names)[self.group_id]

    @property
    def override(self) -> np.ndarray:
        """The 2.8 override of each firm: ``none``, ``force_A`` or ``not_D``."""
        return np.array(OVERRIDES)[self.override_code]

    def index(self, credit_code: str) -> int:
        """Row of a credit code (KeyError when absent)."""
        hits = np.flatnonzero(self.data.credit_code == credit_code)
        if not len(hits):
            raise KeyError(credit_code)
        return int(hits[0])


def _round_score(x: np.ndarray, decimals: int) -> np.ndarray:
    """Half-up rounding of scores (deterministic; the published score is what ranks)."""
    f = 10.0**decimals
    return np.floor(x * f + 0.5) / f


def _benchmarks(
    d: YearData, m: Method, ind_values: dict[str, np.ndarray], above: np.ndarray, below: np.ndarray
) -> dict[str, dict[str, float]]:
    if m.benchmark_mode == "constants":
        return {ABOVE: dict(m.benchmark_constants[ABOVE]), BELOW: dict(m.benchmark_constants[BELOW])}
    return {
        ABOVE: {k: ind.aggregate(d, k, above) for k in m.weights_above},
        BELOW: {k: ind.aggregate(d, k, below) for k in m.weights_below},
    }


def _item_scores(
    values: dict[str, np.ndarray], weights: dict[str, float], bench: dict[str, float], rows: np.ndarray, impute: bool
) -> tuple[dict, dict]:
    scores, imputed = {}, {}
    for k, w in weights.items():
        b = bench.get(k, float("nan"))
        s = np.where(rows, w * values[k] / b if b and np.isfinite(b) else np.nan, np.nan)
        missing = rows & ~np.isfinite(s)
        if impute and missing.any():
            have = rows & np.isfinite(s)
            # 黄岩: a firm without the data gets the mean 规上 score of that item.
            s = np.where(missing, math.fsum(s[have]) / int(have.sum()) if have.any() else 0.0, s)
        scores[k], imputed[k] = s, missing
    return scores, imputed


def evaluate(d: YearData, params: ParameterSet, policy: Policy, prev: Result | None = None) -> Result:
    """Evaluate one data year.

    Args:
        d: the enterprises of the year.
        params: parameters (the method may be overridden, see ``core/reforms.py``).
        policy: the clauses (validity of 2.8 and A.2).
        prev: the previous year's result, for the A.2 flags and D streaks.

    Returns:
        The result, with arrays aligned to ``d``'s rows.
    """
    m = Method.of(params, policy, d.year)
    n = d.n
    land4 = d.mu4()
    above = d.above_scale
    evaluated = np.where(above, land4 > 0, land4 >= m.below_min_land_mu4)
    reason = np.where(evaluated, 0, np.where(land4 <= 0, 1, 2)).astype(np.int8)
    values = ind.compute(d)
    ev_above, ev_below = evaluated & above, evaluated & ~above
    bench = _benchmarks(d, m, values, ev_above, ev_below)
    s_above, imp_above = _item_scores(values, m.weights_above, bench[ABOVE], ev_above, impute=True)
    s_below, _ = _item_scores(values, m.weights_below, bench[BELOW], ev_below, impute=False)
    scores = {k: np.where(above, s_above.get(k, np.nan), s_below.get(k, np.nan)) for k in ind.ALL}
    imputed = {k: imp_above.get(k, np.zeros(n, bool)) for k in ind.ALL}
    raw_total = np.where(
        above,
        sum(np.nan_to_num(s_above[k]) for k in m.weights_above),
        sum(np.nan_to_num(s_below[k]) for k in m.weights_below),
    )
    score = np.where(evaluated, _round_score(raw_total, m.score_decimals), np.nan)

    div_no = d.division_number()
    if m.by_industry:
        labels = sorted(set(m.industry_groups.values()) | {"other"})
        sub = np.full(n, labels.index("other"), dtype=np.int64)
        for div, label in m.industry_groups.items():
            sub[div_no == int(div[1:3])] = labels.index(label)
        gid = np.where(above, 0, len(labels)) + sub
        names = np.array([f"{ABOVE}:{x}" for x in labels] + [f"{BELOW}:{x}" for x in labels])
    else:
        gid = np.where(above, 0, 1)
        names = np.array([ABOVE, BELOW])
    shares = {k: (m.quotas_above if str(name).startswith(ABOVE) else m.quotas_below) for k, name in enumerate(names)}

    # 2.8 and vetoes first take firms out of the ranked population.
    live28 = _in_force(params, "2.8", judging_day(m.window_2_8, d.year)) & evaluated
    fai = d.fen("fixed_asset_investment")
    lim_a = params["class_override.force_a_min_investment"].scaled_at(
        np.array([as_day(judging_day(m.window_2_8, d.year))]), 2
    )[0]
    lim_d = params["class_override.not_d_min_investment"].scaled_at(
        np.array([as_day(judging_day(m.window_2_8, d.year))]), 2
    )[0]
    veto_class = _lookup(d.veto, m.vetoes, "", "<U1")
    vetoed = evaluated & (veto_class != "")
    force_a, _ = override_masks(d.in_construction_period, fai, np.zeros(n, bool), live28 & ~vetoed, lim_a, lim_d)
    ranked = evaluated & ~force_a & ~(vetoed & m.veto_outside_quota)
    rank, size, computed, counts_by_gid = classify(
        gid, ranked, np.nan_to_num(score, nan=0.0), values["tax_per_mu"], d.credit_code, shares, m.score_decimals
    )
    force_a, not_d = override_masks(d.in_construction_period, fai, computed == "D", live28 & ~vetoed, lim_a, lim_d)
    final = np.where(force_a, "A", np.where(not_d, "C", computed))
    final = np.where(vetoed, veto_class, final)
    final = np.where(evaluated, final, "")

    relief = _lookup(final, {k: float(v) for k, v in m.relief.items()}, 0.0, float)
    prev_row = match(prev.data.code_key(), d.code_key()) if prev is not None else np.full(n, -1)
    streak = _d_streak(final, prev, prev_row)
    base_surcharge = _lookup(final, {k: float(v) for k, v in m.surcharge.items()}, 0.0, float)
    surcharge = np.where((final == "D") & (streak >= m.persistent_years), float(m.surcharge_persistent), base_surcharge)

    intensity, level, k_value, grade, agg = carbon_code(
        d["carbon_emission_t"],
        d["value_added"],
        div_no,
        above & evaluated,
        m.carbon_low_max,
        m.carbon_medium_max,
        m.carbon_cuts,
    )
    agg = {f"C{k:02d}": v for k, v in agg.items()}
    low, billion = _a2_flags(d, params, policy, m, prev, prev_row)
    candidate = _candidate(values["value_added_per_energy"], div_no, ev_above, low | billion, final, m)

    counts = {str(names[g]): c for g, c in counts_by_gid.items()}
    edges = _edges(gid, rank, score, names, counts_by_gid)
    override_code = np.where(force_a, 1, np.where(not_d, 2, 0)).astype(np.int8)
    result = Result(
        d.year,
        d,
        m,
        evaluated,
        reason,
        gid.astype(np.int16),
        tuple(str(x) for x in names),
        values,
        scores,
        imputed,
        score,
        rank,
        size,
        computed,
        final,
        override_code,
        vetoed,
        relief,
        surcharge,
        streak,
        intensity,
        level,
        k_value,
        grade,
        agg,
        low,
        billion,
        candidate,
        bench,
        counts,
        edges,
    )
    result.county = county_figures(d, ev_above, m)
    result.thresholds = _thresholds(params, m, d.year)
    return result


THRESHOLDS = {
    "2.8": ("class_override.force_a_min_investment", "class_override.not_d_min_investment"),
    "A.2": (
        "low_efficiency.low_efficiency_max_tax_per_mu",
        "low_efficiency.billion_min_revenue",
        "low_efficiency.billion_max_tax_per_mu",
        "low_efficiency.consecutive_years",
    ),
}
"""The parameters behind the 2.8 overrides and the A.2 flags, stated in every explanation that uses them."""


def _thresholds(params: ParameterSet, m: Method, year: int) -> dict[str, tuple[object, str | None]]:
    """Each threshold's value on the day its clause judges ``year`` (2.8 and A.2 judge on different days)."""
    days = {"2.8": judging_day(m.window_2_8, year), "A.2": judging_day(m.window_a2, year)}
    return {path: (params[path].at(days[c]), params[path].term) for c, paths in THRESHOLDS.items() for path in paths}


def _in_force(params: ParameterSet, clause: str, day: dt.date) -> bool:
    return bool(params[f"in_force.{clause}"].at(day))


def _lookup(keys: np.ndarray, table: dict, default, dtype) -> np.ndarray:
    """``table[key]`` per row for a small table (one vectorised comparison per entry)."""
    out = np.full(len(keys), default, dtype=dtype)
    for k, v in table.items():
        out[keys == k] = v
    return out


def _d_streak(final: np.ndarray, prev: Result | None, prev_row: np.ndarray) -> np.ndarray:
    """Consecutive years in class D up to this year (needs the previous year's result)."""
    before = np.zeros(len(final), dtype=np.int64)
    if prev is not None and prev.data.n:
        before = np.where(prev_row >= 0, prev.d_streak[np.maximum(prev_row, 0)], 0)
    return np.where(final == "D", before + 1, 0)


def _a2_flags(
    d: YearData, params: ParameterSet, policy: Policy, m: Method, prev: Result | None, prev_row: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The two A.2 flags, through the same rule ``tenglong calculate`` uses."""
    y = d.year
    cols = {f"tax_paid@{y}": d.fen("tax_paid"), f"land_area_mu@{y}": d.mu4(), f"revenue@{y}": d.fen("revenue")}
    present: dict[str, np.ndarray] = {}
    if prev is not None and prev.data.n:
        p = prev.data
        found = prev_row >= 0
        for name, arr in ((f"tax_paid@{y - 1}", p.fen("tax_paid")), (f"land_area_mu@{y - 1}", p.mu4())):
            cols[name] = np.where(found, arr[np.maximum(prev_row, 0)], 0)
            present[name] = found
    day = judging_day(m.window_a2, y)
    frame = ArrayFrame("enterprises", d.credit_code, cols, y, np.full(d.n, as_day(day)), present)
    ctx = run_rules({"enterprises": frame}, params, policy, day, y, [a2.RULE])
    return ctx.result("enterprises", "low_efficiency_enterprise").values, ctx.result(
        "enterprises", "billion_yuan_low_tax_enterprise"
    ).values


def _candidate(
    va_per_energy: np.ndarray,
    division: np.ndarray,
    ev_above: np.ndarray,
    flagged: np.ndarray,
    final: np.ndarray,
    m: Method,
) -> np.ndarray:
    """高耗低效 candidate: an A.2 flag, and energy efficiency below a share of the division median (else class C/D)."""
    has_energy = ev_above & np.isfinite(va_per_energy)
    median = np.full(len(final), np.nan)
    if has_energy.any():
        inverse = division[has_energy] + 1  # division numbers, −1 → 0
        groups = int(inverse.max()) + 1
        order = np.lexsort((va_per_energy[has_energy], inverse))
        sorted_inv, sorted_val = inverse[order], va_per_energy[has_energy][order]
        starts = np.searchsorted(sorted_inv, np.arange(groups))
        ends = np.searchsorted(sorted_inv, np.arange(groups), side="right")
        ends = np.maximum(ends, starts + 1).clip(max=len(sorted_val))
        starts = np.minimum(starts, len(sorted_val) - 1)
        lo, hi = sorted_val[starts + (ends - starts - 1) // 2], sorted_val[starts + (ends - starts) // 2]
        medians = (lo + hi) / 2
        median[has_energy] = medians[inverse]
    low_energy = has_energy & (va_per_energy < m.hcle_ratio * median)
    fallback = ~has_energy & np.isin(final, [c for c, v in m.hcle_fallback.items() if v])
    return flagged & (low_energy | fallback)


def _edges(
    gid: np.ndarray, rank: np.ndarray, score: np.ndarray, names: np.ndarray, counts: dict[int, dict[str, int]]
) -> dict[str, dict[str, float]]:
    """The score of the last firm inside A, B and C of each group (the quota edges)."""
    out: dict[str, dict[str, float]] = {}
    for g, c in counts.items():
        in_g = (gid == g) & (rank > 0)
        by_rank = np.full(int(rank[in_g].max()) + 1 if in_g.any() else 1, np.nan)
        by_rank[rank[in_g]] = score[in_g]
        edge = {}
        for cls, last in (("A", c["A"]), ("B", c["A"] + c["B"]), ("C", c["A"] + c["B"] + c["C"])):
            edge[cls] = float(by_rank[last]) if last > 0 and last < len(by_rank) else float("nan")
        out[str(names[g])] = edge
    return out


def county_figures(d: YearData, rows: np.ndarray, m: Method) -> dict[str, dict[str, object]]:
    """County 规上 aggregates against the A.2 targets, compared exactly (``core.targets``).

    Each entry: ``value`` (float, for display; NaN without a denominator), ``target``
    (Decimal), ``term`` (the boundary word) and ``met`` (bool).
    """
    sums = {
        # 分 → 元 and 亩×10⁴ → 亩, kept exact as fractions of integer sums.
        **{c: Fraction(int(d.fen(c)[rows].sum()), 100) for c in ("tax_paid", "value_added", "rd_expense", "revenue")},
        "land_area_mu": Fraction(int(d.mu4()[rows].sum()), 10_000),
        "employees": int(np.nan_to_num(d["employees"][rows]).sum()),
    }
    out: dict[str, dict[str, object]] = {}
    for key, target in m.targets.items():
        r = figure(key, sums)
        out[key] = {
            "value": float(r) if r is not None else float("nan"),
            "target": target.value,
            "term": target.term,
            "met": target.met_by(r),
        }
    return out


def evaluate_years(years: dict[int, YearData], params: ParameterSet, policy: Policy) -> dict[int, Result]:
    """Evaluate consecutive data years in order, carrying D streaks and A.2 history."""
    out: dict[int, Result] = {}
    prev: Result | None = None
    for y in sorted(years):
        if prev is not None and prev.year != y - 1:
            prev = None
        out[y] = prev = evaluate(years[y], params, policy, prev)
    return out


__all__ = ["ABOVE", "BELOW", "Result", "evaluate", "evaluate_years"]
