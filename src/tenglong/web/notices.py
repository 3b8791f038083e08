"""The sentences of the 待办 panel and of the notifications (``locale/todo.yaml``, ``locale/notifications.yaml``).

The services hand over message keys and values in both languages (``services/todo.py``,
``services/notifications.py``); here they become text, the same for the pages and the API.
"""

from __future__ import annotations

from typing import Any

from ..services.todo import Item
from .i18n import LANGS, catalogue, t


def todo_text(item: Item, lang: str) -> str:
    """The sentence of one 待办 item, e.g. 补助申请：已提交，待您开始审核."""
    return t(item.message, lang, **item.text_values(lang))


def notice_key(event: str) -> str:
    """The message key of a notification of ``event``: its own sentence, or the general one."""
    key = f"notifications.event.{event}"
    return key if key in catalogue() else "notifications.moved"


def notice_text(notice: dict[str, Any], lang: str) -> str:
    """The sentence of one notification (an item of ``services.notifications.inbox``)."""
    values = {k: v[0] if lang == "zh" else v[1] for k, v in notice["values"].items()}
    return t(notice_key(notice["event"]), lang, **values)


def both(text: Any, *args: Any) -> dict[str, str]:
    """``text(…, lang)`` in every language: ``{"zh": …, "en": …}``."""
    return {lang: text(*args, lang) for lang in LANGS}
