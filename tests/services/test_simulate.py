"""What-if simulation (issue 12) on a small county computed by hand.

Ten 规上 firms of one town and industry, identical but for their size per mu: firm k (k = 1…10) has land 10 亩 and
tax, value added, revenue… in proportion to k, so the evaluation ranks them 10, 9, … 1. Default quotas (20 / 60 /
15 / 5 %, A, C, D rounded half up, B the rest): A = {10, 9}, B = {8…4}, C = {3, 2}, D = {1}. A quota of A 30 %
(B 50 %) makes firm 8 — and only it — an A.

Each firm has one project of both kinds:
* 2.10 major tier: total 12,000,000, equipment 6,000,000 元, traditional industry → 10 % = 600,000 元;
* 2.11 excess route: land 10,000 m², plot ratio 1.0 → 1.5 (excess (1.5 − 1.2) × 10,000 = 3,000 m²), class A
  60 元/m² = 180,000 元, B 50 = 150,000 元, C/D nothing.
"""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import numpy as np
import openpyxl
import pytest

from tenglong.core import simulate as sim
from tenglong.core.credit_code import make_code
from tenglong.core.errors import ReformError
from tenglong.core.mujun.data import YearData
from tenglong.services import simulation
from tenglong.services.evaluation.methods import from_json
from tenglong.services.simulation.workbook import simulation_xlsx

N = 10
CODES = np.sort(make_code(np.random.default_rng(7), N + 1))
OUTSIDER = str(CODES[-1])  # in the situation, not in the data
CODES = CODES[:N]
TOWN = "331082112"  # 杜桥镇


def _year(year: int, growth: float = 1.0) -> YearData:
    k = np.arange(1, N + 1, dtype=float)
    va = k * 1_000_000 * growth
    return YearData.from_columns(
        year,
        {
            "credit_code": CODES,
            "name": np.char.add("企业", np.arange(N).astype(str)),
            "town": np.full(N, TOWN),
            "industry": np.full(N, "C3484"),
            "above_scale": np.ones(N, bool),
            "land_area_mu": np.full(N, 10.0),
            "tax_paid": va * 0.2,
            "value_added": va,
            "revenue": va * 4,
            "rd_expense": va * 0.05,
            "energy_tce": va / 10_000 / (k + 1),
            "emission_equivalent_t": np.full(N, 1.0) / k,
            "employees": np.full(N, 50.0),
            "electricity_kwh": np.full(N, 100_000.0),
            "carbon_emission_t": np.full(N, 100.0),
            "fixed_asset_investment": np.zeros(N),
        },
    )


def _situation() -> dict:
    projects = {}
    for i, code in enumerate([*CODES, OUTSIDER]):
        projects[f"P{i}"] = {
            "enterprise": str(code),
            "application_date": "2023-06-01",
            "total_investment": 12_000_000,
            "equipment_investment": 6_000_000,
            "recognized_equipment_investment": 6_000_000,
            "traditional_industry": True,
            "key_industrial_project": False,
            "zero_land_renovation": True,
            "self_owned_and_used": True,
            "land_area": 10_000,
            "plot_ratio_before": Decimal("1.0"),
            "plot_ratio_after": Decimal("1.5"),
            "renovated_floor_area": 1_000,
            "total_floor_area_after": 15_000,
        }
    enterprises = {str(c): {"is_2513_enterprise": False} for c in CODES}
    enterprises[OUTSIDER] = {"is_2513_enterprise": False, "mujun_class": "B"}
    return {"as_of": "2023-06-30", "period": 2023, "enterprises": enterprises, "projects": projects}


@pytest.fixture(scope="module")
def simulator():
    snap = simulation.snapshot_of({2022: _year(2022, 0.9), 2023: _year(2023)}, 2023, _situation())
    return simulation.Simulator.start(snap)


def _classes_by_k(side: sim.Side) -> dict[int, str]:
    return {k + 1: str(side.classes[k]) for k in range(N)}


