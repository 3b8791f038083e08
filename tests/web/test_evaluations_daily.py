"""Evaluations fit for daily use (issue 9): publishing is confirmed first; a published run is superseded by a newer
run of its year with a reason (the old one kept, read-only and linked) and every page says which run its classes
come from; comparing a year with itself is said in the form; the compare page says why each class changed; a score
over 100 is explained on the profile; the lists sort by clicking their headers, never mixing 规上 and 规下 scores.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

import tenglong
from tenglong.adapters.db.tables import audit_log, evaluation_results, evaluation_runs, users
from tenglong.services.accounts.auth import actor_of
from tenglong.services.data.store import frame_from_db, store_frame
from tenglong.services.evaluation.runs import create_run, execute_run, publish

from .conftest import client_for, make_platform

YEAR = 2024
HTML = {"accept": "text/html"}
TEMPLATES = Path(tenglong.__file__).parent / "web" / "templates"
DEMO_ENTERPRISE = "913310821003686548"  # the enterprise account's firm: 规上, a score above 100 every year


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def daily(request, tmp_path_factory, pg_database):
    """A private demo platform (SQLite, and PostgreSQL when available) with a 2024 data year that has no run yet."""
    url = (
        f"sqlite:///{tmp_path_factory.mktemp('daily') / 'daily.db'}"
        if request.param == "sqlite"
        else pg_database("tenglong_daily")
    )
    p = make_platform(url)
    with p.uow.read() as conn:
        frame = frame_from_db(conn, [2023])
    with p.uow.write(None) as w:
        store_frame(w, frame.with_columns(frame["year"] * 0 + YEAR), None)
    return p


def _admin(p):
    with p.uow.read() as conn:
        return actor_of(conn.execute(select(users).where(users.c.username == "admin")).one())


def _finished_run(p, year: int = YEAR) -> int:
    """A run of ``year`` computed in this thread (status done)."""
    run_id = create_run(p.uow, _admin(p), year, method_title="daily use")
    execute_run(p.uow, run_id)
    return run_id


def _status(p, run_id: int) -> str:
    with p.uow.read() as conn:
        return conn.execute(select(evaluation_runs.c.status).where(evaluation_runs.c.id == run_id)).scalar_one()


def _published_of(p, year: int) -> list[int]:
    with p.uow.read() as conn:
        return list(
            conn.execute(
                select(evaluation_runs.c.id).where(
                    evaluation_runs.c.year == year, evaluation_runs.c.status == "published"
                )
            ).scalars()
        )


def _actions(p, run_id: int) -> list[tuple[str, dict]]:
    with p.uow.read() as conn:
        return [
            (a, after or {})
            for a, after in conn.execute(
                select(audit_log.c.action, audit_log.c.after)
                .where(audit_log.c.entity_type == "evaluation_run", audit_log.c.entity_id == str(run_id))
                .order_by(audit_log.c.id)
            )
        ]


# -- 1. publishing asks first ---
def test_publish_page_when_not_confirmed_shows_what_it_makes_official_and_publishes_nothing(daily):
    """The publish form asks in a dialog (data-confirm with the number of firms); a post without confirm=1 gets the
    confirmation panel (200) and the run stays unpublished; with confirm=1 it is published (303).
    """
    c = client_for(daily, "admin")
    run_id = _finished_run(daily)
    page = c.get(f"/evaluations/{run_id}", headers=HTML).text
    form = re.search(r'<form[^>]*id="publish-form"[^>]*>', page, re.S).group(0)
    assert (
        'data-confirm="发布后 2,561 家企业的 2024 年度评价结果将生效' in form and 'data-confirm-field="confirm"' in form
    )
    listed = c.get("/evaluations", headers=HTML).text
    assert 'class="inline publish-form"' in listed and "data-confirm=" in listed
    asked = c.post(f"/evaluations/{run_id}/publish", headers=HTML, follow_redirects=False)
    assert asked.status_code == 200 and 'id="publish-confirm"' in asked.text
    assert "发布后 2,561 家企业的 2024 年度评价结果将生效" in asked.text and "发布后不能撤回或修改" in asked.text
    assert 'name="confirm" value="1"' in asked.text
    assert _status(daily, run_id) == "done"
    assert c.post(f"/evaluations/{run_id}/publish", data={"confirm": "0"}, headers=HTML).status_code == 200
    assert _status(daily, run_id) == "done"
    done = c.post(f"/evaluations/{run_id}/publish", data={"confirm": "1"}, headers=HTML, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/evaluations/{run_id}"
    assert _status(daily, run_id) == "published" and _published_of(daily, YEAR) == [run_id]
    assert [a for a, _ in _actions(daily, run_id)].count("evaluation.publish") == 1


def test_publish_page_when_department_posts_is_refused_without_a_confirmation_panel(daily):
    """A role without publish gets 403, confirmed or not (the panel is offered only for a move that can be made)."""
    run_id = _finished_run(daily, 2022)
    c = client_for(daily, "department")
    for data in ({}, {"confirm": "1"}):
        r = c.post(f"/evaluations/{run_id}/publish", data=data, headers=HTML, follow_redirects=False)
        assert r.status_code == 403 and 'id="publish-confirm"' not in r.text


# -- 2. supersede ---
def test_supersede_api_when_newer_run_replaces_the_published_one_keeps_it_read_only_and_linked(daily):
    """A newer finished run supersedes the year's published run with a reason: the old one is superseded (kept, its
    results readable, linked to the new one and the reason), the new one published and linked back, one published run
    per year, both moves audited; a missing or too long reason is 422, a superseded or older run 409.
    """
    c = client_for(daily, "admin")
    old = next(iter(_published_of(daily, YEAR)), None)
    if old is None:
        old = _finished_run(daily)
        publish(daily.uow, _admin(daily), old)
    earlier, new = _finished_run(daily), _finished_run(daily)
    missing = c.post(f"/api/v1/evaluations/{new}/supersede", json={})
    assert missing.status_code == 422 and [p["where"] for p in missing.json()["problems"]] == ["reason"]
    assert missing.json()["problems"][0]["code"] == "missing_input"
    assert c.post(f"/api/v1/evaluations/{new}/supersede").status_code == 422  # no body at all
    long = c.post(f"/api/v1/evaluations/{new}/supersede", json={"reason": "数" * 501})
    assert long.status_code == 422 and long.json()["problems"][0]["code"] == "too_long"
    assert "500" in long.json()["problems"][0]["message_zh"]
    department = client_for(daily, "department")
    assert department.post(f"/api/v1/evaluations/{new}/supersede", json={"reason": "x"}).status_code == 403
    assert _status(daily, old) == "published" and _status(daily, new) == "done"
    reason = "数" * 500  # the limit itself is kept whole
    r = c.post(f"/api/v1/evaluations/{new}/supersede", json={"reason": reason})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "published" and body["supersedes"] == old and body["supersedes_reason"] == reason
    before = c.get(f"/api/v1/evaluations/{old}").json()
    assert before["status"] == "superseded" and before["superseded_by"] == new and before["supersede_reason"] == reason
    assert before["superseded_by_user"] == "admin" and before["superseded_at"].endswith("+00:00")
    assert _published_of(daily, YEAR) == [new]
    assert c.get(f"/api/v1/evaluations/{old}/results").json()["total"] == 2561
    assert c.get(f"/api/v1/evaluations/{old}/export.xlsx").status_code == 200
    after = {"status": "superseded", "year": YEAR, "superseded_by": new, "reason": reason}
    assert ("evaluation.supersede", after) in _actions(daily, old)
    assert any(a == "evaluation.publish" and x.get("supersedes") == old for a, x in _actions(daily, new))
    again = c.post(f"/api/v1/evaluations/{old}/supersede", json={"reason": "再次"})
    assert again.status_code == 409 and "已被取代" in again.json()["message"]["zh"]
    stale = c.post(f"/api/v1/evaluations/{earlier}/supersede", json={"reason": "回退"})
    assert stale.status_code == 409 and "更新的评价" in stale.json()["message"]["zh"]
    assert _published_of(daily, YEAR) == [new] and _status(daily, earlier) == "done"
    with pytest.raises(IntegrityError), daily.uow.write(None) as w:  # the database keeps one published run a year
        w.conn.execute(update(evaluation_runs).where(evaluation_runs.c.id == old).values(status="published"))


def test_supersede_when_the_year_has_no_published_run_says_publish_instead(daily):
    """Superseding needs a published run of the year; without one the answer says to publish (409)."""
    lone = _finished_run(daily, 2023)
    with daily.uow.write(None) as w:  # a finished run of a year that has no published run
        w.conn.execute(update(evaluation_runs).where(evaluation_runs.c.id == lone).values(year=2019))
    r = client_for(daily, "admin").post(f"/api/v1/evaluations/{lone}/supersede", json={"reason": "无"})
    assert r.status_code == 409 and "请直接发布" in r.json()["message"]["zh"] and _status(daily, lone) == "done"


def test_supersede_page_when_used_says_form_errors_confirms_first_and_links_both_runs(daily):
    """The run page offers 取代发布 with a reason: no reason is said in the form (422); a reason without confirm=1 gets
    the confirmation panel (nothing changes); confirmed, the old run's page says 已被取代 with a link, the reason and
    the time in Beijing time, the new one links back, the list marks both.
    """
    c = client_for(daily, "admin")
    old = _published_of(daily, 2022)[0]
    new = _finished_run(daily, 2022)
    page = c.get(f"/evaluations/{new}", headers=HTML).text
    form = re.search(r'<form[^>]*id="supersede-form"[^>]*>', page, re.S).group(0)
    assert "data-confirm=" in form and "{reason}" in form and f"原评价 #{old}" in form
    empty = c.post(f"/evaluations/{new}/supersede", data={"reason": "  "}, headers=HTML)
    assert empty.status_code == 422 and 'id="supersede-problems"' in empty.text and "取代原因" in empty.text
    asked = c.post(f"/evaluations/{new}/supersede", data={"reason": "2022 年度数据更正"}, headers=HTML)
    assert asked.status_code == 200 and 'id="supersede-confirm"' in asked.text
    assert "取代原因：2022 年度数据更正" in asked.text and 'name="reason" value="2022 年度数据更正"' in asked.text
    assert _status(daily, old) == "published" and _status(daily, new) == "done"
    done = c.post(
        f"/evaluations/{new}/supersede",
        data={"reason": "2022 年度数据更正", "confirm": "1"},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303 and _status(daily, old) == "superseded"
    was = c.get(f"/evaluations/{old}", headers=HTML).text
    banner = re.search(r'id="superseded-banner".*?</p>', was, re.S).group(0)
    assert f"被评价 #{new} 取代" in banner and "2022 年度数据更正" in banner and "（北京时间）" in banner
    assert f'href="/evaluations/{new}"' in banner and 'id="supersede-form"' not in was
    now = c.get(f"/evaluations/{new}", headers=HTML).text
    assert 'id="supersedes-link"' in now and f'href="/evaluations/{old}"' in now and "取代了评价" in now
    listed = c.get("/evaluations", headers=HTML).text
    assert f"已被 #{new} 取代" in listed and f"取代 #{old}" in listed
    town = client_for(daily, "town")
    assert town.get(f"/evaluations/{old}", headers=HTML).status_code == 200  # kept, read-only, for everyone
    assert f"已被 #{new} 取代" in town.get("/evaluations", headers=HTML).text
    en = client_for(daily, "admin")
    en.get("/lang/en")
    assert "superseded by run" in en.get(f"/evaluations/{old}", headers=HTML).text


def test_pages_when_a_run_was_superseded_say_which_run_their_classes_come_from(daily):
    """The enterprise list (page and API) and the profile (each year) name the published run they use; after a
    supersede, the new one (and the run it superseded).
    """
    c = client_for(daily, "admin")
    current = _published_of(daily, 2023)[0]
    replacement = _finished_run(daily, 2023)
    assert c.post(f"/api/v1/evaluations/{replacement}/supersede", json={"reason": "复核"}).status_code == 200
    listing = c.get("/api/v1/enterprises", params={"year": 2023}).json()
    assert listing["run"]["id"] == replacement and listing["run"]["supersedes"] == current
    page = c.get("/enterprises?year=2023", headers=HTML).text
    used = re.search(r'id="run-used".*?</p>', page, re.S).group(0)
    assert f"已发布评价 #{replacement}" in used and f"取代了评价 #{current}" in used and "北京时间" in used
    profile = client_for(daily, "enterprise").get(f"/enterprises/{DEMO_ENTERPRISE}", headers=HTML).text
    assert f'href="/evaluations/{replacement}" class="run-link"' in profile and 'id="latest-run"' in profile
    years = client_for(daily, "enterprise").get(f"/api/v1/enterprises/{DEMO_ENTERPRISE}").json()["years"]
    runs = {y["year"]: y["evaluation"]["run"]["id"] for y in years if y["evaluation"]}
    assert runs[2023] == replacement
    for sort in ("tax_per_mu", "value_added_per_mu", "class", "town", "score"):  # each database sorts the same way
        rows = c.get("/api/v1/enterprises", params={"sort": sort, "dir": "asc", "page_size": 200}).json()["items"]
        if sort in ("tax_per_mu", "value_added_per_mu"):
            values = [r["indicators"].get(sort) for r in rows if r["indicators"].get(sort) is not None]
        else:
            values = [{"class": r["mujun_class"], "town": r["town"], "score": r["mujun_score"]}[sort] for r in rows]
            values = [v for v in values if v is not None]
        assert values and values == sorted(values), sort


# -- 3. compare ---
def test_compare_page_when_same_year_twice_says_so_in_the_form(client_as):
    """Choosing one year twice gives the compare page (200) with the message in its form, not the 422 error page; the
    API answers 422 as documented.
    """
    c = client_as("department")
    r = c.get("/evaluations/compare?a=2023&b=2023", headers=HTML)
    assert r.status_code == 200 and 'id="compare-form"' in r.text and 'id="compare-problems"' in r.text
    assert "请选择两个不同的年度" in r.text and 'aria-invalid="true"' in r.text
    assert '<option value="2023" selected' in r.text and 'id="changes-table"' not in r.text
    assert c.get("/api/v1/evaluations/compare", params={"a": 2023, "b": 2023}).status_code == 422
    bad = c.get("/evaluations/compare?a=2019&b=2023", headers=HTML)
    assert bad.status_code == 200 and "2019 年度没有已发布的评价" in bad.text


def _edges_in(explanation: str) -> tuple[float, float, float]:
    """The A/B, B/C and C/D edge scores a firm's explanation states."""
    m = re.search(r"分界得分 ([\d,.]+)、([\d,.]+)、([\d,.]+)", explanation)
    return tuple(float(x.replace(",", "")) for x in m.groups())


