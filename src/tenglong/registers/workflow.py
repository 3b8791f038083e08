"""The closed loop of a subsidy application: states, allowed moves, who may make them.

draft → submitted → under_review → approved → paid, or → rejected. A rejected
application may be revised back to draft by its applicant.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = ("draft", "submitted", "under_review", "approved", "rejected", "paid")


@dataclass(frozen=True)
class Move:
    """One allowed transition."""

    action: str
    source: str
    target: str
    permission: str
    needs_note: bool = False


MOVES: tuple[Move, ...] = (
    Move("submit", "draft", "submitted", "apply"),
    Move("start_review", "submitted", "under_review", "review"),
    Move("approve", "under_review", "approved", "decide", needs_note=False),
    Move("reject", "under_review", "rejected", "decide", needs_note=True),
    Move("pay", "approved", "paid", "pay"),
    Move("revise", "rejected", "draft", "apply"),
)


def move(action: str, state: str) -> Move | None:
    """The transition ``action`` from ``state``, or None when it is not allowed."""
    for m in MOVES:
        if m.action == action and m.source == state:
            return m
    return None


def actions_from(state: str) -> list[Move]:
    """Transitions available from ``state``."""
    return [m for m in MOVES if m.source == state]
