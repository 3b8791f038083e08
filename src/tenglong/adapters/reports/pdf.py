"""The one place where tenglong writes PDF: HTML rendered with the report templates (``templates/``), laid out by
WeasyPrint with the CJK fonts named in the stylesheet and embedded (subset) in the file.

Every page has the 第 N 页 / 共 M 页 footer of the stylesheet (CSS page counters). Templates get ``t`` (the one
message catalogue, ``tenglong.locale``) and the money filters, and receive plain data.
"""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from typing import Any

import jinja2

__all__ = ["render_html", "write_pdf"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("tenglong.adapters.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def _wan(value: Any) -> str:
    """元 → 万元 with two decimals and separators (``—`` for none); the exact 元 stay in the tables' 元 columns."""
    if value is None or value == "":
        return "—"
    return f"{(Decimal(str(value)) / 10_000).quantize(Decimal('0.01')):,.2f}"


def _money(value: Any) -> str:
    return "—" if value is None or value == "" else f"{Decimal(str(value)).quantize(Decimal('0.01')):,.2f}"


def render_html(template: str, lang: str = "zh", **context: Any) -> str:
    """The document ``template`` as HTML (its stylesheet inlined)."""
    from ...locale import t

    _ENV.globals.update(t=t, wan=_wan, money=_money)
    css = resources.files("tenglong.adapters.reports").joinpath("templates", "report.css").read_text("utf-8")
    return _ENV.get_template(template).render(lang=lang, css=css, **context)


def write_pdf(html: str) -> bytes:
    """The PDF of ``html`` (fonts embedded and subset)."""
    import weasyprint  # imported here: loading pango takes a moment, and only documents need it

    return weasyprint.HTML(string=html).write_pdf()
