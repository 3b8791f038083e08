"""Read-only views of the policy pack: variables, clauses, parameters, and the links between them."""

from __future__ import annotations

from typing import Any

from ...core import loader
from ...core.rules import RULES


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
                "entity": v.entity,
                "name": v.name,
                "role": v.role,
                "type": v.type.name,
                "unit": v.unit,
                "default": default,
                "clause": v.clause,
                "zh": v.zh,
                "en": v.en,
                "values": list(v.values),
            }
        )
    return out


def clause_links() -> dict[str, dict[str, list[str]]]:
    """For each clause id: the rules, parameters and variables that implement it."""
    links: dict[str, dict[str, list[str]]] = {
        c.id: {"rules": [], "parameters": [], "variables": []} for c in loader.policy().clauses
    }
    variables = loader.variables()
    for rule in RULES:
        clauses = {rule.clause} | {
            variables[(rule.entity, o)].clause for o in rule.outputs if variables[(rule.entity, o)].clause
        }
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


def _value(v: Any) -> str:
    return "null" if v is None else str(v)


def parameter_lines(p, lang: str = "zh") -> list[str]:
    """A parameter as text: path, description, unit, boundary word, dated values, source or assumption."""
    desc = p.description_zh if lang == "zh" else p.description_en
    out = [f"{p.path}  —  {desc}"]
    b = p.boundary
    if b is not None:
        out.append(f"    boundary: {p.term} → {b.op} ({b.zh if lang == 'zh' else b.en})")
    out.append(
        "    values: "
        + "; ".join(f"{d.isoformat()}: {_value(v)}" for d, v in zip(p.dates, p.values, strict=True))
        + (f"  [{p.unit}]" if p.unit else "")
    )
    if p.quote:
        out.append(f"    quote: {p.quote}")
    if p.source:
        out.append(f"    source: {p.source}")
    if p.assumption:
        out.append(f"    ASSUMPTION: {(p.note_zh if lang == 'zh' else p.note_en) or ''}")
    return out


def clause_table(lang: str = "zh") -> list[str]:
    """One line per clause: id, heading, validity, how many rules and parameters implement it."""
    links = clause_links()
    out = []
    for c in loader.policy().clauses:
        heading = c.title_zh() if lang == "zh" else c.heading_en
        n = links[c.id]
        out.append(
            f"{c.id:<7} {heading}  [{c.window.text_zh() if lang == 'zh' else c.window.text_en()}]  "
            f"rules: {len(n['rules'])}, parameters: {len(n['parameters'])}"
        )
    return out


def clause_text(clause_id: str, lang: str = "zh") -> list[str]:
    """A clause: heading, text (zh and en), validity, and the rules, parameters and variables implementing it.

    Raises:
        KeyError: for an unknown clause id.
    """
    c = loader.policy()[clause_id]
    links = clause_links()[c.id]
    out = [
        f"{c.id} {c.title_zh()} / {c.heading_en}",
        f"有效期 / in force: {c.window.text_zh()}",
        "",
        c.text_zh,
        "",
        c.text_en,
    ]
    if c.note_zh:
        out += ["", f"注 / note: {c.note_zh if lang == 'zh' else c.note_en}"]
    out += [
        "",
        "rules: " + (", ".join(links["rules"]) or "—"),
        "variables: " + (", ".join(links["variables"]) or "—"),
        "parameters:",
    ]
    params = loader.parameters()
    for path in links["parameters"]:
        out += parameter_lines(params[path], lang)
    return out


def parameter_text(path: str, lang: str = "zh") -> list[str]:
    """A parameter and the clause it implements.

    Raises:
        KeyError: for an unknown parameter path.
    """
    params = loader.parameters()
    if path not in params:
        raise KeyError(path)
    p = params[path]
    out = parameter_lines(p, lang)
    if p.clause:
        c = loader.policy()[p.clause]
        out += ["", f"clause {c.id}: {c.title_zh()} / {c.heading_en}", f"    (tenglong policy {c.id})"]
    return out
