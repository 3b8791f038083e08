"""The contract reader's checks beyond types (plausible ranges, relations between inputs) and the engine's answer to a
blank (insufficient_data, "未提供，不能判断"), at the core: every adapter reads through these.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tenglong.core import loader
from tenglong.core.boundary import boundary
from tenglong.core.errors import InvalidInput
from tenglong.core.rules._common import status
from tenglong.core.situation import human, read_situation
from tenglong.core.trace import APPLIED, INSUFFICIENT_DATA, NOT_APPLICABLE, NOT_IN_FORCE, STATUS_NAMES, threshold_check

REG = loader.variables()


def _codes(doc) -> list[tuple[str, str]]:
    try:
        read_situation(doc, REG)
    except InvalidInput as exc:
        return [(p.code, p.where) for p in exc.problems]
    return []


def _land(m2, mu) -> dict:
    return {"as_of": "2023-03-01", "projects": {"P": {"land_area": m2, "land_area_mu": mu}}}


def test_read_situation_when_land_areas_agree_within_one_percent_accepts_them():
    """40 亩 is 26,666.67 m²; 1 % more (26,933.33 m²) is still the same land."""
    assert _codes(_land(Decimal("26666.67"), 40)) == [] and _codes(_land(Decimal("26933.33"), 40)) == []


def test_read_situation_when_land_areas_differ_by_more_than_one_percent_refuses_them():
    """40 m² against 40 亩 (亩 typed as m²), or 27,000 m² (1.25 % off), is refused as two units disagreeing."""
    assert _codes(_land(40, 40)) == [("land_area_units_disagree", "projects.P.land_area")]
    assert _codes(_land(27000, 40)) == [("land_area_units_disagree", "projects.P.land_area")]


def test_read_situation_when_one_side_of_a_relation_is_absent_does_not_check_it():
    """Equipment without a total investment is not compared with anything (a missing input is the rule's to say)."""
    assert _codes({"as_of": "2023-03-01", "projects": {"P": {"equipment_investment": 15000000}}}) == []


def test_read_situation_when_storey_areas_together_exceed_the_total_after_refuses_at_the_first_given():
    """7,000 m² on storeys 5 and 6+ over a total after of 10,000 m²: refused at the first storey given (storey 5)."""
    doc = {
        "as_of": "2023-03-01",
        "projects": {
            "P": {
                "new_floor_area_storey_5": 7000,
                "new_floor_area_storey_6_plus": 7000,
                "total_floor_area_after": 10000,
            }
        },
    }
    assert _codes(doc) == [("new_storeys_above_total_floor_area", "projects.P.new_floor_area_storey_5")]
    doc["projects"]["P"]["total_floor_area_after"] = 14000
    assert _codes(doc) == []


def test_read_situation_when_a_value_fails_its_type_skips_its_relations():
    """A negative equipment investment is reported once (negative_value), not also as a broken relation."""
    doc = {"as_of": "2023-03-01", "projects": {"P": {"equipment_investment": -1, "total_investment": -2}}}
    assert sorted(c for c, _ in _codes(doc)) == ["negative_value", "negative_value"]


def test_plausible_ranges_when_declared_are_assumptions_with_notes():
    """Every plausible range is flagged as ours and explains itself in both languages (docs/readings.md lists them)."""
    ranges = [v for v in REG if v.plausible]
    assert {v.name for v in ranges} >= {"local_contribution_growth", "total_investment", "plot_ratio_after"}
    assert all(v.plausible.assumption and v.plausible.note_zh and v.plausible.note_en for v in ranges)


def test_relations_when_declared_name_existing_inputs_of_their_entity():
    """Each relation compares inputs of one entity, with a known operator and both texts."""
    for r in REG.relations():
        for name in (*r.left, r.right):
            assert REG.get(r.entity, name) is not None and REG[(r.entity, name)].is_input, (r.code, name)
        assert r.op in ("<=", "~=") and r.zh and r.en


@pytest.mark.parametrize(
    ("entity", "name", "scaled", "zh"),
    [
        ("projects", "total_investment", 1500000000, "15,000,000.00 元（1,500 万元）"),
        ("enterprises", "local_contribution_growth", -50000, "-5%"),
        ("projects", "land_area_mu", 400000, "40 亩"),
        ("projects", "plot_ratio_before", 15000, "1.5"),
    ],
)
def test_human_when_shown_names_the_unit(entity, name, scaled, zh):
    """Values in messages read with their unit: money in 元 and 万元, a ratio as a percentage."""
    assert human(REG[(entity, name)], scaled) == zh


def test_threshold_check_when_input_not_given_says_so_instead_of_judging_0():
    """A blank input's line says “未提供，不能判断” with the test it would decide, never “不满足 … 0”."""
    c = threshold_check(
        "g",
        "地方经济发展贡献环比增长",
        "growth",
        np.array([0, 150000]),
        6,
        "%",
        120000,
        boundary("以上"),
        np.array([False, True]),
        given=np.array([False, True]),
    )
    assert c.render(0, "zh") == "未提供，不能判断：地方经济发展贡献环比增长（须 ≥ 12%，以上，含本数）"
    assert c.render(1, "zh").startswith("满足：地方经济发展贡献环比增长 15%")


def test_status_when_an_input_is_missing_is_insufficient_data_unless_the_clause_lapsed():
    """Unknown rows are insufficient_data; outside validity not_in_force wins; the name is in the contract."""
    live = np.array([True, True, True, False])
    applies = np.array([True, False, False, False])
    unknown = np.array([False, False, True, True])
    assert status(live, applies, unknown).tolist() == [APPLIED, NOT_APPLICABLE, INSUFFICIENT_DATA, NOT_IN_FORCE]
    assert STATUS_NAMES[INSUFFICIENT_DATA] == "insufficient_data"
