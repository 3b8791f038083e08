"""季擂台 (a quarter) and 年评优 (a year): the 19 镇(街道) and the two zones ranked by the method of ``core/contest``.

The indicators of each unit for the period, from the platform's records:

* ``targets`` — of the targets broken down by town that the unit is assessed on in the period's year (a figure and
  a town target), the share it meets (``progress.attainment``);
* ``closure`` — of the loops of the A.3 registers that have a closing end (a terminal state other than the ways
  out, ``bulletin.OUT_STATES``: 达标销号, 关停退出, 攻克, 验收…) that were open at the period's start or opened in
  it, the share closed by its end; the states at both instants are rebuilt from the audit log (the registers'
  history). A loop that left by a way out in the period (撤销, 移出…) is not counted. A unit with no such loop has
  no closure figure;
* ``starts`` — the projects of its enterprises started in the period (the life cycle's 开工 date);
* ``mujun`` — the growth of its 规上 亩均税收 (or 亩均增加值, ``contest.mujun_figure``) from the data year before to
  the latest data year up to the period's year with a published evaluation (both published).

The annual report adds the year's candidate examples (A.4.3, ``awards.py``) with their state: proposed by the
rules, selected or dismissed by a person. The data are plain (``Contest``); the files are drawn from them by
``documents.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, String, cast, select

from ...adapters.db.tables import audit_log, register_entries
from ...core import contest as method_
from ...core import loader, reference_data
from ...core.errors import InvalidInput, Problem
from ...core.targets import figure as ratio_figure
from ...registers.roles import Actor
from ..campaign.common import CHINA, KINDS, E
from ..enterprises.directory import published_runs
from ..evaluation.dashboard import town_figures
from ..kernel.uow import UnitOfWork
from . import officials_only
from .bulletin import OUT_STATES, _projects, _utc
from .progress import attainment

__all__ = ["Contest", "annual", "closure_kinds", "period_of", "quarterly"]

QUARTER = re.compile(r"(\d{4})\s*[Qq]([1-4])")
YEAR = re.compile(r"\d{4}")
INDICATOR_NAMES = {
    "targets": ("目标完成率", "targets met", "%"),
    "closure": ("清单销号率", "register loops closed", "%"),
    "starts": ("项目开工数", "projects started", "个"),
    "mujun": ("亩均效益增幅", "growth of the per-mu figure", "%"),
}
"""Each indicator's name (zh, en) and the unit of its value."""
MUJUN_FIGURES = {
    "tax_per_mu": ("规上亩均税收", "above-scale tax per mu"),
    "value_added_per_mu": ("规上亩均增加值", "above-scale value added per mu"),
}


@dataclass
class Contest:
    """One period's contest: the period, the method and its parameters, the indicators and the standings."""

    period: str
    annual: bool
    first: dt.date
    last: dt.date
    issued: dt.date
    number: str
    method: method_.Method
    parameters: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    standings: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)


def _period_problem(text: Any, annual: bool) -> InvalidInput:
    shown = str(text)[:20]
    if annual:
        zh, en, example = "年度，格式 YYYY", "a year as YYYY", "2023"
    else:
        zh, en, example = "季度，格式 YYYYQn（n 为 1–4）", "a quarter as YYYYQn (n from 1 to 4)", "2023Q2"
    return InvalidInput(
        [
            Problem(
                "invalid_field",
                "year" if annual else "quarter",
                shown,
                zh,
                en,
                example,
                f"{'年度' if annual else '季度'} {shown!r} 无效，应为{zh}，例如 {example}。",
                f"The {'year' if annual else 'quarter'} {shown!r} is not valid; expected {en}, e.g. {example}.",
            )
        ]
    )


