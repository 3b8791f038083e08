"""The calculation contract: requests, periods, validity, missing inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tenglong.core.errors import InvalidInput
from tenglong.services.calculation.contract import calculate, parse_json


def test_calculate_when_year_keyed_request_answers_each_year():
    """A request keyed by year is answered for each year, using that year and the one before."""
    doc = {
        "as_of": "2023-06-01",
        "enterprises": {
            "E": {
                "tax_per_mu": {"2021": 4, "2022": 5, "2023": Decimal("5.0001")},
                "low_efficiency_enterprise": {"2022": None, "2023": None},
            }
        },
    }
    out = calculate(doc)
    assert out["enterprises"]["E"]["low_efficiency_enterprise"] == {"2022": True, "2023": False}
    assert out["explanations"]["enterprises"]["E"]["low_efficiency_enterprise"]["2023"]["status"] == "not_applicable"


def test_calculate_when_outside_validity_says_not_in_force_and_names_the_window():
    """A project applied after 2023-12-31 gets 0 with status not_in_force and the window named."""
    doc = {
        "as_of": "2024-03-01",
        "enterprises": {"E": {}},
        "projects": {
            "P": {
                "enterprise": "E",
                "application_date": "2024-01-01",
                "total_investment": 15000000,
                "equipment_investment": 8000000,
                "tech_renovation_subsidy": None,
            }
        },
    }
    out = calculate(doc)
    assert out["projects"]["P"]["tech_renovation_subsidy"] == 0
    why = out["explanations"]["projects"]["P"]["tech_renovation_subsidy"]
    assert why["status"] == "not_in_force"
    assert "2022-07-16 至 2023-12-31" in why["because"][0]
    assert why["validity"] == {"from": "2022-07-16", "to": "2023-12-31"}


def test_calculate_when_needed_input_missing_refuses_with_every_gap():
    """A requested output whose inputs are absent is refused, naming each missing input and the clause."""
    doc = {
        "as_of": "2023-06-01",
        "enterprises": {"E": {"is_2513_enterprise": True}},
        "projects": {"P": {"enterprise": "E", "tech_renovation_subsidy": None}},
    }
    with pytest.raises(InvalidInput) as exc:
        calculate(doc)
    wheres = {p.where for p in exc.value.problems}
    assert {
        "projects.P.total_investment",
        "projects.P.equipment_investment",
        "enterprises.E.local_contribution_growth",
        "enterprises.E.industrial_equipment_investment",
    } <= wheres
    assert all(p.code == "missing_input" and "2.10" in p.message_zh for p in exc.value.problems)


def test_calculate_when_output_given_as_input_is_refused():
    """Outputs can only be requested; giving a value is an error with an example."""
    with pytest.raises(InvalidInput) as exc:
        calculate(
            {"as_of": "2023-06-01", "land_sales": {"S": {"land_grade": 3, "area_m2": 1, "reserve_price_floor": 5}}}
        )
    assert exc.value.problems[0].code == "not_an_input"


def test_calculate_when_english_requested_explains_in_english():
    """lang=en gives English explanation lines and the clause's English rendering."""
    doc = {
        "as_of": "2023-06-01",
        "land_sales": {
            "S": {
                "land_grade": 10,
                "area_m2": 20000,
                "acquisition_cost": 2000000,
                "priority_project": True,
                "reserve_price_floor": None,
            }
        },
    }
    why = calculate(doc, lang="en")["explanations"]["land_sales"]["S"]["reserve_price_floor"]
    assert why["text_en"] and any("max(70%" in line for line in why["because"])


def test_parse_json_when_text_is_broken_names_line_and_column():
    """Broken JSON is one clear problem with its position."""
    with pytest.raises(InvalidInput) as exc:
        parse_json('{"as_of": "2023-01-01",\n "projects": {')
    assert exc.value.problems[0].code == "invalid_json" and "line 2" in exc.value.problems[0].where


def _project(**values):
    return {
        "as_of": "2023-03-01",
        "enterprises": {"E": {}},
        "projects": {"P": {"enterprise": "E", "application_date": "2023-03-01", **values}},
    }


