"""Hardening found on the running platform: bounded user names, trusted proxies only, a throttle per account and
per address, equal work for unknown users, and an audit trail of bulk exports and refused writes.

Every test runs on one demo platform of its own (SQLite) that trusts the proxies of 10.0.0.0/8; each test signs in
from addresses (TestClient peers) and with user names of its own, so that the throttle of one test never meets
another's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from tenglong import cli
from tenglong.adapters.db.tables import audit_log, evaluation_runs, login_attempts, metadata
from tenglong.services.accounts import auth
from tenglong.services.audit.chain import verify_chain
from tenglong.services.kernel.uow import now
from tenglong.services.subsidies import applications
from tenglong.settings import Settings, get_settings
from tenglong.web.app import create_app

from .conftest import client_for, make_platform

MEGABYTE = "A" * 1_000_000  # a megabyte of user name (just within any 1 MiB request-body limit)
PASSWORD = "hardening-pass-2026"
_peers = itertools.count(1)


@pytest.fixture(scope="module")
def p(tmp_path_factory):
    """The demo platform, trusting the proxies of 10.0.0.0/8."""
    return make_platform(f"sqlite:///{tmp_path_factory.mktemp('hardening') / 'h.db'}", trusted_proxies="10.0.0.0/8")


@pytest.fixture(scope="module")
def admin(p) -> TestClient:
    """The demo administrator (signed in from the TestClient's own peer, which never fails a sign-in here)."""
    return client_for(p, "admin")


def peer(p, host: str | None = None) -> TestClient:
    """An anonymous client connecting from ``host`` (default: a fresh public address of its own); ``.peer`` is it."""
    host = host or f"198.51.100.{next(_peers)}"
    client = TestClient(create_app(p), client=(host, 40000))
    client.peer = host
    return client


def new_account(p, admin_client: TestClient) -> str:
    """A fresh department account with :data:`PASSWORD`; returns its user name."""
    name = f"hard{next(_peers)}"
    r = admin_client.post(
        "/api/v1/admin/users",
        json={"username": name, "display_name": name, "password": PASSWORD, "role": "department", "department": "局"},
    )
    assert r.status_code == 201, r.text
    return name


def sign_in(client: TestClient, username: str, password: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/api/v1/session", json={"username": username, "password": password}, headers=headers)


def events_of(p, action: str) -> list:
    with p.engine.connect() as conn:
        return conn.execute(select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id)).all()


# ---- 1. unbounded user names ---------------------------------------------------------------------------------------


def test_login_when_username_is_a_megabyte_answers_422_and_stores_nothing_over_the_limit(p, admin):
    """Ten anonymous huge user names (1 MB to the API, 0.5 MB to the form) get a small 422 naming the field and its
    limit; no column of any table holds more than a bounded, marked prefix of them, and the audit page stays small."""
    attacker = peer(p)
    for _ in range(9):
        r = sign_in(attacker, MEGABYTE, "x")
        assert r.status_code == 422 and len(r.content) < 4000
        (problem,) = r.json()["problems"]
        assert problem["where"] == "username" and problem["expected_en"] == "at most 64 characters"
        assert "1,000,000 characters; at most 64" in problem["message_en"]
        assert problem["value"].endswith("…[truncated: 1000000 chars]") and len(problem["value"]) <= 32
    token = attacker.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    # The form parser itself refuses a field over 1 MB (400); half a megabyte reaches the sign-in and its limit.
    page = attacker.post("/login", data={"username": MEGABYTE[:500_000], "password": "x", "csrf_token": token})
    assert page.status_code == 422 and len(page.content) < 100_000
    with p.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in table.c:
                if isinstance(column.type, (sa.String, sa.Text, sa.JSON)):
                    text = sa.cast(column, sa.Text)
                    hits = conn.execute(
                        select(sa.func.count()).select_from(table).where(text.like("%" + "A" * 40 + "%"))
                    ).scalar_one()
                    assert hits == 0, f"{table.name}.{column.name}"
        refused = conn.execute(select(login_attempts).where(login_attempts.c.address == attacker.peer)).all()
        assert len(refused) == 10 and all(len(r.username) <= 64 and "truncated" in r.username for r in refused)
    recorded = [e for e in events_of(p, "request.refused") if e.after["route"] in ("/api/v1/session", "/login")]
    assert len(recorded) == 10 and all(e.actor == "system" and e.after["status"] == 422 for e in recorded)
    assert recorded[0].after["problems"][0]["value"].endswith("chars]")
    # The 50 newest rows (the demo registers' moves, each with its changes and raw record): about 125 kB here.
    assert len(admin.get("/admin/audit").content) < 200_000


def test_create_user_when_fields_are_over_their_limits_answers_422_naming_each(p, admin):
    """User creation refuses a huge user name, display name and department at once, each named with its limit and
    echoed only as a bounded prefix; nothing is created."""
    before = len(admin.get("/api/v1/admin/users").json())
    huge = MEGABYTE[:300_000]  # three of them stay within a 1 MiB request body
    body = {"username": huge, "display_name": huge, "password": "x" * 300, "role": "department", "department": huge}
    r = admin.post("/api/v1/admin/users", json=body)
    assert r.status_code == 422 and len(r.content) < 8000
    problems = {x["where"]: x for x in r.json()["problems"]}
    assert set(problems) == {"username", "display_name", "department", "password"}
    assert "at most 128 characters" in problems["display_name"]["message_en"]
    assert "at most 64 characters" in problems["department"]["expected_en"]
    assert "at most 256 characters" in problems["password"]["message_en"] and problems["password"]["value"] is None
    assert all(len(x["value"]) <= 64 for w, x in problems.items() if w != "password")
    assert len(admin.get("/api/v1/admin/users").json()) == before


def test_create_user_when_username_ends_in_a_newline_is_refused(p, admin):
    """A 64-character name with a trailing newline does not slip past the pattern into the database (fullmatch)."""
    r = admin.post(
        "/api/v1/admin/users",
        json={"username": "n" * 64 + "\n", "display_name": "n", "password": PASSWORD, "role": "auditor"},
    )
    assert r.status_code == 422 and r.json()["problems"][0]["code"] == "invalid_username"


# ---- 2. proxies -----------------------------------------------------------------------------------------------------


def test_login_when_untrusted_peer_rotates_forwarded_for_changes_neither_throttle_nor_audited_address(p):
    """An untrusted peer writing a new X-Forwarded-For each time is still one address: its 20 failures (for 20
    user names) lock it out, and every failure is audited with the peer's own address."""
    attacker = peer(p)
    names = [f"ghost{next(_peers)}" for _ in range(20)]
    for k, name in enumerate(names):
        assert sign_in(attacker, name, "wrong", forwarded=f"203.0.113.{k}").status_code == 401
    r = sign_in(attacker, f"ghost{next(_peers)}", "wrong", forwarded="203.0.113.250")
    assert r.status_code == 429 and "from this address" in r.json()["message"]["en"]
    failed = [e for e in events_of(p, "login.failed") if e.entity_id in names]
    assert len(failed) == 20 and {e.address for e in failed} == {attacker.peer}


def test_login_when_a_trusted_proxy_forwards_uses_the_client_it_names(p, admin):
    """From a trusted proxy (10.0.0.0/8) the right-most untrusted X-Forwarded-For entry is the client, for the
    throttle and the audit log; a forged entry left of it is ignored."""
    proxy = peer(p, "10.1.2.3")
    name = new_account(p, admin)
    assert sign_in(proxy, name, "wrong", forwarded="6.6.6.6, 192.0.2.44, 10.9.9.9").status_code == 401
    assert sign_in(proxy, name, PASSWORD, forwarded="192.0.2.45:5555").status_code == 200
    (failed,) = [e for e in events_of(p, "login.failed") if e.entity_id == name]
    (signed,) = [e for e in events_of(p, "login") if e.after == {"address": "192.0.2.45"}]
    assert failed.address == "192.0.2.44" and signed.address == "192.0.2.45"


def test_serve_when_proxies_are_or_are_not_configured_tells_uvicorn_whom_to_trust(tmp_path, monkeypatch):
    """`tenglong serve` runs uvicorn without proxy headers by default (uvicorn would trust 127.0.0.1), and with
    exactly TENGLONG_TRUSTED_PROXIES when it is set."""
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: calls.append(kw))
    monkeypatch.setenv("TENGLONG_DATABASE_URL", f"sqlite:///{tmp_path / 's.db'}")
    monkeypatch.setenv("TENGLONG_DEMO", "false")
    for proxies in ("", "127.0.0.1, 10.0.0.0/8"):
        monkeypatch.setenv("TENGLONG_TRUSTED_PROXIES", proxies)
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli.main, ["serve"])
        finally:
            get_settings.cache_clear()
        assert result.exit_code == 0, result.output
    assert (calls[0]["proxy_headers"], calls[0]["forwarded_allow_ips"]) == (False, "")
    assert (calls[1]["proxy_headers"], calls[1]["forwarded_allow_ips"]) == (True, "127.0.0.1/32,10.0.0.0/8")


