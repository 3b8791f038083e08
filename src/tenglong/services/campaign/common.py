"""What every campaign service shares: the kinds, today in Beijing, who may act on an entry, and an entry's view.

Who acts (``registers/roles.py`` gives the permission, each move of a kind its roles; here the scope):

* ``admin`` (市经信局) acts on every entry;
* ``town`` acts on the entries of its town (the town the enterprise had when it was listed);
* ``department`` acts on the entries it is the responsible unit of (its account's department is the unit's
  name), and on those without a responsible unit yet when it is the kind's lead unit (市发改局 for "两高",
  市科技局 for 关键核心技术);
* ``enterprise`` and ``auditor`` make no move (an enterprise adds evidence to its own entries).

Everyone with ``read`` sees entries as they see enterprises (``kernel/scope.py``): a town its town's, an
enterprise its own, the others all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from ...adapters.db.tables import enterprises, projects, register_entries
from ...core import reference_data
from ...core.errors import NotFound
from ...registers import kinds
from ...registers.kinds import Kind
from ...registers.rectification import is_overdue
from ...registers.roles import Actor

KINDS: Mapping[str, Kind] = kinds.load()
"""Every register kind, in the order of its clause."""
CHINA = dt.timezone(dt.timedelta(hours=8), "UTC+8")
"""Beijing time: the day a deadline is judged on, and the times shown."""
E = register_entries.c


def today() -> dt.date:
    """Today in Beijing (the day deadlines are judged on)."""
    return dt.datetime.now(CHINA).date()


def beijing(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored UTC time (SQLite hands it back without a zone) in Beijing time."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(CHINA)


def kind_of(key: str | None) -> Kind:
    """The kind ``key`` (its Chinese name is accepted too).

    Raises:
        NotFound: naming the kinds there are.
    """
    found = KINDS.get(str(key)) or next((k for k in KINDS.values() if k.zh == key), None)
    if found is None:
        raise NotFound(
            key,
            f"没有清单 {key!r}；现有清单：{'、'.join(f'{k.zh}（{k.key}）' for k in KINDS.values())}。",
            f"There is no register {key!r}; the registers are {', '.join(KINDS)}.",
        )
    return found


def plain(value: Any) -> Any:
    """A JSON-safe copy (decimals as exact text, dates as ISO text)."""
    return json.loads(
        json.dumps(value, default=lambda o: str(o) if isinstance(o, Decimal) else o.isoformat(), ensure_ascii=False)
    )


def _department_units(kind: Kind, actor: Actor) -> tuple[list[str], bool]:
    """The units of ``kind`` the department account acts for, and whether it leads the kind."""
    keys = [u.key for u in kind.units if u.zh == actor.department]
    return keys, kind.lead.zh == actor.department


def acts_on(kind: Kind, actor: Actor, town: str, unit: str | None) -> bool:
    """Whether ``actor`` may act on an entry of ``kind`` in ``town`` whose responsible unit is ``unit``."""
    if actor.role == "admin":
        return True
    if actor.role == "town":
        return bool(actor.town) and town == actor.town
    if actor.role == "department" and actor.department:
        keys, leads = _department_units(kind, actor)
        return unit in keys if unit is not None else leads
    return False


def acting_scope(actor: Actor) -> ColumnElement[bool]:
    """The condition on ``register_entries`` of the entries ``actor`` may act on (see :func:`acts_on`)."""
    if actor.role == "admin":
        return true()
    if actor.role == "town" and actor.town:
        return E.town == actor.town
    if actor.role == "department" and actor.department:
        cases = []
        for kind in KINDS.values():
            keys, leads = _department_units(kind, actor)
            mine = [E.responsible_unit.in_(keys)] if keys else []
            if leads:
                mine.append(E.responsible_unit.is_(None))
            if mine:
                cases.append(and_(E.kind == kind.key, or_(*mine)))
        return or_(*cases) if cases else false()
    return false()


def overdue_condition(day: dt.date) -> ColumnElement[bool]:
    """The entries flagged overdue on ``day``: in a state of their kind's deadline, the deadline before ``day``."""
    cases = [
        and_(E.kind == k.key, E.status.in_(k.deadline.states), E.deadline < day)
        for k in KINDS.values()
        if k.deadline is not None
    ]
    return or_(*cases) if cases else false()


def flagged_overdue(kind: Kind, status: str, deadline: dt.date | None, day: dt.date) -> bool:
    """The overdue flag of an entry: its state is one its deadline applies to, and the deadline has passed."""
    return kind.deadline is not None and status in kind.deadline.states and is_overdue(deadline, day)


@cache
def town_names() -> dict[str, tuple[str, str]]:
    """Town code → (zh, en) name."""
    return {t.code: (t.name_zh, t.name_en) for t in reference_data.towns()}


def entry_query() -> Any:
    """Entries with their enterprise's name and their project's name (for a kind of projects)."""
    return select(
        register_entries,
        enterprises.c.name.label("enterprise_name"),
        projects.c.name.label("project_name"),
    ).select_from(
        register_entries.join(enterprises, enterprises.c.credit_code == E.credit_code).outerjoin(
            projects, projects.c.id == E.project_id
        )
    )


def view(r: Any, day: dt.date) -> dict[str, Any]:
    """One entry as the services show it: keys and their zh/en names, dates, flags, fields and plan."""
    kind = KINDS[r.kind]
    state, category, unit = kind.workflow.state(r.status), kind.category(r.category), kind.unit(r.responsible_unit)
    town = town_names().get(r.town, (r.town, r.town))
    return {
        "id": int(r.id),
        "kind": kind.key,
        "kind_zh": kind.zh,
        "kind_en": kind.en,
        "clause": kind.clause,
        "credit_code": r.credit_code,
        "enterprise_name": r.enterprise_name,
        "project_id": r.project_id,
        "project_name": r.project_name,
        "town": r.town,
        "town_zh": town[0],
        "town_en": town[1],
        "category": r.category,
        "category_zh": category.zh if category else "",
        "category_en": category.en if category else "",
        "status": r.status,
        "state_zh": state.zh,
        "state_en": state.en,
        "terminal": state.terminal,
        "opened": r.opened,
        "deadline": r.deadline,
        "deadline_zh": kind.deadline.zh if kind.deadline else "",
        "deadline_en": kind.deadline.en if kind.deadline else "",
        "overdue": flagged_overdue(kind, r.status, r.deadline, day),
        "responsible_unit": r.responsible_unit,
        "unit_zh": unit.zh if unit else "",
        "unit_en": unit.en if unit else "",
        "fields": dict(r.fields or {}),
        "plan": dict(r.plan) if r.plan else None,
        "basis": dict(r.basis or {}),
        "suggestion": dict(r.suggestion) if r.suggestion else None,
        "marks": [{"key": m.key, "zh": m.zh, "en": m.en, "clause": m.clause} for m in kind.marked(r.fields or {})],
        "updated_at": beijing(r.updated_at),
    }


def visible_entry(conn: Any, actor: Actor, entry_id: Any) -> Any:
    """The entry ``entry_id`` (with its names) when ``actor`` sees its enterprise.

    Raises:
        NotFound: absent, or outside the actor's scope (the same answer).
    """
    try:
        key = int(entry_id)
    except (TypeError, ValueError):
        raise NotFound(entry_id) from None
    row = conn.execute(entry_query().where(E.id == key)).first()
    if row is None or row.kind not in KINDS or not actor.may_see_enterprise(row.credit_code, row.town):
        raise NotFound(entry_id)
    return row
