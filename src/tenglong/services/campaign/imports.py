"""Import a register (清单) that officials already keep in Excel: the template, and every row checked before any
entry is written (habit 9: validate everything, then change anything).

The file is read like every spreadsheet a user sends (``adapters/tabular/reader.py``: the guard bounds it, a
limited child process parses it, every cell comes back as text). Its first row holds the headers — the Chinese or
English names of ``_import_columns.columns``, in any order, units in brackets (``项目总投资(元)``); other columns
are ignored and listed. Each row is one entry, checked in full (``_import_rows.Checker``):

* the enterprise exists and the importer sees it (a town its own town's firms): an unknown code and a code
  outside the scope get the same words, a row problem — never a 404 that stops the file;
* for a kind of projects, the project is one of that enterprise's;
* category, state and responsible unit by their Chinese or English name or their key; the state defaults to the
  kind's manual state (``intake.manual``) and may be any state of the loop — lists already in progress are
  migrated as they stand, closed entries too; a department's rows belong to its own unit;
* the listing date (default: the day of the import, never later) and the deadline are dates;
* the entry fields are read by the kind (``Kind.read_fields``); an entry that was listed (the manual state or a
  state it leads to) holds every required field and passes the kind's entry rules (A.3.15: 明令淘汰 = 是 is refused);
* a reason, as for a person's addition (``entries.add``);
* no second open entry for the same enterprise (project): neither one already in the register nor another row.

Every problem names its cell (``导入!C3 (类别)``), the value, what is expected and an example, in Chinese and
English, with its sheet, row, column and header in ``context``. Anything wrong: nothing is written. Otherwise every
entry is written in one transaction, each audited as ``<kind>.import`` with the file and the row.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from ...adapters.db.tables import register_entries, users
from ...adapters.tabular.reader import ROW, ReadError, column_letter, read_table
from ...adapters.tabular.xlsx import Book, Column
from ...core.errors import Forbidden, InvalidInput, NotFound, Problem, TooLarge
from ...core.situation import LISTED
from ...registers.kinds import Kind
from ...registers.roles import Actor
from ...settings import get_settings
from ..accounts.auth import actor_of
from ..data.uploads import safe_filename
from ..kernel.scope import require
from ..kernel.uow import UnitOfWork, Writer, now
from ._import_columns import EXAMPLE_CODE, HeaderMap, ImportColumn, columns, file_problem, map_headers
from ._import_rows import Checker, Row
from .common import kind_of, plain, today

__all__ = ["EXAMPLE_CODE", "ImportColumn", "account", "check_intake", "columns", "import_register", "template"]

TEMPLATE_ROWS = 1000
"""Rows of the template's sheet that offer the drop-down lists."""
LISTS, NOTES = "选项 lists", "填写说明 notes"
"""The template's sheets of the lists and of the notes (after the sheet to fill in, which is read)."""


def template(kind_key: str) -> bytes:
    """The XLSX template of a kind's import: the sheet to fill in (its header row, drop-down lists where the values
    are a list), the notes on each column (required or not, what it takes, an example, in Chinese and English) and
    the sheet of the lists.

    Raises:
        NotFound: an unknown kind.
    """
    kind = kind_of(kind_key)
    cols = columns(kind)
    with Book(None) as book:
        widths = [30 if c.kind == "wrap" else 22 if c.kind == "code" else 16 for c in cols]
        fill = [Column(c.key, c.zh, w, c.kind, c.unit_zh) for c, w in zip(cols, widths, strict=True)]
        sheet, _ = book.list_sheet(_sheet_name(kind), fill, [])
        lists = book.sheet(LISTS)
        lists.widths([24] * len(cols))
        listed = [(i, c) for i, c in enumerate(cols) if c.choices]
        for j, (i, c) in enumerate(listed):
            lists.write(0, j, c.zh, "header")
            for r, value in enumerate(c.choices, start=1):
                lists.text(r, j, value)
            letter = column_letter(j)
            source = f"='{LISTS}'!${letter}$2:${letter}${len(c.choices) + 1}"
            # a warning, not a stop: English names and keys are read too
            sheet.validate(1, i, TEMPLATE_ROWS, i, {"validate": "list", "source": source, "error_type": "warning"})
        notes = book.sheet(NOTES)
        notes.widths([30, 14, 50, 22, 60])
        notes.text(0, 0, f"{kind.zh}（{kind.clause}）导入说明 / how to fill in the {kind.en}", "section")
        intro = _intro(kind)
        for r, line in enumerate(intro, start=1):
            notes.text(r, 0, line)
        rows = [
            [c.header, "是" if c.required else "否", c.expected_zh, c.example, f"{c.en}: {c.expected_en}"] for c in cols
        ]
        notes.table(len(intro) + 2, ["列 column", "必填 required", "应填 expected", "示例 example", "English"], rows)
    return bytes(book.close())


