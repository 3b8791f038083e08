"""The audit log, read only: filter, page, compare before and after, read as sentences, export (XLSX, CSV).

The log is append-only: this module reads it and nothing else (there is no
function that changes or deletes a record, and no route either; the events of
exports and refused writes are appended by ``trail.py``). Times are
stored in UTC and shown in China Standard Time (UTC+8), the time of Linhai; a
date range means whole local days, both ends included.

Each record reads as a sentence built from its typed event (``registers/events.py``),
the workflow's state and field names and the labels of the message catalogue
(``locale/admin.yaml``, ``audit.*``): "市经信局 管理员（admin）于 2023-03-01 10:00（北京时间）
批准补助申请 #12：状态 审核中 → 已批准，意见或理由：材料齐全". The stored before/after
values stay available as they are.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from sqlalchemy import func, select

from ...adapters.db.tables import audit_log, users
from ...adapters.tabular.xlsx import Column, list_workbook, write_csv
from ...core import loader, reference_data
from ...core.errors import InvalidInput, PolicyError, Problem
from ...registers import events, workflows
from ...registers import kinds as register_kinds
from ...registers.roles import Actor
from ...registers.workflow import Workflow
from ..kernel.platform import Platform
from ..kernel.scope import require

LOCAL = dt.timezone(dt.timedelta(hours=8), "UTC+08:00")
"""China Standard Time, in which dates are filtered and times shown."""
PAGE_SIZE = 50
EXPORT_LIMIT = 1_000_000
"""Most rows in one export (an XLSX sheet holds 1,048,576)."""
HEADERS = (
    "编号",
    "时间（北京时间）",
    "操作人",
    "操作人编号",
    "操作",
    "对象类型",
    "对象编号",
    "变更前",
    "变更后",
    "来源地址",
    "事件",
    "说明",
)
"""Column headers of the exports (Chinese, as the bureau files them): the stored fields, then the event's name and
the record as a sentence."""
ORDERS = ("desc", "asc")
"""Newest first (the default), or oldest first."""
SYSTEM = "system"
"""The actor of the platform's own moves."""


@dataclass(frozen=True)
class AuditFilter:
    """What to show: each given criterion narrows the log.

    Attributes:
        actor: the username (exact), or ``system``.
        action: a prefix of the action, e.g. ``evaluation.`` or ``user.create``.
        entity_type: e.g. ``user``, ``data_import``, ``evaluation_run``.
        entity_id: the id of that entity, exactly.
        date_from: first local day included.
        date_to: last local day included.
        event: one event name exactly, e.g. ``application.approve``.
        order: ``asc`` for oldest first; None (or ``desc``) for newest first.
    """

    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    event: str | None = None
    order: str | None = None

    def query_items(self) -> dict[str, str]:
        """The non-empty criteria as query-string values (for paging and export links)."""
        return {
            k: (v.isoformat() if isinstance(v, dt.date) else str(v))
            for k, v in vars(self).items()
            if v not in (None, "")
        }


def _date(name: str, text: str | None, label_zh: str, label_en: str, problems: list[Problem]) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(
            Problem(
                "invalid_date",
                name,
                text[:40],
                "YYYY-MM-DD 格式的日期，例如 2023-03-01；留空表示不限",
                "a date YYYY-MM-DD, e.g. 2023-03-01; empty for no bound",
                "2023-03-01",
                f"{label_zh}「{text[:40]}」不是有效的日期。",
                f"The {label_en} {text[:40]!r} is not a valid date.",
            )
        )
        return None


