"""Proposals for the registers: what the data says should enter a register, or may leave it — for a person.

Nothing enters or leaves a register without a person's move: a proposal waits in its kind's proposal state
until someone confirms it (``confirm``) or dismisses it with a reason, and a suggestion to close an entry off
is only a note on the entry until someone makes the move. Each proposal states why — the clause, the source
(the evaluation run, the project) and the values used — in ``basis``.

* **高耗低效 (A.3.1)**: a firm of a published evaluation flagged as a 高耗低效 candidate, as a 低效企业 or as an
  亿元低税企业 (A.2: 亩均税收 at most 5 / 10 万元 two years running; the flags of ``core/mujun``).
* **留驻优质 (A.3.16)**: a firm of class A or B in a published evaluation, and a firm carrying a tag A.3.16 lists
  (上市, 拟上市已报会, 单项冠军…: :func:`enterprise_tags`, from the enterprise register).
* **零增地 (A.3.15)**: a project entered as a zero-new-land renovation.
* **销号 candidates**: an entry whose plan's targets the latest data now meets.

:func:`propose_after_publish` does all of it for a published run; a firm (project) already in a register's loop,
or proposed from the same run before (and dismissed), is not proposed again.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, select, update

from ...adapters.db.tables import enterprises, evaluation_results, evaluation_runs, projects, register_entries
from ...core.errors import Conflict, NotFound
from ...registers.kinds import Kind
from ..enterprises import tags
from ..kernel.uow import UnitOfWork, Writer, now
from .common import KINDS, E, plain, today
from .entries import propose, target_check

__all__ = ["enterprise_tags", "propose_after_publish", "propose_projects", "suggest_close_off"]

HCLE, QUALITY, ZERO_LAND = "high_consumption_low_efficiency", "quality_retention", "zero_land"
FLAGS = {
    "high_consumption_low_efficiency_candidate": (
        "A.3.1",
        "高耗低效企业候选",
        "high-consumption low-efficiency candidate",
    ),
    "low_efficiency_enterprise": ("A.2", "附件二低效企业", "low-efficiency firm (A.2)"),
    "billion_yuan_low_tax_enterprise": (
        "A.2",
        "附件二亩均税收偏低的亿元企业",
        "100-million-yuan firm with low tax per mu",
    ),
}
"""The evaluation's flags that propose a 高耗低效 entry: clause, and how its explanation line begins (zh, en)."""
QUALITY_CLASSES = {"A": "class_a", "B": "class_b"}


def enterprise_tags(conn: Connection, credit_codes: list[str]) -> dict[str, list[str]]:
    """The A.3.16 tags of each enterprise that has any, as ``quality_retention`` category keys (``listed``,
    ``little_giant``…), from the enterprise register (``services/enterprises/tags.py``)."""
    return tags.tags_of(conn, credit_codes)


def _tax_per_mu(tax_paid: Decimal | None, land: Decimal | None) -> str | None:
    """亩均税收 in 万元/亩, exact, rounded half up to 4 decimals (as the register's field keeps it)."""
    if tax_paid is None or not land:
        return None
    value = Fraction(tax_paid) / Fraction(land) / 10_000
    return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def _lines(text: str | None, starts: list[str]) -> list[str]:
    return [line for line in (text or "").splitlines() if any(line.startswith(s) for s in starts)]


def _proposed_from(conn: Connection, kind: Kind, key: str, value: Any) -> set[Any]:
    """The enterprises (or projects) already proposed from the same source (``basis[key] == value``)."""
    found = conn.execute(select(E.credit_code, E.project_id, E.basis).where(E.kind == kind.key)).all()
    return {(r.project_id or r.credit_code) for r in found if (r.basis or {}).get(key) == value}


