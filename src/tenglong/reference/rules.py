"""The rules of 临政发〔2022〕22号, one row at a time, in ``Decimal``.

Inputs are plain dicts of Python values (``Decimal`` amounts in 元, areas in
m² or 亩, ratios as decimals, ``datetime.date``); parameters are read with
``Parameter.at(date)``. Rounding is half up to the 分, once per clause output.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..core.parameters import ParameterSet

FEN = Decimal("0.01")
OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}


def money(x: Decimal) -> Decimal:
    """Half up to the 分."""
    return x.quantize(FEN, rounding=ROUND_HALF_UP)


class Ref:
    """Parameter access at one date."""

    def __init__(self, params: ParameterSet, day: dt.date) -> None:
        self.params = params
        self.day = day

    def v(self, path: str) -> Any:
        """Value on the day (the last value when the clause has lapsed: results are masked anyway)."""
        p = self.params[path]
        value = p.at(self.day)
        return p.last_value() if value is None else value

    def live(self, clause: str) -> bool:
        """Clause in force on the day."""
        return bool(self.params[f"in_force.{clause}"].at(self.day))

    def meets(self, x: Decimal, path: str) -> bool:
        """Threshold test with the parameter's boundary word."""
        p = self.params[path]
        return OPS[p.boundary.op](Decimal(x), Decimal(self.v(path)))


def tech_renovation(
    projects: list[dict[str, Any]], enterprises: dict[str, dict[str, Any]], params: ParameterSet
) -> dict[str, dict[str, Any]]:
    """2.10 for a list of projects: tier, subsidy (after the enterprise cap) and the 2513 reward."""
    out: dict[str, dict[str, Any]] = {}
    claims = []
    for p in projects:
        r = Ref(params, p["day"])
        e = enterprises[p["enterprise"]]
        live = r.live("2.10")
        eq, total = p["equipment_investment"], p["total_investment"]
        major = (
            live
            and p.get("traditional_industry", True)
            and r.meets(total, "tech_renovation.major_min_total_investment")
            and r.meets(eq, "tech_renovation.major_min_equipment_investment")
        )
        ordinary = live and not major and r.meets(eq, "tech_renovation.ordinary_min_equipment_investment")
        if major:
            amount = min(
                money(eq * r.v("tech_renovation.major_rate")), Decimal(r.v("tech_renovation.major_cap_per_project"))
            )
        elif ordinary:
            amount = money(eq * r.v("tech_renovation.ordinary_rate"))
        else:
            amount = Decimal(0)
        reward = Decimal(0)
        if (
            live
            and p.get("key_industrial_project", False)
            and e.get("is_2513_enterprise", False)
            and r.meets(e["local_contribution_growth"], "tech_renovation.reward_2513_min_contribution_growth")
            and r.meets(
                e["industrial_equipment_investment"], "tech_renovation.reward_2513_min_industrial_equipment_investment"
            )
        ):
            reward = money(p.get("recognized_equipment_investment", eq) * r.v("tech_renovation.reward_2513_rate"))
        higher_only = r.v("tech_renovation.stacking_2513") == "higher_only"
        if major and higher_only and amount > 0 and reward > 0:
            if reward > amount:
                amount = Decimal(0)
            else:
                reward = Decimal(0)
        tier = "major" if major else "ordinary" if ordinary else "none"
        out[p["id"]] = {
            "tech_renovation_tier": tier,
            "tech_renovation_subsidy": amount if major else Decimal(0),
            "key_project_reward_2513": reward,
        }
        if ordinary and amount > 0:
            rival = reward if higher_only else Decimal(0)
            claims.append(
                (
                    p["enterprise"],
                    p["day"].year,
                    p["day"],
                    p["id"],
                    amount,
                    Decimal(r.v("tech_renovation.ordinary_cap_per_enterprise_year")),
                    rival,
                )
            )
    used: dict[tuple[str, int], Decimal] = {}
    for ent, year, _day, pid, amt, cap, rival in sorted(claims, key=lambda c: (c[0], c[1], c[2], c[3])):
        before = used.get((ent, year), Decimal(0))
        payable = max(Decimal(0), min(amt, cap - before))
        if rival > 0 and rival > payable:
            out[pid]["tech_renovation_subsidy"] = Decimal(0)
            continue
        if rival > 0:
            out[pid]["key_project_reward_2513"] = Decimal(0)
        used[(ent, year)] = before + payable
        out[pid]["tech_renovation_subsidy"] = payable
    return out


