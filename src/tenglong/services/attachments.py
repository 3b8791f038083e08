"""附件 (attachments): the evidence files of a record, built once for every kind of record that takes them.

An *owner* is a kind of record (``subsidy_application``; the campaign registers
next) declared once with :func:`register_owner`: its table (with ``id``,
``credit_code`` and ``status``), the kinds of evidence it takes (发票, 设备清单,
验收报告…), the states in which files may be added or removed, the permission
needed to do so, and the audit events that *seal* its files (the submission:
a file uploaded before the owner's latest submission is evidence and can no
longer be removed).

A file

* is streamed to disk with a running size check (``TENGLONG_MAX_ATTACHMENT_MB``),
  under ``TENGLONG_ATTACHMENT_DIR`` (outside the web root) with a generated name;
  the name the browser sent is kept as metadata only;
* is accepted only when its *bytes* are one of :data:`ALLOWED` — PDF, PNG, JPEG,
  WebP, an Excel workbook (.xlsx) or a Word document (.docx); the type is sniffed
  with ``filetype`` and an .xlsx/.docx is recognised by the parts inside its zip
  (``[Content_Types].xml`` and ``xl/workbook.xml`` or ``word/document.xml``; a
  workbook with macros is refused). The name's extension is never trusted: an
  ``.exe`` or an HTML page renamed ``发票.pdf`` is refused;
* is visible exactly to whoever sees its owner (404 otherwise, as for the owner);
* is served only as a download, with its stored type, ``nosniff`` and ``no-store``
  (the web layer), under its original name with the extension of its real type;
* is never deleted: removing one (allowed while the owner is open and the file was
  not yet submitted) marks it (``deleted_at``); the row and the bytes stay.

Every upload and every removal is an audited event (``attachment.upload``,
``attachment.remove``) in the same transaction as the row.
"""

from __future__ import annotations

import hashlib
import secrets
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import filetype
from sqlalchemy import Connection, Table, func, insert, select, update

