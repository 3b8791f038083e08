"""月通报 (A.4.2 "月通报、季擂台、年评优"): the monthly bulletin of the campaign, for the county or one town.

One month (Beijing time) and what happened in it, from the platform's own records:

* **targets**: each campaign target's progress (``progress.py``), with the years before as its trend;
* **registers**: per register, the entries added (a person's addition, an import, a proposal confirmed),
  closed (a loop ended in its good outcome: 销号, 攻克, 履约, 全额追回, 竣工验收…) and shut down (关停退出) in the
  month, and those overdue at its end — each from the audit log, the registers' history;
* **projects**: started and completed in the month (the life cycle's dates), and the zero-land projects late to start
  at its end (A.3.15: 审批同意后 3 个月内未开工), each named;
* **money**: what the ledger granted, paid, clawed back and recovered in the month, by clause (exact, 元);
* **classes**: the latest published evaluation at the month's end, its class counts (规上 and 规下);
* **overdue**: the entries overdue at the month's end, by town and by responsible unit.

A town official gets its own town's bulletin only. The data are plain (``Bulletin``), exact decimals; the PDF and
the workbook are drawn from them by ``adapters/reports`` and ``export`` (the same figures in both).

Readings (``docs/readings.md``, reports): the month runs from 0:00 of its first day to 24:00 of its last, Beijing
time; "closed" is a loop's terminal state other than 关停退出 and the ways out (不予列入, 撤销, 移出, 年度更新移出,
信用修复移出: :data:`OUT_STATES`) — a kind's good ending, whatever it is called; "overdue at the month's end" is
judged on its last day with the entries' states now (the registers keep states, not their past).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, String, cast, func, select

from ...adapters.db.tables import audit_log, enterprises, evaluation_runs, ledger_entries, projects, register_entries
from ...core.errors import Forbidden, InvalidInput, Problem
from ...registers.kinds import Kind
from ...registers.roles import Actor
from ..campaign.common import CHINA, KINDS, E, overdue_condition, town_names
from ..evaluation.dashboard import class_counts
from ..kernel.uow import UnitOfWork
from ..subsidies.ledger import KINDS as LEDGER_KINDS
from . import officials_only

__all__ = ["OUT_STATES", "SHUT_STATES", "Bulletin", "month_of", "monthly"]

SHUT_STATES = frozenset({"shut_down"})
"""Terminal states that are a shutdown (关停退出)."""
OUT_STATES = frozenset({"dismissed", "withdrawn", "removed", "dropped", "repaired"})
"""Terminal states that are a way out of a loop, neither closed nor shut down (不予列入, 撤销, 移出…)."""
MONTH = re.compile(r"(\d{4})-(\d{1,2})")
READER = Actor(0, "system", "平台（定时报表）", "auditor")
"""Who reads for a report the platform itself writes (``tenglong report``): everything, read-only."""


@dataclass
class Bulletin:
    """One month's bulletin: the month, the town (None: the county) and each section's rows."""

    month: str
    first: dt.date
    last: dt.date
    town: str | None
    town_zh: str
    town_en: str
    issued: dt.date
    number: str
    targets: list[dict[str, Any]] = field(default_factory=list)
    registers: list[dict[str, Any]] = field(default_factory=list)
    started: list[dict[str, Any]] = field(default_factory=list)
    completed: list[dict[str, Any]] = field(default_factory=list)
    late: list[dict[str, Any]] = field(default_factory=list)
    money: list[dict[str, Any]] = field(default_factory=list)
    classes: dict[str, Any] | None = None
    overdue_by_town: list[dict[str, Any]] = field(default_factory=list)
    overdue_by_unit: list[dict[str, Any]] = field(default_factory=list)

    @property
    def money_total(self) -> dict[str, Decimal]:
        """Each ledger kind's sum over the clauses."""
        return {k: sum((r[k] for r in self.money), Decimal("0.00")) for k in LEDGER_KINDS}


