"""The workflow engine: closed loops written as data.

A workflow is a mapping (a YAML file under ``registers/workflows/``, or the
``workflow`` block of a register kind) with

* ``states``: each with its Chinese and English name, and ``terminal: true`` where
  the loop ends;
* ``moves``: ``action``, the states it leaves (``from``), the state it reaches
  (``to``), the role permission it needs (``system`` for moves only the platform
  makes, such as "validation finished"), its names, and the ``requires`` /
  ``accepts`` fields;
* ``fields``: what a move may carry (a note, a payment reference, a deadline,
  attachments, an amount…), typed, with a length limit and an example.

Two optional keys of a move say who waits and who is told:

* ``todo``: whether a record in the move's ``from`` states waits on whoever may
  make the move (the 待办 panel). Absent or ``true``: anyone whose role has the
  permission, within their scope; ``owner``: only the record's owner (its
  enterprise, a town for its firms, or the user who created it) — a draft waits on
  its applicant, not on every official who could submit it; ``false``: never (a
  withdrawal or a discard is a way out, not a task).
* ``notify``: who is told when the move is made, a list of ``owner`` and role
  names (``department``, ``admin``…; a role is told within its scope: a town of its
  firms' records). :meth:`Workflow.waiting` and :attr:`Move.notify` carry them to
  the services.

Three more optional keys serve the campaign registers (``registers/kinds.py``), and
any loop that needs them:

* ``roles``: only actors of these roles may make the move (besides the permission);
* ``evidence``: kinds of attachment the record must hold (each declared in the
  workflow's ``evidence`` mapping, with its zh/en name), e.g. ``[acceptance_report]``;
* ``when``: conditions on the record, ``{overdue: true}``, each declared in the
  workflow's ``conditions`` mapping with its zh/en statement. The caller passes the
  facts (``True``/``False``, or ``None`` when unknown, which never blocks).

A field of kind ``targets`` carries numbers by key (the indicators of a plan and
their target values): its ``choices`` are the keys allowed.

:meth:`Workflow.check` decides one move: the role may make it (else
:class:`Forbidden`), the state allows it (else :class:`Conflict`), and its fields
are present and valid (else :class:`InvalidInput`, every problem at once). Every
move is also an audit event type (``<event_prefix>.<action>``), registered in
``registers/events.py`` when the workflow is built. The engine is pure: the
services apply its decisions to the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from ..core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from .events import EVENTS, EventType
from .roles import ROLES

__all__ = ["OWNER", "SYSTEM", "Field", "Move", "State", "Workflow"]

SYSTEM = "system"
"""The permission of moves the platform makes itself (no signed-in actor)."""
OWNER = "owner"
"""In ``todo`` and ``notify``: the record's owner (its enterprise, a town for its firms, or the user who created it)."""
TODO_MODES = ("any", OWNER, "none")
"""What a move's ``todo`` key may say: anyone with the permission (``true``, the default), the owner, nobody."""

KINDS = ("text", "reference", "date", "amount", "attachments", "choice", "targets")


class _Actor(Protocol):
    role: str

    def can(self, permission: str) -> bool: ...


