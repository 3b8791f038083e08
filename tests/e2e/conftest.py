"""Browser tests: the real app in a uvicorn subprocess, driven by Debian's chromium through Playwright.

Never `playwright install`: the browser is /usr/bin/chromium (CHROMIUM_PATH). The server
gets its own SQLite demo database (or PostgreSQL with TEST_DATABASE_URL), one per xdist worker.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "demo-tenglong-2023"
expect.set_options(
    timeout=15_000
)  # auto-waiting assertions: generous when two servers and browsers share the machine (-n 2)
SHOTS = Path(os.environ.get("TENGLONG_SCREENSHOTS", "test-results/screenshots"))


def pytest_collection_modifyitems(items):
    """Every test here drives a browser (marker `browser`); skip them all without chromium."""
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if not Path(CHROMIUM).exists():
                item.add_marker(pytest.mark.skip(reason=f"chromium not found at {CHROMIUM} (./test installs it)"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, headless, without network side calls."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A Chinese desktop browser."""
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1366, "height": 900}}


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _database_url(tmp_path_factory) -> str:
    """PostgreSQL (a fresh database per xdist worker) when TEST_DATABASE_URL is set, as in CI; else a SQLite file."""
    from ..conftest import fresh_pg_url

    return fresh_pg_url("tenglong_e2e") or f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}"


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> str:
    """Base URL of a live server on the demo county (PostgreSQL in CI, SQLite otherwise)."""
    port = _free_port()
    env = {
        **os.environ,
        "TENGLONG_DATABASE_URL": _database_url(tmp_path_factory),
        "TENGLONG_PORT": str(port),
        "TENGLONG_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
    }
    with open(tmp_path_factory.mktemp("log") / "server.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tenglong.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}; see {log.name}")
            time.sleep(0.3)
        else:
            proc.terminate()
            raise RuntimeError("the server did not start in 120 s")
        yield url
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def login(page, server):
    """Sign the page in as a demo role and land on the dashboard."""

    def sign_in(role: str) -> None:
        page.context.clear_cookies()  # a fresh session (and the default language) when switching roles mid-test
        page.goto(f"{server}/login")
        page.fill("input[name=username]", role)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/dashboard")

    return sign_in


@pytest.fixture
def render_errors(page) -> list[str]:
    """Console errors, uncaught page errors and failed /static requests seen by ``page`` (the favicon 404 excepted)."""
    seen: list[str] = []

    def console(msg) -> None:
        url = (msg.location or {}).get("url", "")
        if msg.type == "error" and not url.endswith("/favicon.ico"):
            seen.append(f"console error: {msg.text} ({url})")

    page.on("console", console)
    page.on("pageerror", lambda exc: seen.append(f"page error: {exc}"))
    page.on(
        "requestfailed", lambda req: "/static/" in req.url and seen.append(f"request failed: {req.url} {req.failure}")
    )
    page.on("response", lambda r: "/static/" in r.url and r.status >= 400 and seen.append(f"{r.status} for {r.url}"))
    return seen


CSP_LISTENER = """document.addEventListener('securitypolicyviolation', (e) => window.__tenglongCspViolation(
  `${e.effectiveDirective} refused ${e.blockedURI || 'inline'} on ${location.pathname}`
  + ` (${e.sourceFile}:${e.lineNumber})`));"""


@pytest.fixture
def csp_violations(page) -> list[str]:
    """What the Content-Security-Policy refused on ``page``: each ``securitypolicyviolation`` event, and every console
    message (of any level) that speaks of the policy ("Content Security Policy", "Refused to").
    """
    seen: list[str] = []

    def console(msg) -> None:
        if "Content Security Policy" in msg.text or "Refused to" in msg.text:
            seen.append(f"console {msg.type}: {msg.text}")

    page.on("console", console)
    page.expose_function("__tenglongCspViolation", lambda text: seen.append(f"violation: {text}"))
    page.add_init_script(CSP_LISTENER)
    return seen


def wait_for_charts(page, timeout: float = 30_000) -> int:
    """Wait until every ECharts container on the page (``.chart``) has drawn; returns how many there are."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "document.body.dataset.chartReady === '1' && "
        "[...document.querySelectorAll('.chart')].every(e => e.dataset.chartReady === '1')",
        timeout=timeout,
    )
    return page.locator(".chart").count()


CANVAS_INK = """() => [...document.querySelectorAll('.chart')].map(el => {
  const c = el.querySelector('canvas');
  if (!c) return {id: el.id, canvas: false};
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0; const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0) continue;
    ink += 1;
    if (colours.size < 64) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  }
  return {id: el.id, canvas: true, width: c.width, height: c.height,
    ink: ink / (c.width * c.height), colours: colours.size};
})"""


def chart_ink(page) -> list[dict]:
    """Per chart: its canvas size, the share of non-transparent pixels and the number of distinct colours (up to 64)."""
    return page.evaluate(CANVAS_INK)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-results/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