def month_of(text: Any) -> tuple[dt.date, dt.date]:
    """The first and last day of the month ``YYYY-MM``.

    >>> month_of("2023-05")
    (datetime.date(2023, 5, 1), datetime.date(2023, 5, 31))

    Raises:
        InvalidInput: not a month (with an example).
    """
    m = MONTH.fullmatch(str(text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise InvalidInput(
            [
                Problem(
                    "invalid_field",
                    "month",
                    str(text)[:20],
                    "月份，格式 YYYY-MM",
                    "a month as YYYY-MM",
                    "2023-05",
                    f"月份 {str(text)[:20]!r} 无效，应为 YYYY-MM，例如 2023-05。",
                    f"The month {str(text)[:20]!r} is not valid; expected YYYY-MM, e.g. 2023-05.",
                )
            ]
        )
    first = dt.date(int(m.group(1)), int(m.group(2)), 1)
    nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def _utc(day: dt.date) -> dt.datetime:
    """0:00 Beijing time of ``day``, in UTC (audit and ledger times are stored in UTC)."""
    return dt.datetime.combine(day, dt.time(), CHINA).astimezone(dt.UTC)


def _town(actor: Actor | None, town: str | None) -> str | None:
    """The bulletin's town: a town official's own; otherwise the code of the one asked (None: the county)."""
    names = town_names()
    if actor is not None and actor.role == "town":
        if town not in (None, "", actor.town) and _code(town) != actor.town:
            raise Forbidden("read", "镇（街道）只能查看本镇的月通报。", "A town sees its own town's bulletin only.")
        return actor.town
    if town in (None, ""):
        return None
    code = _code(town)
    if code is None:
        raise InvalidInput(
            [
                Problem(
                    "invalid_field",
                    "town",
                    str(town)[:40],
                    "、".join(n[0] for n in names.values()),
                    ", ".join(n[1] for n in names.values()),
                    "杜桥镇",
                    f"没有镇（街道）{str(town)[:40]!r}。",
                    f"There is no town {str(town)[:40]!r}.",
                )
            ]
        )
    return code


def _code(town: str | None) -> str | None:
    """The code of a town given by its code, its name (杜桥镇, Duqiao Town) or its name without 镇/街道 (杜桥); None
    when it names no town, or more than one."""
    names = town_names()
    if town in names:
        return town
    text = str(town or "").strip()
    found = [c for c, (zh, en) in names.items() if text in (zh, en, zh.removesuffix("街道").removesuffix("镇"))]
    return found[0] if len(found) == 1 else None


def _registers(conn: Connection, town: str | None, start: dt.datetime, end: dt.datetime, last: dt.date) -> list:
    """Per register kind: added, closed and shut down in the month (audit events), overdue at its end."""
    a = audit_log.c
    found = conn.execute(
        select(a.action, a.entity_type)
        .select_from(audit_log.join(register_entries, cast(E.id, String) == a.entity_id))
        .where(a.at >= start, a.at < end, a.entity_type.in_(list(KINDS)), E.kind == a.entity_type)
        .where(*([E.town == town] if town else []))
    ).all()
    counts: dict[str, Counter] = defaultdict(Counter)
    for action, kind_key in found:
        counts[kind_key][_outcome(KINDS[kind_key], action.rpartition(".")[2])] += 1
    overdue = Counter(r["kind"] for r in _overdue(conn, town, last))
    return [
        {
            "kind": k.key,
            "kind_zh": k.zh,
            "kind_en": k.en,
            "clause": k.clause,
            "added": counts[k.key]["added"],
            "closed": counts[k.key]["closed"],
            "shut_down": counts[k.key]["shut_down"],
            "overdue": overdue[k.key],
        }
        for k in KINDS.values()
    ]


def _outcome(kind: Kind, move: str) -> str | None:
    """What an audited event of ``kind`` did to the register: ``added``, ``closed``, ``shut_down`` or nothing."""
    if move in ("add", "import"):
        return "added"
    m = next((x for x in kind.workflow.moves if x.action == move), None)
    if m is None:
        return None
    target = kind.workflow.states[m.target]
    if not target.terminal:
        return "added" if kind.proposal_state in m.sources else None
    if m.target in SHUT_STATES:
        return "shut_down"
    return None if m.target in OUT_STATES else "closed"


def _overdue(conn: Connection, town: str | None, last: dt.date) -> list[dict[str, Any]]:
    """The entries overdue on the month's last day (``common.overdue_condition``): kind, town, unit."""
    rows = conn.execute(
        select(E.id, E.kind, E.town, E.responsible_unit)
        .where(overdue_condition(last))
        .where(*([E.town == town] if town else []))
        .order_by(E.id)
    ).all()
    return [{"id": int(r.id), "kind": r.kind, "town": r.town, "unit": r.responsible_unit} for r in rows]


def _unit_name(kind_key: str, unit: str | None) -> tuple[str, str]:
    u = KINDS[kind_key].unit(unit)
    return (u.zh, u.en) if u else ("未确定责任单位", "no responsible unit yet")


def _by(rows: list[dict[str, Any]], key: Any) -> list[dict[str, Any]]:
    """Counts of ``rows`` by ``key(row)`` → (zh, en), most first, then by name."""
    found = Counter(key(r) for r in rows)
    return [{"zh": zh, "en": en, "count": n} for (zh, en), n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))]


