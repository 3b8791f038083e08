"""The one spreadsheet writer: every workbook and CSV tenglong writes keeps hostile text as text.

Each export is produced with text a spreadsheet would run as a formula (OWASP "CSV
injection") in a text cell — an enterprise name, a note, a username — and read back:
no cell is a formula, the hostile text appears in its neutralised form ``'…``, and
numbers are still number cells. Excel's 32,767-character cell limit is checked too.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import polars as pl
import pytest

import tenglong
from tenglong.adapters.tabular import calculation_sheets, template
from tenglong.adapters.tabular.applications_sheet import applications_workbook
from tenglong.adapters.tabular.columns import SPECS
from tenglong.adapters.tabular.writer import ErrorReport, import_cells, write_enterprise_years, write_error_report
from tenglong.adapters.tabular.xlsx import (
    CELL_LIMIT,
    KEEP,
    TRUNCATED,
    Book,
    Column,
    csv_field,
    excel_text,
    fit,
    list_workbook,
    neutralise,
    write_csv,
)
from tenglong.demo.county import generate_county
from tenglong.services.audit import log as audit_log
from tenglong.services.calculation import batch
from tenglong.services.data.validation import load_enterprise_years
from tenglong.services.evaluation.evaluate import run_evaluation, write_results_csv, write_results_xlsx
from tenglong.web.evaluation_workbooks import enterprise_list_workbook, run_workbook_response

HYPERLINK = '=HYPERLINK("http://x","y")'
HOSTILE = [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]
LIVE = ("=", "+", "-", "@", "\t", "\r")
SHOWN = {("'" + h).replace("\r", "_x000D_") for h in HOSTILE}
"""The neutralised texts as openpyxl reads them (XLSX stores a CR as _x000D_, which openpyxl leaves as is)."""


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cells(source: bytes | Path) -> list[openpyxl.cell.Cell]:
    """Every non-empty cell of every sheet."""
    wb = openpyxl.load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _assert_safe(source: bytes | Path) -> list[str]:
    """No formula cell and no text cell that starts live; returns the text values."""
    cells = _cells(source)
    assert cells
    texts = []
    for c in cells:
        assert c.data_type != "f", (c.coordinate, c.value)
        if isinstance(c.value, str):
            assert not c.value.startswith((*LIVE, "_x000D_")) or _is_number_text(c.value), (c.coordinate, c.value)
            texts.append(c.value)
    return texts


def _assert_safe_csv(data: bytes) -> list[list[str]]:
    """BOM, CRLF, and no field that starts live (decimal numbers such as -12.5 aside); returns the rows."""
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        for field in row:
            assert not field.startswith(LIVE) or _is_number_text(field), field
    return rows


def _hostile_county() -> pl.DataFrame:
    """The demo county 2021–2023 with the first enterprise renamed to a formula."""
    county = generate_county(2023, range(2021, 2024))
    first = county["credit_code"][0]
    return county.with_columns(
        name=pl.when(pl.col("credit_code") == first).then(pl.lit(HYPERLINK)).otherwise(pl.col("name"))
    )


# --- the cell rules -------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_neutralise_when_text_starts_like_a_formula_prefixes_an_apostrophe(text):
    """= + - @ tab and CR at the start get a leading apostrophe, the rest of the text unchanged."""
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["-12.5", "+3", "1e-05", "-1E+16", "临海市鑫达药业有限公司", "a=b", "", "'=1"])
def test_neutralise_when_text_is_a_number_or_plain_keeps_it(text):
    """Decimal numbers (negative too) and text that does not start live are left exactly as they are."""
    assert neutralise(text) == text


def test_fit_when_text_exceeds_the_cell_limit_keeps_the_head_and_marks_it():
    """Over 32,767 characters: the first 32,700 are kept and the visible truncation mark appended."""
    text = "".join(chr(0x4E00 + i % 500) for i in range(40_000))
    out = fit(text)
    assert len(out) <= CELL_LIMIT and out == text[:KEEP] + TRUNCATED
    assert fit(text[:CELL_LIMIT]) == text[:CELL_LIMIT]


def test_fit_when_text_has_astral_characters_counts_utf16_units_and_never_splits_a_pair():
    """Excel counts UTF-16 units: 20,000 emoji (40,000 units) are cut to whole characters within the limit."""
    out = fit("😀" * 20_000)
    units = len(out.encode("utf-16-le")) // 2
    assert units <= CELL_LIMIT and out.endswith(TRUNCATED) and out.startswith("😀" * (KEEP // 2))
    assert fit("😀" * 16_000) == "😀" * 16_000


def test_excel_text_when_hostile_and_long_is_neutralised_then_fitted():
    """The apostrophe comes first and counts towards the limit."""
    out = excel_text("=" + "x" * 40_000)
    assert out.startswith("'=x") and out.endswith(TRUNCATED) and len(out) <= CELL_LIMIT


def test_list_workbook_when_a_cell_is_too_long_reads_back_truncated_visibly_and_csv_keeps_it_whole(tmp_path):
    """The XLSX cell ends with the mark (never a silent cut); the CSV field holds every character."""
    long_text = "说明" * 20_000
    columns = [Column("name", "名称"), Column("note", "说明", 90, "wrap")]
    rows = [{"name": "甲", "note": long_text}]
    ws = openpyxl.load_workbook(io.BytesIO(list_workbook("表", columns, rows))).active
    value = ws["B2"].value
    assert value == long_text[:KEEP] + TRUNCATED and len(value) <= CELL_LIMIT
    back = list(csv.reader(io.StringIO(write_csv(None, ["name", "note"], rows).decode("utf-8-sig"))))
    assert back[1] == ["甲", long_text]


def test_book_when_values_are_typed_writes_numbers_booleans_and_dates_as_such():
    """int, float, Decimal and numpy numbers are number cells; bool boolean; dates dated; NaN left empty."""
    with Book() as book:
        ws = book.sheet("s")
        ws.write_row(0, 0, [3, 2.5, Decimal("1234.56"), np.int64(7), np.float64(-0.25), True, float("nan")])
        ws.write(1, 0, dt.date(2023, 3, 1))
        ws.write(1, 1, dt.datetime(2023, 3, 1, 9, 30, tzinfo=dt.UTC))
        ws.write(1, 2, "-2+3")
        ws.write(1, 3, -2)
    sheet = openpyxl.load_workbook(io.BytesIO(book.close())).active
    assert [c.value for c in sheet[1]][:6] == [3, 2.5, 1234.56, 7, -0.25, True]
    assert all(c.data_type == "n" for c in sheet[1][:5]) and sheet["F1"].data_type == "b" and sheet["G1"].value is None
    assert sheet["A2"].value == dt.datetime(2023, 3, 1) and sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet["B2"].value == dt.datetime(2023, 3, 1, 9, 30) and sheet["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert (sheet["C2"].value, sheet["C2"].data_type) == ("'-2+3", "s") and sheet["D2"].value == -2


def test_list_workbook_when_rows_are_hostile_has_frozen_filtered_header_and_no_formula():
    """The list helper: header with units, frozen row, autofilter, widths; hostile text neutralised, money numeric."""
    columns = [Column("name", "企业名称", 30), Column("amount", "金额", 16, "money", unit="元")]
    rows = [{"name": h, "amount": Decimal("800000.50")} for h in HOSTILE]
    data = list_workbook("名单", columns, rows)
    texts = _assert_safe(data)
    assert set(texts) >= SHOWN
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == ["企业名称", "金额(元)"] and ws["A1"].font.b
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:B{len(HOSTILE) + 1}"
    assert ws["B2"].value == 800000.5 and ws["B2"].number_format == "#,##0.00" and ws["B2"].data_type == "n"
    assert ws.column_dimensions["A"].width > ws.column_dimensions["B"].width


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (True, "true"), (3, "3"), (0.1, "0.1"), (Decimal("1E+3"), "1000"), (float("inf"), "")],
)
def test_csv_field_when_value_is_not_text_writes_plain_text(value, text):
    """None empty, booleans true/false, numbers as the shortest text that reads back the same."""
    assert csv_field(value) == text


def test_write_csv_when_rows_are_hostile_neutralises_text_and_keeps_numbers(tmp_path):
    """UTF-8 with BOM, CRLF, hostile text prefixed, negative numbers untouched; path and bytes give the same file."""
    rows = [[h, -12.5, "-7"] for h in HOSTILE]
    data = write_csv(None, ["名称", "值", "文本"], rows)
    back = _assert_safe_csv(data)
    assert back[0] == ["名称", "值", "文本"]
    assert [r[0] for r in back[1:]] == ["'" + h for h in HOSTILE] and {r[1] for r in back[1:]} == {"-12.5"}
    assert write_csv(tmp_path / "x.csv", ["名称", "值", "文本"], rows).read_bytes() == data


# --- every export ---------------------------------------------------------------------------


def test_write_template_when_a_note_is_hostile_writes_it_as_text(tmp_path, monkeypatch):
    """The import template: a hostile instruction line stays text; the data sheet stays empty with its drop-downs."""
    notes = {lang: [*lines, HYPERLINK] for lang, lines in template._NOTES.items()}
    monkeypatch.setattr(template, "_NOTES", notes)
    for lang in ("zh", "en"):
        path = template.write_template(tmp_path / f"t-{lang}.xlsx", lang)
        assert "'" + HYPERLINK in _assert_safe(path)
        book = openpyxl.load_workbook(path)
        data = book["企业数据" if lang == "zh" else "data"]
        assert data.max_row == 1 and data.data_validations.dataValidation
    assert template.write_template(None, "zh")[:2] == b"PK"


def test_write_error_report_when_uploaded_cells_are_formulas_shows_them_as_text(tmp_path):
    """The import error report (CLI and platform): values such as =HYPERLINK(…) are text cells, never formulas."""
    cells = import_cells(generate_county(2023, [2023]).head(3), "en")
    header = {s.key: s.header("en") for s in SPECS}
    cells[header["revenue"]][0] = HYPERLINK
    cells[header["electricity_kwh"]][1] = "=cmd|' /C calc'!A0"
    cells[header["energy_tce"]][2] = "-2+3"
    cells[header["town"]][0] = "@SUM(A1)"
    upload = tmp_path / "upload.csv"
    with open(upload, "w", encoding="utf-8", newline="") as f:  # a hostile file, written raw
        writer = csv.writer(f)
        writer.writerow(list(cells))
        writer.writerows(
            [
                ["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row]
                for row in zip(*cells.values(), strict=True)
            ]
        )
    result = load_enterprise_years(upload)
    assert not result.ok and {r["value"] for r in result.report_rows()} >= {HYPERLINK, "@SUM(A1)", "-2+3"}

    path = write_error_report(result, tmp_path / "errors.xlsx")
    texts = _assert_safe(path)
    assert {"'" + HYPERLINK, "'@SUM(A1)", "'-2+3", "'=cmd|' /C calc'!A0"} <= set(texts)
    ws = openpyxl.load_workbook(path)["错误 errors"]
    assert ws.freeze_panes == "A2" and all(isinstance(ws.cell(r, 1).value, int) for r in range(2, ws.max_row + 1))
    assert all(ws.cell(r, 6).data_type == "n" for r in range(2, ws.max_row + 1) if ws.cell(r, 6).value is not None)

    stored = ErrorReport(result.report_rows(), HYPERLINK, "data", "en", 3, 0, len(result.problems), 0, {})
    texts = _assert_safe(write_error_report(stored))
    assert "'" + HYPERLINK in texts


def test_write_enterprise_years_when_a_name_is_a_formula_writes_it_as_text_and_numbers_as_numbers(tmp_path):
    """The enterprise-year export (XLSX and CSV): the hostile name is neutralised, money stays numeric."""
    frame = _hostile_county().filter(pl.col("year") == 2023).head(20)
    xlsx = write_enterprise_years(frame, tmp_path / "county.xlsx", lang="zh")
    assert "'" + HYPERLINK in _assert_safe(xlsx)
    ws = openpyxl.load_workbook(xlsx).active
    headers = [c.value for c in ws[1]]
    tax = ws.cell(2, headers.index("实缴税金(万元)") + 1)
    assert tax.data_type == "n" and isinstance(tax.value, float)
    rows = _assert_safe_csv(write_enterprise_years(frame, tmp_path / "county.csv", lang="en").read_bytes())
    assert rows[1][rows[0].index("name")] == "'" + HYPERLINK


@pytest.fixture(scope="module")
def evaluation():
    return run_evaluation(_hostile_county(), 2023, method_title="=cmd|' /C calc'!A0")


def test_write_results_xlsx_when_a_name_and_method_are_formulas_writes_them_as_text(evaluation, tmp_path):
    """The evaluation results workbook: hostile name and method title neutralised; scores and counts numeric."""
    path = write_results_xlsx(evaluation, tmp_path / "results.xlsx")
    texts = _assert_safe(path)
    assert "'" + HYPERLINK in texts and "评价方法：=cmd|' /C calc'!A0" in texts
    wb = openpyxl.load_workbook(path)
    assert wb["汇总"]["B8"].data_type == "n" and len(wb["汇总"]._charts) == 1
    a = wb["A类"]
    score = [c.value for c in a[1]].index("综合得分") + 1
    assert a.cell(2, score).data_type == "n" and isinstance(a.cell(2, score).value, float)


def test_write_results_csv_when_a_name_is_a_formula_neutralises_it(evaluation, tmp_path):
    """The evaluation results CSV: the hostile name is prefixed, every enterprise is there."""
    rows = _assert_safe_csv(write_results_csv(evaluation, tmp_path / "results.csv").read_bytes())
    names = [r[rows[0].index("name")] for r in rows[1:]]
    assert "'" + HYPERLINK in names and len(names) == evaluation.result.data.n


def _stored_result(name: str, town: str = "331082112") -> dict:
    """One stored result row as the platform's services return it."""
    return {
        "credit_code": "91331082MA2AB3CF7N",
        "name": name,
        "town": town,
        "industry": "C2710",
        "above_scale": True,
        "evaluated": True,
        "not_evaluated_reason": None,
        "group": "above_scale",
        "mujun_score": 87.5,
        "rank": 3,
        "group_size": 120,
        "mujun_class_computed": "A",
        "mujun_class": "A",
        "mujun_class_override": None,
        "vetoed": False,
        "indicators": {"tax_per_mu": 31.25, "rd_intensity": 0.031},
        "land_use_tax_relief_rate": 1.0,
        "electricity_surcharge": 0.0,
        "d_years_running": 0,
        "carbon_grade": 2,
        "low_efficiency_enterprise": False,
        "billion_yuan_low_tax_enterprise": False,
        "high_consumption_low_efficiency_candidate": False,
        "land_area_mu": Decimal("27.5000"),
        "tax_paid": Decimal("1253600.00"),
        "value_added": Decimal("12000000.00"),
        "employees": 215,
        "explanation_zh": "-2+3 说明",
        "explanation_en": "-2+3 explanation",
    }