def parse_filter(
    *,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    event: str | None = None,
    order: str | None = None,
) -> AuditFilter:
    """The filter from form or query-string text: every field may be empty (an empty field does not narrow).

    >>> parse_filter(actor="auditor", date_from="", date_to="")
    AuditFilter(actor='auditor', action=None, entity_type=None, entity_id=None, date_from=None, date_to=None, \
event=None, order=None)

    Raises:
        InvalidInput: a date that is not ``YYYY-MM-DD``, a first day after the last, or an order other than
            ``desc``/``asc`` (every problem at once, each listing what is valid).
    """
    problems: list[Problem] = []
    start = _date("date_from", date_from, "起始日期", "first day", problems)
    end = _date("date_to", date_to, "截止日期", "last day", problems)
    if start and end and start > end:
        problems.append(
            Problem(
                "invalid_date_range",
                "date_to",
                end.isoformat(),
                f"不早于起始日期 {start.isoformat()} 的日期",
                f"a day on or after the first day, {start.isoformat()}",
                start.isoformat(),
                f"截止日期 {end.isoformat()} 早于起始日期 {start.isoformat()}；请对调或留空。",
                f"The last day {end.isoformat()} is before the first day {start.isoformat()}; swap them or leave one "
                "empty.",
            )
        )
    chosen = (order or "").strip() or "desc"
    if chosen not in ORDERS:
        problems.append(
            Problem(
                "invalid_order",
                "order",
                chosen[:40],
                "desc（最新在前）或 asc（最早在前）",
                "desc (newest first) or asc (oldest first)",
                "desc",
                f"排序「{chosen[:40]}」无效；应为 desc（最新在前）或 asc（最早在前）。",
                f"The order {chosen[:40]!r} is not valid; use desc (newest first) or asc (oldest first).",
            )
        )
    if problems:
        refused = InvalidInput(problems)
        refused.message_zh = f"筛选条件有 {len(problems)} 处错误，请改正后再筛选。"
        refused.message_en = f"The filter has {len(problems)} error(s); correct them and filter again."
        raise refused

    def text(v: str | None) -> str | None:
        return (v or "").strip() or None

    return AuditFilter(
        text(actor),
        text(action),
        text(entity_type),
        text(entity_id),
        start,
        end,
        text(event),
        None if chosen == "desc" else chosen,  # newest first, the default, is no criterion
    )


@dataclass(frozen=True)
class Change:
    """One key of a before/after pair: ``changed``, ``added``, ``removed`` or ``same``."""

    key: str
    before: str | None
    after: str | None
    kind: str


@dataclass(frozen=True)
class Detail:
    """One key of a record as a person reads it: its label and the values before and after, as text."""

    key: str
    label: str
    before: str | None
    after: str | None
    kind: str


@dataclass(frozen=True)
class Reading:
    """A record as a person reads it.

    Attributes:
        sentence: the whole record, e.g. "张三（admin）于 2023-03-01 10:00（北京时间）批准补助申请 #12：状态
            审核中 → 已批准".
        who: the actor's name (the platform's own moves: 平台（自动）).
        event: what happened, e.g. 批准补助申请 #12.
        entity: the record concerned, e.g. 补助申请 #12.
        details: each value before and after, labelled.
    """

    sentence: str
    who: str
    event: str
    entity: str
    details: list[Detail]


@dataclass(frozen=True)
class AuditEntry:
    """One audit record, with its before/after values pretty-printed and compared key by key."""

    id: int
    at: dt.datetime
    actor: str
    actor_id: int | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    address: str | None
    changes: list[Change] = field(default_factory=list)
    actor_name: str | None = None

    @property
    def at_local(self) -> str:
        """The time in China Standard Time, to the second."""
        return self.at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S")

    @property
    def before_text(self) -> str:
        """``before`` as indented JSON (empty when there is none)."""
        return pretty(self.before)

    @property
    def after_text(self) -> str:
        """``after`` as indented JSON (empty when there is none)."""
        return pretty(self.after)

    def reading(self, lang: str = "zh") -> Reading:
        """The record as a sentence, with each value labelled (``lang``: zh or en)."""
        return read(self, lang)


@dataclass(frozen=True)
class AuditPage:
    """One page of the filtered log, newest first."""

    items: list[AuditEntry]
    total: int
    page: int
    pages: int
    page_size: int = PAGE_SIZE


def pretty(value: Any) -> str:
    """Indented JSON with Chinese kept readable.

    >>> pretty({"status": "已发布"})
    '{\\n  "status": "已发布"\\n}'
    >>> pretty(None)
    ''
    """
    return "" if value is None else json.dumps(value, ensure_ascii=False, indent=2)