def _hcle(w: Writer, run: Any, day: dt.date) -> int:
    kind, r = KINDS[HCLE], evaluation_results.c
    flagged = w.conn.execute(
        select(evaluation_results, enterprises.c.town.label("enterprise_town"))
        .join(enterprises, enterprises.c.credit_code == r.credit_code)
        .where(r.run_id == run.id)
        .where(
            r.high_consumption_low_efficiency_candidate
            | r.low_efficiency_enterprise
            | r.billion_yuan_low_tax_enterprise
        )
        .order_by(r.credit_code)
    ).all()
    done, n = _proposed_from(w.conn, kind, "run_id", run.id), 0
    for row in flagged:
        if row.credit_code in done:
            continue
        flags = [f for f in FLAGS if getattr(row, f)]
        tax = _tax_per_mu(row.tax_paid, row.land_area_mu)
        # The explanation states each flag with its figures and parameters; a firm not evaluated has no such line.
        zh = _lines(row.explanation_zh, [FLAGS[f][1] for f in flags]) or [
            f"{FLAGS[f][1]}（本年亩均税收 {tax} 万元/亩）" for f in flags
        ]
        en = _lines(row.explanation_en, [FLAGS[f][2] for f in flags]) or [
            f"{FLAGS[f][2]} (tax per mu {tax} 10k yuan/mu this year)" for f in flags
        ]
        basis = {
            "source": "evaluation",
            "run_id": run.id,
            "year": run.year,
            "clause": kind.clause,
            "clauses": sorted({kind.clause, *(FLAGS[f][0] for f in flags)}),
            "flags": flags,
            "values": {
                "tax_per_mu": tax,
                "value_added_per_energy": (row.indicators or {}).get("value_added_per_energy"),
                "mujun_class": row.mujun_class,
            },
            "why_zh": f"{run.year} 年度亩均评价（#{run.id}，已发布）：{'；'.join(zh)}。"
            f"依据 {kind.clause}（{kind.zh}）。",
            "why_en": f"Evaluation of {run.year} (run #{run.id}, published): {'; '.join(en)}. Clause {kind.clause}.",
        }
        enterprise = {"credit_code": row.credit_code, "town": row.enterprise_town}
        n += propose(w, kind, enterprise, None, {"tax_per_mu": tax} if tax else {}, basis, day) is not None
    return n


def _quality(w: Writer, run: Any, day: dt.date) -> int:
    kind, r = KINDS[QUALITY], evaluation_results.c
    found = w.conn.execute(
        select(r.credit_code, r.mujun_class, r.evaluated, enterprises.c.town)
        .join(enterprises, enterprises.c.credit_code == r.credit_code)
        .where(r.run_id == run.id)
        .order_by(r.credit_code)
    ).all()
    tagged = enterprise_tags(w.conn, [row.credit_code for row in found])  # a tag counts, evaluated or not
    done, n = _proposed_from(w.conn, kind, "run_id", run.id), 0
    for row in found:
        by_class = row.evaluated and row.mujun_class in QUALITY_CLASSES
        categories = ([QUALITY_CLASSES[row.mujun_class]] if by_class else []) + list(tagged.get(row.credit_code, ()))
        if not categories or row.credit_code in done:
            continue
        names = [kind.category(c) for c in categories]
        basis = {
            "source": "evaluation",
            "run_id": run.id,
            "year": run.year,
            "clause": kind.clause,
            "categories": categories,
            "values": {"mujun_class": row.mujun_class},
            "why_zh": f"{run.year} 年度亩均评价（#{run.id}，已发布）："
            + "、".join(c.zh for c in names if c)
            + f"，属本地优质企业（{kind.clause}）。",
            "why_en": f"Evaluation of {run.year} (run #{run.id}, published): "
            + ", ".join(c.en for c in names if c)
            + f", a local quality enterprise (clause {kind.clause}).",
        }
        fields = {"mujun_class": row.mujun_class} if row.mujun_class else {}
        entry_id = propose(w, kind, {"credit_code": row.credit_code, "town": row.town}, None, fields, basis, day)
        if entry_id is not None:
            w.conn.execute(update(register_entries).where(E.id == entry_id).values(category=categories[0]))
            n += 1
    return n


