"""The event loop stays free while a route computes: blocking work runs in the threadpool, not in ``async def`` routes.

The real app is served by uvicorn on a thread of this process (on the shared SQLite demo platform).
A big ``POST /api/v1/calculate`` is sent from another thread; once the server is computing it, a light
request must be answered before the big answer arrives. This is an ordering assertion, not a timing one.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from tenglong.bench.engine import request_document
from tenglong.services.kernel.platform import Platform
from tenglong.settings import DEMO_PASSWORD
from tenglong.web.api import calculate as calculate_route
from tenglong.web.app import create_app

PROJECTS = 30_000  # about two seconds of computing (explain=false)
PATIENCE = 300  # seconds; only a hung server comes near this


@pytest.fixture
def live_server(platform: Platform) -> Iterator[str]:
    """The app served by uvicorn on a free port, on a thread of this process; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(platform), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()


def _signed_in(base_url: str, role: str) -> httpx.Client:
    c = httpx.Client(base_url=base_url, timeout=PATIENCE)
    r = c.post("/api/v1/session", json={"username": role, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def test_event_loop_when_a_big_calculation_runs_answers_a_light_request_first(live_server, monkeypatch):
    """While 30,000 projects are computed, GET /api/v1/session is answered before the calculation's answer arrives."""
    computing = threading.Event()
    compute = calculate_route.calculate

    def spy(*args, **kwargs):  # the same calculation; it only says when it has started
        computing.set()
        return compute(*args, **kwargs)

    monkeypatch.setattr(calculate_route, "calculate", spy)
    big_client, light_client = _signed_in(live_server, "department"), _signed_in(live_server, "department")
    document = request_document(PROJECTS)
    arrived: list[str] = []
    big: dict[str, object] = {}

    def send_big() -> None:
        try:
            with big_client.stream(
                "POST",
                "/api/v1/calculate",
                params={"explain": "false"},
                content=document,
                headers={"content-type": "application/json"},
            ) as r:
                arrived.append("big")  # the status line is sent only once the calculation is over
                big["status"] = r.status_code
                big["projects"] = len(httpx.Response(200, content=r.read()).json()["projects"])
        except Exception as exc:  # reported by the assertions below
            big["error"] = exc

    sender = threading.Thread(target=send_big, name="big-calculation")
    sender.start()
    try:
        assert computing.wait(PATIENCE), f"the calculation never started: {big}"
        light = light_client.get("/api/v1/session")
        arrived.append("light")
        assert light.status_code == 200 and light.json()["username"] == "department"
    finally:
        sender.join(PATIENCE)
        big_client.close()
        light_client.close()
    assert big == {"status": 200, "projects": PROJECTS}
    assert arrived == ["light", "big"], "the light request waited for the calculation: the event loop was blocked"
