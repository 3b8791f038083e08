"""2.13 industrial share of land sold and the reserve-price floor; 2.15 the special fund.

* The floor uses the national industrial-land minimum price by grade (国土资发〔2006〕307号).
  A priority project's floor is ``max(70 % × price × area, acquisition cost)``; any
  other project's floor is ``price × area``. A priority project without its
  acquisition cost has no floor to tell (``insufficient_data``): a blank is not 0 元.
* The industrial share of the land sold in a year is OK at ≥ 30 %.
* 2.15: at least 0.5 % of land-transfer revenue goes to the special fund.
"""

from __future__ import annotations

import numpy as np

from ..boundary import SYMBOL
from ..exact import I64, div_half_up
from ..trace import APPLIED, NOT_APPLICABLE, Check, Note, Outcome, flag_check, fmt_exact, fmt_number
from ._common import (
    Context,
    Rule,
    apply_rate,
    boundary_of,
    missing_note,
    needs,
    percents,
    ratio_meets,
    status,
    table_lookup,
)

QUOTE_FLOOR = (
    "对符合省、台州市产业导向的战略性新兴产业、先进制造业等优先发展且土地利用率、亩均税收高的项目,"
    "按不低于所在地土地等别对应工业用地最低价标准的70%确定土地出让底价,但不得低于土地取得成本。"
)
QUOTE_SHARE = "每年出让土地总量中工业用地比例不低于30%,确保工业用地总量稳中有升。"
QUOTE_FUND = "在符合国家有关规定前提下,提取土地出让收入的0.5%以上作为“腾笼换鸟”专项经费"


def floors(ctx: Context) -> list[Outcome]:
    """``reserve_price_floor`` of every land sale."""
    f = ctx.frame("land_sales")
    days = ctx.days("land_sales")
    live = ctx.in_force("2.13", days)
    grade, area, cost, priority = (
        f.get("land_grade"),
        f.get("area_m2"),
        f.get("acquisition_cost"),
        f.get("priority_project"),
    )
    price = table_lookup(ctx.p("land_supply.minimum_price_by_grade"), days, grade, scale=2)
    full = div_half_up(price * area, I64(100))  # 分/m² × m²×10² → 分
    p_share = ctx.p("land_supply.priority_floor_share")
    num, den = p_share.fraction_at(days)
    share = div_half_up(price * area * num, den * 100)
    floor = np.where(priority, np.maximum(share, cost), full)
    value = np.where(live, floor, 0)
    unknown = priority & ~f.present("acquisition_cost")
    rate = percents(p_share, days)
    notes = [
        flag_check("priority_project", "优先发展且土地利用率、亩均税收高的项目", "priority project", priority),
        Note(
            lambda i: (
                f"土地等别 {grade[i]} 等，工业用地出让最低价标准 {fmt_number(price[i], 2)} 元/m² × "
                f"{fmt_number(area[i], 2)} m² = {fmt_number(full[i], 2)} 元"
            ),
            lambda i: (
                f"grade {grade[i]}: minimum price {fmt_number(price[i], 2)} yuan/m² × "
                f"{fmt_number(area[i], 2)} m² = {fmt_number(full[i], 2)}"
            ),
        ),
        Note(
            lambda i: (
                f"优先项目：max({rate(i)} × {fmt_number(full[i], 2)} = {fmt_number(share[i], 2)}，"
                f"土地取得成本 {fmt_number(cost[i], 2)}) = {fmt_number(floor[i], 2)} 元"
            ),
            lambda i: (
                f"priority: max({rate(i)} × {fmt_number(full[i], 2)} = {fmt_number(share[i], 2)}, "
                f"acquisition cost {fmt_number(cost[i], 2)}) = {fmt_number(floor[i], 2)}"
            ),
            rows=priority & ~unknown,
        ),
        missing_note(
            unknown,
            "土地取得成本（优先项目的底价不得低于土地取得成本）",
            "the land acquisition cost (a priority project's floor may not be below it)",
        ),
        Note(
            lambda i: f"按最低价标准的 {rate(i)} 计为 {fmt_number(share[i], 2)} 元，但不得低于土地取得成本（未提供）",
            lambda i: (
                f"{rate(i)} of the minimum price is {fmt_number(share[i], 2)}, but not below the acquisition cost "
                "(not given)"
            ),
            rows=unknown,
        ),
    ]
    return [
        Outcome(
            "reserve_price_floor",
            value.astype(I64),
            status(live, np.ones(f.n, bool), unknown),
            "2.13",
            QUOTE_FLOOR,
            notes,
            ("land_supply.minimum_price_by_grade", "land_supply.priority_floor_share"),
            null=unknown & live,
        )
    ]


