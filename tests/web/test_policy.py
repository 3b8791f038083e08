"""政策原文: every clause anchored, clause ↔ parameter links both ways, the policy API, translations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tenglong
from tenglong.core import loader

TEMPLATES = Path(tenglong.__file__).parent / "web" / "templates"


def test_policy_page_when_opened_has_every_clause_anchor(client_as):
    """/policy shows the title, number and validity, and one anchored section per clause with its verbatim text."""
    r = client_as("enterprise").get("/policy")
    assert r.status_code == 200
    pol = loader.policy()
    assert pol.title_zh in r.text and pol.number in r.text and "2022-07-16 至 2023-12-31" in r.text
    for c in pol.clauses:
        assert f'id="{c.anchor}"' in r.text, c.id
    assert 'id="c2-10"' in r.text and "按设备投资额的10%给予补助" in r.text


def test_policy_page_when_clause_has_own_validity_or_notes_shows_them(client_as):
    """2.1 shows its own validity (to 2023-06-30); A.3.6 and 2.3 say, in footnotes, that spans were restored."""
    text = client_as("town").get("/policy").text
    section = text.split('id="c2-1"')[1].split('id="c2-2"')[0]
    assert "2022-07-16 至 2023-06-30" in section and "本条有效期与文件不同" in section
    a36 = text.split('id="cA-3-6"')[1].split('id="cA-3-7"')[0]
    assert "乱码" in a36 and "临海科技创新园" in a36
    assert "据字节还原" in text.split('id="c2-3"')[1].split('id="c2-4"')[0]


def test_policy_links_when_followed_go_both_ways(client_as):
    """Clause 2.10 links to its parameters and rules; the parameter page and table row link back to #c2-10."""
    c = client_as("auditor")
    page = c.get("/policy").text
    section = page.split('id="c2-10"')[1].split('id="c2-11"')[0]
    assert 'href="/policy/parameters/tech_renovation.major_rate"' in section
    assert 'href="/policy/parameters#p-tech_renovation.major_rate"' in section
    assert "tech_renovation" in section and "projects.equipment_investment" in section
    p = c.get("/policy/parameters/tech_renovation.major_rate")
    assert p.status_code == 200 and 'id="p-tech_renovation.major_rate"' in p.text and 'href="/policy#c2-10"' in p.text
    assert "0.10" in p.text and "2022-07-16" in p.text and "按设备投资额的10%给予补助" in p.text
    table = c.get("/policy/parameters").text
    row = table.split('id="p-tech_renovation.major_rate"')[1].split("</tr>")[0]
    assert 'href="/policy#c2-10"' in row


def test_parameters_page_when_filtered_shows_only_assumptions_of_the_clause(client_as):
    """Filtering by clause 2.10 and assumptions keeps stacking_2513 (with its note) and drops the rates."""
    r = client_as("department").get("/policy/parameters", params={"clause": "2.10", "assumptions": "true"})
    assert r.status_code == 200
    assert 'id="p-tech_renovation.stacking_2513"' in r.text and "就高不重复" in r.text
    assert 'id="p-tech_renovation.major_rate"' not in r.text
    full = client_as("department").get("/policy/parameters").text
    assert full.count('<tr id="p-') == len(loader.parameters())


def test_parameter_page_when_assumption_shows_the_note_prominently(client_as):
    """An assumption parameter says so in an alert box with its note; an unknown path is 404."""
    c = client_as("enterprise")
    r = c.get("/policy/parameters/tech_renovation.stacking_2513")
    assert r.status_code == 200 and 'class="alert assumption-note"' in r.text and "原文未规定两者能否叠加" in r.text
    assert c.get("/policy/parameters/no.such", headers={"accept": "text/html"}).status_code == 404


