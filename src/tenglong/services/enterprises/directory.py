"""Enterprises on the platform: the filtered list, the profile, projects and subsidies — always role-scoped.

The list shows the stored results of one evaluation run (the published run of a
year) joined with the enterprise register; the run review of
``evaluation_views`` pages through the same query. Scope follows
``registers.roles``: a town sees the enterprises registered in its town, an
enterprise only itself; anything outside the scope is "not found".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, or_, select

from ...adapters.db.tables import (
    enterprise_years,
    enterprises,
    evaluation_results,
    evaluation_runs,
    projects,
    subsidy_applications,
)
from ...core import reference_data
from ...core.errors import InvalidInput, Problem
from ...registers.roles import Actor
from ..evaluation.runs import RunStamp, run_stamp
from ..evaluation.scoring import OverHundred, over_100, weights_of
from ..kernel.scope import enterprise_scope, require, visible_enterprise
from ..kernel.uow import UnitOfWork

CLASS_FILTERS = ("A", "B", "C", "D", "none")
SORTS = ("score", "tax_per_mu", "value_added_per_mu", "town", "class", "rank", "name", "code")
"""The orders of a result list (``sort``), each ``asc`` or ``desc`` (``dir``; default ``DEFAULT_DIRECTION``).

Scores of 规上 and 规下 firms are never compared (their benchmarks and weights differ): by score, and after
town or class, the list holds the 规上 firms first, then the 规下 ones, each group in score order (docs/readings.md,
readings of the evaluation pages, 4)."""
DIRECTIONS = ("asc", "desc")
DEFAULT_DIRECTION = {
    "score": "desc",
    "tax_per_mu": "desc",
    "value_added_per_mu": "desc",
    "town": "asc",
    "class": "asc",
    "rank": "asc",
    "name": "asc",
    "code": "asc",
}
LEGACY_SORTS = {"score_asc": ("score", "asc")}
"""Sort values of earlier releases, still read: ``score_asc`` is ``sort=score&dir=asc``."""
MAX_PAGE_SIZE = 200
EXPORT_LIMIT = 200_000
_R = evaluation_results.c
FLAGS: dict[str, ColumnElement[bool]] = {
    "low_efficiency": _R.low_efficiency_enterprise.is_(True),
    "billion_low_tax": _R.billion_yuan_low_tax_enterprise.is_(True),
    "hcle_candidate": _R.high_consumption_low_efficiency_candidate.is_(True),
    "override": _R.mujun_class_override != "none",
    "veto": _R.vetoed.is_(True),
}
LIST_COLUMNS = (
    _R.credit_code,
    enterprises.c.name,
    _R.year,
    _R.town,
    _R.industry,
    _R.above_scale,
    _R.evaluated,
    _R.not_evaluated_reason,
    _R.group_name,
    _R.mujun_score,
    _R.rank,
    _R.group_size,
    _R.mujun_class_computed,
    _R.mujun_class,
    _R.mujun_class_override,
    _R.vetoed,
    _R.indicators,
    _R.land_use_tax_relief_rate,
    _R.electricity_surcharge,
    _R.d_years_running,
    _R.carbon_intensity,
    _R.carbon_level,
    _R.carbon_efficiency_value,
    _R.carbon_grade,
    _R.low_efficiency_enterprise,
    _R.billion_yuan_low_tax_enterprise,
    _R.high_consumption_low_efficiency_candidate,
    _R.land_area_mu,
    _R.tax_paid,
    _R.value_added,
    _R.employees,
)


@dataclass(frozen=True)
class ResultFilter:
    """Filters, sort and page of a result list (as given; ``checked()`` validates and normalises)."""

    q: str | None = None
    town: str | None = None
    industry: str | None = None
    klass: str | None = None
    above_scale: bool | None = None
    flag: str | None = None
    sort: str = "score"
    page: int = 1
    page_size: int = 50
    direction: str | None = None

    @property
    def dir(self) -> str:
        """The direction of the sort (its default when none was given)."""
        return self.direction or DEFAULT_DIRECTION.get(self.sort, "asc")

    def checked(self) -> ResultFilter:
        """The filter with town and industry normalised to codes.

        Raises:
            InvalidInput: listing every bad filter value at once.
        """
        problems: list[Problem] = []
        town = industry = None
        if self.town:
            town = reference_data.normalise_town(self.town)
            if town is None:
                problems.append(_problem("town", self.town, "镇(街道)代码或名称", "a town code or name", "331082112"))
        if self.industry:
            industry = reference_data.normalise_industry(self.industry)
            if industry is None:
                problems.append(
                    _problem(
                        "industry",
                        self.industry,
                        "制造业行业代码（C13–C43）",
                        "a manufacturing industry code (C13–C43)",
                        "C27",
                    )
                )
        if self.klass and self.klass not in CLASS_FILTERS:
            problems.append(
                _problem("class", self.klass, "A、B、C、D 或 none（未参评）", "A, B, C, D or none (not evaluated)", "D")
            )
        if self.flag and self.flag not in FLAGS:
            problems.append(_problem("flag", self.flag, "、".join(FLAGS), ", ".join(FLAGS), "low_efficiency"))
        sort, direction = LEGACY_SORTS.get(self.sort, (self.sort, None))
        direction = self.direction or direction
        if sort not in SORTS:
            problems.append(_problem("sort", self.sort, "、".join(SORTS), ", ".join(SORTS), "score"))
        if direction is not None and direction not in DIRECTIONS:
            problems.append(_problem("dir", direction, "asc（升序）或 desc（降序）", "asc or desc", "desc"))
        if self.page < 1:
            problems.append(_problem("page", self.page, "≥ 1 的整数", "an integer ≥ 1", "1"))
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            problems.append(_problem("page_size", self.page_size, f"1–{MAX_PAGE_SIZE}", f"1–{MAX_PAGE_SIZE}", "50"))
        if problems:
            raise InvalidInput(problems)
        return replace(
            self,
            q=(self.q or "").strip() or None,
            town=town,
            industry=industry,
            klass=self.klass or None,
            flag=self.flag or None,
            sort=sort,
            direction=direction,
        )


def _problem(where: str, value: Any, expected_zh: str, expected_en: str, example: str) -> Problem:
    return Problem(
        "invalid_filter",
        where,
        str(value),
        expected_zh,
        expected_en,
        example,
        f"筛选条件 {where} 的取值 {value!r} 无效，应为{expected_zh}，例如 {example}。",
        f"Filter {where}: {value!r} is not valid; expected {expected_en}, e.g. {example}.",
    )


@dataclass
class Page:
    """One page of rows (dicts) of a list."""

    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.page_size))


@dataclass
class EnterpriseList:
    """The enterprise list of a published year (``year`` None while nothing is published)."""

    year: int | None
    years: list[int]
    run_id: int | None
    filter: ResultFilter
    page: Page
    run: RunStamp | None = None
    """The run whose classes the list shows (id, year, when published, the run it superseded)."""


def published_runs(conn: Connection) -> dict[int, int]:
    """Published run id of each year, oldest year first."""
    rows = conn.execute(
        select(evaluation_runs.c.year, evaluation_runs.c.id)
        .where(evaluation_runs.c.status == "published")
        .order_by(evaluation_runs.c.year)
    )
    return {int(r.year): int(r.id) for r in rows}


def published_run_of(conn: Connection, year: int | None) -> tuple[int | None, int | None, list[int]]:
    """(year, run id, published years) for ``year`` (default: the latest published).

    Raises:
        InvalidInput: for a year that has no published run.
    """
    runs = published_runs(conn)
    years = list(runs)
    if not runs:
        return None, None, years
    if year is None:
        year = years[-1]
    if year not in runs:
        have = ", ".join(map(str, years))
        raise InvalidInput(
            [
                Problem(
                    "unpublished_year",
                    "year",
                    str(year),
                    f"已发布的年度：{have}",
                    f"a published year: {have}",
                    str(years[-1]),
                    f"{year} 年度没有已发布的评价（已发布：{have}）。",
                    f"{year} has no published evaluation (published: {have}).",
                )
            ]
        )
    return year, runs[year], years


def _where(run_id: int, actor: Actor, f: ResultFilter) -> list[ColumnElement[bool]]:
    where = [_R.run_id == run_id, enterprise_scope(actor)]
    if f.q:
        where.append(
            or_(
                enterprises.c.name.icontains(f.q, autoescape=True),
                _R.credit_code.startswith(f.q.upper(), autoescape=True),
            )
        )
    if f.town:
        where.append(_R.town == f.town)
    if f.industry:
        where.append(_R.industry.startswith(f.industry, autoescape=True))
    if f.klass == "none":
        where.append(_R.evaluated.is_(False))
    elif f.klass:
        where.append(_R.mujun_class == f.klass)
    if f.above_scale is not None:
        where.append(_R.above_scale.is_(f.above_scale))
    if f.flag:
        where.append(FLAGS[f.flag])
    return where


_CLASS_ORDER = case({"A": 1, "B": 2, "C": 3, "D": 4}, value=_R.mujun_class)


def _order(f: ResultFilter) -> list[Any]:
    """ORDER BY of a (checked) filter: its column in its direction, empty values last, then a fixed tie-break.

    Scores are sorted within 规上, then within 规下 (never mixed); town and class then sort each group by score.
    """

    def way(col: Any) -> Any:
        return (col.desc() if f.dir == "desc" else col.asc()).nulls_last()

    by_score = [_R.above_scale.desc(), _R.mujun_score.desc().nulls_last()]
    return {
        "score": [_R.above_scale.desc(), way(_R.mujun_score), _R.credit_code],
        "tax_per_mu": [way(_R.indicators["tax_per_mu"].as_float()), _R.credit_code],
        "value_added_per_mu": [way(_R.indicators["value_added_per_mu"].as_float()), _R.credit_code],
        "town": [way(_R.town), *by_score, _R.credit_code],
        "class": [way(_CLASS_ORDER), *by_score, _R.credit_code],
        "rank": [_R.above_scale.desc(), _R.group_name, way(_R.rank), _R.credit_code],
        "name": [way(enterprises.c.name), _R.credit_code],
        "code": [way(_R.credit_code)],
    }[f.sort]


def result_page(
    conn: Connection, actor: Actor, run_id: int, f: ResultFilter, explanations: bool = False, limit: int | None = None
) -> Page:
    """The rows of a run's results visible to ``actor`` that pass the (checked) filter, one page (or ``limit``
    rows from the first).
    """
    where = _where(run_id, actor, f)
    joined = evaluation_results.join(enterprises, enterprises.c.credit_code == _R.credit_code)
    total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
    cols = LIST_COLUMNS + ((_R.explanation_zh, _R.explanation_en) if explanations else ())
    q = select(*cols).select_from(joined).where(*where).order_by(*_order(f))
    q = q.limit(limit) if limit is not None else q.limit(f.page_size).offset((f.page - 1) * f.page_size)
    items = [dict(r._mapping) for r in conn.execute(q)]
    return Page(items, int(total), f.page, limit or f.page_size)


def list_enterprises(uow: UnitOfWork, actor: Actor, year: int | None, f: ResultFilter) -> EnterpriseList:
    """The enterprises of a published year visible to ``actor``, filtered, sorted and paged.

    Args:
        uow: the unit of work.
        actor: who asks (scope: town → its town, enterprise → itself).
        year: a published year; None for the latest.
        f: filters, sort and page.

    Raises:
        InvalidInput: for bad filter values or a year without a published run.
    """
    require(actor, "read")
    f = f.checked()
    with uow.read() as conn:
        year, run_id, years = published_run_of(conn, year)
        if run_id is None:
            return EnterpriseList(None, years, None, f, Page([], 0, 1, f.page_size))
        return EnterpriseList(year, years, run_id, f, result_page(conn, actor, run_id, f), run_stamp(conn, run_id))


def export_enterprises(uow: UnitOfWork, actor: Actor, year: int | None, f: ResultFilter) -> EnterpriseList:
    """Every row of the filtered list (no paging) for the Excel export, in the list's order."""
    require(actor, "read")
    f = replace(f, page=1).checked()
    with uow.read() as conn:
        year, run_id, years = published_run_of(conn, year)
        if run_id is None:
            return EnterpriseList(None, years, None, f, Page([], 0, 1, f.page_size))
        page = result_page(conn, actor, run_id, f, limit=EXPORT_LIMIT)
        return EnterpriseList(year, years, run_id, f, page, run_stamp(conn, run_id))


