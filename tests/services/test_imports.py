"""The enterprise-year import: every error code, all at once, skip-invalid, units, the planted defects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xlsxwriter

from tenglong.adapters.tabular.columns import SPECS
from tenglong.adapters.tabular.writer import write_enterprise_years, write_error_report
from tenglong.bench.imports import bench_frame
from tenglong.core.credit_code import make_code
from tenglong.core.reference_data import industry_division, normalise_industry, normalise_town
from tenglong.demo.county import DEFECTS, generate_county_with_defects
from tenglong.services.data.validation import load_enterprise_years

HEADERS = [s.header("zh") for s in SPECS]
CODES = make_code(np.random.default_rng(7), 40).tolist()
GOOD = [
    "",
    "临海市鑫达机械有限公司",
    2023,
    "杜桥镇",
    "C3587",
    "是",
    27.5,
    125.36,
    4800,
    21000,
    483,
    1850.5,
    0.96,
    215,
    3200000,
    4120.8,
    350,
    "否",
    None,
    None,
]
COL = {s.key: i for i, s in enumerate(SPECS)}
LETTER = {s.key: "ABCDEFGHIJKLMNOPQRST"[i] for i, s in enumerate(SPECS)}


def _row(k: int, **changes) -> list:
    row = list(GOOD)
    row[0] = CODES[k]
    for key, value in changes.items():
        row[COL[key]] = value
    return row


def _xlsx(path: Path, rows: list[list], headers: list[str] = HEADERS, sheet: str = "企业数据") -> Path:
    with xlsxwriter.Workbook(str(path)) as book:
        ws = book.add_worksheet(sheet)
        ws.write_row(0, 0, headers)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
    return path


# One row per error; the row number is its position + 2.
CASES = [
    ("credit_code", "91331082MA2AB3CF7", "credit_code_length"),
    ("credit_code", "91331082MA2AB3CF7O", "credit_code_charset"),
    ("credit_code", "91331082MA2AB3CF7M", "credit_code_check_character"),
    ("name", None, "missing_required"),
    ("year", "二〇二三", "invalid_year"),
    ("year", 2023.5, "invalid_year"),
    ("town", "杜桥乡", "unknown_town"),
    ("industry", "C4410", "unknown_industry"),
    ("industry", "F5123", "unknown_industry"),
    ("above_scale", "可能", "invalid_bool"),
    ("land_area_mu", 0, "zero_land"),
    ("land_area_mu", -3.5, "negative_value"),
    ("land_area_mu", 1.23456, "too_many_decimals"),
    ("tax_paid", "约100万", "non_numeric"),
    ("tax_paid", 1.2345678, "too_many_decimals"),
    ("value_added", None, "above_scale_without_value_added"),
    ("revenue", None, "missing_required"),
    ("employees", 12.5, "too_many_decimals"),
    ("in_construction_period", "在建中", "invalid_bool"),
    ("veto", "偷税", "unknown_veto"),
]


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> tuple[Path, object]:
    rows = [_row(0)] + [_row(k + 1, **{key: value}) for k, (key, value, _) in enumerate(CASES)]
    rows.append(_row(0))  # duplicate of row 2
    rows.append(_row(30, above_scale="否", value_added=None, revenue=None, employees=None))  # 规下: fine
    path = _xlsx(tmp_path_factory.mktemp("imp") / "broken.xlsx", rows)
    return path, load_enterprise_years(path)


def test_load_enterprise_years_when_every_error_present_reports_all_at_once(broken):
    """Each bad cell is reported once, at its sheet, row, column and value; nothing is used."""
    _, result = broken
    assert not result.ok and result.frame is None
    got = [(p.context["row"], p.context["column"], p.code) for p in result.problems]
    want = [(k + 3, LETTER[key], code) for k, (key, _, code) in enumerate(CASES)]
    want.append((len(CASES) + 3, "A", "duplicate_credit_code_year"))
    assert got == want
    assert result.rows_read == len(CASES) + 3


@pytest.mark.parametrize("k", range(len(CASES)))
def test_load_enterprise_years_when_cell_is_bad_message_names_cell_value_and_expectation(broken, k):
    """where = sheet!C12 (header); the bad text, the expected form and zh/en sentences are filled in."""
    _, result = broken
    key, value, _code = CASES[k]
    p = result.problems[k]
    header = HEADERS[COL[key]]
    assert p.where == f"企业数据!{LETTER[key]}{k + 3} ({header})"
    assert p.context == {"sheet": "企业数据", "row": k + 3, "column": LETTER[key], "header": header, "key": key}
    if value is None:
        assert p.value is None
    else:
        assert p.value == (
            value if isinstance(value, str) else str(value).removesuffix(".0") if value == int(value) else str(value)
        )
    assert p.message_zh.startswith(p.where) and p.message_en.startswith(p.where)
    assert p.expected_zh and p.expected_en
    assert "{" not in p.message_zh + p.message_en + p.expected_zh + p.expected_en


def test_load_enterprise_years_when_check_character_wrong_says_which_is_expected(broken):
    """The GB 32100 message gives the right 18th character."""
    _, result = broken
    p = next(p for p in result.problems if p.code == "credit_code_check_character")
    assert "'N'" in p.message_en and "「N」" in p.message_zh


def test_load_enterprise_years_when_duplicate_names_the_first_row(broken):
    """Only the later row of a duplicated (credit code, year) is an error, pointing at the first."""
    _, result = broken
    p = next(p for p in result.problems if p.code == "duplicate_credit_code_year")
    assert "row 2" in p.message_en and "第2行" in p.message_zh


def test_load_enterprise_years_when_skip_invalid_keeps_valid_rows_and_lists_skipped(broken):
    """--skip-invalid: the frame holds the valid rows; each skipped row lists its codes."""
    path, _ = broken
    result = load_enterprise_years(path, skip_invalid=True)
    assert result.ok and result.frame.height == 2
    assert result.frame["credit_code"].to_list() == [CODES[0], CODES[30]]
    assert [s.row for s in result.skipped] == list(range(3, len(CASES) + 4))
    assert result.skipped[0].codes == ("credit_code_length",)
    below = result.frame.row(1, named=True)
    assert below["above_scale"] is False and below["value_added"] is None and below["revenue"] is None


def test_load_enterprise_years_when_units_differ_converts_exactly(tmp_path):
    """元 and 万千瓦时 headers convert by moving the decimal point; thousands separators are read."""
    headers = list(HEADERS)
    headers[COL["tax_paid"]] = "实缴税金（元）"
    headers[COL["electricity_kwh"]] = "用电量(万千瓦时)"
    rows = [_row(0, tax_paid="1,253,600.07", electricity_kwh=320.5, revenue=12345678.9)]
    result = load_enterprise_years(_xlsx(tmp_path / "u.xlsx", rows, headers))
    assert result.ok, [p.message_en for p in result.problems]
    row = result.frame.row(0, named=True)
    assert row["tax_paid"] == 1253600.07 and row["electricity_kwh"] == 3205000.0
    assert row["revenue"] == 123456789000.0
    assert result.source.units["tax_paid"] == "元" and result.source.units["electricity_kwh"] == "万千瓦时"


def test_load_enterprise_years_when_excel_float_is_noisy_rounds_to_15_digits(tmp_path):
    """The double nearest 12345678901.23 (read as ...229999542) is 12345678901.23 元, not a decimals error."""
    headers = [s.header("en") for s in SPECS]
    rows = [
        _row(
            0,
            tax_paid=12345678901.23,
            value_added=0.1 + 0.2,
            town="331082112",
            above_scale=True,
            in_construction_period=False,
        )
    ]
    result = load_enterprise_years(_xlsx(tmp_path / "f.xlsx", rows, headers, "data"))
    assert result.ok, [p.message_en for p in result.problems]
    assert result.frame["tax_paid"][0] == 12345678901.23 and result.frame["value_added"][0] == 0.3


def test_load_enterprise_years_when_credit_code_stored_as_number_explains_the_lost_digits(tmp_path):
    """An 18-digit code typed as a number loses digits in Excel: reported, with the text-format hint."""
    rows = [_row(0, credit_code=913310820000000001)]
    result = load_enterprise_years(_xlsx(tmp_path / "n.xlsx", rows))
    assert [p.code for p in result.problems] == ["credit_code_check_character"]
    assert "format the column as text" in result.problems[0].message_en


def test_load_enterprise_years_when_columns_are_wrong_reports_header_problems(tmp_path):
    """Missing, duplicated, unit-less and foreign-language columns are each one error; extra columns warn."""
    headers = [*HEADERS, "备注"]
    del headers[COL["tax_paid"]]
    headers[COL["land_area_mu"]] = "revenue"  # English among Chinese; land is then missing too
    headers[COL["electricity_kwh"] - 1] = "用电量"
    headers[COL["energy_tce"] - 1] = "营业收入（元）"
    rows = [[v for i, v in enumerate(_row(0)) if i != COL["tax_paid"]] + ["说明"]]
    result = load_enterprise_years(_xlsx(tmp_path / "h.xlsx", rows, headers))
    codes = sorted((p.code, p.context.get("key")) for p in result.problems)
    assert codes == [
        ("duplicate_column", "revenue"),
        ("missing_column", "energy_tce"),
        ("missing_column", "land_area_mu"),
        ("missing_column", "tax_paid"),
        ("missing_unit", "electricity_kwh"),
        ("mixed_header_language", "revenue"),
    ]
    missing = next(p for p in result.problems if p.context.get("key") == "tax_paid")
    assert "实缴税金(元) / 实缴税金(万元)" in missing.message_zh
    assert [w.code for w in result.warnings] == ["ignored_column"] and "备注" in result.warnings[0].message_zh
    assert not result.ok and result.frame is None
    assert not load_enterprise_years(tmp_path / "h.xlsx", skip_invalid=True).ok


def test_load_enterprise_years_when_unknown_column_only_warns(tmp_path):
    """An extra column is listed as a warning and the import succeeds."""
    result = load_enterprise_years(_xlsx(tmp_path / "w.xlsx", [[*_row(0), "x"]], [*HEADERS, "联系人"]))
    assert result.ok and result.frame.height == 1
    assert result.warnings[0].where == "企业数据!U1 (联系人)"  # after the last column, 企业标签 (T)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("missing.xlsx", None, "unreadable_file"),
        ("notes.pdf", b"%PDF", "unreadable_file"),
        ("corrupt.xlsx", b"not a zip", "unreadable_file"),
        ("bad.csv", b"\xff\xfe\x00a\n", "unreadable_encoding"),
        ("title.csv", "2023年企业数据\n统一社会信用代码,企业名称\n".encode(), "no_known_headers"),
    ],
)
def test_load_enterprise_years_when_file_unusable_reports_one_problem(tmp_path, name, content, code):
    """File-level problems come back as a result with one teaching problem, not an exception."""
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = load_enterprise_years(path)
    assert not result.ok and [p.code for p in result.problems] == [code]
    assert result.problems[0].message_zh and result.problems[0].message_en


def test_load_enterprise_years_when_sheet_unknown_lists_the_sheets(tmp_path):
    """--sheet naming a missing sheet says which sheets exist."""
    result = load_enterprise_years(_xlsx(tmp_path / "s.xlsx", [_row(0)]), sheet="Sheet9")
    assert [p.code for p in result.problems] == ["unknown_sheet"] and "企业数据" in result.problems[0].message_en


@pytest.mark.parametrize(("lang", "suffix"), [("zh", "xlsx"), ("en", "csv")])
def test_load_enterprise_years_when_defects_planted_reports_exactly_them(tmp_path, lang, suffix):
    """demo-data --with-defects: every planted defect at its row and column, and nothing else."""
    frame, defects = generate_county_with_defects(11, range(2022, 2024))
    result = load_enterprise_years(write_enterprise_years(frame, tmp_path / f"d.{suffix}", lang=lang))
    renamed = {"bad_check_character": "credit_code_check_character", "negative_land": "negative_value"}
    keys = list(zip(frame["credit_code"], frame["year"], strict=True))

    def cell(d: dict) -> tuple[int, str, str]:
        row = d["row"]
        if d["defect"] == "duplicate_credit_code_year":  # reported on the later row of the pair
            row = max(j for j, key in enumerate(keys) if key == keys[d["row"]])
        return row + 2, d["column"], renamed.get(d["defect"], d["defect"])

    got = {(p.context["row"], p.context["key"], p.code): p for p in result.problems}
    assert set(got) == {cell(d) for d in defects}
    assert len(result.problems) == len(defects) == 2 * len(DEFECTS)
    for d in defects:
        value = got[cell(d)].value
        if d["value"] is None:
            assert value is None
        elif d["defect"] in ("zero_land", "negative_land"):
            assert float(value) == float(d["value"])
        else:
            assert value == d["value"]


def test_write_error_report_when_written_has_frozen_header_and_one_row_per_error(broken, tmp_path):
    """The XLSX report opens in Excel terms: frozen header, a row per error with its cell, zh and en."""
    _, result = broken
    path = write_error_report(result, tmp_path / "errors.xlsx")
    book = openpyxl.load_workbook(path)
    ws = book["错误 errors"]
    assert ws.freeze_panes == "A2"
    head = [c.value for c in ws[1]]
    assert head[:4] == ["序号 No.", "级别 level", "错误代码 code", "位置 cell"] and "message" in head
    assert ws.max_row == len(result.problems) + 1
    first = [c.value for c in ws[2]]
    assert first[2] == "credit_code_length" and first[3] == result.problems[0].where and first[5] == 3
    assert book["摘要 summary"]["B5"].value == result.rows_read


def test_report_rows_when_rendered_are_flat_dicts(broken):
    """report_rows() gives one flat dict per problem with the cell location."""
    _, result = broken
    rows = result.report_rows()
    assert len(rows) == len(result.problems)
    assert {"code", "where", "sheet", "row", "column", "header", "value", "message_zh", "message_en"} <= set(rows[0])


def test_reference_data_when_normalising_accepts_only_what_is_documented():
    """Towns by code, name or alias; industries as manufacturing division, group or class (C optional)."""
    assert normalise_town("杜桥") == normalise_town("杜桥镇") == normalise_town("Duqiao Town") == "331082112"
    assert normalise_town("台州湾经开区") == "TZWJK" and normalise_town("杜桥乡") is None
    assert [normalise_industry(v) for v in ("C27", "c271", "2710", "C3587", "13")] == [
        "C27",
        "C271",
        "C2710",
        "C3587",
        "C13",
    ]
    assert [normalise_industry(v) for v in ("C12", "C44", "D4411", "C2S10", "C27100", "C")] == [None] * 6
    assert industry_division("C3587") == "C35"


def test_bench_frame_when_small_has_unique_enterprise_years():
    """The benchmark generator gives exactly n rows with unique (credit_code, year)."""
    frame = bench_frame(3000)
    assert frame.height == 3000 and not frame.select("credit_code", "year").is_duplicated().any()
