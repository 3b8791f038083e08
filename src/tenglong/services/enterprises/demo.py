"""The demo county's projects and their life cycle (A.4.2), the same every time.

Some 规上 firms across the towns (never one with a demo account of its own) each file a 2.10 technical renovation
project in 2022 or 2023. Most 2022 projects have started or been completed, some are in production and a few were
accepted at full production with the investment actually made; the 2023 projects are mostly filed only (the demo
town 杜桥镇 has some to record the start of). Totals straddle the 重点项目 line of 1000万元 (one exactly on it).
Everything is recorded in one transaction, each stage through the life cycle's own move (audited), no date after
the day the demo is made.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from ...adapters.db.tables import enterprises, users
from ...registers.roles import Actor
from ..kernel.uow import UnitOfWork
from .lifecycle import apply_move
from .projects import insert_project

__all__ = ["load_demo_projects"]

TOTALS = (
    Decimal("15000000"),
    Decimal("8000000"),
    Decimal("10000000"),
    Decimal("32000000"),
    Decimal("6500000"),
    Decimal("9999999.99"),
    Decimal("12500000"),
    Decimal("5200000"),
)
"""Total investments (元) handed out in turn: both sides of 1000万元, and 1000万元 exactly."""
NAMES = ("智能化技术改造项目", "数字化车间改造项目", "自动化产线技改项目", "节能降耗技术改造项目")
PER_YEAR = 16
"""Projects filed in each demo year (32 in all)."""
STAGE_2022 = ("accepted", "producing", "completed", "completed", "started", "started", "completed", "filed")
STAGE_2023 = ("filed", "filed", "started", "filed", "completed", "filed", "started", "filed")
"""The stage each project reaches, in turn: most 2022 projects started or completed, most 2023 ones filed."""
OFFSETS = {"start": 45, "complete": 300, "produce": 360, "accept": 540}
"""Days after the filing on which each stage is dated."""
FIELD = {"start": "started_on", "complete": "completed_on", "produce": "producing_on", "accept": "accepted_on"}
ACTIONS = ("start", "complete", "produce", "accept")
REACHED = {"filed": 0, "started": 1, "completed": 2, "producing": 3, "accepted": 4}


def _firms(uow: UnitOfWork, town: str, n: int) -> list[str]:
    """``n`` 规上 firms without a demo account: a third of them of ``town``, the others spread over the county."""
    with uow.read() as conn:
        accounts = select(users.c.credit_code).where(users.c.credit_code.is_not(None))
        base = (
            select(enterprises.c.credit_code)
            .where(enterprises.c.above_scale.is_(True), enterprises.c.credit_code.not_in(accounts))
            .order_by(enterprises.c.credit_code)
        )
        local = list(conn.execute(base.where(enterprises.c.town == town).limit(n // 3)).scalars())
        others = list(conn.execute(base.where(enterprises.c.town != town)).scalars())
    step = max(len(others) // max(n - len(local), 1), 1)
    return [*local, *others[::step][: n - len(local)]]


def load_demo_projects(uow: UnitOfWork, admin: Actor, town: str, day: dt.date) -> int:
    """File the demo projects and record their stages up to ``day`` (in one audited transaction); how many."""
    firms = _firms(uow, town, 2 * PER_YEAR)
    with uow.write(admin) as w:
        for i, code in enumerate(firms):
            year = 2022 if i % 2 == 0 else 2023
            n = i // 2
            filed = dt.date(year, 1 + (n * 5) % 12, 1 + (n * 7) % 27)
            total = TOTALS[i % len(TOTALS)]
            inputs = {"total_investment": total, "equipment_investment": (total * Decimal("0.6")).quantize(Decimal(1))}
            name = f"{NAMES[n % len(NAMES)]}（演示 {i + 1}）"
            pid = insert_project(w, admin, code, name, filed, inputs)
            stage = (STAGE_2022 if year == 2022 else STAGE_2023)[n % len(STAGE_2022)]
            for action in ACTIONS[: REACHED[stage]]:
                on = min(filed + dt.timedelta(days=OFFSETS[action]), day)
                given = {FIELD[action]: on.isoformat()}
                if action == "accept":
                    given["actual_investment"] = str((total * Decimal("1.04")).quantize(Decimal("0.01")))
                    given["actual_plot_ratio"] = "1.6"
                    given["opinion"] = "项目已达产，实际投资达到承诺"
                apply_move(w, admin, pid, action, given, day)
    return len(firms)