def _projects(conn: Connection, town: str | None, first: dt.date, last: dt.date) -> tuple[list, list]:
    """Projects started, and completed, in the month (their life-cycle dates), with their enterprise."""
    rows = conn.execute(
        select(
            projects.c.id,
            projects.c.name,
            projects.c.lifecycle,
            projects.c.inputs,
            enterprises.c.name,
            enterprises.c.town,
        )
        .join(enterprises, enterprises.c.credit_code == projects.c.credit_code)
        .where(*([enterprises.c.town == town] if town else []))
        .order_by(projects.c.id)
    ).all()
    names = town_names()
    out: dict[str, list] = {"started_on": [], "completed_on": []}
    for pid, name, lifecycle, inputs, firm, firm_town in rows:
        for key, found in out.items():
            day = (lifecycle or {}).get(key)
            if day and first.isoformat() <= str(day)[:10] <= last.isoformat():
                total = (inputs or {}).get("total_investment")
                found.append(
                    {
                        "project_id": int(pid),
                        "project": name,
                        "enterprise": firm,
                        "town": firm_town,
                        "town_zh": names.get(firm_town, (firm_town, firm_town))[0],
                        "town_en": names.get(firm_town, (firm_town, firm_town))[1],
                        "date": str(day)[:10],
                        "investment": Decimal(str(total)).quantize(Decimal("0.01")) if total is not None else None,
                    }
                )
    return out["started_on"], out["completed_on"]


def _late(conn: Connection, town: str | None, last: dt.date) -> list[dict[str, Any]]:
    """Zero-land projects approved and not started within 3 months, as of the month's last day (A.3.15)."""
    kind = KINDS["zero_land"]
    rows = conn.execute(
        select(E.id, E.deadline, E.plan, E.town, enterprises.c.name, projects.c.name.label("project"))
        .join(enterprises, enterprises.c.credit_code == E.credit_code)
        .outerjoin(projects, projects.c.id == E.project_id)
        .where(E.kind == kind.key, overdue_condition(last))
        .where(*([E.town == town] if town else []))
        .order_by(E.deadline, E.id)
    ).all()
    names = town_names()
    return [
        {
            "entry_id": int(r.id),
            "enterprise": r.name,
            "project": r.project,
            "town_zh": names.get(r.town, (r.town, r.town))[0],
            "town_en": names.get(r.town, (r.town, r.town))[1],
            "approved_on": (r.plan or {}).get("approved_on"),
            "deadline": r.deadline,
            "days_late": (last - r.deadline).days,
        }
        for r in rows
    ]


