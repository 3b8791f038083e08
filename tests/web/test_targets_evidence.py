"""The evidence of an entered target figure on its target page: an upload form and remove buttons (asking first) for
the figure the page shows, only when the attachment service allows them; an upload or a removal through
``POST /attachments`` goes back to the target's page at the figure's year and scope, an upload refused shows the
target page again with the problems."""

from __future__ import annotations

import re

import pytest

from tenglong.services.bootstrap import DEMO_TOWN

from .conftest import client_for, make_platform

PDF = b"%PDF-1.4\n%target evidence\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A private demo county and a client per role."""
    tmp = tmp_path_factory.mktemp("targets_evidence")
    p = make_platform(f"sqlite:///{tmp / 't.db'}", upload_dir=str(tmp / "u"), attachment_dir=str(tmp / "f"))
    clients = {role: client_for(p, role) for role in ("admin", "department", "town", "enterprise")}
    yield clients
    for c in clients.values():
        c.close()


def _figure(client, key: str, year: int, town: str | None = None) -> int:
    r = client.post(
        f"/api/v1/targets/{key}/figures", json={"year": year, "town": town, "value": "3", "source": "页面测试"}
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _post_file(client, fid: int, name: str = "快报.pdf", data: bytes = PDF, kind: str = "statistics"):
    return client.post(
        "/attachments",
        data={"owner": "target_figure", "owner_id": str(fid), "kind": kind},
        files={"file": (name, data, "application/pdf")},
        headers=HTML,
        follow_redirects=False,
    )


def _upload_form(page: str, fid: int) -> bool:
    return 'name="owner" value="target_figure"' in page and f'name="owner_id" value="{fid}"' in page


def test_target_page_when_the_admin_uploads_and_removes_evidence_goes_back_to_the_target(site):
    """The county page shows the form for the shown figure; an upload redirects to the target at the figure's year
    and shows the file with a remove button that asks first; removing it redirects there too and the file is gone."""
    admin = site["admin"]
    fid = _figure(admin, "land_revitalised", 2023)
    page = admin.get("/targets/land_revitalised", params={"year": 2023}).text
    assert _upload_form(page, fid) and 'id="attachments"' in page
    r = _post_file(admin, fid, "年度快报.pdf")
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/targets/land_revitalised?year=2023#attachments"
    shown = admin.get(r.headers["location"]).text
    assert "年度快报.pdf" in shown
    aid = int(re.search(r'action="/attachments/(\d+)/remove"', shown).group(1))
    remove_form = re.search(rf'<form method="post" action="/attachments/{aid}/remove"[^>]*>', shown).group(0)
    assert "data-confirm=" in remove_form and "年度快报.pdf" in remove_form and "data-confirm-ok=" in remove_form
    gone = admin.post(f"/attachments/{aid}/remove", headers=HTML, follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"] == "/targets/land_revitalised?year=2023#attachments"
    after = admin.get(gone.headers["location"]).text
    assert "年度快报.pdf" not in after and f'action="/attachments/{aid}/remove"' not in after


def test_target_page_when_an_upload_is_refused_shows_the_target_with_the_problems(site):
    """A program renamed .pdf: 422, the target page again (its year), the problem at the form, nothing listed."""
    admin = site["admin"]
    fid = _figure(admin, "land_revitalised", 2021)
    r = _post_file(admin, fid, "假快报.pdf", EXE)
    assert r.status_code == 422
    assert 'id="target-card"' in r.text and _upload_form(r.text, fid)
    assert 'class="field-error"' in r.text and "假快报.pdf" in r.text  # the problem names the file
    assert f'data-entry="{fid}"' in r.text
    assert "假快报.pdf</a>" not in r.text


def test_target_page_when_a_town_official_opens_it_offers_the_form_for_its_own_town_only(site):
    """The town's own figure (town page): form, upload back to the town page; the county page and another role's
    view: no form; a superseded figure takes no file (409) and the form moves to the new figure."""
    town, admin = site["town"], site["admin"]
    fid = _figure(town, "robots", 2022, DEMO_TOWN)
    county = _figure(admin, "robots", 2022)
    mine = town.get("/targets/robots", params={"year": 2022, "town": DEMO_TOWN}).text
    assert _upload_form(mine, fid)
    r = _post_file(town, fid, "镇统计.pdf")
    assert r.status_code == 303 and r.headers["location"] == f"/targets/robots?year=2022&town={DEMO_TOWN}#attachments"
    assert "镇统计.pdf" in town.get(r.headers["location"]).text
    assert not _upload_form(town.get("/targets/robots", params={"year": 2022}).text, county)
    for role in ("department", "enterprise"):
        page = site[role].get("/targets/robots", params={"year": 2022})
        assert page.status_code == 200 and 'name="owner" value="target_figure"' not in page.text, role
    newer = _figure(town, "robots", 2022, DEMO_TOWN)
    assert _post_file(town, fid, "迟到.pdf").status_code == 409
    page = town.get("/targets/robots", params={"year": 2022, "town": DEMO_TOWN}).text
    assert _upload_form(page, newer) and not _upload_form(page, fid)