def compare(before: Any, after: Any) -> list[Change]:
    """Key-by-key comparison when both values are objects (else no rows).

    >>> [(c.key, c.kind) for c in compare({"a": 1, "b": 2}, {"b": 3, "c": 4})]
    [('a', 'removed'), ('b', 'changed'), ('c', 'added')]
    """
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    out = []
    for key in list(before) + [k for k in after if k not in before]:
        b = json.dumps(before[key], ensure_ascii=False) if key in before else None
        a = json.dumps(after[key], ensure_ascii=False) if key in after else None
        kind = "added" if key not in before else "removed" if key not in after else "same" if a == b else "changed"
        out.append(Change(str(key), b, a, kind))
    return out


# --- reading a record ---------------------------------------------------------------------------------------------

COUNTS = frozenset(
    {
        "bytes",
        "rows",
        "rows_read",
        "errors",
        "enterprises",
        "enterprises_created",
        "enterprises_updated",
        "enterprises_tagged",
        "enterprise_years",
        "sessions_ended",
        "failures",
        "problem_count",
    }
)
"""Keys whose values are counts (shown with thousands separators)."""
TIMES = frozenset({"locked_until", "at", "published_at", "committed_at", "computed_at"})
"""Keys whose values are stored times (shown in Beijing time)."""
MONEY = frozenset({"amount", "computed_amount"})
"""Keys whose values are amounts in yuan (besides the contract's money variables)."""
UNITS_EN = {"元": "yuan", "亩": "mu", "万元/亩": "10k yuan/mu", "年": "years", "等": "grade", "m²": "m²"}
"""The English of the contract's units."""
SENTENCE_PARTS = 5
"""Most values a sentence names (the others are in the details)."""
SENTENCE_VALUE_MAX = 60
"""Longest value a sentence names (a longer one is in the details only)."""


@functools.cache
def _texts() -> dict[str, dict[str, str]]:
    """The message catalogue (``locale/*.yaml``: key → {zh, en}), read as data."""
    out: dict[str, dict[str, str]] = {}
    for entry in resources.files("tenglong.locale").iterdir():
        if entry.name.endswith(".yaml"):
            for key, texts in (loader.load_yaml(entry.read_text(encoding="utf-8")) or {}).items():
                out[str(key)] = {lang: str((texts or {}).get(lang, "")) for lang in ("zh", "en")}
    return out


def _t(key: str, lang: str) -> str | None:
    texts = _texts().get(key)
    return texts["zh" if lang == "zh" else "en"] if texts else None


@functools.cache
def _workflow_of_prefix() -> dict[str, Workflow]:
    return {w.event_prefix: w for w in workflows.load_all()}


@functools.cache
def _workflow_of_entity() -> dict[str, Workflow]:
    return {w.entity: w for w in workflows.load_all()}


def _workflow(action: str, entity_type: str) -> Workflow | None:
    """The workflow of a move's event (``application.approve``), or of the record's kind (``application.create``)."""
    return _workflow_of_prefix().get(action.partition(".")[0]) or _workflow_of_entity().get(entity_type)


@functools.cache
def _variables() -> dict[str, Any]:
    """The contract's variables by name (a project's first, then an enterprise's, then the others)."""
    order = {"projects": 0, "enterprises": 1}
    out: dict[str, Any] = {}
    for v in sorted(loader.variables(), key=lambda v: order.get(v.entity, 2)):
        out.setdefault(v.name, v)
    return out


@functools.cache
def _towns() -> dict[str, tuple[str, str]]:
    return {t.code: (t.name_zh, t.name_en) for t in reference_data.towns()}


def entity_name(entity_type: str, lang: str = "zh") -> str:
    """What a kind of record is called, e.g. 补助申请 for ``subsidy_application`` (the kind itself when unknown)."""
    wf = _workflow_of_entity().get(entity_type)
    if wf is not None:
        return wf.noun_zh if lang == "zh" else wf.noun_en
    return _t(f"audit.entity.{entity_type}", lang) or entity_type


def event_title(name: str, lang: str = "zh") -> str:
    """An event's name without a record, e.g. 批准补助申请 (the stored name itself when it is unknown)."""
    workflows.load_all()  # every move's event registered
    return events.title(name, lang)


