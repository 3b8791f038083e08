"""The money ledger (台账): every amount granted, paid, clawed back or recovered, one append-only row each.

A row names the enterprise, the project and application it came from, the
clause and the output paid (``tech_renovation_subsidy``, ``key_project_reward_2513``,
``vertical_industry_reward``…), its kind, the exact amount in 分 (always positive:
the kind gives the direction), the budget year, the cap it counts against (a
parameter path) and who recorded it when. Nothing updates or deletes a row: a
correction is a new row. Balances and the yearly cap are sums over the ledger,
computed in SQL (exact integer sums of 分).

Kinds:

* ``granted`` — an approval commits the money (it counts against caps);
* ``paid`` — the money left the treasury (a payment voucher is kept);
* ``clawback`` — repayment demanded (追缴, A.4.2);
* ``recovered`` — repayment received.

Writers that check a cap first call :func:`lock_enterprise`: on PostgreSQL it
takes the enterprise row ``FOR UPDATE`` so that two concurrent approvals for one
enterprise are serialised; on SQLite every write transaction is already
``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select

from ...adapters.db.tables import enterprises, ledger_entries
from ..kernel.uow import Writer, now

KINDS = ("granted", "paid", "clawback", "recovered")
ORDINARY_CAP = "tech_renovation.ordinary_cap_per_enterprise_year"
"""The yearly per-enterprise cap of ordinary 2.10 技改 subsidies (单家企业最高补助200万元)."""
ZERO = Decimal("0.00")
_L = ledger_entries.c


@dataclass(frozen=True)
class Entry:
    """One amount to record (the writer adds who and when)."""

    credit_code: str
    clause: str
    item: str
    kind: str
    amount: Decimal
    year: int
    source_type: str
    source_id: str
    project_id: int | None = None
    application_id: int | None = None
    cap_key: str | None = None
    reference: str | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON-safe data (for the audit event of the decision that made it)."""
        d = asdict(self)
        d["amount"] = str(self.amount)
        return {k: v for k, v in d.items() if v is not None}


def append(w: Writer, entries: list[Entry]) -> list[int]:
    """Record ``entries`` in the caller's transaction; the amounts must be positive and exact to the 分.

    Raises:
        ValueError: for an unknown kind, or an amount that is not positive or has more than two decimals.
    """
    ids = []
    at = now()
    for e in entries:
        if e.kind not in KINDS:
            raise ValueError(f"unknown ledger kind {e.kind!r}")
        if e.amount <= 0 or e.amount != e.amount.quantize(Decimal("0.01")):
            raise ValueError(f"a ledger amount is positive and exact to the fen, not {e.amount}")
        row = {**asdict(e), "at": at, "actor_id": w.actor.id if w.actor else None}
        row["actor"] = w.actor.username if w.actor else "system"
        ids.append(int(w.conn.execute(insert(ledger_entries).values(**row)).inserted_primary_key[0]))
    return ids


def lock_enterprise(conn: Connection, credit_code: str) -> None:
    """Serialise writers that check an enterprise's cap (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite: a no-op)."""
    if conn.dialect.name != "sqlite":
        conn.execute(
            select(enterprises.c.credit_code).where(enterprises.c.credit_code == credit_code).with_for_update()
        )


def cap_used(
    conn: Connection, credit_code: str, cap_key: str, year: int, exclude_application: int | None = None
) -> Decimal:
    """What the enterprise was granted in ``year`` against the cap ``cap_key`` (exact, from the ledger)."""
    q = select(func.coalesce(func.sum(_L.amount), 0)).where(
        _L.credit_code == credit_code, _L.cap_key == cap_key, _L.year == year, _L.kind == "granted"
    )
    if exclude_application is not None:
        q = q.where(_L.application_id != exclude_application)
    return _decimal(conn.execute(q).scalar_one())


def granted_against(conn: Connection, credit_code: str, cap_key: str, year: int) -> dict[int, Decimal]:
    """Per application: what was granted against ``cap_key`` in ``year`` (the projects the cap already counts)."""
    q = (
        select(_L.application_id, func.sum(_L.amount))
        .where(_L.credit_code == credit_code, _L.cap_key == cap_key, _L.year == year, _L.kind == "granted")
        .group_by(_L.application_id)
    )
    return {int(a): _decimal(total) for a, total in conn.execute(q) if a is not None}


def balances(conn: Connection, credit_code: str | None = None, application_id: int | None = None) -> dict[str, Decimal]:
    """Sums per kind, and ``outstanding`` (clawed back but not recovered) and ``net`` (paid minus recovered)."""
    q = select(_L.kind, func.sum(_L.amount)).group_by(_L.kind)
    if credit_code is not None:
        q = q.where(_L.credit_code == credit_code)
    if application_id is not None:
        q = q.where(_L.application_id == application_id)
    sums = {k: ZERO for k in KINDS} | {k: _decimal(v) for k, v in conn.execute(q)}
    return {**sums, "outstanding": sums["clawback"] - sums["recovered"], "net": sums["paid"] - sums["recovered"]}


def entries(
    conn: Connection, credit_code: str | None = None, application_id: int | None = None
) -> list[dict[str, Any]]:
    """The ledger rows of an enterprise or an application, oldest first."""
    q = select(ledger_entries).order_by(_L.id)
    if credit_code is not None:
        q = q.where(_L.credit_code == credit_code)
    if application_id is not None:
        q = q.where(_L.application_id == application_id)
    return [dict(r._mapping) for r in conn.execute(q)]


def _decimal(value: Any) -> Decimal:
    """A SQL sum of the ``Fixed(2)`` amount (SQLAlchemy applies the column's type to ``sum``: a Decimal; 0 when
    empty).
    """
    return Decimal(value or 0).quantize(Decimal("0.01"))
