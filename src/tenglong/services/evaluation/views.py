"""Evaluation runs as people see them: the list, one run with its results, the export rows; starting, publishing,
superseding and rerunning a run (two years compared: ``compare``).

Who sees which run: admin, department and auditor every run; town and
enterprise officials the published runs and the ones those superseded (anything
else is "not found").
The results of a run are scoped like the enterprise list (a town sees its
firms, an enterprise itself); the aggregates of a visible run (class counts,
benchmarks, county figures) are shown to everyone who sees the run.
Starting and publishing go through ``evaluation_runs`` (admin only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, select, true
from sqlalchemy.orm import aliased

from ...adapters.db.tables import enterprise_years, evaluation_results, evaluation_runs, users
from ...core.errors import InvalidInput, NotFound, Problem
from ...registers.roles import Actor
from ..enterprises.directory import EXPORT_LIMIT, Page, ResultFilter, published_runs, result_page
from ..kernel.scope import require
from ..kernel.uow import UnitOfWork
from . import runs as runs_service

_RUN = evaluation_runs.c
_R = evaluation_results.c
ACTIVE = runs_service.ACTIVE


@dataclass(frozen=True)
class RunInfo:
    """One evaluation run with the names of who started and published it."""

    id: int
    year: int
    status: str
    progress: float
    message: str | None
    method_title: str | None
    method_changes: Any
    parameters_version: str
    benchmarks: dict[str, dict[str, float | None]] | None
    summary: dict[str, Any] | None
    started_by: str
    started_at: Any
    finished_at: Any
    published_by: str | None
    published_at: Any
    published_of_year: int | None = None  # the run already published for this year, if any
    superseded_by: int | None = None  # the run that superseded this one
    superseded_by_user: str | None = None
    superseded_at: Any = None
    supersede_reason: str | None = None
    supersedes: int | None = None  # the run this one superseded, and why
    supersedes_reason: str | None = None

    @property
    def active(self) -> bool:
        """Still queued or running."""
        return self.status in ACTIVE

    @property
    def publishable(self) -> bool:
        """Finished, and its year has no published run yet."""
        return self.status == "done" and self.published_of_year is None

    @property
    def supersedable(self) -> bool:
        """Finished, and newer than its year's published run, which it may supersede (with a reason)."""
        return self.status == "done" and self.published_of_year is not None and self.published_of_year < self.id

    @property
    def firms(self) -> int:
        """How many enterprises the run holds (classified or not), from its summary."""
        counts = (self.summary or {}).get("counts") or {}
        return sum(int(n) for g in counts.values() for n in g.values())

    @property
    def classified(self) -> int:
        """How many enterprises the run gives a class (A–D)."""
        counts = (self.summary or {}).get("counts") or {}
        return sum(int(n) for g in counts.values() for k, n in g.items() if k != "not_evaluated")


OFFICIAL = ("published", "superseded")
"""States of the runs town and enterprise officials see: the year's result, and the ones it replaced (read-only)."""


def _visible(actor: Actor) -> ColumnElement[bool]:
    return true() if actor.sees_all_enterprises else _RUN.status.in_(OFFICIAL)


