"""数据导入 on the platform: upload, background validation, the report, all-or-nothing commit, discard, roles."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import openpyxl
import pytest
from markupsafe import escape
from sqlalchemy import func, insert, select

from tenglong.adapters.db.tables import audit_log, data_imports, enterprise_years
from tenglong.adapters.tabular.columns import SPECS
from tenglong.adapters.tabular.reader import column_letter
from tenglong.adapters.tabular.writer import write_enterprise_years
from tenglong.demo.county import generate_county, generate_county_with_defects
from tenglong.services.data import messages as _import_messages
from tenglong.services.data import uploads as service
from tenglong.services.kernel.uow import now
from tenglong.web.i18n import catalogue

from .conftest import client_for

YEAR = 2023
CODE_OF_DEFECT = {"bad_check_character": "credit_code_check_character", "negative_land": "negative_value"}
OTHERS = ("department", "town", "enterprise", "auditor")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """The demo county of one year in the import format: with the planted defects, and fixed (the clean data)."""
    folder = tmp_path_factory.mktemp("import-files")
    frame, defects = generate_county_with_defects(2023, [YEAR])
    return {
        "bad": write_enterprise_years(frame, folder / "企业数据-有错.xlsx"),
        "defects": defects,
        "good": write_enterprise_years(generate_county(2023, [YEAR]), folder / "企业数据.xlsx"),
    }


@pytest.fixture(autouse=True)
def uploads(request, tmp_path, monkeypatch) -> Path:
    """Uploads of this test go to a temporary folder (on every platform the test uses)."""
    for name in ("platform", "any_platform"):
        if name in request.fixturenames:
            monkeypatch.setattr(request.getfixturevalue(name).settings, "upload_dir", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def _upload_api(c, path: Path, name: str | None = None) -> int:
    r = c.post("/api/v1/imports", files={"file": (name or path.name, path.read_bytes(), "application/octet-stream")})
    assert r.status_code == 202 and r.json()["status"] == "validating", r.text
    return r.json()["id"]


def _upload_page(c, path: Path) -> str:
    """Upload through the form (CSRF token as a form field, as a browser does); returns the report page's path."""
    page = c.get("/imports")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    headers = {k: v for k, v in c.headers.items() if k.lower() != "x-csrf-token"}
    r = c.post(
        "/imports",
        data={"csrf_token": token},
        files={"file": (path.name, path.read_bytes())},
        headers=headers,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _wait(c, import_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = c.get(f"/api/v1/imports/{import_id}").json()
        if body["status"] not in ("validating", "committing") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def _count(p, table, *where) -> int:
    with p.uow.read() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_import_routes_when_role_lacks_import_permission_answer_403(client_as, files):
    """department, town, enterprise and auditor get 403 on every import route, for existing and guessed ids alike."""
    for role in OTHERS:
        c = client_as(role)
        for method, path in [
            ("get", "/api/v1/imports"),
            ("get", "/api/v1/imports/1"),
            ("get", "/api/v1/imports/99999"),
            ("get", "/api/v1/imports/1/problems"),
            ("get", "/api/v1/imports/1/report.xlsx"),
            ("get", "/api/v1/imports/template.xlsx"),
            ("post", "/api/v1/imports/1/commit"),
            ("post", "/api/v1/imports/99999/discard"),
            ("get", "/imports"),
            ("get", "/imports/1"),
            ("get", "/imports/template.xlsx"),
            ("post", "/imports/1/commit"),
        ]:
            r = getattr(c, method)(path)
            assert r.status_code == 403 and r.json()["code"] == "forbidden", (role, path, r.status_code)
        r = c.post("/api/v1/imports", files={"file": ("x.xlsx", files["good"].read_bytes())})
        assert r.status_code == 403, role
        page = c.get("/imports", headers={"accept": "text/html"})
        assert page.status_code == 403 and "您没有权限" in page.text


def test_import_routes_when_anonymous_answer_401_or_redirect_to_login(client_as):
    """Without a session the API answers 401 and the pages redirect to the login page."""
    c = client_as(None)
    assert c.get("/api/v1/imports").status_code == 401
    assert c.post("/api/v1/imports/1/commit").status_code == 401
    r = c.get("/imports/1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/imports/1"


def test_upload_when_file_has_planted_defects_reports_each_and_refuses_commit(client_as, platform, files):
    """Every planted defect appears with its code, sheet, row, column and value; the commit is refused (409) and nothing
    is written.
    """
    c = client_as("admin")
    location = _upload_page(c, files["bad"])
    import_id = int(location.rsplit("/", 1)[1])
    body = _wait(c, import_id)
    assert body["status"] == "invalid" and body["error_count"] == len(files["defects"]) == 18
    assert set(body["counts_by_code"]) == {CODE_OF_DEFECT.get(d["defect"], d["defect"]) for d in files["defects"]}
    letters = {s.key: column_letter(i) for i, s in enumerate(SPECS)}
    problems = c.get(f"/api/v1/imports/{import_id}/problems").json()["items"]
    found = {(p["code"], p["row"], p["column"]): p for p in problems}
    html = c.get(location).text
    for d in files["defects"]:
        code, row, letter = CODE_OF_DEFECT.get(d["defect"], d["defect"]), d["row"] + 2, letters[d["column"]]
        if code == "duplicate_credit_code_year":  # reported on the later of the two rows, naming the earlier one
            row = next(
                r for (k, r, _), p in found.items() if k == code and (r == row or f"(row {row})" in p["message_en"])
            )
        p = found[(code, row, letter)]
        assert p["sheet"] == "企业数据" and p["header"] and p["message_zh"] and p["message_en"] and p["expected_zh"]
        if d["value"] is None:
            assert p["value"] is None
        elif d["column"] == "land_area_mu":
            assert float(p["value"]) == float(d["value"])
        else:
            assert p["value"] == d["value"]
        assert f'data-code="{code}" data-row="{row}" data-column="{letter}"' in html
    assert 'data-status="invalid"' in html and 'id="commit-button"' not in html
    r = c.post(f"/api/v1/imports/{import_id}/commit")
    assert r.status_code == 409 and r.json()["code"] == "conflict" and "18" in r.json()["message"]["en"]
    assert c.post(f"/imports/{import_id}/commit", headers={"accept": "text/html"}).status_code == 409
    assert _count(platform, enterprise_years, enterprise_years.c.import_id == import_id) == 0


def test_upload_when_fixed_file_validates_clean_and_commits_through_the_pages(client_as, platform, files):
    """The fixed file validates clean; the commit button stores every row with an import.commit audit record and offers
    the evaluation.
    """
    c = client_as("admin")
    location = _upload_page(c, files["good"])
    import_id = int(location.rsplit("/", 1)[1])
    assert _wait(c, import_id)["status"] == "validated"
    page = c.get(location).text
    assert 'data-status="validated"' in page and 'id="commit-button"' in page and 'id="report-clean"' in page
    r = c.post(f"/imports/{import_id}/commit", data={"confirm": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == location
    body = _wait(c, import_id)
    assert body["status"] == "committed" and body["commit"]["enterprise_years"] == body["rows_read"] == 2561
    page = c.get(location).text
    assert 'data-status="committed"' in page and f'href="/evaluations?year={YEAR}"' in page
    assert _count(platform, enterprise_years, enterprise_years.c.import_id == import_id) == 2561
    with platform.uow.read() as conn:
        audit = conn.execute(
            select(audit_log).where(audit_log.c.action == "import.commit", audit_log.c.entity_id == str(import_id))
        ).one()
    assert audit.actor == "admin" and audit.after["enterprise_years"] == 2561 and audit.after["years"] == [YEAR]


def test_commit_when_storing_fails_midway_writes_nothing(client_as, platform, files, monkeypatch):
    """A failure after rows were written rolls everything back: no rows, no import.commit record, the import marked
    failed.
    """
    c = client_as("admin")
    import_id = _upload_api(c, files["good"])
    assert _wait(c, import_id)["status"] == "validated"
    before = _count(platform, enterprise_years, enterprise_years.c.year == YEAR)
    real = service.store_frame

    def store_then_fail(w, frame, iid):
        counts = real(w, frame, iid)
        assert counts["enterprise_years"] == 2561
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(service, "store_frame", store_then_fail)
    assert c.post(f"/api/v1/imports/{import_id}/commit").status_code == 202
    body = _wait(c, import_id)
    assert body["status"] == "failed" and "disk full (simulated)" in body["message"]
    assert _count(platform, enterprise_years, enterprise_years.c.import_id == import_id) == 0
    assert _count(platform, enterprise_years, enterprise_years.c.year == YEAR) == before
    assert (
        _count(platform, audit_log, audit_log.c.action == "import.commit", audit_log.c.entity_id == str(import_id)) == 0
    )
    assert (
        _count(platform, audit_log, audit_log.c.action == "import.fail", audit_log.c.entity_id == str(import_id)) == 1
    )
    assert _count(platform, data_imports, data_imports.c.id == import_id, data_imports.c.committed_at.is_not(None)) == 0


def test_commit_api_when_on_each_backend_stores_rows_and_audits_in_one_step(any_platform, files):
    """SQLite and PostgreSQL: upload → validated → 202 commit → committed, rows and the audit record present."""
    c = client_for(any_platform, "admin")
    try:
        import_id = _upload_api(c, files["good"])
        assert _wait(c, import_id)["status"] == "validated"
        r = c.post(f"/api/v1/imports/{import_id}/commit")
        assert r.status_code == 202 and r.json() == {"id": import_id, "status": "committing"}
        assert c.post(f"/api/v1/imports/{import_id}/commit").status_code == 409
        body = _wait(c, import_id)
        assert body["status"] == "committed" and body["committed_at"]
        assert _count(any_platform, enterprise_years, enterprise_years.c.import_id == import_id) == 2561
        assert (
            _count(
                any_platform, audit_log, audit_log.c.action == "import.commit", audit_log.c.entity_id == str(import_id)
            )
            == 1
        )
        assert c.post(f"/api/v1/imports/{import_id}/discard").status_code == 409
    finally:
        c.close()


def test_problems_api_when_filtered_by_code_pages_and_counts(client_as, files):
    """problems?code= keeps one code; pages hold 50; the import's counts add up by code."""
    c = client_as("admin")
    import_id = _upload_api(c, files["bad"])
    body = _wait(c, import_id)
    r = c.get(f"/api/v1/imports/{import_id}/problems", params={"code": "unknown_town"}).json()
    assert r["total"] == 2 and {p["code"] for p in r["items"]} == {"unknown_town"} and r["code"] == "unknown_town"
    assert sum(body["counts_by_code"].values()) == c.get(f"/api/v1/imports/{import_id}/problems").json()["total"] == 18
    assert c.get(f"/api/v1/imports/{import_id}/problems", params={"page": 9}).json()["page"] == 1
    page = c.get(f"/imports/{import_id}", params={"code": "zero_land"}).text
    assert page.count('data-code="zero_land" data-row=') == 2 and 'data-code="unknown_town" data-row=' not in page


def test_report_page_when_language_is_english_shows_english_messages(client_as, files):
    """The report is written in the session language (Problem has zh and en)."""
    c = client_as("admin")
    import_id = _upload_api(c, files["bad"])
    _wait(c, import_id)
    first = c.get(f"/api/v1/imports/{import_id}/problems").json()["items"][0]
    c.get("/lang/en")
    page = c.get(f"/imports/{import_id}").text
    assert str(escape(first["message_en"])) in page and str(escape(first["message_zh"])) not in page
    c.get("/lang/zh")


def test_report_xlsx_when_downloaded_lists_every_problem(client_as, files):
    """report.xlsx has one row per problem with its cell, code and bilingual texts."""
    c = client_as("admin")
    import_id = _upload_api(c, files["bad"])
    _wait(c, import_id)
    r = c.get(f"/api/v1/imports/{import_id}/report.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    rows = list(book["错误 errors"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 18 and {row[2] for row in rows} >= {
        "unknown_town",
        "non_numeric",
        "credit_code_check_character",
    }


def test_template_when_downloaded_is_the_import_workbook(client_as):
    """The import template is offered in Chinese and English."""
    c = client_as("admin")
    zh = openpyxl.load_workbook(io.BytesIO(c.get("/imports/template.xlsx?lang=zh").content))
    en = openpyxl.load_workbook(io.BytesIO(c.get("/api/v1/imports/template.xlsx?lang=en").content))
    assert "企业数据" in zh.sheetnames and "data" in en.sheetnames


def test_upload_when_too_large_answers_413_and_keeps_nothing(client_as, platform, monkeypatch, uploads):
    """Beyond max_upload_mb the upload is refused with 413, by its declared length or while it is copied."""
    monkeypatch.setattr(platform.settings, "max_upload_mb", 1)
    c = client_as("admin")
    before = _count(platform, data_imports)
    for size in (2 * 1024 * 1024, 1024 * 1024 + 10_000):
        r = c.post("/api/v1/imports", files={"file": ("big.csv", b"x" * size)})
        assert r.status_code == 413 and r.json()["code"] == "too_large" and "1 MB" in r.json()["message"]["en"]
    assert _count(platform, data_imports) == before
    assert not uploads.exists() or not any(uploads.iterdir())


def test_upload_when_file_type_unsupported_is_refused(client_as):
    """Only spreadsheets and CSV files are accepted."""
    r = client_as("admin").post("/api/v1/imports", files={"file": ("notes.pdf", b"%PDF-1.4")})
    assert r.status_code == 400 and ".xlsx" in r.json()["message"]["en"]


def test_upload_when_file_has_no_rows_is_invalid(client_as, tmp_path):
    """A file with headers only is reported (empty_file) rather than committed as nothing."""
    c = client_as("admin")
    path = tmp_path / "空.csv"
    path.write_text(",".join(s.header("zh") for s in SPECS) + "\n", encoding="utf-8-sig")
    body = _wait(c, _upload_api(c, path))
    assert body["status"] == "invalid" and body["counts_by_code"] == {"empty_file": 1}


def test_discard_when_import_is_invalid_deletes_the_file_and_is_audited(client_as, platform, files, uploads):
    """Discard removes the stored file and the detailed report, records import.discard, and cannot be repeated."""
    c = client_as("admin")
    import_id = _upload_api(c, files["bad"], name="../../etc/有错.xlsx")
    body = _wait(c, import_id)
    assert body["filename"] == "有错.xlsx"
    with platform.uow.read() as conn:
        stored = Path(
            conn.execute(select(data_imports.c.stored_path).where(data_imports.c.id == import_id)).scalar_one()
        )
    assert stored.is_file() and uploads.resolve() in stored.resolve().parents
    r = c.post(f"/imports/{import_id}/discard", follow_redirects=False)
    assert r.status_code == 303
    assert c.get(f"/api/v1/imports/{import_id}").json()["status"] == "discarded" and not stored.exists()
    assert c.get(f"/api/v1/imports/{import_id}/problems").json()["total"] == 0
    assert (
        _count(platform, audit_log, audit_log.c.action == "import.discard", audit_log.c.entity_id == str(import_id))
        == 1
    )
    assert c.post(f"/api/v1/imports/{import_id}/discard").status_code == 409
    assert c.get("/api/v1/imports/99999").status_code == 404


def test_import_when_worker_is_gone_shows_stalled_and_can_be_discarded(client_as, platform):
    """An import left 'validating' by a stopped server stops polling and can be discarded."""
    with platform.uow.write(None) as w:
        import_id = w.conn.execute(
            insert(data_imports).values(
                filename="lost.xlsx",
                stored_path="/nonexistent/lost.xlsx",
                status="validating",
                uploaded_by=1,
                uploaded_at=now(),
            )
        ).inserted_primary_key[0]
    c = client_as("admin")
    assert c.get(f"/api/v1/imports/{import_id}").json()["stalled"] is True
    page = c.get(f"/imports/{import_id}").text
    assert 'hx-trigger="every 1s"' not in page and 'id="discard-button"' in page
    assert c.post(f"/api/v1/imports/{import_id}/discard").json()["status"] == "discarded"


def test_status_fragment_when_import_is_done_asks_htmx_to_reload(client_as, files):
    """While running the box polls every second; once done, the fragment tells htmx to reload the page."""
    c = client_as("admin")
    import_id = _upload_api(c, files["bad"])
    _wait(c, import_id)
    r = c.get(f"/imports/{import_id}/status", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.headers["HX-Refresh"] == "true" and 'data-status="invalid"' in r.text


def test_code_labels_when_catalogue_loaded_name_every_import_error():
    """Every error code of the importer has a Chinese and English label on the report page."""
    codes = set(_import_messages.MESSAGES) | {"empty_file"}
    assert {c for c in codes if f"imports.code.{c}" not in catalogue()} == set()


def test_commit_page_when_not_confirmed_shows_the_summary_and_writes_nothing(client_as, platform, files):
    """The report page states what the commit writes and asks for a confirmation (a dialog from data-confirm); a commit
    posted without confirm=1 (or with another value) answers the confirmation step with the summary and writes nothing;
    with confirm=1 it commits.
    """
    c = client_as("admin")
    location = _upload_page(c, files["good"])
    import_id = int(location.rsplit("/", 1)[1])
    assert _wait(c, import_id)["status"] == "validated"
    summary = (
        f"提交后将写入 2,561 家企业 {YEAR} 年度数据（新增 0 家，更新 2,561 家，共 2,561 行），"
        "并替换这些企业该年度的原有数据。"
    )
    page = c.get(location).text
    assert summary in page and 'data-confirm-field="confirm"' in page
    assert re.search(r'<form[^>]*id="commit-form"[^>]*data-confirm="提交后将写入 2,561 家企业', page)
    for sent in ({}, {"confirm": "0"}, {"confirm": "yes"}):
        r = c.post(f"/imports/{import_id}/commit", data=sent, follow_redirects=False)
        assert r.status_code == 200 and 'id="commit-confirm"' in r.text and summary in r.text, sent
        assert 'name="confirm" value="1"' in r.text
        assert _wait(c, import_id)["status"] == "validated"
    assert (
        _count(
            platform, audit_log, audit_log.c.action == "import.commit_start", audit_log.c.entity_id == str(import_id)
        )
        == 0
    )
    r = c.post(f"/imports/{import_id}/commit", data={"confirm": "1"}, follow_redirects=False)
    assert r.status_code == 303 and _wait(c, import_id)["status"] == "committed"
    c.get("/lang/en")
    page = c.get(location).text
    assert "2,561" in page and "Committing writes" not in page  # committed: no summary any more
    c.get("/lang/zh")


def test_import_report_when_the_file_is_not_a_workbook_says_so_in_words(client_as, tmp_path):
    """A file named .xls that is no workbook is reported as not a valid Excel file, never with the parser's message."""
    c = client_as("admin")
    bad = tmp_path / "数据.xls"
    bad.write_bytes(b"garbage, not an Excel file at all")
    import_id = _upload_api(c, bad)
    assert _wait(c, import_id)["status"] == "invalid"
    (problem,) = c.get(f"/api/v1/imports/{import_id}/problems").json()["items"]
    assert problem["code"] == "unreadable_file"
    assert "文件不是有效的 Excel 文件" in problem["message_zh"] and "not a valid Excel file" in problem["message_en"]
    for text in (problem["message_zh"], problem["message_en"]):
        assert "calamine" not in text and "Cfb" not in text and "EOCD" not in text
