"""`tenglong calculate` end to end, as a user runs it."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "linhai-2023.json"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tenglong.cli", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_calculate_when_example_given_fills_every_request_with_explanations():
    """The shipped example answers every null with a value and an explanation citing a clause."""
    r = run("calculate", str(EXAMPLE))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for kind, entities in doc.items():
        if not isinstance(entities, dict):
            continue
        for eid, values in entities.items():
            for var, v in values.items():
                if v is None:
                    assert out[kind][eid][var] is not None or var in ("max_building_density",), (kind, eid, var)
                    expl = out["explanations"][kind][eid][var]
                    assert expl["status"] in ("applied", "not_applicable", "not_in_force")
                    assert expl["clause"] and expl["text"] and isinstance(expl["because"], list)
    assert out["projects"]["P1"]["tech_renovation_subsidy"] == 800000
    assert out["mergers"]["M1"]["pharma_acquisition_reward_cap"] == 7200000
    assert out["land_sales"]["S1"]["reserve_price_floor"] == 2352000


def test_calculate_when_stdin_and_no_explain_drops_explanations():
    """`-` reads stdin, and --no-explain leaves the explanations out."""
    r = run("calculate", "-", "--no-explain", stdin=EXAMPLE.read_text(encoding="utf-8"))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert "explanations" not in out
    assert out["projects"]["P2"]["vertical_industry_route"] == "excess"


def test_calculate_when_money_has_cents_rounds_half_up_to_the_fen():
    """10 % of 12,345,678.95 元 is 1,234,567.90 元 (half up once, at the clause's output)."""
    doc = {
        "as_of": "2023-03-01",
        "enterprises": {"E1": {}},
        "projects": {
            "P1": {
                "enterprise": "E1",
                "total_investment": 20000000,
                "equipment_investment": 12345678.95,
                "tech_renovation_subsidy": None,
            }
        },
    }
    r = run("calculate", "-", "--no-explain", "--compact", stdin=json.dumps(doc))
    assert r.returncode == 0, r.stderr
    assert '"tech_renovation_subsidy": 1234567.9' in r.stdout


def test_calculate_when_input_is_bad_exits_2_and_lists_every_error():
    """Bad input: exit 2, nothing on stdout, every problem on stderr with where, value, expected and example."""
    doc = {
        "as_of": "2023-03-01",
        "factories": {},
        "enterprises": {"E1": {"is_2513_enterprise": "yes"}},
        "projects": {
            "P1": {
                "enterprise": "E9",
                "application_date": "2023-02-30",
                "total_investment": -5,
                "equipment_investment": 1,
                "tech_renovation_subsidi": None,
            },
        },
    }
    r = run("calculate", "-", stdin=json.dumps(doc))
    assert r.returncode == 2
    assert r.stdout == ""
    for needle in (
        "unknown_entity_kind",
        "factories",
        "wrong_type",
        "enterprises.E1.is_2513_enterprise",
        "missing_reference",
        "E9",
        "invalid_date",
        "2023-02-30",
        "negative_value",
        "projects.P1.total_investment",
        "unknown_variable",
        "tech_renovation_subsidy",
        "示例 / example",
        "应为 / expected",
    ):
        assert needle in r.stderr, needle
    assert r.stderr.count("\n1. ") == 1 and "\n6. " in r.stderr


def test_calculate_when_entities_are_reordered_gives_the_same_answer():
    """Results do not depend on the order of the entities (the 2.10 cap is allotted by date, then id)."""
    projects = {
        f"P{k}": {
            "enterprise": "E1",
            "application_date": f"2023-0{1 + k % 5}-1{k % 9}",
            "total_investment": 5000000,
            "equipment_investment": 3000000 + 100000 * k,
            "tech_renovation_subsidy": None,
        }
        for k in range(12)
    }
    base = {"as_of": "2023-06-01", "enterprises": {"E1": {}}, "projects": projects}
    first = json.loads(run("calculate", "-", "--no-explain", stdin=json.dumps(base)).stdout)["projects"]
    items = list(projects.items())
    random.Random(4).shuffle(items)
    shuffled = json.loads(
        run("calculate", "-", "--no-explain", stdin=json.dumps({**base, "projects": dict(items)})).stdout
    )["projects"]
    assert {k: v["tech_renovation_subsidy"] for k, v in first.items()} == {
        k: v["tech_renovation_subsidy"] for k, v in shuffled.items()
    }
    assert sum(v["tech_renovation_subsidy"] for v in first.values()) == 2000000


def test_variables_when_listed_name_every_contract_variable():
    """`tenglong variables --json` lists the contract with entity, unit, clause and labels."""
    r = run("variables", "--json")
    rows = json.loads(r.stdout)
    names = {(x["entity"], x["name"]) for x in rows}
    assert ("projects", "tech_renovation_subsidy") in names and ("land_sales", "reserve_price_floor") in names
    row = next(x for x in rows if x["name"] == "tech_renovation_subsidy")
    assert row["unit"] == "元" and row["clause"] == "2.10" and row["zh"] and row["en"]


def test_policy_when_clause_asked_lists_its_parameters_and_back():
    """`tenglong policy 2.10` shows the text and its parameters; --parameter leads back to the clause."""
    r = run("policy", "2.10")
    assert (
        r.returncode == 0
        and "加大技术改造支持力度" in r.stdout
        and "tech_renovation.major_rate" in r.stdout
        and "rules: tech_renovation" in r.stdout
    )
    back = run("policy", "--parameter", "tech_renovation.major_rate")
    assert back.returncode == 0 and "clause 2.10" in back.stdout and "按设备投资额的10%给予补助" in back.stdout
    assert run("policy", "9.9").returncode == 2
