"""The reports as files: the monthly bulletin as PDF (``adapters/reports``: WeasyPrint, CJK fonts, SVG charts,
第 N 页 / 共 M 页) and as a workbook (``adapters/tabular/xlsx``: the same tables, native charts, frozen headers,
number formats). The web page and ``tenglong report`` call :func:`monthly_file`; both get the same bytes for the
same data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...adapters.reports.charts import bar_chart
from ...adapters.reports.pdf import render_html, write_pdf
from ...adapters.tabular.xlsx import Book, Column, ColumnChart
from ...core.errors import InvalidInput, Problem
from ...locale import t
from ...registers.roles import Actor
from ..kernel.uow import UnitOfWork
from .bulletin import Bulletin, monthly

__all__ = ["FORMATS", "Document", "monthly_file", "monthly_pdf", "monthly_xlsx"]

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MEASURES = ("added", "closed", "shut_down", "overdue")


@dataclass(frozen=True)
class Document:
    """A report file: its name, bytes and media type."""

    filename: str
    content: bytes
    media_type: str


def _charts(b: Bulletin, lang: str) -> dict[str, str]:
    kinds = [r for r in b.registers if any(r[m] for m in MEASURES)]
    if not kinds:
        return {}
    series = [(t(f"reports.{m}", lang), [r[m] for r in kinds]) for m in MEASURES]
    return {"registers": bar_chart([r["clause"] for r in kinds], series, t("reports.chart.registers", lang))}


def monthly_pdf(b: Bulletin, lang: str = "zh") -> bytes:
    """The bulletin as a PDF."""
    return write_pdf(render_html("monthly.html", lang, b=b, charts=_charts(b, lang)))


def monthly_xlsx(b: Bulletin, lang: str = "zh") -> bytes:
    """The bulletin as a workbook: one sheet per section, the registers' movements charted natively."""
    title = t("reports.monthly.title", lang, place=b.town_zh if lang == "zh" else b.town_en, month=b.month)
    book = Book()
    cover = book.sheet(t("reports.sheet.cover", lang))
    cover.widths([60])
    for i, line in enumerate(
        (
            t("reports.office", lang),
            t("reports.monthly.number", lang, number=b.number),
            title,
            t("reports.period", lang, first=b.first, last=b.last),
            t("reports.issued", lang, day=b.issued),
        )
    ):
        cover.text(i, 0, line, book.style("title" if i == 2 else "text"))
    _targets_sheet(book, b, lang)
    _registers_sheet(book, b, lang)
    projects = [
        {**r, "what": t(key, lang)}
        for key, rows in (("reports.started", b.started), ("reports.completed", b.completed))
        for r in rows
    ]
    book.list_sheet(
        t("reports.sheet.projects", lang),
        [
            Column("what", t("reports.status", lang), 14),
            Column("project", t("reports.project", lang), 34, "wrap"),
            Column("enterprise", t("reports.enterprise", lang), 30, "wrap"),
            Column("town_zh" if lang == "zh" else "town_en", t("reports.town", lang), 14),
            Column("date", t("reports.date", lang), 12),
            Column("investment_wan", t("reports.investment", lang), 14, "wan", t("reports.unit.wan", lang)),
        ],
        [{**r, "investment_wan": _wan(r["investment"])} for r in projects],
    )
    book.list_sheet(
        t("reports.sheet.late", lang),
        [
            Column("project", t("reports.late", lang), 34, "wrap"),
            Column("enterprise", t("reports.enterprise", lang), 30, "wrap"),
            Column("town_zh" if lang == "zh" else "town_en", t("reports.town", lang), 14),
            Column("approved_on", t("reports.approved_on", lang), 14),
            Column("deadline", t("reports.start_deadline", lang), 14, "date"),
            Column("days_late", t("reports.days_late", lang), 10, "count"),
        ],
        b.late,
    )
    _money_sheet(book, b, lang)
    _classes_sheet(book, b, lang)
    for key, rows in (
        ("reports.sheet.overdue_town", b.overdue_by_town),
        ("reports.sheet.overdue_unit", b.overdue_by_unit),
    ):
        book.list_sheet(
            t(key, lang),
            [
                Column("zh" if lang == "zh" else "en", t(key + ".name", lang), 40, "wrap"),
                Column("count", t("reports.overdue", lang), 12, "count"),
            ],
            rows,
        )
    out = book.close()
    if not isinstance(out, bytes):  # pragma: no cover - a Book without a target returns bytes
        raise TypeError("the workbook was not written to bytes")
    return out


def _wan(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)) / 10_000