@dataclass
class YearProfile:
    """One data year of an enterprise: its data, its published evaluation and the county benchmarks of its group."""

    year: int
    data: dict[str, Any] | None
    result: dict[str, Any] | None
    benchmarks: dict[str, float | None] = field(default_factory=dict)
    run_id: int | None = None
    run: RunStamp | None = None
    """The published run the year's evaluation comes from."""
    over_100: OverHundred | None = None
    """Why the score exceeds 100 (None when it does not)."""


@dataclass
class Profile:
    """企业画像: the register entry, every year, projects and subsidy applications."""

    enterprise: dict[str, Any]
    years: list[YearProfile]
    projects: list[dict[str, Any]]
    subsidies: list[dict[str, Any]]

    @property
    def latest(self) -> YearProfile | None:
        """The latest year with a published evaluation."""
        return next((y for y in reversed(self.years) if y.result is not None), None)


def profile(uow: UnitOfWork, actor: Actor, credit_code: str) -> Profile:
    """The profile of one enterprise (data and published evaluations of every year).

    Raises:
        NotFound: unknown, or outside the actor's scope.
    """
    require(actor, "read")
    with uow.read() as conn:
        ent = visible_enterprise(conn, actor, credit_code)
        code = ent["credit_code"]
        data = {
            int(r.year): dict(r._mapping)
            for r in conn.execute(select(enterprise_years).where(enterprise_years.c.credit_code == code))
        }
        runs = published_runs(conn)
        results, benches, changes = {}, {}, {}
        if runs:
            for r in conn.execute(
                select(evaluation_results).where(_R.run_id.in_(list(runs.values())), _R.credit_code == code)
            ):
                results[int(r.year)] = dict(r._mapping)
            for r in conn.execute(
                select(evaluation_runs.c.year, evaluation_runs.c.benchmarks, evaluation_runs.c.method_changes).where(
                    evaluation_runs.c.id.in_(list(runs.values()))
                )
            ):
                benches[int(r.year)] = r.benchmarks or {}
                changes[int(r.year)] = r.method_changes
        years = []
        for y in sorted(set(data) | set(results)):
            res = results.get(y)
            group = (
                ("above_scale" if res["above_scale"] else "below_scale")
                if res
                else ("above_scale" if data[y]["above_scale"] else "below_scale")
            )
            bench = benches.get(y, {}).get(group, {})
            over = over_100(res, bench, weights_of(changes.get(y), y)[group]) if res else None
            stamp = run_stamp(conn, runs.get(y))
            years.append(YearProfile(y, data.get(y), res, bench, runs.get(y), stamp, over))
        return Profile(ent, years, _projects(conn, code), _subsidies(conn, code))