def test_compare_when_a_class_changed_says_why_with_the_values_the_runs_used(platform, client_as):
    """Every changed firm has a reason; ranking reasons state the scores, ranks and the quota edges the explanations
    state, and a verdict consistent with them; vetoes and overrides quote the firm's explanation line.
    """
    c = client_as("admin")
    body = c.get("/api/v1/evaluations/compare", params={"a": 2022, "b": 2023, "page_size": 200}).json()
    assert body["items"] and all(i["why"] for i in body["items"])
    codes = {w["code"] for i in body["items"] for w in i["why"]}
    assert {"ranking", "veto", "override"} <= codes
    with platform.uow.read() as conn:
        run = dict(
            conn.execute(
                select(evaluation_runs.c.year, evaluation_runs.c.id).where(evaluation_runs.c.status == "published")
            ).all()
        )
        explained = {
            (r.run_id, r.credit_code): r.explanation_zh
            for r in conn.execute(
                select(
                    evaluation_results.c.run_id, evaluation_results.c.credit_code, evaluation_results.c.explanation_zh
                ).where(
                    evaluation_results.c.credit_code.in_([i["credit_code"] for i in body["items"]]),
                    evaluation_results.c.run_id.in_([run[2022], run[2023]]),
                )
            )
        }
    order = "ABCD"
    verdicts = set()
    for item in body["items"]:
        for w in item["why"]:
            if w["code"] in ("veto", "override"):
                year_run = run[w["year"]]
                assert w["line_zh"] and w["line_zh"] in explained[(year_run, item["credit_code"])].splitlines()
                assert w["line_en"]
            if w["code"] != "ranking":
                continue
            assert (w["score_before"], w["score_after"]) == (item["score_before"], item["score_after"])
            for e in w["edges"]:
                k = "ABC".index(e["boundary"][0])
                assert e["before"] == _edges_in(explained[(run[2022], item["credit_code"])])[k]
                assert e["after"] == _edges_in(explained[(run[2023], item["credit_code"])])[k]
            if w["verdict"]:
                verdicts.add(w["verdict"])
                lo, hi = sorted((order.index(w["computed_before"]), order.index(w["computed_after"])))
                assert len(w["edges"]) == hi - lo
                improved = w["computed_after"] < w["computed_before"]
                e = w["edges"][0] if improved else w["edges"][-1]  # the edge of the new class, or of the one above
                by_score = (w["score_after"] >= e["before"]) if improved else (w["score_after"] < e["before"])
                by_edge = (w["score_before"] >= e["after"]) if improved else (w["score_before"] < e["after"])
                want = "score" if by_score else "edge" if by_edge else "both"
                assert w["verdict"] == want, (item["credit_code"], w)
    assert {"score", "edge", "both"} <= verdicts
    page = c.get("/evaluations/compare?a=2022&b=2023", headers=HTML).text
    assert 'data-why="verdict"' in page and 'data-why="edge"' in page and 'data-why="veto"' in page
    assert "名额分界得分" in page and "类别变化来自" in page and "一票否决：" in page
    assert "一票否决：一票否决" not in page


