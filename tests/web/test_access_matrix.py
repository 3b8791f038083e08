"""Access control across the whole platform: every route × every role × an object inside, outside and not at all in
scope.

``TABLE`` is the matrix. Each route of the app has one row (the workflow route one row
per action); a route without a row, or a row without a route, fails
``test_table_when_compared_with_the_app_has_one_row_per_route_and_hides_existence``.
A row gives, for admin, department, town, enterprise and auditor in that order, the
status for each target of the route's object: ``own/foreign/guess`` — in the role's
scope (the demo firm of 杜桥镇, its project or application, a published run, the
caller's own account) / outside it (a firm of another town with its project or
application, a run not published, another account) / an id or a valid-looking credit
code that does not exist — or ``own/guess`` where no scope applies (a clause, a
parameter, an import). A failed run (the rerun rows) is never published, so it is
outside the scope of town and enterprise both as ``own`` and as ``foreign``. Reads use
shared objects; each write gets a fresh object in the state the move needs, so 2xx
means it was done. 409 where access passed and the state refused (publishing a year
already published, deactivating oneself). Anonymous callers get 401 (API) or a
redirect to /login (pages) on every row.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select

from tenglong.adapters.db.tables import audit_log
from tenglong.registers.roles import PERMISSIONS
from tenglong.services.audit.trail import NON_CHANGES
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.settings import DEMO_PASSWORD
from tenglong.web.app import create_app

from .access_world import GUESS_ID, World, build_scope, build_world, codes_in
from .conftest import ROLES, client_for, make_platform

CALC = {
    "as_of": "2023-03-01",
    "enterprises": {"E1": {}},
    "projects": {
        "P1": {
            "enterprise": "E1",
            "total_investment": 15000000,
            "equipment_investment": 8000000,
            "tech_renovation_subsidy": None,
        }
    },
}
FORM_210 = {
    "case": "project",
    "application_date": "2023-03-01",
    "total_investment": "15000000",
    "equipment_investment": "8000000",
}
NOTE = {"note": "矩阵测试", "reference": "LHCZ-MATRIX-1", "opinion": "矩阵测试", "recommended_amount": "800000"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SKIP = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/lang/{code}"),
    ("POST", "/api/v1/session"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    ("GET", "/favicon.ico"),
}
"""Sign-in, sign-out, the language switch, the API documentation and the site icon are open by design (/static is a
mount)."""
OPEN = {
    ("GET", "/api/v1/session"),
    ("GET", "/"),
    ("GET", "/api/v1/policy"),
    ("GET", "/api/v1/policy/clauses/{clause_id}"),
    ("GET", "/api/v1/policy/parameters"),
    ("GET", "/api/v1/policy/parameters/{path}"),
    ("GET", "/api/v1/policy/variables"),
    ("GET", "/policy"),
    ("GET", "/policy/parameters"),
    ("GET", "/policy/parameters/{path}"),
    ("GET", "/policy/variables"),
}
"""Routes any signed-in account may use whatever its permissions: who am I, home, and the policy text (public)."""
SCOPED_KINDS = {"firm", "run", "project", "new_project", "app", "user", "file", "notice", "entry", "listable"}

# Patterns of the table (admin department town enterprise auditor).
ALL = "200 200 200 200 200"
OFFICIALS = "200 200 200 403 200"
"""The campaign's reports: every official and the auditor (a town its own town's); not an enterprise."""
ADMIN = "200 403 403 403 403"
AUDIT = "200 403 403 403 200"
LOOKUP = "200/404 200/404 200/404 200/404 200/404"
ADMIN_OBJ = "200/404 403/403 403/403 403/403 403/403"
READ = "200/200/404 200/200/404 200/404/404 200/404/404 200/200/404"
PUBLISH = "409/409/404 403/403/404 403/404/404 403/404/404 403/403/404"
RERUN = "202/202/404 403/403/404 404/404/404 404/404/404 403/403/404"
APPLY = "200/200/404 403/403/404 200/404/404 200/404/404 403/403/404"
REVIEW = "200/200/404 200/200/404 403/404/404 403/404/404 403/403/404"
DECIDE = "200/200/404 403/403/404 403/404/404 403/404/404 403/403/404"
RECOMPUTE = "200/200/404 403/403/403 200/404/404 200/404/404 403/403/403"
UNKNOWN = "404/404/404 404/404/404 404/404/404 404/404/404 404/404/404"
EDIT = "200/200/404 403/403/403 200/404/404 200/404/404 403/403/403"
"""Correcting an application: the form needs ``apply`` before anything is looked up (department, auditor: 403)."""
UPLOAD = "200/200/404 403/403/404 200/404/404 200/404/404 403/403/404"
"""Adding or removing an attachment: as the record's moves (404 outside the scope, 403 for roles without apply)."""
ACCOUNT = "409/200/404 403/403/403 403/403/403 403/403/403 403/403/403"
MINE = "200/404/404 200/404/404 200/404/404 200/404/404 200/404/404"
"""One's own notification (another account's is 404, as one that does not exist)."""
LIFECYCLE = "200/200/404 200/200/404 200/404/404 403/404/404 403/403/404"
"""Recording a project's stage (A.4.2): town (its own town), department and admin; the enterprise sees it, 403."""
STARTED = {"started_on": "2023-05-01"}
"""The start of a fresh matrix project (filed on 2023-03-01)."""
REGISTER_ADD = "201/201/404 403/403/403 201/404/404 403/403/403 403/403/403"
"""Listing a firm on the 高耗低效 register by hand: town and admin (the register's intake roles), in their scope."""
REGISTER_PLAN = "200/200/404 403/403/404 200/404/404 403/404/404 403/403/404"
"""A move of a register entry that town and admin make (a department that is not its responsible unit: 403)."""
TAG = REGISTER_PLAN
"""Setting a firm's A.3.16 tags: admin, and the town of the firm (``tag_enterprise``); 404 outside the scope, 403 for a
role that sees the firm but may not tag it."""
REGISTER_MOVES = (("plan", REGISTER_PLAN), ("remove", DECIDE))
"""The 高耗低效 moves of the matrix, from 已排摸列入: the plan (town, admin), and removal (admin only, final)."""
PLAN = {
    "category": "renovation",
    "measures": "矩阵测试",
    "deadline": "2099-12-31",
    "responsible_unit": "economy_bureau",
    "reason": "矩阵测试",
}


