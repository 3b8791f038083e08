"""Every page under the Content-Security-Policy in a real browser: nothing refused, charts drawn, behaviour attached by
static/app.js (print, auto-submitting selects, htmx swaps), Swagger UI from local files, no request leaves the server.

The pages are the GET routes of the app's page routers (downloads and the language switch aside), so a new page is
walked without a new line here.
"""

from __future__ import annotations

import json
import re
import time
from importlib import import_module

import pytest
from playwright.sync_api import expect

from tenglong.web.app import PAGE_MODULES

from .conftest import chart_ink, screenshot, wait_for_charts

DEMO_ENTERPRISE = "913310821003686548"  # the `enterprise` account's firm, in the `town` account's 杜桥镇
# downloads (no page to render: files, attachments, the icon) and the language switch
NOT_WALKED = re.compile(r"\.(xlsx|csv|ico|pdf)$|^/lang/|^/attachments/")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
STUB_PRINT = "() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }"


def page_paths() -> list[str]:
    """Every GET path of the page routers, as declared (with its {parameters})."""
    paths = {
        route.path
        for name in PAGE_MODULES
        for route in import_module(f"tenglong.web.{name}").router.routes
        if "GET" in route.methods and not NOT_WALKED.search(route.path)
    }
    return sorted(paths)


@pytest.fixture
def outside(page, server) -> list[str]:
    """Requests ``page`` makes anywhere but the server (data: URLs aside): there must be none."""
    seen: list[str] = []
    page.on(
        "request",
        lambda r: not r.url.startswith((server, "data:", "blob:")) and seen.append(f"{r.method} {r.url}"),
    )
    return seen


def _csrf(page) -> str:
    return json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRF-Token"]


def _values(page, server) -> dict[str, object]:
    """A real value for each path parameter of the pages; as admin, through the API: an application of a firm other
    than the demo one (the main-path test's firm stays untouched) and an invalid import.
    """
    api, headers = page.request, {"X-CSRF-Token": _csrf(page)}
    runs = api.get(f"{server}/api/v1/evaluations").json()
    firms = api.get(f"{server}/api/v1/enterprises", params={"page_size": 5}).json()["items"]
    other = next(f["credit_code"] for f in firms if f["credit_code"] != DEMO_ENTERPRISE)
    project = api.post(
        f"{server}/api/v1/projects",
        data={
            "credit_code": other,
            "name": "CSP 巡检项目",
            "application_date": "2023-03-01",
            "inputs": {"total_investment": 15000000, "equipment_investment": 8000000},
        },
        headers=headers,
    )
    assert project.status == 201, project.text()
    application = api.post(
        f"{server}/api/v1/applications", data={"project_id": project.json()["id"], "clause": "2.10"}, headers=headers
    )
    assert application.status == 201, application.text()
    attached = api.post(
        f"{server}/attachments",
        multipart={
            "owner": "subsidy_application",
            "owner_id": str(application.json()["id"]),
            "kind": "invoice",
            "file": {"name": "发票.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"},
        },
        headers=headers,
        max_redirects=0,
    )
    assert attached.status == 303, attached.text()
    files = api.get(f"{server}/api/v1/applications/{application.json()['id']}").json()["attachments"]
    upload = api.post(
        f"{server}/api/v1/imports",
        multipart={"file": {"name": "csp-walk.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"}},
        headers=headers,
    )
    assert upload.status == 202, upload.text()
    import_id = upload.json()["id"]
    deadline = time.monotonic() + 60
    while api.get(f"{server}/api/v1/imports/{import_id}").json()["status"] in ("validating", "committing"):
        assert time.monotonic() < deadline, "the import was not validated in 60 s"
        time.sleep(0.2)
    return {
        "credit_code": DEMO_ENTERPRISE,
        "run_id": next(r["id"] for r in runs if r["status"] == "published"),
        "application_id": application.json()["id"],
        "project_id": project.json()["id"],  # its life cycle (A.4.2)
        "import_id": import_id,
        "attachment_id": files[0]["id"],
        "kind": "high_consumption_low_efficiency",  # a register (清单) and one of its entries
        "key": "tax_per_mu",  # a campaign target (its figure computed)
        "entry_id": api.get(f"{server}/api/v1/registers/high_consumption_low_efficiency").json()["items"][0]["id"],
        "path": api.get(f"{server}/api/v1/policy/parameters").json()["parameters"][0]["path"],
    }


