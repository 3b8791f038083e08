"""Tabular adapters: column specs, the XLSX/CSV reader, the export writer, the template and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import pytest
import xlsxwriter
from click.testing import CliRunner

from tenglong.adapters.tabular.columns import CANONICAL_SCHEMA, COLUMNS, SPECS, map_headers, match_header
from tenglong.adapters.tabular.reader import ReadError, read_table
from tenglong.adapters.tabular.template import write_template
from tenglong.adapters.tabular.writer import import_cells, write_enterprise_years
from tenglong.cli import main
from tenglong.core.reference_data import industries, towns
from tenglong.demo.county import COLUMNS as DEMO_COLUMNS
from tenglong.demo.county import generate_county
from tenglong.services.data.validation import load_enterprise_years

SEED = 2023


@pytest.fixture(scope="module")
def county() -> pl.DataFrame:
    return generate_county(SEED, range(2022, 2024))


def _expected(frame: pl.DataFrame) -> pl.DataFrame:
    """The generator's frame is already in the canonical schema."""
    return frame


def _xlsx(path: Path, rows: list[list], sheet: str = "企业数据", first_row: int = 0, first_col: int = 0) -> Path:
    with xlsxwriter.Workbook(str(path)) as book:
        ws = book.add_worksheet(sheet)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(first_row + r, first_col + c, value)
    return path


# --- column specs ----------------------------------------------------------------------


def test_columns_when_listed_match_the_demo_generator_and_canonical_schema():
    """One spec per canonical column, in the generator's order."""
    assert COLUMNS == DEMO_COLUMNS
    assert list(CANONICAL_SCHEMA) == list(COLUMNS)
    assert CANONICAL_SCHEMA["year"] == pl.Int32 and CANONICAL_SCHEMA["employees"] == pl.Int64


@pytest.mark.parametrize(
    ("header", "key", "unit"),
    [
        ("实缴税金(万元)", "tax_paid", "万元"),
        ("实缴税金（万元）", "tax_paid", "万元"),
        (" 实缴税金 \n(元)", "tax_paid", "元"),
        ("用电量(万千瓦时)", "electricity_kwh", "万千瓦时"),
        ("用地面积", "land_area_mu", "亩"),
        ("所在镇（街道）", "town", None),
        ("是否规上(是/否)", "above_scale", None),
        ("tax_paid", "tax_paid", "元"),
        ("Tax_Paid (元)", "tax_paid", "元"),
        ("tax_paid (万元)", "tax_paid", "万元"),
        ("Credit Code", "credit_code", None),
    ],
)
def test_match_header_when_spelled_differently_finds_the_column_and_unit(header, key, unit):
    """Half- and full-width parentheses, spaces, case and unit suffixes are accepted."""
    m = match_header(header)
    assert m is not None and m.problem is None
    assert m.spec.key == key
    assert (m.unit.zh if m.unit else None) == unit


def test_match_header_when_unit_missing_or_unknown_flags_it():
    """A money header needs its unit in Chinese; an unknown unit is a problem, not a guess."""
    assert match_header("实缴税金").problem == "missing_unit"
    assert match_header("用电量").problem == "missing_unit"
    assert match_header("实缴税金(千元)").problem == "unknown_unit"
    assert match_header("备注") is None


def test_map_headers_when_language_mixed_reports_the_odd_header():
    """A file is either Chinese or English; an English header among Chinese ones is an error."""
    headers = [s.header("zh") for s in SPECS]
    headers[7] = "tax_paid"
    hmap = map_headers(headers)
    assert hmap.language == "zh"
    assert [(i.code, i.position) for i in hmap.issues] == [("mixed_header_language", 7)]


# --- reader ----------------------------------------------------------------------------


def test_read_table_when_sheet_starts_below_row_one_keeps_excel_rows_and_letters(tmp_path):
    """Leading empty rows and columns do not shift the reported cell locations."""
    path = _xlsx(tmp_path / "a.xlsx", [["h1", "h2"], ["x", "1"], [None, None], ["y", "2"]], first_row=2, first_col=1)
    table = read_table(path)
    assert table.header_row == 3
    assert table.letters == ("B", "C")
    assert table.cells["_row"].to_list() == [4, 6]
    assert table.blank_rows == 1


def test_read_table_when_numbers_and_codes_read_as_text(tmp_path):
    """Every cell is text: long codes keep their digits, integral floats lose the '.0'."""
    path = _xlsx(
        tmp_path / "a.xlsx", [["code", "n", "b"], ["913310820000000001", 12.0, True], ["0012", 0.1 + 0.2, False]]
    )
    cells = read_table(path).cells
    assert cells["c0"].to_list() == ["913310820000000001", "0012"]
    assert cells["c1"].to_list() == ["12", "0.3"]
    assert cells["c2"].to_list() == ["true", "false"]