def test_settings_when_a_trusted_proxy_is_not_an_address_refuse_to_start():
    """A host name (or any text that is not an IP or CIDR) in TENGLONG_TRUSTED_PROXIES is refused, naming it."""
    with pytest.raises(ValueError, match=r"'proxy\.example' is not an IP address or network"):
        Settings(trusted_proxies="10.0.0.1,proxy.example")


# ---- 3. the throttle per account and per address ------------------------------------------------------------------


def test_login_when_an_account_fails_from_many_addresses_is_locked_from_every_address(p, admin):
    """Five failures for one account from five addresses lock it: the right password from a sixth address is
    refused (429), saying to wait 15 minutes, while another account still signs in from there."""
    name, other = new_account(p, admin), new_account(p, admin)
    for _ in range(5):
        assert sign_in(peer(p), name, "wrong").status_code == 401
    fresh = peer(p)
    r = sign_in(fresh, name, PASSWORD)
    assert r.status_code == 429 and r.json()["code"] == "login_throttled"
    assert r.json()["message"]["en"] == "Too many failed sign-ins for this account; try again in 15 minutes."
    assert sign_in(fresh, other, PASSWORD).status_code == 200


def test_login_when_an_address_fails_for_many_accounts_is_locked_for_every_account(p, admin):
    """Twenty failures from one address (each for another user name) lock the address, even for a real account with
    its right password; the same account signs in from another address."""
    name = new_account(p, admin)
    attacker = peer(p)
    for k in range(20):
        assert sign_in(attacker, f"spray{next(_peers)}x{k}", "wrong").status_code == 401
    r = sign_in(attacker, name, PASSWORD)
    assert r.status_code == 429 and "from this address" in r.json()["message"]["en"]
    assert sign_in(peer(p), name, PASSWORD).status_code == 200