def _add_entry(w: World, x: Any) -> dict[str, Any]:
    return {"json": {"credit_code": x[1], "reason": "矩阵测试"}}


TARGET_FIGURE = {"year": 2023, "town": DEMO_TOWN, "value": "12.5", "source": "矩阵测试"}
"""A figure of a manual target for the demo town: admin and the town official (``enter_targets``) enter it."""
TARGET_ENTER = "201/404 403/404 201/404 403/404 403/404"
"""Entering a target's figure: admin, and a town for its own town (an unknown target: 404, looked up first)."""
TARGET_SHARES = "200/404 403/403 403/403 403/403 403/403"
"""Setting the towns' shares of a target (目标分解): admin only (``share_targets`` is checked first)."""
REGISTER_INTAKE = "200/404 403/404 200/404 403/404 403/404"
"""The pages to add to the 高耗低效 register (a form, an import): town and admin, its intake roles."""
REGISTER_IMPORT = "201/404 403/404 201/404 403/404 403/404"
"""Importing the 高耗低效 register from Excel: town and admin, each a firm of its scope (an unknown register: 404)."""


SAVE_REFORMS = "201 201 403 403 403"
"""Saving a reform (政策模拟): the bureau and the departments (``save_reforms``)."""
REFORM_READ = "200/404 200/404 200/404 403/403 200/404"
"""A saved reform: every official (``simulate``, checked first: an enterprise gets 403 for any id)."""
REFORM = {"title": "矩阵改革", "changes": {"mujun.quotas_above_scale": {"A": 0.3, "B": 0.5, "C": 0.15, "D": 0.05}}}
"""A reform that moves firms of every town (the 规上 A quota from 20 % to 30 %)."""
SIMULATE_FORM = {"year": "2023", "reform": json.dumps(REFORM)}


def _with_reforms(w: World) -> None:
    """Give the world a saved reform (the object ``reform``: no scope, own or guess)."""
    from tenglong.services.simulation import platform as simulation

    rid = simulation.save_reform(w.p.uow, w.admin, REFORM)["id"]
    plain = w.obj

    def obj(kind: str | None, role: str | None, target: str, write: bool) -> Any:
        if kind == "reform":
            return rid if target == "own" else GUESS_ID
        return plain(kind, role, target, write)

    w.obj = obj  # type: ignore[method-assign]


def _started(w: World, x: Any, as_form: bool = False) -> dict[str, Any]:
    """A correction of a project started (as the bureau) before: a start date not recorded yet, and a reason."""
    from tenglong.core.errors import Conflict, NotFound
    from tenglong.services.enterprises import lifecycle

    with contextlib.suppress(NotFound, Conflict):  # a guessed id has nothing to start; a started one stays
        lifecycle.move(w.p.uow, w.admin, x, "start", STARTED)
    fields = {"started_on": f"2023-05-{2 + w.serial() % 27:02d}", "reason": "矩阵测试"}
    return {"data": fields} if as_form else {"json": fields}


def _county_file(w: World, x: Any) -> dict[str, Any]:
    """A county to simulate on: the enterprise-years of one firm of the demo town (the import format)."""
    return {"data": {"year": "2023"}, "files": {"data": ("good.csv", (w.tmp / "good.csv").read_bytes(), "text/csv")}}


def _register_file(w: World, x: Any) -> dict[str, Any]:
    """A workbook of one row: a firm of the town without an open 高耗低效 entry (in the scope of town and admin)."""
    book = openpyxl.Workbook()
    book.active.append(["统一社会信用代码", "理由"])
    book.active.append([w.listable(True), "矩阵测试"])
    out = io.BytesIO()
    book.save(out)
    return {"files": {"file": ("清单.xlsx", out.getvalue(), XLSX)}}


MOVES = (
    ("submit", "draft", APPLY),
    ("start_review", "submitted", REVIEW),
    ("recommend", "under_review", REVIEW),
    ("approve", "under_review", DECIDE),
    ("reject", "under_review", DECIDE),
    ("pay", "approved", DECIDE),
    ("revise", "rejected", APPLY),
    ("recompute", "draft", RECOMPUTE),
    ("withdraw", "draft", APPLY),
    ("destroy", "draft", UNKNOWN),
)


