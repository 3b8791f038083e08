"""Evaluation runs: who sees and does what, a run started through the API end to end, publishing once, compare,
export.
"""

from __future__ import annotations

import io
import time

import openpyxl
import pytest
from sqlalchemy import func, select

from tenglong.adapters.db.tables import audit_log, enterprise_years, evaluation_results, evaluation_runs, users
from tenglong.services.accounts.auth import actor_of
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.data.store import frame_from_db, store_frame
from tenglong.services.evaluation.runs import create_run, execute_run

from .conftest import ROLES, client_for, make_platform

READ_ALL = ("admin", "department", "auditor")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def own_platform(request, tmp_path_factory, pg_database):
    """A private demo platform (SQLite, and PostgreSQL when available) with a 2024 data year that has no run yet."""
    url = (
        f"sqlite:///{tmp_path_factory.mktemp('runs') / 'runs.db'}"
        if request.param == "sqlite"
        else pg_database("tenglong_runs")
    )
    p = make_platform(url)
    with p.uow.read() as conn:
        frame = frame_from_db(conn, [2023])
    with p.uow.write(None) as w:
        store_frame(w, frame.with_columns(frame["year"] * 0 + 2024), None)
    return p


def _admin(p):
    with p.uow.read() as conn:
        return actor_of(conn.execute(select(users).where(users.c.username == "admin")).one())