def _zero_land(w: Writer, day: dt.date) -> int:
    kind, p = KINDS[ZERO_LAND], projects.c
    listed = set(w.conn.execute(select(E.project_id).where(E.kind == kind.key, E.project_id.is_not(None))).scalars())
    found = w.conn.execute(
        select(projects, enterprises.c.town)
        .join(enterprises, enterprises.c.credit_code == p.credit_code)
        .order_by(p.id)
    ).all()
    n = 0
    for row in found:
        inputs = row.inputs or {}
        if inputs.get("zero_land_renovation") is not True or row.id in listed:
            continue
        fields = {
            "investment": inputs.get("total_investment"),
            "added_floor_area_m2": inputs.get("renovated_floor_area"),
            "plot_ratio_before": inputs.get("plot_ratio_before"),
            "plot_ratio_after": inputs.get("plot_ratio_after"),
        }
        clean, _ = kind.read_fields({k: v for k, v in fields.items() if v is not None})
        basis = {
            "source": "project",
            "project_id": row.id,
            "clause": kind.clause,
            "values": clean,
            "why_zh": f"项目“{row.name}”（#{row.id}，申请日期 {row.application_date}）录入为“零增地”技改；"
            f"依据 {kind.clause}（{kind.zh}），确认列入前须核实技改类别和准入条件。",
            "why_en": f"Project “{row.name}” (#{row.id}, applied {row.application_date}) is a zero-new-land "
            f"renovation; clause {kind.clause}. Check its category and the entry rules before listing it.",
        }
        enterprise = {"credit_code": row.credit_code, "town": row.town}
        n += propose(w, kind, enterprise, row.id, clean, basis, day) is not None
    return n


def suggest_close_off(w: Writer, run: Any) -> int:
    """Note on each open entry with a plan whose targets the latest data now meets that it may be closed off."""
    n = 0
    for kind in KINDS.values():
        if "target_met" not in kind.workflow.conditions:
            continue
        found = w.conn.execute(
            select(register_entries).where(E.kind == kind.key, E.status.in_(kind.open_states), E.plan.is_not(None))
        ).all()
        for row in found:
            verdict, checks, year = target_check(w.conn, row)
            if verdict is not True or (row.suggestion or {}).get("year") == year:
                continue
            suggestion = {
                "run_id": run.id,
                "year": year,
                "clause": kind.clause,
                "lines_zh": [c.describe("zh") for c in checks],
                "lines_en": [c.describe("en") for c in checks],
                "why_zh": f"按 {year} 年度数据，方案的各项指标均已达到目标值，可申请验收、达标销号（{kind.clause}）。",
                "why_en": f"By the {year} data every target of the plan is met: the entry may be accepted and closed "
                f"off (clause {kind.clause}).",
            }
            w.conn.execute(
                update(register_entries).where(E.id == row.id).values(suggestion=plain(suggestion), updated_at=now())
            )
            w.record(kind.events["suggest"], row.id, None, plain(suggestion))
            n += 1
    return n


def propose_projects(uow: UnitOfWork, day: dt.date | None = None) -> int:
    """Propose every zero-new-land renovation project not yet on the register (after projects are entered)."""
    with uow.write(None) as w:
        return _zero_land(w, day or today())


def propose_after_publish(uow: UnitOfWork, run_id: int, day: dt.date | None = None) -> dict[str, int]:
    """Compute the proposals and suggestions a published evaluation brings (one transaction, audited as the
    platform's own): how many of each.

    Call it after ``services/evaluation/runs.publish`` (and after ``supersede``) has committed.

    Raises:
        NotFound: an unknown run. Conflict: the run is not published.
    """
    day = day or today()
    with uow.write(None) as w:
        run = w.conn.execute(select(evaluation_runs).where(evaluation_runs.c.id == run_id)).first()
        if run is None:
            raise NotFound(run_id)
        if run.status != "published":
            raise Conflict(
                f"评价 #{run_id} 尚未发布，不能据此提出清单建议。",
                f"Run #{run_id} is not published; registers are proposed from published runs only.",
            )
        return {
            HCLE: _hcle(w, run, day),
            QUALITY: _quality(w, run, day),
            ZERO_LAND: _zero_land(w, day),
            "suggested": suggest_close_off(w, run),
        }
