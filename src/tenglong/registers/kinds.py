"""Register kinds (清单) of the campaign, written as data: one YAML file per kind under ``policy/registers/``.

A kind file holds everything a register is (see ``high_consumption_low_efficiency.yaml``):

* ``key`` (the kind's id: lower-case letters, digits and ``_``, at most 32 characters; it is the
  entity of the kind's audit events, so an entry's history is the audit log), ``clause``, the
  names ``zh``/``en`` and the noun of one ``entry``;
* ``subject``: an entry is about an ``enterprise``, or about one of its ``project`` s;
* ``update``: the update cycle, ``dynamic`` (动态更新) or ``yearly`` (年度更新), in words;
* ``responsible_units``: each 责任单位 with its ``role`` (the account role that acts for it;
  a department account acts for the unit whose name it holds), one ``lead``;
* ``intake``: the state of a system ``proposal`` (absent: the kind takes none), the state of
  an entry a person adds (``manual``, always with a reason) and the ``roles`` that may add;
* ``fields``: what an entry records, each typed with its unit (the types of
  ``core/variables.py``, plus :data:`EXTRA_TYPES`), ``required`` or not;
* ``categories``; ``evidence`` (the kinds of attachment an entry takes);
* ``deadline``: its name, the ``states`` in which a passed deadline is overdue, and the
  moves and fields that set it (``months`` after a date, for a start rule);
* ``plan``: the moves whose fields are the entry's plan (一企一方案);
* ``marks``: flags computed from a field against a threshold word (重点项目: 1000万元以上);
* ``refuse``: entry rules — a ``true`` field that keeps an entry out, with the reason;
* ``workflow``: the loop for ``registers/workflow.py`` (states, conditions, fields, moves).
  A move field's ``choices`` may be ``categories``, ``responsible_units`` or
  ``indicators`` (the 亩均 indicators a plan may target); a move's ``permission`` defaults
  to ``register``.

:func:`load` reads every file of the folder; :func:`parse` checks one completely and lists
every mistake with the file and the key (``ValueError``). A seventh kind is one more file.
Pure: the files are package data read through ``importlib.resources`` (or any folder with
the same interface, for a test).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Protocol

from ..core import loader
from ..core.boundary import TERMS
from ..core.errors import Problem
from . import _kind_file as kf
from .events import EVENTS, EventType
from .kind_parts import EXTRA_TYPES, Category, Deadline, EntryField, Mark, Refusal, Unit, missing_field, unknown_field
from .roles import ROLES
from .workflow import Workflow

__all__ = ["EXTRA_TYPES", "Kind", "load", "load_folder", "parse"]

FOLDER = "registers"
"""The folder of ``tenglong.policy`` that holds the kind files."""
KEY = re.compile(r"[a-z][a-z0-9_]{1,31}")
SUBJECTS = ("enterprise", "project")
CYCLES = ("dynamic", "yearly")


class _Folder(Protocol):
    def iterdir(self) -> Iterable[Any]: ...


@dataclass(frozen=True)
class Kind:
    """One register kind, checked and built from its file."""

    key: str
    clause: str
    zh: str
    en: str
    entry_zh: str
    entry_en: str
    subject: str
    cycle: str
    cycle_zh: str
    cycle_en: str
    units: tuple[Unit, ...]
    proposal_state: str | None
    manual_state: str
    intake_roles: tuple[str, ...]
    fields: Mapping[str, EntryField]
    categories: tuple[Category, ...]
    deadline: Deadline | None
    plan_moves: tuple[str, ...]
    plan_zh: str
    plan_en: str
    marks: tuple[Mark, ...]
    refusals: tuple[Refusal, ...]
    workflow: Workflow
    events: Mapping[str, EventType]
    source: str

    def unit(self, key: str | None) -> Unit | None:
        """The responsible unit ``key`` (None for none or an unknown one)."""
        return next((u for u in self.units if u.key == key), None)

    @property
    def lead(self) -> Unit:
        """The lead unit (牵头)."""
        return next(u for u in self.units if u.lead)

    def category(self, key: str | None) -> Category | None:
        """The category ``key`` (None for none or an unknown one)."""
        return next((c for c in self.categories if c.key == key), None)

    @property
    def evidence(self) -> Mapping[str, tuple[str, str]]:
        """Kinds of attachment an entry takes: key → (zh, en)."""
        return self.workflow.evidence

    @property
    def terminal(self) -> tuple[str, ...]:
        """The states that end the loop."""
        return tuple(k for k, s in self.workflow.states.items() if s.terminal)

    @property
    def open_states(self) -> tuple[str, ...]:
        """The states that do not end the loop."""
        return tuple(k for k, s in self.workflow.states.items() if not s.terminal)

    def read_fields(self, raw: Mapping[str, Any] | None, *, complete: bool = False) -> tuple[dict, list[Problem]]:
        """The entry fields given in ``raw``, cleaned, and every problem (unknown keys too).

        ``complete``: every required field must then be present (an entry being listed).
        """
        raw = raw or {}
        out, problems = {}, []
        for key, value in raw.items():
            f = self.fields.get(str(key))
            if f is None:
                problems.append(unknown_field(str(key), self))
                continue
            clean, bad = f.read(value)
            if bad is not None:
                problems.append(bad)
            elif clean is not None:
                out[f.key] = clean
        if complete:
            problems += [missing_field(f) for f in self.fields.values() if f.required and f.key not in out]
        return out, problems

    def missing(self, fields: Mapping[str, Any]) -> list[Problem]:
        """A problem for each required field ``fields`` lacks."""
        return [missing_field(f) for f in self.fields.values() if f.required and fields.get(f.key) in (None, "")]

    def refused(self, fields: Mapping[str, Any]) -> list[Problem]:
        """The entry rules ``fields`` break, each with its reason and clause."""
        return [
            Problem(
                "refused_by_rule",
                f"fields.{r.field}",
                True,
                f"{self.fields[r.field].zh}：否",
                f"{self.fields[r.field].en}: no",
                "false",
                f"{r.zh}（{r.clause}）",
                f"{r.en} ({r.clause})",
            )
            for r in self.refusals
            if fields.get(r.field) is True
        ]

    def marked(self, fields: Mapping[str, Any]) -> list[Mark]:
        """The marks an entry with ``fields`` carries."""
        out = []
        for m in self.marks:
            value = fields.get(m.field)
            if value in (None, ""):
                continue
            got, op = Decimal(str(value)), TERMS[m.term].op
            if {">=": got >= m.value, ">": got > m.value, "<=": got <= m.value, "<": got < m.value}[op]:
                out.append(m)
        return out

    def admission(self, state: str, target: str) -> bool:
        """Whether a move from ``state`` to ``target`` lists a proposal (it must then be complete and allowed)."""
        return state == self.proposal_state and not self.workflow.states[target].terminal


def parse(data: Any, source: str) -> Kind:
    """Check one kind file's content completely and build the kind (its events registered).

    Raises:
        ValueError: ``<source>: <key>: <what is wrong>; …`` listing every mistake.
    """
    errors = kf.Errors()
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: the file must hold a mapping")
    key = str(data.get("key", ""))
    if not KEY.fullmatch(key):
        errors.at("key", f"{key!r} must be lower-case letters, digits and _ (2 to 32, a letter first)")
    elif source != f"{key}.yaml":
        errors.at("key", f"{key!r} must be the file's name without .yaml (the file is {source})")
    kf.clauses(data, errors)
    name_zh, name_en = kf.text(data, "zh", errors, ""), kf.text(data, "en", errors, "")
    entry = data.get("entry") or {}
    update = data.get("update") or {}
    intake = data.get("intake") or {}
    subject, cycle = str(data.get("subject", "")), str(update.get("cycle", ""))
    if subject not in SUBJECTS:
        errors.at("subject", f"{subject!r} is not one of {', '.join(SUBJECTS)}")
    if cycle not in CYCLES:
        errors.at("update.cycle", f"{cycle!r} is not one of {', '.join(CYCLES)}")
    units, fields = kf.units(data.get("responsible_units"), errors), kf.fields(data.get("fields"), errors)
    categories = kf.categories(data.get("categories"), errors)
    for r in intake.get("roles") or ():
        if r not in ROLES:
            errors.at("intake.roles", f"{r!r} is not one of {', '.join(ROLES)}")
    try:
        wf = Workflow.from_mapping(kf.workflow_mapping(data, key, entry, units, categories, errors))
    except ValueError as exc:
        errors.at("workflow", str(exc))
        raise ValueError(f"{source}: " + "; ".join(errors)) from None
    proposal = intake.get("proposal")
    for where, state in (("intake.proposal", proposal), ("intake.manual", intake.get("manual"))):
        if state is not None and (state not in wf.states or wf.states[state].terminal):
            errors.at(where, f"{state!r} is not an open state of the workflow")
    deadline = kf.deadline(data.get("deadline"), wf, errors)
    if any(k == "overdue" for m in wf.moves for k, _ in m.when) and deadline is None:
        errors.at("deadline", "a move is conditioned on overdue, so the kind needs a deadline")
    plan = data.get("plan") or {}
    for move in plan.get("moves") or ():
        if not wf.named(str(move)):
            errors.at("plan.moves", f"{move!r} is not a move")
    marks, refusals = kf.marks(data.get("marks"), fields, errors), kf.refusals(data.get("refuse"), fields, errors)
    if errors:
        raise ValueError(f"{source}: " + "; ".join(errors))
    zh_noun, en_noun = wf.noun_zh, wf.noun_en
    created = {
        "propose": EVENTS.define(
            f"{key}.propose", key, f"系统建议列入{zh_noun} #{{id}}", f"{en_noun} #{{id}}: proposed"
        ),
        "add": EVENTS.define(f"{key}.add", key, f"列入{zh_noun} #{{id}}", f"{en_noun} #{{id}}: added"),
        "import": EVENTS.define(
            f"{key}.import", key, f"从Excel导入{zh_noun} #{{id}}", f"{en_noun} #{{id}}: imported from Excel"
        ),
        "suggest": EVENTS.define(
            f"{key}.suggest", key, f"系统提示{zh_noun} #{{id}} 可办理下一步", f"{en_noun} #{{id}}: next step suggested"
        ),
    }
    return Kind(
        key=key,
        clause=str(data["clause"]),
        zh=name_zh,
        en=name_en,
        entry_zh=zh_noun,
        entry_en=en_noun,
        subject=subject,
        cycle=cycle,
        cycle_zh=str(update.get("zh", "")),
        cycle_en=str(update.get("en", "")),
        units=units,
        proposal_state=str(proposal) if proposal is not None else None,
        manual_state=wf.initial,
        intake_roles=tuple(str(r) for r in intake.get("roles") or ()),
        fields=fields,
        categories=categories,
        deadline=deadline,
        plan_moves=tuple(str(m) for m in plan.get("moves") or ()),
        plan_zh=str(plan.get("zh", "")),
        plan_en=str(plan.get("en", "")),
        marks=marks,
        refusals=refusals,
        workflow=wf,
        events=created,
        source=source,
    )


def load_folder(folder: _Folder) -> dict[str, Kind]:
    """Every kind file (``*.yaml``) of ``folder``, by key, in the order of their clauses.

    Raises:
        ValueError: for the first file with mistakes (all of that file's mistakes listed).
    """
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            found.append(parse(loader.load_yaml(entry.read_text(encoding="utf-8")), entry.name))
    return {k.key: k for k in sorted(found, key=_clause_order)}


def _clause_order(kind: Kind) -> tuple:
    """Kinds in the order of their clauses (A.3.2 before A.3.15), then by key."""
    return (*((0, int(p), "") if p.isdigit() else (1, 0, p) for p in kind.clause.split(".")), kind.key)


@cache
def load() -> dict[str, Kind]:
    """The register kinds shipped in ``policy/registers/``, by key."""
    return load_folder(resources.files(loader.POLICY_PACKAGE).joinpath(FOLDER))