def _visit(page, server: str, path: str) -> None:
    """Open ``path``; wait until it settled and its charts (if any) are drawn, then hover each chart to show its
    tooltip; it must answer 200 under the policy.
    """
    response = page.goto(f"{server}{path}")
    assert response is not None and response.status == 200, (path, response and response.status)
    assert response.headers.get("content-security-policy") == CSP, path
    page.wait_for_load_state("networkidle")
    if page.locator(".chart").count():
        wait_for_charts(page)
        for c in chart_ink(page):
            assert c["canvas"] and c["ink"] > 0.01, f"{path}: chart {c['id']} looks blank: {c}"
        for chart in page.locator(".chart").all():  # the tooltips (ECharts' HTML ones would need inline styles)
            chart.scroll_into_view_if_needed()
            box = chart.bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
            page.wait_for_timeout(150)


def test_pages_when_admin_walks_them_all_run_under_the_policy(
    page, server, login, render_errors, csp_violations, outside
):
    """Every page (each route with real ids, the fragments too) opens without a refused script, style or request, with
    its charts drawn and nothing fetched from elsewhere.
    """
    login("admin")
    values = _values(page, server)
    paths = page_paths()
    assert "/dashboard" in paths and "/api/v1/docs" in paths and len(paths) > 25
    charts = 0
    for declared in paths:
        path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), declared)
        if declared == "/api/v1/docs":
            page.goto(f"{server}{path}")
            expect(page.locator(".swagger-ui .info .title")).to_contain_text("tenglong API")
            continue
        _visit(page, server, path)
        charts += page.locator(".chart").count()
    assert charts >= 7  # dashboard 4, profile 2, a run 1
    assert csp_violations == [], "\n".join(csp_violations)
    assert render_errors == [], "\n".join(render_errors)
    assert outside == [], "\n".join(outside)


@pytest.mark.parametrize("role", ["town", "enterprise"])
def test_pages_when_town_or_enterprise_opens_dashboard_calculator_and_profile_run_under_the_policy(
    page, server, login, render_errors, csp_violations, outside, role
):
    """Dashboard, calculator (prefilled with the firm, then an htmx calculation) and the firm's profile: drawn charts,
    nothing refused.
    """
    login(role)
    for path in ("/dashboard", f"/calculator?enterprise={DEMO_ENTERPRISE}", f"/enterprises/{DEMO_ENTERPRISE}"):
        _visit(page, server, path)
        if path.startswith("/calculator"):
            page.fill("#calc-form input[name=total_investment]", "1500")
            page.fill("#calc-form input[name=equipment_investment]", "800")
            page.click("#calc-form button[type=submit]")
            expect(page.locator("#results article[data-clause='2.10']")).to_be_visible()
    assert wait_for_charts(page) == 2
    assert csp_violations == [], "\n".join(csp_violations)
    assert render_errors == [], "\n".join(render_errors)
    assert outside == [], "\n".join(outside)


