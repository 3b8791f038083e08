"""The campaign's targets (附件 二、三): progress of every target for a year, the county or a town, with where each
figure comes from; a figure entered by a person (a new one supersedes the previous one, audited); the towns'
shares of a target (目标分解, admin).

Scope is the services': everyone who reads sees the county; a town official sees its own town (another town is
404) and enters its own town's figures for a target broken down by town; the admin enters any and sets shares.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...services.reports import figures, progress
from ...services.reports.shown import exact_text
from ..limits import year_param
from ..security import ActorDep, BodyDep, PlatformDep, client_address
from .registers import _body
from .subsidies import _doc, _json

router = APIRouter(prefix="/api/v1", tags=["targets"])


def approx(x: Fraction | None, digits: int = 6) -> float | None:
    """A number rounded for showing and charts (never compared)."""
    return round(float(x), digits) if x is not None else None


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A progress row as the API shows it: exact numbers as text (``figure``, ``achieved``, ``aim``…) beside their
    rounded values (``*_approx``)."""
    out = {k: v for k, v in row.items() if k not in ("trend", "value")}
    for k in ("figure", "baseline", "achieved", "aim"):
        out[k] = exact_text(row[k])
        out[f"{k}_approx"] = approx(row[k])
    out["value"] = exact_text(row["value"])
    out["trend"] = [
        {
            "year": p["year"],
            "achieved": exact_text(p["achieved"]),
            "achieved_approx": approx(p["achieved"]),
            "met": p["met"],
        }
        for p in row["trend"]
    ]
    return out


@router.get("/targets")
def list_targets(actor: ActorDep, p: PlatformDep, year: str | None = None, town: str | None = None) -> Response:
    """Every target's progress in ``year`` (default: the latest up to 2023) for the county, or a town (``town``: its
    code; only the targets broken down by town): the target, the figure, ``met`` (true, false, or null without a
    figure), the source (``computed`` with where, or ``manual`` with who, when, the note and the evidence) and the
    trend over the years."""
    rows = progress.progress(p.uow, actor, year_param(year), town or None)
    with p.uow.read() as conn:
        years = progress.years_of(conn)
    return _json(
        {
            "year": rows[0]["year"] if rows else None,
            "years": years,
            "town": town or None,
            "targets": [public(r) for r in rows],
        }
    )


@router.post(
    "/targets/{key}/figures",
    status_code=201,
    openapi_extra=_body({"year": 2023, "town": None, "value": "4520.5", "source": "市自然资源规划局 2023年统计"}),
)
def enter_figure(key: str, request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep) -> Response:
    """Enter the figure of a target whose figure is not computed: ``year``, ``value`` (exact: a decimal or a fraction
    as text), ``source`` (where it comes from), optional ``town`` (a town's code; none: the county) and ``note``.
    A new figure for the same target, year and town supersedes the previous one; both are kept, audited."""
    b = _doc(raw, year="amount", town="text", value="amount", source="text", note="text")
    fid = figures.enter_figure(
        p.uow,
        actor,
        key,
        b.get("year"),
        b.get("town") or None,
        b.get("value"),
        b.get("source"),
        b.get("note"),
        client_address(request),
    )
    return _json({"id": fid, "target": key}, 201)


@router.put("/targets/{key}/shares", openapi_extra=_body({"shares": {"331082001": "300"}}))
def set_shares(key: str, request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep) -> Response:
    """Set towns' shares of a target (目标分解, admin): ``shares`` maps a town's code to its share (exact, in the
    target's unit); an empty value leaves a town's share as it is. Each is audited; the latest counts."""
    b = _doc(raw, shares="object")
    ids = figures.set_shares(p.uow, actor, key, b.get("shares") or {}, client_address(request))
    with p.uow.read() as conn:
        now = figures.shares(conn)
    return _json({"target": key, "set": ids, "shares": {t: s["value"] for (k, t), s in now.items() if k == key}})
