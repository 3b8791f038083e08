"""Message catalogues: ``<feature>.yaml`` files mapping a key to its zh-Hans and English text.

:func:`t` is the one lookup, for the web pages (``web/i18n.py``) and the documents (``adapters/reports``) alike.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from ..core.loader import load_yaml

LANGS = ("zh", "en")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """Every message: key → {zh, en}, merged from ``locale/*.yaml``.

    Raises:
        ValueError: when two files define the same key.
    """
    out: dict[str, dict[str, str]] = {}
    folder = resources.files("tenglong.locale")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        for key, texts in (load_yaml(entry.read_text(encoding="utf-8")) or {}).items():
            if key in out:
                raise ValueError(f"message {key} is defined twice (second time in {entry.name})")
            out[key] = {lang: str(texts.get(lang, "")) for lang in LANGS}
    return out


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The text of ``key`` in ``lang``, with ``{name}`` placeholders filled.

    Raises:
        KeyError: for a key that is not in the catalogue (tests catch untranslated strings).
    """
    text = catalogue()[key][lang if lang in LANGS else "zh"]
    return text.format(**values) if values else text