from ..adapters.db.tables import attachments, audit_log, users
from ..core.errors import Conflict, InvalidInput, NotFound, Problem, TooLarge
from ..registers import events
from ..registers.roles import Actor
from .data.uploads import safe_filename
from .kernel.platform import Platform
from .kernel.scope import require, visible_record
from .kernel.uow import now

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ALLOWED: dict[str, tuple[str, str, str]] = {
    "application/pdf": (".pdf", "PDF 文件", "a PDF file"),
    "image/png": (".png", "PNG 图片", "a PNG image"),
    "image/jpeg": (".jpg", "JPEG 图片", "a JPEG image"),
    "image/webp": (".webp", "WebP 图片", "a WebP image"),
    XLSX: (".xlsx", "Excel 工作簿（.xlsx）", "an Excel workbook (.xlsx)"),
    DOCX: (".docx", "Word 文档（.docx）", "a Word document (.docx)"),
}
"""Content type → (its file extension, its name in Chinese and English): the only files accepted."""
SUFFIXES = {".jpeg": "image/jpeg", **{ext: ct for ct, (ext, _, _) in ALLOWED.items()}}
"""Extensions that fit each type (an original name with another one gets the type's extension on download)."""
_ZIPPED = frozenset(
    {"application/zip", XLSX, DOCX, "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
)
_CHUNK = 1 << 20
_HEAD = 8192
EXPECTED_ZH = "PDF、PNG、JPEG、WebP 图片、Excel 工作簿（.xlsx）或 Word 文档（.docx）"
EXPECTED_EN = "a PDF, a PNG, JPEG or WebP image, an Excel workbook (.xlsx) or a Word document (.docx)"


@dataclass(frozen=True)
class Owner:
    """A kind of record that takes attachments.

    Attributes:
        key: its name, stored as ``attachments.owner_type`` (e.g. ``subsidy_application``).
        table: its table (``id``, ``credit_code`` of its enterprise, ``status``).
        noun_zh / noun_en: what it is called (补助申请 / subsidy application).
        kinds: kind of evidence → (zh, en) name, in the order offered (e.g. ``invoice`` → 发票).
        open_states: states in which files may be added, and unsealed ones removed.
        open_zh / open_en: those states in words (草稿或已退回修改 / a draft or one returned for revision).
        permission: the role permission needed to add or remove files.
        sealing_events: audit actions on the owner after which the files uploaded before are evidence.
        visible: for a record of no enterprise (a target figure), how to find it in the actor's scope:
            ``visible(conn, actor, owner_id)`` returns its row (``id``, ``credit_code`` None, ``status``) or raises
            NotFound; by default the row is found by its enterprise (``scope.visible_record``).
    """

    key: str
    table: Table
    noun_zh: str
    noun_en: str
    kinds: Mapping[str, tuple[str, str]]
    open_states: tuple[str, ...]
    open_zh: str
    open_en: str
    permission: str
    sealing_events: tuple[str, ...] = ()
    visible: Callable[[Connection, Actor, int], Any] | None = None


OWNERS: dict[str, Owner] = {}


def register_owner(owner: Owner) -> Owner:
    """Declare a kind of record that takes attachments (done once, by the service that owns the record)."""
    OWNERS[owner.key] = owner
    return owner


def owner_of(key: str) -> Owner:
    """The owner kind ``key``; an unknown one is NotFound (404: nothing to attach to)."""
    owner = OWNERS.get(key)
    if owner is None:
        raise NotFound(key)
    return owner


def _visible_owner(conn: Connection, actor: Actor, owner: Owner, owner_id: int) -> Any:
    if owner.visible is not None:
        return owner.visible(conn, actor, owner_id)
    return visible_record(conn, actor, owner.table, owner_id)


def _closed(owner: Owner, doing_zh: str, doing_en: str) -> Conflict:
    return Conflict(
        f"只有{owner.open_zh}的{owner.noun_zh}可以{doing_zh}。",
        f"Only {owner.open_en} {owner.noun_en} takes {doing_en}.",
    )


def _sealed_at(conn: Connection, owner: Owner, owner_id: int) -> Any:
    """When the owner was last sealed (its latest submission), or None."""
    if not owner.sealing_events:
        return None
    return conn.execute(
        select(func.max(audit_log.c.at)).where(
            audit_log.c.entity_type == owner.key,
            audit_log.c.entity_id == str(owner_id),
            audit_log.c.action.in_(owner.sealing_events),
        )
    ).scalar()


def _sealed(uploaded_at: Any, sealed_at: Any) -> bool:
    """Whether a file uploaded at ``uploaded_at`` was submitted (SQLite hands back naive UTC, PostgreSQL aware)."""
    if sealed_at is None:
        return False
    a, b = uploaded_at, sealed_at
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a <= b


def _problem(code: str, where: str, value: Any, zh: str, en: str, expected_zh: str, expected_en: str, example: str):
    return Problem(code, where, value, expected_zh, expected_en, example, zh, en)


def sniff(path: Path) -> tuple[str | None, str]:
    """The allowed content type of the file at ``path`` (None when refused) and what it was found to be.

    ``filetype`` reads the magic numbers; a zip is an .xlsx or .docx only if its parts say so
    (the zip's directory is read, nothing is unpacked), and never with macros.
    """
    with path.open("rb") as f:
        head = f.read(_HEAD)
    kind = filetype.guess(head)
    found = kind.mime if kind is not None else "unknown"
    if found in _ZIPPED:
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None, found
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            return None, "application/vnd.ms-office.macroEnabled"
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return XLSX, XLSX
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX, DOCX
        return None, found
    return (found if found in ALLOWED else None), found


def download_name(original: str, content_type: str) -> str:
    """The name a download is saved under: the original, with the extension of its real type.

    >>> download_name("发票.PDF", "application/pdf"), download_name("scan.jpeg", "image/jpeg")
    ('发票.PDF', 'scan.jpeg')
    >>> download_name("发票.html", "application/pdf"), download_name("清单", XLSX)
    ('发票.html.pdf', '清单.xlsx')
    """
    suffix = Path(original).suffix.lower()
    return original if SUFFIXES.get(suffix) == content_type else original + ALLOWED[content_type][0]


def _store(folder: Path, stream: BinaryIO, limit_mb: int) -> tuple[Path, int, str]:
    """Stream ``stream`` into a new file of ``folder``, counting and hashing as it goes (TooLarge past the limit)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".incoming-{secrets.token_hex(16)}"
    limit = limit_mb * 1024 * 1024
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("xb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        f"附件超过 {limit_mb} MB 的上限，未保存；请压缩或拆分后再上传。",
                        f"The attachment exceeds the limit of {limit_mb} MB and was not kept; "
                        "compress or split it and upload again.",
                    )
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size, digest.hexdigest()


def upload(
    p: Platform,
    actor: Actor,
    owner_key: str,
    owner_id: int,
    kind: str,
    filename: str | None,
    stream: BinaryIO,
    address: str | None = None,
) -> int:
    """Keep one uploaded file as an attachment of a record (audited); returns its id.

    Args:
        p: the platform (its settings name the folder and the size limit).
        actor: who uploads.
        owner_key: the kind of record (``subsidy_application``).
        owner_id: the record.
        kind: the kind of evidence, one of the owner's ``kinds``.
        filename: the name the browser sent (metadata only).
        stream: the file's bytes.
        address: the client address, for the audit record.

    Raises:
        NotFound: an unknown owner kind, or a record outside the actor's scope (404).
        Forbidden: the role may not add files (403).
        Conflict: the record's state takes no files (409).
        TooLarge: the file passes ``max_attachment_mb`` (413; nothing is kept).
        InvalidInput: an unknown kind of evidence, an empty file, a type outside the allow-list — all at once (422).
    """
    owner = owner_of(owner_key)
    with p.uow.read() as conn:  # refuse early, before the bytes are written
        row = _visible_owner(conn, actor, owner, owner_id)
        require(actor, owner.permission)
        if row.status not in owner.open_states:
            raise _closed(owner, "上传附件", "new attachments")
    name = safe_filename(filename)
    problems = []
    if kind not in owner.kinds:
        names_zh = "、".join(zh for zh, _ in owner.kinds.values())
        names_en = ", ".join(en for _, en in owner.kinds.values())
        problems.append(
            _problem(
                "invalid_kind",
                "kind",
                kind,
                f"请选择附件类别（{names_zh}）。",
                f"Choose the kind of attachment ({names_en}).",
                names_zh,
                names_en,
                next(iter(owner.kinds.values()))[0],
            )
        )
    folder = Path(p.settings.attachment_dir)
    path, size, sha256 = _store(folder, stream, p.settings.max_attachment_mb)
    try:
        content_type, found = sniff(path) if size else (None, "empty")
        if size == 0:
            problems.append(
                _problem(
                    "empty_file",
                    "file",
                    name,
                    f"文件 {name} 是空的（0 字节），请选择要上传的文件。",
                    f"The file {name} is empty (0 bytes); choose the file to upload.",
                    EXPECTED_ZH,
                    EXPECTED_EN,
                    "发票.pdf",
                )
            )
        elif content_type is None:
            problems.append(
                _problem(
                    "file_type_refused",
                    "file",
                    name,
                    f"文件 {name} 的内容不是允许的类型（按文件内容识别为 {found}，与扩展名无关）；"
                    f"只接受{EXPECTED_ZH}。",
                    f"The content of {name} is not an accepted type (its bytes read as {found}, whatever its "
                    f"extension); only {EXPECTED_EN} is accepted.",
                    EXPECTED_ZH,
                    EXPECTED_EN,
                    "发票.pdf",
                )
            )
        if problems:
            raise InvalidInput(problems)
        stored = secrets.token_hex(16)
        with p.uow.write(actor, address) as w:
            row = _visible_owner(w.conn, actor, owner, owner_id)  # again, in the transaction that inserts
            if row.status not in owner.open_states:
                raise _closed(owner, "上传附件", "new attachments")
            values = {
                "owner_type": owner.key,
                "owner_id": owner_id,
                "credit_code": row.credit_code,
                "kind": kind,
                "original_name": name,
                "stored_name": stored,
                "content_type": content_type,
                "size_bytes": size,
                "sha256": sha256,
                "uploaded_by": actor.id,
                "uploaded_at": now(),
            }
            aid = int(w.conn.execute(insert(attachments).values(**values)).inserted_primary_key[0])
            w.record(
                events.ATTACHMENT_UPLOAD,
                aid,
                None,
                {k: values[k] for k in ("owner_type", "owner_id", "kind", "original_name", "content_type", "sha256")}
                | {"size_bytes": size},
            )
            path.rename(folder / stored)  # before the commit: a failed commit leaves an orphan file, never a row
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return aid


def _visible_attachment(conn: Connection, actor: Actor, attachment_id: int) -> tuple[Any, Owner, Any]:
    """(the attachment, its owner kind, the owner's row) when the actor sees the owner; else NotFound."""
    row = conn.execute(select(attachments).where(attachments.c.id == attachment_id)).first()
    if row is None or row.owner_type not in OWNERS:
        raise NotFound(attachment_id)
    owner = OWNERS[row.owner_type]
    try:
        parent = _visible_owner(conn, actor, owner, row.owner_id)
    except NotFound:
        raise NotFound(attachment_id) from None
    return row, owner, parent


def remove(p: Platform, actor: Actor, attachment_id: int, address: str | None = None) -> dict[str, Any]:
    """Mark an attachment removed (the row and the file stay); only before the owner's submission sealed it.

    Returns:
        ``{"owner_type", "owner_id"}`` of the record it belonged to.

    Raises:
        NotFound (404), Forbidden (403), Conflict (409: the owner is closed, the file was submitted, or it was removed).
    """
    with p.uow.write(actor, address) as w:
        row, owner, parent = _visible_attachment(w.conn, actor, attachment_id)
        require(actor, owner.permission)
        if row.deleted_at is not None:
            raise Conflict("该附件已删除。", "The attachment was removed already.")
        if parent.status not in owner.open_states:
            raise _closed(owner, "删除附件", "removals of attachments")
        if _sealed(row.uploaded_at, _sealed_at(w.conn, owner, row.owner_id)):
            raise Conflict(
                f"附件“{row.original_name}”已随{owner.noun_zh}提交，是审核依据，不能删除；可上传更正后的文件。",
                f"“{row.original_name}” was submitted with the {owner.noun_en}; it is evidence and cannot be removed "
                "(upload a corrected file instead).",
            )
        w.conn.execute(
            update(attachments)
            .where(attachments.c.id == attachment_id, attachments.c.deleted_at.is_(None))
            .values(deleted_at=now(), deleted_by=actor.id)
        )
        w.record(
            events.ATTACHMENT_REMOVE,
            attachment_id,
            {"owner_type": row.owner_type, "owner_id": row.owner_id, "original_name": row.original_name},
            {"deleted": True},
        )
    return {"owner_type": row.owner_type, "owner_id": row.owner_id}


def listing(conn: Connection, actor: Actor, owner_key: str, owner_id: int, status: str) -> list[dict[str, Any]]:
    """The attachments of a record the caller has already found in scope, oldest first, with who uploaded each and
    whether the actor may remove it now.
    """
    owner = owner_of(owner_key)
    uploader, remover = users.alias("uploader"), users.alias("remover")
    rows = conn.execute(
        select(
            attachments,
            uploader.c.username.label("uploaded_by_name"),
            uploader.c.role.label("uploaded_by_role"),
            remover.c.username.label("deleted_by_name"),
        )
        .join(uploader, uploader.c.id == attachments.c.uploaded_by)
        .outerjoin(remover, remover.c.id == attachments.c.deleted_by)
        .where(attachments.c.owner_type == owner_key, attachments.c.owner_id == owner_id)
        .order_by(attachments.c.id)
    ).all()
    sealed_at = _sealed_at(conn, owner, owner_id)
    may_change = actor.can(owner.permission) and status in owner.open_states
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "kind_zh": owner.kinds.get(r.kind, (r.kind, r.kind))[0],
            "kind_en": owner.kinds.get(r.kind, (r.kind, r.kind))[1],
            "original_name": r.original_name,
            "content_type": r.content_type,
            "type_zh": ALLOWED.get(r.content_type, ("", r.content_type, r.content_type))[1],
            "type_en": ALLOWED.get(r.content_type, ("", r.content_type, r.content_type))[2],
            "size_bytes": r.size_bytes,
            "sha256": r.sha256,
            "uploaded_by": r.uploaded_by_name,
            "uploaded_by_role": r.uploaded_by_role,
            "uploaded_at": r.uploaded_at,
            "deleted_at": r.deleted_at,
            "deleted_by": r.deleted_by_name,
            "sealed": _sealed(r.uploaded_at, sealed_at),
            "removable": may_change and r.deleted_at is None and not _sealed(r.uploaded_at, sealed_at),
        }
        for r in rows
    ]


