"""政策计算器: a 2.10 project through the form (plain and htmx), input errors at their field, batch JSON and XLSX."""

from __future__ import annotations

import io
import json
import re

import openpyxl
from sqlalchemy import select

from tenglong.adapters.db.tables import enterprises

PROJECT_210 = {
    "case": "project",
    "application_date": "2023-03-01",
    "total_investment": "15000000",
    "equipment_investment": "8000000",
}


def _value_of(html: str, output: str) -> str:
    return re.search(rf'data-output="{output}".*?class="value">([^<]*)<', html, re.S).group(1).strip()


def test_calculator_form_when_2_10_major_project_shows_800000_with_clause_and_reasons(client_as):
    """Equipment 8,000,000 of a 15,000,000 project → 800,000.00 major, the quoted clause linked, each condition
    listed.
    """
    r = client_as("town").post("/calculator", data=PROJECT_210)
    assert r.status_code == 200
    assert _value_of(r.text, "tech_renovation_subsidy") == "800,000.00 元"
    result = r.text.split('id="results"')[1]
    block = result.split('data-clause="2.10"')[1].split("</article>")[0]
    assert "适用" in block and 'href="/policy#c2-10"' in block and "按设备投资额的10%给予补助" in block
    assert "满足：装备投资 8,000,000.00 元 ≥ 5,000,000.00 元" in block
    assert "未计算" in result.split('data-clause="2.11"')[1].split("</article>")[0]


