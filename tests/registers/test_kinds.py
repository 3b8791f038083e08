"""Register kinds written as data (policy/registers/*.yaml): each loop's allowed and refused moves, the entry
fields and rules, the deadline at its boundary, and a seventh kind that is only a YAML file."""

from __future__ import annotations

import datetime as dt
import doctest
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import tenglong.registers.rectification
from tenglong.core import loader
from tenglong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tenglong.registers import kinds, workflows
from tenglong.registers.events import EVENTS
from tenglong.registers.rectification import add_months, check_targets, is_overdue
from tenglong.registers.roles import ROLES, Actor

KINDS = kinds.load()
ACTORS = {
    "admin": Actor(1, "admin", "管理员", "admin", department="市经信局"),
    "department": Actor(2, "department", "部门", "department", department="市发改局"),
    "town": Actor(3, "town", "镇街", "town", town="331082112"),
    "enterprise": Actor(4, "enterprise", "企业", "enterprise", credit_code="913310821003686548"),
    "auditor": Actor(5, "auditor", "审计", "auditor"),
}
SHIPPED = {
    "high_consumption_low_efficiency": "A.3.1",
    "two_high_project": "A.3.2",
    "low_scattered_disorderly": "A.3.3",
    "core_technology": "A.3.7",
    "zero_land": "A.3.15",
    "quality_retention": "A.3.16",
    "commitment": "A.4.2",
    "dishonesty": "A.4.2",
    "award_candidate": "A.4.3",
}
SEVENTH = """
key: idle_land
clause: A.3.4
zh: 闲置土地处置清单
en: register of idle land
entry: {zh: 闲置土地, en: idle plot}
subject: enterprise
update: {cycle: yearly, zh: 年度更新, en: updated every year}
responsible_units:
  - {key: natural_resources_bureau, zh: 市自然资源规划局, en: Natural Resources Bureau, role: department, lead: true}
  - {key: towns, zh: 各镇（街道）, en: the towns, role: town}
intake: {manual: listed, roles: [town, department]}
fields:
  idle_area_mu: {type: area_mu, zh: 闲置面积, en: idle area, required: true}
categories:
  - {key: reclaim, zh: 依法收回, en: reclaimed}
  - {key: start, zh: 限期开工, en: start by a deadline}
evidence:
  decision: {zh: 处置决定书, en: decision}
deadline: {zh: 处置期限, en: deadline, clause: A.3.4, states: [disposing], set_by: [{move: dispose, field: deadline}]}
workflow:
  states:
    listed: {zh: 已认定, en: listed}
    disposing: {zh: 处置中, en: being disposed of}
    done: {zh: 已处置, en: done, terminal: true}
  conditions:
    overdue: {zh: 处置期限已过, en: the deadline has passed}
  fields:
    category: {zh: 处置方式, en: way, kind: choice, choices: categories}
    deadline: {zh: 处置期限, en: deadline, kind: date}
  moves:
    - {action: dispose, from: listed, to: disposing, roles: [department], zh: 处置, en: dispose,
       requires: [category, deadline]}
    - {action: finish, from: disposing, to: done, roles: [department], zh: 办结, en: finish, evidence: [decision],
       when: {overdue: false}}
"""


def _value(field) -> object:
    """A valid value of a move's field."""
    return {
        "date": "2023-12-31",
        "choice": field.choices[0] if field.choices else "x",
        "targets": {field.choices[0]: "5"} if field.choices else {},
        "amount": "100.00",
        "reference": "REF-1",
        "attachments": [1],
    }.get(field.kind, "已核实")


def _given(wf, move) -> dict:
    return {k: _value(wf.fields[k]) for k in (*move.requires, *move.accepts)}


def _facts(move) -> dict:
    facts = {"overdue": False, "target_met": None}
    return {**facts, **dict(move.when)}


def _cases():
    for key, kind in KINDS.items():
        for m in kind.workflow.moves:
            for s in m.sources:
                yield pytest.param(key, m.action, s, id=f"{key}.{m.action}.{s}")


def test_shipped_kinds_when_loaded_are_the_six_registers_of_the_annex_in_clause_order():
    """Six kinds, each with its clause (an id of clauses.yaml), names, one lead unit and roles that exist."""
    assert {k: v.clause for k, v in KINDS.items()} == SHIPPED
    assert list(KINDS) == list(SHIPPED)
    clause_ids = {c.id for c in loader.policy().clauses}
    for kind in KINDS.values():
        assert kind.clause in clause_ids and kind.zh and kind.en and kind.entry_zh and kind.entry_en
        assert sum(u.lead for u in kind.units) == 1 and all(u.role in ROLES for u in kind.units)
        assert kind.cycle in ("dynamic", "yearly") and kind.cycle_zh and kind.cycle_en
        assert all(f.zh and f.en for f in kind.fields.values()) and kind.categories


