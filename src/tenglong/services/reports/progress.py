"""Progress of the campaign's targets, and where each figure comes from.

For every target of ``policy/campaign_targets.yaml`` and a year, the county's (or a town's) figure:

* **computed** from the platform's data where they exist — the four ratios from the published evaluation's
  规上 aggregates (``services/evaluation/dashboard.town_figures``, compared by ``core.targets``); the energy
  intensity and manufacturing investment from the enterprise-year data of 规上 firms against the baseline
  year; the two-year 低效 / 亿元低税 firms from the evaluation's flags against the 高耗低效 register's closed
  entries; the firms eliminated or rectified from the registers; the projects from their total investment;
  the provincial key R&D projects from the core-technology register — each with a sentence saying where;
* **manual** otherwise: the latest figure a person entered (``services/reports/figures.py``), with who, when,
  the source, the note and the evidence files.

A town's figure is compared with the town's share of the target (目标分解) where the admin set one, else — for
a target that does not add up over towns (a ratio, a change) — with the county's target; a count without a
share has no town target (``met`` None). Every comparison goes through ``core.campaign_targets.met``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, and_, distinct, func, or_, select

from ...adapters.db.tables import (
    attachments,
    enterprise_years,
    enterprises,
    evaluation_results,
    projects,
    register_entries,
    target_figures,
    users,
)
from ...core import campaign_targets, reference_data
from ...core.campaign_targets import CampaignTarget, achieved, growth_rate, met
from ...core.errors import InvalidInput, NotFound, Problem
from ...core.targets import figure as ratio_figure
from ...core.targets import meets
from ...registers.roles import Actor
from ..campaign.common import today
from ..enterprises.directory import published_runs
from ..enterprises.lifecycle import total_investment
from ..evaluation.dashboard import town_figures
from ..kernel.scope import require
from ..kernel.uow import UnitOfWork
from . import figures as entered

__all__ = ["COMPUTED", "attainment", "by_town", "progress", "years_of"]

RECTIFIED = {
    "high_consumption_low_efficiency": ("closed", "shut_down"),
    "low_scattered_disorderly": ("closed", "banned"),
}
"""The register states that count as 淘汰 or 整治提升 done (A.3.1 达标销号/关停退出, A.3.3 整治销号/关停取缔)."""
Figure = dict[str, Any]
Computation = Callable[[Connection, CampaignTarget, int, str | None, "_Cache"], Figure]


class _Cache(dict):
    """Per call: what several targets read once (the published runs and their town sums)."""


def _source(zh: str, en: str) -> dict[str, str]:
    return {"kind": "computed", "zh": zh, "en": en}


def _sums(conn: Connection, cache: _Cache, year: int) -> tuple[int | None, dict[str, dict[str, Any]]]:
    """The published run of ``year`` and its exact 规上 sums per town (``dashboard.town_figures``)."""
    if "runs" not in cache:
        cache["runs"] = published_runs(conn)
        cache["sums"] = town_figures(conn, list(cache["runs"].values()))
    run_id = cache["runs"].get(year)
    return run_id, cache["sums"].get(run_id, {}) if run_id is not None else {}


def _added(towns: dict[str, dict[str, Any]], town: str | None) -> dict[str, Any]:
    rows = [towns[town]] if town is not None and town in towns else ([] if town is not None else list(towns.values()))
    out: dict[str, Any] = {}
    for r in rows:
        for k, v in r.items():
            out[k] = out.get(k, 0) + v
    return out


def _ratio(conn: Connection, t: CampaignTarget, year: int, town: str | None, cache: _Cache) -> Figure:
    run_id, towns = _sums(conn, cache, year)
    if run_id is None:
        return {
            "value": None,
            "source": _source(f"{year} 年度无已发布的亩均评价", f"no published evaluation of {year}"),
        }
    sums = _added(towns, town)
    return {
        "value": ratio_figure(t.key, sums) if sums else None,
        "source": _source(
            f"{year} 年度亩均评价 #{run_id}（已发布）规上企业汇总（{int(sums.get('firms', 0))} 家）",
            f"the published evaluation #{run_id} of {year}: above-scale firms summed ({int(sums.get('firms', 0))})",
        ),
    }


def _year_sums(conn: Connection, years: tuple[int, ...], town: str | None, *columns: str) -> dict[int, dict]:
    y = enterprise_years.c
    q = (
        select(y.year, func.count().label("firms"), *(func.sum(getattr(y, c)).label(c) for c in columns))
        .where(y.above_scale.is_(True), y.year.in_(years), *(getattr(y, c).is_not(None) for c in columns))
        .group_by(y.year)
    )
    if town is not None:
        q = q.where(y.town == town)
    return {int(r.year): dict(r._mapping) for r in conn.execute(q)}


def _energy(conn: Connection, t: CampaignTarget, year: int, town: str | None, cache: _Cache) -> Figure:
    base = int(t.baseline_year or 0)
    sums = _year_sums(conn, (year, base), town, "energy_tce", "value_added")

    def intensity(y: int) -> Fraction | None:
        s = sums.get(y)
        if not s or not s["value_added"]:
            return None
        return Fraction(s["energy_tce"]) / Fraction(s["value_added"]) * 10_000  # 吨标准煤 per 万元

    now, then = intensity(year), intensity(base)
    return {
        "value": now,
        "baseline": then,
        "level_unit": "吨标准煤/万元",
        "source": _source(
            f"企业年度数据：规上企业 Σ综合能耗 / Σ工业增加值，{year} 年对比基期 {base} 年",
            f"enterprise-year data: Σ energy / Σ value added of above-scale firms, {year} against {base}",
        ),
    }


def _investment(conn: Connection, t: CampaignTarget, year: int, town: str | None, cache: _Cache) -> Figure:
    base = int(t.baseline_year or 0)
    sums = _year_sums(conn, (year, base), town, "fixed_asset_investment")
    now, then = (sums.get(y, {}).get("fixed_asset_investment") for y in (year, base))
    return {
        "value": Fraction(now) / 10_000 if now is not None else None,
        "baseline": Fraction(then) / 10_000 if then is not None else None,
        "level_unit": "万元",
        "source": _source(
            f"企业年度数据：规上企业 Σ固定资产投资，{year} 年对比基期 {base} 年",
            f"enterprise-year data: Σ fixed-asset investment of above-scale firms, {year} against {base}",
        ),
    }


def _low_tax(conn: Connection, t: CampaignTarget, year: int, town: str | None, cache: _Cache) -> Figure:
    r, e = evaluation_results.c, register_entries.c
    runs = [rid for y, rid in published_runs(conn).items() if y <= year]
    q = (
        select(r.credit_code)
        .distinct()
        .where(
            r.run_id.in_(runs), or_(r.low_efficiency_enterprise.is_(True), r.billion_yuan_low_tax_enterprise.is_(True))
        )
    )
    if town is not None:
        q = q.where(r.town == town)
    flagged = set(conn.execute(q).scalars())
    done = set(
        conn.execute(
            select(e.credit_code)
            .distinct()
            .where(
                e.kind == "high_consumption_low_efficiency",
                e.status.in_(RECTIFIED["high_consumption_low_efficiency"]),
                e.credit_code.in_(flagged) if flagged else e.id.is_(None),
            )
        ).scalars()
    )
    return {
        "value": Fraction(len(done), len(flagged)) if flagged else None,
        "count": len(done),
        "of": len(flagged),
        "source": _source(
            f"已发布亩均评价（{year} 年及以前）标记的低效、亿元低税企业 {len(flagged)} 家，"
            f"其中高耗低效企业清单达标销号或关停退出 {len(done)} 家",
            f"{len(flagged)} firms flagged low-efficiency or low-tax by the published evaluations up to {year}; "
            f"{len(done)} of them closed off or shut down in the 高耗低效 register",
        ),
    }


def _firms_rectified(conn: Connection, t: CampaignTarget, year: int, town: str | None, cache: _Cache) -> Figure:
    e = register_entries.c
    start = campaign_targets.load().start
    end = dt.datetime(year + 1, 1, 1)
    q = select(func.count(distinct(e.credit_code))).where(
        or_(*(and_(e.kind == k, e.status.in_(states)) for k, states in RECTIFIED.items())),
        e.updated_at >= dt.datetime(start.year, start.month, start.day),
        e.updated_at < end,
    )
    if town is not None:
        q = q.where(e.town == town)
    n = int(conn.execute(q).scalar() or 0)
    return {
        "value": Fraction(n),
        "source": _source(
            f"高耗低效企业清单、“四无”/“低散乱”企业清单中 {start.isoformat()} 至 {year} 年底办结（销号、关停）的企业",
            f"firms closed off or shut down in the 高耗低效 and 四无/低散乱 registers from {start.isoformat()} to the "
            f"end of {year}",
        ),
    }


def _projects(first: Callable[[int], dt.date]) -> Computation:
    def compute(conn: Connection, t: CampaignTarget, year: int, town: str | None, cache: _Cache) -> Figure:
        p = projects.c
        since = first(year)
        q = (
            select(p.id, p.inputs)
            .join(enterprises, enterprises.c.credit_code == p.credit_code)
            .where(p.application_date >= since, p.application_date <= dt.date(year, 12, 31))
        )
        if town is not None:
            q = q.where(enterprises.c.town == town)
        least = t.min_investment or Fraction(0)
        n = sum(1 for r in conn.execute(q) if meets(total_investment(r.inputs), least, "以上"))
        wan = int(least / 10_000)
        return {
            "value": Fraction(n),
            "source": _source(
                f"平台登记的项目：{since.isoformat()} 至 {year}-12-31 备案、总投资 {wan} 万元以上",
                f"projects on the platform filed from {since.isoformat()} to {year}-12-31 with a total investment of "
                f"{wan} 万元 or more",
            ),
        }

    return compute


def _key_rd(conn: Connection, t: CampaignTarget, year: int, town: str | None, cache: _Cache) -> Figure:
    e = register_entries.c
    q = select(e.fields).where(
        e.kind == "core_technology",
        e.opened >= dt.date(year, 1, 1),
        e.opened <= dt.date(year, 12, 31),
        e.status != "dismissed",
    )
    if town is not None:
        q = q.where(e.town == town)
    n = sum(1 for fields in conn.execute(q).scalars() if (fields or {}).get("provincial_key_rd") is True)
    return {
        "value": Fraction(n),
        "source": _source(
            f"企业关键核心技术项目攻克清单：{year} 年列入、“列入省重点研发项目”为是的条目",
            f"the core-technology register: entries listed in {year} marked as a provincial key R&D project",
        ),
    }


COMPUTED: dict[str, Computation] = {
    "ratio": _ratio,
    "low_tax_rectified": _low_tax,
    "energy_intensity": _energy,
    "manufacturing_investment": _investment,
    "firms_rectified": _firms_rectified,
    "major_projects": _projects(lambda year: campaign_targets.load().start),
    "provincial_key_rd": _key_rd,
    "billion_projects": _projects(lambda year: dt.date(year, 1, 1)),
}
"""One function per named computation of ``core.campaign_targets.COMPUTATIONS``."""


def years_of(conn: Connection) -> list[int]:
    """The years progress can be shown for: the campaign's, this year (Beijing time), the data's, the published runs'
    and the entered ones."""
    cat = campaign_targets.load()
    found = set(range(cat.start.year, cat.deadline.year + 1)) | {today().year}  # registers and entries are of today
    found |= set(published_runs(conn))
    found |= {int(y) for y in conn.execute(select(enterprise_years.c.year).distinct()).scalars()}
    found |= {int(y) for y in conn.execute(select(target_figures.c.year).distinct()).scalars()}
    return sorted(found)


def _manual(conn: Connection, t: CampaignTarget, year: int, town: str | None, latest: dict) -> Figure:
    row = latest.get((t.key, year, town))
    if row is None:
        return {"value": None, "source": {"kind": "manual", "zh": "尚未录入", "en": "not entered yet"}}
    who = conn.execute(select(users.c.username, users.c.display_name).where(users.c.id == row["entered_by"])).first()
    files = conn.execute(
        select(attachments.c.id, attachments.c.original_name, attachments.c.kind).where(
            attachments.c.owner_type == entered.OWNER.key,
            attachments.c.owner_id == row["id"],
            attachments.c.deleted_at.is_(None),
        )
    ).all()
    return {
        "value": campaign_targets.read_value(row["value"]),
        "source": {
            "kind": "manual",
            "zh": f"人工录入：{row['source']}",
            "en": f"entered: {row['source']}",
            "entry_id": row["id"],
            "value_text": row["value"],
            "origin": row["source"],
            "note": row["note"],
            "entered_by": who.username if who else None,
            "entered_by_name": who.display_name if who else None,
            "entered_at": row["entered_at"],
            "superseded": row["history"],
            "evidence": [{"id": f.id, "name": f.original_name, "kind": f.kind} for f in files],
        },
    }


def _figure(conn: Connection, t: CampaignTarget, year: int, town: str | None, cache: _Cache, latest: dict) -> Figure:
    if t.source == "computed" and t.computation is not None:
        return COMPUTED[t.computation](conn, t, year, town, cache)
    return _manual(conn, t, year, town, latest)


def _check_town(actor: Actor, town: str | None) -> None:
    if town is None:
        return
    if town not in {t.code for t in reference_data.towns()}:
        raise InvalidInput(
            [
                Problem(
                    "unknown_town", "town", town, "19 个镇（街道）或 2 个开发区之一的代码",
                    "the code of one of the 19 towns or 2 zones", reference_data.towns()[0].code,
                    f"没有代码为 {town} 的镇（街道）。", f"There is no town with the code {town}.",
                )
            ]
        )  # fmt: skip
    if not actor.sees_all_enterprises and actor.town != town:
        raise NotFound(town)


def progress(uow: UnitOfWork, actor: Actor, year: int | None = None, town: str | None = None) -> list[dict[str, Any]]:
    """Every target's progress in ``year`` for the county (``town`` None) or a town, with where each figure comes from.

    Args:
        uow: the unit of work.
        actor: who asks (``read``; a town official sees the county and its own town, not another town).
        year: the year (default: the latest of :func:`years_of` up to the campaign's deadline year).
        town: a town's code; only the targets broken down by town are listed for a town.

    Returns:
        One dict per target: its definition (key, clause, names, unit, term, value, period, quote…), ``aim`` (the
        number compared: the target, or the town's share), ``figure`` (the level, exact), ``achieved`` (what is
        compared: the figure, the change, or the growth factor), ``met`` (True / False / None without a figure or
        a town target), ``source`` (``computed`` with where, or ``manual`` with who, when, the note, the evidence),
        and ``trend`` (the achieved value and ``met`` of every year).

    Raises:
        Forbidden: without ``read``. NotFound: another town for a town official. InvalidInput: an unknown town.
    """
    require(actor, "read")
    town = town or None
    _check_town(actor, town)
    cat = campaign_targets.load()
    with uow.read() as conn:
        years = years_of(conn)
        if year is None:
            year = max(y for y in years if y <= cat.deadline.year) if years else cat.deadline.year
        ctx = (_Cache(), entered.latest_figures(conn), entered.shares(conn))
        return [_progress(conn, t, year, town, years, ctx) for t in cat if town is None or t.by_town]


def by_town(uow: UnitOfWork, actor: Actor, key: str, year: int | None = None) -> list[dict[str, Any]]:
    """One target's progress in ``year`` for every town (a town official: its own town only), without trends.

    Raises:
        Forbidden: without ``read``. NotFound: an unknown target. InvalidInput: a target not broken down by town.
    """
    require(actor, "read")
    t = entered.target_of(key)
    if not t.by_town:
        return []
    codes = [c.code for c in reference_data.towns() if actor.sees_all_enterprises or c.code == actor.town]
    with uow.read() as conn:
        if year is None:
            year = max(y for y in years_of(conn) if y <= campaign_targets.load().deadline.year)
        ctx = (_Cache(), entered.latest_figures(conn), entered.shares(conn))
        return [{**_progress(conn, t, year, code, [], ctx), "town": code} for code in codes]


def attainment(uow: UnitOfWork, year: int) -> dict[str, tuple[int, int]]:
    """Per town, of the targets broken down by town that it is assessed on in ``year`` (a figure and a town target:
    ``met`` not None), how many it meets and how many there are — the 季擂台's target indicator. The platform's own
    reading (no scope: every town)."""
    codes = [c.code for c in reference_data.towns()]
    out = dict.fromkeys(codes, (0, 0))
    with uow.read() as conn:
        ctx = (_Cache(), entered.latest_figures(conn), entered.shares(conn))
        for t in campaign_targets.load():
            if not t.by_town:
                continue
            for code in codes:
                verdict = _progress(conn, t, year, code, [], ctx)["met"]
                if verdict is not None:
                    met_n, of = out[code]
                    out[code] = (met_n + (verdict is True), of + 1)
    return out


def _progress(conn: Connection, t: CampaignTarget, year: int, town: str | None, years: list[int], ctx: tuple) -> dict:
    cache, latest, share_of = ctx
    share = share_of.get((t.key, town)) if town is not None else None
    aim = share["exact"] if share else (t.value if town is None or not t.additive else None)
    trend = []
    for y in years:
        f = _figure(conn, t, y, town, cache, latest)
        a = achieved(t, f["value"], f.get("baseline"), y)
        trend.append({"year": y, "achieved": a, "met": _met(t, f, a, y, aim, share is not None)})
    f = _figure(conn, t, year, town, cache, latest)
    a = achieved(t, f["value"], f.get("baseline"), year)
    return _row(t, f, a, year, aim, share, trend)


def _met(
    t: CampaignTarget, f: Figure, a: Fraction | None, year: int, aim: Fraction | None, shared: bool
) -> bool | None:
    if a is None or aim is None:
        return None
    return met(t, a, year, aim if shared else None)


def _row(
    t: CampaignTarget, f: Figure, a: Fraction | None, year: int, aim: Fraction | None, share: Any, trend: list
) -> dict[str, Any]:
    years = year - t.baseline_year if t.baseline_year is not None else 0
    return {
        "key": t.key,
        "clause": t.clause,
        "zh": t.zh,
        "en": t.en,
        "unit": t.unit,
        "term": t.term,
        "direction": t.direction,
        "measure": t.measure,
        "period": t.period,
        "deadline": t.deadline,
        "baseline_year": t.baseline_year,
        "quote": t.quote,
        "by_town": t.by_town,
        "assumption": t.assumption,
        "note_zh": t.note_zh,
        "note_en": t.note_en,
        "value": t.value,
        "value_text": t.value_text,
        "aim": aim,
        "aim_from": "share" if share else ("target" if aim is not None else None),
        "share_set_at": share["set_at"] if share else None,
        "year": year,
        "figure": f["value"],
        "baseline": f.get("baseline"),
        "level_unit": f.get("level_unit"),
        "achieved": a,
        "growth_rate": growth_rate(a, years) if t.measure == "annual_growth" else None,
        "met": _met(t, f, a, year, aim, share is not None),
        "source_kind": t.source,
        "source": f["source"],
        "count": f.get("count"),
        "of": f.get("of"),
        "trend": trend,
    }
