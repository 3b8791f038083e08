"""Bombs uploaded to the running platform: the calculator's batch upload (any role that calculates) and the data
import (admin) answer each with a clear 4xx or an import report naming the limit, and the server keeps answering.

The hostile files are the ones of tests/adapters/test_sheet_guard.py, generated in the test, small on disk.
"""

from __future__ import annotations

import time

import pytest

from ..adapters.test_sheet_guard import BOMBS

IMPORTABLE = [k for k, (name, *_) in BOMBS.items() if not name.endswith(".ods")]
"""Bombs the import's upload accepts (it takes .xlsx, .xlsm, .xls and .csv; any other type is refused at upload)."""


@pytest.fixture(scope="module")
def payloads() -> dict[str, tuple[str, bytes]]:
    """File name and bytes of every bomb shape."""
    return {key: (name, build()) for key, (name, build, *_) in BOMBS.items()}


def _wait(c, import_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = c.get(f"/api/v1/imports/{import_id}").json()
        if body["status"] not in ("validating", "committing") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_calculator_batch_when_bomb_uploaded_answers_4xx_naming_the_limit(client_as, payloads, bomb):
    """Each bomb posted to /calculator/batch by the enterprise role: 413 for a size limit, else 422, in the error
    envelope with the problem; the server then still answers GET /api/v1/session."""
    c = client_as("enterprise")
    name, data = payloads[bomb]
    _, _, code, status, text = BOMBS[bomb]
    r = c.post("/calculator/batch", files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == status, r.text[:500]
    body = r.json()
    assert body["ok"] is False and body["code"] == ("too_large" if status == 413 else "invalid_input")
    problem = body["problems"][0]
    assert problem["code"] == code and text in problem["message_en"] and problem["message_zh"]
    assert "batch." not in problem["where"]  # the temporary file's name means nothing to the user
    assert c.get("/api/v1/session").status_code == 200


def test_calculator_batch_when_bomb_uploaded_from_a_browser_shows_the_error_page(client_as, payloads):
    """A browser (Accept: text/html) gets the error page with the problem in both languages, status 413."""
    c = client_as("town")
    name, data = payloads["A1+XFD1048576"]
    r = c.post("/calculator/batch", files={"file": (name, data)}, headers={"accept": "text/html"})
    assert r.status_code == 413 and "text/html" in r.headers["content-type"]
    assert "企业数据!A1:XFD1048576" in r.text and "500,000" in r.text
    assert c.get("/calculator", headers={"accept": "text/html"}).status_code == 200


def test_calculator_batch_when_bomb_uploaded_through_htmx_swaps_in_the_error_box(client_as, payloads):
    """The calculator page posts with htmx: the 413 answer is the error box alone, swapped into the results."""
    c = client_as("town")
    name, data = payloads["A1+XFD1048576"]
    r = c.post("/calculator/batch", files={"file": (name, data)}, headers={"hx-request": "true"})
    assert r.status_code == 413 and "text/html" in r.headers["content-type"]
    assert r.text.lstrip().startswith('<section class="card error-box"') and "<html" not in r.text
    assert "500,000" in r.text


@pytest.mark.parametrize("bomb", IMPORTABLE)
def test_import_when_bomb_uploaded_reports_it_as_the_validation_report(client_as, payloads, bomb):
    """Each bomb uploaded to POST /api/v1/imports: accepted (202), validated on the worker into an invalid import
    with the one problem naming the limit, never committed; the server still answers."""
    c = client_as("admin")
    name, data = payloads[bomb]
    _, _, code, _, text = BOMBS[bomb]
    r = c.post("/api/v1/imports", files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == 202, r.text
    import_id = r.json()["id"]
    body = _wait(c, import_id)
    assert body["status"] == "invalid" and body["error_count"] == 1 and body["counts_by_code"] == {code: 1}
    problems = c.get(f"/api/v1/imports/{import_id}/problems").json()["items"]
    assert problems[0]["code"] == code and text in problems[0]["message_en"] and problems[0]["message_zh"]
    assert c.post(f"/api/v1/imports/{import_id}/commit").status_code == 409
    assert c.get("/api/v1/session").status_code == 200


def test_import_when_bomb_reported_labels_its_code_in_the_report_page(client_as, payloads):
    """The report page names the refusal by its label, not by its internal code."""
    c = client_as("admin")
    name, data = payloads["A1+XFD1048576"]
    import_id = c.post("/api/v1/imports", files={"file": (name, data)}).json()["id"]
    assert _wait(c, import_id)["status"] == "invalid"
    page = c.get(f"/imports/{import_id}", headers={"accept": "text/html"})
    assert page.status_code == 200 and "行数超过上限" in page.text and "500,000" in page.text
