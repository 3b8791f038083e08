"""The world of the access matrix: a private demo platform with objects inside and outside each role's scope.

Reads use objects made once; every write gets a fresh object in the state it needs
(a draft, a submitted or rejected application, a validated import, a failed run, an account), so
that each cell of the matrix is independent of the others.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from tenglong.adapters.db.tables import (
    data_imports,
    enterprises,
    evaluation_results,
    evaluation_runs,
    login_attempts,
    notifications,
    register_entries,
    users,
)
from tenglong.adapters.tabular.writer import write_enterprise_years
from tenglong.core.credit_code import check_character
from tenglong.registers.roles import Actor
from tenglong.services import attachments as attachment_service
from tenglong.services.accounts import users as users_service
from tenglong.services.accounts.auth import actor_of
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.data import uploads as imports_service
from tenglong.services.data.store import frame_from_db
from tenglong.services.enterprises import projects
from tenglong.services.evaluation.runs import create_run, execute_run, fail
from tenglong.services.kernel.platform import Platform
from tenglong.services.kernel.uow import now
from tenglong.services.subsidies import applications as subsidies

from .conftest import ROLES, client_for

GUESS_ID = 999_999
HCLE = "high_consumption_low_efficiency"
"""The register (清单) of the matrix's register rows."""
YEAR = 2023
MAJOR = {"total_investment": 15000000, "equipment_investment": 8000000}
STEPS = {
    "draft": (),
    "submitted": ("submit",),
    "under_review": ("submit", "start_review"),
    "approved": ("submit", "start_review", "approve"),
    "rejected": ("submit", "start_review", "reject"),
}
CODE = re.compile(r"(?<![0-9A-Za-z])9[0-9A-HJ-NPQRTUWXY]{17}(?![0-9A-Za-z])")
"""A credit code in a response body (GB 32100 characters, registered by 市场监管)."""


def guessed_credit_code(known: set[str]) -> str:
    """A valid-looking credit code (right check character) that no enterprise has."""
    for k in itertools.count():
        first17 = f"91331082MA2X{k:05d}"
        code = first17 + check_character(first17)
        if code not in known:
            return code
    raise AssertionError("unreachable")


def codes_in(response: Any) -> set[str]:
    """Every credit code written in a response: JSON, HTML, CSV, or the cells of an XLSX workbook."""
    if "spreadsheetml" in response.headers.get("content-type", ""):
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        body = " ".join(
            str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None
        )
    else:
        body = response.text
    return set(CODE.findall(body))


@dataclass(kw_only=True)
class Scope:
    """A demo platform's firms and runs seen from each role, and fresh projects and applications on demand."""

    p: Platform
    admin: Actor
    own_firm: str
    foreign_firm: str
    foreign_name: str
    guess_firm: str
    town_firms: frozenset[str]
    all_firms: frozenset[str]
    in_run: frozenset[str]
    published_run: int
    user_ids: dict[str, int]
    own_app: int = 0
    foreign_app: int = 0
    _n: Any = field(default_factory=lambda: itertools.count(1))

    def visible_firms(self, role: str) -> frozenset[str]:
        """The credit codes ``role`` may see."""
        return {"town": self.town_firms, "enterprise": frozenset({self.own_firm})}.get(role, self.all_firms)

    def serial(self) -> int:
        """A new number for unique names."""
        return next(self._n)

    # -- fresh objects, made through the services as the administrator --------------------------------------------
    def new_project(self, credit_code: str) -> int:
        """A 2.10 project (15,000,000 of which 8,000,000 equipment) of ``credit_code``."""
        return projects.create_project(
            self.p.uow, self.admin, credit_code, f"矩阵项目 {self.serial()}", f"{YEAR}-03-01", MAJOR
        )

    def new_application(self, credit_code: str, state: str) -> int:
        """A 2.10 application of a new project of ``credit_code``, moved to ``state``."""
        aid = subsidies.create_application(self.p.uow, self.admin, self.new_project(credit_code), "2.10")
        for step in STEPS[state]:
            subsidies.act(self.p.uow, self.admin, aid, step, note="矩阵测试", reference=None)
        return aid


