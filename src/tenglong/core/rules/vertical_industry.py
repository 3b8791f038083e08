"""2.11 Vertical-industry (工业大厦型“零增地”技改) reward, both routes.

Both routes need a zero-new-land renovation that is self-owned and self-used.

* ``excess``: plot ratio up by more than 20 % (不含), or renovated floor area more
  than 20 % (不含) of the total after. The rewarded area is the larger excess over
  the criteria met (assumption ``vertical_industry.excess_area_reading``):
  ``(after − 1.2 × before) × land`` and ``renovated − 0.2 × total_after``; 60 元/m²
  for class A, 50 for B, 0 for C and D.
* ``storeys`` (otherwise): 30 / 40 / 50 元/m² of new factory floor area on storeys
  4, 5 and 6-plus.
* Either route pays at most 100万 per project.
* A blank is not a zero: the per-storey reward needs at least one of the three
  storey areas (``insufficient_data`` without any); a storey left blank beside a
  given one counts as no new area there, and the explanation says so.
"""

from __future__ import annotations

import numpy as np

from ..boundary import SYMBOL
from ..errors import ParameterError
from ..exact import I64, div_half_up
from ..trace import (
    APPLIED,
    INSUFFICIENT_DATA,
    NOT_APPLICABLE,
    NOT_IN_FORCE,
    Check,
    Note,
    Outcome,
    flag_check,
    fmt_classes,
    fmt_exact,
    fmt_number,
)
from ._common import (
    Context,
    Rule,
    boundary_of,
    missing_note,
    needs,
    percents,
    status,
    table_entry,
    table_keys,
    table_lookup,
)
from .class_override import final_class

NS = "vertical_industry."
QUOTE_EXCESS = (
    "对“零增地”技改后生产厂房容积率提高20%(不含)以上的部分或“零增地”技改的建筑面积占零地技改后总建筑面积的20%(不含)"
    "以上的部分且自有自用的,按照亩均评价A、B类的,分别给予60元/平方米、50元/平方米的奖励,单个项目最高奖励100万元"
)
QUOTE_STOREYS = (
    "对“零增地”技改后厂房容积率提高或“零增地”技改的建筑面积占零地技改后总建筑面积未达到以上条件的,4层、5层、"
    "6层及以上新增生产厂房建筑面积且自有自用的,分别按照30元/平方米、40元/平方米、50元/平方米的标准予以奖励,"
    "单个项目最高奖励100万元"
)


