"""政策原文: the policy text with anchors, the parameter table, one parameter, the variables."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...core.mujun import indicators as ind
from ...services.calculation import policy_view
from .. import figures
from ..app import render
from ..i18n import catalogue, t
from ..security import SessionDep

router = APIRouter(include_in_schema=False)

GRADED = {"land_supply.minimum_price_by_grade": "policy.grade_land", "mujun.carbon_grade_cuts": "policy.grade_carbon"}
"""Tables keyed by a grade number, and how the grade reads."""


def _token(text: str, lang: str) -> str:
    """A key or choice of a parameter as a person reads it: A → A类, higher_only → 就高不重复, tax_per_mu → 亩均税收,
    C27 → C27 化学原料和化学制品制造业 (the text itself when nothing is known)."""
    if text in figures.CLASS_KEYS:
        return t("policy.class", lang, k=text)
    for key in (f"policy.value.{text}", f"calculator.enum.{text}"):
        if key in catalogue():
            return t(key, lang)
    if text in ind.UNITS:
        return figures.indicator(text, lang)
    if re.fullmatch(r"C\d{2,4}", text):
        return figures.industry_label(text, lang)
    return text


def param_value(path: str, value: Any, lang: str = "zh") -> str:
    """A parameter's value as a person reads it: yes/no, a choice's name, a table as "A类：是；B类：是"."""
    if value is True or value is False:
        return t("common.yes" if value else "common.no", lang)
    if isinstance(value, dict):
        sep, colon = ("；", "：") if lang == "zh" else ("; ", ": ")
        if not value:
            return t("common.none", lang)
        graded = GRADED.get(path)
        return sep.join(
            f"{t(graded, lang, k=k) if graded else _token(str(k), lang)}{colon}{param_value(path, v, lang)}"
            for k, v in value.items()
        )
    if isinstance(value, (list, tuple)):
        return ("、" if lang == "zh" else ", ").join(param_value(path, v, lang) for v in value)
    if isinstance(value, str):
        return _token(value, lang)
    return str(value)


def _helpers() -> dict[str, Any]:
    return {"param_value": param_value, "unit_name": figures.unit_name}


@router.get("/policy")
def policy_page(request: Request, s: SessionDep) -> Response:
    """Every clause: anchor, text (restored spans footnoted), validity, and the rules and parameters implementing it."""
    return render(request, "policy/index.html", doc=policy_view.policy_document(), **_helpers())


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
        **_helpers(),
    )


@router.get("/policy/parameters/{path}")
def parameter_page(request: Request, path: str, s: SessionDep) -> Response:
    """One parameter: description, unit, boundary word, dated values, assumption note, its clause."""
    return render(request, "policy/parameter.html", p=policy_view.parameter(path), **_helpers())


@router.get("/policy/variables")
def variables_page(request: Request, s: SessionDep) -> Response:
    """The variables of the calculation contract, each linked to its clause."""
    return render(request, "policy/variables.html", rows=policy_view.variables(), **_helpers())
