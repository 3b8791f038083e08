"""The vectorised rules agree with the per-row Decimal reference to the 分 (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenglong.core import loader
from tenglong.reference import rules as ref
from tenglong.services.calculation.contract import calculate

PARAMS = loader.parameters()
FEN = Decimal("0.01")


def amounts(edges: list[int]) -> st.SearchStrategy[Decimal]:
    """Money in 元 with 2 decimals: random, and every edge ± 1 分."""
    near = [
        Decimal(e) + d for e in edges for d in (Decimal("-0.01"), Decimal(0), Decimal("0.01")) if Decimal(e) + d >= 0
    ]
    rnd = st.integers(min_value=0, max_value=80_000_000_00).map(lambda f: Decimal(f) * FEN)
    return st.one_of(st.sampled_from(near), rnd)


DAYS = st.one_of(
    st.sampled_from([dt.date(2022, 7, 15), dt.date(2022, 7, 16), dt.date(2023, 12, 31), dt.date(2024, 1, 1)]),
    st.dates(dt.date(2022, 1, 1), dt.date(2024, 6, 30)),
)
EQUIPMENT = amounts([2_000_000, 5_000_000, 30_000_000, 40_000_000])
TOTAL = amounts([10_000_000])


@st.composite
def tech_situations(draw):
    n_ent = draw(st.integers(1, 3))
    enterprises = {}
    for k in range(n_ent):
        enterprises[f"E{k}"] = {
            "mujun_class": draw(st.sampled_from("ABCD")),
            "is_2513_enterprise": draw(st.booleans()),
            "local_contribution_growth": draw(
                st.sampled_from([Decimal("0.119999"), Decimal("0.12"), Decimal("0.3"), Decimal("-0.05")])
            ),
            "industrial_equipment_investment": draw(amounts([5_000_000])),
        }
    projects = {}
    for k in range(draw(st.integers(1, 8))):
        equipment = draw(EQUIPMENT)
        projects[f"P{k:02d}"] = {
            "enterprise": f"E{draw(st.integers(0, n_ent - 1))}",
            "application_date": draw(DAYS).isoformat(),
            "total_investment": max(draw(TOTAL), equipment),  # equipment is part of the total (relation)
            "equipment_investment": equipment,
            "traditional_industry": draw(st.booleans()),
            "key_industrial_project": draw(st.booleans()),
        }
    return enterprises, projects


def _dec(x) -> Decimal:
    return Decimal(repr(x))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tech_situations())
def test_tech_renovation_when_random_projects_matches_reference(sit):
    """2.10 tiers, subsidies after the enterprise cap, and 2513 rewards agree with Decimal."""
    enterprises, projects = sit
    doc = {
        "as_of": "2023-06-01",
        "enterprises": enterprises,
        "projects": {
            k: {**v, "tech_renovation_tier": None, "tech_renovation_subsidy": None, "key_project_reward_2513": None}
            for k, v in projects.items()
        },
    }
    got = calculate(doc, explain=False)["projects"]
    rows = [{"id": k, **v, "day": dt.date.fromisoformat(v["application_date"])} for k, v in projects.items()]
    want = ref.tech_renovation(rows, enterprises, PARAMS)
    for k in projects:
        assert got[k]["tech_renovation_tier"] == want[k]["tech_renovation_tier"], k
        assert _dec(got[k]["tech_renovation_subsidy"]) == want[k]["tech_renovation_subsidy"], (k, got[k], want[k])
        assert _dec(got[k]["key_project_reward_2513"]) == want[k]["key_project_reward_2513"], k


RATIOS = st.one_of(
    st.sampled_from([Decimal("0.7"), Decimal("0.84"), Decimal("0.8401"), Decimal("1"), Decimal("1.2"), Decimal("0")]),
    st.integers(0, 60000).map(lambda i: Decimal(i) / 10000),
)
AREAS = st.one_of(
    st.sampled_from([Decimal("0"), Decimal("10000"), Decimal("2000"), Decimal("2000.01")]),
    st.integers(0, 5_000_000).map(lambda i: Decimal(i) / 100),
)


@settings(max_examples=300, deadline=None)
@given(
    cls=st.sampled_from("ABCD"),
    zero=st.booleans(),
    own=st.booleans(),
    before=RATIOS,
    after=RATIOS,
    land=AREAS,
    ren=AREAS,
    total=AREAS,
    s4=AREAS,
    s5=AREAS,
    s6=AREAS,
    day=DAYS,
)
def test_vertical_industry_when_random_project_matches_reference(
    cls, zero, own, before, after, land, ren, total, s4, s5, s6, day
):
    """2.11 route and reward (both routes, the cap, every class) agree with Decimal."""
    before, after = sorted((before, after))  # the inputs keep their relations (variables.yaml)
    total = max(total, ren, s4 + s5 + s6)
    p = {
        "zero_land_renovation": zero,
        "self_owned_and_used": own,
        "plot_ratio_before": before,
        "plot_ratio_after": after,
        "land_area": land,
        "renovated_floor_area": ren,
        "total_floor_area_after": total,
        "new_floor_area_storey_4": s4,
        "new_floor_area_storey_5": s5,
        "new_floor_area_storey_6_plus": s6,
    }
    doc = {
        "as_of": "2023-06-01",
        "enterprises": {"E": {"mujun_class": cls}},
        "projects": {
            "P": {
                "enterprise": "E",
                "application_date": day.isoformat(),
                **p,
                "vertical_industry_route": None,
                "vertical_industry_reward": None,
            }
        },
    }
    got = calculate(doc, explain=False)["projects"]["P"]
    want = ref.vertical_industry({**p, "day": day}, cls, PARAMS)
    assert got["vertical_industry_route"] == want["vertical_industry_route"]
    assert _dec(got["vertical_industry_reward"]) == want["vertical_industry_reward"]


MU = st.one_of(
    st.sampled_from([Decimal("10"), Decimal("9.9999"), Decimal("10.0001"), Decimal("50")]),
    st.integers(0, 2_000_000).map(lambda i: Decimal(i) / 10000),
)


@settings(max_examples=200, deadline=None)
@given(
    original=MU,
    scattered=MU,
    before=RATIOS,
    after=RATIOS,
    ren=AREAS,
    total=AREAS,
    zero=st.booleans(),
    unchanged=st.booleans(),
    own=st.booleans(),
    premium=amounts([0]),
    fee=amounts([0]),
    day=DAYS,
)
def test_scattered_land_and_fee_waiver_when_random_project_match_reference(
    original, scattered, before, after, ren, total, zero, unchanged, own, premium, fee, day
):
    """2.5 eligibility (inclusive bounds) and the 2.6 waiver agree with Decimal."""
    before, after = sorted((before, after))  # the inputs keep their relations (variables.yaml)
    total = max(total, ren)
    p = {
        "zero_land_renovation": zero,
        "original_land_area_mu": original,
        "scattered_land_area_mu": scattered,
        "plot_ratio_before": before,
        "plot_ratio_after": after,
        "renovated_floor_area": ren,
        "total_floor_area_after": total,
        "land_use_unchanged": unchanged,
        "own_industrial_use": own,
        "land_premium_due": premium,
        "infrastructure_fee_due": fee,
    }
    doc = {
        "as_of": "2023-06-01",
        "enterprises": {"E": {}},
        "projects": {
            "P": {
                "enterprise": "E",
                "application_date": day.isoformat(),
                **p,
                "scattered_land_agreement_eligible": None,
                "fee_waiver_eligible": None,
                "fees_waived": None,
            }
        },
    }
    got = calculate(doc, explain=False)["projects"]["P"]
    assert got["scattered_land_agreement_eligible"] == ref.scattered_land({**p, "day": day}, PARAMS)
    want = ref.fee_waiver({**p, "day": day}, PARAMS)
    assert got["fee_waiver_eligible"] == want["fee_waiver_eligible"]
    assert _dec(got["fees_waived"]) == want["fees_waived"]


@settings(max_examples=200, deadline=None)
@given(
    grade=st.integers(1, 15),
    area=AREAS,
    cost=amounts([2_000_000]),
    priority=st.booleans(),
    acquired=MU,
    cls=st.sampled_from(["A", "B", "C", "D", "none"]),
    flags=st.lists(st.booleans(), min_size=5, max_size=5),
    revenue=amounts([1_000_000]),
    day=DAYS,
)
def test_money_of_land_and_mergers_when_random_matches_reference(
    grade, area, cost, priority, acquired, cls, flags, revenue, day
):
    """2.9 reward cap, 2.13 reserve-price floor and 2.15 special fund agree with Decimal."""
    sale = {"land_grade": grade, "area_m2": area, "acquisition_cost": cost, "priority_project": priority}
    m = {
        "acquirer_mujun_class_last_year": cls,
        "target_two_high_one_low": flags[0],
        "registered_and_taxed_locally_after": flags[1],
        "acquirer_listed_pharma": flags[2],
        "target_pharma": flags[3],
        "target_in_taizhou_bay_zone": flags[4],
        "acquired_land_area_mu": acquired,
        "application_date": day.isoformat(),
    }
    doc = {
        "as_of": day.isoformat(),
        "land_sales": {"S": {**sale, "reserve_price_floor": None}},
        "mergers": {"M": {**m, "quotas_transfer_to_merged": None, "pharma_acquisition_reward_cap": None}},
        "county_years": {"Y": {"land_transfer_revenue": revenue, "special_fund_minimum": None}},
    }
    got = calculate(doc, explain=False)
    assert _dec(got["land_sales"]["S"]["reserve_price_floor"]) == ref.reserve_price_floor({**sale, "day": day}, PARAMS)
    want = ref.merger({**m, "day": day}, PARAMS)
    assert got["mergers"]["M"]["quotas_transfer_to_merged"] == want["quotas_transfer_to_merged"]
    assert _dec(got["mergers"]["M"]["pharma_acquisition_reward_cap"]) == want["pharma_acquisition_reward_cap"]
    assert _dec(got["county_years"]["Y"]["special_fund_minimum"]) == ref.special_fund(revenue, day, PARAMS)


@settings(max_examples=200, deadline=None)
@given(icp=st.booleans(), fai=amounts([30_000_000, 100_000_000]), computed=st.sampled_from("ABCD"), day=DAYS)
def test_class_override_when_random_matches_reference(icp, fai, computed, day):
    """2.8 override and final class agree with Decimal."""
    e = {"in_construction_period": icp, "fixed_asset_investment": fai, "mujun_class_computed": computed}
    got = calculate(
        {"as_of": day.isoformat(), "enterprises": {"E": {**e, "mujun_class_override": None, "mujun_class": None}}},
        explain=False,
    )["enterprises"]["E"]
    want = ref.class_override(e, day, PARAMS)
    assert got["mujun_class_override"] == want["mujun_class_override"]
    assert got["mujun_class"] == want["mujun_class"]