def test_calculator_form_when_posted_by_htmx_returns_the_panel_only(client_as):
    """An htmx post gets the form and results panel (no page layout), so the page swaps it in."""
    r = client_as("enterprise").post("/calculator", data=PROJECT_210, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and 'id="calc-form"' in r.text
    assert _value_of(r.text, "tech_renovation_subsidy") == "800,000.00 元"


def test_calculator_form_when_input_bad_shows_problem_at_the_field(client_as):
    """A non-number investment is reported inside that field's label (422), and nothing is computed."""
    r = client_as("enterprise").post("/calculator", data={**PROJECT_210, "total_investment": "一千万"})
    assert r.status_code == 422 and 'id="results"' not in r.text
    label = r.text.split('data-field="total_investment"')[1].split("</label>")[0]
    assert 'class="field-error"' in label and "total_investment" in label and "8000000.00" in label


def test_calculator_form_when_date_outside_policy_says_not_in_force(client_as):
    """A project judged in 2024 gets status 'not in force' with the clause's validity."""
    r = client_as("enterprise").post("/calculator", data={**PROJECT_210, "application_date": "2024-02-01"})
    block = r.text.split('data-clause="2.10"')[1].split("</article>")[0]
    assert r.status_code == 200 and "不在有效期内" in block and "2022-07-16 至 2023-12-31" in block


def test_calculator_form_when_other_kinds_answers_land_sale_merger_and_transfer(client_as):
    """Land sale (2.13), merger (2.9) and a land split (2.7) are computed through the same contract."""
    c = client_as("admin")
    sale = c.post(
        "/calculator",
        data={"case": "land_sale", "application_date": "2023-03-01", "land_grade": "10", "area_m2": "6000"},
    )
    assert sale.status_code == 200 and _value_of(sale.text, "reserve_price_floor") == "1,008,000.00 元"
    merger = c.post(
        "/calculator",
        data={
            "case": "merger",
            "application_date": "2023-03-01",
            "acquirer_mujun_class_last_year": "A",
            "target_two_high_one_low": "true",
            "registered_and_taxed_locally_after": "true",
            "acquired_land_area_mu": "10",
        },
    )
    assert merger.status_code == 200 and _value_of(merger.text, "quotas_transfer_to_merged") == "是"
    split = c.post(
        "/calculator",
        data={
            "case": "land_transfer",
            "application_date": "2023-03-01",
            "kind": "split",
            "transferee_mujun_class_last_year": "C",
            "transferee_compliant": "true",
            "completed_and_in_production": "true",
            "split_by_whole_buildings": "true",
            "parcel_count_after": "2",
            "smallest_parcel_area_mu": "12",
            "separates_ancillary_land": "false",
            "parcel_from_earlier_split": "false",
            "parcel_from_earlier_merge": "false",
        },
    )
    assert split.status_code == 200 and _value_of(split.text, "transfer_allowed") == "否"
    assert (
        "不得向上一年度亩均评价C、D类企业转让"
        in split.text.split('data-output="transfer_violations"')[1].split("</div>")[1]
    )


def test_calculator_page_when_enterprise_signs_in_preselects_its_firm_and_class(client_as, platform):
    """The enterprise's own firm is chosen and its latest published final class prefilled; another town's firm is 404
    for a town.
    """
    c = client_as("enterprise")
    me = c.get("/api/v1/session").json()["credit_code"]
    r = c.get("/calculator")
    assert r.status_code == 200 and me in r.text and "2023 年度亩均评价最终类别" in r.text
    assert re.search(r'name="ent.mujun_class".*?<option value="([A-D])" selected', r.text, re.S)
    with platform.uow.read() as conn:
        other = conn.execute(
            select(enterprises.c.credit_code).where(enterprises.c.town != "331082112").limit(1)
        ).scalar_one()
    assert client_as("town").get(f"/calculator?enterprise={other}").status_code == 404
    assert c.get(f"/calculator?enterprise={other}").status_code == 404


def test_calculator_batch_when_json_uploaded_returns_table_and_excel(client_as):
    """A JSON request file gives the results table on screen and, sent back, an Excel workbook with Chinese headers."""
    doc = {
        "as_of": "2023-03-01",
        "enterprises": {"E1": {}},
        "projects": {
            "P1": {
                "enterprise": "E1",
                "total_investment": 15000000,
                "equipment_investment": 8000000,
                "tech_renovation_tier": None,
                "tech_renovation_subsidy": None,
            }
        },
    }
    c = client_as("department")
    r = c.post(
        "/calculator/batch",
        files={"file": ("request.json", json.dumps(doc).encode(), "application/json")},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    row = r.text.split('data-row="P1.tech_renovation_subsidy"')[1].split("</tr>")[0]
    assert "800,000.00" in row and "适用" in row
    request_json = (
        re.search(r'name="request" value="([^"]*)"', r.text).group(1).replace("&#34;", '"').replace("&quot;", '"')
    )
    x = c.post("/calculator/batch.xlsx", data={"request": request_json})
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert [cell.value for cell in ws[1]][:5] == [
        "实体类型",
        "编号",
        "名称",
        "条款",
        "变量",
    ] and ws.freeze_panes == "A2"
    values = {(row[1], row[4]): row[6] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert values[("P1", "tech_renovation_subsidy")] == 800000 and values[("P1", "tech_renovation_tier")] == "major"


def test_calculator_batch_when_json_invalid_lists_every_problem(client_as):
    """A broken request file is answered with every problem and no results."""
    bad = b'{"as_of": "2023-02-30", "projects": {"P1": {"enterprise": "E9", "tech_renovation_subsidy": null}}}'
    r = client_as("town").post(
        "/calculator/batch", files={"file": ("bad.json", bad, "application/json")}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200 and "2 处问题" in r.text and "projects.P1.enterprise" in r.text and "as_of" in r.text


def _filled_template(c, rows: list[dict[str, object]]) -> bytes:
    t = c.get("/calculator/template.xlsx")
    assert t.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(t.content))
    ws = wb["项目"]
    headers = [cell.value for cell in ws[1]]
    ws.delete_rows(2)
    for i, row in enumerate(rows, start=2):
        for header, value in row.items():
            ws.cell(row=i, column=headers.index(header) + 1, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_calculator_batch_when_xlsx_uploaded_computes_each_project(client_as):
    """The template filled with two projects of one enterprise: 800,000.00 major, and the ordinary one capped with the
    other.
    """
    c = client_as("enterprise")
    data = _filled_template(
        c,
        [
            {
                "项目编号": "T1",
                "企业编号": "E1",
                "申请日期": "2023-03-01",
                "项目投资(元)": 15000000,
                "设备（装备）投资额(元)": 8000000,
            },
            {
                "项目编号": "T2",
                "企业编号": "E2",
                "申请日期": "2023-03-01",
                "项目投资(元)": 3000000,
                "设备（装备）投资额(元)": 30000000,
            },
            {
                "项目编号": "T3",
                "企业编号": "E2",
                "申请日期": "2023-04-01",
                "项目投资(元)": 3000000,
                "设备（装备）投资额(元)": 20000000,
            },
        ],
    )
    r = c.post(
        "/calculator/batch",
        files={"file": ("projects.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    )
    assert r.status_code == 200

    def cell(pid: str) -> str:
        return r.text.split(f'data-row="{pid}.tech_renovation_subsidy"')[1].split("</tr>")[0]

    assert "800,000.00" in cell("T1") and "1,500,000.00" in cell("T2") and "500,000.00" in cell("T3")


def test_calculator_batch_when_xlsx_cell_bad_names_row_and_column(client_as):
    """A text in a money column is reported with its row and header; nothing is computed."""
    c = client_as("enterprise")
    data = _filled_template(
        c, [{"项目编号": "T1", "申请日期": "2023-03-01", "项目投资(元)": "很多", "设备（装备）投资额(元)": 8000000}]
    )
    r = c.post("/calculator/batch", files={"file": ("projects.xlsx", data, "application/octet-stream")})
    assert r.status_code == 422 and "第2行 项目投资(元)" in r.text and "不是数字" in r.text


def test_calculator_template_when_downloaded_has_chinese_headers_and_frozen_row(client_as):
    """The template has the 2.10/2.11 columns with Chinese headers, a frozen header row and an explanation sheet."""
    t = client_as("auditor").get("/calculator/template.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(t.content))
    ws = wb["项目"]
    headers = [cell.value for cell in ws[1]]
    assert {"项目编号", "申请日期", "项目投资(元)", "设备（装备）投资额(元)", "“零增地”技改", "技改前容积率"} <= set(
        headers
    )
    assert ws.freeze_panes == "A2" and "说明" in wb.sheetnames
