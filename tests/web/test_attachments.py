"""Attachments (附件): an allow-list judged by the bytes, a size limit while streaming, downloads that never render,
the scope of their record, and an audited event for every upload and removal.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import select

from tenglong.adapters.db.tables import attachments, audit_log, enterprises, users
from tenglong.core.errors import InvalidInput
from tenglong.services import attachments as attachment_service
from tenglong.services.accounts.auth import actor_of
from tenglong.services.enterprises import projects
from tenglong.services.subsidies import applications as subsidies
from tenglong.settings import Settings
from tenglong.web.limits import MB, SLACK, limit_of

from .conftest import client_for, make_platform

MAJOR = {"total_investment": 15000000, "equipment_investment": 8000000}
DUQIAO = "331082112"


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    )


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _xlsx() -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    book.add_worksheet("设备清单").write(0, 0, "数控机床")
    book.close()
    return buf.getvalue()


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
GOOD = {
    "发票.pdf": (PDF, "application/pdf"),
    "现场照片.png": (_png(), "image/png"),
    "扫描件.jpg": (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64,
        "image/jpeg",
    ),
    "设备清单.xlsx": (_xlsx(), attachment_service.XLSX),
    "验收报告.docx": (
        _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
        attachment_service.DOCX,
    ),
}
BAD = {
    "发票.pdf": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200,  # a Windows program, renamed
    "发票2.pdf": b"<!doctype html><html><script>alert(document.cookie)</script></html>",  # a web page, renamed
    "清单.xlsx": _zip({"readme.txt": b"not a workbook"}),  # a zip, but not a workbook
    "宏.xlsx": _zip(
        {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>", "xl/vbaProject.bin": b"\x00"}
    ),  # a workbook with macros
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """A private demo platform whose attachments go to a temporary folder (limit 1 MB), and an application of the
    demo enterprise in draft, one of another town's firm, and the clients of every role.
    """
    tmp = tmp_path_factory.mktemp("attachments")
    p = make_platform(
        f"sqlite:///{tmp / 'files.db'}", upload_dir=str(tmp / "uploads"), attachment_dir=str(tmp / "files")
    )
    p.settings.max_attachment_mb = 1
    with p.uow.read() as conn:
        admin = actor_of(conn.execute(select(users).where(users.c.username == "admin")).one())
        own = conn.execute(select(users.c.credit_code).where(users.c.username == "enterprise")).scalar_one()
        foreign = conn.execute(
            select(enterprises.c.credit_code).where(enterprises.c.town != DUQIAO).order_by(enterprises.c.credit_code)
        ).first()[0]

    def application(code: str) -> int:
        pid = projects.create_project(p.uow, admin, code, "附件测试项目", "2023-03-01", MAJOR)
        return subsidies.create_application(p.uow, admin, pid, "2.10")

    clients = {role: client_for(p, role) for role in ("admin", "department", "town", "enterprise", "auditor")}
    yield {"p": p, "admin": admin, "own": own, "foreign": foreign, "new": application, "c": clients, "dir": tmp}
    for c in clients.values():
        c.close()


def _upload(c, aid: int, name: str, content: bytes, kind: str = "invoice", ctype: str = "application/pdf"):
    return c.post(
        "/attachments",
        data={"owner": "subsidy_application", "owner_id": str(aid), "kind": kind},
        files={"file": (name, content, ctype)},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )


def _rows(p, aid: int) -> list:
    with p.uow.read() as conn:
        return conn.execute(select(attachments).where(attachments.c.owner_id == aid).order_by(attachments.c.id)).all()


def test_upload_when_the_bytes_are_an_allowed_type_keeps_it_under_a_generated_name(site):
    """PDF, PNG, JPEG, .xlsx and .docx are kept: the type sniffed from the bytes, size and SHA-256 recorded, the file
    stored outside the web root under a random name, listed on the page with its size and uploader.
    """
    aid = site["new"](site["own"])
    ent = site["c"]["enterprise"]
    for name, (content, _) in GOOD.items():
        r = _upload(ent, aid, name, content, ctype="application/octet-stream")
        assert r.status_code == 303 and r.headers["location"] == f"/applications/{aid}#attachments", r.text[:300]
    rows = _rows(site["p"], aid)
    assert [(r.original_name, r.content_type) for r in rows] == [(n, t) for n, (_, t) in GOOD.items()]
    folder = Path(site["p"].settings.attachment_dir)
    for r, (content, _) in zip(rows, GOOD.values(), strict=True):
        assert (folder / r.stored_name).read_bytes() == content and r.size_bytes == len(content)
        assert len(r.stored_name) == 32 and r.original_name not in r.stored_name
        assert r.sha256 == hashlib.sha256(content).hexdigest()
    page = ent.get(f"/applications/{aid}").text
    assert all(f'href="/attachments/{r.id}"' in page for r in rows) and "enterprise · " in page and "KB" in page


@pytest.mark.parametrize("name", sorted(BAD))
def test_upload_when_the_bytes_are_not_allowed_is_refused_whatever_the_name_and_nothing_is_kept(site, name):
    """A program or a web page renamed .pdf, a zip named .xlsx, a workbook with macros: 422 naming the file and what
    its bytes are; no row, no file, no event.
    """
    aid = site["new"](site["own"])
    folder = Path(site["p"].settings.attachment_dir)
    before = set(folder.iterdir()) if folder.exists() else set()
    r = _upload(site["c"]["enterprise"], aid, name, BAD[name])
    assert r.status_code == 422 and name in r.text and "按文件内容识别" in r.text
    assert _rows(site["p"], aid) == [] and set(folder.iterdir()) == before


def test_upload_when_kind_is_unknown_and_type_bad_lists_both_problems(site):
    """An unknown kind and a refused type are reported together (every problem at once)."""
    aid = site["new"](site["own"])
    with pytest.raises(InvalidInput) as exc:
        attachment_service.upload(
            site["p"], site["admin"], "subsidy_application", aid, "selfie", "a.pdf", io.BytesIO(BAD["发票2.pdf"])
        )
    assert sorted(p.where for p in exc.value.problems) == ["file", "kind"]


def test_upload_when_larger_than_the_limit_is_413_and_nothing_is_kept(site):
    """1 MB and one byte (the platform's limit is 1 MB): 413 while streaming; no row and no file, partial or whole."""
    aid = site["new"](site["own"])
    folder = Path(site["p"].settings.attachment_dir)
    before = set(folder.iterdir()) if folder.exists() else set()
    r = _upload(site["c"]["enterprise"], aid, "大文件.pdf", PDF + b"0" * (MB + 1 - len(PDF)))
    assert r.status_code == 413 and "1 MB" in r.text
    assert _rows(site["p"], aid) == [] and set(folder.iterdir()) == before
    assert _upload(site["c"]["enterprise"], aid, "刚好.pdf", PDF + b"0" * (MB - len(PDF))).status_code == 303


def test_upload_route_when_its_body_limit_is_read_is_the_attachment_setting():
    """POST /attachments takes TENGLONG_MAX_ATTACHMENT_MB (plus the form framing), not the 1 MB default."""
    s = Settings(database_url="sqlite://", max_attachment_mb=20)
    assert limit_of("POST", "/attachments", s).bytes == 20 * MB + SLACK and limit_of("POST", "/attachments", s).upload


def test_download_when_asked_is_an_attachment_with_its_sniffed_type_never_rendered(site):
    """The file comes back byte for byte, as a download named after the original (extension of its real type),
    with nosniff and no-store; a PDF uploaded as 发票.html is saved as 发票.html.pdf.
    """
    aid = site["new"](site["own"])
    ent = site["c"]["enterprise"]
    _upload(ent, aid, "发票.html", PDF)
    (row,) = _rows(site["p"], aid)
    r = ent.get(f"/attachments/{row.id}")
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == "attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.html.pdf"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"


def test_attachments_when_outside_the_scope_are_404_and_roles_that_may_not_upload_get_403(site):
    """Town and enterprise: 404 for another town's file and for uploads to its application (as for a guessed id);
    department and auditor see and download every file but may not upload or remove (403).
    """
    foreign = site["new"](site["foreign"])
    admin = site["c"]["admin"]
    assert _upload(admin, foreign, "发票.pdf", PDF).status_code == 303
    (row,) = _rows(site["p"], foreign)
    for role in ("town", "enterprise"):
        c = site["c"][role]
        assert c.get(f"/attachments/{row.id}").status_code == 404
        assert c.get("/attachments/999999").status_code == 404
        assert _upload(c, foreign, "发票.pdf", PDF).status_code == 404
        assert c.post(f"/attachments/{row.id}/remove", follow_redirects=False).status_code == 404
    for role in ("department", "auditor"):
        c = site["c"][role]
        assert c.get(f"/attachments/{row.id}").status_code == 200
        assert _upload(c, foreign, "发票.pdf", PDF).status_code == 403
        assert c.post(f"/attachments/{row.id}/remove", follow_redirects=False).status_code == 403
    assert len(_rows(site["p"], foreign)) == 1


def test_attachment_when_uploaded_and_removed_is_audited_and_submitted_ones_are_kept(site):
    """Upload and removal are events (with name, size, SHA-256); a removed file stays on disk and in the table
    (marked); once the application is submitted, or after it was returned, its earlier files cannot be removed (409),
    nor can anything be uploaded while it waits for review (409).
    """
    aid = site["new"](site["own"])
    ent, admin = site["c"]["enterprise"], site["c"]["admin"]
    _upload(ent, aid, "错误的发票.pdf", PDF)
    _upload(ent, aid, "设备清单.xlsx", GOOD["设备清单.xlsx"][0], kind="equipment_list")
    wrong, kept = _rows(site["p"], aid)
    r = ent.post(f"/attachments/{wrong.id}/remove", follow_redirects=False)
    assert r.status_code == 303
    assert ent.post(f"/attachments/{wrong.id}/remove", follow_redirects=False).status_code == 409
    gone = _rows(site["p"], aid)[0]
    assert gone.deleted_at is not None and (Path(site["p"].settings.attachment_dir) / gone.stored_name).exists()
    assert ent.get(f"/attachments/{wrong.id}").status_code == 404  # removed: only the audit roles may fetch it
    assert admin.get(f"/attachments/{wrong.id}").status_code == 200
    assert ent.post(f"/api/v1/applications/{aid}/submit", json={}).status_code == 200
    assert _upload(ent, aid, "补充.pdf", PDF).status_code == 409
    for step, body in (("start_review", {}), ("reject", {"note": "缺少验收报告"})):
        assert admin.post(f"/api/v1/applications/{aid}/{step}", json=body).status_code == 200
    assert ent.post(f"/attachments/{kept.id}/remove", follow_redirects=False).status_code == 409
    assert _upload(ent, aid, "验收报告.pdf", PDF, kind="acceptance_report").status_code == 303
    late = _rows(site["p"], aid)[-1]
    assert ent.post(f"/attachments/{late.id}/remove", follow_redirects=False).status_code == 303
    with site["p"].uow.read() as conn:
        trail = conn.execute(
            select(audit_log.c.action, audit_log.c.entity_id, audit_log.c.after)
            .where(audit_log.c.entity_type == "attachment")
            .where(audit_log.c.entity_id.in_([str(wrong.id), str(kept.id), str(late.id)]))
            .order_by(audit_log.c.id)
        ).all()
    assert [(t.action, t.entity_id) for t in trail] == [
        ("attachment.upload", str(wrong.id)),
        ("attachment.upload", str(kept.id)),
        ("attachment.remove", str(wrong.id)),
        ("attachment.upload", str(late.id)),
        ("attachment.remove", str(late.id)),
    ]
    assert trail[0].after["sha256"] == wrong.sha256 and trail[0].after["size_bytes"] == len(PDF)
    page = ent.get(f"/applications/{aid}").text
    assert 'data-audit="attachment.upload"' in page and "错误的发票.pdf" in page
