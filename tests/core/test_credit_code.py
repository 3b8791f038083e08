"""统一社会信用代码 (GB 32100-2015): check character, reason codes, vectorised mask, generation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenglong.core import credit_code as cc

VALID = "91331082MA2AB3CF7N"  # built in the module docstrings; org code MA2AB3CF-7


def _reference_check(first17: str) -> str:
    """Textbook GB 32100 check character, written independently of the module."""
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(cc.CHARSET.index(ch) * w for ch, w in zip(first17, weights, strict=True))
    return cc.CHARSET[(31 - total % 31) % 31]


def _reference_org_check(body: str) -> str:
    """Textbook GB 11714 check character: 11 - (Σ mod 11), 10 -> X, 11 -> 0."""
    value = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body]
    r = 11 - sum(v * w for v, w in zip(value, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
    return {10: "X", 11: "0"}.get(r, str(r))


def test_weights_when_derived_from_powers_of_three():
    """The published weights are 3**i mod 31."""
    assert cc.WEIGHTS.tolist() == [pow(3, i, 31) for i in range(17)]


def test_check_character_when_known_code():
    """The worked example's check character is N, and an independent formula agrees."""
    assert cc.check_character(VALID[:17]) == "N" == _reference_check(VALID[:17])


def test_check_character_when_wrong_length_or_charset():
    """Bad input to check_character raises ValueError with a reason."""
    with pytest.raises(ValueError, match="17 characters"):
        cc.check_character("9133")
    with pytest.raises(ValueError, match="not in"):
        cc.check_character("91331082MA2AB3CFI")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (VALID, None),
        (VALID[:17], "length"),
        (VALID + "0", "length"),
        ("", "length"),
        (None, "length"),
        (913310820000000000, "length"),
        (VALID[:17] + "n", "charset"),
        ("91331082MA2AB3CFIN", "charset"),  # I is not in the set
        ("91331082MA2AB3CFON", "charset"),  # nor O
        ("９1331082MA2AB3CF7N", "charset"),  # full-width digit
        (VALID[:17] + "M", "check_character"),
        (VALID[:17] + "0", "check_character"),
    ],
)
def test_problem_when_example(code, reason):
    """Each reason code is reported for its own kind of fault, and only the first fault."""
    assert cc.problem(code) == reason
    assert cc.is_valid(code) is (reason is None)


def test_problems_when_vectorised_agrees_with_scalar():
    """problems() gives the same reason codes as problem(), "" for valid."""
    codes = [VALID, VALID[:17], VALID[:17] + "n", VALID[:17] + "M", "x" * 30]
    assert cc.problems(codes).tolist() == [cc.problem(c) or "" for c in codes]


def test_valid_mask_when_empty_or_short_or_objects():
    """Empty input, short strings and non-strings give False, not an error."""
    assert cc.valid_mask([]).shape == (0,)
    assert cc.valid_mask(["abc", "12"]).tolist() == [False, False]
    assert cc.valid_mask(np.array([None, VALID, 1.5], dtype=object)).tolist() == [False, True, False]


def test_valid_mask_when_longer_strings_mixed_in():
    """A wider array (some codes longer than 18) still checks the 18-character ones."""
    codes = [VALID, VALID + "EXTRA", VALID[:17] + "M"]
    assert cc.valid_mask(codes).tolist() == [True, False, False]


CODE_TEXT = st.text(alphabet=cc.CHARSET, min_size=18, max_size=18)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(CODE_TEXT, CODE_TEXT.map(lambda c: c[:17] + _reference_check(c[:17]))), max_size=40))
def test_valid_mask_when_random_codes_agrees_with_is_valid(codes):
    """The numpy mask equals the scalar is_valid on random 18-character strings (half made valid)."""
    assert cc.valid_mask(codes).tolist() == [cc.is_valid(c) for c in codes]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=20))
def test_valid_mask_when_arbitrary_text_agrees_with_is_valid(codes):
    """Arbitrary unicode text (NUL characters aside) gives the same answer both ways."""
    codes = [c.replace("\x00", "") for c in codes]
    assert cc.valid_mask(codes).tolist() == [cc.is_valid(c) for c in codes]


def test_make_code_when_many_codes_all_valid_and_unique():
    """Generated codes are valid, distinct, enterprise-type in Linhai, with valid org codes."""
    codes = cc.make_code(np.random.default_rng(11), 20_000)
    assert codes.shape == (20_000,) and codes.dtype == np.dtype("<U18")
    assert cc.valid_mask(codes).all()
    assert len(set(codes.tolist())) == codes.size
    assert all(c.startswith("91331082") for c in codes[:500])
    assert all(_reference_org_check(c[8:16]) == c[16] for c in codes[:2000])
    assert all(cc.org_check_character(c[8:16]) == c[16] for c in codes[:2000])


def test_make_code_when_same_seed_is_deterministic():
    """The same generator state gives the same codes; another region is honoured."""
    a = cc.make_code(np.random.default_rng(5), 50, region="331000")
    b = cc.make_code(np.random.default_rng(5), 50, region="331000")
    assert a.tolist() == b.tolist() and all(c.startswith("91331000") for c in a)


def test_make_code_when_bad_region():
    """A region that is not 6 digits is refused with an example."""
    with pytest.raises(ValueError, match="331082"):
        cc.make_code(np.random.default_rng(0), 1, region="3310")


def test_org_check_character_when_remainder_is_ten_or_eleven():
    """GB 11714 writes 10 as X and 11 as 0, matching an independent computation."""
    rng = np.random.default_rng(3)
    alphabet = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
    bodies = ["".join(rng.choice(alphabet, 8)) for _ in range(3000)]
    checks = [cc.org_check_character(b) for b in bodies]
    assert checks == [_reference_org_check(b) for b in bodies]
    assert {"X", "0"} <= set(checks)


def test_valid_mask_when_100k_codes_agrees_with_the_scalar_check():
    """100,000 generated codes, some corrupted, give the same verdicts vectorised as one by one."""
    codes = cc.make_code(np.random.default_rng(1), 100_000).tolist()
    for k in range(0, 100_000, 997):
        codes[k] = codes[k][:17] + ("0" if codes[k][17] != "0" else "1")
    assert cc.valid_mask(codes).tolist() == [cc.is_valid(c) for c in codes]


def test_valid_mask_when_numbers_are_not_codes():
    """An 18-digit number is not a code, in the mask as in problem()."""
    number = int("913310822432881920")
    assert cc.problem(number) == "length"
    assert cc.valid_mask(np.array([number], dtype=object)).tolist() == [False]
    assert cc.valid_mask(np.array([number], dtype=np.uint64)).tolist() == [False]
