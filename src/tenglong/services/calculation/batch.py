"""Batch calculations: a JSON request file (the ``tenglong calculate`` contract) or an XLSX of projects.

Both become one contract document and go through ``services.calculation.contract.calculate``
once (batches stay linear in size). The answer is flattened to one row per
entity and requested output, for the screen and the Excel download.

The XLSX takes investment amounts in 万元 and rates as percentages, as its headers
say (``项目投资(万元)``, ``…增长率(%)``; ``(元)`` and a bare rate header, 0.12, are
read too); each cell is converted exactly to the contract's 元 and ratios here.
Plausible ranges and the relations between inputs are the contract's
(``core/situation.py``), so a sheet is refused for the same reasons, with the
row and column of each problem.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...adapters.tabular import calculation_sheets as sheets
from ...adapters.tabular.reader import ReadError
from ...core import loader
from ...core.errors import InvalidInput, Problem
from ...core.variables import ENTITY_KINDS
from .calculator import WAN_DECIMALS, display
from .contract import calculate, dumps, parse_json

OUTPUTS_2_10 = ("tech_renovation_tier", "tech_renovation_subsidy", "key_project_reward_2513")
OUTPUTS_2_11 = ("vertical_industry_route", "vertical_industry_reward")
STATUS_ZH = {
    "applied": "适用",
    "not_applicable": "不适用",
    "not_in_force": "不在有效期内",
    "insufficient_data": "未提供，不能判断",
}
MAX_BYTES = 20 * 1024 * 1024
UPLOAD = "上传的文件 / uploaded file"
"""How an uploaded sheet is named in messages (its temporary name means nothing to the user)."""


@dataclass
class Batch:
    """The outcome of a batch: the request built, the result rows, or the problems (then no rows)."""

    request: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    entities: int = 0

    @property
    def request_json(self) -> str:
        """The request as JSON text (sent back for the Excel download)."""
        return dumps(self.request, indent=None) if self.request is not None else ""


def _problem(where: str, zh: str, en: str, value: Any = None) -> Problem:
    return Problem("invalid_cell", where, value, "", "", "", zh, en)


def run(doc: Any, lang: str = "zh") -> Batch:
    """Answer a contract document and flatten it; contract problems are returned, not raised."""
    batch = Batch(request=doc)
    try:
        answer = calculate(doc, explain=True, lang=lang)
    except InvalidInput as exc:
        batch.problems = list(exc.problems)
        return batch
    batch.rows = flatten(answer, lang)
    batch.entities = sum(len(answer.get(k) or {}) for k in ENTITY_KINDS if isinstance(answer.get(k), dict))
    return batch


def from_json(data: bytes, lang: str = "zh") -> Batch:
    """A JSON request file (the calculate contract)."""
    if len(data) > MAX_BYTES:
        return Batch(problems=[_problem("file", "文件超过 20 MB。", "The file is larger than 20 MB.")])
    try:
        doc = parse_json(data)
    except InvalidInput as exc:
        return Batch(problems=list(exc.problems))
    return run(doc, lang)


def flatten(answer: dict[str, Any], lang: str = "zh") -> list[dict[str, Any]]:
    """One row per entity and requested output (year-keyed outputs give one row per year)."""
    reg = loader.variables()
    rows: list[dict[str, Any]] = []
    notes = answer.get("explanations", {})
    for kind in ENTITY_KINDS:
        for eid, expl in (notes.get(kind) or {}).items():
            entity = answer[kind][eid]
            for name, e in expl.items():
                var = reg[(kind, name)]
                per_year = {} if "status" in e else e
                for year, ex in per_year.items() if per_year else [(None, e)]:
                    value = entity[name][year] if year else entity[name]
                    rows.append(
                        {
                            "entity": kind,
                            "id": eid,
                            "name": entity.get("name") or "",
                            "clause": ex.get("clause"),
                            "variable": f"{name}[{year}]" if year else name,
                            "label_zh": var.zh,
                            "label_en": var.en,
                            "type": var.type.name,
                            "unit": var.unit,
                            "value": value,
                            "display": display(var, value, lang),
                            "status": ex.get("status"),
                            "status_zh": STATUS_ZH.get(ex.get("status"), ex.get("status")),
                            "because": ex.get("because", []),
                            "because_zh": ex.get("because", []),
                            "assumptions": ex.get("assumptions", []),
                        }
                    )
    return rows


def from_xlsx(data: bytes, suffix: str = ".xlsx", lang: str = "zh") -> Batch:
    """An XLSX (or CSV) of projects, one per row, with the template's headers.

    The file is read like every user's spreadsheet (bounded by the reader's guard, parsed in a limited child
    process); a file the guard refuses — a size limit passed, a zip or cell-extent bomb, a damaged or
    unsupported file — raises its typed error, which the web answers 413 (``SheetTooLarge``) or 422
    (``InvalidInput``), with the problem named.

    Raises:
        SheetTooLarge: a size limit of the ``TENGLONG_SHEET_*`` settings is passed.
        InvalidInput: the file is refused otherwise.
    """
    if len(data) > MAX_BYTES:
        return Batch(problems=[_problem("file", "文件超过 20 MB。", "The file is larger than 20 MB.")])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"batch{suffix if suffix.lower() in ('.xlsx', '.xlsm', '.xls', '.ods', '.csv') else '.xlsx'}"
        path.write_bytes(data)
        try:
            rows, header_problems = sheets.read_projects(path, label=UPLOAD)
        except ReadError as exc:
            d = exc.detail
            return Batch(
                problems=[
                    _problem(
                        "file",
                        f"无法读取文件：{d.get('reason_zh', exc.code)}",
                        f"Cannot read the file: {d.get('reason_en', exc.code)}",
                    )
                ]
            )
    problems = [_problem(f"第{r}行 {h}", zh, en) for r, h, zh, en in header_problems]
    if problems:
        return Batch(problems=problems)
    doc, where_to_cell, problems = request_from_rows(rows)
    if problems:
        return Batch(request=doc, problems=problems)
    batch = run(doc, lang)
    batch.problems = [_locate(p, where_to_cell) for p in batch.problems]
    return batch


def _locate(p: Problem, where_to_cell: dict[str, str]) -> Problem:
    """A contract problem with its ``where`` turned into the sheet's row and column."""
    key = ".".join(p.where.split(".")[:3]).split("[")[0]
    place = where_to_cell.get(key) or where_to_cell.get(".".join(p.where.split(".")[:2]))
    return (
        Problem(p.code, place or p.where, p.value, p.expected_zh, p.expected_en, p.example, p.message_zh, p.message_en)
        if place
        else p
    )