def _projects(conn: Connection, code: str) -> list[dict[str, Any]]:
    q = (
        select(projects.c.id, projects.c.name, projects.c.application_date, projects.c.created_at)
        .where(projects.c.credit_code == code)
        .order_by(projects.c.application_date.desc(), projects.c.id.desc())
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def _subsidies(conn: Connection, code: str) -> list[dict[str, Any]]:
    a = subsidy_applications.c
    q = (
        select(
            a.id,
            a.project_id,
            projects.c.name.label("project_name"),
            a.clause,
            a.status,
            a.amount,
            a.computed_at,
            a.updated_at,
        )
        .select_from(subsidy_applications.join(projects, projects.c.id == a.project_id))
        .where(a.credit_code == code)
        .order_by(a.updated_at.desc(), a.id.desc())
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def enterprise_projects(uow: UnitOfWork, actor: Actor, credit_code: str) -> list[dict[str, Any]]:
    """The projects of an enterprise the actor may see (newest first).

    Raises:
        NotFound: unknown, or outside the actor's scope.
    """
    require(actor, "read")
    with uow.read() as conn:
        return _projects(conn, visible_enterprise(conn, actor, credit_code)["credit_code"])


def enterprise_subsidies(uow: UnitOfWork, actor: Actor, credit_code: str) -> list[dict[str, Any]]:
    """The subsidy applications of an enterprise the actor may see (latest change first).

    Raises:
        NotFound: unknown, or outside the actor's scope.
    """
    require(actor, "read")
    with uow.read() as conn:
        return _subsidies(conn, visible_enterprise(conn, actor, credit_code)["credit_code"])


__all__ = [
    "FLAGS",
    "SORTS",
    "EnterpriseList",
    "Page",
    "Profile",
    "ResultFilter",
    "YearProfile",
    "enterprise_projects",
    "enterprise_subsidies",
    "export_enterprises",
    "list_enterprises",
    "profile",
    "published_run_of",
    "published_runs",
    "result_page",
]
