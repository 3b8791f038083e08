"""The export of the registers (``tenglong registers export``): one JSON document or one workbook, for scheduled
exports and hand-offs.

JSON (the shape of issue 10, one object per register kind, in clause order)::

    {"registers": [{"kind": "high_consumption_low_efficiency", "clause": "A.3.1", "name_zh": "高耗低效企业清单",
      "entries": [{"credit_code": "…", "town": "杜桥镇", "category": "改造提升", "state": "整治中",
                   "overdue": false, "opened": "2023-02-01",
                   "history": [{"move": "制定方案", "at": "2023-02-03T10:00:00+08:00", "by": "town"}]}]}]}

``kind`` is the kind's key; the town, the category, the state and each move are given by their Chinese names
(``category`` is null until decided); ``opened`` is the day the entry was proposed or added; ``overdue`` is judged
on the day of the export (Beijing); ``at`` is Beijing time and ``by`` the account (``system`` for the platform).

XLSX: one sheet per kind, through ``adapters/tabular/xlsx.py``: Chinese headers with their units, town names,
states and categories in words, the entry's fields, why it entered, and its latest move.

Every export is audited (``export.download``, by the platform when the CLI makes it).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from ...adapters.tabular.xlsx import Book, Column
from ...core.errors import InvalidInput, Problem
from ...registers import events
from ...registers.kinds import Kind
from ...registers.roles import Actor
from ..kernel.scope import require
from ..kernel.uow import UnitOfWork
from .common import KINDS, kind_of, today, view
from .views import EntryFilter, history, rows, town_code

__all__ = ["export", "export_document", "export_list", "write_xlsx"]

FORMATS = (".json", ".xlsx")


def _chosen(kind: str | None) -> list[Kind]:
    return [kind_of(kind)] if kind else list(KINDS.values())


def _collect(uow: UnitOfWork, kind: str | None, town: str | None, day: dt.date) -> list[tuple[Kind, list[dict]]]:
    """Each kind chosen with its entries (views with their history), in clause order."""
    code = town_code(town)
    with uow.read() as conn:
        out = []
        for k in _chosen(kind):
            found = [view(r, day) for r in rows(conn, None, EntryFilter(kind=k.key, town=code), day)]
            past = history(conn, k.key, [e["id"] for e in found])
            for e in found:
                e["history"] = past[e["id"]]
            out.append((k, found))
    return out


def export_document(uow: UnitOfWork, kind: str | None = None, town: str | None = None, day: dt.date | None = None):
    """The JSON document of the registers (all kinds, or ``kind``; all towns, or ``town``: a name or a code).

    Raises:
        NotFound: an unknown kind. InvalidInput: an unknown town.
    """
    day = day or today()
    return {
        "registers": [
            {
                "kind": k.key,
                "clause": k.clause,
                "name_zh": k.zh,
                "entries": [
                    {
                        "credit_code": e["credit_code"],
                        "town": e["town_zh"],
                        "category": e["category_zh"] or None,
                        "state": e["state_zh"],
                        "overdue": e["overdue"],
                        "opened": e["opened"].isoformat(),
                        "history": [
                            {"move": h["move_zh"], "at": h["at"].isoformat(timespec="seconds"), "by": h["by"]}
                            for h in e["history"]
                        ],
                    }
                    for e in entries
                ],
            }
            for k, entries in _collect(uow, kind, town, day)
        ]
    }


def _column_kind(base: str, unit: str, scale: int) -> str:
    if base == "decimal":
        return "money" if unit == "元" else "mu" if unit == "亩" or scale == 4 else "indicator"
    return {"int": "count", "date": "date"}.get(base, "wrap")


def _columns(kind: Kind) -> list[Column]:
    cols = [
        Column("credit_code", "统一社会信用代码", 22, "code"),
        Column("enterprise_name", "企业名称", 28, "wrap"),
        *([Column("project_name", "项目名称", 28, "wrap")] if kind.subject == "project" else []),
        Column("town_zh", "镇（街道）", 12),
        Column("category_zh", "类别", 14),
        Column("state_zh", "状态", 16),
        Column("overdue_zh", "是否逾期", 10),
        Column("opened", "列入日期", 12, "date"),
    ]
    if kind.deadline is not None:
        cols.append(Column("deadline", kind.deadline.zh, 12, "date"))
    cols.append(Column("unit_zh", "责任单位", 20, "wrap"))
    for f in kind.fields.values():
        cols.append(Column(f"fields.{f.key}", f.zh, 14, _column_kind(f.type.base, f.unit, f.type.scale), f.unit))
    if kind.marks:
        cols.append(Column("marks_zh", "标记", 18, "wrap"))
    cols += [Column("why_zh", "列入依据", 50, "wrap"), Column("last_zh", "最近办理", 30, "wrap")]
    return cols


def _cell(kind: Kind, key: str, value: Any) -> Any:
    """A field's value as a cell: numbers as numbers, true/false as 是/否."""
    f = kind.fields[key]
    if value is None or value == "":
        return None
    if f.type.base == "bool":
        return "是" if value else "否"
    if f.type.base == "decimal":
        return Decimal(str(value))
    if f.type.base == "date":
        return dt.date.fromisoformat(str(value))
    return value


