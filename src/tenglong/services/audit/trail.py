"""The audit trail of reads and refusals: bulk exports and refused writes, as typed events.

``log.py`` only reads the audit log; this module appends two kinds of event to it
(through ``Writer.record``, so each joins the hash chain and is bounded before
it is hashed):

* ``export.download`` — a user downloaded a bulk export: what (``enterprises.xlsx``,
  ``evaluation_run/12.xlsx``…), the filter used and the row count. The export entry
  points below build the export with the owning service and record it; the routes
  call them instead of the service.
* ``request.refused`` — an unsafe request of a signed-in user, or a sign-in, was
  refused with 403, 404, 409 or 422: method, route template, status, error code, the
  message and a bounded summary of the problems — never the body or a password. It
  is written in its own transaction (the refused one has rolled back).

These events record who (``actor`` and ``actor_id``) like every other, but they
change nothing: ``NON_CHANGES`` names them, for anyone counting an account's changes
(a read-only auditor who exports, or is refused, has still changed nothing).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from ...core.errors import Problem
from ...registers import events
from ...registers.roles import Actor
from ..accounts import auth
from ..data import report as import_report
from ..enterprises import directory
from ..evaluation import views as evaluation_views
from ..kernel.platform import Platform
from ..kernel.uow import bounded
from ..subsidies import applications
from . import log

FILTER_VALUE_MAX = 200
"""Longest filter value kept in an export event (a longer one is cut, and marked)."""
SUMMARY_MAX = 64
"""Longest text of a refused request's summary (route parameters, problem places and values)."""
MESSAGE_MAX = 200
"""Longest message kept in a refused-request event."""
PROBLEMS_KEPT = 10
"""Most problems summarised in a refused-request event (their total is kept too)."""
NON_CHANGES = (events.EXPORT.name, events.REQUEST_REFUSED.name)
"""The audited events that record a read or a refusal, not a change."""


def _criteria(filters: Any) -> dict[str, Any]:
    """The non-empty criteria of an export (a dataclass, a mapping or None), text values bounded; no paging."""
    if filters is None:
        return {}
    items = dataclasses.asdict(filters) if dataclasses.is_dataclass(filters) else dict(filters)
    out = {}
    for key, value in items.items():
        if value in (None, "", [], ()) or key in ("page", "page_size"):
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()
        out[str(key)] = bounded(value, FILTER_VALUE_MAX) if isinstance(value, str) else value
    return out


def record_export(
    p: Platform, actor: Actor, export: str, rows: int, filters: Any = None, address: str | None = None
) -> None:
    """Audit one bulk export, in its own transaction: what (e.g. ``enterprises.xlsx``), the filter, the row count.

    ``filters`` is the filter used (a dataclass such as ``log.AuditFilter``, or a mapping); empty
    criteria are left out and long text is cut (marked), so the event stays small.
    """
    with p.uow.write(actor, address) as w:
        w.record(events.EXPORT, export, None, {"rows": int(rows), "filter": _criteria(filters)})


def export_audit_log(p: Platform, actor: Actor, f: log.AuditFilter, fmt: str, address: str | None = None) -> bytes:
    """The filtered audit log as ``csv`` or else ``xlsx`` (``log.export_csv`` / ``log.export_xlsx``), audited.

    Raises:
        Forbidden: for a role without ``read_audit``.
        PolicyError: when the filter matches more than ``log.EXPORT_LIMIT`` records.
    """
    fmt = "csv" if fmt == "csv" else "xlsx"
    content, rows = log.export_counted(p, actor, f, fmt)
    record_export(p, actor, f"audit_log.{fmt}", rows, f, address)
    return content


def export_enterprises(
    p: Platform, actor: Actor, year: int | None, f: Any, address: str | None = None
) -> directory.EnterpriseList:
    """Every row of the filtered enterprise list (``directory.export_enterprises``), audited as one export.

    Raises:
        Forbidden: without ``read``. InvalidInput: for a bad filter value.
    """
    listing = directory.export_enterprises(p.uow, actor, year, f)
    criteria = {"year": listing.year, **_criteria(listing.filter)}
    record_export(p, actor, "enterprises.xlsx", len(listing.page.items), criteria, address)
    return listing


