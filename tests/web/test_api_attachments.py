"""Attachments through the API (POST /api/v1/attachments, POST /api/v1/attachments/{id}/remove): the same service as
the pages, so the same scope (404), role (403), size limit (413) and problems (422, zh and en); a target figure's
evidence shows in the source of its target's progress and goes when removed; applications and register entries take
files the same way; the OpenAPI documents the multipart body."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tenglong.adapters.db.tables import attachments, audit_log
from tenglong.services.bootstrap import DEMO_TOWN

from .conftest import client_for, make_platform

PDF = b"%PDF-1.4\n%api attachments\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
OTHER_TOWN = "331082001"
DEMO_ENTERPRISE = "913310821003686548"
HCLE = "high_consumption_low_efficiency"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A private demo county whose attachments may be at most 1 MB, and a client per role."""
    tmp = tmp_path_factory.mktemp("api_attachments")
    files = tmp / "files"
    p = make_platform(
        f"sqlite:///{tmp / 'a.db'}", upload_dir=str(tmp / "u"), attachment_dir=str(files), max_attachment_mb=1
    )
    clients = {role: client_for(p, role) for role in ("admin", "department", "town", "enterprise", "auditor")}
    yield {"p": p, "c": clients, "files": files}
    for c in clients.values():
        c.close()


