"""待办: what waits on each account, counted exactly within its scope, derived from the workflow files, with links to
the filtered lists — on the dashboard and in GET /api/v1/todo.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, event, insert

from tenglong.adapters.db.tables import data_imports, evaluation_runs
from tenglong.registers import workflows
from tenglong.registers.roles import PERMISSIONS, Actor
from tenglong.services import todo
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.kernel.uow import now
from tenglong.web.i18n import t

from .todo_world import World, build

ACCOUNTS = ("admin", "department", "department2", "town", "town2", "enterprise", "enterprise2", "auditor")
SUBJECTS = ("subsidy_application", "data_import", "evaluation_run")
"""The kinds of record whose tasks these tests count (other subjects, such as the registers, add their own)."""


def ours(items: list) -> dict[str, int]:
    """key → count of the items (API dicts or ``todo.Item``) of :data:`SUBJECTS`."""
    pairs = ((i["key"], i["count"]) if isinstance(i, dict) else (i.key, i.count) for i in items)
    return {k: n for k, n in pairs if k.partition(".")[0] in SUBJECTS}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, tmp_path_factory) -> Iterator[World]:
    """Applications of the demo firm (made by the enterprise), of another firm of its town (made by the town), of a
    firm of another town (by that town) and of both (by the administrator), in every state; a validated import; a
    finished run newer than its year's published one.
    """
    tmp = tmp_path_factory.mktemp("todo")
    url = (
        f"sqlite:///{tmp / 'todo.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_database")("tenglong_todo")
    )
    w = build(url, tmp)
    own, mate, foreign = w.own_firm, w.mate_firm, w.foreign_firm
    for creator, firm, state in (
        ("enterprise", own, "draft"),
        ("enterprise", own, "submitted"),
        ("enterprise", own, "rejected"),
        ("town", mate, "draft"),
        ("town", mate, "rejected"),
        ("admin", own, "under_review"),
        ("admin", foreign, "recommended"),
        ("admin", foreign, "approved"),
        ("admin", foreign, "draft"),
        ("admin", foreign, "rejected"),
        ("admin", foreign, "submitted"),
        ("admin", own, "paid"),
        ("admin", foreign, "withdrawn"),
        ("town2", foreign, "draft"),
    ):
        w.application(creator, firm, state)
    admin = w.actors["admin"]
    with w.p.uow.write(None) as tx:
        w.import_id = tx.conn.execute(
            insert(data_imports).values(
                filename="企业数据.xlsx",
                stored_path="/nonexistent/todo.xlsx",
                status="validated",
                progress=1.0,
                rows_read=1,
                rows_valid=1,
                error_count=0,
                uploaded_by=admin.id,
                uploaded_at=now(),
            )
        ).inserted_primary_key[0]
        w.run_id = tx.conn.execute(
            insert(evaluation_runs).values(
                year=2023,
                status="done",
                progress=1.0,
                parameters_version="todo-test",
                started_by=admin.id,
                started_at=now(),
                finished_at=now(),
            )
        ).inserted_primary_key[0]
    yield w
    w.close()


def _ids(w: World, state: str, *, firms: set[str] | None = None, creator: str | None = None) -> set[int]:
    return {
        a
        for a, f in w.apps.items()
        if f["state"] == state
        and (firms is None or f["firm"] in firms)
        and (creator is None or f["creator"] == creator)
    }


def expected(w: World, account: str) -> dict[str, int]:
    """What waits on ``account``, counted by hand from the applications made."""
    everything = {w.own_firm, w.mate_firm, w.foreign_firm}
    scoped = {
        "town": {w.own_firm, w.mate_firm},
        "town2": {w.foreign_firm},
        "enterprise": {w.own_firm},
        "enterprise2": {w.foreign_firm},
    }
    out: dict[str, int] = {}
    if account in ("admin", "department", "department2"):
        out |= {"submitted": len(_ids(w, "submitted")), "under_review": len(_ids(w, "under_review"))}
    if account == "admin":
        out |= {
            "recommended": len(_ids(w, "recommended")),
            "approved": len(_ids(w, "approved")),
            "draft": len(_ids(w, "draft", creator="admin")),  # an administrator's own drafts only
            "rejected": len(_ids(w, "rejected", creator="admin")),
        }
    if account in scoped:
        out |= {s: len(_ids(w, s, firms=scoped[account])) for s in ("draft", "rejected")}
    found = {f"subsidy_application.{k}": v for k, v in out.items() if v}
    if account == "admin":
        found |= {"data_import.validated": 1, "evaluation_run.done": 1}
    assert everything  # every firm has applications
    return found


@pytest.mark.parametrize("account", ACCOUNTS)
def test_todo_when_each_account_asks_counts_exactly_what_waits_on_it(world, account):
    """API and dashboard panel: one item per state that waits on the account, with the exact count of its scope."""
    want = expected(world, account)
    c = world.client(account)
    body = c.get("/api/v1/todo").json()
    assert ours(body["items"]) == want
    assert body["total"] == sum(i["count"] for i in body["items"])
    html = c.get("/dashboard").text
    panel = html[html.index('id="todo"') : html.index("</section>", html.index('id="todo"'))]
    shown = [{"key": k, "count": int(n)} for k, n in re.findall(r'data-todo="([a-z0-9_.]+)" data-count="(\d+)"', panel)]
    assert ours(shown) == want and len(shown) == len(body["items"])
    if not body["items"]:
        assert t("todo.nothing", "zh") in panel


def test_town_when_it_reads_the_panel_never_sees_another_towns_items(world):
    """The two towns' drafts and returned applications are disjoint, and each list link holds exactly its own."""
    for account, firms in (("town", {world.own_firm, world.mate_firm}), ("town2", {world.foreign_firm})):
        c = world.client(account)
        for item in c.get("/api/v1/todo").json()["items"]:
            if item["key"].partition(".")[0] not in SUBJECTS:
                continue
            state = item["key"].rpartition(".")[2]
            listed = {int(i) for i in re.findall(r'data-application="(\d+)"', c.get(item["link"]).text)}
            assert listed == _ids(world, state, firms=firms) and len(listed) == item["count"], (account, item)
            assert all(world.apps[a]["firm"] in firms for a in listed)


