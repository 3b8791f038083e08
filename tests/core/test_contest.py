"""季擂台 / 年评优 ranking (core/contest.py) against rankings computed by hand on small counties."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from fractions import Fraction as F

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenglong.core import contest, loader
from tenglong.core.contest import Method, rank, scale
from tenglong.core.errors import ParameterError

DEFAULT = Method(
    (("targets", F(4, 10)), ("closure", F(3, 10)), ("starts", F(15, 100)), ("mujun", F(15, 100))), decimals=2
)


def test_rank_when_four_units_differ_matches_the_hand_computation():
    """By hand (weights 0.4 / 0.3 / 0.15 / 0.15, each indicator scaled 0–100 over its range):

    ====  =======  =======  ======  =====  ===================================================
    unit  targets  closure  starts  mujun  composite
    ====  =======  =======  ======  =====  ===================================================
    a     3/4→100  1/2→50   2→50    +10%→100   40 + 15 + 7.5 + 15 = 77.50
    b     1/2→50   —        4→100   +5%→66.67  (20 + 15 + 10) / 0.7 = 64.2857… → 64.29
    c     1/4→0    1/4→0    0→0     −5%→0      0.00
    d     1/2→50   3/4→100  2→50    0→33.33    20 + 30 + 7.5 + 5 = 62.50
    ====  =======  =======  ======  =====  ===================================================
    """
    values = {
        "a": {"targets": F(3, 4), "closure": F(1, 2), "starts": F(2), "mujun": F(1, 10)},
        "b": {"targets": F(1, 2), "closure": None, "starts": F(4), "mujun": F(1, 20)},
        "c": {"targets": F(1, 4), "closure": F(1, 4), "starts": F(0), "mujun": F(-1, 20)},
        "d": {"targets": F(1, 2), "closure": F(3, 4), "starts": F(2), "mujun": F(0)},
    }
    got = rank(values, DEFAULT)
    assert [(s.unit, s.rank, s.composite) for s in got] == [
        ("a", 1, Decimal("77.50")),
        ("b", 2, Decimal("64.29")),
        ("d", 3, Decimal("62.50")),
        ("c", 4, Decimal("0.00")),
    ]
    b = next(s for s in got if s.unit == "b")
    assert b.scores == {"targets": 50, "closure": None, "starts": 100, "mujun": F(200, 3)}
    assert all(s.shared == () and s.decided_by is None for s in got)


def test_rank_when_composites_tie_breaks_by_the_indicators_in_order_and_shares_a_full_tie():
    """Weights ½ targets, ½ starts: u1 (100, 0), u2 (0, 100), u3 and u4 (50, 50) all score 50.00. Targets first:
    u1, then u3 and u4 together (并列 2nd), then u2 4th (rank 3 skipped)."""
    half = Method((("targets", F(1, 2)), ("starts", F(1, 2))), 2)
    values = {
        "u1": {"targets": F(1), "starts": F(0)},
        "u2": {"targets": F(0), "starts": F(2)},
        "u3": {"targets": F(1, 2), "starts": F(1)},
        "u4": {"targets": F(1, 2), "starts": F(1)},
    }
    got = {s.unit: s for s in rank(values, half)}
    assert {u: (s.rank, s.composite) for u, s in got.items()} == {
        "u1": (1, Decimal("50.00")),
        "u3": (2, Decimal("50.00")),
        "u4": (2, Decimal("50.00")),
        "u2": (4, Decimal("50.00")),
    }
    assert got["u3"].shared == ("u4",) and got["u4"].shared == ("u3",)
    assert got["u3"].decided_by == "targets" and got["u2"].decided_by == "targets" and got["u1"].decided_by is None


def test_rank_when_exact_composites_round_to_the_same_published_score_ranks_the_published_one():
    """Decimals 0: u1's exact 50.4 and u2's 49.6 both publish as 50, so the tie rule decides (targets: u2's 90
    over u1's 20.8) — the order shown is the order of the published scores."""
    m = Method((("targets", F(1, 2)), ("starts", F(1, 2))), 0)
    values = {
        "lo": {"targets": F(0), "starts": F(0)},
        "hi": {"targets": F(100), "starts": F(100)},
        "u1": {"targets": F("20.8"), "starts": F(80)},
        "u2": {"targets": F(90), "starts": F("9.2")},
    }
    got = [(s.unit, s.rank, s.composite, s.decided_by) for s in rank(values, m)]
    assert got == [
        ("hi", 1, Decimal(100), None),
        ("u2", 2, Decimal(50), None),
        ("u1", 3, Decimal(50), "targets"),
        ("lo", 4, Decimal(0), None),
    ]


def test_rank_when_a_unit_has_no_indicator_leaves_it_unranked_at_the_end():
    m = Method((("targets", F(1)),), 2)
    got = rank({"x": {"targets": None}, "a": {"targets": F(1)}, "b": {"targets": F(0)}}, m)
    assert [(s.unit, s.rank, s.composite) for s in got] == [("a", 1, Decimal("100.00")), ("b", 2, 0), ("x", None, None)]


def test_scale_when_every_unit_is_equal_scores_nobody_so_the_indicator_is_left_out():
    assert scale({"a": F(0), "b": F(0)}) == {"a": None, "b": None}
    m = Method((("targets", F(1, 2)), ("starts", F(1, 2))), 2)
    got = rank({"a": {"targets": F(1), "starts": F(3)}, "b": {"targets": F(0), "starts": F(3)}}, m)
    assert [(s.unit, s.composite) for s in got] == [("a", Decimal("100.00")), ("b", Decimal("0.00"))]


def test_method_when_read_from_the_parameters_is_the_documented_default_and_checked():
    m = contest.method_at(loader.parameters(), dt.date(2023, 6, 30))
    assert m == DEFAULT and m.order == contest.INDICATORS
    assert loader.parameters()["contest.weights"].assumption
    for table in ({"targets": 1, "speed": 1}, {"targets": -1, "starts": 2}, {"targets": 0}):
        bad = loader.parameters().with_values({"contest.weights": {dt.date(2023, 1, 1): table}})
        with pytest.raises(ParameterError):
            contest.method_at(bad, dt.date(2023, 6, 30))


def test_rank_when_an_indicator_is_not_weighed_is_refused():
    with pytest.raises(ValueError):
        rank({"a": {"speed": F(1)}}, Method((("targets", F(1)),), 2))


units = st.dictionaries(
    st.sampled_from([f"u{i}" for i in range(8)]),
    st.fixed_dictionaries(
        {k: st.one_of(st.none(), st.fractions(min_value=-5, max_value=5, max_denominator=20)) for k in DEFAULT.order}
    ),
    min_size=1,
)


@given(units)
def test_rank_property_when_checked_against_a_decimal_reference(values):
    """Per unit, the published composite equals a Decimal reference computed row by row; ranks never increase
    down the list, and a unit ranks below another only with a lower score or an equal one lost on the tie rule."""
    got = rank(values, DEFAULT)
    by_indicator = {k: [v[k] for v in values.values() if v[k] is not None] for k in DEFAULT.order}
    for s in got:
        num = den = Decimal(0)
        for k, w in DEFAULT.weights:
            known, v = by_indicator[k], values[s.unit][k]
            if v is None or min(known) == max(known):
                continue
            score = (
                Decimal(100)
                * Decimal((v - min(known)).numerator * (max(known) - min(known)).denominator)
                / (Decimal((v - min(known)).denominator * (max(known) - min(known)).numerator))
            )
            num += Decimal(w.numerator) / Decimal(w.denominator) * score
            den += Decimal(w.numerator) / Decimal(w.denominator)
        if den == 0:
            assert s.composite is None and s.rank is None
        else:
            assert abs(s.composite - (num / den).quantize(Decimal("0.01"))) <= Decimal("0.01")
    ranked = [s for s in got if s.rank is not None]
    assert [s.rank for s in ranked] == sorted(s.rank for s in ranked)
    for above, below in itertools.pairwise(ranked):
        assert above.composite >= below.composite
