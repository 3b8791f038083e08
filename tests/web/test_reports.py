"""The monthly bulletin (月通报, A.4.2) on its own demo county: the figures equal the data, the PDF carries them
(pdftotext), embeds its CJK font (pdffonts) and is not blank (pdftoppm), the workbook holds the same tables and a
native chart, a town gets its own town's only, and the page and downloads answer each role."""

from __future__ import annotations

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
from PIL import Image
from sqlalchemy import func, select

from tenglong.adapters.db.tables import enterprises, ledger_entries, users
from tenglong.core.errors import Forbidden, InvalidInput
from tenglong.services.accounts.auth import actor_of
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.campaign.common import CHINA
from tenglong.services.reports import bulletin, documents

from .conftest import client_for, make_platform

POPPLER = shutil.which("pdftotext") and shutil.which("pdffonts") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils is not installed (./test installs it)")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(request, tmp_path_factory):
    """A demo county of its own on each backend (nothing else moves its registers), the month the demo was made in."""
    tmp = tmp_path_factory.mktemp("reports")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'reports.db'}"
    else:
        url = request.getfixturevalue("pg_database")("tenglong_reports")
    p = make_platform(url, upload_dir=str(tmp / "up"), attachment_dir=str(tmp / "files"))
    with p.uow.read() as conn:
        actors = {r.username: actor_of(r) for r in conn.execute(select(users))}
    month = f"{dt.datetime.now(CHINA):%Y-%m}"
    yield SimpleNamespace(p=p, a=actors, month=month, tmp=tmp)
    p.engine.dispose()


def test_bulletin_when_built_for_the_demo_month_counts_what_the_demo_did(site):
    """The demo works 杜桥镇's registers: eight 高耗低效 proposals confirmed, one closed off, two past their
    deadline; a zero-land project late to start; the money of three supported projects."""
    b = bulletin.monthly(site.p.uow, site.a["admin"], site.month)
    hcle = next(r for r in b.registers if r["kind"] == "high_consumption_low_efficiency")
    assert (hcle["added"], hcle["closed"], hcle["shut_down"], hcle["overdue"]) == (8, 1, 0, 2)
    assert [r["project"] for r in b.late] == ["厂房加层“零增地”技改项目（演示 1）"] or len(b.late) == 1
    assert b.late[0]["days_late"] == (b.last - b.late[0]["deadline"]).days > 0
    first, last = bulletin.month_of(site.month)
    start, end = bulletin._utc(first), bulletin._utc(last + dt.timedelta(days=1))
    L = ledger_entries.c
    with site.p.uow.read() as conn:
        sums = {
            (c, k): Decimal(str(s)).quantize(Decimal("0.01"))
            for c, k, s in conn.execute(
                select(L.clause, L.kind, func.sum(L.amount)).where(L.at >= start, L.at < end).group_by(L.clause, L.kind)
            )
        }
    assert {(r["clause"], k): r[k] for r in b.money for k in bulletin.LEDGER_KINDS if r[k]} == sums
    assert b.classes is not None and sum(b.classes["counts"]["above_scale"].values()) > 0
    assert sum(r["count"] for r in b.overdue_by_town) == sum(r["overdue"] for r in b.registers)


def test_bulletin_when_asked_by_a_town_is_its_own_towns(site):
    own = bulletin.monthly(site.p.uow, site.a["town"], site.month)
    assert own.town == DEMO_TOWN and own.town_zh == "杜桥镇"
    with pytest.raises(Forbidden):
        bulletin.monthly(site.p.uow, site.a["town"], site.month, "汛桥镇")
    with site.p.uow.read() as conn:
        other = conn.execute(select(enterprises.c.town).where(enterprises.c.town != DEMO_TOWN).limit(1)).scalar_one()
    elsewhere = bulletin.monthly(site.p.uow, site.a["admin"], site.month, other)
    assert elsewhere.late == [] and all(r["added"] == 0 for r in elsewhere.registers)
    for name in ("杜桥", "Duqiao Town", DEMO_TOWN):  # a town by its name, its short name or its code
        assert bulletin.monthly(site.p.uow, site.a["admin"], site.month, name).town == DEMO_TOWN
    with pytest.raises(InvalidInput):  # a prefix naming no single town
        bulletin.monthly(site.p.uow, site.a["admin"], site.month, "杜")


