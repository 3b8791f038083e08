"""A private demo platform for the 待办 panel and the notifications: accounts in two towns, firms inside and outside
the demo town, and applications made by different accounts and moved to each state of their workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tenglong.adapters.db.tables import enterprises, subsidy_applications, users
from tenglong.registers.roles import Actor
from tenglong.services.accounts import users as users_service
from tenglong.services.accounts.auth import actor_of
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.enterprises import projects
from tenglong.services.kernel.platform import Platform
from tenglong.services.subsidies import applications as subsidies
from tenglong.settings import DEMO_PASSWORD

from .conftest import ROLES, client_for, make_platform

MAJOR = {"total_investment": 15000000, "equipment_investment": 8000000}
PATH = {
    "draft": (),
    "submitted": ("submit",),
    "under_review": ("submit", "start_review"),
    "recommended": ("submit", "start_review", "recommend"),
    "approved": ("submit", "start_review", "approve"),
    "rejected": ("submit", "start_review", "reject"),
    "paid": ("submit", "start_review", "approve", "pay"),
    "withdrawn": ("withdraw",),
}
"""The moves that bring a new draft to each state; who makes each is :data:`BY`."""
BY = {"submit": None, "withdraw": None, "start_review": "department", "recommend": "department"}
"""Who makes a move (``None``: the application's creator); the other moves are the administrator's."""
FIELDS = {
    "recommend": {"opinion": "材料齐全", "recommended_amount": "700000"},
    "reject": {"note": "缺少设备发票"},
    "pay": {"reference": "LHCZ-TODO-1"},
}


@dataclass
class World:
    """The platform, an actor and a client per account, the firms, and the applications made (id → its facts)."""

    p: Platform
    actors: dict[str, Actor]
    own_firm: str
    mate_firm: str
    foreign_firm: str
    other_town: str
    apps: dict[int, dict[str, Any]] = field(default_factory=dict)
    clients: dict[str, TestClient] = field(default_factory=dict)
    _n: int = 0

    def client(self, name: str) -> TestClient:
        """A client signed in as the account ``name`` (made once)."""
        if name not in self.clients:
            c = client_for(self.p, name if name in ROLES else None)
            if name not in ROLES:
                r = c.post("/api/v1/session", json={"username": name, "password": DEMO_PASSWORD})
                assert r.status_code == 200, r.text
                c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            self.clients[name] = c
        return self.clients[name]

    def application(self, creator: str, firm: str, state: str) -> int:
        """A 2.10 application of a new project of ``firm``, made by ``creator`` and moved to ``state``."""
        self._n += 1
        who = self.actors[creator]
        pid = projects.create_project(self.p.uow, who, firm, f"待办项目 {self._n}", "2023-03-01", MAJOR)
        aid = subsidies.create_application(self.p.uow, who, pid, "2.10")
        for action in PATH[state]:
            mover = self.actors[BY.get(action, "admin") or creator]
            subsidies.act(self.p.uow, mover, aid, action, fields=FIELDS.get(action))
        self.apps[aid] = {"creator": creator, "firm": firm, "state": state}
        return aid

    def close(self) -> None:
        for c in self.clients.values():
            c.close()


def build(url: str, tmp: Path) -> World:
    """The demo platform on ``url`` with a second town's official, a second department account and an account of a
    firm of that town.
    """
    p = make_platform(url, upload_dir=str(tmp / "uploads"), attachment_dir=str(tmp / "files"))
    with p.uow.read() as conn:
        admin = actor_of(conn.execute(select(users).where(users.c.username == "admin")).one())
        own = conn.execute(select(users.c.credit_code).where(users.c.username == "enterprise")).scalar_one()
        mate = conn.execute(
            select(enterprises.c.credit_code)
            .where(enterprises.c.town == DEMO_TOWN, enterprises.c.credit_code != own)
            .order_by(enterprises.c.credit_code)
            .limit(1)
        ).scalar_one()
        foreign, other_town = conn.execute(
            select(enterprises.c.credit_code, enterprises.c.town)
            .where(enterprises.c.town != DEMO_TOWN)
            .order_by(enterprises.c.credit_code)
            .limit(1)
        ).one()
    extra = (
        users_service.NewUser("town2", "另一镇 经济发展办", DEMO_PASSWORD, "town", town=other_town),
        users_service.NewUser("department2", "市财政局 科员", DEMO_PASSWORD, "department", department="市财政局"),
        users_service.NewUser("enterprise2", "另一镇企业 财务", DEMO_PASSWORD, "enterprise", credit_code=foreign),
    )
    for new in extra:
        users_service.create(p, admin, new)
    with p.uow.read() as conn:
        actors = {r.username: actor_of(r) for r in conn.execute(select(users))}
        a = subsidy_applications.c
        demo = conn.execute(  # the demo county's own applications (its supported projects) wait on people too
            select(a.id, a.status, a.credit_code, users.c.username).join(users, users.c.id == a.created_by)
        ).all()
    world = World(p, actors, own, mate, foreign, other_town)
    world.apps |= {int(r.id): {"creator": r.username, "firm": r.credit_code, "state": r.status} for r in demo}
    return world
