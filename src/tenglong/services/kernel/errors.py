"""The platform's typed errors: one class per answer an adapter gives.

The services raise these (and the core's ``InvalidInput``/``ReformError``); the web
turns each ``code`` into its HTTP status (``web/errors.py``), the CLI into exit
code 2. Nothing here knows HTTP. Built-in exceptions (``KeyError``,
``PermissionError`` from the file system…) are never used to mean "not found" or
"forbidden": a bug stays a bug and is answered as one (500).
"""

from __future__ import annotations

from ...core.errors import InvalidInput, PolicyError, Problem

__all__ = ["Conflict", "Forbidden", "InvalidInput", "NotFound", "PolicyError", "Problem", "TooLarge"]


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