def kinds_of(owner_key: str) -> list[tuple[str, str, str]]:
    """(kind, zh, en) of the evidence a kind of record takes, in the order offered."""
    return [(k, zh, en) for k, (zh, en) in owner_of(owner_key).kinds.items()]


def may_upload(actor: Actor, owner_key: str, status: str) -> bool:
    """Whether the actor may add files to a record of ``owner_key`` in ``status`` (for showing the form)."""
    owner = owner_of(owner_key)
    return actor.can(owner.permission) and status in owner.open_states


@dataclass(frozen=True)
class Download:
    """A file to send: where it is on disk, its type, and the name to save it under."""

    path: Path
    content_type: str
    filename: str
    size_bytes: int
    owner_type: str
    owner_id: int


def open_download(p: Platform, actor: Actor, attachment_id: int) -> Download:
    """The file of an attachment the actor may see (a removed one: only roles that read the audit log).

    Raises:
        Forbidden: without ``read`` (403).
        NotFound: unknown, outside the scope of its record, removed, or missing on disk (404).
    """
    require(actor, "read")
    with p.uow.read() as conn:
        row, _, _ = _visible_attachment(conn, actor, attachment_id)
    if row.deleted_at is not None and not actor.can("read_audit"):
        raise NotFound(attachment_id)
    path = Path(p.settings.attachment_dir) / row.stored_name
    if not path.is_file():
        raise NotFound(
            attachment_id,
            "附件文件不在存储目录中，请联系管理员。",
            "The attachment's file is missing from the store; tell the administrator.",
        )
    return Download(
        path,
        row.content_type,
        download_name(row.original_name, row.content_type),
        row.size_bytes,
        row.owner_type,
        row.owner_id,
    )