def period_of(text: Any, annual: bool) -> tuple[str, dt.date, dt.date]:
    """The period's label, first and last day: a quarter ``2023Q2`` or a year ``2023``.

    >>> period_of("2023q2", False), period_of(" 2023 ", True)[0]
    (('2023Q2', datetime.date(2023, 4, 1), datetime.date(2023, 6, 30)), '2023')

    Raises:
        InvalidInput: not a quarter (a year), with an example.
    """
    raw = str(text or "").strip()
    if annual:
        if not YEAR.fullmatch(raw) or not 2000 <= int(raw) <= 2100:
            raise _period_problem(text, True)
        return raw, dt.date(int(raw), 1, 1), dt.date(int(raw), 12, 31)
    m = QUARTER.fullmatch(raw)
    if not m or not 2000 <= int(m.group(1)) <= 2100:
        raise _period_problem(text, False)
    year, q = int(m.group(1)), int(m.group(2))
    first = dt.date(year, 3 * q - 2, 1)
    last = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1) - dt.timedelta(days=1)
    return f"{year}Q{q}", first, last


def closure_kinds() -> list[Any]:
    """The registers whose loops the closure indicator counts: A.3's, with a closing end."""
    return [
        k
        for k in KINDS.values()
        if k.clause.startswith("A.3.")
        and any(s.terminal and key not in OUT_STATES for key, s in k.workflow.states.items())
    ]


def _closure(conn: Connection, start: dt.datetime, end: dt.datetime) -> dict[str, tuple[int, int]]:
    """Per town: (loops closed by ``end``, loops open at ``start`` or opened before ``end``), from the audit log."""
    kinds = {k.key: k for k in closure_kinds()}
    a = audit_log.c
    rows = conn.execute(
        select(a.at, a.action, a.after, E.id, E.kind, E.town)
        .select_from(audit_log.join(register_entries, cast(E.id, String) == a.entity_id))
        .where(a.entity_type.in_(list(kinds)), E.kind == a.entity_type, a.at < end)
        .order_by(a.id)
    ).all()
    before: dict[int, str | None] = {}
    state: dict[int, str] = {}
    opened: set[int] = set()
    town: dict[int, str] = {}
    kind_of: dict[int, Any] = {}
    for at, action, after, entry, kind_key, where in rows:
        kind = kinds[kind_key]
        moment = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        status = after.get("status") if isinstance(after, dict) else None
        if status is None:
            m = kind.workflow.move(action.rpartition(".")[2], state.get(entry, ""))
            status = m.target if m is not None else None
        if status not in kind.workflow.states:
            continue
        town[entry], kind_of[entry], state[entry] = where, kind, status
        if moment < start:
            before[entry] = status
        elif _open(kind, status):
            opened.add(entry)
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for entry, now in state.items():
        kind = kind_of[entry]
        if not (_open(kind, before.get(entry)) or entry in opened):
            continue
        if kind.workflow.states[now].terminal and now in OUT_STATES:
            continue  # left by a way out: not a loop to close any more
        out[town[entry]][1] += 1
        out[town[entry]][0] += bool(kind.workflow.states[now].terminal)
    return {t: (c, n) for t, (c, n) in out.items()}


def _open(kind: Any, status: str | None) -> bool:
    return status is not None and status != kind.proposal_state and not kind.workflow.states[status].terminal


def _mujun(conn: Connection, year: int, key: str) -> tuple[dict[str, Fraction | None], tuple[int, int] | None]:
    """Per town, the growth of the per-mu figure ``key`` between the latest data year ≤ ``year`` with a published
    evaluation and the year before (published too); the two years, or None when there are none."""
    runs = published_runs(conn)
    years = [y for y in runs if y <= year and y - 1 in runs]
    if not years:
        return {}, None
    y = max(years)
    sums = town_figures(conn, [runs[y], runs[y - 1]])
    now, then = sums.get(runs[y], {}), sums.get(runs[y - 1], {})
    out: dict[str, Fraction | None] = {}
    for town in now:
        new, old = ratio_figure(key, now[town]), ratio_figure(key, then[town]) if town in then else None
        out[town] = new / old - 1 if new is not None and old else None
    return out, (y - 1, y)


