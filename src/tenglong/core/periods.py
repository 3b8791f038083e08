"""Dates, validity windows and the judging date of a question.

A question is judged at a date: a record's own ``application_date`` (projects,
land transfers, mergers) or else the situation's ``as_of``. Dates travel as
``numpy.datetime64[D]`` arrays so that "is this clause in force for each row" is
one vectorised comparison.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

DAY = "datetime64[D]"


def parse_date(text: str) -> dt.date:
    """Strict ISO date; impossible dates such as 2023-02-30 raise ValueError.

    >>> parse_date("2023-03-01")
    datetime.date(2023, 3, 1)
    """
    if not isinstance(text, str) or len(text) != 10:
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return dt.date.fromisoformat(text)


def as_day(value: dt.date | str) -> np.datetime64:
    """One ``datetime64[D]``."""
    return np.datetime64(value if isinstance(value, str) else value.isoformat(), "D")


@dataclass(frozen=True)
class Window:
    """A closed validity window ``[start, end]``; ``end=None`` means open-ended."""

    start: dt.date
    end: dt.date | None = None

    def contains(self, days: np.ndarray) -> np.ndarray:
        """Vectorised membership of ``datetime64[D]`` values."""
        days = np.asarray(days, dtype=DAY)
        inside = days >= as_day(self.start)
        if self.end is not None:
            inside &= days <= as_day(self.end)
        return inside

    def overlaps_year(self, year: int) -> bool:
        """Whether any day of calendar ``year`` lies in the window."""
        return self.start <= dt.date(year, 12, 31) and (self.end is None or self.end >= dt.date(year, 1, 1))

    def text_zh(self) -> str:
        """E.g. ``2022-07-16 至 2023-12-31``."""
        return f"{self.start.isoformat()} 至 {self.end.isoformat() if self.end else '长期'}"

    def text_en(self) -> str:
        """E.g. ``2022-07-16 to 2023-12-31``."""
        return f"{self.start.isoformat()} to {self.end.isoformat() if self.end else 'open-ended'}"
