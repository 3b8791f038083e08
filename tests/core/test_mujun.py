"""The 亩均 evaluation: hand-checked scores, quotas, ties, overrides, vetoes, prices, 碳效码."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenglong.core import loader, reforms
from tenglong.core.errors import ReformError
from tenglong.core.mujun.data import YearData
from tenglong.core.mujun.evaluation import evaluate, evaluate_years
from tenglong.core.mujun.explain import explain
from tenglong.core.mujun.method import Method
from tenglong.core.mujun.ranking import quota_counts
from tenglong.reference import evaluation as ref

W = 10_000.0
PARAMS = loader.parameters()
POLICY = loader.policy()
HUANGYAN = reforms.apply(
    loader.load_yaml(Path("src/tenglong/policy/methods/huangyan-2022.yaml").read_text(encoding="utf-8"))["changes"],
    PARAMS,
)


def firms(rows: list[dict], year: int = 2022) -> YearData:
    """A YearData from a few dict rows (missing floats are nan)."""
    keys = [
        "land_area_mu",
        "tax_paid",
        "value_added",
        "revenue",
        "rd_expense",
        "energy_tce",
        "emission_equivalent_t",
        "employees",
        "electricity_kwh",
        "carbon_emission_t",
        "fixed_asset_investment",
    ]
    cols = {k: np.array([r.get(k, np.nan) for r in rows], dtype=float) for k in keys}
    cols["credit_code"] = np.array([r.get("credit_code", f"C{k:03d}") for k, r in enumerate(rows)])
    cols["above_scale"] = np.array([r.get("above_scale", True) for r in rows])
    cols["industry"] = np.array([r.get("industry", "C3410") for r in rows])
    cols["in_construction_period"] = np.array([r.get("in_construction_period", False) for r in rows])
    cols["veto"] = np.array([r.get("veto", "") for r in rows])
    return YearData.from_columns(year, cols)


E1 = dict(
    land_area_mu=50,
    tax_paid=1500 * W,
    value_added=8000 * W,
    energy_tce=2500,
    emission_equivalent_t=1.5,
    employees=400,
    revenue=1e8,
    rd_expense=3.5e6,
)
E3 = dict(
    land_area_mu=30,
    tax_paid=60 * W,
    value_added=900 * W,
    energy_tce=900,
    emission_equivalent_t=2.0,
    employees=120,
    revenue=1e8,
    rd_expense=0.5e6,
)
SMALL = dict(above_scale=False, land_area_mu=8, tax_paid=60 * W, electricity_kwh=300 * W)


def test_evaluate_when_huangyan_2022_benchmarks_scores_hand_checked_cases():
    """E1 scores 118.041, E3 21.023 and the 规下 firm 74.864 with the Huangyan 2022 benchmarks."""
    r = evaluate(firms([E1, E3, SMALL]), HUANGYAN, POLICY)
    assert r.score.tolist() == [118.041, 21.023, 74.864]
    assert (
        round(float(r.scores["tax_per_mu"][0]), 3) == 37.349 and round(float(r.scores["rd_intensity"][1]), 3) == 1.656
    )


def test_evaluate_when_firm_equals_benchmarks_scores_100():
    """A firm whose indicators equal the benchmarks scores exactly 100.000 (identity check)."""
    b = dict(
        land_area_mu=1,
        tax_paid=24.097 * W,
        value_added=136.16 * W,
        energy_tce=136.16 / 2.694,
        emission_equivalent_t=136.16 / 4929.81,
        employees=136.16 / 18.14,
        revenue=1e6,
        rd_expense=0.0302e6,
    )
    assert evaluate(firms([b]), HUANGYAN, POLICY).score[0] == 100.0


@pytest.mark.parametrize(
    ("n", "expected"), [(1, (0, 1, 0, 0)), (7, (1, 5, 1, 0)), (20, (4, 12, 3, 1)), (21, (4, 13, 3, 1))]
)
def test_quota_counts_when_group_size_at_edges(n, expected):
    """A, C, D counts round half up and B is the rest (Wenling 20/60/15/5)."""
    q = {"A": Fraction(1, 5), "B": Fraction(3, 5), "C": Fraction(3, 20), "D": Fraction(1, 20)}
    c = quota_counts(n, q)
    assert (c["A"], c["B"], c["C"], c["D"]) == expected


def ladder(n: int, **extra) -> list[dict]:
    """n 规上 firms with strictly falling tax per mu (and so falling scores)."""
    return [
        dict(
            land_area_mu=10,
            tax_paid=(100 - k) * W,
            value_added=500 * W,
            energy_tce=200,
            emission_equivalent_t=1,
            employees=50,
            revenue=5e7,
            rd_expense=1e6,
            credit_code=f"F{k:03d}",
            **extra,
        )
        for k in range(n)
    ]


@pytest.mark.parametrize("n", [1, 7, 20, 21])
def test_evaluate_when_n_firms_assigns_quota_counts(n):
    """The classes of a ranked group follow the quota counts."""
    r = evaluate(firms(ladder(n)), PARAMS, POLICY)
    q = quota_counts(n, Method.of(PARAMS, POLICY, 2022).quotas_above)
    assert {c: int((r.final == c).sum()) for c in "ABCD"} == q
    assert r.rank.tolist() == list(range(1, n + 1))


def test_evaluate_when_scores_tie_breaks_by_tax_per_mu_then_credit_code():
    """Equal scores rank by tax per mu, then credit code; row order never matters."""
    base = dict(
        land_area_mu=10,
        value_added=500 * W,
        energy_tce=200,
        emission_equivalent_t=1,
        employees=50,
        revenue=5e7,
        rd_expense=1e6,
    )
    rows = [
        dict(base, tax_paid=100 * W, credit_code="B2"),
        dict(base, tax_paid=100 * W, credit_code="A1"),
        dict(base, tax_paid=100 * W, credit_code="C3"),
    ]
    weights = {
        "mujun.weights_above_scale": {
            "tax_per_mu": 0,
            "value_added_per_mu": 100,
            "value_added_per_energy": 0,
            "value_added_per_emission": 0,
            "labor_productivity": 0,
            "rd_intensity": 0,
        }
    }
    p = reforms.apply(weights, PARAMS)
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        r = evaluate(firms([rows[k] for k in order]), p, POLICY)
        assert [r.data.credit_code[i] for i in np.argsort(r.rank)] == ["A1", "B2", "C3"]
    rows[2]["tax_paid"] = 100.01 * W  # higher tax per mu wins the tie (score weight on tax is 0)
    r = evaluate(firms(rows), p, POLICY)
    assert r.data.credit_code[np.argsort(r.rank)[0]] == "C3"


def test_evaluate_when_force_a_takes_firm_out_of_the_quotas():
    """2.8: ≥ 1亿 in the construction period → A outside the A quota; the other 20 fill the quotas alone."""
    rows = ladder(21)
    rows[20].update(in_construction_period=True, fixed_asset_investment=1e8)
    r = evaluate(firms(rows), PARAMS, POLICY)
    assert r.final[20] == "A" and r.override[20] == "force_A" and r.rank[20] == 0 and r.computed[20] == ""
    assert int(r.group_size[0]) == 20 and r.counts["above_scale"] == {"A": 4, "B": 12, "C": 3, "D": 1}


def test_evaluate_when_not_d_lifts_to_c_without_refilling_d():
    """2.8: ≥ 3000万 and ranked D → C; the D slot is not given to anyone else."""
    rows = ladder(20)
    rows[19].update(in_construction_period=True, fixed_asset_investment=3e7)
    r = evaluate(firms(rows), PARAMS, POLICY)
    assert r.computed[19] == "D" and r.final[19] == "C" and r.override[19] == "not_D"
    assert int((r.final == "D").sum()) == 0 and int((r.final == "C").sum()) == 4


def test_evaluate_when_data_year_outside_validity_ignores_2_8():
    """2.8 applies to data years overlapping 2022-07-16…2023-12-31 only."""
    rows = ladder(20)
    rows[19].update(in_construction_period=True, fixed_asset_investment=2e8)
    assert evaluate(firms(rows, 2022), PARAMS, POLICY).final[19] == "A"
    assert evaluate(firms(rows, 2023), PARAMS, POLICY).final[19] == "A"
    assert evaluate(firms(rows, 2021), PARAMS, POLICY).final[19] == "D"
    assert evaluate(firms(rows, 2024), PARAMS, POLICY).final[19] == "D"


def test_evaluate_when_vetoed_forces_d_outside_ranking_even_with_2_8():
    """A veto forces D, takes the firm out of the ranking, and prevails over 2.8 (assumptions)."""
    rows = ladder(21)
    rows[0].update(veto="fatal_safety_accident", in_construction_period=True, fixed_asset_investment=2e8)
    r = evaluate(firms(rows), PARAMS, POLICY)
    assert r.final[0] == "D" and r.vetoed[0] and r.rank[0] == 0 and r.group_size[1] == 20
    assert any("一票否决" in line for line in explain(r, 0))


def test_evaluate_when_below_scale_land_under_3_mu_is_not_evaluated():
    """规下 firms need ≥ 3 亩 (inclusive); below that they are listed with the reason."""
    r = evaluate(firms([dict(SMALL, land_area_mu=3), dict(SMALL, land_area_mu=2.9999)]), PARAMS, POLICY)
    assert r.evaluated.tolist() == [True, False] and r.reason[1] == "below_min_land" and r.final[1] == ""
    assert "不参评" in explain(r, 1)[-1]


def test_evaluate_when_emission_missing_gives_mean_item_score():
    """No emission data → the mean 规上 score of that item (Huangyan rule)."""
    rows = ladder(3)
    rows[1]["emission_equivalent_t"] = np.nan
    r = evaluate(firms(rows), PARAMS, POLICY)
    item = r.scores["value_added_per_emission"]
    assert r.imputed["value_added_per_emission"][1] and item[1] == pytest.approx((item[0] + item[2]) / 2)


def test_evaluate_years_when_d_three_years_running_raises_the_surcharge():
    """D → 0.30 元/kWh; D three years running → 0.40; relief A 100%, B 80%, C/D 0."""
    years = {y: firms(ladder(20), y) for y in (2021, 2022, 2023)}
    res = evaluate_years(years, PARAMS, POLICY)
    last = 19
    assert [res[y].final[last] for y in (2021, 2022, 2023)] == ["D", "D", "D"]
    assert res[2022].surcharge[last] == pytest.approx(0.30) and res[2023].surcharge[last] == pytest.approx(0.40)
    assert res[2023].relief[0] == 1.0 and res[2023].relief[5] == 0.8 and res[2023].relief[last] == 0.0


def test_evaluate_years_when_tax_per_mu_low_two_years_flags_low_efficiency():
    """A.2: tax per mu ≤ 5 万元 in both years (exactly 5 counts) → low-efficiency; 5.0001 does not."""

    def year(y, tax):
        return firms(
            [
                dict(ladder(1)[0], credit_code="X", tax_paid=tax * 10 * W),
                dict(ladder(1)[0], credit_code="Y", tax_paid=50 * W + 1),
            ],
            y,
        )

    res = evaluate_years({2022: year(2022, 5), 2023: year(2023, 5)}, PARAMS, POLICY)
    assert res[2023].low_efficiency.tolist() == [True, False]
    assert res[2022].low_efficiency.tolist() == [False, False]  # no 2021 data


def test_carbon_code_when_k_at_cut_points_takes_the_lower_grade():
    """碳效值 cut points 0.6, 0.8, 1.2, 2.0 are inclusive upper bounds (domain.md §6.3)."""
    rows = []
    for k, (a, b) in enumerate([(0.6, 1.4), (0.8, 1.2), (1.2, 0.8), (2.0, 0.0), (0.45, 0.45 * 3)]):
        for x in (a, b):
            rows.append(
                dict(
                    ladder(1)[0],
                    credit_code=f"K{k}{x}",
                    industry=f"C{20 + k}10",
                    value_added=10 * W,
                    carbon_emission_t=x * 10,
                )
            )
    r = evaluate(firms(rows), PARAMS, POLICY)
    assert r.carbon_grade[[0, 2, 4, 6]].tolist() == [1, 2, 3, 4]
    assert r.carbon_value[8] == pytest.approx(0.5) and r.carbon_grade[8] == 1 and r.carbon_level[8] == 1


def test_method_when_override_file_is_invalid_lists_every_problem():
    """A method file is checked in full; nothing is applied when any entry is wrong."""
    with pytest.raises(ReformError) as exc:
        reforms.apply(
            {"mujun.quotas_above_scale": {"A": "lots"}, "mujun.no_such": 1, "mujun.benchmark_mode": "median"}, PARAMS
        )
    assert {p.code for p in exc.value.problems} == {"invalid_parameter_value", "unknown_parameter"}
    assert len(exc.value.problems) == 3
    assert PARAMS["mujun.benchmark_mode"].last_value() == "aggregate"


COUNTY = st.lists(
    st.fixed_dictionaries(
        {
            "above_scale": st.booleans(),
            "land_area_mu": st.sampled_from([2.9999, 3, 5, 10, 25.5, 60]),
            "tax_paid": st.integers(0, 3000).map(lambda x: x * W),
            "value_added": st.integers(1, 20000).map(lambda x: x * W),
            "energy_tce": st.sampled_from([0.0, 100, 800, 3000]),
            "emission_equivalent_t": st.sampled_from([np.nan, 0.5, 2.0]),
            "employees": st.integers(1, 800).map(float),
            "revenue": st.integers(1, 100).map(lambda x: x * 1e6),
            "rd_expense": st.integers(0, 50).map(lambda x: x * 1e4),
            "electricity_kwh": st.sampled_from([0.0, 1e5, 3e6]),
            "in_construction_period": st.booleans(),
            "fixed_asset_investment": st.sampled_from([0.0, 29_999_999.99, 3e7, 99_999_999.99, 1e8]),
            "veto": st.sampled_from(["", "", "", "falsified_data"]),
            "industry": st.sampled_from(["C2710", "C2614", "C3410"]),
            "carbon_emission_t": st.sampled_from([np.nan, 0.0, 120.0, 900.5, 4000.0]),
            "last_year_tax": st.sampled_from([None, 0.0, 50 * W, 500 * W]),
        }
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(COUNTY, st.sampled_from([2021, 2022, 2023]))
def test_evaluate_when_random_county_matches_per_row_reference(rows, year):
    """Scores, ranks and final classes agree with the per-row reference, whatever the row order."""
    for k, r in enumerate(rows):
        r["credit_code"] = f"R{k:03d}"
    random.Random(len(rows)).shuffle(rows)
    history = [dict(r, tax_paid=r["last_year_tax"]) for r in rows if r["last_year_tax"] is not None]
    prev = evaluate(firms(history, year - 1), PARAMS, POLICY) if history else None
    r = evaluate(firms(rows, year), PARAMS, POLICY, prev)
    m = Method.of(PARAMS, POLICY, year)
    live = m.window_2_8.overlaps_year(year)
    previous = (
        {
            str(prev.data.credit_code[i]): {
                "d_streak": int(prev.d_streak[i]),
                "tax_paid": float(prev.data["tax_paid"][i]),
                "land_area_mu": float(prev.data["land_area_mu"][i]),
            }
            for i in range(prev.data.n)
        }
        if prev
        else {}
    )
    want = ref.evaluate(
        rows, m, live, Decimal(100_000_000), Decimal(30_000_000), previous, m.window_a2.overlaps_year(year)
    )
    for i, code in enumerate(r.data.credit_code):
        w = want[code]
        assert bool(r.evaluated[i]) == w["evaluated"], code
        if w["evaluated"]:
            assert r.score[i] == w["score"], code
            assert r.final[i] == w["final"], (code, r.final[i], w["final"])
            assert int(r.rank[i]) == w.get("rank", 0), code
            assert (
                r.surcharge[i] == pytest.approx(w["surcharge"])
                and r.relief[i] == w["relief"]
                and int(r.d_streak[i]) == w["d_streak"]
            ), code
            assert int(r.carbon_grade[i]) == w["carbon_grade"], code
        assert (
            bool(r.low_efficiency[i]) == w["low_efficiency"] and bool(r.billion_low_tax[i]) == w["billion_low_tax"]
        ), code
        assert bool(r.candidate[i]) == w["candidate"], code


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 200), st.integers(0, 200), st.booleans(), st.integers(0, 10**6))
def test_match_when_codes_overlap_finds_each_firm_of_the_year_before(n_prev, n_cur, sort, seed):
    """Matching firms across years by credit code agrees with a dict, sorted or not."""
    from tenglong.core.credit_code import make_code
    from tenglong.core.mujun.matching import match

    rng = np.random.default_rng(seed)
    pool = make_code(rng, 300)
    prev, cur = rng.choice(pool, n_prev, replace=False), rng.choice(pool, n_cur, replace=False)
    if sort:
        prev, cur = np.sort(prev), np.sort(cur)
    where = {c: i for i, c in enumerate(prev.tolist())}
    assert match(prev, cur).tolist() == [where.get(c, -1) for c in cur.tolist()]
