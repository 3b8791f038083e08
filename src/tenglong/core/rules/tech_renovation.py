"""2.10 技改 subsidies: the major and ordinary tiers, the enterprise cap, the "2513" reward.

Readings (fixed by the policy-engine issue; the assumption is a parameter):

* ``major``: total investment ≥ 1,000万, equipment ≥ 500万, a traditional-industry
  project → 10 % of equipment investment, at most 300万 per project.
* ``ordinary`` (otherwise): equipment ≥ 200万 → 5 %; an enterprise's ordinary
  subsidies in one calendar year (by application date) total at most 200万,
  allotted by application date, then project id.
* "2513": a key industrial project of a "2513" enterprise with local contribution
  growth ≥ 12 % and industrial equipment investment ≥ 500万 → 15 % of recognised
  equipment investment.
* ``tech_renovation.stacking_2513`` (assumption): by default a project gets only
  the higher of the tier subsidy and the "2513" reward (就高不重复), comparing
  what would be paid: for an ordinary project, what the enterprise's yearly cap
  still leaves it (a project that takes the reward leaves the cap to later ones).
"""

from __future__ import annotations

import numpy as np

from ..exact import I64
from ..trace import APPLIED, NOT_APPLICABLE, NOT_IN_FORCE, Note, Outcome, flag_check, fmt_number, threshold_check
from ._common import Context, Rule, apply_rate, meets, needs, percents, status, years_of

NS = "tech_renovation."
TIERS = ("none", "major", "ordinary")
QUOTE_MAJOR = (
    "对项目投资1000万元及以上,且装备投资500万元及以上的重大传统产业改造提升项目,按设备投资额的10%给予补助,"
    "最高补助300万元。"
)
QUOTE_ORDINARY = (
    "对装备投资额200万元及以上的普通技改项目,按设备投资额的5%给予补助,单家企业最高补助200万元,"
    "补助额度不受企业当年度地方经济发展贡献限制。"
)
QUOTE_2513 = (
    "对地方经济发展贡献环比增长12%以上且工业装备投资500万元以上的“2513”培育企业,"
    "其工业性投资重点项目按认定设备投资额的15%给予奖励。"
)


