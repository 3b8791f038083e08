"""Reference tables: the towns of Linhai and the GB/T 4754 manufacturing codes.

The tables are package data (``tenglong/policy/reference/towns.yaml`` and
``industries.yaml``), parsed once and cached. Pure module: it reads package data
through :func:`tenglong.core.loader.load_yaml`, like the rest of the policy pack.

What the lookups accept:

* a town (:func:`normalise_town`) is its 9-digit code (``331082112``) or zone code
  (``TZWJK``), its full name (``杜桥镇``), a listed alias (``杜桥``) or its English name,
  ignoring surrounding spaces and letter case;
* an industry (:func:`normalise_industry`) is a GB/T 4754-2017 code of division
  (大类, ``C27``), group (中类, ``C271``) or class (小类, ``C2710``) whose division is
  one of the 31 manufacturing divisions C13–C43 of industries.yaml. The leading
  ``C`` may be left out (``2710``): GB/T 4754 division numbers are unique across
  sections, and 13–43 belong to section C only, so the letter is implied. Groups and
  classes are checked by their division only, because industries.yaml lists just
  the classes the county uses, not all 600 of them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .loader import load_yaml

REFERENCE_PACKAGE = "tenglong.policy.reference"

_INDUSTRY = re.compile(r"C?(\d{2}|\d{3}|\d{4})")


@dataclass(frozen=True)
class Town:
    """One 镇(街道) or development zone of Linhai."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Industry:
    """One GB/T 4754 entry of industries.yaml (a division or a class)."""

    code: str
    name_zh: str
    name_en: str
    level: str  # "division" or "class"
    cluster: str | None


@functools.cache
def document(name: str) -> dict[str, Any]:
    """The parsed YAML document ``towns`` or ``industries`` (cached; do not mutate).

    Args:
        name: ``"towns"`` or ``"industries"``.

    Returns:
        The document as a dict, exactly as written in the file.

    Raises:
        FileNotFoundError: for any other name.
    """
    text = resources.files(REFERENCE_PACKAGE).joinpath(f"{name}.yaml").read_text("utf-8")
    return load_yaml(text)


@functools.cache
def towns() -> tuple[Town, ...]:
    """The 19 镇(街道) and 2 development zones, in file order.

    >>> len(towns()), towns()[0].name_zh
    (21, '古城街道')
    """
    return tuple(
        Town(str(u["code"]), u["name_zh"], u["name_en"], u["kind"], tuple(str(a) for a in u.get("aliases") or ()))
        for u in document("towns")["units"]
    )


@functools.cache
def industries() -> tuple[Industry, ...]:
    """The 31 manufacturing divisions, then the classes of industries.yaml.

    >>> [i.code for i in industries()][:2], industries()[0].level
    (['C13', 'C14'], 'division')
    """
    doc = document("industries")
    return tuple(
        Industry(str(e["code"]), e["name_zh"], e["name_en"], level, e.get("cluster"))
        for key, level in (("divisions", "division"), ("classes", "class"))
        for e in doc[key]
    )


@functools.cache
def divisions() -> frozenset[str]:
    """Codes of the manufacturing divisions, ``C13`` … ``C43``."""
    return frozenset(i.code for i in industries() if i.level == "division")


def _key(value: str) -> str:
    return value.strip().casefold()


@functools.cache
def town_spellings() -> dict[str, str]:
    """Every accepted spelling of a town (case-folded) mapped to its code.

    Vectorised importers use this table directly; :func:`normalise_town` is the
    scalar form.
    """
    table: dict[str, str] = {}
    for t in towns():
        for spelling in (t.code, t.name_zh, t.name_en, *t.aliases):
            key = _key(spelling)
            if table.setdefault(key, t.code) != t.code:
                raise ValueError(f"towns.yaml: the spelling {spelling!r} names two units")
    return table


def normalise_town(value: object) -> str | None:
    """The town code for a code, full name, alias or English name; ``None`` if unknown.

    >>> normalise_town("杜桥镇"), normalise_town(" 杜桥 "), normalise_town("331082112")
    ('331082112', '331082112', '331082112')
    >>> normalise_town("tzwjk"), normalise_town("331082999")
    ('TZWJK', None)
    """
    if not isinstance(value, str):
        return None
    return town_spellings().get(_key(value))


def normalise_industry(value: object) -> str | None:
    """The upper-case GB/T 4754 code (``C2710``) for an accepted spelling; else ``None``.

    See the module docstring for what is accepted.

    >>> normalise_industry("c2710"), normalise_industry("2710"), normalise_industry("C27")
    ('C2710', 'C2710', 'C27')
    >>> normalise_industry("C4410"), normalise_industry("C2S10"), normalise_industry("C27100")
    (None, None, None)
    """
    if not isinstance(value, str):
        return None
    match = _INDUSTRY.fullmatch(value.strip().upper())
    if match is None:
        return None
    code = "C" + match.group(1)
    return code if code[:3] in divisions() else None


def industry_division(code: object) -> str | None:
    """The division (大类) of an accepted industry code, e.g. ``C27`` for ``C2710``.

    >>> industry_division("C2710"), industry_division("3587"), industry_division("C44")
    ('C27', 'C35', None)
    """
    normal = normalise_industry(code)
    return normal[:3] if normal else None


def industry_name(code: str) -> tuple[str, str] | None:
    """``(name_zh, name_en)`` of a listed division or class, else ``None``.

    >>> industry_name("C3587")
    ('眼镜制造', 'Manufacture of eyewear')
    """
    for entry in industries():
        if entry.code == code:
            return entry.name_zh, entry.name_en
    return None
