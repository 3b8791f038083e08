"""The audit log, read only: filter, page, compare before and after, export (XLSX, CSV).

The log is append-only: this module reads it and nothing else (there is no
function that changes or deletes a record, and no route either; the events of
exports and refused writes are appended by ``trail.py``). Times are
stored in UTC and shown in China Standard Time (UTC+8), the time of Linhai; a
date range means whole local days, both ends included.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from ...adapters.db.tables import audit_log, users
from ...adapters.tabular.xlsx import Column, list_workbook, write_csv
from ...core.errors import PolicyError
from ...registers.roles import Actor
from ..kernel.platform import Platform
from ..kernel.scope import require

LOCAL = dt.timezone(dt.timedelta(hours=8), "UTC+08:00")
"""China Standard Time, in which dates are filtered and times shown."""
PAGE_SIZE = 50
EXPORT_LIMIT = 1_000_000
"""Most rows in one export (an XLSX sheet holds 1,048,576)."""
HEADERS = (
    "编号",
    "时间（北京时间）",
    "操作人",
    "操作人编号",
    "操作",
    "对象类型",
    "对象编号",
    "变更前",
    "变更后",
    "来源地址",
)
"""Column headers of the exports (Chinese, as the bureau files them)."""


@dataclass(frozen=True)
class AuditFilter:
    """What to show: each given criterion narrows the log.

    Attributes:
        actor: the username (exact), or ``system``.
        action: a prefix of the action, e.g. ``evaluation.`` or ``user.create``.
        entity_type: e.g. ``user``, ``data_import``, ``evaluation_run``.
        entity_id: the id of that entity, exactly.
        date_from: first local day included.
        date_to: last local day included.
    """

    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def query_items(self) -> dict[str, str]:
        """The non-empty criteria as query-string values (for paging and export links)."""
        return {
            k: (v.isoformat() if isinstance(v, dt.date) else str(v))
            for k, v in vars(self).items()
            if v not in (None, "")
        }


@dataclass(frozen=True)
class Change:
    """One key of a before/after pair: ``changed``, ``added``, ``removed`` or ``same``."""

    key: str
    before: str | None
    after: str | None
    kind: str


@dataclass(frozen=True)
class AuditEntry:
    """One audit record, with its before/after values pretty-printed and compared key by key."""

    id: int
    at: dt.datetime
    actor: str
    actor_id: int | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    address: str | None
    changes: list[Change] = field(default_factory=list)

    @property
    def at_local(self) -> str:
        """The time in China Standard Time, to the second."""
        return self.at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def before_text(self) -> str:
        """``before`` as indented JSON (empty when there is none)."""
        return pretty(self.before)

    @property
    def after_text(self) -> str:
        """``after`` as indented JSON (empty when there is none)."""
        return pretty(self.after)


@dataclass(frozen=True)
class AuditPage:
    """One page of the filtered log, newest first."""

    items: list[AuditEntry]
    total: int
    page: int
    pages: int
    page_size: int = PAGE_SIZE


def pretty(value: Any) -> str:
    """Indented JSON with Chinese kept readable.

    >>> pretty({"status": "已发布"})
    '{\\n  "status": "已发布"\\n}'
    >>> pretty(None)
    ''
    """
    return "" if value is None else json.dumps(value, ensure_ascii=False, indent=2)


def compare(before: Any, after: Any) -> list[Change]:
    """Key-by-key comparison when both values are objects (else no rows).

    >>> [(c.key, c.kind) for c in compare({"a": 1, "b": 2}, {"b": 3, "c": 4})]
    [('a', 'removed'), ('b', 'changed'), ('c', 'added')]
    """
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    out = []
    for key in list(before) + [k for k in after if k not in before]:
        b = json.dumps(before[key], ensure_ascii=False) if key in before else None
        a = json.dumps(after[key], ensure_ascii=False) if key in after else None
        kind = "added" if key not in before else "removed" if key not in after else "same" if a == b else "changed"
        out.append(Change(str(key), b, a, kind))
    return out


def _check(actor: Actor) -> None:
    require(actor, "read_audit")


def _utc(day: dt.date) -> dt.datetime:
    """Local midnight of ``day`` in UTC (SQLite keeps UTC wall-clock text, so bounds are bound in UTC)."""
    return dt.datetime.combine(day, dt.time(), LOCAL).astimezone(dt.UTC)


def _conditions(f: AuditFilter) -> list[Any]:
    c = audit_log.c
    where: list[Any] = []
    if f.actor:
        where.append(c.actor == f.actor.strip())
    if f.action:
        where.append(c.action.startswith(f.action.strip(), autoescape=True))
    if f.entity_type:
        where.append(c.entity_type == f.entity_type.strip())
    if f.entity_id:
        where.append(c.entity_id == f.entity_id.strip())
    if f.date_from:
        where.append(c.at >= _utc(f.date_from))
    if f.date_to:
        where.append(c.at < _utc(f.date_to + dt.timedelta(days=1)))
    return where


def _entry(r: Any) -> AuditEntry:
    at = r.at if r.at.tzinfo else r.at.replace(tzinfo=dt.UTC)
    return AuditEntry(
        int(r.id),
        at,
        r.actor,
        r.actor_id,
        r.action,
        r.entity_type,
        r.entity_id,
        r.before,
        r.after,
        r.address,
        compare(r.before, r.after),
    )


def entries(p: Platform, actor: Actor, f: AuditFilter, page: int = 1, page_size: int = PAGE_SIZE) -> AuditPage:
    """A page of the filtered log, newest first.

    Raises:
        Forbidden: for a role without ``read_audit`` (admin and auditor have it).
    """
    _check(actor)
    where = _conditions(f)
    with p.uow.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(audit_log).where(*where)).scalar_one())
        pages = max(1, math.ceil(total / page_size))
        page = min(max(page, 1), pages)
        rows = conn.execute(
            select(audit_log)
            .where(*where)
            .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    return AuditPage([_entry(r) for r in rows], total, page, pages, page_size)


def filter_choices(p: Platform, actor: Actor) -> dict[str, list[str]]:
    """Suggestions for the filter form: usernames (and ``system``) and the entity types in the log.

    Raises:
        Forbidden: for a role without ``read_audit``.
    """
    _check(actor)
    with p.uow.read() as conn:
        names = [r[0] for r in conn.execute(select(users.c.username).order_by(users.c.username))]
        types = [
            r[0] for r in conn.execute(select(audit_log.c.entity_type).distinct().order_by(audit_log.c.entity_type))
        ]
    return {"actors": ["system", *names], "entity_types": types}


def _export_rows(p: Platform, actor: Actor, f: AuditFilter) -> Iterator[list[Any]]:
    """The rows of an export (checked and counted now, streamed later)."""
    _check(actor)
    where = _conditions(f)
    with p.uow.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(audit_log).where(*where)).scalar_one())
    if total > EXPORT_LIMIT:
        raise PolicyError(
            f"筛选结果有 {total:,} 条，超过单次导出上限 {EXPORT_LIMIT:,} 条；请缩小日期范围或增加筛选条件。",
            f"The filter matches {total:,} records, more than the {EXPORT_LIMIT:,} one export holds; "
            "narrow the dates or add criteria.",
        )
    return _stream(p, where)


def _stream(p: Platform, where: list[Any]) -> Iterator[list[Any]]:
    with p.uow.read() as conn:
        result = conn.execution_options(yield_per=5000).execute(
            select(audit_log).where(*where).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        )
        for r in result:
            e = _entry(r)
            yield [
                e.id,
                e.at_local,
                e.actor,
                e.actor_id,
                e.action,
                e.entity_type,
                e.entity_id,
                json.dumps(e.before, ensure_ascii=False) if e.before is not None else "",
                json.dumps(e.after, ensure_ascii=False) if e.after is not None else "",
                e.address or "",
            ]


def export_csv(p: Platform, actor: Actor, f: AuditFilter) -> bytes:
    """The filtered log as CSV, UTF-8 with a BOM (so that Excel reads the Chinese), newest first.

    Text that a spreadsheet would run as a formula (``=1+1`` typed as a username) is
    written as text (``'=1+1``), by the shared CSV writer.

    Raises:
        Forbidden: for a role without ``read_audit``.
        PolicyError: when the filter matches more than :data:`EXPORT_LIMIT` records.
    """
    return _encode("csv", _export_rows(p, actor, f))


def export_xlsx(p: Platform, actor: Actor, f: AuditFilter) -> bytes:
    """The filtered log as an XLSX workbook: Chinese headers, frozen header row, filter, newest first.

    Streamed (constant memory) through the shared writer, which keeps text as text.

    Raises:
        Forbidden: for a role without ``read_audit``.
        PolicyError: when the filter matches more than :data:`EXPORT_LIMIT` records.
    """
    return _encode("xlsx", _export_rows(p, actor, f))


def _encode(fmt: str, rows: Iterable[list[Any]]) -> bytes:
    if fmt == "csv":
        return write_csv(None, HEADERS, rows)
    widths = (8, 20, 14, 10, 24, 16, 20, 50, 50, 16)
    kinds = ("int", "text", "text", "int", "text", "text", "text", "text", "text", "text")
    columns = [Column(i, h, w, k) for i, (h, w, k) in enumerate(zip(HEADERS, widths, kinds, strict=True))]
    return list_workbook("审计日志", columns, rows, streaming=True)


class _Counted:
    """An iterable that counts the rows it hands out (a streamed export's row count)."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self.rows, self.n = rows, 0

    def __iter__(self) -> Iterator[Any]:
        for row in self.rows:
            self.n += 1
            yield row


def export_counted(p: Platform, actor: Actor, f: AuditFilter, fmt: str) -> tuple[bytes, int]:
    """The filtered log as ``csv`` or else ``xlsx`` (as :func:`export_csv` / :func:`export_xlsx`) and its row count.

    Raises:
        Forbidden: for a role without ``read_audit``.
        PolicyError: when the filter matches more than :data:`EXPORT_LIMIT` records.
    """
    rows = _Counted(_export_rows(p, actor, f))
    return _encode("csv" if fmt == "csv" else "xlsx", rows), rows.n
