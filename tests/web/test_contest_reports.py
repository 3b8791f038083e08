"""The quarterly contest (季擂台) and the annual awards (年评优, A.4.2) as files, on their own demo county: the PDF
carries the units and composites of ``contest.quarterly`` (pdftotext), embeds its CJK font (pdffonts) and is not blank
(pdftoppm); ties, shared ranks, unranked units and candidate lists are shown; the workbook holds the same numbers and
a native chart; the CLI writes both formats and refuses a bad quarter; the page and downloads answer each role."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from tenglong.adapters.db.tables import users
from tenglong.cli import main
from tenglong.core import reference_data
from tenglong.core.errors import InvalidInput
from tenglong.services.accounts.auth import actor_of
from tenglong.services.reports import contest, documents

from .conftest import client_for, make_platform

POPPLER = shutil.which("pdftotext") and shutil.which("pdffonts") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed (./test installs it)")
QUARTER = "2023Q2"
ISSUED = dt.date(2023, 7, 10)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A demo county of its own (SQLite), its accounts, and the 季擂台 of 2023Q2."""
    tmp = tmp_path_factory.mktemp("contest")
    url = f"sqlite:///{tmp / 'contest.db'}"
    p = make_platform(url, upload_dir=str(tmp / "up"), attachment_dir=str(tmp / "files"))
    with p.uow.read() as conn:
        actors = {r.username: actor_of(r) for r in conn.execute(select(users))}
    c = contest.quarterly(p.uow, actors["admin"], QUARTER, ISSUED)
    yield SimpleNamespace(p=p, a=actors, url=url, tmp=tmp, c=c)
    p.engine.dispose()


def _text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _tied(c: contest.Contest) -> contest.Contest:
    """``c`` with a tie broken by the first indicator (ranks 1 and 2), two units sharing rank 3, one unranked, and
    two candidate lists: what the demo's data do not show."""
    t = copy.deepcopy(c)
    s = t.standings
    first = t.indicators[0]["key"]
    s[1]["composite"], s[1]["rank"], s[1]["decided_by"] = s[0]["composite"], 2, first
    for a, b in ((2, 3), (3, 2)):
        s[a]["rank"], s[a]["composite"], s[a]["decided_by"] = 3, s[2]["composite"], None
        s[a]["shared_zh"], s[a]["shared_en"] = s[b]["zh"], s[b]["en"]
    s[4]["rank"] = 5
    last = s[-1]
    last["rank"], last["composite"], last["decided_by"] = None, None, None
    last["cells"] = {k: {"value": None, "shown": "—", "score": None} for k in last["cells"]}
    t.annual, t.period, t.number = True, "2023", "2023年度"
    t.candidates = [
        {
            "entry_id": i,
            "category": cat,
            "category_zh": zh,
            "category_en": en,
            "enterprise": f"候选企业{i}有限公司",
            "credit_code": f"91331082MA2K0000{i}X",
            "town_zh": "杜桥镇",
            "town_en": "Duqiao Town",
            "status": "proposed",
            "status_zh": "已提出",
            "status_en": "proposed",
            "fields": {"year": 2023},
            "why_zh": f"亩均税收增长 {i}0%",
            "why_en": f"tax per mu up {i}0%",
        }
        for i, (cat, zh, en) in enumerate(
            [("zero_land", "零增地技改示范", "Zero-land renovation"), ("rectified", "整治提升典型", "Rectified")], 1
        )
    ]
    return t


def test_contest_rows_when_shown_follow_the_standings_and_explain_ties(site):
    rows = documents.contest_rows(site.c)
    assert [(r["rank"], r["zh"], r["composite"]) for r in rows] == [
        (s["rank"], s["zh"], s["composite"]) for s in site.c.standings
    ]
    tied = _tied(site.c)
    rows, notes = documents.contest_rows(tied), documents.contest_notes(tied)
    assert [r["mark"] for r in rows[:5]] == ["", "", "并列", "并列", ""] and rows[-1]["mark"] == "未排名"
    name = tied.indicators[0]["zh"]
    top, second = tied.standings[0], tied.standings[1]
    assert notes[0] == (
        f"{top['zh']}与{second['zh']}综合得分同为 {top['composite']} 分，按“{name}”得分{top['zh']}排先。"
    )
    assert notes[1].startswith(f"{tied.standings[2]['zh']}、{tied.standings[3]['zh']}") and "并列第 3 名" in notes[1]
    english = documents.contest_rows(site.c, "en")
    assert all("（" not in cell["text"] for r in english for cell in r["shown_cells"].values())


