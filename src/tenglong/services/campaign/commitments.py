"""Commitments and clawback (A.4.2): 建立健全企业承诺事项闭环监管机制，对未严格履约的企业及其法人，应及时纳入严重失信
名单，并追缴已享受的相关资金.

The register kinds ``commitment`` and ``dishonesty`` (``policy/registers/``) carry the loops; this module adds what
the data decides:

* **Proposals.** A project whose subsidy application was approved is proposed for recording its commitment
  (:func:`propose_for_approved`); a person records the commitment's figures.
* **Checking** (:func:`check_all`, after each committed data import and each published evaluation): each
  commitment being fulfilled is checked (``registers/commitments.py``) against its project's life cycle and the
  enterprise-year data; a broken or a fully kept commitment gets a suggestion for a person (the lines checked,
  and for a default the clawback it would demand, itemised).
* **The default** (move ``find_default``, a person with the evidence): the clawback is demanded in the money
  ledger — one ``clawback`` row per decision (application), clause and output, exactly what was paid for the
  project and not yet demanded, to the 分 — and the enterprise and its legal representative are proposed for
  the 严重失信名单.
* **Repayments** (``recover_part`` / ``recover_all``): each is split over the outstanding clawback rows, oldest
  first, as ``recovered`` rows with the voucher number; ``settles`` says whether it brings the total to the
  amount demanded, so the state follows the ledger (部分追回 → 已全额追回). More than is outstanding is refused.

Readings (``docs/readings.md``): "what the enterprise received under the commitment" is what the ledger shows
*paid* for the commitment's project (every clause: 2.10 subsidy and 2513 reward, 2.11 reward…); an amount granted
but not yet paid was never received, so it is not clawed back (the application is the place to stop it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from ...adapters.db.tables import (
    enterprise_years,
    enterprises,
    ledger_entries,
    projects,
    register_entries,
    subsidy_applications,
)
from ...core.errors import InvalidInput, Problem
from ...registers.commitments import check_commitment, data_year
from ...registers.kinds import Kind
from ...registers.workflow import Move
from ..kernel.uow import UnitOfWork, Writer, now
from ..subsidies import ledger
from .common import KINDS, E, plain, today
from .entries import after_move, propose, register_facts

__all__ = ["Item", "account", "check", "check_all", "clawback_items", "listed", "propose_for_approved"]

COMMITMENT, DISHONESTY = "commitment", "dishonesty"
SOURCE = "commitment"
"""The ledger's ``source_type`` of a clawback and its repayments; the ``source_id`` is the commitment entry."""
_L = ledger_entries.c