@dataclass(kw_only=True)
class World(Scope):
    """A private platform for the matrix: also an unpublished run, shared projects and an import, and a client per
    role.
    """

    tmp: Path
    unpublished_run: int
    failed_run: int = 0
    clients: dict[str | None, TestClient] = field(default_factory=dict)
    own_project: int = 0
    foreign_project: int = 0
    shared_import: int = 0
    own_file: int = 0
    foreign_file: int = 0
    own_entry: int = 0
    foreign_entry: int = 0

    def new_entry(self, credit_code: str, state: str = "identified") -> int:
        """An entry of the 高耗低效 register for ``credit_code`` in ``state`` (written directly: the matrix needs
        several open entries of one firm, which the service's one-open-entry rule would refuse)."""
        at = now()
        with self.p.uow.write(None) as w:
            town = w.conn.execute(
                select(enterprises.c.town).where(enterprises.c.credit_code == credit_code)
            ).scalar_one()
            row = {
                "kind": HCLE,
                "credit_code": credit_code,
                "town": town,
                "status": state,
                "opened": dt.date(YEAR, 3, 1),
                "fields": {},
                "basis": {"source": "manual", "reason": "矩阵测试"},
                "created_at": at,
                "updated_at": at,
            }
            return int(w.conn.execute(insert(register_entries).values(**row)).inserted_primary_key[0])

    def listable(self, own: bool) -> str:
        """A firm in the town (``own``) or outside it that has no open entry of the 高耗低效 register."""
        with self.p.uow.read() as conn:
            taken = set(
                conn.execute(
                    select(register_entries.c.credit_code).where(
                        register_entries.c.kind == HCLE,
                        register_entries.c.status.not_in(("closed", "shut_down", "dismissed", "removed")),
                    )
                ).scalars()
            )
        pool = self.town_firms if own else self.all_firms - self.town_firms
        return sorted(pool - taken)[0]

    def new_import(self, state: str) -> int:
        """An upload validated to ``state``: ``invalid`` (headers only) or ``validated`` (one clean row)."""
        name = {"invalid": "empty.csv", "validated": "good.csv"}[state]
        iid = imports_service.receive(self.p, self.admin, name, io.BytesIO((self.tmp / name).read_bytes()))
        self.settle()
        assert imports_service.get_import(self.p, self.admin, iid).status == state
        return iid

    def new_file(self, credit_code: str) -> int:
        """An attachment (a small PDF) of a new draft application of ``credit_code``."""
        aid = self.new_application(credit_code, "draft")
        pdf = io.BytesIO(b"%PDF-1.4\n%access matrix\n%%EOF\n")
        return attachment_service.upload(self.p, self.admin, "subsidy_application", aid, "invoice", "发票.pdf", pdf)

    def new_failed_run(self) -> int:
        """A run of the year that failed (never published, so only admin, department and auditor see it)."""
        rid = create_run(self.p.uow, self.admin, YEAR, method_title=f"access matrix: a failed run {self.serial()}")
        assert fail(self.p.uow, rid, "矩阵测试：评价中断 / access matrix: the run was interrupted")
        return rid

    def new_notice(self, user_id: int) -> int:
        """A notification (of the shared application of the firm in the town) for the account ``user_id``."""
        with self.p.uow.write(None) as w:
            row = {
                "recipient_id": user_id,
                "event": "application.submit",
                "entity_type": "subsidy_application",
                "entity_id": str(self.own_app),
                "credit_code": self.own_firm,
                "created_at": now(),
            }
            return int(w.conn.execute(insert(notifications).values(**row)).inserted_primary_key[0])

    def new_user(self, active: bool, locked: bool = False) -> int:
        """A town account (deactivated unless ``active``; with ``locked``, as many failed sign-ins as lock it)."""
        fields = self.new_user_fields()
        uid = users_service.create(self.p, self.admin, users_service.NewUser(**fields))
        if not active:
            users_service.deactivate(self.p, self.admin, uid)
        if locked:
            with self.p.uow.write(None) as w:
                w.conn.execute(
                    insert(login_attempts),
                    [
                        {"username": fields["username"], "address": "192.0.2.77", "at": now(), "success": False}
                        for _ in range(self.p.settings.login_max_failures)
                    ],
                )
        return uid

    def new_user_fields(self) -> dict[str, str]:
        """The fields of a new, valid town account."""
        return {
            "username": f"matrix.{self.serial()}",
            "display_name": "矩阵测试账号",
            "password": "matrix-pass-2023",
            "role": "town",
            "town": DEMO_TOWN,
        }

    # -- what a cell of the matrix asks for ---------------------------------------------------------------------------
    def obj(self, kind: str | None, role: str | None, target: str, write: bool) -> Any:
        """The object of ``kind`` for ``role``: ``own`` (in its scope), ``foreign`` (outside it) or ``guess`` (does not
        exist).
        """
        if kind is None:
            return None
        base, _, state = kind.partition(":")
        if target == "guess" and base in ("entry", "listable"):
            return (HCLE, GUESS_ID if base == "entry" else self.guess_firm)
        if target == "guess":
            return {"firm": self.guess_firm, "clause": "9.99", "param": "no_such.parameter"}.get(base, GUESS_ID)
        own = target == "own"
        firm = self.own_firm if own else self.foreign_firm
        fresh = write and role is not None
        if base == "firm":
            return firm
        if base == "regkind":  # a tuple, as the other register objects (the path is filled from it)
            return (HCLE,)
        if base == "entry":
            return (HCLE, self.new_entry(firm, state) if fresh else (self.own_entry if own else self.foreign_entry))
        if base == "listable":
            return (HCLE, self.listable(own) if fresh else firm)
        if base == "clause":
            return "2.10"
        if base == "param":
            return "tech_renovation.major_rate"
        if base == "target":  # a campaign target whose figure is entered (no scope: own or guess)
            return "land_revitalised"
        if base == "run" and state == "failed":  # no role's scope holds a failed run: own and foreign alike
            return self.new_failed_run() if fresh else self.failed_run
        if base == "run":
            return self.published_run if own else self.unpublished_run
        if base == "project":
            return self.own_project if own else self.foreign_project
        if base == "new_project":
            return self.new_project(firm) if fresh else self.own_project
        if base == "app":
            return self.new_application(firm, state) if fresh else (self.own_app if own else self.foreign_app)
        if base == "import":
            return self.new_import(state) if fresh else self.shared_import
        if base == "file":
            return self.new_file(firm) if fresh else (self.own_file if own else self.foreign_file)
        if base == "notice":  # the caller's own notification, or another account's
            return self.new_notice(
                self.user_ids[(role or "admin") if own else "department" if role == "admin" else "admin"]
            )
        if base == "user":
            return (
                self.user_ids[role or "admin"]
                if own
                else self.new_user(active=state != "inactive", locked=state == "locked")
            )
        raise KeyError(kind)

    def settle(self, timeout: float = 120) -> None:
        """Wait until no evaluation run and no import is being worked on in the background."""
        deadline = time.monotonic() + timeout
        while True:
            with self.p.uow.read() as conn:
                runs = conn.execute(
                    select(func.count())
                    .select_from(evaluation_runs)
                    .where(evaluation_runs.c.status.in_(("queued", "running")))
                ).scalar_one()
                busy = (
                    conn.execute(
                        select(data_imports.c.id).where(data_imports.c.status.in_(("validating", "committing")))
                    )
                    .scalars()
                    .all()
                )
            if not runs and not any(imports_service.get_import(self.p, self.admin, i).running for i in busy):
                return
            assert time.monotonic() < deadline, "background work did not finish"
            time.sleep(0.05)