def test_login_when_locked_says_how_long_until_the_oldest_counted_failure_leaves_the_window(p, admin):
    """Failures 11, 9, 8, 7 and 6 minutes old (and 5 seconds) lock the account for 15 − 11 = 4 more minutes, rounded
    up (the page says it too)."""
    name = new_account(p, admin)
    with p.engine.begin() as conn:
        for minutes in (11, 9, 8, 7, 6):
            at = now() - dt.timedelta(minutes=minutes, seconds=5)
            conn.execute(insert(login_attempts).values(username=name, address="192.0.2.9", at=at, success=False))
    r = sign_in(peer(p), name, PASSWORD)
    assert r.status_code == 429 and "try again in 4 minutes" in r.json()["message"]["en"]
    assert r.json()["message"]["zh"] == "该账号登录失败次数过多，请 4 分钟后再试。"
    c = peer(p)
    token = c.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    page = c.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token})
    assert page.status_code == 429 and "请 4 分钟后再试" in page.text


# ---- 4. timing ------------------------------------------------------------------------------------------------------


class _CountingHasher:
    """The real argon2 hasher, counting its verifications."""

    def __init__(self, real) -> None:
        self.real, self.verified = real, 0

    def hash(self, password: str) -> str:
        return self.real.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        self.verified += 1
        return self.real.verify(stored, password)