# -- 4. scores over 100 ---
def test_profile_when_score_exceeds_100_explains_the_uncapped_items_with_their_values(platform, client_as):
    """A firm scoring over 100 gets, per year, why: the formula and its parameter (weights adding to 100, no cap), and
    each indicator above its benchmark with its value, benchmark, weight and score — the numbers of its evaluation.
    """
    c = client_as("enterprise")
    page = c.get(f"/enterprises/{DEMO_ENTERPRISE}", headers=HTML).text
    prof = c.get(f"/api/v1/enterprises/{DEMO_ENTERPRISE}").json()
    year = next(y for y in prof["years"] if y["year"] == 2023)["evaluation"]
    assert year["mujun_score"] > 100
    block = re.search(r'<details class="over-100" id="over-100-2023".*?</details>', page, re.S).group(0)
    assert "为什么超过 100 分" in block and "Σ 权重 × 指标值 ÷ 基准值" in block and "单项得分不设上限" in block
    assert 'href="/policy/parameters/mujun.weights_above_scale"' in block and "权重合计 100 分" in block
    weights = {"tax_per_mu": 30, "value_added_per_mu": 20, "value_added_per_energy": 20}
    listed = re.findall(r'data-indicator="(\w+)"', block)
    above = [k for k, s in year["scores"].items() if s is not None and s > {**weights}.get(k, 10)]
    assert listed and set(listed) == set(above)
    for k in listed:
        item = re.search(rf'data-indicator="{k}">(.*?)</li>', block, re.S).group(1)
        assert f"{year['scores'][k]:,.3f} 分" in item
        assert f"{year['benchmarks'][k]:,.2f}" in item or k in ("rd_intensity", "tax_per_kwh")
        ratio = year["indicators"][k] / year["benchmarks"][k]
        assert f"{ratio:.4f} 倍" in item
    assert "over-100-" in page
    low = (
        client_as("admin").get("/api/v1/enterprises", params={"sort": "score", "dir": "asc", "above_scale": "1"}).json()
    )
    lowest = low["items"][0]
    assert lowest["mujun_score"] < 100
    other = client_as("admin").get(f"/enterprises/{lowest['credit_code']}", headers=HTML).text
    assert 'id="over-100-2023"' not in other


