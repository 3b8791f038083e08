"""The campaign's targets as data (policy/campaign_targets.yaml): every number of A.2 and A.3, read exactly, and the
boundary words holding at their exact values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from tenglong.core import campaign_targets as ct
from tenglong.core import loader

A2 = {
    "tax_per_mu": ("20.3", "超过", "万元/亩"),
    "value_added_per_mu": ("101.4", "超过", "万元/亩"),
    "labor_productivity": ("24.23", "超过", "万元/人"),
    "low_tax_rectified": ("1", "达到", "ratio"),
    "energy_intensity": ("0.104", "以上", "ratio"),
    "manufacturing_investment": ("0.1", "以上", "ratio"),
    "rd_intensity": ("0.023", "达到", "ratio"),
    "firms_rectified": ("1000", "达到", "家"),
    "land_revitalised": ("4500", "以上", "亩"),
    "energy_freed": ("50000", "达到", "吨标准煤"),
    "carbon_cut": ("100000", "达到", "吨"),
    "major_projects": ("6", "以上", "个"),
    "zhejiang_standards": ("10", "以上", "项"),
    "pinzibiao_firms": ("10", "以上", "家"),
}
"""Every number of 附件 二、主要目标: value, boundary word, unit."""
A3 = {
    "four_star_parks": ("2", "campaign"),
    "first_sets": ("2", "yearly"),
    "provincial_key_rd": ("1", "yearly"),
    "national_little_giants": ("1", "campaign"),
    "hidden_champions": ("3", "campaign"),
    "taizhou_little_giants": ("10", "campaign"),
    "specialised_smes": ("30", "campaign"),
    "high_tech_firms": ("30", "yearly"),
    "tech_smes": ("80", "yearly"),
    "industry_brains": ("1", "campaign"),
    "future_factories": ("1", "campaign"),
    "smart_factories": ("5", "campaign"),
    "leaders_projects_share": ("1/3", "yearly"),
    "landing_rate": ("0.5", "yearly"),
    "landed_investment_rate": ("0.1", "yearly"),
    "billion_projects": ("8", "yearly"),
    "listed_financing": ("40", "campaign"),
    "listing_reserve": ("15", "yearly"),
    "listing_filed": ("2", "yearly"),
    "pinzibiao_yearly": ("5", "yearly"),
    "key_renovation_projects": ("20", "yearly"),
    "robots": ("300", "yearly"),
    "energy_saving_projects": ("2", "yearly"),
}
"""The task numbers of 三、重点任务 with their period."""


def test_load_when_shipped_has_every_a2_number_with_its_word_and_unit():
    """Each A.2 number is present, exact, with its boundary word, unit, the deadline 2023-12-31 and its clause."""
    cat = ct.load()
    for key, (value, term, unit) in A2.items():
        t = cat[key]
        assert (t.value, t.term, t.unit, t.clause) == (Fraction(Decimal(value)), term, unit, "A.2"), key
        assert t.deadline == dt.date(2023, 12, 31) and t.period == "campaign", key
    assert [t.key for t in cat if t.clause == "A.2"] == list(A2)


def test_load_when_shipped_has_the_task_numbers_of_a3():
    """Each A.3 task number is present with its period (2–3 首台套 read as at least 2; 1/3 as an exact fraction)."""
    cat = ct.load()
    for key, (value, period) in A3.items():
        assert (cat[key].value, cat[key].period) == (ct.read_value(value), period), key
        assert cat[key].clause.startswith("A.3."), key
    assert cat["first_sets"].assumption and "2" in cat["first_sets"].note_zh
    assert cat["leaders_projects_share"].value == Fraction(1, 3)


def test_ratio_targets_when_loaded_take_value_and_term_from_their_parameters():
    """The four county ratios name their parameter and are never written twice: value, term, unit come from it."""
    params, cat = loader.parameters(), ct.load()
    for key in ("tax_per_mu", "value_added_per_mu", "labor_productivity", "rd_intensity"):
        p = params[f"targets.{key}"]
        assert cat[key].parameter == f"targets.{key}"
        assert (cat[key].value, cat[key].term, cat[key].unit) == (
            Fraction(p.at(dt.date(2023, 12, 31))),
            p.term,
            p.unit,
        )


def test_met_when_a_figure_equals_the_number_of_chaoguo_is_not_met():
    """超过 20.3 excludes 20.3 itself; 20.3 + 0.0001 meets it."""
    t = ct.load()["tax_per_mu"]
    assert ct.met(t, ct.achieved(t, Fraction(Decimal("20.3")))) is False
    assert ct.met(t, ct.achieved(t, Fraction(Decimal("20.3001")))) is True


def test_met_when_a_figure_equals_the_number_of_dadao_or_yishang_is_met():
    """达到 2.3% and 以上 include the number (《民法典》第一千二百五十九条)."""
    cat = ct.load()
    assert ct.met(cat["rd_intensity"], Fraction(23, 1000)) is True
    assert ct.met(cat["rd_intensity"], Fraction(22999, 1000000)) is False
    assert ct.met(cat["land_revitalised"], Fraction(4500)) is True
    assert ct.met(cat["land_revitalised"], Fraction(44999, 10)) is False


def test_met_when_the_reduction_is_exactly_ten_point_four_percent_meets_xiajiang_yishang():
    """A fall of exactly 10.4% from the baseline meets 下降10.4%以上; a hair less does not (exact with Fraction)."""
    t = ct.load()["energy_intensity"]
    assert t.direction == "reduction" and t.baseline_year == 2021
    base = Fraction(Decimal("0.5"))
    exact = base * (1 - Fraction(104, 1000))
    assert ct.achieved(t, exact, base, 2023) == Fraction(104, 1000)
    assert ct.met(t, ct.achieved(t, exact, base, 2023), 2023) is True
    assert ct.met(t, ct.achieved(t, exact + Fraction(1, 10**9), base, 2023), 2023) is False
    assert ct.achieved(t, exact, base, 2021) is None  # the baseline year itself has no change


def test_met_when_investment_grows_ten_percent_a_year_compares_the_compound_factor_exactly():
    """年均增长10%以上 over two years from 2021: 121% of the baseline meets it, 120.99% does not."""
    t = ct.load()["manufacturing_investment"]
    base = Fraction(1000)
    assert ct.met(t, ct.achieved(t, Fraction(1210), base, 2023), 2023) is True
    assert ct.met(t, ct.achieved(t, Fraction(12099, 10), base, 2023), 2023) is False
    assert ct.met(t, ct.achieved(t, Fraction(1100), base, 2022), 2022) is True
    assert ct.compared_with(t, 2021) is None


def test_met_when_a_town_has_a_share_compares_with_the_share():
    """A town's figure is compared with its share of the target, by the same word."""
    t = ct.load()["land_revitalised"]
    assert ct.met(t, Fraction(300), aim=Fraction(300)) is True
    assert ct.met(t, Fraction(299), aim=Fraction(300)) is False


