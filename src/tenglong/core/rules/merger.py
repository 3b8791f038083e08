"""2.9 Mergers: quota transfer, and the cap of the pharma acquisition reward.

* Quotas (land, energy, emission) pass to the merged firm when the acquirer was
  class A or B last year, the target is 两高一低, and the merged firm stays
  registered and taxed in Linhai.
* A listed pharma/chemical company (or subsidiary) buying a pharma/chemical firm
  inside 台州湾经济技术开发区 may get at most 18万元 per 亩 of acquired land.
"""

from __future__ import annotations

import numpy as np

from ..exact import I64, div_half_up
from ..trace import Check, Note, Outcome, flag_check, fmt_classes, fmt_number
from ._common import Context, Rule, missing_note, needs, status, table_keys, table_lookup

NS = "merger."
QUOTE_QUOTA = (
    "对市内外上一年度亩均评价为A、B类企业兼并“两高一低”企业,重组后企业注册地和税收仍在我市的,“两高一低”企业所属的土地、"
    "用能、排污等指标全部归重组后企业所有"
)
QUOTE_PHARMA = "对成功收购的,按收购土地面积给予最高不超过18万元/亩的奖励,用于企业装备提升、工艺改进及环境治理等。"


def compute(ctx: Context) -> list[Outcome]:
    """2.9 outputs for every merger."""
    f = ctx.frame("mergers")
    days = ctx.days("mergers")
    live = ctx.in_force("2.9", days)
    cls = f.get("acquirer_mujun_class_last_year")
    p_classes = ctx.p(NS + "quota_acquirer_classes")
    class_ok = table_lookup(p_classes, days, cls, default=False).astype(bool)
    allowed = table_keys(p_classes, days, True)
    two_high, local = f.get("target_two_high_one_low"), f.get("registered_and_taxed_locally_after")
    quotas = live & class_ok & two_high & local
    listed, target, zone = f.get("acquirer_listed_pharma"), f.get("target_pharma"), f.get("target_in_taizhou_bay_zone")
    pharma = live & listed & target & zone
    area = f.get("acquired_land_area_mu")
    unknown = pharma & ~f.present("acquired_land_area_mu")  # a blank is not 0 亩: the cap cannot be told
    per_mu = ctx.p(NS + "pharma_reward_per_mu").scaled_at(days, 2)
    # 分/亩 × 亩×10⁴ → 分×10⁴; one half-up rounding at the output.
    cap = np.where(pharma, div_half_up(per_mu * area, I64(10**4)), 0)
    checks = [
        Check(
            "acquirer_class",
            class_ok,
            "兼并方上一年度亩均评价类别 {c}（须为 {ok} 类）",
            "acquirer's class last year {c} (must be {ok_en})",
            {
                "c": lambda i: cls[i] or "none",
                "ok": lambda i: fmt_classes(allowed(i), "zh"),
                "ok_en": lambda i: fmt_classes(allowed(i), "en"),
            },
        ),
        flag_check("target_two_high_one_low", "被兼并方为“两高一低”企业", "target is two-high-one-low", two_high),
        flag_check(
            "registered_and_taxed_locally_after",
            "重组后注册地和税收仍在本市",
            "registered and taxed in Linhai after",
            local,
        ),
    ]
    pharma_checks = [
        flag_check(
            "acquirer_listed_pharma",
            "医化行业上市公司及其子公司",
            "listed pharma/chemical company or subsidiary",
            listed,
        ),
        flag_check("target_pharma", "收购对象为医化企业", "target is a pharma/chemical firm", target),
        flag_check("target_in_taizhou_bay_zone", "位于台州湾经济技术开发区内", "inside the Taizhou Bay zone", zone),
        Note(
            lambda i: (
                f"收购土地 {fmt_number(area[i], 4)} 亩 × {fmt_number(per_mu[i], 2)} 元/亩 = "
                f"{fmt_number(cap[i], 2)} 元（奖励上限，实际奖励以认定为准）"
            ),
            lambda i: (
                f"{fmt_number(area[i], 4)} mu × {fmt_number(per_mu[i], 2)} yuan/mu = {fmt_number(cap[i], 2)} "
                "(the cap; the award itself is decided case by case)"
            ),
            rows=pharma & ~unknown,
        ),
        missing_note(
            unknown, "收购土地面积（奖励上限按收购土地面积计）", "the acquired land area (the cap is per mu acquired)"
        ),
    ]
    return [
        Outcome(
            "quotas_transfer_to_merged",
            quotas,
            status(live, quotas),
            "2.9",
            QUOTE_QUOTA,
            checks,
            (NS + "quota_acquirer_classes",),
        ),
        Outcome(
            "pharma_acquisition_reward_cap",
            cap.astype(I64),
            status(live, pharma, unknown),
            "2.9",
            QUOTE_PHARMA,
            pharma_checks,
            (NS + "pharma_reward_per_mu",),
            null=unknown,
        ),
    ]


RULE = Rule(
    id="merger",
    clause="2.9",
    entity="mergers",
    outputs=("quotas_transfer_to_merged", "pharma_acquisition_reward_cap"),
    compute=compute,
    needs={
        "quotas_transfer_to_merged": needs(
            "acquirer_mujun_class_last_year", "target_two_high_one_low", "registered_and_taxed_locally_after"
        ),
        # The area matters only for a pharma acquisition; without it that cap is insufficient_data.
        "pharma_acquisition_reward_cap": (),
    },
    title_zh="兼并重组",
    title_en="Mergers and acquisitions",
)