def action_label(prefix: str, lang: str = "zh") -> str:
    """What a prefix of event names covers: the event's name (one event), or the kinds of record of its events.

    >>> action_label("evaluation.publish"), action_label("user.")
    ('发布亩均评价', '账号')
    """
    workflows.load_all()
    matched = [e for e in events.EVENTS if e.name.startswith(prefix)]
    if len(matched) == 1 or prefix in events.EVENTS:
        return event_title(prefix if prefix in events.EVENTS else matched[0].name, lang)
    kinds = sorted({e.entity for e in matched}, key=lambda k: entity_name(k, lang))
    return ("、" if lang == "zh" else ", ").join(entity_name(k, lang) for k in kinds) or prefix


def key_label(action: str, entity_type: str, key: str, lang: str = "zh") -> str:
    """The label of a stored key, e.g. ``note`` of an application's move → 意见或理由 (the key when none is known)."""
    for candidate in (f"audit.key.{entity_type}.{key}", f"audit.key.{key}"):
        text = _t(candidate, lang)
        if text:
            return text
    wf = _workflow(action, entity_type)
    if wf is not None and key in wf.fields:
        f = wf.fields[key]
        return f.zh if lang == "zh" else f.en
    names = _register_fields().get((entity_type, key))
    if names is not None:
        return names[0] if lang == "zh" else names[1]
    var = _variables().get(key)
    if var is not None:
        return var.zh if lang == "zh" else var.en
    return key


@functools.cache
def _register_fields() -> dict[tuple[str, str], tuple[str, str]]:
    """The entry fields of each register kind (``policy/registers/*.yaml``), by (kind, key): their zh and en names."""
    return {(k.key, f.key): (f.zh, f.en) for k in register_kinds.load().values() for f in k.fields.values()}


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        n = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return n if n.is_finite() else None


def _time_text(value: Any, lang: str) -> str | None:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    zone = "（北京时间）" if lang == "zh" else " (Beijing time)"
    return aware.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") + zone


def value_text(action: str, entity_type: str, key: str, value: Any, lang: str = "zh") -> str:
    """A stored value as a person reads it: a state's name, a role's, a town's, yes/no, an amount in yuan, a time in
    Beijing time, nested objects as "label：value" pairs (the value itself when nothing better is known).
    """
    zh = lang == "zh"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _t("common.yes" if value else "common.no", lang) or str(value)
    if isinstance(value, dict):
        if set(value) == {"zh", "en"}:
            return str(value["zh" if zh else "en"])
        if key in ("by_code", "warnings_by_code"):
            pairs = [
                (_t(f"imports.code.{k}", lang) or k, f"{v:,}" if isinstance(v, int) else str(v))
                for k, v in value.items()
            ]
        else:
            pairs = [
                (key_label(action, entity_type, str(k), lang), value_text(action, entity_type, str(k), v, lang))
                for k, v in value.items()
            ]
        return ("；" if zh else "; ").join(f"{k}{'：' if zh else ': '}{v}" for k, v in pairs) or "—"
    if isinstance(value, list):
        return ("；" if zh else "; ").join(value_text(action, entity_type, key, v, lang) for v in value) or "—"
    text = str(value)
    wf = _workflow(action, entity_type)
    if key == "status" and wf is not None and text in wf.states:
        return wf.state(text).name(lang)
    if key == "role":
        return _t(f"role.{text}", lang) or text
    if key == "town" and text in _towns():
        return _towns()[text][0 if zh else 1]
    if key == "kind" and _t(f"audit.value.kind.{text}", lang):
        return _t(f"audit.value.kind.{text}", lang) or text
    if key == "order" and _t(f"audit.value.order.{text}", lang):
        return _t(f"audit.value.order.{text}", lang) or text
    if key == "event":
        return event_title(text, lang)
    if key in ("entity_type", "source_type"):
        return entity_name(text, lang)
    if key == "item" and text in _variables():
        return key_label(action, entity_type, text, lang)
    if key == "cap_key" and text in loader.parameters():
        param = loader.parameters()[text]
        return param.description_zh if zh else param.description_en
    if key in TIMES:
        return _time_text(text, lang) or text
    if key in COUNTS and isinstance(value, int):
        return f"{value:,}"
    var = _variables().get(key)
    number = _number(value)
    money = key in MONEY or (wf is not None and key in wf.fields and wf.fields[key].kind == "amount")
    if money and number is not None:
        return f"{number:,.2f} " + ("元" if zh else "yuan")
    if var is not None:
        if var.type.name == "money" and number is not None:
            return f"{number:,.2f} " + ("元" if zh else "yuan")
        if var.type.base == "enum":
            return _t(f"calculator.enum.{text}", lang) or text
        if number is not None and var.unit and var.unit != "ratio":
            unit = var.unit if zh else UNITS_EN.get(var.unit, var.unit)
            return f"{text} {unit}"
    return text


