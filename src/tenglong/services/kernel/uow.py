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
import hashlib
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
from .. import notifications

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


TEXT_MAX = {"actor": 64, "entity_type": 32, "entity_id": 64, "address": 64}
"""Most characters of an audit row's text fields (the database's CHECK constraints, revision 0005)."""
DETAIL_MAX = 16_384
"""Most characters of the stored JSON text of an event's ``before`` or ``after`` (the database refuses over 32,768)."""


def bounded(text: str, limit: int) -> str:
    """``text`` when it has at most ``limit`` characters; else a prefix marked as cut, ``limit`` characters in all.

    >>> bounded("admin", 64)
    'admin'
    >>> bounded("x" * 1_048_576, 40)
    'xxxxxxxxxxxxx…[truncated: 1048576 chars]'
    """
    if len(text) <= limit:
        return text
    marker = f"…[truncated: {len(text)} chars]"
    return (text[: max(limit - len(marker), 0)] + marker)[:limit]


def _bounded_detail(value: Any) -> Any:
    """A JSON value whose stored text (as SQLAlchemy writes it) exceeds :data:`DETAIL_MAX`, replaced by a marked prefix.

    The replacement keeps the size and SHA-256 of the whole value (compact JSON, sorted keys, UTF-8) and the
    longest prefix of that text that fits. It is what the row stores, so it is what the hash chain covers.

    >>> _bounded_detail({"note": "ok"})
    {'note': 'ok'}
    >>> cut = _bounded_detail({"name": "名" * 100_000})
    >>> cut["_truncated"], cut["chars"], len(json.dumps(cut)) <= DETAIL_MAX, cut["prefix"][:10]
    (True, 100011, True, '{"name":"名')
    """
    if value is None or len(json.dumps(value)) <= DETAIL_MAX:
        return value
    whole = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(whole.encode("utf-8", "surrogatepass")).hexdigest()
    keep = DETAIL_MAX
    while True:
        cut = {"_truncated": True, "chars": len(whole), "sha256": digest, "prefix": whole[:keep]}
        size = len(json.dumps(cut))
        if size <= DETAIL_MAX:
            return cut
        keep -= max(1, (size - DETAIL_MAX) // 6)  # at most 6 stored characters per character (\uXXXX)


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

    def record(self, event: EventType, entity_id: Any, before: Any = None, after: Any = None) -> int:
        """Append one typed audit event in this transaction (refused unless ``event`` is registered); its id.

        The row joins the audit log's hash chain (``registers/chain.py``): it stores
        the hash of the newest row and its own. The transaction already holds the
        write lock, so the chain stays linear.

        Every field is bounded before it is hashed and stored: the texts to their
        columns (:data:`TEXT_MAX`, a longer one kept as a marked prefix) and
        ``before``/``after`` to :data:`DETAIL_MAX` characters of JSON (a longer one
        replaced by its size, SHA-256 and a marked prefix) — so a caller's huge input
        never grows the log, and the chain covers exactly what is stored.

        Raises:
            ValueError: for an event type that is not in ``registers.events.EVENTS``.
        """
        if event not in EVENTS or EVENTS[event.name] != event:
            raise ValueError(f"unregistered audit event {event.name}")
        row = {
            "actor_id": self.actor.id if self.actor else None,
            "actor": bounded(self.actor.username if self.actor else "system", TEXT_MAX["actor"]),
            "action": event.name,
            "entity_type": bounded(event.entity, TEXT_MAX["entity_type"]),
            "entity_id": bounded(str(entity_id), TEXT_MAX["entity_id"]),
            "before": _bounded_detail(_plain(before)) if before is not None else None,
            "after": _bounded_detail(_plain(after)) if after is not None else None,
            "address": bounded(self.address, TEXT_MAX["address"]) if self.address is not None else None,
        }
        row["id"], prev = _chain_tail(self.conn)
        row["at"] = now()  # under the lock, so times follow the chain too
        self.conn.execute(insert(audit_log).values(**row, prev_hash=prev, hash=chain.link(prev, row)))
        return int(row["id"])

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
        and after and the given ``before``/``after`` details. Whom the move notifies
        (its ``notify`` key) is told in the same transaction (``services/notifications.py``).

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
        audit_id = self.record(
            move.event, record_id, {"status": state, **(before or {})}, {"status": move.target, **(after or {})}
        )
        notifications.deliver(self, table, record_id, move, audit_id)


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
