"""Data import on the platform: upload, validate in the background, report, then commit or discard.

An upload is stored under ``settings.upload_dir`` (a random folder; the original
file name is kept in ``data_imports.filename``) and validated on a worker thread
with :func:`~tenglong.services.data.validation.load_enterprise_years`. Every problem is
stored in ``data_import_problems`` so that the report can be paged and filtered
by code. Nothing reaches the enterprise data while there is any error: the
commit is all-or-nothing, in one transaction with its audit record.

States::

    validating → invalid | validated | failed
    validated  → committing → committed | failed
    validated | invalid | failed → discarded

An import left ``validating`` or ``committing`` by a stopped server (no worker
of this process runs it) is *stalled*: it can be discarded.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import shutil
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, delete, func, insert, select, update

from ...adapters.db.tables import data_import_problems as problems_t
from ...adapters.db.tables import data_imports, enterprises, users
from ...adapters.tabular.guard import SheetLimits
from ...core.errors import Conflict, NotFound, PolicyError, TooLarge
from ...registers import events, workflows
from ...registers.roles import Actor
from ..kernel.platform import Platform
from ..kernel.scope import require
from ..kernel.uow import now
from .store import store_frame
from .validation import load_enterprise_years

log = logging.getLogger(__name__)

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
"""File types accepted for upload."""
WORKFLOW = workflows.load("data_import")
STATUSES = tuple(WORKFLOW.states)
"""Every import status, in the order of the workflow."""
ACTIVE = ("validating", "committing")
"""States in which a worker should be at work on the import."""
STALLED = "服务器在处理过程中停止，导入未完成。 / The server stopped while the import was being processed."
PAGE_SIZE = 50
_CHUNK = 1 << 20
_WORKERS: dict[int, threading.Thread] = {}


@dataclass(frozen=True)
class CommitSummary:
    """What committing a validated import writes: its enterprises and rows, the years, and how many of the enterprises
    are new and how many already exist (counted when it was validated); their rows of those years are replaced."""

    enterprises: int
    rows: int
    years: list[int]
    new: int
    updated: int


@dataclass(frozen=True)
class ImportView:
    """One upload as the pages and the API show it."""

    id: int
    filename: str
    status: str
    progress: float
    message: str | None
    rows_read: int
    rows_valid: int
    error_count: int
    warning_count: int
    by_code: dict[str, int]
    warnings_by_code: dict[str, int]
    years: list[int]
    uploaded_by: str
    uploaded_at: Any
    committed_at: Any
    commit: dict[str, int] | None
    stalled: bool = False
    report: dict[str, Any] | None = None

    @property
    def running(self) -> bool:
        """Validation or commit is under way on a worker."""
        return self.status in ACTIVE and not self.stalled

    @property
    def can_commit(self) -> bool:
        """Only a clean, validated import can be committed."""
        return self.status == "validated" and self.error_count == 0

    @property
    def summary(self) -> CommitSummary | None:
        """What committing writes (validated imports only; None for an import validated before summaries existed)."""
        preview = (self.report or {}).get("preview") if self.status == "validated" else None
        if not preview:
            return None
        return CommitSummary(
            int(preview["enterprises"]),
            int(preview["rows"]),
            [int(y) for y in preview["years"]],
            int(preview["new"]),
            int(preview["updated"]),
        )

    @property
    def can_discard(self) -> bool:
        """Anything not committed and not running can be discarded."""
        return bool(WORKFLOW.move("discard", self.status)) or (self.status in ACTIVE and self.stalled)


def check_permission(actor: Actor) -> None:
    """Refuse (Forbidden) a role without the ``import`` permission (only admin has it)."""
    require(actor, "import")


def _alive(import_id: int) -> bool:
    worker = _WORKERS.get(import_id)
    return worker is not None and worker.is_alive()


def aware(moment: Any) -> Any:
    """A stored time as an aware UTC datetime (SQLite returns naive UTC)."""
    return moment.replace(tzinfo=dt.UTC) if moment is not None and moment.tzinfo is None else moment


def _view(row: Any) -> ImportView:
    report = row.report or {}
    return ImportView(
        row.id,
        row.filename,
        row.status,
        float(row.progress or 0),
        row.message,
        row.rows_read,
        row.rows_valid,
        row.error_count,
        int(report.get("warnings", 0)),
        dict(report.get("by_code", {})),
        dict(report.get("warnings_by_code", {})),
        list(row.years or []),
        row.username,
        aware(row.uploaded_at),
        aware(row.committed_at),
        report.get("commit"),
        row.status in ACTIVE and not _alive(row.id),
        report,
    )


def _query():
    return select(data_imports, users.c.username).join(users, users.c.id == data_imports.c.uploaded_by)


def fetch_row(conn: Connection, import_id: int) -> Any:
    """The data_imports row (with the uploader's username), or NotFound."""
    row = conn.execute(_query().where(data_imports.c.id == import_id)).first()
    if row is None:
        raise NotFound(import_id)
    return row


def list_imports(p: Platform, actor: Actor, page: int = 1, page_size: int = PAGE_SIZE) -> tuple[list[ImportView], int]:
    """Uploads, newest first, and how many there are.

    Raises:
        Forbidden: for a role without the ``import`` permission.
    """
    check_permission(actor)
    with p.uow.read() as conn:
        total = conn.execute(select(func.count()).select_from(data_imports)).scalar_one()
        rows = conn.execute(
            _query().order_by(data_imports.c.id.desc()).limit(page_size).offset((max(page, 1) - 1) * page_size)
        ).all()
    return [_view(r) for r in rows], int(total)


def get_import(p: Platform, actor: Actor, import_id: int) -> ImportView:
    """One upload: status, progress and counts.

    Raises:
        Forbidden: for a role without the ``import`` permission.
        NotFound: for an unknown id.
    """
    check_permission(actor)
    with p.uow.read() as conn:
        return _view(fetch_row(conn, import_id))


def safe_filename(name: str | None) -> str:
    """The last path component of an uploaded file name, without control characters, at most 200 bytes.

    >>> safe_filename("C:\\\\data\\\\企业数据.xlsx"), safe_filename("../../x.csv"), safe_filename("")
    ('企业数据.xlsx', 'x.csv', 'upload')
    >>> len(safe_filename("数" * 300 + ".xlsx").encode()), safe_filename("数" * 300 + ".xlsx")[-6:]
    (200, '数.xlsx')
    """
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip().lstrip(".") or "upload"
    suffix = Path(base).suffix if len(Path(base).suffix) <= 10 else ""
    stem = base[: len(base) - len(suffix)].encode()[: 200 - len(suffix.encode())].decode(errors="ignore")
    return stem + suffix


def receive(p: Platform, actor: Actor, filename: str | None, stream: BinaryIO, address: str | None = None) -> int:
    """Store an uploaded file, record the import (audited) and start its validation in the background.

    Args:
        p: the platform.
        actor: who uploads (needs the ``import`` permission).
        filename: the name the browser sent; kept as ``data_imports.filename``.
        stream: the file's bytes.
        address: the client address, for the audit record.

    Returns:
        The id of the new import (status ``validating``).

    Raises:
        Forbidden: for a role without the ``import`` permission.
        PolicyError: for a file type other than .xlsx/.xlsm/.xls/.csv.
        TooLarge: beyond ``settings.max_upload_mb``.
    """
    check_permission(actor)
    name = safe_filename(filename)
    if Path(name).suffix.lower() not in SUFFIXES:
        raise PolicyError(
            f"不支持的文件类型「{name}」：请上传 .xlsx 或 .csv 文件（可先下载导入模板）。",
            f"Unsupported file type {name!r}: upload an .xlsx or .csv file (download the import template first).",
        )
    limit = p.settings.max_upload_mb * 1024 * 1024
    folder = Path(p.settings.upload_dir) / secrets.token_hex(16)
    folder.mkdir(parents=True)
    path = folder / name
    size = 0
    with path.open("wb") as out:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                out.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise too_large(p.settings.max_upload_mb)
            out.write(chunk)
    try:
        with p.uow.write(actor, address) as w:
            import_id = int(
                w.conn.execute(
                    insert(data_imports).values(
                        filename=name,
                        stored_path=str(path),
                        status=WORKFLOW.initial,
                        progress=0.0,
                        rows_read=0,
                        rows_valid=0,
                        error_count=0,
                        uploaded_by=actor.id,
                        uploaded_at=now(),
                    )
                ).inserted_primary_key[0]
            )
            w.record(events.IMPORT_UPLOAD, import_id, None, {"filename": name, "bytes": size})
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no row points at the file: do not keep it
        raise
    _start(import_id, validate, p, actor, import_id, address)
    return import_id


def too_large(limit_mb: int) -> TooLarge:
    """The error for an upload beyond the limit (also used before reading a body with a too large Content-Length)."""
    return TooLarge(f"上传的文件超过 {limit_mb} MB 的上限。", f"The upload exceeds the limit of {limit_mb} MB.")


def _start(import_id: int, target: Any, *args: Any) -> None:
    """Run ``target`` on a worker thread, remembered so that a stalled import can be told from a running one."""
    for done in [k for k, t in list(_WORKERS.items()) if not t.is_alive()]:
        _WORKERS.pop(done, None)
    worker = threading.Thread(target=target, args=args, name=f"import-{import_id}", daemon=True)
    _WORKERS[import_id] = worker
    worker.start()


def _progress(p: Platform, import_id: int, status: str, progress: float) -> None:
    with p.uow.write(None) as w:
        w.conn.execute(
            update(data_imports)
            .where(data_imports.c.id == import_id, data_imports.c.status == status)
            .values(progress=progress)
        )


def _empty_file(name: str) -> dict[str, Any]:
    return {
        "level": "error",
        "code": "empty_file",
        "where": name,
        "sheet": None,
        "row": None,
        "column": None,
        "header": None,
        "value": None,
        "expected_zh": "至少一行企业年度数据",
        "expected_en": "at least one row of enterprise-year data",
        "example": "",
        "message_zh": f"{name}：文件中没有数据行（只有表头或为空）。请在表头下方每行填写一家企业一个年度的数据。",
        "message_en": (
            f"{name}: the file has no data rows (only headers, or nothing). "
            "Fill in one row per enterprise and year below the headers."
        ),
    }


def validate(p: Platform, actor: Actor, import_id: int, address: str | None = None) -> None:
    """Validate a stored upload and record its report (run on a worker by :func:`receive`)."""
    try:
        with p.uow.read() as conn:
            row = fetch_row(conn, import_id)
        _progress(p, import_id, "validating", 0.1)
        result = load_enterprise_years(row.stored_path, limits=SheetLimits.from_settings(p.settings))
        _progress(p, import_id, "validating", 0.7)
        rows = result.report_rows()
        if result.ok and result.rows_valid == 0:
            rows.insert(0, _empty_file(row.filename))
        errors = [r for r in rows if r["level"] == "error"]
        years = sorted(set(result.frame["year"].to_list())) if result.frame is not None and not errors else []
        src = result.source
        report = {
            "by_code": _counts(errors),
            "warnings": len(rows) - len(errors),
            "warnings_by_code": _counts([r for r in rows if r["level"] != "error"]),
            "source": {
                "kind": src.kind,
                "sheet": src.sheet,
                "language": src.language,
                "encoding": src.encoding,
                "units": src.units,
            },
        }
        if not errors and result.frame is not None:
            report["preview"] = _preview(p, result.frame)
        with p.uow.write(actor, address) as w:
            move, _ = WORKFLOW.check(None, "validating", "fail_validation" if errors else "pass_validation")
            values = {
                "progress": 1.0,
                "rows_read": result.rows_read,
                "rows_valid": result.rows_valid if not errors else 0,
                "error_count": len(errors),
                "report": report,
                "years": years,
            }
            after = {"rows_read": result.rows_read, "errors": len(errors), "by_code": report["by_code"]}
            w.move(data_imports, import_id, "validating", move, values, after=after)
            _store_problems(w.conn, import_id, rows)
    except Exception as exc:
        log.exception("validation of import %s failed", import_id)
        _fail(p, actor, import_id, "validating", exc, address)


def _preview(p: Platform, frame: Any) -> dict[str, Any]:
    """The commit summary of a clean table: enterprises, rows, years, and how many enterprises are new or known."""
    codes = frame["credit_code"].unique().to_list()
    known = 0
    with p.uow.read() as conn:
        for k in range(0, len(codes), 1000):
            chunk = codes[k : k + 1000]
            known += conn.execute(
                select(func.count()).select_from(enterprises).where(enterprises.c.credit_code.in_(chunk))
            ).scalar_one()
    return {
        "enterprises": len(codes),
        "rows": frame.height,
        "years": sorted(int(y) for y in set(frame["year"].to_list())),
        "new": len(codes) - int(known),
        "updated": int(known),
    }


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Problems per code, most frequent first."""
    return dict(Counter(r["code"] for r in rows).most_common())


def _store_problems(conn: Connection, import_id: int, rows: list[dict[str, Any]]) -> None:
    batch = [
        {
            "import_id": import_id,
            "seq": k,
            "level": r["level"],
            "code": r["code"],
            "cell": str(r["where"])[:300],
            "sheet": r["sheet"],
            "row_number": r["row"],
            "column_letter": r["column"],
            "header": None if r["header"] is None else str(r["header"])[:200],
            "value": None if r["value"] is None else str(r["value"]),
            "expected_zh": r["expected_zh"] or "",
            "expected_en": r["expected_en"] or "",
            "example": r["example"] or "",
            "message_zh": r["message_zh"] or "",
            "message_en": r["message_en"] or "",
        }
        for k, r in enumerate(rows)
    ]
    for k in range(0, len(batch), 2000):
        conn.execute(insert(problems_t), batch[k : k + 2000])


def _fail(p: Platform, actor: Actor | None, import_id: int, stage: str, exc: Exception, address: str | None) -> None:
    if isinstance(exc, PolicyError):
        message = f"{exc.message_zh} / {exc.message_en}"
    else:
        message = f"内部错误 / internal error: {type(exc).__name__}: {exc}"
    fail(p, actor, import_id, stage, message, address)


def fail(p: Platform, actor: Actor | None, import_id: int, stage: str, reason: str, address: str | None = None) -> bool:
    """Fail an import that is validating or committing (the ``fail`` move); False when it had left ``stage``."""
    try:
        with p.uow.write(actor, address) as w:
            move, fields = WORKFLOW.check(None, stage, "fail", {"reason": reason[:2000]})
            w.move(data_imports, import_id, stage, move, {"progress": 1.0, "message": reason[:2000]}, after=fields)
    except Conflict:
        return False
    return True


def recover_stalled(p: Platform) -> list[int]:
    """Fail every import left validating or committing with no worker in this process (a stopped server).

    Returns:
        The ids of the imports failed (they can then be discarded, or uploaded again).
    """
    with p.uow.read() as conn:
        active = conn.execute(
            select(data_imports.c.id, data_imports.c.status).where(data_imports.c.status.in_(ACTIVE))
        ).all()
    return [i for i, status in active if not _alive(i) and fail(p, None, i, status, STALLED)]


def commit(p: Platform, actor: Actor, import_id: int, address: str | None = None) -> None:
    """Start committing a validated import; the worker stores it in one transaction with its audit record.

    Raises:
        Forbidden: for a role without the ``import`` permission.
        NotFound: for an unknown id.
        Conflict: unless the import is validated without errors (an import with errors never commits).
    """
    check_permission(actor)
    with p.uow.write(actor, address) as w:
        row = fetch_row(w.conn, import_id)
        if row.error_count:
            raise Conflict(
                f"导入 #{import_id} 有 {row.error_count} 处错误；只有校验通过且无错误的导入可以提交。",
                f"Import #{import_id} has {row.error_count} error(s); "
                "only a validated import without errors can be committed.",
            )
        move, _ = WORKFLOW.check(actor, row.status, "commit_start")
        w.move(data_imports, import_id, row.status, move, {"progress": 0.05, "message": None})
    _start(import_id, execute_commit, p, actor, import_id, address)


def execute_commit(p: Platform, actor: Actor, import_id: int, address: str | None = None) -> None:
    """Read the file again and store it (all or nothing), with the ``import.commit`` audit record in the same
    transaction.
    """
    try:
        with p.uow.read() as conn:
            row = fetch_row(conn, import_id)
        result = load_enterprise_years(row.stored_path, limits=SheetLimits.from_settings(p.settings))
        if not result.ok or result.problems or result.frame is None:
            raise PolicyError(
                f"文件自校验以来已改变（现有 {len(result.problems)} 处错误），未写入任何数据。",
                f"The file changed since it was validated ({len(result.problems)} error(s) now); nothing was written.",
            )
        _progress(p, import_id, "committing", 0.4)
        with p.uow.write(actor, address) as w:
            counts = store_frame(w, result.frame, import_id)
            report = {**(row.report or {}), "commit": counts}
            move, _ = WORKFLOW.check(None, "committing", "commit")
            values = {"progress": 1.0, "committed_at": now(), "report": report}
            after = {"filename": row.filename, "years": list(row.years or []), **counts}
            w.move(data_imports, import_id, "committing", move, values, after=after)
    except Exception as exc:
        log.exception("commit of import %s failed", import_id)
        _fail(p, actor, import_id, "committing", exc, address)
        return
    from ..campaign.follow_up import after_import  # the campaign builds on the data, not the reverse

    after_import(p.uow, import_id)


def discard(p: Platform, actor: Actor, import_id: int, address: str | None = None) -> None:
    """Discard an import that is not committed (audited); its stored file and detailed report are deleted.

    Raises:
        Forbidden: for a role without the ``import`` permission.
        NotFound: for an unknown id.
        Conflict: for a committed, discarded or running import.
    """
    check_permission(actor)
    with p.uow.write(actor, address) as w:
        view = _view(fetch_row(w.conn, import_id))
        state = view.status
        if view.stalled:  # left validating or committing by a stopped worker: it failed
            move, fields = WORKFLOW.check(None, state, "fail", {"reason": STALLED})
            w.move(data_imports, import_id, state, move, {"progress": 1.0, "message": STALLED}, after=fields)
            state = move.target
        move, _ = WORKFLOW.check(actor, state, "discard")
        w.move(data_imports, import_id, state, move, {"progress": 1.0}, after={"filename": view.filename})
        w.conn.execute(delete(problems_t).where(problems_t.c.import_id == import_id))
        stored = w.conn.execute(select(data_imports.c.stored_path).where(data_imports.c.id == import_id)).scalar_one()
    _remove(p, stored)


def _remove(p: Platform, stored: str) -> None:
    """Delete an upload's folder, only when it lies inside the upload directory."""
    folder = Path(stored).parent.resolve()
    root = Path(p.settings.upload_dir).resolve()
    if folder != root and root in folder.parents:
        shutil.rmtree(folder, ignore_errors=True)
