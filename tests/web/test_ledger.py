"""The money ledger: approval grants, payment pays, the yearly 2.10 cap reads the ledger under a lock."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from tenglong.adapters.db.tables import audit_log, enterprises, ledger_entries, subsidy_applications, users
from tenglong.core.credit_code import check_character
from tenglong.core.errors import Conflict, InvalidInput
from tenglong.services.accounts.auth import actor_of
from tenglong.services.enterprises import projects
from tenglong.services.subsidies import applications as subsidies
from tenglong.services.subsidies import ledger

# Ordinary 技改 (total investment under 1000万, so not a major project): 5% of 800万 of equipment = 40万.
ORDINARY_40 = {"total_investment": 9000000, "equipment_investment": 8000000}
MAJOR = {"total_investment": 15000000, "equipment_investment": 8000000}  # 10% → 80万
_SERIAL = itertools.count(1)


def _actor(p, username: str = "admin"):
    with p.uow.read() as conn:
        return actor_of(conn.execute(select(users).where(users.c.username == username)).one())


def _new_firm(p, tag: str) -> str:
    """A fresh enterprise of 杜桥镇 (its own ledger, untouched by other tests)."""
    first17 = f"91331082MA2L{next(_SERIAL):05d}"
    code = first17 + check_character(first17)
    with p.uow.write(None) as w:
        w.conn.execute(
            insert(enterprises).values(
                credit_code=code,
                name=f"台账测试企业{tag}",
                town="331082112",
                industry="C3411",
                above_scale=True,
                updated_at=dt.datetime.now(dt.UTC),
            )
        )
    return code


def _under_review(p, code: str, inputs: dict, day: str = "2023-03-01") -> int:
    admin = _actor(p)
    pid = projects.create_project(p.uow, admin, code, "台账测试项目", day, inputs)
    aid = subsidies.create_application(p.uow, admin, pid, "2.10")
    for action in ("submit", "start_review"):
        subsidies.act(p.uow, admin, aid, action)
    return aid


def test_approve_and_pay_when_done_record_granted_then_paid_rows_to_the_fen(any_platform):
    """Approval writes one granted row per amount paid out, payment one paid row with its voucher; balances sum them."""
    p = any_platform
    admin, code = _actor(p), _new_firm(p, "pay")
    aid = _under_review(p, code, MAJOR)
    subsidies.act(p.uow, admin, aid, "approve", note="同意")
    with p.uow.read() as conn:
        granted = ledger.entries(conn, application_id=aid)
        assert [(e["kind"], e["item"], e["amount"], e["cap_key"]) for e in granted] == [
            ("granted", "tech_renovation_subsidy", Decimal("800000.00"), None)
        ]
        assert ledger.balances(conn, code)["granted"] == Decimal("800000.00")
        assert ledger.balances(conn, code)["paid"] == Decimal("0.00")
    subsidies.act(p.uow, admin, aid, "pay", reference="LHCZ-2023-0099")
    with p.uow.read() as conn:
        rows = ledger.entries(conn, application_id=aid)
        b = ledger.balances(conn, code)
        approve = conn.execute(
            select(audit_log.c.after).where(
                audit_log.c.action == "application.approve", audit_log.c.entity_id == str(aid)
            )
        ).scalar_one()
    assert [(e["kind"], e["reference"]) for e in rows] == [("granted", None), ("paid", "LHCZ-2023-0099")]
    assert rows[1]["actor"] == "admin" and rows[1]["year"] == 2023 and rows[1]["source_id"] == str(aid)
    assert b["paid"] == b["net"] == Decimal("800000.00") and b["outstanding"] == Decimal("0.00")
    assert approve["ledger"][0]["amount"] == "800000.00"  # the audited decision carries what it granted


def test_ordinary_cap_when_second_approval_would_pass_200_wan_is_refused_and_nothing_is_granted(any_platform):
    """Two ordinary projects computed before either was approved ask 1,500,000 each; the second approval is a
    Conflict.
    """
    p = any_platform
    admin, code = _actor(p), _new_firm(p, "cap")
    big = {"total_investment": 9900000, "equipment_investment": 9800000}  # 5% of 980万 = 49万
    first, second = _under_review(p, code, big), _under_review(p, code, big)
    subsidies.act(p.uow, admin, first, "approve")
    for _ in range(3):
        subsidies.act(p.uow, admin, _under_review(p, code, big), "approve")  # 4 × 49万 = 196万 ≤ 200万
    with pytest.raises(Conflict) as exc:
        subsidies.act(p.uow, admin, second, "approve")
    assert "2,450,000.00" in exc.value.message_zh and "2,000,000.00" in exc.value.message_zh
    with p.uow.read() as conn:
        assert ledger.cap_used(conn, code, ledger.ORDINARY_CAP, 2023) == Decimal("1960000.00")
        assert (
            conn.execute(select(subsidy_applications.c.status).where(subsidy_applications.c.id == second)).scalar_one()
            == "under_review"
        )
        assert ledger.entries(conn, application_id=second) == []


def test_ordinary_cap_when_the_year_differs_does_not_count_last_years_grants(any_platform):
    """A 2022 grant does not use the 2023 cap: the cap is per calendar year of the application date."""
    p = any_platform
    admin, code = _actor(p), _new_firm(p, "years")
    old = _under_review(p, code, ORDINARY_40, day="2022-12-30")
    subsidies.act(p.uow, admin, old, "approve")
    with p.uow.read() as conn:
        assert ledger.cap_used(conn, code, ledger.ORDINARY_CAP, 2022) == Decimal("400000.00")
        assert ledger.cap_used(conn, code, ledger.ORDINARY_CAP, 2023) == Decimal("0.00")


def test_project_when_computed_counts_what_the_ledger_granted_earlier(platform):
    """A new ordinary project's calculation lists the approved project with the amount the ledger granted it."""
    admin, code = _actor(platform), _new_firm(platform, "counted")
    first = _under_review(platform, code, ORDINARY_40)
    subsidies.act(platform.uow, admin, first, "approve")
    pid = projects.create_project(platform.uow, admin, code, "第二个项目", "2023-06-01", ORDINARY_40)
    counted = projects.compute(platform.uow, admin, pid)["counted"]
    assert [(c["application_id"], c["granted"]) for c in counted] == [(first, "400000.00")]