def _intro(kind: Kind) -> list[str]:
    manual = kind.workflow.states[kind.manual_state]
    return [
        f"每行一个{kind.entry_zh}，填在第一个工作表；第一行为表头（中文或英文列名均可，顺序不限），其他列不导入。",
        f"状态留空即“{manual.zh}”；可填流程中的任一状态（含已办结的状态），以便迁移已在办理的清单。",
        "已列入的条目须填齐必填字段，并符合清单的列入规则；同一企业（项目）只能有一个未办结的条目。",
        "整个文件检查无误后才一次性导入；有任何错误时不导入任何条目，并列出每一处错误（行号、列、值、应填、示例）。",
        f"One {kind.entry_en} a row, on the first sheet; headers in the first row (Chinese or English names, any "
        "order). Nothing is imported unless every row is valid.",
    ]


def _sheet_name(kind: Kind) -> str:
    return "".join(ch for ch in kind.zh if ch not in "[]:*?/\\'")[:31] or kind.key[:31]


def _read(kind: Kind, data: bytes, name: str) -> tuple[str, HeaderMap, list[tuple[int, dict[str, str]]]]:
    """The sheet's name, its header row matched to the kind's columns, and each row's non-blank cells by key.

    Raises:
        SheetTooLarge, InvalidInput: a file the reader's guard or sandbox refuses.
        InvalidInput: a file that cannot be read (its problem).
    """
    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"register{suffix if suffix.isascii() and 1 < len(suffix) <= 6 else '.xlsx'}"
        path.write_bytes(data)
        try:
            table = read_table(path, label=name)
        except ReadError as exc:
            ctx = {"sheet": None, "row": None, "column": None, "header": None}
            detail = {k: ", ".join(v) if isinstance(v, list) else v for k, v in exc.detail.items()}
            raise refused([file_problem(exc.code, name, None, "", ctx, **detail)]) from None
        except InvalidInput as exc:  # the guard's refusal (damaged, forged, a format it cannot check): its problem
            raise refused(exc.problems) from None
    headers = map_headers(columns(kind), table.headers, table.letters, table.sheet, table.header_row)
    picked = {key: f"c{pos}" for key, (pos, _, _) in headers.found.items()}
    rows = []
    for record in table.cells.iter_rows(named=True):
        cells = {key: record[c].strip() for key, c in picked.items() if record[c] is not None and record[c].strip()}
        rows.append((int(record[ROW]), cells))
    return table.sheet, headers, rows


def refused(problems: list[Problem]) -> InvalidInput:
    """The error of a file with ``problems`` (the first ``LISTED`` in full), saying that nothing was imported."""
    exc = InvalidInput(problems[:LISTED], more=max(0, len(problems) - LISTED))
    n = len(problems)
    exc.message_zh = f"导入文件有 {n} 处错误，未导入任何条目。请改正后重新上传整个文件。"
    exc.message_en = f"The file has {n} error(s); nothing was imported. Fix them and upload the whole file again."
    exc.args = (exc.message_en,)
    return exc


def check_intake(actor: Actor, kind: Kind) -> None:
    """Refuse an actor who may not add entries to ``kind`` (by hand or by import): a role with ``register`` that is
    one of the kind's ``intake.roles`` — a department only for a kind it is a responsible unit of.

    Raises:
        Forbidden: otherwise (403).
    """
    require(actor, "register")
    if actor.role not in kind.intake_roles:
        raise Forbidden("register")
    if actor.role == "department" and not any(u.zh == actor.department for u in kind.units):
        raise Forbidden("register")