@needs_poppler
def test_pdf_when_rendered_carries_the_ranking_embeds_the_cjk_font_and_is_not_blank(site, tmp_path):
    path = tmp_path / "contest.pdf"
    path.write_bytes(documents.contest_pdf(site.c))
    text = _text(path)
    assert "季擂台" in text and "2023年第2期" in text and "印发日期：2023-07-10" in text
    assert "假设" in text and "contest.weights" in text  # the parameters, the assumptions marked
    for i in site.c.indicators:
        assert i["weight_pct"] in text
    ranked = [s for s in site.c.standings if s["rank"] is not None]
    assert ranked
    for s in ranked:  # each unit's line: its rank first, its composite last
        line = next(x for x in text.splitlines() if re.match(rf"\s*{s['rank']}\s+{re.escape(s['zh'])}\b", x))
        assert line.split()[-1] == str(s["composite"]), line
    assert re.search(r"第\s*1\s*页\s*/\s*共\s*\d+\s*页", text)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert any("CJK" in row and row.split()[-5:-2] == ["yes", "yes", "yes"] for row in fonts.splitlines())
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    lo, hi = Image.open(next(tmp_path.glob("p*.png"))).convert("L").getextrema()
    assert lo < 100 and hi > 200  # ink on paper


@needs_poppler
def test_pdf_when_annual_shows_ties_shared_ranks_unranked_units_and_the_candidates(site, tmp_path):
    tied = _tied(site.c)
    langs = {
        "zh": ("并列", "未排名", "年评优", "零增地技改示范"),
        "en": ("tied", "not ranked", "Annual awards", "Zero-land renovation"),
    }
    for lang, marks in langs.items():
        path = tmp_path / f"annual-{lang}.pdf"
        path.write_bytes(documents.contest_pdf(tied, lang))
        text = _text(path)
        flat = re.sub(r"\s+", "", text)
        for mark in marks:
            assert re.sub(r"\s+", "", mark) in flat, (lang, mark)
        for note in documents.contest_notes(tied, lang):
            assert re.sub(r"\s+", "", note) in flat, note
        assert "候选企业1有限公司" in text and "候选企业2有限公司" in text
        unranked = tied.standings[-1]["zh" if lang == "zh" else "en"]
        before = tied.standings[-2]["zh" if lang == "zh" else "en"]
        assert flat.index(re.sub(r"\s+", "", unranked)) > flat.index(re.sub(r"\s+", "", before))
    assert "（" not in _text(tmp_path / "annual-en.pdf").split("2. The ranking")[1].split("3.")[0]


def test_xlsx_when_written_holds_the_ranking_as_numbers_and_a_native_chart(site):
    content = documents.contest_xlsx(site.c)
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["封面", "评比方法", "排名"]
    assert book["封面"]["B1"].value is None and "季擂台" in book["封面"]["A3"].value
    sheet = book["排名"]
    assert sheet.freeze_panes == "A2"
    keys = [i["key"] for i in site.c.indicators]
    header = [c.value for c in sheet[1]][: 4 + 2 * len(keys)]
    assert header[:3] == ["名次", "备注", "镇（街道）、园区"] and header[-1] == "综合得分"
    width = len(header)
    rows = list(sheet.iter_rows(min_row=2, max_row=len(site.c.standings) + 1, max_col=width, values_only=True))
    for s, row in zip(site.c.standings, rows, strict=True):
        assert row[0] == s["rank"] and row[2] == s["zh"]
        assert Decimal(str(row[-1])) == s["composite"]
        for j, k in enumerate(keys):
            value, score = row[3 + 2 * j], row[4 + 2 * j]
            cell = s["cells"][k]
            if cell["value"] is None:
                assert value is None
            else:
                assert value == pytest.approx(float(cell["value"]))
            assert (score is None) == (cell["score"] is None)
            if score is not None:
                assert Decimal(str(score)) == cell["score"]
    pct = next(i for i, k in enumerate(keys) if site.c.indicators[i]["unit"] == "%")
    assert sheet.cell(row=2, column=4 + 2 * pct).number_format == "0.00%"
    method = book["评比方法"]
    cells = [c.value for r in method.iter_rows() for c in r if c.value is not None]
    assert "contest.weights" in cells and "假设" in cells
    assert all(i["zh"] in cells for i in site.c.indicators)
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())
    annual = openpyxl.load_workbook(io.BytesIO(documents.contest_xlsx(_tied(site.c), "en")))
    assert annual.sheetnames == ["Cover", "Method", "Ranking", "Candidates"]
    listed = list(annual["Candidates"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in listed] == ["候选企业1有限公司", "候选企业2有限公司"]
    ranking = list(annual["Ranking"].iter_rows(min_row=2, max_row=len(site.c.standings) + 1, values_only=True))
    assert ranking[-1][0] is None and ranking[-1][1] == "not ranked" and ranking[2][1] == "tied"


def test_contest_file_when_named_and_refused(site):
    doc = documents.contest_file(site.p.uow, site.a["admin"], "2023q2", False, "xlsx")
    assert doc.filename == "季擂台-2023Q2.xlsx" and doc.media_type.startswith("application/vnd.openxmlformats")
    assert documents.contest_file(site.p.uow, None, "2023", True, "xlsx", "en").filename == "annual-awards-2023.xlsx"
    with pytest.raises(InvalidInput) as caught:
        documents.contest_file(site.p.uow, None, "2023Q2", False, "docx")
    assert caught.value.problems[0].where == "format"
    with pytest.raises(InvalidInput) as caught:
        documents.contest_file(site.p.uow, None, "2023Q5", False, "pdf")
    assert caught.value.problems[0].example == "2023Q2"


def test_cli_when_run_writes_both_formats_and_refuses_a_bad_quarter(site, tmp_path):
    runner = CliRunner()
    out = tmp_path / "q.xlsx"
    r = runner.invoke(
        main, ["report", "quarterly", "--quarter", QUARTER, "--out", str(out), "--database-url", site.url]
    )
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:2] == b"PK" and "written" in r.output
    pdf = tmp_path / "a.pdf"
    r = runner.invoke(
        main, ["report", "annual", "--year", "2023", "--out", str(pdf), "--lang", "en", "--database-url", site.url]
    )
    assert r.exit_code == 0, r.output
    assert pdf.read_bytes().startswith(b"%PDF")
    bad = tmp_path / "bad.pdf"
    r = runner.invoke(
        main, ["report", "quarterly", "--quarter", "2023Q5", "--out", str(bad), "--database-url", site.url]
    )
    assert r.exit_code == 1 and "2023Q5" in r.output and "2023Q2" in r.output and not bad.exists()
    r = runner.invoke(main, ["report", "annual", "--year", "23", "--out", str(bad), "--database-url", site.url])
    assert r.exit_code == 1 and "YYYY" in r.output and not bad.exists()
    docx = str(tmp_path / "q.docx")
    r = runner.invoke(main, ["report", "quarterly", "--quarter", QUARTER, "--out", docx, "--database-url", site.url])
    assert r.exit_code == 1 and "pdf" in r.output


