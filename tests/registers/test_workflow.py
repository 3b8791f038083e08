"""The workflow engine: loops written as data decide every move (who, from which state, with which fields)."""

from __future__ import annotations

import pytest

from tenglong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tenglong.registers import workflows
from tenglong.registers.events import EVENTS
from tenglong.registers.roles import Actor
from tenglong.registers.workflow import Workflow

ADMIN = Actor(1, "admin", "管理员", "admin")
DEPARTMENT = Actor(2, "department", "部门", "department")
TOWN = Actor(3, "town", "镇街", "town", town="331082112")
ENTERPRISE = Actor(4, "enterprise", "企业", "enterprise", credit_code="913310821003686548")
AUDITOR = Actor(5, "auditor", "审计", "auditor")
APPLICATION = workflows.load("subsidy_application")

# (action, from state, role → allowed)
SUBSIDY_MOVES = {
    ("submit", "draft"): {"admin", "town", "enterprise"},
    ("start_review", "submitted"): {"admin", "department"},
    ("approve", "under_review"): {"admin"},
    ("reject", "under_review"): {"admin"},
    ("pay", "approved"): {"admin"},
    ("revise", "rejected"): {"admin", "town", "enterprise"},
    ("withdraw", "draft"): {"admin", "town", "enterprise"},
    ("withdraw", "rejected"): {"admin", "town", "enterprise"},
}
GIVEN = {"note": "材料齐全", "reference": "LHCZ-2023-0012"}


@pytest.mark.parametrize(("action", "state"), sorted(SUBSIDY_MOVES))
@pytest.mark.parametrize("actor", [ADMIN, DEPARTMENT, TOWN, ENTERPRISE, AUDITOR], ids=lambda a: a.role)
def test_subsidy_move_when_made_by_each_role_is_allowed_exactly_for_the_permitted_roles(action, state, actor):
    """Each move from its state is allowed to the roles holding its permission and Forbidden (403) to the others."""
    if actor.role in SUBSIDY_MOVES[(action, state)]:
        move, _ = APPLICATION.check(actor, state, action, GIVEN)
        assert move.target == APPLICATION.move(action, state).target and move.event.name == f"application.{action}"
    else:
        with pytest.raises(Forbidden):
            APPLICATION.check(actor, state, action, GIVEN)


@pytest.mark.parametrize("state", ["draft", "submitted", "under_review", "approved", "rejected", "paid", "withdrawn"])
@pytest.mark.parametrize("action", sorted({a for a, _ in SUBSIDY_MOVES}))
def test_subsidy_move_when_state_does_not_allow_it_is_a_conflict(action, state):
    """From any state the loop does not leave by that move, the admin gets Conflict (409) naming the state."""
    if (action, state) in SUBSIDY_MOVES:
        return
    with pytest.raises(Conflict) as exc:
        APPLICATION.check(ADMIN, state, action, GIVEN)
    assert APPLICATION.state(state).zh in exc.value.message_zh


def test_terminal_states_when_reached_offer_no_move():
    """paid and withdrawn end the loop: no move leaves them, for anyone."""
    for state in ("paid", "withdrawn"):
        assert APPLICATION.states[state].terminal and APPLICATION.moves_from(state) == []


def test_reject_when_note_missing_or_blank_lists_the_missing_field():
    """驳回 needs a reason: None, "" and whitespace are all missing, and the problem names the field in Chinese."""
    for note in (None, "", "   "):
        with pytest.raises(InvalidInput) as exc:
            APPLICATION.check(ADMIN, "under_review", "reject", {"note": note})
        (p,) = exc.value.problems
        assert p.code == "missing_input" and p.where == "note" and "意见或理由" in p.message_zh


def test_pay_when_reference_is_101_characters_is_refused_not_cut():
    """A payment reference of 101 characters is refused (too_long), 100 is accepted as given."""
    with pytest.raises(InvalidInput) as exc:
        APPLICATION.check(ADMIN, "approved", "pay", {"reference": "R" * 101})
    assert [p.code for p in exc.value.problems] == ["too_long"] and "不会被截断" in exc.value.problems[0].message_zh
    _, fields = APPLICATION.check(ADMIN, "approved", "pay", {"reference": " " + "R" * 100 + " "})
    assert fields["reference"] == "R" * 100


