"""Two published years compared: class counts, county figures, and the (visible) firms whose final class changed,
each with why (``changes.reasons``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from ...adapters.db.tables import enterprises, evaluation_results
from ...core.errors import InvalidInput, PolicyError, Problem
from ...registers.roles import Actor
from ..enterprises.directory import Page, published_runs
from ..kernel.scope import enterprise_scope, require
from ..kernel.uow import UnitOfWork
from . import changes
from .views import RunInfo, _run

_ORDER = {"A": 1, "B": 2, "C": 3, "D": 4}


@dataclass
class Comparison:
    """Two published years side by side, and the enterprises whose final class changed (scoped to the actor)."""

    years: list[int]
    before: RunInfo
    after: RunInfo
    up: int
    down: int
    direction: str | None
    page: Page


def _why_columns(r: Any, side: str) -> list[Any]:
    """The columns of one year that say why a class changed (the explanation only where a veto or 2.8 set it)."""
    ruled = or_(r.c.vetoed.is_(True), r.c.mujun_class_override != "none")
    return [
        r.c.above_scale.label(f"above_scale_{side}"),
        r.c.group_name.label(f"group_{side}"),
        r.c.rank.label(f"rank_{side}"),
        r.c.group_size.label(f"size_{side}"),
        r.c.mujun_class_computed.label(f"computed_{side}"),
        r.c.mujun_class_override.label(f"override_{side}"),
        r.c.vetoed.label(f"vetoed_{side}"),
        case((ruled, r.c.explanation_zh), else_=None).label(f"explanation_zh_{side}"),
        case((ruled, r.c.explanation_en), else_=None).label(f"explanation_en_{side}"),
    ]


def compare(
    uow: UnitOfWork,
    actor: Actor,
    year_a: int | None,
    year_b: int | None,
    direction: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Comparison:
    """Compare two published years (default: the two latest); ``direction`` ``up``/``down`` filters the changed firms.

    Each changed firm comes with ``why`` (``changes.reasons``): a veto, a 2.8 override, a change of group, and its
    ranking against the quota edges of both years.

    Raises:
        InvalidInput: a year that is not published, the same year twice, or a bad direction/page.
    """
    require(actor, "read")
    problems = []
    if direction not in (None, "", "up", "down"):
        problems.append(
            Problem(
                "invalid_filter",
                "direction",
                str(direction),
                "up 或 down",
                "up or down",
                "down",
                f"方向 {direction!r} 无效。",
                f"Direction {direction!r} is not valid.",
            )
        )
    if page < 1 or not 1 <= page_size <= 200:
        problems.append(
            Problem(
                "invalid_filter",
                "page",
                f"{page}/{page_size}",
                "page ≥ 1，page_size 1–200",
                "page ≥ 1, page_size 1–200",
                "1",
                "分页参数无效。",
                "Invalid paging.",
            )
        )
    with uow.read() as conn:
        published = published_runs(conn)
        years = list(published)
        if len(years) < 2:
            raise PolicyError("至少需要两个已发布年度才能比较。", "Comparing needs two published years.")
        a = year_a if year_a is not None else years[-2]
        b = year_b if year_b is not None else years[-1]
        for where, y in (("a", a), ("b", b)):
            if y not in published:
                problems.append(
                    Problem(
                        "unpublished_year",
                        where,
                        str(y),
                        "已发布的年度",
                        "a published year",
                        str(years[-1]),
                        f"{y} 年度没有已发布的评价。",
                        f"{y} has no published evaluation.",
                    )
                )
        if a == b:
            problems.append(
                Problem(
                    "same_year",
                    "b",
                    str(b),
                    "另一个已发布年度",
                    "another published year",
                    str(years[0]),
                    "请选择两个不同的年度。",
                    "Choose two different years.",
                )
            )
        if problems:
            raise InvalidInput(problems)
        a, b = min(a, b), max(a, b)
        before, after = _run(conn, actor, published[a]), _run(conn, actor, published[b])
        ra, rb = aliased(evaluation_results), aliased(evaluation_results)
        order_a, order_b = case(_ORDER, value=ra.c.mujun_class), case(_ORDER, value=rb.c.mujun_class)
        moved = case((order_b < order_a, "up"), else_="down")
        joined = ra.join(rb, and_(rb.c.credit_code == ra.c.credit_code, rb.c.run_id == published[b])).join(
            enterprises, enterprises.c.credit_code == ra.c.credit_code
        )
        where = [
            ra.c.run_id == published[a],
            ra.c.mujun_class.is_not(None),
            rb.c.mujun_class.is_not(None),
            ra.c.mujun_class != rb.c.mujun_class,
            enterprise_scope(actor),
        ]
        counts = dict(conn.execute(select(moved, func.count()).select_from(joined).where(*where).group_by(moved)).all())
        if direction:
            where.append(moved == direction)
        q = (
            select(
                ra.c.credit_code,
                enterprises.c.name,
                rb.c.town,
                rb.c.industry,
                rb.c.above_scale,
                ra.c.mujun_class.label("class_before"),
                rb.c.mujun_class.label("class_after"),
                ra.c.mujun_score.label("score_before"),
                rb.c.mujun_score.label("score_after"),
                moved.label("direction"),
                *_why_columns(ra, "before"),
                *_why_columns(rb, "after"),
            )
            .select_from(joined)
            .where(*where)
            .order_by(moved.desc(), (order_a - order_b).desc(), ra.c.credit_code)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        items = [dict(r._mapping) for r in conn.execute(q)]
        edges_a = changes.quota_edges(conn, before.id, before.summary)
        edges_b = changes.quota_edges(conn, after.id, after.summary)
        for item in items:
            item["why"] = changes.reasons(item, (a, b), edges_a, edges_b)
            for k in [k for k in item if k.startswith("explanation_")]:
                del item[k]
        total = int(counts.get(direction, 0)) if direction else int(sum(counts.values()))
        return Comparison(
            years,
            before,
            after,
            int(counts.get("up", 0)),
            int(counts.get("down", 0)),
            direction or None,
            Page(items, total, page, page_size),
        )


__all__ = ["Comparison", "compare"]