@pytest.mark.parametrize("month", ["2023-13", "23-05", "", "2023-5-1"])
def test_month_when_malformed_is_refused_with_an_example(month):
    with pytest.raises(InvalidInput) as caught:
        bulletin.month_of(month)
    assert caught.value.problems[0].example == "2023-05"


@needs_poppler
def test_pdf_when_rendered_carries_the_figures_embeds_the_cjk_font_and_is_not_blank(site, tmp_path):
    b = bulletin.monthly(site.p.uow, site.a["admin"], site.month)
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(documents.monthly_pdf(b))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "攻坚行动月通报" in text and f"{b.first.year}年第{b.first.month}期" in text
    hcle = next(r for r in b.registers if r["kind"] == "high_consumption_low_efficiency")
    line = next(x for x in text.splitlines() if x.strip().startswith("高耗低效企业清单"))
    assert re.findall(r"\d+", line.split("A.3.1", 1)[1]) == [
        str(hcle[k]) for k in ("added", "closed", "shut_down", "overdue")
    ]
    total = b.money_total["granted"]
    assert f"{(total / 10000).quantize(Decimal('0.01')):,.2f}" in text
    assert re.search(r"第\s*1\s*页\s*/\s*共\s*\d+\s*页", text)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert any("CJK" in row and row.split()[-5:-2] == ["yes", "yes", "yes"] for row in fonts.splitlines())
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    page = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    lo, hi = page.getextrema()
    assert lo < 100 and hi > 200  # ink on paper


def test_xlsx_when_written_holds_the_same_tables_and_a_native_chart(site):
    b = bulletin.monthly(site.p.uow, site.a["admin"], site.month)
    content = documents.monthly_xlsx(b)
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["清单动态"]
    rows = {r[1]: r[2:6] for r in sheet.iter_rows(min_row=2, max_row=len(b.registers) + 1, values_only=True)}
    assert rows["A.3.1"] == tuple(
        next(r for r in b.registers if r["kind"] == "high_consumption_low_efficiency")[k]
        for k in ("added", "closed", "shut_down", "overdue")
    )
    assert sheet.freeze_panes == "A2"
    money = book["资金"]
    got = {r[0]: Decimal(str(r[1])) for r in money.iter_rows(min_row=2, values_only=True) if r[0]}
    assert got["合计"] == b.money_total["granted"]
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())


def test_pages_when_opened_by_each_role_offer_the_right_bulletins(site):
    admin = client_for(site.p, "admin")
    page = admin.get("/reports")
    assert page.status_code == 200 and 'name="month"' in page.text and "杜桥镇" in page.text
    assert page.text.count('id="quarterly"') == 1 and re.search(r"<title>[^<]*</title>", page.text)  # no stray copy
    r = admin.get(f"/reports/monthly.xlsx?month={site.month}")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    town = client_for(site.p, "town")
    assert 'name="town"' not in town.get("/reports").text  # its own town, no choice
    assert town.get(f"/reports/monthly.xlsx?month={site.month}&town=汛桥镇").status_code == 403
    assert client_for(site.p, "enterprise").get("/reports").status_code == 403
    assert admin.get("/reports/monthly.xlsx?month=2023-13").status_code == 422
    pdf = admin.get(f"/reports/monthly.pdf?month={site.month}&town=杜桥镇")
    assert (
        pdf.status_code == 200
        and pdf.content.startswith(b"%PDF")
        and "filename*=UTF-8''" in pdf.headers["content-disposition"]
    )