def _money(conn: Connection, town: str | None, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """The ledger's sums in the month by clause and kind (exact 元)."""
    L = ledger_entries.c
    q = (
        select(L.clause, L.kind, func.sum(L.amount))
        .select_from(ledger_entries.join(enterprises, enterprises.c.credit_code == L.credit_code))
        .where(L.at >= start, L.at < end, *([enterprises.c.town == town] if town else []))
        .group_by(L.clause, L.kind)
    )
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: {k: Decimal("0.00") for k in LEDGER_KINDS})
    for clause, kind, total in conn.execute(q):
        sums[clause][kind] = Decimal(str(total)).quantize(Decimal("0.01"))
    return [{"clause": c, **sums[c]} for c in sorted(sums, key=lambda c: [int(x) for x in c.split(".") if x.isdigit()])]


def _classes(conn: Connection, town: str | None, end: dt.datetime) -> dict[str, Any] | None:
    """The class counts of the latest evaluation published before the month's end."""
    r = evaluation_runs.c
    run = conn.execute(
        select(r.id, r.year, r.published_at)
        .where(r.published_at.is_not(None), r.published_at < end, r.status.in_(("published", "superseded")))
        .order_by(r.published_at.desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    return {"run_id": int(run.id), "year": int(run.year), "counts": class_counts(conn, int(run.id), town)}


def monthly(
    uow: UnitOfWork, actor: Actor | None, month: Any, town: str | None = None, issued: dt.date | None = None
) -> Bulletin:
    """The bulletin of ``month`` (``YYYY-MM``) for the county or ``town`` (a code or a name); a town official gets
    its own town's whatever it asks; ``actor`` None is the platform itself (``tenglong report``, scheduled).

    Raises:
        Forbidden: a role without ``read``, or a town asking for another town.
        InvalidInput: a bad month or an unknown town.
    """
    if actor is not None:
        officials_only(actor)
    first, last = month_of(month)
    code = _town(actor, town)
    start, end = _utc(first), _utc(last + dt.timedelta(days=1))
    names = town_names().get(code, ("全市", "the county")) if code else ("全市", "the county")
    issued = issued or dt.datetime.now(CHINA).date()
    b = Bulletin(
        month=f"{first:%Y-%m}",
        first=first,
        last=last,
        town=code,
        town_zh=names[0],
        town_en=names[1],
        issued=issued,
        number=f"{first.year}年第{first.month}期",
    )
    with uow.read() as conn:
        b.registers = _registers(conn, code, start, end, last)
        b.started, b.completed = _projects(conn, code, first, last)
        b.late = _late(conn, code, last)
        b.money = _money(conn, code, start, end)
        b.classes = _classes(conn, code, end)
        overdue = _overdue(conn, code, last)
    tn = town_names()
    b.overdue_by_town = _by(overdue, lambda r: tn.get(r["town"], (r["town"], r["town"])))
    b.overdue_by_unit = _by(overdue, lambda r: _unit_name(r["kind"], r["unit"]))
    b.targets = _targets(uow, actor or READER, first.year, code)
    return b


def _targets(uow: UnitOfWork, actor: Actor, year: int, town: str | None) -> list[dict[str, Any]]:
    """Each target's progress in ``year`` (``progress.py``) as it reads (``shown.py``), in both languages."""
    from .progress import progress
    from .shown import shown_row

    out = []
    for r in progress(uow, actor, year, town):
        zh, en = shown_row(r, "zh"), shown_row(r, "en")
        source = r.get("source") or {}
        aim = zh["aim_shown"] or zh["value_shown"]
        out.append(
            {
                "key": r["key"],
                "clause": r["clause"],
                "name_zh": r["zh"],
                "name_en": r["en"],
                "target_zh": f"{r['term']} {aim} {zh['unit_shown']}".strip(),
                "target_en": f"{r['term']} {aim} {en['unit_shown']}".strip(),
                "figure_zh": zh["compared_shown"],
                "figure_en": en["compared_shown"],
                "met": r["met"],
                "source_kind": r.get("source_kind"),
                "source_zh": source.get("zh", "") if isinstance(source, dict) else str(source),
                "source_en": source.get("en", "") if isinstance(source, dict) else str(source),
            }
        )
    return out
