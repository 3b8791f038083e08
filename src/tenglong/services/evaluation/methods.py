"""Method files: parameter changes for an evaluation run (``--method``, the upload on /evaluations, the API).

One parser for every adapter. A method is ``{title, description?, changes: {path:
value | {start_date: value}}}`` or a flat mapping of changes; it is checked in
full by ``core.reforms.validate`` before anything uses it, and every problem is
reported at once (habit 9). Stored on a run as JSON that reads back to the same
exact values (:func:`changes_to_json` / :func:`changes_from_json`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ...core import loader, reforms
from ...core.errors import Problem, ReformError
from ...core.parameters import ParameterSet

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_META = ("title", "description", "source")
EXAMPLE = "changes:\n  mujun.score_decimals: 3"
TITLE_MAX = 200
"""Longest method title (the runs table's CHECK holds the same limit)."""


@dataclass(frozen=True)
class Method:
    """Checked parameter changes and their title (``changes`` None: the default method)."""

    changes: dict[str, Any] | None
    title: str | None = None

    def parameters(self, base: ParameterSet | None = None) -> ParameterSet:
        """``base`` (default: the policy's parameters) with the changes applied."""
        base = base or loader.parameters()
        return reforms.apply(self.changes, base) if self.changes else base


DEFAULT = Method(None, None)


def _checked(data: Any, revive: bool) -> Method:
    if not data:
        return DEFAULT
    if not isinstance(data, dict):
        raise ReformError(reforms.validate(data, loader.parameters()))
    changes = data.get("changes", {k: v for k, v in data.items() if k not in _META})
    if not isinstance(changes, dict):
        raise ReformError(reforms.validate(changes, loader.parameters()))
    if revive:
        changes = changes_from_json(changes)
    problems = reforms.validate(changes, loader.parameters())
    if problems:
        raise ReformError(problems)
    title = data.get("title")
    title = None if title is None else str(title).strip() or None
    if title is not None and len(title) > TITLE_MAX:
        raise ReformError(
            [
                Problem(
                    "too_long",
                    "title",
                    title[:40] + "…",
                    f"不超过 {TITLE_MAX} 个字符",
                    f"at most {TITLE_MAX} characters",
                    "黄岩区2022年口径",
                    f"方法标题有 {len(title)} 个字符，最多 {TITLE_MAX} 个。",
                    f"The method's title has {len(title)} characters; at most {TITLE_MAX} are allowed.",
                )
            ]
        )
    return Method(changes or None, title)


def from_text(text: str, where: str) -> Method:
    """A method file's YAML text, checked in full.

    Args:
        text: the file's content.
        where: its name, for the messages.

    Raises:
        ReformError: the YAML is invalid, or every problem of the changes; nothing is used then.
    """
    try:
        data = loader.load_yaml(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
        raise ReformError(
            [
                Problem(
                    "invalid_yaml",
                    at,
                    None,
                    "有效的 YAML",
                    "valid YAML",
                    EXAMPLE,
                    f"方法文件 {at} 不是有效的 YAML：{exc}",
                    f"The method file {at} is not valid YAML: {exc}",
                )
            ]
        ) from None
    return _checked(data, revive=False)


def from_bytes(raw: bytes, where: str) -> Method:
    """A method file's bytes (UTF-8, with or without a BOM), checked in full.

    Raises:
        ReformError: as :func:`from_text`, or when the bytes are not UTF-8 text.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReformError(
            [
                Problem(
                    "invalid_encoding",
                    where,
                    None,
                    "UTF-8 编码的 YAML 文本",
                    "YAML text in UTF-8",
                    EXAMPLE,
                    f"方法文件 {where} 不是 UTF-8 文本。",
                    f"The method file {where} is not UTF-8 text.",
                )
            ]
        ) from None
    return from_text(text, where)


def from_file(path: str | Path | None) -> Method:
    """A method file on disk (``None``: the default method).

    Raises:
        ReformError: as :func:`from_bytes`.
    """
    return DEFAULT if path is None else from_bytes(Path(path).read_bytes(), str(path))


def from_json(method: dict[str, Any] | None) -> Method:
    """``{title?, changes}`` sent as JSON (numbers as floats, dates as ISO text), checked in full.

    Raises:
        ReformError: listing every problem of the changes.
    """
    return _checked(method, revive=True)


def changes_to_json(changes: dict[str, Any] | None) -> Any:
    """Changes as JSON that :func:`changes_from_json` turns back into the same values.

    Decimals become JSON numbers when the number reads back exactly, else
    ``{"$decimal": "…"}``; dates (the keys of dated changes) become ISO strings.

    >>> changes_to_json({"mujun.quota.A": Decimal("0.2")})
    {'mujun.quota.A': 0.2}
    >>> changes_from_json(changes_to_json({"x": {dt.date(2023, 1, 1): Decimal("0.1")}}))
    {'x': {datetime.date(2023, 1, 1): Decimal('0.1')}}
    """

    def enc(v: Any) -> Any:
        if isinstance(v, Decimal):
            return float(v) if Decimal(repr(float(v))) == v else {"$decimal": str(v)}
        if isinstance(v, dict):
            return {(k.isoformat() if isinstance(k, dt.date) else str(k)): enc(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [enc(x) for x in v]
        return v

    return enc(changes) if changes else None


def changes_from_json(changes: Any) -> Any:
    """Changes stored (or sent) as JSON back to exact values: numbers → Decimal, ISO date keys → dates."""

    def fix(v: Any) -> Any:
        if isinstance(v, float):
            return Decimal(repr(v))
        if isinstance(v, dict):
            if set(v) == {"$decimal"}:
                return Decimal(str(v["$decimal"]))
            dated = bool(v) and all(isinstance(k, str) and _ISO_DAY.fullmatch(k) for k in v)
            return {(dt.date.fromisoformat(k) if dated else k): fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    return {k: fix(v) for k, v in changes.items()} if isinstance(changes, dict) else changes
