"""2.3 Approvals for zero-new-land renovation, and 2.4 building density.

* 2.3 phased approval (“一次审批，分期实施，分幢验收，分批发证”) for a zero-new-land
  renovation of several buildings (``planning_approval.phased_min_buildings``,
  assumption: two or more).
* 2.3 drawing review of the renovation and extension works of a zero-land project,
  storey additions excepted: special works before the permit, low-risk works
  exempt, general works after the permit; any other project follows the
  ``standard`` procedure.
* 2.4 a new industrial project on standard land may relax building density once
  to 60 %; otherwise no relaxed cap applies (null).
"""

from __future__ import annotations

import numpy as np

from ..boundary import SYMBOL
from ..trace import Check, Note, Outcome, flag_check, fmt_trim, threshold_check
from ._common import Context, Rule, boundary_of, meets, needs, percents, status, table_codes

QUOTE_PHASED = "对多幢厂房进行“零增地”技改的企业,允许采取“一次审批,分期实施,分幢验收,分批发证”的审批方式。"
QUOTE_REVIEW = (
    "“零土地”技改项目(加层项目除外)改扩建工程的施工图审查实行分类管理,按照特殊建设工程施工许可前审查、"
    "低风险工程免予审查、一般工程施工许可后审查的方式。"
)
MODES = ("standard", "before_permit", "exempt", "after_permit")
QUOTE_DENSITY = "以标准地供地的新建工业项目,建筑密度一次性可放宽至60%"


def compute(ctx: Context) -> list[Outcome]:
    """2.3 outputs for every project."""
    f = ctx.frame("projects")
    days = ctx.days("projects")
    live = ctx.in_force("2.3", days)
    zero_land = f.get("zero_land_renovation")
    adds = f.get("adds_storeys")
    risk = f.get("construction_risk_class")
    buildings = f.get("building_count")
    counted = f.present("building_count")  # a blank is not one building: without it, phasing cannot be told
    p_min = ctx.p("planning_approval.phased_min_buildings")
    many, lim = meets(buildings, p_min, days, 0)
    phased = live & zero_land & many & counted
    unknown = zero_land & ~counted
    b_min = boundary_of(p_min)
    classified = live & zero_land & ~adds
    mode = np.where(
        classified, table_codes(ctx.p("planning_approval.review_mode_by_risk"), days, risk, MODES), 0
    ).astype(np.int8)
    checks_phased = [
        flag_check("zero_land_renovation", "“零增地”技改", "zero-new-land renovation", zero_land),
        threshold_check(
            "phased_min_buildings",
            "技改厂房幢数（“多幢”，假设参数 planning_approval.phased_min_buildings）",
            'buildings renovated ("several", assumption planning_approval.phased_min_buildings)',
            buildings,
            0,
            "幢",
            lim,
            p_min.boundary,
            many,
            given=counted,
        ),
    ]
    names = {
        "special": ("特殊建设工程", "special works"),
        "low": ("低风险工程", "low-risk works"),
        "general": ("一般工程", "general works"),
    }
    checks_review = [
        flag_check("zero_land_renovation", "“零土地”技改项目", "zero-land renovation project", zero_land),
        flag_check("adds_storeys", "加层项目（除外）", "storey addition (excepted)", adds, want=False),
        Note(
            lambda i: f"工程类别：{names.get(risk[i], (risk[i], ''))[0]} → 审查方式 {MODES[mode[i]]}",
            lambda i: f"works class: {names.get(risk[i], ('', risk[i]))[1]} → review mode {MODES[mode[i]]}",
            rows=classified,
        ),
    ]
    return [
        Outcome(
            "phased_approval_allowed",
            phased,
            status(live, phased, unknown),
            "2.3",
            QUOTE_PHASED,
            checks_phased,
            ("planning_approval.phased_min_buildings",),
            null=unknown & live,
            extra={
                # The reading, stated with the number of buildings used at each row's date.
                "assumption_notes": {
                    "planning_approval.phased_min_buildings": (
                        lambda i: (
                            f"原文为“多幢厂房”，理解为 {fmt_trim(lim[i], 0)} 幢{p_min.term}"
                            f"（{'含本数' if b_min.inclusive else '不含本数'}）。"
                        ),
                        lambda i: (
                            f'The text says "several buildings"; read as {SYMBOL[b_min.op]} {fmt_trim(lim[i], 0)} '
                            f"buildings ({b_min.en})."
                        ),
                    )
                }
            },
        ),
        Outcome(
            "drawing_review_mode",
            mode,
            status(live, classified),
            "2.3",
            QUOTE_REVIEW,
            checks_review,
            ("planning_approval.review_mode_by_risk",),
            labels=MODES,
        ),
    ]


RULE = Rule(
    id="planning_approval",
    clause="2.3",
    entity="projects",
    outputs=("drawing_review_mode", "phased_approval_allowed"),
    compute=compute,
    needs={
        "drawing_review_mode": needs("zero_land_renovation")
        + needs("construction_risk_class", zero_land_renovation=True),
        "phased_approval_allowed": needs("zero_land_renovation"),
    },
    title_zh="审批方式与施工图审查",
    title_en="Approval mode and drawing review",
)


def density(ctx: Context) -> list[Outcome]:
    """2.4 ``max_building_density`` (×10⁶) for every project; null when not applicable."""
    f = ctx.frame("projects")
    days = ctx.days("projects")
    live = ctx.in_force("2.4", days)
    std = f.get("standard_land_new_project")
    applies = live & std
    p_cap = ctx.p("building_density.standard_land_max_density")
    cap = p_cap.scaled_at(days, 6)
    check = flag_check(
        "standard_land_new_project", "以标准地供地的新建工业项目", "new industrial project on standard land", std
    )
    cap_pct = percents(p_cap, days)
    note = Note(
        lambda i: f"建筑密度一次性可放宽至 {cap_pct(i)}",
        lambda i: f"building density may be relaxed once to {cap_pct(i)}",
        rows=applies,
    )
    return [
        Outcome(
            "max_building_density",
            np.where(applies, cap, 0),
            status(live, applies),
            "2.4",
            QUOTE_DENSITY,
            [check, note],
            ("building_density.standard_land_max_density",),
            null=~applies,
        )
    ]


DENSITY_RULE = Rule(
    id="building_density",
    clause="2.4",
    entity="projects",
    outputs=("max_building_density",),
    compute=density,
    needs={"max_building_density": needs("standard_land_new_project")},
    title_zh="标准地建筑密度",
    title_en="Building density on standard land",
)

__all__ = ["DENSITY_RULE", "RULE", "Check"]
