"""Load the policy pack (clauses, parameters, variables) shipped as package data.

The only module of ``core`` that reads files: YAML in, typed objects out. Numbers
are read as ``Decimal``/``int`` (never float), dates as ``datetime.date``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from .clauses import Clause, Policy
from .errors import ParameterError
from .parameters import Parameter, ParameterSet, build_parameter
from .periods import Window
from .variables import ENTITY_KINDS, TYPES, Registry, Variable, build_variable

POLICY_PACKAGE = "tenglong.policy"


class _DecimalLoader(yaml.SafeLoader):
    """SafeLoader that reads floats as Decimal, so 0.1 is exactly one tenth."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def load_yaml(text: str) -> Any:
    """Parse YAML text with exact decimals."""
    return yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - SafeLoader subclass


def _read(*parts: str) -> str:
    return resources.files(POLICY_PACKAGE).joinpath(*parts).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def policy() -> Policy:
    """The policy document with its clauses, in document order."""
    data = load_yaml(_read("clauses.yaml"))
    meta = data["policy"]
    window = _window(meta["in_force"])
    clauses = []
    for c in data["clauses"]:
        clauses.append(
            Clause(
                id=str(c["id"]),
                part=c["part"],
                number_zh=c.get("number_zh", ""),
                heading_zh=c["heading_zh"],
                heading_en=c["heading_en"],
                group_zh=c.get("group_zh", ""),
                group_en=c.get("group_en", ""),
                text_zh=c["text_zh"],
                text_en=c["text_en"],
                window=_window(c["in_force"]) if c.get("in_force") else window,
                responsible_units=tuple(c.get("responsible_units") or ()),
                note_zh=c.get("note_zh"),
                note_en=c.get("note_en"),
            )
        )
    return Policy(
        id=meta["id"],
        number=meta["number"],
        title_zh=meta["title_zh"],
        title_en=meta["title_en"],
        window=window,
        source_url=meta["source_url"],
        clauses=tuple(clauses),
        meta=meta,
    )


def _window(spec: dict[str, dt.date]) -> Window:
    return Window(spec["from"], spec.get("to"))


def in_force_parameter(clause: Clause) -> Parameter:
    """The validity of a clause as a bool parameter ``in_force.<id>``.

    Keeping validity as a dated parameter lets a reform extend or end a clause
    the same way it changes a rate.
    """
    values: dict[dt.date, Any] = {clause.window.start: True}
    if clause.window.end is not None:
        values[clause.window.end + dt.timedelta(days=1)] = False
    dates = tuple(sorted(values))
    return Parameter(
        path=f"in_force.{clause.id}",
        description_zh=f"{clause.title_zh()} 是否有效",
        description_en=f"Whether clause {clause.id} is in force",
        clause=clause.id,
        kind="bool",
        unit="",
        dates=dates,
        values=tuple(values[d] for d in dates),
        quote=None,
    )


@lru_cache(maxsize=1)
def parameters() -> ParameterSet:
    """Every parameter of the policy pack, plus ``in_force.<clause>`` validity."""
    found: dict[str, Parameter] = {}
    folder = resources.files(POLICY_PACKAGE).joinpath("parameters")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = load_yaml(entry.read_text(encoding="utf-8"))
        namespace = data["namespace"]
        for name, spec in data["parameters"].items():
            p = build_parameter(namespace, name, spec, str(data.get("clause")) if data.get("clause") else None)
            if p.path in found:
                raise ParameterError(f"参数 {p.path} 重复定义。", f"Parameter {p.path} is defined twice.")
            found[p.path] = p
    for clause in policy().clauses:
        p = in_force_parameter(clause)
        found[p.path] = p
    return ParameterSet(found)


@lru_cache(maxsize=1)
def variables() -> Registry:
    """The variable registry of the calculation contract."""
    data = load_yaml(_read("variables.yaml"))
    out: list[Variable] = []
    for entity, specs in data.items():
        if entity not in ENTITY_KINDS:
            raise ParameterError(
                f"variables.yaml 中的实体类型 {entity} 未知。", f"variables.yaml: unknown entity kind {entity}."
            )
        for name, spec in specs.items():
            if spec["type"] not in TYPES:
                raise ParameterError(
                    f"变量 {entity}.{name} 的类型 {spec['type']} 未知。",
                    f"Variable {entity}.{name}: unknown type {spec['type']}.",
                )
            out.append(build_variable(entity, name, spec))
    return Registry(out)