def excess_area(
    after: np.ndarray,
    before: np.ndarray,
    land: np.ndarray,
    renovated: np.ndarray,
    total: np.ndarray,
    rise: tuple[np.ndarray, np.ndarray],
    share: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact excess areas of both criteria over a common denominator.

    Args:
        after, before: plot ratios ×10⁴; land, renovated, total: m² ×10².
        rise, share: the thresholds as (numerator, denominator) arrays.

    Returns:
        (rise_met, share_met, area_by_ratio, area_by_share, denominator): the
        areas are exact multiples of ``1/denominator`` m².
    """
    rn, rd = rise
    sn, sd = share
    if len(rd) and int(np.max(rd * sd)) > 10_000:
        raise ParameterError(
            "第（十一）项门槛比例过细，超出精确计算范围。", "The 2.11 thresholds are too fine for exact arithmetic."
        )
    # A rise from, or a share of, nothing is undefined: a zero base never meets the criterion.
    rise_met = (after * rd > before * (rd + rn)) & (before > 0)
    share_met = (renovated * sd > total * sn) & (total > 0)
    denominator = rd * sd * I64(10**6)
    by_ratio = (after * rd - before * (rd + rn)) * land * sd
    by_share = (renovated * sd - total * sn) * I64(10**4) * rd
    return rise_met, share_met, np.where(rise_met, by_ratio, 0), np.where(share_met, by_share, 0), denominator


def compute(ctx: Context) -> list[Outcome]:
    """Route and reward for every project."""
    f = ctx.frame("projects")
    days = ctx.days("projects")
    live = ctx.in_force("2.11", days)
    zero_land, self_used = f.get("zero_land_renovation"), f.get("self_owned_and_used")
    gate = live & zero_land & self_used
    before, after = f.get("plot_ratio_before"), f.get("plot_ratio_after")
    land, renovated, total = f.get("land_area"), f.get("renovated_floor_area"), f.get("total_floor_area_after")
    p_rise, p_share = ctx.p(NS + "min_plot_ratio_rise"), ctx.p(NS + "min_renovated_share")
    rise_met, share_met, by_ratio, by_share, den = excess_area(
        after, before, land, renovated, total, p_rise.fraction_at(days), p_share.fraction_at(days)
    )
    excess = gate & (rise_met | share_met)
    storeys = gate & ~excess
    route = np.where(excess, 1, np.where(storeys, 2, 0)).astype(np.int8)

    cls = ctx.of_enterprise(final_class(ctx))
    cap = ctx.p(NS + "cap_per_project").scaled_at(days, 2)
    rate = table_lookup(ctx.p(NS + "excess_rate_by_class"), days, cls, scale=2)
    area = np.maximum(by_ratio, by_share)
    # Clip the area where the cap binds anyway, so area × rate stays far below 2**63.
    limit = np.where(rate > 0, cap * den // np.maximum(rate, 1) + 1, 0)
    area_c = np.minimum(area, limit)
    excess_raw = div_half_up(area_c * rate, den)
    excess_pay = np.minimum(excess_raw, cap)

    rates = ctx.p(NS + "storey_rates")
    r4, r5, r6 = (table_entry(rates, days, k, 2) for k in ("storey_4", "storey_5", "storey_6_plus"))
    s4, s5, s6 = (
        f.get("new_floor_area_storey_4"),
        f.get("new_floor_area_storey_5"),
        f.get("new_floor_area_storey_6_plus"),
    )
    g4, g5, g6 = (
        f.present("new_floor_area_storey_4"),
        f.present("new_floor_area_storey_5"),
        f.present("new_floor_area_storey_6_plus"),
    )
    any_storey = g4 | g5 | g6
    storey_raw = div_half_up(s4 * r4 + s5 * r5 + s6 * r6, I64(100))
    p_route = ctx.p(NS + "storeys_route_classes")
    storey_ok = table_lookup(p_route, days, cls, default=True).astype(bool)
    storey_pay = np.where(storey_ok, np.minimum(storey_raw, cap), 0)
    reward = np.where(excess, excess_pay, np.where(storeys, storey_pay, 0)).astype(I64)
    # The storeys route with no storey area given: the reward cannot be told (a blank is not 0 m²).
    unknown = storeys & storey_ok & ~any_storey

    by_storey = (
        (s4, g4, r4, "4层", "storey 4"),
        (s5, g5, r5, "5层", "storey 5"),
        (s6, g6, r6, "6层及以上", "storeys 6+"),
    )

    def storeys_text(i: int, lang: str) -> str:
        """The per-storey sum of row ``i``: each storey's area × rate, or that it was left blank."""
        parts = []
        for area, given, rate, zh, en in by_storey:
            name = zh if lang == "zh" else en
            if not given[i]:
                parts.append(f"{name} 未填写（按无新增计）" if lang == "zh" else f"{name} blank (no new area)")
            else:
                parts.append(f"{name} {fmt_number(area[i], 2)} m² × {fmt_number(rate[i], 2)}")
        return " + ".join(parts)

    area_shown = div_half_up(area * 100, den)
    ratio_area_shown, share_area_shown = div_half_up(by_ratio * 100, den), div_half_up(by_share * 100, den)
    b_rise, b_share = boundary_of(p_rise), boundary_of(p_share)
    rise_pct, share_pct = percents(p_rise, days), percents(p_share, days)
    rn, rd = p_rise.fraction_at(days)

    def factor(i: int) -> str:  # 1 + the rise, e.g. "1.2"
        return fmt_exact(rn[i] + rd[i], rd[i], 0)

    route_classes = table_keys(p_route, days, True)
    checks: list = [
        flag_check("zero_land_renovation", "“零增地”技改", "zero-new-land renovation", zero_land),
        flag_check("self_owned_and_used", "自有自用", "self-owned and self-used", self_used),
        Check(
            "plot_ratio_rise",
            rise_met,
            f"技改后容积率 {{a}} 较技改前 {{b}} 提高幅度 {SYMBOL[b_rise.op]} {{p}}（{b_rise.zh}）",
            f"plot ratio {{a}} vs {{b}} before: a rise {SYMBOL[b_rise.op]} {{p}} ({b_rise.en})",
            {"a": lambda i: fmt_number(after[i], 4), "b": lambda i: fmt_number(before[i], 4), "p": rise_pct},
            applies=gate,
        ),
        Check(
            "renovated_share",
            share_met,
            f"技改建筑面积 {{r}} m² 占技改后总建筑面积 {{t}} m² 的比例 {SYMBOL[b_share.op]} {{p}}（{b_share.zh}）",
            f"renovated floor area {{r}} m² is {SYMBOL[b_share.op]} {{p}} of {{t}} m² ({b_share.en})",
            {"r": lambda i: fmt_number(renovated[i], 2), "t": lambda i: fmt_number(total[i], 2), "p": share_pct},
            applies=gate,
        ),
    ]
    notes = [
        *checks,
        Note(
            lambda i: (
                "超出部分面积取较大者（假设参数 vertical_industry.excess_area_reading）："
                f"容积率口径 {fmt_number(ratio_area_shown[i], 2)} m²，"
                f"建筑面积口径 {fmt_number(share_area_shown[i], 2)} m²，计 {fmt_number(area_shown[i], 2)} m²"
            ),
            lambda i: (
                "excess area, the larger (assumption vertical_industry.excess_area_reading): "
                f"by plot ratio {fmt_number(ratio_area_shown[i], 2)} m², "
                f"by floor area {fmt_number(share_area_shown[i], 2)} m² → {fmt_number(area_shown[i], 2)} m²"
            ),
            rows=excess,
        ),
        Note(
            lambda i: (
                f"亩均评价 {cls[i] or '未提供'} 类，奖励标准 {fmt_number(rate[i], 2)} 元/m²，"
                f"计 {fmt_number(excess_raw[i], 2)} 元，单个项目最高 {fmt_number(cap[i], 2)} 元"
            ),
            lambda i: (
                f"class {cls[i] or 'not given'}: {fmt_number(rate[i], 2)} yuan/m² → {fmt_number(excess_raw[i], 2)}, "
                f"capped at {fmt_number(cap[i], 2)} per project"
            ),
            rows=excess,
        ),
        Note(
            lambda i: (
                f"按层数：{storeys_text(i, 'zh')} = {fmt_number(storey_raw[i], 2)} 元，"
                f"单个项目最高 {fmt_number(cap[i], 2)} 元"
            ),
            lambda i: (
                f"by storey: {storeys_text(i, 'en')} = {fmt_number(storey_raw[i], 2)}, "
                f"capped at {fmt_number(cap[i], 2)}"
            ),
            rows=storeys & any_storey,
        ),
        missing_note(
            unknown,
            "新增4层、5层、6层及以上生产厂房建筑面积（按层数奖励须至少填写其中一项）",
            "the new factory floor area on storeys 4, 5 and 6-plus (the per-storey reward needs at least one of them)",
        ),
        Note(
            lambda i: (
                f"亩均评价 {cls[i] or '未提供'} 类不在按层数奖励的适用类别（{fmt_classes(route_classes(i), 'zh')}）内，"
                "按层数奖励为 0（假设参数 vertical_industry.storeys_route_classes）"
            ),
            lambda i: (
                f"class {cls[i] or 'not given'} is not among the classes receiving the per-storey reward "
                f"({fmt_classes(route_classes(i), 'en', 'and')}): no reward "
                "(assumption vertical_industry.storeys_route_classes)"
            ),
            rows=storeys & ~storey_ok,
        ),
    ]

    def quote(i: int) -> str:
        return QUOTE_STOREYS if storeys[i] else QUOTE_EXCESS

    only = {
        "assumption_rows": {
            NS + "excess_area_reading": excess & rise_met & share_met,
            NS + "storeys_route_classes": storeys & np.isin(cls, ["C", "D"]),
        },
        # The readings stated with the values used at each row's date (the parameter notes state the defaults).
        "assumption_notes": {
            NS + "excess_area_reading": (
                lambda i: (
                    "两项条件均满足时取两者超出面积中的较大者："
                    f"容积率超出部分 =（技改后容积率 − {factor(i)} × 技改前容积率）× 用地面积；"
                    f"建筑面积超出部分 = 技改建筑面积 − {share_pct(i)} × 技改后总建筑面积。"
                ),
                lambda i: (
                    "When both criteria are met the larger excess counts — "
                    f"plot-ratio excess = (after − {factor(i)} × before) × land area; "
                    f"floor-area excess = renovated − {share_pct(i)} × total after."
                ),
            ),
            NS + "storeys_route_classes": (
                lambda i: (
                    "按层数奖励的一句未限定亩均评价类别；"
                    f"本次计算中可享受的类别为 {fmt_classes(route_classes(i), 'zh')}。"
                ),
                lambda i: (
                    "The per-storey sentence names no class; "
                    f"here it goes to classes {fmt_classes(route_classes(i), 'en', 'and')}."
                ),
            ),
        },
    }
    params = tuple(
        NS + n
        for n in (
            "min_plot_ratio_rise",
            "min_renovated_share",
            "excess_rate_by_class",
            "excess_area_reading",
            "storey_rates",
            "storeys_route_classes",
            "cap_per_project",
        )
    )
    return [
        Outcome(
            "vertical_industry_route",
            route,
            status(live, excess | storeys),
            "2.11",
            QUOTE_EXCESS,
            checks,
            params,
            extra={"quote_per_row": quote, **only},
            labels=("none", "excess", "storeys"),
        ),
        Outcome(
            "vertical_industry_reward",
            reward,
            np.where(
                ~live, NOT_IN_FORCE, np.where(unknown, INSUFFICIENT_DATA, np.where(reward > 0, APPLIED, NOT_APPLICABLE))
            ).astype(np.int8),
            "2.11",
            QUOTE_EXCESS,
            notes,
            params,
            null=unknown,
            extra={"quote_per_row": quote, **only},
        ),
    ]


_GATE = needs("enterprise", "zero_land_renovation", "self_owned_and_used")
_CLASS = needs("mujun_class|mujun_class_computed", on="enterprise")
_AREAS = needs(
    "land_area",
    "plot_ratio_before",
    "plot_ratio_after",
    "renovated_floor_area",
    "total_floor_area_after",
    zero_land_renovation=True,
)

RULE = Rule(
    id="vertical_industry",
    clause="2.11",
    entity="projects",
    outputs=("vertical_industry_route", "vertical_industry_reward"),
    compute=compute,
    needs={"vertical_industry_route": _GATE + _AREAS, "vertical_industry_reward": _GATE + _AREAS + _CLASS},
    title_zh="垂直工业奖励",
    title_en="Vertical-industry reward",
)
