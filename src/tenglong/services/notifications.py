"""In-app notifications: who is told of a workflow move, and their inbox.

A move of a workflow file may say whom it notifies (``notify:``, see
``registers/workflow.py``): ``owner`` — the user who created the record and the
accounts of its enterprise — or a role, whose accounts are told when they see the
record (``kernel.scope.audience``: a town official of its firms' records).
:func:`deliver` is called by ``Writer.move`` in the move's own transaction, so a
notification exists exactly when its move was committed. It writes one row per
recipient (each has their own "read"), with one ``INSERT … SELECT``; a person is
not told of a move they made themselves (the platform's own moves, such as "the
validation finished", are told to everyone named).

The record's kind must be registered as a subject (``services/todo.py``): it says
which columns name the creator and the enterprise, and the page a notification
links to.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Integer,
    String,
    and_,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from ..adapters.db.tables import audit_log, enterprises, notifications, users
from ..core.errors import NotFound
from ..registers.roles import Actor
from ..registers.workflow import OWNER, Move
from . import todo
from .kernel.scope import audience, require

if TYPE_CHECKING:  # kernel.uow calls deliver(): importing it here at run time would be circular
    from sqlalchemy import Table

    from .kernel.uow import UnitOfWork, Writer

__all__ = ["deliver", "inbox", "mark_all_read", "mark_read", "unread_count"]

PER_PAGE = 50
MESSAGE = "notifications.event.{event}"
"""The locale key of a move's sentence (``notifications.event.application.reject``); ``notifications.moved`` else."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def deliver(w: Writer, table: Table, record_id: Any, move: Move, audit_id: int) -> int:
    """Notify whom ``move`` names of it (in the writer's transaction); how many were told.

    Raises:
        ValueError: the move notifies, but no subject registered its kind of record (a programming error).
    """
    if not move.notify or move.event is None:
        return 0
    s = todo.subject(move.event.entity)
    if s is None:
        raise ValueError(f"move {move.event.name} notifies, but no todo.Subject registers {move.event.entity}")
    row = w.conn.execute(select(table).where(table.c.id == record_id)).one()._mapping
    code = row[s.enterprise] if s.enterprise else None
    town = w.conn.execute(select(enterprises.c.town).where(enterprises.c.credit_code == code)).scalar()
    who = []
    for name in move.notify:
        if name == OWNER:
            if s.creator and row[s.creator] is not None:
                who.append(users.c.id == row[s.creator])
            if code:
                who.append(and_(users.c.role == "enterprise", users.c.credit_code == code))
        else:
            who.append(and_(users.c.role == name, audience(code, town)))
    if not who:
        return 0
    told = [users.c.active.is_(True), or_(*who)]
    if w.actor is not None and not move.system:
        told.append(users.c.id != w.actor.id)
    recipients = select(
        users.c.id,
        literal(move.event.name, String),
        literal(move.event.entity, String),
        literal(str(record_id), String),
        literal(code, String),
        literal(audit_id, BigInteger().with_variant(Integer, "sqlite")),
        literal(_now(), DateTime(timezone=True)),
    ).where(*told)
    columns = ["recipient_id", "event", "entity_type", "entity_id", "credit_code", "audit_id", "created_at"]
    return w.conn.execute(insert(notifications).from_select(columns, recipients)).rowcount


def unread_count(uow: UnitOfWork, actor: Actor) -> int:
    """How many of ``actor``'s notifications are unread (0 for a role without ``read``)."""
    if not actor.can("read"):
        return 0
    n = notifications.c
    with uow.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(notifications).where(n.recipient_id == actor.id, n.read_at.is_(None))
            ).scalar_one()
        )


def _move_of(event: str, entity: str) -> tuple[Any, Move | None]:
    """The workflow and the move of an event (``application.reject`` of ``subsidy_application``), if registered."""
    s = todo.subject(entity)
    moves = s.workflow.named(event.rpartition(".")[2]) if s else []
    return (s.workflow, moves[0]) if s and moves else (None, None)


def _names(event: str, entity: str) -> dict[str, tuple[str, str]]:
    """The record's noun, the move's name and the state it reached, in zh and en (from the workflow file)."""
    wf, m = _move_of(event, entity)
    if wf is None or m is None:
        return {"noun": (entity, entity), "move": (event, event), "state": ("", "")}
    return {
        "noun": (wf.noun_zh, wf.noun_en),
        "move": (m.zh, m.en),
        "state": (wf.state(m.target).zh, wf.state(m.target).en),
    }