def test_login_when_user_is_unknown_or_inactive_does_the_same_argon2_work_as_for_a_real_one(p, admin, monkeypatch):
    """A wrong password for a real account, an unknown user name and an inactive account each cost exactly one
    argon2 verification (against a dummy hash when there is no usable account), so timing tells nothing."""
    real, inactive = new_account(p, admin), new_account(p, admin)
    users = {u["username"]: u["id"] for u in admin.get("/api/v1/admin/users").json()}
    assert admin.post(f"/api/v1/admin/users/{users[inactive]}/deactivate").status_code == 200
    spy = _CountingHasher(auth._HASHER)
    monkeypatch.setattr(auth, "_HASHER", spy)
    counts = {}
    for name in (real, f"nobody{next(_peers)}", inactive):
        spy.verified = 0
        assert sign_in(peer(p), name, "wrong-password").status_code == 401
        counts[name] = spy.verified
    assert list(counts.values()) == [1, 1, 1]


# ---- 5. the audit trail of exports and refused writes -------------------------------------------------------------


def test_exports_when_downloaded_each_write_one_export_event_with_the_row_count(p, admin):
    """Each bulk export (enterprise list, evaluation run, applications, audit log XLSX and CSV, import report; page
    and API) writes exactly one export event naming it, with its filter and row count."""
    with p.engine.connect() as conn:
        run = (
            conn.execute(
                select(evaluation_runs.c.id)
                .where(evaluation_runs.c.status == "published")
                .order_by(evaluation_runs.c.id)
            )
            .scalars()
            .first()
        )
    actor = auth.session(p.uow, admin.cookies.get("tl_session")).actor
    applications_total = applications.list_applications(p.uow, actor, None, "2.10", None, None, 1, 1)["total"]
    with p.engine.connect() as conn:
        import_id = conn.execute(sa.text("SELECT MIN(id) FROM data_imports")).scalar_one()
    downloads = [
        ("/enterprises/export.xlsx?town=331082112", "enterprises.xlsx", None),
        ("/api/v1/enterprises/export.xlsx?town=331082112", "enterprises.xlsx", None),
        (f"/evaluations/{run}/export.xlsx", f"evaluation_run/{run}.xlsx", None),
        (f"/api/v1/evaluations/{run}/export.xlsx", f"evaluation_run/{run}.xlsx", None),
        ("/applications.xlsx?clause=2.10", "applications.xlsx", applications_total),
        ("/api/v1/audit/export.xlsx?action=user.", "audit_log.xlsx", None),
        ("/api/v1/audit/export.csv?action=user.", "audit_log.csv", None),
        (f"/api/v1/imports/{import_id}/report.xlsx", f"data_import/{import_id}/report.xlsx", None),
    ]
    for url, name, expected in downloads:
        before = len(events_of(p, "export.download"))
        r = admin.get(url)
        assert r.status_code == 200, url
        exported = events_of(p, "export.download")
        assert len(exported) == before + 1, url
        event = exported[-1]
        assert event.entity_id == name and event.actor == "admin" and isinstance(event.after["rows"], int), url
        if url.startswith("/api/v1/audit/export.csv"):
            assert event.after == {
                "rows": len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) - 1,
                "filter": {"action": "user."},
            }
        if expected is not None:
            assert event.after["rows"] == expected
    enterprises = [e for e in events_of(p, "export.download") if e.entity_id == "enterprises.xlsx"]
    assert enterprises[-1].after["filter"]["town"] == "331082112" and enterprises[-1].after["rows"] > 0
    assert [e for e in events_of(p, "export.download") if e.entity_id.startswith("evaluation_run/")][-1].after[
        "rows"
    ] > 0