def test_baseline_when_evaluated_classes_the_firms_by_size_and_pays_by_class(simulator):
    assert _classes_by_k(simulator.baseline) == {
        10: "A", 9: "A", 8: "B", 7: "B", 6: "B", 5: "B", 4: "B", 3: "C", 2: "C", 1: "D"
    }  # fmt: skip
    s = simulator.baseline.support
    assert s["2.10"].tolist() == [60_000_000] * (N + 1)  # 600,000 元 each, in 分
    assert s["2.11"][:N].tolist() == [0, 0, 0, 15_000_000, 15_000_000, 15_000_000, 15_000_000, 15_000_000,
                                      18_000_000, 18_000_000]  # fmt: skip
    assert s["2.11"][N] == 15_000_000  # the firm outside the data keeps the class its situation gives (B)


def test_reform_when_it_changes_nothing_gives_zero_differences_and_an_identity_migration(simulator):
    for changes in ({}, {"tech_renovation.major_rate": Decimal("0.10")}):
        m = from_json({"title": "不变", "changes": changes})
        doc = simulation.to_json(simulator.compare(m), m)
        assert doc["firms"] == []
        assert set(doc["support"]["change"].values()) == {"0.00"}
        migration = np.array([[doc["classes"]["above_scale"]["migration"][a][b] for b in "ABCD"] for a in "ABCD"])
        assert (migration == np.diag(np.diag(migration))).all() and migration.trace() == N


def test_reform_of_2_10_alone_moves_no_class_and_changes_2_10_by_hand(simulator):
    m = from_json({"title": "技改 12%", "changes": {"tech_renovation.major_rate": Decimal("0.12")}})
    c = simulator.compare(m)
    assert (c.baseline.classes == c.reform.classes).all()
    doc = simulation.to_json(c, m)
    assert doc["support"]["change"] == {
        "2.10": f"{120_000 * (N + 1)}.00",
        "2.11": "0.00",
        "total": f"{120_000 * (N + 1)}.00",
    }
    assert doc["support"]["baseline"]["2.10"] == f"{600_000 * (N + 1)}.00"
    assert len(doc["firms"]) == N + 1 and {f["change"] for f in doc["firms"]} == {"120000.00"}
    assert doc["by_town"]["杜桥镇"]["change"] == f"{120_000 * N}.00"


def test_quota_reform_moves_exactly_the_edge_firm_and_its_2_11_reward_follows(simulator):
    m = from_json(
        {"title": "A 30%", "changes": {"mujun.quotas_above_scale": {"A": Decimal("0.30"), "B": Decimal("0.50"),
                                                                   "C": Decimal("0.15"), "D": Decimal("0.05")}}}
    )  # fmt: skip
    c = simulator.compare(m)
    assert _classes_by_k(c.reform)[8] == "A"
    moved = [k for k in range(1, N + 1) if _classes_by_k(c.baseline)[k] != _classes_by_k(c.reform)[k]]
    assert moved == [8]
    doc = simulation.to_json(c, m)
    assert doc["classes"]["above_scale"]["migration"]["B"]["A"] == 1
    assert doc["classes"]["above_scale"]["reform"] == {"A": 3, "B": 4, "C": 2, "D": 1}
    assert doc["firms"] == [
        {"credit_code": str(CODES[7]), "town": "杜桥镇", "class_baseline": "B", "class_reform": "A",
         "support_baseline": "750000.00", "support_reform": "780000.00", "change": "30000.00"}
    ]  # fmt: skip
    assert doc["support"]["change"] == {"2.10": "0.00", "2.11": "30000.00", "total": "30000.00"}


def test_json_when_written_has_exactly_the_documented_keys(simulator):
    m = from_json({"title": "t", "changes": {"tech_renovation.major_rate": Decimal("0.12")}})
    doc = simulation.to_json(simulator.compare(m), m)
    assert list(doc) == ["year", "reform", "classes", "support", "by_town", "by_industry", "firms", "targets",
                         "surcharges"]  # fmt: skip
    assert doc["reform"] == {"title": "t", "changes": {"tech_renovation.major_rate": 0.12}}
    assert set(doc["classes"]) == {"above_scale", "below_scale"}
    assert set(doc["by_industry"]) == {"C34 通用设备制造业", "（数据外企业）"}
    json.dumps(doc, ensure_ascii=False)  # plain JSON: money as text with two decimals
    assert all(v.count(".") == 1 and len(v.split(".")[1]) == 2 for v in doc["support"]["reform"].values())


