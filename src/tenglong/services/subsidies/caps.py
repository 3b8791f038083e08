"""Caps on what one enterprise may be granted, checked against the ledger when money is committed.

2.10: "对装备投资额200万元及以上的普通技改项目，按设备投资额的5%给予补助，单家企业最高补助200万元"
— the ordinary 技改 subsidies of one enterprise in one calendar year (the year of
the projects' application dates) may not exceed
``tech_renovation.ordinary_cap_per_enterprise_year`` (an assumption that the cap
is yearly, shown to officials). The engine already allots the cap among the
projects it is shown; this check makes the same promise hold when approvals
happen one by one and at the same time: the caller locks the enterprise
(:func:`ledger.lock_enterprise`), then the sum granted so far is read from the
ledger and the approval refused if it would pass the cap.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Connection

from ...core import loader
from ...core.errors import Conflict
from . import ledger


def ordinary_cap(day: dt.date) -> Decimal | None:
    """The yearly per-enterprise cap of ordinary 2.10 subsidies in force on ``day`` (None: no cap)."""
    cap = loader.parameters()[ledger.ORDINARY_CAP].at(day)
    return None if cap is None else Decimal(str(cap))


def check_ordinary_cap(conn: Connection, credit_code: str, day: dt.date, amount: Decimal, application_id: int) -> None:
    """Refuse to grant ``amount`` of ordinary 2.10 subsidy when the enterprise's year would pass the cap.

    Args:
        conn: the write transaction, with the enterprise locked.
        credit_code: the enterprise.
        day: the project's application date (its year is the cap's year).
        amount: the ordinary 技改 subsidy about to be granted.
        application_id: the application being approved (never counted twice).

    Raises:
        Conflict: naming the year, the total it would reach and the cap.
    """
    cap = ordinary_cap(day)
    if cap is None or amount <= 0:
        return
    used = ledger.cap_used(conn, credit_code, ledger.ORDINARY_CAP, day.year, exclude_application=application_id)
    if used + amount > cap:
        raise Conflict(
            f"批准后该企业 {day.year} 年普通技改补助合计 {used + amount:,.2f} 元，超过年度上限 {cap:,.2f} 元"
            f"（第（十）项“单家企业最高补助200万元”；已批准 {used:,.2f} 元）；请退回修改后重新计算。",
            f"Approving would bring the enterprise's {day.year} ordinary 2.10 subsidies to {used + amount:,.2f} yuan, "
            f"above the cap of {cap:,.2f} (already granted: {used:,.2f}); reject it and recompute.",
        )
