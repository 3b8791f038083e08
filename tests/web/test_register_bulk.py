"""Bulk moves of a register (e.g. confirm every proposed 留驻优质企业 at once): the API and the list page's forms —
all or none, each entry audited as its own move, every entry the move cannot take named with its enterprise, the
scope and the roles as for one entry, a final move confirmed first."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tenglong.adapters.db.tables import audit_log
from tenglong.services.bootstrap import DEMO_TOWN

from .conftest import client_for, make_platform

QR = "quality_retention"
HCLE = "high_consumption_low_efficiency"
HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A private demo county (its registers are changed here) and a client per role."""
    tmp = tmp_path_factory.mktemp("register_bulk")
    p = make_platform(f"sqlite:///{tmp / 'b.db'}", upload_dir=str(tmp / "u"), attachment_dir=str(tmp / "f"))
    clients = {role: client_for(p, role) for role in ("admin", "department", "town", "enterprise", "auditor")}
    yield p, clients
    for c in clients.values():
        c.close()
    p.engine.dispose()


def _items(c, kind: str, **params) -> list[dict]:
    r = c.get(f"/api/v1/registers/{kind}", params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _moves(p) -> int:
    """The audited changes of register entries (a refused request is audited too, as itself)."""
    with p.uow.read() as conn:
        q = select(func.count()).select_from(audit_log).where(audit_log.c.entity_type == QR)
        return conn.execute(q).scalar_one()


def test_api_when_every_entry_can_take_it_moves_them_all_each_audited(site):
    p, c = site
    proposed = _items(c["town"], QR, state="proposed")
    assert len(proposed) >= 3 and all(e["town"] == DEMO_TOWN for e in proposed)
    ids = [e["id"] for e in proposed[:3]]
    before = _moves(p)
    r = c["town"].post(f"/api/v1/registers/{QR}/moves", json={"action": "confirm", "entries": ids, "note": "年度建档"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["moved"] == 3 and [e["id"] for e in doc["entries"]] == ids
    assert {(e["status"], e["state_zh"]) for e in doc["entries"]} == {("filed", "已建档")}
    assert _moves(p) == before + 3  # one audited move per entry
    history = c["admin"].get(f"/api/v1/registers/{QR}/entries/{ids[0]}").json()["history"]
    assert history[-1]["after"]["note"] == "年度建档"


def test_api_when_one_entry_cannot_take_it_moves_none_and_names_it(site):
    p, c = site
    filed = _items(c["town"], QR, state="filed")[0]
    fresh = _items(c["town"], QR, state="proposed")[0]
    before = _moves(p)
    r = c["town"].post(
        f"/api/v1/registers/{QR}/moves", json={"action": "confirm", "entries": [fresh["id"], filed["id"]]}
    )
    assert r.status_code == 422
    [problem] = r.json()["problems"]
    assert problem["where"].startswith("entries[1]") and problem["message_zh"].startswith(filed["enterprise_name"])
    assert c["town"].get(f"/api/v1/registers/{QR}/entries/{fresh['id']}").json()["status"] == "proposed"
    assert _moves(p) == before  # nothing moved, nothing audited
    # a field the move needs is said once, not once per entry (a reason to dismiss)
    two = [e["id"] for e in _items(c["town"], QR, state="proposed")[:2]]
    r = c["town"].post(f"/api/v1/registers/{QR}/moves", json={"action": "dismiss", "entries": two})
    assert r.status_code == 422 and [p["where"] for p in r.json()["problems"]] == ["reason"]


def test_api_when_an_entry_is_outside_the_scope_or_the_list_is_bad_refuses_the_whole_request(site):
    p, c = site
    mine = _items(c["town"], QR, state="proposed")[0]["id"]
    foreign = next(e["id"] for e in _items(c["admin"], QR, state="proposed") if e["town"] != DEMO_TOWN)
    other_kind = _items(c["town"], HCLE)[0]["id"]
    before = _moves(p)
    for ids in ([mine, foreign], [mine, other_kind], [mine, 99_999_999]):
        r = c["town"].post(f"/api/v1/registers/{QR}/moves", json={"action": "confirm", "entries": ids})
        assert r.status_code == 404, ids
    for bad in ([], [mine, mine], "1,2", [True], list(range(1, 502))):
        r = c["town"].post(f"/api/v1/registers/{QR}/moves", json={"action": "confirm", "entries": bad})
        assert r.status_code == 422 and r.json()["problems"][0]["where"] == "entries", bad
    assert c["town"].post(f"/api/v1/registers/{QR}/moves", json={"action": "fly", "entries": [mine]}).status_code == 404
    assert (
        c["auditor"].post(f"/api/v1/registers/{QR}/moves", json={"action": "confirm", "entries": [mine]}).status_code
        == 403
    )
    assert _moves(p) == before


def test_page_when_a_state_is_listed_offers_the_roles_moves_and_makes_them_for_the_ticked_entries(site):
    _, c = site
    url = f"/registers/{QR}?view=list&state=proposed"
    page = c["town"].get(url, headers=HTML).text
    assert 'id="bulk"' in page and 'data-action="confirm"' in page and 'data-action="dismiss"' in page
    assert 'class="bulk-pick"' in page and 'id="bulk-all"' in page
    assert 'id="bulk"' not in c["town"].get(f"/registers/{QR}?view=list", headers=HTML).text  # one state only
    assert 'id="bulk"' not in c["auditor"].get(url, headers=HTML).text  # a role without moves sees none
    ids = [str(e["id"]) for e in _items(c["town"], QR, state="proposed")[:2]]
    # dismissing is final: without the confirmation nothing is done, and the list says so
    form = {"action": "dismiss", "state": "proposed", "entry": ids, "reason": "已迁出"}
    r = c["town"].post(f"/registers/{QR}/moves", data=form, headers=HTML)
    assert r.status_code == 422 and 'id="bulk-problems"' in r.text
    r = c["town"].post(f"/registers/{QR}/moves", data={**form, "confirm": "1"}, headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("&moved=2")
    assert {c["town"].get(f"/api/v1/registers/{QR}/entries/{i}").json()["status"] for i in ids} == {"dismissed"}
    done = c["town"].get(r.headers["location"], headers=HTML).text
    assert 'id="moved"' in done and "已批量办理 2 项" in done
