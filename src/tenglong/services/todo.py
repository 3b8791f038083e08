"""待办: what waits on the signed-in user, each kind of task with its count (SQL ``COUNT``) and a link.

The items come from *providers*, one or more per subject, registered with
:func:`provider`; this module knows no subject. Each ``services`` package that has
tasks keeps them in its own ``todo.py`` (``subsidies/todo.py``, ``data/todo.py``,
``evaluation/todo.py``…), which :func:`items` imports once: a new subject adds its
file and never edits this one.

Most tasks are records waiting in a workflow state. :func:`register_subject` turns
a :class:`Subject` (a workflow, its table, where its records are listed) into a
provider: who waits on which state comes from the workflow file
(``Workflow.waiting``: a role that may make a move from a state, other than a
``todo: false`` move, can act on records in that state), and what the actor sees
from ``kernel/scope.py`` (a town its firms' records, an enterprise its own). A
state whose every task move says ``todo: owner`` waits only on the record's owner:
an account scoped to enterprises (town, enterprise) within its scope, one that sees
every enterprise only on the records it created itself (an administrator's own
drafts, not every firm's). One query per subject counts every state at once.

Other tasks (an overdue deadline, say) register a plain provider that returns
:class:`Item` s of their own.

Items carry no sentence: a message key of ``locale/*.yaml`` and its values in both
languages, which the pages fill in.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, and_, false, func, or_, select, true

from ..adapters.db.tables import enterprises
from ..registers.roles import Actor
from ..registers.workflow import OWNER, Move, Workflow
from .kernel.scope import enterprise_scope, require

if TYPE_CHECKING:  # kernel.uow notifies through services.notifications, which uses this module: no run-time import
    from .kernel.uow import UnitOfWork

__all__ = ["Item", "Subject", "Text", "items", "provider", "record_link", "register_subject", "subject"]

Text = tuple[str, str]
"""A value shown to the user, in Chinese and in English."""

WAITING = "todo.waiting"
"""The message of a workflow task: ``{noun}``, ``{state}``, ``{moves}`` (locale/todo.yaml)."""


@dataclass(frozen=True)
class Item:
    """One kind of task: how many records wait, where they are listed, and what to say about them.

    ``key`` is stable (``subsidy_application.submitted``); ``message`` is a locale key whose
    placeholders ``values`` fills, each in zh and en (``count`` is ``{n}``).
    """

    key: str
    count: int
    link: str
    message: str
    values: Mapping[str, Text] = field(default_factory=dict)
    order: int = 100

    def text_values(self, lang: str) -> dict[str, Any]:
        """The placeholders in ``lang`` (``n`` is the count)."""
        return {"n": self.count, **{k: v[0] if lang == "zh" else v[1] for k, v in self.values.items()}}


Provider = Callable[[Connection, Actor], Iterable[Item]]


@dataclass(frozen=True)
class Subject:
    """Records that move through ``workflow``, kept in ``table`` (which has ``id`` and ``status``).

    Args:
        workflow: the loop (``registers/workflows``).
        table: its records.
        list_link: the page listing them, ``{state}`` standing for a state to filter by (a list that cannot filter
            has none: then a single waiting record links to its own page).
        record_link: one record's page, ``{id}`` standing for its id.
        creator: the column naming the user who created a record (its owner when no enterprise scope applies).
        enterprise: the column naming the enterprise a record belongs to (its scope); ``None``: records of no
            enterprise, seen by whoever may move them.
        actions: only these moves are tasks (default: every move the workflow does not mark ``todo: false``).
        where: a further condition on ``table`` a waiting record meets (default: none).
        order: where its items stand on the panel (smaller first).
    """

    workflow: Workflow
    table: Table
    list_link: str
    record_link: str
    creator: str | None = None
    enterprise: str | None = None
    actions: tuple[str, ...] | None = None
    where: Callable[[Table], Any] | None = None
    order: int = 100

    def waiting(self, actor: Actor) -> dict[str, tuple[Move, ...]]:
        """The states whose records wait on ``actor``, each with the task moves it may make."""
        out = {}
        for state, moves in self.workflow.waiting(actor).items():
            kept = tuple(m for m in moves if self.actions is None or m.action in self.actions)
            if kept:
                out[state] = kept
        return out

    def owned(self, actor: Actor) -> Any:
        """The condition of the records that are ``actor``'s own (within the scope :meth:`counts` applies)."""
        if self.enterprise is not None and not actor.sees_all_enterprises:
            return true()  # a town or an enterprise owns every record of its scope
        return self.table.c[self.creator] == actor.id if self.creator else false()

    def link(self, state: str, count: int, first_id: Any, narrower: bool = False) -> str:
        """The list of the records in ``state``, filtered by it; the one record itself when the list cannot filter
        (or, ``narrower``, would show more than the actor's own records).
        """
        if count == 1 and ("{state}" not in self.list_link or narrower):
            return self.record_link.format(id=first_id)
        return self.list_link.format(state=state)

    def counts(self, conn: Connection, actor: Actor) -> list[Item]:
        """The tasks of ``actor`` on these records: one item per state that has any, counted in one query."""
        waiting = self.waiting(actor)
        if not waiting:
            return []
        t = self.table
        anyone = [s for s, moves in waiting.items() if any(m.todo != OWNER for m in moves)]
        owner_only = [s for s in waiting if s not in anyone]
        which = or_(t.c.status.in_(anyone), and_(t.c.status.in_(owner_only), self.owned(actor)))
        query = select(t.c.status, func.count().label("n"), func.min(t.c.id).label("first")).where(which)
        if self.where is not None:
            query = query.where(self.where(t))
        if self.enterprise is not None:
            query = query.select_from(t.join(enterprises, enterprises.c.credit_code == t.c[self.enterprise])).where(
                enterprise_scope(actor)
            )
        found = {r.status: r for r in conn.execute(query.group_by(t.c.status))}
        wf = self.workflow
        return [
            Item(
                key=f"{wf.entity}.{state}",
                count=int(found[state].n),
                link=self.link(
                    state, int(found[state].n), found[state].first, state in owner_only and actor.sees_all_enterprises
                ),
                message=WAITING,
                values={
                    "noun": (wf.noun_zh, wf.noun_en),
                    "state": (wf.state(state).zh, wf.state(state).en),
                    "moves": ("、".join(m.zh for m in moves), ", ".join(m.en for m in moves)),
                },
                order=self.order,
            )
            for state, moves in waiting.items()
            if state in found
        ]