def test_enterprise_list_workbook_when_names_are_formulas_writes_them_as_text():
    """The platform's enterprise list: hostile name, town and filter text neutralised; money numeric."""
    rows = [_stored_result(h) for h in HOSTILE] + [_stored_result("正常企业", town="@SUM(A1)")]
    listing = SimpleNamespace(
        year=2023,
        filter=SimpleNamespace(q="=1+1", town=None, industry=None, klass=None, above_scale=True, flag=None),
        page=SimpleNamespace(items=rows, total=len(rows)),
    )
    data = enterprise_list_workbook(listing, "zh").body
    texts = _assert_safe(data)
    assert SHOWN | {"'@SUM(A1)"} <= set(texts)
    ws = openpyxl.load_workbook(io.BytesIO(data))["企业名单"]
    headers = [c.value for c in ws[1]]
    tax = ws.cell(2, headers.index("实缴税金(元)") + 1)
    assert tax.value == 1253600.0 and tax.data_type == "n" and tax.number_format == "#,##0.00"


def test_run_workbook_when_texts_are_formulas_writes_them_as_text():
    """The platform's run workbook: hostile method, starter, names and explanations neutralised; counts numeric."""
    counts = {"A": 1, "B": 2, "C": 3, "D": 1, "not_evaluated": 1}
    run = SimpleNamespace(
        id=3,
        year=2023,
        status="published",
        method_title="=cmd|' /C calc'!A0",
        parameters_version="2022-08",
        started_by="@SUM(A1)",
        started_at=dt.datetime(2024, 3, 1, 1, 30),
        published_by=None,
        published_at=None,
        summary={
            "counts": {"above_scale": counts, "below_scale": counts},
            "county": {"tax_per_mu": {"value": 30.1, "target": 25.0, "term": "超过", "met": True}},
        },
        benchmarks={"above_scale": {"tax_per_mu": 24.1, "rd_intensity": None}, "below_scale": {"tax_per_mu": 11.6}},
    )
    data = run_workbook_response(run, [_stored_result(h) for h in HOSTILE], "zh").body
    texts = _assert_safe(data)
    assert SHOWN | {"'-2+3 说明"} <= set(texts)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    summary = wb["汇总"]
    assert len(summary._charts) == 1
    numbers = [c for row in summary.iter_rows() for c in row if isinstance(c.value, int | float)]
    assert numbers and all(c.data_type == "n" for c in numbers)
    assert any("=cmd|' /C calc'!A0" in v and not v.startswith("=") for v in texts)  # inside a sentence