def test_move_when_several_fields_are_wrong_lists_every_problem_at_once():
    """A payment with a missing reference and an over-long note reports both problems."""
    with pytest.raises(InvalidInput) as exc:
        APPLICATION.check(ADMIN, "approved", "pay", {"note": "长" * 2001})
    assert sorted(p.code for p in exc.value.problems) == ["missing_input", "too_long"]


def test_unknown_action_when_asked_is_not_found():
    """An action the workflow does not define is NotFound (404), whatever the state."""
    with pytest.raises(NotFound):
        APPLICATION.check(ADMIN, "draft", "destroy")


def test_system_moves_when_asked_by_a_person_are_forbidden_and_by_the_platform_allowed():
    """'validation passed' is the platform's move: an admin may not make it; the platform (actor None) may."""
    imports = workflows.load("data_import")
    with pytest.raises(Forbidden):
        imports.check(ADMIN, "validating", "pass_validation")
    move, _ = imports.check(None, "validating", "pass_validation")
    assert move.target == "validated"
    with pytest.raises(Forbidden):
        imports.check(None, "validated", "commit_start")  # a person's move is not the platform's


def test_evaluation_run_when_failed_can_be_rerun_by_admin_only():
    """failed → queued by rerun (permission evaluate: admin); a done run cannot be rerun."""
    runs = workflows.load("evaluation_run")
    assert runs.check(ADMIN, "failed", "rerun")[0].target == "queued"
    with pytest.raises(Forbidden):
        runs.check(DEPARTMENT, "failed", "rerun")
    with pytest.raises(Conflict):
        runs.check(ADMIN, "done", "rerun")


def test_available_moves_when_listed_for_an_actor_are_the_buttons_to_show():
    """The department sees only 开始审核 on a submitted application; the auditor sees nothing anywhere."""
    assert [m.action for m in APPLICATION.available(DEPARTMENT, "submitted")] == ["start_review"]
    assert all(APPLICATION.available(AUDITOR, s) == [] for s in APPLICATION.states)


def test_every_shipped_workflow_when_loaded_registers_one_event_per_move():
    """Each move of each shipped workflow is a registered audit event with a zh and an en sentence."""
    for wf in workflows.load_all():
        for m in wf.moves:
            assert m.event is not None and EVENTS[m.event.name] == m.event
            assert m.event.describe(12, "zh").endswith("#12") and "#12" in m.event.describe(12, "en")


def test_workflow_when_written_inconsistently_lists_every_mistake():
    """Unknown states and fields, duplicate moves and moves out of a terminal state are all reported at once."""
    data = {
        "name": "broken",
        "initial": "start",
        "states": {"start": {}, "end": {"terminal": True}},
        "fields": {"note": {"kind": "colour"}},
        "moves": [
            {"action": "go", "from": "start", "to": "nowhere", "permission": "apply"},
            {"action": "go", "from": "start", "to": "end", "permission": "apply"},
            {"action": "back", "from": "end", "to": "start", "permission": "apply", "requires": ["reason"]},
        ],
    }
    with pytest.raises(ValueError) as exc:
        Workflow.from_mapping(data)
    text = str(exc.value)
    for piece in ("unknown state 'nowhere'", "defined twice", "terminal state end", "unknown field 'reason'", "colour"):
        assert piece in text, piece


def test_a_new_workflow_when_written_as_data_needs_no_engine_code():
    """A seventh loop (here a tiny register) is just a mapping: its moves, fields and events work at once."""
    wf = Workflow.from_mapping(
        {
            "name": "demo_register",
            "event_prefix": "demo_register",
            "noun_zh": "示例清单条目",
            "noun_en": "demo entry",
            "initial": "identified",
            "states": {"identified": {"zh": "排摸"}, "closed": {"zh": "销号", "terminal": True}},
            "fields": {"deadline": {"zh": "整改期限", "en": "deadline", "kind": "date", "example": "2023-12-31"}},
            "moves": [
                {
                    "action": "close",
                    "from": "identified",
                    "to": "closed",
                    "permission": "decide",
                    "requires": ["deadline"],
                }
            ],
        }
    )
    move, fields = wf.check(ADMIN, "identified", "close", {"deadline": "2023-12-31"})
    assert move.event.name == "demo_register.close" and fields["deadline"].isoformat() == "2023-12-31"
    with pytest.raises(InvalidInput) as exc:
        wf.check(ADMIN, "identified", "close", {"deadline": "2023-13-01"})
    assert exc.value.problems[0].code == "invalid_field"