def page(pattern: str) -> str:
    """A pattern for a page that answers a successful write with a redirect (303) instead of 200."""
    return pattern.replace("200", "303")


@dataclass(frozen=True)
class Row:
    """One route (one action of a workflow route) of the matrix."""

    method: str
    path: str
    expect: str
    obj: str | None = None
    send: Callable[[World, Any], dict[str, Any]] | None = None
    action: str = ""

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def targets(self) -> tuple[str, ...]:
        if self.obj is None:
            return ("-",)
        return ("own", "foreign", "guess") if self.obj.partition(":")[0] in SCOPED_KINDS else ("own", "guess")

    @property
    def cells(self) -> dict[str, tuple[str, ...]]:
        groups = self.expect.split()
        return {role: tuple(g.split("/")) for role, g in zip(ROLES, groups, strict=True)}

    def url(self, x: Any) -> str:
        """The path with its parameters filled in: ``x``, or each of a tuple in turn (a register kind, an entry)."""
        path = self.path.replace("{action}", self.action)
        for value in x if isinstance(x, tuple) else (x,):
            if "{" in path:
                path = path.replace(path[path.index("{") : path.index("}") + 1], str(value))
        return path


def body(**kw: Any) -> Callable[[World, Any], dict[str, Any]]:
    """A fixed request body."""
    return lambda w, x: kw


def _project(w: World, x: Any) -> dict[str, Any]:
    return {
        "json": {
            "credit_code": x,
            "name": "矩阵项目",
            "application_date": "2023-03-01",
            "inputs": {"total_investment": 15000000, "equipment_investment": 8000000},
        }
    }


def _new_application_form(w: World, x: Any) -> dict[str, Any]:
    return {"data": {**FORM_210, "credit_code": x, "name": "矩阵申请", "clause": "2.10", "do": "create"}}


CORRECTION = {**FORM_210, "name": "矩阵项目（修改）", "do": "save"}
PDF = b"%PDF-1.4\n%matrix\n%%EOF\n"


def _attachment(w: World, x: Any) -> dict[str, Any]:
    return {
        "data": {"owner": "subsidy_application", "owner_id": str(x), "kind": "invoice"},
        "files": {"file": ("发票.pdf", PDF, "application/pdf")},
    }


def _upload(w: World, x: Any) -> dict[str, Any]:
    return {"files": {"file": ("good.csv", (w.tmp / "good.csv").read_bytes(), "text/csv")}}


