"""The year's candidate examples (附件 四(三) 典型引路): “零增地”技改示范企业 and “两高一低”企业整治提升典型.

Each list is chosen by a rule with the parameters of ``policy/parameters/contest.yaml`` and then confirmed by a
person: the platform *proposes* each candidate on the register ``award_candidate`` (A.4.3), stating the rule and
the values it used, and an official of the bureau selects (遴选确认) or dismisses it with a reason — the
register's own loop, audit and pages. The evaluation used for the award year Y is the latest published data year
up to Y (and the one before it, for a growth); the report names it.

* **“零增地”技改示范企业** (``zero_land_demo``): a zero-new-land renovation project (``zero_land_renovation``)
  completed (竣工) in year Y whose total investment is ``contest.zero_land_demo_investment`` (1000万元) 以上, its
  enterprise of a class in ``contest.award_classes`` (A, B) — one candidate per enterprise, for its largest such
  project.
* **“两高一低”整治提升典型** (``rectified_example``): an entry of the 高耗低效 register closed off (达标销号, not
  关停退出) in year Y, its enterprise of a class in ``contest.award_classes``, and its 亩均税收 grown by
  ``contest.rectified_tax_growth`` (10%) 以上 over the year before.

A firm on the 严重失信名单 (A.4.2) is never proposed. A candidate proposed for a year is not proposed again for
that year (dismissed or not); a person may add one the data do not show.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, String, cast, select, update

from ...adapters.db.tables import (
    audit_log,
    enterprises,
    evaluation_results,
    evaluation_runs,
    projects,
    register_entries,
)
from ...core import loader
from ...core.targets import meets
from ..campaign.common import KINDS, E, beijing, plain, today, town_names
from ..campaign.entries import propose
from ..enterprises.directory import published_runs
from ..enterprises.lifecycle import total_investment
from ..kernel.uow import UnitOfWork, Writer

__all__ = ["AWARD", "candidates", "propose_candidates", "propose_for_run"]

AWARD, HCLE, DISHONESTY = "award_candidate", "high_consumption_low_efficiency", "dishonesty"


def _rules(year: int) -> dict[str, Any]:
    params = loader.parameters()
    day = dt.date(year, 12, 31)
    names = ("zero_land_demo_investment", "award_classes", "rectified_tax_growth")
    return {n: params[f"contest.{n}"] for n in names} | {"day": day}


def _runs(conn: Connection, year: int) -> tuple[int | None, int | None, int | None]:
    """(data year, its run, the run of the year before) for award year ``year``."""
    runs = published_runs(conn)
    years = [y for y in runs if y <= year]
    if not years:
        return None, None, None
    y = max(years)
    return y, runs[y], runs.get(y - 1)


def _per_mu(tax: Any, land: Any) -> Fraction | None:
    return Fraction(tax) / Fraction(land) / 10_000 if tax is not None and land else None


def _four(x: Fraction | None) -> str | None:
    if x is None:
        return None
    return str((Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def _classes(conn: Connection, run_id: int | None) -> dict[str, Any]:
    if run_id is None:
        return {}
    r = evaluation_results.c
    rows = conn.execute(
        select(r.credit_code, r.mujun_class, r.evaluated, r.tax_paid, r.land_area_mu).where(r.run_id == run_id)
    ).all()
    return {row.credit_code: row for row in rows}


def _dishonest(conn: Connection) -> set[str]:
    return set(conn.execute(select(E.credit_code).where(E.kind == DISHONESTY, E.status == "listed")).scalars())


def _already(conn: Connection, year: int) -> set[tuple[str, str]]:
    """(category, enterprise) proposed or added for ``year`` before."""
    rows = conn.execute(select(E.credit_code, E.category, E.fields).where(E.kind == AWARD)).all()
    return {(r.category, r.credit_code) for r in rows if str((r.fields or {}).get("year")) == str(year)}


def _zero_land(conn: Connection, year: int, rules: dict, classes: dict, skip: set[str]) -> list[dict[str, Any]]:
    p = rules["zero_land_demo_investment"]
    bar, allowed = p.at(rules["day"]), rules["award_classes"].at(rules["day"]) or {}
    found = conn.execute(
        select(projects, enterprises.c.town)
        .join(enterprises, enterprises.c.credit_code == projects.c.credit_code)
        .order_by(projects.c.id)
    ).all()
    best: dict[str, dict[str, Any]] = {}
    for row in found:
        done = str((row.lifecycle or {}).get("completed_on") or "")[:10]
        investment = total_investment(row.inputs)
        firm = classes.get(row.credit_code)
        if (
            (row.inputs or {}).get("zero_land_renovation") is not True
            or not done.startswith(f"{year}-")
            or bar is None
            or not meets(investment, bar, p.term)
            or firm is None
            or not firm.evaluated
            or not allowed.get(firm.mujun_class)
            or row.credit_code in skip
        ):
            continue
        if row.credit_code in best and best[row.credit_code]["investment"] >= investment:
            continue
        best[row.credit_code] = {
            "credit_code": row.credit_code,
            "town": row.town,
            "project_id": row.id,
            "project": row.name,
            "completed_on": done,
            "investment": investment,
            "mujun_class": firm.mujun_class,
        }
    return list(best.values())


def _rectified(
    conn: Connection, year: int, rules: dict, classes: dict, before: dict, skip: set[str]
) -> list[dict[str, Any]]:
    p = rules["rectified_tax_growth"]
    bar, allowed = p.at(rules["day"]), rules["award_classes"].at(rules["day"]) or {}
    a = audit_log.c
    closings = conn.execute(
        select(a.at, a.after, E.id, E.credit_code, E.town, E.status)
        .select_from(audit_log.join(register_entries, cast(E.id, String) == a.entity_id))
        .where(a.entity_type == HCLE, E.kind == HCLE, E.status == "closed")
        .order_by(a.id)
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for row in closings:
        moment = beijing(row.at)
        if not (isinstance(row.after, dict) and row.after.get("status") == "closed") or moment is None:
            continue
        if moment.year != year or row.credit_code in skip:
            continue
        firm, old = classes.get(row.credit_code), before.get(row.credit_code)
        if firm is None or not firm.evaluated or not allowed.get(firm.mujun_class) or old is None:
            continue
        new_mu, old_mu = _per_mu(firm.tax_paid, firm.land_area_mu), _per_mu(old.tax_paid, old.land_area_mu)
        if new_mu is None or not old_mu:
            continue
        growth = new_mu / old_mu - 1
        if bar is None or not meets(growth, bar, p.term):
            continue
        out[row.credit_code] = {
            "credit_code": row.credit_code,
            "town": row.town,
            "entry_id": row.id,
            "closed_on": moment.date().isoformat(),
            "mujun_class": firm.mujun_class,
            "tax_per_mu_before": _four(old_mu),
            "tax_per_mu": _four(new_mu),
            "tax_growth": _four(growth),
        }
    return list(out.values())


def _propose(w: Writer, category: str, c: dict[str, Any], year: int, data_year: int, run_id: int, rules: dict) -> bool:
    kind = KINDS[AWARD]
    bar = rules["zero_land_demo_investment"].at(rules["day"])
    growth = rules["rectified_tax_growth"].at(rules["day"])
    allowed = "、".join(k for k, v in (rules["award_classes"].at(rules["day"]) or {}).items() if v)
    if category == "zero_land_demo":
        fields = {
            "year": year,
            "project": c["project"],
            "investment": str(c["investment"]),
            "mujun_class": c["mujun_class"],
        }
        why_zh = (
            f"项目“{c['project']}”（#{c['project_id']}）为“零增地”技改，{c['completed_on']} 竣工，总投资 "
            f"{c['investment'] / 10_000:,.2f} 万元（{bar / 10_000:,.0f}万元以上，A.3.15）；{data_year} 年度亩均评价 "
            f"{c['mujun_class']} 类（{allowed} 类）。"
        )
        why_en = (
            f"Project “{c['project']}” (#{c['project_id']}) is a zero-new-land renovation completed on "
            f"{c['completed_on']}, total investment {c['investment'] / 10_000:,.2f} 万元 (at least {bar / 10_000:,.0f}"
            f" 万元, A.3.15); class {c['mujun_class']} in the {data_year} evaluation (classes {allowed})."
        )
    else:
        fields = {
            "year": year,
            "mujun_class": c["mujun_class"],
            "tax_per_mu_before": c["tax_per_mu_before"],
            "tax_per_mu": c["tax_per_mu"],
            "tax_growth": c["tax_growth"],
        }
        pct = Decimal(c["tax_growth"]) * 100
        why_zh = (
            f"《高耗低效企业整治提升清单》#{c['entry_id']} 于 {c['closed_on']} 达标销号；亩均税收 "
            f"{c['tax_per_mu_before']} → {c['tax_per_mu']} 万元/亩（{data_year - 1}→{data_year} 年度，增长 "
            f"{pct:.2f}%，{growth * 100:.0f}%以上）；{data_year} 年度亩均评价 {c['mujun_class']} 类（{allowed} 类）。"
        )
        why_en = (
            f"High-consumption low-efficiency entry #{c['entry_id']} was closed off on {c['closed_on']}; tax per mu "
            f"{c['tax_per_mu_before']} → {c['tax_per_mu']} 万元/亩 ({data_year - 1}→{data_year}, up {pct:.2f}%, at "
            f"least {growth * 100:.0f}%); class {c['mujun_class']} in the {data_year} evaluation (classes {allowed})."
        )
    clean, _ = kind.read_fields(fields)
    basis = {
        "source": "award_rule",
        "year": year,
        "data_year": data_year,
        "run_id": run_id,
        "clause": kind.clause,
        "category": category,
        "values": clean,
        "why_zh": why_zh + "依据附件四(三)遴选规则提出，须经人工遴选确认。",
        "why_en": why_en + " Proposed by the A.4.3 selection rule; a person selects or dismisses it.",
    }
    entry_id = propose(w, kind, {"credit_code": c["credit_code"], "town": c["town"]}, None, clean, basis, today())
    if entry_id is None:
        return False
    w.conn.execute(update(register_entries).where(E.id == entry_id).values(category=category))
    return True


def propose_candidates(uow: UnitOfWork, year: int) -> dict[str, int]:
    """Propose the candidates of award year ``year`` by the rules (one transaction, the platform's own, audited):
    how many of each list. Idempotent: a firm proposed for the year before is not proposed again."""
    rules = _rules(year)
    with uow.write(None) as w:
        data_year, run_id, before_id = _runs(w.conn, year)
        if run_id is None or data_year is None:
            return {"zero_land_demo": 0, "rectified_example": 0}
        classes, before = _classes(w.conn, run_id), _classes(w.conn, before_id)
        done, dishonest = _already(w.conn, year), _dishonest(w.conn)
        out = {}
        for category, found in (
            ("zero_land_demo", _zero_land(w.conn, year, rules, classes, dishonest)),
            ("rectified_example", _rectified(w.conn, year, rules, classes, before, dishonest)),
        ):
            fresh = [c for c in found if (category, c["credit_code"]) not in done]
            out[category] = sum(_propose(w, category, c, year, data_year, run_id, rules) for c in fresh)
        return out


def propose_for_run(uow: UnitOfWork, run_id: int) -> dict[str, int] | None:
    """The candidates of the award year of the published run ``run_id`` (its data year); None for another run."""
    with uow.read() as conn:
        run = conn.execute(
            select(evaluation_runs.c.year, evaluation_runs.c.status).where(evaluation_runs.c.id == run_id)
        ).first()
    if run is None or run.status != "published":
        return None
    return propose_candidates(uow, int(run.year))


def candidates(uow: UnitOfWork, year: int) -> list[dict[str, Any]]:
    """The candidate examples of ``year`` on the register, each with its list, enterprise, town, state and why."""
    kind = KINDS[AWARD]
    with uow.read() as conn:
        rows = conn.execute(
            select(E.id, E.category, E.status, E.fields, E.basis, E.town, E.credit_code, enterprises.c.name)
            .join(enterprises, enterprises.c.credit_code == E.credit_code)
            .where(E.kind == AWARD)
            .order_by(E.category, E.id)
        ).all()
    names = town_names()
    out = []
    for r in rows:
        fields = r.fields or {}
        if str(fields.get("year")) != str(year):
            continue
        category, state = kind.category(r.category), kind.workflow.states[r.status]
        out.append(
            {
                "entry_id": int(r.id),
                "category": r.category,
                "category_zh": category.zh if category else "",
                "category_en": category.en if category else "",
                "enterprise": r.name,
                "credit_code": r.credit_code,
                "town_zh": names.get(r.town, (r.town, r.town))[0],
                "town_en": names.get(r.town, (r.town, r.town))[1],
                "status": r.status,
                "status_zh": state.zh,
                "status_en": state.en,
                "fields": plain(fields),
                "why_zh": (r.basis or {}).get("why_zh") or (r.basis or {}).get("reason") or "",
                "why_en": (r.basis or {}).get("why_en") or (r.basis or {}).get("reason") or "",
            }
        )
    return out
