"""``tenglong bench simulate``: a reform against the baseline over a large county (issue 12's goals: one comparison
≤ 300 ms with 100,000 enterprise-years and 200,000 projects once loaded; a 50-point sweep ≤ 10 s).

The county is held as a columnar snapshot (``core.simulate.Snapshot``): two synthetic data years of N firms (the
evaluation benchmark's generator) and the engine benchmark's projects, whose enterprises are the first firms of the
data. Nothing goes through the JSON contract. Printed figures only; never a timed test.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import numpy as np

from ..core import simulate as sim
from ..core.credit_code import make_code
from ..core.frame import ArrayFrame
from ..services import simulation
from ..services.evaluation.methods import from_json
from .engine import AS_OF, generate, machine, peak_rss_mb
from .evaluation import synthetic_year


def county(n_firms: int, n_projects: int, seed: int = 1) -> sim.Snapshot:
    """The synthetic county: N firms over 2022–2023, and projects of the first N/… firms, as a snapshot."""
    codes = np.sort(make_code(np.random.default_rng(seed), n_firms))
    years = {2022: synthetic_year(n_firms, 2022, seed, codes), 2023: synthetic_year(n_firms, 2023, seed + 1, codes)}
    frames = generate(n_projects, seed)
    ents = frames["enterprises"]
    n_ent = min(ents.n, n_firms)
    ents = ArrayFrame("enterprises", codes[:n_ent], {k: v[:n_ent] for k, v in ents.columns.items()}, AS_OF.year)
    projects = frames["projects"]
    projects.columns["enterprise"] = projects.columns["enterprise"] % n_ent
    data_row = np.arange(n_ent, dtype=np.int64)
    return sim.Snapshot(2023, years, {"enterprises": ents, "projects": projects}, AS_OF, AS_OF.year, data_row)


def _time(f: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times), out


def quotas(a: Decimal) -> dict[str, Decimal]:
    """Quotas with A = ``a``, C 15 %, D 5 % and B the rest."""
    return {"A": a, "B": Decimal("0.80") - a, "C": Decimal("0.15"), "D": Decimal("0.05")}


def simulate_benchmark(
    n_firms: int = 100_000, n_projects: int = 200_000, repeat: int = 5, points: int = 50
) -> Iterator[str]:
    """The figures of ``tenglong bench simulate``."""
    yield f"machine: {machine()}"
    t0 = time.perf_counter()
    snap = county(n_firms, n_projects)
    n_projects = snap.frames["projects"].n if snap.frames else 0
    took = time.perf_counter() - t0
    yield f"county: {n_firms:,} firms × 2 data years, {n_projects:,} projects: built in {took:.2f} s"
    t0 = time.perf_counter()
    s = simulation.Simulator.start(snap)
    yield f"baseline (evaluation of 2 years + 2.10/2.11 rules), once: {time.perf_counter() - t0:.3f} s"
    rate = {"tech_renovation.major_rate": Decimal("0.12")}
    quota = {"mujun.quotas_above_scale": quotas(Decimal("0.25"))}
    reforms = {
        "2.10 major rate 12% (rules only)": from_json({"title": "r", "changes": rate}),
        "A quota 25% (evaluation + rules)": from_json({"title": "q", "changes": quota}),
    }
    for name, m in reforms.items():
        med, worst, c = _time(lambda m=m: s.compare(m), repeat)
        yield f"compare, {name}: median {med * 1000:6.1f} ms, worst {worst * 1000:6.1f} ms"
        med, worst, doc = _time(lambda c=c, m=m: simulation.to_json(c, m, s.labels), repeat)
        yield (
            f"  + the whole JSON document ({len(doc['firms']):,} firms listed): median {med * 1000:6.1f} ms, "
            f"worst {worst * 1000:6.1f} ms"
        )
    m = reforms["A quota 25% (evaluation + rules)"]
    c = s.compare(m)
    moved = (
        str(c.snapshot.data.credit_code[c.changed()[0]]) if len(c.changed()) else str(c.snapshot.data.credit_code[0])
    )
    med, worst, _ = _time(lambda: simulation.firm_explanation(c, m, moved), repeat)
    yield (
        f"one firm's explanation, both sides (its projects run again alone): median {med * 1000:6.1f} ms, "
        f"worst {worst * 1000:6.1f} ms"
    )
    values = [Decimal("0.10") + Decimal("0.005") * i for i in range(points)]
    t0 = time.perf_counter()
    swept = s.sweep("mujun.quotas_above_scale", [quotas(v) for v in values])
    figures = [(p["support"]["total"], p["classes"]["above_scale"]["A"]) for p in swept]
    took = time.perf_counter() - t0
    yield (
        f"sweep of the A quota over {points} points (10% … {values[-1] * 100:.1f}%), budget and A count each: "
        f"{took:.2f} s ({took / points * 1000:.0f} ms a point); A count {figures[0][1]:,} → {figures[-1][1]:,}"
    )
    yield f"peak RSS: {peak_rss_mb():.0f} MB"
