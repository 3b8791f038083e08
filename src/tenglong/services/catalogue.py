"""Read-only views of the policy pack: variables, clauses, parameters, and the links between them."""

from __future__ import annotations

from typing import Any

from ..core import loader
from ..core.rules import RULES


def variable_rows(entity: str | None = None) -> list[dict[str, Any]]:
    """Every variable of the contract as a plain dict (for the CLI, the API and the docs)."""
    out = []
    for v in loader.variables():
        if entity and v.entity != entity:
            continue
        default = "" if not v.has_default else str(v.default).lower() if isinstance(v.default, bool) else str(v.default)
        if v.default_from:
            default = f"= {v.default_from}"
        out.append(
            {
                "entity": v.entity, "name": v.name, "role": v.role, "type": v.type.name, "unit": v.unit,
                "default": default, "clause": v.clause, "zh": v.zh, "en": v.en, "values": list(v.values),
            }
        )
    return out


def clause_links() -> dict[str, dict[str, list[str]]]:
    """For each clause id: the rules, parameters and variables that implement it."""
    links: dict[str, dict[str, list[str]]] = {c.id: {"rules": [], "parameters": [], "variables": []} for c in loader.policy().clauses}
    variables = loader.variables()
    for rule in RULES:
        clauses = {rule.clause} | {variables[(rule.entity, o)].clause for o in rule.outputs if variables[(rule.entity, o)].clause}
        for c in clauses:
            if c in links and rule.id not in links[c]["rules"]:
                links[c]["rules"].append(rule.id)
    for p in loader.parameters():
        if p.clause in links and not p.path.startswith("in_force."):
            links[p.clause]["parameters"].append(p.path)
    for v in variables:
        if v.clause in links:
            links[v.clause]["variables"].append(f"{v.entity}.{v.name}")
    return links
