"""Figures a person enters for the campaign's targets, with evidence, and each town's share of a target (目标分解).

Where no data on the platform give a target's figure (盘活低效工业用地, 新增“浙江制造”标准…), a person enters
it: the target, the year, the county or a town, the exact value, where it comes from (市统计局 2023年快报) and a
note; the evidence files go through the one attachment service (owner ``target_figure``). A new entry for the
same target, year and town supersedes the previous one (``supersedes``) and nothing is deleted: the latest
counts and the rest is its history. Each entry is an audited event (``target.figure``).

Who: ``enter_targets`` — the admin for the county and any town, a town official for its own town, and only for a
target broken down by town (``by_town``). ``share_targets`` (the admin) sets a town's share of a county target
(``target.share``); a town's progress is compared with its share.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, func, insert, select

from ...adapters.db.tables import attachments as attachments_table
from ...adapters.db.tables import target_figures, target_shares, users
from ...core import campaign_targets, reference_data
from ...core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from ...registers import events
from ...registers.roles import Actor
from .. import attachments
from ..kernel.scope import require
from ..kernel.uow import UnitOfWork, now

__all__ = [
    "EVIDENCE",
    "OWNER",
    "enter_figure",
    "entries_of",
    "latest_figures",
    "may_enter",
    "set_shares",
    "shares",
    "target_of",
]

SOURCE_MAX, NOTE_MAX, VALUE_MAX = 200, 2000, 64
YEARS = (2000, 2100)
EVIDENCE = {
    "statistics": ("统计数据（快报、年报）", "statistics (a release or yearbook)"),
    "document": ("文件、批复、名单", "an official document, approval or list"),
    "other": ("其他材料", "other document"),
}
F = target_figures.c


def target_of(key: str) -> campaign_targets.CampaignTarget:
    """The target ``key`` (NotFound for an unknown one)."""
    catalogue = campaign_targets.load()
    if key not in catalogue:
        raise NotFound(key, f"没有目标 {key}。", f"There is no target {key}.")
    return catalogue[key]


def _visible_figure(conn: Connection, actor: Actor, figure_id: int) -> Any:
    """An entered figure as the attachment service sees its owner, or NotFound outside the actor's scope.

    Everyone who reads sees the county's figures, a town official also its own town's (not another's), an enterprise
    none. Its ``status`` is ``current`` while it is the latest of its target, year and town *and* the actor may enter
    it (files are added only then); else ``closed``.
    """
    row = conn.execute(select(target_figures).where(F.id == figure_id)).first()
    if row is None or not _sees(actor, row.town):
        raise NotFound(figure_id)
    latest = conn.execute(
        select(func.max(F.id)).where(F.target == row.target, F.year == row.year, _town_is(row.town))
    ).scalar()
    mine = actor.role == "admin" or (row.town is not None and row.town == actor.town)
    return _Owned(row.id, None, "current" if latest == row.id and mine else "closed", row.town)


def _sees(actor: Actor, town: str | None) -> bool:
    if not actor.can("read") or actor.role == "enterprise":
        return False
    return town is None or actor.sees_all_enterprises or town == actor.town


def entries_of(uow: UnitOfWork, actor: Actor, key: str) -> list[dict[str, Any]]:
    """Every figure entered for target ``key`` in the actor's scope, newest first, each with whether it is current,
    who entered it and its evidence files (the history: nothing is ever deleted)."""
    require(actor, "read")
    target_of(key)
    with uow.read() as conn:
        rows = conn.execute(
            select(target_figures, users.c.username).join(users, users.c.id == F.entered_by).where(F.target == key)
            .order_by(F.id.desc())
        ).all()  # fmt: skip
        files = conn.execute(
            select(attachments_table.c.id, attachments_table.c.owner_id, attachments_table.c.original_name).where(
                attachments_table.c.owner_type == OWNER.key, attachments_table.c.deleted_at.is_(None)
            )
        ).all()
    seen: set[tuple[int, str | None]] = set()
    out = []
    for r in rows:
        if not _sees(actor, r.town):
            continue
        k = (int(r.year), r.town)
        out.append(
            {
                **{c: getattr(r, c) for c in ("id", "year", "town", "value", "source", "note", "supersedes")},
                "entered_by": r.username,
                "entered_at": r.entered_at,
                "current": k not in seen,
                "evidence": [{"id": f.id, "name": f.original_name} for f in files if f.owner_id == r.id],
            }
        )
        seen.add(k)
    return out


class _Owned:
    """The row the attachment service reads: ``id``, ``credit_code`` (none), ``status``, ``town``."""

    def __init__(self, id: int, credit_code: None, status: str, town: str | None) -> None:
        self.id, self.credit_code, self.status, self.town = id, credit_code, status, town


OWNER = attachments.register_owner(
    attachments.Owner(
        key="target_figure",
        table=target_figures,
        noun_zh="目标完成数",
        noun_en="target figure",
        kinds=EVIDENCE,
        open_states=("current",),
        open_zh="当前有效",
        open_en="a current",
        permission="enter_targets",
        visible=_visible_figure,
    )
)


def _town_is(town: str | None) -> Any:
    return F.town.is_(None) if town is None else F.town == town


def _problem(code: str, where: str, value: Any, zh: str, en: str, exp_zh: str, exp_en: str, example: str) -> Problem:
    return Problem(code, where, value, exp_zh, exp_en, example, zh, en)


def _town_problem(town: str) -> Problem:
    return _problem(
        "unknown_town", "town", town, f"没有代码为 {town} 的镇（街道）。", f"There is no town with the code {town}.",
        "19 个镇（街道）或 2 个开发区之一的代码", "the code of one of the 19 towns or 2 zones",
        reference_data.towns()[0].code,
    )  # fmt: skip


def _value_problem(where: str, raw: Any) -> Problem:
    return _problem(
        "invalid_value", where, raw, f"{raw!r} 不是大于等于 0 的精确数值。", f"{raw!r} is not an exact number ≥ 0.",
        "小数或分数（如 4520.5、1/3）", "a decimal or a fraction (e.g. 4520.5, 1/3)", "4520.5",
    )  # fmt: skip


def _exact(raw: Any, where: str, problems: list[Problem]) -> Fraction | None:
    text = str(raw).strip() if raw is not None else ""
    value = campaign_targets.read_value(text) if len(text) <= VALUE_MAX else None
    if value is None or value < 0:
        problems.append(_value_problem(where, raw))
        return None
    return value


def may_enter(actor: Actor, target: campaign_targets.CampaignTarget, town: str | None) -> bool:
    """Whether the actor may enter the figure of ``target`` for ``town`` (None: the county) — to show the form."""
    try:
        _may_enter(actor, target, town)
    except Forbidden:
        return False
    return target.source == "manual"


def _may_enter(actor: Actor, target: campaign_targets.CampaignTarget, town: str | None) -> None:
    require(actor, "enter_targets")
    if actor.role == "admin":
        return
    if town is None or town != actor.town:
        raise Forbidden(
            "enter_targets", "只能录入本镇（街道）的完成数。", "You may enter your own town's figures only."
        )
    if not target.by_town:
        raise Forbidden(
            "enter_targets",
            f"目标“{target.zh}”不分解到镇（街道）。",
            f"The target “{target.en}” is not broken down by town.",
        )


def enter_figure(
    uow: UnitOfWork,
    actor: Actor,
    key: str,
    year: Any,
    town: str | None,
    value: Any,
    source: str | None,
    note: str | None = None,
    address: str | None = None,
) -> int:
    """Enter the figure of a manual target for a year and the county (``town`` None) or a town (audited); its id.

    Args:
        uow: the unit of work.
        actor: who enters (``enter_targets``: admin any, a town official its own town).
        key: the target (``policy/campaign_targets.yaml``).
        year: the year the figure is of (a cumulative target: as of that year's end).
        town: a town's code, or None for the county.
        value: exact, a decimal or a fraction as text (``4520.5``, ``1/3``).
        source: where the figure comes from (市统计局 2023年快报), required.
        note: optional.
        address: the client address, for the audit record.

    Raises:
        NotFound: an unknown target (404). Forbidden: the role or the town may not enter it (403).
        Conflict: the target's figure is computed from the platform's data (409).
        InvalidInput: every problem of the year, town, value, source and note at once (422).
    """
    target = target_of(key)
    town = town or None
    _may_enter(actor, target, town)
    if target.source != "manual":
        raise Conflict(
            f"目标“{target.zh}”的完成数由平台数据计算，不能录入。",
            f"The figure of “{target.en}” is computed from the platform's data; it cannot be entered.",
        )
    problems: list[Problem] = []
    y = _year(year, problems)
    if town is not None and town not in {t.code for t in reference_data.towns()}:
        problems.append(_town_problem(town))
    if town is not None and not target.by_town:
        problems.append(
            _problem(
                "not_by_town", "town", town, f"目标“{target.zh}”不分解到镇（街道），只录入全市数。",
                f"“{target.en}” is not broken down by town: enter the county's figure.", "留空（全市）",
                "empty (county)", "",
            )
        )  # fmt: skip
    exact = _exact(value, "value", problems)
    src = (source or "").strip()
    if not src or len(src) > SOURCE_MAX:
        problems.append(
            _problem(
                "invalid_source", "source", source, f"请写明数据来源（1 至 {SOURCE_MAX} 个字）。",
                f"Say where the figure comes from (1 to {SOURCE_MAX} characters).", "数据来源", "the source",
                "市统计局 2023年快报",
            )
        )  # fmt: skip
    text = (note or "").strip() or None
    if text is not None and len(text) > NOTE_MAX:
        problems.append(
            _problem(
                "note_too_long", "note", f"{len(text)}", f"说明最多 {NOTE_MAX} 个字。",
                f"The note has at most {NOTE_MAX} characters.", f"≤ {NOTE_MAX}", f"≤ {NOTE_MAX}", "",
            )
        )  # fmt: skip
    if problems or y is None or exact is None:
        raise InvalidInput(problems)
    with uow.write(actor, address) as w:
        previous = w.conn.execute(select(func.max(F.id)).where(F.target == key, F.year == y, _town_is(town))).scalar()
        values = {
            "target": key,
            "year": y,
            "town": town,
            "value": str(value).strip(),
            "source": src,
            "note": text,
            "supersedes": previous,
            "entered_by": actor.id,
            "entered_at": now(),
        }
        fid = int(w.conn.execute(insert(target_figures).values(**values)).inserted_primary_key[0])
        w.record(
            events.TARGET_FIGURE,
            fid,
            {"supersedes": previous} if previous else None,
            {k: values[k] for k in ("target", "year", "town", "value", "source", "note", "supersedes")},
        )
    return fid


def _year(raw: Any, problems: list[Problem]) -> int | None:
    try:
        y = int(str(raw).strip())
    except (TypeError, ValueError):
        y = None
    if y is None or not YEARS[0] <= y <= YEARS[1]:
        problems.append(
            _problem(
                "invalid_year", "year", raw, f"{raw!r} 不是有效年度。", f"{raw!r} is not a year.",
                f"{YEARS[0]} 至 {YEARS[1]} 的年度", f"a year from {YEARS[0]} to {YEARS[1]}", "2023",
            )
        )  # fmt: skip
        return None
    return y


def latest_figures(conn: Connection, year: int | None = None) -> dict[tuple[str, int, str | None], dict[str, Any]]:
    """The latest entered figure of each (target, year, town) (of ``year`` only, when given), with how many it
    superseded."""
    q = select(target_figures).order_by(F.id)
    if year is not None:
        q = q.where(F.year == year)
    out: dict[tuple[str, int, str | None], dict[str, Any]] = {}
    for r in conn.execute(q):
        k = (r.target, int(r.year), r.town)
        before = out.get(k)
        out[k] = {**r._mapping, "history": (before["history"] + 1) if before else 0}
    return out


def shares(conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest share of each (target, town): its exact value, text, who set it and when."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in conn.execute(select(target_shares).order_by(target_shares.c.id)):
        out[(r.target, r.town)] = {**r._mapping, "exact": campaign_targets.read_value(r.value)}
    return out


def set_shares(
    uow: UnitOfWork, actor: Actor, key: str, given: Mapping[str, Any], address: str | None = None
) -> list[int]:
    """Set towns' shares of a county target (目标分解), each audited; empty values are left as they are.

    Args:
        given: town code → the town's share, exact (in the target's unit; for a growth, the town's growth rate).

    Raises:
        Forbidden: without ``share_targets`` (403). NotFound: an unknown target (404).
        InvalidInput: a target not broken down by town, unknown towns, bad values — all at once (422).
    """
    require(actor, "share_targets")
    target = target_of(key)
    problems: list[Problem] = []
    if not target.by_town:
        problems.append(
            _problem(
                "not_by_town", "target", key, f"目标“{target.zh}”不分解到镇（街道）。",
                f"“{target.en}” is not broken down by town.", "分解到镇（街道）的目标",
                "a target broken down by town", "",
            )
        )  # fmt: skip
    codes = {t.code for t in reference_data.towns()}
    rows = []
    for town, raw in given.items():
        if raw is None or str(raw).strip() == "":
            continue
        if town not in codes:
            problems.append(_town_problem(str(town)))
            continue
        if _exact(raw, f"shares.{town}", problems) is not None:
            rows.append((str(town), str(raw).strip()))
    if problems:
        raise InvalidInput(problems)
    ids = []
    with uow.write(actor, address) as w:
        for town, value in rows:
            values = {"target": key, "town": town, "value": value, "set_by": actor.id, "set_at": now()}
            sid = int(w.conn.execute(insert(target_shares).values(**values)).inserted_primary_key[0])
            w.record(events.TARGET_SHARE, sid, None, {k: values[k] for k in ("target", "town", "value")})
            ids.append(sid)
    return ids
