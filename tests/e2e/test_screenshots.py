"""Screenshots of the dashboard and an enterprise profile in 中文 and English, checked for render errors."""

from __future__ import annotations

import re
import struct

import pytest
from playwright.sync_api import expect

from tenglong.web.i18n import t

from .conftest import chart_ink, screenshot, wait_for_charts

DEMO_ENTERPRISE = "913310821003686548"
PAGES = {"dashboard": "/dashboard", "profile": f"/enterprises/{DEMO_ENTERPRISE}"}
HAN = re.compile(r"[\u3400-\u9fff]")
LEAKS = re.compile(r"\{\{|\{%|%\}|\bNone\b|\bnan\b|\bNaN\b|undefined|KeyError|Traceback|Internal Server Error")
# Label-like elements whose text is ours (not data) on these two pages; in English none may hold Chinese
# (the language switch, which offers 中文, is checked on its own).
LABELS = (
    ".mainnav a, .pagehead button, h2, h3, thead th, .kpi .label, .kpi .target, .kpi .status, summary, dl.meta dt, "
    "#class-table tbody th, p.muted, footer"
)
CHART_LABELS = """() => [...document.querySelectorAll('.chart')].flatMap(el => {
  const o = echarts.getInstanceByDom(el).getOption(), out = [];
  for (const s of o.series || []) { out.push(s.name); }
  for (const a of [...(o.xAxis || []), ...(o.yAxis || [])]) { out.push(a.name); }
  for (const a of [...(o.xAxis || []), ...(o.yAxis || [])]) {
    if (a.type !== 'category' || el.id === 'chart-towns') continue;
    out.push(...(a.data || []).map(d => typeof d === 'object' ? d.value : d));
  }
  for (const l of o.legend || []) { out.push(...(l.data || []).map(d => typeof d === 'object' ? d.name : d)); }
  return out.filter(x => x !== undefined && x !== null && x !== '').map(x => el.id + ': ' + x);
})"""
NAN_IN_SERIES = """() => [...document.querySelectorAll('.chart')].flatMap(el =>
  echarts.getInstanceByDom(el).getOption().series.flatMap(s => (s.data || [])
    .map(d => (d !== null && typeof d === 'object' && !Array.isArray(d)) ? d.value : d)
    .filter(v => typeof v === 'number' && Number.isNaN(v))
    .map(() => el.id + ': ' + s.name)))"""

# Where ECharts put each chart's legend and axes (model and view lookups of the vendored ECharts 6).
LAYOUT = """() => [...document.querySelectorAll('.chart')].map(el => {
  const c = echarts.getInstanceByDom(el), m = c.getModel();
  const box = (model) => { const v = c.getViewOfComponentModel(model); const r = v.group.getBoundingRect().clone();
    if (v.group.transform) r.applyTransform(v.group.transform); return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const axes = [];
  for (const kind of ['xAxis', 'yAxis']) {
    for (let i = 0, a; (a = m.getComponent(kind, i)); i++) axes.push({kind, type: a.get('type'), ...box(a)});
  }
  return {id: el.id, width: el.clientWidth,
    legend: m.getComponent('legend') ? box(m.getComponent('legend')) : null, axes};
})"""


def _layout_problems(page) -> list[str]:
    """Legends drawn over the labels of a horizontal axis, and category labels that squeeze the plot (over 40% of the
    width).
    """
    found = []
    for c in page.evaluate(LAYOUT):
        for a in c["axes"]:
            band = a["kind"] == "xAxis" and a["h"] < 60  # a horizontal axis: its line and labels
            if (
                band
                and c["legend"]
                and c["legend"]["y"] < a["y"] + a["h"] - 1
                and c["legend"]["y"] + c["legend"]["h"] > a["y"] + 1
            ):
                found.append(f"{c['id']}: the legend covers the {a['kind']} labels")
            if a["kind"] == "yAxis" and a["type"] == "category" and a["w"] > 0.4 * c["width"]:
                found.append(f"{c['id']}: category labels take {a['w']:.0f} of {c['width']} px")
    return found


def _switch(page, lang: str) -> None:
    """Use the header's language switch and wait until the page is back in ``lang``."""
    with page.expect_navigation():
        page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans" if lang == "zh" else "en")


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_screenshot_when_page_shown_in_language_has_no_render_errors(page, server, login, render_errors, name, lang):
    """Dashboard / profile in zh and en: drawn charts, no console or /static errors, no template leaks, English labels
    in English; saved as PNG.
    """
    login("admin")
    page.goto(f"{server}{PAGES[name]}")
    _switch(page, "en")
    if lang == "zh":
        _switch(page, "zh")  # and back: the switch works both ways
    assert page.url == f"{server}{PAGES[name]}"
    charts = wait_for_charts(page)
    assert charts == (4 if name == "dashboard" else 2)
    for c in chart_ink(page):
        assert c["canvas"] and c["width"] > 100 and c["height"] > 100, c
        assert c["ink"] > 0.01 and c["colours"] > 3, f"chart {c['id']} looks blank: {c}"
    assert page.evaluate(NAN_IN_SERIES) == []
    assert _layout_problems(page) == []
    path = screenshot(page, f"{name}-{lang}")
    width, height = _png_size(path)
    assert width == 1366 and height > 900

    body = page.locator("body").inner_text()
    assert not LEAKS.search(body), LEAKS.search(body).group()
    html = page.content()
    assert not re.search(r"\{\{|\{%|\bNaN\b", html)
    nav = page.locator(".mainnav a").all_inner_texts()
    assert t("nav.dashboard", lang) in nav and t("nav.enterprises", lang) in nav
    expect(page.locator("#lang-switch")).to_have_text(t("nav.language", lang))
    if name == "profile":
        expect(page.locator("h1 small")).to_have_text(t("enterprises.profile.title", lang))
    else:
        expect(page.locator("h1")).to_contain_text(t("dashboard.title", lang))
    if lang == "en":
        labels = [x for x in page.locator(LABELS).all_inner_texts() if x.strip()]
        assert len(labels) > 30
        chinese = [x for x in labels if HAN.search(x)]
        assert chinese == [], f"untranslated labels: {chinese}"
        chart_labels = page.evaluate(CHART_LABELS)
        assert chart_labels and [x for x in chart_labels if HAN.search(x)] == []
        assert page.title().endswith("Tenglong")
    else:
        assert HAN.search(page.locator("h2").first.inner_text())
    assert render_errors == []
