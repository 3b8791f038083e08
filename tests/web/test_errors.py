"""The one error shape (``web/errors.py``): the JSON envelope of the API and the error page of the pages.

Each status the platform answers with (400, 403, 404, 409, 413, 422, 500) is pinned twice: through
test-only routes that raise each typed error of ``core/errors.py``, and through real routes. A
built-in ``KeyError`` or ``PermissionError`` is a bug: 500 with an error id that is logged with the
traceback, never 404 or 403.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from tenglong.core.errors import Conflict, Forbidden, InvalidInput, NotFound, PolicyError, Problem, TooLarge
from tenglong.services.kernel.platform import Platform
from tenglong.settings import DEMO_PASSWORD
from tenglong.web import app as web_app
from tenglong.web.app import create_app
from tenglong.web.security import SessionDep

HAN = re.compile(r"[\u3400-\u9fff]")
ERROR_ID = re.compile(r"[0-9a-f]{8}")
ENVELOPE_KEYS = ["ok", "status", "code", "message", "problems"]
PROBLEM_KEYS = {"code", "where", "value", "expected_zh", "expected_en", "example", "message_zh", "message_en"}
PROBLEM = Problem(
    "negative_amount",
    "projects.P1.equipment_investment",
    "-5",
    "不小于 0 的金额（元）",
    "an amount of at least 0 (yuan)",
    "8000000",
    "设备投资不能为负数。",
    "The equipment investment cannot be negative.",
)
TYPED = {
    # kind: (the error raised, status, code)
    "policy": (lambda: PolicyError("测试：不能这样做。", "Test: this cannot be done."), 400, "policy_error"),
    "forbidden": (lambda: Forbidden("evaluate"), 403, "forbidden"),
    "not_found": (lambda: NotFound(1), 404, "not_found"),
    "conflict": (lambda: Conflict("测试：当前状态不允许。", "Test: the state does not allow it."), 409, "conflict"),
    "too_large": (lambda: TooLarge("测试：文件太大。", "Test: the file is too large."), 413, "too_large"),
    "invalid": (lambda: InvalidInput([PROBLEM]), 422, "invalid_input"),
}
BUGS = {
    # kind: an exception a bug raises (never a way to say 404 or 403)
    "key_error": lambda: KeyError("error.no_such_message"),
    "index_error": lambda: IndexError("list index out of range"),
    "permission_error": lambda: PermissionError(13, "Permission denied", "/srv/tenglong/uploads/1.xlsx"),
}


def _raise(kind: str) -> None:
    if kind in TYPED:
        raise TYPED[kind][0]()
    raise BUGS[kind]()


def _test_only_routes() -> APIRouter:
    """Routes that raise what their ``kind`` names, for a signed-in caller (API and page)."""
    router = APIRouter()

    @router.get("/api/v1/test-only/raise/{kind}")
    def api_raise(kind: str, s: SessionDep) -> dict[str, Any]:
        _raise(kind)
        return {}

    @router.get("/test-only/raise/{kind}")
    def page_raise(kind: str, s: SessionDep) -> dict[str, Any]:
        _raise(kind)
        return {}

    return router


@pytest.fixture(scope="module")
def app(platform: Platform) -> FastAPI:
    """The real app, plus the test-only routes."""
    a = create_app(platform)
    a.include_router(_test_only_routes())
    return a


def _signed_in(app: FastAPI, role: str, lang: str = "zh") -> TestClient:
    c = TestClient(app)
    r = c.post("/api/v1/session", json={"username": role, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    if lang == "en":
        assert c.get("/lang/en", follow_redirects=False).status_code == 303
    return c


@pytest.fixture(scope="module")
def clients(app: FastAPI) -> Iterator[dict[str, TestClient]]:
    """Clients signed in as admin and town (Chinese), and admin in English."""
    out = {
        "admin": _signed_in(app, "admin"),
        "town": _signed_in(app, "town"),
        "admin_en": _signed_in(app, "admin", "en"),
    }
    yield out
    for c in out.values():
        c.close()


def published_run(c: TestClient) -> int:
    """The id of a published run of the demo county."""
    return next(r["id"] for r in c.get("/api/v1/evaluations").json() if r["status"] == "published")


def assert_envelope(r: Any, status: int, code: str) -> dict[str, Any]:
    """``r`` is exactly the error envelope for ``status`` and ``code``; returns its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"
    body = r.json()
    assert list(body) == ENVELOPE_KEYS
    assert body["ok"] is False
    assert type(body["status"]) is int and body["status"] == status
    assert isinstance(body["code"], str) and body["code"] == code
    assert list(body["message"]) == ["zh", "en"]
    zh, en = body["message"]["zh"], body["message"]["en"]
    assert isinstance(zh, str) and HAN.search(zh), zh
    assert isinstance(en, str) and en.strip() and not HAN.search(en), en
    assert isinstance(body["problems"], list)
    for p in body["problems"]:
        assert set(p) == PROBLEM_KEYS
        assert all(isinstance(p[k], str) for k in PROBLEM_KEYS - {"value"})
        assert p["value"] is None or isinstance(p["value"], (str, int, float, bool))  # as the user wrote it
    return body