def allot_enterprise_cap(
    enterprise: np.ndarray,
    day: np.ndarray,
    ids: np.ndarray,
    amount: np.ndarray,
    cap: np.ndarray,
    rival: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share a per-enterprise-year cap among projects in date, then id, order.

    Args:
        enterprise: the enterprise of each row (the group is enterprise × calendar year).
        day: application date (``datetime64[D]``); ``ids``: project ids (str).
        amount: each row's claim in 分; ``cap``: the cap in 分 (per row).
        rival: an alternative the row may take instead (the "2513" reward under
            就高不重复), or 0. A row whose rival exceeds what the cap still allows
            takes the rival and leaves the cap to later rows.

    Returns:
        (allotted, already_allotted_before_this_row, took_rival), amounts in 分.

    >>> e = np.array([0, 0, 0])
    >>> d = np.array(["2023-01-02", "2023-01-01", "2023-01-03"], dtype="datetime64[D]")
    >>> allot_enterprise_cap(e, d, np.array(["P1", "P2", "P3"]), np.array([150, 100, 80]), np.full(3, 200))[0].tolist()
    [100, 100, 0]
    >>> allot_enterprise_cap(
    ...     e, d, np.array(["P1", "P2", "P3"]), np.array([150, 100, 80]), np.full(3, 200), np.array([120, 0, 0])
    ... )[0].tolist()
    [0, 100, 80]
    """
    n = len(amount)
    allotted = np.zeros(n, dtype=I64)
    before = np.zeros(n, dtype=I64)
    took = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(amount > 0)
    if not len(rows):
        return allotted, before, took
    # Order by (enterprise, date) — the date fixes the year — as one integer key;
    # only rows sharing a key need the (slower) string comparison of their ids.
    key = enterprise[rows].astype(I64) * I64(1 << 24) + (day[rows].astype(I64) + I64(1 << 23))
    by_key = np.argsort(key, kind="stable")
    order, k_sorted = rows[by_key], key[by_key]
    tie = np.zeros(len(order), dtype=bool)
    tie[1:] = k_sorted[1:] == k_sorted[:-1]
    tie[:-1] |= tie[1:]
    if tie.any():
        sub = np.flatnonzero(tie)
        order[sub] = order[sub][np.lexsort((ids[order[sub]], k_sorted[sub]))]
    a = amount[order]
    g_ent, g_year = enterprise[order], years_of(day[order])
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (g_ent[1:] != g_ent[:-1]) | (g_year[1:] != g_year[:-1])
    group = np.cumsum(new_group) - 1
    cum = np.cumsum(a)
    start_cum = np.where(new_group, cum - a, 0)
    base = np.maximum.accumulate(np.where(new_group, np.arange(len(a)), 0))
    prior = cum - a - start_cum[base]
    c = cap[order]
    allotted[order] = np.clip(c - prior, 0, a)
    before[order] = np.minimum(prior, c)
    if rival is not None and (rival[order] > 0).any():
        # Groups with a rival are rare (a "2513" key project that is also an
        # ordinary one): walk those few groups in order, row by row.
        contested = np.isin(group, np.unique(group[rival[order] > 0]))
        for g in np.unique(group[contested]):
            used = 0
            for r in order[group == g]:
                left = max(int(cap[r]) - used, 0)
                payable = min(int(amount[r]), left)
                before[r] = min(used, int(cap[r]))
                if rival[r] > payable:
                    took[r], allotted[r] = True, 0
                else:
                    allotted[r] = payable
                    used += payable
    return allotted, before, took


def compute(ctx: Context) -> list[Outcome]:
    """All 2.10 outputs for every project (see the module docstring)."""
    f, e = ctx.frame("projects"), ctx.frame("enterprises")
    days = ctx.days("projects")
    live = ctx.in_force("2.10", days)
    ent = np.maximum(f.get("enterprise"), 0)
    total, equip = f.get("total_investment"), f.get("equipment_investment")
    traditional, key = f.get("traditional_industry"), f.get("key_industrial_project")
    recognized = f.get("recognized_equipment_investment")

    p_total, p_eq = ctx.p(NS + "major_min_total_investment"), ctx.p(NS + "major_min_equipment_investment")
    ok_total, lim_total = meets(total, p_total, days, 2)
    ok_eq_major, lim_eq_major = meets(equip, p_eq, days, 2)
    major = live & ok_total & ok_eq_major & traditional
    p_ord = ctx.p(NS + "ordinary_min_equipment_investment")
    ok_eq_ord, lim_eq_ord = meets(equip, p_ord, days, 2)
    ordinary = live & ~major & ok_eq_ord

    p_major_rate, p_ord_rate = ctx.p(NS + "major_rate"), ctx.p(NS + "ordinary_rate")
    major_raw = apply_rate(equip, p_major_rate, days)
    major_cap = ctx.p(NS + "major_cap_per_project").scaled_at(days, 2)
    major_amt = np.minimum(major_raw, major_cap)
    ord_raw = apply_rate(equip, p_ord_rate, days)
    tier_amt = np.where(major, major_amt, np.where(ordinary, ord_raw, 0))

    is2513 = ctx.of_enterprise(e.get("is_2513_enterprise"))
    growth = ctx.of_enterprise(e.get("local_contribution_growth"))
    ieq = ctx.of_enterprise(e.get("industrial_equipment_investment"))
    # Needed only for a "2513" firm (the contract refuses it missing there); elsewhere a blank is said, not read as 0.
    growth_given = ctx.of_enterprise(e.present("local_contribution_growth"))
    ieq_given = ctx.of_enterprise(e.present("industrial_equipment_investment"))
    p_growth = ctx.p(NS + "reward_2513_min_contribution_growth")
    ok_growth, lim_growth = meets(growth, p_growth, days, 6)
    ok_ieq, lim_ieq = meets(ieq, ctx.p(NS + "reward_2513_min_industrial_equipment_investment"), days, 2)
    r_ok = live & key & is2513 & ok_growth & ok_ieq
    p_reward_rate = ctx.p(NS + "reward_2513_rate")
    reward = reward_raw = np.where(r_ok, apply_rate(recognized, p_reward_rate, days), 0)

    # 就高不重复 compares what would actually be paid: a major project's capped
    # subsidy, or what the enterprise's yearly cap still leaves an ordinary one.
    higher_only = ctx.p(NS + "stacking_2513").uniform(days) == "higher_only"
    both = (tier_amt > 0) & (reward > 0) if higher_only else np.zeros(f.n, dtype=bool)
    claim = np.where(ordinary, ord_raw, 0)
    cap = ctx.p(NS + "ordinary_cap_per_enterprise_year").scaled_at(days, 2)
    allotted, before, took_reward = allot_enterprise_cap(
        ent, days, np.asarray(f.ids, dtype=str), claim, cap, np.where(both & ordinary, reward, 0)
    )
    drop_tier = both & np.where(major, reward > major_amt, took_reward)
    drop_reward = both & ~drop_tier
    reward = np.where(drop_reward, 0, reward)
    subsidy = np.where(drop_tier, 0, np.where(major, major_amt, np.where(ordinary, allotted, 0))).astype(I64)

    tier = np.where(major, 1, np.where(ordinary, 2, 0)).astype(np.int8)
    # The rates as they stand at each row's date (a reform may change them from a date on).
    major_rate, ord_rate, reward_rate = (percents(p, days) for p in (p_major_rate, p_ord_rate, p_reward_rate))
    tier_checks: list = [
        threshold_check(
            "major_min_total_investment",
            "项目投资",
            "total investment",
            total,
            2,
            "元",
            lim_total,
            p_total.boundary,
            ok_total,
        ),
        threshold_check(
            "major_min_equipment_investment",
            "装备投资",
            "equipment investment",
            equip,
            2,
            "元",
            lim_eq_major,
            p_eq.boundary,
            ok_eq_major,
        ),
        flag_check(
            "traditional_industry", "属重大传统产业改造提升项目", "traditional-industry upgrading project", traditional
        ),
        threshold_check(
            "ordinary_min_equipment_investment",
            "装备投资（普通技改）",
            "equipment investment (ordinary)",
            equip,
            2,
            "元",
            lim_eq_ord,
            p_ord.boundary,
            ok_eq_ord,
            applies=~major,
        ),
    ]
    sub_notes = [
        *tier_checks,
        Note(
            lambda i: (
                f"重大项目：设备投资额 × {major_rate(i)} = {fmt_number(major_raw[i], 2)} 元，"
                f"单个项目最高 {fmt_number(major_cap[i], 2)} 元"
            ),
            lambda i: (
                f"major: {major_rate(i)} of equipment = {fmt_number(major_raw[i], 2)}, "
                f"capped at {fmt_number(major_cap[i], 2)} per project"
            ),
            rows=major,
        ),
        Note(
            lambda i: (
                f"普通技改：设备投资额 × {ord_rate(i)} = {fmt_number(ord_raw[i], 2)} 元；"
                f"该企业 {years_of(days[i : i + 1])[0]} 年此前已核定普通技改补助 {fmt_number(before[i], 2)} 元，"
                f"年度上限 {fmt_number(cap[i], 2)} 元，本项目核定 {fmt_number(allotted[i], 2)} 元"
            ),
            lambda i: (
                f"ordinary: {ord_rate(i)} of equipment = {fmt_number(ord_raw[i], 2)}; "
                f"the enterprise already has {fmt_number(before[i], 2)} of ordinary subsidies "
                f"in {years_of(days[i : i + 1])[0]}, cap {fmt_number(cap[i], 2)}, "
                f"so this project gets {fmt_number(allotted[i], 2)}"
            ),
            rows=ordinary & ~drop_tier,
        ),
        Note(
            lambda i: (
                "按“就高不重复”（假设参数 tech_renovation.stacking_2513）："
                f"“2513”奖励 {fmt_number(reward_raw[i], 2)} 元高于可得技改补助，只给予奖励"
            ),
            lambda i: (
                "higher-only (assumption tech_renovation.stacking_2513): "
                f'the "2513" reward {fmt_number(reward_raw[i], 2)} is higher than the payable subsidy, '
                "so only the reward is paid"
            ),
            rows=drop_tier,
        ),
    ]
    reward_checks: list = [
        flag_check("key_industrial_project", "工业性投资重点项目", "key industrial project", key),
        flag_check("is_2513_enterprise", "“2513”培育企业", '"2513" enterprise', is2513),
        threshold_check(
            "reward_2513_min_contribution_growth",
            "地方经济发展贡献环比增长",
            "growth of local contribution",
            growth,
            6,
            "%",
            lim_growth,
            p_growth.boundary,
            ok_growth,
            given=growth_given,
        ),
        threshold_check(
            "reward_2513_min_industrial_equipment_investment",
            "工业装备投资",
            "industrial equipment investment",
            ieq,
            2,
            "元",
            lim_ieq,
            ctx.p(NS + "reward_2513_min_industrial_equipment_investment").boundary,
            ok_ieq,
            given=ieq_given,
        ),
        Note(
            lambda i: (
                f"“2513”奖励：认定设备投资额 {fmt_number(recognized[i], 2)} 元 × {reward_rate(i)} = "
                f"{fmt_number(reward_raw[i], 2)} 元"
            ),
            lambda i: (
                f'"2513" reward: {reward_rate(i)} of recognised equipment {fmt_number(recognized[i], 2)} = '
                f"{fmt_number(reward_raw[i], 2)}"
            ),
            rows=r_ok,
        ),
        Note(
            lambda i: (
                "按“就高不重复”（假设参数 tech_renovation.stacking_2513）："
                f"可得技改补助 {fmt_number(subsidy[i], 2)} 元不低于“2513”奖励 {fmt_number(reward_raw[i], 2)} 元，"
                "只给予技改补助"
            ),
            lambda i: (
                "higher-only (assumption tech_renovation.stacking_2513): "
                f"the payable subsidy {fmt_number(subsidy[i], 2)} is not lower than "
                f'the "2513" reward {fmt_number(reward_raw[i], 2)}, so no reward'
            ),
            rows=drop_reward,
        ),
    ]

    def tier_quote(i: int) -> str:
        return QUOTE_ORDINARY if ordinary[i] else QUOTE_MAJOR

    params = tuple(
        NS + n
        for n in (
            "major_min_total_investment",
            "major_min_equipment_investment",
            "major_rate",
            "major_cap_per_project",
            "ordinary_min_equipment_investment",
            "ordinary_rate",
            "ordinary_cap_per_enterprise_year",
            "stacking_2513",
        )
    )
    only = {"assumption_rows": {NS + "stacking_2513": both}}
    return [
        Outcome(
            "tech_renovation_tier",
            tier,
            status(live, major | ordinary),
            "2.10",
            QUOTE_MAJOR,
            tier_checks,
            params[:-1],
            extra={"quote_per_row": tier_quote},
            labels=TIERS,
        ),
        Outcome(
            "tech_renovation_subsidy",
            subsidy,
            status(live, (major | ordinary) & ~drop_tier),
            "2.10",
            QUOTE_MAJOR,
            sub_notes,
            params,
            extra={"quote_per_row": tier_quote, **only},
        ),
        Outcome(
            "key_project_reward_2513",
            reward.astype(I64),
            status(live, r_ok & ~drop_reward),
            "2.10",
            QUOTE_2513,
            reward_checks,
            tuple(
                NS + n
                for n in (
                    "reward_2513_min_contribution_growth",
                    "reward_2513_min_industrial_equipment_investment",
                    "reward_2513_rate",
                    "stacking_2513",
                )
            ),
            extra=only,
        ),
    ]


_BASE = needs("enterprise", "total_investment", "equipment_investment")
_ENT = needs("local_contribution_growth", "industrial_equipment_investment", on="enterprise", is_2513_enterprise=True)

RULE = Rule(
    id="tech_renovation",
    clause="2.10",
    entity="projects",
    outputs=("tech_renovation_tier", "tech_renovation_subsidy", "key_project_reward_2513"),
    compute=compute,
    needs={
        "tech_renovation_tier": _BASE,
        "tech_renovation_subsidy": _BASE + _ENT,
        "key_project_reward_2513": _BASE + _ENT,
    },
    title_zh="技改补助与“2513”奖励",
    title_en="Tech-renovation subsidies and the 2513 reward",
)


def enterprise_totals(ctx: Context) -> list[Outcome]:
    """``tech_renovation_subsidy_total``: each enterprise's 2.10 money in the period.

    The sum of ``tech_renovation_subsidy`` and ``key_project_reward_2513`` over its
    projects whose application date falls in the period's calendar year.
    """
    e = ctx.frame("enterprises")
    total = np.zeros(e.n, dtype=I64)
    count = np.zeros(e.n, dtype=I64)
    if ("projects", "tech_renovation_subsidy") in ctx.results:
        f = ctx.frame("projects")
        ent = f.get("enterprise")
        days = ctx.days("projects")
        rows = (years_of(days) == ctx.period) & (ent >= 0)
        money = (
            ctx.result("projects", "tech_renovation_subsidy").values
            + ctx.result("projects", "key_project_reward_2513").values
        )
        np.add.at(total, ent[rows], money[rows])
        np.add.at(count, ent[rows], 1)
    live = ctx.in_force("2.10", ctx.days("enterprises"))
    note = Note(
        lambda i: f"{ctx.period} 年申请的 {count[i]} 个项目的技改补助与“2513”奖励合计 {fmt_number(total[i], 2)} 元",
        lambda i: (
            f"2.10 subsidies and rewards of the {count[i]} project(s) applied in {ctx.period}: "
            f"{fmt_number(total[i], 2)}"
        ),
    )
    state = np.where(total > 0, APPLIED, np.where(live, NOT_APPLICABLE, NOT_IN_FORCE)).astype(np.int8)
    return [Outcome("tech_renovation_subsidy_total", total, state, "2.10", QUOTE_ORDINARY, [note])]


TOTAL_RULE = Rule(
    id="tech_renovation_total",
    clause="2.10",
    entity="enterprises",
    outputs=("tech_renovation_subsidy_total",),
    compute=enterprise_totals,
    title_zh="企业技改补助合计",
    title_en="Enterprise total of 2.10 money",
)
