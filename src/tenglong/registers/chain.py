"""The audit log's hash chain (pure): the canonical content of a row, its chained hash, and the check.

Each audit row stores the hash of the row before it (``prev_hash``) and its own
``hash``::

    hash_i = sha256(hash_{i-1} ‖ canonical(row_i))    (hex; hash_0 = GENESIS)

where ``hash_{i-1}`` is the 64 ASCII hex digits of the previous row's hash and
``canonical`` the UTF-8 bytes of a JSON object of every stored field — ``id``,
``at``, ``actor_id``, ``actor``, ``action``, ``entity_type``, ``entity_id``,
``before``, ``after``, ``address`` — with sorted keys, no whitespace and the
characters themselves (not ``\\u`` escapes). ``at`` is written in UTC as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``; a naive time is UTC already (SQLite keeps UTC
wall-clock text, PostgreSQL returns an aware time in the session's zone), so
both databases give the same text for the same instant.

Because the id is inside the hashed content and every row names its
predecessor's hash, editing any stored field, deleting a row in the middle or
reordering rows breaks the chain at that row; :func:`verify` finds the first such
row. No I/O here: the caller reads the rows (in id order) and hands them in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FIELDS",
    "GENESIS",
    "LOCK_KEY",
    "PROBLEMS",
    "Break",
    "Verdict",
    "canonical",
    "canonical_time",
    "link",
    "verify",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first row."""

LOCK_KEY = int.from_bytes(b"tenglong", "big")
"""Key of the PostgreSQL transaction-level advisory lock under which rows are appended (a signed 64-bit constant)."""

FIELDS = ("id", "at", "actor_id", "actor", "action", "entity_type", "entity_id", "before", "after", "address")
"""The stored fields of an audit row that its hash covers (everything but the chain columns)."""

PROBLEMS = {
    "edited": (
        "内容被修改：按本行内容重算的哈希与存储的哈希不符",
        "content edited: the hash recomputed from this row's content differs from the stored hash",
    ),
    "gap": (
        "记录缺失或顺序被改动：本行记录的上一行哈希不是前一行的哈希",
        "row missing or out of order: the previous hash this row names is not the hash of the row before it",
    ),
    "unchained": (
        "记录未入链：本行没有哈希（绕过了审计写入）",
        "row not chained: it has no hash (it was written around the audit writer)",
    ),
}
"""What can be wrong with a row: code → (Chinese, English)."""


def canonical_time(at: dt.datetime) -> str:
    """The instant ``at`` in UTC with microseconds; a naive time is taken as UTC.

    >>> canonical_time(dt.datetime(2026, 1, 2, 3, 4, 5))
    '2026-01-02T03:04:05.000000Z'
    >>> canonical_time(dt.datetime(2026, 1, 2, 11, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    '2026-01-02T03:04:05.000006Z'
    """
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds") + "Z"


def canonical(row: Mapping[str, Any]) -> bytes:
    """The canonical bytes of an audit row's content (the :data:`FIELDS`; other keys are ignored).

    ``before`` and ``after`` must be JSON values as they read back from the
    database (the writer stores them JSON-normalised already).

    >>> row = {"id": 7, "at": dt.datetime(2026, 1, 2, 3, 4, 5), "actor_id": None, "actor": "system",
    ...        "action": "login.failed", "entity_type": "user", "entity_id": "张三",
    ...        "before": None, "after": {"b": 1.5, "a": [1, "二"]}, "address": "127.0.0.1", "hash": "ignored"}
    >>> canonical(row).decode()
    '{"action":"login.failed","actor":"system","actor_id":null,"address":"127.0.0.1","after":{"a":[1,"二"],"b":1.5},\
"at":"2026-01-02T03:04:05.000000Z","before":null,"entity_id":"张三","entity_type":"user","id":7}'
    """
    content = {name: row[name] for name in FIELDS}
    content["id"] = int(content["id"])
    content["at"] = canonical_time(content["at"])
    if content["actor_id"] is not None:
        content["actor_id"] = int(content["actor_id"])
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate (from a mis-decoded file name) still hashes


def link(prev_hash: str, row: Mapping[str, Any]) -> str:
    """``sha256(prev_hash ‖ canonical(row))`` as 64 hex digits.

    >>> row = {"id": 1, "at": dt.datetime(2026, 1, 1), "actor_id": 1, "actor": "admin", "action": "login",
    ...        "entity_type": "user", "entity_id": "1", "before": None, "after": None, "address": None}
    >>> h = link(GENESIS, row)
    >>> len(h), h == link(GENESIS, {**row, "hash": "ignored"}), h == link("1" * 64, row)
    (64, True, False)
    """
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(row)).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first row where the chain does not hold.

    Attributes:
        id: the row's id.
        at: its stored time.
        action: its stored action.
        problem: ``edited``, ``gap`` or ``unchained`` (see :data:`PROBLEMS`).
        expected_prev: the hash of the last row that verified (GENESIS if none).
        stored_prev: the ``prev_hash`` stored in this row.
    """

    id: int
    at: dt.datetime
    action: str
    problem: str
    expected_prev: str
    stored_prev: str | None

    @property
    def zh(self) -> str:
        """What is wrong, in Chinese."""
        return PROBLEMS[self.problem][0]

    @property
    def en(self) -> str:
        """What is wrong, in English."""
        return PROBLEMS[self.problem][1]


@dataclass(frozen=True)
class Verdict:
    """The outcome of a walk along the chain.

    Attributes:
        rows: how many rows verified (before the break, if any).
        head: the hash of the last row that verified (GENESIS for none).
        head_id: the id of that row (None for none).
        head_at: its time (None for none).
        broken: the first broken row, or None when the whole chain holds.
    """

    rows: int
    head: str
    head_id: int | None
    head_at: dt.datetime | None
    broken: Break | None

    @property
    def ok(self) -> bool:
        """Whether every row verified."""
        return self.broken is None


def verify(rows: Iterable[Mapping[str, Any]]) -> Verdict:
    """Walk ``rows`` (in id order, each with its ``prev_hash`` and ``hash``) and stop at the first broken one.

    >>> base = {"at": dt.datetime(2026, 1, 1), "actor_id": None, "actor": "system", "action": "login",
    ...         "entity_type": "user", "entity_id": "1", "before": None, "after": None, "address": None}
    >>> chain, prev = [], GENESIS
    >>> for i in (1, 2, 3):
    ...     row = {**base, "id": i, "prev_hash": prev}
    ...     prev = row["hash"] = link(prev, row)
    ...     chain.append(row)
    >>> v = verify(chain)
    >>> (v.ok, v.rows, v.head == chain[-1]["hash"], v.head_id)
    (True, 3, True, 3)
    >>> verify([chain[0], {**chain[1], "actor": "mallory"}, chain[2]]).broken.problem
    'edited'
    >>> v = verify([chain[0], chain[2]])
    >>> (v.broken.id, v.broken.problem, v.rows)
    (3, 'gap', 1)
    """
    running, count, head_id, head_at = GENESIS, 0, None, None
    for row in rows:
        stored_prev, stored = row["prev_hash"], row["hash"]
        problem = (
            "unchained"
            if stored is None or stored_prev is None
            else "gap"
            if stored_prev != running
            else "edited"
            if link(running, row) != stored
            else None
        )
        if problem is not None:
            broken = Break(int(row["id"]), row["at"], row["action"], problem, running, stored_prev)
            return Verdict(count, running, head_id, head_at, broken)
        running, count, head_id, head_at = stored, count + 1, int(row["id"]), row["at"]
    return Verdict(count, running, head_id, head_at, None)