def details(e: AuditEntry, lang: str = "zh") -> list[Detail]:
    """Each key of the record's before/after with its label and readable values (an unkeyed value as one row)."""

    def row(key: str, b: Any, a: Any, kind: str) -> Detail:
        label = key_label(e.action, e.entity_type, key, lang) if key else (_t("audit.value_label", lang) or "")
        text = functools.partial(value_text, e.action, e.entity_type, key, lang=lang)
        return Detail(key, label, None if kind == "added" else text(b), None if kind == "removed" else text(a), kind)

    b, a = e.before, e.after
    if isinstance(b, dict) and isinstance(a, dict):
        return [row(c.key, b.get(c.key), a.get(c.key), c.kind) for c in compare(b, a)]
    out = []
    if isinstance(b, dict):
        out += [row(str(k), v, None, "removed") for k, v in b.items()]
    elif b is not None:
        out.append(row("", b, None, "removed"))
    if isinstance(a, dict):
        out += [row(str(k), None, v, "added") for k, v in a.items()]
    elif a is not None:
        out.append(row("", None, a, "added"))
    return out


def who(e: AuditEntry, lang: str = "zh") -> str:
    """The actor: 平台（自动） for the platform's own moves, else the name and the username."""
    if e.actor == SYSTEM and e.actor_id is None:
        return _t("audit.system", lang) or SYSTEM
    if e.actor_name and e.actor_name != e.actor:
        return f"{e.actor_name}（{e.actor}）" if lang == "zh" else f"{e.actor_name} ({e.actor})"
    return e.actor


def read(e: AuditEntry, lang: str = "zh") -> Reading:
    """The record as a sentence (who, when in Beijing time, what, and what changed), with its details."""
    workflows.load_all()  # every move's event registered
    zh = lang == "zh"
    shown = details(e, lang)
    event = events.sentence(e.action, e.entity_id, lang)
    parts = []
    for d in shown:
        if d.kind == "same" or len(d.before or "") > SENTENCE_VALUE_MAX or len(d.after or "") > SENTENCE_VALUE_MAX:
            continue
        if d.kind == "changed":
            parts.append(f"{d.label} {d.before} → {d.after}")
        elif d.kind == "added" and d.after != "—":
            parts.append(f"{d.label}{'：' if zh else ': '}{d.after}" if d.label else str(d.after))
    if len(parts) > SENTENCE_PARTS:
        parts = [*parts[:SENTENCE_PARTS], "…"]
    when = e.at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    actor = who(e, lang)
    if zh:
        sentence = f"{actor}{'' if actor.endswith('）') else ' '}于 {when}（北京时间）{event}" + (
            "：" + "，".join(parts) if parts else ""
        )
    else:
        sentence = f"{actor} at {when} (Beijing time): {event}" + (" — " + "; ".join(parts) if parts else "")
    return Reading(sentence, actor, event, f"{entity_name(e.entity_type, lang)} #{e.entity_id}", shown)


# --- the queries ----------------------------------------------------------------------------------------------------


def _check(actor: Actor) -> None:
    require(actor, "read_audit")


def _utc(day: dt.date) -> dt.datetime:
    """Local midnight of ``day`` in UTC (SQLite keeps UTC wall-clock text, so bounds are bound in UTC)."""
    return dt.datetime.combine(day, dt.time(), LOCAL).astimezone(dt.UTC)


