"""Verify the audit log's hash chain: walk every row in id order and recompute its hash.

The rows stream from one read transaction (a consistent snapshot: rows appended
meanwhile are simply not part of this walk), ``BATCH`` at a time, so a log of
millions of rows verifies in flat memory. The checking itself is
:func:`tenglong.registers.chain.verify`; this module only reads and words the
outcome (Chinese and English).

Verification needs no account: it is run by whoever holds the database URL
(``tenglong audit verify``), and it changes nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ...adapters.db.tables import audit_log
from ...core.errors import PolicyError
from ...registers import chain
from ..kernel.platform import Platform
from .log import LOCAL

BATCH = 5000
"""Rows fetched per round trip."""


def verify_chain(p: Platform) -> chain.Verdict:
    """Walk the whole audit log in id order and stop at the first row that breaks the chain.

    Raises:
        PolicyError: when there is no such SQLite file (none is created), or the log cannot be read
            (e.g. a database not yet migrated to revision 0004).
    """
    url = p.engine.url
    if url.get_backend_name() == "sqlite" and not Path(url.database or ":memory:").is_file():
        raise PolicyError(f"数据库文件不存在：{url.database}", f"no database file: {url.database or '(in memory)'}")
    query = select(audit_log).order_by(audit_log.c.id)
    try:
        with p.uow.read() as conn, conn.execution_options(yield_per=BATCH).execute(query) as result:
            return chain.verify(result.mappings())
    except SQLAlchemyError as exc:
        raise PolicyError(
            f"无法读取审计日志（数据库是否已升级到最新版本？运行一次 tenglong serve 即可升级）：{exc}",
            f"cannot read the audit log (is the database migrated? `tenglong serve` migrates it): {exc}",
        ) from exc


def _when(at: dt.datetime | None) -> str:
    """A stored time as UTC (canonical) and China Standard Time."""
    if at is None:
        return "—"
    local = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(LOCAL)
    return f"{chain.canonical_time(at)} (北京时间 / Beijing time {local:%Y-%m-%d %H:%M:%S})"


def report(v: chain.Verdict) -> list[str]:
    """The outcome as lines of text, in Chinese and English.

    >>> report(chain.Verdict(0, chain.GENESIS, None, None, None))[:2]
    ['审计日志哈希链完整：已验证 0 条记录。', 'Audit log hash chain intact: 0 rows verified.']
    """
    if v.broken is None:
        return [
            f"审计日志哈希链完整：已验证 {v.rows:,} 条记录。",
            f"Audit log hash chain intact: {v.rows:,} rows verified.",
            f"链头 / head: #{v.head_id if v.head_id is not None else '—'}  {_when(v.head_at)}",
            f"链头哈希 / head hash: {v.head}",
            "请记下链头编号与哈希：日后此编号的行哈希不变，才说明此前的记录未被改写。",
            "Note the head's id and hash: later, the row with this id must still carry this hash,"
            " or the log up to it was rewritten.",
        ]
    b = v.broken
    return [
        f"审计日志哈希链断裂：第一条异常记录为 #{b.id}。",
        f"Audit log hash chain BROKEN at row #{b.id}.",
        f"编号 / id: {b.id}",
        f"时间 / time: {_when(b.at)}",
        f"操作 / action: {b.action}",
        f"问题 / problem: {b.zh}",
        f"                {b.en}",
        f"应接哈希 / expected previous hash: {b.expected_prev}",
        f"本行所记 / previous hash stored:   {b.stored_prev or '—'}",
        f"此前 {v.rows:,} 条记录验证无误（至 #{v.head_id if v.head_id is not None else '—'}）。",
        f"The {v.rows:,} rows before it verify (up to #{v.head_id if v.head_id is not None else '—'}).",
    ]