# -- 5. click-to-sort ---
def _all(c, path: str, **params) -> list[dict]:
    first = c.get(path, params={**params, "page_size": 200}).json()
    rows = list(first["items"])
    for page in range(2, first["pages"] + 1):
        rows += c.get(path, params={**params, "page_size": 200, "page": page}).json()["items"]
    assert len(rows) == first["total"]
    return rows


@pytest.mark.parametrize("direction", ["desc", "asc"])
def test_sort_by_score_when_paged_never_mixes_above_and_below_scale(client_as, direction):
    """By score, every page keeps 规上 first and 规下 after, each group in score order (empty scores last); paging
    continues the same order.
    """
    c = client_as("admin")
    rows = _all(c, "/api/v1/enterprises", sort="score", dir=direction, year=2023)
    groups = [r["above_scale"] for r in rows]
    assert groups == sorted(groups, reverse=True) and True in groups and False in groups
    for above in (True, False):
        scores = [r["mujun_score"] for r in rows if r["above_scale"] is above]
        have = [s for s in scores if s is not None]
        assert scores[: len(have)] == have and have == sorted(have, reverse=direction == "desc")
    legacy = c.get("/api/v1/enterprises", params={"sort": "score_asc", "page_size": 5}).json()["items"]
    assert [r["credit_code"] for r in legacy] == [
        r["credit_code"] for r in _all(c, "/api/v1/enterprises", sort="score", dir="asc")[:5]
    ]


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("tax_per_mu", lambda r: r["indicators"].get("tax_per_mu")),
        ("value_added_per_mu", lambda r: r["indicators"].get("value_added_per_mu")),
        ("town", lambda r: r["town"]),
        ("class", lambda r: "ABCD".index(r["mujun_class"]) if r["mujun_class"] else None),
    ],
)
def test_sort_when_by_a_column_orders_every_page_with_empty_values_last(client_as, sort, key):
    """tax per mu, value added per mu, town (code order) and class (A–D, not evaluated last), both ways."""
    c = client_as("department")
    for direction in ("asc", "desc"):
        rows = _all(c, "/api/v1/enterprises", sort=sort, dir=direction)
        values = [key(r) for r in rows]
        have = [v for v in values if v is not None]
        assert values[: len(have)] == have and have == sorted(have, reverse=direction == "desc"), (sort, direction)
    results = c.get("/api/v1/evaluations/3/results", params={"sort": sort, "dir": "asc", "page_size": 50}).json()
    vals = [key(r) for r in results["items"] if key(r) is not None]
    assert vals == sorted(vals)