@pytest.mark.parametrize("threads", [6])
def test_concurrent_approvals_when_together_over_the_cap_let_exactly_the_allowed_ones_pass(any_platform, threads):
    """6 simultaneous approvals of 40万 each: exactly 5 pass (200万, the cap is inclusive), 1 is refused, the ledger
    holds 200万.
    """
    p = any_platform
    admin, code = _actor(p), _new_firm(p, f"race{threads}")
    ids = [_under_review(p, code, ORDINARY_40) for _ in range(threads)]
    start, results = threading.Barrier(threads), {}

    def approve(aid: int) -> None:
        start.wait()
        try:
            subsidies.act(p.uow, admin, aid, "approve")
            results[aid] = "approved"
        except Conflict:
            results[aid] = "refused"

    workers = [threading.Thread(target=approve, args=(aid,)) for aid in ids]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert sorted(results.values()) == ["approved"] * 5 + ["refused"]
    with p.uow.read() as conn:
        assert ledger.cap_used(conn, code, ledger.ORDINARY_CAP, 2023) == Decimal("2000000.00")
        approved = {a for a, r in results.items() if r == "approved"}
        assert {e["application_id"] for e in ledger.entries(conn, credit_code=code)} == approved


def test_application_when_withdrawn_frees_its_project_and_clause_for_a_new_one(any_platform):
    """A second 2.10 application on a project is a Conflict until the first is withdrawn; the index backs it up."""
    p = any_platform
    admin, code = _actor(p), _new_firm(p, "withdraw")
    pid = projects.create_project(p.uow, admin, code, "撤回测试项目", "2023-03-01", ORDINARY_40)
    first = subsidies.create_application(p.uow, admin, pid, "2.10")
    with pytest.raises(Conflict) as exc:
        subsidies.create_application(p.uow, admin, pid, "2.10")
    assert f"#{first}" in exc.value.message_zh and "撤回" in exc.value.message_zh
    with p.uow.read() as conn:  # a racing insert that slipped past the check is refused by the unique index
        row = dict(conn.execute(select(subsidy_applications).where(subsidy_applications.c.id == first)).one()._mapping)
    row.pop("id")
    with pytest.raises(IntegrityError), p.uow.write(None) as w:
        w.conn.execute(insert(subsidy_applications).values(**row))
    subsidies.act(p.uow, admin, first, "withdraw", note="重新测算")
    second = subsidies.create_application(p.uow, admin, pid, "2.10")
    assert second != first and subsidies.get_application(p.uow, admin, first)["status"] == "withdrawn"


def test_payment_when_reference_is_too_long_is_refused_and_changes_nothing(client_as, platform):
    """A 101-character voucher number gets 422 naming the field; the application stays approved with no paid row."""
    admin_actor, code = _actor(platform), _new_firm(platform, "ref")
    aid = _under_review(platform, code, MAJOR)
    subsidies.act(platform.uow, admin_actor, aid, "approve")
    r = client_as("admin").post(f"/api/v1/applications/{aid}/pay", json={"reference": "X" * 101})
    assert r.status_code == 422 and r.json()["problems"][0]["code"] == "too_long"
    assert r.json()["problems"][0]["where"] == "reference"
    with platform.uow.read() as conn:
        assert [e["kind"] for e in ledger.entries(conn, application_id=aid)] == ["granted"]
        status = conn.execute(select(subsidy_applications.c.status).where(subsidy_applications.c.id == aid))
        assert status.scalar_one() == "approved"


