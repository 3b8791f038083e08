"""Notifications: a workflow move tells whom its ``notify:`` names (the owner, a role within its scope), in the move's
own transaction; each account reads, opens and marks its own — the bell, /notifications and /api/v1/notifications.
"""

from __future__ import annotations

import dataclasses
import io
import re
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from tenglong.adapters.db.tables import notifications, subsidy_applications
from tenglong.adapters.tabular.writer import write_enterprise_years
from tenglong.registers import workflows
from tenglong.registers.workflow import Workflow
from tenglong.services import notifications as service
from tenglong.services.data import uploads
from tenglong.services.data.store import frame_from_db
from tenglong.services.subsidies import applications as subsidies
from tenglong.web.figures import when
from tenglong.web.i18n import catalogue
from tenglong.web.notices import notice_key

from .todo_world import World, build

ACCOUNTS = ("admin", "department", "department2", "town", "town2", "enterprise", "enterprise2", "auditor")
WORKFLOW = workflows.load("subsidy_application")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request, tmp_path_factory) -> Iterator[World]:
    """A private demo platform with a second town, department and enterprise account (``todo_world``)."""
    tmp = tmp_path_factory.mktemp("notify")
    url = (
        f"sqlite:///{tmp / 'notify.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_database")("tenglong_notify")
    )
    w = build(url, tmp)
    w.tmp = tmp
    yield w
    w.close()


def unread(w: World) -> dict[str, int]:
    """Every account's unread count, as the API gives it."""
    return {a: w.client(a).get("/api/v1/notifications", params={"unread": True}).json()["unread"] for a in ACCOUNTS}


