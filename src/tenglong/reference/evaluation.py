"""The annual evaluation, one firm at a time: the per-row oracle of ``core/mujun``.

Plain Python loops and dicts over firms, the way a spreadsheet would do it:
scores in float (the same formula), thresholds and land in ``Decimal``,
ranking by ``sorted`` with a key tuple. Used by the property tests and by
``tenglong bench evaluate`` as the per-row baseline.
"""

from __future__ import annotations

import math
import statistics
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from ..core.mujun.method import Method

WAN = 10_000.0
ABOVE_INDICATORS = {
    "tax_per_mu": ("tax_paid", "land_area_mu", 1 / WAN),
    "value_added_per_mu": ("value_added", "land_area_mu", 1 / WAN),
    "value_added_per_energy": ("value_added", "energy_tce", 1 / WAN),
    "value_added_per_emission": ("value_added", "emission_equivalent_t", 1 / WAN),
    "labor_productivity": ("value_added", "employees", 1 / WAN),
    "rd_intensity": ("rd_expense", "revenue", 1.0),
    "tax_per_kwh": ("tax_paid", "electricity_kwh", 1.0),
}


def _ok(x: Any) -> bool:
    return x is not None and x == x  # not None, not nan


def _indicator(f: dict, k: str) -> float | None:
    num, den, scale = ABOVE_INDICATORS[k]
    a, b = f.get(num), f.get(den)
    return a * scale / b if _ok(a) and _ok(b) and b > 0 else None


def evaluate(
    firms: list[dict[str, Any]],
    m: Method,
    live_2_8: bool,
    force_a_min: Decimal,
    not_d_min: Decimal,
    previous: dict[str, dict[str, Any]] | None = None,
    live_a2: bool = True,
) -> dict[str, dict[str, Any]]:
    """Score, rank and class every firm, then prices, 碳效码 and flags (no industry groups; the default method).

    ``previous`` maps credit codes to last year's ``{"final", "d_streak", "tax_paid", "land_area_mu"}``.
    """
    out: dict[str, dict[str, Any]] = {}
    groups = {"above_scale": [], "below_scale": []}
    for f in firms:
        above = f["above_scale"]
        land = Decimal(repr(float(f["land_area_mu"])))
        evaluated = land > 0 if above else land * 10_000 >= m.below_min_land_mu4
        out[f["credit_code"]] = {"evaluated": evaluated, "ind": {k: _indicator(f, k) for k in ABOVE_INDICATORS}}
        if evaluated:
            groups["above_scale" if above else "below_scale"].append(f)
    bench = {}
    for g, weights in (("above_scale", m.weights_above), ("below_scale", m.weights_below)):
        bench[g] = {}
        for k in weights:
            num, den, scale = ABOVE_INDICATORS[k]
            a, b = [], []
            for f in groups[g]:
                if _ok(f.get(num)) and _ok(f.get(den)) and f[den] > 0:
                    a.append(f[num])
                    b.append(f[den])
            bench[g][k] = math.fsum(a) * scale / math.fsum(b) if b and math.fsum(b) > 0 else float("nan")
    for g, weights in (("above_scale", m.weights_above), ("below_scale", m.weights_below)):
        items: dict[str, list[float]] = {k: [] for k in weights}
        for f in groups[g]:
            o = out[f["credit_code"]]
            o["scores"] = {}
            for k, w in weights.items():
                x = o["ind"][k]
                b = bench[g][k]
                o["scores"][k] = w * x / b if x is not None and b == b and b != 0 else None
                if o["scores"][k] is not None:
                    items[k].append(o["scores"][k])
        for f in groups[g]:
            o = out[f["credit_code"]]
            for k in weights:
                if o["scores"][k] is None:
                    o["scores"][k] = math.fsum(items[k]) / len(items[k]) if items[k] and g == "above_scale" else 0.0
            total = 0.0
            for k in weights:
                total += o["scores"][k]
            o["score"] = math.floor(float(total) * 10**m.score_decimals + 0.5) / 10**m.score_decimals
    for g, quotas in (("above_scale", m.quotas_above), ("below_scale", m.quotas_below)):
        ranked = []
        for f in groups[g]:
            o = out[f["credit_code"]]
            vetoed = m.vetoes.get(f.get("veto") or "", "")
            fai = Decimal(repr(float(f.get("fixed_asset_investment") or 0.0)))
            o["force_a"] = live_2_8 and not vetoed and f.get("in_construction_period", False) and fai >= force_a_min
            o["not_d_possible"] = (
                live_2_8 and not vetoed and f.get("in_construction_period", False) and fai >= not_d_min
            )
            o["veto_class"] = vetoed
            if not o["force_a"] and not (vetoed and m.veto_outside_quota):
                ranked.append(f)
        ranked.sort(
            key=lambda f: (
                -out[f["credit_code"]]["score"],
                -(out[f["credit_code"]]["ind"]["tax_per_mu"] or 0.0),
                f["credit_code"],
            )
        )
        n = len(ranked)

        def half_up(share, n=n):
            return int(
                (Decimal(n) * Decimal(share.numerator) / Decimal(share.denominator)).quantize(
                    Decimal(1), rounding=ROUND_HALF_UP
                )
            )

        na, nc, nd = half_up(quotas["A"]), half_up(quotas["C"]), half_up(quotas["D"])
        nb = n - na - nc - nd
        for r, f in enumerate(ranked, start=1):
            o = out[f["credit_code"]]
            o["rank"] = r
            o["computed"] = "A" if r <= na else "B" if r <= na + nb else "C" if r <= na + nb + nc else "D"
        for f in groups[g]:
            o = out[f["credit_code"]]
            computed = o.get("computed", "")
            final = "A" if o["force_a"] else "C" if o["not_d_possible"] and computed == "D" else computed
            o["final"] = o["veto_class"] or final
            o["relief"] = float(m.relief.get(o["final"], 0))
    _prices_and_flags(firms, out, m, previous or {}, live_a2)
    return out


