"""How a target's figures read (the targets page, its export and the bulletins alike): exact numbers as text, a
share as a percentage, a growth as a yearly rate."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ...locale import t

__all__ = ["DASH", "exact_text", "number", "shown_row"]

DASH = "—"


def exact_text(x: Fraction | None) -> str | None:
    """An exact number as text: a decimal when it has a finite one (``20.3``), else a fraction (``1/3``).

    >>> exact_text(Fraction(203, 10)), exact_text(Fraction(1, 3)), exact_text(Fraction(5)), exact_text(None)
    ('20.3', '1/3', '5', None)
    """
    if x is None:
        return None
    den, places = x.denominator, 0
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return f"{x.numerator}/{x.denominator}"
    while (x * 10**places).denominator != 1:
        places += 1
    n = x * 10**places
    text = str(abs(n.numerator)).rjust(places + 1, "0")
    body = f"{text[:-places]}.{text[-places:]}" if places else text
    return f"-{body}" if x < 0 else body


def number(x: Fraction | None, unit: str) -> str:
    """A figure as read: a share as a percentage, a count exactly, anything else to 4 places (``—`` for none).

    >>> number(Fraction(23, 1000), "ratio"), number(Fraction(1000), "家"), number(Fraction(1, 3), "万元/亩")
    ('2.30%', '1000', '0.3333')
    """
    if x is None:
        return DASH
    if unit == "ratio":
        return f"{float(x) * 100:.2f}%"
    text = exact_text(x)
    if text is not None and "/" not in text and len(text) <= 12:
        return text
    return f"{float(x):,.4f}"


def shown_row(r: dict[str, Any], lang: str) -> dict[str, Any]:
    """A progress row with its texts for the page."""
    measure = r["measure"]
    if measure == "change":
        compared = number(r["achieved"], "ratio")
    elif measure == "annual_growth":
        compared = (
            t("targets.growth", lang, rate=f"{r['growth_rate'] * 100:.2f}%") if r["growth_rate"] is not None else DASH
        )
    else:
        compared = number(r["achieved"], r["unit"])
    level_unit = r.get("level_unit") or r["unit"]
    aim = r["aim"]
    compared_unit = "ratio" if measure == "change" else r["unit"]
    return {
        **r,
        "trend": [{**p, "shown": number(p["achieved"], compared_unit)} for p in r["trend"]],
        "value_shown": number(r["value"], r["unit"]),
        "aim_shown": number(aim, r["unit"]) if aim is not None else None,
        "figure_shown": number(r["figure"], level_unit) + (f" {level_unit}" if r.get("level_unit") else ""),
        "baseline_shown": number(r["baseline"], level_unit) if r.get("baseline") is not None else None,
        "compared_shown": compared,
        "unit_shown": "%" if r["unit"] == "ratio" else r["unit"],
    }
