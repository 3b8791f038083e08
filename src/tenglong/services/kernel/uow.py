"""Units of work: one transaction per use case, with the audit rows inside it.

Every change goes through ``UnitOfWork.write()``: the change and its audit
record commit together or not at all. Writes are serialised, so that the audit
log's hash chain stays linear: on SQLite the transaction starts with ``BEGIN
IMMEDIATE`` and a process lock queues writers; on PostgreSQL it first takes a
transaction-level advisory lock. Taking that lock first, before any row lock,
means two writers can never wait on each other in opposite orders (no deadlock).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, text, update

from ...adapters.db.engine import WRITE
from ...adapters.db.tables import audit_log
from ...core.errors import Conflict
from ...registers import chain
from ...registers.events import EVENTS, EventType
from ...registers.roles import Actor
from ...registers.workflow import Move

_WRITE_LOCK = threading.RLock()


def now() -> dt.datetime:
    """Current UTC time (aware)."""
    return dt.datetime.now(dt.UTC)


def _plain(value: Any) -> Any:
    """JSON-safe copy of before/after values (Decimal → text, dates → ISO)."""
    return json.loads(
        json.dumps(
            value,
            default=lambda o: (
                str(o) if isinstance(o, Decimal) else o.isoformat() if hasattr(o, "isoformat") else str(o)
            ),
        )
    )


def _chain_tail(conn: Connection) -> tuple[int, str]:
    """The id that the next audit row takes and the hash it chains to (called under the write lock).

    Every write transaction holds the write lock from its start (``UnitOfWork.write``):
    on PostgreSQL the transaction-level advisory lock :data:`registers.chain.LOCK_KEY`,
    on SQLite ``BEGIN IMMEDIATE``. On PostgreSQL the id is drawn from the table's
    sequence under it, so id order is chain order; on SQLite it is the last one plus
    one (what SQLite would choose).
    """
    sqlite = conn.dialect.name == "sqlite"
    last = conn.execute(select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).first()
    prev = chain.GENESIS if last is None or last.hash is None else last.hash
    if sqlite:
        return (0 if last is None else int(last.id)) + 1, prev
    next_id = conn.execute(text("SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))")).scalar_one()
    return int(next_id), prev


class Writer:
    """A write transaction with an audit trail."""

    def __init__(self, conn: Connection, actor: Actor | None, address: str | None) -> None:
        self.conn = conn
        self.actor = actor
        self.address = address

    def record(self, event: EventType, entity_id: Any, before: Any = None, after: Any = None) -> None:
        """Append one typed audit event in this transaction (refused unless ``event`` is registered).

        The row joins the audit log's hash chain (``registers/chain.py``): it stores
        the hash of the newest row and its own. The transaction already holds the
        write lock, so the chain stays linear.

        Raises:
            ValueError: for an event type that is not in ``registers.events.EVENTS``.
        """
        if event not in EVENTS or EVENTS[event.name] != event:
            raise ValueError(f"unregistered audit event {event.name}")
        row = {
            "actor_id": self.actor.id if self.actor else None,
            "actor": self.actor.username if self.actor else "system",
            "action": event.name,
            "entity_type": event.entity,
            "entity_id": str(entity_id),
            "before": _plain(before) if before is not None else None,
            "after": _plain(after) if after is not None else None,
            "address": self.address,
        }
        row["id"], prev = _chain_tail(self.conn)
        row["at"] = now()  # under the lock, so times follow the chain too
        self.conn.execute(insert(audit_log).values(**row, prev_hash=prev, hash=chain.link(prev, row)))

    def move(
        self,
        table: Table,
        record_id: Any,
        state: str,
        move: Move,
        values: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Apply a workflow move (decided by ``Workflow.check``) to ``table`` and audit it.

        The row moves only if it is still in ``state`` (a concurrent move makes this
        one a :class:`Conflict`, and the transaction rolls back); ``values`` are set
        with the new status. The audit event is the move's, with the states before
        and after and the given ``before``/``after`` details.

        Raises:
            Conflict: the row left ``state`` meanwhile.
        """
        done = self.conn.execute(
            update(table)
            .where(table.c.id == record_id, table.c.status == state)
            .values(status=move.target, **(values or {}))
        )
        if done.rowcount != 1:
            raise Conflict(
                f"记录 #{record_id} 的状态已被他人改变，请刷新后重试。",
                f"Record #{record_id} changed meanwhile; reload and try again.",
            )
        if move.event is None:
            raise ValueError(f"move {move.action} has no event: build workflows with Workflow.from_mapping")
        self.record(
            move.event, record_id, {"status": state, **(before or {})}, {"status": move.target, **(after or {})}
        )


class UnitOfWork:
    """Access to the database for the services."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (a deferred transaction, rolled back at the end)."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self, actor: Actor | None, address: str | None = None) -> Iterator[Writer]:
        """A write transaction; commits on success, rolls back (changing nothing) on error."""
        lock = _WRITE_LOCK if self.sqlite else _NoLock()
        with lock, self.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            if not self.sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": chain.LOCK_KEY})
            yield Writer(conn, actor, address)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