def assert_error_page(r: Any, status: int, *texts: str) -> str:
    """``r`` is the HTML error page with ``status`` showing each of ``texts``; returns its text."""
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    text = html.unescape(r.text)
    assert "出错了" in text or "Something went wrong" in text
    assert f'<small class="muted">{status}</small>' in r.text
    for t in texts:
        assert t in text, t
    assert "Traceback" not in text
    return text


def _log_of(caplog: pytest.LogCaptureFixture, error_id: str) -> logging.LogRecord:
    """The one record of the unexpected error ``error_id`` (logger tenglong.web)."""
    found = [
        r
        for r in caplog.records
        if r.name == "tenglong.web" and r.getMessage().startswith(f"unexpected error {error_id} ")
    ]
    assert len(found) == 1, [r.getMessage() for r in caplog.records]
    return found[0]


@pytest.mark.parametrize("kind", list(TYPED))
def test_api_when_a_typed_error_is_raised_answers_its_status_in_the_envelope(clients, kind):
    """Each typed error of core/errors.py: its status and code, its own zh and en message, its problems."""
    make, status, code = TYPED[kind]
    exc = make()
    body = assert_envelope(clients["admin"].get(f"/api/v1/test-only/raise/{kind}"), status, code)
    assert body["message"] == {"zh": exc.message_zh, "en": exc.message_en}
    assert body["problems"] == ([PROBLEM.as_dict()] if kind == "invalid" else [])


@pytest.mark.parametrize("kind", list(TYPED))
def test_page_when_a_typed_error_is_raised_shows_the_error_page_with_its_status(clients, kind):
    """The same errors on a page: the error page with the status, the message and any problems."""
    make, status, _ = TYPED[kind]
    exc = make()
    r = clients["admin"].get(f"/test-only/raise/{kind}", headers={"accept": "text/html"})
    text = assert_error_page(r, status, exc.message_zh)
    assert (PROBLEM.message_zh in text and PROBLEM.where in text) == (kind == "invalid")


@pytest.mark.parametrize("kind", list(BUGS))
def test_api_when_a_bug_raises_a_builtin_error_answers_500_with_a_logged_error_id(clients, caplog, kind):
    """KeyError is not 404, PermissionError not 403: 500, an error id in zh and en, the traceback logged with it."""
    with caplog.at_level(logging.ERROR, logger="tenglong.web"):
        r = clients["admin"].get(f"/api/v1/test-only/raise/{kind}")
    body = assert_envelope(r, 500, "internal_error")
    error_id = r.headers["x-error-id"]
    assert ERROR_ID.fullmatch(error_id), error_id
    assert body["message"] == {
        "zh": f"出错了，错误编号 {error_id}，请把编号告诉管理员。",
        "en": f"Something went wrong (error id {error_id}); please give this id to the administrator.",
    }
    assert body["problems"] == []
    record = _log_of(caplog, error_id)
    assert record.levelno == logging.ERROR and "/api/v1/test-only/raise/" in record.getMessage()
    assert record.exc_info and isinstance(record.exc_info[1], type(BUGS[kind]()))
    assert "Traceback (most recent call last)" in caplog.text and "in _raise" in caplog.text


@pytest.mark.parametrize("kind", list(BUGS))
def test_page_when_a_bug_raises_a_builtin_error_shows_the_500_page_with_the_error_id(clients, caplog, kind):
    """The error page says 500 and shows the error id to give to the administrator (zh, and en for an English user)."""
    for who, words in (
        ("admin", "出错了，错误编号 {}，请把编号告诉管理员。"),
        ("admin_en", "(error id {}); please give"),
    ):
        with caplog.at_level(logging.ERROR, logger="tenglong.web"):
            r = clients[who].get(f"/test-only/raise/{kind}", headers={"accept": "text/html"})
        error_id = r.headers["x-error-id"]
        assert_error_page(r, 500, words.format(error_id))
        assert _log_of(caplog, error_id).exc_info


