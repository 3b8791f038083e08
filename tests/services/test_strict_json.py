"""The one strict JSON reader (``contract.parse_json``) and the bounded work of the calculation contract.

Each input that once crashed the platform (attack 3 of the security review) is refused with a
located problem, by the reader, by ``calculate`` and by ``tenglong calculate`` (exit 2, no traceback).
A request with thousands of problems lists the first 1,000 and counts the rest without building them.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from decimal import Decimal

import pytest

from tenglong.core import engine, loader, situation
from tenglong.core.errors import InvalidInput
from tenglong.core.situation import LISTED, read_situation
from tenglong.services.calculation import contract
from tenglong.services.calculation.contract import (
    MAX_DEPTH,
    InvalidJson,
    calculate,
    check_inputs,
    parse_json,
)

CRASHES = {
    # name: (request bytes, refused as not JSON (400) or as refused content (422), the problem's code)
    "not_utf8": (b'{"as_of": "2023-03-01", "projects": {"P\xff": {}}}', InvalidJson, "not_utf8"),
    "huge_exponent": (
        b'{"as_of": "2023-03-01", "projects": {"P1": {"total_investment": 1e999999}}}',
        InvalidInput,
        "number_too_long",
    ),
    "nan": (b'{"as_of": "2023-03-01", "projects": {"P1": {"total_investment": NaN}}}', InvalidJson, "not_a_number"),
    "infinity": (b'{"as_of": "2023-03-01", "projects": {"P1": {"land_area": -Infinity}}}', InvalidJson, "not_a_number"),
    "int_5000_digits": (
        b'{"as_of": "2023-03-01", "projects": {"P1": {"total_investment": ' + b"9" * 5000 + b"}}}",
        InvalidInput,
        "number_too_long",
    ),
    "deep_100000": (
        b'{"as_of": "2023-03-01", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        InvalidInput,
        "too_deep",
    ),
    "lone_surrogate_id": (
        b'{"as_of": "2023-03-01", "projects": {"\\ud800": {"tech_renovation_subsidy": null}}}',
        InvalidInput,
        "lone_surrogate",
    ),
    "duplicate_id": (
        b'{"as_of": "2023-03-01", "projects": {"P1": {"total_investment": 1}, "P1": {"total_investment": 2}}}',
        InvalidInput,
        "duplicate_key",
    ),
}
INCOMPLETE = {"tech_renovation_subsidy": None}  # needs enterprise, total_investment and equipment_investment: 3 gaps


def _request(projects: dict) -> dict:
    return {"as_of": "2023-03-01", "projects": projects}


def _refusal(text: str | bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        parse_json(text)
    return exc.value


@pytest.mark.parametrize("name", CRASHES)
def test_parse_json_when_input_once_crashed_the_platform_refuses_with_a_located_problem(name):
    """Each crash input of attack 3 is refused as not JSON or as refused content, with a problem that can be sent."""
    body, kind, code = CRASHES[name]
    exc = _refusal(body)
    assert type(exc) is kind
    assert [p.code for p in exc.problems] == [code]
    problem = exc.problems[0]
    assert problem.where and problem.expected_zh and problem.expected_en and problem.message_zh and problem.message_en
    json.dumps(problem.as_dict(), ensure_ascii=False, allow_nan=False).encode("utf-8")  # the envelope can be sent


def test_parse_json_when_bytes_are_not_utf8_names_line_byte_and_value():
    """Bytes that are not UTF-8 (here Latin-1 and UTF-16) are refused with where they are; a UTF-8 BOM is fine."""
    exc = _refusal('{"name":\n "Müller"}'.encode("latin-1"))
    assert exc.code == "invalid_json" and exc.problems[0].where == "line 2, byte 4" and exc.problems[0].value == "0xfc"
    assert _refusal('{"a": 1}'.encode("utf-16")).problems[0].code == "not_utf8"
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_parse_json_when_nan_or_infinity_refuses_each_with_its_path():
    """NaN, Infinity and -Infinity are not JSON: every one is named with its path."""
    exc = _refusal('{"a": [1, NaN], "b": {"c": Infinity, "d": -Infinity}}')
    assert isinstance(exc, InvalidJson)
    assert [(p.where, p.value) for p in exc.problems] == [("a[1]", "NaN"), ("b.c", "Infinity"), ("b.d", "-Infinity")]


@pytest.mark.parametrize(
    ("number", "accepted"),
    [
        ("9" * 30, True),
        ("9" * 31, False),
        ("-" + "9" * 30, True),
        ("123456789012345.123456789012345", True),
        ("123456789012345.1234567890123456", False),
        ("1.5e30", True),
        ("1.5e31", False),
        ("1E-30", True),
        ("1e-31", False),
        ("1e999999", False),
        ("1e99999999999999999999", False),
    ],
)
def test_parse_json_when_number_has_many_digits_or_a_large_exponent_takes_it_up_to_the_bound(number, accepted):
    """At most 30 digits and an exponent within ±30 are read (exactly); beyond, the number is refused with its path."""
    text = f'{{"projects": {{"P1": {{"total_investment": {number}}}}}}}'
    if accepted:
        value = parse_json(text)["projects"]["P1"]["total_investment"]
        assert value == Decimal(number)
    else:
        problem = _refusal(text).problems[0]
        assert (problem.code, problem.where) == ("number_too_long", "projects.P1.total_investment")
        assert len(str(problem.value)) <= 40


def test_parse_json_when_nested_past_the_depth_limit_refuses():
    """Objects and arrays nest up to MAX_DEPTH deep; one more level, or 100,000, is refused as too deep."""
    inner = MAX_DEPTH - 1  # the outer object is the first level
    assert parse_json('{"a": ' + "[" * inner + "]" * inner + "}")
    for depth in (MAX_DEPTH, 100_000):
        exc = _refusal('{"a": ' + "[" * depth + "]" * depth + "}")
        assert [p.code for p in exc.problems] == ["too_deep"] and exc.code == "invalid_input"
    assert parse_json('{"a": "' + "[" * 500 + '"}') == {"a": "[" * 500}  # brackets in a string do not nest


def test_parse_json_when_a_surrogate_stands_alone_refuses_it_in_keys_and_strings():
    """A lone UTF-16 surrogate in a key or a string is refused; a pair is a character, an escaped backslash is text."""
    exc = _refusal('{"P\\udc00": {"name": "x\\ud83d"}, "ok": "\\ud83d\\ude00"}')
    assert [(p.code, p.where) for p in exc.problems] == [
        ("lone_surrogate", "P\\udc00"),
        ("lone_surrogate", "P\\udc00.name"),
    ]
    json.dumps([p.as_dict() for p in exc.problems], ensure_ascii=False).encode("utf-8")
    assert parse_json('{"a": "\\ud83d\\ude00", "b": "\\\\ud800"}') == {"a": "😀", "b": "\\ud800"}
    assert _refusal('{"a": "x\ud800"}').problems[0].where == "a"  # text handed over with a raw surrogate


def test_parse_json_when_a_key_appears_twice_names_the_key_and_its_path():
    """A key given twice in one object is refused (the last value used to win silently), with where it is."""
    exc = _refusal('{"projects": {"P1": {"total_investment": 1, "total_investment": 2}}, "as_of": "2023-03-01"}')
    (problem,) = exc.problems
    assert (problem.code, problem.where, problem.value) == (
        "duplicate_key",
        "projects.P1.total_investment",
        "total_investment",
    )
    assert '键 "total_investment" 在同一对象中出现两次' in problem.message_zh
    assert 'the key "total_investment" appears twice in one object' in problem.message_en
    assert "3 times" in _refusal('{"a": 1, "a": 2, "a": 3}').problems[0].message_en
    assert parse_json('{"P1": {"a": 1}, "P2": {"a": 1}}')  # the same key in two objects is fine


def test_calculate_when_5000_values_are_bad_lists_1000_and_counts_4000_more():
    """5,000 bad inputs: the first 1,000 problems in full, then one saying 另有 4,000 处错误未列出 / 4,000 more."""
    with pytest.raises(InvalidInput) as exc:
        calculate(_request({f"P{i}": {"total_investment": -1} for i in range(5000)}))
    problems = exc.value.problems
    assert len(problems) == LISTED + 1 and exc.value.more == 4000
    assert {p.code for p in problems[:LISTED]} == {"negative_value"}
    assert (
        problems[0].where == "projects.P0.total_investment" and problems[999].where == "projects.P999.total_investment"
    )
    assert problems[-1].code == "more_problems" and problems[-1].value == 4000
    assert (
        problems[-1].message_zh == "另有 4,000 处错误未列出。" and problems[-1].message_en == "4,000 more not listed."
    )
    assert exc.value.message_en == "The input has 5000 error(s); nothing was computed."


def test_calculate_when_5000_projects_lack_inputs_lists_the_engines_first_1000_and_counts_the_rest():
    """5,000 incomplete projects (15,000 missing inputs): the engine's first 1,000 problems, then 14,000 more."""
    with pytest.raises(InvalidInput) as exc:
        calculate(_request({f"P{i}": dict(INCOMPLETE) for i in range(5000)}))
    problems = exc.value.problems
    assert len(problems) == LISTED + 1 and exc.value.more == 14_000
    assert all(p.code == "missing_input" and "2.10" in p.message_zh for p in problems[:LISTED])
    assert problems[-1].message_en == "14,000 more not listed."