@pytest.mark.parametrize("role", ["admin", "town", "department", "auditor"])
def test_pages_when_opened_by_an_official_rank_every_unit_and_download(site, role):
    c = client_for(site.p, role)
    page = c.get(f"/reports?quarter={QUARTER}")
    assert page.status_code == 200 and 'name="quarter"' in page.text and 'name="year"' in page.text
    ranked = [s for s in site.c.standings if s["rank"] is not None]
    assert all(s["zh"] in page.text for s in site.c.standings)  # a town sees the whole ranking
    assert str(ranked[0]["composite"]) in page.text
    for url in (f"/reports/quarterly.xlsx?quarter={QUARTER}", "/reports/annual.xlsx?year=2023"):
        r = c.get(url)
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"], url
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    if role == "admin":
        pdfs = (
            (f"/reports/quarterly.pdf?quarter={QUARTER}", "%E5%AD%A3"),  # 季擂台-…
            ("/reports/annual.pdf?year=2023", "%E5%B9%B4"),  # 年评优-…
        )
        for url, name in pdfs:
            r = c.get(url)
            assert r.status_code == 200 and r.content.startswith(b"%PDF"), url
            assert f"filename*=UTF-8''{name}" in r.headers["content-disposition"]
        assert c.get("/reports/quarterly.pdf?quarter=2023Q5").status_code == 422
        assert c.get("/reports/annual.xlsx?year=abcd").status_code == 422
        bad = c.get("/reports?quarter=2023Q9")
        assert bad.status_code == 200 and "2023Q9" in bad.text and 'role="alert"' in bad.text


def test_pages_when_sorted_order_the_ranking_and_keep_the_unranked_last(site):
    c = client_for(site.p, "admin")
    ranked = [s for s in site.c.standings if s["rank"] is not None]
    page = c.get(f"/reports?quarter={QUARTER}&sort=composite&dir=asc").text
    table = page.split('id="ranking-table"')[1]
    positions = [table.index(f'data-unit="{s["code"]}"') for s in ranked]
    assert positions == sorted(positions, reverse=True)  # lowest composite first
    assert 'aria-sort="ascending"' in table.split("</thead>")[0]
    default = client_for(site.p, "town").get("/reports").text
    assert 'name="quarter" value="' in default
    by_unit = c.get(f"/reports?quarter={QUARTER}&sort=unit&dir=asc").text.split('id="ranking-table"')[1]
    official = [t.code for t in reference_data.towns() if any(s["code"] == t.code for s in ranked)]
    positions = [by_unit.index(f'data-unit="{code}"') for code in official]
    assert positions == sorted(positions)  # the official order (街道, 镇, then the zones), not the code points


def test_pages_when_opened_by_an_enterprise_are_refused(site):
    c = client_for(site.p, "enterprise")
    urls = ("/reports", "/reports/quarterly.pdf", "/reports/quarterly.xlsx", "/reports/annual.pdf")
    for url in (*urls, "/reports/annual.xlsx"):
        assert c.get(url).status_code == 403, url


def test_pages_when_the_ranking_is_shown_give_each_units_indicator_values_and_points(site):
    from tenglong.services.reports.documents import contest_rows

    page = client_for(site.p, "town").get(f"/reports?quarter={QUARTER}").text
    table = page.split('id="ranking-table"')[1].split("</table>")[0]
    assert table.count("data-indicator=") == len(site.c.indicators) * (1 + len(site.c.standings))
    for r in contest_rows(site.c, "zh"):
        row = table.split(f'data-unit="{r["code"]}"')[1].split("</tr>")[0]
        for cell in r["shown_cells"].values():
            assert cell["text"] in row and (f"{cell['points']} 分" in row) == (cell["score"] is not None)
