"""Security headers of every answer: the Content-Security-Policy, HSTS behind TLS, ``Cache-Control: no-store`` on
everything but /static/; templates that need no inline script, handler or style; Swagger UI from vendored files only.

The routes are the app's own (as in ``test_access_matrix.py``), so a new route is checked without a new line here.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from tenglong.adapters.db import tables
from tenglong.web.app import create_app

from .conftest import client_for, make_platform

WEB = Path(__file__).resolve().parents[2] / "src" / "tenglong" / "web"
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
VENDOR = WEB / "static" / "vendor"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
DEMO_ENTERPRISE = "913310821003686548"
DOWNLOAD_TYPES = ("spreadsheetml", "text/csv", "application/octet-stream")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """A private demo platform (uploads and applications of this module stay here), the admin's clients, and a real
    value for each path parameter of the app's routes.
    """
    tmp = tmp_path_factory.mktemp("headers")
    p = make_platform(
        f"sqlite:///{tmp / 'headers.db'}", upload_dir=str(tmp / "uploads"), attachment_dir=str(tmp / "files")
    )
    admin = client_for(p, "admin")
    project = admin.post(
        "/api/v1/projects",
        json={
            "credit_code": DEMO_ENTERPRISE,
            "name": "标头测试项目",
            "application_date": "2023-03-01",
            "inputs": {"total_investment": 15000000, "equipment_investment": 8000000},
        },
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    application = admin.post("/api/v1/applications", json={"project_id": project_id, "clause": "2.10"})
    assert application.status_code == 201, application.text
    with client_for(p, "enterprise") as ent:
        attached = ent.post(
            "/attachments",
            data={"owner": "subsidy_application", "owner_id": str(application.json()["id"]), "kind": "invoice"},
            files={"file": ("发票.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
            follow_redirects=False,
        )
    assert attached.status_code == 303, attached.text
    with p.uow.read() as conn:
        attachment_id = conn.execute(
            select(tables.attachments.c.id).where(
                tables.attachments.c.owner_type == "subsidy_application",
                tables.attachments.c.owner_id == application.json()["id"],
            )
        ).scalar_one()
    upload = admin.post("/api/v1/imports", files={"file": ("bad.csv", b"a,b\n1,2\n", "text/csv")})
    assert upload.status_code == 202, upload.text
    import_id = upload.json()["id"]
    deadline = time.monotonic() + 60
    while admin.get(f"/api/v1/imports/{import_id}").json()["status"] in ("validating", "committing"):
        assert time.monotonic() < deadline, "the import was not validated in 60 s"
        time.sleep(0.1)
    reform = admin.post("/api/v1/reforms", json={"reform": {"title": "标头测试方案", "changes": {}}})
    assert reform.status_code == 201, reform.text
    values = {
        "credit_code": DEMO_ENTERPRISE,
        "run_id": admin.get("/api/v1/evaluations").json()[0]["id"],
        "project_id": project_id,
        "application_id": application.json()["id"],
        "attachment_id": attachment_id,
        "reform_id": reform.json()["id"],  # a saved reform (政策模拟)
        "import_id": import_id,
        "user_id": admin.get("/api/v1/admin/users").json()[0]["id"],
        "clause_id": "2.10",
        "path": admin.get("/api/v1/policy/parameters").json()["parameters"][0]["path"],
        "code": "zh",
        "action": "submit",
        "kind": "high_consumption_low_efficiency",  # a register (清单) and one of its entries
        "key": "tax_per_mu",  # a campaign target (its figure computed)
        "entry_id": admin.get("/api/v1/registers/high_consumption_low_efficiency").json()["items"][0]["id"],
        "notification_id": 1,  # only writes name one: asked without the token, refused before it is looked up
    }
    no_token = client_for(p, "admin")
    no_token.headers.pop("X-CSRF-Token")
    yield {"platform": p, "admin": admin, "no_token": no_token, "values": values}
    admin.close()
    no_token.close()


def _routes(app) -> list[tuple[str, str]]:
    return sorted(
        (method, ctx.path) for ctx in iter_route_contexts(app.routes) for method in (ctx.methods or set()) - {"HEAD"}
    )


def _url(path: str, values: dict) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), path)


def _is_download(r) -> bool:
    return "attachment" in r.headers.get("content-disposition", "") or any(
        t in r.headers.get("content-type", "") for t in DOWNLOAD_TYPES
    )


def test_every_route_when_asked_as_admin_answers_with_the_csp_and_no_store(site):
    """Each GET route (pages with ``accept: text/html``) answers the signed-in administrator (200, or a redirect) with
    the policy and ``Cache-Control: no-store``; each write route, asked without the CSRF token (refused, so nothing
    changes), too; the downloads among them are all seen.
    """
    routes = _routes(create_app(site["platform"]))
    assert ("GET", "/api/v1/docs") in routes and ("GET", "/dashboard") in routes and len(routes) > 90
    found, downloads = [], set()
    for method, path in routes:
        url = _url(path, site["values"])
        page = {} if path.startswith("/api/") else {"accept": "text/html"}
        client = site["admin"] if method == "GET" else site["no_token"]
        r = client.request(method, url, headers=page, follow_redirects=False)
        where = f"{method} {url} ({r.status_code})"
        if r.status_code not in ((200, 303) if method == "GET" else (403, 422)):
            found.append(f"{where}: unexpected status (the test's path parameters no longer fit the app?)")
        if r.headers.get("content-security-policy") != CSP:
            found.append(f"{where}: Content-Security-Policy is {r.headers.get('content-security-policy')!r}")
        if r.headers.get("cache-control") != "no-store":
            found.append(f"{where}: Cache-Control is {r.headers.get('cache-control')!r}")
        for name, want in (("x-content-type-options", "nosniff"), ("x-frame-options", "DENY")):
            if r.headers.get(name) != want:
                found.append(f"{where}: {name} is {r.headers.get(name)!r}")
        if "strict-transport-security" in r.headers:
            found.append(f"{where}: HSTS without behind_tls")
        if r.status_code == 200 and _is_download(r):
            downloads.add(path)
    assert not found, "\n".join(found)
    assert {
        "/api/v1/enterprises/export.xlsx",
        "/api/v1/evaluations/{run_id}/export.xlsx",
        "/api/v1/imports/template.xlsx",
        "/api/v1/imports/{import_id}/report.xlsx",
        "/api/v1/audit/export.xlsx",
        "/api/v1/audit/export.csv",
        "/enterprises/export.xlsx",
        "/evaluations/{run_id}/export.xlsx",
        "/calculator/template.xlsx",
        "/applications.xlsx",
        "/imports/template.xlsx",
        "/registers/{kind}/export.xlsx",
        "/api/v1/registers/{kind}/export.xlsx",
    } <= downloads, sorted(downloads)


def test_downloads_when_posted_or_failing_are_not_stored(site):
    """The calculator's results workbook (a POST), an error answer, the sign-in page and a redirect: no-store too."""
    calc = {
        "as_of": "2023-03-01",
        "enterprises": {"E1": {}},
        "projects": {
            "P1": {
                "enterprise": "E1",
                "total_investment": 15000000,
                "equipment_investment": 8000000,
                "tech_renovation_subsidy": None,
            }
        },
    }
    r = site["admin"].post("/calculator/batch.xlsx", data={"request": json.dumps(calc)})
    assert r.status_code == 200 and r.content.startswith(b"PK") and r.headers["cache-control"] == "no-store"
    anonymous = client_for(site["platform"], None)
    for r in (
        anonymous.get("/api/v1/enterprises"),  # 401
        anonymous.get("/dashboard", follow_redirects=False),  # 303 to /login
        anonymous.get("/login"),
        site["admin"].get("/api/v1/evaluations/999999"),  # 404
    ):
        assert r.headers["cache-control"] == "no-store", (r.url, r.status_code)
        assert r.headers["content-security-policy"] == CSP, (r.url, r.status_code)
    anonymous.close()


