"""What a request may be (``web/limits.py``): bodies bounded while they are read, JSON bodies read strictly, ids and
page numbers in range, hand-read fields of the right type — each refusal in the error envelope, never a 500.

The streaming tests drive the app through httpx's ASGI transport, which hands the body to the app one chunk at a
time as the app asks for it (Starlette's TestClient reads a generator whole first), and count the chunks taken.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from tenglong.adapters.db.tables import data_imports, enterprises
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.settings import DEMO_PASSWORD
from tenglong.web.app import create_app
from tenglong.web.limits import MAX_ID, SLACK

MB = 1024 * 1024
CHUNK = 64 * 1024
ENVELOPE_KEYS = ["ok", "status", "code", "message", "problems"]
BOUNDARY = "tenglongboundary"
MULTIPART_HEAD = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
).encode()
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class Endless:
    """A chunked body of up to ``total`` bytes that counts the chunks the app took (and can watch each one)."""

    def __init__(self, head: bytes = b"", total: int = 300 * MB, fill: bytes = b"x", watch: Any = None) -> None:
        self.head, self.total, self.fill, self.watch = head, total, fill, watch
        self.taken = 0

    async def __aiter__(self):
        if self.head:
            self.taken += 1
            yield self.head
        while self.taken * CHUNK < self.total:
            self.taken += 1
            if self.watch:
                self.watch()
            yield self.fill * (CHUNK // len(self.fill))


async def _post(app, path: str, role: str | None, body: Any, content_type: str, html: bool = False, **headers: str):
    """POST ``body`` (streamed) as ``role`` through the ASGI app; the response."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        if role is not None:
            r = await client.post("/api/v1/session", json={"username": role, "password": DEMO_PASSWORD})
            assert r.status_code == 200, r.text
            headers["X-CSRF-Token"] = r.json()["csrf_token"]
        headers["Content-Type"] = content_type
        if html:
            headers["Accept"] = "text/html"
        return await client.post(path, content=body, headers=headers)


def _stream(app, path, role, body, content_type, html=False, **headers) -> httpx.Response:
    """Run the streamed POST on a loop of its own thread: a browser test earlier in this worker may have left
    Playwright's event loop running in the main thread, where ``asyncio.run`` refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _post(app, path, role, body, content_type, html, **headers)).result()


def _envelope(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text[:500]
    body = r.json()
    assert list(body) == ENVELOPE_KEYS and body["status"] == status and body["code"] == code, body
    assert body["message"]["zh"] and body["message"]["en"]
    return body


@pytest.fixture
def app(platform):
    return create_app(platform)


def test_session_when_anonymous_chunked_body_is_300_mb_is_refused_after_the_first_megabyte(app):
    """The 300 MB chunked sign-in of the attack: 413 after 1 MB is read, before any sign-in, the rest never read."""
    body = Endless(total=300 * MB)
    r = _stream(app, "/api/v1/session", None, body, JSON)
    assert "1 MB" in _envelope(r, 413, "too_large")["message"]["en"]
    assert body.taken <= (MB + SLACK) // CHUNK + 1 < 300 * MB // CHUNK


FIELD = b"&f=" + b"x" * (
    CHUNK - 3
)  # a form field a chunk long: under Starlette's own limits on a field's size and count
ROUTES = [
    # (path, role, the setting of its limit, content type, the body's first bytes, the error page?)
    ("/api/v1/calculate", "department", "max_calculate_mb", JSON, b'{"as_of": "', False),
    ("/api/v1/projects", "town", "max_request_mb", JSON, b'{"name": "', False),
    ("/api/v1/evaluations", "admin", "max_request_mb", JSON, b'{"year": 2023, "x": "', False),
    ("/api/v1/imports", "admin", "max_upload_mb", MULTIPART, MULTIPART_HEAD, False),
    ("/imports", "admin", "max_upload_mb", MULTIPART, MULTIPART_HEAD, True),
    ("/calculator/batch", "department", "max_batch_mb", MULTIPART, MULTIPART_HEAD, True),
    ("/calculator", "department", "max_request_mb", FORM, b"case=project", True),
    ("/login", None, "max_request_mb", FORM, b"username=x", True),
]


@pytest.mark.parametrize(("path", "role", "setting", "content_type", "head", "html"), ROUTES)
def test_route_when_chunked_body_passes_its_limit_answers_413_before_reading_the_rest(
    app, platform, monkeypatch, path, role, setting, content_type, head, html
):
    """Each route's limit (here 2 MB) stops a chunked body as soon as it is passed: 413 in the envelope or the page."""
    monkeypatch.setattr(platform.settings, setting, 2)
    body = Endless(head, total=100 * MB, fill=FIELD[:CHUNK] if content_type == FORM else b"x")
    r = _stream(app, path, role, body, content_type, html)
    assert r.status_code == 413, r.text[:300]
    if html:
        assert r.headers["content-type"].startswith("text/html") and "2 MB" in r.text
    else:
        assert "2 MB" in _envelope(r, 413, "too_large")["message"]["en"]
    assert body.taken <= (2 * MB + SLACK) // CHUNK + 2
    assert r.headers["X-Content-Type-Options"] == "nosniff"  # answered inside the security headers


