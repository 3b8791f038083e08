"""政策模拟 (/simulate): the what-if page of issue 12 for the officials (``simulate``: the bureau, the departments, the
towns, the auditors; an enterprise gets 403 — the comparison names other firms).

The page lists the parameters a reform may change (``services/simulation.parameter_tree``) as inputs — rates typed as
percentages, money in 万元 — and ``static/simulate.js`` posts the reform to ``POST /api/v1/simulations`` as the
official types (debounced), draws the migration heatmaps, the budget by clause and by town, the firms that win or
lose, the changes and the A.2 targets; sweeps one parameter (``POST /api/v1/simulations/sweep``) and saves the
reform (``POST /api/v1/reforms``, ``save_reforms`` only). ``?reform=ID`` loads a saved reform; the exports
(``POST /simulate/export.xlsx`` and ``.pdf``) recompute the reform posted as JSON text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...adapters.reports.pdf import render_html, write_pdf
from ...core.errors import InvalidInput, Problem
from ...registers.roles import Actor
from ...services.kernel.scope import require
from ...services.simulation import platform as simulation
from ...services.simulation import scale_of, typed
from ...services.simulation.workbook import simulation_xlsx
from .. import figures
from ..app import render
from ..i18n import t
from ..limits import year_param
from ..security import ActorDep, FormDep, PlatformDep, language

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATED = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WIDE_TABLE = 8
"""A table parameter with more entries than this is folded (<details>): the industry groups have dozens."""
TOP_FIRMS = 50
QUOTAS = ("mujun.quotas_above_scale", "mujun.quotas_below_scale")
JS_TEXTS = (
    *("computing", "baseline", "reform", "wan", "firms_unit", "axis_baseline_class", "axis_reform_class"),
    *("clause_210", "clause_211", "clause_total", "failed", "took", "updated", "shown_of", "no_firms"),
    *("no_changes", "met", "unmet", "points_max", "sweep_bad", "assumption", "ratio", "example"),
    *("why", "why_title", "why_loading", "why_class", "why_total", "why_reached", "why_none", "why_project"),
    *("why_how_classed", "why_not_in_data", "why_assumptions", "upload_busy", "upload_done"),
)
"""The texts simulate.js writes (``sim.<key>``), handed over in the page's setup block."""


def _entry_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    try:
        Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "text"
    return "number"


def _at_year(value: Any, year: int) -> Any:
    """A change as ``{date: value}`` read on the year's last day (the latest date not after it); else itself."""
    if isinstance(value, dict) and value and all(DATED.match(str(k)) for k in value):
        day = f"{year}-12-31"
        dates = sorted(k for k in value if str(k) <= day) or sorted(value)[:1]
        return value[dates[-1]]
    return value


def fields(tree: list[dict[str, Any]], changes: dict[str, Any], year: int) -> list[dict[str, Any]]:
    """The namespaces and their parameters as the page's inputs: the current value (``base``, as typed) and what the
    input holds (``shown``: the loaded reform's value where it changes the parameter)."""
    out = []
    for ns in tree:
        params = []
        for p in ns["parameters"]:
            scale = scale_of(p["unit"])
            mine = _at_year(changes[p["path"]], year) if p["path"] in changes else p["value"]
            row = {**p, "scale": scale, "changed": p["path"] in changes}
            if p["kind"] == "table":
                base = p["value"] if isinstance(p["value"], dict) else {}
                now = mine if isinstance(mine, dict) else base
                row["entries"] = [
                    {
                        "key": str(k),
                        "kind": _entry_kind(v),
                        "base": v if isinstance(v, bool) else typed(v, scale),
                        "shown": now.get(k, v) if isinstance(v, bool) else typed(now.get(k, v), scale),
                    }
                    for k, v in base.items()
                ]
                row["folded"] = len(base) > WIDE_TABLE
            elif p["kind"] == "bool":
                row["base"], row["shown"] = bool(p["value"]), bool(mine)
            elif p["kind"] == "choice":
                row["base"], row["shown"] = str(p["value"] or ""), str(mine or "")
            else:
                row["base"], row["shown"] = typed(p["value"], scale), typed(mine, scale)
            params.append(row)
        out.append({"namespace": ns["namespace"], "parameters": params})
    return out


def _years(p) -> list[int]:
    with p.uow.read() as conn:
        return simulation.years(conn)


def _no_year(held: list[int], raw: Any) -> InvalidInput:
    have = ", ".join(str(y) for y in held) or "-"
    return InvalidInput(
        [
            Problem(
                "invalid_year",
                "year",
                str(raw)[:20],
                t("sim.year", "zh") + ": " + have,
                t("sim.year", "en") + ": " + have,
                str(held[-1]) if held else "2023",
                t("sim.no_year", "zh") if not held else t("sim.year", "zh") + ": " + have,
                t("sim.no_year", "en") if not held else t("sim.year", "en") + ": " + have,
            )
        ]
    )