def test_invalid_reform_lists_every_error_and_changes_nothing(simulator):
    before = simulator.baseline.support["2.10"].copy()
    with pytest.raises(ReformError) as caught:
        from_json({"title": "坏", "changes": {"tech_renovation.major_rte": 1, "mujun.quotas_above_scale": "many"}})
    assert len(caught.value.problems) == 2
    with pytest.raises(ReformError):
        simulator.sweep("tech_renovation.major_rate", [Decimal("0.1"), "x"])
    assert (simulator.baseline.support["2.10"] == before).all()


def test_sweep_when_run_gives_each_points_figures_in_order(simulator):
    got = simulator.sweep("tech_renovation.major_rate", [Decimal("0.08"), Decimal("0.10"), Decimal("0.12")])
    assert [p["value"] for p in got] == [Decimal("0.08"), Decimal("0.10"), Decimal("0.12")]
    assert {p["classes"]["above_scale"]["A"] for p in got} == {2}
    quotas = [{"A": a, "B": Decimal("0.80") - a, "C": Decimal("0.15"), "D": Decimal("0.05")} for a in
              (Decimal("0.2"), Decimal("0.3"), Decimal("0.4"))]  # fmt: skip
    swept = simulator.sweep("mujun.quotas_above_scale", quotas)
    assert [p["classes"]["above_scale"]["A"] for p in swept] == [2, 3, 4]
    assert [p["support"]["2.11"] for p in swept] == [(2 * 180_000 + 5 * 150_000 + k * 30_000) * 100 + 15_000_000
                                                     for k in (0, 1, 2)]  # fmt: skip
    assert [p["support"]["2.10"] for p in got] == [48_000_000 * (N + 1), 60_000_000 * (N + 1),
                                                            72_000_000 * (N + 1)]  # fmt: skip


def test_by_town_and_industry_equal_a_per_row_decimal_reference(simulator):
    rates = {"A": Decimal(70), "B": Decimal(50), "C": Decimal(0), "D": Decimal(0)}
    m = from_json({"title": "A 70元", "changes": {"vertical_industry.excess_rate_by_class": rates}})
    c = simulator.compare(m)
    assert c.totals("reform")["2.11"] - c.totals("baseline")["2.11"] == 2 * 3_000 * 10 * 100  # two A firms, 10 元/m²
    doc = simulation.to_json(c, m)
    total = {w: sum((Decimal(int(a)) / 100 for s in (getattr(c, w).support.values()) for a in s), Decimal(0))
             for w in ("baseline", "reform")}  # fmt: skip
    assert sum(Decimal(v["reform"]) for v in doc["by_town"].values()) == total["reform"]
    assert sum(Decimal(v["baseline"]) for v in doc["by_industry"].values()) == total["baseline"]
    assert Decimal(doc["support"]["reform"]["total"]) == total["reform"]


def test_workbook_when_written_holds_the_json_figures_and_native_charts(simulator):
    m = from_json({"title": "技改 12%", "changes": {"tech_renovation.major_rate": Decimal("0.12")}})
    c = simulator.compare(m)
    doc = simulation.to_json(c, m)
    content = simulation_xlsx(doc, simulation.changes_detail(c, m))
    book = openpyxl.load_workbook(io.BytesIO(content))
    rows = {r[0]: r[1:4] for r in book["资金（按条款）"].iter_rows(min_row=2, max_row=4, values_only=True)}
    assert Decimal(str(rows["2.10"][2])) == Decimal(doc["support"]["change"]["2.10"]) / 10_000
    firms = list(book["变化的企业"].iter_rows(min_row=2, values_only=True))
    why = "重大项目按设备投资额的补助比例 10%→12%（第 2.10 条）"
    assert len(firms) == N + 1 and all(row[7] == why for row in firms)
    changes = list(book["参数变化"].iter_rows(min_row=2, values_only=True))
    assert changes[0][1] == "2.10" and changes[0][3] == "10%" and changes[0][4] == "12%"
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert sum(n.startswith("xl/charts/chart") for n in z.namelist()) >= 3


A30 = {"A": Decimal("0.30"), "B": Decimal("0.50"), "C": Decimal("0.15"), "D": Decimal("0.05")}