def test_policy_api_when_asked_serves_clauses_with_links(client_as):
    """GET /api/v1/policy lists every clause with rules/parameters/variables; one clause and one parameter by id."""
    c = client_as("town")
    doc = c.get("/api/v1/policy").json()
    assert doc["number"] == "临政发〔2022〕22号" and [x["id"] for x in doc["clauses"]] == loader.policy().ids()
    c210 = c.get("/api/v1/policy/clauses/2.10").json()
    assert c210["anchor"] == "c2-10" and "tech_renovation" in [r["id"] for r in c210["rules"]]
    assert "tech_renovation.major_rate" in [p["path"] for p in c210["parameters"]]
    assert c.get("/api/v1/policy/clauses/2.1").json()["in_force"] == {"from": "2022-07-16", "to": "2023-06-30"}
    p = c.get("/api/v1/policy/parameters/tech_renovation.ordinary_min_equipment_investment").json()
    assert p["clause_url"] == "/policy#c2-10" and p["term"] == "及以上" and p["boundary"]["inclusive"] is True
    assert p["values"][0] == {"from": "2022-07-16", "to": "2023-12-31", "value": 2000000, "ends": False}
    assumed = c.get("/api/v1/policy/parameters", params={"assumptions": "true"}).json()
    assert assumed["count"] > 0 and all(x["assumption"] for x in assumed["parameters"])
    v = c.get("/api/v1/policy/variables", params={"entity": "projects"}).json()["variables"]
    assert {"entity": "projects", "name": "equipment_investment"}.items() <= next(
        x for x in v if x["name"] == "equipment_investment"
    ).items()
    missing = c.get("/api/v1/policy/clauses/9.9")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_policy_when_not_signed_in_is_refused(client_as):
    """Anonymous: the API answers 401, the page redirects to the sign-in form."""
    c = client_as(None)
    assert c.get("/api/v1/policy").status_code == 401
    r = c.get("/policy", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_policy_page_when_english_shows_translation_and_original(client_as):
    """In English the English rendering comes first, the Chinese original stays on the page."""
    c = client_as("admin")
    c.get("/lang/en")
    r = c.get("/policy")
    assert r.status_code == 200 and "Policy text" in r.text
    section = r.text.split('id="c2-10"')[1].split('id="c2-11"')[0]
    assert "receive a subsidy of 10% of equipment investment" in section and "按设备投资额的10%给予补助" in section
    c.get("/lang/zh")


@pytest.mark.parametrize("folder", ["policy", "calculator", "subsidies"])
def test_templates_when_scanned_have_no_han_outside_t_calls(folder):
    """Every Chinese word in these templates comes from the catalogue or from data, never written in the template."""
    for path in (TEMPLATES / folder).glob("*.html"):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        assert not re.search(r"[\u4e00-\u9fff]", text), path


def _toc(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html.split('class="card toc')[1].split("</nav>")[0])


def test_policy_page_when_opened_has_a_table_of_contents_of_names_not_ids(client_as):
    """The two unnumbered opening paragraphs are 前言 and 附件 前言 in the contents and their headings, never
    preamble or A.0; the numbered clauses keep their numbers."""
    c = client_as("town")
    html = c.get("/policy").text
    toc = _toc(html)
    assert "preamble" not in toc and "A.0" not in toc
    assert re.search(r"\s前言\s", toc) and "附件 前言" in toc and "2.10 (十)加大技术改造支持力度" in toc
    heading = html.split('id="cpreamble"')[1].split("<h3>")[1].split("</h3>")[0]
    assert "preamble" not in re.sub(r'href="[^"]*"', "", heading) and "前言" in heading
    c.get("/lang/en")
    try:
        toc = _toc(c.get("/policy").text)
        assert "Preamble" in toc and "Annex: preamble" in toc and "preamble " not in toc.replace("Annex: preamble", "")
    finally:
        c.get("/lang/zh")


def test_policy_page_when_opened_dates_the_document_2022_06_29_as_its_header_does(client_as):
    """成文日期 is 2022-06-29 (the document's header); the 2022-06-16 of the signature is the 落款日期."""
    html = client_as("auditor").get("/policy").text
    meta = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split('class="policy-meta"')[1].split("</dl>")[0]))
    assert "成文日期 2022-06-29" in meta and "落款日期 2022-06-16" in meta
    assert "成文日期 2022-06-16" not in meta


def test_policy_page_when_a_span_was_restored_marks_it_with_a_footnote_in_plain_words(client_as):
    """2.3's restored span carries footnote 1 (此处原文为乱码，据字节还原为…); A.3.6 shows its restored names with
    footnotes, never the garbled characters; no developer note (file names, field names, encodings) is shown."""
    c = client_as("enterprise")
    html = c.get("/policy").text
    s23 = html.split('id="c2-3"')[1].split('id="c2-4"')[0]
    assert (
        '<span class="restored">“零土地”技改项目(加层项目除外)改扩建工程</span><sup class="fn-ref"><a href="#fn-1"'
        in s23
    )
    assert '<li id="fn-1" value="1">此处原文为乱码，据字节还原为' in s23
    a36 = html.split('id="cA-3-6"')[1].split('id="cA-3-7"')[0]
    assert '复旦张江研究院<span class="restored">临海科技创新园</span>' in a36
    assert "临海·墨尔本跨境融合创新中心多层次合作" in a36 and 'href="#fn-3"' in a36
    for garbled in ("萍纰", "撔聢", "つ珷柋", "??", "?!"):
        assert garbled not in html, garbled
    for note in ("domain.md", "text_zh", "GBK", "editorial", "【", "mojibake", "garbled in source"):
        assert note not in html, note
    c.get("/lang/en")
    try:
        en = c.get("/policy").text
        assert "Garbled in the published copy; restored from the bytes as" in en
        assert "[garbled in source" not in en
    finally:
        c.get("/lang/zh")


def test_parameter_pages_when_values_are_choices_or_tables_show_their_names(client_as):
    """higher_only reads 就高不重复, A=True reads A类：是, aggregate reads as the year's aggregate; English pages give
    units in English (yuan/m², mu)."""
    c = client_as("department")
    table = c.get("/policy/parameters").text
    row = table.split('id="p-tech_renovation.stacking_2513"')[1].split("</tr>")[0]
    assert "就高不重复" in row and ": higher_only" not in row
    row = table.split('id="p-ancillary_facilities.outside_park_classes"')[1].split("</tr>")[0]
    assert "A类：是；B类：是；C类：否；D类：否" in row and "A</code>=True" not in row
    row = table.split('id="p-mujun.benchmark_mode"')[1].split("</tr>")[0]
    assert "当年参评企业合计之比" in row and ": aggregate" not in row
    c.get("/lang/en")
    try:
        table = c.get("/policy/parameters").text
        row = table.split('id="p-vertical_industry.excess_rate_by_class"')[1].split("</tr>")[0]
        assert "yuan/m²" in row and "元/m²" not in row and "class A: 60" in row
        assert "元" not in c.get("/policy/variables").text.split("<tbody>")[1]
    finally:
        c.get("/lang/zh")
