"""Chinese legal boundary words and the comparison each one means.

《中华人民共和国民法典》第一千二百五十九条: 民法所称的“以上”、“以下”、“以内”、“届满”，包括本数；
所称的“不满”、“超过”、“以外”，不包括本数. Words such as 不少于/不超过/不低于 include the
number by their plain meaning; "(不含)" excludes it.

Each threshold parameter records the word the policy uses (``term``) and the
direction is implied by the word, so a reviewer checks one table, not code.
"""

from __future__ import annotations

from dataclasses import dataclass

LEGAL_SOURCE = "《民法典》第一千二百五十九条"


@dataclass(frozen=True)
class Boundary:
    """How a threshold word compares a value ``x`` with the number ``n``."""

    term: str
    op: str  # ">=", ">", "<=", "<"
    inclusive: bool
    zh: str
    en: str


def _b(term: str, op: str, zh: str, en: str) -> Boundary:
    return Boundary(term, op, op in (">=", "<="), zh, en)


TERMS: dict[str, Boundary] = {
    b.term: b
    for b in [
        _b("以上", ">=", "以上，含本数", "at least (inclusive)"),
        _b("及以上", ">=", "及以上，含本数", "at least (inclusive)"),
        _b("不少于", ">=", "不少于，含本数", "not less than (inclusive)"),
        _b("不低于", ">=", "不低于，含本数", "not lower than (inclusive)"),
        _b("达到", ">=", "达到，含本数", "reaches (inclusive)"),
        _b("以下", "<=", "以下，含本数", "at most (inclusive)"),
        _b("及以下", "<=", "及以下，含本数", "at most (inclusive)"),
        _b("(含)以下", "<=", "(含)以下，含本数", "at most (inclusive)"),
        _b("以内", "<=", "以内，含本数", "within (inclusive)"),
        _b("不超过", "<=", "不超过，含本数", "not more than (inclusive)"),
        _b("超过", ">", "超过，不含本数", "more than (exclusive)"),
        _b("(不含)以上", ">", "(不含)以上，不含本数", "more than (exclusive)"),
        _b("不满", "<", "不满，不含本数", "less than (exclusive)"),
        _b("未达到", "<", "未达到，不含本数", "below (exclusive)"),
    ]
}

SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def boundary(term: str) -> Boundary:
    """The boundary of a term.

    Raises:
        KeyError: for a word not in the table (a parameter file error).

    >>> boundary("(不含)以上").op
    '>'
    """
    return TERMS[term]
