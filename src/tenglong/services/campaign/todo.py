"""The 待办 of the campaign registers (``services/todo.py``): entries waiting on me, overdue ones, and 销号
candidates.

Each kind registers its workflow as a subject (so a move's ``notify`` reaches its people, and a notification links
to the entry); the counting is done here rather than by the subject, because who acts on an entry is more than
its enterprise's scope: a department acts only where it is the responsible unit (``common.acting_scope``).

* waiting: entries in a state from which the actor may make a task move (``Workflow.waiting``: its role, not
  ``todo: false``), within what it acts on;
* overdue: entries past their deadline (in a state their kind's deadline applies to), within what it acts on;
* suggested: entries with a system suggestion (the latest data meets the plan's targets; a commitment checked
  broken or kept), within what it acts on.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from ...adapters.db.tables import register_entries
from ...registers.roles import Actor
from ..todo import WAITING, Item, Subject, provider, register_subject
from .common import KINDS, E, acting_scope, overdue_condition, today

ORDER = 40
LIST = "/registers/{kind}?state={state}"
OVERDUE_LIST = "/registers/{kind}?overdue=1"
SUGGESTED_LIST = "/registers/{kind}?suggested=1"
RECORD = "/registers/entries/{id}"

SUBJECTS = {
    k.key: register_subject(
        Subject(
            workflow=k.workflow,
            table=register_entries,
            list_link=LIST.replace("{kind}", k.key),
            record_link=RECORD,
            creator="created_by",
            enterprise="credit_code",
            actions=(),  # counted by waiting() below, within what the actor acts on
            where=lambda t, key=k.key: t.c.kind == key,
            order=ORDER,
        )
    )
    for k in KINDS.values()
}


@provider
def waiting(conn: Connection, actor: Actor) -> Iterable[Item]:
    """Entries in a state whose next move is the actor's to make, per kind and state."""
    if not actor.can("register"):
        return []
    out = []
    for kind in KINDS.values():
        states = kind.workflow.waiting(actor)
        if not states:
            continue
        found = conn.execute(
            select(E.status, func.count(), func.min(E.id))
            .where(E.kind == kind.key, E.status.in_(states), acting_scope(actor))
            .group_by(E.status)
        ).all()
        for status, n, _ in found:
            moves = states[status]
            out.append(
                Item(
                    key=f"{kind.key}.{status}",
                    count=int(n),
                    link=LIST.format(kind=kind.key, state=status),
                    message=WAITING,
                    values={
                        "noun": (kind.entry_zh, kind.entry_en),
                        "state": (kind.workflow.state(status).zh, kind.workflow.state(status).en),
                        "moves": ("、".join(m.zh for m in moves), ", ".join(m.en for m in moves)),
                    },
                    order=ORDER,
                )
            )
    return out


@provider
def overdue(conn: Connection, actor: Actor) -> Iterable[Item]:
    """Entries past their deadline, per kind, that the actor acts on."""
    if not actor.can("register"):
        return []
    found = dict(
        conn.execute(
            select(E.kind, func.count()).where(overdue_condition(today()), acting_scope(actor)).group_by(E.kind)
        ).all()
    )
    return [
        Item(
            key=f"{k.key}.overdue",
            count=int(found[k.key]),
            link=OVERDUE_LIST.format(kind=k.key),
            message="registers.todo.overdue",
            values={"noun": (k.entry_zh, k.entry_en), "deadline": (k.deadline.zh, k.deadline.en)},
            order=ORDER - 1,
        )
        for k in KINDS.values()
        if k.key in found and k.deadline is not None
    ]


@provider
def suggested(conn: Connection, actor: Actor) -> Iterable[Item]:
    """Entries the latest data suggests closing off, per kind, that the actor acts on."""
    if not actor.can("register"):
        return []
    found = dict(
        conn.execute(
            select(E.kind, func.count()).where(E.suggestion.is_not(None), acting_scope(actor)).group_by(E.kind)
        ).all()
    )
    return [
        Item(
            key=f"{k.key}.suggested",
            count=int(found[k.key]),
            link=SUGGESTED_LIST.format(kind=k.key),
            # a commitment's suggestion is the check's result (a default or a fulfilment), not a 销号
            message="commitments.todo.checked"
            if "commitment_met" in k.workflow.conditions
            else "registers.todo.suggested",
            values={"noun": (k.entry_zh, k.entry_en)},
            order=ORDER,
        )
        for k in KINDS.values()
        if k.key in found
    ]
