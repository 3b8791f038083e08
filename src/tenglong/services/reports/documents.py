"""The reports as files: the monthly bulletin (月通报), the quarterly contest (季擂台) and the annual awards (年评优) as
PDF (``adapters/reports``: WeasyPrint, CJK fonts, SVG charts, 第 N 页 / 共 M 页) and as a workbook
(``adapters/tabular/xlsx``: the same tables, native charts, frozen headers, number formats). The web page and
``tenglong report`` call :func:`monthly_file` and :func:`contest_file`; both get the same bytes for the same data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...adapters.reports.charts import bar_chart, ranking_chart
from ...adapters.reports.pdf import render_html, write_pdf
from ...adapters.tabular.xlsx import Book, Column, ColumnChart
from ...core.errors import InvalidInput, Problem
from ...locale import t
from ...registers.roles import Actor
from ..kernel.uow import UnitOfWork
from .bulletin import Bulletin, monthly
from .contest import Contest, quarterly
from .contest import annual as annual_

__all__ = [
    "FORMATS",
    "Document",
    "contest_file",
    "contest_pdf",
    "contest_xlsx",
    "monthly_file",
    "monthly_pdf",
    "monthly_xlsx",
]

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


def _check_format(fmt: Any) -> None:
    """Refuse a format other than ``pdf`` and ``xlsx`` (every report file, the same message).

    Raises:
        InvalidInput: an unknown format.
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
    _check_format(fmt)
    b = monthly(uow, actor, month, town, issued)
    content = monthly_pdf(b, lang) if fmt == "pdf" else monthly_xlsx(b, lang)
    place = b.town_zh if lang == "zh" else b.town_en.replace(" ", "-")
    return Document(f"{t('reports.monthly.file', lang)}-{place}-{b.month}.{fmt}", content, FORMATS[fmt])


# 季擂台 and 年评优 -------------------------------------------------------------------------------------------------


def _name(row: dict[str, Any], lang: str) -> str:
    return row["zh"] if lang == "zh" else row["en"]


def _shown(text: str, lang: str) -> str:
    """A cell's text in ``lang``: the service writes ``28.57%（2/7）``; English takes half-width brackets."""
    return text if lang == "zh" else text.replace("（", " (").replace("）", ")")


def _points(x: Decimal | None) -> str:
    return "—" if x is None else str(x)


def contest_heads(c: Contest, lang: str = "zh") -> dict[str, str]:
    """The 文头 lines of a contest report: office, number, title, period, issued (the PDF's and the cover sheet's)."""
    year = c.first.year
    quarter = (c.first.month + 2) // 3
    if c.annual:
        title = t("reports.contest.annual.title", lang, year=year)
        number = c.number if lang == "zh" else str(year)
    else:
        shown = t("reports.contest.quarter", lang, year=year, q=quarter)
        title = t("reports.contest.quarterly.title", lang, quarter=shown)
        number = c.number if lang == "zh" else f"{year}-{quarter}"
    return {
        "office": t("reports.office", lang),
        "number": t("reports.monthly.number", lang, number=number),
        "title": title,
        "period": t("reports.period", lang, first=c.first, last=c.last),
        "issued": t("reports.issued", lang, day=c.issued),
    }


def contest_rows(c: Contest, lang: str = "zh") -> list[dict[str, Any]]:
    """The ranking as shown: per unit its rank, mark (并列 / 未排名), name, each indicator's text and score, and the
    composite, in the order of ``c.standings`` (ranked first, the unranked last)."""
    out = []
    for s in c.standings:
        shared = s["shared_zh"] if lang == "zh" else s["shared_en"]
        mark = (
            t("reports.contest.unranked", lang)
            if s["rank"] is None
            else t("reports.contest.tied", lang)
            if shared
            else ""
        )
        cells = {
            k: {**cell, "text": _shown(cell["shown"], lang), "points": _points(cell["score"])}
            for k, cell in s["cells"].items()
        }
        out.append({**s, "name": _name(s, lang), "mark": mark, "shown_cells": cells, "total": _points(s["composite"])})
    return out


def contest_notes(c: Contest, lang: str = "zh") -> list[str]:
    """One sentence per rank shared (并列) and per tie broken by an indicator's score, in rank order."""
    names = {i["key"]: i["zh"] if lang == "zh" else i["en"] for i in c.indicators}
    sep = "、" if lang == "zh" else ", "
    out = []
    for i, s in enumerate(c.standings):
        if s["rank"] is None or (i and c.standings[i - 1]["rank"] == s["rank"]):
            continue  # the first of a group speaks for it
        above = c.standings[i - 1] if i else None
        if s["decided_by"] and above is not None:
            out.append(
                t(
                    "reports.contest.tie_note",
                    lang,
                    above=_name(above, lang),
                    unit=_name(s, lang),
                    score=_points(s["composite"]),
                    indicator=names.get(s["decided_by"], s["decided_by"]),
                )
            )
        shared = s["shared_zh"] if lang == "zh" else s["shared_en"]
        if shared:
            out.append(t("reports.contest.shared_note", lang, units=_name(s, lang) + sep + shared, rank=s["rank"]))
    return out