def test_register_kinds_when_read_follow_their_clauses():
    """A.3.1 names its seven categories and units; A.3.7, A.3.15 and A.3.16 are updated yearly; A.3.15 has the
    3-month start rule; each clause's units are its 责任单位 plus the towns (A.3.1: “下同”)."""
    hcle = KINDS["high_consumption_low_efficiency"]
    assert [c.zh for c in hcle.categories] == [
        "改造提升",
        "兼并重组",
        "回收流转",
        "整体腾退",
        "搬迁入园",
        "关停退出",
        "限期整改",
    ]
    assert hcle.cycle == "dynamic" and hcle.lead.zh == "市经信局"
    assert {KINDS[k].cycle for k in ("core_technology", "zero_land", "quality_retention")} == {"yearly"}
    assert KINDS["zero_land"].deadline.set_by == (("approve", "approved_on", 3),)
    clauses = {c.id: c for c in loader.policy().clauses}
    for kind in KINDS.values():
        assert {u.zh for u in kind.units if u.role != "town"} == set(clauses[kind.clause].responsible_units)
        assert any(u.role == "town" for u in kind.units)
    assert KINDS["two_high_project"].lead.zh == "市发改局" and KINDS["core_technology"].lead.zh == "市科技局"


def test_every_kind_when_loaded_registers_its_moves_and_own_events_and_joins_the_workflows():
    """Each move is an audit event named <kind>.<action>; proposals, additions and suggestions have theirs."""
    loaded = {w.name for w in workflows.load_all()}
    for kind in KINDS.values():
        assert kind.key in loaded
        for m in kind.workflow.moves:
            assert EVENTS[f"{kind.key}.{m.action}"] == m.event and m.event.entity == kind.key
        assert {e.name for e in kind.events.values()} == {
            f"{kind.key}.{n}" for n in ("propose", "add", "import", "suggest")
        }


@pytest.mark.parametrize(("key", "action", "state"), list(_cases()))
@pytest.mark.parametrize("role", ROLES)
def test_move_when_made_by_each_role_is_allowed_exactly_for_the_roles_of_the_kind_file(key, action, state, role):
    """With its fields, attachments and conditions met, each move is allowed to the roles its file names (and
    whose role has the ``register`` permission) and Forbidden (403) to every other role."""
    wf = KINDS[key].workflow
    m = wf.move(action, state)
    args = (ACTORS[role], state, action, _given(wf, m))
    if role in m.roles:
        got, _ = wf.check(*args, facts=_facts(m), held=set(m.evidence))
        assert got.target == m.target
    else:
        with pytest.raises(Forbidden):
            wf.check(*args, facts=_facts(m), held=set(m.evidence))


@pytest.mark.parametrize(("key", "action", "state"), list(_cases()))
def test_move_when_a_required_field_or_attachment_is_missing_lists_each(key, action, state):
    """Without its fields and attachments a move is refused (422), naming every field and attachment missing."""
    wf = KINDS[key].workflow
    m = wf.move(action, state)
    actor = ACTORS[m.roles[-1]]
    if not m.requires and not m.evidence:
        wf.check(actor, state, action, {}, facts=_facts(m), held=set())
        return
    with pytest.raises(InvalidInput) as exc:
        wf.check(actor, state, action, {}, facts=_facts(m), held=set())
    wheres = {p.where for p in exc.value.problems}
    assert wheres == {*m.requires, *(f"attachments.{k}" for k in m.evidence)}
    for p in exc.value.problems:
        assert p.message_zh and p.message_en


@pytest.mark.parametrize(
    ("key", "action", "state"), [c for c in _cases() if KINDS[c.values[0]].workflow.move(c.values[1], c.values[2]).when]
)
def test_move_when_its_condition_does_not_hold_is_a_conflict_naming_it(key, action, state):
    """A move conditioned on a fact (deadline passed, targets met) is refused (409) when the fact says otherwise,
    and allowed when the fact is unknown (no data: the evidence decides)."""
    wf = KINDS[key].workflow
    m = wf.move(action, state)
    actor, given = ACTORS[m.roles[-1]], _given(wf, m)
    contrary = {**_facts(m), **{k: not v for k, v in m.when}}
    with pytest.raises(Conflict) as exc:
        wf.check(actor, state, action, given, facts=contrary, held=set(m.evidence))
    assert any(wf.conditions[k][0] in exc.value.message_zh for k, _ in m.when)
    if "target_met" in dict(m.when):
        wf.check(actor, state, action, given, facts={**_facts(m), "target_met": None}, held=set(m.evidence))