FLOOR_RULE = Rule(
    id="reserve_price_floor",
    clause="2.13",
    entity="land_sales",
    outputs=("reserve_price_floor",),
    compute=floors,
    needs={"reserve_price_floor": needs("land_grade", "area_m2")},
    title_zh="土地出让底价",
    title_en="Reserve-price floor",
)


def county(ctx: Context) -> list[Outcome]:
    """``industrial_land_share``(×10⁶), ``industrial_land_share_ok`` and ``special_fund_minimum``."""
    f = ctx.frame("county_years")
    days = ctx.days("county_years")
    live13, live15 = ctx.in_force("2.13", days), ctx.in_force("2.15", days)
    total, industrial, revenue = (
        f.get("land_supply_total_area"),
        f.get("industrial_land_supply_area"),
        f.get("land_transfer_revenue"),
    )
    has_total = total > 0
    share = np.where(has_total, div_half_up(industrial * I64(10**6), np.maximum(total, 1)), 0)
    p_share = ctx.p("land_supply.min_industrial_share")
    ok = live13 & has_total & ratio_meets(industrial, total, p_share, days)
    p_fund = ctx.p("special_fund.min_share_of_land_revenue")
    fund = np.where(live15, apply_rate(revenue, p_fund, days), 0)
    b = boundary_of(p_share)
    share_checks = [
        Check(
            "min_industrial_share",
            ok,
            f"工业用地 {{a}} 亩 / 出让总量 {{t}} 亩 = {{s}} {SYMBOL[b.op]} {{r}}（{b.zh}）",
            f"industrial {{a}} mu / total {{t}} mu = {{s}} {SYMBOL[b.op]} {{r}} ({b.en})",
            {
                "a": lambda i: fmt_number(industrial[i], 4),
                "t": lambda i: fmt_number(total[i], 4),
                "s": lambda i: fmt_exact(industrial[i], total[i], 6),
                "r": percents(p_share, days),
            },
        ),
    ]
    fund_rate = percents(p_fund, days)
    fund_notes = [
        Note(
            lambda i: (
                f"土地出让收入 {fmt_number(revenue[i], 2)} 元 × {fund_rate(i)} = {fmt_number(fund[i], 2)} 元（下限）"
            ),
            lambda i: f"land revenue {fmt_number(revenue[i], 2)} × {fund_rate(i)} = {fmt_number(fund[i], 2)} (minimum)",
        )
    ]
    return [
        Outcome(
            "industrial_land_share",
            share,
            np.where(has_total, APPLIED, NOT_APPLICABLE).astype(np.int8),
            "2.13",
            QUOTE_SHARE,
            share_checks,
            null=~has_total,
        ),
        Outcome(
            "industrial_land_share_ok",
            ok,
            status(live13, ok),
            "2.13",
            QUOTE_SHARE,
            share_checks,
            ("land_supply.min_industrial_share",),
        ),
        Outcome(
            "special_fund_minimum",
            fund.astype(I64),
            status(live15, fund > 0),
            "2.15",
            QUOTE_FUND,
            fund_notes,
            ("special_fund.min_share_of_land_revenue",),
        ),
    ]


COUNTY_RULE = Rule(
    id="county_land",
    clause="2.13",
    entity="county_years",
    outputs=("industrial_land_share", "industrial_land_share_ok", "special_fund_minimum"),
    compute=county,
    needs={
        "industrial_land_share": needs("land_supply_total_area", "industrial_land_supply_area"),
        "industrial_land_share_ok": needs("land_supply_total_area", "industrial_land_supply_area"),
        "special_fund_minimum": needs("land_transfer_revenue"),
    },
    title_zh="工业用地比例与专项经费",
    title_en="Industrial land share and the special fund",
)