def _conditions(f: AuditFilter) -> list[Any]:
    c = audit_log.c
    where: list[Any] = []
    if f.actor:
        where.append(c.actor == f.actor.strip())
    if f.action:
        where.append(c.action.startswith(f.action.strip(), autoescape=True))
    if f.event:
        where.append(c.action == f.event.strip())
    if f.entity_type:
        where.append(c.entity_type == f.entity_type.strip())
    if f.entity_id:
        where.append(c.entity_id == f.entity_id.strip())
    if f.date_from:
        where.append(c.at >= _utc(f.date_from))
    if f.date_to:
        where.append(c.at < _utc(f.date_to + dt.timedelta(days=1)))
    return where


def _ordered(query: Any, f: AuditFilter) -> Any:
    c = audit_log.c
    if f.order == "asc":
        return query.order_by(c.at.asc(), c.id.asc())
    return query.order_by(c.at.desc(), c.id.desc())


def _query(where: list[Any]) -> Any:
    """The records with the display name of their actor (an account's, when it still exists)."""
    return (
        select(audit_log, users.c.display_name.label("actor_name"))
        .outerjoin(users, users.c.id == audit_log.c.actor_id)
        .where(*where)
    )


def _entry(r: Any) -> AuditEntry:
    at = r.at if r.at.tzinfo else r.at.replace(tzinfo=dt.UTC)
    return AuditEntry(
        int(r.id),
        at,
        r.actor,
        r.actor_id,
        r.action,
        r.entity_type,
        r.entity_id,
        r.before,
        r.after,
        r.address,
        compare(r.before, r.after),
        getattr(r, "actor_name", None),
    )


def entries(p: Platform, actor: Actor, f: AuditFilter, page: int = 1, page_size: int = PAGE_SIZE) -> AuditPage:
    """A page of the filtered log, newest first (oldest first with ``order="asc"``).

    Raises:
        Forbidden: for a role without ``read_audit`` (admin and auditor have it).
    """
    _check(actor)
    where = _conditions(f)
    with p.uow.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(audit_log).where(*where)).scalar_one())
        pages = max(1, math.ceil(total / page_size))
        page = min(max(page, 1), pages)
        rows = conn.execute(_ordered(_query(where), f).limit(page_size).offset((page - 1) * page_size)).all()
    return AuditPage([_entry(r) for r in rows], total, page, pages, page_size)


@dataclass(frozen=True)
class Choice:
    """One option of a filter: the value sent, and what a person reads."""

    value: str
    label: str


@dataclass(frozen=True)
class ChoiceGroup:
    """Options under one heading (the events of one kind of record)."""

    label: str
    choices: list[Choice]


@dataclass(frozen=True)
class FilterChoices:
    """The options of the filter form, in ``lang``."""

    actors: list[Choice]
    events: list[ChoiceGroup]
    entity_types: list[Choice]

    def label_of(self, name: str, value: str | None) -> str | None:
        """What a person reads for a chosen value (``name``: actor, event or entity_type)."""
        if not value:
            return None
        options = [c for g in self.events for c in g.choices] if name == "event" else getattr(self, f"{name}s", [])
        return next((c.label for c in options if c.value == value), value)


def filter_choices(p: Platform, actor: Actor, lang: str = "zh") -> FilterChoices:
    """The options of the filter form: the accounts by name (and the platform), every event type by its name grouped
    by the kind of record, and the kinds of record in the log.

    Raises:
        Forbidden: for a role without ``read_audit``.
    """
    _check(actor)
    workflows.load_all()
    with p.uow.read() as conn:
        accounts = conn.execute(select(users.c.username, users.c.display_name).order_by(users.c.username)).all()
        kinds = [
            r[0] for r in conn.execute(select(audit_log.c.entity_type).distinct().order_by(audit_log.c.entity_type))
        ]
    people = [Choice(SYSTEM, _t("audit.system", lang) or SYSTEM)] + [
        Choice(name, f"{shown}（{name}）" if lang == "zh" else f"{shown} ({name})") for name, shown in accounts
    ]
    grouped: dict[str, list[Choice]] = {}
    for e in events.EVENTS:
        grouped.setdefault(e.entity, []).append(Choice(e.name, e.title(lang)))
    groups = [
        ChoiceGroup(entity_name(k, lang), v)
        for k, v in sorted(grouped.items(), key=lambda kv: entity_name(kv[0], lang))
    ]
    kinds = sorted(set(kinds) | set(grouped), key=lambda k: entity_name(k, lang))
    return FilterChoices(people, groups, [Choice(k, entity_name(k, lang)) for k in kinds])