def _figure(client, key: str, year: int, town: str | None = None) -> int:
    r = client.post(
        f"/api/v1/targets/{key}/figures", json={"year": year, "town": town, "value": "7", "source": "接口测试"}
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _upload(client, owner: str, owner_id, kind: str, name: str = "快报.pdf", data: bytes = PDF):
    return client.post(
        "/api/v1/attachments",
        data={"owner": owner, "owner_id": str(owner_id), "kind": kind},
        files={"file": (name, data, "application/pdf")},
    )


def _count(p) -> int:
    with p.uow.read() as conn:
        return conn.execute(select(func.count()).select_from(attachments)).scalar_one()


def _source(client, key: str, year: int, town: str | None = None) -> dict:
    params = {"year": year, **({"town": town} if town else {})}
    rows = client.get("/api/v1/targets", params=params).json()["targets"]
    return next(r for r in rows if r["key"] == key)["source"]


def test_upload_when_the_admin_adds_evidence_to_a_target_figure_lists_it_until_removed(site):
    """201 with the stored file (its hash, sniffed type, size, download URL); the progress of the target lists it as
    evidence; the download gives the bytes; removal marks it (200, removed), it leaves the source, a second removal
    is 409; both are audited."""
    admin = site["c"]["admin"]
    fid = _figure(admin, "land_revitalised", 2023)
    r = _upload(admin, "target_figure", fid, "statistics")
    assert r.status_code == 201, r.text
    got = r.json()
    aid = got["id"]
    assert {k: got[k] for k in ("owner", "owner_id", "kind", "filename", "content_type", "size_bytes", "sha256")} == {
        "owner": "target_figure",
        "owner_id": fid,
        "kind": "statistics",
        "filename": "快报.pdf",
        "content_type": "application/pdf",
        "size_bytes": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
    }
    assert got["url"] == f"/attachments/{aid}" and got["removed"] is False and got["removable"] is True
    assert got["uploaded_by"] == "admin" and got["uploaded_at"].endswith("+00:00")
    source = _source(admin, "land_revitalised", 2023)
    assert source["entry_id"] == fid and {"id": aid, "name": "快报.pdf", "kind": "statistics"} in source["evidence"]
    assert admin.get(got["url"]).content == PDF

    gone = admin.post(f"/api/v1/attachments/{aid}/remove")
    assert gone.status_code == 200, gone.text
    assert gone.json()["removed"] is True and gone.json()["removed_by"] == "admin" and gone.json()["id"] == aid
    assert all(f["id"] != aid for f in _source(admin, "land_revitalised", 2023)["evidence"])
    again = admin.post(f"/api/v1/attachments/{aid}/remove")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    with site["p"].uow.read() as conn:
        actions = set(conn.execute(select(audit_log.c.action).where(audit_log.c.entity_id == str(aid))).scalars().all())
    assert {"attachment.upload", "attachment.remove"} <= actions


def test_upload_when_outside_the_scope_or_the_role_is_refused_and_nothing_is_kept(site):
    """A town official: another town's figure is 404 (the same answer as an id that does not exist), its own town's
    201; an enterprise sees no entered figure (404); a department sees the county's but may not add files (403); an
    unknown kind of record is 404; a superseded figure takes no files (409)."""
    c, p = site["c"], site["p"]
    foreign = _figure(c["admin"], "robots", 2022, OTHER_TOWN)
    county = _figure(c["admin"], "land_revitalised", 2022)
    before = _count(p)
    refused = _upload(c["town"], "target_figure", foreign, "statistics")
    guessed = _upload(c["town"], "target_figure", 2_000_000, "statistics")
    assert refused.status_code == 404 == guessed.status_code
    assert refused.json() == guessed.json() and refused.json()["ok"] is False
    assert _upload(c["enterprise"], "target_figure", county, "statistics").status_code == 404
    assert _upload(c["department"], "target_figure", county, "statistics").status_code == 403
    assert _upload(c["auditor"], "target_figure", county, "statistics").status_code == 403
    assert _upload(c["town"], "target_figure", county, "statistics").status_code == 409  # the county's: not its own
    assert _upload(c["admin"], "no_such_record", county, "statistics").status_code == 404
    assert _count(p) == before
    own = _figure(c["town"], "robots", 2022, DEMO_TOWN)
    mine = _upload(c["town"], "target_figure", own, "document")
    assert mine.status_code == 201, mine.text
    assert mine.json()["id"] in {f["id"] for f in _source(c["town"], "robots", 2022, DEMO_TOWN)["evidence"]}
    assert c["admin"].post(f"/api/v1/attachments/{mine.json()['id']}/remove").status_code == 200
    newer = _figure(c["town"], "robots", 2022, DEMO_TOWN)
    assert newer != own
    closed = _upload(c["town"], "target_figure", own, "document")
    assert closed.status_code == 409 and closed.json()["code"] == "conflict"
    assert _count(p) == before + 1


def test_upload_when_the_file_passes_the_limit_is_413_and_nothing_is_kept(site):
    """A file over TENGLONG_MAX_ATTACHMENT_MB (1 MB here) is 413 in the envelope, no row, no file left on disk."""
    admin, p = site["c"]["admin"], site["p"]
    fid = _figure(admin, "land_revitalised", 2021)
    before = _count(p)
    big = PDF + b"\x00" * (1024 * 1024)
    r = _upload(admin, "target_figure", fid, "statistics", "年报.pdf", big)
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "too_large" and "attachment exceeds the limit of 1 MB" in r.json()["message"]["en"]
    assert _count(p) == before
    assert not [f for f in Path(site["files"]).iterdir() if f.name.startswith(".incoming-")]


def test_upload_when_the_kind_the_file_and_the_fields_are_wrong_lists_every_problem_422(site):
    """A kind the record does not take and a program renamed .pdf: one 422 naming both, in zh and en; an empty
    file and a missing id too; nothing is kept."""
    admin, p = site["c"]["admin"], site["p"]
    fid = _figure(admin, "land_revitalised", 2020)
    before = _count(p)
    r = _upload(admin, "target_figure", fid, "invoice", "发票.pdf", EXE)
    assert r.status_code == 422, r.text
    problems = {x["where"]: x for x in r.json()["problems"]}
    assert set(problems) == {"kind", "file"}
    assert problems["kind"]["code"] == "invalid_kind" and problems["file"]["code"] == "file_type_refused"
    assert all(x["message_zh"] and x["message_en"] for x in problems.values())
    empty = _upload(admin, "target_figure", fid, "statistics", "空.pdf", b"")
    assert empty.status_code == 422 and empty.json()["problems"][0]["code"] == "empty_file"
    missing = admin.post("/api/v1/attachments", data={"owner": "target_figure", "kind": "statistics"})
    assert missing.status_code == 422 and [x["where"] for x in missing.json()["problems"]] == ["owner_id"]
    wrong = admin.post("/api/v1/attachments", data={"owner_id": "²", "kind": "statistics"})
    assert wrong.status_code == 422 and {x["where"] for x in wrong.json()["problems"]} == {"owner", "owner_id"}
    assert _count(p) == before


def test_upload_when_sent_to_an_application_or_a_register_entry_works_the_same(site):
    """The enterprise attaches an invoice to its draft application and removes it; the admin attaches evidence to a
    register entry; each is listed on its record."""
    c = site["c"]
    project = c["enterprise"].post(
        "/api/v1/projects",
        json={
            "credit_code": DEMO_ENTERPRISE,
            "name": "接口附件项目",
            "application_date": "2023-03-01",
            "inputs": {"total_investment": 15000000, "equipment_investment": 8000000},
        },
    )
    assert project.status_code == 201, project.text
    app = c["enterprise"].post("/api/v1/applications", json={"project_id": project.json()["id"], "clause": "2.10"})
    assert app.status_code == 201, app.text
    aid = app.json()["id"]
    r = _upload(c["enterprise"], "subsidy_application", aid, "invoice", "发票.pdf")
    assert r.status_code == 201, r.text
    assert r.json()["owner"] == "subsidy_application" and r.json()["kind_zh"] == "发票"
    listed = c["enterprise"].get(f"/api/v1/applications/{aid}").json()["attachments"]
    assert r.json()["id"] in {f["id"] for f in listed}
    assert c["department"].post(f"/api/v1/attachments/{r.json()['id']}/remove").status_code == 403
    assert c["enterprise"].post(f"/api/v1/attachments/{r.json()['id']}/remove").status_code == 200

    kind = next(k for k in c["admin"].get("/api/v1/registers").json()["kinds"] if k["key"] == HCLE)
    entry = c["admin"].get(f"/api/v1/registers/{HCLE}", params={"state": "identified"}).json()["items"][0]["id"]
    evidence = kind["evidence"][0]["key"]
    e = _upload(c["admin"], HCLE, entry, evidence, "核查表.pdf")
    assert e.status_code == 201, e.text
    files = c["admin"].get(f"/api/v1/registers/{HCLE}/entries/{entry}").json()["attachments"]
    assert e.json()["id"] in {f["id"] for f in files}


def test_writes_when_sent_without_the_csrf_token_are_refused(site):
    """The upload and the removal, without the X-CSRF-Token header: 403 and nothing kept."""
    admin, p = site["c"]["admin"], site["p"]
    fid = _figure(admin, "land_revitalised", 2019)
    kept = _upload(admin, "target_figure", fid, "statistics").json()["id"]
    bare = client_for(p, "admin")
    bare.headers.pop("X-CSRF-Token")
    before = _count(p)
    assert _upload(bare, "target_figure", fid, "statistics").status_code == 403
    assert bare.post(f"/api/v1/attachments/{kept}/remove").status_code == 403
    assert _count(p) == before
    assert any(f["id"] == kept for f in _source(admin, "land_revitalised", 2019)["evidence"])
    bare.close()


def test_openapi_when_read_documents_the_multipart_upload_and_its_answer(site):
    """The upload's body is multipart with owner (the registered kinds of record), owner_id, kind and file; 201 and
    the removal's 200 answer the attachment's schema; 413 and 422 are documented."""
    schema = site["c"]["admin"].get("/api/v1/openapi.json").json()
    post = schema["paths"]["/api/v1/attachments"]["post"]
    body = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["owner", "owner_id", "kind", "file"]
    assert body["properties"]["file"] == {**body["properties"]["file"], "type": "string", "format": "binary"}
    assert {"subsidy_application", "project", "target_figure", HCLE} <= set(body["properties"]["owner"]["enum"])
    assert {"201", "403", "404", "409", "413", "422"} <= set(post["responses"])
    ref = post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    removal = schema["paths"]["/api/v1/attachments/{attachment_id}/remove"]["post"]["responses"]["200"]
    assert removal["content"]["application/json"]["schema"]["$ref"] == ref
    fields = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert {"id", "owner", "owner_id", "kind", "filename", "size_bytes", "content_type", "sha256", "url"} <= set(fields)