def _item(r: Any) -> dict[str, Any]:
    after = r.after if isinstance(r.after, dict) else {}
    name = r.enterprise_name or r.credit_code or ""
    _, move = _move_of(r.event, r.entity_type)
    return {
        "id": int(r.id),
        "event": r.event,
        "entity_type": r.entity_type,
        "entity_id": r.entity_id,
        "credit_code": r.credit_code,
        "enterprise_name": r.enterprise_name,
        "by": None if move is None or move.system else r.by,  # the platform's own moves: nobody's
        "note": after.get("note") or after.get("reason"),
        "created_at": r.created_at,
        "read_at": r.read_at,
        "link": todo.record_link(r.entity_type, r.entity_id),
        "values": {**_names(r.event, r.entity_type), "id": (r.entity_id, r.entity_id), "enterprise": (name, name)},
    }


def _inbox_query(actor: Actor) -> Any:
    n, a = notifications.c, audit_log.c
    return (
        select(
            n.id,
            n.event,
            n.entity_type,
            n.entity_id,
            n.credit_code,
            n.created_at,
            n.read_at,
            enterprises.c.name.label("enterprise_name"),
            users.c.display_name.label("by"),
            a.after,
        )
        .select_from(
            notifications.outerjoin(enterprises, enterprises.c.credit_code == n.credit_code)
            .outerjoin(audit_log, a.id == n.audit_id)
            .outerjoin(users, users.c.id == a.actor_id)
        )
        .where(n.recipient_id == actor.id)
    )


def inbox(
    uow: UnitOfWork, actor: Actor, unread_only: bool = False, page: int = 1, per_page: int = PER_PAGE
) -> dict[str, Any]:
    """``actor``'s notifications, newest first, paged: ``items``, ``total`` (of the list asked for), ``all``,
    ``unread``, ``page``, ``pages``.

    Each item has the record (``entity_type``, ``entity_id``, its ``link``), the enterprise's name, who moved it
    (``by``; None for the platform), the note given with the move, the times (UTC) and ``values``: the names a
    sentence needs, each in zh and en.

    Raises:
        Forbidden: for a role without ``read``.
    """
    require(actor, "read")
    n = notifications.c
    page, per_page = max(1, page), max(1, per_page)
    mine = n.recipient_id == actor.id
    with uow.read() as conn:
        counts = conn.execute(
            select(func.count(), func.count().filter(n.read_at.is_(None))).select_from(notifications).where(mine)
        ).one()
        total, unread = (counts[1] if unread_only else counts[0]), counts[1]
        query = _inbox_query(actor)
        if unread_only:
            query = query.where(n.read_at.is_(None))
        rows = conn.execute(query.order_by(n.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return {
        "items": [_item(r) for r in rows],
        "total": int(total),
        "all": int(counts[0]),
        "unread": int(unread),
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-int(total) // per_page)),
    }


def _mine(conn: Connection, actor: Actor, notification_id: int) -> Any:
    row = conn.execute(_inbox_query(actor).where(notifications.c.id == notification_id)).first()
    if row is None:
        raise NotFound(notification_id)
    return row


def mark_read(uow: UnitOfWork, actor: Actor, notification_id: int) -> dict[str, Any]:
    """Mark one of ``actor``'s notifications read (again: no change); the notification.

    Raises:
        Forbidden: for a role without ``read``. NotFound: unknown, or another user's.
    """
    require(actor, "read")
    with uow.write(actor) as w:
        _mine(w.conn, actor, notification_id)
        n = notifications.c
        w.conn.execute(update(notifications).where(n.id == notification_id, n.read_at.is_(None)).values(read_at=_now()))
        return _item(_mine(w.conn, actor, notification_id))


def mark_all_read(uow: UnitOfWork, actor: Actor) -> int:
    """Mark every unread notification of ``actor`` read; how many were.

    Raises:
        Forbidden: for a role without ``read``.
    """
    require(actor, "read")
    n = notifications.c
    with uow.write(actor) as w:
        return int(
            w.conn.execute(
                update(notifications).where(n.recipient_id == actor.id, n.read_at.is_(None)).values(read_at=_now())
            ).rowcount
        )