def test_sort_when_direction_is_unknown_is_refused_with_the_valid_values(client_as):
    """A bad dir or sort is 422 naming the valid values."""
    r = client_as("admin").get("/api/v1/enterprises", params={"sort": "size", "dir": "up"})
    problems = {p["where"]: p for p in r.json()["problems"]}
    assert r.status_code == 422 and set(problems) == {"sort", "dir"}
    assert "asc" in problems["dir"]["message_en"] and "tax_per_mu" in problems["sort"]["message_en"]


def _headers(html: str, table: str) -> dict[str, str]:
    head = re.search(rf'id="{table}".*?</thead>', html, re.S).group(0)
    return dict(re.findall(r'<th class="sortable[^"]*" data-sort="(\w+)"(.*?)</th>', head, re.S))


def test_list_pages_when_rendered_have_sort_links_with_units_arrows_and_aria_sort(client_as):
    """Headers of the enterprise list and of the run results link to their sort (other direction when active), keep the
    filters, go back to page 1, show ▼/▲ and aria-sort, and name their units; the pager keeps the sort.
    """
    c = client_as("admin")
    page = c.get("/enterprises?class=B&sort=tax_per_mu&dir=desc&page=2", headers=HTML).text
    heads = _headers(page, "enterprise-table")
    assert set(heads) == {"town", "score", "class", "tax_per_mu", "value_added_per_mu"}
    tax = heads["tax_per_mu"]
    assert 'aria-sort="descending"' in tax and "▼" in tax and "亩均税收（万元/亩）" in tax
    assert 'href="/enterprises?class=B&amp;sort=tax_per_mu&amp;dir=asc"' in tax
    assert (
        "aria-sort" not in heads["score"]
        and 'href="/enterprises?class=B&amp;sort=score&amp;dir=desc"' in heads["score"]
    )
    assert "综合得分（分）" in heads["score"] and "亩均增加值（万元/亩）" in heads["value_added_per_mu"]
    assert 'href="/enterprises?class=B&amp;sort=town&amp;dir=asc"' in heads["town"]
    pager = re.search(r'<nav class="pager".*?</nav>', page, re.S).group(0)
    assert "sort=tax_per_mu" in pager and "dir=desc" in pager and "page=3" in pager and "page=1" in pager
    up = c.get("/enterprises?sort=class&dir=asc", headers=HTML).text
    assert (
        'aria-sort="ascending"' in _headers(up, "enterprise-table")["class"]
        and "▲" in _headers(up, "enterprise-table")["class"]
    )
    grouped = c.get("/enterprises", headers=HTML).text
    assert 'data-group-start="above_scale"' in grouped and "规上企业" in grouped  # the page starts with 规上 firms
    last_page = c.get("/enterprises?page=52", headers=HTML).text  # 2,561 firms, 50 a page: 规上 end on page 11
    switch = c.get("/enterprises?page=11", headers=HTML).text
    assert switch.count("data-group-start=") == 2  # each page marks where it starts, and the switch to 规下
    assert switch.index('data-group-start="above_scale"') < switch.index('data-group-start="below_scale"')
    assert 'data-above="1"' not in last_page and 'data-group-start="below_scale"' in last_page
    assert 'data-above="1"' not in switch.split('data-group-start="below_scale"')[1]
    assert 'id="sort-note"' in grouped and "不混合排序" in grouped
    run = c.get("/evaluations/3?sort=value_added_per_mu&dir=asc&town=331082112", headers=HTML).text
    rh = _headers(run, "results-table")
    assert 'aria-sort="ascending"' in rh["value_added_per_mu"]
    assert 'href="/evaluations/3?town=331082112&amp;sort=value_added_per_mu&amp;dir=desc"' in rh["value_added_per_mu"]
    fragment = c.get("/evaluations/3/results?sort=score&dir=asc", headers=HTML).text
    assert 'href="/evaluations/3?sort=score&amp;dir=desc"' in _headers(fragment, "results-table")["score"]
    assert '<option value="asc" selected' in c.get("/evaluations/3?sort=town&dir=asc", headers=HTML).text


# -- the pages speak through the catalogue ---
@pytest.mark.parametrize("folder", ["evaluations", "enterprises"])
def test_templates_when_scanned_have_no_han_outside_t_calls(folder):
    """Every Chinese word in the evaluation and enterprise templates comes from the catalogue or from data."""
    for path in (TEMPLATES / folder).glob("*.html"):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        assert not re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", text), path