def test_move_when_a_fact_it_names_is_not_given_is_a_programming_error():
    """A caller that forgets the facts of a conditioned move fails loudly instead of letting it through."""
    wf = KINDS["high_consumption_low_efficiency"].workflow
    with pytest.raises(ValueError, match="overdue"):
        wf.check(ACTORS["admin"], "rectifying", "shut_down", {"reason": "逾期未整改"}, held={"shutdown_decision"})


def test_moves_when_listed_from_a_state_are_refused_from_any_other_state():
    """Every (move, state) pair not in a kind's file is a Conflict (409) naming the state, for the admin."""
    for kind in KINDS.values():
        wf = kind.workflow
        for m in wf.moves:
            for state in wf.states:
                if wf.move(m.action, state) is not None:
                    continue
                with pytest.raises(Conflict) as exc:
                    wf.check(ACTORS["admin"], state, m.action, _given(wf, m), facts=_facts(m), held=set(m.evidence))
                assert wf.state(state).zh in exc.value.message_zh
        with pytest.raises(NotFound):
            wf.check(ACTORS["admin"], kind.manual_state, "no_such_move")


def test_targets_field_when_given_checks_each_indicator_and_value():
    """A plan's targets are numbers ≥ 0 by 亩均 indicator: unknown indicators and bad numbers are all listed."""
    wf = KINDS["high_consumption_low_efficiency"].workflow
    given = {
        "category": "renovation",
        "measures": "技改",
        "deadline": "2023-12-31",
        "responsible_unit": "towns",
        "targets": {"tax_per_mu": "-1", "colour": "3", "value_added_per_mu": "x"},
    }
    with pytest.raises(InvalidInput) as exc:
        wf.check(ACTORS["town"], "identified", "plan", given)
    assert [p.where for p in exc.value.problems] == ["targets", "targets", "targets"]
    _, values = wf.check(ACTORS["town"], "identified", "plan", {**given, "targets": {"tax_per_mu": "5.5"}})
    assert values["targets"] == {"tax_per_mu": Decimal("5.5")} and values["deadline"] == dt.date(2023, 12, 31)


def test_entry_fields_when_read_are_exact_typed_and_required():
    """Money keeps its 分 exactly, a third decimal is refused, a required field must be there, unknown keys listed."""
    zero = KINDS["zero_land"]
    clean, problems = zero.read_fields(
        {"investment": "15,000,000.5", "added_floor_area_m2": 1200, "eliminated_by_order": "否"}, complete=True
    )
    assert clean == {"investment": "15000000.50", "added_floor_area_m2": "1200.00", "eliminated_by_order": False}
    assert {p.where for p in problems} == {"fields.restricted_category", "fields.listed_for_relocation"}
    _, bad = zero.read_fields({"investment": "1.005", "colour": "red", "plot_ratio_after": "-1"})
    assert {p.where: p.code for p in bad} == {
        "fields.investment": "invalid_field",
        "fields.colour": "unknown_field",
        "fields.plot_ratio_after": "invalid_field",
    }


def test_zero_land_rules_when_applied_refuse_with_the_reason_and_mark_key_projects_at_1000_wan():
    """A.3.15: 明令淘汰, 限制类 and relocation-listed firms are refused, each with its reason and clause;
    1000万元以上 (inclusive) marks a key project, 9,999,999.99 元 does not."""
    zero = KINDS["zero_land"]
    refused = zero.refused({"eliminated_by_order": True, "restricted_category": False, "listed_for_relocation": True})
    assert [p.where for p in refused] == ["fields.eliminated_by_order", "fields.listed_for_relocation"]
    assert all("A.3.15" in p.message_zh and "不得" in p.message_zh for p in refused)
    assert [m.key for m in zero.marked({"investment": "10000000.00"})] == ["key_project"]
    assert zero.marked({"investment": "9999999.99"}) == []


def test_overdue_when_judged_around_the_deadline_starts_the_day_after():
    """The deadline day itself is not overdue; the day before is not; the day after is (《民法典》第二百零三条)."""
    deadline = dt.date(2023, 6, 30)
    assert [is_overdue(deadline, deadline + dt.timedelta(days=d)) for d in (-1, 0, 1)] == [False, False, True]
    assert not is_overdue(None, deadline)