def test_refused_writes_when_403_409_422_each_write_one_refused_event_and_the_chain_verifies(p, admin):
    """A town official creating an account (403), the admin deactivating themself (409) and a bad new account (422)
    each leave one request.refused event — route, status, code, bounded problems, never the password — and the
    audit log's hash chain still verifies."""
    town = client_for(p, "town")
    me = next(u["id"] for u in admin.get("/api/v1/admin/users").json() if u["username"] == "admin")
    secret = "never-in-the-log-0123456789"
    before = len(events_of(p, "request.refused"))
    assert town.post("/api/v1/admin/users", json={"username": "x", "password": secret}).status_code == 403
    assert admin.post(f"/api/v1/admin/users/{me}/deactivate").status_code == 409
    bad = {"username": "a b", "display_name": "", "password": secret, "role": "nobody"}
    assert admin.post("/api/v1/admin/users", json=bad).status_code == 422
    refused = events_of(p, "request.refused")[before:]
    assert all(e.actor_id is not None for e in refused)  # who, like every event; NON_CHANGES says it changed nothing
    assert [(e.actor, e.after["status"], e.after["code"], e.after["route"]) for e in refused] == [
        ("town", 403, "forbidden", "/api/v1/admin/users"),
        ("admin", 409, "conflict", "/api/v1/admin/users/{user_id}/deactivate"),
        ("admin", 422, "invalid_input", "/api/v1/admin/users"),
    ]
    assert refused[1].entity_id == "POST /api/v1/admin/users/{user_id}/deactivate"
    assert refused[1].after["path_params"] == {"user_id": str(me)}
    assert {x["where"] for x in refused[2].after["problems"]} >= {"username", "display_name", "role"}
    assert refused[2].after["problem_count"] == len(refused[2].after["problems"])
    assert all(secret not in json.dumps([e.before, e.after], ensure_ascii=False) for e in refused)
    verdict = verify_chain(p)
    assert verdict.ok and verdict.rows >= before + 3


def test_refused_writes_when_anonymous_or_safe_are_not_recorded(p, admin):
    """Anonymous refused writes other than sign-ins, refused reads and writes without the CSRF token (perhaps forged
    by another site) leave no event, so strangers cannot fill the log; the admin page's own 422 is recorded."""
    before = len(events_of(p, "request.refused"))
    stranger = peer(p)
    assert stranger.post("/api/v1/nothing-here", json={}).status_code == 404
    assert stranger.post("/api/v1/admin/users", json={}).status_code == 401
    assert admin.get("/api/v1/admin/users/999999").status_code == 404
    forged = client_for(p, "admin")
    del forged.headers["X-CSRF-Token"]
    assert forged.post("/api/v1/admin/users/999999/deactivate").status_code == 403
    assert len(events_of(p, "request.refused")) == before
    form = {"username": "a b", "display_name": "x", "password": "short", "role": "town", "csrf_token": ""}
    r = admin.post("/admin/users", data=form)
    assert r.status_code == 422
    (event,) = events_of(p, "request.refused")[before:]
    assert (event.after["route"], event.after["status"], event.actor) == ("/admin/users", 422, "admin")


def test_refusal_when_it_cannot_be_recorded_still_answers(p, admin, monkeypatch):
    """A failure while recording a refusal is logged, never raised: the caller still gets the refusal."""

    def broken(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr("tenglong.services.audit.trail.record_refusal", broken)
    me = next(u["id"] for u in admin.get("/api/v1/admin/users").json() if u["username"] == "admin")
    r = admin.post(f"/api/v1/admin/users/{me}/deactivate")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
