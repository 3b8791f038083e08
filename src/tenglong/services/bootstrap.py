"""First start: migrate the schema, and on an empty database create the demo county.

The demo county (``tenglong demo-data``) is stored as an import, each of its
years is evaluated and published, and one account per role is created.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from ..adapters.db.engine import upgrade
from ..adapters.db.tables import data_imports, enterprises, users
from ..demo.county import generate_county
from ..registers import events
from ..settings import DEMO_PASSWORD
from .accounts.auth import create_user
from .campaign.common import today
from .campaign.demo import load_demo_registers
from .data.store import store_frame
from .data.uploads import recover_stalled as recover_stalled_imports
from .enterprises.demo import load_demo_projects
from .evaluation.runs import create_run, execute_run, publish
from .evaluation.runs import recover_stalled as recover_stalled_runs
from .kernel.platform import Platform
from .kernel.uow import now
from .simulation.platform import load_demo_reforms

DEMO_TOWN = "331082112"  # 杜桥镇


@dataclass(frozen=True)
class DemoAccount:
    """A demo login printed at start-up."""

    username: str
    role: str
    description_zh: str
    description_en: str


def demo_years(text: str) -> list[int]:
    """'2021-2023' → [2021, 2022, 2023]."""
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def ensure_database(p: Platform, say: Callable[[str], None] = print) -> list[DemoAccount]:
    """Migrate; on an empty database with ``demo`` on, load and evaluate the demo county.

    Returns:
        The demo accounts (empty when the database already had data or demo is off).
    """
    upgrade(p.engine)
    # Work a stopped server left half done is failed with a reason (and can be rerun or discarded).
    recover_stalled_runs(p.uow)
    recover_stalled_imports(p)
    with p.uow.read() as conn:
        has_data = conn.execute(select(func.count()).select_from(enterprises)).scalar_one() > 0
        has_users = conn.execute(select(func.count()).select_from(users)).scalar_one() > 0
    if has_data or has_users or not p.settings.demo:
        return []
    years = demo_years(p.settings.demo_years)
    say(f"创建演示数据 / creating the demo county (seed {p.settings.demo_seed}, {years[0]}–{years[-1]}) …")
    frame = generate_county(p.settings.demo_seed, years)
    admin_id = create_user(p.uow, None, "admin", "市经信局 管理员", DEMO_PASSWORD, "admin", department="市经信局")
    from .accounts.auth import actor_of

    with p.uow.read() as conn:
        admin = actor_of(conn.execute(select(users).where(users.c.id == admin_id)).one())
    with p.uow.write(admin) as w:
        iid = w.conn.execute(
            insert(data_imports).values(
                filename=f"demo-county-seed{p.settings.demo_seed}.xlsx",
                stored_path="(generated)",
                status="committed",
                rows_read=frame.height,
                rows_valid=frame.height,
                error_count=0,
                years=years,
                uploaded_by=admin.id,
                uploaded_at=now(),
                committed_at=now(),
            )
        ).inserted_primary_key[0]
        counts = store_frame(w, frame, iid)
        w.record(events.IMPORT_DEMO, iid, None, {"filename": f"demo-county-seed{p.settings.demo_seed}.xlsx", **counts})
    town_firm = frame.filter((frame["town"] == DEMO_TOWN) & frame["above_scale"]).sort("credit_code")["credit_code"][0]
    create_user(
        p.uow, admin, "department", "市自然资源规划局 科员", DEMO_PASSWORD, "department", department="市自然资源规划局"
    )
    create_user(p.uow, admin, "town", "杜桥镇 经济发展办", DEMO_PASSWORD, "town", town=DEMO_TOWN)
    create_user(p.uow, admin, "enterprise", "演示企业 财务负责人", DEMO_PASSWORD, "enterprise", credit_code=town_firm)
    create_user(p.uow, admin, "auditor", "市审计局 审计员", DEMO_PASSWORD, "auditor")
    for y in years:
        say(f"评价 / evaluating {y} …")
        rid = create_run(p.uow, admin, y, method_title="默认方法 / default method")
        execute_run(p.uow, rid)
        publish(p.uow, admin, rid, follow_up=False)  # the registers take up the latest year only, below
    say("清单 / registers …")
    load_demo_registers(p, rid, DEMO_TOWN)  # the campaign under way: proposals from the latest run, some worked
    load_demo_projects(p.uow, admin, DEMO_TOWN, today())  # projects of 2022 and 2023 at their stages (A.4.2)
    load_demo_reforms(p.uow, admin)  # two what-if reforms to open on the simulation page
    return [
        DemoAccount("admin", "admin", "市经信局管理员（全部权限）", "Economy and IT Bureau admin (everything)"),
        DemoAccount(
            "department",
            "department",
            "市自然资源规划局（只读全部，审核）",
            "Natural Resources Bureau (reads all, reviews)",
        ),
        DemoAccount("town", "town", "杜桥镇（仅本镇企业）", "Duqiao Town official (own town only)"),
        DemoAccount(
            "enterprise",
            "enterprise",
            f"演示企业 {town_firm}（仅本企业）",
            f"demo enterprise {town_firm} (own data only)",
        ),
        DemoAccount("auditor", "auditor", "审计员（只读，含审计日志）", "auditor (read-only, with the audit log)"),
    ]


__all__ = ["DEMO_PASSWORD", "DemoAccount", "dt", "ensure_database"]
