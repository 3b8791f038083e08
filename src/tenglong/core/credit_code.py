"""统一社会信用代码 (unified social credit code), GB 32100-2015.

A code is 18 characters from the 31-character set ``0123456789ABCDEFGHJKLMNPQRTUWXY``
(digits and capitals without I, O, S, V, Z). Characters 1–17 are:

* 1: registration authority (``9`` = 工商/市场监管);
* 2: organisation type (``1`` = 企业 under authority ``9``);
* 3–8: administrative region code of the registering office (Linhai = ``331082``);
* 9–17: the 9-character organisation code of GB 11714, itself ending in a check
  character;

and character 18 is a check character over the first 17: with the value ``Ci`` of
each character (its index in the set) and weights ``Wi = 3**(i-1) mod 31``
(1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28), ``C18 = (31 - Σ Ci·Wi mod 31) mod 31``.

The checks are strict: lower-case letters are a ``charset`` problem, as the standard
prescribes capitals. An importer that wants to be lenient upper-cases and strips first.

Pure module: stdlib and numpy only.
"""

from __future__ import annotations

import numpy as np

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100-2015, in value order (value = index)."""

WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
"""Position weights of characters 1–17 (3**i mod 31)."""

LENGTH = 18

ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
"""GB 11714 weights of the 8 body characters of an organisation code."""

PROBLEM_CODES = ("length", "charset", "check_character")
"""The stable reason codes returned by :func:`problem`, in the order they are tested."""

_VALUE = {ch: i for i, ch in enumerate(CHARSET)}

# 257-entry table: codepoint -> character value, -1 for a character outside the set.
# Entry 256 catches every codepoint above 255 after np.minimum (non-ASCII input).
_LOOKUP = np.full(257, -1, dtype=np.int64)
for _i, _ch in enumerate(CHARSET):
    _LOOKUP[ord(_ch)] = _i
del _i, _ch

# GB 11714 character values: digits 0–9, letters A=10 … Z=35.
_ORG_LOOKUP = np.full(257, -1, dtype=np.int64)
_ORG_LOOKUP[ord("0") : ord("9") + 1] = np.arange(10)
_ORG_LOOKUP[ord("A") : ord("Z") + 1] = np.arange(10, 36)


def check_character(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters.

    Args:
        first17: characters 1–17 of a code, all from :data:`CHARSET`.

    Returns:
        The 18th character.

    Raises:
        ValueError: if ``first17`` is not 17 characters from the set.

    >>> check_character("91331082MA2AB3CF7")
    'N'
    >>> is_valid("91331082MA2AB3CF7N")
    True
    """
    if len(first17) != LENGTH - 1:
        raise ValueError(f"expected 17 characters, got {len(first17)}: {first17!r}")
    try:
        total = sum(_VALUE[ch] * int(w) for ch, w in zip(first17, WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in {CHARSET}") from None
    return CHARSET[(31 - total % 31) % 31]


def problem(code: object) -> str | None:
    """Say what is wrong with a credit code, as a stable reason code.

    Args:
        code: the value to check (anything; a non-string is a ``length``
            problem, so an 18-digit number is not accepted as a code).

    Returns:
        ``None`` when the code is valid, else the first failing check:
        ``"length"`` (not 18 characters), ``"charset"`` (a character outside
        :data:`CHARSET`, including lower case) or ``"check_character"``
        (character 18 does not match characters 1–17).

    >>> problem("91331082MA2AB3CF7N") is None
    True
    >>> problem("91331082MA2AB3CF7")
    'length'
    >>> problem("91331082MA2AB3CF7n")
    'charset'
    >>> problem("91331082MA2AB3CF7M")
    'check_character'
    """
    if not isinstance(code, str) or len(code) != LENGTH:
        return "length"
    if any(ch not in _VALUE for ch in code):
        return "charset"
    if check_character(code[:17]) != code[17]:
        return "check_character"
    return None


def is_valid(code: object) -> bool:
    """Whether ``code`` is a valid GB 32100-2015 code (see :func:`problem`).

    >>> is_valid("91331082MA2AB3CF7N"), is_valid("91331082MA2AB3CF70")
    (True, False)
    """
    return problem(code) is None


def _as_unicode_array(codes: np.ndarray | list[str]) -> np.ndarray:
    """Fixed-width 1-d ``<U`` array; anything that is not a string becomes ``""``.

    This matches :func:`problem`, where a non-string is a ``length`` problem.
    """
    arr = np.asarray(codes).reshape(-1)
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind == "O":
        # Mixed input (None, NaN, numbers) is cleaned per element before the vector work.
        return np.array([c if isinstance(c, str) else "" for c in arr], dtype=str).reshape(-1)
    return np.full(arr.shape[0], "", dtype="<U1")


def valid_mask(codes: np.ndarray | list[str]) -> np.ndarray:
    """Vectorised :func:`is_valid` over many codes.

    The strings are viewed as a ``(n, width)`` uint32 array of codepoints, mapped
    through a lookup table to character values and dotted with the weights, so
    there is no Python loop over rows (100,000 codes take a few milliseconds).

    Args:
        codes: a list or 1-d array of codes.

    Returns:
        A boolean array, ``True`` where the code is valid.

    >>> valid_mask(["91331082MA2AB3CF7N", "91331082MA2AB3CF7M", "short"]).tolist()
    [True, False, False]
    """
    arr = _as_unicode_array(codes)
    n = arr.shape[0]
    width = arr.dtype.itemsize // 4
    if n == 0 or width < LENGTH:
        return np.zeros(n, dtype=bool)
    lengths = np.strings.str_len(arr)
    # A '<Uw' array is w UCS-4 codepoints per row; viewing it costs no copy.
    points = arr.view(np.uint32).reshape(n, width)[:, :LENGTH]
    values = _LOOKUP[np.minimum(points, 256)]
    in_set = (values >= 0).all(axis=1)
    total = values[:, :17] @ WEIGHTS
    expected = (31 - total % 31) % 31
    return (lengths == LENGTH) & in_set & (values[:, 17] == expected)


def problems(codes: np.ndarray | list[str]) -> np.ndarray:
    """Vectorised :func:`problem`: one reason code per row, ``""`` when valid.

    >>> problems(["91331082MA2AB3CF7N", "x", "91331082MA2AB3CF7M"]).tolist()
    ['', 'length', 'check_character']
    """
    arr = _as_unicode_array(codes)
    n = arr.shape[0]
    out = np.full(n, "", dtype="<U15")
    width = arr.dtype.itemsize // 4
    lengths = np.strings.str_len(arr) if n else np.zeros(0, dtype=np.int64)
    bad_length = lengths != LENGTH
    out[bad_length] = "length"
    if n == 0 or width < LENGTH:
        return out
    points = arr.view(np.uint32).reshape(n, width)[:, :LENGTH]
    values = _LOOKUP[np.minimum(points, 256)]
    bad_charset = ~bad_length & (values < 0).any(axis=1)
    out[bad_charset] = "charset"
    expected = (31 - (values[:, :17] @ WEIGHTS) % 31) % 31
    bad_check = ~bad_length & ~bad_charset & (values[:, 17] != expected)
    out[bad_check] = "check_character"
    return out


def org_check_character(body: str) -> str:
    """GB 11714 check character of an 8-character organisation-code body.

    ``C9 = 11 - (Σ Ci·Wi mod 11)`` with weights 3 7 9 10 5 8 4 2 and letter
    values A=10 … Z=35; a result of 10 is written ``X`` and 11 is written ``0``.

    >>> org_check_character("MA2AB3CF")
    '7'
    >>> org_check_character("MA2AB3CD")  # remainder 11 is written '0'
    '0'
    """
    if len(body) != 8:
        raise ValueError(f"expected 8 characters, got {len(body)}: {body!r}")
    values = _ORG_LOOKUP[np.minimum(np.frombuffer(body.encode("utf-32-le"), dtype=np.uint32), 256)]
    if (values < 0).any():
        raise ValueError(f"organisation code body must be digits and capitals: {body!r}")
    return str(_org_check_chars(values[None, :])[0])


def _org_check_chars(values: np.ndarray) -> np.ndarray:
    """Check characters for an ``(n, 8)`` array of GB 11714 character values."""
    remainder = 11 - (values @ ORG_WEIGHTS) % 11
    digits = np.array(list("0123456789X0"))  # index 10 -> 'X', index 11 -> '0'
    return digits[remainder]


def make_code(rng: np.random.Generator, n: int, region: str = "331082") -> np.ndarray:
    """Generate ``n`` distinct valid codes for companies registered in ``region``.

    Each code is ``9`` (market regulator) + ``1`` (enterprise) + the 6-digit region
    + a 9-character organisation code + the check character. Organisation codes
    are valid under GB 11714 too. About two thirds have the post-2015 ``MA…`` form
    (``MA`` + 6 characters of :data:`CHARSET`), the rest are the older all-digit
    form.

    Args:
        rng: the random generator (the result is a function of its state).
        n: how many codes.
        region: 6-digit administrative region code.

    Returns:
        A ``<U18`` array of ``n`` distinct codes.

    >>> codes = make_code(np.random.default_rng(0), 3)
    >>> bool(valid_mask(codes).all()), len(set(codes.tolist()))
    (True, 3)
    """
    if len(region) != 6 or not region.isdigit():
        raise ValueError(f"region must be 6 digits, e.g. 331082; got {region!r}")
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    chars = np.array(list(CHARSET))
    bodies = np.empty((0, 8), dtype="<U1")
    while bodies.shape[0] < n:
        want = n - bodies.shape[0] + 16
        new_style = rng.random(want) < 2 / 3
        body = np.where(
            new_style[:, None],
            np.concatenate([np.full((want, 2), ["M", "A"]), chars[rng.integers(0, 31, size=(want, 6))]], axis=1),
            # Pre-2015 organisation codes are digits and do not start with 0.
            np.concatenate(
                [chars[rng.integers(1, 10, size=(want, 1))], chars[rng.integers(0, 10, size=(want, 7))]], axis=1
            ),
        )
        merged = np.concatenate([bodies, body])
        # Keep the first occurrence of each body so the order stays random but fixed.
        _, first = np.unique(merged.view("<U8").reshape(-1), return_index=True)
        bodies = merged[np.sort(first)]
    bodies = bodies[:n]
    org_values = _ORG_LOOKUP[np.ascontiguousarray(bodies).view(np.uint32).reshape(n, 8)]
    org_check = _org_check_chars(org_values)
    prefix = np.array(list("91" + region))
    first17 = np.concatenate([np.broadcast_to(prefix, (n, 8)), bodies, org_check.reshape(n, 1)], axis=1).astype("<U1")
    values = _LOOKUP[np.minimum(first17.view(np.uint32).reshape(n, 17), 256)]
    check = chars[(31 - (values @ WEIGHTS) % 31) % 31]
    full = np.concatenate([first17, check.reshape(n, 1)], axis=1)
    return np.ascontiguousarray(full).view("<U18").reshape(n)