def test_error_id_when_two_bugs_happen_is_new_each_time(clients, caplog):
    """Every unexpected error gets its own id, so each report points at one logged traceback."""
    with caplog.at_level(logging.ERROR, logger="tenglong.web"):
        ids = {clients["admin"].get("/api/v1/test-only/raise/key_error").headers["x-error-id"] for _ in range(3)}
    assert len(ids) == 3 and all(_log_of(caplog, i) for i in ids)


def test_page_when_the_error_page_itself_fails_still_answers_500_with_the_error_id(clients, caplog, monkeypatch):
    """If even the error page cannot be drawn (say the database is down), the user still gets a 500 page and the id."""

    def down(request):
        raise RuntimeError("database is down")

    monkeypatch.setattr(web_app, "current", down)
    with caplog.at_level(logging.ERROR, logger="tenglong.web"):
        r = clients["admin"].get("/test-only/raise/key_error", headers={"accept": "text/html"})
    error_id = r.headers["x-error-id"]
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert f"错误编号 {error_id}" in r.text and f"(error id {error_id})" in r.text
    assert isinstance(_log_of(caplog, error_id).exc_info[1], KeyError)
    assert any(f"error page {error_id} could not be rendered" in r.getMessage() for r in caplog.records)


def test_api_when_real_routes_fail_answers_each_status_in_the_envelope(clients, platform, monkeypatch):
    """400, 403, 404, 409, 413 and 422 from real routes, each in the envelope."""
    admin, town = clients["admin"], clients["town"]
    body = assert_envelope(admin.post("/api/v1/imports", data={"note": "no file"}), 400, "policy_error")
    assert "file" in body["message"]["en"]
    body = assert_envelope(town.get("/api/v1/imports"), 403, "forbidden")
    assert body["message"]["en"] == "You are not allowed to see or do this."
    assert_envelope(admin.get("/api/v1/evaluations/999999"), 404, "not_found")
    assert_envelope(admin.get("/api/v1/no-such-route"), 404, "not_found")
    body = assert_envelope(admin.post(f"/api/v1/evaluations/{published_run(admin)}/publish"), 409, "conflict")
    assert "published" in body["message"]["en"]
    body = assert_envelope(
        admin.post("/api/v1/calculate", json={"as_of": "2023-03-01", "projects": {"P1": {"total_investment": -1}}}),
        422,
        "invalid_input",
    )
    assert any(p["where"].startswith("projects.P1") for p in body["problems"]), body["problems"]
    body = assert_envelope(admin.post("/api/v1/evaluations", json={"year": "not a year"}), 422, "invalid_request")
    assert [p["where"] for p in body["problems"]] == ["body.year"]
    monkeypatch.setattr(platform.settings, "max_upload_mb", 1)
    r = admin.post("/api/v1/imports", files={"file": ("big.csv", b"x" * (2 * 1024 * 1024))})
    assert "1 MB" in assert_envelope(r, 413, "too_large")["message"]["en"]


def test_page_when_real_routes_fail_shows_the_error_page_with_each_status(clients, platform, monkeypatch):
    """400, 403, 404, 409 and 413 from real pages: the error page with the status and the message."""
    admin, town = clients["admin"], clients["town"]
    page = {"accept": "text/html"}
    assert_error_page(admin.post("/imports", data={"note": "no file"}, headers=page), 400, "请选择要上传的文件")
    assert_error_page(town.get("/imports", headers=page), 403, "您没有权限查看或操作此内容。")
    assert_error_page(admin.get("/evaluations/999999", headers=page), 404, "找不到该记录。")
    assert_error_page(admin.get("/no-such-page", headers=page), 404, "找不到该记录。")
    r = admin.post(f"/evaluations/{published_run(admin)}/publish", headers=page, follow_redirects=False)
    assert_error_page(r, 409, "不能发布")
    monkeypatch.setattr(platform.settings, "max_upload_mb", 1)
    r = admin.post("/imports", files={"file": ("big.csv", b"x" * (2 * 1024 * 1024))}, headers=page)
    assert_error_page(r, 413, "上传的文件超过 1 MB 的上限。")