TABLE: tuple[Row, ...] = (
    Row("GET", "/api/v1/session", ALL),
    Row("POST", "/api/v1/calculate", ALL, send=body(json=CALC)),
    Row("GET", "/api/v1/policy", ALL),
    Row("GET", "/api/v1/policy/clauses/{clause_id}", LOOKUP, "clause"),
    Row("GET", "/api/v1/policy/parameters", ALL),
    Row("GET", "/api/v1/policy/parameters/{path}", LOOKUP, "param"),
    Row("GET", "/api/v1/policy/variables", ALL),
    Row("GET", "/api/v1/enterprises", ALL),
    Row("GET", "/api/v1/enterprises/export.xlsx", ALL),
    Row("GET", "/api/v1/enterprises/{credit_code}", READ, "firm"),
    Row("GET", "/api/v1/enterprises/{credit_code}/projects", READ, "firm"),
    Row("GET", "/api/v1/enterprises/{credit_code}/subsidies", READ, "firm"),
    Row("PUT", "/api/v1/enterprises/{credit_code}/tags", TAG, "firm", body(json={"tags": ["little_giant"]})),
    Row("GET", "/api/v1/dashboard", ALL),
    Row("GET", "/api/v1/evaluations", ALL),
    Row("POST", "/api/v1/evaluations", "202 403 403 403 403", send=body(json={"year": 2023})),
    Row("GET", "/api/v1/evaluations/compare", ALL),
    Row("GET", "/api/v1/evaluations/{run_id}", READ, "run"),
    Row("POST", "/api/v1/evaluations/{run_id}/publish", PUBLISH, "run"),
    # Superseding needs a reason: the unpublished run (newer than the year's published one) is refused without it (422),
    # so the shared published run stays; a published run cannot supersede (409).
    Row(
        "POST",
        "/api/v1/evaluations/{run_id}/supersede",
        "409/422/404 403/403/404 403/404/404 403/404/404 403/403/404",
        "run",
        body(json={"reason": ""}),
    ),
    Row("POST", "/api/v1/evaluations/{run_id}/rerun", RERUN, "run:failed"),
    Row("GET", "/api/v1/evaluations/{run_id}/results", READ, "run"),
    Row("GET", "/api/v1/evaluations/{run_id}/export.xlsx", READ, "run"),
    Row("POST", "/api/v1/projects", "201/201/404 403/403/403 201/404/404 201/404/404 403/403/403", "firm", _project),
    Row("GET", "/api/v1/projects/{project_id}", READ, "project"),
    Row(
        "PATCH",
        "/api/v1/projects/{project_id}",
        "200/200/404 403/403/403 200/404/404 200/404/404 403/403/403",
        "project",
        body(json={"name": "矩阵项目（改）"}),
    ),
    Row("POST", "/api/v1/projects/{project_id}/compute", READ, "project"),
    Row(
        "POST",
        "/api/v1/projects/{project_id}/lifecycle/{action}",
        LIFECYCLE,
        "new_project",
        body(json=STARTED),
        "start",
    ),
    Row("POST", "/api/v1/projects/{project_id}/lifecycle/{action}", LIFECYCLE, "new_project", _started, "correct"),
    Row(
        "POST",
        "/api/v1/applications",
        "201/201/404 403/403/403 201/404/404 201/404/404 403/403/403",
        "new_project",
        lambda w, x: {"json": {"project_id": x, "clause": "2.10"}},
    ),
    Row("GET", "/api/v1/applications", ALL),
    Row("GET", "/api/v1/applications/{application_id}", READ, "app:draft"),
    *(
        Row("POST", "/api/v1/applications/{application_id}/{action}", want, f"app:{state}", body(json=NOTE), action)
        for action, state, want in MOVES
    ),
    Row("GET", "/api/v1/imports", ADMIN),
    Row("POST", "/api/v1/imports", "202 403 403 403 403", send=_upload),
    Row("GET", "/api/v1/imports/template.xlsx", ADMIN),
    Row("GET", "/api/v1/imports/{import_id}", ADMIN_OBJ, "import:invalid"),
    Row("GET", "/api/v1/imports/{import_id}/problems", ADMIN_OBJ, "import:invalid"),
    Row("GET", "/api/v1/imports/{import_id}/report.xlsx", ADMIN_OBJ, "import:invalid"),
    Row("POST", "/api/v1/imports/{import_id}/commit", "202/404 403/403 403/403 403/403 403/403", "import:validated"),
    Row("POST", "/api/v1/imports/{import_id}/discard", ADMIN_OBJ, "import:invalid"),
    Row("GET", "/api/v1/admin/users", ADMIN),
    Row("POST", "/api/v1/admin/users", "201 403 403 403 403", send=lambda w, x: {"json": w.new_user_fields()}),
    Row("POST", "/api/v1/admin/users/{user_id}/deactivate", ACCOUNT, "user:active"),
    Row("POST", "/api/v1/admin/users/{user_id}/reactivate", ACCOUNT, "user:inactive"),
    Row(
        "POST",
        "/api/v1/admin/users/{user_id}/reset-password",
        ACCOUNT.replace("409", "200"),
        "user:active",
        body(json={"password": DEMO_PASSWORD}),
    ),
    Row("POST", "/api/v1/admin/users/{user_id}/unlock", ACCOUNT, "user:locked"),
    Row("GET", "/api/v1/notifications", ALL),
    Row("POST", "/api/v1/notifications/read-all", ALL),
    Row("POST", "/api/v1/notifications/{notification_id}/read", MINE, "notice"),
    Row("GET", "/api/v1/todo", ALL),
    Row("GET", "/api/v1/registers", ALL),
    Row("GET", "/api/v1/registers/{kind}", LOOKUP, "regkind"),
    Row("GET", "/api/v1/registers/{kind}/export.xlsx", LOOKUP, "regkind"),
    Row("POST", "/api/v1/registers/{kind}/entries", REGISTER_ADD, "listable", _add_entry),
    Row("GET", "/api/v1/registers/{kind}/template.xlsx", LOOKUP, "regkind"),
    Row("POST", "/api/v1/registers/{kind}/import", REGISTER_IMPORT, "regkind", _register_file),
    Row("GET", "/api/v1/registers/{kind}/entries/{entry_id}", READ, "entry"),
    *(
        Row(
            "POST",
            "/api/v1/registers/{kind}/entries/{entry_id}/{action}",
            want,
            "entry:identified",
            body(json={**PLAN, "targets": {"tax_per_mu": "5"}}),
            action,
        )
        for action, want in REGISTER_MOVES
    ),
    *(
        Row(
            "POST",
            "/api/v1/registers/{kind}/moves",
            want,
            "entry:identified",
            lambda w, x, action=action: {
                "json": {**PLAN, "targets": {"tax_per_mu": "5"}, "action": action, "entries": [x[1]]}
            },
        )
        for action, want in REGISTER_MOVES
    ),
    Row("GET", "/api/v1/targets", ALL),
    Row("POST", "/api/v1/targets/{key}/figures", TARGET_ENTER, "target", body(json=TARGET_FIGURE)),
    Row("PUT", "/api/v1/targets/{key}/shares", TARGET_SHARES, "target", body(json={"shares": {DEMO_TOWN: "10"}})),
    Row("POST", "/api/v1/attachments", UPLOAD.replace("200", "201"), "app:draft", _attachment),
    Row("POST", "/api/v1/attachments/{attachment_id}/remove", UPLOAD, "file"),
    Row("GET", "/api/v1/simulation/parameters", OFFICIALS),
    Row("POST", "/api/v1/simulations/files", OFFICIALS.replace("200", "201"), send=_county_file),
    Row("POST", "/api/v1/simulations", OFFICIALS, send=body(json={"year": 2023, "reform": REFORM})),
    Row(
        "POST",
        "/api/v1/simulations/firm",
        "200/200/404 200/200/404 200/404/404 403/403/403 200/200/404",
        "firm",
        lambda w, x: {"json": {"year": 2023, "reform": REFORM, "credit_code": x}},
    ),
    Row(
        "POST",
        "/api/v1/simulations/sweep",
        OFFICIALS,
        send=body(json={"year": 2023, "path": "tech_renovation.major_rate", "values": [0.1, 0.12]}),
    ),
    Row("GET", "/api/v1/reforms", OFFICIALS),
    Row("POST", "/api/v1/reforms", SAVE_REFORMS, send=body(json={"reform": REFORM})),
    Row("GET", "/api/v1/reforms/{reform_id}", REFORM_READ, "reform"),
    Row("GET", "/api/v1/audit", AUDIT),
    Row("GET", "/api/v1/audit/export.xlsx", AUDIT),
    Row("GET", "/api/v1/audit/export.csv", AUDIT),
    # pages
    Row("GET", "/", page(ALL)),
    Row("GET", "/dashboard", ALL),
    Row("GET", "/enterprises", ALL),
    Row("GET", "/enterprises/export.xlsx", ALL),
    Row("GET", "/enterprises/{credit_code}", READ, "firm"),
    Row("POST", "/enterprises/{credit_code}/tags", page(TAG), "firm", body(data={"tag": ["little_giant"]})),
    Row("GET", "/evaluations", ALL),
    Row("POST", "/evaluations", page(ADMIN), send=body(data={"year": "2023"})),
    Row("GET", "/evaluations/compare", ALL),
    Row("GET", "/evaluations/{run_id}", READ, "run"),
    Row("GET", "/evaluations/{run_id}/results", READ, "run"),
    Row("GET", "/evaluations/{run_id}/progress", READ, "run"),
    Row("POST", "/evaluations/{run_id}/publish", PUBLISH, "run"),
    Row(
        "POST",
        "/evaluations/{run_id}/supersede",
        "409/422/404 403/403/404 403/404/404 403/404/404 403/403/404",
        "run",
        body(data={"confirm": "1", "reason": ""}),
    ),
    Row("POST", "/evaluations/{run_id}/rerun", RERUN.replace("202", "303"), "run:failed"),
    Row("GET", "/evaluations/{run_id}/export.xlsx", READ, "run"),
    Row("GET", "/calculator", READ, "firm", lambda w, x: {"params": {"enterprise": x}}),
    Row("POST", "/calculator", READ, "firm", lambda w, x: {"data": {**FORM_210, "enterprise": x}}),
    Row("GET", "/calculator/enterprises", ALL, send=body(params={"q": ""})),
    Row(
        "POST",
        "/calculator/batch",
        ALL,
        send=body(files={"file": ("request.json", json.dumps(CALC).encode(), "application/json")}),
    ),
    Row("POST", "/calculator/batch.xlsx", ALL, send=body(data={"request": json.dumps(CALC)})),
    Row("GET", "/calculator/template.xlsx", ALL),
    Row("GET", "/projects", ALL),
    Row("GET", "/projects/export.xlsx", ALL),
    Row("GET", "/projects/{project_id}", READ, "project"),
    Row(
        "POST", "/projects/{project_id}/lifecycle/{action}", page(LIFECYCLE), "new_project", body(data=STARTED), "start"
    ),
    Row(
        "POST",
        "/projects/{project_id}/lifecycle/{action}",
        page(LIFECYCLE),
        "new_project",
        lambda w, x: _started(w, x, as_form=True),
        "correct",
    ),
    Row("GET", "/applications", ALL),
    Row("GET", "/applications.xlsx", ALL),
    # A code typed into the new-application form that is unknown or outside the scope is a field problem, the same
    # words for both.
    Row(
        "GET",
        "/applications/new",
        "200/200/200 403/403/403 200/200/200 200/200/200 403/403/403",
        "firm",
        lambda w, x: {"params": {"enterprise": x}},
    ),
    Row(
        "POST",
        "/applications/new",
        "303/303/422 403/403/403 303/422/422 303/422/422 403/403/403",
        "firm",
        _new_application_form,
    ),
    Row("GET", "/applications/{application_id}", READ, "app:draft"),
    *(
        Row(
            "POST",
            "/applications/{application_id}/{action}",
            page(want),
            f"app:{state}",
            body(data={**NOTE, "confirm": "1"}),  # the page's confirmation (else a confirmation page, 200)
            action,
        )
        for action, state, want in MOVES
    ),
    Row("GET", "/applications/{application_id}/edit", EDIT, "app:draft"),
    Row("POST", "/applications/{application_id}/edit", page(EDIT), "app:rejected", body(data=CORRECTION)),
    Row("POST", "/attachments", page(UPLOAD), "app:draft", _attachment),
    Row("GET", "/attachments/{attachment_id}", READ, "file"),
    Row("POST", "/attachments/{attachment_id}/remove", page(UPLOAD), "file"),
    Row("GET", "/policy", ALL),
    Row("GET", "/policy/parameters", ALL),
    Row("GET", "/policy/parameters/{path}", LOOKUP, "param"),
    Row("GET", "/policy/variables", ALL),
    Row("GET", "/imports", ADMIN),
    Row("POST", "/imports", page(ADMIN), send=_upload),
    Row("GET", "/imports/template.xlsx", ADMIN),
    Row("GET", "/imports/{import_id}", ADMIN_OBJ, "import:invalid"),
    Row("GET", "/imports/{import_id}/status", ADMIN_OBJ, "import:invalid"),
    Row("POST", "/imports/{import_id}/commit", page(ADMIN_OBJ), "import:validated", body(data={"confirm": "1"})),
    Row("POST", "/imports/{import_id}/discard", page(ADMIN_OBJ), "import:invalid"),
    Row("GET", "/admin", "303 403 403 403 303"),
    Row("GET", "/admin/users", ADMIN),
    Row("POST", "/admin/users", page(ADMIN), send=lambda w, x: {"data": w.new_user_fields()}),
    Row("POST", "/admin/users/{user_id}/deactivate", page(ACCOUNT), "user:active"),
    Row("POST", "/admin/users/{user_id}/reactivate", page(ACCOUNT), "user:inactive"),
    Row(
        "POST",
        "/admin/users/{user_id}/reset-password",
        page(ACCOUNT.replace("409", "200")),
        "user:active",
        body(data={"password": DEMO_PASSWORD}),
    ),
    Row("POST", "/admin/users/{user_id}/unlock", page(ACCOUNT), "user:locked"),
    Row("GET", "/admin/audit", AUDIT),
    Row("GET", "/registers", ALL),
    Row("GET", "/registers/{kind}", LOOKUP, "regkind"),
    Row("GET", "/registers/{kind}/export.xlsx", LOOKUP, "regkind"),
    Row("GET", "/registers/{kind}/template.xlsx", LOOKUP, "regkind"),
    Row("GET", "/registers/{kind}/new", REGISTER_INTAKE, "regkind"),
    # A code outside the scope (or unknown) is a problem of the form's code field, the same words for both (422).
    Row(
        "POST",
        "/registers/{kind}/new",
        "303/303/422 403/403/403 303/422/422 403/403/403 403/403/403",
        "listable",
        lambda w, x: {"data": {"credit_code": x[1], "reason": "矩阵测试"}},
    ),
    Row("GET", "/registers/{kind}/import", REGISTER_INTAKE, "regkind"),
    Row("POST", "/registers/{kind}/import", page(REGISTER_IMPORT.replace("201", "200")), "regkind", _register_file),
    Row("GET", "/registers/{kind}/{entry_id}", READ, "entry"),
    *(
        Row(
            "POST",
            "/registers/{kind}/{entry_id}/{action}",
            page(want),
            "entry:identified",
            body(data={**PLAN, "target.tax_per_mu": "5", "confirm": "1"}),  # the page's confirmation, for removal
            action,
        )
        for action, want in REGISTER_MOVES
    ),
    *(
        Row(
            "POST",
            "/registers/{kind}/moves",
            page(want),
            "entry:identified",
            lambda w, x, action=action: {
                "data": {
                    **PLAN,
                    "target.tax_per_mu": "5",
                    "confirm": "1",
                    "action": action,
                    "state": "identified",
                    "entry": [str(x[1])],
                }
            },
        )
        for action, want in REGISTER_MOVES
    ),
    Row("GET", "/reports", OFFICIALS),
    Row("GET", "/reports/monthly.pdf", OFFICIALS),
    Row("GET", "/reports/monthly.xlsx", OFFICIALS),
    Row("GET", "/reports/quarterly.pdf", OFFICIALS),
    Row("GET", "/reports/quarterly.xlsx", OFFICIALS),
    Row("GET", "/reports/annual.pdf", OFFICIALS),
    Row("GET", "/reports/annual.xlsx", OFFICIALS),
    Row("GET", "/simulate", OFFICIALS),
    Row("GET", "/simulate/template.xlsx", OFFICIALS),
    Row("POST", "/simulate/export.xlsx", OFFICIALS, send=body(data=SIMULATE_FORM)),
    Row("POST", "/simulate/export.pdf", OFFICIALS, send=body(data=SIMULATE_FORM)),
    Row("GET", "/targets", ALL),
    Row("GET", "/targets/export.xlsx", ALL),
    Row("GET", "/targets/{key}", LOOKUP, "target"),
    Row("POST", "/targets/{key}/figures", page(TARGET_ENTER.replace("201", "200")), "target", body(data=TARGET_FIGURE)),
    Row("POST", "/targets/{key}/shares", page(TARGET_SHARES), "target", body(data={f"share.{DEMO_TOWN}": "10"})),
    Row("GET", "/notifications", ALL),
    Row("POST", "/notifications/read-all", page(ALL)),
    Row("POST", "/notifications/{notification_id}/read", page(MINE), "notice"),
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, tmp_path_factory) -> World:
    """A private demo platform (SQLite, and PostgreSQL when available): it gets an unpublished run, which the shared one
    must not.
    """
    tmp = tmp_path_factory.mktemp("access")
    url = (
        f"sqlite:///{tmp / 'access.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_database")("tenglong_access")
    )
    w = build_world(make_platform(url, upload_dir=str(tmp / "uploads"), attachment_dir=str(tmp / "files")), tmp)
    _with_reforms(w)
    yield w
    for c in w.clients.values():
        c.close()