def vertical_industry(p: dict[str, Any], mujun_class: str, params: ParameterSet) -> dict[str, Any]:
    """2.11 route and reward of one project."""
    r = Ref(params, p["day"])
    if not (r.live("2.11") and p["zero_land_renovation"] and p["self_owned_and_used"]):
        return {"vertical_industry_route": "none", "vertical_industry_reward": Decimal(0)}
    before, after, land = p["plot_ratio_before"], p["plot_ratio_after"], p["land_area"]
    renovated, total = p["renovated_floor_area"], p["total_floor_area_after"]
    rise = Decimal(r.v("vertical_industry.min_plot_ratio_rise"))
    share = Decimal(r.v("vertical_industry.min_renovated_share"))
    by_ratio = (after - (1 + rise) * before) * land if before > 0 and after > (1 + rise) * before else None
    by_share = renovated - share * total if total > 0 and renovated > share * total else None
    cap = Decimal(r.v("vertical_industry.cap_per_project"))
    if by_ratio is not None or by_share is not None:
        area = max(x for x in (by_ratio, by_share) if x is not None)
        rate = Decimal(r.v("vertical_industry.excess_rate_by_class").get(mujun_class, 0))
        return {"vertical_industry_route": "excess", "vertical_industry_reward": min(money(area * rate), cap)}
    rates = r.v("vertical_industry.storey_rates")
    raw = money(
        p.get("new_floor_area_storey_4", 0) * Decimal(rates["storey_4"])
        + p.get("new_floor_area_storey_5", 0) * Decimal(rates["storey_5"])
        + p.get("new_floor_area_storey_6_plus", 0) * Decimal(rates["storey_6_plus"])
    )
    allowed = r.v("vertical_industry.storeys_route_classes").get(mujun_class, True)
    return {"vertical_industry_route": "storeys", "vertical_industry_reward": min(raw, cap) if allowed else Decimal(0)}


def scattered_land(p: dict[str, Any], params: ParameterSet) -> bool:
    """2.5 eligibility of one project."""
    r = Ref(params, p["day"])
    if not (r.live("2.5") and p["zero_land_renovation"] and p.get("industry_direction_compliant", True)):
        return False
    # A share of, or a rise from, zero is undefined and never meets a test.
    ok_share = (
        p["original_land_area_mu"] > 0
        and p["scattered_land_area_mu"]
        <= Decimal(r.v("scattered_land.max_share_of_original")) * p["original_land_area_mu"]
    )
    ok_area = p["scattered_land_area_mu"] <= Decimal(r.v("scattered_land.max_area_mu"))
    rise = (
        p["plot_ratio_before"] > 0
        and p["plot_ratio_after"] >= (1 + Decimal(r.v("scattered_land.min_plot_ratio_rise"))) * p["plot_ratio_before"]
    )
    ren = (
        p["total_floor_area_after"] > 0
        and p["renovated_floor_area"]
        >= Decimal(r.v("scattered_land.min_renovated_share")) * p["total_floor_area_after"]
    )
    return ok_share and ok_area and (rise or ren)


def fee_waiver(p: dict[str, Any], params: ParameterSet) -> dict[str, Any]:
    """2.6 for one project."""
    r = Ref(params, p["day"])
    ok = (
        r.live("2.6")
        and p["land_use_unchanged"]
        and p["zero_land_renovation"]
        and p["own_industrial_use"]
        and p["plot_ratio_after"] > p["plot_ratio_before"]
    )
    return {
        "fee_waiver_eligible": ok,
        "fees_waived": p.get("land_premium_due", Decimal(0)) + p.get("infrastructure_fee_due", Decimal(0))
        if ok
        else Decimal(0),
    }


def class_override(e: dict[str, Any], day: dt.date, params: ParameterSet) -> dict[str, Any]:
    """2.8 for one enterprise."""
    r = Ref(params, day)
    computed = e.get("mujun_class_computed", "")
    if r.live("2.8") and e.get("in_construction_period", False):
        if r.meets(e["fixed_asset_investment"], "class_override.force_a_min_investment"):
            return {"mujun_class_override": "force_A", "mujun_class": "A"}
        if r.meets(e["fixed_asset_investment"], "class_override.not_d_min_investment") and computed == "D":
            return {"mujun_class_override": "not_D", "mujun_class": "C"}
    return {"mujun_class_override": "none", "mujun_class": computed}


def merger(m: dict[str, Any], params: ParameterSet) -> dict[str, Any]:
    """2.9 for one merger."""
    r = Ref(params, m["day"])
    live = r.live("2.9")
    quotas = (
        live
        and bool(r.v("merger.quota_acquirer_classes").get(m["acquirer_mujun_class_last_year"], False))
        and m["target_two_high_one_low"]
        and m["registered_and_taxed_locally_after"]
    )
    pharma = (
        live
        and m.get("acquirer_listed_pharma", False)
        and m.get("target_pharma", False)
        and m.get("target_in_taizhou_bay_zone", False)
    )
    cap = (
        money(Decimal(r.v("merger.pharma_reward_per_mu")) * m.get("acquired_land_area_mu", Decimal(0)))
        if pharma
        else Decimal(0)
    )
    return {"quotas_transfer_to_merged": quotas, "pharma_acquisition_reward_cap": cap}