def _targets_sheet(book: Book, b: Bulletin, lang: str) -> None:
    book.list_sheet(
        t("reports.sheet.targets", lang),
        [
            Column(f"name_{lang}", t("reports.target", lang), 36, "wrap"),
            Column("clause", t("reports.clause", lang), 9),
            Column(f"target_{lang}", t("reports.target_value", lang), 16),
            Column(f"figure_{lang}", t("reports.figure", lang), 16),
            Column("met_text", t("reports.status", lang), 10),
            Column(f"source_{lang}", t("reports.source", lang), 50, "wrap"),
        ],
        [{**r, "met_text": t(_met_key(r.get("met")), lang)} for r in b.targets],
    )


def _met_key(met: Any) -> str:
    return "reports.met." + ("yes" if met is True else "no" if met is False else "unknown")


def _registers_sheet(book: Book, b: Bulletin, lang: str) -> None:
    ws, n = book.list_sheet(
        t("reports.sheet.registers", lang),
        [
            Column("kind_zh" if lang == "zh" else "kind_en", t("reports.register", lang), 34, "wrap"),
            Column("clause", t("reports.clause", lang), 9),
            *(Column(m, t(f"reports.{m}", lang), 11, "count") for m in MEASURES),
        ],
        b.registers,
        autofilter=False,
    )
    # The chart's table, below the list: one row per measure, one column per register (its clause).
    top = n + 2
    ws.write(top, 0, t("reports.chart.registers", lang), book.style("header"))
    for j, r in enumerate(b.registers, start=1):
        ws.write(top, j, r["clause"], book.style("header"))
    for i, m in enumerate(MEASURES, start=1):
        ws.write(top + i, 0, t(f"reports.{m}", lang))
        for j, r in enumerate(b.registers, start=1):
            ws.write(top + i, j, r[m], book.style("count"))
    chart = ColumnChart(
        title=t("reports.chart.registers", lang),
        x_title=t("reports.clause", lang),
        y_title=t("reports.unit.entries", lang),
        header_row=top,
        series_rows=[top + i for i in range(1, len(MEASURES) + 1)],
        first_col=1,
        last_col=len(b.registers),
    )
    ws.column_chart(top + len(MEASURES) + 2, 0, chart)


def _money_sheet(book: Book, b: Bulletin, lang: str) -> None:
    unit = t("reports.unit.yuan", lang)
    rows = [*b.money, {"clause": t("reports.total", lang), **b.money_total}] if b.money else []
    book.list_sheet(
        t("reports.sheet.money", lang),
        [
            Column("clause", t("reports.clause", lang), 10),
            *(
                Column(k, t(f"reports.ledger.{k}", lang), 18, "money", unit)
                for k in ("granted", "paid", "clawback", "recovered")
            ),
        ],
        rows,
    )


def _classes_sheet(book: Book, b: Bulletin, lang: str) -> None:
    rows = []
    if b.classes:
        for g in ("above_scale", "below_scale"):
            n = b.classes["counts"][g]
            rows.append({"group": t(f"reports.group.{g}", lang), **n, "year": b.classes["year"]})
    book.list_sheet(
        t("reports.sheet.classes", lang),
        [
            Column("year", t("reports.year", lang), 8),
            Column("group", t("reports.group", lang), 12),
            *(Column(c, c, 8, "count") for c in ("A", "B", "C", "D")),
            Column("not_evaluated", t("reports.not_evaluated", lang), 10, "count"),
        ],
        rows,
    )


def monthly_file(
    uow: UnitOfWork,
    actor: Actor | None,
    month: Any,
    town: str | None = None,
    fmt: str = "pdf",
    lang: str = "zh",
    issued: dt.date | None = None,
) -> Document:
    """The monthly bulletin as a ``pdf`` or ``xlsx`` file, named ``月通报-<town>-<YYYY-MM>.<fmt>``.

    Raises:
        InvalidInput: an unknown format, a bad month or an unknown town. Forbidden: as ``bulletin.monthly``.
    """
    if fmt not in FORMATS:
        raise InvalidInput(
            [
                Problem(
                    "invalid_field",
                    "format",
                    str(fmt)[:10],
                    "pdf 或 xlsx",
                    "pdf or xlsx",
                    "pdf",
                    f"格式 {str(fmt)[:10]!r} 无效，应为 pdf 或 xlsx。",
                    f"The format {str(fmt)[:10]!r} is not valid; expected pdf or xlsx.",
                )
            ]
        )
    b = monthly(uow, actor, month, town, issued)
    content = monthly_pdf(b, lang) if fmt == "pdf" else monthly_xlsx(b, lang)
    place = b.town_zh if lang == "zh" else b.town_en.replace(" ", "-")
    return Document(f"{t('reports.monthly.file', lang)}-{place}-{b.month}.{fmt}", content, FORMATS[fmt])