def _runs(conn: Connection, actor: Actor, *where: ColumnElement[bool]) -> list[RunInfo]:
    starter, publisher, replacer = aliased(users), aliased(users), aliased(users)
    other, older = aliased(evaluation_runs), aliased(evaluation_runs)
    year_published = (
        select(other.c.id).where(other.c.year == _RUN.year, other.c.status == "published").limit(1).scalar_subquery()
    )
    replaced = select(older.c.id).where(older.c.superseded_by == _RUN.id).order_by(older.c.id.desc()).limit(1)
    replaced_why = (
        select(older.c.supersede_reason).where(older.c.superseded_by == _RUN.id).order_by(older.c.id.desc()).limit(1)
    )
    q = (
        select(
            evaluation_runs,
            starter.c.username.label("starter"),
            publisher.c.username.label("publisher"),
            replacer.c.username.label("replacer"),
            year_published.label("year_published"),
            replaced.scalar_subquery().label("replaced"),
            replaced_why.scalar_subquery().label("replaced_why"),
        )
        .select_from(
            evaluation_runs.join(starter, starter.c.id == _RUN.started_by)
            .outerjoin(publisher, publisher.c.id == _RUN.published_by)
            .outerjoin(replacer, replacer.c.id == _RUN.superseded_by_user)
        )
        .where(_visible(actor), *where)
        .order_by(_RUN.year.desc(), _RUN.id.desc())
    )
    out = []
    for r in conn.execute(q):
        m = r._mapping
        out.append(
            RunInfo(
                m["id"],
                m["year"],
                m["status"],
                float(m["progress"] or 0),
                m["message"],
                m["method_title"],
                m["method_changes"],
                m["parameters_version"],
                m["benchmarks"],
                m["summary"],
                m["starter"],
                m["started_at"],
                m["finished_at"],
                m["publisher"],
                m["published_at"],
                m["year_published"],
                m["superseded_by"],
                m["replacer"],
                m["superseded_at"],
                m["supersede_reason"],
                m["replaced"],
                m["replaced_why"],
            )
        )
    return out


def published_years(uow: UnitOfWork, actor: Actor) -> list[int]:
    """The years with a published run, oldest first (what the compare form offers)."""
    require(actor, "read")
    with uow.read() as conn:
        return list(published_runs(conn))


def list_runs(uow: UnitOfWork, actor: Actor) -> list[RunInfo]:
    """The runs the actor may see, newest year and run first (a run stuck past the timeout is failed first)."""
    require(actor, "read")
    runs_service.recover_stalled(uow, runs_service.STALE_AFTER, runs_service.START_GRACE)
    with uow.read() as conn:
        return _runs(conn, actor)


def _run(conn: Connection, actor: Actor, run_id: int) -> RunInfo:
    found = _runs(conn, actor, _RUN.id == run_id)
    if not found:
        raise NotFound(run_id)
    return found[0]


def get_run(uow: UnitOfWork, actor: Actor, run_id: int) -> RunInfo:
    """One run (status, progress, summary).

    Raises:
        NotFound: unknown, or not visible to the actor (unpublished for town and enterprise).
    """
    require(actor, "read")
    runs_service.recover_stalled(uow, runs_service.STALE_AFTER, runs_service.START_GRACE)
    with uow.read() as conn:
        return _run(conn, actor, run_id)


def run_results(uow: UnitOfWork, actor: Actor, run_id: int, f: ResultFilter) -> tuple[RunInfo, Page]:
    """One page of a run's results (with explanations) visible to the actor.

    Raises:
        NotFound: the run is not visible.
        InvalidInput: bad filter values.
    """
    require(actor, "read")
    f = f.checked()
    with uow.read() as conn:
        run = _run(conn, actor, run_id)
        return run, result_page(conn, actor, run_id, f, explanations=True)


def export_rows(uow: UnitOfWork, actor: Actor, run_id: int) -> tuple[RunInfo, list[dict[str, Any]]]:
    """The run and every result row visible to the actor (rank order, with explanations) for the workbook."""
    require(actor, "read")
    with uow.read() as conn:
        run = _run(conn, actor, run_id)
        return run, result_page(
            conn, actor, run_id, ResultFilter(sort="rank"), explanations=True, limit=EXPORT_LIMIT
        ).items


def data_years(uow: UnitOfWork) -> list[int]:
    """The years that have enterprise-year data (what a run can evaluate), newest first."""
    with uow.read() as conn:
        return [
            int(y)
            for y in conn.execute(
                select(enterprise_years.c.year).distinct().order_by(enterprise_years.c.year.desc())
            ).scalars()
        ]