@pytest.mark.parametrize(
    "path", ["/static/app.js", "/static/app.css", "/static/vendor/htmx.min.js", "/static/vendor/swagger-ui.css"]
)
def test_static_files_when_fetched_stay_cacheable(site, path):
    """Our own and the vendored files keep their validators and are not marked no-store."""
    r = site["admin"].get(path)
    assert r.status_code == 200 and "no-store" not in r.headers.get("cache-control", "")
    assert r.headers.get("etag") and r.headers.get("last-modified")


def test_hsts_when_behind_tls_is_sent_on_every_answer(site, monkeypatch):
    """Without ``behind_tls`` no HSTS header; with it, on pages, the API and static files alike."""
    c = client_for(site["platform"], None)
    assert "strict-transport-security" not in c.get("/login").headers
    monkeypatch.setattr(site["platform"].settings, "behind_tls", True)
    for path in ("/login", "/api/v1/session", "/static/app.css", "/api/v1/docs"):
        assert c.get(path).headers.get("strict-transport-security") == HSTS, path
    c.close()


# -- the templates: nothing the policy would refuse -----------------------------------------------------------------

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
FORBIDDEN = {
    "an on*= event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "an hx-on attribute": re.compile(r"\s(?:data-)?hx-on", re.I),
    "a style= attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "a <style> element": re.compile(r"<style\b", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    "hx-vars / a js: value (htmx eval)": re.compile(r"hx-vars|hx-vals\s*=\s*['\"]\s*(?:js|javascript):", re.I),
}


def _without_comments(text: str) -> str:
    return re.sub(r"\{#.*?#\}|<!--.*?-->", "", text, flags=re.S)


def test_templates_when_scanned_hold_no_inline_script_handler_or_style():
    """No template has an inline script body (JSON data blocks excepted), an on*= handler, hx-on, a style attribute or
    element, a javascript: URL or an htmx value that needs eval.
    """
    assert len(TEMPLATES) > 25
    found = []
    for path in TEMPLATES:
        text = _without_comments(path.read_text(encoding="utf-8"))
        name = path.relative_to(WEB / "templates")
        for m in SCRIPT.finditer(text):
            attrs, body = m.group(1), m.group(2)
            if body.strip() and not re.search(r"""type\s*=\s*["']application/json["']""", attrs):
                found.append(f"{name}: an inline script: {body.strip()[:60]!r}")
            if "src=" in attrs and not re.search(r"""src\s*=\s*["']/static/""", attrs):
                found.append(f"{name}: a script from elsewhere than /static/: {attrs.strip()}")
        for what, pattern in FORBIDDEN.items():
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{name}:{line}: {what}: {m.group()[-60:]!r}")
    assert not found, "\n".join(found)


def test_scan_when_given_inline_code_finds_it():
    """The scan of the templates can fail: each forbidden form is caught."""
    bad = (
        '<button onclick="x()">',
        '<div hx-on:click="x()">',
        '<div style="width: 5%">',
        "<style>a{}</style>",
        '<a href="javascript:void(0)">',
        '<div hx-vars="a:1">',
        "<div hx-vals='js:{a: 1}'>",
    )
    for snippet in bad:
        assert any(p.search(snippet) for p in FORBIDDEN.values()), snippet
    assert SCRIPT.search("<script>alert(1)</script>").group(2) == "alert(1)"


def test_htmx_when_configured_injects_no_style_and_needs_no_eval():
    """The base template turns off htmx's injected indicator <style>, its eval and scripts in swapped content; app.css
    carries the indicator rules instead.
    """
    base = (WEB / "templates" / "base.html").read_text(encoding="utf-8")
    meta = re.search(r"""<meta name="htmx-config" content='([^']+)'>""", base)
    assert meta, "no htmx-config meta"
    config = json.loads(meta.group(1))
    assert {k: config[k] for k in ("includeIndicatorStyles", "allowEval", "allowScriptTags")} == {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
    }
    # 4xx/5xx answers are swapped in too (they carry the error box), so a refused htmx request is never silent.
    assert {"code": "[45]..", "swap": True, "error": True} in config["responseHandling"]
    assert base.index('name="htmx-config"') < base.index("htmx.min.js")
    css = (WEB / "static" / "app.css").read_text(encoding="utf-8")
    assert ".htmx-indicator {" in css and ".htmx-request .htmx-indicator" in css


def test_chart_pages_when_rendered_carry_their_data_as_json_blocks(site):
    """The dashboard's four charts come as JSON blocks (option and links) that app.js draws; no inline script."""
    page = site["admin"].get("/dashboard", headers={"accept": "text/html"}).text
    blocks = dict(re.findall(r'<script type="application/json" data-chart="([\w-]+)">(.*?)</script>', page, re.S))
    assert set(blocks) == {"chart-classes", "chart-towns", "chart-trend", "chart-trend-classes"}
    for chart_id, block in blocks.items():
        data = json.loads(block)
        assert data["option"]["series"] and f'id="{chart_id}"' in page
        assert "<" not in block, "tojson must escape <, so a value cannot close the block"
    assert json.loads(blocks["chart-classes"])["links"][0][0].startswith("/enterprises?year=")
    assert not [m for m in SCRIPT.finditer(page) if m.group(2).strip() and "application/json" not in m.group(1)]


# -- the API documentation: vendored Swagger UI ---------------------------------------------------------------------


def _versions() -> dict[str, str]:
    """file → sha256, from the table of static/vendor/VERSIONS.md."""
    rows = re.findall(
        r"^\| ([\w.-]+) \| [^|]+ \| [^|]+ \| ([0-9a-f]{64}) \|", (VENDOR / "VERSIONS.md").read_text(), re.M
    )
    return dict(rows)


def test_vendored_files_when_hashed_match_versions_md():
    """Every file recorded in VERSIONS.md exists with its sha256, Swagger UI's among them, with its licence."""
    recorded = _versions()
    assert {"htmx.min.js", "echarts.min.js", "swagger-ui-bundle.js", "swagger-ui.css"} <= set(recorded)
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (VENDOR / "swagger-ui.LICENSE").read_text() and (VENDOR / "swagger-ui.NOTICE").exists()
    assert "swagger-ui-dist@" in (WEB.parents[2] / "scripts" / "vendor_js.sh").read_text()


def test_api_docs_when_opened_use_local_files_only(site):
    """/api/v1/docs (no session needed) loads Swagger UI from /static/ only — no http(s) URL, no inline script — and
    its OpenAPI document is served.
    """
    c = client_for(site["platform"], None)
    r = c.get("/api/v1/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CSP
    assert not re.search(r"https?://", r.text), re.search(r"https?://\S+", r.text).group()
    assert not [m for m in SCRIPT.finditer(r.text) if m.group(2).strip()]
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert {
        "/static/vendor/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui.css",
        "/static/swagger-init.js",
    } <= set(refs)
    recorded = _versions()
    for ref in refs:
        assert ref.startswith("/static/") and c.get(ref).status_code == 200, ref
        if ref.startswith("/static/vendor/"):
            assert ref.removeprefix("/static/vendor/") in recorded, f"{ref} is not recorded in VERSIONS.md"
    assert 'data-openapi-url="/api/v1/openapi.json"' in r.text
    assert c.get("/api/v1/openapi.json").json()["info"]["title"] == "tenglong API"
    assert c.get("/docs").status_code == 404 and c.get("/docs/oauth2-redirect").status_code == 404
    init = (WEB / "static" / "swagger-init.js").read_text()
    assert "SwaggerUIBundle(" in init and "validatorUrl: null" in init
    c.close()
