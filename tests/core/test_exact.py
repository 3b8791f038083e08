"""Exact arithmetic: rounding, scaling, comparison, and JSON text of money."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenglong.core.exact import compare, div_half_up, scaled, to_float_text


@given(st.integers(-(10**15), 10**15), st.integers(1, 10**6))
def test_div_half_up_when_random_matches_decimal(num, den):
    """Vector rounding equals Decimal ROUND_HALF_UP (away from zero on .5)."""
    want = int((Decimal(num) / Decimal(den)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert int(div_half_up(np.array([num]), den)[0]) == want


@given(st.integers(0, 10**14))
def test_money_json_when_written_is_the_exact_decimal(fen):
    """Money up to 10¹² 元 prints in JSON as exactly its decimal value (no float noise)."""
    text = json.dumps(to_float_text(np.array([fen]), 2)[0])
    assert Decimal(text) == Decimal(fen) / 100


def test_scaled_when_too_many_decimals_raises():
    """12.345 元 is not a whole number of 分."""
    assert scaled(Decimal("12345678.95"), 2) == 1234567895
    with pytest.raises(ValueError):
        scaled(Decimal("12.345"), 2)


def test_compare_when_plot_ratio_rises_exactly_twenty_percent():
    """0.70 → 0.84 is exactly +20 %: ≥ holds, > does not."""
    assert compare(np.array([8400]), 7000, ">=", Fraction(6, 5))[0]
    assert not compare(np.array([8400]), 7000, ">", Fraction(6, 5))[0]
