"""``tenglong bench reports``: the time to produce each report on the demo county (the issue's goal: a monthly
bulletin in at most 2 s; the 季擂台 and 年评优 beside it), through the same service the page and ``tenglong report``
call."""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ..services.bootstrap import ensure_database
from ..services.campaign.common import CHINA
from ..services.kernel.platform import Platform
from ..services.reports.documents import contest_file, monthly_file
from ..settings import Settings
from .engine import machine


def reports_benchmark(repeat: int = 5, database_url: str | None = None) -> Iterator[str]:
    """Median and worst time of the county's and the demo town's monthly bulletin, PDF and XLSX, this month."""
    yield f"machine: {machine()}"
    url = database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='tenglong-bench-')) / 'bench.db'}"
    p = Platform.from_settings(Settings(database_url=url, demo=True))
    ensure_database(p, say=lambda m: None)
    month = f"{dt.datetime.now(CHINA):%Y-%m}"
    yield f"database: {url}; month {month}"
    monthly_file(p.uow, None, month, None, "pdf")  # warm-up: loads WeasyPrint, pango and matplotlib once
    today = dt.datetime.now(CHINA).date()
    jobs = [
        (
            f"monthly bulletin {town or '全市 county':<12}",
            lambda fmt, town=town: monthly_file(p.uow, None, month, town, fmt),
        )
        for town in (None, "杜桥镇")
    ] + [
        (
            f"{label} {period:<7}",
            lambda fmt, period=period, annual=annual: contest_file(p.uow, None, period, annual, fmt),
        )
        for label, period, annual in (
            ("quarterly contest", f"{today.year}Q{(today.month + 2) // 3}", False),
            ("annual awards", str(today.year - 1), True),
        )
    ]
    for label, make in jobs:
        for fmt in ("pdf", "xlsx"):
            times, size = [], 0
            for _ in range(repeat):
                t0 = time.perf_counter()
                size = len(make(fmt).content)
                times.append(time.perf_counter() - t0)
            yield (
                f"{label} {fmt:<4} median {statistics.median(times):5.2f} s   "
                f"worst {max(times):5.2f} s   ({repeat} runs, {size / 1024:.0f} KiB)"
            )
    p.engine.dispose()
