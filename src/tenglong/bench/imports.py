"""Benchmark of the enterprise-year import (``tenglong bench import``).

The demo county is scaled up (more firms, four years) until it has ``n`` rows with
unique (credit_code, year), written in the import format, and then imported in a
fresh Python process, so that the wall time and the peak RSS (``ru_maxrss``) are
those of the import alone: read + validate + normalise. The imported frame is
compared with the generated one, so the figure is for a correct import.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import polars as pl

from ..adapters.tabular.writer import write_enterprise_years
from ..demo.county import Calibration, generate_county
from .engine import machine

YEARS = range(2020, 2024)
_FIRMS_PER_YEAR = 2600  # active firms per year of the default calibration, roughly

_CHILD = """
import json, resource, sys, time
import polars as pl
from tenglong.services.data.validation import load_enterprise_years
start = time.perf_counter()
result = load_enterprise_years(sys.argv[1])
wall = time.perf_counter() - start
result.frame.write_parquet(sys.argv[2]) if result.ok else None
print(json.dumps({"wall": wall, "ok": result.ok, "rows": result.rows_read, "errors": len(result.problems),
                  "timings": result.timings, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_frame(n: int, seed: int = 1) -> pl.DataFrame:
    """``n`` rows of the demo county (years 2020–2023, as many firms as needed).

    Args:
        n: rows wanted (≥ 1).
        seed: generator seed.

    Returns:
        The first ``n`` rows, sorted by year and credit code; (credit_code, year) is unique.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, e.g. 100000; got {n}")
    scale = max(1.0, n / len(YEARS) / _FIRMS_PER_YEAR * 1.1)
    while True:
        base = Calibration()
        cal = replace(
            base,
            above_firms=round(base.above_firms * scale),
            below_firms=round(base.below_firms * scale),
            below_small_firms=round(base.below_small_firms * scale),
            above_entrants_per_year=math.ceil(base.above_entrants_per_year * scale),
            below_entrants_per_year=math.ceil(base.below_entrants_per_year * scale),
        )
        frame = generate_county(seed, YEARS, calibration=cal)
        if frame.height >= n:
            return frame.head(n)
        scale *= 1.2


def import_benchmark(n: int, seed: int = 1, lang: str = "zh") -> Iterator[str]:
    """Write an ``n``-row XLSX, import it in a fresh process, and yield report lines.

    Args:
        n: rows in the file.
        seed: generator seed.
        lang: ``"zh"`` (Chinese headers, money in 万元) or ``"en"`` (English, 元).

    Yields:
        Human-readable lines: machine, file size, write time, import wall time,
        rows/s, read/validate split, peak RSS, and whether the frame came back exact.
    """
    yield f"machine: {machine()}"
    start = time.perf_counter()
    frame = bench_frame(n, seed)
    yield f"generated {frame.height:,} rows × {frame.width} columns in {time.perf_counter() - start:.2f} s"
    with tempfile.TemporaryDirectory(prefix="tenglong-bench-") as tmp:
        path = Path(tmp) / f"enterprise_years_{lang}.xlsx"
        start = time.perf_counter()
        write_enterprise_years(frame, path, lang=lang)
        yield (
            f"wrote {path.name} ({path.stat().st_size / 2**20:.1f} MiB, xlsxwriter constant_memory) "
            f"in {time.perf_counter() - start:.2f} s"
        )
        out = Path(tmp) / "frame.parquet"
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path), str(out)], capture_output=True, text=True, check=True
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        exact = figures["ok"] and pl.read_parquet(out).equals(frame.with_columns(pl.col("year").cast(pl.Int32)))
    wall = figures["wall"]
    yield (
        f"import (read + validate + normalise): {wall:.2f} s wall, {figures['rows'] / wall:,.0f} rows/s "
        f"(read {figures['timings']['read']:.2f} s, validate {figures['timings']['validate']:.2f} s)"
    )
    yield f"peak RSS of the importing process: {figures['rss_mb']:.0f} MB"
    yield f"errors: {figures['errors']}; frame identical to the generated one: {exact}"
    if n >= 100_000:
        yield f"target (100,000 rows in ≤ 5 s): {'met' if wall * 100_000 / n <= 5 else 'NOT met'}"