def test_read_table_when_no_sheet_named_picks_enterprise_data_sheet(tmp_path):
    """企业数据 / 企业 / 数据 / data is preferred over the first sheet; --sheet overrides."""
    path = tmp_path / "a.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        book.add_worksheet("说明").write(0, 0, "说明")
        book.add_worksheet("数据").write(0, 0, "h")
        book.add_worksheet("其他").write(0, 0, "h")
    assert read_table(path).sheet == "数据"
    assert read_table(path, "其他").sheet == "其他"
    with pytest.raises(ReadError) as exc:
        read_table(path, "企业")
    assert exc.value.code == "unknown_sheet" and exc.value.detail["sheets"] == ["说明", "数据", "其他"]


def test_read_table_when_csv_is_gbk_decodes_it(tmp_path):
    """Excel's Chinese 'CSV (逗号分隔)' is GBK: it is read as GB18030."""
    path = tmp_path / "a.csv"
    path.write_bytes("统一社会信用代码,企业名称\n91331082MA2AB3CF7N,临海市鑫达机械有限公司\n".encode("gbk"))
    table = read_table(path)
    assert table.encoding == "gb18030" and table.headers == ("统一社会信用代码", "企业名称")
    assert table.cells["c1"].to_list() == ["临海市鑫达机械有限公司"]


def test_read_table_when_csv_is_neither_utf8_nor_gbk_refuses_it(tmp_path):
    """Bytes that are not UTF-8 or GB18030 are an error, never mojibake."""
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xff\xfe\x00a,b\n")
    with pytest.raises(ReadError) as exc:
        read_table(path)
    assert exc.value.code == "unreadable_encoding"


# --- writer and round trips ------------------------------------------------------------


def test_import_cells_when_chinese_writes_wan_yuan_exactly(county):
    """万元 moves the decimal point of the 元 text: no float noise."""
    cells = import_cells(county.head(200), "zh")
    for yuan, wan in zip(county["tax_paid"].head(200), cells["实缴税金(万元)"], strict=True):
        assert "e" not in wan and len(wan.split(".")[-1]) <= 6
        assert float(wan) == pytest.approx(yuan / 1e4, rel=1e-15)
    assert set(cells["所在镇(街道)"]) <= {t.name_zh for t in towns()}


@pytest.mark.parametrize(("lang", "suffix"), [("zh", "xlsx"), ("zh", "csv"), ("en", "xlsx"), ("en", "csv")])
def test_round_trip_when_demo_county_exported_imports_identically(county, tmp_path, lang, suffix):
    """demo-data → file → import gives back the generator's frame exactly, money to the 分."""
    path = write_enterprise_years(county, tmp_path / f"county.{suffix}", lang=lang)
    result = load_enterprise_years(path)
    assert result.ok and not result.problems and not result.warnings
    assert result.source.language == lang
    assert result.source.units["tax_paid"] == ("万元" if lang == "zh" else "元")
    assert result.frame.schema == CANONICAL_SCHEMA
    assert result.frame.equals(_expected(county))


def test_round_trip_when_csv_saved_as_gbk_imports_identically(county, tmp_path):
    """A Chinese CSV re-saved by Excel in GBK imports to the same frame."""
    sample = county.head(500)
    text = pl.DataFrame(import_cells(sample, "zh")).write_csv()
    path = tmp_path / "gbk.csv"
    path.write_bytes(text.encode("gbk"))
    result = load_enterprise_years(path)
    assert result.ok and result.source.encoding == "gb18030"
    assert result.frame.equals(_expected(sample))


# --- template --------------------------------------------------------------------------


def test_write_template_when_opened_with_openpyxl_has_lists_and_validations(tmp_path):
    """Instructions, data, town and industry sheets; drop-downs on the code-like columns."""
    path = write_template(tmp_path / "t.xlsx", "zh")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["填报说明", "企业数据", "镇街", "行业"]
    data = book["企业数据"]
    assert data.freeze_panes == "A2"
    assert [c.value for c in data[1]] == [s.header("zh") for s in SPECS]
    assert data["A1"].font.b
    rules = {str(dv.sqref).split(":")[0]: dv for dv in data.data_validations.dataValidation}
    assert rules["D2"].type == "list" and rules["D2"].formula1 == f"'镇街'!$A$2:$A${len(towns()) + 1}"
    assert rules["E2"].type == "list" and rules["E2"].formula1 == f"'行业'!$A$2:$A${len(industries()) + 1}"
    assert rules["F2"].formula1 == '"是,否"' and rules["R2"].formula1 == '"是,否"'
    assert rules["S2"].formula1 == '"重大安全事故,严重环境违法,数据造假"'
    assert rules["G2"].type == "decimal" and rules["G2"].operator == "greaterThan"
    town_names = [r[0] for r in book["镇街"].iter_rows(min_row=2, values_only=True)]
    assert len(town_names) == 21 and "杜桥镇" in town_names and "台州湾经济技术开发区" in town_names
    assert book["行业"]["A2"].value == "C13 农副食品加工业"
    assert data.max_row == 1  # no example rows in the data sheet
    help_text = " ".join(str(c.value) for row in book["填报说明"].iter_rows() for c in row if c.value)
    assert "万元" in help_text and "规上" in help_text and "2000万元" in help_text