# --- exports --------------------------------------------------------------------------------------------------------


def _export_rows(p: Platform, actor: Actor, f: AuditFilter) -> Iterator[list[Any]]:
    """The rows of an export (checked and counted now, streamed later)."""
    _check(actor)
    where = _conditions(f)
    with p.uow.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(audit_log).where(*where)).scalar_one())
    if total > EXPORT_LIMIT:
        raise PolicyError(
            f"筛选结果有 {total:,} 条，超过单次导出上限 {EXPORT_LIMIT:,} 条；请缩小日期范围或增加筛选条件。",
            f"The filter matches {total:,} records, more than the {EXPORT_LIMIT:,} one export holds; "
            "narrow the dates or add criteria.",
        )
    return _stream(p, where, f)


def _stream(p: Platform, where: list[Any], f: AuditFilter) -> Iterator[list[Any]]:
    with p.uow.read() as conn:
        result = conn.execution_options(yield_per=5000).execute(_ordered(_query(where), f))
        for r in result:
            e = _entry(r)
            yield [
                e.id,
                e.at_local,
                e.actor,
                e.actor_id,
                e.action,
                e.entity_type,
                e.entity_id,
                json.dumps(e.before, ensure_ascii=False) if e.before is not None else "",
                json.dumps(e.after, ensure_ascii=False) if e.after is not None else "",
                e.address or "",
                event_title(e.action),
                read(e).sentence,
            ]


def export_csv(p: Platform, actor: Actor, f: AuditFilter) -> bytes:
    """The filtered log as CSV, UTF-8 with a BOM (so that Excel reads the Chinese), in the filter's order.

    Text that a spreadsheet would run as a formula (``=1+1`` typed as a username) is
    written as text (``'=1+1``), by the shared CSV writer.

    Raises:
        Forbidden: for a role without ``read_audit``.
        PolicyError: when the filter matches more than :data:`EXPORT_LIMIT` records.
    """
    return _encode("csv", _export_rows(p, actor, f))


def export_xlsx(p: Platform, actor: Actor, f: AuditFilter) -> bytes:
    """The filtered log as an XLSX workbook: Chinese headers, frozen header row, filter, in the filter's order.

    Streamed (constant memory) through the shared writer, which keeps text as text.

    Raises:
        Forbidden: for a role without ``read_audit``.
        PolicyError: when the filter matches more than :data:`EXPORT_LIMIT` records.
    """
    return _encode("xlsx", _export_rows(p, actor, f))


def _padded(rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
    """Each row as long as :data:`HEADERS` (an empty cell for a value not given)."""
    for row in rows:
        yield [*row, *([""] * (len(HEADERS) - len(row)))]


def _encode(fmt: str, rows: Iterable[list[Any]]) -> bytes:
    if fmt == "csv":
        return write_csv(None, HEADERS, _padded(rows))
    widths = (8, 20, 14, 10, 24, 16, 20, 50, 50, 16, 24, 80)
    kinds = ("int", "text", "text", "int", "text", "text", "text", "text", "text", "text", "text", "wrap")
    columns = [Column(i, h, w, k) for i, (h, w, k) in enumerate(zip(HEADERS, widths, kinds, strict=True))]
    return list_workbook("审计日志", columns, _padded(rows), streaming=True)


class _Counted:
    """An iterable that counts the rows it hands out (a streamed export's row count)."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self.rows, self.n = rows, 0

    def __iter__(self) -> Iterator[Any]:
        for row in self.rows:
            self.n += 1
            yield row


def export_counted(p: Platform, actor: Actor, f: AuditFilter, fmt: str) -> tuple[bytes, int]:
    """The filtered log as ``csv`` or else ``xlsx`` (as :func:`export_csv` / :func:`export_xlsx`) and its row count.

    Raises:
        Forbidden: for a role without ``read_audit``.
        PolicyError: when the filter matches more than :data:`EXPORT_LIMIT` records.
    """
    rows = _Counted(_export_rows(p, actor, f))
    return _encode("csv" if fmt == "csv" else "xlsx", rows), rows.n
