"""The auditor's daily tools and the administrator's: the audit filter with any field empty, records read as sentences
(before → after, labels and names, never internal codes outside the stored record), exports of the filtered set,
unlocking an account the sign-in throttle locked, and where a problem is, in words.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

import tenglong
from tenglong.adapters.db.tables import audit_log, login_attempts
from tenglong.core.errors import Problem
from tenglong.services.audit import log as audit_view
from tenglong.services.kernel.uow import now
from tenglong.web.app import create_app, templates
from tenglong.web.figures import where_label

from .conftest import client_for, make_platform

PASSWORD = "daily-tools-2023"
DEMO_ENTERPRISE = "913310821003686548"
SRC = Path(tenglong.__file__).parent
_peers = itertools.count(10)


@pytest.fixture(scope="module")
def p(tmp_path_factory):
    """A private demo platform (its sign-in failures and audit records stay here)."""
    tmp = tmp_path_factory.mktemp("daily")
    return make_platform(f"sqlite:///{tmp / 'daily.db'}", upload_dir=str(tmp / "uploads"))


@pytest.fixture(scope="module")
def admin(p) -> TestClient:
    """The demo administrator."""
    return client_for(p, "admin")


@pytest.fixture(scope="module")
def auditor(p) -> TestClient:
    """The demo auditor."""
    return client_for(p, "auditor")


@pytest.fixture(scope="module")
def approved(p, admin) -> int:
    """A 2.10 application of the demo enterprise, submitted, reviewed and approved with the note 材料齐全."""
    project = admin.post(
        "/api/v1/projects",
        json={
            "credit_code": DEMO_ENTERPRISE,
            "name": "审计句子测试项目",
            "application_date": "2023-03-01",
            "inputs": {"total_investment": 15000000, "equipment_investment": 8000000},
        },
    ).json()["id"]
    aid = admin.post("/api/v1/applications", json={"project_id": project, "clause": "2.10"}).json()["id"]
    for action in ("submit", "start_review", "approve"):
        r = admin.post(f"/api/v1/applications/{aid}/{action}", json={"note": "材料齐全"})
        assert r.status_code == 200, (action, r.text)
    return aid


def peer(p) -> TestClient:
    """An anonymous client from an address of its own (its failures never lock another test's address)."""
    return TestClient(create_app(p), client=(f"198.51.100.{next(_peers)}", 40000))


def _account(admin, role: str = "town", **fields) -> dict:
    body = {
        "username": f"daily.{next(_peers)}",
        "display_name": "日常测试 账号",
        "password": PASSWORD,
        "role": role,
        "town": "331082112",
        **fields,
    }
    r = admin.post("/api/v1/admin/users", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _lock(p, username: str) -> None:
    """Five failed sign-ins of ``username`` from five addresses (the throttle's limit in the tests)."""
    for _ in range(p.settings.login_max_failures):
        assert peer(p).post("/api/v1/session", json={"username": username, "password": "wrong"}).status_code == 401


def _visible(html: str) -> str:
    """The page's text a person reads at first: no tags, no folded stored record, no attribute values."""
    html = re.sub(r'<details class="raw">.*?</details>', "", html, flags=re.S)
    html = re.sub(r"<(script|head)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


# --- 1. the filter: any field may be empty ----------------------------------------------------------------------------

FILLED = {
    "actor": "admin",
    "action": "evaluation.",
    "entity_type": "evaluation_run",
    "entity_id": "3",
    "date_from": "2020-01-01",
    "date_to": "2099-12-31",
}


def test_audit_page_when_the_filter_is_sent_with_both_dates_empty_answers_200(auditor):
    """The filter form as a browser sends it with the dates left empty (the 422 of before) shows the records."""
    empty = dict.fromkeys((*FILLED, "event", "order"), "")
    for path in ("/admin/audit", "/api/v1/audit"):
        r = auditor.get(path, params={**empty, "actor": "admin"})
        assert r.status_code == 200, (path, r.text[:300])
    assert auditor.get("/api/v1/audit", params=empty).json()["total"] > 0


@pytest.mark.parametrize("filled", list(itertools.product((False, True), repeat=len(FILLED))))
def test_audit_filter_when_any_combination_of_fields_is_empty_narrows_by_the_filled_ones_only(auditor, filled):
    """Each of the 64 combinations: an empty field narrows nothing (the same records as the field left out), on the page
    and in the API, and every record shown meets each filled criterion."""
    sent = {k: (v if on else "") for (k, v), on in zip(FILLED.items(), filled, strict=True)}
    given = {k: v for k, v in sent.items() if v}
    api = auditor.get("/api/v1/audit", params=sent)
    assert api.status_code == 200, api.text[:300]
    body = api.json()
    assert body["total"] == auditor.get("/api/v1/audit", params=given).json()["total"]
    for item in body["items"]:
        assert given.get("actor", item["actor"]) == item["actor"]
        assert item["action"].startswith(given.get("action", ""))
        assert given.get("entity_type", item["entity_type"]) == item["entity_type"]
        assert given.get("entity_id", item["entity_id"]) == item["entity_id"]
    page = auditor.get("/admin/audit", params=sent)
    assert page.status_code == 200 and f"共 {body['total']:,} 条记录" in page.text


def test_audit_filter_when_a_date_is_not_a_date_or_the_range_is_reversed_answers_422_in_words(auditor):
    """A wrong date names the field by its label and gives the format; a first day after the last says so."""
    r = auditor.get("/admin/audit", params={"date_from": "2023-13-01", "date_to": ""}, headers={"accept": "text/html"})
    assert r.status_code == 422 and "起始日期" in r.text and "YYYY-MM-DD" in r.text
    assert ">date_from<" not in r.text
    r = auditor.get("/api/v1/audit", params={"date_from": "2023-03-02", "date_to": "2023-03-01"})
    assert r.status_code == 422 and r.json()["problems"][0]["code"] == "invalid_date_range"
    r = auditor.get("/api/v1/audit", params={"order": "sideways"})
    assert r.status_code == 422 and "desc" in r.json()["problems"][0]["expected_zh"]


def test_audit_filter_when_order_is_oldest_first_lists_the_first_record_first(auditor):
    """order=asc turns the list (and its exports) around; the default is newest first."""
    oldest = auditor.get("/api/v1/audit", params={"order": "asc"}).json()["items"]
    newest = auditor.get("/api/v1/audit").json()["items"]
    assert oldest[0]["id"] == 1 and newest[0]["id"] > newest[-1]["id"]


# --- 2. sentences -----------------------------------------------------------------------------------------------------


def test_audit_page_when_a_move_is_shown_reads_as_a_sentence_with_before_and_after(auditor, approved):
    """批准补助申请 reads "市经信局 管理员（admin）于 …（北京时间）批准补助申请 #N：状态 审核中 → 已批准 …
    意见或理由：材料齐全"; neither the event's code nor a stored key shows outside the folded stored record."""
    r = auditor.get("/admin/audit", params={"event": "application.approve", "entity_id": str(approved)})
    assert r.status_code == 200
    text = _visible(r.text)
    assert re.search(
        rf"市经信局 管理员（admin）于 \d{{4}}-\d\d-\d\d \d\d:\d\d（北京时间）"
        rf"批准补助申请 #{approved}：状态 审核中 → 已批准",
        text,
    ), text[:2000]
    assert "意见或理由：材料齐全" in text and "800,000.00 元" in text
    for code in ("application.approve", "subsidy_application", '"status"', "approved_amount", "under_review"):
        assert code not in text, code
    raw = r.text.split('<details class="raw">')[1]
    assert "application.approve" in raw and "&#34;status&#34;: &#34;under_review&#34;" in raw


def test_audit_page_when_english_reads_the_sentence_in_english(auditor, approved):
    """In English: "… at … (Beijing time): subsidy application #N: approve — status under review → approved"."""
    auditor.get("/lang/en")
    try:
        text = _visible(auditor.get("/admin/audit", params={"event": "application.approve"}).text)
        assert f"(Beijing time): subsidy application #{approved}: approve — status under review → approved" in text
        assert "note: 材料齐全" in text
    finally:
        auditor.get("/lang/zh")


def test_audit_reading_when_values_are_codes_shows_their_names(p, admin, auditor):
    """A new town account reads with its role's and its town's names (镇(街道), 杜桥镇), not town / 331082112; a
    deactivation reads 是否启用 是 → 否."""
    user = _account(admin)
    admin.post(f"/api/v1/admin/users/{user['id']}/deactivate")
    text = _visible(auditor.get("/admin/audit", params={"entity_type": "user", "entity_id": str(user["id"])}).text)
    assert f"创建账号 #{user['id']}：用户名：{user['username']}，角色：镇(街道)，所属镇(街道)：杜桥镇" in text
    assert f"停用账号 #{user['id']}：是否启用 是 → 否" in text
    assert "331082112" not in text


def test_audit_reading_when_the_platform_moved_names_the_platform(p):
    """The platform's own moves (an evaluation computed) read 平台（自动）, not system."""
    page = audit_view.entries(p, _actor(p, "auditor"), audit_view.parse_filter(event="evaluation.done"))
    sentence = page.items[0].reading().sentence
    assert sentence.startswith("平台（自动）于 ") and "状态 运行中 → 已完成（未发布），参评企业数：" in sentence


def _actor(p, username: str):
    from tenglong.adapters.db.tables import users
    from tenglong.services.accounts.auth import actor_of

    with p.uow.read() as conn:
        return actor_of(conn.execute(select(users).where(users.c.username == username)).one())


def test_audit_filter_choices_when_shown_name_events_people_and_record_types(auditor):
    """The filter offers the event types by their sentences (grouped by record), the accounts by name, and the record
    types by name."""
    page = auditor.get("/admin/audit").text
    assert '<option value="application.approve">批准补助申请</option>' in page
    assert '<optgroup label="补助申请">' in page
    assert '<option value="admin">市经信局 管理员（admin）</option>' in page
    assert '<option value="system">平台（自动）</option>' in page
    assert '<option value="evaluation_run">亩均评价</option>' in page
    assert 'placeholder="evaluation."' not in page


# --- 3. exports of the filtered set -----------------------------------------------------------------------------------


def test_audit_exports_when_filtered_hold_exactly_the_filtered_records_with_their_sentences(auditor, approved):
    """XLSX and CSV of a filter (actor, event, empty dates): the same records as the page, each with the event's name
    and its sentence; the page's export links carry the filter."""
    params = {"actor": "admin", "event": "application.approve", "date_from": "", "date_to": ""}
    total = auditor.get("/api/v1/audit", params=params).json()["total"]
    assert total >= 1
    page = auditor.get("/admin/audit", params=params).text
    assert 'href="/api/v1/audit/export.xlsx?actor=admin&amp;event=application.approve"' in page
    book = openpyxl.load_workbook(io.BytesIO(auditor.get("/api/v1/audit/export.xlsx", params=params).content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == audit_view.HEADERS and len(rows) == total + 1
    assert {r[4] for r in rows[1:]} == {"application.approve"} and {r[10] for r in rows[1:]} == {"批准补助申请"}
    assert any(f"批准补助申请 #{approved}：状态 审核中 → 已批准" in r[11] for r in rows[1:])
    lines = list(csv.reader(io.StringIO(auditor.get("/api/v1/audit/export.csv", params=params).text.lstrip("\ufeff"))))
    assert tuple(lines[0]) == audit_view.HEADERS and len(lines) == total + 1
    assert all(line[2] == "admin" and "（北京时间）" in line[11] for line in lines[1:])


# --- 4. unlocking an account ------------------------------------------------------------------------------------------


def test_unlock_when_the_throttle_locked_an_account_lets_it_sign_in_again_and_is_audited(p, admin, auditor):
    """Five failures lock the account (429 with the right password); the users page says until when, in Beijing time;
    the administrator unlocks it (confirmed on the page), the audit log says so with the lock lifted, and the right
    password signs in."""
    user = _account(admin)
    _lock(p, user["username"])
    r = peer(p).post("/api/v1/session", json={"username": user["username"], "password": PASSWORD})
    assert r.status_code == 429
    page = admin.get("/admin/users").text
    row = page.split(f'data-username="{user["username"]}"')[1].split("</tr>")[0]
    assert re.search(r"已锁定至 \d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", row) and "5 次登录失败" in row
    assert f'action="/admin/users/{user["id"]}/unlock"' in row and "data-confirm=" in row
    assert admin.get("/api/v1/admin/users").json()[-1]["locked_until"]
    r = admin.post(f"/admin/users/{user['id']}/unlock", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and "notice=unlocked" in r.headers["location"]
    assert "可以重新登录" in admin.get(r.headers["location"]).text
    with p.uow.read() as conn:
        (record,) = conn.execute(
            select(audit_log).where(audit_log.c.action == "user.unlock", audit_log.c.entity_id == str(user["id"]))
        ).all()
    assert record.actor == "admin" and record.before["failures"] == 5 and record.before["locked_until"]
    assert record.after == {"username": user["username"], "locked_until": None, "failures": 0}
    text = _visible(auditor.get("/admin/audit", params={"event": "user.unlock", "entity_id": str(user["id"])}).text)
    assert f"解除账号 #{user['id']} 的登录锁定：锁定至 " in text and "计入锁定的登录失败次数 5 → 0" in text
    assert peer(p).post("/api/v1/session", json={"username": user["username"], "password": PASSWORD}).status_code == 200
    assert f'action="/admin/users/{user["id"]}/unlock"' not in admin.get("/admin/users").text


def test_unlock_when_not_an_administrator_is_refused_and_the_account_stays_locked(p, admin):
    """department, town, enterprise and auditor get 403 from the API and the page; nothing is recorded."""
    user = _account(admin)
    _lock(p, user["username"])
    for role in ("department", "town", "enterprise", "auditor"):
        c = client_for(p, role)
        assert c.post(f"/api/v1/admin/users/{user['id']}/unlock").status_code == 403, role
        assert c.post(f"/admin/users/{user['id']}/unlock", headers={"accept": "text/html"}).status_code == 403, role
        c.close()
    with p.uow.read() as conn:
        assert not conn.execute(
            select(audit_log).where(audit_log.c.action == "user.unlock", audit_log.c.entity_id == str(user["id"]))
        ).all()
    assert peer(p).post("/api/v1/session", json={"username": user["username"], "password": PASSWORD}).status_code == 429


def test_unlock_when_the_account_is_not_locked_answers_409_and_an_unknown_one_404(admin):
    """Nothing to unlock: 409 saying so; a guessed id: 404."""
    user = _account(admin)
    r = admin.post(f"/api/v1/admin/users/{user['id']}/unlock")
    assert r.status_code == 409 and "未被锁定" in r.json()["message"]["zh"]
    assert admin.post("/api/v1/admin/users/999999/unlock").status_code == 404


def test_throttle_when_an_account_signs_in_counts_only_the_failures_after_it(p, admin):
    """Four failures, a sign-in, four more failures: not locked (failures before a sign-in or an unlock no longer
    count; before, eight failures in the window locked it); a fifth after the sign-in locks it."""
    user = _account(admin)
    name = user["username"]

    def sign_in(password: str) -> int:
        return peer(p).post("/api/v1/session", json={"username": name, "password": password}).status_code

    assert [sign_in("x") for _ in range(4)] == [401] * 4 and sign_in(PASSWORD) == 200
    assert [sign_in("x") for _ in range(4)] == [401] * 4
    row = admin.get("/admin/users").text.split(f'data-username="{name}"')[1].split("</tr>")[0]
    assert "未锁定" in row
    with p.uow.write(None) as w:
        w.conn.execute(insert(login_attempts).values(username=name, address="192.0.2.1", at=now(), success=False))
    assert sign_in(PASSWORD) == 429


# --- 5. where a problem is, in words ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "lang", "label"),
    [
        ("projects.P1.total_investment", "zh", "项目 P1 · 项目投资"),
        ("projects.P1.total_investment[2023]", "zh", "项目 P1 · 项目投资（2023 年）"),
        ("enterprises.E1.tax_paid.2023", "en", "enterprise E1 · Tax paid (2023)"),
        ("enterprises.甲.公司", "zh", "企业 甲.公司"),
        ("land_transfers.T1", "zh", "土地转让 T1"),
        ("inputs.equipment_investment", "zh", "设备（装备）投资额"),
        ("credit_code", "zh", "统一社会信用代码"),
        ("credit_code", "en", "Unified social credit code"),
        ("username", "zh", "用户名"),
        ("town", "zh", "所属镇(街道)"),
        ("note", "zh", "意见或理由"),
        ("query.date_from", "zh", "起始日期"),
        ("body.role", "zh", "角色"),
        ("line 3, column 7", "zh", "第 3 行第 7 列"),
        ("$", "zh", "整个请求"),
        ("企业数据!C12 (年度)", "zh", "企业数据!C12 (年度)"),
        ("第3行 项目投资", "zh", "第3行 项目投资"),
        ("企业数据.xlsx", "zh", "企业数据.xlsx"),
    ],
)
def test_where_label_when_given_a_place_names_it_as_a_person_reads_it(where, lang, label):
    """Contract paths read as the entity and the variable's label, fields and parameters by their labels, spreadsheet
    cells and file names stay as they are."""
    assert where_label(where, lang) == label


def test_error_box_when_problems_have_paths_shows_their_labels_never_the_paths():
    """The error box (every page's error) names the place by its label and adds what is expected."""
    problems = [
        Problem(
            "negative", "projects.P1.total_investment", "-1", "不小于 0 的金额（元）", "≥ 0", "1", "不能为负。", "neg."
        ),
        Problem("bad", "credit_code", "x", "18 位代码", "18 characters", "", "代码无效。", "bad code."),
        {"where": "企业数据!C12 (年度)", "message_zh": "年度无效。", "message_en": "bad year."},
    ]
    html = templates.get_template("_error_box.html").render(
        status=422, message="输入有误", problems=problems, lang="zh", whole_page=False
    )
    text = re.sub(r"<[^>]+>", " ", html)
    assert "项目 P1 · 项目投资" in text and "统一社会信用代码" in text and "企业数据!C12 (年度)" in text
    assert "projects.P1.total_investment" not in text and "credit_code" not in text
    assert "（应为：不小于 0 的金额（元））" in text
    assert 'data-where="projects.P1.total_investment"' in html  # for tools and tests, never shown


# --- 6. the city, the icon --------------------------------------------------------------------------------------------


def test_sources_when_scanned_call_linhai_the_city_never_the_county():
    """Linhai is a county-level city and the policy says 全市: no text of the platform says 全县."""
    found = [
        f"{path.relative_to(SRC)}:{n}"
        for path in sorted(SRC.rglob("*"))
        if path.suffix in (".py", ".yaml", ".html", ".js", ".txt", ".md")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "全县" in line
    ]
    assert not found, found


def test_favicon_when_asked_at_the_root_or_linked_answers_200(p):
    """/favicon.ico answers an icon without a session; every page links the SVG icon, which is served."""
    anonymous = TestClient(create_app(p))
    r = anonymous.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"] == "image/vnd.microsoft.icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"
    login = anonymous.get("/login").text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login
    svg = anonymous.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")
