"""Run the rules for a situation and answer in the contract's shape.

``run_rules`` is the vectorised heart: frames in, outcomes out, no per-row
Python. ``calculate`` wraps it for a validated ``Situation``: it checks that
every requested output has its inputs, runs the rules once per period asked
for, and writes the answer (values, then explanations) for the requested rows
only.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .clauses import Policy
from .errors import InvalidInput, Problem
from .frame import Frame
from .parameters import ParameterSet
from .periods import Window
from .rules import BY_OUTPUT, DEPENDS, RULES, Context, Rule
from .rules._common import Columns
from .situation import REQUEST, Situation, YearValues
from .trace import NOT_IN_FORCE, STATUS_NAMES, Check, Note, Outcome
from .variables import ENTITY_KINDS, Registry, Variable


def run_rules(
    frames: dict[str, Columns],
    params: ParameterSet,
    policy: Policy,
    as_of: dt.date,
    period: int,
    rules: list[Rule] | None = None,
) -> Context:
    """Compute ``rules`` (default: all) over whole frames.

    Args:
        frames: columns per entity kind (every kind a rule reads must be there).
        params: the parameters (possibly a reform).
        policy: the clauses (for validity texts).
        as_of: the situation's date; period: the situation's year.

    Returns:
        The context, whose ``results`` map (kind, variable) to ``Outcome``.
    """
    ctx = Context(params, policy, as_of, period, frames)
    chosen = list(rules if rules is not None else RULES)
    first = [r for r in chosen if r.entity == "enterprises" and r.id not in DEPENDS]
    last = [r for r in chosen if r.id in DEPENDS]
    middle = [r for r in chosen if r not in first and r not in last]
    for rule in first:
        _store(ctx, rule)
    rows = sum(frames[r.entity].n for r in middle)
    workers = min(len(middle), os.cpu_count() or 1)
    if workers > 1 and rows >= PARALLEL_MIN_ROWS:
        # numpy releases the GIL inside ufuncs, so independent rules overlap on
        # several cores; each rule writes only its own result keys.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for outcomes in pool.map(lambda r: (r, r.compute(ctx)), middle):
                _keep(ctx, *outcomes)
    else:
        for rule in middle:
            _store(ctx, rule)
    for rule in last:
        _store(ctx, rule)
    return ctx


PARALLEL_MIN_ROWS = 200_000


def _store(ctx: Context, rule: Rule) -> None:
    _keep(ctx, rule, rule.compute(ctx))


def _keep(ctx: Context, rule: Rule, outcomes: list[Outcome]) -> None:
    for o in outcomes:
        ctx.results[(rule.entity, o.variable)] = o


def _select(requested: set[tuple[str, str]]) -> list[Rule]:
    wanted = {BY_OUTPUT[k].id for k in requested}
    for rid in list(wanted):
        wanted.update(DEPENDS.get(rid, ()))
    return [r for r in RULES if r.id in wanted]


def calculate(
    situation: Situation,
    params: ParameterSet,
    policy: Policy,
    registry: Registry,
    explain: bool = True,
    lang: str = "zh",
) -> dict[str, Any]:
    """Answer a situation: the input document with every requested value filled.

    Raises:
        InvalidInput: when a requested output lacks an input it needs (all such
            problems are listed; nothing is returned).
    """
    refs = {k: t.index for k, t in situation.tables.items()}
    requests = {k: {v: situation.table(k).requests(v) for v in situation.table(k).columns} for k in ENTITY_KINDS}
    years = {situation.period}
    for kind in requests.values():
        for pairs in kind.values():
            years.update(y for _, y in pairs if y is not None)

    frames_by_year: dict[int, dict[str, Frame]] = {}
    wanted_by_year: dict[int, set[tuple[str, str]]] = {}
    problems: list[Problem] = []
    for year in sorted(years):
        frames_by_year[year] = {
            k: Frame(situation.table(k), registry, year, situation.period, refs) for k in ENTITY_KINDS
        }
        wanted_by_year[year] = {
            (k, v)
            for k, vs in requests.items()
            for v, pairs in vs.items()
            if any((y or situation.period) == year for _, y in pairs)
        }
        problems += _missing_inputs(frames_by_year[year], requests, wanted_by_year[year], year, situation.period)
    if problems:
        raise InvalidInput(problems)
    runs = {
        year: run_rules(frames_by_year[year], params, policy, situation.as_of, year, _select(wanted_by_year[year]))
        for year in sorted(years)
    }

    out = copy.deepcopy(situation.raw)
    notes: dict[str, Any] = {}
    for kind, vs in requests.items():
        table = situation.table(kind)
        for var_name, pairs in vs.items():
            var = registry[(kind, var_name)]
            for row, year in pairs:
                ctx = runs[year or situation.period]
                outcome = ctx.results[(kind, var_name)]
                value = json_value(var, outcome, row)
                eid = table.ids[row]
                target = out[kind][eid]
                if year is None:
                    target[var_name] = value
                else:
                    target[var_name][str(year)] = value
                if explain:
                    text = explanation(outcome, row, ctx, kind, lang)
                    slot = notes.setdefault(kind, {}).setdefault(eid, {})
                    if year is None:
                        slot[var_name] = text
                    else:
                        slot.setdefault(var_name, {})[str(year)] = text
    if explain:
        out["explanations"] = notes
    else:
        out.pop("explanations", None)
    return out


def _missing_inputs(
    frames: dict[str, Frame], requests: dict[str, dict[str, list]], wanted: set[tuple[str, str]], year: int, period: int
) -> list[Problem]:
    """Problems for requested outputs whose needed inputs are absent."""
    problems: list[Problem] = []
    for kind, var_name in sorted(wanted):
        rule = BY_OUTPUT.get((kind, var_name))
        if rule is None:
            continue
        rows = np.array(sorted({r for r, y in requests[kind][var_name] if (y or period) == year}), dtype=np.int64)
        f = frames[kind]
        for need in rule.needs.get(var_name, ()):
            target = frames["enterprises"] if need.on == "enterprise" else f
            if need.on == "enterprise":
                ent = f.get("enterprise")[rows]
                ok_ref = ent >= 0
                t_rows = np.where(ok_ref, ent, 0)
            else:
                ok_ref = np.ones(len(rows), dtype=bool)
                t_rows = rows
            if (not len(rows) or target.n == 0) and need.on == "enterprise":
                continue
            applies = ok_ref.copy()
            for cond_var, cond_val in need.when:
                vals = target.get(cond_var)[t_rows]
                applies &= np.isin(vals, cond_val if isinstance(cond_val, tuple) else (cond_val,))
            present = np.zeros(len(rows), dtype=bool)
            for alt in need.var.split("|"):
                present |= target.present(alt)[t_rows]
            for k in np.flatnonzero(applies & ~present):
                eid = f.ids[rows[k]]
                var = target.var(need.var.split("|")[0])
                where = (
                    f"{kind}.{eid}.{need.var.split('|')[0]}"
                    if need.on == "self"
                    else f"enterprises.{target.ids[t_rows[k]]}.{need.var.split('|')[0]}"
                )
                alts = " 或 ".join(need.var.split("|"))
                exp_zh, exp_en = var.expected()
                problems.append(
                    Problem(
                        "missing_input",
                        where,
                        None,
                        exp_zh,
                        exp_en,
                        var.example(),
                        f"计算 {kind}.{eid}.{var_name}（第 {rule.clause} 项）需要 {alts}（{var.zh}），但未提供。",
                        f"{kind}.{eid}.{var_name} (clause {rule.clause}) needs {need.var.replace('|', ' or ')} "
                        f"({var.en}), which is missing.",
                    )
                )
    return problems


def json_value(var: Variable, outcome: Outcome, row: int) -> Any:
    """The JSON value of one output for one row."""
    if outcome.null is not None and outcome.null[row]:
        return None
    v = outcome.values[row]
    base = var.type.base
    if base == "violations":
        return outcome.extra["violations"].items(row)
    if base == "decimal":
        scale = var.type.scale
        return float(int(v)) / 10**scale if scale else int(v)
    if base == "bool":
        return bool(v)
    if base == "int":
        return int(v)
    return outcome.label(row)


def explanation(outcome: Outcome, row: int, ctx: Context, kind: str, lang: str = "zh") -> dict[str, Any]:
    """Why the value of one row is what it is: status, clause, quoted text, conditions tested."""
    st = int(outcome.status[row])
    clause = ctx.policy[outcome.clause]
    out: dict[str, Any] = {"status": STATUS_NAMES[st], "clause": outcome.clause, "text": outcome.quote_of(row)}
    if lang == "en":
        out["text_en"] = clause.text_en
    if st == NOT_IN_FORCE:
        day = ctx.days(kind)[row]
        windows = validity_windows(ctx.params, outcome.clause, clause.window)
        text = (
            "、".join(w.text_zh() for w in windows) or "无"
            if lang == "zh"
            else "; ".join(w.text_en() for w in windows) or "none"
        )
        out["because"] = [
            f"判断日期 {day} 不在{clause.title_zh()}的有效期（{text}）内"
            if lang == "zh"
            else f"the judging date {day} is outside the validity of clause {clause.id} ({text})"
        ]
        w = _nearest(windows, day.astype(object)) if windows else None
        out["validity"] = {"from": w.start.isoformat(), "to": w.end.isoformat() if w.end else None} if w else None
        return out
    lines = []
    for c in outcome.checks:
        if (isinstance(c, Check) and (c.applies is None or c.applies[row])) or (
            isinstance(c, Note) and (c.rows is None or c.rows[row])
        ):
            lines.append(c.render(row, lang))
    out["because"] = lines
    only = outcome.extra.get("assumption_rows", {})
    assumed = [
        ctx.params[p]
        for p in outcome.parameters
        if p in ctx.params and ctx.params[p].assumption and (p not in only or only[p][row])
    ]
    if assumed:
        # A rule may state a reading with the values it used (the parameter's own note states the defaults).
        stated = outcome.extra.get("assumption_notes", {})
        out["assumptions"] = [
            {
                "parameter": p.path,
                "note": stated[p.path][0 if lang == "zh" else 1](row)
                if p.path in stated
                else (p.note_zh if lang == "zh" else p.note_en)
                or (p.description_zh if lang == "zh" else p.description_en),
            }
            for p in assumed
        ]
    return out


def validity_windows(params: ParameterSet, clause: str, default: Window) -> list[Window]:
    """The windows in which a clause is in force under ``params`` (its ``in_force.<id>`` parameter).

    A reform may end or extend a clause, so the explanation names these windows,
    not the policy's own; without the parameter the policy's window stands.

    >>> from tenglong.core import loader
    >>> validity_windows(loader.parameters(), "2.10", loader.policy()["2.10"].window)
    [Window(start=datetime.date(2022, 7, 16), end=datetime.date(2023, 12, 31))]
    """
    path = f"in_force.{clause}"
    if path not in params:
        return [default]
    p = params[path]
    out: list[Window] = []
    for k, (start, on) in enumerate(zip(p.dates, p.values, strict=True)):
        if not on:
            continue
        end = p.dates[k + 1] - dt.timedelta(days=1) if k + 1 < len(p.dates) else None
        if out and out[-1].end is not None and out[-1].end + dt.timedelta(days=1) == start:
            out[-1] = Window(out[-1].start, end)
        else:
            out.append(Window(start, end))
    return out


def _nearest(windows: list[Window], day: dt.date) -> Window:
    """The window closest to ``day`` (the one just before it, else the next one)."""
    before = [w for w in windows if w.end is not None and w.end < day]
    return before[-1] if before else windows[0]


__all__ = ["REQUEST", "YearValues", "calculate", "explanation", "json_value", "run_rules"]
