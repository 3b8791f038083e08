"""政策原文: the policy text with anchors, the parameter table, one parameter, the variables."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...services.calculation import policy_view
from ..app import render
from ..security import SessionDep

router = APIRouter(include_in_schema=False)


@router.get("/policy")
def policy_page(request: Request, s: SessionDep) -> Response:
    """Every clause, with its anchor, text, validity, notes and implementing rules and parameters."""
    return render(request, "policy/index.html", doc=policy_view.policy_document())


@router.get("/policy/parameters")
def parameters_page(request: Request, s: SessionDep, clause: str | None = None, assumptions: bool = False) -> Response:
    """Every parameter in one table (filter by clause, or assumptions only)."""
    return render(
        request,
        "policy/parameters.html",
        rows=policy_view.parameter_rows(clause or None, assumptions),
        clauses=policy_view.clause_choices(),
        clause=clause or "",
        assumptions=assumptions,
    )


@router.get("/policy/parameters/{path}")
def parameter_page(request: Request, path: str, s: SessionDep) -> Response:
    """One parameter: description, unit, boundary word, dated values, assumption note, its clause."""
    return render(request, "policy/parameter.html", p=policy_view.parameter(path))


@router.get("/policy/variables")
def variables_page(request: Request, s: SessionDep) -> Response:
    """The variables of the calculation contract, each linked to its clause."""
    return render(request, "policy/variables.html", rows=policy_view.variables())
