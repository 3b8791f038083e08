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

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "demo-tenglong-2023"
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


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> str:
    """Base URL of a live server on the demo county."""
    port = _free_port()
    env = {**os.environ, "TENGLONG_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}", "TENGLONG_PORT": str(port),
           "TENGLONG_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads"))}
    log = open(tmp_path_factory.mktemp("log") / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "tenglong.cli", "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
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
        page.goto(f"{server}/login")
        page.fill("input[name=username]", role)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/dashboard")

    return sign_in


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-results/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
