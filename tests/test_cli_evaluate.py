"""`tenglong evaluate` end to end, as a user runs it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tenglong.demo.county import generate_county, generate_county_with_defects

ROOT = Path(__file__).resolve().parents[1]
HUANGYAN = ROOT / "src" / "tenglong" / "policy" / "methods" / "huangyan-2022.yaml"
HUANGYAN_ABOVE = {
    "tax_per_mu": 24.097,
    "value_added_per_mu": 136.16,
    "value_added_per_energy": 2.694,
    "value_added_per_emission": 4929.81,
    "labor_productivity": 18.14,
    "rd_intensity": 0.0302,
}
HUANGYAN_BELOW = {"tax_per_mu": 11.5932, "tax_per_kwh": 0.2352}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tenglong.cli", "evaluate", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """The demo county 2021–2023 as a CSV with English headers (money in 元)."""
    path = tmp_path_factory.mktemp("evaluate") / "county.csv"
    generate_county(2023, range(2021, 2024)).write_csv(path)
    return path


def test_evaluate_when_csv_given_prints_summary_targets_and_benchmarks(data):
    """The class summary (规上/规下 × A–D), the county figures against the targets and the benchmarks are printed."""
    r = run(str(data), "--year", "2023")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "临海市 2023 年度亩均效益综合评价" in out
    for word in ("规上", "规下", "未参评", "合计", "规上亩均税收", "达标", "评价基准值", "单位电耗税收"):
        assert word in out, word


def test_evaluate_when_out_is_xlsx_writes_the_workbook(data, tmp_path):
    """--out results.xlsx writes the officials' workbook and says where."""
    out = tmp_path / "results.xlsx"
    r = run(str(data), "--year", "2023", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert str(out) in r.stdout
    assert openpyxl.load_workbook(out, read_only=True).sheetnames == ["汇总", "A类", "B类", "C类", "D类", "未参评"]


def test_evaluate_when_lang_en_prints_and_writes_english(data, tmp_path):
    """--lang en: English printout and an English workbook."""
    out = tmp_path / "results.xlsx"
    r = run(str(data), "--year", "2023", "--lang", "en", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "firms by class" in r.stdout and "above-scale" in r.stdout
    assert openpyxl.load_workbook(out, read_only=True).sheetnames[0] == "Summary"


def test_evaluate_when_out_is_csv_writes_every_enterprise(data, tmp_path):
    """--out results.csv writes one row per enterprise of the year."""
    out = tmp_path / "results.csv"
    r = run(str(data), "--year", "2023", "--out", str(out))
    assert r.returncode == 0, r.stderr
    lines = out.read_text(encoding="utf-8-sig")
    assert lines.startswith("credit_code,")
    assert lines.count("\n2023 年度数据") + lines.count('"2023 年度数据') == generate_county(2023, [2023]).height


def test_evaluate_when_out_suffix_is_unknown_exits_2(data, tmp_path):
    """--out with another suffix is refused up front with a clear message, and nothing is written."""
    out = tmp_path / "results.txt"
    r = run(str(data), "--year", "2023", "--out", str(out))
    assert r.returncode == 2
    assert ".xlsx" in r.stderr and ".csv" in r.stderr and ".json" in r.stderr
    assert not out.exists()


def test_evaluate_when_method_has_unknown_parameter_exits_2_listing_it(data, tmp_path):
    """A method file with unknown parameters: exit 2, every one listed (with a suggestion), nothing printed on
    stdout.
    """
    method = tmp_path / "bad.yaml"
    method.write_text("title: 错\nchanges:\n  mujun.no_such_parameter: 3\n  mujun.score_decimal: 2\n", encoding="utf-8")
    r = run(str(data), "--year", "2023", "--method", str(method))
    assert r.returncode == 2
    assert r.stdout == ""
    assert "[unknown_parameter] mujun.no_such_parameter" in r.stderr
    assert "[unknown_parameter] mujun.score_decimal" in r.stderr and "mujun.score_decimals" in r.stderr


def test_evaluate_when_huangyan_method_uses_the_constant_benchmarks(tmp_path):
    """--method huangyan-2022.yaml --year 2022: the printed and JSON benchmarks are 24.097 … and 11.5932, 0.2352."""
    data = tmp_path / "county.csv"
    generate_county(7, range(2021, 2023)).write_csv(data)
    out = tmp_path / "results.json"
    r = run(str(data), "--year", "2022", "--method", str(HUANGYAN), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "黄岩区2022年度数据基准值" in r.stdout
    for value in (*HUANGYAN_ABOVE.values(), *HUANGYAN_BELOW.values()):
        assert f" {value:g} " in r.stdout, value
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["year"] == 2022
    assert doc["benchmarks"] == {"above_scale": HUANGYAN_ABOVE, "below_scale": HUANGYAN_BELOW}
    assert doc["method"].startswith("黄岩区")


def test_evaluate_when_data_has_errors_exits_2_listing_every_one(tmp_path):
    """A file with defects: exit 2, stdout empty, every problem on stderr with its cell."""
    frame, defects = generate_county_with_defects(3, [2023])
    data = tmp_path / "defects.csv"
    frame.write_csv(data)
    r = run(str(data), "--year", "2023")
    assert r.returncode == 2
    assert r.stdout == ""
    listed = re.findall(r"^\d+\. \[(\w+)\] defects!", r.stderr, flags=re.M)
    assert len(listed) == len(defects)
    assert {"unknown_town", "zero_land", "duplicate_credit_code_year", "credit_code_check_character"} <= set(listed)


def test_evaluate_when_skip_invalid_lists_skipped_rows_and_continues(tmp_path):
    """--skip-invalid: the bad rows are listed on stderr, the rest is evaluated (exit 0)."""
    frame, _ = generate_county_with_defects(3, [2023])
    data = tmp_path / "defects.csv"
    frame.write_csv(data)
    out = tmp_path / "results.json"
    r = run(str(data), "--year", "2023", "--skip-invalid", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "已跳过" in r.stderr and "skipped" in r.stderr and "[unknown_town]" in r.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert 0 < len(doc["enterprises"]) < frame.height


def test_evaluate_when_year_is_absent_exits_2(data):
    """A year without rows: exit 2 naming the years present."""
    r = run(str(data), "--year", "2019")
    assert r.returncode == 2
    assert "2019" in r.stderr and "2021, 2022, 2023" in r.stderr


def test_evaluate_when_data_is_xlsx_reads_the_named_sheet(tmp_path):
    """An XLSX DATA file is read from --sheet; an unknown sheet exits 2 naming the sheets."""
    data = tmp_path / "county.xlsx"
    generate_county(2023, [2023]).write_excel(data, worksheet="2023数据")
    r = run(str(data), "--year", "2023", "--sheet", "2023数据")
    assert r.returncode == 0, r.stderr
    assert "规上" in r.stdout
    r = run(str(data), "--year", "2023", "--sheet", "nope")
    assert r.returncode == 2 and "[unknown_sheet]" in r.stderr and "2023数据" in r.stderr
