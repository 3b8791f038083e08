"""2.5 Scattered plots (零星边角地、夹心地) and 2.6 the fee waiver.

2.5: eligible for an agreement transfer when the project is a zero-new-land
renovation fitting the industrial direction, the scattered area is ≤ 20 % of the
original land and ≤ 10 亩, and the plot ratio rises by ≥ 20 % or the renovated
floor area is ≥ 20 % of the total after (all bounds inclusive, 以上/不超过).

2.6: eligible when land use is unchanged, the project is a zero-new-land
renovation for the firm's own industrial production, and the plot ratio rises
(``after > before``); the waiver is the land premium plus the infrastructure fee.
A blank is not a zero: with neither amount given the amount waived cannot be
told (``insufficient_data``); one left blank beside the other counts as none, and
the explanation says so.
"""

from __future__ import annotations

import numpy as np

from ..boundary import SYMBOL
from ..trace import Check, Note, Outcome, flag_check, fmt_number, threshold_check
from ._common import Context, Rule, boundary_of, meets, missing_note, needs, percents, ratio_meets, status

NS = "scattered_land."
QUOTE = (
    "零星边角地、夹心地在符合相关规划要求,"
    "累计面积不超过原用地面积20%且不超过10亩并同时满足“零增地”技改后容积率提高20%以上的,"
    "或“零增地”技改建筑面积占“零增地”技改后总建筑面积20%以上的,由土地使用者提出申请,经市政府集体研究同意,"
    "可按照有关规定办理协议出让手续"
)
QUOTE_WAIVER = (
    "在不改变土地用途且符合相关规范、规定的前提下,企业通过“零增地”技改提高土地投资强度、"
    "利用效率和土地出让合同约定容积率且用于企业自身工业生产的,免收土地价款、市政基础设施配套费等费用。"
)


def compute(ctx: Context) -> list[Outcome]:
    """``scattered_land_agreement_eligible`` for every project."""
    f = ctx.frame("projects")
    days = ctx.days("projects")
    live = ctx.in_force("2.5", days)
    zero_land, direction = f.get("zero_land_renovation"), f.get("industry_direction_compliant")
    original, scattered = f.get("original_land_area_mu"), f.get("scattered_land_area_mu")
    before, after = f.get("plot_ratio_before"), f.get("plot_ratio_after")
    renovated, total = f.get("renovated_floor_area"), f.get("total_floor_area_after")
    p_share, p_area = ctx.p(NS + "max_share_of_original"), ctx.p(NS + "max_area_mu")
    p_rise, p_ren = ctx.p(NS + "min_plot_ratio_rise"), ctx.p(NS + "min_renovated_share")
    share_ok = ratio_meets(scattered, original, p_share, days)
    area_ok, area_lim = meets(scattered, p_area, days, 4)
    rise_ok = ratio_meets(after, before, p_rise, days, plus_one=True)
    ren_ok = ratio_meets(renovated, total, p_ren, days)
    eligible = live & zero_land & direction & share_ok & area_ok & (rise_ok | ren_ok)
    b_share, b_rise, b_ren = boundary_of(p_share), boundary_of(p_rise), boundary_of(p_ren)
    checks = [
        flag_check("zero_land_renovation", "“零增地”技改", "zero-new-land renovation", zero_land),
        flag_check("industry_direction_compliant", "符合产业发展导向", "fits the industrial direction", direction),
        Check(
            "max_share_of_original",
            share_ok,
            f"零星地块 {{s}} 亩 {SYMBOL[b_share.op]} 原用地 {{o}} 亩的 {{p}}（{b_share.zh}）",
            f"scattered {{s}} mu {SYMBOL[b_share.op]} {{p}} of the original {{o}} mu ({b_share.en})",
            {
                "s": lambda i: fmt_number(scattered[i], 4),
                "o": lambda i: fmt_number(original[i], 4),
                "p": percents(p_share, days),
            },
        ),
        threshold_check("max_area_mu", "零星地块", "scattered", scattered, 4, "亩", area_lim, p_area.boundary, area_ok),
        Check(
            "min_plot_ratio_rise",
            rise_ok,
            f"容积率由 {{b}} 提高到 {{a}}，提高幅度 {SYMBOL[b_rise.op]} {{p}}（{b_rise.zh}）",
            f"plot ratio {{b}} → {{a}}, a rise {SYMBOL[b_rise.op]} {{p}} ({b_rise.en})",
            {
                "a": lambda i: fmt_number(after[i], 4),
                "b": lambda i: fmt_number(before[i], 4),
                "p": percents(p_rise, days),
            },
        ),
        Check(
            "min_renovated_share",
            ren_ok,
            f"技改建筑面积 {{r}} m² 占技改后总建筑面积 {{t}} m² 的比例 {SYMBOL[b_ren.op]} {{p}}（{b_ren.zh}）",
            f"renovated {{r}} m² is {SYMBOL[b_ren.op]} {{p}} of {{t}} m² ({b_ren.en})",
            {
                "r": lambda i: fmt_number(renovated[i], 2),
                "t": lambda i: fmt_number(total[i], 2),
                "p": percents(p_ren, days),
            },
        ),
        Note(
            "容积率与建筑面积两项条件满足其一即可；另须市政府集体研究同意",
            "either the plot-ratio or the floor-area condition suffices; the city government must also agree",
        ),
    ]
    params = tuple(
        NS + n for n in ("max_share_of_original", "max_area_mu", "min_plot_ratio_rise", "min_renovated_share")
    )
    return [
        Outcome("scattered_land_agreement_eligible", eligible, status(live, eligible), "2.5", QUOTE, checks, params)
    ]


