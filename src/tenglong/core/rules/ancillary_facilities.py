"""2.14 Caps on land and floor area for ancillary (office and living) facilities.

In a district that prioritises rental housing, the land-share cap rises from 7 %
to 15 % and the floor-share cap to 30 % for a project that is either

* inside an industrial park (stock or new), or
* outside a park, a stock project of a leading enterprise of class A or B with
  ≥ 50 亩.

Otherwise the caps are 7 % and none (null).
"""

from __future__ import annotations

import numpy as np

from ..boundary import SYMBOL
from ..trace import Check, Note, Outcome, flag_check, fmt_classes, fmt_trim, threshold_check
from ._common import Context, Rule, meets, needs, percents, status, table_keys, table_lookup
from .class_override import final_class

NS = "ancillary_facilities."
QUOTE = (
    "在重点发展保障性租赁住房的城区,产业园区内的存量工业项目,以及产业园区外亩均效益A类、"
    "B类龙头骨干企业用地面积50亩以上的存量工业项目,在确保安全的前提下,"
    "可将配套建设行政办公及生活服务设施的用地面积占项目总用地面积的比例由7%提高到15%,建筑面积占比上限相应提高到30%"
)


def compute(ctx: Context) -> list[Outcome]:
    """Both caps (×10⁶) for every project."""
    f = ctx.frame("projects")
    days = ctx.days("projects")
    live = ctx.in_force("2.14", days)
    park, stock, rental = f.get("in_industrial_park"), f.get("stock_project"), f.get("in_key_rental_housing_area")
    leading = ctx.of_enterprise(ctx.frame("enterprises").get("leading_enterprise"))
    cls = ctx.of_enterprise(final_class(ctx))
    p_classes = ctx.p(NS + "outside_park_classes")
    class_ok = table_lookup(p_classes, days, cls, default=False).astype(bool)
    allowed = table_keys(p_classes, days, True)
    p_area = ctx.p(NS + "outside_park_min_land_mu")
    area_ok, lim = meets(f.get("land_area_mu"), p_area, days, 4)
    outside = ~park & stock & leading & class_ok & area_ok
    raised = live & rental & (park | outside)
    # Outside a park the class decides: without it (a blank is not "none") the caps cannot be told.
    has_class = cls != ""
    unknown = rental & ~park & stock & leading & area_ok & ~has_class
    p_base, p_raised, p_floor = (ctx.p(NS + n) for n in ("base_land_share", "raised_land_share", "raised_floor_share"))
    land_cap = np.where(raised, p_raised.scaled_at(days, 6), p_base.scaled_at(days, 6))
    floor_cap = np.where(raised, p_floor.scaled_at(days, 6), 0)
    base_pct, raised_pct, floor_pct = percents(p_base, days), percents(p_raised, days), percents(p_floor, days)
    checks = [
        flag_check(
            "in_key_rental_housing_area",
            "位于重点发展保障性租赁住房的城区",
            "in a rental-housing priority district",
            rental,
        ),
        flag_check(
            "in_industrial_park", "位于产业园区内（存量或新建项目）", "inside an industrial park (stock or new)", park
        ),
        Note(
            lambda i: (
                f"园区外须同时满足：存量工业项目、龙头骨干企业、亩均效益 {fmt_classes(allowed(i), 'zh')} 类、"
                f"用地 {fmt_trim(lim[i], 4)} 亩{p_area.term}"
            ),
            lambda i: (
                f"outside a park all must hold: stock project, leading firm, class {fmt_classes(allowed(i), 'en')}, "
                f"land {SYMBOL[p_area.boundary.op]} {fmt_trim(lim[i], 4)} mu"
            ),
            rows=~park,
        ),
        flag_check("stock_project", "存量工业项目", "stock project", stock, applies=~park),
        flag_check("leading_enterprise", "龙头骨干企业", "leading enterprise", leading, applies=~park),
        Check(
            "outside_park_classes",
            class_ok,
            "亩均效益类别 {c}（须为 {ok} 类）",
            "class {c} (must be {ok_en})",
            {
                "c": lambda i: cls[i] or "none",
                "ok": lambda i: fmt_classes(allowed(i), "zh"),
                "ok_en": lambda i: fmt_classes(allowed(i), "en"),
            },
            applies=~park,
            given=has_class,
            missing_zh="亩均效益类别（园区外须为 A、B 类）",
            missing_en="the per-mu class (outside a park it must be A or B)",
        ),
        threshold_check(
            "outside_park_min_land_mu",
            "项目用地面积",
            "project land",
            f.get("land_area_mu"),
            4,
            "亩",
            lim,
            p_area.boundary,
            area_ok,
            applies=~park,
        ),
        Note(
            lambda i: (
                f"配套设施用地面积占比上限由 {base_pct(i)} 提高到 {raised_pct(i)}，建筑面积占比上限 {floor_pct(i)}"
            ),
            lambda i: (
                f"ancillary caps raised: land share from {base_pct(i)} to {raised_pct(i)}, floor share {floor_pct(i)}"
            ),
            rows=raised,
        ),
        Note(
            lambda i: f"配套设施用地面积占比上限 {base_pct(i)}（未提高），建筑面积占比不设提高后的上限",
            lambda i: f"ancillary land-share cap {base_pct(i)} (not raised); no raised floor-share cap",
            rows=~raised,
        ),
    ]
    params = tuple(
        NS + n
        for n in (
            "base_land_share",
            "raised_land_share",
            "raised_floor_share",
            "outside_park_min_land_mu",
            "outside_park_classes",
        )
    )
    # Outside validity the usual 7 % cap still stands (it predates the policy), but nothing is raised.
    return [
        Outcome(
            "ancillary_land_share_cap",
            land_cap,
            status(live, raised, unknown),
            "2.14",
            QUOTE,
            checks,
            params,
            null=unknown & live,
        ),
        Outcome(
            "ancillary_floor_share_cap",
            floor_cap,
            status(live, raised, unknown),
            "2.14",
            QUOTE,
            checks,
            params,
            null=~raised | (unknown & live),
        ),
    ]


RULE = Rule(
    id="ancillary_facilities",
    clause="2.14",
    entity="projects",
    outputs=("ancillary_land_share_cap", "ancillary_floor_share_cap"),
    compute=compute,
    needs={
        "ancillary_land_share_cap": needs("in_key_rental_housing_area", "in_industrial_park")
        + needs("enterprise", "stock_project", "land_area_mu", in_industrial_park=False),
        "ancillary_floor_share_cap": needs("in_key_rental_housing_area", "in_industrial_park")
        + needs("enterprise", "stock_project", "land_area_mu", in_industrial_park=False),
    },
    title_zh="配套设施用地与建筑面积上限",
    title_en="Ancillary facility caps",
)