def told(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Who got how many new notifications."""
    return {a: after[a] - before[a] for a in ACCOUNTS if after[a] != before[a]}


def act(w: World, account: str, aid: int, action: str, **fields) -> None:
    subsidies.act(w.p.uow, w.actors[account], aid, action, fields=fields or None)


def test_submission_when_made_tells_every_department_account_and_nobody_else(world):
    """submit → notify: [department]: both department accounts, once each; the bell shows the exact count."""
    aid = world.application("enterprise", world.own_firm, "draft")
    before = unread(world)
    act(world, "enterprise", aid, "submit")
    after = unread(world)
    assert told(before, after) == {"department": 1, "department2": 1}
    bell = re.search(r'id="bell-count">(\d+)<', world.client("department").get("/dashboard").text)
    assert bell and int(bell.group(1)) == after["department"]
    newest = world.client("department").get("/api/v1/notifications").json()["items"][0]
    assert newest["event"] == "application.submit" and newest["entity_id"] == str(aid)
    assert newest["link"] == f"/applications/{aid}" and newest["by"]


def test_review_when_recommended_tells_the_bureau_and_not_the_reviewer(world):
    """recommend → notify: [admin]: the administrator; the department that reviewed is not told of its own move."""
    aid = world.application("enterprise", world.own_firm, "under_review")
    before = unread(world)
    act(world, "department", aid, "recommend", opinion="材料齐全", recommended_amount="700000")
    assert told(before, unread(world)) == {"admin": 1}


@pytest.mark.parametrize(
    ("creator", "firm", "want"),
    [
        ("enterprise", "own_firm", {"enterprise": 1}),  # the applicant is the firm itself
        ("town", "mate_firm", {"town": 1}),  # a town applied for a firm without an account: the town official
        ("admin", "foreign_firm", {"enterprise2": 1}),  # the bureau applied: the firm's account, not the bureau itself
        ("town2", "foreign_firm", {"town2": 1, "enterprise2": 1}),  # the town that applied, and the firm
    ],
)
def test_return_when_made_tells_the_applicant_and_the_firm_only(world, creator, firm, want):
    """reject → notify: [owner]: who created the application and the firm's own accounts, never another town."""
    aid = world.application(creator, getattr(world, firm), "under_review")
    before = unread(world)
    act(world, "admin", aid, "reject", note="缺少设备发票")
    assert told(before, unread(world)) == want


def test_approval_and_payment_when_made_each_tell_the_applicant(world):
    """approve and pay → notify: [owner]: one notification each, with the note given."""
    aid = world.application("enterprise", world.own_firm, "under_review")
    before = unread(world)
    act(world, "admin", aid, "approve")
    act(world, "admin", aid, "pay", reference="LHCZ-2023-0099", note="已转账")
    assert told(before, unread(world)) == {"enterprise": 2}
    items = world.client("enterprise").get("/api/v1/notifications").json()["items"]
    assert [i["event"] for i in items[:2]] == ["application.pay", "application.approve"]
    assert items[0]["note"] == "已转账"
    assert items[0]["message"]["zh"].endswith("的补助已拨付。")


def test_role_when_told_is_told_within_its_scope(world):
    """A move that names a role reaches only the accounts that see the record: one town's, never another's."""
    aid = world.application("admin", world.foreign_firm, "submitted")
    move = dataclasses.replace(WORKFLOW.move("start_review", "submitted"), notify=("town", "enterprise"))
    before = unread(world)
    with world.p.uow.write(world.actors["admin"]) as w:
        w.move(subsidy_applications, aid, "submitted", move)
    assert told(before, unread(world)) == {"town2": 1, "enterprise2": 1}


def test_notification_when_its_move_rolls_back_is_never_kept(world):
    """Written in the move's transaction: a move that fails afterwards leaves no notification behind."""
    aid = world.application("enterprise", world.own_firm, "draft")
    with world.p.uow.read() as conn:
        count = conn.execute(select(func.count()).select_from(notifications)).scalar_one()
    move, _ = WORKFLOW.check(world.actors["enterprise"], "draft", "submit")
    with pytest.raises(RuntimeError), world.p.uow.write(world.actors["enterprise"]) as w:
        w.move(subsidy_applications, aid, "draft", move)
        raise RuntimeError("a later step failed")
    with world.p.uow.read() as conn:
        assert conn.execute(select(func.count()).select_from(notifications)).scalar_one() == count


def test_page_when_read_shows_sentences_in_beijing_time_and_marks_read(world):
    """/notifications: the sentence, the note, the time in Beijing time with its zone; mark one, then all, read."""
    aid = world.application("enterprise", world.own_firm, "under_review")
    act(world, "admin", aid, "reject", note="请补充设备清单")
    c = world.client("enterprise")
    first = c.get("/api/v1/notifications").json()["items"][0]
    html = c.get("/notifications").text
    item = html[html.index(f'data-notification="{first["id"]}"') :]
    item = item[: item.index("</li>")]
    assert first["message"]["zh"] in item and "请补充设备清单" in item
    assert f"{when(first['created_at'])}（北京时间 UTC+8）" in item
    n = c.get("/api/v1/notifications", params={"unread": True}).json()["unread"]
    r = c.post(f"/notifications/{first['id']}/read", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/notifications"
    assert c.get("/api/v1/notifications", params={"unread": True}).json()["unread"] == n - 1
    assert 'class="notice-item card read"' in c.get("/notifications").text
    assert c.post("/notifications/read-all", follow_redirects=False).status_code == 303
    body = c.get("/api/v1/notifications", params={"unread": True}).json()
    assert body["unread"] == 0 and body["items"] == [] and 'id="bell-count"' not in c.get("/dashboard").text
    en = c.get("/api/v1/notifications").json()["items"][0]["message"]["en"]
    assert "returned for revision" in en and not re.search(r"application\.|_", en)


def test_open_when_clicked_marks_read_and_goes_to_the_record(world):
    """Open: the notification is read, and the record's page (taken from the notification) opens for its recipient."""
    aid = world.application("enterprise", world.own_firm, "draft")
    act(world, "enterprise", aid, "submit")
    c = world.client("department2")
    nid = c.get("/api/v1/notifications").json()["items"][0]["id"]
    r = c.post(f"/notifications/{nid}/read", data={"open": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/applications/{aid}"
    assert c.get(r.headers["location"]).status_code == 200
    assert c.post(f"/api/v1/notifications/{nid}/read").json()["read_at"] is not None


def test_another_accounts_notification_when_asked_for_is_not_found(world):
    """Marking someone else's notification read: 404 on the API and the page, and it stays unread."""
    aid = world.application("enterprise", world.own_firm, "draft")
    act(world, "enterprise", aid, "submit")
    nid = world.client("department").get("/api/v1/notifications").json()["items"][0]["id"]
    for account in ("department2", "town", "enterprise", "admin"):
        assert world.client(account).post(f"/api/v1/notifications/{nid}/read").status_code == 404
        page = world.client(account).post(f"/notifications/{nid}/read", headers={"accept": "text/html"})
        assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    with world.p.uow.read() as conn:
        assert conn.execute(select(notifications.c.read_at).where(notifications.c.id == nid)).scalar_one() is None
    assert world.client("department").post("/api/v1/notifications/read-all").json()["marked"] >= 1


def test_import_when_validated_tells_the_uploader(world):
    """import.pass_validation (the platform's move, made for the uploader) → notify: [owner]: the uploader is told."""
    admin = world.actors["admin"]
    with world.p.uow.read() as conn:
        frame = frame_from_db(conn, [2023])
    path = write_enterprise_years(frame.filter(frame["credit_code"] == world.own_firm), world.tmp / "good.csv")
    before = unread(world)
    iid = uploads.receive(world.p, admin, "good.csv", io.BytesIO(path.read_bytes()))
    deadline = time.monotonic() + 120
    while uploads.get_import(world.p, admin, iid).status == "validating":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert uploads.get_import(world.p, admin, iid).status == "validated"
    assert told(before, unread(world)) == {"admin": 1}
    newest = service.inbox(world.p.uow, admin)["items"][0]
    assert newest["event"] == "import.pass_validation" and newest["link"] == f"/imports/{iid}" and newest["by"] is None
    todo = world.client("admin").get("/api/v1/todo").json()["items"]
    assert {"key": "data_import.validated", "count": 1, "link": f"/imports/{iid}"}.items() <= next(
        i for i in todo if i["key"] == "data_import.validated"
    ).items()


def test_every_notifying_move_when_shipped_has_its_own_sentence_in_both_languages():
    """Each ``notify`` move of the three workflow files has notifications.event.<its event> in zh and en; a move of
    another workflow without one is told with the general sentence (its noun, move and state names).
    """
    keys = catalogue()
    moves = [m for name in workflows.NAMES for m in workflows.load(name).moves if m.notify]
    assert {m.event.name for m in moves} >= {"application.submit", "application.reject", "import.pass_validation"}
    for m in moves:
        texts = keys[f"notifications.event.{m.event.name}"]
        assert texts["zh"] and texts["en"], m.event.name
    assert notice_key("no_such_register.close") == "notifications.moved"


def test_workflow_file_when_notify_or_todo_is_unknown_is_refused():
    """``notify`` names the owner or a role; ``todo`` is true, false or owner — anything else is reported."""
    data = {
        "name": "bad_notify",
        "initial": "a",
        "states": {"a": {}, "b": {"terminal": True}},
        "moves": [{"action": "go", "from": "a", "to": "b", "permission": "apply", "notify": ["mayor"], "todo": "soon"}],
    }
    with pytest.raises(ValueError) as exc:
        Workflow.from_mapping(data)
    assert "notify 'mayor'" in str(exc.value) and "todo 'soon'" in str(exc.value)
