"""Policy cases: rules-as-tests written as YAML data (``policy/cases/*.yaml``).

Each case names its clause, the date, the input entities and the expected
outputs; every expected output is requested (set to ``null``) and compared
exactly. A case may instead expect the input to be refused (``errors``)::

    - name: 重大项目：设备投资 800万、项目投资 1500万 → 80万
      clause: "2.10"
      date: 2023-03-01
      input:
        enterprises: {E1: {mujun_class: A}}
        projects: {P1: {enterprise: E1, total_investment: 15000000, equipment_investment: 8000000}}
      output:
        projects: {P1: {tech_renovation_tier: major, tech_renovation_subsidy: 800000}}
      status:                                   # optional
        projects: {P1: {tech_renovation_subsidy: applied}}
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any

from ...core.errors import InvalidInput
from ...core.loader import load_yaml
from .contract import calculate


@dataclass
class CaseResult:
    """The outcome of one case."""

    file: str
    name: str
    clause: str
    ok: bool
    messages: list[str] = field(default_factory=list)


def load_cases(clause: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(file name, case) pairs of every shipped case, optionally of one clause."""
    folder = resources.files("tenglong.policy").joinpath("cases")
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        for case in load_yaml(entry.read_text(encoding="utf-8")) or []:
            if clause is None or str(case.get("clause")) == clause:
                out.append((entry.name, case))
    return out


def request_of(case: dict[str, Any]) -> dict[str, Any]:
    """The calculation request a case stands for: its input with every expected output set to null."""
    date = case["date"]
    doc: dict[str, Any] = {"as_of": date.isoformat() if isinstance(date, dt.date) else str(date)}
    if case.get("period") is not None:
        doc["period"] = str(case["period"])
    doc.update(copy.deepcopy(_jsonable(case.get("input") or {})))
    for kind, entities in (case.get("output") or {}).items():
        for eid, values in entities.items():
            target = doc.setdefault(kind, {}).setdefault(eid, {})
            for var, expected in values.items():
                target[var] = (
                    {str(y): None for y in expected}
                    if isinstance(expected, dict) and var != "transfer_violations" and _year_keyed(expected)
                    else None
                )
    return doc


def _year_keyed(d: dict) -> bool:
    return all(isinstance(k, int) or (isinstance(k, str) and k.isdigit() and len(k) == 4) for k in d)


def _jsonable(value: Any) -> Any:
    """YAML values as JSON-parsed ones: dates become text, int/Decimal stay exact."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, (int, Decimal)) and not isinstance(expected, bool):
        return (
            isinstance(actual, (int, float))
            and not isinstance(actual, bool)
            and Decimal(repr(actual)) == Decimal(expected)
        )
    if isinstance(expected, list) and expected and isinstance(expected[0], str):
        return isinstance(actual, list) and [a.get("code") if isinstance(a, dict) else a for a in actual] == expected
    return expected == actual


def run_case(file: str, case: dict[str, Any]) -> CaseResult:
    """Run one case and compare every expected value exactly."""
    name, clause = case.get("name", "?"), str(case.get("clause", ""))
    result = CaseResult(file, name, clause, True)
    try:
        answer = calculate(request_of(case), explain=True)
    except InvalidInput as exc:
        codes = sorted({p.code for p in exc.problems})
        if case.get("errors") is not None:
            want = sorted(set(case["errors"]))
            if codes != want:
                result.ok = False
                result.messages.append(
                    f"expected errors {want}, got {codes}: " + "; ".join(p.message_en for p in exc.problems)
                )
            return result
        result.ok = False
        result.messages += [f"input refused: {p.where}: {p.message_en}" for p in exc.problems]
        return result
    if case.get("errors") is not None:
        result.ok = False
        result.messages.append(f"expected errors {case['errors']}, but the input was accepted")
        return result
    for kind, entities in (case.get("output") or {}).items():
        for eid, values in entities.items():
            for var, expected in values.items():
                actual = answer[kind][eid][var]
                pairs = (
                    [(str(y), e, actual.get(str(y))) for y, e in expected.items()]
                    if isinstance(expected, dict) and isinstance(actual, dict)
                    else [(None, expected, actual)]
                )
                for year, e, a in pairs:
                    if not _same(e, a):
                        result.ok = False
                        where = f"{kind}.{eid}.{var}" + (f"[{year}]" if year else "")
                        why = answer.get("explanations", {}).get(kind, {}).get(eid, {}).get(var, {})
                        result.messages.append(
                            f"{where}: expected {e!r}, got {a!r}; "
                            f"because: {why.get('because') if isinstance(why, dict) else why}"
                        )
    for kind, entities in (case.get("status") or {}).items():
        for eid, values in entities.items():
            for var, expected in values.items():
                got = answer["explanations"][kind][eid][var]["status"]
                if got != expected:
                    result.ok = False
                    result.messages.append(f"{kind}.{eid}.{var}: status expected {expected}, got {got}")
    return result


def run_cases(clause: str | None = None) -> Iterator[CaseResult]:
    """Run every case (of one clause)."""
    for file, case in load_cases(clause):
        yield run_case(file, case)
