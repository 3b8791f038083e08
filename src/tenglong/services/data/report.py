"""The validation report of an upload: paged and filtered by code, as an XLSX workbook; and the import template."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ...adapters.db.tables import data_import_problems as problems_t
from ...adapters.tabular.template import write_template
from ...adapters.tabular.writer import ErrorReport, write_error_report
from ...registers.roles import Actor
from ..kernel.platform import Platform
from .uploads import PAGE_SIZE, check_permission, fetch_row


@dataclass(frozen=True)
class ProblemPage:
    """One page of an import's validation report."""

    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    code: str | None
    page_size: int = PAGE_SIZE


def problems(
    p: Platform, actor: Actor, import_id: int, code: str | None = None, page: int = 1, page_size: int = PAGE_SIZE
) -> ProblemPage:
    """A page of the validation report (errors, then warnings, in file order), optionally of one code.

    Raises:
        Forbidden: for a role without the ``import`` permission.
        NotFound: for an unknown id.
    """
    check_permission(actor)
    where = [problems_t.c.import_id == import_id] + ([problems_t.c.code == code] if code else [])
    with p.uow.read() as conn:
        fetch_row(conn, import_id)
        total = int(conn.execute(select(func.count()).select_from(problems_t).where(*where)).scalar_one())
        pages = max(1, math.ceil(total / page_size))
        page = min(max(page, 1), pages)
        rows = conn.execute(
            select(problems_t).where(*where).order_by(problems_t.c.seq).limit(page_size).offset((page - 1) * page_size)
        ).all()
    return ProblemPage([_problem_dict(r) for r in rows], total, page, pages, code or None, page_size)


def _problem_dict(r: Any) -> dict[str, Any]:
    return {
        "level": r.level,
        "code": r.code,
        "where": r.cell,
        "sheet": r.sheet,
        "row": r.row_number,
        "column": r.column_letter,
        "header": r.header,
        "value": r.value,
        "expected_zh": r.expected_zh,
        "expected_en": r.expected_en,
        "example": r.example,
        "message_zh": r.message_zh,
        "message_en": r.message_en,
    }


def report_workbook(p: Platform, actor: Actor, import_id: int) -> bytes:
    """The validation report as an XLSX workbook (every problem, Chinese and English).

    Raises:
        Forbidden: for a role without the ``import`` permission.
        NotFound: for an unknown id.
    """
    check_permission(actor)
    with p.uow.read() as conn:
        row = fetch_row(conn, import_id)
        rows = [
            _problem_dict(r)
            for r in conn.execute(
                select(problems_t).where(problems_t.c.import_id == import_id).order_by(problems_t.c.seq)
            )
        ]
    report = row.report or {}
    source = report.get("source", {})
    stored = ErrorReport(
        rows,
        row.filename,
        source.get("sheet"),
        source.get("language"),
        row.rows_read,
        row.rows_valid,
        sum(1 for r in rows if r["level"] == "error"),
        0,
        dict(report.get("by_code", {})),
    )
    return write_error_report(stored)


def template_workbook(actor: Actor, lang: str = "zh") -> bytes:
    """The import template (``tenglong template``) in Chinese or English.

    Raises:
        Forbidden: for a role without the ``import`` permission.
    """
    check_permission(actor)
    return write_template(None, "en" if lang == "en" else "zh")
