"""首页驾驶舱: the county figures of a published year against the A.2 targets, classes, towns and the trend.

County figures and class counts are the stored summary of the published run
(``evaluation_runs.summary``), so the dashboard shows exactly what was
published. Town figures are aggregated in SQL from the stored results the same
way ``core.mujun.evaluation.county_figures`` aggregates the county: Σ numerator
/ Σ denominator over the evaluated 规上 firms (``core.targets.figure``), compared
exactly with the target by its boundary word (``core.targets.meets``: "超过" is
strictly above, "达到" at least).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select

from ...adapters.db.tables import enterprise_years, evaluation_results, evaluation_runs
from ...core import loader, reference_data
from ...core.boundary import boundary
from ...core.targets import COUNTY_KEYS, Target, figure
from ...registers.roles import Actor
from ..enterprises.directory import published_run_of
from ..kernel.scope import require
from ..kernel.uow import UnitOfWork
from .runs import run_stamp

KPI_KEYS = COUNTY_KEYS
CLASSES = ("A", "B", "C", "D")
GROUPS = ("above_scale", "below_scale")
_R = evaluation_results.c


@dataclass(frozen=True)
class Kpi:
    """One county (or town) 规上 figure against its A.2 target."""

    key: str
    value: float | None
    target: Decimal
    met: bool
    term: str

    @property
    def strict(self) -> bool:
        """The boundary word excludes the number itself (超过)."""
        return boundary(self.term).op in (">", "<")


@dataclass(frozen=True)
class TownFigures:
    """The 规上 aggregates of one town in one year (``rank`` by 亩均税收, 1 = highest)."""

    code: str
    firms: int
    tax_per_mu: float | None
    value_added_per_mu: float | None
    labor_productivity: float | None
    rd_intensity: float | None
    rank: int | None = None


@dataclass(frozen=True)
class TrendPoint:
    """One published year: county figures, class counts (规上 + 规下) and, for a town official, the town's figures."""

    year: int
    county: dict[str, float | None]
    classes: dict[str, int]
    town: dict[str, float | None] | None = None


@dataclass
class Dashboard:
    """Everything the dashboard shows for one published year (``year`` None while nothing is published)."""

    year: int | None
    years: list[int]
    run_id: int | None = None
    run: Any = None  # the run's stamp (runs.RunStamp: id, year, published, the run it superseded)
    county: list[Kpi] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    town_code: str | None = None
    town: list[Kpi] = field(default_factory=list)
    town_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    ranking: list[TownFigures] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    own: dict[str, Any] | None = None


def dashboard(uow: UnitOfWork, actor: Actor, year: int | None = None) -> Dashboard:
    """The dashboard of a published year for ``actor``.

    Every role sees the county figures, the class distribution, the town
    ranking and the trend (aggregates only); a town official also gets the
    figures and class counts of their town, an enterprise its own class card.

    Args:
        uow: the unit of work.
        actor: who asks.
        year: a published year; None for the latest.

    Raises:
        Forbidden: for a role without ``read``.
        InvalidInput: for a year without a published run.
    """
    require(actor, "read")
    with uow.read() as conn:
        year, run_id, years = published_run_of(conn, year)
        if run_id is None:
            return Dashboard(None, years)
        runs = {
            int(r.year): r
            for r in conn.execute(
                select(evaluation_runs.c.id, evaluation_runs.c.year, evaluation_runs.c.summary).where(
                    evaluation_runs.c.status == "published"
                )
            )
        }
        summary = runs[year].summary or {}
        targets = stored_targets(summary)
        towns = town_figures(conn, [int(r.id) for r in runs.values()])
        d = Dashboard(year, years, run_id, run_stamp(conn, run_id))
        d.county = [
            Kpi(k, v["value"], targets[k].value, bool(v["met"]), targets[k].term)
            for k, v in (summary.get("county") or {}).items()
        ]
        d.counts = {g: {k: int(n) for k, n in (summary.get("counts") or {}).get(g, {}).items()} for g in GROUPS}
        d.ranking = _ranking(towns.get(run_id, {}))
        if actor.role == "town" and actor.town:
            d.town_code = actor.town
            exact = towns.get(run_id, {}).get(actor.town)
            d.town = [_kpi(k, exact, targets[k]) for k in KPI_KEYS if k in targets]
            d.town_counts = class_counts(conn, run_id, actor.town)
        if actor.role == "enterprise" and actor.credit_code:
            d.own = _own(conn, run_id, actor.credit_code)
        for y in sorted(runs):
            s = runs[y].summary or {}
            county = {k: v["value"] for k, v in (s.get("county") or {}).items()}
            classes = {
                c: sum(int((s.get("counts") or {}).get(g, {}).get(c, 0)) for g in GROUPS)
                for c in (*CLASSES, "not_evaluated")
            }
            mine = towns.get(int(runs[y].id), {}).get(actor.town) if d.town_code else None
            d.trend.append(
                TrendPoint(y, county, classes, {k: _ratio(mine, k) for k in KPI_KEYS} if d.town_code else None)
            )
        return d