def _wait(c, run_id: int, seconds: float = 90) -> dict:
    """Poll the run until it leaves queued/running."""
    deadline = time.monotonic() + seconds
    while True:
        body = c.get(f"/api/v1/evaluations/{run_id}").json()
        if body["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_run_when_started_through_api_finishes_publishes_once_and_stores_every_enterprise_year(own_platform):
    """POST starts a background run (202); polling sees it finish with one result per enterprise-year; publish works
    once, then 409.
    """
    c = client_for(own_platform, "admin")
    r = c.post("/api/v1/evaluations", json={"year": 2024})
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running", "done") and r.json()["year"] == 2024
    run_id = r.json()["id"]
    done = _wait(c, run_id)
    assert (
        done["status"] == "done"
        and done["progress"] == 1.0
        and done["summary"]["county"]["tax_per_mu"]["target"] == 20.3
    )
    with own_platform.uow.read() as conn:
        stored = conn.execute(
            select(func.count()).select_from(evaluation_results).where(evaluation_results.c.run_id == run_id)
        ).scalar_one()
        data = conn.execute(
            select(func.count()).select_from(enterprise_years).where(enterprise_years.c.year == 2024)
        ).scalar_one()
    assert stored == data == c.get(f"/api/v1/evaluations/{run_id}/results").json()["total"] > 2000
    assert 'id="publish-form"' in c.get(f"/evaluations/{run_id}").text
    published = c.post(f"/api/v1/evaluations/{run_id}/publish")
    assert (
        published.status_code == 200
        and published.json()["status"] == "published"
        and published.json()["published_by"] == "admin"
    )
    again = c.post(f"/api/v1/evaluations/{run_id}/publish")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    second = c.post("/api/v1/evaluations", json={"year": 2024}).json()["id"]
    assert _wait(c, second)["status"] == "done"
    refused = c.post(f"/api/v1/evaluations/{second}/publish")
    assert refused.status_code == 409 and "2024" in refused.json()["message"]["en"]
    with own_platform.uow.read() as conn:
        audits = (
            conn.execute(
                select(audit_log.c.action).where(
                    audit_log.c.entity_type == "evaluation_run", audit_log.c.entity_id == str(run_id)
                )
            )
            .scalars()
            .all()
        )
    assert audits.count("evaluation.publish") == 1 and "evaluation.start" in audits
    assert client_for(own_platform, "town").get("/api/v1/dashboard").json()["year"] == 2024


def test_runs_when_unpublished_are_hidden_from_town_and_enterprise(own_platform):
    """An unpublished run: admin, department, auditor read it; town and enterprise get 404; only admin may act on it."""
    run_id = create_run(own_platform.uow, _admin(own_platform), 2023, method_title="t")
    execute_run(own_platform.uow, run_id)
    for role in ROLES:
        c = client_for(own_platform, role)
        listed = {r["id"] for r in c.get("/api/v1/evaluations").json()}
        urls = (
            f"/api/v1/evaluations/{run_id}",
            f"/api/v1/evaluations/{run_id}/results",
            f"/api/v1/evaluations/{run_id}/export.xlsx",
            f"/evaluations/{run_id}",
        )
        if role in READ_ALL:
            assert run_id in listed and all(c.get(u).status_code == 200 for u in urls), role
        else:
            assert run_id not in listed and all(c.get(u).status_code == 404 for u in urls), role
        publish = c.post(f"/api/v1/evaluations/{run_id}/publish")
        assert publish.status_code == {"admin": 409, "department": 403, "auditor": 403}.get(role, 404), role
        if role != "admin":
            assert c.post("/api/v1/evaluations", json={"year": 2023}).status_code == 403
            assert c.post("/evaluations", data={"year": "2023"}).status_code == 403


def test_start_when_method_invalid_reports_every_problem_and_starts_nothing(own_platform):
    """A method with an unknown parameter and a bad value is refused with both problems (API 422, page 422 with the
    list).
    """
    c = client_for(own_platform, "admin")
    with own_platform.uow.read() as conn:
        before = conn.execute(select(func.count()).select_from(evaluation_runs)).scalar_one()
    r = c.post(
        "/api/v1/evaluations",
        json={"year": 2023, "method": {"changes": {"mujun.nope": 1, "mujun.score_decimals": "x"}}},
    )
    assert r.status_code == 422 and {p["where"] for p in r.json()["problems"]} == {"mujun.nope", "mujun.score_decimals"}
    bad = b"title: t\nchanges:\n  mujun.quotas_above_scale: {A: 0.25, E: 0.1}\n"
    page = c.post("/evaluations", data={"year": "2023"}, files={"method": ("m.yaml", bad, "text/yaml")})
    assert page.status_code == 422 and 'id="method-problems"' in page.text and "mujun.quotas_above_scale.E" in page.text
    broken = c.post("/evaluations", data={"year": "2023"}, files={"method": ("m.yaml", b"changes: [", "text/yaml")})
    assert broken.status_code == 422 and "m.yaml:1:" in broken.text
    assert c.post("/api/v1/evaluations", json={"year": 1999}).status_code == 422
    with own_platform.uow.read() as conn:
        assert conn.execute(select(func.count()).select_from(evaluation_runs)).scalar_one() == before


def test_start_page_when_method_uploaded_redirects_to_a_polling_progress_bar(own_platform):
    """The form starts a run with the uploaded method and shows its progress; the bar polls every second until the run
    ends.
    """
    c = client_for(own_platform, "admin")
    method = (
        "title: 规上比例调整\nchanges:\n  mujun.quotas_above_scale: {A: 0.25, B: 0.55, C: 0.15, D: 0.05}\n".encode()
    )
    r = c.post(
        "/evaluations",
        data={"year": "2023"},
        files={"method": ("method.yaml", method, "text/yaml")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/evaluations/")
    run_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert _wait(c, run_id)["status"] == "done"
    run = c.get(f"/api/v1/evaluations/{run_id}").json()
    assert run["method_title"] == "规上比例调整" and run["method_changes"]["mujun.quotas_above_scale"]["A"] == 0.25
    assert run["summary"]["quota_counts"]["above_scale"]["A"] > 120  # 25 % instead of 20 %
    review = c.get(f"/evaluations/{run_id}").text
    assert 'id="publish-form"' not in review and 'id="year-published"' in review  # 2023 is already published
    queued = create_run(own_platform.uow, _admin(own_platform), 2023)
    bar = c.get(f"/evaluations/{queued}/progress?reload=1")
    assert (
        'hx-trigger="every 1s"' in bar.text and 'data-status="queued"' in bar.text and "HX-Refresh" not in bar.headers
    )
    assert 'hx-trigger="every 1s"' in c.get(f"/evaluations/{queued}").text
    execute_run(own_platform.uow, queued)
    finished = c.get(f"/evaluations/{queued}/progress?reload=1")
    assert (
        "hx-trigger" not in finished.text
        and finished.headers["HX-Refresh"] == "true"
        and 'data-status="done"' in finished.text
    )


@pytest.mark.parametrize("role", ROLES)
def test_published_run_when_each_role_reads_results_are_scoped(platform, client_as, role):
    """Every role reads the published runs; results and export hold only the firms the role may see; only admin may
    start or publish.
    """
    c = client_as(role)
    assert [r["year"] for r in c.get("/api/v1/evaluations").json() if r["status"] == "published"] == [2023, 2022, 2021]
    with platform.uow.read() as conn:
        run_id = conn.execute(
            select(evaluation_runs.c.id).where(evaluation_runs.c.year == 2023, evaluation_runs.c.status == "published")
        ).scalar_one()
    body = c.get(f"/api/v1/evaluations/{run_id}/results", params={"page_size": 200}).json()
    if role == "town":
        assert {i["town"] for i in body["items"]} == {DEMO_TOWN}
    if role == "enterprise":
        assert body["total"] == 1 and body["items"][0]["explanation_zh"]
    page = c.get(f"/evaluations/{run_id}", headers={"accept": "text/html"})
    assert page.status_code == 200 and 'id="run-targets"' in page.text and ('id="publish-form"' not in page.text)
    if role != "admin":
        assert c.post(f"/api/v1/evaluations/{run_id}/publish").status_code == 403
        assert c.post("/api/v1/evaluations", json={"year": 2023}).status_code == 403
    else:
        assert c.post(f"/api/v1/evaluations/{run_id}/publish").status_code == 409
    wb = openpyxl.load_workbook(io.BytesIO(c.get(f"/api/v1/evaluations/{run_id}/export.xlsx").content))
    assert wb["评价结果"].max_row - 1 == body["total"]


def test_export_when_opened_has_summary_chart_frozen_header_and_explanations(platform, client_as):
    """The run workbook: 汇总 with a native chart and the targets, 评价结果 with a frozen Chinese header and every
    explanation.
    """
    c = client_as("auditor")
    r = c.get("/evaluations/3/export.xlsx")
    assert r.status_code == 200 and "evaluation-2023" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["汇总", "评价结果"]
    summary, results = wb["汇总"], wb["评价结果"]
    assert len(summary._charts) == 1 and summary["A1"].value == "临海市 2023 年度亩均效益综合评价结果"
    cells = [str(v) for row in summary.iter_rows(values_only=True) for v in row if v is not None]
    assert "亩均税收" in cells and "否" in cells and "是" in cells
    headers = [cell.value for cell in results[1]]
    assert results.freeze_panes == "A2" and headers[0] == "统一社会信用代码" and headers[-1] == "评价说明"
    with platform.uow.read() as conn:
        n = conn.execute(
            select(func.count()).select_from(evaluation_results).where(evaluation_results.c.run_id == 3)
        ).scalar_one()
    assert results.max_row - 1 == n
    assert str(results.cell(2, len(headers)).value).startswith("2023 年度数据")


def test_compare_when_two_years_lists_class_changes_up_and_down(client_as):
    """Comparing 2022 with 2023 counts the firms that moved up and down, lists them (filterable) and scopes them to the
    town.
    """
    c = client_as("department")
    body = c.get("/api/v1/evaluations/compare", params={"a": 2022, "b": 2023, "page_size": 200}).json()
    assert (
        body["before"]["year"] == 2022
        and body["after"]["year"] == 2023
        and body["total"] == body["up"] + body["down"] > 0
    )
    order = "ABCD"
    for item in body["items"]:
        assert item["class_before"] != item["class_after"]
        assert item["direction"] == (
            "up" if order.index(item["class_after"]) < order.index(item["class_before"]) else "down"
        )
    down = c.get("/api/v1/evaluations/compare", params={"direction": "down"}).json()
    assert down["total"] == body["down"] and {i["direction"] for i in down["items"]} == {"down"}
    town = client_as("town").get("/api/v1/evaluations/compare", params={"page_size": 200}).json()
    assert town["total"] < body["total"] and {i["town"] for i in town["items"]} <= {DEMO_TOWN}
    page = client_as("town").get("/evaluations/compare?a=2022&b=2023&direction=up", headers={"accept": "text/html"})
    assert page.status_code == 200 and 'data-direction="up"' in page.text and 'data-direction="down"' not in page.text
    assert c.get("/api/v1/evaluations/compare", params={"a": 2023, "b": 2023}).status_code == 422
