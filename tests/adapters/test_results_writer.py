"""The results files of `tenglong evaluate`: the officials' workbook, CSV and JSON."""

from __future__ import annotations

import json
import zipfile
from collections import Counter

import openpyxl
import polars as pl
import pytest

from tenglong.core import reference_data
from tenglong.demo.county import generate_county
from tenglong.services.evaluation.evaluate import (
    CLASSES,
    run_evaluation,
    summary,
    write_results,
    write_results_csv,
    write_results_json,
    write_results_xlsx,
)

ZH_SHEETS = ["汇总", "A类", "B类", "C类", "D类", "未参评"]
EN_SHEETS = ["Summary", "Class A", "Class B", "Class C", "Class D", "Not evaluated"]


@pytest.fixture(scope="module")
def ev():
    return run_evaluation(generate_county(2023, range(2021, 2024)), 2023)


@pytest.fixture(scope="module")
def xlsx(ev, tmp_path_factory):
    path = tmp_path_factory.mktemp("results") / "results.xlsx"
    write_results_xlsx(ev, path)
    return path


@pytest.fixture(scope="module")
def wb(xlsx):
    return openpyxl.load_workbook(xlsx)


def _header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def _rows(ws) -> list[dict]:
    head = _header(ws)
    return [dict(zip(head, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)]


def test_write_results_xlsx_when_written_has_summary_class_and_not_evaluated_sheets(wb):
    """The workbook has 汇总, A类–D类 and 未参评, in that order."""
    assert wb.sheetnames == ZH_SHEETS


def test_write_results_xlsx_when_written_summary_has_title_method_and_native_chart(wb, xlsx, ev):
    """The summary has the merged title, the method and a native clustered column chart of 规上 and 规下."""
    ws = wb["汇总"]
    assert ws["A1"].value == "临海市 2023 年度亩均效益综合评价结果" and ws["A1"].font.b
    assert "A1:G1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value.startswith("评价方法：")
    assert len(ws._charts) == 1
    chart = ws._charts[0]
    assert chart.type == "col" and chart.grouping == "clustered" and len(chart.series) == 2
    with zipfile.ZipFile(xlsx) as z:
        xml = z.read("xl/charts/chart1.xml").decode("utf-8")
    assert "亩均效益分类企业数" in xml and "企业数（家）" in xml and "类别" in xml


def test_write_results_xlsx_when_written_summary_counts_match_the_evaluation(wb, ev):
    """The class table of the summary holds the numbers of ``summary``, with a total row."""
    ws = wb["汇总"]
    table = {row[0]: row[1:7] for row in ws.iter_rows(min_row=7, max_row=10, values_only=True)}
    counts = summary(ev.result)["counts"]
    for label, g in (("规上", "above_scale"), ("规下", "below_scale")):
        c = counts[g]
        assert list(table[label]) == [c["A"], c["B"], c["C"], c["D"], c["not_evaluated"], sum(c.values())]
    assert table["合计"][5] == ev.result.data.n


def test_write_results_xlsx_when_written_targets_are_coloured_by_met(wb):
    """The county figures against the A.2 targets carry green/red conditional formats on 达标."""
    ws = wb["汇总"]
    values = [row for row in ws.iter_rows(values_only=True) if row[0] == "规上亩均税收"]
    assert values and values[0][3] in ("是", "否")
    rules = [rule for cf in ws.conditional_formatting for rule in cf.rules]
    assert sorted(r.formula[0] for r in rules) == ['"否"', '"是"']


def test_write_results_xlsx_when_written_summary_lists_the_eight_benchmarks(wb, ev):
    """The benchmarks used: six for 规上 and two for 规下, with units."""
    ws = wb["汇总"]
    rows = [row for row in ws.iter_rows(values_only=True) if row[1] in ("规上", "规下") and isinstance(row[2], float)]
    assert [(r[1]) for r in rows] == ["规上"] * 6 + ["规下"] * 2
    assert (
        rows[0][0] == "亩均税收"
        and rows[0][2] == pytest.approx(ev.result.benchmarks["above_scale"]["tax_per_mu"])
        and rows[0][3] == "万元/亩"
    )


def test_write_results_xlsx_when_written_class_sheets_freeze_header_and_filter(wb):
    """Every list sheet freezes the header row at A2 and has an autofilter over its rows."""
    for name in ZH_SHEETS[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name


def test_write_results_xlsx_when_written_class_sheets_have_chinese_headers_and_number_formats(wb):
    """Chinese headers with units; scores 0.000, indicators #,##0.0000, relief 0%, surcharge 0.00; 说明 wraps."""
    ws = wb["A类"]
    head = _header(ws)
    assert head[:11] == [
        "统一社会信用代码",
        "企业名称",
        "镇(街道)",
        "行业",
        "规上/规下",
        "综合得分",
        "排名",
        "参评家数",
        "按排名类别",
        "最终类别",
        "调整原因",
    ]
    assert "亩均税收(万元/亩)" in head and "单位电耗税收(元/千瓦时)" in head and head[-1] == "说明"
    cell = {h: ws.cell(row=2, column=j + 1) for j, h in enumerate(head)}
    assert cell["综合得分"].number_format == "0.000"
    assert cell["亩均税收(万元/亩)"].number_format == "#,##0.0000"
    assert cell["城镇土地使用税减免"].number_format == "0%"
    assert cell["差别电价(元/千瓦时)"].number_format == "0.00"
    assert cell["说明"].alignment.wrap_text and "综合得分" in cell["说明"].value


def test_write_results_xlsx_when_written_class_sheet_counts_equal_summary_counts(wb, ev):
    """Each class sheet lists exactly the firms the summary counts, per group; 未参评 likewise."""
    counts = summary(ev.result)["counts"]
    for c in CLASSES:
        seen = Counter(r["规上/规下"] for r in _rows(wb[f"{c}类"]))
        assert seen == Counter({"规上": counts["above_scale"][c], "规下": counts["below_scale"][c]}) - Counter(), c
        assert {r["最终类别"] for r in _rows(wb[f"{c}类"])} <= {c}
    seen = Counter(r["规上/规下"] for r in _rows(wb["未参评"]))
    assert (
        seen["规上"] == counts["above_scale"]["not_evaluated"]
        and seen["规下"] == counts["below_scale"]["not_evaluated"]
    )


def test_write_results_xlsx_when_written_rows_are_sorted_by_group_then_rank(wb):
    """规上 first, then 规下; ranked firms by rank, firms outside the ranking (2.8, veto) after them."""
    for c in CLASSES:
        rows = _rows(wb[f"{c}类"])
        keys = [(r["规上/规下"] != "规上", r["排名"] is None, r["排名"] or 0) for r in rows]
        assert keys == sorted(keys), c


def test_write_results_xlsx_when_written_names_towns_and_adjustments_in_chinese(wb):
    """Towns appear by their Chinese names; 2.8 overrides and vetoes give their reason."""
    towns = {t.name_zh for t in reference_data.towns()}
    rows = [r for c in CLASSES for r in _rows(wb[f"{c}类"])]
    assert {r["镇(街道)"] for r in rows} <= towns
    reasons = {r["调整原因"] for r in rows if r["调整原因"]}
    assert any(x.startswith("第（八）项") for x in reasons) and any(x.startswith("一票否决") for x in reasons)
    not_evaluated = _rows(wb["未参评"])
    assert not_evaluated and all("不参评" in r["未参评原因"] for r in not_evaluated)


def test_write_results_xlsx_when_lang_en_uses_english_sheets_and_headers(ev, tmp_path):
    """lang="en": English sheet names, headers, title and chart."""
    path = tmp_path / "results-en.xlsx"
    write_results_xlsx(ev, path, lang="en")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == EN_SHEETS
    assert wb["Summary"]["A1"].value.startswith("Linhai 2023")
    assert _header(wb["Class B"])[:3] == ["unified social credit code", "enterprise", "town"]
    assert "tax per mu (10k yuan/mu)" in _header(wb["Class B"])
    assert len(wb["Summary"]._charts) == 1


def test_write_results_csv_when_read_back_has_every_enterprise(ev, tmp_path):
    """UTF-8 with BOM, English columns, one row per enterprise, explanation included."""
    path = tmp_path / "results.csv"
    write_results_csv(ev, path)
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    back = pl.read_csv(path, infer_schema=False)
    assert back.height == ev.result.data.n
    assert sorted(back["credit_code"].to_list()) == sorted(ev.result.data.credit_code.tolist())
    assert {"mujun_score", "mujun_class", "rank", "explanation", "not_evaluated_reason"} <= set(back.columns)
    assert back["explanation"].str.contains("年度数据").all()


def test_write_results_json_when_loaded_has_year_benchmarks_and_enterprises(ev, tmp_path):
    """The JSON document has year, benchmarks and every enterprise with its class, scores and indicators."""
    path = tmp_path / "results.json"
    write_results_json(ev, path)
    text = path.read_text(encoding="utf-8")
    assert "规上" in text or "年度数据" in text  # Chinese kept, not \\u-escaped
    doc = json.loads(text)
    assert doc["year"] == 2023
    assert set(doc["benchmarks"]) == {"above_scale", "below_scale"} and len(doc["benchmarks"]["above_scale"]) == 6
    assert len(doc["enterprises"]) == ev.result.data.n
    keys = {
        "credit_code",
        "mujun_score",
        "mujun_class_computed",
        "mujun_class",
        "rank",
        "scores",
        "indicators",
        "carbon_grade",
    }
    assert all(keys <= set(e) for e in doc["enterprises"])
    ranked = next(e for e in doc["enterprises"] if e["rank"])
    assert set(ranked["scores"]) >= {"tax_per_mu"} and ranked["mujun_class"] in CLASSES


def test_write_results_when_suffix_is_unknown_raises_value_error(ev, tmp_path):
    """Only .xlsx, .csv and .json are written; anything else is refused before writing."""
    with pytest.raises(ValueError, match=r"\.xlsx, \.csv, \.json"):
        write_results(ev, tmp_path / "results.txt")
    assert not (tmp_path / "results.txt").exists()