def test_ledger_when_amount_is_not_positive_or_finer_than_a_fen_is_refused(platform):
    """A zero, negative or sub-fen amount, or an unknown kind, never becomes a ledger row (code and CHECK both
    refuse).
    """
    code = _new_firm(platform, "check")
    for amount in (Decimal("0"), Decimal("-1.00"), Decimal("0.001")):
        with pytest.raises(ValueError), platform.uow.write(None) as w:
            ledger.append(w, [ledger.Entry(code, "2.10", "x", "granted", amount, 2023, "test", "1")])
    with pytest.raises(IntegrityError), platform.uow.write(None) as w:
        w.conn.execute(
            insert(ledger_entries).values(
                at=dt.datetime.now(dt.UTC),
                credit_code=code,
                clause="2.10",
                item="x",
                kind="granted",
                amount=Decimal("-5.00"),
                year=2023,
                source_type="test",
                source_id="1",
                actor="test",
            )
        )
    with pytest.raises(ValueError), platform.uow.write(None) as w:
        ledger.append(w, [ledger.Entry(code, "2.10", "x", "gift", Decimal("1.00"), 2023, "test", "1")])
    with platform.uow.read() as conn:
        assert ledger.entries(conn, credit_code=code) == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=10**10), min_size=1, max_size=4),
    st.integers(min_value=1, max_value=10**12),
)
def test_split_when_any_amount_up_to_the_total_is_approved_sums_to_it_exactly_and_no_share_passes_its_item(fen, pick):
    """Shares of an approved amount (any 分 from 0.01 to the computed total) sum to it exactly; each share is at most
    its item's amount; the whole total gives every item its own amount back.
    """
    items = [(f"item{i}", Decimal(f).scaleb(-2), None) for i, f in enumerate(fen)]
    total = sum(fen)
    approved = Decimal(1 + pick % total).scaleb(-2)
    shares = subsidies.split(approved, items)
    assert sum(a for _, a, _ in shares) == approved and all(a > 0 for _, a, _ in shares)
    computed = {i: a for i, a, _ in items}
    assert all(a <= computed[i] and a == a.quantize(Decimal("0.01")) for i, a, _ in shares)
    assert [(i, a) for i, a, _ in subsidies.split(Decimal(total).scaleb(-2), items)] == [(i, a) for i, a, _ in items]


def test_approve_lower_and_pay_when_done_grant_and_pay_exactly_the_approved_amount(any_platform):
    """Approving 654,321.09 of a computed 800,000 with a reason: the granted rows sum to 654,321.09 to the 分 (the
    reason as their note), the paid rows equal them row by row, and the balances agree.
    """
    p = any_platform
    admin, code = _actor(p), _new_firm(p, "lower")
    aid = _under_review(p, code, MAJOR)
    with pytest.raises(InvalidInput):
        subsidies.act(p.uow, admin, aid, "approve", fields={"approved_amount": "654321.09"})
    subsidies.act(p.uow, admin, aid, "approve", fields={"approved_amount": "654321.09", "reason": "核减非生产性设备"})
    subsidies.act(p.uow, admin, aid, "pay", reference="LHCZ-2023-0654")
    with p.uow.read() as conn:
        rows = ledger.entries(conn, application_id=aid)
        b = ledger.balances(conn, application_id=aid)
        after = conn.execute(
            select(audit_log.c.after).where(
                audit_log.c.action == "application.approve", audit_log.c.entity_id == str(aid)
            )
        ).scalar_one()
    granted = [(e["item"], e["amount"]) for e in rows if e["kind"] == "granted"]
    paid = [(e["item"], e["amount"]) for e in rows if e["kind"] == "paid"]
    assert granted == paid == [("tech_renovation_subsidy", Decimal("654321.09"))]
    assert b["granted"] == b["paid"] == Decimal("654321.09")
    assert [e["note"] for e in rows if e["kind"] == "granted"] == ["核减非生产性设备"]
    assert after["approved_amount"] == "654321.09" and after["computed_amount"] == "800000.00"
    shown = subsidies.get_application(p.uow, admin, aid)["amounts"]
    assert shown == {
        "computed": Decimal("800000.00"),
        "recommended": None,
        "approved": Decimal("654321.09"),
        "paid": Decimal("654321.09"),
    }


def test_ordinary_cap_when_an_approval_was_reduced_counts_the_approved_amount_not_the_computed_one(platform):
    """An ordinary project computed at 490,000 and approved at 400,000 uses 400,000 of the enterprise's yearly cap."""
    admin, code = _actor(platform), _new_firm(platform, "reduced-cap")
    aid = _under_review(platform, code, {"total_investment": 9900000, "equipment_investment": 9800000})
    subsidies.act(
        platform.uow, admin, aid, "approve", fields={"approved_amount": "400000", "reason": "部分设备不予认定"}
    )
    with platform.uow.read() as conn:
        assert ledger.cap_used(conn, code, ledger.ORDINARY_CAP, 2023) == Decimal("400000.00")
