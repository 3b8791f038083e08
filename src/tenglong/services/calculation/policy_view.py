"""The policy text as the platform shows it: clauses with the rules, parameters and variables behind them.

Read-only views of the policy pack (``core/loader``) shaped as plain dicts, the
same for the JSON API (``/api/v1/policy…``) and the pages (``/policy…``). Each
clause names what implements it; each parameter names its clause, so the links
go both ways.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ...core import loader
from ...core.boundary import SYMBOL
from ...core.clauses import Clause
from ...core.errors import NotFound
from ...core.parameters import Parameter
from ...core.rules import RULES
from .catalogue import clause_links, variable_rows


def clause_url(clause_id: str | None) -> str | None:
    """Link to a clause on the policy page, e.g. ``/policy#c2-10``."""
    if not clause_id or clause_id not in loader.policy():
        return None
    return f"/policy#{loader.policy()[clause_id].anchor}"


def parameter_anchor(path: str) -> str:
    """HTML anchor of a parameter row, e.g. ``p-tech_renovation.major_rate``."""
    return f"p-{path}"


def parameter_url(path: str) -> str:
    """The page of one parameter."""
    return f"/policy/parameters/{path}"


def variable_anchor(entity: str, name: str) -> str:
    """HTML anchor of a variable row, e.g. ``v-projects.equipment_investment``."""
    return f"v-{entity}.{name}"