def _cell_value(col: sheets.BatchColumn, cell: sheets.Cell) -> tuple[Any, Problem | None]:
    where = f"第{cell.row}行 {cell.header or col.header}"
    base = col.var.type.base if col.var else "text"
    if base == "bool":
        v = sheets.BOOLS.get(cell.text.strip().lower())
        return v, None if v is not None else _problem(
            where,
            f"{where}：“{cell.text}”应为“是”或“否”。",
            f"{where}: “{cell.text}” must be 是/否 (yes/no).",
            cell.text,
        )
    if base in ("decimal", "int"):
        v = sheets.number(cell.text)
        if v is None:
            return None, _problem(
                where, f"{where}：“{cell.text}”不是数字。", f"{where}: “{cell.text}” is not a number.", cell.text
            )
        return _in_contract_units(v, cell, where)
    if base == "date":
        return sheets.parse_date(cell.text), None
    return cell.text, None


def _in_contract_units(v: Any, cell: sheets.Cell, where: str) -> tuple[Any, Problem | None]:
    """A number of a cell in its column's unit as the contract's: 万元 × 10,000 (at most 6 decimals, to the 分), a
    percentage ÷ 100 (``12%`` is read as written).
    """
    if cell.unit == sheets.WAN:
        exponent = v.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > WAN_DECIMALS:
            return None, _problem(
                where,
                f"{where}：“{cell.text}”按万元填报最多 {WAN_DECIMALS} 位小数（精确到分）。",
                f"{where}: “{cell.text}” in 10k yuan takes at most {WAN_DECIMALS} decimals (to the fen).",
                cell.text,
            )
        return v * 10000, None
    if cell.unit == sheets.PERCENT and not cell.text.rstrip().endswith(("%", "％")):
        return v / 100, None
    return v, None