def test_behaviour_when_moved_to_app_js_still_works(page, server, login, render_errors, csp_violations):
    """What the inline handlers did, app.js does: print buttons (also in htmx-swapped results), the year and problem
    filters submit on change, printing opens a profile's explanations, chart points link to the list; htmx swaps work
    without eval.
    """
    login("admin")
    import_id = _values(page, server)["import_id"]
    wait_for_charts(page)
    page.evaluate(STUB_PRINT)
    page.click(".pagehead button[data-action=print]")
    assert page.evaluate("window.__printed") == 1
    years = page.locator("#year-form select[name=year] option").all_inner_texts()
    earlier = sorted(years)[0]
    with page.expect_navigation(url=re.compile(rf"/dashboard\?year={earlier}")):
        page.select_option("#year-form select[name=year]", earlier)
    wait_for_charts(page)
    expect(page.locator("h1")).to_contain_text(earlier)
    links = json.loads(page.locator("script[data-chart=chart-classes]").text_content())["links"]
    assert links and links[0][0].startswith(f"/enterprises?year={earlier}")
    with page.expect_navigation(url=f"{server}{links[0][0]}"):  # a click on the first bar follows its link
        page.evaluate(
            "() => echarts.getInstanceByDom(document.getElementById('chart-classes'))"
            ".trigger('click', {seriesIndex: 0, dataIndex: 0})"
        )

    page.goto(f"{server}/enterprises/{DEMO_ENTERPRISE}")
    wait_for_charts(page)
    closed = page.locator("details.explain-row:not([open])")
    assert closed.count() > 0
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    expect(closed).to_have_count(0)

    page.goto(f"{server}/calculator")
    page.fill("#calc-form input[name=total_investment]", "1500")
    page.fill("#calc-form input[name=equipment_investment]", "800")
    page.click("#calc-form button[type=submit]")  # hx-post: the results are swapped in
    expect(page.locator("#results article[data-clause='2.10']")).to_be_visible()
    page.evaluate(STUB_PRINT)
    page.click("#results button[data-action=print]")
    assert page.evaluate("window.__printed") == 1

    page.goto(f"{server}/imports/{import_id}")  # invalid: the report lists problems, filtered by code
    codes = page.locator("#problem-filter select[name=code] option")
    assert codes.count() > 1
    code = codes.nth(1).get_attribute("value")
    with page.expect_navigation(url=re.compile(rf"code={code}")):
        page.select_option("#problem-filter select[name=code]", code)
    expect(page.locator("#problem-filter select[name=code]")).to_have_value(code)
    assert csp_violations == [], "\n".join(csp_violations)
    assert render_errors == [], "\n".join(render_errors)


def test_screenshots_when_the_policy_applies_keep_their_styling(page, server, login, render_errors, csp_violations):
    """Dashboard, calculator with results and the API documentation (and a request tried out from it), saved as PNG
    after the change (and looked at); styled: the stylesheets apply (computed styles of the top bar, the cards and
    Swagger UI).
    """
    login("admin")
    wait_for_charts(page)
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "flex"
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).borderRadius") == "6px"
    screenshot(page, "csp-dashboard")
    page.goto(f"{server}/calculator?enterprise={DEMO_ENTERPRISE}")
    page.fill("#calc-form input[name=total_investment]", "1500")
    page.fill("#calc-form input[name=equipment_investment]", "800")
    page.click("#calc-form button[type=submit]")
    expect(page.locator("#results article[data-clause='2.10']")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('.calc-section .fields')).display") == "grid"
    screenshot(page, "csp-calculator")
    page.goto(f"{server}/api/v1/docs#/calculate")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert page.locator(".swagger-ui .opblock").count() > 20
    assert page.evaluate("getComputedStyle(document.querySelector('.swagger-ui .opblock')).borderRadius") == "4px"
    screenshot(page, "csp-api-docs")
    whoami = page.locator(".swagger-ui .opblock-get").first  # GET /api/v1/session, tried out from the page
    whoami.locator(".opblock-summary").click()
    whoami.locator(".try-out__btn").click()
    whoami.locator(".execute").click()
    expect(whoami.locator(".live-responses-table .response .response-col_status")).to_have_text("200")
    expect(whoami.locator(".live-responses-table .microlight").first).to_contain_text('"username": "admin"')
    whoami.scroll_into_view_if_needed()
    screenshot(page, "csp-api-docs-try-it-out")
    assert csp_violations == [], "\n".join(csp_violations)
    assert render_errors == [], "\n".join(render_errors)


def test_policy_when_inline_code_is_injected_refuses_it_and_the_check_sees_it(page, server, login, csp_violations):
    """The checks above can fail: an inline script and a style attribute put into the page are refused, and both the
    violation events and the console messages are caught. (Eval cannot be tried from here: Playwright's own evaluation
    is exempt from the page's policy.)
    """
    login("admin")
    page.evaluate(
        """() => {
        const s = document.createElement('script'); s.textContent = 'window.__ran = 1'; document.body.append(s);
        document.querySelector('.card').setAttribute('style', 'color: red');
    }"""
    )
    deadline = time.monotonic() + 10
    while len(csp_violations) < 4 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).color") != "rgb(255, 0, 0)"
    events = [v for v in csp_violations if v.startswith("violation:")]
    console = [v for v in csp_violations if v.startswith("console")]
    assert any("script-src" in v for v in events) and any("style-src" in v for v in events), csp_violations
    assert len(console) >= 2, csp_violations
