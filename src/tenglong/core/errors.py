"""Every typed error of tenglong, one class per answer an adapter gives.

Nothing in here knows HTTP, the terminal or Excel: adapters translate these into
an exit code, a JSON envelope or a page (``web/errors.py`` maps each ``code`` to
its status). Every problem is a stable ``code`` plus bilingual text, and input
problems carry where they are, the bad value, what is expected and an example
(habit 7 of docs/style.md). Built-in exceptions (``KeyError``, the file system's
``PermissionError``…) never mean "not found" or "forbidden": a bug stays a bug.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located precisely.

    Attributes:
        code: stable machine id, e.g. ``negative_amount``.
        where: location path, e.g. ``projects.P1.equipment_investment`` or
            ``企业!R12C3``.
        value: the offending value as the user wrote it (``None`` when missing).
        expected_zh: what is expected, in Chinese.
        expected_en: what is expected, in English.
        example: a valid example value, as text.
        message_zh: one full sentence in Chinese.
        message_en: one full sentence in English.
    """

    code: str
    where: str
    value: Any
    expected_zh: str
    expected_en: str
    example: str
    message_zh: str = ""
    message_en: str = ""
    context: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        out = asdict(self)
        if not out["context"]:
            out.pop("context")
        return out


class PolicyError(Exception):
    """Base class of every error the core raises on purpose."""

    code = "policy_error"

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


class InvalidInput(PolicyError):
    """The input has one or more problems; all of them are listed.

    Raised only after the whole input was checked, so ``problems`` is complete
    and nothing was computed from a bad document. A reader that lists only the
    first problems in full (``core.situation.LISTED``) passes the count of the
    rest as ``more``: the message counts them all, and one last problem
    (``more_problems``) says "另有 N 处错误未列出 / N more not listed".
    """

    code = "invalid_input"

    def __init__(self, problems: list[Problem], more: int = 0) -> None:
        n = len(problems) + more
        super().__init__(f"输入有 {n} 处错误，未作任何计算。", f"The input has {n} error(s); nothing was computed.")
        self.more = more
        self.problems = [*problems, more_problems(more)] if more else problems


def more_problems(more: int) -> Problem:
    """The last problem of a list cut short: how many more were found but not listed."""
    return Problem(
        "more_problems",
        "$",
        more,
        "先改正以上错误，再提交一次即可看到其余错误",
        "fix the errors listed and submit again to see the rest",
        "",
        f"另有 {more:,} 处错误未列出。",
        f"{more:,} more not listed.",
    )


class ParameterError(PolicyError):
    """A parameter file is malformed or a parameter is missing."""

    code = "parameter_error"


class ReformError(PolicyError):
    """A reform (what-if change of parameters) is invalid; nothing was changed."""

    code = "invalid_reform"

    def __init__(self, problems: list[Problem]) -> None:
        n = len(problems)
        super().__init__(
            f"政策调整方案有 {n} 处错误，未作任何修改。", f"The reform has {n} error(s); nothing was changed."
        )
        self.problems = problems


class NotFound(PolicyError):
    """The record does not exist, or lies outside the actor's scope (the same answer, so nothing is revealed)."""

    code = "not_found"

    def __init__(self, what: object = None, message_zh: str = "找不到该记录。", message_en: str = "Not found.") -> None:
        super().__init__(message_zh, message_en)
        self.what = what


class Forbidden(PolicyError):
    """The actor's role may not take this action on something it can see."""

    code = "forbidden"

    def __init__(self, permission: str = "", message_zh: str = "", message_en: str = "") -> None:
        super().__init__(
            message_zh or "您没有权限查看或操作此内容。",
            message_en or "You are not allowed to see or do this.",
        )
        self.permission = permission


class Conflict(PolicyError):
    """The record's state does not allow the change (a workflow move from the wrong state, a duplicate…)."""

    code = "conflict"


class TooLarge(PolicyError):
    """An upload or request is larger than its limit."""

    code = "too_large"
