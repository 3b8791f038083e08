"""2.8 亩均评价激励: class overrides for firms in a construction period.

During a project's construction period, fixed-asset investment completed in the
year (land cost excluded):

* ≥ 1亿 → class A, outside the A quota (``force_A``);
* otherwise ≥ 3000万 and a computed class D → C (``not_D``);
* otherwise the class is unchanged.

The same function serves ``tenglong calculate`` (judged at ``as_of``) and the
annual evaluation (judged by data year, see ``core/mujun``).
"""

from __future__ import annotations

import numpy as np

from ..trace import Note, Outcome, flag_check, threshold_check
from ._common import Context, Rule, meets, needs, status

NS = "class_override."
QUOTE = (
    "在项目建设期内,企业本年完成固定资产投资额(不含建设用地费)1亿元以上的,列入亩均评价A类(不占A类比例);"
    "本年完成固定资产投资额(不含建设用地费)3000万元以上的,不列入亩均评价D类(不占C类比例)。"
)


def override_masks(
    in_construction: np.ndarray,
    investment: np.ndarray,
    is_d: np.ndarray,
    live: np.ndarray,
    force_a_min: np.ndarray,
    not_d_min: np.ndarray,
    force_a_op: str = ">=",
    not_d_op: str = ">=",
) -> tuple[np.ndarray, np.ndarray]:
    """The 2.8 decision as masks: (force_A, not_D). ``is_d``: the computed class is D."""
    ops = {">=": np.greater_equal, ">": np.greater}
    base = live & in_construction
    force_a = base & ops[force_a_op](investment, force_a_min)
    not_d = base & ~force_a & ops[not_d_op](investment, not_d_min) & is_d
    return force_a, not_d


def override(
    in_construction: np.ndarray,
    investment: np.ndarray,
    computed: np.ndarray,
    live: np.ndarray,
    force_a_min: np.ndarray,
    not_d_min: np.ndarray,
    force_a_op: str = ">=",
    not_d_op: str = ">=",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 2.8 decision, vectorised.

    Args:
        in_construction: bool per firm; investment: 分 per firm.
        computed: class from the ranking ("A".."D", "" when not classed).
        live: clause 2.8 in force for the row.
        force_a_min / not_d_min: thresholds in 分 per row.

    Returns:
        (override code: ``force_A`` | ``not_D`` | ``none``, final class, force_A mask).

    >>> o, c, _ = override(np.array([True, True, True]), np.array([10**10, 3 * 10**9, 3 * 10**9]),
    ...                    np.array(["D", "D", "B"]), np.ones(3, bool), np.full(3, 10**10), np.full(3, 3 * 10**9))
    >>> o.tolist(), c.tolist()
    (['force_A', 'not_D', 'none'], ['A', 'C', 'B'])
    """
    force_a, not_d = override_masks(
        in_construction, investment, computed == "D", live, force_a_min, not_d_min, force_a_op, not_d_op
    )
    code = np.where(force_a, "force_A", np.where(not_d, "not_D", "none"))
    final = np.where(force_a, "A", np.where(not_d, "C", computed))
    return code, final, force_a


def compute(ctx: Context) -> list[Outcome]:
    """``mujun_class_override`` and the final ``mujun_class`` of every enterprise."""
    e = ctx.frame("enterprises")
    days = ctx.days("enterprises")
    live = ctx.in_force("2.8", days)
    icp = e.get("in_construction_period")
    fai = e.get("fixed_asset_investment")
    computed = e.get("mujun_class_computed")
    p_a, p_d = ctx.p(NS + "force_a_min_investment"), ctx.p(NS + "not_d_min_investment")
    ok_a, lim_a = meets(fai, p_a, days, 2)
    ok_d, lim_d = meets(fai, p_d, days, 2)
    code, final, _ = override(icp, fai, computed, live, lim_a, lim_d, p_a.boundary.op, p_d.boundary.op)
    changed = code != "none"
    checks: list = [
        flag_check("in_construction_period", "处于项目建设期", "in a construction period", icp),
        threshold_check(
            "force_a_min_investment",
            "本年完成固定资产投资额（不含建设用地费）",
            "fixed-asset investment this year (land excluded)",
            fai,
            2,
            "元",
            lim_a,
            p_a.boundary,
            ok_a,
            applies=icp,
        ),
        threshold_check(
            "not_d_min_investment",
            "本年完成固定资产投资额（不含建设用地费）",
            "fixed-asset investment this year (land excluded)",
            fai,
            2,
            "元",
            lim_d,
            p_d.boundary,
            ok_d,
            applies=icp & ~ok_a,
        ),
        Note(
            lambda i: f"按排名计算的类别为 {computed[i] or '未提供'}，最终类别 {final[i] or '未提供'}",
            lambda i: f"class from the ranking {computed[i] or 'not given'}, final class {final[i] or 'not given'}",
        ),
    ]
    params = (NS + "force_a_min_investment", NS + "not_d_min_investment")
    return [
        Outcome("mujun_class_override", code, status(live, changed), "2.8", QUOTE, checks, params),
        Outcome("mujun_class", final, status(live, changed), "2.8", QUOTE, checks, params),
    ]


def final_class(ctx: Context) -> np.ndarray:
    """The final class of every enterprise: given, else computed with 2.8 applied."""
    e = ctx.frame("enterprises")
    given, present = e.column("mujun_class")
    with ctx.lock:
        if ("enterprises", "mujun_class") not in ctx.results:
            for o in compute(ctx):
                ctx.results[("enterprises", o.variable)] = o
    derived = ctx.result("enterprises", "mujun_class").values
    return np.where(present, given, derived)


RULE = Rule(
    id="class_override",
    clause="2.8",
    entity="enterprises",
    outputs=("mujun_class_override", "mujun_class"),
    compute=compute,
    needs={
        "mujun_class_override": needs("mujun_class_computed")
        + needs("fixed_asset_investment", in_construction_period=True),
        "mujun_class": needs("mujun_class_computed") + needs("fixed_asset_investment", in_construction_period=True),
    },
    title_zh="亩均评价激励",
    title_en="Per-mu class incentives",
)