def test_met_when_one_third_is_the_target_compares_the_fraction_exactly():
    """不低于1/3: exactly 5/15 meets it; 0.3333 does not."""
    t = ct.load()["leaders_projects_share"]
    assert ct.met(t, ct.read_value("5/15")) is True
    assert ct.met(t, ct.read_value("0.3333")) is False


def test_every_quote_when_loaded_is_verbatim_text_of_its_clause():
    """Each target quotes the policy's own words (the loader checks; here the check is seen to hold)."""
    policy = loader.policy()
    for t in ct.load():
        assert t.quote in policy[t.clause].text_zh, t.key


def _good() -> dict:
    return {
        "start": dt.date(2022, 1, 1),
        "deadline": dt.date(2023, 12, 31),
        "targets": [
            {
                "key": "robots",
                "clause": "A.3.14",
                "zh": "新增工业机器人",
                "en": "New industrial robots",
                "measure": "count",
                "unit": "台",
                "term": "达到",
                "direction": "increase",
                "value": Decimal("300"),
                "period": "yearly",
                "quote": "新增工业机器人300台",
                "source": "manual",
                "by_town": True,
            }
        ],
    }


def test_parse_when_the_file_is_right_builds_the_target():
    """A correct file gives its targets."""
    assert ct.parse(_good(), "t.yaml")["robots"].value == 300


def test_parse_when_the_file_has_many_mistakes_lists_every_one():
    """Every mistake is named with where it is, in one error: nothing is half-loaded."""
    data = _good()
    bad = dict(data["targets"][0])
    bad |= {
        "key": "Robots!",
        "clause": "A.9",
        "term": "大约",
        "direction": "sideways",
        "measure": "level",
        "value": "three hundred",
        "period": "monthly",
        "quote": "没有这句话",
        "source": "computed",
        "by_town": "yes",
        "colour": "red",
    }
    del bad["zh"]
    data["targets"].append(bad)
    data["targets"].append({**data["targets"][0]})  # the key used twice
    data["targets"].append(
        {**data["targets"][0], "key": "tax_again", "parameter": "targets.tax_per_mu", "value": Decimal("20.3")}
    )
    data["targets"].append({**data["targets"][0], "key": "change_no_base", "measure": "change"})
    data["deadline"] = "soon"
    with pytest.raises(ValueError) as exc:
        ct.parse(data, "broken.yaml")
    text = str(exc.value)
    assert text.startswith("broken.yaml: ")
    for expected in (
        "deadline: 'soon' is not a date",
        "targets[1].key: 'Robots!'",
        "targets[1] (Robots!).clause: 'A.9' is not a clause",
        "targets[1] (Robots!).zh: missing",
        "targets[1] (Robots!).term: '大约' is not a boundary word",
        "targets[1] (Robots!).direction: 'sideways'",
        "targets[1] (Robots!).measure: 'level'",
        "targets[1] (Robots!).period: 'monthly'",
        "targets[1] (Robots!).value: 'three hundred' is not a number",
        "targets[1] (Robots!).computation: None is not one of",
        "targets[1] (Robots!).by_town: 'yes' must be true or false",
        "targets[1] (Robots!).colour: unknown key",
        "targets: the key 'robots' is used twice",
        "targets[3] (tax_again).value: comes from the parameter targets.tax_per_mu",
        "targets[4] (change_no_base).baseline_year: None: a change target needs its baseline year",
    ):
        assert expected in text, expected
    assert "quote: '没有这句话' is not verbatim text" not in text  # an unknown clause has no text to check against


def test_parse_when_a_quote_is_not_in_its_clause_says_so():
    """A quote the clause does not contain is a mistake (the words must be the policy's)."""
    data = _good()
    data["targets"][0]["quote"] = "新增工业机器人3000台"
    with pytest.raises(ValueError, match=r"is not verbatim text of clause A\.3\.14"):
        ct.parse(data, "t.yaml")


def test_read_value_when_given_decimals_and_fractions_is_exact():
    """Decimals and fractions are read exactly; anything else is None."""
    assert ct.read_value("0.1") == Fraction(1, 10)
    assert ct.read_value(" 2/6 ") == Fraction(1, 3)
    assert ct.read_value("1/0") is None and ct.read_value("abc") is None and ct.read_value("NaN") is None