def test_start_rule_when_counted_in_months_ends_on_the_same_day_or_the_month_end():
    """3 months after an approval: the same day number (15 Jan → 15 Apr), or the month's last day (30 Nov → 28 Feb)."""
    assert add_months(dt.date(2023, 1, 15), 3) == dt.date(2023, 4, 15)
    assert add_months(dt.date(2022, 11, 30), 3) == dt.date(2023, 2, 28)
    assert add_months(dt.date(2023, 11, 30), 3) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 12, 31), 3) == dt.date(2024, 3, 31)


def test_targets_when_checked_against_data_are_reached_at_the_target_itself():
    """达到 includes the number: exactly the target is met, a hair below is not, no data leaves it to evidence."""
    assert check_targets({"tax_per_mu": "5"}, {"tax_per_mu": Fraction(5)})[0] is True
    assert check_targets({"tax_per_mu": "5"}, {"tax_per_mu": Fraction(49999, 10000)})[0] is False
    assert check_targets({"tax_per_mu": "5"}, {"tax_per_mu": None})[0] is None
    verdict, checks = check_targets({"tax_per_mu": "5", "rd_intensity": "0.02"}, {"tax_per_mu": Fraction(3)})
    assert verdict is False and "未达到" in checks[0].describe("zh") and "no data" in checks[1].describe("en")


def test_rectification_module_when_doctests_run_all_pass():
    """The examples of registers/rectification.py hold."""
    failed, tried = doctest.testmod(tenglong.registers.rectification)
    assert tried > 0 and failed == 0


def test_a_seventh_kind_when_added_as_a_yaml_file_works_with_no_code(tmp_path: Path):
    """A new register is one file: it loads beside the six, its moves are events, and its loop runs on the engine
    (roles, fields, attachments, the overdue condition)."""
    (tmp_path / "idle_land.yaml").write_text(SEVENTH, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a kind", encoding="utf-8")
    found = kinds.load_folder(tmp_path)
    idle = found["idle_land"]
    assert idle.clause == "A.3.4" and idle.deadline.states == ("disposing",) and "idle_land.finish" in EVENTS
    assert idle.read_fields({}, complete=True)[1][0].where == "fields.idle_area_mu"
    wf, dept = idle.workflow, Actor(9, "d", "部门", "department", department="市自然资源规划局")
    move, values = wf.check(dept, "listed", "dispose", {"category": "reclaim", "deadline": "2024-03-31"})
    assert move.target == "disposing" and values["category"] == "reclaim"
    with pytest.raises(Forbidden):
        wf.check(ACTORS["town"], "listed", "dispose", {"category": "reclaim", "deadline": "2024-03-31"})
    with pytest.raises(InvalidInput):
        wf.check(dept, "disposing", "finish", {}, facts={"overdue": False}, held=set())
    with pytest.raises(Conflict):
        wf.check(dept, "disposing", "finish", {}, facts={"overdue": True}, held={"decision"})
    shipped = dict(KINDS)
    assert kinds.load_folder(Path(kinds.resources.files(loader.POLICY_PACKAGE).joinpath("registers"))) == shipped


def test_a_kind_file_when_written_wrongly_lists_every_mistake_with_the_file_and_key(tmp_path: Path):
    """Unknown role, clause, type and state, two leads, a field choice list that does not exist and an overdue
    condition without a deadline: all reported at once, naming the file and the key."""
    broken = (
        SEVENTH.replace("role: town", "role: mayor")
        .replace("clause: A.3.4\nzh", "clause: A.9\nzh")
        .replace("type: area_mu", "type: colour")
        .replace(
            "role: department, lead: true",
            "role: department, lead: true}\n  - {key: x, zh: 某局, en: x, role: admin, lead: true",
        )
        .replace("states: [disposing]", "states: [nowhere]")
    )
    (tmp_path / "idle_land.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(ValueError) as exc:
        kinds.load_folder(tmp_path)
    text = str(exc.value)
    assert text.startswith("idle_land.yaml: ")
    for piece in (
        "responsible_units[2].role: 'mayor'",
        "clause: 'A.9'",
        "fields.idle_area_mu.type: 'colour'",
        "exactly one unit must be the lead",
        "deadline.states: 'nowhere'",
    ):
        assert piece in text, piece
    (tmp_path / "idle_land.yaml").write_text(
        SEVENTH.replace(
            "deadline: {zh: 处置期限, en: deadline, clause: A.3.4, "
            "states: [disposing], set_by: [{move: dispose, field: "
            "deadline}]}\n",
            "",
        ),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="needs a deadline"):
        kinds.load_folder(tmp_path)
    (tmp_path / "idle_land.yaml").write_text(SEVENTH.replace("key: idle_land", "key: other_name"), encoding="utf-8")
    with pytest.raises(ValueError, match="must be the file's name"):
        kinds.load_folder(tmp_path)
