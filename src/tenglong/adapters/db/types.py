"""Exact decimal columns stored as scaled integers, the same on SQLite and PostgreSQL.

SQLite has no exact decimal type (NUMERIC columns hold floats), so money is kept
as an integer number of 分 (``Fixed(2)``) and land as 亩×10⁴ (``Fixed(4)``).
The Python side always sees ``Decimal``; sums in SQL are exact integer sums.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator


class Fixed(TypeDecorator):
    """A decimal with ``scale`` places, stored as the integer ``value × 10**scale``."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        """Decimal (or int/str) → scaled int; refuses values finer than the scale."""
        if value is None:
            return None
        d = Decimal(str(value)) if not isinstance(value, Decimal) else value
        q = d.scaleb(self.scale)
        if q != q.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimals")
        return int(q)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        """Scaled int → Decimal with exactly ``scale`` places."""
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.scale)


Money = Fixed(2)
Mu = Fixed(4)