_PROVIDERS: list[Provider] = []
_SUBJECTS: dict[str, Subject] = {}


def provider(fn: Provider) -> Provider:
    """Register ``fn`` (conn, actor → items) as a source of tasks; usable as a decorator."""
    if fn not in _PROVIDERS:
        _PROVIDERS.append(fn)
    return fn


def register_subject(s: Subject) -> Subject:
    """Register the records of a workflow: their tasks for the panel, their page for the notifications.

    Raises:
        ValueError: when another subject already registered the same workflow.
    """
    key = s.workflow.entity
    if key in _SUBJECTS and _SUBJECTS[key] != s:
        raise ValueError(f"the subject {key} is registered twice")
    if key not in _SUBJECTS:
        _SUBJECTS[key] = s
        provider(s.counts)
    return s


@cache
def _discover() -> tuple[str, ...]:
    """Import the ``todo`` module of every ``services`` package that has one (they register their providers)."""
    package = __name__.rpartition(".")[0]
    found = []
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        name = f"{package}.{info.name}.todo"
        if info.ispkg and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
            found.append(name)
    return tuple(found)


def subject(entity: str) -> Subject | None:
    """The registered subject of the workflow entity ``entity`` (``subsidy_application``…), if any."""
    _discover()
    return _SUBJECTS.get(entity)


def record_link(entity: str, entity_id: Any) -> str | None:
    """The page of one record of ``entity`` (None for a kind no subject registered)."""
    s = subject(entity)
    return s.record_link.format(id=entity_id) if s else None


def items(uow: UnitOfWork, actor: Actor) -> list[Item]:
    """Everything that waits on ``actor``, in panel order (only kinds with at least one record).

    Raises:
        Forbidden: for a role without ``read``.
    """
    require(actor, "read")
    _discover()
    with uow.read() as conn:
        found = [i for p in list(_PROVIDERS) for i in p(conn, actor) if i.count > 0]
    return sorted(found, key=lambda i: i.order)  # stable: a provider's own order is kept