def app_routes(app) -> dict[tuple[str, str], str]:
    """(method, path) → the module of its endpoint, for every route of the app except HEAD and the skipped ones."""
    out = {}
    for ctx in iter_route_contexts(app.routes):
        for method in (ctx.methods or set()) - {"HEAD"}:
            if (method, ctx.path) not in SKIP:
                out[(method, ctx.path)] = getattr(ctx.endpoint, "__module__", "")
    return out


def request(
    w: World, row: Row, role: str | None, target: str, client: Any = None, fresh: bool = True
) -> tuple[Any, Any]:
    """Ask as ``role`` (with ``client``, default the role's) for ``target`` of ``row``; a write gets a ``fresh`` object.
    Returns (the object, the response).
    """
    write = row.method != "GET"
    x = w.obj(row.obj, role, target, write and fresh)
    kw = row.send(w, x) if row.send else {}
    headers = {} if row.api else {"accept": "text/html"}
    r = (client or w.clients[role]).request(row.method, row.url(x), headers=headers, follow_redirects=False, **kw)
    if write:
        w.settle()
    return x, r


def problems_of(w: World, row: Row, role: str, target: str, want: str, x: Any, r: Any) -> list[str]:
    """What is wrong with the answer ``r`` to ``role`` for ``target`` (empty when it is right)."""
    where = f"{row.method} {row.url(x)} as {role} ({target})"
    if str(r.status_code) != want:
        return [f"{where}: want {want}, got {r.status_code}: {r.text[:160]}"]
    out = []
    ctype = r.headers.get("content-type", "")
    if r.status_code == 303 and r.headers["location"].startswith("/login"):
        out.append(f"{where}: redirected to sign in")
    elif (
        r.status_code >= 400
        and row.api
        and (r.json().get("ok") is not False or r.json().get("status") != r.status_code)
    ):
        out.append(f"{where}: not the error envelope")
    elif r.status_code >= 400 and not row.api and "text/html" not in ctype:
        out.append(f"{where}: not the error page")
    elif r.status_code < 300 and "spreadsheetml" in ctype and not r.content.startswith(b"PK"):
        out.append(f"{where}: not a workbook")
    elif r.status_code < 300 and "json" in ctype and isinstance(r.json(), list) and not r.json():
        out.append(f"{where}: an empty list")  # the firms asked for have projects and applications
    elif (
        r.status_code < 300
        and isinstance(x, str)
        and target != "guess"
        and ("html" in ctype or isinstance(r.json(), dict))
        and x not in r.text
    ):
        out.append(f"{where}: the answer does not show {x}")
    typed = set(x) if isinstance(x, tuple) else {x}  # what the caller sent (a register's firm: its code) is no leak
    leaked = (codes_in(r) & w.all_firms) - w.visible_firms(role) - typed if role in ("town", "enterprise") else set()
    if leaked:
        out.append(f"{where}: shows enterprises outside the scope: {sorted(leaked)[:5]}")
    if role in ("town", "enterprise") and target == "foreign" and w.foreign_name in r.text:
        out.append(f"{where}: shows the name of the firm outside the scope")
    return out