@router.get("/simulate")
def simulate_page(
    request: Request, actor: ActorDep, p: PlatformDep, year: str | None = None, reform: str | None = None
) -> Response:
    """The parameters to change, the results as they update, the sweep, saving and the exports."""
    require(actor, "simulate")
    lang = language(request)
    held = _years(p)
    y = year_param(year) or (held[-1] if held else None)
    if y not in held:
        raise _no_year(held, year)
    loaded = simulation.get_reform(p.uow, actor, reform) if reform not in (None, "") else None
    changes = dict((loaded or {}).get("changes") or {})
    tree = simulation.parameter_tree(y)
    known = {q["path"] for ns in tree for q in ns["parameters"]}
    extra = {k: v for k, v in changes.items() if k not in known}  # kept as they are (the page has no input for them)
    setup = {
        "year": y,
        "extra": extra,
        "of": loaded["id"] if loaded else None,
        "quotas": list(QUOTAS),
        "lang": lang,
        "text": {k: t(f"sim.{k}", lang) for k in JS_TEXTS},
    }
    return render(
        request,
        "simulate/index.html",
        years=held,
        year=y,
        tree=fields(tree, changes, y),
        loaded=loaded,
        can_save=actor.can("save_reforms"),
        setup=setup,
    )


def _posted_reform(posted: Any) -> tuple[Any, Any]:
    """The year and the reform (JSON text) of an export form; a reform that is not a JSON object is a 422."""
    raw = str(posted.get("reform") or "").strip() or "{}"
    try:
        reform = json.loads(raw)
    except ValueError:
        reform = None
    if not isinstance(reform, dict):
        raise InvalidInput(
            [
                Problem(
                    "invalid_field",
                    "reform",
                    raw[:40],
                    t("sim.bad_json_expected", "zh"),
                    t("sim.bad_json_expected", "en"),
                    '{"title": "A 30%", "changes": {"mujun.quotas_above_scale": {"A": 0.3, "B": 0.5}}}',
                    t("sim.bad_json", "zh"),
                    t("sim.bad_json", "en"),
                )
            ]
        )
    return posted.get("year"), reform


def _computed(p, actor: Actor, posted: Any) -> dict[str, Any]:
    year, reform = _posted_reform(posted)
    # the stored year (a town's firms only, as the service scopes it), or the county the actor uploaded
    return simulation.simulate(p.uow, actor, year, reform, str(posted.get("snapshot") or "") or None)


def _download(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
    )


def _filename(doc: dict[str, Any], ext: str) -> str:
    title = str((doc.get("reform") or {}).get("title") or "").strip()
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", title)[:60] or "reform"
    return f"simulation-{doc.get('year')}-{safe}.{ext}"


@router.get("/simulate/template.xlsx")
def data_template(request: Request, actor: ActorDep) -> Response:
    """The enterprise-data template (the import's format) for a county to upload and simulate on."""
    lang = language(request)
    name = "企业数据模板.xlsx" if lang == "zh" else "enterprise-data-template.xlsx"
    return _download(simulation.data_template(actor, lang), XLSX, name)


@router.post("/simulate/export.xlsx")
def export_xlsx(actor: ActorDep, p: PlatformDep, posted: FormDep) -> Response:
    """The simulation of the posted reform as an Excel workbook (the changes, migrations, support in 万元, firms)."""
    require(actor, "simulate")
    doc = _computed(p, actor, posted)
    return _download(simulation_xlsx(doc, doc["changes"]), XLSX, _filename(doc, "xlsx"))


def _wan_rows(block: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    return [{"name": k, **v} for k, v in block.items()]


def report_html(doc: dict[str, Any], lang: str) -> str:
    """The simulation report (PDF) as HTML: heading, changes, classes and migrations, support by clause and town, the
    50 firms whose support changes most, the A.2 targets."""
    firms = sorted(doc.get("firms", []), key=lambda f: (-abs(Decimal(f["change"])), f["credit_code"]))[:TOP_FIRMS]
    return render_html(
        "simulation.html",
        lang,
        doc=doc,
        firms=firms,
        clauses=[("2.10", "sim.clause_210"), ("2.11", "sim.clause_211"), ("total", "sim.clause_total")],
        towns=_wan_rows(doc.get("by_town", {})),
        made=figures.when(dt.datetime.now(dt.UTC)),
        pct=lambda text: f"{typed(text, 'pct')}%",
    )


@router.post("/simulate/export.pdf")
def export_pdf(request: Request, actor: ActorDep, p: PlatformDep, posted: FormDep) -> Response:
    """The simulation of the posted reform as a PDF report (文头, tables in 万元, page numbers)."""
    require(actor, "simulate")
    doc = _computed(p, actor, posted)
    return _download(write_pdf(report_html(doc, language(request))), "application/pdf", _filename(doc, "pdf"))