@pytest.mark.parametrize(
    ("account", "state"), [("department", "submitted"), ("department", "under_review"), ("admin", "approved")]
)
def test_link_when_followed_opens_the_list_filtered_to_those_records(world, account, state):
    """The department's and the bureau's links open the applications list filtered by the state, holding the count."""
    c = world.client(account)
    item = next(i for i in c.get("/api/v1/todo").json()["items"] if i["key"] == f"subsidy_application.{state}")
    assert item["link"] == f"/applications?status={state}"
    listed = {int(i) for i in re.findall(r'data-application="(\d+)"', c.get(item["link"]).text)}
    assert listed == _ids(world, state) and len(listed) == item["count"]


def test_single_record_when_its_list_cannot_narrow_to_it_links_to_its_own_page(world):
    """Lists that cannot filter by state (uploads, runs), or that would show every firm's drafts to the bureau: one
    waiting record links straight to it.
    """
    items = {i["key"]: i for i in world.client("admin").get("/api/v1/todo").json()["items"]}
    assert items["data_import.validated"]["link"] == f"/imports/{world.import_id}"
    assert items["evaluation_run.done"]["link"] == f"/evaluations/{world.run_id}"
    (own_draft,) = _ids(world, "draft", creator="admin")
    assert items["subsidy_application.draft"]["link"] == f"/applications/{own_draft}"


def test_sentences_when_shown_name_the_record_state_and_moves_in_each_language(world):
    """The department's item reads as a sentence from the workflow's names (no state or move code), zh and en."""
    item = next(
        i
        for i in world.client("department").get("/api/v1/todo").json()["items"]
        if i["key"] == "subsidy_application.submitted"
    )
    assert item["message"] == {
        "zh": "补助申请：已提交，待您开始审核",
        "en": "Waiting for you to start the review: subsidy application (submitted)",
    }
    texts = re.findall(r'class="todo-text">([^<]*)<', world.client("admin").get("/dashboard").text)
    assert texts and not any(re.search(r"[a-z]+_[a-z]+|\.validated|\bdone\b", x) for x in texts), texts