def _facts(p: Platform) -> dict[str, Any]:
    with p.uow.read() as conn:
        admin = actor_of(conn.execute(select(users).where(users.c.username == "admin")).one())
        user_ids = dict(conn.execute(select(users.c.username, users.c.id).where(users.c.username.in_(ROLES))).all())
        own = conn.execute(select(users.c.credit_code).where(users.c.username == "enterprise")).scalar_one()
        towns = dict(conn.execute(select(enterprises.c.credit_code, enterprises.c.town)).all())
        published = conn.execute(
            select(evaluation_runs.c.id).where(evaluation_runs.c.year == YEAR, evaluation_runs.c.status == "published")
        ).scalar_one()
        r = evaluation_results.c
        in_run = frozenset(conn.execute(select(r.credit_code).where(r.run_id == published)).scalars())
        foreign, foreign_name = conn.execute(
            select(enterprises.c.credit_code, enterprises.c.name)
            .join(evaluation_results, r.credit_code == enterprises.c.credit_code)
            .where(
                r.run_id == published,
                r.mujun_class.in_(("A", "B")),
                r.above_scale.is_(True),
                enterprises.c.town != DEMO_TOWN,
            )
            .order_by(enterprises.c.credit_code.desc())
            .limit(1)
        ).one()
    return {
        "p": p,
        "admin": admin,
        "own_firm": own,
        "foreign_firm": foreign,
        "foreign_name": foreign_name,
        "guess_firm": guessed_credit_code(set(towns)),
        "town_firms": frozenset(c for c, t in towns.items() if t == DEMO_TOWN),
        "all_firms": frozenset(towns),
        "in_run": in_run,
        "published_run": published,
        "user_ids": user_ids,
    }


def build_scope(p: Platform) -> Scope:
    """The scope facts of ``p`` (any demo platform, shared or not) and a draft application of a firm inside and one
    outside the town.
    """
    s = Scope(**_facts(p))
    s.own_app, s.foreign_app = s.new_application(s.own_firm, "draft"), s.new_application(s.foreign_firm, "draft")
    return s


def build_world(p: Platform, tmp: Path) -> World:
    """Objects in and out of each role's scope on ``p`` (a private demo platform): an unpublished run, a failed run,
    projects, applications, an import, the files to upload, and a signed-in client per role."""
    facts = _facts(p)
    with p.uow.read() as conn:
        frame = frame_from_db(conn, [YEAR])
    write_enterprise_years(frame.filter(frame["credit_code"] == facts["own_firm"]), tmp / "good.csv")
    write_enterprise_years(frame.head(0), tmp / "empty.csv")
    unpublished = create_run(
        p.uow, facts["admin"], YEAR, method_title="access matrix: a finished run that is not published"
    )
    execute_run(p.uow, unpublished)
    w = World(**facts, tmp=tmp, unpublished_run=unpublished)
    w.failed_run = w.new_failed_run()
    w.own_project, w.foreign_project = w.new_project(w.own_firm), w.new_project(w.foreign_firm)
    w.own_app, w.foreign_app = w.new_application(w.own_firm, "draft"), w.new_application(w.foreign_firm, "draft")
    w.shared_import = w.new_import("invalid")
    w.own_file, w.foreign_file = w.new_file(w.own_firm), w.new_file(w.foreign_firm)
    w.own_entry, w.foreign_entry = w.new_entry(w.own_firm), w.new_entry(w.foreign_firm)
    w.clients = {role: client_for(p, role) for role in (None, *ROLES)}
    return w