def export_run(
    p: Platform, actor: Actor, run_id: int, address: str | None = None
) -> tuple[evaluation_views.RunInfo, list[dict[str, Any]]]:
    """An evaluation run and every result row the actor may see (``views.export_rows``), audited as one export.

    Raises:
        Forbidden: without ``read``. NotFound: for an unknown run (or one not visible).
    """
    run, rows = evaluation_views.export_rows(p.uow, actor, run_id)
    record_export(p, actor, f"evaluation_run/{run_id}.xlsx", len(rows), {"run_id": run_id, "year": run.year}, address)
    return run, rows


def export_applications(
    p: Platform,
    actor: Actor,
    status: str | None,
    clause: str | None,
    town: str | None,
    address: str | None = None,
) -> bytes:
    """The filtered subsidy applications as a workbook (``subsidies.export_xlsx``), audited as one export.

    Raises:
        Forbidden: without ``read``.
    """
    content = applications.export_xlsx(p.uow, actor, status, clause, town)
    rows = applications.list_applications(p.uow, actor, status, clause, town, None, 1, 1)["total"]
    record_export(p, actor, "applications.xlsx", rows, {"status": status, "clause": clause, "town": town}, address)
    return content


def export_import_report(p: Platform, actor: Actor, import_id: int, address: str | None = None) -> bytes:
    """An upload's whole validation report as a workbook (``data.report.report_workbook``), audited as one export.

    Raises:
        Forbidden: without the ``import`` permission. NotFound: for an unknown id.
    """
    content = import_report.report_workbook(p, actor, import_id)
    rows = import_report.problems(p, actor, import_id, None, 1).total
    record_export(p, actor, f"data_import/{import_id}/report.xlsx", rows, {"import_id": import_id}, address)
    return content


def _summary(problem: Problem | Mapping[str, Any]) -> dict[str, Any]:
    """Code, place and (bounded) value of one problem; no value for a password field."""
    get = problem.get if isinstance(problem, Mapping) else lambda k: getattr(problem, k, None)
    where = bounded(str(get("where") or ""), SUMMARY_MAX)
    value = get("value")
    if value is not None:
        value = None if "password" in where.lower() else bounded(str(value), SUMMARY_MAX)
    return {"code": bounded(str(get("code") or ""), SUMMARY_MAX), "where": where, "value": value}


def record_refusal(
    p: Platform,
    actor: Actor | None,
    address: str | None,
    method: str,
    route: str,
    status: int,
    code: str,
    message: tuple[str, str] = ("", ""),
    problems: Iterable[Problem | Mapping[str, Any]] = (),
    path_params: Mapping[str, Any] | None = None,
    login: bool = False,
) -> bool:
    """Audit one refused write in its own transaction (the refused one has rolled back). Returns whether it did.

    Kept: the method, the route (its template, e.g. ``/api/v1/admin/users/{user_id}/deactivate``),
    the status, the error code, the message and up to :data:`PROBLEMS_KEPT` problems (code,
    place, value — each cut to :data:`SUMMARY_MAX` characters; never a password's value), never
    the request body. A refused sign-in (``login``) has no actor: it also counts as a failed
    sign-in of its address, and once the address is locked out its refusals are no longer
    recorded, so that anonymous callers cannot fill the log.
    """
    listed = list(problems)
    after = {
        "method": method,
        "route": bounded(route, SUMMARY_MAX * 2),
        "status": status,
        "code": bounded(code, SUMMARY_MAX),
        "message": {"zh": bounded(message[0], MESSAGE_MAX), "en": bounded(message[1], MESSAGE_MAX)},
        "path_params": {
            bounded(str(k), SUMMARY_MAX): bounded(str(v), SUMMARY_MAX)
            for k, v in list((path_params or {}).items())[:PROBLEMS_KEPT]
        },
        "problems": [_summary(x) for x in listed[:PROBLEMS_KEPT]],
        "problem_count": len(listed),
    }
    settings = p.settings
    with p.uow.write(actor, address) as w:
        if login:
            name = next((str(x["value"]) for x in after["problems"] if x["where"] == "username" and x["value"]), "")
            counted = auth.count_refused_login(
                w.conn, name, address or "?", settings.login_max_failures_per_address, settings.login_window_minutes
            )
            if not counted:
                return False
        w.record(events.REQUEST_REFUSED, f"{method} {route}", None, after)
    return True