RULE = Rule(
    id="scattered_land",
    clause="2.5",
    entity="projects",
    outputs=("scattered_land_agreement_eligible",),
    compute=compute,
    needs={
        "scattered_land_agreement_eligible": needs(
            "zero_land_renovation",
            "original_land_area_mu",
            "scattered_land_area_mu",
            "plot_ratio_before",
            "plot_ratio_after",
            "renovated_floor_area",
            "total_floor_area_after",
        )
    },
    title_zh="零星地块协议出让",
    title_en="Agreement transfer of scattered plots",
)


def waiver(ctx: Context) -> list[Outcome]:
    """2.6 ``fee_waiver_eligible`` and ``fees_waived`` for every project."""
    f = ctx.frame("projects")
    days = ctx.days("projects")
    live = ctx.in_force("2.6", days)
    unchanged, zero_land, own = f.get("land_use_unchanged"), f.get("zero_land_renovation"), f.get("own_industrial_use")
    before, after = f.get("plot_ratio_before"), f.get("plot_ratio_after")
    rises = after > before
    eligible = live & unchanged & zero_land & own & rises
    premium, fee = f.get("land_premium_due"), f.get("infrastructure_fee_due")
    has_premium, has_fee = f.present("land_premium_due"), f.present("infrastructure_fee_due")
    unknown = eligible & ~has_premium & ~has_fee
    waived = np.where(eligible, premium + fee, 0)

    def amount(i: int, values: np.ndarray, given: np.ndarray, lang: str) -> str:
        if not given[i]:
            return "未填写（按 0 计）" if lang == "zh" else "blank (counted as none)"
        return f"{fmt_number(values[i], 2)} 元" if lang == "zh" else fmt_number(values[i], 2)

    checks = [
        flag_check("land_use_unchanged", "不改变土地用途", "land use unchanged", unchanged),
        flag_check("zero_land_renovation", "“零增地”技改", "zero-new-land renovation", zero_land),
        flag_check("own_industrial_use", "用于企业自身工业生产", "own industrial production", own),
        Check(
            "plot_ratio_raised",
            rises,
            "容积率由 {b} 提高到 {a}（须提高）",
            "plot ratio {b} → {a} (must rise)",
            {"a": lambda i: fmt_number(after[i], 4), "b": lambda i: fmt_number(before[i], 4)},
        ),
        Note(
            lambda i: (
                f"免收土地价款 {amount(i, premium, has_premium, 'zh')} + 市政基础设施配套费 "
                f"{amount(i, fee, has_fee, 'zh')} = {fmt_number(waived[i], 2)} 元"
            ),
            lambda i: (
                f"waived land premium {amount(i, premium, has_premium, 'en')} + infrastructure fee "
                f"{amount(i, fee, has_fee, 'en')} = {fmt_number(waived[i], 2)}"
            ),
            rows=eligible & ~unknown,
        ),
        missing_note(
            unknown,
            "应缴土地价款和市政基础设施配套费（免收金额须至少填写其中一项）",
            "the land premium and the infrastructure fee due (the amount waived needs at least one of them)",
        ),
    ]
    return [
        Outcome("fee_waiver_eligible", eligible, status(live, eligible), "2.6", QUOTE_WAIVER, checks[:4]),
        Outcome("fees_waived", waived, status(live, eligible, unknown), "2.6", QUOTE_WAIVER, checks, null=unknown),
    ]


_W = needs("land_use_unchanged", "zero_land_renovation", "own_industrial_use", "plot_ratio_before", "plot_ratio_after")

WAIVER_RULE = Rule(
    id="fee_waiver",
    clause="2.6",
    entity="projects",
    outputs=("fee_waiver_eligible", "fees_waived"),
    compute=waiver,
    needs={"fee_waiver_eligible": _W, "fees_waived": _W},
    title_zh="免收土地价款等费用",
    title_en="Fee waiver",
)