def test_calculate_when_problems_pass_the_cap_builds_only_the_listed_ones(monkeypatch):
    """20,000 bad values and 60,000 missing inputs: a bounded number of Problem objects is built, not one per error."""
    built = []

    def counting(cls):
        def make(*args, **kwargs):
            built.append(1)
            return cls(*args, **kwargs)

        return make

    monkeypatch.setattr(situation, "Problem", counting(situation.Problem))
    monkeypatch.setattr(engine, "Problem", counting(engine.Problem))
    with pytest.raises(InvalidInput) as exc:
        calculate(_request({f"P{i}": {"total_investment": "x"} for i in range(20_000)}))
    assert exc.value.more == 19_000 and len(built) == LISTED
    built.clear()
    with pytest.raises(InvalidInput) as exc:
        calculate(_request({f"P{i}": dict(INCOMPLETE) for i in range(20_000)}))
    assert exc.value.more == 59_000 and len(built) <= 3 * LISTED  # the listed rows' gaps, whatever the request's size


def test_calculate_when_entities_pass_the_cap_refuses_before_reading_them():
    """More entities than max_entities (all kinds together) is one problem, found before any entity is read."""
    doc = {
        **_request({f"P{i}": {"total_investment": "not read"} for i in range(8)}),
        "enterprises": {"E1": {}, "E2": {}},
    }
    with pytest.raises(InvalidInput) as exc:
        calculate(doc, max_entities=9)
    (problem,) = exc.value.problems
    assert (problem.code, problem.value) == ("too_many_entities", 10) and "9" in problem.expected_en
    with pytest.raises(InvalidInput) as exc:
        calculate(doc, max_entities=10)
    assert {p.code for p in exc.value.problems} == {"wrong_type"}
    assert contract.MAX_ENTITIES == 200_000


