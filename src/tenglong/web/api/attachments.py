"""附件 (attachments) through the API: upload an evidence file to any record that takes them (a subsidy application,
a project, a register entry, a target figure) and remove one — the same service as the pages
(``services/attachments.py``), so the same checks: the record's scope (404 outside it, as for the record), the role's
permission (403), the record's state (409), the size limit (413) and the allow-list of types judged by the bytes
(422, every problem at once). A removed file is marked, never deleted. The file itself is downloaded at
``/attachments/{id}`` (always as a download, never shown inline).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ...core.errors import InvalidInput, NotFound, Problem
from ...registers.roles import Actor
from ...services import attachments
from ...services.campaign import entries as _register_owners  # noqa: F401  (registers the owners of attachments)
from ...services.enterprises import lifecycle as _project_owner  # noqa: F401
from ...services.kernel.platform import Platform
from ...services.kernel.scope import visible_record
from ...services.reports import figures as _figure_owner  # noqa: F401
from ...services.subsidies import applications as _application_owner  # noqa: F401
from ..limits import MAX_ID, IdPath
from ..security import ActorDep, FormDep, PlatformDep, client_address, posted_file
from .evaluation_schemas import UtcDateTime

router = APIRouter(prefix="/api/v1", tags=["attachments"])
OWNER_KEYS = sorted(attachments.OWNERS)
"""The kinds of record that take attachments (each registered by the service that owns the record)."""


class AttachmentPublic(BaseModel):
    """One evidence file of a record: what it is, who uploaded it when, whether it was removed, and where to get it."""

    id: int
    owner: str = Field(description="the kind of record, e.g. subsidy_application, project, target_figure")
    owner_id: int = Field(description="the record")
    kind: str = Field(description="the kind of evidence, one of the record's (e.g. invoice, statistics)")
    kind_zh: str
    kind_en: str
    filename: str = Field(description="the name the file was uploaded under (metadata only)")
    content_type: str = Field(description="the type read from the file's bytes")
    size_bytes: int
    sha256: str = Field(description="SHA-256 of the bytes, in hex")
    uploaded_by: str
    uploaded_at: UtcDateTime
    removed: bool
    removed_at: UtcDateTime | None
    removed_by: str | None
    removable: bool = Field(description="whether the caller may remove it now (the record open, the file not sealed)")
    url: str = Field(description="the download, always as a file: /attachments/{id}")


ATTACHMENT_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["owner", "owner_id", "kind", "file"],
                    "properties": {
                        "owner": {
                            "type": "string",
                            "enum": OWNER_KEYS,
                            "description": "the kind of record (an unknown one: 404)",
                        },
                        "owner_id": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_ID,
                            "description": "the record (outside your scope, or none: 404)",
                        },
                        "kind": {
                            "type": "string",
                            "description": "the kind of evidence, one the record takes (e.g. invoice for an "
                            "application, statistics for a target figure; else 422 listing them)",
                            "example": "invoice",
                        },
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "PDF, PNG, JPEG, WebP, .xlsx or .docx, judged by its bytes "
                            "(limit TENGLONG_MAX_ATTACHMENT_MB, else 413)",
                        },
                    },
                },
            }
        },
    }
}
"""The OpenAPI request body of an attachment's upload."""


def _field_problem(code: str, where: str, value: Any, zh: str, en: str, exp_zh: str, exp_en: str, ex: str) -> Problem:
    return Problem(code, where, value, exp_zh, exp_en, ex, zh, en)


def _record_of(form: Any) -> tuple[str, int]:
    """The ``owner`` and ``owner_id`` of the posted form.

    Raises:
        InvalidInput: either is missing, or ``owner_id`` is no id (422, both at once).
        NotFound: an unknown kind of record (404: nothing to attach to).
    """
    owner, raw_id = form.get("owner"), form.get("owner_id")
    problems = []
    if not isinstance(owner, str) or not owner.strip():
        problems.append(
            _field_problem(
                "missing_input", "owner", None, "请指明附件所属记录的类型（表单字段 owner）。",
                "Say which kind of record the file belongs to (form field `owner`).", "、".join(OWNER_KEYS),
                ", ".join(OWNER_KEYS), "subsidy_application",
            )
        )  # fmt: skip
    text = raw_id.strip() if isinstance(raw_id, str) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and 1 <= int(text) <= MAX_ID):
        problems.append(
            _field_problem(
                "invalid_id", "owner_id", text[:20] or None, "请指明附件所属记录的编号（表单字段 owner_id，正整数）。",
                "Give the id of the record the file belongs to (form field `owner_id`, a positive integer).",
                f"1 至 {MAX_ID} 的整数", f"an integer from 1 to {MAX_ID}", "1",
            )
        )  # fmt: skip
    if problems:
        raise InvalidInput(problems)
    if owner not in attachments.OWNERS:
        raise NotFound(owner)
    return str(owner), int(text)