@dataclass(frozen=True)
class Item:
    """One line of a clawback: a decision (application), its clause and output, the amount."""

    application_id: int | None
    clause: str
    item: str
    year: int
    amount: Decimal

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe."""
        return {
            "application_id": self.application_id,
            "clause": self.clause,
            "item": self.item,
            "year": self.year,
            "amount": str(self.amount),
        }


def _sums(conn: Connection, where: Any) -> dict[tuple, Decimal]:
    q = (
        select(_L.application_id, _L.clause, _L.item, _L.year, _L.kind, func.sum(_L.amount))
        .where(where)
        .group_by(_L.application_id, _L.clause, _L.item, _L.year, _L.kind)
    )
    return {(a, c, i, y, k): Decimal(str(s)).quantize(Decimal("0.01")) for a, c, i, y, k, s in conn.execute(q)}


def clawback_items(conn: Connection, credit_code: str, project_id: int) -> list[Item]:
    """What a default would claw back: per decision, clause and output, what was paid for the project and not yet
    demanded (by any commitment), exact to the 分, in the order of the decisions."""
    sums = _sums(conn, and_(_L.credit_code == credit_code, _L.project_id == project_id))
    out = []
    for (app, clause, item, year, kind), paid in sorted(sums.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1:])):
        if kind != "paid":
            continue
        due = paid - sums.get((app, clause, item, year, "clawback"), Decimal("0.00"))
        if due > 0:
            out.append(Item(app, clause, item, int(year), due))
    return out


def account(conn: Connection, entry_id: int) -> dict[str, Any]:
    """The clawback of one commitment from the ledger: each demanded line with what was recovered of it, and the
    totals (demanded, recovered, outstanding), exact."""
    sums = _sums(conn, and_(_L.source_type == SOURCE, _L.source_id == str(entry_id)))
    lines = []
    for (app, clause, item, year, kind), amount in sorted(sums.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1:])):
        if kind == "clawback":
            recovered = sums.get((app, clause, item, year, "recovered"), Decimal("0.00"))
            lines.append(
                {
                    "application_id": app,
                    "clause": clause,
                    "item": item,
                    "year": year,
                    "demanded": amount,
                    "recovered": recovered,
                    "outstanding": amount - recovered,
                }
            )
    demanded = sum((x["demanded"] for x in lines), Decimal("0.00"))
    recovered = sum((x["recovered"] for x in lines), Decimal("0.00"))
    return {"lines": lines, "demanded": demanded, "recovered": recovered, "outstanding": demanded - recovered}


def _lifecycle(conn: Connection, project_id: int | None) -> tuple[dict, str | None]:
    if project_id is None:
        return {}, None
    row = conn.execute(select(projects.c.lifecycle, projects.c.stage).where(projects.c.id == project_id)).first()
    return (dict(row.lifecycle or {}), row.stage) if row else ({}, None)


def check(conn: Connection, row: Any, day: dt.date) -> tuple[bool | None, list, int | None]:
    """One commitment entry checked on ``day``: the verdict, the checks, and the data year read."""
    fields = row.fields or {}
    lifecycle, _ = _lifecycle(conn, row.project_id)
    year = data_year(fields)
    data = None
    if year is not None:
        found = conn.execute(
            select(enterprise_years).where(
                enterprise_years.c.credit_code == row.credit_code, enterprise_years.c.year == year
            )
        ).first()
        data = dict(found._mapping) if found else None
    verdict, checks = check_commitment(fields, lifecycle, data, day)
    return verdict, checks, year if data else None


def _amount(given: Mapping[str, Any] | None) -> Decimal | None:
    try:
        value = Decimal(str((given or {}).get("amount", "")).replace(",", "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _facts(conn: Connection, kind: Kind, row: Any, given: Mapping[str, Any] | None, day: dt.date) -> dict:
    """``commitment_met`` (the check), ``nothing_due`` and ``settles`` (the repayment given against the ledger)."""
    owed = account(conn, row.id)
    amount = _amount(given)
    settles = None if amount is None else owed["recovered"] + amount >= owed["demanded"]
    return {
        "commitment_met": check(conn, row, day)[0],
        "nothing_due": owed["demanded"] == 0 if row.status != "recorded" else None,
        "settles": settles,
    }


def _find_default(w: Writer, kind: Kind, row: Any, m: Move, values: dict, day: dt.date) -> dict:
    """Demand the clawback in the ledger and propose the enterprise for the 严重失信名单."""
    items = clawback_items(w.conn, row.credit_code, row.project_id)
    ledger.lock_enterprise(w.conn, row.credit_code)
    ledger.append(
        w,
        [
            ledger.Entry(
                credit_code=row.credit_code,
                clause=i.clause,
                item=i.item,
                kind="clawback",
                amount=i.amount,
                year=i.year,
                source_type=SOURCE,
                source_id=str(row.id),
                project_id=row.project_id,
                application_id=i.application_id,
                note=f"A.4.2 追缴：承诺事项 #{row.id} 违约",
            )
            for i in items
        ],
    )
    total = sum((i.amount for i in items), Decimal("0.00"))
    fields = row.fields or {}
    _, checks, _ = check(w.conn, row, day)
    broken = [c for c in checks if c.met is False]
    dishonesty = KINDS[DISHONESTY]
    basis = {
        "source": "commitment",
        "clause": dishonesty.clause,
        "commitment_entry": row.id,
        "project_id": row.project_id,
        "clawback_total": str(total),
        "lines_zh": [c.describe("zh") for c in broken],
        "lines_en": [c.describe("en") for c in broken],
        "why_zh": f"承诺事项 #{row.id} 经认定违约（{values.get('opinion', '')}），应追缴已享受资金 {total} 元；"
        f"依据 {dishonesty.clause}，企业及其法定代表人应纳入{dishonesty.zh}。",
        "why_en": f"Commitment #{row.id} was found defaulted; {total} yuan is to be repaid. Under clause "
        f"{dishonesty.clause} the enterprise and its legal representative go on the {dishonesty.en}.",
    }
    proposed = {
        "legal_representative": fields.get("legal_representative"),
        "commitment_entry": row.id,
        "default_summary": "；".join(c.describe("zh") for c in broken) or str(values.get("opinion", ""))[:2000],
        "clawback_total": str(total),
    }
    clean, _ = dishonesty.read_fields({k: v for k, v in proposed.items() if v not in (None, "")})
    enterprise = {"credit_code": row.credit_code, "town": row.town}
    listed_id = propose(w, dishonesty, enterprise, None, clean, basis, day)
    if listed_id is not None:
        w.conn.execute(update(register_entries).where(E.id == listed_id).values(category="commitment_default"))
    return {
        "clawback": [i.as_dict() for i in items],
        "clawback_total": str(total),
        "dishonesty_entry": listed_id,
    }


def _recover(w: Writer, kind: Kind, row: Any, m: Move, values: dict, day: dt.date) -> dict:
    """Record a repayment over the outstanding clawback lines, oldest first (refused beyond what is owed)."""
    amount = Decimal(str(values["amount"]))
    owed = account(w.conn, row.id)
    if amount <= 0 or amount > owed["outstanding"]:
        raise InvalidInput(
            [
                Problem(
                    "invalid_field",
                    "amount",
                    str(amount),
                    f"大于 0 且不超过尚未追回的 {owed['outstanding']} 元",
                    f"more than 0 and at most the {owed['outstanding']} yuan outstanding",
                    str(owed["outstanding"]),
                    f"本次追回金额 {amount} 元无效：应大于 0，且不超过尚未追回的 {owed['outstanding']} 元。",
                    f"The repayment of {amount} yuan is not valid: it must be more than 0 and at most the "
                    f"{owed['outstanding']} yuan outstanding.",
                )
            ]
        )
    rows, left = [], amount
    for line in owed["lines"]:
        take = min(left, line["outstanding"])
        if take <= 0:
            continue
        rows.append(
            ledger.Entry(
                credit_code=row.credit_code,
                clause=line["clause"],
                item=line["item"],
                kind="recovered",
                amount=take,
                year=int(line["year"]),
                source_type=SOURCE,
                source_id=str(row.id),
                project_id=row.project_id,
                application_id=line["application_id"],
                reference=str(values.get("reference") or "")[:100] or None,
                note=f"A.4.2 追回：承诺事项 #{row.id}",
            )
        )
        left -= take
    ledger.append(w, rows)
    after = account(w.conn, row.id)
    return {
        "recovered_now": str(amount),
        "recovered_total": str(after["recovered"]),
        "outstanding": str(after["outstanding"]),
    }


register_facts(COMMITMENT, _facts)
after_move(COMMITMENT, "find_default", _find_default)
after_move(COMMITMENT, "recover_part", _recover)
after_move(COMMITMENT, "recover_all", _recover)


def check_all(uow: UnitOfWork, day: dt.date | None = None, source: str = "") -> dict[str, int]:
    """Check every commitment being fulfilled; note a suggestion on each whose verdict is known and changed.

    ``source`` says what triggered it (``import #12``, ``evaluation #3``) and is kept on the suggestion.
    Returns how many were checked, and suggested a default or a fulfilment.
    """
    day = day or today()
    kind = KINDS[COMMITMENT]
    out = {"checked": 0, "default": 0, "fulfilled": 0}
    with uow.write(None) as w:
        rows = w.conn.execute(select(register_entries).where(E.kind == kind.key, E.status == "recorded")).all()
        for row in rows:
            out["checked"] += 1
            verdict, checks, year = check(w.conn, row, day)
            if verdict is None:
                continue
            action = "find_default" if verdict is False else "confirm_fulfilled"
            move = kind.workflow.move(action, "recorded")
            lines_zh, lines_en = [c.describe("zh") for c in checks], [c.describe("en") for c in checks]
            old = row.suggestion or {}
            if old.get("action") == action and old.get("lines_zh") == lines_zh:
                continue
            items = clawback_items(w.conn, row.credit_code, row.project_id) if verdict is False else []
            total = sum((i.amount for i in items), Decimal("0.00"))
            if verdict is False:
                why_zh = (
                    f"按最新数据核查，承诺事项未履行；可认定违约，追缴该项目已享受资金 {total} 元"
                    f"（{len(items)} 笔，逐笔见下），并建议将企业及其法定代表人纳入严重失信名单（{kind.clause}）。"
                )
                why_en = (
                    f"By the latest data the commitment is not kept: the default may be found, {total} yuan paid for "
                    f"the project clawed back ({len(items)} lines) and the enterprise proposed for the list of "
                    f"seriously dishonest enterprises (clause {kind.clause})."
                )
            else:
                why_zh = f"按最新数据核查，各项承诺均已履行，可确认已履约（{kind.clause}）。"
                why_en = (
                    f"By the latest data every commitment is kept: the fulfilment may be confirmed ({kind.clause})."
                )
            suggestion = {
                "action": action,
                "move_zh": move.zh if move else action,
                "move_en": move.en if move else action,
                "year": year,
                "source": source,
                "checked_on": day,
                "clause": kind.clause,
                "lines_zh": lines_zh,
                "lines_en": lines_en,
                "clawback": [i.as_dict() for i in items],
                "clawback_total": str(total),
                "why_zh": why_zh,
                "why_en": why_en,
            }
            w.conn.execute(
                update(register_entries).where(E.id == row.id).values(suggestion=plain(suggestion), updated_at=now())
            )
            w.record(kind.events["suggest"], row.id, None, plain(suggestion))
            out["default" if verdict is False else "fulfilled"] += 1
    return out


def propose_for_approved(uow: UnitOfWork, day: dt.date | None = None) -> int:
    """Propose recording the commitment of each project with an approved (or paid) application and no commitment
    entry yet; how many were proposed."""
    kind = KINDS[COMMITMENT]
    a = subsidy_applications.c
    with uow.write(None) as w:
        have = set(w.conn.execute(select(E.project_id).where(E.kind == kind.key)).scalars())
        first = (  # each project's first approved (or paid) application
            select(a.project_id, func.min(a.id).label("application_id"))
            .where(a.status.in_(("approved", "paid")))
            .group_by(a.project_id)
            .subquery()
        )
        found = w.conn.execute(
            select(
                first.c.project_id,
                projects.c.credit_code,
                first.c.application_id,
                enterprises.c.town,
                projects.c.name,
                projects.c.inputs,
            )
            .join(projects, projects.c.id == first.c.project_id)
            .join(enterprises, enterprises.c.credit_code == projects.c.credit_code)
            .order_by(first.c.project_id)
        ).all()
        n = 0
        for project_id, credit_code, application_id, town, name, inputs in found:
            if project_id in have:
                continue
            investment = (inputs or {}).get("total_investment")
            clean, _ = kind.read_fields({"investment": investment} if investment is not None else {})
            basis = {
                "source": "application",
                "clause": kind.clause,
                "application_id": application_id,
                "project_id": project_id,
                "why_zh": f"项目“{name}”的补助申请 #{application_id} 已批准，应登记企业承诺事项"
                f"（投资、开工竣工达产日期、“标准地”指标），以便履约监管（{kind.clause}）。",
                "why_en": f"Application #{application_id} of project “{name}” was approved: record the enterprise's "
                f"commitment (investment, dates, standard-land indicators) to supervise it (clause {kind.clause}).",
            }
            enterprise = {"credit_code": credit_code, "town": town}
            entry_id = propose(w, kind, enterprise, project_id, clean, basis, day or today())
            if entry_id is not None:  # support was granted: a commitment for policy support
                w.conn.execute(update(register_entries).where(E.id == entry_id).values(category="support"))
                n += 1
    return n


def listed(conn: Connection, credit_codes: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The enterprises on the 严重失信名单 now (entry ``listed``): credit code → the entry's id, legal
    representative and since when; ``credit_codes`` narrows the question."""
    q = select(E.id, E.credit_code, E.fields, E.updated_at).where(E.kind == DISHONESTY, E.status == "listed")
    if credit_codes is not None:
        if not credit_codes:
            return {}
        q = q.where(E.credit_code.in_(sorted(set(credit_codes))))
    out = {}
    for r in conn.execute(q.order_by(E.id)):
        out[r.credit_code] = {
            "entry_id": int(r.id),
            "legal_representative": (r.fields or {}).get("legal_representative"),
            "clause": KINDS[DISHONESTY].clause,
            "kind_zh": KINDS[DISHONESTY].zh,
            "kind_en": KINDS[DISHONESTY].en,
        }
    return out
