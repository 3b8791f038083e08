"""What-if through the API (issue 12): the parameters a reform may change, a reform compared with the baseline over
a stored data year, a sweep of one parameter, and saved reforms (versioned, audited, shared by link).

A reform is ``{"title", "description", "changes": {parameter path: value | {date: value}}}`` — the ``--method``
format; every problem is listed at once (422) and nothing runs. Money is 元 as text with two decimals; towns and
industries by name. Who: ``simulate`` (the bureau, the departments, the towns, the auditors) runs and reads;
``save_reforms`` (the bureau, the departments) saves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...registers.roles import Actor
from ...services.simulation import platform as simulation
from ..limits import IdPath, year_param
from ..security import BodyDep, PlatformDep, client_address, posted_file, require
from .registers import _body
from .subsidies import _doc, _json

router = APIRouter(prefix="/api/v1", tags=["simulation"])
Simulating = Annotated[Actor, require("simulate")]
"""Who runs and reads simulations (403 for the rest, documented on each route)."""
Saving = Annotated[Actor, require("save_reforms")]
QUOTAS = {"A": 0.25, "B": 0.55, "C": 0.15, "D": 0.05}


@router.get("/simulation/parameters")
def parameters(actor: Simulating, p: PlatformDep, year: str | None = None) -> Response:
    """The parameters a reform may change, by namespace: path, names, kind, unit, boundary word, choices, clause and
    its heading, the policy's words, whether it is an assumption, and its value on the year's last day; with the
    data years the platform holds."""
    with p.uow.read() as conn:
        held = simulation.years(conn)
    y = year_param(year) or (held[-1] if held else None)
    return _json({"years": held, "year": y, "tree": simulation.parameter_tree(y)})


SIMULATION_FILES = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["data", "year"],
                    "properties": {
                        "data": {
                            "type": "string",
                            "format": "binary",
                            "description": "enterprise-years, .xlsx or .csv",
                        },
                        "projects": {"type": "string", "format": "binary", "description": "a situation (JSON)"},
                        "year": {"type": "integer", "example": 2023},
                    },
                }
            }
        },
    }
}
"""The OpenAPI body of an uploaded county: the enterprise-year file, an optional situation of projects, the year."""


@router.post("/simulations/files", status_code=201, openapi_extra=SIMULATION_FILES)
async def upload_county(request: Request, actor: Simulating, p: PlatformDep) -> Response:
    """Upload a county to simulate on instead of a stored year: ``data`` (enterprise-years in the import format,
    .xlsx or .csv), optional ``projects`` (a situation, the calculate JSON, enterprises keyed by credit code) and
    ``year``. 201 with a ``snapshot`` token, kept an hour for you: pass it as ``snapshot`` to /simulations and
    /simulations/sweep. 413 past ``TENGLONG_MAX_UPLOAD_MB``; 422 with every problem of the files."""
    form = await request.form(max_files=2, max_fields=5)
    try:
        name, data = posted_file(form, "data")
        projects_name, projects = posted_file(form, "projects")  # a form's empty file field sends no name: none
        result = await run_in_threadpool(
            simulation.load_upload,
            actor,
            name,
            data,
            projects if projects_name else None,
            form.get("year"),
            p.settings.max_upload_mb,
        )
    finally:
        await form.close()
    return _json(result, 201)


@router.post(
    "/simulations",
    openapi_extra=_body(
        {"year": 2023, "reform": {"title": "A 类 25%", "changes": {"mujun.quotas_above_scale": QUOTAS}}}
    ),
)
def simulate(actor: Simulating, p: PlatformDep, raw: BodyDep) -> Response:
    """Compare ``reform`` with the baseline over the stored data ``year``: ``classes`` (counts and the 4×4 migration
    of 规上 and 规下, outer key the baseline class), ``support`` by clause (2.10, 2.11, total), ``by_town``,
    ``by_industry``, ``firms`` (each firm whose class or support changes, both values), ``targets`` (A.2),
    ``surcharges``, the ``changes`` with the values used on both sides and what each reaches, and ``took_ms``. With
    ``snapshot`` (an uploaded county's token) instead of ``year``, over that county."""
    b = _doc(raw, year="amount", reform="object", snapshot="text")
    return _json(simulation.simulate(p.uow, actor, b.get("year"), b.get("reform"), b.get("snapshot")))


@router.post(
    "/simulations/firm",
    openapi_extra=_body(
        {
            "year": 2023,
            "credit_code": "91331082MA2AB3CF7N",
            "reform": {"title": "A 类 25%", "changes": {"mujun.quotas_above_scale": QUOTAS}},
        }
    ),
)
def explain_firm(actor: Simulating, p: PlatformDep, raw: BodyDep, lang: str = "zh") -> Response:
    """Why one firm (``credit_code``) comes out as it does under the baseline and under ``reform``: on each side its
    class with how the evaluation reached it, and each of its projects' amounts by clause with the rule's explanation
    — the values that side actually used; the ``change`` in its support and the reform's ``changes`` that reach it.
    A town official asks about the firms of the town only (404 for the others). ``lang=en`` for English."""
    b = _doc(raw, year="amount", reform="object", credit_code="text", snapshot="text")
    return _json(
        simulation.explain(
            p.uow, actor, b.get("year"), b.get("reform"), b.get("credit_code"), "en" if lang == "en" else "zh",
            b.get("snapshot"),
        )
    )  # fmt: skip


@router.post(
    "/simulations/sweep",
    openapi_extra=_body({"year": 2023, "path": "tech_renovation.major_rate", "values": [0.08, 0.10, 0.12]}),
)
def sweep(actor: Simulating, p: PlatformDep, raw: BodyDep) -> Response:
    """Vary one parameter (``path``) over ``values`` (1 to 101), on top of an optional ``reform``'s other changes:
    per point the support by clause, the class counts and the A.2 county figures."""
    b = _doc(raw, year="amount", path="text", reform="object", snapshot="text")
    return _json(
        simulation.sweep(
            p.uow, actor, b.get("year"), b.get("path"), b.get("values"), b.get("reform"), b.get("snapshot")
        )
    )


@router.get("/reforms")
def list_reforms(actor: Simulating, p: PlatformDep) -> Response:
    """Every saved reform version, newest first, each with its link."""
    return _json({"reforms": simulation.list_reforms(p.uow, actor)})


@router.post(
    "/reforms",
    status_code=201,
    openapi_extra=_body({"reform": {"title": "技改补助提高到12%", "changes": {"tech_renovation.major_rate": 0.12}}}),
)
def save_reform(request: Request, actor: Saving, p: PlatformDep, raw: BodyDep) -> Response:
    """Save ``reform`` (title, description, changes) — with ``of`` (a saved reform's id) as the next version of its
    lineage; audited. 201 with its id, lineage, version and link (``/simulate?reform=ID``)."""
    b = _doc(raw, reform="object", of="amount")
    saved = simulation.save_reform(p.uow, actor, b.get("reform"), b.get("of"), client_address(request))
    return _json(saved, 201)


@router.get("/reforms/{reform_id}")
def get_reform(reform_id: IdPath, actor: Simulating, p: PlatformDep) -> Response:
    """One saved reform version."""
    return _json(simulation.get_reform(p.uow, actor, reform_id))
