"""政策计算器: a 2.10 project through the form (plain and htmx), input errors at their field, batch JSON and XLSX;
units as officials use them (万元, percentages), relations between inputs, blanks that are not zeros, the validity
notice, the enterprise type-ahead, and the new-application form's inputs.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import openpyxl
import pytest
from sqlalchemy import select

from tenglong.adapters.db.tables import enterprises
from tenglong.services.calculation import calculator

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
    assert _value_of(r.text, "tech_renovation_subsidy") == "80.00 万元（800,000.00 元）"
    result = r.text.split('id="results"')[1]
    block = result.split('data-clause="2.10"')[1].split("</article>")[0]
    assert "适用" in block and 'href="/policy#c2-10"' in block and "按设备投资额的10%给予补助" in block
    assert "满足：装备投资 8,000,000.00 元 ≥ 5,000,000.00 元" in block
    assert "未计算" in result.split('data-clause="2.11"')[1].split("</article>")[0]


def test_calculator_form_when_posted_by_htmx_returns_the_panel_only(client_as):
    """An htmx post gets the form and results panel (no page layout), so the page swaps it in."""
    r = client_as("enterprise").post("/calculator", data=PROJECT_210, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and 'id="calc-form"' in r.text
    assert _value_of(r.text, "tech_renovation_subsidy") == "80.00 万元（800,000.00 元）"


def _label(html: str, field: str) -> str:
    return html.split(f'data-field="{field}"')[1].split("</label>")[0]


def _output(html: str, name: str) -> str:
    """The block of one output: its value, status, quoted text and reasons."""
    return html.split(f'data-output="{name}"')[1].split('<div class="output ')[0].split("</article>")[0]


def _errors(html: str, field: str) -> str:
    return " ".join(re.findall(r'class="field-error"[^>]*>(.*?)</small>', _label(html, field), re.S))


def test_calculator_form_when_input_bad_shows_problem_at_the_field(client_as):
    """A non-number investment is reported inside that field's label, in its words (422), and nothing is computed."""
    r = client_as("enterprise").post(
        "/calculator", data={**PROJECT_210, "total_investment": "一千万", "total_investment__unit": "万元"}
    )
    assert r.status_code == 422 and 'id="results"' not in r.text
    said = _errors(r.text, "total_investment")
    assert "项目投资" in said and "“一千万”不是数字" in said and "示例 800" in said
    assert "total_investment" not in said and "projects.P1" not in said


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
    assert sale.status_code == 200 and _value_of(sale.text, "reserve_price_floor") == "100.80 万元（1,008,000.00 元）"
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
    assert r.status_code == 200 and "2 处问题" in r.text and "项目 P1 · 所属企业" in r.text and "判断日期" in r.text


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
    """The template (amounts in 万元) filled with three projects: 800,000.00 major, and two ordinary ones of one
    enterprise sharing its 2,000,000 yearly cap.
    """
    c = client_as("enterprise")
    data = _filled_template(
        c,
        [
            {
                "项目编号": "T1",
                "企业编号": "E1",
                "申请日期": "2023-03-01",
                "项目投资(万元)": 1500,
                "设备（装备）投资额(万元)": 800,
            },
            {
                "项目编号": "T2",
                "企业编号": "E2",
                "申请日期": "2023-03-01",
                "项目投资(万元)": 3000,
                "设备（装备）投资额(万元)": 3000,
                "属传统产业改造提升项目": "否",
            },
            {
                "项目编号": "T3",
                "企业编号": "E2",
                "申请日期": "2023-04-01",
                "项目投资(万元)": 2000,
                "设备（装备）投资额(万元)": 2000,
                "属传统产业改造提升项目": "否",
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

    assert "80.00 万元（800,000.00 元）" in cell("T1") and "1,500,000.00" in cell("T2") and "500,000.00" in cell("T3")


def test_calculator_batch_when_xlsx_cell_bad_names_row_and_column(client_as):
    """A text in a money column is reported with its row and header; nothing is computed."""
    c = client_as("enterprise")
    data = _filled_template(
        c, [{"项目编号": "T1", "申请日期": "2023-03-01", "项目投资(万元)": "很多", "设备（装备）投资额(万元)": 800}]
    )
    r = c.post("/calculator/batch", files={"file": ("projects.xlsx", data, "application/octet-stream")})
    assert r.status_code == 422 and "第2行 项目投资(万元)" in r.text and "不是数字" in r.text


def test_calculator_template_when_downloaded_has_chinese_headers_and_frozen_row(client_as):
    """The template has the 2.10/2.11 columns with Chinese headers, a frozen header row and an explanation sheet."""
    t = client_as("auditor").get("/calculator/template.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(t.content))
    ws = wb["项目"]
    headers = [cell.value for cell in ws[1]]
    assert {
        "项目编号",
        "申请日期",
        "项目投资(万元)",
        "设备（装备）投资额(万元)",
        "“零增地”技改",
        "技改前容积率",
    } <= set(headers)
    assert ws.freeze_panes == "A2" and "说明" in wb.sheetnames


# -- units as officials use them ------------------------------------------------------------------------------------

GROWTH_2513 = {
    "case": "project",
    "application_date": "2023-03-01",
    "total_investment": "800",
    "total_investment__unit": "万元",
    "equipment_investment": "600",
    "equipment_investment__unit": "万元",
    "key_industrial_project": "true",
    "ent.is_2513_enterprise": "true",
    "ent.industrial_equipment_investment": "600",
    "ent.industrial_equipment_investment__unit": "万元",
    "ent.local_contribution_growth__unit": "%",
}


def test_calculator_form_when_amounts_typed_in_wan_computes_with_the_exact_yuan(client_as):
    """1,500 万元 and 800 万元 are 15,000,000 and 8,000,000 元: 80.00 万元 major, the inputs shown in both units."""
    r = client_as("town").post(
        "/calculator",
        data={
            "case": "project",
            "application_date": "2023-03-01",
            "total_investment": "1,500",
            "total_investment__unit": "万元",
            "equipment_investment": "800.000001",
            "equipment_investment__unit": "万元",
        },
    )
    assert r.status_code == 200
    assert _value_of(r.text, "tech_renovation_subsidy") == "80.00 万元（800,000.00 元）"
    inputs = r.text.split('id="inputs-table"')[1].split("</table>")[0]
    assert "1,500.00 万元（15,000,000.00 元）" in inputs and "800.000001 万元（8,000,000.01 元）" in inputs


def test_calculator_form_when_wan_has_more_than_six_decimals_is_refused_at_the_field(client_as):
    """万元 takes six decimals (the 分); a seventh is refused in the field's words, nothing is computed."""
    r = client_as("town").post(
        "/calculator", data={**PROJECT_210, "equipment_investment": "800.0000001", "equipment_investment__unit": "万元"}
    )
    assert r.status_code == 422 and 'id="results"' not in r.text
    assert "最多 6 位小数" in _errors(r.text, "equipment_investment")


def test_calculator_form_when_growth_typed_5_reads_5_percent_and_grants_no_reward(client_as):
    """“5” in the % field is 5 % (below 12 %), not 500 %: no "2513" reward of 900,000 元."""
    r = client_as("town").post("/calculator", data={**GROWTH_2513, "ent.local_contribution_growth": "5"})
    assert r.status_code == 200
    assert _value_of(r.text, "key_project_reward_2513") == "0.00 万元（0.00 元）"
    assert "900,000" not in _output(r.text, "key_project_reward_2513")
    assert "地方经济发展贡献环比增长率" in r.text and ">5%<" in r.text.split('id="inputs-table"')[1]


def test_calculator_form_when_growth_typed_15_percent_grants_the_reward(client_as):
    """“15” (%) meets the 12 % condition: 15 % of 6,000,000 元 = 900,000 元."""
    r = client_as("town").post("/calculator", data={**GROWTH_2513, "ent.local_contribution_growth": "15"})
    assert r.status_code == 200
    assert _value_of(r.text, "key_project_reward_2513") == "90.00 万元（900,000.00 元）"


def test_calculator_form_when_growth_500_percent_is_refused_as_implausible(client_as):
    """500 % is outside the plausible −100 %…300 %: refused at the field, naming the range; nothing computed."""
    r = client_as("town").post("/calculator", data={**GROWTH_2513, "ent.local_contribution_growth": "500"})
    assert r.status_code == 422 and 'id="results"' not in r.text
    said = _errors(r.text, "ent.local_contribution_growth")
    assert "500%" in said and "300%" in said and "合理范围" in said and "local_contribution_growth" not in said


def test_calculator_form_when_growth_posted_as_a_ratio_without_unit_keeps_contract_meaning(client_as):
    """A value posted without its unit (a script, stored inputs) is in the contract's unit: 0.15 is 15 %."""
    form = {k: v for k, v in GROWTH_2513.items() if k != "ent.local_contribution_growth__unit"}
    r = client_as("town").post("/calculator", data={**form, "ent.local_contribution_growth": "0.15"})
    assert r.status_code == 200 and _value_of(r.text, "key_project_reward_2513") == "90.00 万元（900,000.00 元）"


def test_calculator_form_when_equipment_above_total_is_refused_at_both_fields(client_as):
    """设备 1,500万 on 项目投资 800万 is refused (no 750,000 元 computed), said at the equipment field with both
    amounts,
    and the total field is marked to check with it.
    """
    r = client_as("town").post(
        "/calculator",
        data={
            "case": "project",
            "application_date": "2023-03-01",
            "total_investment": "800",
            "total_investment__unit": "万元",
            "equipment_investment": "1500",
            "equipment_investment__unit": "万元",
        },
    )
    assert r.status_code == 422 and 'id="results"' not in r.text and "750,000" not in r.text
    said = _errors(r.text, "equipment_investment")
    assert "15,000,000.00 元（1,500 万元）" in said and "8,000,000.00 元（800 万元）" in said and "超过" in said
    assert "设备（装备）投资额" in _errors(r.text, "total_investment")


def test_calculator_form_when_renovated_area_above_total_after_is_refused(client_as):
    """技改建筑面积 20,000 m² with a total after of 15,000 m² is refused at the field."""
    r = client_as("town").post(
        "/calculator",
        data={
            "case": "project",
            "application_date": "2023-03-01",
            "zero_land_renovation": "true",
            "self_owned_and_used": "true",
            "land_area": "10000",
            "plot_ratio_before": "1.0",
            "plot_ratio_after": "1.5",
            "renovated_floor_area": "20000",
            "total_floor_area_after": "15000",
        },
    )
    assert r.status_code == 422 and "技改后总建筑面积" in _errors(r.text, "renovated_floor_area")


# -- a blank is not a zero ------------------------------------------------------------------------------------------


def test_calculator_form_when_inputs_left_blank_shows_them_as_blank_not_0(client_as):
    """Blank inputs read 未填写, and a blank growth is “未提供，不能判断”, never “不满足 … 0.000000”."""
    r = client_as("town").post("/calculator", data=PROJECT_210)
    inputs = r.text.split('id="inputs-table"')[1].split("</table>")[0]
    row = inputs.split('data-input="ent.local_contribution_growth"')[1].split("</tr>")[0]
    assert "未填写" in row and ">0<" not in row
    reward = _output(r.text, "key_project_reward_2513")
    assert "未提供，不能判断：地方经济发展贡献环比增长" in reward and "0.000000" not in reward


def test_calculator_form_when_storey_areas_all_blank_says_insufficient_data(client_as):
    """The per-storey route with no storey area given: the reward is “未提供，不能判断”, not 0."""
    r = client_as("town").post(
        "/calculator",
        data={
            "case": "project",
            "application_date": "2023-03-01",
            "ent.mujun_class": "A",
            "zero_land_renovation": "true",
            "self_owned_and_used": "true",
            "land_area": "10000",
            "plot_ratio_before": "1.0",
            "plot_ratio_after": "1.1",
            "renovated_floor_area": "1000",
            "total_floor_area_after": "20000",
        },
    )
    assert r.status_code == 200
    out = r.text.split('data-output="vertical_industry_reward"')[1].split("data-output=")[0]
    assert _value_of(r.text, "vertical_industry_reward") == "–" and "未提供，不能判断" in out
    assert "新增4层、5层、6层及以上生产厂房建筑面积" in out
    assert re.search(r'class="clause-result status-insufficient_data" data-clause="2.11"', r.text)


# -- the default date and the validity notice -----------------------------------------------------------------------


def test_calculator_page_when_today_is_after_the_validity_says_so_and_offers_the_last_day(client_as, monkeypatch):
    """On 2026-11-30 the form's date is today, and the top of the page says the policy ran until 2023-12-31."""
    monkeypatch.setattr(calculator, "today", lambda: dt.date(2026, 11, 30))
    r = client_as("department").get("/calculator")
    notice = r.text.split('id="validity-notice"')[1].split("</div>")[0]
    assert "今天（2026-11-30）已过本政策有效期（2022-07-16 至 2023-12-31）" in notice
    assert 'data-set-date="2023-12-31"' in notice
    assert re.search(r'name="application_date" type="date" value="2026-11-30"', r.text)
    assert r.text.index('id="validity-notice"') < r.text.index('id="calc-form"')


def test_calculator_page_when_today_is_inside_the_validity_has_no_notice(client_as, monkeypatch):
    """On 2023-03-01 the form's date is today and nothing is said about validity."""
    monkeypatch.setattr(calculator, "today", lambda: dt.date(2023, 3, 1))
    r = client_as("department").get("/calculator")
    assert 'id="validity-notice"' not in r.text
    assert re.search(r'name="application_date" type="date" value="2023-03-01"', r.text)


def test_calculator_page_when_today_is_before_the_validity_says_it_starts_later(client_as, monkeypatch):
    """On 2022-07-15 (a day early) the notice offers the first day, 2022-07-16."""
    monkeypatch.setattr(calculator, "today", lambda: dt.date(2022, 7, 15))
    r = client_as("department").get("/calculator")
    assert "早于本政策有效期" in r.text and 'data-set-date="2022-07-16"' in r.text


def test_default_date_when_today_is_outside_the_validity_is_today_not_clamped(monkeypatch):
    """The default application date is today even after 2023-12-31 (no silent clamp to the last day)."""
    monkeypatch.setattr(calculator, "today", lambda: dt.date(2026, 11, 30))
    assert calculator.default_date() == dt.date(2026, 11, 30)
    assert calculator.validity_notice()["suggest"] == dt.date(2023, 12, 31)


# -- finding an enterprise ------------------------------------------------------------------------------------------


def _some_firms(platform, n: int = 2) -> list:
    with platform.uow.read() as conn:
        return conn.execute(
            select(enterprises.c.credit_code, enterprises.c.name).where(enterprises.c.town == "331082112").limit(n)
        ).all()


def test_calculator_prefill_when_a_name_is_typed_finds_the_firm(client_as, platform):
    """按企业预填 with a firm's name (not its code) prefills that firm."""
    firm = _some_firms(platform, 1)[0]
    r = client_as("town").get("/calculator", params={"enterprise": firm.name})
    assert r.status_code == 200 and f'name="enterprise" value="{firm.credit_code}"' in r.text


def test_calculator_prefill_when_a_name_matches_several_lists_them(client_as, platform):
    """A part of a name shared by several firms lists them to choose from, each a prefill link."""
    r = client_as("town").get("/calculator", params={"enterprise": "临海"})
    assert r.status_code == 200 and "请选择" in r.text and r.text.count("/calculator?case=project&amp;enterprise=") >= 2


def test_calculator_prefill_when_nothing_matches_says_so(client_as):
    """A name nobody in scope has is said plainly (200), not a 404 page."""
    r = client_as("town").get("/calculator", params={"enterprise": "不存在的企业名称"})
    assert r.status_code == 200 and "没有名称或代码含“不存在的企业名称”的企业" in r.text


def test_calculator_enterprises_when_searched_by_name_or_code_returns_matching_options(client_as, platform):
    """The type-ahead answers options for part of a name, or of a credit code, within the actor's scope."""
    firm = _some_firms(platform, 1)[0]
    c = client_as("town")
    by_name = c.get("/calculator/enterprises", params={"enterprise": firm.name[3:-4]})
    by_code = c.get("/calculator/enterprises", params={"credit_code": firm.credit_code[-6:]})
    assert f'value="{firm.credit_code}"' in by_name.text and f'value="{firm.credit_code}"' in by_code.text
    assert by_code.text.count("<option") <= 30


# -- the JSON contract through the web ------------------------------------------------------------------------------


def test_api_calculate_when_equipment_above_total_is_refused_naming_both_fields(client_as):
    """POST /api/v1/calculate refuses 设备 15,000,000 on 项目投资 8,000,000 (422), the problem naming both fields."""
    doc = {
        "as_of": "2023-03-01",
        "enterprises": {"E1": {}},
        "projects": {
            "P1": {
                "enterprise": "E1",
                "total_investment": 8000000,
                "equipment_investment": 15000000,
                "tech_renovation_subsidy": None,
            }
        },
    }
    r = client_as("department").post("/api/v1/calculate", json=doc)
    assert r.status_code == 422
    (p,) = r.json()["problems"]
    assert p["code"] == "equipment_above_total" and p["where"] == "projects.P1.equipment_investment"
    assert p["context"]["fields"] == ["projects.P1.equipment_investment", "projects.P1.total_investment"]


# -- the batch: 万元 and percentages in the template, the same checks -----------------------------------------------


def _sheet(rows: list[dict[str, object]]) -> bytes:
    """A workbook with exactly these headers and rows (to write the first template's headers too)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目"
    headers = list(dict.fromkeys(h for row in rows for h in row))
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


BATCH_2513 = {
    "项目编号": "T1",
    "企业编号": "E1",
    "申请日期": "2023-03-01",
    "“2513”培育企业": "是",
    "工业装备投资(万元)": 600,
    "项目投资(万元)": 800,
    "设备（装备）投资额(万元)": 600,
    "工业性投资重点项目": "是",
}


def test_calculator_batch_when_growth_5_in_the_percent_column_reads_5_percent(client_as):
    """The template's growth column is in %: 5 is 5 %, so no 900,000 元 reward."""
    c = client_as("enterprise")
    data = _filled_template(c, [{**BATCH_2513, "地方经济发展贡献环比增长率(%)": "5"}])
    r = c.post("/calculator/batch", files={"file": ("p.xlsx", data, "application/octet-stream")})
    row = r.text.split('data-row="T1.key_project_reward_2513"')[1].split("</tr>")[0]
    assert r.status_code == 200 and "0.00 万元（0.00 元）" in row and "900,000" not in row


def test_calculator_batch_when_growth_5_in_a_ratio_column_is_refused_with_its_row(client_as):
    """A first-template sheet (growth as a ratio, no unit in its header) with 5 is 500 %: refused at its row."""
    data = _sheet([{**BATCH_2513, "地方经济发展贡献环比增长率": 5}])
    r = client_as("enterprise").post("/calculator/batch", files={"file": ("p.xlsx", data, "application/octet-stream")})
    assert r.status_code == 422 and "第2行 地方经济发展贡献环比增长率" in r.text and "500%" in r.text
    assert "900,000" not in r.text


def test_calculator_batch_when_equipment_above_total_is_refused_with_its_row(client_as):
    """设备 1,500 万元 on 项目投资 800 万元 in row 2 is refused at that row and column; nothing is computed."""
    c = client_as("enterprise")
    data = _filled_template(
        c, [{"项目编号": "T1", "申请日期": "2023-03-01", "项目投资(万元)": 800, "设备（装备）投资额(万元)": 1500}]
    )
    r = c.post("/calculator/batch", files={"file": ("p.xlsx", data, "application/octet-stream")})
    assert r.status_code == 422 and "第2行 设备（装备）投资额(万元)" in r.text and "超过" in r.text
    assert 'data-row="T1.' not in r.text


def test_calculator_batch_when_headers_say_yuan_reads_yuan(client_as):
    """A sheet with (元) headers (the first template's) is read in 元: 15,000,000 and 8,000,000 → 800,000 元."""
    data = _sheet(
        [{"项目编号": "T1", "申请日期": "2023-03-01", "项目投资(元)": 15000000, "设备（装备）投资额(元)": 8000000}]
    )
    r = client_as("enterprise").post("/calculator/batch", files={"file": ("p.xlsx", data, "application/octet-stream")})
    assert r.status_code == 200 and "80.00 万元（800,000.00 元）" in r.text


def test_calculator_template_when_downloaded_asks_wan_and_percent(client_as):
    """Investment amounts are asked in 万元 (example 1,500 / 800) and the growth rate in %, its column kept as text."""
    t = client_as("auditor").get("/calculator/template.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(t.content))
    ws = wb["项目"]
    headers = [cell.value for cell in ws[1]]
    example = dict(zip(headers, [cell.value for cell in ws[2]], strict=False))
    assert example["项目投资(万元)"] == 1500 and example["设备（装备）投资额(万元)"] == 800
    assert "地方经济发展贡献环比增长率(%)" in headers
    letter = openpyxl.utils.get_column_letter(headers.index("地方经济发展贡献环比增长率(%)") + 1)
    assert ws.column_dimensions[letter].number_format == "@"


# -- the new-application form: the same units and checks ------------------------------------------------------------


def _new_form(platform, **inputs: str) -> dict[str, str]:
    firm = _some_firms(platform, 1)[0]
    return {
        "credit_code": firm.credit_code,
        "name": "数控化改造",
        "application_date": "2023-03-01",
        "clause": "2.10",
        "do": "preview",
        **inputs,
    }


def test_new_application_form_when_amounts_in_wan_previews_the_exact_amount(client_as, platform):
    """1,500 万元 and 800 万元 on the new-application form preview 800,000.00 元."""
    r = client_as("town").post(
        "/applications/new",
        data=_new_form(
            platform,
            total_investment="1500",
            total_investment__unit="万元",
            equipment_investment="800",
            equipment_investment__unit="万元",
        ),
    )
    assert r.status_code == 200 and '<span class="amount">800,000.00</span>' in r.text


def test_new_application_form_when_equipment_above_total_is_refused_at_the_field(client_as, platform):
    """设备 1,500 万元 on 项目投资 800 万元 is refused at the equipment field, in words (no internal names)."""
    r = client_as("town").post(
        "/applications/new",
        data=_new_form(
            platform,
            total_investment="800",
            total_investment__unit="万元",
            equipment_investment="1500",
            equipment_investment__unit="万元",
        ),
    )
    assert r.status_code == 422
    said = _errors(r.text, "equipment_investment")
    assert "超过" in said and "项目投资" in said and "inputs." not in said and "equipment_investment" not in said


def test_new_application_form_when_growth_typed_5_reads_5_percent(client_as, platform):
    """“5” in the % growth field is 5 %, not 500 %: no 900,000 元 "2513" reward, the ordinary 5 % (300,000 元) instead.

    (The amounts are posted without a unit, as a script would: in the contract's 元.)
    """
    r = client_as("town").post(
        "/applications/new",
        data=_new_form(
            platform,
            total_investment="8000000",
            equipment_investment="6000000",
            key_industrial_project="true",
            is_2513_enterprise="true",
            local_contribution_growth="5",
            local_contribution_growth__unit="%",
            industrial_equipment_investment="6000000",
        ),
    )
    assert r.status_code == 200 and '<span class="amount">300,000.00</span>' in r.text


def test_new_application_page_when_town_picks_an_enterprise_types_ahead_instead_of_a_long_select(client_as):
    """A town official finds the enterprise by typing (a search field with suggestions), not in a 400-item list."""
    r = client_as("town").get("/applications/new")
    field = _label(r.text, "credit_code")
    assert '<select name="credit_code"' not in field and 'type="search" name="credit_code"' in field
    assert 'list="enterprise-options"' in field and 'hx-get="/calculator/enterprises"' in field


@pytest.mark.parametrize("role", ["town", "enterprise"])
def test_new_application_page_when_opened_offers_wan_and_percent_units(client_as, role):
    """Investment amounts offer 万元 (first) and 元; the growth rate is typed as a percentage."""
    r = client_as(role).get("/applications/new")
    total = _label(r.text, "total_investment")
    assert re.search(r'name="total_investment__unit".*?<option value="万元" selected', total, re.S)
    growth = _label(r.text, "local_contribution_growth")
    assert 'name="local_contribution_growth__unit" value="%"' in growth
