"""Every user-visible string goes through the message catalogue, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import tenglong
from tenglong.web.i18n import catalogue

WEB = Path(tenglong.__file__).parent / "web"
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
HAN = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u303f]")
KEY_USE = re.compile(r"""\bt\(\s*['"]([a-z0-9_.]+)['"]""")


def test_catalogue_when_loaded_has_both_languages_for_every_key():
    """No message is missing its Chinese or its English text."""
    for key, texts in catalogue().items():
        assert texts["zh"].strip() and texts["en"].strip(), key


def test_templates_and_web_code_when_scanned_use_only_known_keys():
    """Every t('key') in templates and web code names a key of the catalogue."""
    known = catalogue()
    sources = TEMPLATES + sorted(WEB.rglob("*.py"))
    # A key ending in "." is a prefix completed at run time (e.g. 'role.' ~ actor.role): some key must start with it.
    missing = {
        (p.name, k)
        for p in sources
        for k in KEY_USE.findall(p.read_text(encoding="utf-8"))
        if (k not in known) and not (k.endswith(".") and any(x.startswith(k) for x in known))
    }
    assert not missing, sorted(missing)


def test_templates_when_scanned_have_no_untranslated_text():
    """Outside Jinja expressions and comments, templates hold no Chinese text (it must come from t())."""
    offenders = []
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        stripped = re.sub(
            r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}|<script.*?</script>|<style.*?</style>", "", text, flags=re.S
        )
        for line_no, line in enumerate(stripped.splitlines(), 1):
            if HAN.search(line):
                offenders.append(f"{path.relative_to(WEB)}:{line_no}: {line.strip()[:60]}")
    assert not offenders, "\n".join(offenders)
