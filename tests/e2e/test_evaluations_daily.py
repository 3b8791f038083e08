"""Evaluations in daily use, in a real browser: publishing and superseding ask in a dialog first (and the server asks
again when the dialog was bypassed); a superseded run stays, marked and linked both ways; comparing a year with itself
is said in the form and the compare page says why classes changed; a score over 100 is explained on the profile; the
lists sort by clicking their headers.

Only 2021 and a new 2020 year are touched: 2021's published run is superseded by an identical newer run (the same
data and method give the same results), and 2020 gets a few firms and a run that is never published, so the other
browser tests see the county they expect.
"""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect

from tenglong.adapters.tabular.writer import write_enterprise_years
from tenglong.demo.county import generate_county
from tenglong.web.figures import state_name

from .conftest import screenshot

DEMO_ENTERPRISE = "913310821003686548"  # the `enterprise` account's firm: 规上, a score above 100 every year
PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _api(page):
    """The page's request context and the CSRF header of its session."""
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRF-Token"]
    return page.request, {"X-CSRF-Token": token}


def _wait(api, server: str, path: str, busy: tuple[str, ...], seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        body = api.get(f"{server}{path}").json()
        if body["status"] not in busy:
            return body
        assert time.monotonic() < deadline, f"{path} still {body['status']} after {seconds} s"
        time.sleep(0.3)


def _finished_run(page, server: str, year: int) -> int:
    """Start a run of ``year`` through the API (as the signed-in admin) and wait until it is done."""
    api, headers = _api(page)
    started = api.post(f"{server}/api/v1/evaluations", data={"year": year}, headers=headers)
    assert started.status == 202, started.text()
    run_id = started.json()["id"]
    assert _wait(api, server, f"/api/v1/evaluations/{run_id}", ("queued", "running"))["status"] == "done"
    return run_id


def _status(page, state: str) -> None:
    expect(page.locator("#run-status")).to_have_text(state_name("evaluation_run", state, "zh"))


def test_supersede_when_admin_replaces_a_published_run_asks_first_and_links_both_runs(
    page, server, login, render_errors, csp_violations
):
    """A newer 2021 run supersedes the published one: the reason is asked, the dialog repeats it (cancel changes
    nothing), confirmed the new run is published and links back, the old one says 已被取代 with the reason; the list
    marks both.
    """
    login("admin")
    api, _ = _api(page)
    old = next(
        r["id"]
        for r in api.get(f"{server}/api/v1/evaluations").json()
        if r["year"] == 2021 and r["status"] == "published"
    )
    new = _finished_run(page, server, 2021)
    page.goto(f"{server}/evaluations/{new}")
    _status(page, "done")
    expect(page.locator("#supersede")).to_contain_text(f"2021 年度已发布评价 #{old}")
    reason = "2021 年度企业数据复核后重新评价"
    page.fill("#supersede-form textarea[name=reason]", reason)
    page.click("#supersede-button")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-title")).to_have_text("取代已发布的评价")
    expect(dialog.locator("#confirm-text")).to_contain_text(f"以本评价 #{new} 为准，原评价 #{old} 标为“已被取代”")
    expect(dialog.locator("#confirm-text")).to_contain_text(f"取代原因：{reason}")
    expect(dialog.locator("#confirm-text")).to_contain_text("此操作不能撤回")
    screenshot(page, "evaluation-supersede-dialog")
    page.click("#confirm-cancel")
    expect(dialog).to_be_hidden()
    _status(page, "done")
    page.click("#supersede-button")
    with page.expect_navigation():
        page.click("#confirm-ok")
    _status(page, "published")
    expect(page.locator("#supersedes-banner")).to_contain_text(f"本评价取代了评价 #{old}。取代原因：{reason}")
    screenshot(page, "evaluation-superseding-run")
    with page.expect_navigation():
        page.click("#supersedes-link")
    _status(page, "superseded")
    banner = page.locator("#superseded-banner")
    expect(banner).to_contain_text(f"被评价 #{new} 取代")
    expect(banner).to_contain_text("（北京时间）")
    expect(banner).to_contain_text(reason)
    expect(page.locator("#supersede, #publish-form")).to_have_count(0)
    screenshot(page, "evaluation-superseded-run")
    page.goto(f"{server}/evaluations")
    expect(page.locator(f"#runs tr[data-run='{old}']")).to_contain_text(f"已被 #{new} 取代")
    expect(page.locator(f"#runs tr[data-run='{new}']")).to_contain_text(f"取代 #{old}")
    page.goto(f"{server}/enterprises?year=2021")
    expect(page.locator("#run-used")).to_contain_text(f"#{new}")
    expect(page.locator("#run-used")).to_contain_text(f"取代了评价 #{old}")
    assert render_errors == [] and csp_violations == []


def test_publish_when_admin_clicks_asks_in_a_dialog_and_the_server_asks_again_without_it(
    page, server, login, render_errors, csp_violations, tmp_path
):
    """A run of a year with nothing published: 发布 opens the dialog with what publishing makes official (cancel
    publishes nothing); a form sent around the dialog gets the server's confirmation panel, still publishing nothing.
    """
    login("admin")
    api, headers = _api(page)
    csv = write_enterprise_years(generate_county(5, [2020]).head(40), tmp_path / "2020.csv")
    upload = api.post(
        f"{server}/api/v1/imports",
        multipart={"file": {"name": "2020.csv", "mimeType": "text/csv", "buffer": csv.read_bytes()}},
        headers=headers,
    )
    assert upload.status == 202, upload.text()
    import_id = upload.json()["id"]
    assert _wait(api, server, f"/api/v1/imports/{import_id}", ("uploaded", "validating"))["status"] == "validated"
    assert api.post(f"{server}/api/v1/imports/{import_id}/commit", headers=headers).status == 202
    assert _wait(api, server, f"/api/v1/imports/{import_id}", ("validated", "committing"))["status"] == "committed"
    run_id = _finished_run(page, server, 2020)
    page.goto(f"{server}/evaluations/{run_id}")
    page.click("#publish-button")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-title")).to_have_text("确认发布评价")
    expect(dialog.locator("#confirm-text")).to_contain_text("发布后 40 家企业的 2020 年度评价结果将生效")
    expect(dialog.locator("#confirm-text")).to_contain_text("发布后不能撤回或修改")
    screenshot(page, "evaluation-publish-dialog")
    page.click("#confirm-cancel")
    expect(dialog).to_be_hidden()
    _status(page, "done")
    with page.expect_navigation():  # around the dialog (no submit event): the server asks instead
        page.evaluate("document.getElementById('publish-form').submit()")
    expect(page.locator("#publish-confirm")).to_be_visible()
    expect(page.locator("#publish-confirm-summary")).to_contain_text("发布后 40 家企业的 2020 年度评价结果将生效")
    screenshot(page, "evaluation-publish-confirm-panel")
    _status(page, "done")
    page.click("#publish-confirm a.button")
    _status(page, "done")
    assert api.get(f"{server}/api/v1/evaluations/{run_id}").json()["status"] == "done"
    assert render_errors == [] and csp_violations == []


def test_compare_when_same_year_chosen_says_so_inline_then_explains_each_change(
    page, server, login, render_errors, csp_violations
):
    """The compare form with one year twice answers with the message in the form; two years list each changed firm
    with why (scores, ranks, quota edges, verdict; vetoes and 2.8 quoted from the explanation).
    """
    login("department")
    page.goto(f"{server}/evaluations")
    page.select_option("#compare-form select[name=a]", "2023")
    page.select_option("#compare-form select[name=b]", "2023")
    with page.expect_navigation():
        page.click("#compare-form button[type=submit]")
    expect(page.locator("#compare-problems")).to_contain_text("请选择两个不同的年度")
    expect(page.locator("#compare-form select[name=a]")).to_be_visible()
    expect(page.locator("h1")).to_have_text("年度比较")
    screenshot(page, "evaluation-compare-same-year")
    page.select_option("#compare-form select[name=a]", "2022")
    with page.expect_navigation():
        page.click("#compare-form button[type=submit]")
    expect(page.locator("#compare-problems")).to_have_count(0)
    rows = page.locator("#changes-table tbody tr[data-code]")
    expect(rows.first).to_be_visible()
    assert rows.count() == page.locator("#changes-table tbody tr[data-code] ul.why").count()
    expect(page.locator("li[data-why=verdict]").first).to_contain_text("类别变化来自")
    expect(page.locator("li[data-why=edge]").first).to_contain_text("名额分界得分")
    screenshot(page, "evaluation-compare-why")
    assert render_errors == [] and csp_violations == []


def test_profile_when_score_over_100_says_why_also_on_a_phone(page, server, login, render_errors, csp_violations):
    """The enterprise's profile explains its score above 100 (formula, parameter, the items above their benchmark) and
    names the run of each year; at 390 px the explanation fits the screen.
    """
    login("enterprise")
    page.goto(f"{server}/enterprises/{DEMO_ENTERPRISE}")
    block = page.locator("#over-100-2023")
    expect(block).to_contain_text("为什么超过 100 分")
    expect(block).to_contain_text("单项得分不设上限")
    expect(block.locator("a[href='/policy/parameters/mujun.weights_above_scale']")).to_be_visible()
    assert block.locator("li[data-indicator]").count() >= 1
    expect(page.locator("#latest-run a")).to_contain_text("发布（北京时间）")
    block.scroll_into_view_if_needed()
    screenshot(page, "profile-over-100")
    page.set_viewport_size(PHONE)
    page.goto(f"{server}/enterprises/{DEMO_ENTERPRISE}")
    box = page.locator("#over-100-2023").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1
    screenshot(page, "profile-over-100-390")
    assert render_errors == [] and csp_violations == []


def _column(page, table: str, index: int) -> list[float]:
    cells = page.locator(f"#{table} tbody tr[data-code] td:nth-child({index})").all_inner_texts()
    return [float(c.replace(",", "")) for c in cells if re.fullmatch(r"[\d,.]+", c.strip())]


def test_lists_when_headers_are_clicked_sort_both_ways_and_keep_paging(
    page, server, login, render_errors, csp_violations
):
    """亩均税收 sorts high first, then low first on a second click (▼/▲, aria-sort); the next page keeps the order;
    by score the 规上 firms come first, then the 规下 ones; the run results sort the same way.
    """
    login("admin")
    page.goto(f"{server}/enterprises?class=B")
    header = page.locator("#enterprise-table th[data-sort=tax_per_mu]")
    expect(header).to_contain_text("亩均税收（万元/亩）")
    with page.expect_navigation():
        header.locator("a").click()
    assert "sort=tax_per_mu" in page.url and "dir=desc" in page.url and "class=B" in page.url
    header = page.locator("#enterprise-table th[data-sort=tax_per_mu]")
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(header).to_contain_text("▼")
    first = _column(page, "enterprise-table", 9)
    assert first and first == sorted(first, reverse=True)
    with page.expect_navigation():
        page.locator("nav.pager a[rel=next]").click()
    assert "sort=tax_per_mu" in page.url and "page=2" in page.url
    second = _column(page, "enterprise-table", 9)
    assert second and max(second) <= min(first)
    with page.expect_navigation():
        page.locator("#enterprise-table th[data-sort=tax_per_mu] a").click()
    assert "dir=asc" in page.url and "page=" not in page.url
    expect(page.locator("#enterprise-table th[data-sort=tax_per_mu]")).to_have_attribute("aria-sort", "ascending")
    rising = _column(page, "enterprise-table", 9)
    assert rising == sorted(rising)
    screenshot(page, "enterprises-sorted-tax-asc")
    page.goto(f"{server}/enterprises?sort=score")
    expect(page.locator("#enterprise-table tbody tr").first).to_have_attribute("data-group-start", "above_scale")
    page.goto(f"{server}/evaluations")
    run = page.locator("#runs tr[data-status=published] a").first.get_attribute("href")
    page.goto(f"{server}{run}")
    with page.expect_navigation():
        page.locator("#results-table th[data-sort=value_added_per_mu] a").click()
    expect(page.locator("#results-table th[data-sort=value_added_per_mu]")).to_have_attribute("aria-sort", "descending")
    values = _column(page, "results-table", 9)
    assert values and values == sorted(values, reverse=True)
    screenshot(page, "evaluation-results-sorted")
    assert render_errors == [] and csp_violations == []
