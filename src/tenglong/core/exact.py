"""Exact arithmetic on scaled integers.

Every decimal quantity inside the engine is an ``int64`` array holding the value
times ``10**scale`` (money in 分 has scale 2, 亩 has scale 4, …). Thresholds are
compared by cross-multiplication, never through a float quotient, so that e.g. a
plot ratio going from 0.7 to 0.84 is *exactly* a 20 % rise.

Input bounds (``core/variables.py``) keep every product below 2**63; the bound
that matters is documented next to each product in the rules.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np

I64 = np.int64


def fraction(value: Decimal | int | str | Fraction) -> Fraction:
    """Exact rational of a parameter value.

    >>> fraction(Decimal("0.15"))
    Fraction(3, 20)
    """
    if isinstance(value, Fraction):
        return value
    return Fraction(Decimal(str(value)) if not isinstance(value, (int, Decimal)) else value)


def scaled(value: Decimal | int, scale: int) -> int:
    """``value × 10**scale`` as an int, which must be exact.

    Raises:
        ValueError: when ``value`` has more decimals than ``scale`` allows.

    >>> scaled(Decimal("12345678.95"), 2)
    1234567895
    """
    if isinstance(value, int):
        return value * 10**scale
    if isinstance(value, Decimal):
        q = value.scaleb(scale)
        if q != q.to_integral_value():
            raise ValueError(f"{value} has more than {scale} decimals")
        return int(q)
    f = fraction(value) * 10**scale
    if f.denominator != 1:
        raise ValueError(f"{value} has more than {scale} decimals")
    return int(f)


def unscale(value: int, scale: int) -> Decimal:
    """Decimal of a scaled int.

    >>> unscale(123456790, 2)
    Decimal('1234567.90')
    """
    return Decimal(int(value)).scaleb(-scale) if scale else Decimal(int(value))


def div_half_up(num: np.ndarray, den: np.ndarray | int) -> np.ndarray:
    """Round ``num / den`` half away from zero, exactly, for int64 arrays.

    ``den`` must be positive. This is the one rounding used for money (四舍五入).

    >>> div_half_up(np.array([5, 15, -5, 14]), 10).tolist()
    [1, 2, -1, 1]
    """
    num = np.asarray(num, dtype=I64)
    den = np.asarray(den, dtype=I64)
    twice = den * 2
    if num.size and num.min() >= 0:  # money is never negative: skip the sign handling
        return (num * 2 + den) // twice
    mag = (np.abs(num) * 2 + den) // twice
    return np.where(num < 0, -mag, mag)


def mul_fraction(values: np.ndarray, f: Fraction) -> np.ndarray:
    """``values × f`` rounded half up to the same scale.

    >>> mul_fraction(np.array([1234567895]), Fraction(1, 10)).tolist()
    [123456790]
    """
    return div_half_up(np.asarray(values, dtype=I64) * I64(f.numerator), I64(f.denominator))


def rescale(values: np.ndarray, from_scale: int, to_scale: int) -> np.ndarray:
    """Change the scale of an int64 array; going down rounds half up."""
    if to_scale >= from_scale:
        return np.asarray(values, dtype=I64) * I64(10 ** (to_scale - from_scale))
    return div_half_up(values, I64(10 ** (from_scale - to_scale)))


def compare(num: np.ndarray, den: np.ndarray | int, op: str, f: Fraction) -> np.ndarray:
    """Exact ``num/den  op  f`` with ``den > 0``, by cross-multiplication.

    >>> compare(np.array([84]), 70, ">=", Fraction(6, 5)).tolist()   # 0.84/0.70 = 1.2
    [True]
    """
    left = np.asarray(num, dtype=I64) * I64(f.denominator)
    right = np.asarray(den, dtype=I64) * I64(f.numerator)
    return _OPS[op](left, right)


_OPS = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
    "==": np.equal,
}


def to_float_text(values: np.ndarray, scale: int) -> list[float]:
    """Scaled ints as Python floats whose ``repr`` is the exact decimal.

    For ``|value| < 2**53`` the float nearest to ``value / 10**scale`` has the
    exact decimal as its shortest round-trip representation, so ``json.dumps``
    prints e.g. ``1234567.9`` for 123456790 分. ``tests/core/test_exact.py``
    checks this property.
    """
    return (np.asarray(values, dtype=np.float64) / float(10**scale)).tolist()
