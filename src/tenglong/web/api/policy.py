"""The policy text and its parameters: GET /api/v1/policy…, readable by every signed-in role."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ...services.calculation import policy_view
from ..security import SessionDep

router = APIRouter(prefix="/api/v1/policy", tags=["policy"])


@router.get("")
def policy(s: SessionDep) -> dict[str, Any]:
    """临政发〔2022〕22号: metadata and every clause (verbatim zh, English rendering, validity, notes) with the
    rules, parameters and variables that implement it."""
    return policy_view.policy_document()


@router.get("/clauses/{clause_id}")
def clause(clause_id: str, s: SessionDep) -> dict[str, Any]:
    """One clause by id (``2.10``, ``A.3.6`` …); 404 for an unknown id."""
    return policy_view.clause(clause_id)


@router.get("/parameters")
def parameters(s: SessionDep, clause: str | None = None, assumptions: bool = False) -> dict[str, Any]:
    """Every parameter with its dated values, unit, boundary word and clause; filter by ``clause`` or
    ``assumptions=true``."""
    rows = policy_view.parameter_rows(clause, assumptions)
    return {"count": len(rows), "parameters": rows}


@router.get("/parameters/{path}")
def parameter(path: str, s: SessionDep) -> dict[str, Any]:
    """One parameter by path (``tech_renovation.major_rate``); 404 for an unknown path."""
    return policy_view.parameter(path)


@router.get("/variables")
def variables(s: SessionDep, entity: str | None = None) -> dict[str, Any]:
    """The variables of the calculation contract (``tenglong variables``), optionally of one entity kind."""
    rows = policy_view.variables(entity)
    return {"count": len(rows), "variables": rows}
