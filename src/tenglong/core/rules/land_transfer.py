"""2.7 split and merge transfers of industrial land, and 2.12 pre-registration.

2.7 checks every condition of the clause and lists each one that fails:

* split: completed and in production; by whole buildings; ≤ 3 parcels (except
  industrial real estate); every parcel ≥ 10 亩; no ancillary land split off;
  the parcel came from no earlier split and no merge;
* merge: same ownership nature and use-right type; adjacent; the merged term is
  the shortest remaining term;
* both: the transferee is compliant; its class last year is not C or D; on
  standard land it accepts the original indicators.

2.12: pre-registration when the land is low-efficiency, less than 25 % of the
investment is made, no contract restriction, and both approvals are given;
transfer registration once 25 % is reached (城市房地产管理法 第三十九条).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..exact import I64
from ..trace import Check, Note, Outcome, flag_check, fmt_classes, fmt_number, fmt_trim, threshold_check
from ._common import Context, Rule, boundary_of, meets, needs, status, table_keys, table_lookup

NS = "land_transfer."
KIND_ZH = {"split": "分割转让", "merge": "合并转让", "pre_registration": "预告登记"}
QUOTE = (
    "在符合规划、消防安全、环境保护等相关要求和土地出让合同约定(或划拨决定书规定)前提下,允许工业用地分割、合并转让。"
)
QUOTE_TERM = "对剩余出让年限不一致的,按照合并前宗地中的剩余最短年限统一。"
QUOTE_PRE = "开发投资总额未达到25%的低效工业用地使用权人与拟受让人签订附条件转让合同并办理预告登记。"
QUOTE_REG = "待开发投资总额达到法定要求时,再依法办理不动产转移登记。"

# (code, zh, en): the conditions of 2.7, in the order of the clause. Three of them carry a parameter
# value; ``compute`` states those with the values used (these texts are what the shipped values give).
CONDITIONS = {
    "not_completed": ("拟分割地块应已竣工投产", "the parcel to split must be completed and in production"),
    "not_by_whole_buildings": ("应以幢为最小分割单位", "the split must be by whole buildings"),
    "too_many_parcels": (
        "分割数量（工业地产除外）原则上不超过3宗",
        "at most 3 parcels after a split (industrial real estate excepted)",
    ),
    "parcel_too_small": ("分割后每宗土地面积不少于10亩", "every parcel after a split must be at least 10 mu"),
    "ancillary_land_split": (
        "配套建设的行政办公及生活服务用地不得与整宗地分割转让",
        "ancillary office and living land may not be split off",
    ),
    "second_split": ("工业用地不得二次分割转让", "industrial land may not be split a second time"),
    "split_after_merge": ("合并转让后产权不得分割", "a merged title may not be split"),
    "ownership_differs": (
        "合并转让所涉及的工业用地权属性质应一致",
        "merged parcels must have the same ownership nature",
    ),
    "use_right_differs": ("使用权类型应一致", "merged parcels must have the same type of use right"),
    "not_adjacent": ("界线相邻", "merged parcels must be adjacent"),
    "transferee_noncompliant": (
        "不得向能耗、环保、质量、安全等不符合要求的企业转让",
        "no transfer to a firm failing energy, environment, quality or safety requirements",
    ),
    "transferee_class_c_or_d": (
        "不得向上一年度亩均评价C、D类企业转让",
        "no transfer to a firm classed C or D last year",
    ),
    "standard_land_terms_not_accepted": (
        "原按“标准地”出让的，受让方应按原“标准地”各项指标要求投资建设",
        "on standard land, the transferee must invest to the original standard-land indicators",
    ),
}


def compute(ctx: Context) -> list[Outcome]:
    """2.7 and 2.12 outputs for every land transfer."""
    f = ctx.frame("land_transfers")
    days = ctx.days("land_transfers")
    live7, live12 = ctx.in_force("2.7", days), ctx.in_force("2.12", days)
    kind = f.get("kind")
    split, merge, pre = kind == "split", kind == "merge", kind == "pre_registration"
    g = f.get
    p_parcels, p_area = ctx.p(NS + "split_max_parcels"), ctx.p(NS + "split_min_parcel_area_mu")
    parcels_ok, lim_parcels = meets(g("parcel_count_after"), p_parcels, days, 0)
    area_ok, lim_area = meets(g("smallest_parcel_area_mu"), p_area, days, 4)
    cls = g("transferee_mujun_class_last_year")
    p_barred = ctx.p(NS + "barred_transferee_classes")
    barred = table_lookup(p_barred, days, cls, default=False).astype(bool)
    barred_classes = table_keys(p_barred, days, True)
    std = g("standard_land")
    failed = {
        "not_completed": split & ~g("completed_and_in_production"),
        "not_by_whole_buildings": split & ~g("split_by_whole_buildings"),
        "too_many_parcels": split & ~g("industrial_real_estate") & ~parcels_ok,
        "parcel_too_small": split & ~area_ok,
        "ancillary_land_split": split & g("separates_ancillary_land"),
        "second_split": split & g("parcel_from_earlier_split"),
        "split_after_merge": split & g("parcel_from_earlier_merge"),
        "ownership_differs": merge & ~g("same_ownership_nature"),
        "use_right_differs": merge & ~g("same_use_right_type"),
        "not_adjacent": merge & ~g("adjacent"),
        "transferee_noncompliant": (split | merge) & ~g("transferee_compliant"),
        "transferee_class_c_or_d": (split | merge) & barred,
        "standard_land_terms_not_accepted": (split | merge) & std & ~g("transferee_accepts_standard_land_terms"),
    }
    any_failed = np.zeros(f.n, dtype=bool)
    for mask in failed.values():
        any_failed |= mask
    allowed = live7 & (split | merge) & ~any_failed

    terms = g("remaining_terms_years")
    if terms.ndim == 2 and terms.shape[1]:
        padded = np.where(terms < 0, np.iinfo(I64).max, terms)
        merged_term = padded.min(axis=1)
    else:
        merged_term = np.zeros(f.n, dtype=I64)
    term_applies = live7 & merge

    # The conditions that carry a number or a class list, stated with the values used at each row's date.
    b_parcels, b_area = boundary_of(p_parcels), boundary_of(p_area)
    stated: dict[str, tuple[Callable[[int], str], Callable[[int], str]]] = {
        "too_many_parcels": (
            lambda i: f"分割数量（工业地产除外）原则上{b_parcels.term}{fmt_trim(lim_parcels[i], 0)}宗",
            lambda i: (
                f"{OP_EN[b_parcels.op]} {fmt_trim(lim_parcels[i], 0)} parcels after a split "
                "(industrial real estate excepted)"
            ),
        ),
        "parcel_too_small": (
            lambda i: f"分割后每宗土地面积{b_area.term}{fmt_trim(lim_area[i], 4)}亩",
            lambda i: f"every parcel after a split must be {OP_EN[b_area.op]} {fmt_trim(lim_area[i], 4)} mu",
        ),
        "transferee_class_c_or_d": (
            lambda i: f"不得向上一年度亩均评价{fmt_classes(barred_classes(i), 'zh')}类企业转让",
            lambda i: f"no transfer to a firm classed {fmt_classes(barred_classes(i), 'en')} last year",
        ),
    }
    violations = ViolationList(failed, live7, stated)
    checks: list = [
        Note(lambda i: f"转让方式：{KIND_ZH.get(kind[i], kind[i])}", lambda i: f"kind of transfer: {kind[i]}"),
        Note(
            "预告登记适用第（十二）项，见 pre_registration_allowed",
            "pre-registration falls under 2.12: see pre_registration_allowed",
            rows=pre,
        ),
        threshold_check(
            "split_max_parcels",
            "分割宗数",
            "parcels after the split",
            g("parcel_count_after"),
            0,
            "宗",
            lim_parcels,
            p_parcels.boundary,
            parcels_ok | g("industrial_real_estate"),
            applies=split,
        ),
        threshold_check(
            "split_min_parcel_area_mu",
            "分割后最小一宗面积",
            "smallest parcel",
            g("smallest_parcel_area_mu"),
            4,
            "亩",
            lim_area,
            p_area.boundary,
            area_ok,
            applies=split,
        ),
        Check(
            "transferee_class",
            ~barred,
            "受让方上一年度亩均评价类别：{c}（不得为 {barred} 类）",
            "transferee's class last year: {c} (must not be {barred_en})",
            {
                "c": lambda i: cls[i] or "none",
                "barred": lambda i: fmt_classes(barred_classes(i), "zh"),
                "barred_en": lambda i: fmt_classes(barred_classes(i), "en"),
            },
            applies=split | merge,
        ),
        Note(
            lambda i: "违反条件：" + ("；".join(violations.message(c, i, "zh") for c in violations.codes(i)) or "无"),
            lambda i: (
                "conditions violated: "
                + ("; ".join(violations.message(c, i, "en") for c in violations.codes(i)) or "none")
            ),
        ),
    ]
    term_note = [
        Note(
            lambda i: (
                "合并前各宗剩余年限："
                + "、".join(fmt_number(t, 2) for t in terms[i] if t >= 0)
                + f" 年，统一为最短的 {fmt_number(merged_term[i], 2)} 年"
            ),
            lambda i: (
                "remaining terms: "
                + ", ".join(fmt_number(t, 2) for t in terms[i] if t >= 0)
                + f" years; unified to the shortest, {fmt_number(merged_term[i], 2)} years"
            ),
            rows=term_applies,
        ),
        Note(
            lambda i: f"本记录为{KIND_ZH.get(kind[i], kind[i])}，不涉及合并后剩余年限",
            lambda i: f"this is a {kind[i]}; no merged term applies",
            rows=~(kind == "merge"),
        ),
    ]

    ratio = g("investment_ratio")
    p_max, p_min = (
        ctx.p("pre_registration.max_investment_ratio"),
        ctx.p("pre_registration.transfer_min_investment_ratio"),
    )
    below, lim_below = meets(ratio, p_max, days, 6)
    reached, lim_reached = meets(ratio, p_min, days, 6)
    live_reg = _law_in_force(ctx, p_min, days)
    pre_ok = (
        live12
        & pre
        & g("low_efficiency_land")
        & below
        & ~g("contract_restricts_transfer")
        & g("industry_department_approved")
        & g("government_approved")
    )
    reg_ok = live_reg & pre & reached
    not_pre = Note(
        lambda i: f"本记录为{KIND_ZH.get(kind[i], kind[i])}，不适用预告登记（第（十二）项）",
        lambda i: f"this is a {kind[i]}; pre-registration (2.12) does not apply",
        rows=~pre,
    )
    pre_checks = [
        flag_check("low_efficiency_land", "低效工业用地", "low-efficiency land", g("low_efficiency_land"), applies=pre),
        threshold_check(
            "max_investment_ratio",
            "开发投资总额占比",
            "share of investment made",
            ratio,
            6,
            "%",
            lim_below,
            p_max.boundary,
            below,
            applies=pre,
        ),
        flag_check(
            "contract_restricts_transfer",
            "出让合同有特殊限制转让约定",
            "contract restricts transfer",
            g("contract_restricts_transfer"),
            want=False,
            applies=pre,
        ),
        flag_check(
            "industry_department_approved",
            "经行业主管部门批准",
            "approved by the industry department",
            g("industry_department_approved"),
            applies=pre,
        ),
        flag_check(
            "government_approved",
            "经市政府研究同意",
            "approved by the city government",
            g("government_approved"),
            applies=pre,
        ),
        not_pre,
    ]
    reg_checks = [
        threshold_check(
            "transfer_min_investment_ratio",
            "开发投资总额占比（城市房地产管理法第三十九条）",
            "share of investment made (Urban Real Estate Law art. 39)",
            ratio,
            6,
            "%",
            lim_reached,
            p_min.boundary,
            reached,
            applies=pre,
        ),
        not_pre,
    ]
    return [
        Outcome(
            "transfer_allowed",
            allowed,
            status(live7, allowed),
            "2.7",
            QUOTE,
            checks,
            (NS + "split_max_parcels", NS + "split_min_parcel_area_mu", NS + "barred_transferee_classes"),
        ),
        Outcome(
            "transfer_violations",
            violations.as_array(f.n),
            status(live7, split | merge),
            "2.7",
            QUOTE,
            checks,
            extra={"violations": violations},
        ),
        Outcome(
            "merged_remaining_term_years",
            np.where(term_applies, merged_term, 0),
            status(live7, term_applies),
            "2.7",
            QUOTE_TERM,
            term_note,
            null=~term_applies,
        ),
        Outcome(
            "pre_registration_allowed",
            pre_ok,
            status(live12, pre_ok),
            "2.12",
            QUOTE_PRE,
            pre_checks,
            ("pre_registration.max_investment_ratio",),
        ),
        Outcome(
            "transfer_registration_allowed",
            reg_ok,
            status(live_reg, reg_ok),
            "2.12",
            QUOTE_REG,
            reg_checks,
            ("pre_registration.transfer_min_investment_ratio",),
        ),
    ]


def _law_in_force(ctx: Context, p, days: np.ndarray) -> np.ndarray:
    """Transfer registration follows the statute, in force whenever its parameter is defined."""
    idx = p.index_at(days)
    defined = np.array([v is not None for v in p.values] + [False], dtype=bool)
    return defined[np.where(idx < 0, len(p.values), idx)]


OP_EN = {">=": "at least", ">": "more than", "<=": "at most", "<": "fewer than"}


class ViolationList:
    """Per-row list of violated 2.7 conditions, built only for rows that are shown.

    ``stated`` renders, per row, the conditions that carry a parameter value (a
    limit or a class list) with the value used at that row's date.
    """

    def __init__(
        self,
        failed: dict[str, np.ndarray],
        live: np.ndarray,
        stated: dict[str, tuple[Callable[[int], str], Callable[[int], str]]] | None = None,
    ) -> None:
        self.failed = failed
        self.live = live
        self.stated = stated or {}

    def codes(self, i: int) -> list[str]:
        """Violated condition codes of row ``i``, in clause order."""
        return [c for c, m in self.failed.items() if m[i]] if self.live[i] else []

    def message(self, code: str, i: int, lang: str) -> str:
        """The text of one condition for row ``i``, with the values used."""
        k = 0 if lang == "zh" else 1
        return self.stated[code][k](i) if code in self.stated else CONDITIONS[code][k]

    def items(self, i: int) -> list[dict[str, str]]:
        """``[{clause, code, message, message_en}]`` for row ``i``."""
        return [
            {"clause": "2.7", "code": c, "message": self.message(c, i, "zh"), "message_en": self.message(c, i, "en")}
            for c in self.codes(i)
        ]

    def as_array(self, n: int) -> np.ndarray:
        """Number of violations per row (the list itself is rendered on output)."""
        count = np.zeros(n, dtype=I64)
        for m in self.failed.values():
            count += m & self.live
        return count


_BOTH = needs("kind") + needs("transferee_mujun_class_last_year", "transferee_compliant", kind=("split", "merge"))
_SPLIT = needs(
    "completed_and_in_production",
    "split_by_whole_buildings",
    "parcel_count_after",
    "smallest_parcel_area_mu",
    "separates_ancillary_land",
    "parcel_from_earlier_split",
    "parcel_from_earlier_merge",
    kind="split",
)
_MERGE = needs("same_ownership_nature", "same_use_right_type", "adjacent", "remaining_terms_years", kind="merge")
_STD = needs("transferee_accepts_standard_land_terms", standard_land=True)
_PRE = needs("kind") + needs(
    "low_efficiency_land",
    "investment_ratio",
    "contract_restricts_transfer",
    "industry_department_approved",
    "government_approved",
    kind="pre_registration",
)

RULE = Rule(
    id="land_transfer",
    clause="2.7",
    entity="land_transfers",
    outputs=(
        "transfer_allowed",
        "transfer_violations",
        "merged_remaining_term_years",
        "pre_registration_allowed",
        "transfer_registration_allowed",
    ),
    compute=compute,
    needs={
        "transfer_allowed": _BOTH + _SPLIT + _MERGE + _STD,
        "transfer_violations": _BOTH + _SPLIT + _MERGE + _STD,
        "merged_remaining_term_years": needs("kind") + _MERGE,
        "pre_registration_allowed": _PRE,
        "transfer_registration_allowed": needs("kind") + needs("investment_ratio", kind="pre_registration"),
    },
    title_zh="工业用地分割、合并转让与预告登记",
    title_en="Split and merge transfers; pre-registration",
)
