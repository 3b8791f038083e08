"""The policy pack is consistent: clauses, parameters, variables, rules and quotes all line up."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest

from tenglong.core import loader
from tenglong.core.boundary import TERMS
from tenglong.core.rules import RULES
from tenglong.services.calculation.catalogue import clause_links

POLICY = loader.policy()
PARAMS = loader.parameters()
VARS = loader.variables()
REQUIRED_IDS = (
    ["2." + str(k) for k in range(1, 16)]
    + ["3", "A.2"]
    + [f"A.3.{k}" for k in range(1, 17)]
    + ["A.4.1", "A.4.2", "A.4.3"]
)


def test_clauses_when_loaded_have_every_required_id_once():
    """Body 2.1–2.15 and 3, annex A.2, A.3.1–A.3.16, A.4.1–A.4.3 exist, unique, in document order."""
    ids = POLICY.ids()
    assert len(ids) == len(set(ids))
    for cid in REQUIRED_IDS:
        assert cid in ids
    assert [i for i in ids if i in REQUIRED_IDS] == REQUIRED_IDS


def test_clauses_when_compared_with_source_are_verbatim():
    """Every clause text is a verbatim substring of the shipped policy text (2.3 minus the editorial note)."""
    source = resources.files("tenglong.policy").joinpath("linzhengfa-2022-22.zh-Hans.txt").read_text(encoding="utf-8")
    for c in POLICY.clauses:
        if c.id == "2.3":
            assert c.note_zh and "加" in c.note_zh
            continue
        assert c.text_zh in source, c.id
        assert c.text_en.strip(), c.id


def test_clauses_when_extended_run_to_june_2023():
    """2.1 and 2.2 were extended only to 2023-06-30; the rest follow the policy window."""
    assert POLICY["2.1"].window.end == dt.date(2023, 6, 30)
    assert POLICY["2.2"].window.end == dt.date(2023, 6, 30)
    assert POLICY["2.10"].window.start == dt.date(2022, 7, 16)
    assert POLICY["2.10"].window.end == dt.date(2023, 12, 31)


def test_rules_when_quoting_cite_verbatim_sentences():
    """Each rule's quoted sentence is verbatim text of the clause its outcome cites."""
    from tenglong.bench.engine import AS_OF, generate
    from tenglong.core.engine import run_rules

    ctx = run_rules(
        generate(200),
        PARAMS,
        POLICY,
        AS_OF,
        AS_OF.year,
        [r for r in RULES if r.entity in ("projects", "enterprises", "land_transfers")],
    )
    for (kind, var), outcome in ctx.results.items():
        for i in range(ctx.frames[kind].n):
            assert outcome.quote_of(i) in POLICY[outcome.clause].text_zh, (kind, var)
    for module in ("merger", "land_supply"):
        mod = __import__(f"tenglong.core.rules.{module}", fromlist=["x"])
        for name in dir(mod):
            if name.startswith("QUOTE"):
                text = getattr(mod, name)
                assert any(text in c.text_zh for c in POLICY.clauses), (module, name)


def test_parameters_when_loaded_cite_existing_clauses_and_quotes():
    """Every parameter cites a clause that exists (its quote verbatim), or else names its source or reading."""
    for p in PARAMS:
        if p.clause is None:
            assert p.source or p.note_zh, p.path
            continue
        assert p.clause in POLICY, p.path
        if p.quote:
            assert p.quote in POLICY[p.clause].text_zh, p.path


def test_parameters_when_thresholds_use_known_boundary_words():
    """A threshold's word is in the 民法典 1259 table, and 超过/(不含)/不满/未达到 exclude the number."""
    for p in PARAMS:
        if p.term:
            b = TERMS[p.term]
            assert b.inclusive == (p.term not in ("超过", "(不含)以上", "不满", "未达到")), p.path


def test_parameters_when_from_the_policy_follow_its_window():
    """Policy parameters hold from 2022-07-16 and end (null) on 2024-01-01; external ones carry a source."""
    for p in PARAMS:
        if p.path.startswith("in_force.") or p.clause is None or p.source:
            continue
        assert p.dates[0] == dt.date(2022, 7, 16), p.path
        assert p.values[-1] is None and p.dates[-1] == dt.date(2024, 1, 1), p.path


def test_parameters_when_assumed_explain_themselves():
    """Every assumption has a note in both languages so officials can see the reading."""
    assumed = [p for p in PARAMS if p.assumption]
    assert {p.path for p in assumed} >= {
        "tech_renovation.stacking_2513",
        "vertical_industry.excess_area_reading",
        "low_efficiency.billion_min_revenue",
        "planning_approval.phased_min_buildings",
    }
    for p in assumed:
        assert p.note_zh and p.note_en, p.path


def test_variables_when_outputs_each_have_exactly_one_rule():
    """Every output variable is produced by one rule, and every rule output is a declared variable."""
    produced = {(r.entity, o) for r in RULES for o in r.outputs}
    assert len(produced) == sum(len(r.outputs) for r in RULES)
    for v in VARS:
        if v.role == "output" or (v.role == "both" and v.name in ("mujun_class", "tax_per_mu")):
            assert (v.entity, v.name) in produced, (v.entity, v.name)
    for kind, name in produced:
        assert VARS.get(kind, name) is not None, (kind, name)


@pytest.mark.parametrize(
    "clause", ["2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15", "A.2"]
)
def test_clause_links_when_computable_name_rules_and_parameters(clause):
    """A reader can go from each computable clause to the rules (and parameters) implementing it."""
    links = clause_links()[clause]
    assert links["rules"], clause
    if clause not in ("2.6",):
        assert links["parameters"], clause
