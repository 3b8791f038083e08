"""Units of work: one transaction per use case, with the audit rows inside it.

Every change goes through ``UnitOfWork.write()``: the change and its audit
record commit together or not at all. On SQLite the transaction starts with
``BEGIN IMMEDIATE`` and a process lock queues writers, so writes are serialised.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, insert

from ...adapters.db.engine import WRITE
from ...adapters.db.tables import audit_log
from ...registers.roles import Actor

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


class Writer:
    """A write transaction with an audit trail."""

    def __init__(self, conn: Connection, actor: Actor | None, address: str | None) -> None:
        self.conn = conn
        self.actor = actor
        self.address = address

    def audit(self, action: str, entity_type: str, entity_id: Any, before: Any = None, after: Any = None) -> None:
        """Append one audit record in this transaction."""
        self.conn.execute(
            insert(audit_log).values(
                at=now(),
                actor_id=self.actor.id if self.actor else None,
                actor=self.actor.username if self.actor else "system",
                action=action,
                entity_type=entity_type,
                entity_id=str(entity_id),
                before=_plain(before) if before is not None else None,
                after=_plain(after) if after is not None else None,
                address=self.address,
            )
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
            yield Writer(conn, actor, address)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
