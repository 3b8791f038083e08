"""``tenglong simulate`` on the demo county: the summary, the JSON (the documented keys, the same figures as the
service) and the workbook, a situation of projects whose 2.11 rewards follow the classes, and a bad reform."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tenglong.demo.county import generate_county
from tenglong.services import simulation
from tenglong.services.evaluation.methods import from_file

QUOTA = "title: A 类 25%\nchanges:\n  mujun.quotas_above_scale: {A: 0.25, B: 0.55, C: 0.15, D: 0.05}\n"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tenglong.cli", "simulate", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The demo county 2022–2023, a quota reform, and a situation: one 2.11 project (excess 3,000 m²) for each of
    the first 20 firms of the data that the reform makes A, and for 3 firms it leaves alone."""
    tmp = tmp_path_factory.mktemp("simulate")
    data = tmp / "county.csv"
    generate_county(2023, range(2022, 2024)).write_csv(data)
    reform = tmp / "quota.yaml"
    reform.write_text(QUOTA, encoding="utf-8")
    s = simulation.Simulator.start(simulation.load_snapshot(data, 2023))
    c = s.compare(from_file(reform))
    d = c.snapshot.data
    moved = [str(d.credit_code[i]) for i in c.changed()][:20]
    kept = [str(x) for i, x in enumerate(d.credit_code) if c.baseline.classes[i] == "B" == c.reform.classes[i]][:3]
    project = {
        "application_date": "2023-06-01", "zero_land_renovation": True, "self_owned_and_used": True,
        "land_area": 10000, "plot_ratio_before": 1.0, "plot_ratio_after": 1.5, "renovated_floor_area": 1000,
        "total_floor_area_after": 15000,
    }  # fmt: skip
    situation = {
        "as_of": "2023-06-30",
        "enterprises": {code: {} for code in moved + kept},
        "projects": {f"P{i}": {**project, "enterprise": code} for i, code in enumerate(moved + kept)},
    }
    projects = tmp / "projects.json"
    projects.write_text(json.dumps(situation), encoding="utf-8")
    return {"data": data, "reform": reform, "projects": projects, "tmp": tmp, "moved": moved, "kept": kept}


def test_simulate_when_no_out_prints_the_classes_the_support_and_the_change(files):
    r = run("--reform", str(files["reform"]), "--data", str(files["data"]), "--year", "2023")
    assert r.returncode == 0, r.stderr
    assert "规上 A:" in r.stdout and "合计 / total" in r.stdout
    assert "A 20%、B 60%、C 15%、D 5% → A 25%、B 55%、C 15%、D 5%" in r.stdout  # the values used, both sides


def test_simulate_when_json_written_has_the_documented_keys_and_the_rewards_follow_the_classes(files):
    out = files["tmp"] / "result.json"
    r = run("--reform", str(files["reform"]), "--data", str(files["data"]), "--year", "2023",
            "--projects", str(files["projects"]), "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert list(doc) == ["year", "reform", "classes", "support", "by_town", "by_industry", "firms", "targets",
                         "surcharges"]  # fmt: skip
    assert doc["reform"]["title"] == "A 类 25%"
    moved, kept = files["moved"], files["kept"]
    # B → A moves each moved firm's 2.11 reward from 50 to 60 元/m² on 3,000 m²: +30,000 元; the kept ones stay.
    assert doc["support"]["change"]["2.11"] == f"{30_000 * len(moved)}.00"
    changed = {f["credit_code"]: f for f in doc["firms"]}
    for code in moved:
        f = changed[code]
        assert (f["class_baseline"], f["class_reform"]) == ("B", "A")
        assert (f["support_baseline"], f["support_reform"], f["change"]) == ("150000.00", "180000.00", "30000.00")
    assert not set(kept) & set(changed)
    a = doc["classes"]["above_scale"]
    assert sum(a["migration"]["B"].values()) == a["baseline"]["B"] and a["migration"]["B"]["A"] >= len(moved)
    assert sum(Decimal(v["change"]) for v in doc["by_town"].values()) == Decimal(doc["support"]["change"]["total"])


def test_simulate_when_xlsx_written_opens_with_the_same_totals_and_charts(files):
    out = files["tmp"] / "result.xlsx"
    r = run("--reform", str(files["reform"]), "--data", str(files["data"]), "--year", "2023",
            "--projects", str(files["projects"]), "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    content = out.read_bytes()
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert {"参数变化", "类别迁移", "资金（按条款）", "按镇（街道）", "变化的企业"} <= set(book.sheetnames)
    firms = list(book["变化的企业"].iter_rows(min_row=2, values_only=True))
    assert {row[0] for row in firms} >= set(files["moved"])
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())


def test_simulate_when_reform_or_year_is_bad_lists_every_problem_and_writes_nothing(files):
    bad = files["tmp"] / "bad.yaml"
    bad.write_text("title: 坏\nchanges:\n  tech_renovation.major_rte: 1\n  mujun.quotas_above_scale: many\n", "utf-8")
    out = files["tmp"] / "never.json"
    r = run("--reform", str(bad), "--data", str(files["data"]), "--year", "2023", "--out", str(out))
    assert r.returncode == 2 and not out.exists()
    assert "major_rate" in r.stderr and "mujun.quotas_above_scale" in r.stderr and "2." in r.stderr
    r = run("--reform", str(files["reform"]), "--data", str(files["data"]), "--year", "2019")
    assert r.returncode == 2 and "2019" in r.stderr
    r = run("--reform", str(files["reform"]), "--data", str(files["data"]), "--year", "2023", "--out", "x.docx")
    assert r.returncode == 2 and ".json" in r.stderr


def test_simulate_when_a_firm_is_asked_prints_its_classes_amounts_and_the_change_that_reached_it(files):
    code = files["moved"][0]
    args = ("--reform", str(files["reform"]), "--data", str(files["data"]), "--year", "2023")
    r = run(*args, "--projects", str(files["projects"]), "--firm", code)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f" {code}（2023 年度）" in out and out.startswith("企业 / firm 临海市")  # its name, then its code
    assert "基准 / baseline：类别 B，扶持合计 15.00 万元" in out and "改革 / reform：类别 A，扶持合计 18.00 万元" in out
    assert "比例 A 25%、B 55%" in out and "第 2.11 条 垂直工业奖励 18.00 万元（适用）" in out
    assert "变化 / change：3.00 万元" in out and "规上企业 A/B/C/D 类比例" in out
    unknown = run(*args, "--firm", "91331082MA2AB3CF7N")
    assert unknown.returncode == 2 and "91331082MA2AB3CF7N" in unknown.stderr