def test_applications_workbook_when_names_are_formulas_writes_them_as_text():
    """The subsidy-application list: hostile enterprise and project names neutralised; amount and times typed."""
    rows = [
        {
            "id": i,
            "credit_code": "91331082MA2AB3CF7N",
            "enterprise_name": h,
            "town_name_zh": "杜桥镇",
            "project_name": "+1+1",
            "clause": "2.10",
            "amount": Decimal("800000.00"),
            "status": "draft",
            "created_at": dt.datetime(2024, 5, 1, 10, 30),
            "updated_at": None,
        }
        for i, h in enumerate(HOSTILE, start=1)
    ]
    data = applications_workbook(rows, {"draft": "草稿"})
    assert SHOWN | {"'+1+1", "草稿"} <= set(_assert_safe(data))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws["A2"].data_type == "n" and ws["G2"].value == 800000.0 and ws["G2"].number_format == "#,##0.00"
    assert ws["I2"].value == dt.datetime(2024, 5, 1, 10, 30) and ws.freeze_panes == "A2"


def test_calculator_export_when_a_project_name_is_a_formula_writes_it_as_text():
    """The calculator's batch results: the hostile project name is neutralised, the subsidy stays a number."""
    doc = {
        "as_of": "2023-03-01",
        "enterprises": {"E1": {}},
        "projects": {
            "P1": {
                "enterprise": "E1",
                "name": HYPERLINK,
                "total_investment": 15000000,
                "equipment_investment": 8000000,
                "tech_renovation_subsidy": None,
            }
        },
    }
    data = batch.export_xlsx(json.dumps(doc))
    assert "'" + HYPERLINK in _assert_safe(data)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    values = {(r[1], r[4]): r[6] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert values[("P1", "tech_renovation_subsidy")] == 800000


def test_calculator_template_when_an_example_is_a_formula_writes_it_as_text(monkeypatch):
    """The calculator's batch template: a hostile example value stays text, numeric examples stay numbers."""
    columns = calculation_sheets.columns
    monkeypatch.setattr(
        calculation_sheets,
        "columns",
        lambda: [replace(c, example=HYPERLINK) if c.key == "name" else c for c in columns()],
    )
    data = batch.template_xlsx()
    assert "'" + HYPERLINK in _assert_safe(data)
    ws = openpyxl.load_workbook(io.BytesIO(data))["项目"]
    examples = [c.value for c in ws[2]]
    assert 1500 in examples and ws.freeze_panes == "A2"


def _audit_rows() -> list[list]:
    return [
        [i, "2024-03-01 09:30:00", h, None, "login.failed", "user", h, "", json.dumps({"note": h}), "127.0.0.1"]
        for i, h in enumerate(HOSTILE, start=1)
    ]


def test_audit_export_xlsx_when_usernames_are_formulas_writes_them_as_text(monkeypatch):
    """The audit XLSX: hostile usernames neutralised, ids numeric, header frozen."""
    monkeypatch.setattr(audit_log, "_export_rows", lambda p, actor, f: iter(_audit_rows()))
    data = audit_log.export_xlsx(None, None, audit_log.AuditFilter())
    assert set(_assert_safe(data)) >= SHOWN
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == list(audit_log.HEADERS) and ws.freeze_panes == "A2"
    assert ws["A2"].value == 1 and ws["A2"].data_type == "n" and ws["D2"].value is None


def test_audit_export_csv_when_usernames_are_formulas_neutralises_them(monkeypatch):
    """The audit CSV: BOM, CRLF, the headers, hostile usernames prefixed, ids as plain numbers."""
    monkeypatch.setattr(audit_log, "_export_rows", lambda p, actor, f: iter(_audit_rows()))
    rows = _assert_safe_csv(audit_log.export_csv(None, None, audit_log.AuditFilter()))
    assert tuple(rows[0]) == audit_log.HEADERS
    assert [r[2] for r in rows[1:]] == ["'" + h for h in HOSTILE] and rows[1][0] == "1" and rows[1][3] == ""


# --- one writer -----------------------------------------------------------------------------


def test_xlsxwriter_when_imports_are_scanned_is_imported_only_by_the_writer():
    """No module of tenglong but adapters/tabular/xlsx.py imports xlsxwriter."""
    root = Path(tenglong.__file__).parent
    importers = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] == "xlsxwriter" for n in names):
                importers.add(path.relative_to(root).as_posix())
    assert importers == {"adapters/tabular/xlsx.py"}