def contest_parameters(c: Contest, lang: str = "zh") -> list[dict[str, Any]]:
    """The parameters as shown in ``lang``: name, value (as ``contest._parameters`` words it), note."""
    out = []
    for p in c.parameters:
        out.append(
            {
                **p,
                "name": p["zh"] if lang == "zh" else p["en"],
                "shown": p["value_zh"] if lang == "zh" else p["value_en"],
                "note": p["note_zh"] if lang == "zh" else p["note_en"],
            }
        )
    return out


def _tie_rule(c: Contest, lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    order = sep.join(i["zh"] if lang == "zh" else i["en"] for i in c.indicators)
    return t("reports.contest.tie_rule", lang, decimals=c.method.decimals, order=order)


def _candidate_groups(c: Contest, lang: str) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in c.candidates:
        title = (r["category_zh"] if lang == "zh" else r["category_en"]) or r["category"] or "—"
        groups.setdefault(title, []).append(r)
    return list(groups.items())


def _contest_chart(c: Contest, lang: str) -> str:
    ranked = [s for s in c.standings if s["composite"] is not None]
    if not ranked:
        return ""
    return ranking_chart(
        [_name(s, lang) for s in ranked], [float(s["composite"]) for s in ranked], t("reports.contest.points", lang)
    )


def contest_pdf(c: Contest, lang: str = "zh") -> bytes:
    """The 季擂台 (or 年评优) as a PDF: 文头, the method and its parameters, the ranking with its chart and the ties
    explained, and for a year the candidate lists."""
    return write_pdf(
        render_html(
            "contest.html",
            lang,
            c=c,
            heads=contest_heads(c, lang),
            rows=contest_rows(c, lang),
            notes=contest_notes(c, lang),
            tie_rule=_tie_rule(c, lang),
            parameters=contest_parameters(c, lang),
            groups=_candidate_groups(c, lang),
            chart=_contest_chart(c, lang),
        )
    )


def _number(value: Any, unit: str) -> Any:
    """An indicator's value as a number cell: a share as a fraction (shown 0.00%), a count as an integer."""
    if value is None:
        return None
    return float(value) if unit == "%" else int(value)


def contest_xlsx(c: Contest, lang: str = "zh") -> bytes:
    """The 季擂台 (or 年评优) as a workbook: cover, method (indicators and parameters), ranking (numbers in their
    formats, a native chart of the composites, frozen header) and for a year the candidates."""
    heads = contest_heads(c, lang)
    book = Book()
    cover = book.sheet(t("reports.sheet.cover", lang))
    cover.widths([60])
    for i, key in enumerate(("office", "number", "title", "period", "issued")):
        cover.text(i, 0, heads[key], book.style("title" if key == "title" else "text"))
    _method_sheet(book, c, lang)
    _ranking_sheet(book, c, lang)
    if c.annual:
        book.list_sheet(
            t("reports.contest.sheet.candidates", lang),
            [
                Column("list", t("reports.contest.list", lang), 22, "wrap"),
                Column("enterprise", t("reports.enterprise", lang), 32, "wrap"),
                Column("credit_code", t("reports.contest.credit_code", lang), 22, "code"),
                Column("town", t("reports.town", lang), 14),
                Column("state", t("reports.contest.state", lang), 12),
                Column("why", t("reports.contest.why", lang), 50, "wrap"),
            ],
            [
                {
                    **r,
                    "list": title,
                    "town": r["town_zh"] if lang == "zh" else r["town_en"],
                    "state": r["status_zh"] if lang == "zh" else r["status_en"],
                    "why": r["why_zh"] if lang == "zh" else r["why_en"],
                }
                for title, rows in _candidate_groups(c, lang)
                for r in rows
            ],
        )
    out = book.close()
    if not isinstance(out, bytes):  # pragma: no cover - a Book without a target returns bytes
        raise TypeError("the workbook was not written to bytes")
    return out


def _method_sheet(book: Book, c: Contest, lang: str) -> None:
    ws = book.sheet(t("reports.contest.sheet.method", lang))
    ws.widths([30, 12, 70, 14, 10, 12, 60])
    ws.text(0, 0, t("reports.contest.section.method", lang), book.style("section"))
    top = ws.table(
        1,
        [t("reports.contest.indicator", lang), t("reports.contest.weight", lang), t("reports.contest.how", lang)],
        [
            (i["zh"] if lang == "zh" else i["en"], i["weight_pct"], i["how_zh"] if lang == "zh" else i["how_en"])
            for i in c.indicators
        ],
    )
    ws.text(top + 1, 0, t("reports.contest.scale_rule", lang), book.style("wrap"))
    ws.text(top + 2, 0, _tie_rule(c, lang), book.style("wrap"))
    ws.text(top + 4, 0, t("reports.contest.parameters", lang), book.style("section"))
    end = ws.table(
        top + 5,
        [
            t("reports.contest.parameter", lang),
            t("reports.contest.value", lang),
            t("reports.contest.path", lang),
            t("reports.clause", lang),
            t("reports.contest.assumption", lang),
            t("reports.contest.note", lang),
        ],
        [
            (
                p["name"],
                p["shown"],
                p["path"],
                p["clause"] or "",
                t("reports.contest.assumption", lang) if p["assumption"] else "",
                p["note"],
            )
            for p in contest_parameters(c, lang)
        ],
    )
    ws.text(end + 1, 0, t("reports.contest.assumption_note", lang), book.style("wrap"))


def _ranking_sheet(book: Book, c: Contest, lang: str) -> None:
    rows = contest_rows(c, lang)
    columns = [
        Column("rank", t("reports.contest.rank", lang), 7, "int"),
        Column("mark", t("reports.contest.mark", lang), 9),
        Column("name", t("reports.contest.unit", lang), 30, "wrap"),
    ]
    for i in c.indicators:
        name = i["zh"] if lang == "zh" else i["en"]
        columns.append(Column(f"v_{i['key']}", name, 14, "pct" if i["unit"] == "%" else "count"))
        columns.append(Column(f"s_{i['key']}", f"{name} {t('reports.contest.score', lang)}", 12, "price"))
    columns.append(Column("composite", t("reports.contest.composite", lang), 12, "price"))
    data = [
        {
            "rank": r["rank"],
            "mark": r["mark"],
            "name": r["name"],
            "composite": r["composite"],
            **{f"v_{i['key']}": _number(r["cells"][i["key"]]["value"], i["unit"]) for i in c.indicators},
            **{f"s_{i['key']}": r["cells"][i["key"]]["score"] for i in c.indicators},
        }
        for r in rows
    ]
    ws, n = book.list_sheet(t("reports.contest.sheet.ranking", lang), columns, data, autofilter=False)
    notes = contest_notes(c, lang)
    for j, note in enumerate(notes):
        ws.text(n + 1 + j, 0, note, book.style("text"))
    ranked = [r for r in rows if r["composite"] is not None]
    if not ranked:
        return
    # The chart's table, below the list: the units across, one row of composites.
    top = n + len(notes) + 2
    ws.write(top, 0, t("reports.contest.unit", lang), book.style("header"))
    ws.write(top + 1, 0, t("reports.contest.composite", lang))
    for j, r in enumerate(ranked, start=1):
        ws.write(top, j, r["name"], book.style("header"))
        ws.write(top + 1, j, r["composite"], book.style("price"))
    chart = ColumnChart(
        title=t("reports.contest.chart", lang),
        x_title=t("reports.contest.unit", lang),
        y_title=t("reports.contest.points", lang),
        header_row=top,
        series_rows=[top + 1],
        first_col=1,
        last_col=len(ranked),
    )
    ws.column_chart(top + 3, 0, chart, scale=(2.2, 1.4))


def contest_file(
    uow: UnitOfWork,
    actor: Actor | None,
    period: Any,
    annual: bool = False,
    fmt: str = "pdf",
    lang: str = "zh",
    issued: dt.date | None = None,
) -> Document:
    """The 季擂台 of a quarter (``2023Q2``) or the 年评优 of a year (``2023``, ``annual=True``) as a ``pdf`` or
    ``xlsx`` file, named ``季擂台-2023Q2.pdf`` / ``年评优-2023.xlsx``.

    Raises:
        InvalidInput: an unknown format or a bad quarter (year). Forbidden: as ``contest.quarterly``.
    """
    _check_format(fmt)
    c = annual_(uow, actor, period, issued) if annual else quarterly(uow, actor, period, issued)
    content = contest_pdf(c, lang) if fmt == "pdf" else contest_xlsx(c, lang)
    kind = "annual" if annual else "quarterly"
    return Document(f"{t(f'reports.contest.file.{kind}', lang)}-{c.period}.{fmt}", content, FORMATS[fmt])