def _dec(x: Any) -> Fraction:
    return Fraction(Decimal(repr(float(x))))


def _prices_and_flags(
    firms: list[dict[str, Any]],
    out: dict[str, dict[str, Any]],
    m: Method,
    previous: dict[str, dict[str, Any]],
    live_a2: bool,
) -> None:
    """Surcharges, D streaks, 碳效码, the A.2 flags and the 高耗低效 candidate, firm by firm."""
    carbon: dict[str, list[tuple[Fraction, Fraction]]] = {}
    energy: dict[str, list[float]] = {}
    for f in firms:
        o = out[f["credit_code"]]
        final = o.get("final", "")
        prev = previous.get(f["credit_code"], {})
        o["d_streak"] = prev.get("d_streak", 0) + 1 if final == "D" else 0
        o["surcharge"] = (
            float(m.surcharge_persistent)
            if final == "D" and o["d_streak"] >= m.persistent_years
            else float(m.surcharge.get(final, 0))
        )
        if not o["evaluated"]:
            o["relief"], o["surcharge"] = 0.0, 0.0
        division = f.get("industry", "")[:3]
        if (
            f["above_scale"]
            and o["evaluated"]
            and _ok(f.get("carbon_emission_t"))
            and _ok(f.get("value_added"))
            and f["value_added"] > 0
            and f["carbon_emission_t"] >= 0
        ):
            carbon.setdefault(division, []).append((_dec(f["carbon_emission_t"]), _dec(f["value_added"]) / 10_000))
        x = o["ind"]["value_added_per_energy"]
        if f["above_scale"] and o["evaluated"] and x is not None:
            energy.setdefault(division, []).append(x)
    cuts = [Fraction(Decimal(repr(c))) for c in m.carbon_cuts]
    low_max, mid_max = Fraction(Decimal(repr(m.carbon_low_max))), Fraction(Decimal(repr(m.carbon_medium_max)))
    totals = {d: (sum(c for c, _ in v), sum(w for _, w in v)) for d, v in carbon.items()}
    medians = {d: statistics.median(v) for d, v in energy.items()}
    for f in firms:
        o = out[f["credit_code"]]
        division = f.get("industry", "")[:3]
        o["carbon_grade"] = 0
        if (
            division in totals
            and f["above_scale"]
            and o["evaluated"]
            and _ok(f.get("carbon_emission_t"))
            and _ok(f.get("value_added"))
            and f["value_added"] > 0
            and f["carbon_emission_t"] >= 0
        ):
            level = _dec(f["carbon_emission_t"]) / (_dec(f["value_added"]) / 10_000)
            c_sum, w_sum = totals[division]
            o["carbon_level"] = 1 if level <= low_max else 2 if level <= mid_max else 3
            if c_sum > 0:
                k = level / (c_sum / w_sum)
                o["carbon_grade"] = 1 + sum(1 for c in cuts if k > c)
        years = []
        for data in (
            {"tax_paid": f.get("tax_paid"), "land_area_mu": f.get("land_area_mu")},
            previous.get(f["credit_code"], {}),
        ):
            tax, land = data.get("tax_paid"), data.get("land_area_mu")
            years.append(_dec(tax) / 10_000 / _dec(land) if _ok(tax) and _ok(land) and land > 0 else None)
        known = all(y is not None for y in years)
        o["low_efficiency"] = live_a2 and known and all(y <= 5 for y in years)
        o["billion_low_tax"] = (
            live_a2
            and known
            and _ok(f.get("revenue"))
            and _dec(f["revenue"]) >= 100_000_000
            and all(y <= 10 for y in years)
        )
        x = o["ind"]["value_added_per_energy"]
        if f["above_scale"] and o["evaluated"] and x is not None:
            energy_low = x < m.hcle_ratio * medians[division]
        else:
            energy_low = bool(m.hcle_fallback.get(o.get("final", ""), False))
        o["candidate"] = (o["low_efficiency"] or o["billion_low_tax"]) and energy_low


__all__ = ["Fraction", "evaluate"]
