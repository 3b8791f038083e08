"""Register entries as lists and as one entry with its history, attachments and next moves (role-scoped).

An entry's history is the audit log: every row whose ``entity_type`` is the entry's kind and whose
``entity_id`` is the entry — the proposal or addition, each move, each suggestion — with who and when.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, not_, select, true

from ...adapters.db.tables import audit_log, register_entries, users
from ...core import reference_data
from ...core.errors import InvalidInput, Problem
from ...registers.roles import Actor
from .. import attachments as attachment_files
from ..kernel.scope import enterprise_scope, require
from ..kernel.uow import UnitOfWork
from . import commitments
from .common import KINDS, E, acts_on, beijing, entry_query, kind_of, overdue_condition, today, view, visible_entry
from .entries import facts_of, held, target_check

__all__ = ["EntryFilter", "entry", "history", "list_entries"]


@dataclass(frozen=True)
class EntryFilter:
    """The filters of a list of entries (all optional): kind, town (code or name), category, state, overdue,
    responsible unit, and whether the system suggests a next move (a 销号 candidate)."""

    kind: str | None = None
    town: str | None = None
    category: str | None = None
    state: str | None = None
    overdue: bool | None = None
    responsible_unit: str | None = None
    suggested: bool | None = None


def town_code(value: str | None) -> str | None:
    """The town code of a code or a name (杜桥镇, 杜桥…); None for none.

    Raises:
        InvalidInput: a town that is not one of Linhai's units.
    """
    if value is None or not str(value).strip():
        return None
    code = reference_data.normalise_town(str(value))
    if code is None:
        raise InvalidInput(
            [
                Problem(
                    "unknown_town",
                    "town",
                    str(value)[:80],
                    "临海市的镇（街道）名称或代码",
                    "a town of Linhai, by name or code",
                    "杜桥镇",
                    f"{str(value)[:80]!r} 不是临海市的镇（街道）。",
                    f"{str(value)[:80]!r} is not a town of Linhai.",
                )
            ]
        )
    return code


def _conditions(f: EntryFilter, day: dt.date) -> list[Any]:
    out = []
    if f.kind:
        out.append(E.kind == kind_of(f.kind).key)
    code = town_code(f.town)
    if code:
        out.append(E.town == code)
    for column, value in ((E.category, f.category), (E.status, f.state), (E.responsible_unit, f.responsible_unit)):
        if value:
            out.append(column == value)
    if f.overdue is not None:
        out.append(overdue_condition(day) if f.overdue else not_(overdue_condition(day)))
    if f.suggested is not None:
        out.append(E.suggestion.is_not(None) if f.suggested else E.suggestion.is_(None))
    return out


def rows(conn: Connection, actor: Actor | None, f: EntryFilter, day: dt.date) -> list[Any]:
    """The entries ``actor`` sees (``None``: the platform, every entry) that pass ``f``, by kind (clause order),
    then id."""
    scope = enterprise_scope(actor, register_entries) if actor is not None else true()
    query = entry_query().where(scope, *_conditions(f, day))
    order = {k: i for i, k in enumerate(KINDS)}
    found = conn.execute(query.order_by(E.id)).all()
    return sorted((r for r in found if r.kind in KINDS), key=lambda r: (order[r.kind], r.id))


def list_entries(uow: UnitOfWork, actor: Actor, f: EntryFilter | None = None, day: dt.date | None = None) -> list:
    """The entries ``actor`` sees (a town its town's, an enterprise its own, the others all), filtered.

    Raises:
        Forbidden: a role without ``read``.
        NotFound: an unknown kind. InvalidInput: an unknown town.
    """
    require(actor, "read")
    day = day or today()
    with uow.read() as conn:
        return [view(r, day) for r in rows(conn, actor, f or EntryFilter(), day)]


def of_enterprise(uow: UnitOfWork, actor: Actor, credit_code: str, day: dt.date | None = None) -> dict[str, Any]:
    """An enterprise's register entries (every kind, newest first) and its listing on the 严重失信名单, for its
    profile; the caller has checked the enterprise is in the actor's scope."""
    require(actor, "read")
    day = day or today()
    with uow.read() as conn:
        found = conn.execute(entry_query().where(E.credit_code == credit_code).order_by(E.id.desc())).all()
        return {
            "entries": [view(r, day) for r in found if r.kind in KINDS],
            "dishonest": commitments.listed(conn, [credit_code]).get(credit_code),
        }


def history(conn: Connection, kind_key: str, entry_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The audit events of entries of one kind, oldest first: event, move names, time (Beijing), who (the account,
    and its display name), details."""
    kind = KINDS[kind_key]
    a = audit_log.c
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in entry_ids}
    if not entry_ids:
        return out
    found = conn.execute(
        select(a.id, a.action, a.entity_id, a.at, a.actor, a.after, users.c.display_name)
        .outerjoin(users, users.c.id == a.actor_id)
        .where(and_(a.entity_type == kind.key, a.entity_id.in_([str(i) for i in entry_ids])))
        .order_by(a.id)
    ).all()
    names = {e.name: (e.title("zh"), e.title("en")) for e in kind.events.values()}
    for m in kind.workflow.moves:
        names[m.event.name] = (m.zh, m.en)
    for r in found:
        zh, en = names.get(r.action, (r.action, r.action))
        out[int(r.entity_id)].append(
            {
                "event": r.action,
                "move": r.action.rpartition(".")[2],
                "move_zh": zh,
                "move_en": en,
                "at": beijing(r.at),
                "by": r.actor,
                "by_name": r.display_name or r.actor,  # the account's name as people know it
                "after": r.after,
            }
        )
    return out


def entry(uow: UnitOfWork, actor: Actor, entry_id: Any, day: dt.date | None = None) -> dict[str, Any]:
    """One entry in scope: its view, history, attachments, the plan's targets against the data, and the moves
    ``actor`` may make now (each with what it needs).

    Raises:
        Forbidden: a role without ``read``. NotFound: absent or outside the scope.
    """
    require(actor, "read")
    day = day or today()
    with uow.read() as conn:
        row = visible_entry(conn, actor, entry_id)
        kind = KINDS[row.kind]
        out = view(row, day)
        out["history"] = history(conn, kind.key, [row.id])[row.id]
        out["attachments"] = attachment_files.listing(conn, actor, kind.key, row.id, row.status)
        verdict, checks, year = target_check(conn, row)
        out["targets"] = {
            "met": verdict,
            "year": year,
            "lines_zh": [c.describe("zh") for c in checks],
            "lines_en": [c.describe("en") for c in checks],
        }
        facts, files = facts_of(conn, kind, row, day), held(conn, kind, row.id)
        out["clawback"] = commitments.account(conn, row.id) if kind.key == commitments.COMMITMENT else None
        out["dishonest"] = commitments.listed(conn, [row.credit_code]).get(row.credit_code)
    mine = acts_on(kind, actor, row.town, row.responsible_unit)
    out["moves"] = [
        {
            "action": m.action,
            "zh": m.zh,
            "en": m.en,
            "requires": list(m.requires),
            "accepts": list(m.accepts),
            "evidence": [{"kind": k, "zh": kind.evidence[k][0], "en": kind.evidence[k][1]} for k in m.evidence],
            "missing_evidence": [k for k in m.evidence if k not in files],
            "blocked": [k for k, want in m.when if facts.get(k) is not None and facts[k] != want],
        }
        for m in (kind.workflow.available(actor, row.status) if mine else [])
    ]
    return out