def test_route_when_declared_length_passes_its_limit_answers_413_without_reading(app):
    """A Content-Length over the limit is refused before one byte of the body is taken."""
    body = Endless(total=2 * MB)
    r = _stream(app, "/api/v1/session", None, body, JSON, **{"Content-Length": str(2 * MB)})
    _envelope(r, 413, "too_large")
    assert body.taken == 0


def _spooled(folder: Path) -> int:
    """Files of this process open in ``folder`` (a spooled upload has no name there, but an open descriptor)."""
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if os.path.realpath(fd).startswith(str(folder)))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see open files")
def test_upload_when_multipart_passes_the_limit_leaves_no_spooled_file(app, platform, monkeypatch, tmp_path):
    """An upload past the limit stops while it streams; the part spooled to a temporary file is closed, nothing kept."""
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    monkeypatch.setattr(platform.settings, "max_upload_mb", 3)
    with platform.uow.read() as conn:
        before = conn.execute(select(data_imports.c.id)).all()
    seen = []
    body = Endless(MULTIPART_HEAD, total=100 * MB, watch=lambda: seen.append(_spooled(spool)))
    r = _stream(app, "/api/v1/imports", "admin", body, MULTIPART)
    _envelope(r, 413, "too_large")
    assert max(seen) >= 1  # past 1 MB Starlette had spooled the file part to disk
    assert _spooled(spool) == 0 and not any(spool.iterdir())
    assert body.taken <= (3 * MB + SLACK) // CHUNK + 2
    with platform.uow.read() as conn:
        assert conn.execute(select(data_imports.c.id)).all() == before


def _int_params(app) -> Iterator[tuple[str, str, dict[str, str], dict[str, str]]]:
    """(method, path, path values, query) for every route parameter that is an id, a page or a year."""
    other = {"action": "submit", "credit_code": "91331082MA2AB3CF7N", "clause_id": "2.10", "path": "x", "code": "zh"}
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if not isinstance(route, APIRoute):
            continue
        fields, stack = [], [route.dependant]
        while stack:
            d = stack.pop()
            fields += [("path", f) for f in d.path_params] + [("query", f) for f in d.query_params]
            stack += d.dependencies
        for method in sorted(route.methods - {"HEAD"}):
            for where, f in fields:
                if (where == "path" and "int" in repr(f.field_info.annotation)) or (
                    where == "query" and f.name in ("page", "year", "a", "b", "user")
                ):
                    path = {x.name: other.get(x.name, "1") for kind, x in fields if kind == "path"}
                    query = {f.name: str(2**63)} if where == "query" else {}
                    yield method, route.path_format, path | ({f.name: str(2**63)} if where == "path" else {}), query


def test_every_route_when_an_id_page_or_year_is_2_to_the_63_answers_422(client_as):
    """Every id, page number and year of every route takes 1 … 2**31−1: 2**63 is a 422 in the envelope, never a 500."""
    admin = client_as("admin")
    cases = list(_int_params(admin.app))
    assert len(cases) > 60  # every route with an id, a page or a year
    for method, path, values, query in cases:
        r = admin.request(method, path.format(**values), params=query)
        assert r.status_code == 422, (method, path, values, query, r.status_code, r.text[:200])
        body = r.json()
        assert list(body) == ENVELOPE_KEYS and body["code"] in ("invalid_request", "invalid_input")
        assert any(str(2**63)[:10] in str(p["value"]) for p in body["problems"]), body
    r = admin.get(f"/api/v1/projects/{MAX_ID + 1}")
    assert r.status_code == 422 and admin.get(f"/api/v1/projects/{MAX_ID}").status_code == 404


BODIES = {
    # name: (body bytes, status, the problem's code)
    "not_utf8": (b'{"name": "\xff"}', 400, "not_utf8"),
    "broken": (b'{"name": ', 400, "invalid_json"),
    "nan": (b'{"year": NaN}', 400, "not_a_number"),
    "infinity": (b'{"year": Infinity}', 400, "not_a_number"),
    "huge_exponent": (b'{"year": 1e999999}', 422, "number_too_long"),
    "int_5000_digits": (b'{"year": ' + b"9" * 5000 + b"}", 422, "number_too_long"),
    "deep": (b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 422, "too_deep"),
    "lone_surrogate": (b'{"username": "\\ud800", "password": "x"}', 422, "lone_surrogate"),
    "duplicate_key": (b'{"username": "admin", "username": "town", "password": "x"}', 422, "duplicate_key"),
}
JSON_ROUTES = [
    ("POST", "/api/v1/session", None),
    ("POST", "/api/v1/calculate", "admin"),
    ("POST", "/api/v1/evaluations", "admin"),
    ("POST", "/api/v1/admin/users", "admin"),
    ("POST", "/api/v1/projects", "town"),
    ("POST", "/api/v1/applications", "town"),
]