def reserve_price_floor(s: dict[str, Any], params: ParameterSet) -> Decimal:
    """2.13 floor of one land sale."""
    r = Ref(params, s["day"])
    if not r.live("2.13"):
        return Decimal(0)
    price = Decimal(r.v("land_supply.minimum_price_by_grade")[str(s["land_grade"])])
    if s.get("priority_project", False):
        return max(
            money(price * s["area_m2"] * Decimal(r.v("land_supply.priority_floor_share"))),
            s.get("acquisition_cost", Decimal(0)),
        )
    return money(price * s["area_m2"])


def special_fund(revenue: Decimal, day: dt.date, params: ParameterSet) -> Decimal:
    """2.15 minimum special fund."""
    r = Ref(params, day)
    return money(revenue * Decimal(r.v("special_fund.min_share_of_land_revenue"))) if r.live("2.15") else Decimal(0)


def planning(p: dict[str, Any], params: ParameterSet) -> dict[str, Any]:
    """2.3 and 2.4 for one project."""
    r = Ref(params, p["day"])
    live3, live4 = r.live("2.3"), r.live("2.4")
    zero = p["zero_land_renovation"]
    phased = live3 and zero and r.meets(Decimal(p.get("building_count", 1)), "planning_approval.phased_min_buildings")
    mode = (
        r.v("planning_approval.review_mode_by_risk").get(p.get("construction_risk_class", ""), "standard")
        if live3 and zero and not p.get("adds_storeys", False)
        else "standard"
    )
    density = (
        Decimal(r.v("building_density.standard_land_max_density"))
        if live4 and p.get("standard_land_new_project", False)
        else None
    )
    return {"phased_approval_allowed": phased, "drawing_review_mode": mode, "max_building_density": density}


def ancillary(p: dict[str, Any], enterprise: dict[str, Any], params: ParameterSet) -> dict[str, Any]:
    """2.14 caps for one project."""
    r = Ref(params, p["day"])
    outside = (
        (not p["in_industrial_park"])
        and p["stock_project"]
        and enterprise.get("leading_enterprise", False)
        and bool(r.v("ancillary_facilities.outside_park_classes").get(enterprise.get("mujun_class", ""), False))
        and r.meets(p["land_area_mu"], "ancillary_facilities.outside_park_min_land_mu")
    )
    raised = r.live("2.14") and p["in_key_rental_housing_area"] and (p["in_industrial_park"] or outside)
    if raised:
        return {
            "ancillary_land_share_cap": Decimal(r.v("ancillary_facilities.raised_land_share")),
            "ancillary_floor_share_cap": Decimal(r.v("ancillary_facilities.raised_floor_share")),
        }
    return {
        "ancillary_land_share_cap": Decimal(r.v("ancillary_facilities.base_land_share")),
        "ancillary_floor_share_cap": None,
    }


def land_transfer(t: dict[str, Any], params: ParameterSet) -> dict[str, Any]:
    """2.7 decision and violated conditions for one split or merge."""
    r = Ref(params, t["day"])
    kind = t["kind"]
    failed: list[str] = []
    if kind == "split":
        if not t["completed_and_in_production"]:
            failed.append("not_completed")
        if not t["split_by_whole_buildings"]:
            failed.append("not_by_whole_buildings")
        if not t.get("industrial_real_estate", False) and not r.meets(
            Decimal(t["parcel_count_after"]), "land_transfer.split_max_parcels"
        ):
            failed.append("too_many_parcels")
        if not r.meets(t["smallest_parcel_area_mu"], "land_transfer.split_min_parcel_area_mu"):
            failed.append("parcel_too_small")
        if t["separates_ancillary_land"]:
            failed.append("ancillary_land_split")
        if t["parcel_from_earlier_split"]:
            failed.append("second_split")
        if t["parcel_from_earlier_merge"]:
            failed.append("split_after_merge")
    if kind == "merge":
        for code, key in (
            ("ownership_differs", "same_ownership_nature"),
            ("use_right_differs", "same_use_right_type"),
            ("not_adjacent", "adjacent"),
        ):
            if not t[key]:
                failed.append(code)
    if kind in ("split", "merge"):
        if not t["transferee_compliant"]:
            failed.append("transferee_noncompliant")
        if r.v("land_transfer.barred_transferee_classes").get(t["transferee_mujun_class_last_year"], False):
            failed.append("transferee_class_c_or_d")
        if t.get("standard_land", False) and not t["transferee_accepts_standard_land_terms"]:
            failed.append("standard_land_terms_not_accepted")
    live = r.live("2.7")
    return {
        "transfer_allowed": live and kind in ("split", "merge") and not failed,
        "transfer_violations": failed if live else [],
        "merged_remaining_term_years": min(t["remaining_terms_years"]) if live and kind == "merge" else None,
    }