def _audited(w: World, role: str) -> int:
    """How many changes the account of ``role`` has made (every change is audited; exports and refusals are not)."""
    with w.p.uow.read() as conn:
        return conn.execute(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.actor_id == w.user_ids[role], audit_log.c.action.not_in(NON_CHANGES))
        ).scalar_one()


@pytest.mark.parametrize("row", TABLE, ids=[f"{r.method} {r.path} {r.action}".strip() for r in TABLE])
def test_route_when_each_role_asks_for_each_target_answers_the_matrix(world, row):
    """Anonymous: 401 or /login; each role and target: the status of the table, the right body, no enterprise outside
    the scope; the auditor changes nothing.
    """
    changes_by_auditor = _audited(world, "auditor")
    x, r = request(world, row, None, row.targets[0])
    anonymous = (
        r.status_code == 401 and r.json()["code"] == "not_signed_in"
        if row.api
        else r.status_code == 303 and r.headers["location"].startswith("/login")
    )
    found = [] if anonymous else [f"{row.method} {row.url(x)} anonymous: {r.status_code}"]
    for role, wants in row.cells.items():
        answers = {}
        for target, want in zip(row.targets, wants, strict=True):
            x, answers[target] = request(world, row, role, target)
            found += problems_of(world, row, role, target, want, x, answers[target])
        if (
            row.api
            and "foreign" in answers
            and answers["foreign"].status_code == 404 == answers["guess"].status_code
            and answers["foreign"].json() != answers["guess"].json()
        ):
            found.append(
                f"{row.method} {row.path} as {role}: the 404 for a foreign object differs from the one for a guessed id"
            )
    if _audited(world, "auditor") != changes_by_auditor:
        found.append(f"{row.method} {row.path}: the auditor (read-only) changed something")
    assert not found, "\n".join(found)