def test_who_waits_when_a_role_gains_a_permission_follows_the_workflow_file(world, monkeypatch):
    """No role is named in the code: an auditor given the review permission finds the submitted applications waiting."""
    monkeypatch.setitem(PERMISSIONS, "auditor", PERMISSIONS["auditor"] | {"review"})
    auditor = world.actors["auditor"]
    assert ours(todo.items(world.p.uow, auditor)) == expected(world, "department")


def test_waiting_when_read_from_a_workflow_takes_todo_false_and_owner_from_its_moves():
    """``Workflow.waiting``: permission → states; a ``todo: false`` move is no task; ``todo: owner`` stays on it."""
    wf = workflows.load("subsidy_application")
    actors = {role: Actor(1, role, role, role) for role in ("admin", "department", "town", "auditor")}
    waiting = {role: {s: tuple(m.action for m in ms) for s, ms in wf.waiting(a).items()} for role, a in actors.items()}
    assert waiting["department"] == {"submitted": ("start_review",), "under_review": ("recommend",)}
    assert waiting["town"] == {"draft": ("submit",), "rejected": ("revise",)}  # withdraw is todo: false
    assert waiting["auditor"] == {}
    assert set(waiting["admin"]) == {"draft", "submitted", "under_review", "recommended", "approved", "rejected"}
    assert {m.todo for m in wf.waiting(actors["town"])["draft"]} == {"owner"}


def test_counts_when_taken_use_one_count_query_per_subject(world):
    """COUNT … GROUP BY in SQL: one SELECT per kind of record that can wait on the account, however many records."""
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    asked = {}
    event.listen(world.p.engine, "before_cursor_execute", seen)
    try:
        with world.p.uow.read() as conn:
            for account in ("admin", "enterprise"):
                for name in SUBJECTS:
                    statements.clear()
                    todo.subject(name).counts(conn, world.actors[account])
                    asked[account, name] = list(statements)
    finally:
        event.remove(world.p.engine, "before_cursor_execute", seen)
    for name in SUBJECTS:
        (query,) = asked["admin", name]
        assert "count(" in query.lower() and "group by" in query.lower(), query
    assert [len(asked["enterprise", name]) for name in SUBJECTS] == [1, 0, 0]  # imports and runs: not even asked


def test_finished_run_when_its_year_was_published_later_does_not_wait(world):
    """A finished run older than the run published for its year can no longer be published: not a task."""
    admin = world.actors["admin"]
    with world.p.uow.write(None) as tx:
        rows = [
            tx.conn.execute(
                insert(evaluation_runs).values(
                    year=1999,
                    status=status,
                    progress=1.0,
                    parameters_version="todo-test",
                    started_by=admin.id,
                    started_at=now(),
                )
            ).inserted_primary_key[0]
            for status in ("done", "published")
        ]
    try:
        item = next(i for i in todo.items(world.p.uow, admin) if i.key == "evaluation_run.done")
        assert item.count == 1 and item.link == f"/evaluations/{world.run_id}"
    finally:
        with world.p.uow.write(None) as tx:
            tx.conn.execute(delete(evaluation_runs).where(evaluation_runs.c.id.in_(rows)))


def test_provider_when_registered_by_another_subject_joins_the_panel(world):
    """A subject adds its own tasks by registering a provider (the next registers' overdue rectifications, say)."""

    def overdue(conn, actor):
        if actor.role == "town" and actor.town == DEMO_TOWN:
            yield todo.Item(
                key="rectification.overdue",
                count=7,
                link="/registers?overdue=1",
                message="todo.waiting",
                values={"noun": ("整改", "rectification"), "state": ("已逾期", "overdue"), "moves": ("督办", "chase")},
                order=5,
            )

    todo.provider(overdue)
    try:
        items = todo.items(world.p.uow, world.actors["town"])
        assert items[0].key == "rectification.overdue" and items[0].count == 7
        html = world.client("town").get("/dashboard").text
        assert 'data-todo="rectification.overdue" data-count="7"' in html and "整改：已逾期，待您督办" in html
        assert "rectification.overdue" not in {i.key for i in todo.items(world.p.uow, world.actors["town2"])}
    finally:
        todo._PROVIDERS.remove(overdue)