def _plain(value: Any) -> Any:
    """A parameter value as JSON-safe data (exact decimals as text)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def parameter_dict(p: Parameter) -> dict[str, Any]:
    """One parameter with its dated values, boundary word and clause link."""
    b = p.boundary
    values = []
    for i, start in enumerate(p.dates):
        end = p.dates[i + 1] - dt.timedelta(days=1) if i + 1 < len(p.dates) else None
        values.append(
            {
                "from": start.isoformat(),
                "to": end.isoformat() if end else None,
                "value": _plain(p.values[i]),
                "ends": p.values[i] is None,
            }
        )
    return {
        "path": p.path,
        "anchor": parameter_anchor(p.path),
        "url": parameter_url(p.path),
        "clause": p.clause,
        "clause_url": clause_url(p.clause),
        "description_zh": p.description_zh,
        "description_en": p.description_en,
        "kind": p.kind,
        "unit": p.unit,
        "term": p.term,
        "boundary": {"zh": b.zh, "en": b.en, "op": b.op, "symbol": SYMBOL[b.op], "inclusive": b.inclusive}
        if b
        else None,
        "quote": p.quote,
        "assumption": p.assumption,
        "note_zh": p.note_zh,
        "note_en": p.note_en,
        "source": p.source,
        "choices": list(p.choices),
        "values": values,
    }


@lru_cache(maxsize=1)
def _rules_by_id() -> dict[str, Any]:
    return {r.id: r for r in RULES}


def _variable_labels() -> dict[str, dict[str, str]]:
    return {f"{v.entity}.{v.name}": {"zh": v.zh, "en": v.en} for v in loader.variables()}


def _display() -> dict[str, Any]:
    """How the page shows the text (``clauses.yaml`` → ``policy.display``): names and restored spans."""
    return loader.policy().meta.get("display") or {}


def _footnotes() -> dict[str, list[dict[str, Any]]]:
    """The restored spans by clause, numbered through the document (1, 2, … in document order)."""
    order = {cid: k for k, cid in enumerate(loader.policy().ids())}
    found = sorted(_display().get("restorations") or [], key=lambda r: order.get(str(r["clause"]), len(order)))
    out: dict[str, list[dict[str, Any]]] = {}
    for n, r in enumerate(found, start=1):
        cid = str(r["clause"])
        out.setdefault(cid, []).append(
            {
                "n": n,
                "id": f"fn-{n}",
                "ref": f"fnref-{n}",
                "find_zh": r.get("garbled") or r["span_zh"],
                "span_zh": r["span_zh"],
                "span_en": r["span_en"],
                "zh": r["note_zh"],
                "en": r["note_en"],
            }
        )
    return out


def _segments(text: str, notes: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """``text`` cut at the restored spans: plain pieces, and each span (restored) with its footnote number.

    >>> _segments("甲乙丙", [{"n": 1, "find_zh": "乙", "span_zh": "丁"}], "zh")
    [{'text': '甲'}, {'text': '丁', 'note': 1}, {'text': '丙'}]
    """
    marks = []
    for note in notes:
        find = note["find_zh"] if lang == "zh" else note["span_en"]
        at = text.find(find)
        if at >= 0:
            marks.append((at, find, note["span_zh"] if lang == "zh" else note["span_en"], note["n"]))
    out: list[dict[str, Any]] = []
    pos = 0
    for at, find, shown, n in sorted(marks):
        if at < pos:
            continue
        if at > pos:
            out.append({"text": text[pos:at]})
        out.append({"text": shown, "note": n})
        pos = at + len(find)
    if pos < len(text):
        out.append({"text": text[pos:]})
    return out


def clause_dict(c: Clause, links: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """One clause: text in both languages (verbatim; and as shown, with restored spans and their footnotes), its
    name, its own validity, notes and what implements it."""
    pol = loader.policy()
    links = links if links is not None else clause_links().get(c.id, {"rules": [], "parameters": [], "variables": []})
    rules = _rules_by_id()
    labels = _variable_labels()
    params = loader.parameters()
    own_window = c.window != pol.window
    named = (_display().get("names") or {}).get(c.id)
    notes = _footnotes().get(c.id, [])
    return {
        "id": c.id,
        "anchor": c.anchor,
        "url": f"/policy#{c.anchor}",
        "numbered": named is None,
        "name_zh": named["zh"] if named else f"{c.number_zh}{c.heading_zh}",
        "name_en": named["en"] if named else c.heading_en,
        "shown_zh": _segments(c.text_zh, notes, "zh"),
        "shown_en": _segments(c.text_en, notes, "en"),
        "footnotes": [{k: f[k] for k in ("n", "id", "ref", "zh", "en")} for f in notes],
        "part": c.part,
        "number_zh": c.number_zh,
        "heading_zh": c.heading_zh,
        "heading_en": c.heading_en,
        "group_zh": c.group_zh,
        "group_en": c.group_en,
        "text_zh": c.text_zh,
        "text_en": c.text_en,
        "in_force": {"from": c.window.start.isoformat(), "to": c.window.end.isoformat() if c.window.end else None},
        "own_validity": own_window,
        "validity_zh": c.window.text_zh(),
        "validity_en": c.window.text_en(),
        "responsible_units": list(c.responsible_units),
        "note_zh": c.note_zh,
        "note_en": c.note_en,
        "computable": bool(links["rules"]),
        "rules": [
            {
                "id": r,
                "title_zh": rules[r].title_zh,
                "title_en": rules[r].title_en,
                "entity": rules[r].entity,
                "outputs": [f"{rules[r].entity}.{o}" for o in rules[r].outputs],
            }
            for r in links["rules"]
        ],
        "parameters": [parameter_dict(params[p]) for p in links["parameters"]],
        "variables": [
            {"name": v, "anchor": variable_anchor(*v.split(".", 1)), **labels.get(v, {"zh": v, "en": v})}
            for v in links["variables"]
        ],
    }


def policy_document() -> dict[str, Any]:
    """The whole policy: metadata and every clause in document order, with links."""
    pol = loader.policy()
    links = clause_links()
    meta = pol.meta
    return {
        "id": pol.id,
        "number": pol.number,
        "title_zh": pol.title_zh,
        "title_en": pol.title_en,
        "annex_title_zh": meta.get("annex_title_zh"),
        "annex_title_en": meta.get("annex_title_en"),
        "in_force": {
            "from": pol.window.start.isoformat(),
            "to": pol.window.end.isoformat() if pol.window.end else None,
        },
        "validity_zh": pol.window.text_zh(),
        "validity_en": pol.window.text_en(),
        "written_date": _plain(meta.get("written_date")),
        "signed_date": _plain(meta.get("signed_date")),
        "index_number": meta.get("index_number"),
        "normative_number": meta.get("normative_number"),
        "source_url": pol.source_url,
        "clauses": [clause_dict(c, links[c.id]) for c in pol.clauses],
    }


def clause(clause_id: str) -> dict[str, Any]:
    """One clause by id.

    Raises:
        NotFound: for an id the policy does not have.
    """
    pol = loader.policy()
    if clause_id not in pol:
        raise NotFound(clause_id)
    return clause_dict(pol[clause_id])


def parameter_rows(clause_id: str | None = None, assumptions_only: bool = False) -> list[dict[str, Any]]:
    """Every parameter (sorted by path), optionally those of one clause or only the assumptions."""
    out = []
    for path in loader.parameters().paths():
        p = loader.parameters()[path]
        if clause_id and p.clause != clause_id:
            continue
        if assumptions_only and not p.assumption:
            continue
        out.append(parameter_dict(p))
    return out


def parameter(path: str) -> dict[str, Any]:
    """One parameter by path, with the rules of its clause.

    Raises:
        NotFound: for a path that does not exist.
    """
    if path not in loader.parameters():
        raise NotFound(path)
    out = parameter_dict(loader.parameters()[path])
    pol = loader.policy()
    if out["clause"] and out["clause"] in pol:
        c = pol[out["clause"]]
        out["clause_title_zh"], out["clause_title_en"] = c.title_zh(), f"{c.id} {c.heading_en}"
    return out


def variables(entity: str | None = None) -> list[dict[str, Any]]:
    """The variables of the calculation contract, each with its anchor and clause link."""
    return [
        {**v, "anchor": variable_anchor(v["entity"], v["name"]), "clause_url": clause_url(v["clause"])}
        for v in variable_rows(entity)
    ]


def clause_choices() -> list[tuple[str, str, str]]:
    """(id, zh title, en title) of the clauses that have parameters, for filters."""
    cited = {p.clause for p in loader.parameters()}
    return [(c.id, c.title_zh(), f"{c.id} {c.heading_en}") for c in loader.policy().clauses if c.id in cited]
