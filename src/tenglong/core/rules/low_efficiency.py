"""A.2 the two low-efficiency flags (two consecutive years: this period and the one before).

* ``low_efficiency_enterprise``: tax per mu ≤ 5 万元 in both years (5万元(含)以下).
* ``billion_yuan_low_tax_enterprise``: revenue this year ≥ 1亿 (assumption on
  “亿元企业”) and tax per mu ≤ 10 万元 in both years.

Tax per mu is exact: ``tax_paid / land_area_mu`` compared by cross-multiplication,
or the given ``tax_per_mu``.
"""

from __future__ import annotations

import numpy as np

from ..boundary import SYMBOL
from ..exact import I64, div_half_up
from ..trace import APPLIED, NOT_APPLICABLE, Check, Note, Outcome, fmt_exact, fmt_number, threshold_check
from ._common import Context, Rule, boundary_of, meets, needs, status

NS = "low_efficiency."
QUOTE = "完成亩均税收连续两年10万元(含)以下的亿元企业、5万元(含)以下的低效企业的改造提升"


def tax_per_mu(ctx: Context, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact tax per mu of every enterprise in ``year`` as (numerator, denominator, known).

    Units: 万元/亩 = numerator / denominator. From ``tax_paid`` (分) and
    ``land_area_mu`` (亩×10⁴): tax/10⁶ ÷ land/10⁴ = tax / (land × 100).
    A given ``tax_per_mu`` (×10⁴) takes precedence.
    """
    e = ctx.frame("enterprises")
    strict = year != ctx.period
    given, g_ok = e.column("tax_per_mu", year, strict)
    tax, t_ok = e.column("tax_paid", year, strict)
    land, l_ok = e.column("land_area_mu", year, strict)
    from_parts = t_ok & l_ok & (land > 0)
    num = np.where(g_ok, given, tax)
    den = np.where(g_ok, I64(10**4), np.maximum(land, 1) * 100)
    return num, den, g_ok | from_parts


def compute(ctx: Context) -> list[Outcome]:
    """Both A.2 flags and ``tax_per_mu`` (4 decimals) for every enterprise."""
    e = ctx.frame("enterprises")
    days = ctx.days("enterprises")
    live = ctx.in_force("A.2", days)
    years = [ctx.period - k for k in range(int(ctx.p(NS + "consecutive_years").uniform(days)))]
    p5, p10 = ctx.p(NS + "low_efficiency_max_tax_per_mu"), ctx.p(NS + "billion_max_tax_per_mu")
    lim5, lim10 = p5.scaled_at(days, 4), p10.scaled_at(days, 4)
    b5, b10 = boundary_of(p5), boundary_of(p10)
    ops = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
    known = np.ones(e.n, dtype=bool)
    all5, all10 = known.copy(), known.copy()
    checks5: list = []
    checks10: list = []
    shown: dict[int, np.ndarray] = {}
    for y in years:
        num, den, k = tax_per_mu(ctx, y)
        # num/den ≤ lim/10⁴ ⇔ num × 10⁴ ≤ lim × den (the comparison is the parameter's boundary word)
        le5, le10 = ops[b5.op](num * 10**4, lim5 * den), ops[b10.op](num * 10**4, lim10 * den)
        known &= k
        all5 &= le5
        all10 &= le10
        shown[y] = div_half_up(num * 10**4, den)

        def text(i, num=num, den=den, k=k):
            return fmt_exact(num[i], den[i]) if k[i] else "未知"

        for out, le, lim, b in ((checks5, le5, lim5, b5), (checks10, le10, lim10, b10)):

            def lim_text(i, lim=lim):
                return fmt_number(lim[i], 4)

            out.append(
                Check(
                    f"tax_per_mu_{y}",
                    le & k,
                    f"{y} 年亩均税收 {{t}} 万元/亩 {SYMBOL[b.op]} {{lim}} 万元/亩（{b.zh}）",
                    f"{y} tax per mu {{t}} {SYMBOL[b.op]} {{lim}} ({b.en})",
                    {"t": text, "lim": lim_text},
                )
            )
    missing = Note(
        f"须有连续 {len(years)} 年（{years[-1]}–{years[0]}）的亩均税收数据，缺少时不作认定",
        f"needs tax per mu for {len(years)} consecutive years ({years[-1]}–{years[0]}); no flag without them",
        rows=~known,
    )
    low = live & known & all5
    revenue = e.get("revenue")
    p_rev = ctx.p(NS + "billion_min_revenue")
    rev_ok, lim_rev = meets(revenue, p_rev, days, 2)
    billion = live & known & rev_ok & all10
    y = ctx.period
    rev_check = threshold_check(
        "billion_min_revenue",
        f"{y} 年营业收入（“亿元企业”，假设参数 low_efficiency.billion_min_revenue）",
        f"{y} revenue (assumption low_efficiency.billion_min_revenue)",
        revenue,
        2,
        "元",
        lim_rev,
        p_rev.boundary,
        rev_ok,
    )
    b_rev = boundary_of(p_rev)
    # The reading of “亿元企业”, stated with the revenue threshold used at each row's date.
    revenue_reading = (
        lambda i: (
            f"原文“亿元企业”未定义口径，理解为当年营业收入 {fmt_number(lim_rev[i], 2)} 元{p_rev.term}"
            f"（{'含本数' if b_rev.inclusive else '不含本数'}）。"
        ),
        lambda i: (
            'The text does not define a "100-million-yuan enterprise"; read as revenue in the year '
            f"{SYMBOL[b_rev.op]} {fmt_number(lim_rev[i], 2)} yuan ({b_rev.en})."
        ),
    )
    now = shown[y]
    n_now, d_now, k_now = tax_per_mu(ctx, y)
    tpm_note = [
        Note(
            lambda i: (
                f"实缴税金 ÷ 用地面积 = {fmt_exact(n_now[i], d_now[i])} 万元/亩（输出保留四位小数，比较按精确值）"
            ),
            lambda i: f"tax paid ÷ land = {fmt_exact(n_now[i], d_now[i])} (output to 4 decimals; compared exactly)",
            rows=k_now,
        ),
        Note(
            "缺少实缴税金或用地面积，或用地面积为 0，无法计算亩均税收",
            "tax paid or land area is missing, or the land area is 0: no tax per mu",
            rows=~k_now,
        ),
    ]
    return [
        Outcome(
            "low_efficiency_enterprise",
            low,
            status(live, low),
            "A.2",
            QUOTE,
            [*checks5, missing],
            (NS + "low_efficiency_max_tax_per_mu", NS + "consecutive_years"),
        ),
        Outcome(
            "billion_yuan_low_tax_enterprise",
            billion,
            status(live, billion),
            "A.2",
            QUOTE,
            [rev_check, *checks10, missing],
            (NS + "billion_min_revenue", NS + "billion_max_tax_per_mu", NS + "consecutive_years"),
            extra={"assumption_notes": {NS + "billion_min_revenue": revenue_reading}},
        ),
        Outcome(
            "tax_per_mu",
            now,
            np.where(k_now, APPLIED, NOT_APPLICABLE).astype(np.int8),
            "A.2",
            "亩均税收",
            tpm_note,
            null=~k_now,
        ),
    ]


RULE = Rule(
    id="low_efficiency",
    clause="A.2",
    entity="enterprises",
    outputs=("low_efficiency_enterprise", "billion_yuan_low_tax_enterprise", "tax_per_mu"),
    compute=compute,
    needs={
        "low_efficiency_enterprise": needs("tax_per_mu|tax_paid"),
        "billion_yuan_low_tax_enterprise": needs("tax_per_mu|tax_paid", "revenue"),
        "tax_per_mu": needs("tax_paid", "land_area_mu"),
    },
    title_zh="低效企业认定",
    title_en="Low-efficiency flags",
)