def town_figures(conn: Connection, run_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """Exact 规上 sums per run and town: ``{run_id: {town: {firms, tax_paid, value_added, …}}}`` (Decimal 元, 亩, 人).

    The keys are the column names :data:`core.targets.RATIOS` aggregates.
    """
    if not run_ids:
        return {}
    y = enterprise_years.c
    q = (
        select(
            _R.run_id,
            _R.town,
            func.count().label("firms"),
            func.sum(_R.tax_paid).label("tax_paid"),
            func.sum(_R.value_added).label("value_added"),
            func.sum(_R.land_area_mu).label("land_area_mu"),
            func.sum(_R.employees).label("employees"),
            func.sum(y.rd_expense).label("rd_expense"),
            func.sum(y.revenue).label("revenue"),
        )
        .select_from(
            evaluation_results.outerjoin(enterprise_years, and_(y.credit_code == _R.credit_code, y.year == _R.year))
        )
        .where(_R.run_id.in_(run_ids), _R.above_scale.is_(True), _R.evaluated.is_(True))
        .group_by(_R.run_id, _R.town)
    )
    out: dict[int, dict[str, dict[str, Any]]] = {}
    for r in conn.execute(q):
        m = r._mapping
        out.setdefault(int(r.run_id), {})[r.town] = {
            k: (m[k] if m[k] is not None else Decimal(0))
            for k in ("firms", "tax_paid", "value_added", "land_area_mu", "employees", "rd_expense", "revenue")
        }
    return out


def _ratio(sums: dict[str, Any] | None, key: str) -> float | None:
    r = figure(key, sums) if sums else None
    return float(r) if r is not None else None


def _kpi(key: str, sums: dict[str, Any] | None, target: Target) -> Kpi:
    r = figure(key, sums) if sums else None
    return Kpi(key, float(r) if r is not None else None, target.value, target.met_by(r), target.term)


def stored_targets(summary: dict[str, Any]) -> dict[str, Target]:
    """The A.2 targets a published run was judged against, from its stored summary.

    Summaries stored before the boundary word was kept take it from the targets' parameters.
    """
    params = loader.parameters()
    out = {}
    for key, v in (summary.get("county") or {}).items():
        p = params[f"targets.{key}"]
        out[key] = Target(key, Decimal(str(v["target"])), v.get("term") or p.term, p.unit, p.clause or "A.2")
    return out


def _ranking(towns: dict[str, dict[str, Any]]) -> list[TownFigures]:
    """Every town and zone of the reference table, ranked by 规上 亩均税收 (towns without 规上 firms last, unranked)."""
    rows = [
        TownFigures(
            t.code, int(towns.get(t.code, {}).get("firms", 0)), *(_ratio(towns.get(t.code), k) for k in KPI_KEYS)
        )
        for t in reference_data.towns()
    ]
    order = sorted(rows, key=lambda r: (r.tax_per_mu is None, -(r.tax_per_mu or 0.0), r.code))
    return [
        TownFigures(**{**r.__dict__, "rank": i if r.tax_per_mu is not None else None})
        for i, r in enumerate(order, start=1)
    ]


def class_counts(conn: Connection, run_id: int, town: str | None) -> dict[str, dict[str, int]]:
    """Final classes of one town's firms (every firm for ``None``), per group, with ``not_evaluated``."""
    out = {g: {**{c: 0 for c in CLASSES}, "not_evaluated": 0} for g in GROUPS}
    q = (
        select(_R.above_scale, _R.evaluated, _R.mujun_class, func.count().label("n"))
        .where(_R.run_id == run_id, *([_R.town == town] if town is not None else []))
        .group_by(_R.above_scale, _R.evaluated, _R.mujun_class)
    )
    for r in conn.execute(q):
        key = r.mujun_class if r.evaluated and r.mujun_class in CLASSES else "not_evaluated"
        out["above_scale" if r.above_scale else "below_scale"][key] += int(r.n)
    return out


def _own(conn: Connection, run_id: int, credit_code: str) -> dict[str, Any] | None:
    """The enterprise's own result card of the year (None when it has no result that year)."""
    q = select(
        _R.credit_code,
        _R.above_scale,
        _R.evaluated,
        _R.not_evaluated_reason,
        _R.mujun_score,
        _R.rank,
        _R.group_size,
        _R.mujun_class_computed,
        _R.mujun_class,
        _R.mujun_class_override,
        _R.vetoed,
        _R.carbon_grade,
        _R.d_years_running,
    ).where(_R.run_id == run_id, _R.credit_code == credit_code)
    row = conn.execute(q).first()
    return dict(row._mapping) if row else None
