"""The A.3.16 tags of the enterprise register: 上市企业, 国家“小巨人”企业, 战略性新兴产业企业…

附件 三(六)16 names the local quality enterprises: 亩均评价A、B类企业、上市企业、拟上市且资料已报证监会审批的企业、
单项冠军及培育企业、国家“小巨人”企业、省“隐形冠军”及培育企业、省“未来工厂”及培育企业、“2513”重点培育企业、
战略性新兴产业等领域的企业. The 亩均 classes come from the evaluation; the others are facts about the firm that the
register holds as tags (``enterprises.tags``, a JSON list of keys, NULL for none).

* :data:`TAGS` — the tags, read from the categories of the ``quality_retention`` register kind
  (``policy/registers/quality_retention.yaml``), the one place their names are written;
* :func:`parse_tags` — text as people write it (the import's 企业标签 column, a form) → keys and problems;
* :func:`tags_of` — the tags of some enterprises (the hook the register seeding calls);
* :func:`set_tags` — change an enterprise's tags (admin, or the town of the enterprise), audited.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, null, select, update

from ...adapters.db.tables import enterprises
from ...core.errors import InvalidInput, Problem
from ...registers import events, kinds
from ...registers.kind_parts import Category
from ...registers.roles import Actor
from ..kernel.scope import require, visible_enterprise
from ..kernel.uow import UnitOfWork, now

__all__ = ["CLAUSE", "NONE_WORDS", "TAGS", "allowed", "normalise", "parse_tags", "set_tags", "tags_of"]

KIND = "quality_retention"
FROM_EVALUATION = ("class_a", "class_b")
"""Categories of the kind that the published evaluation decides (亩均评价A、B类), never tags."""
TAGS: Mapping[str, Category] = {c.key: c for c in kinds.load()[KIND].categories if c.key not in FROM_EVALUATION}
"""The tags an enterprise may carry, by key, in the order of clause A.3.16."""
CLAUSE = kinds.load()[KIND].clause
NONE_WORDS = ("无", "none")
"""A cell that says one of these (alone) clears the tags; an empty cell leaves them as they are."""
SEPARATORS = re.compile(r"[、，,;；\n\r]+")
_QUOTES = re.compile(r"[\"'“”‘’「」『』\s]")


def normalise(text: str) -> str:
    """The form names are compared in: NFKC, case-folded, without quotes and spaces.

    >>> normalise("国家“小巨人”企业") == normalise('国家"小巨人"企业') == normalise("国家小巨人企业")
    True
    """
    return _QUOTES.sub("", unicodedata.normalize("NFKC", text)).casefold()


def _names() -> dict[str, str]:
    table: dict[str, str] = {}
    for key, c in TAGS.items():
        for name in (key, c.zh, c.en):
            table[normalise(name)] = key
    return table


_NAMES = _names()


def allowed(lang: str = "zh") -> str:
    """The names a cell may hold, for messages: ``上市企业、拟上市且资料已报证监会审批的企业、…``."""
    if lang == "zh":
        return "、".join(c.zh for c in TAGS.values())
    return "; ".join(f"{c.en} ({k})" for k, c in TAGS.items())


def _problem(token: str, where: str) -> Problem:
    example = "、".join(TAGS[k].zh for k in ("listed", "little_giant"))
    if normalise(token) in NONE_WORDS:
        why_zh, why_en = "“无”只能单独填写（清除全部标签）", "“无” (none) clears every tag and stands alone"
    else:
        why_zh, why_en = f"不是{CLAUSE}所列的企业标签", f"is not a tag of clause {CLAUSE}"
    return Problem(
        "unknown_tag",
        where,
        token,
        f"{CLAUSE}所列的企业标签，多个用“、”分隔：{allowed('zh')}；或单独填“无”清除",
        f"tags of clause {CLAUSE}, separated by “、” or commas: {allowed('en')}; or “无” / none alone to clear them",
        example,
        f"{where}：「{token}」{why_zh}。可填：{allowed('zh')}（多个用“、”分隔；单独填“无”清除全部标签）。",
        f"{where}: '{token}' {why_en}. Allowed: {allowed('en')} (several separated by “、” or commas; "
        "“无” or none alone clears them).",
        {"token": token},
    )


def _tokens(text: str) -> list[str]:
    """The names in ``text``: split at 、，,;； and line breaks; a piece that is no name is split at spaces too (the
    English names hold spaces, so they are tried whole first)."""
    out: list[str] = []
    for piece in (p.strip() for p in SEPARATORS.split(text)):
        if not piece:
            continue
        if normalise(piece) in _NAMES or normalise(piece) in NONE_WORDS:
            out.append(piece)
        else:
            out.extend(piece.split())
    return out


def parse_tags(text: str | None, where: str = "企业标签") -> tuple[list[str], list[Problem]]:
    """The tag keys written in ``text``, and a problem for each token that is not a tag.

    Accepted: the Chinese names of A.3.16 (``上市企业``, ``国家“小巨人”企业``; the quotes may be left out or written
    straight), the English names and the keys, separated by 、，,;； spaces or line breaks. ``无`` or ``none`` alone
    (and an empty text) means no tag.

    Args:
        text: what was written.
        where: where it was written, for the problems (a cell, a field).

    Returns:
        ``(keys, problems)``: the keys without repeats, in the order of :data:`TAGS`; every bad token's problem.

    >>> parse_tags("上市企业、国家小巨人企业 key_2513")
    (['listed', 'little_giant', 'key_2513'], [])
    >>> parse_tags("无")
    ([], [])
    >>> keys, problems = parse_tags("上市企业，龙头企业"); keys, problems[0].value
    (['listed'], '龙头企业')
    """
    tokens = _tokens(text or "")
    if len(tokens) == 1 and normalise(tokens[0]) in NONE_WORDS:
        return [], []
    found, problems = set(), []
    for token in tokens:
        key = _NAMES.get(normalise(token))
        if key is None:
            problems.append(_problem(token, where))
        else:
            found.add(key)
    return [k for k in TAGS if k in found], problems


def _known(raw: Any) -> list[str]:
    """Stored tags, known keys only, in the order of :data:`TAGS`."""
    held = set(raw) if isinstance(raw, list) else set()
    return [k for k in TAGS if k in held]


def tags_of(conn: Connection, credit_codes: Iterable[str]) -> dict[str, list[str]]:
    """The tags of each of ``credit_codes`` that has any (the others are left out).

    The hook of the register seeding (``services/campaign/seeding.py``): a tagged firm is a quality enterprise of
    A.3.16 whatever its 亩均 class.
    """
    codes = list(dict.fromkeys(credit_codes))
    out: dict[str, list[str]] = {}
    for k in range(0, len(codes), 1000):
        rows = conn.execute(
            select(enterprises.c.credit_code, enterprises.c.tags).where(
                enterprises.c.credit_code.in_(codes[k : k + 1000]), enterprises.c.tags.is_not(None)
            )
        )
        for code, raw in rows:
            if held := _known(raw):
                out[code] = held
    return out


def check_keys(keys: Iterable[str], where: str = "tags") -> list[str]:
    """``keys`` as stored (known, without repeats, in the order of :data:`TAGS`).

    Raises:
        InvalidInput: naming each unknown key (names are accepted too, as in :func:`parse_tags`).
    """
    found, problems = set(), []
    for raw in keys:
        key = _NAMES.get(normalise(str(raw)))
        if key is None:
            problems.append(_problem(str(raw), where))
        else:
            found.add(key)
    if problems:
        raise InvalidInput(problems)
    return [k for k in TAGS if k in found]


def set_tags(
    uow: UnitOfWork, actor: Actor, credit_code: str, keys: Iterable[str], *, address: str | None = None
) -> list[str]:
    """Set the tags of an enterprise (an empty list clears them), audited with the tags before and after.

    Admin sets any enterprise's tags, a town official those of its town's enterprises (the ``tag_enterprise``
    permission of ``registers/roles.py``); clause A.3.16.

    Returns:
        The tags now held.

    Raises:
        NotFound: an unknown enterprise, or one outside the actor's scope.
        Forbidden: a role without the ``tag_enterprise`` permission (on an enterprise it can see).
        InvalidInput: an unknown tag (nothing changes).
    """
    with uow.write(actor, address) as w:
        ent = visible_enterprise(w.conn, actor, credit_code)
        require(actor, "tag_enterprise")
        after = check_keys(keys)
        before = _known(ent.get("tags"))
        if after != before:
            w.conn.execute(
                update(enterprises)
                .where(enterprises.c.credit_code == ent["credit_code"])
                .values(tags=after or null(), updated_at=now())
            )
            w.record(events.ENTERPRISE_TAGS, ent["credit_code"], {"tags": before}, {"tags": after, "clause": CLAUSE})
        return after