def _row(kind: Kind, e: dict[str, Any]) -> dict[str, Any]:
    basis, last = e["basis"], (e["history"] or [None])[-1]
    out = {
        **e,
        "overdue_zh": "是" if e["overdue"] else "否",
        "marks_zh": "、".join(m["zh"] for m in e["marks"]),
        "why_zh": basis.get("why_zh") or basis.get("reason") or "",
        "last_zh": f"{last['move_zh']}（{last['at']:%Y-%m-%d %H:%M}，{last['by']}）" if last else "",
    }
    for key, value in e["fields"].items():
        if key in kind.fields:
            out[f"fields.{key}"] = _cell(kind, key, value)
    return out


def write_xlsx(collected: list[tuple[Kind, list[dict]]], target: str | Path) -> Path:
    """One sheet per kind (its Chinese name), one row per entry."""
    with Book(target) as book:
        for kind, entries in collected:
            book.list_sheet(kind.zh, _columns(kind), [_row(kind, e) for e in entries])
    return Path(target)


def _refuse_format(out: str) -> InvalidInput:
    return InvalidInput(
        [
            Problem(
                "unknown_format",
                "out",
                out,
                ".json 或 .xlsx 文件",
                "a .json or .xlsx file",
                "registers.xlsx",
                f"导出文件 {out} 须以 .json 或 .xlsx 结尾。",
                f"The export file {out} must end in .json or .xlsx.",
            )
        ]
    )


def export(
    uow: UnitOfWork, out: str | Path, kind: str | None = None, town: str | None = None, day: dt.date | None = None
) -> dict[str, int]:
    """Write the registers to ``out`` (``.json`` or ``.xlsx``, by its suffix), audited; how many kinds and entries.

    Raises:
        InvalidInput: another suffix, or an unknown town. NotFound: an unknown kind.
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise _refuse_format(str(out))
    day = day or today()
    if suffix == ".json":
        document = export_document(uow, kind, town, day)
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        counts = {"kinds": len(document["registers"]), "entries": sum(len(r["entries"]) for r in document["registers"])}
    else:
        collected = _collect(uow, kind, town, day)
        write_xlsx(collected, path)
        counts = {"kinds": len(collected), "entries": sum(len(e) for _, e in collected)}
    with uow.write(None) as w:
        criteria = {k: v for k, v in (("kind", kind), ("town", town), ("day", day.isoformat())) if v}
        w.record(events.EXPORT, f"registers{suffix}", None, {"rows": counts["entries"], "filter": criteria})
    return counts


def export_list(
    uow: UnitOfWork, actor: Actor, f: EntryFilter, day: dt.date | None = None, address: str | None = None
) -> tuple[bytes, int]:
    """The entries of one kind that ``actor`` sees and that pass ``f`` (the register page's list) as a workbook, in
    the shape of the XLSX export, audited as one ``export.download``; the bytes and the number of rows.

    Raises:
        Forbidden: a role without ``read``. NotFound: an unknown kind. InvalidInput: an unknown town.
    """
    require(actor, "read")
    kind = kind_of(f.kind)
    day = day or today()
    with uow.read() as conn:
        found = [view(r, day) for r in rows(conn, actor, f, day)]
        past = history(conn, kind.key, [e["id"] for e in found])
    for e in found:
        e["history"] = past[e["id"]]
    with Book(None) as book:
        book.list_sheet(kind.zh, _columns(kind), [_row(kind, e) for e in found])
    content = book.close()
    criteria = {k: v for k, v in vars(f).items() if v is not None and v != ""}
    with uow.write(actor, address) as w:
        w.record(events.EXPORT, f"registers/{kind.key}.xlsx", None, {"rows": len(found), "filter": criteria})
    return bytes(content), len(found)