def test_write_template_when_left_empty_imports_clean(tmp_path):
    """An untouched template imports with no error and no row, in either language."""
    for lang in ("zh", "en"):
        result = load_enterprise_years(write_template(tmp_path / f"t_{lang}.xlsx", lang))
        assert result.ok and result.rows_read == 0 and not result.problems and not result.warnings
        assert result.frame.schema == CANONICAL_SCHEMA


def test_write_template_when_filled_with_drop_down_values_imports(tmp_path):
    """Values picked from the drop-downs (town name, 'C2710 name', 是/否, veto label) are accepted."""
    path = write_template(tmp_path / "t.xlsx", "zh")
    book = openpyxl.load_workbook(path)
    ws = book["企业数据"]
    ws.append(
        [
            "91331082MA2AB3CF7N",
            "临海市鑫达药业有限公司",
            2023,
            "杜桥镇",
            "C2710 化学药品原料药制造",
            "是",
            27.5,
            125.36,
            4800,
            21000,
            483,
            1850.5,
            None,
            215,
            3200000,
            4120.8,
            None,
            "否",
            "数据造假",
        ]
    )
    book.save(path)
    result = load_enterprise_years(path)
    assert result.ok, [p.message_en for p in result.problems]
    row = result.frame.row(0, named=True)
    assert (row["town"], row["industry"], row["tax_paid"], row["veto"]) == (
        "331082112",
        "C2710",
        1253600.0,
        "falsified_data",
    )
    assert row["fixed_asset_investment"] == 0.0 and row["in_construction_period"] is False


# --- CLI -------------------------------------------------------------------------------


def test_cli_when_demo_data_then_import_check_exits_by_errors(tmp_path):
    """demo-data writes a clean file (exit 0 on check); --with-defects gives exit 2, or 0 with --skip-invalid."""
    runner = CliRunner()
    clean, broken = tmp_path / "clean.csv", tmp_path / "broken.xlsx"
    assert (
        runner.invoke(
            main, ["demo-data", "--seed", "3", "--years", "2023", "--out", str(clean), "--lang", "en"]
        ).exit_code
        == 0
    )
    assert runner.invoke(main, ["import-check", str(clean)]).exit_code == 0
    assert (
        runner.invoke(
            main, ["demo-data", "--seed", "3", "--years", "2022-2023", "--with-defects", "--out", str(broken)]
        ).exit_code
        == 0
    )
    report = tmp_path / "errors.xlsx"
    checked = runner.invoke(main, ["import-check", str(broken), "--report", str(report)])
    assert checked.exit_code == 2 and "unknown_town: 2" in checked.output and report.exists()
    assert runner.invoke(main, ["import-check", str(broken), "--skip-invalid"]).exit_code == 0
    assert runner.invoke(main, ["template", str(tmp_path / "t.xlsx"), "--lang", "en"]).exit_code == 0
    assert runner.invoke(main, ["demo-data", "--years", "21-x", "--out", str(clean)]).exit_code == 2


@pytest.mark.parametrize(("lang", "suffix"), [("zh", "xlsx"), ("zh", "csv"), ("en", "xlsx")])
def test_round_trip_when_money_spans_fen_to_hundreds_of_billions_stays_exact(county, tmp_path, lang, suffix):
    """Random amounts from 0.01 元 to 1e12 元 survive 元 → 万元 → XLSX/CSV → 元 to the 分."""
    rng = np.random.default_rng(5)
    n = 400
    fen = np.concatenate([rng.integers(1, 10**6, n // 2), rng.integers(10**6, 10**14, n - n // 2)])
    sample = county.head(n).with_columns(
        pl.Series("tax_paid", np.round(fen / 100, 2)), pl.Series("revenue", np.round(fen[::-1] / 100, 2))
    )
    result = load_enterprise_years(write_enterprise_years(sample, tmp_path / f"m.{suffix}", lang=lang))
    assert result.ok, [p.message_en for p in result.problems[:3]]
    assert result.frame["tax_paid"].to_list() == sample["tax_paid"].to_list()
    assert result.frame["revenue"].to_list() == sample["revenue"].to_list()