def test_calculate_when_equipment_above_total_refuses_naming_both_fields():
    """设备 15,000,000 on 项目投资 8,000,000 is refused (not 750,000 元), one problem naming both amounts and fields."""
    with pytest.raises(InvalidInput) as exc:
        calculate(_project(total_investment=8000000, equipment_investment=15000000, tech_renovation_subsidy=None))
    (p,) = exc.value.problems
    assert p.code == "equipment_above_total" and p.where == "projects.P.equipment_investment"
    assert p.context["fields"] == ["projects.P.equipment_investment", "projects.P.total_investment"]
    assert "15,000,000.00 元" in p.message_zh and "8,000,000.00 元" in p.message_zh and "第（十）项" in p.message_zh
    assert "projects.P" not in p.message_zh and "exceeds" in p.message_en


def test_calculate_when_equipment_equals_total_accepts_it():
    """Equipment equal to the total investment is consistent (不超过, inclusive): 8,000,000 → ordinary 400,000 元."""
    out = calculate(_project(total_investment=8000000, equipment_investment=8000000, tech_renovation_subsidy=None))
    assert out["projects"]["P"]["tech_renovation_subsidy"] == 400000


def _growth(growth):
    doc = _project(
        total_investment=8000000,
        equipment_investment=6000000,
        key_industrial_project=True,
        key_project_reward_2513=None,
    )
    doc["enterprises"]["E"] = {
        "is_2513_enterprise": True,
        "local_contribution_growth": growth,
        "industrial_equipment_investment": 6000000,
    }
    return doc


def test_calculate_when_growth_is_5_refuses_it_as_implausible_naming_the_range():
    """A growth of 5 (500 %) is refused — most likely 5 % given as 5 — instead of granting 900,000 元."""
    with pytest.raises(InvalidInput) as exc:
        calculate(_growth(5))
    (p,) = exc.value.problems
    assert p.code == "implausible_value" and p.where == "enterprises.E.local_contribution_growth"
    assert "500%" in p.message_zh and "-100% 至 300%" in p.message_zh and "0.05" in p.message_zh
    assert p.context["assumption"] is True


def test_calculate_when_growth_is_3_accepts_it_at_the_range_limit():
    """300 % (3) is the plausible maximum, inclusive: the reward is granted."""
    assert calculate(_growth(3))["projects"]["P"]["key_project_reward_2513"] == 900000


def test_calculate_when_a_relation_is_keyed_by_year_checks_each_year():
    """Industrial equipment above fixed-asset investment is refused in the year it happens only, with that year."""
    doc = {
        "as_of": "2023-03-01",
        "enterprises": {
            "E": {
                "industrial_equipment_investment": {"2022": 6000000, "2023": 4000000},
                "fixed_asset_investment": {"2022": 5000000, "2023": 5000000},
            }
        },
    }
    with pytest.raises(InvalidInput) as exc:
        calculate(doc)
    assert [(p.code, p.where) for p in exc.value.problems] == [
        ("industrial_equipment_above_fixed_assets", "enterprises.E.industrial_equipment_investment.2022")
    ]


def test_calculate_when_bad_in_several_ways_lists_every_problem_at_once():
    """Ranges and relations are listed with the type errors, all at once, and nothing is computed."""
    doc = _growth(12)
    doc["projects"]["P"].update(equipment_investment=15000000, renovated_floor_area=20000, total_floor_area_after=-1)
    with pytest.raises(InvalidInput) as exc:
        calculate(doc)
    assert sorted(p.code for p in exc.value.problems) == [
        "equipment_above_total",
        "implausible_value",
        "negative_value",
    ]


def test_calculate_when_storey_areas_are_blank_answers_null_with_insufficient_data():
    """The per-storey route with no storey area: reward null, status insufficient_data, “未提供，不能判断” said."""
    out = calculate(
        {
            "as_of": "2023-03-01",
            "enterprises": {"E": {"mujun_class": "A"}},
            "projects": {
                "P": {
                    "enterprise": "E",
                    "zero_land_renovation": True,
                    "self_owned_and_used": True,
                    "land_area": 10000,
                    "plot_ratio_before": 1,
                    "plot_ratio_after": Decimal("1.1"),
                    "renovated_floor_area": 1000,
                    "total_floor_area_after": 20000,
                    "vertical_industry_reward": None,
                }
            },
        }
    )
    why = out["explanations"]["projects"]["P"]["vertical_industry_reward"]
    assert out["projects"]["P"]["vertical_industry_reward"] is None and why["status"] == "insufficient_data"
    assert any(line.startswith("未提供，不能判断：新增4层") for line in why["because"])