def test_explain_firm_when_the_quota_moves_it_gives_both_classes_amounts_and_the_change_that_reached_it(simulator):
    m = from_json({"title": "A 30%", "changes": {"mujun.quotas_above_scale": A30}})
    doc = simulator.explain(m, str(CODES[7]))
    b, r = doc["baseline"], doc["reform"]
    assert (b["class"], r["class"]) == ("B", "A") and (b["total"], r["total"]) == ("750000.00", "780000.00")
    assert doc["change"] == "30000.00"
    assert any("A 20%、B 60%" in line for line in b["class_lines"])  # the quotas each side used
    assert any("A 30%、B 50%" in line for line in r["class_lines"]) and r["class_lines"][-3] == "最终类别：A"
    [pb], [pr] = b["projects"], r["projects"]
    assert pb["support"] == {"2.10": "600000.00", "2.11": "150000.00"}
    assert pr["support"] == {"2.10": "600000.00", "2.11": "180000.00"}
    reward = next(o for o in pr["outputs"] if o["variable"] == "vertical_industry_reward")
    assert (
        reward["amount"] == "180000.00"
        and "亩均评价 A 类，奖励标准 60.00 元/m²，计 180,000.00 元" in reward["because"][-1]
    )
    assert [c["path"] for c in doc["changes"]] == ["mujun.quotas_above_scale"]
    unmoved = simulator.explain(m, str(CODES[9]))  # firm 10 stays an A: nothing reaches it
    assert unmoved["change"] == "0.00" and unmoved["changes"] == []


def test_explain_firm_when_the_rate_changes_states_the_rate_used_on_each_side(simulator):
    m = from_json({"title": "技改 12%", "changes": {"tech_renovation.major_rate": Decimal("0.12")}})
    doc = simulator.explain(m, str(CODES[0]), lang="en")
    [pb], [pr] = doc["baseline"]["projects"], doc["reform"]["projects"]
    assert pb["support"]["2.10"] == "600000.00" and pr["support"]["2.10"] == "720000.00"
    assert doc["baseline"]["class_lines"][0].startswith("data year 2023")  # English on request
    assert [c["path"] for c in doc["changes"]] == ["tech_renovation.major_rate"] and doc["change"] == "120000.00"


def test_explain_firm_when_summed_equals_the_simulations_support_of_every_firm(simulator):
    m = from_json({"title": "两项", "changes": {"mujun.quotas_above_scale": A30,
                                               "tech_renovation.major_rate": Decimal("0.11")}})  # fmt: skip
    c = simulator.compare(m)
    for k, code in enumerate(CODES):  # the firm's projects run alone give what the county run gave them
        doc = simulator.explain(m, str(code))
        for which in ("baseline", "reform"):
            assert Decimal(doc[which]["total"]) * 100 == int(c.firm_support[which][k])
    outsider = simulator.explain(m, OUTSIDER)  # not in the data: the class its situation gives, on both sides
    assert outsider["baseline"]["class"] == outsider["reform"]["class"] == "B"
    assert outsider["baseline"]["class_lines"] == [] and outsider["reform"]["total"] == "810000.00"  # 660,000+150,000


def test_explain_firm_when_the_firm_is_nowhere_is_not_found(simulator):
    from tenglong.core.errors import NotFound

    with pytest.raises(NotFound):
        simulator.explain(from_json({"title": "t", "changes": {}}), "91331082MA2AB3CF7N")


def test_simulator_when_asked_to_remember_reuses_the_last_reforms_sides_only():
    snap = simulation.snapshot_of({2022: _year(2022, 0.9), 2023: _year(2023)}, 2023, _situation())
    s = simulation.Simulator.start(snap)
    rates = [from_json({"title": "t", "changes": {"tech_renovation.major_rate": Decimal(r)}}) for r in
             ("0.11", "0.12", "0.13")]  # fmt: skip
    first = s.side(rates[0], remember=True)
    assert s.side(from_json({"title": "again", "changes": {"tech_renovation.major_rate": Decimal("0.110")}}),
                  remember=True) is first  # the same changes (however written): the same side  # fmt: skip
    assert s.side(rates[0]) is not first  # not asked to remember: computed afresh
    s.side(rates[1], remember=True)
    s.side(rates[2], remember=True)  # the oldest falls out
    assert len(s.recent) == simulation.REMEMBERED and s.side(rates[0], remember=True) is not first
