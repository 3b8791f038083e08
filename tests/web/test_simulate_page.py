"""The what-if page (/simulate, web/pages/simulate.py): who may open it, a saved reform pre-filled, the parameters
typed as officials type them (% and 万元), the exports (XLSX, PDF) and a bad reform listed problem by problem."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import openpyxl
import pytest

from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.simulation import scale_of
from tenglong.services.simulation import typed as shown
from tenglong.web.figures import towns

from .conftest import client_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REFORM = {
    "title": "规上A类提高到30%",
    "description": "矩阵外的页面测试",
    "changes": {
        "mujun.quotas_above_scale": {"A": 0.3, "B": 0.5, "C": 0.15, "D": 0.05},
        "tech_renovation.major_rate": 0.12,
        "tech_renovation.major_cap_per_project": 3500000,
    },
}


@pytest.fixture(scope="module")
def site(platform):
    clients = {r: client_for(platform, r) for r in ("admin", "department", "town", "enterprise", "auditor")}
    yield clients
    for c in clients.values():
        c.close()


def _value_of(html: str, path: str, key: str | None = None) -> str:
    """The value an input of the page holds (``data-path`` and, for a table, ``data-key``)."""
    keyed = f'[^>]*data-key="{key}"' if key else ""
    m = re.search(rf'<input[^>]*data-path="{re.escape(path)}"{keyed}[^>]*\bvalue="([^"]*)"', html)
    assert m, (path, key)
    return m.group(1)


@pytest.mark.parametrize("role", ["admin", "department", "town", "auditor"])
def test_page_when_an_official_opens_it_lists_the_parameters_in_percent_and_wan(site, role):
    r = site[role].get("/simulate?year=2023")  # other tests on the worker may add later years
    assert r.status_code == 200
    html = r.text
    assert 'id="sim-setup"' in html and "/static/simulate.js" in html and 'href="/simulate"' in html
    assert _value_of(html, "tech_renovation.major_rate") == "10"  # 0.10 typed as 10 %
    assert _value_of(html, "tech_renovation.major_cap_per_project") == "300"  # 3,000,000 元 typed as 300 万元
    assert _value_of(html, "mujun.quotas_above_scale", "A") == "20"
    assert "对项目投资1000万元及以上" in html  # the policy's words next to the parameter
    assert ('id="save-form"' in html) == (role in ("admin", "department"))  # save_reforms only


def test_page_when_an_enterprise_asks_is_refused(site):
    assert site["enterprise"].get("/simulate", headers={"accept": "text/html"}).status_code == 403
    assert 'href="/simulate"' not in site["enterprise"].get("/dashboard").text


def test_page_when_a_saved_reform_is_linked_fills_in_its_title_and_values(site):
    saved = site["department"].post("/api/v1/reforms", json={"reform": REFORM})
    assert saved.status_code == 201
    r = site["town"].get(saved.json()["url"] + "&year=2023")
    assert r.status_code == 200
    html = r.text
    assert REFORM["title"] in html and 'id="sim-loaded"' in html
    assert _value_of(html, "mujun.quotas_above_scale", "A") == "30"
    assert _value_of(html, "mujun.quotas_above_scale", "B") == "50"
    assert _value_of(html, "tech_renovation.major_rate") == "12"
    assert _value_of(html, "tech_renovation.major_cap_per_project") == "350"
    setup = json.loads(re.search(r'id="sim-setup">(.*?)</script>', html, re.S).group(1))
    assert setup["of"] == saved.json()["id"] and setup["year"] == 2023
    assert site["admin"].get("/simulate?reform=999999", headers={"accept": "text/html"}).status_code == 404


def test_page_when_the_year_is_after_the_policy_marks_what_is_no_longer_in_force():
    from tenglong.services.simulation.platform import parameter_tree

    def rate(year):
        tree = parameter_tree(year)
        return next(p for ns in tree for p in ns["parameters"] if p["path"] == "tech_renovation.major_rate")

    assert rate(2023)["in_force"] and rate(2023)["value"] == "0.10"
    assert not rate(2024)["in_force"] and rate(2024)["value"] is None  # the policy ran to 2023-12-31


def test_page_when_the_year_has_no_data_is_422(site):
    r = site["admin"].get("/simulate?year=2019", headers={"accept": "text/html"})
    assert r.status_code == 422 and 'data-where="year"' in r.text


def test_export_xlsx_when_posted_downloads_the_workbook_with_support_by_clause(site):
    r = site["town"].post("/simulate/export.xlsx", data={"year": "2023", "reform": json.dumps(REFORM)})
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"].startswith("attachment;")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert "资金（按条款）" in book.sheetnames


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) not installed")
def test_export_pdf_when_posted_downloads_the_report_with_the_reform_title(site, tmp_path):
    r = site["admin"].post("/simulate/export.pdf", data={"year": "2023", "reform": json.dumps(REFORM)})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    (tmp_path / "r.pdf").write_bytes(r.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
    squeezed = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", REFORM["title"]) in squeezed and "政策模拟报告" in squeezed


@pytest.mark.parametrize("path", ["/simulate/export.xlsx", "/simulate/export.pdf"])
def test_export_when_the_reform_is_bad_lists_every_problem(site, path):
    bad = {"title": "坏方案", "changes": {"tech_renovation.major_rate": "abc", "no_such.parameter": 1}}
    r = site["admin"].post(path, data={"year": "2023", "reform": json.dumps(bad)})
    assert r.status_code == 422
    where = {p["where"] for p in r.json()["problems"]}
    assert where == {"tech_renovation.major_rate", "no_such.parameter"}
    page = site["admin"].post(path, data={"year": "2023", "reform": "{not json"}, headers={"accept": "text/html"})
    assert page.status_code == 422 and 'data-where="reform"' in page.text


def test_export_when_a_town_asks_names_only_its_own_firms(site):
    r = site["town"].post("/simulate/export.xlsx", data={"year": "2023", "reform": json.dumps(REFORM)})
    ws = openpyxl.load_workbook(io.BytesIO(r.content))["变化的企业"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row and "镇（街道）" in [str(v) for v in row])
    col = [str(v) for v in rows[header]].index("镇（街道）")
    seen = {row[col] for row in rows[header + 1 :] if row and row[col]}
    assert seen == {dict(towns("zh"))[DEMO_TOWN]}


def test_scale_when_values_are_shown_moves_the_decimal_point_exactly():
    assert scale_of("ratio") == "pct" and scale_of("元") == "wan" and scale_of("亩") == ""
    assert shown("0.07", "pct") == "7" and shown("0.125", "pct") == "12.5" and shown(3000000, "wan") == "300"
    assert shown(12345, "wan") == "1.2345" and shown(None, "pct") == "" and shown("3", "") == "3"


def test_template_when_an_official_downloads_it_is_the_import_format(site):
    r = site["town"].get("/simulate/template.xlsx")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    headers = [str(c.value) for c in next(book["企业数据"].iter_rows(max_row=1))]
    assert "统一社会信用代码" in headers[0]
    assert site["enterprise"].get("/simulate/template.xlsx").status_code == 403


def test_export_when_the_county_was_uploaded_is_computed_on_it_and_is_its_uploaders_alone(site, tmp_path):
    from tenglong.demo.county import generate_county

    data = tmp_path / "county.csv"
    generate_county(2023, range(2023, 2024)).head(300).write_csv(data)  # 300 firms of the demo generator, 2023
    up = (
        site["town"]
        .post(
            "/api/v1/simulations/files",
            files={"data": ("county.csv", data.read_bytes(), "text/csv")},
            data={"year": "2023"},
        )
        .json()
    )
    form = {"year": "", "snapshot": up["snapshot"], "reform": json.dumps(REFORM)}
    r = site["town"].post("/simulate/export.xlsx", data=form)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert site["department"].post("/simulate/export.xlsx", data=form).status_code == 404
    page = site["town"].get("/simulate?year=2023").text
    assert 'id="upload-form"' in page and 'name="snapshot"' in page and 'href="/simulate/template.xlsx"' in page