def describe(p: Platform, actor: Actor, owner_key: str, owner_id: int, attachment_id: int) -> AttachmentPublic:
    """The attachment ``attachment_id`` of a record in the actor's scope, as the API shows it (the service's listing
    of the record, with whether the actor may remove it now).

    Raises:
        NotFound: the record is outside the actor's scope, or the attachment is not one of its files.
    """
    owner = attachments.owner_of(owner_key)
    with p.uow.read() as conn:
        # How the service finds the record (attachments.Owner.visible, else by its enterprise): for its state.
        row = (
            owner.visible(conn, actor, owner_id)
            if owner.visible is not None
            else visible_record(conn, actor, owner.table, owner_id)
        )
        files = attachments.listing(conn, actor, owner.key, owner_id, row.status)
    f = next((f for f in files if f["id"] == attachment_id), None)
    if f is None:
        raise NotFound(attachment_id)
    return AttachmentPublic(
        id=f["id"],
        owner=owner.key,
        owner_id=owner_id,
        kind=f["kind"],
        kind_zh=f["kind_zh"],
        kind_en=f["kind_en"],
        filename=f["original_name"],
        content_type=f["content_type"],
        size_bytes=f["size_bytes"],
        sha256=f["sha256"],
        uploaded_by=f["uploaded_by"],
        uploaded_at=f["uploaded_at"],
        removed=f["deleted_at"] is not None,
        removed_at=f["deleted_at"],
        removed_by=f["deleted_by"],
        removable=f["removable"],
        url=f"/attachments/{f['id']}",
    )


@router.post("/attachments", status_code=201, response_model=AttachmentPublic, openapi_extra=ATTACHMENT_UPLOAD)
def upload(request: Request, actor: ActorDep, p: PlatformDep, form: FormDep) -> AttachmentPublic:
    """Upload one evidence file (multipart form: ``owner``, ``owner_id``, ``kind``, ``file``) to a record in your scope;
    201 with the stored attachment (its ``sha256``, the type read from its bytes, the download ``url``).

    404: an unknown kind of record, or a record outside your scope; 403: your role may not add files to it; 409: its
    state takes no files (an application submitted, a target figure superseded…); 413: the file passes
    ``TENGLONG_MAX_ATTACHMENT_MB`` (nothing is kept); 422: every problem of the kind, the file (empty, a type outside
    PDF, PNG, JPEG, WebP, .xlsx, .docx) and the fields at once. Audited (``attachment.upload``)."""
    owner, owner_id = _record_of(form)
    name, stream = posted_file(form, "file")
    aid = attachments.upload(
        p,
        actor,
        owner,
        owner_id,
        str(form.get("kind") or ""),
        name,
        stream,
        client_address(request),
    )
    return describe(p, actor, owner, owner_id, aid)


@router.post("/attachments/{attachment_id}/remove", response_model=AttachmentPublic)
def remove(attachment_id: IdPath, request: Request, actor: ActorDep, p: PlatformDep) -> AttachmentPublic:
    """Remove an attachment not yet submitted with its record: it is marked removed (the row and the file are kept,
    for the record) and no longer counts as evidence; the answer is the attachment with ``removed: true``.

    404: unknown, or its record is outside your scope; 403: your role may not change the record's files; 409: the
    record is closed, the file was submitted with it, or it was removed already. Audited (``attachment.remove``)."""
    owner = attachments.remove(p, actor, attachment_id, client_address(request))
    return describe(p, actor, owner["owner_type"], owner["owner_id"], attachment_id)