def import_register(
    uow: UnitOfWork,
    actor: Actor,
    kind_key: str,
    data: bytes,
    filename: str | None,
    *,
    day: dt.date | None = None,
    address: str | None = None,
    max_mb: int | None = None,
) -> dict[str, Any]:
    """Import the entries of a register from a workbook: every row checked, then all written, or none.

    Args:
        uow: the unit of work.
        actor: who imports (a role of the kind's ``intake.roles``).
        kind_key: the register (its key or Chinese name).
        data: the file's bytes (.xlsx; .xls and .csv are read too).
        filename: the name the file came with (messages and the audit log).
        day: the day of the import (default: today in Beijing), the default listing date.
        address: the client address, for the audit log.
        max_mb: the largest file (default: ``TENGLONG_MAX_UPLOAD_MB``, the data import's limit).

    Returns:
        ``{"created": n, "entries": [ids], "ignored_columns": [headers]}``.

    Raises:
        NotFound: an unknown kind.
        Forbidden: the role may not add to this register (a department: nor when it is none of its units).
        TooLarge: the file passes the upload limit or a size limit of the sheet reader (413).
        InvalidInput: every problem of the file, its headers and its rows; nothing is written (422).
    """
    kind = kind_of(kind_key)
    check_intake(actor, kind)
    limit = get_settings().max_upload_mb if max_mb is None else max_mb
    if len(data) > limit * 1024 * 1024:
        raise TooLarge(f"上传的文件超过 {limit} MB 的上限。", f"The upload exceeds the limit of {limit} MB.")
    name = safe_filename(filename)
    day = day or today()
    sheet, headers, rows = _read(kind, data, name)
    problems = list(headers.problems)
    if not rows and not problems:
        ctx = {"sheet": sheet, "row": None, "column": None, "header": None}
        zh, en = f"{sheet}：表头下没有数据行。", f"{sheet}: there is no row under the headers."
        problems.append(Problem("no_rows", sheet, None, "表头下至少一行", "a row under the headers", "", zh, en, ctx))
    with uow.write(actor, address) as w:
        checker = Checker(kind, actor, sheet, headers, rows, day, w.conn)
        checked = [checker.check(number, cells) for number, cells in rows]
        problems += [p for r in checked for p in r.problems]
        if problems:
            raise refused(problems)  # the transaction rolls back: nothing was written
        created = [_create(w, kind, actor, r, name) for r in checked]
    return {"created": len(created), "entries": created, "ignored_columns": headers.ignored}


def _create(w: Writer, kind: Kind, actor: Actor, r: Row, name: str) -> int:
    """Write one checked row as an entry, audited as ``<kind>.import``; its id."""
    v, at = r.values, now()
    basis = {"source": "import", "clause": kind.clause, "reason": v["reason"], "file": name, "row": r.number}
    values = {
        "kind": kind.key,
        "credit_code": v["enterprise"]["credit_code"],
        "project_id": v["project_id"],
        "town": v["enterprise"]["town"],
        "status": v["state"],
        "opened": v["opened"],
        "deadline": v["deadline"],
        "category": v["category"],
        "responsible_unit": v["responsible_unit"],
        "fields": plain(v["fields"]),
        "basis": basis,
        "created_by": actor.id,
        "created_at": at,
        "updated_at": at,
    }
    entry_id = int(w.conn.execute(insert(register_entries).values(**values)).inserted_primary_key[0])
    kept = ("status", "project_id", "category", "responsible_unit", "opened", "deadline", "fields", "basis")
    w.record(
        kind.events["import"], entry_id, None, plain({k: values[k] for k in kept} | {"file": name, "row": r.number})
    )
    return entry_id


def account(uow: UnitOfWork, username: str) -> Actor:
    """The active account ``username`` as an actor (``tenglong registers import --user`` acts as it).

    Raises:
        NotFound: no active account of that name.
    """
    with uow.read() as conn:
        row = conn.execute(select(users).where(users.c.username == username, users.c.active.is_(True))).first()
    if row is None:
        raise NotFound(username, f"没有启用的账号 {username!r}。", f"There is no active account {username!r}.")
    return actor_of(row)