@dataclass(frozen=True)
class State:
    """One state of a loop."""

    key: str
    zh: str
    en: str
    terminal: bool = False

    def name(self, lang: str = "zh") -> str:
        """The state's name in ``lang``."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Field:
    """A value a move carries (``kind``: text, reference, date, amount, attachments or choice)."""

    key: str
    zh: str
    en: str
    kind: str = "text"
    max_length: int = 2000
    example: str = ""
    choices: tuple[str, ...] = ()

    def problems(self, value: Any) -> tuple[Any, list[Problem]]:
        """The cleaned value and what is wrong with it (an empty value is ``None``, judged by the caller)."""
        if value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}:
            return None, []
        if self.kind == "targets":
            return self._targets(value)
        if self.kind == "attachments":
            ids = value if isinstance(value, (list, tuple)) else [value]
            if all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
                return list(ids), []
            return None, [self._bad(value, "附件编号列表", "a list of attachment ids")]
        if not isinstance(value, (str, int, Decimal)) or isinstance(value, bool):
            return None, [self._bad(value, f"{self.zh}（文本）", f"{self.en} (text)")]
        text = str(value).strip()
        if len(text) > self.max_length:
            return None, [
                Problem(
                    "too_long",
                    self.key,
                    text[:40] + "…",
                    f"不超过 {self.max_length} 个字符",
                    f"at most {self.max_length} characters",
                    self.example,
                    f"{self.zh}有 {len(text)} 个字符，最多 {self.max_length} 个；请删减后再提交（不会被截断）。",
                    f"The {self.en} has {len(text)} characters; at most {self.max_length} are allowed "
                    "(it is never cut short).",
                )
            ]
        if self.kind == "date":
            try:
                return dt.date.fromisoformat(text), []
            except ValueError:
                return None, [self._bad(text, "日期 YYYY-MM-DD", "a date YYYY-MM-DD")]
        if self.kind == "amount":
            try:
                amount = Decimal(text.replace(",", ""))
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
                return None, [
                    self._bad(text, "不小于 0、最多两位小数的金额（元）", "an amount in yuan ≥ 0 with ≤ 2 decimals")
                ]
            return amount, []
        if self.kind == "choice" and text not in self.choices:
            return None, [self._bad(text, "、".join(self.choices), ", ".join(self.choices))]
        return text, []

    def _targets(self, value: Any) -> tuple[Any, list[Problem]]:
        """Numbers by key (``{tax_per_mu: "5"}``): each key one of ``choices``, each value a number ≥ 0."""
        if not isinstance(value, Mapping):
            return None, [self._bad(value, f"{self.zh}（指标: 目标值）", f"{self.en} (indicator: target)")]
        out, problems = {}, []
        for key, raw in value.items():
            if str(key) not in self.choices:
                problems.append(self._bad(key, "、".join(self.choices), ", ".join(self.choices)))
                continue
            try:
                number = Decimal(str(raw).strip().replace(",", "")) if not isinstance(raw, bool) else None
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite() or number < 0:
                problems.append(self._bad(raw, f"{key} 的目标值（不小于 0 的数）", f"a target ≥ 0 for {key}"))
                continue
            out[str(key)] = number
        return (out or None), problems

    def _bad(self, value: Any, expected_zh: str, expected_en: str) -> Problem:
        return Problem(
            "invalid_field",
            self.key,
            str(value)[:80],
            expected_zh,
            expected_en,
            self.example,
            f"{self.zh}的值 {str(value)[:80]!r} 无效，应为{expected_zh}，例如 {self.example}。",
            f"The {self.en} {str(value)[:80]!r} is not valid; expected {expected_en}, e.g. {self.example}.",
        )


@dataclass(frozen=True)
class Move:
    """One allowed transition: ``action`` from any of ``sources`` to ``target``."""

    action: str
    sources: tuple[str, ...]
    target: str
    permission: str
    zh: str
    en: str
    requires: tuple[str, ...] = ()
    accepts: tuple[str, ...] = ()
    event: EventType | None = None
    todo: str = "any"
    notify: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    when: tuple[tuple[str, bool], ...] = ()

    @property
    def source(self) -> str:
        """The first state the move leaves (most moves leave one)."""
        return self.sources[0]

    @property
    def system(self) -> bool:
        """Only the platform makes this move."""
        return self.permission == SYSTEM

    def name(self, lang: str = "zh") -> str:
        """The move's name in ``lang`` (a button's label)."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Workflow:
    """A closed loop: states, moves and the fields moves carry."""

    name: str
    entity: str
    event_prefix: str
    noun_zh: str
    noun_en: str
    initial: str
    states: Mapping[str, State]
    moves: tuple[Move, ...]
    fields: Mapping[str, Field]
    evidence: Mapping[str, tuple[str, str]] = dataclass_field(default_factory=dict)
    """Kinds of attachment its records take: key → (zh, en) name (``evidence`` of a move names them)."""
    conditions: Mapping[str, tuple[str, str]] = dataclass_field(default_factory=dict)
    """Facts about a record that a move's ``when`` names: key → (zh, en) statement, e.g. 整治期限已过."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Workflow:
        """Build and check a workflow written as data; register one event type per move.

        Raises:
            ValueError: listing every inconsistency (unknown states or fields, duplicate moves…).
        """
        errors: list[str] = []
        name = str(data.get("name") or "")
        states = {
            str(k): State(str(k), str(v.get("zh", k)), str(v.get("en", k)), bool(v.get("terminal", False)))
            for k, v in (data.get("states") or {}).items()
        }
        fields = {}
        for k, v in (data.get("fields") or {}).items():
            kind = str(v.get("kind", "text"))
            if kind not in KINDS:
                errors.append(f"field {k}: kind {kind!r} is not one of {', '.join(KINDS)}")
            fields[str(k)] = Field(
                str(k),
                str(v.get("zh", k)),
                str(v.get("en", k)),
                kind,
                int(v.get("max_length", 2000)),
                str(v.get("example", "")),
                tuple(str(c) for c in v.get("choices", ())),
            )
        prefix = str(data.get("event_prefix") or name)
        entity = str(data.get("entity") or name)
        noun_zh, noun_en = str(data.get("noun_zh", name)), str(data.get("noun_en", name))
        evidence = _named(data.get("evidence"))
        conditions = _named(data.get("conditions"))
        moves, seen = [], set()
        for m in data.get("moves") or []:
            action = str(m.get("action", ""))
            sources = tuple(str(s) for s in (m["from"] if isinstance(m.get("from"), list) else [m.get("from")]))
            target = str(m.get("to", ""))
            for s in (*sources, target):
                if s not in states:
                    errors.append(f"move {action}: unknown state {s!r}")
            for s in sources:
                if (action, s) in seen:
                    errors.append(f"move {action} from {s} is defined twice")
                seen.add((action, s))
                if s in states and states[s].terminal:
                    errors.append(f"move {action} leaves the terminal state {s}")
            for f in (*m.get("requires", ()), *m.get("accepts", ())):
                if f not in fields:
                    errors.append(f"move {action}: unknown field {f!r}")
            zh, en = str(m.get("zh", action)), str(m.get("en", action))
            raw_todo = m.get("todo", True)
            todo = ("any" if raw_todo else "none") if isinstance(raw_todo, bool) else str(raw_todo)
            if todo not in TODO_MODES:
                errors.append(f"move {action}: todo {raw_todo!r} is not true, false or {OWNER}")
            notify = tuple(str(n) for n in (m.get("notify") or ()))
            roles, proof, when = _extras(action, m, evidence, conditions, errors)
            for n in notify:
                if n != OWNER and n not in ROLES:
                    errors.append(f"move {action}: notify {n!r} is not {OWNER} or a role ({', '.join(ROLES)})")
            moves.append(
                Move(
                    action,
                    sources,
                    target,
                    str(m.get("permission", SYSTEM)),
                    zh,
                    en,
                    tuple(m.get("requires", ())),
                    tuple(m.get("accepts", ())),
                    todo=todo,
                    notify=notify,
                    roles=roles,
                    evidence=proof,
                    when=when,
                )
            )
        initial = str(data.get("initial", ""))
        if initial not in states:
            errors.append(f"initial state {initial!r} is not a state")
        if errors:
            raise ValueError(f"workflow {name}: " + "; ".join(errors))
        registered = tuple(
            Move(
                **{
                    **m.__dict__,
                    "event": EVENTS.define(
                        f"{prefix}.{m.action}", entity, f"{m.zh}{noun_zh} #{{id}}", f"{noun_en} #{{id}}: {m.en}"
                    ),
                }
            )
            for m in moves
        )
        return cls(name, entity, prefix, noun_zh, noun_en, initial, states, registered, fields, evidence, conditions)

    def state(self, key: str) -> State:
        """The state ``key`` (an unknown key is shown as itself)."""
        return self.states.get(key) or State(key, key, key)

    def named(self, action: str) -> list[Move]:
        """Every move called ``action`` (from any state)."""
        return [m for m in self.moves if m.action == action]

    def move(self, action: str, state: str) -> Move | None:
        """The move ``action`` from ``state``, or None when the state does not allow it."""
        return next((m for m in self.moves if m.action == action and state in m.sources), None)

    def moves_from(self, state: str) -> list[Move]:
        """The moves that leave ``state``."""
        return [m for m in self.moves if state in m.sources]

    def available(self, actor: _Actor | None, state: str) -> list[Move]:
        """The moves ``actor`` may make from ``state`` (``None``: the platform's own moves)."""
        return [m for m in self.moves_from(state) if self._may(actor, m)]

    def waiting(self, actor: _Actor) -> dict[str, tuple[Move, ...]]:
        """The states whose records wait on ``actor``: each with the moves it may make from there that are tasks.

        A move is a task unless its ``todo`` is ``false``; the caller applies the scope (all the records the actor
        sees, or only its own where every task move from a state says ``todo: owner``).
        """
        out: dict[str, tuple[Move, ...]] = {}
        for key, state in self.states.items():
            tasks = tuple(m for m in self.available(actor, key) if m.todo != "none")
            if tasks and not state.terminal:
                out[key] = tasks
        return out

    @staticmethod
    def _may(actor: _Actor | None, move: Move) -> bool:
        if actor is None:
            return move.system
        if move.roles and getattr(actor, "role", None) not in move.roles:
            return False
        return not move.system and actor.can(move.permission)

    def check(
        self,
        actor: _Actor | None,
        state: str,
        action: str,
        given: Mapping[str, Any] | None = None,
        *,
        facts: Mapping[str, bool | None] | None = None,
        held: Collection[str] = (),
    ) -> tuple[Move, dict[str, Any]]:
        """Decide one move of a record in ``state``: the move and its cleaned fields.

        Args:
            actor: who moves (``None``: the platform itself).
            state: the record's current state.
            action: the move asked for.
            given: the fields sent with it (only ``requires`` and ``accepts`` are kept).
            facts: the record's conditions a move's ``when`` names (``None``: unknown, never blocks).
            held: the kinds of attachment the record holds (a move's ``evidence`` must be among them).

        Raises:
            NotFound: no move of that name exists in this workflow.
            Forbidden: the actor's role may not make it.
            Conflict: the record's state does not allow it, or a condition of its ``when`` does not hold.
            InvalidInput: a required field or attachment is missing, or a field is invalid (all listed).
            ValueError: a fact the move's ``when`` names was not given (a programming error).
        """
        named = self.named(action)
        if not named:
            raise NotFound(action)
        if not any(self._may(actor, m) for m in named):
            raise Forbidden(named[0].permission)
        move = self.move(action, state)
        if move is None or not self._may(actor, move):
            s = self.state(state)
            raise Conflict(
                f"{self.noun_zh}当前状态为“{s.zh}”，不能{named[0].zh}。",
                f"The {self.noun_en} is {s.en}; “{named[0].en}” is not possible in that state.",
            )
        self._conditions(move, facts or {})
        given = given or {}
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for key in (*move.requires, *move.accepts):
            f = self.fields[key]
            value, bad = f.problems(given.get(key))
            problems += bad
            if value is None and not bad and key in move.requires:
                problems.append(
                    Problem(
                        "missing_input",
                        key,
                        None,
                        f.zh,
                        f.en,
                        f.example,
                        f"{move.zh}时须填写{f.zh}。",
                        f"“{move.en}” needs the {f.en}.",
                    )
                )
            values[key] = value
        problems += self._missing_evidence(move, held)
        if problems:
            raise InvalidInput(problems)
        return move, values

    def _conditions(self, move: Move, facts: Mapping[str, bool | None]) -> None:
        """Refuse the move (Conflict) when a known fact contradicts its ``when``."""
        for key, wanted in move.when:
            if key not in facts:
                raise ValueError(f"move {move.action}: the fact {key!r} was not given")
            got = facts[key]
            if got is None or bool(got) == wanted:
                continue
            zh, en = self.conditions.get(key, (key, key))
            if wanted:
                raise Conflict(f"不能{move.zh}：须“{zh}”，目前不满足。", f"“{move.en}” needs: {en}; that is not so.")
            raise Conflict(f"不能{move.zh}：{zh}。", f"“{move.en}” is not possible: {en}.")

    def _missing_evidence(self, move: Move, held: Collection[str]) -> list[Problem]:
        """One problem per kind of attachment the move needs and the record does not hold."""
        out = []
        for kind in move.evidence:
            if kind in held:
                continue
            zh, en = self.evidence.get(kind, (kind, kind))
            out.append(
                Problem(
                    "missing_attachment",
                    f"attachments.{kind}",
                    None,
                    zh,
                    en,
                    f"{zh}.pdf",
                    f"{move.zh}前须上传{zh}。",
                    f"“{move.en}” needs an attachment: the {en}.",
                )
            )
        return out


def _named(spec: Any) -> dict[str, tuple[str, str]]:
    """``{key: {zh, en}}`` → key → (zh, en)."""
    return {str(k): (str((v or {}).get("zh", k)), str((v or {}).get("en", k))) for k, v in (spec or {}).items()}


def _extras(
    action: str,
    m: Mapping[str, Any],
    evidence: Mapping[str, Any],
    conditions: Mapping[str, Any],
    errors: list[str],
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, bool], ...]]:
    """A move's ``roles``, ``evidence`` and ``when``, each checked against the roles and the workflow's names."""
    roles = tuple(str(r) for r in (m.get("roles") or ()))
    for r in roles:
        if r not in ROLES:
            errors.append(f"move {action}: role {r!r} is not one of {', '.join(ROLES)}")
    proof = tuple(str(k) for k in (m.get("evidence") or ()))
    for k in proof:
        if k not in evidence:
            errors.append(f"move {action}: evidence {k!r} is not declared under evidence")
    when = []
    for k, v in (m.get("when") or {}).items():
        if str(k) not in conditions:
            errors.append(f"move {action}: condition {k!r} is not declared under conditions")
        if not isinstance(v, bool):
            errors.append(f"move {action}: condition {k} must be true or false")
        when.append((str(k), bool(v)))
    return roles, proof, tuple(when)
