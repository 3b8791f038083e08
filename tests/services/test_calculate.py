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
