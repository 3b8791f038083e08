"""Commitments and clawback (A.4.2) on the platform, SQLite and PostgreSQL: a commitment recorded for a project
with paid support, checked against its life cycle and the data at the date boundaries, the default found by a
person (the clawback demanded in the ledger, itemised by decision and clause, to the 分; the enterprise proposed
for the 严重失信名单), the repayments tracked from demanded through partly recovered to recovered, and a listed
enterprise flagged."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update

from tenglong.adapters.db.tables import (
    audit_log,
    enterprise_years,
    enterprises,
    evaluation_results,
    evaluation_runs,
    ledger_entries,
    projects,
)
from tenglong.adapters.db.tables import register_entries as entries_table
from tenglong.core.errors import Conflict, InvalidInput
from tenglong.registers.commitments import check_commitment
from tenglong.services import attachments
from tenglong.services.campaign import commitments, entries, views
from tenglong.services.enterprises import projects as project_service
from tenglong.services.subsidies import applications as subsidies
from tenglong.services.subsidies import ledger

from .conftest import client_for
from .test_ledger import _actor

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
# A zero-new-land renovation: 2.10 major (10% of 6,000,000.07 of equipment = 600,000.01 after half-up) and 2.11.
PROJECT = {
    "total_investment": 15000000,
    "equipment_investment": Decimal("6000000.07"),
    "zero_land_renovation": True,
    "self_owned_and_used": True,
    "land_area": 20000,
    "plot_ratio_before": Decimal("1.0"),
    "plot_ratio_after": Decimal("1.6"),
    "renovated_floor_area": 12000,
    "total_floor_area_after": 32000,
}
COMMITTED = {
    "legal_representative": "王某某",
    "investment": "15000000.00",
    "land_area_mu": "30",
    "investment_intensity": "50",
    "tax_per_mu": "20",
    "start_by": "2023-06-30",
    "complete_by": "2024-06-30",
    "full_production_by": "2024-12-31",
}


def _firm(p, tag: str) -> str:
    """A demo firm of 杜桥镇 of class A or B in the latest published evaluation (so 2.11 applies) that nothing has
    touched yet (no project, not listed; each test gives its firm one or the other, so each call finds a new one)."""
    r = evaluation_results.c
    with p.uow.read() as conn:
        run = (
            conn.execute(
                select(evaluation_runs.c.id)
                .where(evaluation_runs.c.status == "published")
                .order_by(evaluation_runs.c.year)
            )
            .scalars()
            .all()[-1]
        )
        found = (
            conn.execute(
                select(r.credit_code)
                .join(enterprises, enterprises.c.credit_code == r.credit_code)
                .where(r.run_id == run, r.mujun_class.in_(("A", "B")), enterprises.c.town == "331082112")
                # untouched by the demo and by the other tests: no project, not on the 严重失信名单
                .where(r.credit_code.not_in(select(projects.c.credit_code)))
                .where(
                    r.credit_code.not_in(
                        select(entries_table.c.credit_code).where(entries_table.c.kind == "dishonesty")
                    )
                )
                .order_by(r.credit_code.desc())
            )
            .scalars()
            .all()
        )
    return found[0]


def _paid(p, code: str) -> tuple[int, list[int]]:
    """A project of ``code`` with its 2.10 and 2.11 applications approved and paid; the project and applications."""
    admin = _actor(p)
    pid = project_service.create_project(p.uow, admin, code, "承诺测试项目", "2023-03-01", PROJECT)
    aids = []
    for clause in ("2.10", "2.11"):
        aid = subsidies.create_application(p.uow, admin, pid, clause)
        for action in ("submit", "start_review", "approve"):
            subsidies.act(p.uow, admin, aid, action, note="同意")
        subsidies.act(p.uow, admin, aid, "pay", reference=f"LHCZ-{aid}")
        aids.append(aid)
    return pid, aids


def _commitment(p, code: str, pid: int, fields: dict | None = None) -> int:
    """The commitment proposed on the approval, recorded by the town with ``fields``."""
    with p.uow.read() as conn:
        entry_id = conn.execute(
            select(entries_table.c.id).where(entries_table.c.kind == "commitment", entries_table.c.project_id == pid)
        ).scalar_one()
    given = {"category": "support", "note": "企业承诺书"}
    entries.move(p.uow, _actor(p, "admin"), entry_id, "record", given, fields=fields or COMMITTED)
    return entry_id


def _upload(p, entry_id: int, evidence: str, kind: str = "commitment") -> None:
    attachments.upload(p, _actor(p), kind, entry_id, evidence, f"{evidence}.pdf", io.BytesIO(PDF))


def _paid_sum(p, code: str) -> Decimal:
    with p.uow.read() as conn:
        return ledger.balances(conn, code)["paid"]


def test_approval_when_made_proposes_recording_the_commitment_of_the_project(any_platform):
    """An approved application proposes its project for the commitments register once, stating why."""
    p = any_platform
    code = _firm(p, "propose")
    pid, aids = _paid(p, code)
    with p.uow.read() as conn:
        found = conn.execute(
            select(entries_table).where(entries_table.c.kind == "commitment", entries_table.c.project_id == pid)
        ).all()
    assert len(found) == 1 and found[0].status == "proposed"
    assert found[0].basis["application_id"] == aids[0] and "已批准" in found[0].basis["why_zh"]
    assert found[0].fields == {"investment": "15000000.00"} and found[0].category == "support"
    assert commitments.propose_for_approved(p.uow) == 0


def test_record_when_fields_are_missing_lists_every_one(any_platform):
    p = any_platform
    code = _firm(p, "missing")
    pid, _ = _paid(p, code)
    with p.uow.read() as conn:
        entry_id = conn.execute(
            select(entries_table.c.id).where(entries_table.c.kind == "commitment", entries_table.c.project_id == pid)
        ).scalar_one()
    with pytest.raises(InvalidInput) as caught:
        entries.move(p.uow, _actor(p), entry_id, "record", {}, fields={"start_by": "2023-13-01"})
    where = {x.where for x in caught.value.problems}
    assert {"fields.legal_representative", "fields.start_by", "fields.complete_by"} <= where


@pytest.mark.parametrize(
    ("today", "started", "verdict"),
    [
        (dt.date(2023, 6, 30), None, None),  # the committed start day itself: not yet late
        (dt.date(2023, 7, 1), None, False),  # the day after: late
        (dt.date(2023, 7, 1), "2023-06-30", None),  # started on the day: kept (the rest unknown)
        (dt.date(2023, 7, 2), "2023-07-01", False),  # started a day late
    ],
)
def test_check_when_the_start_date_is_at_its_boundary_is_exact(today, started, verdict):
    lifecycle = {"started_on": started} if started else {}
    assert check_commitment(COMMITTED, lifecycle, None, today)[0] is verdict


def test_check_when_tax_per_mu_equals_the_commitment_is_kept_and_a_fen_less_is_not():
    """不少于 20 万元/亩 at full production (the 2025 data): 600万 on 30 亩 is kept, 5,999,999.99 is not."""
    life = {
        "started_on": "2023-06-01",
        "completed_on": "2024-06-01",
        "producing_on": "2024-12-01",
        "actual_investment": "15000000.00",
    }
    year = {"year": 2025, "tax_paid": Decimal("6000000.00"), "land_area_mu": Decimal("30")}
    verdict, checks = check_commitment(COMMITTED, life, year, dt.date(2026, 3, 1))
    assert verdict is True and [c.met for c in checks] == [True] * 6
    short = {**year, "tax_paid": Decimal("5999999.99")}
    verdict, checks = check_commitment(COMMITTED, life, short, dt.date(2026, 3, 1))
    assert verdict is False
    line = next(c for c in checks if c.key == "tax_per_mu").describe("zh")
    assert "承诺不少于 20 万元/亩" in line and "2025 年度数据" in line and "未履行" in line
    energy = {**COMMITTED, "energy_per_value_added": "0.5"}
    at = {**year, "energy_tce": 500.0, "value_added": Decimal("10000000.00")}  # 500 tce on 1000万元: 0.5
    assert next(c for c in check_commitment(energy, life, at, dt.date(2026, 3, 1))[1] if c.key.startswith("energy")).met
    over = {**at, "energy_tce": 500.01}
    checks = check_commitment(energy, life, over, dt.date(2026, 3, 1))[1]
    assert next(c for c in checks if c.key.startswith("energy")).met is False


def test_default_when_found_claws_back_the_2_10_and_2_11_payments_to_the_fen_and_proposes_the_listing(any_platform):
    """The check after the start date flags the default; a person finds it with the evidence: one clawback row per
    paid decision and clause, summing exactly what was paid; the firm and its legal representative are proposed
    for the 严重失信名单; repayments move it to 部分追回 then 已全额追回, each a ledger row."""
    p = any_platform
    code = _firm(p, "default")
    pid, aids = _paid(p, code)
    entry_id = _commitment(p, code, pid)
    paid = _paid_sum(p, code)
    assert paid > Decimal("600000.00")  # 2.10 and 2.11 both paid
    assert commitments.check_all(p.uow, dt.date(2023, 6, 30))["default"] == 0
    assert commitments.check_all(p.uow, dt.date(2023, 7, 1))["default"] >= 1
    shown = views.entry(p.uow, _actor(p), entry_id, dt.date(2023, 7, 1))
    assert shown["suggestion"]["action"] == "find_default"
    assert Decimal(shown["suggestion"]["clawback_total"]) == paid
    admin = _actor(p)
    finding = {"opinion": "逾期未开工，经约谈仍未整改", "repay_by": "2023-09-30"}
    with pytest.raises(InvalidInput):  # the evidence first
        entries.move(p.uow, admin, entry_id, "find_default", finding, day=dt.date(2023, 7, 1))
    _upload(p, entry_id, "default_finding")
    entries.move(p.uow, admin, entry_id, "find_default", finding, day=dt.date(2023, 7, 1))
    with p.uow.read() as conn:
        rows = conn.execute(
            select(ledger_entries).where(ledger_entries.c.kind == "clawback", ledger_entries.c.credit_code == code)
        ).all()
        owed = commitments.account(conn, entry_id)
        listed = conn.execute(
            select(entries_table).where(entries_table.c.kind == "dishonesty", entries_table.c.credit_code == code)
        ).one()
    assert {(r.application_id, r.clause) for r in rows} == {(aids[0], "2.10"), (aids[1], "2.11")}
    assert sum(r.amount for r in rows) == paid == owed["demanded"] == owed["outstanding"]
    assert {r.source_type for r in rows} == {"commitment"} and {r.source_id for r in rows} == {str(entry_id)}
    assert listed.status == "proposed" and listed.fields["legal_representative"] == "王某某"
    assert listed.fields["clawback_total"] == str(paid) and listed.basis["commitment_entry"] == entry_id
    # Repayments: a settling amount may not be recorded as partial, and more than is owed is refused.
    with pytest.raises(Conflict):
        entries.move(p.uow, admin, entry_id, "recover_part", {"amount": str(paid), "reference": "HK-1"})
    with pytest.raises(InvalidInput):
        entries.move(p.uow, admin, entry_id, "recover_all", {"amount": str(paid + Decimal("0.01")), "reference": "HK"})
    entries.move(p.uow, admin, entry_id, "recover_part", {"amount": "100000.00", "reference": "HK-1"})
    with p.uow.read() as conn:
        assert commitments.account(conn, entry_id)["outstanding"] == paid - Decimal("100000.00")
    rest = str(paid - Decimal("100000.00"))
    with pytest.raises(InvalidInput):  # the voucher first
        entries.move(p.uow, admin, entry_id, "recover_all", {"amount": rest, "reference": "HK-2"})
    _upload(p, entry_id, "repayment_voucher")
    done = entries.move(p.uow, admin, entry_id, "recover_all", {"amount": rest, "reference": "HK-2"})
    assert done["status"] == "recovered"
    with p.uow.read() as conn:
        b = ledger.balances(conn, code)
        recovered = conn.execute(
            select(ledger_entries.c.reference, ledger_entries.c.amount).where(
                ledger_entries.c.kind == "recovered", ledger_entries.c.credit_code == code
            )
        ).all()
        events = (
            conn.execute(
                select(audit_log.c.action).where(
                    audit_log.c.entity_type == "commitment", audit_log.c.entity_id == str(entry_id)
                )
            )
            .scalars()
            .all()
        )
    assert b["clawback"] == b["recovered"] == paid and b["outstanding"] == 0
    assert {r.reference for r in recovered} == {"HK-1", "HK-2"}
    assert events[-3:] == ["commitment.find_default", "commitment.recover_part", "commitment.recover_all"]


def test_listing_when_confirmed_flags_the_enterprise_and_a_repair_removes_it(any_platform):
    p = any_platform
    code = _firm(p, "listed")
    admin = _actor(p)
    entry_id = entries.add(
        p.uow, admin, "dishonesty", code, reason="土地出让合同约定未履行", fields={"legal_representative": "李某"}
    )
    with p.uow.read() as conn:
        assert code not in commitments.listed(conn, [code])
    _upload(p, entry_id, "decision", "dishonesty")
    entries.move(p.uow, admin, entry_id, "confirm", {"opinion": "经专班审议列入"})
    with p.uow.read() as conn:
        assert commitments.listed(conn, [code])[code]["legal_representative"] == "李某"
    _upload(p, entry_id, "repair_proof", "dishonesty")
    entries.move(p.uow, admin, entry_id, "repair", {"reason": "已全额退回资金"})
    with p.uow.read() as conn:
        assert code not in commitments.listed(conn, [code])


def test_fulfilment_when_the_data_show_every_item_kept_is_suggested_and_confirmed(any_platform):
    p = any_platform
    code = _firm(p, "kept")
    pid, _ = _paid(p, code)
    entry_id = _commitment(p, code, pid)
    life = {
        "filed_on": "2023-03-01",
        "started_on": "2023-06-01",
        "completed_on": "2024-06-01",
        "producing_on": "2024-12-01",
        "actual_investment": "15000000.00",
    }
    with p.uow.write(None) as w:
        w.conn.execute(update(projects).where(projects.c.id == pid).values(stage="producing", lifecycle=life))
        w.conn.execute(
            insert(enterprise_years).values(
                credit_code=code,
                year=2025,
                town="331082112",
                industry="C3411",
                above_scale=True,
                land_area_mu=Decimal("30"),
                tax_paid=Decimal("6000000.00"),
                fixed_asset_investment=0,
                in_construction_period=False,
                veto="",
            )
        )
    day = dt.date(2026, 3, 1)
    commitments.check_all(p.uow, day)
    shown = views.entry(p.uow, _actor(p), entry_id, day)
    assert shown["suggestion"]["action"] == "confirm_fulfilled"
    with pytest.raises(Conflict):  # the data say it was kept
        entries.move(p.uow, _actor(p), entry_id, "find_default", {"opinion": "x", "repay_by": "2026-06-30"}, day=day)
    _upload(p, entry_id, "acceptance_report")
    done = entries.move(p.uow, _actor(p), entry_id, "confirm_fulfilled", {"opinion": "达产验收合格"}, day=day)
    assert done["status"] == "fulfilled" and done["suggestion"] is None


def test_listed_enterprise_when_shown_is_flagged_on_its_profile_applications_and_the_calculator(platform):
    """A.4.2: an enterprise on the 严重失信名单 carries the flag wherever it appears — its profile (with its register
    entries), the application list and page, the calculator (also as the transferee of a 2.7 transfer)."""
    p = platform
    code = _firm(p, "flag")
    _, aids = _paid(p, code)
    admin = _actor(p)
    entry_id = entries.add(p.uow, admin, "dishonesty", code, reason="未履约", fields={"legal_representative": "赵某"})
    _upload(p, entry_id, "decision", "dishonesty")
    entries.move(p.uow, admin, entry_id, "confirm", {"opinion": "列入"})
    c = client_for(p, "admin")
    flag = f'data-dishonest="{entry_id}"'
    profile = c.get(f"/enterprises/{code}").text
    assert flag in profile and "赵某" in profile and f'href="/registers/dishonesty/{entry_id}"' in profile
    assert f'data-entry="{entry_id}"' in profile  # its register entries, the listing among them
    assert flag in c.get(f"/applications/{aids[0]}").text
    listing = c.get(f"/applications?status=paid&credit_code={code}").text
    assert "严重失信" in listing[listing.index(f'data-application="{aids[0]}"') :]
    for case in ("project", "land_transfer"):
        assert flag in c.get(f"/calculator?case={case}&enterprise={code}").text
    other = _firm(p, "clean")
    assert "data-dishonest" not in c.get(f"/enterprises/{other}").text