def start_run(
    uow: UnitOfWork,
    actor: Actor,
    year: int,
    changes: dict[str, Any] | None = None,
    title: str | None = None,
    address: str | None = None,
) -> RunInfo:
    """Queue a run of ``year`` (audited) and evaluate it on a worker thread; poll ``get_run`` for progress.

    Args:
        uow: the unit of work.
        actor: must have ``evaluate`` (admin).
        year: a year with enterprise data.
        changes: method changes (already parsed, e.g. by ``methods.from_text``).
        title: the method's title.
        address: the client address, for the audit log.

    Raises:
        Forbidden: for a role without ``evaluate``.
        InvalidInput: for a year without data.
        ReformError: for invalid method changes (nothing is started).
    """
    require(actor, "evaluate")
    years = data_years(uow)
    if year not in years:
        have = ", ".join(map(str, sorted(years))) or "—"
        raise InvalidInput(
            [
                Problem(
                    "no_data_for_year",
                    "year",
                    str(year),
                    f"有企业数据的年度：{have}",
                    f"a year with enterprise data: {have}",
                    str(max(years, default=year)),
                    f"{year} 年度没有企业数据，无法评价（现有：{have}）。",
                    f"There is no enterprise data for {year} (years present: {have}).",
                )
            ]
        )
    run_id = runs_service.create_run(uow, actor, year, changes, title or None, address)
    runs_service.start_in_background(uow, run_id)
    return get_run(uow, actor, run_id)


def publish_run(uow: UnitOfWork, actor: Actor, run_id: int, address: str | None = None) -> RunInfo:
    """Publish a finished run (admin; audited; one published run per year).

    Raises:
        NotFound: the run is not visible to the actor.
        Forbidden: for a role without ``publish`` (on a run it can see).
        Conflict: not finished, or the year already has a published run (409).
    """
    get_run(uow, actor, run_id)
    runs_service.publish(uow, actor, run_id, address)
    return get_run(uow, actor, run_id)


def supersede_run(uow: UnitOfWork, actor: Actor, run_id: int, reason: Any, address: str | None = None) -> RunInfo:
    """Publish a finished run in place of its year's published run, which is kept as superseded (admin; audited).

    Raises:
        NotFound: the run is not visible to the actor.
        Forbidden: for a role without ``publish`` (on a run it can see).
        Conflict: not finished, nothing published for its year, or the published run is newer (409).
        InvalidInput: the reason is missing or too long (422; ``where`` is ``reason``).
    """
    get_run(uow, actor, run_id)
    runs_service.supersede(uow, actor, run_id, reason, address)
    return get_run(uow, actor, run_id)


def check_supersede_reason(actor: Actor, reason: Any) -> str:
    """The reason for superseding, cleaned, as the move will check it (for the confirmation, before anything moves).

    Raises:
        Forbidden: for a role without ``publish``.
        InvalidInput: missing or too long (``where`` is ``reason``).
    """
    try:
        _, fields = runs_service.WORKFLOW.check(actor, "published", "supersede", {"supersede_reason": reason})
    except InvalidInput as exc:
        raise InvalidInput([replace(p, where="reason") for p in exc.problems]) from None
    return str(fields["supersede_reason"])


__all__ = [
    "RunInfo",
    "data_years",
    "export_rows",
    "get_run",
    "list_runs",
    "publish_run",
    "published_years",
    "run_results",
    "start_run",
    "supersede_run",
]


def rerun_run(uow: UnitOfWork, actor: Actor, run_id: int, address: str | None = None) -> RunInfo:
    """Rerun a failed run with its method (admin; audited), in the background; poll ``get_run`` for progress.

    Raises:
        NotFound: the run is not visible to the actor.
        Forbidden: for a role without ``evaluate`` (on a run it can see).
        Conflict: the run has not failed (409).
    """
    get_run(uow, actor, run_id)
    runs_service.rerun(uow, actor, run_id, address)
    return get_run(uow, actor, run_id)