def _pct(x: Fraction | None, signed: bool = False) -> str:
    if x is None:
        return "—"
    d = (Decimal(x.numerator) * 100 / Decimal(x.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{'+' if signed and d > 0 else ''}{d}%"


def _two(x: Fraction | Decimal | None) -> Decimal | None:
    if x is None:
        return None
    d = Decimal(x.numerator) / Decimal(x.denominator) if isinstance(x, Fraction) else x
    return d.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _value_texts(name: str, value: Any) -> tuple[str, str]:
    """A contest parameter's value as officials read it, in zh and en (names, not keys; shares as percentages)."""
    if name == "weights":
        return (
            "、".join(f"{INDICATOR_NAMES[k][0]} {_pct(Fraction(v))}" for k, v in value.items()),
            ", ".join(f"{INDICATOR_NAMES[k][1]} {_pct(Fraction(v))}" for k, v in value.items()),
        )
    if name == "decimals":
        return f"{value} 位小数", f"{value} decimal places"
    if name == "mujun_figure":
        return MUJUN_FIGURES[value]
    if name == "zero_land_demo_investment":
        wan = Decimal(value) / 10_000
        return f"{wan:,.0f} 万元以上", f"{wan:,.0f} 万元 or more"
    if name == "award_classes":
        chosen = [k for k, v in value.items() if v]
        return "、".join(chosen) + " 类", "classes " + ", ".join(chosen)
    if name == "rectified_tax_growth":
        return f"{_pct(Fraction(value))}以上", f"{_pct(Fraction(value))} or more"
    return str(value), str(value)  # pragma: no cover - every parameter of the file is named above


def _parameters(day: dt.date, annual: bool) -> list[dict[str, Any]]:
    """The contest's parameters in force, as shown on the report (path, names, value as read in zh and en, clause,
    assumption, notes)."""
    params = loader.parameters()
    out = []
    for name in ("weights", "decimals", "mujun_figure") + (
        ("zero_land_demo_investment", "award_classes", "rectified_tax_growth") if annual else ()
    ):
        p = params[f"contest.{name}"]
        zh, en = _value_texts(name, p.at(day))
        out.append(
            {
                "path": p.path,
                "zh": p.description_zh,
                "en": p.description_en,
                "value_zh": zh,
                "value_en": en,
                "term": p.term,
                "clause": p.clause,
                "assumption": p.assumption,
                "note_zh": p.note_zh,
                "note_en": p.note_en,
            }
        )
    return out


def _contest(uow: UnitOfWork, actor: Actor | None, text: Any, annual: bool, issued: dt.date | None) -> Contest:
    if actor is not None:
        officials_only(actor)
    label, first, last = period_of(text, annual)
    params = loader.parameters()
    method = method_.method_at(params, last)
    figure_key = params["contest.mujun_figure"].at(last) or "tax_per_mu"
    start, end = _utc(first), _utc(last + dt.timedelta(days=1))
    met = attainment(uow, first.year)
    with uow.read() as conn:
        closed = _closure(conn, start, end)
        started, _ = _projects(conn, None, first, last)
        growth, years = _mujun(conn, first.year, figure_key)
    starts: dict[str, int] = defaultdict(int)
    for r in started:
        starts[r["town"]] += 1
    units = reference_data.towns()
    values: dict[str, dict[str, Fraction | None]] = {}
    counts: dict[str, dict[str, tuple[int, int] | None]] = {}
    for u in units:
        m, c = met.get(u.code, (0, 0)), closed.get(u.code)
        values[u.code] = {
            "targets": Fraction(m[0], m[1]) if m[1] else None,
            "closure": Fraction(c[0], c[1]) if c and c[1] else None,
            "starts": Fraction(starts.get(u.code, 0)),
            "mujun": growth.get(u.code),
        }
        counts[u.code] = {"targets": m if m[1] else None, "closure": c}
        values[u.code] = {k: v for k, v in values[u.code].items() if k in method.order}
    standings = method_.rank(values, method)
    names = {u.code: u for u in units}
    contest = Contest(
        period=label,
        annual=annual,
        first=first,
        last=last,
        issued=issued or dt.datetime.now(CHINA).date(),
        number=f"{first.year}年第{(first.month + 2) // 3}期" if not annual else f"{first.year}年度",
        method=method,
        parameters=_parameters(last, annual),
    )
    contest.indicators = _indicators(method, first, years, figure_key)
    contest.standings = [_standing(s, names[s.unit], counts[s.unit], names) for s in standings]
    return contest


def _indicators(
    method: method_.Method, first: dt.date, years: tuple[int, int] | None, figure_key: str
) -> list[dict[str, Any]]:
    total = sum(w for _, w in method.weights)
    fig_zh, fig_en = MUJUN_FIGURES[figure_key]
    how = {
        "targets": (
            f"{first.year} 年分解到镇（街道）的目标中，已达到目标的项数 ÷ 有数据且有镇级目标的项数",
            f"of the targets broken down by town in {first.year} with a figure and a town target, the share met",
        ),
        "closure": (
            "附件三六张清单中期初在办及期内新列入的事项，期末已办结（销号、关停退出、攻克、验收等）的比例",
            "of the A.3 registers' loops open at the start or opened in the period, the share closed by its end",
        ),
        "starts": ("期内开工的项目个数（项目全周期的开工日期）", "projects whose start date falls in the period"),
        "mujun": (
            f"{fig_zh} {years[0]}→{years[1]} 年度的增幅（已发布的亩均评价）"
            if years
            else f"{fig_zh}增幅：无连续两年已发布的评价",
            f"growth of the {fig_en} from {years[0]} to {years[1]} (published evaluations)"
            if years
            else f"growth of the {fig_en}: no two consecutive published evaluations",
        ),
    }  # fmt: skip
    return [
        {
            "key": k,
            "zh": INDICATOR_NAMES[k][0],
            "en": INDICATOR_NAMES[k][1],
            "unit": INDICATOR_NAMES[k][2],
            "weight": w,
            "weight_pct": _pct(w / total),
            "how_zh": how[k][0],
            "how_en": how[k][1],
        }
        for k, w in method.weights
    ]


def _standing(s: method_.Standing, unit: Any, counts: dict[str, Any], names: dict[str, Any]) -> dict[str, Any]:
    cells = {}
    for k, v in s.values.items():
        n = counts.get(k)
        if k == "starts":
            shown = "—" if v is None else str(int(v))
        elif k == "mujun":
            shown = _pct(v, signed=True)
        else:
            shown = _pct(v) + (f"（{n[0]}/{n[1]}）" if n else "")
        cells[k] = {"value": v, "shown": shown, "score": _two(s.scores.get(k))}
    return {
        "rank": s.rank,
        "code": s.unit,
        "zh": unit.name_zh,
        "en": unit.name_en,
        "zone": unit.kind == "zone",
        "composite": s.composite,
        "cells": cells,
        "shared_zh": "、".join(names[u].name_zh for u in s.shared),
        "shared_en": ", ".join(names[u].name_en for u in s.shared),
        "decided_by": s.decided_by,
    }


def quarterly(uow: UnitOfWork, actor: Actor | None, quarter: Any, issued: dt.date | None = None) -> Contest:
    """The 季擂台 of ``quarter`` (``2023Q2``). Every official reads it (the whole ranking: a contest is public
    among the towns); ``actor`` None is the platform itself.

    Raises:
        Forbidden: a role without ``read``. InvalidInput: a bad quarter.
    """
    return _contest(uow, actor, quarter, False, issued)


def annual(uow: UnitOfWork, actor: Actor | None, year: Any, issued: dt.date | None = None) -> Contest:
    """The 年评优 of ``year``: the towns' ranking over the year, and the year's candidate examples (A.4.3).

    Raises:
        Forbidden: a role without ``read``. InvalidInput: a bad year.
    """
    from .awards import candidates

    contest = _contest(uow, actor, year, True, issued)
    contest.candidates = candidates(uow, contest.first.year)
    return contest
