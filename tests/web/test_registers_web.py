"""The register pages and API (清单, A.3): the kinds with their counts, a kind's board and list with filters and
sorting, the Excel export, an entry's page, moves made from its forms (final ones asked first), the refusals of
each role, evidence uploaded to an entry, and the API's list, entry, addition and move."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from tenglong.adapters.db.tables import audit_log
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.campaign.common import town_names

from .conftest import client_for, make_platform

HCLE = "high_consumption_low_efficiency"
HTML = {"accept": "text/html"}
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PLAN_FORM = {
    "category": "renovation",
    "measures": "淘汰燃煤锅炉，新增自动化产线",
    "target.tax_per_mu": "0.0001",
    "deadline": "2099-12-31",
    "responsible_unit": "natural_resources_bureau",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A private demo county (its registers are changed here) and a client per role."""
    tmp = tmp_path_factory.mktemp("registers_web")
    p = make_platform(f"sqlite:///{tmp / 'r.db'}", upload_dir=str(tmp / "u"), attachment_dir=str(tmp / "f"))
    clients = {role: client_for(p, role) for role in ("admin", "department", "town", "enterprise", "auditor")}
    yield p, clients
    for c in clients.values():
        c.close()
    p.engine.dispose()


def _items(c, kind: str = HCLE, **params) -> list[dict]:
    r = c.get(f"/api/v1/registers/{kind}", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _text(html: str) -> str:
    """The visible text of a page (tags and attributes left out)."""
    return re.sub(r"<[^>]+>", " ", html)


def test_kinds_page_when_opened_lists_nine_kinds_with_counts_by_state_names_and_overdue(site):
    _, c = site
    r = c["admin"].get("/registers", headers=HTML)
    assert r.status_code == 200
    kinds = c["admin"].get("/api/v1/registers").json()["kinds"]
    assert len(kinds) == 9  # the six of A.3, the commitments and the 严重失信名单 of A.4.2, the examples of A.4.3
    for k in kinds:
        assert k["zh"] in r.text and f'data-kind="{k["key"]}"' in r.text
    assert "已制定方案" in r.text and "2 项逾期" in r.text
    assert "rectifying" not in _text(r.text)  # states by their names, never their keys
    assert 'href="/registers"' in r.text  # the nav link


def test_board_when_opened_has_a_column_per_state_and_cards_with_town_names_and_overdue_badges(site):
    _, c = site
    r = c["admin"].get(f"/registers/{HCLE}", headers=HTML)
    assert r.status_code == 200
    for state in ("proposed", "identified", "planned", "rectifying"):
        assert f'data-state="{state}"' in r.text
    text = _text(r.text)
    assert town_names()[DEMO_TOWN][0] in text and DEMO_TOWN not in text
    assert text.count("逾期") >= 2 and "整治中" in text


def test_list_when_filtered_and_sorted_shows_only_the_matching_entries(site):
    _, c = site
    overdue = _items(c["admin"], overdue="true")
    assert len(overdue) == 2 and all(e["overdue"] for e in overdue)
    r = c["admin"].get(f"/registers/{HCLE}", params={"view": "list", "overdue": "true"}, headers=HTML)
    assert r.status_code == 200 and r.text.count("data-entry=") == 2
    rect = _items(c["admin"], state="rectifying")
    assert rect and {e["status"] for e in rect} == {"rectifying"}
    in_town = _items(c["admin"], town=town_names()[DEMO_TOWN][0])
    assert in_town and {e["town"] for e in in_town} == {DEMO_TOWN}
    r = c["admin"].get(f"/registers/{HCLE}", params={"view": "list", "sort": "-deadline"}, headers=HTML)
    assert r.status_code == 200 and "▼" in r.text
    assert c["admin"].get(f"/api/v1/registers/{HCLE}", params={"town": "火星镇"}).status_code == 422
    assert c["admin"].get("/registers/no_such_register", headers=HTML).status_code == 404


def test_scope_when_town_or_enterprise_reads_shows_only_its_own_entries(site):
    _, c = site
    everyone = _items(c["admin"])
    town = _items(c["town"])
    assert town and {e["town"] for e in town} == {DEMO_TOWN} and len(town) < len(everyone)
    foreign = next(e for e in everyone if e["town"] != DEMO_TOWN)
    assert c["town"].get(f"/registers/{HCLE}/{foreign['id']}", headers=HTML).status_code == 404
    assert c["town"].get(f"/api/v1/registers/{HCLE}/entries/{foreign['id']}").status_code == 404
    mine = _items(c["enterprise"])
    assert len({e["credit_code"] for e in mine}) <= 1
    r = c["town"].get(f"/registers/{HCLE}", headers=HTML)
    assert 'name="town"' not in r.text  # no town filter for a town


def test_export_when_filtered_is_a_workbook_of_those_rows_and_is_audited(site):
    p, c = site
    r = c["town"].get(f"/registers/{HCLE}/export.xlsx", params={"state": "rectifying"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    want = _items(c["town"], state="rectifying")
    assert len(rows) - 1 == len(want) and "镇（街道）" in rows[0]
    assert {row[rows[0].index("状态")] for row in rows[1:]} <= {"整治中"}
    api = c["admin"].get(f"/api/v1/registers/{HCLE}/export.xlsx", params={"overdue": "true"})
    assert api.status_code == 200
    with p.uow.read() as conn:
        found = conn.execute(select(audit_log.c.entity_id).where(audit_log.c.action == "export.download")).scalars()
        assert f"registers/{HCLE}.xlsx" in set(found)


def test_entry_page_when_opened_shows_facts_plan_targets_timeline_in_beijing_time_and_moves(site):
    _, c = site
    rect = _items(c["admin"], state="rectifying")[0]
    r = c["admin"].get(f"/registers/{HCLE}/{rect['id']}", headers=HTML)
    assert r.status_code == 200
    for section in ('id="facts"', 'id="plan"', 'id="targets"', 'id="timeline"', 'id="attachments"', 'id="actions"'):
        assert section in r.text
    assert "（北京时间）" in r.text and "万元/亩" in r.text
    assert 'data-action="request_acceptance"' in r.text or 'data-action="shut_down"' in r.text
    en = client_for(site[0], "admin")
    en.get("/lang/en?next=/")
    assert "(Beijing time)" in en.get(f"/registers/{HCLE}/{rect['id']}", headers=HTML).text
    en.close()


def test_moves_from_the_page_when_final_are_asked_first_and_refused_for_other_roles(site):
    _, c = site
    proposed = [e for e in _items(c["town"], state="proposed")]
    first, second = proposed[0], proposed[1]
    page = c["town"].get(f"/registers/{HCLE}/{first['id']}", headers=HTML).text
    assert 'data-action="dismiss"' in page and "data-confirm=" in page
    # Without the confirmation: a page says what it would do; nothing is done.
    r = c["town"].post(f"/registers/{HCLE}/{first['id']}/dismiss", data={"reason": "企业已注销"}, headers=HTML)
    assert r.status_code == 200 and 'id="confirm"' in r.text
    assert c["town"].get(f"/api/v1/registers/{HCLE}/entries/{first['id']}").json()["status"] == "proposed"
    r = c["town"].post(
        f"/registers/{HCLE}/{first['id']}/dismiss",
        data={"reason": "企业已注销", "confirm": "1"},
        headers=HTML,
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert c["town"].get(f"/api/v1/registers/{HCLE}/entries/{first['id']}").json()["status"] == "dismissed"
    # Confirm, then the plan with its targets, from the forms.
    url = f"/registers/{HCLE}/{second['id']}"
    assert c["town"].post(f"{url}/confirm", data={}, headers=HTML, follow_redirects=False).status_code == 303
    r = c["town"].post(f"{url}/plan", data={"measures": "x"}, headers=HTML)
    assert r.status_code == 422 and "field-error" in r.text  # required fields said at the form
    r = c["town"].post(f"{url}/plan", data=PLAN_FORM, headers=HTML, follow_redirects=False)
    assert r.status_code == 303, r.text
    e = c["town"].get(f"/api/v1/registers/{HCLE}/entries/{second['id']}").json()
    assert e["status"] == "planned" and e["plan"]["targets"] == {"tax_per_mu": "0.0001"}
    assert e["deadline"] == "2099-12-31" and e["unit_zh"] == "市自然资源规划局"
    # Refusals: an enterprise makes no move; an auditor neither; unknown move 404.
    planned = f"/registers/{HCLE}/{second['id']}"
    assert c["auditor"].post(f"{planned}/start", data={}, headers=HTML).status_code == 403
    assert c["town"].post(f"{planned}/no_such_move", data={}, headers=HTML).status_code == 404
    # The department is now the responsible unit: it may start the rectification.
    r = c["department"].post(f"{planned}/start", data={"note": "开始"}, headers=HTML, follow_redirects=False)
    assert r.status_code == 303
    history = c["admin"].get(f"/api/v1/registers/{HCLE}/entries/{second['id']}").json()["history"]
    assert [h["move"] for h in history][-3:] == ["confirm", "plan", "start"]


def test_api_when_adding_and_moving_keeps_scope_and_says_what_is_wrong(site):
    _, c = site
    firm = next(
        f["credit_code"]
        for f in c["town"].get("/api/v1/enterprises", params={"per_page": 200}).json()["items"]
        if f["credit_code"] not in {e["credit_code"] for e in _items(c["admin"])}
    )
    r = c["town"].post(f"/api/v1/registers/{HCLE}/entries", json={"credit_code": firm})
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "reason"
    r = c["enterprise"].post(f"/api/v1/registers/{HCLE}/entries", json={"credit_code": firm, "reason": "x"})
    assert r.status_code == 403
    r = c["town"].post(f"/api/v1/registers/{HCLE}/entries", json={"credit_code": firm, "reason": "实地排摸发现"})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["status"] == "identified" and entry["basis"]["reason"] == "实地排摸发现"
    again = c["town"].post(f"/api/v1/registers/{HCLE}/entries", json={"credit_code": firm, "reason": "再次"})
    assert again.status_code == 409
    url = f"/api/v1/registers/{HCLE}/entries/{entry['id']}"
    plan = {
        "category": "renovation",
        "measures": "新增自动化产线",
        "targets": {"tax_per_mu": "5"},
        "deadline": "2099-06-30",
        "responsible_unit": "economy_bureau",
    }
    assert c["department"].post(f"{url}/plan", json=plan).status_code == 403
    assert c["town"].post(f"{url}/close_off", json={"opinion": "x"}).status_code == 403
    assert c["admin"].post(f"{url}/close_off", json={"opinion": "x"}).status_code == 409
    r = c["town"].post(f"{url}/plan", json=plan)
    assert r.status_code == 200 and r.json()["status"] == "planned"
    assert c["town"].get(f"/api/v1/registers/zero_land/entries/{entry['id']}").status_code == 404


def test_evidence_when_uploaded_to_an_entry_goes_back_to_the_entry_page(site):
    _, c = site
    own = c["enterprise"].get("/api/v1/session").json()["credit_code"]
    mine = [e for k in ("high_consumption_low_efficiency", "quality_retention") for e in _items(c["enterprise"], k)]
    if not mine:  # list the demo enterprise, so that it has an entry of its own
        r = c["admin"].post(f"/api/v1/registers/{HCLE}/entries", json={"credit_code": own, "reason": "测试"})
        assert r.status_code == 201, r.text
        mine = _items(c["enterprise"])
    e = mine[0]
    assert {x["credit_code"] for x in mine} == {own}
    page = c["enterprise"].get(f"/registers/{e['kind']}/{e['id']}", headers=HTML).text
    assert 'id="upload"' in page and 'id="actions"' not in page
    key = next(k for k in c["admin"].get("/api/v1/registers").json()["kinds"] if k["key"] == e["kind"])["evidence"][-1]
    r = c["enterprise"].post(
        "/attachments",
        data={"owner": e["kind"], "owner_id": str(e["id"]), "kind": key["key"]},
        files={"file": ("材料.pdf", PDF, "application/pdf")},
        headers=HTML,
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/registers/{e['kind']}/{e['id']}#attachments"
    found = c["admin"].get(f"/api/v1/registers/{e['kind']}/entries/{e['id']}").json()["attachments"]
    names = [a["original_name"] for a in found]
    assert "材料.pdf" in names
    r = c["enterprise"].post(
        "/attachments",
        data={"owner": "no_such_owner", "owner_id": str(e["id"]), "kind": key["key"]},
        files={"file": ("材料.pdf", PDF, "application/pdf")},
        headers=HTML,
    )
    assert r.status_code == 404


def _free_firm(c, kind: str = HCLE) -> str:
    """A firm of the town official's town without an entry of ``kind``."""
    listed = {e["credit_code"] for e in _items(c["admin"], kind)}
    firms = c["town"].get("/api/v1/enterprises", params={"per_page": 200}).json()["items"]
    return next(f["credit_code"] for f in firms if f["credit_code"] not in listed)


def _workbook(header: list[str], rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(header)
    for r in rows:
        wb.active.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_register_page_when_the_role_adds_entries_offers_to_add_one_and_to_import_excel(site):
    """新增条目 and 导入Excel for the kind's intake roles (高耗低效: town, admin), never for the others; their pages
    refuse the others (403) and an unknown register (404)."""
    _, c = site
    for role, shown in (
        ("admin", True),
        ("town", True),
        ("department", False),
        ("enterprise", False),
        ("auditor", False),
    ):
        page = c[role].get(f"/registers/{HCLE}", headers=HTML).text
        assert ('id="new-entry"' in page) == shown and ('id="import-entries"' in page) == shown, role
        want = 200 if shown else 403
        assert c[role].get(f"/registers/{HCLE}/new", headers=HTML).status_code == want, role
        assert c[role].get(f"/registers/{HCLE}/import", headers=HTML).status_code == want, role
    assert c["admin"].get("/registers/no_such_register/new", headers=HTML).status_code == 404
    form = c["town"].get("/registers/zero_land/new", headers=HTML).text  # a register of projects, typed fields
    for name in ('name="project_id"', 'name="category"', 'name="reason"', 'name="fields.investment"'):
        assert name in form, name
    assert 'inputmode="decimal"' in form and '<span class="unit">元</span>' in form
    assert '<option value="true"' in form and 'hx-get="/calculator/enterprises"' in form


def test_new_entry_form_when_posted_says_each_problem_at_its_field_keeps_the_values_then_adds(site):
    """Problems next to their fields with the values kept (422); a firm outside the town is a problem of the code,
    as an unknown one; a good form lists the firm and opens its entry; no CSRF token, no entry."""
    _, c = site
    firm = _free_firm(c)
    url = f"/registers/{HCLE}/new"
    r = c["town"].post(
        url, data={"credit_code": firm, "reason": "", "fields.actual_land_area_mu": "十亩"}, headers=HTML
    )
    assert r.status_code == 422
    assert "请说明列入的理由。" in r.text and "实际用地面积的值" in r.text and 'value="十亩"' in r.text
    assert f'value="{firm}"' in r.text
    foreign = next(e["credit_code"] for e in _items(c["admin"]) if e["town"] != DEMO_TOWN)
    for code in (foreign, "91331082MA2AB3CF7N"):
        r = c["town"].post(url, data={"credit_code": code, "reason": "排摸"}, headers=HTML)
        assert r.status_code == 422 and "不是您可查看的企业" in r.text
    no_token = client_for(site[0], "town")
    no_token.headers.pop("X-CSRF-Token")
    assert no_token.post(url, data={"credit_code": firm, "reason": "排摸"}, headers=HTML).status_code == 403
    no_token.close()
    form = {
        "credit_code": firm,
        "reason": "实地排摸发现",
        "category": "renovation",
        "fields.actual_land_area_mu": "10.5",
    }
    r = c["town"].post(url, data=form, headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/registers/{HCLE}/")
    e = c["town"].get(f"/api/v1/registers/{HCLE}/entries/{r.headers['location'].rsplit('/', 1)[1]}").json()
    assert e["status"] == "identified" and e["fields"]["actual_land_area_mu"] == "10.5000"
    assert e["basis"]["reason"] == "实地排摸发现" and e["category"] == "renovation"
    again = c["town"].post(url, data=form, headers=HTML)
    assert again.status_code == 409 and "不能重复列入" in again.text


def test_import_page_when_a_file_has_problems_lists_them_all_and_imports_nothing_then_imports(site):
    """The page explains the columns and offers the template; a file with problems: a table of every problem (row,
    column, value, expected, example), nothing imported; a good file: the list, saying how many were created."""
    _, c = site
    page = c["town"].get(f"/registers/{HCLE}/import", headers=HTML)
    assert page.status_code == 200 and f'href="/registers/{HCLE}/template.xlsx"' in page.text
    assert 'enctype="multipart/form-data"' in page.text and 'data-column="fields.tax_per_mu"' in page.text
    template = c["town"].get(f"/registers/{HCLE}/template.xlsx")
    assert template.status_code == 200 and template.content.startswith(b"PK")
    firm, second = _free_firm(c), None
    before = len(_items(c["admin"]))
    bad = _workbook(["统一社会信用代码", "类别", "理由"], [[firm, "改造提升", "排摸"], [firm, "不存在的类别", None]])
    r = c["town"].post(f"/registers/{HCLE}/import", files={"file": ("清单.xlsx", bad)}, headers=HTML)
    assert r.status_code == 422 and "未导入任何条目" in r.text
    assert r.text.count('data-row="3"') == 3 and "不存在的类别" in r.text and "改造提升" in r.text
    assert len(_items(c["admin"])) == before
    good = _workbook(["统一社会信用代码", "类别", "理由", "备注"], [[firm, "改造提升", "排摸", "自用列"]])
    r = c["town"].post(
        f"/registers/{HCLE}/import", files={"file": ("清单.xlsx", good)}, headers=HTML, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/registers/{HCLE}?view=list&imported=1&ignored=%E5%A4%87%E6%B3%A8"
    done = c["town"].get(r.headers["location"], headers=HTML).text
    assert 'id="imported"' in done and "以下列不是本清单的列，已忽略：备注" in done  # the column it left out
    assert len(_items(c["admin"])) == before + 1 and second is None


def test_import_api_when_posted_answers_201_with_the_count_or_422_with_every_row_problem(site):
    """``GET …/template.xlsx`` is a workbook; ``POST …/import``: 422 in the error envelope with each problem's row
    and column in ``context``, nothing imported; then 201 with ``created`` and the entries."""
    _, c = site
    r = c["admin"].get("/api/v1/registers/zero_land/template.xlsx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
    header = [cell.value for cell in openpyxl.load_workbook(io.BytesIO(r.content)).active[1]]
    assert "项目编号" in header and "项目总投资(元)" in header and "属明令淘汰项目(是/否)" in header
    firm = _free_firm(c)
    bad = _workbook(["统一社会信用代码", "状态", "理由"], [[firm, "没有这个状态", "排摸"], ["123", None, "排摸"]])
    r = c["town"].post(f"/api/v1/registers/{HCLE}/import", files={"file": ("a.xlsx", bad)})
    body = r.json()
    assert r.status_code == 422 and body["ok"] is False and body["code"] == "invalid_input"
    assert [(p["context"]["row"], p["context"]["header"]) for p in body["problems"]] == [
        (2, "状态"),
        (3, "统一社会信用代码"),
    ]
    assert c["town"].post(f"/api/v1/registers/{HCLE}/import", data={}).status_code == 422  # no file
    assert c["enterprise"].post(f"/api/v1/registers/{HCLE}/import", files={"file": ("a.xlsx", bad)}).status_code == 403
    good = _workbook(["统一社会信用代码", "状态", "理由"], [[firm, "整治中", "迁移旧清单"]])
    r = c["town"].post(f"/api/v1/registers/{HCLE}/import", files={"file": ("a.xlsx", good)})
    assert r.status_code == 201 and r.json()["created"] == 1
    e = c["town"].get(f"/api/v1/registers/{HCLE}/entries/{r.json()['entries'][0]}").json()
    assert e["status"] == "rectifying" and [h["move"] for h in e["history"]] == ["import"]
