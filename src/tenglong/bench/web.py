"""``tenglong bench pages`` and ``bench api``: server-side timings of the platform on the demo county.

Requests go through the real ASGI app in-process (Starlette's TestClient), so the
figures are the server's render and compute time without network latency.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ..services.bootstrap import ensure_database
from ..services.kernel.platform import Platform
from ..settings import DEMO_PASSWORD, Settings
from .engine import machine, request_document


def _client(database_url: str | None):
    import warnings

    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

    from ..web.app import create_app

    url = database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='tenglong-bench-')) / 'bench.db'}"
    p = Platform.from_settings(Settings(database_url=url, demo=True))
    ensure_database(p, say=lambda m: None)
    c = TestClient(create_app(p))
    r = c.post("/api/v1/session", json={"username": "admin", "password": DEMO_PASSWORD})
    r.raise_for_status()
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c, p


def pages_benchmark(repeat: int = 50, database_url: str | None = None) -> Iterator[str]:
    """Median and 90th-percentile server time of the main pages (signed in as admin)."""
    yield f"machine: {machine()}"
    c, p = _client(database_url)
    code = c.get("/api/v1/enterprises", params={"page_size": 1, "above_scale": "true"}).json()["items"][0][
        "credit_code"
    ]
    yield f"database: {p.settings.database_url}"
    for path in ("/dashboard", f"/enterprises/{code}", "/enterprises", "/evaluations", "/policy"):
        c.get(path)  # warm-up
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            r = c.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
        times.sort()
        yield (
            f"GET {path:<32} median {statistics.median(times):6.1f} ms   "
            f"p90 {times[int(0.9 * len(times)) - 1]:6.1f} ms   ({repeat} requests, {len(r.content) / 1024:.0f} KiB)"
        )


def api_benchmark(n: int = 10_000, database_url: str | None = None) -> Iterator[str]:
    """POST /api/v1/calculate with N projects (explanations off and on) at N/4, N/2 and N."""
    yield f"machine: {machine()}"
    c, _ = _client(database_url)
    for explain in (False, True):
        for size in (n // 4, n // 2, n):
            body = request_document(size).encode()
            t0 = time.perf_counter()
            r = c.post(
                f"/api/v1/calculate?explain={'true' if explain else 'false'}",
                content=body,
                headers={"content-type": "application/json"},
            )
            dt = time.perf_counter() - t0
            r.raise_for_status()
            yield (
                f"POST /api/v1/calculate {size:>7,} projects, explain={explain!s:<5}: {dt:.2f} s "
                f"({len(body) / 1e6:.1f} MB in, {len(r.content) / 1e6:.1f} MB out)"
            )