@pytest.mark.parametrize("name", BODIES)
def test_json_routes_when_body_is_an_attack_input_answer_400_or_422_with_the_problem(client_as, name):
    """Each crash body of attack 3 and duplicate keys, to every kind of JSON route: 400/422 in the envelope."""
    raw, status, code = BODIES[name]
    for method, path, role in JSON_ROUTES:
        r = client_as(role).request(method, path, content=raw, headers={"Content-Type": JSON})
        body = _envelope(r, status, "invalid_json" if status == 400 else "invalid_input")
        assert [p["code"] for p in body["problems"]] == [code], (path, body)
        assert all(p["where"] and p["expected_zh"] and p["expected_en"] for p in body["problems"])


def test_calculate_when_entities_pass_the_setting_answers_422_before_reading_them(client_as, platform, monkeypatch):
    """TENGLONG_MAX_CALCULATE_ENTITIES bounds POST /api/v1/calculate: one more entity is a 422 naming the limit."""
    monkeypatch.setattr(platform.settings, "max_calculate_entities", 3)
    c = client_as("department")
    doc = {"as_of": "2023-03-01", "enterprises": {"E1": {}}, "projects": {"P1": {}, "P2": {}}}
    assert c.post("/api/v1/calculate", json=doc).status_code == 200
    doc["projects"]["P3"] = {}
    body = _envelope(c.post("/api/v1/calculate", json=doc), 422, "invalid_input")
    assert [(p["code"], p["value"]) for p in body["problems"]] == [("too_many_entities", 4)]


def test_calculate_when_problems_pass_1000_lists_1000_and_counts_the_rest(client_as):
    """5,000 incomplete projects: 1,000 problems and "15000 error(s)" in the envelope, then 14,000 more not listed."""
    doc = {"as_of": "2023-03-01", "projects": {f"P{i}": {"tech_renovation_subsidy": None} for i in range(5000)}}
    body = _envelope(client_as("department").post("/api/v1/calculate", json=doc), 422, "invalid_input")
    assert len(body["problems"]) == 1001 and "15000" in body["message"]["en"]
    assert body["problems"][-1]["code"] == "more_problems" and body["problems"][-1]["value"] == 14_000


@pytest.fixture
def town_project(client_as, platform) -> tuple[Any, int, int]:
    """The town official's client, a project of a firm of its town and a draft application for it."""
    with platform.uow.read() as conn:
        firm = conn.execute(
            select(enterprises.c.credit_code).where(enterprises.c.town == DEMO_TOWN).order_by(enterprises.c.credit_code)
        ).first()[0]
    town = client_as("town")
    inputs = {"total_investment": 15000000, "equipment_investment": 8000000}
    new = {"credit_code": firm, "name": "类型测试项目", "application_date": "2023-03-01", "inputs": inputs}
    r = town.post("/api/v1/projects", json=new)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = town.post("/api/v1/applications", json={"project_id": pid, "clause": "2.10"})
    assert r.status_code == 201, r.text
    return town, pid, r.json()["id"]


def test_subsidy_bodies_when_a_field_has_the_wrong_type_answer_422_naming_the_field(town_project):
    """{"note": 5}, {"name": 123}, "inputs": [], "project_id": "x", a non-object body: 422 naming what is expected."""
    town, pid, aid = town_project
    cases = [
        ("POST", f"/api/v1/applications/{aid}/submit", {"note": 5}, "note", "text (in quotes)"),
        ("PATCH", f"/api/v1/projects/{pid}", {"name": 123}, "name", "text (in quotes)"),
        ("PATCH", f"/api/v1/projects/{pid}", {"inputs": []}, "inputs", "a JSON object keyed by input name"),
        ("POST", "/api/v1/projects", {"credit_code": "x", "name": "n", "inputs": []}, "inputs", "a JSON object"),
        ("POST", "/api/v1/applications", {"project_id": "x", "clause": "2.10"}, "project_id", "an integer from 1"),
        ("POST", "/api/v1/applications", {"project_id": 2**63, "clause": "2.10"}, "project_id", "an integer from 1"),
        ("POST", "/api/v1/applications", {"project_id": True, "clause": "2.10"}, "project_id", "an integer from 1"),
        ("POST", "/api/v1/applications", {"clause": "2.10"}, "project_id", "an integer from 1"),
        ("POST", f"/api/v1/applications/{aid}/submit", [1], "$", "a JSON object"),
        ("PATCH", f"/api/v1/projects/{pid}", "text", "$", "a JSON object"),
    ]
    for method, path, doc, where, expected in cases:
        body = _envelope(town.request(method, path, json=doc), 422, "invalid_input")
        (problem,) = body["problems"]
        assert problem["where"] == where and problem["expected_en"].startswith(expected), (path, doc, problem)
        assert problem["expected_zh"] and problem["message_zh"] and problem["message_en"]
    assert town.patch(f"/api/v1/projects/{pid}", json={"name": "类型测试项目（改）"}).status_code == 200
    assert town.post(f"/api/v1/applications/{aid}/submit", json={"note": "材料齐全"}).status_code == 200
