"""The one comparison of a figure against an A.2 target, at the exact boundary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from tenglong.core import loader
from tenglong.core.targets import COUNTY_KEYS, figure, meets, targets_at

DAY = dt.date(2023, 12, 31)


@pytest.mark.parametrize("key", COUNTY_KEYS)
def test_target_when_figure_equals_the_number_follows_its_boundary_word(key):
    """超过 excludes the number (20.3 does not meet 超过 20.3); 达到 includes it; a hair above meets both."""
    target = targets_at(loader.parameters(), DAY)[key]
    exact = Fraction(target.value)
    assert target.met_by(exact) is (target.term in ("达到", "以上", "不少于"))
    assert target.met_by(exact + Fraction(1, 10**9))
    assert not target.met_by(exact - Fraction(1, 10**9))
    assert not target.met_by(None)


def test_targets_when_read_from_parameters_carry_the_policy_numbers():
    """20.3 万元/亩, 101.4 万元/亩, 24.23 万元/人 (超过) and 2.3% (达到), citing A.2."""
    t = targets_at(loader.parameters(), DAY)
    assert {k: (v.value, v.term, v.clause) for k, v in t.items()} == {
        "tax_per_mu": (Decimal("20.3"), "超过", "A.2"),
        "value_added_per_mu": (Decimal("101.4"), "超过", "A.2"),
        "labor_productivity": (Decimal("24.23"), "超过", "A.2"),
        "rd_intensity": (Decimal("0.023"), "达到", "A.2"),
    }


def test_figure_when_summing_money_and_land_gives_wan_yuan_per_mu():
    """Σ税收 2,030,000 元 over 10 亩 is 20.3 万元/亩 exactly, which does not exceed 20.3."""
    value = figure("tax_per_mu", {"tax_paid": Decimal("2030000.00"), "land_area_mu": Decimal("10.0000")})
    assert value == Fraction(203, 10)
    assert not meets(value, Decimal("20.3"), "超过")
    assert figure("labor_productivity", {"value_added": Decimal(1), "employees": 0}) is None