def test_table_when_compared_with_the_app_has_one_row_per_route_and_hides_existence(platform):
    """Every route has a row (a new route without one fails); no row is stale; town and enterprise get the same status
    for foreign and guessed.
    """
    routes = app_routes(create_app(platform))
    rows = {(r.method, r.path) for r in TABLE}
    assert not set(routes) - rows, f"routes without a row in the access matrix: {sorted(set(routes) - rows)}"
    assert not rows - set(routes), f"rows of routes that no longer exist: {sorted(rows - set(routes))}"
    for row in TABLE:
        for role, wants in row.cells.items():
            assert len(wants) == len(row.targets), (row.path, role)
            assert set(wants) <= {"200", "201", "202", "303", "403", "404", "409", "422"}, (row.path, role)
            if role in ("town", "enterprise") and "foreign" in row.targets:
                assert wants[1] == wants[2], (
                    f"{row.method} {row.path}: {role} would tell a foreign object from a guessed one"
                )


def test_routes_when_role_has_no_permission_at_all_refuse_everything_but_the_open_ones(world, monkeypatch):
    """With every permission taken from the auditor, each route answers 403 (or 404) — every route checks a permission
    on the server.
    """
    monkeypatch.setitem(PERMISSIONS, "auditor", frozenset())
    found = []
    for row in TABLE:
        if (row.method, row.path) in OPEN:
            continue
        for target in row.targets:
            x, r = request(world, row, "auditor", target, fresh=False)
            if r.status_code not in (403, 404):
                found.append(f"{row.method} {row.url(x)} ({target}): {r.status_code}")
    assert not found, "routes that do not check a permission:\n" + "\n".join(found)


