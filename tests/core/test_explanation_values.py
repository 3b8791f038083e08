"""Explanations state the parameter values actually used, never the shipped defaults.

A what-if compares a baseline's explanations with a reform's, so every number,
rate, cap, threshold and class list an explanation states must come from the
parameters passed to the computation, at the date in force for that row.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from tenglong.core import loader, reforms
from tenglong.core.mujun.data import YearData
from tenglong.core.mujun.evaluation import evaluate_years
from tenglong.core.mujun.explain import explain
from tenglong.services.calculation.cases import load_cases, request_of
from tenglong.services.calculation.contract import calculate

PARAMS = loader.parameters()
POLICY = loader.policy()
D = Decimal
CASES = {c["name"]: c for _, c in load_cases() if c.get("errors") is None}

# Parameters of a rule clause that no rule reads: the A.2 targets are compared by the
# evaluation's county figures (core/targets.py). ``test_rules_when_targets_changed_answer_unchanged``
# checks that no rule answer depends on them.
NOT_READ_BY_RULES = ("targets.", "contest.")

Text = str | tuple[str, str]  # the same text in both languages, or (zh, en)


def case(prefix: str) -> dict[str, Any]:
    """The one shipped policy case whose name starts with ``prefix``."""
    found = [c for name, c in CASES.items() if name.startswith(prefix)]
    assert len(found) == 1, (prefix, len(found))
    return found[0]


def states(text: str, value: str) -> bool:
    """``value`` occurs in ``text`` as a whole number (``5%`` is not found in ``15%`` nor ``0.5%``)."""
    return re.search(r"(?<![\d,.])" + re.escape(value) + r"(?!\d)", text) is not None


def pick(t: Text, lang: str) -> str:
    return t if isinstance(t, str) else t[0 if lang == "zh" else 1]


def because(why: dict[str, Any]) -> str:
    """Every computed statement of an explanation: its lines and its assumption notes (not the quoted clause)."""
    return "\n".join(why.get("because", []) + [a["note"] for a in why.get("assumptions", [])])


@dataclass(frozen=True)
class Scenario:
    """One parameter changed in a shipped policy case.

    Attributes:
        case: name (prefix) of the shipped case giving the situation.
        value: the changed value (``reforms.apply`` syntax).
        where: (entity kind, id, output variable) whose value and explanation are checked.
        before / after: that output with the shipped / the changed value.
        shown: texts the explanation states only with the changed value.
        hidden: texts (the default's rendering) it states only with the shipped value.
        also: other changes made in both runs, so that the default's rendering is unique.
        note: (assumption parameter, text) that assumption's note must state under the change.
    """

    case: str
    value: Any
    where: tuple[str, str, str]
    before: Any
    after: Any
    shown: tuple[Text, ...]
    hidden: tuple[Text, ...]
    also: dict[str, Any] = field(default_factory=dict)
    note: tuple[str, Text] | None = None


P, E, L, M, S, C = "projects", "enterprises", "land_transfers", "mergers", "land_sales", "county_years"
TR, VI, SL, AF = "tech_renovation.", "vertical_industry.", "scattered_land.", "ancillary_facilities."
MAJOR, ORDINARY = "公开示例：设备 800万、项目 1500万", "公开示例：设备 300万、项目 400万"
R2513 = "“2513”奖励单独适用"
CLASSES = {"A": True, "B": True, "C": True, "D": False}

SCENARIOS: dict[str, Scenario] = {
    # 2.10
    TR + "major_min_total_investment": Scenario(
        MAJOR,
        16_000_000,
        (P, "P1", "tech_renovation_subsidy"),
        800_000,
        400_000,
        ("16,000,000.00",),
        ("10,000,000.00",),
    ),
    TR + "major_min_equipment_investment": Scenario(
        MAJOR, 9_000_000, (P, "P1", "tech_renovation_subsidy"), 800_000, 400_000, ("9,000,000.00",), ("5,000,000.00",)
    ),
    TR + "major_rate": Scenario(
        MAJOR, D("0.2"), (P, "P1", "tech_renovation_subsidy"), 800_000, 1_600_000, ("20%", "1,600,000.00"), ("10%",)
    ),
    TR + "major_cap_per_project": Scenario(
        "公开示例：设备 3500万、项目 5000万",
        2_500_000,
        (P, "P1", "tech_renovation_subsidy"),
        3_000_000,
        2_500_000,
        ("2,500,000.00",),
        ("3,000,000.00",),
    ),
    TR + "ordinary_min_equipment_investment": Scenario(
        ORDINARY, 3_500_000, (P, "P1", "tech_renovation_subsidy"), 150_000, 0, ("3,500,000.00",), ("2,000,000.00",)
    ),
    TR + "ordinary_rate": Scenario(
        ORDINARY, D("0.07"), (P, "P1", "tech_renovation_subsidy"), 150_000, 210_000, ("7%", "210,000.00"), ("5%",)
    ),
    TR + "ordinary_cap_per_enterprise_year": Scenario(
        "单家企业上限：同年两个普通项目各 120万",
        2_300_000,
        (P, "P2", "tech_renovation_subsidy"),
        800_000,
        1_100_000,
        ("2,300,000.00",),
        ("2,000,000.00",),
        also={TR + "ordinary_min_equipment_investment": 1_900_000},
    ),
    TR + "reward_2513_min_contribution_growth": Scenario(
        R2513, D("0.16"), (P, "P1", "key_project_reward_2513"), 150_000, 0, ("16%",), ("12%",)
    ),
    TR + "reward_2513_min_industrial_equipment_investment": Scenario(
        R2513, 6_500_000, (P, "P1", "key_project_reward_2513"), 150_000, 0, ("6,500,000.00",), ("5,000,000.00",)
    ),
    TR + "reward_2513_rate": Scenario(
        R2513,
        D("0.18"),
        (P, "P1", "key_project_reward_2513"),
        150_000,
        180_000,
        (("× 18%", "18% of"), "180,000.00"),
        (("× 15%", "15% of"),),
    ),
    # 2.11
    VI + "min_plot_ratio_rise": Scenario(
        "两项均满足、容积率超出较大",
        D("0.3"),
        (P, "P1", "vertical_industry_reward"),
        480_000,
        420_000,
        ("30%", "1.3"),
        ("20%", "1.2"),
        also={VI + "min_renovated_share": D("0.15")},
        note=(VI + "excess_area_reading", "1.3"),
    ),
    VI + "min_renovated_share": Scenario(
        "只满足占比条件",
        D("0.22"),
        (P, "P1", "vertical_industry_reward"),
        50_000,
        30_000,
        ("22%",),
        ("20%",),
        also={VI + "min_plot_ratio_rise": D("0.15")},
    ),
    VI + "excess_rate_by_class": Scenario(
        "超出部分 A 类",
        {"A": 65, "B": 50, "C": 0, "D": 0},
        (P, "P1", "vertical_industry_reward"),
        60_000,
        65_000,
        ("65.00",),
        ("60.00",),
    ),
    VI + "storey_rates": Scenario(
        "按层奖励：第 4、5、6 层以上各 1,000 m²",
        {"storey_4": 33, "storey_5": 44, "storey_6_plus": 55},
        (P, "P1", "vertical_industry_reward"),
        120_000,
        132_000,
        ("33.00", "44.00", "55.00"),
        ("30.00", "40.00", "50.00"),
    ),
    VI + "cap_per_project": Scenario(
        "公开示例：B 类、超出部分 25,000 m²",
        1_100_000,
        (P, "P1", "vertical_industry_reward"),
        1_000_000,
        1_100_000,
        ("1,100,000.00",),
        ("1,000,000.00",),
    ),
    VI + "storeys_route_classes": Scenario(
        "按层奖励不限亩均类别",
        {"A": True, "B": True, "C": False, "D": False},
        (P, "P1", "vertical_industry_reward"),
        30_000,
        0,
        (("A、B。", "A and B."),),
        (("A、B、C、D。", "A, B, C and D."),),
        note=(VI + "storeys_route_classes", ("A、B。", "A and B.")),
    ),
    # 2.5
    SL + "max_share_of_original": Scenario(
        "零星地块：原 40 亩、零星恰 8 亩（恰 20%）",
        D("0.15"),
        (P, "P1", "scattered_land_agreement_eligible"),
        True,
        False,
        ("15%",),
        ("20%",),
        also={SL + "min_plot_ratio_rise": D("0.3"), SL + "min_renovated_share": D("0.35")},
    ),
    SL + "max_area_mu": Scenario(
        "零星地块：原 40 亩、零星恰 8 亩（恰 20%）",
        D("7.5"),
        (P, "P1", "scattered_land_agreement_eligible"),
        True,
        False,
        ("7.5000",),
        ("10.0000",),
    ),
    SL + "min_plot_ratio_rise": Scenario(
        "零星地块：容积率 0.3 → 0.36",
        D("0.25"),
        (P, "P1", "scattered_land_agreement_eligible"),
        True,
        False,
        ("25%",),
        ("20%",),
        also={SL + "max_share_of_original": D("0.3"), SL + "min_renovated_share": D("0.35")},
    ),
    SL + "min_renovated_share": Scenario(
        "零星地块：技改建筑面积占比恰 20%",
        D("0.22"),
        (P, "P1", "scattered_land_agreement_eligible"),
        True,
        False,
        ("22%",),
        ("20%",),
        also={SL + "max_share_of_original": D("0.3"), SL + "min_plot_ratio_rise": D("0.15")},
    ),
    # 2.13, 2.15
    "land_supply.min_industrial_share": Scenario(
        "工业用地占比恰 30%", D("0.32"), (C, "Y", "industrial_land_share_ok"), True, False, ("32%",), ("30%",)
    ),
    "land_supply.priority_floor_share": Scenario(
        "公开示例：10 等、20,000 m²、取得成本 200万、优先项目",
        D("0.75"),
        (S, "L1", "reserve_price_floor"),
        2_352_000,
        2_520_000,
        ("75%", "2,520,000.00"),
        ("70%",),
    ),
    "land_supply.minimum_price_by_grade": Scenario(
        "非优先项目：10 等、20,000 m²",
        {**PARAMS["land_supply.minimum_price_by_grade"].last_value(), "10": 170},
        (S, "L1", "reserve_price_floor"),
        3_360_000,
        3_400_000,
        ("170.00",),
        ("168.00",),
    ),
    "special_fund.min_share_of_land_revenue": Scenario(
        "专项经费：土地出让收入 1亿元",
        D("0.006"),
        (C, "Y", "special_fund_minimum"),
        500_000,
        600_000,
        ("0.6%", "600,000.00"),
        ("0.5%",),
    ),
    # 2.7, 2.12
    "land_transfer.split_max_parcels": Scenario(
        "分割：4 宗（超过 3 宗）", 4, (L, "T1", "transfer_allowed"), False, True, ("≤ 4",), ("3",)
    ),
    "land_transfer.split_min_parcel_area_mu": Scenario(
        "分割：最小一宗 9.9999 亩",
        D("9.5"),
        (L, "T1", "transfer_allowed"),
        False,
        True,
        ("9.5000",),
        ("10.0000",),
    ),
    "land_transfer.barred_transferee_classes": Scenario(
        "分割：受让方上一年度 B 类",
        {"A": False, "B": True, "C": False, "D": False, "none": False},
        (L, "T1", "transfer_allowed"),
        True,
        False,
        (("不得为 B 类", "must not be B"),),
        (("C、D", "C or D"),),
    ),
    "pre_registration.max_investment_ratio": Scenario(
        "预告登记：低效工业用地、开发投资 0.249999",
        D("0.2"),
        (L, "T1", "pre_registration_allowed"),
        True,
        False,
        ("20%",),
        ("25%",),
    ),
    "pre_registration.transfer_min_investment_ratio": Scenario(
        "转移登记：开发投资 0.6",
        D("0.65"),
        (L, "T1", "transfer_registration_allowed"),
        True,
        False,
        ("65%",),
        ("25%",),
    ),
    # 2.9
    "merger.pharma_reward_per_mu": Scenario(
        "公开示例：医化上市公司",
        150_000,
        (M, "M1", "pharma_acquisition_reward_cap"),
        7_200_000,
        6_000_000,
        ("150,000.00",),
        ("180,000.00",),
    ),
    "merger.quota_acquirer_classes": Scenario(
        "兼并方上一年度 C 类",
        {**CLASSES, "none": False},
        (M, "M1", "quotas_transfer_to_merged"),
        False,
        True,
        (("A、B、C", "A, B or C"),),
        (("A、B 类", "A or B"),),
    ),
    # 2.8
    "class_override.force_a_min_investment": Scenario(
        "建设期内、按排名为 D、固定资产投资 1.5亿",
        160_000_000,
        (E, "E1", "mujun_class"),
        "A",
        "C",
        ("160,000,000.00",),
        ("100,000,000.00",),
    ),
    "class_override.not_d_min_investment": Scenario(
        "建设期内、固定资产投资 99,999,999.99 元、按排名为 D",
        110_000_000,
        (E, "E1", "mujun_class"),
        "C",
        "D",
        ("110,000,000.00",),
        ("30,000,000.00",),
    ),
    # A.2
    "low_efficiency.low_efficiency_max_tax_per_mu": Scenario(
        "低效企业：由税金计算，税金 100万元 / 30 亩",
        3,
        (E, "E1", "low_efficiency_enterprise"),
        True,
        False,
        ("3.0000",),
        ("5.0000",),
    ),
    "low_efficiency.billion_min_revenue": Scenario(
        "亿元企业：营收 2亿",
        250_000_000,
        (E, "E1", "billion_yuan_low_tax_enterprise"),
        True,
        False,
        ("250,000,000.00",),
        ("100,000,000.00",),
        note=("low_efficiency.billion_min_revenue", "250,000,000.00"),
    ),
    "low_efficiency.billion_max_tax_per_mu": Scenario(
        "亿元企业：营收 2亿",
        D("4.5"),
        (E, "E1", "billion_yuan_low_tax_enterprise"),
        True,
        False,
        ("4.5000",),
        ("10.0000",),
    ),
    "low_efficiency.consecutive_years": Scenario(
        "低效企业：亩均税收 2022 年 5、2023 年 5",
        3,
        (E, "E1", "low_efficiency_enterprise"),
        True,
        False,
        ("2021", ("连续 3 年", "3 consecutive years")),
        (),
    ),
    # 2.14
    AF + "base_land_share": Scenario(
        "不在重点发展保租房城区、园区内存量项目",
        D("0.08"),
        (P, "P1", "ancillary_land_share_cap"),
        0.07,
        0.08,
        ("8%",),
        ("7%",),
    ),
    AF + "raised_land_share": Scenario(
        "重点发展保租房城区、产业园区内存量项目",
        D("0.16"),
        (P, "P1", "ancillary_land_share_cap"),
        0.15,
        0.16,
        ("16%",),
        ("15%",),
    ),
    AF + "raised_floor_share": Scenario(
        "重点发展保租房城区、产业园区内存量项目",
        D("0.35"),
        (P, "P1", "ancillary_floor_share_cap"),
        0.3,
        0.35,
        ("35%",),
        ("30%",),
    ),
    AF + "outside_park_min_land_mu": Scenario(
        "园区外、B 类龙头骨干企业、存量项目 80 亩",
        85,
        (P, "P1", "ancillary_land_share_cap"),
        0.15,
        0.07,
        ("85.0000",),
        ("50",),
    ),
    AF + "outside_park_classes": Scenario(
        "园区外、C 类龙头骨干企业、存量项目 80 亩",
        CLASSES,
        (P, "P1", "ancillary_land_share_cap"),
        0.07,
        0.15,
        (("A、B、C", "A, B or C"),),
        (("A、B 类", "A or B"),),
    ),
    # 2.3, 2.4
    "planning_approval.phased_min_buildings": Scenario(
        "加层的零增地技改 3 幢厂房",
        4,
        (P, "P1", "phased_approval_allowed"),
        True,
        False,
        ("4",),
        ("2",),
        note=("planning_approval.phased_min_buildings", "4"),
    ),
    "building_density.standard_land_max_density": Scenario(
        "以标准地供地的新建工业项目",
        D("0.65"),
        (P, "P1", "max_building_density"),
        0.6,
        0.65,
        ("65%",),
        ("60%",),
    ),
}


def rule_clauses() -> set[str]:
    """Every clause an output variable of the contract cites (the clauses the rules implement)."""
    return {v.clause for v in loader.variables() if v.role == "output" and v.clause}


def stated_parameters() -> set[str]:
    """Parameters of those clauses holding numbers or class lists: what an explanation can state."""
    out = set()
    for p in PARAMS:
        if p.clause not in rule_clauses() or p.path.startswith(("in_force.", *NOT_READ_BY_RULES)):
            continue
        value = p.last_value()
        entries = list(value.values()) if p.kind == "table" else [value]
        numbers = all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in entries)
        if (p.kind in ("number", "table") and numbers) or (p.kind == "table" and all(type(v) is bool for v in entries)):
            out.add(p.path)
    return out


def answer(doc: dict[str, Any], params, lang: str, where: tuple[str, str, str]) -> tuple[Any, dict[str, Any]]:
    """The value and the explanation of one output."""
    out = calculate(copy.deepcopy(doc), lang=lang, params=params)
    kind, eid, var = where
    return out[kind][eid][var], out["explanations"][kind][eid][var]


def test_scenarios_when_rule_parameters_enumerated_cover_every_one():
    """Every number and class list of a rule clause (from loader.parameters()) has a scenario below."""
    assert stated_parameters() == set(SCENARIOS)


def test_rules_when_targets_changed_answer_unchanged():
    """No rule reads the A.2 targets or the contest's method, so changing their numbers changes no shipped case's
    values or explanations."""
    changes = {
        p.path: p.last_value() * 2 for p in PARAMS if p.path.startswith(NOT_READ_BY_RULES) and p.kind == "number"
    }
    assert changes
    moved = reforms.apply(changes, PARAMS)
    for name, c in CASES.items():
        assert calculate(request_of(c), params=moved) == calculate(request_of(c)), name


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", sorted(SCENARIOS))
def test_explanation_when_parameter_changed_states_the_value_used(path, lang):
    """With one parameter changed the answer follows it and the explanation states it, not the default."""
    s = SCENARIOS[path]
    doc = request_of(case(s.case))
    base = reforms.apply(s.also, PARAMS) if s.also else PARAMS
    moved = reforms.apply({**s.also, path: s.value}, PARAMS)
    value_before, why_before = answer(doc, base, lang, s.where)
    value_after, why_after = answer(doc, moved, lang, s.where)
    assert (value_before, value_after) == (s.before, s.after)
    old, new = because(why_before), because(why_after)
    for t in s.shown:
        assert states(new, pick(t, lang)) and not states(old, pick(t, lang)), (pick(t, lang), old, new)
    for t in s.hidden:
        assert states(old, pick(t, lang)) and not states(new, pick(t, lang)), (pick(t, lang), old, new)
    if s.note:
        notes = {a["parameter"]: a["note"] for a in why_after.get("assumptions", [])}
        assert states(notes[s.note[0]], pick(s.note[1], lang)), notes


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_explanations_when_rate_changes_between_rows_dates_each_row_states_its_own(lang):
    """Two projects on either side of a dated change of the major rate each state the rate of their own date."""
    doc = request_of(case(MAJOR))
    doc["as_of"] = "2023-09-01"
    doc["projects"]["P2"] = {**doc["projects"]["P1"], "application_date": "2023-08-01"}
    moved = reforms.apply({TR + "major_rate": {dt.date(2023, 7, 1): D("0.2")}}, PARAMS)
    out = calculate(doc, lang=lang, params=moved)
    assert (out[P]["P1"]["tech_renovation_subsidy"], out[P]["P2"]["tech_renovation_subsidy"]) == (800_000, 1_600_000)
    first, second = (because(out["explanations"][P][k]["tech_renovation_subsidy"]) for k in ("P1", "P2"))
    assert states(first, "10%") and not states(first, "20%")
    assert states(second, "20%") and not states(second, "10%")


def test_explanation_when_reform_ends_clause_early_names_the_window_used():
    """A reform ending 2.10 on 2022-12-31 makes a 2023 project not in force, and the window named is the reform's."""
    doc = request_of(case(MAJOR))
    moved = reforms.apply({"in_force.2.10": {dt.date(2023, 1, 1): False}}, PARAMS)
    out = calculate(doc, params=moved)
    why = out["explanations"][P]["P1"]["tech_renovation_subsidy"]
    assert out[P]["P1"]["tech_renovation_subsidy"] == 0 and why["status"] == "not_in_force"
    assert "2022-07-16 至 2022-12-31" in why["because"][0] and "2023-12-31" not in why["because"][0]
    assert why["validity"] == {"from": "2022-07-16", "to": "2022-12-31"}


def test_transfer_violations_when_limits_changed_messages_state_them():
    """The 2.7 violation messages (the output and the explanation) name the parcel limits and classes used."""
    doc = request_of(case("分割：全部条件均不满足"))
    changes = {
        "land_transfer.split_max_parcels": 2,
        "land_transfer.split_min_parcel_area_mu": 12,
        "land_transfer.barred_transferee_classes": {"A": False, "B": False, "C": False, "D": True, "none": False},
    }
    for lang in ("zh", "en"):
        out = calculate(copy.deepcopy(doc), lang=lang, params=reforms.apply(changes, PARAMS))
        items = {v["code"]: v for v in out[L]["T1"]["transfer_violations"]}
        messages = [
            items[c]["message" if lang == "zh" else "message_en"] for c in ("too_many_parcels", "parcel_too_small")
        ]
        messages.append(items["transferee_class_c_or_d"]["message" if lang == "zh" else "message_en"])
        line = because(out["explanations"][L]["T1"]["transfer_allowed"])
        for text in (" ".join(messages), line):
            assert states(text, "2") and states(text, "12") and not states(text, "3") and not states(text, "10")
            assert pick(("C、D", "C or D"), lang) not in text


# The 亩均 evaluation: one county, two data years (D streaks and the A.2 flags need the year before).

W = 10_000.0


def firm(code: str, tax_wan: float, **extra: Any) -> dict[str, Any]:
    """A 规上 firm on 10 亩 paying ``tax_wan`` 万元 of tax."""
    row = dict(
        credit_code=code,
        above_scale=True,
        industry="C3410",
        land_area_mu=10.0,
        tax_paid=tax_wan * W,
        value_added=500 * W,
        revenue=5e7,
        rd_expense=1e6,
        energy_tce=200.0,
        emission_equivalent_t=1.0,
        employees=50.0,
        electricity_kwh=np.nan,
        carbon_emission_t=np.nan,
        fixed_asset_investment=np.nan,
        in_construction_period=False,
        veto="",
    )
    row.update(extra)
    return row


def county(year: int) -> YearData:
    """30 ranked firms (F000 best … F029 worst), plus a vetoed, a building, a low-tax building and a small firm."""
    rows = [firm(f"F{k:03d}", 100 - k) for k in range(30)]
    rows[0].update(industry="C3510", carbon_emission_t=325.0)  # alone in C35: L = 0.65 t/万元, K = 1
    rows += [
        firm("VETO", 200, veto="falsified_data"),
        firm("BUILD", 20, in_construction_period=True, fixed_asset_investment=1.5e8),
        firm("BUILD2", 45, in_construction_period=True, fixed_asset_investment=5e7, energy_tce=380.0),
        firm("SMALL", 0, above_scale=False, land_area_mu=3.5, tax_paid=20 * W, electricity_kwh=100 * W),
    ]
    keys = [k for k in rows[0] if k not in ("credit_code", "above_scale", "industry", "veto", "in_construction_period")]
    cols: dict[str, np.ndarray] = {k: np.array([r[k] for r in rows], dtype=float) for k in keys}
    for k in ("credit_code", "industry", "veto"):
        cols[k] = np.array([r[k] for r in rows])
    for k in ("above_scale", "in_construction_period"):
        cols[k] = np.array([r[k] for r in rows], dtype=bool)
    return YearData.from_columns(year, cols)


@dataclass(frozen=True)
class MethodScenario:
    """A changed evaluation method and what one firm's 2023 result and explanation must show.

    ``shown`` / ``hidden`` are as in ``Scenario``; ``never`` are renderings of a default that the
    explanation must not state in either run (values a ``Result`` does not carry, such as the 2.8
    and A.2 thresholds, are named by their parameter instead).
    """

    changes: dict[str, Any]
    firm: str
    result: str  # an attribute of the Result, e.g. ``relief``
    before: Any
    after: Any
    shown: tuple[Text, ...] = ()
    hidden: tuple[Text, ...] = ()
    never: tuple[Text, ...] = ()
    also: dict[str, Any] = field(default_factory=dict)


MU = "mujun."
SCORE_DEFAULT = pytest.approx(105.528, abs=1e-9)  # F000, weights 30/20/20/10/10/10, 3 decimals
SCORE_WEIGHTS = pytest.approx(106.358, abs=1e-9)  # weights 35/15/20/10/10/10
SCORE_2_DECIMALS = pytest.approx(105.53, abs=1e-9)
CUTS = {"1": D("0.6"), "2": D("0.8"), "3": D("1.2"), "4": D("2.0")}
WEIGHTS = {
    "tax_per_mu": 35,
    "value_added_per_mu": 15,
    "value_added_per_energy": 20,
    "value_added_per_emission": 10,
    "labor_productivity": 10,
    "rd_intensity": 10,
}
METHOD_SCENARIOS: dict[str, MethodScenario] = {
    "quotas": MethodScenario(
        {MU + "quotas_above_scale": {"A": D("0.25"), "B": D("0.55"), "C": D("0.15"), "D": D("0.05")}},
        "F007",
        "final",
        "B",
        "A",
        shown=("A 25%", "B 55%"),
        hidden=("A 20%", "B 60%"),
    ),
    "weights": MethodScenario(
        {MU + "weights_above_scale": WEIGHTS},
        "F000",
        "score",
        SCORE_DEFAULT,
        SCORE_WEIGHTS,
        shown=(("权重 35", "weight 35"), ("权重 15", "weight 15")),
        hidden=(("权重 30", "weight 30"),),
    ),
    "score_decimals": MethodScenario(
        {MU + "score_decimals": 2},
        "F000",
        "score",
        SCORE_DEFAULT,
        SCORE_2_DECIMALS,
        shown=(("保留 2 位", "2 decimals"),),
        hidden=(("保留 3 位", "3 decimals"),),
    ),
    "relief": MethodScenario(
        {MU + "land_use_tax_relief": {"A": D("0.9"), "B": D("0.7"), "C": 0, "D": 0}},
        "F000",
        "relief",
        1.0,
        0.9,
        shown=("90%",),
        hidden=("100%",),
    ),
    "surcharge": MethodScenario(
        {MU + "electricity_surcharge": {"A": 0, "B": 0, "C": 0, "D": D("0.35")}},
        "F029",
        "surcharge",
        0.3,
        0.35,
        shown=("0.35",),
        hidden=("0.30",),
    ),
    "persistent_years": MethodScenario(
        {MU + "persistent_d_years": 2},
        "F029",
        "surcharge",
        0.3,
        0.4,
        shown=(("2 年以上", "2 or more"),),
        hidden=(("3 年以上", "3 or more"),),
    ),
    "persistent_surcharge": MethodScenario(
        {MU + "electricity_surcharge_persistent_d": D("0.45")},
        "F029",
        "surcharge",
        0.4,
        0.45,
        shown=("0.45",),
        hidden=("0.40",),
        also={MU + "persistent_d_years": 2},
    ),
    "carbon_low": MethodScenario(
        {MU + "carbon_level_low_max": D("0.7")},
        "F000",
        "carbon_level",
        2,
        1,
        shown=("0.7",),
        hidden=("0.6",),
        also={MU + "carbon_grade_cuts": {**CUTS, "1": D("0.55")}},
    ),
    "carbon_medium": MethodScenario(
        {MU + "carbon_level_medium_max": D("0.62")},
        "F000",
        "carbon_level",
        2,
        3,
        shown=("0.62",),
        hidden=("2.0",),
        also={MU + "carbon_grade_cuts": {**CUTS, "4": D("2.1")}},
    ),
    "carbon_cuts": MethodScenario(
        {MU + "carbon_grade_cuts": {"1": D("0.5"), "2": D("0.9"), "3": D("0.95"), "4": D("2.2")}},
        "F000",
        "carbon_grade",
        3,
        4,
        shown=("0.95", "2.2"),
        hidden=("0.8", "1.2"),
    ),
    "below_min_land": MethodScenario(
        {MU + "below_scale_min_land_mu": 4}, "SMALL", "evaluated", True, False, shown=("4.0000",), hidden=("3.0000",)
    ),
    "veto_outside_quota": MethodScenario(
        {MU + "veto_outside_quota": False},
        "VETO",
        "rank",
        0,
        1,
        shown=(("仍参与排名", "inside the ranking"),),
        hidden=(("不参与排名", "outside the ranking"),),
    ),
    "hcle_ratio": MethodScenario(
        {MU + "hcle_energy_ratio": D("0.55")}, "BUILD2", "candidate", False, True, shown=("55%",), never=("50%",)
    ),
    "force_a": MethodScenario(
        {"class_override.force_a_min_investment": 120_000_000},
        "BUILD",
        "final",
        "A",
        "A",
        shown=("120,000,000",),
        hidden=("100,000,000",),
    ),
    "not_d": MethodScenario(
        {"class_override.not_d_min_investment": 40_000_000},
        "BUILD2",
        "final",
        "C",
        "C",
        shown=("40,000,000",),
        hidden=("30,000,000",),
    ),
    "low_efficiency": MethodScenario(
        {"low_efficiency.low_efficiency_max_tax_per_mu": D("7.5")},
        "F029",
        "low_efficiency",
        False,
        True,
        shown=(("低效企业", "low-efficiency firm"), ("7.5 万元/亩", "at most 7.5")),
    ),
    "billion_low_tax": MethodScenario(
        {"low_efficiency.billion_min_revenue": 40_000_000, "low_efficiency.billion_max_tax_per_mu": 8},
        "F029",
        "billion_low_tax",
        False,
        True,
        shown=(("亿元企业", "100-million-yuan firm"), "40,000,000", ("8 万元/亩", "at most 8")),
    ),
}


def evaluated(params) -> Any:
    """The 2023 result of the county (2022 evaluated first)."""
    return evaluate_years({2022: county(2022), 2023: county(2023)}, params, POLICY)[2023]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(METHOD_SCENARIOS))
def test_evaluation_explain_when_method_changed_states_the_method_used(name, lang):
    """With a changed method the firm's result follows it and its explanation states that method, not the default."""
    s = METHOD_SCENARIOS[name]
    base = reforms.apply(s.also, PARAMS) if s.also else PARAMS
    moved = reforms.apply({**s.also, **s.changes}, PARAMS)
    r0, r1 = evaluated(base), evaluated(moved)
    i = r0.index(s.firm)
    assert (getattr(r0, s.result)[i], getattr(r1, s.result)[i]) == (s.before, s.after)
    old, new = "\n".join(explain(r0, i, lang)), "\n".join(explain(r1, i, lang))
    for t in s.shown:
        assert states(new, pick(t, lang)) and not states(old, pick(t, lang)), (pick(t, lang), old, new)
    for t in s.hidden:
        assert states(old, pick(t, lang)) and not states(new, pick(t, lang)), (pick(t, lang), old, new)
    for t in s.never:
        assert not states(old, pick(t, lang)) and not states(new, pick(t, lang)), (pick(t, lang), old, new)
