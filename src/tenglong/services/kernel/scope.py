"""What each role may see and do, applied to queries: the one place services ask.

The rules themselves are pure and live in ``registers/roles.py`` (``Actor.can``,
``Actor.may_see_enterprise``); this module turns them into SQL conditions and the
typed errors every adapter understands:

* :func:`require` — the role may take the action at all, else :class:`Forbidden` (403);
* :func:`enterprise_scope` — the ``WHERE`` condition of the enterprises an actor sees;
* :func:`visible_enterprise` — one enterprise in scope, else :class:`NotFound` (404,
  the same answer for "absent" and "not yours", so nothing is revealed);
* :func:`audience` — the other way round: the condition on ``users`` of the accounts
  that see a given enterprise (whom a notification may reach).

Any record that belongs to an enterprise (a project, an application, a register
entry) is in scope exactly when its enterprise is: :func:`visible_record`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, false, or_, select, true

from ...adapters.db.tables import enterprises, users
from ...core.errors import Forbidden, NotFound
from ...registers.roles import ROLES, Actor

SEES_ALL = tuple(r for r in ROLES if Actor(0, "", "", r).sees_all_enterprises)
"""The roles that see every enterprise (``Actor.sees_all_enterprises``)."""


def require(actor: Actor, *permissions: str) -> None:
    """Refuse an actor whose role lacks any of ``permissions``.

    Raises:
        Forbidden: naming the first permission missing.
    """
    for permission in permissions:
        if not actor.can(permission):
            raise Forbidden(permission)


def enterprise_scope(actor: Actor, table: Any = enterprises) -> ColumnElement[bool]:
    """The condition on ``table`` (the enterprise register, or any table with ``credit_code`` and ``town``) for
    ``actor``.

    admin, department and auditor see every enterprise; a town official the
    enterprises registered in its town; an enterprise only itself.
    """
    if actor.sees_all_enterprises:
        return true()
    if actor.role == "town" and actor.town:
        return table.c.town == actor.town
    if actor.role == "enterprise" and actor.credit_code:
        return table.c.credit_code == actor.credit_code
    return false()


def audience(credit_code: str | None, town: str | None) -> ColumnElement[bool]:
    """The condition on ``users`` of the accounts that see the enterprise ``credit_code`` (of ``town``).

    The mirror of :func:`enterprise_scope`: admin, department and auditor see it; a town
    official when it is in their town; an enterprise account when it is that enterprise.
    A record of no enterprise (``None``) is seen by the roles that see every enterprise.
    """
    seen = [users.c.role.in_(SEES_ALL)]
    if town:
        seen.append(and_(users.c.role == "town", users.c.town == town))
    if credit_code:
        seen.append(and_(users.c.role == "enterprise", users.c.credit_code == credit_code))
    return or_(*seen)


def visible_enterprise(conn: Connection, actor: Actor, credit_code: str | None) -> dict[str, Any]:
    """The register entry of an enterprise ``actor`` may see.

    Raises:
        NotFound: when it does not exist or lies outside the actor's scope.
    """
    code = (credit_code or "").strip().upper()
    row = conn.execute(select(enterprises).where(enterprises.c.credit_code == code)).first()
    if row is None or not actor.may_see_enterprise(row.credit_code, row.town):
        raise NotFound(credit_code)
    return dict(row._mapping)


def visible_record(conn: Connection, actor: Actor, table: Table, record_id: object) -> Any:
    """The row ``record_id`` of ``table`` (which has ``id`` and ``credit_code``), with its enterprise's name and town.

    Raises:
        NotFound: when it does not exist or its enterprise lies outside the actor's scope.
    """
    row = conn.execute(
        select(table, enterprises.c.name.label("enterprise_name"), enterprises.c.town)
        .join(enterprises, enterprises.c.credit_code == table.c.credit_code)
        .where(table.c.id == record_id)
    ).first()
    return check_visible(actor, row, record_id)


def check_visible(actor: Actor, row: Any, what: object = None) -> Any:
    """``row`` (with ``credit_code`` and ``town`` of its enterprise) when the actor sees it.

    Raises:
        NotFound: for ``None`` or a row outside the actor's scope.
    """
    if row is None or not actor.may_see_enterprise(row.credit_code, row.town):
        raise NotFound(what)
    return row
