"""Reforms: a plain dict of parameter changes, checked in full before anything changes.

A reform (a what-if scenario, or an evaluation ``--method`` file) is::

    {"title": "…", "changes": {
        "tech_renovation.major_rate": 0.12,                          # every date
        "vertical_industry.cap_per_project": {2023-01-01: 1500000},  # from a date on
        "mujun.quotas_above_scale": {"A": 0.25, "B": 0.55, "C": 0.15, "D": 0.05}}}

A plain value replaces the parameter for every date; a mapping whose keys are all
dates adds dated values. Every problem is reported at once (``ReformError``) and
the original parameters are never modified (PolicyEngine's ``Reform.from_dict`` habit).
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import replace
from decimal import Decimal
from typing import Any

from .errors import Problem, ReformError
from .parameters import Parameter, ParameterSet


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, Decimal)) and not isinstance(v, bool)


def _check(p: Parameter, value: Any, where: str, problems: list[Problem]) -> None:
    kind_ok = {
        "number": _is_number(value),
        "bool": isinstance(value, bool),
        "choice": isinstance(value, str) and (not p.choices or value in p.choices),
        "table": isinstance(value, dict),
    }[p.kind]
    if value is None:
        return
    if not kind_ok:
        expected = {
            "number": ("数值", "a number"),
            "bool": ("true 或 false", "true or false"),
            "choice": ("下列之一：" + "、".join(p.choices), "one of: " + ", ".join(p.choices)),
            "table": ("键值映射", "a mapping"),
        }[p.kind]
        example = str(p.last_value()) if p.kind != "table" else "{…}"
        problems.append(
            Problem(
                "invalid_parameter_value",
                where,
                str(value),
                expected[0],
                expected[1],
                example,
                f"参数 {p.path} 的取值 {value!r} 无效。",
                f"Parameter {p.path}: invalid value {value!r}.",
            )
        )
        return
    if p.kind == "number" and p.unit == "ratio" and Decimal(value).as_tuple().exponent < -4:  # type: ignore[operator]
        problems.append(
            Problem(
                "too_precise",
                where,
                str(value),
                "至多四位小数的比例",
                "a rate with at most 4 decimals",
                str(p.last_value()),
                f"参数 {p.path} 的比例 {value} 过细，请用不超过四位小数的比例（如 0.1235）。",
                f"Parameter {p.path}: the rate {value} is too fine; use at most 4 decimals (e.g. 0.1235).",
            )
        )
    if p.kind == "number" and p.unit in ("ratio",) and Decimal(value) < 0:
        problems.append(
            Problem(
                "negative_value",
                where,
                str(value),
                "非负数",
                "a non-negative number",
                str(p.last_value()),
                f"参数 {p.path} 不能为负。",
                f"Parameter {p.path} must not be negative.",
            )
        )
    if p.kind == "table":
        current = next((v for v in reversed(p.values) if v), None)
        if current:
            unknown = [k for k in value if str(k) not in current]
            for k in unknown:
                problems.append(
                    Problem(
                        "unknown_table_key",
                        f"{where}.{k}",
                        str(k),
                        "已有的键：" + "、".join(current),
                        "one of the existing keys: " + ", ".join(current),
                        next(iter(current)),
                        f"参数 {p.path} 没有键 {k!r}。",
                        f"Parameter {p.path} has no key {k!r}.",
                    )
                )
            for k, v in value.items():
                sample = current.get(str(k))
                if _is_number(sample) and not _is_number(v):
                    problems.append(
                        Problem(
                            "invalid_parameter_value",
                            f"{where}.{k}",
                            str(v),
                            "数值",
                            "a number",
                            str(sample),
                            f"参数 {p.path}.{k} 应为数值。",
                            f"Parameter {p.path}.{k} must be a number.",
                        )
                    )
        numbers = [v for v in value.values() if _is_number(v)]
        if QUOTAS in p.path and len(numbers) == len(value) and set(map(str, value)) == set(current or value):
            total = sum(Decimal(v) for v in numbers)
            if total != 1:
                problems.append(
                    Problem(
                        "quotas_not_whole",
                        where,
                        str(total),
                        "各类比例之和为 1（100%）",
                        "class shares adding up to 1 (100%)",
                        "、".join(f"{k} {v}" for k, v in (current or {}).items()),
                        f"参数 {p.path} 的各类比例之和为 {total}，应为 1（100%）。",
                        f"Parameter {p.path}: the class shares add up to {total}, not 1 (100%).",
                    )
                )


QUOTAS = ".quotas_"
"""Class quota tables (``mujun.quotas_above_scale``…): their shares must add up to exactly 1."""


def validate(changes: dict[str, Any], params: ParameterSet) -> list[Problem]:
    """Every problem of a change set (empty when it can be applied)."""
    problems: list[Problem] = []
    if not isinstance(changes, dict):
        return [
            Problem(
                "invalid_reform",
                "changes",
                repr(changes)[:80],
                "参数路径到取值的映射",
                "a mapping of parameter paths to values",
                "{tech_renovation.major_rate: 0.12}",
                "调整方案必须是参数路径到取值的映射。",
                "A reform must map parameter paths to values.",
            )
        ]
    for path, value in changes.items():
        if path not in params:
            close = difflib.get_close_matches(str(path), params.paths(), n=1)
            problems.append(
                Problem(
                    "unknown_parameter",
                    str(path),
                    None,
                    "已有的参数路径",
                    "an existing parameter path",
                    close[0] if close else "tech_renovation.major_rate",
                    f"没有参数 {path}" + (f"，是否要写 {close[0]}？" if close else "。"),
                    f"No parameter {path}" + (f"; did you mean {close[0]}?" if close else "."),
                )
            )
            continue
        p = params[path]
        if isinstance(value, dict) and value and all(isinstance(k, dt.date) for k in value):
            for day, v in value.items():
                _check(p, v, f"{path}.{day.isoformat()}", problems)
        else:
            _check(p, value, str(path), problems)
    return problems


def apply(changes: dict[str, Any], params: ParameterSet) -> ParameterSet:
    """A new parameter set with ``changes`` applied; ``params`` is untouched.

    Raises:
        ReformError: listing every problem, before anything changes.
    """
    problems = validate(changes, params)
    if problems:
        raise ReformError(problems)
    dated: dict[str, dict[dt.date, Any]] = {}
    replaced: dict[str, Parameter] = {}
    for path, value in changes.items():
        p = params[path]
        if isinstance(value, dict) and value and all(isinstance(k, dt.date) for k in value):
            dated[path] = {
                d: ({str(k): v for k, v in x.items()} if isinstance(x, dict) else x) for d, x in value.items()
            }
        else:
            v = {str(k): x for k, x in value.items()} if isinstance(value, dict) else value
            replaced[path] = replace(p, dates=(p.dates[0],), values=(v,))
    out = params.with_values(dated)
    if replaced:
        out = ParameterSet({**{q.path: q for q in out}, **replaced})
    return out
