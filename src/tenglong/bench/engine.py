"""Benchmarks of the engine (``tenglong bench engine`` / ``bench calculate``).

They print figures; they are never run as timed tests. Peak RSS is the process's
``ru_maxrss``, so run one benchmark per process for a clean figure.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import resource
import time
from collections.abc import Iterator
from decimal import Decimal

import numpy as np

from ..core import loader
from ..core.engine import run_rules
from ..core.exact import I64
from ..core.frame import ArrayFrame
from ..core.rules import RULES
from ..reference import rules as ref

PROJECT_RULES = (
    "planning_approval",
    "building_density",
    "scattered_land",
    "fee_waiver",
    "tech_renovation",
    "vertical_industry",
    "ancillary_facilities",
)
AS_OF = dt.date(2023, 6, 1)


def machine() -> str:
    """A one-line description of this machine."""
    import os

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, {os.cpu_count()} cores, {cpu}"
    )


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(n: int, seed: int = 1) -> dict[str, ArrayFrame]:
    """N synthetic projects, N/4 enterprises and N/10 land transfers, as engine arrays."""
    rng = np.random.default_rng(seed)
    n_ent = max(1, n // 4)
    fen = lambda lo, hi, size: (rng.integers(lo, hi, size) * 100).astype(I64)  # noqa: E731
    ent_ids = np.char.add("E", np.arange(n_ent).astype(str))
    enterprises = ArrayFrame(
        "enterprises",
        ent_ids,
        {
            "mujun_class": rng.choice(np.array(["A", "B", "C", "D"]), n_ent, p=[0.2, 0.6, 0.15, 0.05]),
            "mujun_class_computed": rng.choice(np.array(["A", "B", "C", "D"]), n_ent, p=[0.2, 0.6, 0.15, 0.05]),
            "in_construction_period": rng.random(n_ent) < 0.05,
            "fixed_asset_investment": fen(0, 200_000_000, n_ent),
            "is_2513_enterprise": rng.random(n_ent) < 0.05,
            "local_contribution_growth": rng.integers(-200_000, 400_000, n_ent).astype(I64),
            "industrial_equipment_investment": fen(0, 50_000_000, n_ent),
            "leading_enterprise": rng.random(n_ent) < 0.1,
        },
        AS_OF.year,
    )
    days = (np.datetime64("2022-06-01") + rng.integers(0, 640, n)).astype("datetime64[D]")
    equipment = fen(0, 60_000_000, n)
    before = rng.integers(5_000, 30_000, n).astype(I64)
    total_after = fen(1_000, 200_000, n)
    projects = ArrayFrame(
        "projects",
        np.char.add("P", np.arange(n).astype(str)),
        {
            "enterprise": rng.integers(0, n_ent, n).astype(I64),
            "application_date": days,
            "total_investment": equipment + fen(0, 40_000_000, n),
            "equipment_investment": equipment,
            "traditional_industry": rng.random(n) < 0.8,
            "key_industrial_project": rng.random(n) < 0.1,
            "recognized_equipment_investment": equipment,
            "zero_land_renovation": rng.random(n) < 0.6,
            "self_owned_and_used": rng.random(n) < 0.9,
            "land_area": fen(1_000, 100_000, n),
            "plot_ratio_before": before,
            "plot_ratio_after": before + rng.integers(0, 15_000, n).astype(I64),
            "renovated_floor_area": total_after * rng.integers(0, 40, n) // 100,
            "total_floor_area_after": total_after,
            "new_floor_area_storey_4": fen(0, 8_000, n),
            "new_floor_area_storey_5": fen(0, 8_000, n),
            "new_floor_area_storey_6_plus": fen(0, 8_000, n),
            "original_land_area_mu": rng.integers(10_000, 2_000_000, n).astype(I64),
            "scattered_land_area_mu": rng.integers(0, 200_000, n).astype(I64),
            "industry_direction_compliant": rng.random(n) < 0.95,
            "land_use_unchanged": rng.random(n) < 0.9,
            "own_industrial_use": rng.random(n) < 0.9,
            "land_premium_due": fen(0, 2_000_000, n),
            "infrastructure_fee_due": fen(0, 500_000, n),
            "standard_land_new_project": rng.random(n) < 0.2,
            "construction_risk_class": rng.choice(np.array(["special", "low", "general"]), n),
            "adds_storeys": rng.random(n) < 0.2,
            "building_count": rng.integers(1, 6, n).astype(I64),
            "in_industrial_park": rng.random(n) < 0.5,
            "stock_project": rng.random(n) < 0.7,
            "in_key_rental_housing_area": rng.random(n) < 0.5,
            "land_area_mu": rng.integers(10_000, 2_000_000, n).astype(I64),
        },
        AS_OF.year,
        days,
    )
    n_t = max(1, n // 10)
    t_days = (np.datetime64("2022-06-01") + rng.integers(0, 640, n_t)).astype("datetime64[D]")
    b = lambda p: rng.random(n_t) < p  # noqa: E731
    transfers = ArrayFrame(
        "land_transfers",
        np.char.add("T", np.arange(n_t).astype(str)),
        {
            "kind": rng.choice(np.array(["split", "merge", "pre_registration"]), n_t),
            "application_date": t_days,
            "completed_and_in_production": b(0.9),
            "split_by_whole_buildings": b(0.9),
            "industrial_real_estate": b(0.1),
            "parcel_count_after": rng.integers(2, 6, n_t).astype(I64),
            "smallest_parcel_area_mu": rng.integers(50_000, 400_000, n_t).astype(I64),
            "separates_ancillary_land": b(0.05),
            "parcel_from_earlier_split": b(0.05),
            "parcel_from_earlier_merge": b(0.05),
            "same_ownership_nature": b(0.95),
            "same_use_right_type": b(0.95),
            "adjacent": b(0.9),
            "remaining_terms_years": rng.integers(1_000, 5_000, (n_t, 3)).astype(I64),
            "transferee_mujun_class_last_year": rng.choice(np.array(["A", "B", "C", "D", "none"]), n_t),
            "transferee_compliant": b(0.95),
            "standard_land": b(0.3),
            "transferee_accepts_standard_land_terms": b(0.9),
            "low_efficiency_land": b(0.5),
            "investment_ratio": rng.integers(0, 600_000, n_t).astype(I64),
            "contract_restricts_transfer": b(0.1),
            "industry_department_approved": b(0.8),
            "government_approved": b(0.8),
        },
        AS_OF.year,
        t_days,
    )
    return {"enterprises": enterprises, "projects": projects, "land_transfers": transfers}


def _rows_for_reference(frames: dict[str, ArrayFrame], m: int) -> tuple[list[dict], dict[str, dict]]:
    """The first ``m`` projects (and all enterprises) as Decimal dicts."""
    p, e = frames["projects"], frames["enterprises"]
    scale = {
        "total_investment": 2,
        "equipment_investment": 2,
        "recognized_equipment_investment": 2,
        "land_area": 2,
        "plot_ratio_before": 4,
        "plot_ratio_after": 4,
        "renovated_floor_area": 2,
        "total_floor_area_after": 2,
        "new_floor_area_storey_4": 2,
        "new_floor_area_storey_5": 2,
        "new_floor_area_storey_6_plus": 2,
        "original_land_area_mu": 4,
        "scattered_land_area_mu": 4,
        "land_premium_due": 2,
        "infrastructure_fee_due": 2,
        "land_area_mu": 4,
    }
    rows = []
    for i in range(m):
        row = {
            "id": str(p.ids[i]),
            "enterprise": str(e.ids[p.columns["enterprise"][i]]),
            "day": p.columns["application_date"][i].astype(dt.date),
        }
        for k, v in p.columns.items():
            if k in ("enterprise", "application_date"):
                continue
            x = v[i]
            row[k] = (
                Decimal(int(x)).scaleb(-scale[k])
                if k in scale
                else (bool(x) if v.dtype == bool else (int(x) if v.dtype.kind == "i" else str(x)))
            )
        rows.append(row)
    ents = {}
    for j in range(e.n):
        ents[str(e.ids[j])] = {
            "mujun_class": str(e.columns["mujun_class"][j]),
            "is_2513_enterprise": bool(e.columns["is_2513_enterprise"][j]),
            "leading_enterprise": bool(e.columns["leading_enterprise"][j]),
            "local_contribution_growth": Decimal(int(e.columns["local_contribution_growth"][j])).scaleb(-6),
            "industrial_equipment_investment": Decimal(int(e.columns["industrial_equipment_investment"][j])).scaleb(-2),
        }
    return rows, ents


def reference_projects(rows: list[dict], ents: dict[str, dict]) -> None:
    """Every project rule, row by row, in Decimal."""
    params = loader.parameters()
    ref.tech_renovation(rows, ents, params)
    for r in rows:
        cls = ents[r["enterprise"]]["mujun_class"]
        ref.vertical_industry(r, cls, params)
        ref.scattered_land(r, params)
        ref.fee_waiver(r, params)
        ref.planning(r, params)
        ref.ancillary(r, ents[r["enterprise"]], params)


def engine_benchmark(n: int, reference_n: int | None = None, seed: int = 1) -> Iterator[str]:
    """Generate, time the vectorised project rules and land-transfer rules, then the reference."""
    params, policy = loader.parameters(), loader.policy()
    yield f"machine: {machine()}"
    t0 = time.perf_counter()
    frames = generate(n, seed)
    yield (
        f"generated {n:,} projects, {frames['enterprises'].n:,} enterprises, "
        f"{frames['land_transfers'].n:,} land transfers in {time.perf_counter() - t0:.2f} s"
    )
    project_rules = [r for r in RULES if r.id in PROJECT_RULES]
    run_rules(frames, params, policy, AS_OF, AS_OF.year, project_rules[:1])  # warm-up (imports, caches)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        ctx = run_rules(frames, params, policy, AS_OF, AS_OF.year, project_rules)
        best = min(best, time.perf_counter() - t0)
    paid = int(ctx.result("projects", "tech_renovation_subsidy").values.sum())
    yield (
        f"vectorised: all project rules ({', '.join(PROJECT_RULES)}) over {n:,} projects: "
        f"{best:.3f} s (best of 3) = {n / best:,.0f} rows/s; 2.10 subsidies total {paid / 100:,.2f} 元"
    )
    t_rules = [r for r in RULES if r.id == "land_transfer"]
    t0 = time.perf_counter()
    run_rules(frames, params, policy, AS_OF, AS_OF.year, t_rules)
    tt = time.perf_counter() - t0
    yield (
        f"vectorised: 2.7/2.12 over {frames['land_transfers'].n:,} land transfers: "
        f"{tt:.3f} s = {frames['land_transfers'].n / tt:,.0f} rows/s"
    )
    yield f"peak RSS after the vectorised run: {peak_rss_mb():,.0f} MB"
    m = min(n, reference_n or 100_000)
    rows, ents = _rows_for_reference(frames, m)
    t0 = time.perf_counter()
    reference_projects(rows, ents)
    tr = time.perf_counter() - t0
    yield f"reference (per-row Decimal): the same project rules over {m:,} projects: {tr:.3f} s = {m / tr:,.0f} rows/s"
    yield f"speed-up: {(n / best) / (m / tr):,.0f}× (rows/s vectorised ÷ rows/s reference)"
    yield f"peak RSS at the end: {peak_rss_mb():,.0f} MB"


def request_document(n: int, seed: int = 7) -> str:
    """A JSON request with N projects asking for every 2.10 and 2.11 output."""
    rng = np.random.default_rng(seed)
    ents = {
        f"E{k}": {
            "mujun_class": "ABCD"[k % 4],
            "is_2513_enterprise": bool(k % 9 == 0),
            "local_contribution_growth": 0.15,
            "industrial_equipment_investment": 6000000,
        }
        for k in range(max(1, n // 4))
    }
    projects = {}
    for i in range(n):
        fen = int(rng.integers(0, 6_000_000_000))
        eq, total = fen / 100, (fen + 300_000_000) / 100  # from integer 分, so the JSON has ≤ 2 decimals
        projects[f"P{i}"] = {
            "enterprise": f"E{i % max(1, n // 4)}",
            "application_date": f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "total_investment": total,
            "equipment_investment": eq,
            "key_industrial_project": bool(i % 7 == 0),
            "zero_land_renovation": True,
            "self_owned_and_used": True,
            "land_area": 20000,
            "plot_ratio_before": 1.0,
            "plot_ratio_after": round(1.0 + (i % 50) / 100, 2),
            "renovated_floor_area": 4000,
            "total_floor_area_after": 30000,
            "new_floor_area_storey_5": 3000,
            "tech_renovation_tier": None,
            "tech_renovation_subsidy": None,
            "key_project_reward_2513": None,
            "vertical_industry_route": None,
            "vertical_industry_reward": None,
        }
    return json.dumps({"as_of": "2023-06-01", "enterprises": ents, "projects": projects})


def calculate_benchmark(n: int, explain: bool = False) -> Iterator[str]:
    """Time the whole contract (parse, validate, compute, write JSON) at N/4, N/2 and N projects."""
    from ..services.calculation.contract import calculate, dumps, parse_json

    yield f"machine: {machine()}"
    for size in (n // 4, n // 2, n):
        text = request_document(size)
        t0 = time.perf_counter()
        out = dumps(calculate(parse_json(text), explain=explain), indent=None)
        dt_ = time.perf_counter() - t0
        yield (
            f"{size:>9,} projects, explain={explain}: {dt_:.2f} s ({size / dt_:,.0f} projects/s), "
            f"{len(text) / 1e6:.1f} MB in, {len(out) / 1e6:.1f} MB out"
        )
    yield f"peak RSS: {peak_rss_mb():,.0f} MB"