def test_writes_when_csrf_token_is_missing_or_wrong_are_refused_on_every_router(world):
    """The first write route of each router, sent by the administrator with a valid body but no (or a wrong) token: 403,
    nothing changes.
    """
    modules = app_routes(create_app(world.p))
    first: dict[str, Row] = {}
    for row in TABLE:
        if row.method != "GET":
            first.setdefault(modules[(row.method, row.path)], row)
    assert len(first) >= 10, sorted(first)
    for token in (None, "not-the-token"):
        c = client_for(world.p, "admin")
        c.headers.pop("X-CSRF-Token")
        if token:
            c.headers["X-CSRF-Token"] = token
        for module, row in first.items():
            x = world.obj(row.obj, "admin", "own", True)
            with world.p.uow.read() as conn:
                before = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
            kw = row.send(world, x) if row.send else {}
            r = c.request(
                row.method, row.url(x), headers={} if row.api else {"accept": "text/html"}, follow_redirects=False, **kw
            )
            world.settle()
            with world.p.uow.read() as conn:
                after = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
            assert r.status_code == 403 and after == before, (module, row.path, r.status_code)
            assert "CSRF" in (r.json()["message"]["en"] if row.api else r.text), (module, row.path)
        r = c.post("/logout", headers={"accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 403 and c.get("/api/v1/session").status_code == 200
        c.close()


def _codes(items: list[dict[str, Any]]) -> set[str]:
    return {i["credit_code"] for i in items}


def test_lists_when_town_or_enterprise_reads_them_hold_only_their_scope(any_platform):
    """Enterprise lists, applications, run results, comparisons and exports (API and pages) show a town its firms and an
    enterprise itself.
    """
    s = build_scope(any_platform)
    clients = {role: client_for(any_platform, role) for role in ROLES}
    for role in ("town", "enterprise"):
        c, visible = clients[role], s.visible_firms(role)
        firms = c.get("/api/v1/enterprises", params={"page_size": 200}).json()
        assert firms["total"] == len(visible & s.in_run) > 0 and _codes(firms["items"]) <= visible
        assert all(i["town"] == DEMO_TOWN for i in firms["items"])
        apps = c.get("/api/v1/applications", params={"per_page": 200}).json()["items"]
        assert _codes(apps) <= visible and all(a["town"] == DEMO_TOWN for a in apps)
        assert s.own_app in {a["id"] for a in apps} and s.foreign_app not in {a["id"] for a in apps}
        results = c.get(f"/api/v1/evaluations/{s.published_run}/results", params={"page_size": 200}).json()
        assert results["total"] == len(visible & s.in_run) and _codes(results["items"]) <= visible
        assert {r["status"] for r in c.get("/api/v1/evaluations").json()} == {"published"}
        for path in (
            "/api/v1/enterprises/export.xlsx",
            f"/api/v1/evaluations/{s.published_run}/export.xlsx",
            "/api/v1/evaluations/compare",
            "/api/v1/dashboard",
            "/enterprises",
            "/enterprises/export.xlsx",
            "/applications",
            "/applications.xlsx",
            f"/evaluations/{s.published_run}",
            "/evaluations/compare",
            "/calculator/enterprises",
            "/dashboard",
        ):
            r = c.get(path)
            assert r.status_code == 200 and (codes_in(r) & s.all_firms) <= visible, (role, path)
    assert _codes(clients["enterprise"].get("/api/v1/enterprises").json()["items"]) == {s.own_firm}
    assert s.own_firm in codes_in(clients["enterprise"].get("/dashboard"))
    everyone = {
        a["id"] for a in clients["department"].get("/api/v1/applications", params={"per_page": 200}).json()["items"]
    }
    assert {s.own_app, s.foreign_app} <= everyone
    for c in clients.values():
        c.close()