def request_from_rows(rows: list[dict[str, sheets.Cell]]) -> tuple[dict[str, Any], dict[str, str], list[Problem]]:
    """The contract document of the sheet's rows, the sheet place of each ``where``, and cell problems."""
    cols = {c.key: c for c in sheets.columns()}
    projects: dict[str, dict[str, Any]] = {}
    ents: dict[str, dict[str, Any]] = {}
    places: dict[str, str] = {}
    problems: list[Problem] = []
    first_day = None
    for row in rows:
        r = row["_row"].row
        pid = row["id"].text if "id" in row else f"R{r}"
        eid = row["enterprise"].text if "enterprise" in row else f"E{r}"
        if pid in projects:
            problems.append(
                _problem(
                    f"第{r}行 {cols['id'].header}", f"项目编号 {pid} 重复。", f"Project id {pid} appears twice.", pid
                )
            )
            continue
        project: dict[str, Any] = {"enterprise": eid}
        ent = ents.setdefault(eid, {})
        for key, cell in row.items():
            col = cols.get(key)
            if col is None or col.scope == "id":
                continue
            value, problem = _cell_value(col, cell)
            if problem:
                problems.append(problem)
                continue
            where = f"第{r}行 {cell.header or col.header}"
            if col.scope == "enterprise":
                if key in ent and ent[key] != value:
                    problems.append(
                        _problem(
                            where,
                            f"{where}：同一企业 {eid} 的“{col.zh}”与前面的行不一致。",
                            f"{where}: “{col.zh}” of enterprise {eid} differs from an earlier row.",
                            cell.text,
                        )
                    )
                ent[key] = value
                places.setdefault(f"enterprises.{eid}.{key}", where)
            else:
                project[key] = value
                places[f"projects.{pid}.{key}"] = where
        places[f"projects.{pid}"] = f"第{r}行"
        places.setdefault(f"enterprises.{eid}", f"第{r}行")
        for key in (
            "total_investment",
            "equipment_investment",
            "mujun_class",
            "local_contribution_growth",
            "industrial_equipment_investment",
            "land_area",
            "plot_ratio_before",
            "plot_ratio_after",
            "renovated_floor_area",
            "total_floor_area_after",
            "self_owned_and_used",
        ):
            places.setdefault(f"projects.{pid}.{key}", f"第{r}行 {cols[key].header}")
            places.setdefault(f"enterprises.{eid}.{key}", f"第{r}行 {cols[key].header}")
        wants = [
            *(OUTPUTS_2_10 if {"total_investment", "equipment_investment"} & project.keys() else ()),
            *(OUTPUTS_2_11 if "zero_land_renovation" in project else ()),
        ]
        if not wants:
            problems.append(
                _problem(
                    f"第{r}行",
                    f"第{r}行：请填写第（十）项（项目投资、设备投资额）或第（十一）项（“零增地”技改）的输入。",
                    f"Row {r}: fill in the 2.10 inputs (investment) or the 2.11 inputs (zero-new-land renovation).",
                    None,
                )
            )
        project.update({w: None for w in wants})
        projects[pid] = project
        first_day = first_day or project.get("application_date")
    day = first_day if isinstance(first_day, str) and len(first_day) == 10 else "2023-01-01"
    doc = {"as_of": day, "period": day[:4], "enterprises": ents, "projects": projects}
    return doc, places, problems


def export_xlsx(request_json: str) -> bytes:
    """The results workbook of a request (computed again, in Chinese, from the request sent back).

    Raises:
        InvalidInput: when the request has problems.
    """
    answer = calculate(parse_json(request_json), explain=True, lang="zh")
    return sheets.write_results(flatten(answer), None)


def template_xlsx() -> bytes:
    """The empty batch template."""
    return sheets.write_template(None)
