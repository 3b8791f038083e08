"""季擂台 / 年评优 on the demo county: each indicator equals the data computed another way, and the A.4.3 candidate
rules hold on both sides of their thresholds."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest
from sqlalchemy import func, insert, select

from tenglong.adapters.db.tables import enterprises, evaluation_results, projects, register_entries, users
from tenglong.core.errors import InvalidInput
from tenglong.core.targets import figure
from tenglong.services.accounts.auth import actor_of
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.campaign.common import CHINA, KINDS, E
from tenglong.services.enterprises.directory import published_runs
from tenglong.services.kernel.uow import now
from tenglong.services.reports import awards, contest, progress
from tenglong.services.reports.bulletin import OUT_STATES

from ..web.conftest import make_platform

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("contest")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'contest.db'}"
    else:
        url = request.getfixturevalue("pg_database")("tenglong_contest")
    p = make_platform(url, upload_dir=str(tmp / "uploads"), attachment_dir=str(tmp / "files"))
    with p.uow.read() as conn:
        actors = {r.username: actor_of(r) for r in conn.execute(select(users))}
    today = dt.datetime.now(CHINA).date()
    yield SimpleNamespace(p=p, a=actors, quarter=f"{today.year}Q{(today.month + 2) // 3}", today=today)
    p.engine.dispose()


def _cell(c: contest.Contest, town: str, key: str):
    return next(s for s in c.standings if s["code"] == town)["cells"][key]["value"]


def test_closure_when_every_move_was_in_the_quarter_equals_the_registers_as_they_stand(site):
    """The demo works its registers today: rebuilt from the audit log, the quarter's closure equals the loops of
    the A.3 registers as they stand — opened (not a proposal, not a way out) and closed (a good ending)."""
    c = contest.quarterly(site.p.uow, site.a["admin"], site.quarter)
    kinds = {k.key: k for k in contest.closure_kinds()}
    assert set(kinds) == {"high_consumption_low_efficiency", "two_high_project", "low_scattered_disorderly",
                          "core_technology", "zero_land"}  # fmt: skip
    with site.p.uow.read() as conn:
        rows = conn.execute(select(E.kind, E.status, E.town).where(E.kind.in_(list(kinds)))).all()
    base, closed = Counter(), Counter()
    for kind, status, town in rows:
        k = kinds[kind]
        if status == k.proposal_state or status in OUT_STATES:
            continue
        base[town] += 1
        closed[town] += k.workflow.states[status].terminal
    assert base[DEMO_TOWN] >= 10 and closed[DEMO_TOWN] >= 1
    for s in c.standings:
        expected = Fraction(closed[s["code"]], base[s["code"]]) if base[s["code"]] else None
        assert s["cells"]["closure"]["value"] == expected, s["zh"]
    duqiao = next(s for s in c.standings if s["code"] == DEMO_TOWN)
    assert f"（{closed[DEMO_TOWN]}/{base[DEMO_TOWN]}）" in duqiao["cells"]["closure"]["shown"]


def test_quarter_when_before_the_registers_has_no_closure_and_counts_the_starts_of_its_days(site):
    c = contest.quarterly(site.p.uow, site.a["town"], "2023Q2")
    assert (c.first, c.last, c.number) == (dt.date(2023, 4, 1), dt.date(2023, 6, 30), "2023年第2期")
    assert all(s["cells"]["closure"]["value"] is None for s in c.standings)
    with site.p.uow.read() as conn:
        found = conn.execute(select(projects.c.lifecycle, enterprises.c.town).join(enterprises)).all()
    starts = Counter(
        t for lc, t in found if "2023-04-01" <= str((lc or {}).get("started_on") or "")[:10] <= "2023-06-30"
    )
    assert sum(starts.values()) >= 1
    assert {s["code"]: int(s["cells"]["starts"]["value"]) for s in c.standings if starts[s["code"]]} == dict(starts)
    assert len(c.standings) == 21 and [s["rank"] for s in c.standings] == sorted(s["rank"] for s in c.standings)


def test_mujun_when_two_years_are_published_is_each_towns_growth_of_tax_per_mu(site):
    c = contest.quarterly(site.p.uow, site.a["admin"], "2023Q4")
    r = evaluation_results.c
    with site.p.uow.read() as conn:
        runs = published_runs(conn)
        sums = {
            (int(x.run_id), x.town): {"tax_paid": x.tax, "land_area_mu": x.land}
            for x in conn.execute(
                select(r.run_id, r.town, func.sum(r.tax_paid).label("tax"), func.sum(r.land_area_mu).label("land"))
                .where(r.above_scale.is_(True), r.evaluated.is_(True))
                .group_by(r.run_id, r.town)
            )
        }
    for s in c.standings:
        new = figure("tax_per_mu", sums[(runs[2023], s["code"])])
        old = figure("tax_per_mu", sums[(runs[2022], s["code"])])
        assert s["cells"]["mujun"]["value"] == new / old - 1
    assert "2022→2023" in next(i for i in c.indicators if i["key"] == "mujun")["how_zh"]


def test_targets_indicator_when_compared_with_the_targets_page_counts_the_towns_met_targets(site):
    c = contest.annual(site.p.uow, site.a["admin"], "2023")
    for town in (DEMO_TOWN, "TZWJK"):
        rows = progress.progress(site.p.uow, site.a["admin"], 2023, town)
        assessed = [x["met"] for x in rows if x["met"] is not None]
        assert _cell(c, town, "targets") == Fraction(sum(assessed), len(assessed))


@pytest.mark.parametrize(("text", "annual"), [("2023Q5", False), ("2023-2", False), ("23", True), ("", True)])
def test_period_when_malformed_is_refused_with_an_example(text, annual):
    with pytest.raises(InvalidInput) as caught:
        contest.period_of(text, annual)
    assert caught.value.problems[0].example == ("2023" if annual else "2023Q2")


def _rules(year: int, **values):
    rules = awards._rules(year)
    for name, value in values.items():
        rules[name] = dataclasses.replace(rules[name], dates=(dt.date(2000, 1, 1),), values=(value,))
    return rules


def test_zero_land_demo_when_at_the_investment_bar_is_a_candidate_and_a_cent_more_is_not(site):
    """The demo's kept commitment: a zero-land project of 15,000,000 元 completed 2024-05-30, its firm class B in
    2023 — the 2024 candidate (proposed and selected by the demo). The bar is 以上: equal is in."""
    with site.p.uow.read() as conn:
        data_year, run_id, _ = awards._runs(conn, 2024)
        classes = awards._classes(conn, run_id)
        found = awards._zero_land(conn, 2024, _rules(2024, zero_land_demo_investment=Decimal(15000000)), classes, set())
        assert [c["investment"] for c in found] == [Decimal(15000000)] and data_year == 2023
        code = found[0]["credit_code"]
        bar = Decimal("15000000.01")
        assert awards._zero_land(conn, 2024, _rules(2024, zero_land_demo_investment=bar), classes, set()) == []
        only_a = {"A": True, "B": False, "C": False, "D": False}
        assert awards._zero_land(conn, 2024, _rules(2024, award_classes=only_a), classes, set()) == []
        assert awards._zero_land(conn, 2024, awards._rules(2024), classes, {code}) == []  # 严重失信: never
        assert awards._zero_land(conn, 2023, awards._rules(2023), classes, set()) == []  # not completed in 2023
    listed = awards.candidates(site.p.uow, 2024)
    assert [(c["category"], c["credit_code"], c["status"]) for c in listed] == [("zero_land_demo", code, "selected")]
    assert "15000000" not in listed[0]["why_zh"] and "1,500.00 万元" in listed[0]["why_zh"]
    assert awards.propose_candidates(site.p.uow, 2024) == {"zero_land_demo": 0, "rectified_example": 0}


def test_rectified_example_when_closed_off_this_year_with_growth_at_the_bar_is_proposed(site):
    """A class-B firm of the demo town whose tax per mu grew from 2022 to 2023, its 高耗低效 entry closed off
    today: a candidate when the bar equals its growth exactly (以上), not when the bar is above it; a shutdown
    would not count. Proposed once, with the values used."""
    r = evaluation_results.c
    with site.p.uow.read() as conn:
        runs = published_runs(conn)
        rows = {
            y: {
                x.credit_code: x
                for x in conn.execute(
                    select(r.credit_code, r.mujun_class, r.tax_paid, r.land_area_mu, r.evaluated).where(
                        r.run_id == runs[y], r.town == DEMO_TOWN, r.above_scale.is_(True)
                    )
                )
            }
            for y in (2022, 2023)
        }
        taken = set(conn.execute(select(E.credit_code).where(E.kind == "high_consumption_low_efficiency")).scalars())
    growth = {
        code: (Fraction(x.tax_paid) / Fraction(x.land_area_mu)) / (Fraction(o.tax_paid) / Fraction(o.land_area_mu)) - 1
        for code, x in rows[2023].items()
        if (o := rows[2022].get(code)) is not None and x.mujun_class == "B" and x.evaluated and code not in taken
        and x.land_area_mu and o.land_area_mu and o.tax_paid
    }  # fmt: skip
    code, g = max(growth.items(), key=lambda kv: kv[1])
    assert g > 0
    kind = KINDS["high_consumption_low_efficiency"]
    with site.p.uow.write(site.a["admin"]) as w:
        entry = w.conn.execute(
            insert(register_entries).values(
                kind=kind.key, credit_code=code, town=DEMO_TOWN, status="accepting", opened=site.today,
                fields={}, basis={"source": "manual", "reason": "test"}, created_at=now(), updated_at=now(),
            )
        ).inserted_primary_key[0]  # fmt: skip
        w.move(register_entries, entry, "accepting", kind.workflow.move("close_off", "accepting"), after={})
    year = site.today.year
    with site.p.uow.read() as conn:
        now_, before = awards._classes(conn, runs[2023]), awards._classes(conn, runs[2022])
        exact = Decimal(g.numerator) / Decimal(g.denominator)
        at_bar = awards._rectified(conn, year, _rules(year, rectified_tax_growth=Fraction(g)), now_, before, set())
        assert [c["credit_code"] for c in at_bar] == [code]
        above = exact + Decimal("0.000001")
        assert awards._rectified(conn, year, _rules(year, rectified_tax_growth=above), now_, before, set()) == []
        assert awards._rectified(conn, year - 1, awards._rules(year), now_, before, set()) == []  # closed this year
    assert g >= Fraction(1, 10), g  # the demo has such a firm: the real bar (10%) proposes it
    assert awards.propose_candidates(site.p.uow, year)["rectified_example"] == 1
    assert awards.propose_candidates(site.p.uow, year)["rectified_example"] == 0
    mine = [c for c in awards.candidates(site.p.uow, year) if c["category"] == "rectified_example"]
    assert [(c["credit_code"], c["status"]) for c in mine] == [(code, "proposed")]
    assert "达标销号" in mine[0]["why_zh"] and "万元/亩" in mine[0]["why_zh"]