def test_check_inputs_when_compared_with_the_engine_lists_the_same_problems_in_the_same_order():
    """On random incomplete requests, the capped check lists exactly the engine's first problems and counts the rest."""
    rng = random.Random(2023)
    project = {
        "application_date": "2023-03-01",
        "total_investment": 15000000,
        "equipment_investment": 8000000,
        "key_industrial_project": True,
        "zero_land_renovation": True,
        "self_owned_and_used": True,
        "land_area": 20000,
        "plot_ratio_before": 1.0,
        "plot_ratio_after": 1.3,
        "renovated_floor_area": 4000,
        "total_floor_area_after": 30000,
        "new_floor_area_storey_5": 3000,
    }
    firm = {"mujun_class": "A", "is_2513_enterprise": True, "local_contribution_growth": 0.1, "tax_per_mu": 5}
    outputs = ("tech_renovation_tier", "tech_renovation_subsidy", "key_project_reward_2513", "vertical_industry_reward")
    registry, compared = loader.variables(), 0
    for _ in range(200):
        firms = {f"E{i}": {k: v for k, v in firm.items() if rng.random() < 0.5} for i in range(rng.randint(0, 3))}
        for e in firms.values():
            if rng.random() < 0.4:
                e["low_efficiency_enterprise"] = {"2022": None, "2023": None}
        projects = {}
        for i in range(rng.randint(1, 6)):
            p = {k: v for k, v in project.items() if rng.random() < 0.5}
            if firms and rng.random() < 0.8:
                p["enterprise"] = rng.choice(list(firms))
            p.update({o: None for o in outputs if rng.random() < 0.5})
            projects[f"P{i}"] = p
        s = read_situation(
            parse_json(json.dumps({"as_of": "2023-06-01", "enterprises": firms, "projects": projects})), registry
        )
        try:
            engine.calculate(s, loader.parameters(), loader.policy(), registry, explain=False)
            full = []
        except InvalidInput as exc:
            full = exc.problems
        for listed in (1, 2, 5, LISTED):
            try:
                check_inputs(s, registry, listed)
                mine, more = [], 0
            except InvalidInput as exc:
                mine, more = exc.problems[: min(len(full), listed)], exc.more
            assert mine == full[:listed] and more == max(0, len(full) - listed)
        compared += bool(full)
    assert compared > 50  # most requests had gaps to compare


@pytest.mark.parametrize("name", [*CRASHES, "broken", "too_many_entities"])
def test_tenglong_calculate_when_input_is_refused_exits_2_with_both_languages_and_no_traceback(name, tmp_path):
    """`tenglong calculate` exits 2 with the problem in Chinese and English on stderr, and nothing on stdout."""
    path = tmp_path / "request.json"
    args = []
    if name == "broken":
        path.write_bytes(b'{"as_of": "2023-03-01",\n "projects": {')
    elif name == "too_many_entities":
        path.write_text(json.dumps(_request({f"P{i}": {} for i in range(3)})), encoding="utf-8")
        args = ["--max-entities", "2"]
    else:
        path.write_bytes(CRASHES[name][0])
    r = subprocess.run(
        [sys.executable, "-m", "tenglong.cli", "calculate", str(path), *args], capture_output=True, timeout=120
    )
    err = r.stderr.decode("utf-8")
    assert r.returncode == 2 and r.stdout == b"", err
    assert "Traceback" not in err and "错误 / Error" in err and "应为 / expected" in err


def test_tenglong_calculate_when_problems_pass_the_cap_prints_1000_and_the_count():
    """5,000 incomplete projects on the command line: 1,000 problems and "另有 14,000 处错误未列出" on stderr."""
    text = json.dumps(_request({f"P{i}": dict(INCOMPLETE) for i in range(5000)}))
    r = subprocess.run(
        [sys.executable, "-m", "tenglong.cli", "calculate", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and r.stdout == ""
    assert "\n1000. [missing_input]" in r.stderr and "\n1001. [more_problems]" in r.stderr
    assert "另有 14,000 处错误未列出。" in r.stderr and "14,000 more not listed." in r.stderr
