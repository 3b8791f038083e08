"""The synthetic county: shape, counts, calibration, determinism, persistence, defects."""

from __future__ import annotations

import io
import re

import numpy as np
import polars as pl
import pytest

from tenglong.core.credit_code import problem, valid_mask
from tenglong.demo.county import (
    COLUMNS,
    DEFECTS,
    MEASURE_COLUMNS,
    SIM_END,
    SIM_START,
    VETOES,
    generate_county,
    generate_county_with_defects,
    reference,
)

SEED = 2023
YEARS = range(2021, 2024)
WAN = 1e4
TOWN_CODES = {u["code"] for u in reference("towns")["units"]}
DIVISIONS = {d["code"] for d in reference("industries")["divisions"]}
CLASSES = {c["code"] for c in reference("industries")["classes"]}


@pytest.fixture(scope="module")
def county() -> pl.DataFrame:
    return generate_county(SEED, YEARS)


@pytest.fixture(scope="module")
def corrupted() -> tuple[pl.DataFrame, list[dict]]:
    return generate_county_with_defects(SEED, YEARS)


def _above(df: pl.DataFrame, year: int) -> pl.DataFrame:
    return df.filter(pl.col("above_scale") & (pl.col("year") == year))


def _below(df: pl.DataFrame, year: int) -> pl.DataFrame:
    return df.filter(~pl.col("above_scale") & (pl.col("year") == year))


def _per_mu(df: pl.DataFrame, column: str) -> float:
    return df[column].sum() / df["land_area_mu"].sum() / WAN


def _with_tax_per_mu(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(tax_per_mu=pl.col("tax_paid") / pl.col("land_area_mu") / WAN)


def _two_years(df: pl.DataFrame, year: int) -> pl.DataFrame:
    """Firms present in ``year`` and ``year - 1``; previous-year columns end in ``_prev``."""
    df = _with_tax_per_mu(df)
    return df.filter(pl.col("year") == year).join(
        df.filter(pl.col("year") == year - 1), on="credit_code", suffix="_prev"
    )


# --- shape ---------------------------------------------------------------------------


def test_generate_county_when_default_has_exact_columns_and_dtypes(county):
    """Exactly the agreed columns, in order, with their types."""
    assert county.columns == list(COLUMNS)
    expected = {
        "credit_code": pl.String,
        "name": pl.String,
        "year": pl.Int32,
        "town": pl.String,
        "industry": pl.String,
        "above_scale": pl.Boolean,
        "employees": pl.Int64,
        "in_construction_period": pl.Boolean,
        "veto": pl.String,
        "tags": pl.String,
    }
    for column, dtype in county.schema.items():
        assert dtype == expected.get(column, pl.Float64), column


def test_generate_county_when_rows_one_per_enterprise_year(county):
    """(credit_code, year) is unique, codes are valid and names unique within a year."""
    assert county.select("credit_code", "year").is_duplicated().sum() == 0
    assert valid_mask(county["credit_code"].to_numpy()).all()
    assert county.select("name", "year").is_duplicated().sum() == 0
    # One firm keeps one name.
    assert county.group_by("credit_code").agg(pl.col("name").n_unique())["name"].max() == 1


def test_generate_county_when_required_values_present(county):
    """No nulls except value_added (规下), emission_equivalent_t and tags; 规上 always has value added."""
    nullable = {"value_added", "emission_equivalent_t", "tags"}
    for column in COLUMNS:
        if column not in nullable:
            assert county[column].null_count() == 0, column
    above = county.filter(pl.col("above_scale"))
    assert above["value_added"].null_count() == 0
    assert (
        county.filter(~pl.col("above_scale"))["value_added"].null_count()
        == county.filter(~pl.col("above_scale")).height
    )
    share_missing = above["emission_equivalent_t"].null_count() / above.height
    assert 0.04 <= share_missing <= 0.14


def test_generate_county_when_money_is_whole_fen_and_land_four_decimals(county):
    """Money columns are rounded to 分 and land to 4 decimals; measures are non-negative."""
    for column in ("tax_paid", "value_added", "revenue", "rd_expense", "fixed_asset_investment"):
        x = county[column].drop_nulls().to_numpy()
        assert np.allclose(x * 100, np.round(x * 100), atol=1e-3), column
    land = county["land_area_mu"].to_numpy()
    assert np.allclose(land * 1e4, np.round(land * 1e4), atol=1e-3)
    for column in MEASURE_COLUMNS:
        assert county[column].drop_nulls().min() >= 0, column
    assert (land > 0).all()


def test_generate_county_when_towns_and_industries_come_from_reference(county):
    """Towns are units of towns.yaml (all 21 used); industries are 4-digit classes of industries.yaml."""
    assert set(county["town"].unique()) == TOWN_CODES
    assert all(re.fullmatch(r"C\d{4}", c) for c in county["industry"].unique())
    assert set(county["industry"].unique()) <= CLASSES
    assert {c[:3] for c in county["industry"].unique()} <= DIVISIONS


def test_generate_county_when_clusters_sit_where_domain_says(county):
    """Pharma/chemicals concentrate in 台州湾经开区 and 沿江, eyewear in 杜桥, mountain towns are light."""
    firms = county.filter(pl.col("year") == 2023)
    chem = firms.filter(pl.col("industry").str.slice(0, 3).is_in(["C26", "C27"]))
    assert chem["town"].is_in(["TZWJK", "331082111"]).mean() > 0.5
    eyewear = firms.filter(pl.col("industry") == "C3587")
    assert (eyewear["town"] == "331082112").mean() > 0.5
    counts = dict(firms.group_by("town").len().iter_rows())
    assert max(counts[t] for t in ("331082106", "331082107", "331082108", "331082109")) < min(
        counts[t] for t in ("TZWJK", "LHJK", "331082112", "331082111", "331082003", "331082002", "331082100")
    )


# --- counts and calibration ----------------------------------------------------------


@pytest.mark.parametrize("year", list(YEARS))
def test_generate_county_when_counted_per_year(county, year):
    """About 550 规上 and 2,000 规下 firms, at least 1,700 规下 with ≥ 3 亩 and some below."""
    above, below = _above(county, year), _below(county, year)
    assert 520 <= above.height <= 580
    assert 1900 <= below.height <= 2100
    assert (below["land_area_mu"] >= 3).sum() >= 1700
    assert (below["land_area_mu"] < 3).sum() >= 100
    assert (above["revenue"] >= 2e7).all() and (below["revenue"] < 2e7).all()


@pytest.mark.parametrize("seed", [SEED, 0, 1, 99])
def test_generate_county_when_calibrated_per_mu(seed):
    """规上 亩均税收 is 17–21 and 亩均增加值 90–105 万元/亩 in every year, for several seeds."""
    df = generate_county(seed, range(SIM_START, SIM_END + 1)) if seed == SEED else generate_county(seed, YEARS)
    for year in df["year"].unique().to_list():
        above = _above(df, year)
        assert 17 <= _per_mu(above, "tax_paid") <= 21, year
        assert 90 <= _per_mu(above, "value_added") <= 105, year


@pytest.mark.parametrize("year", list(YEARS))
def test_generate_county_when_ratios_are_plausible(county, year):
    """Labour productivity, R&D share, energy and carbon intensity, 规下 tax per kWh in range."""
    above, below = _above(county, year), _below(county, year)
    va = above["value_added"].sum()
    assert 18 <= va / above["employees"].sum() / WAN <= 30
    assert 0.015 <= above["rd_expense"].sum() / above["revenue"].sum() <= 0.03
    assert 1.5 <= va / WAN / above["energy_tce"].sum() <= 4
    assert 0.1 <= below["tax_paid"].sum() / below["electricity_kwh"].sum() <= 0.4
    carbon = above.group_by(pl.col("industry").str.slice(0, 3).alias("division")).agg(
        (pl.col("carbon_emission_t").sum() / (pl.col("value_added").sum() / WAN)).alias("intensity")
    )
    intensity = dict(carbon.iter_rows())
    assert all(0.2 <= v <= 3 for v in intensity.values())
    assert min(intensity["C26"], intensity["C27"]) > max(intensity["C34"], intensity["C36"])


def test_generate_county_when_giants_present(county):
    """Every year has two firms above 100 亿元: a car maker (C36) and a pharma group (C27)."""
    giants = county.filter(pl.col("revenue") > 1e10)
    assert giants.group_by("year").len()["len"].to_list() == [2, 2, 2]
    assert {c[:3] for c in giants["industry"]} == {"C36", "C27"}


@pytest.mark.parametrize("year", list(YEARS))
def test_generate_county_when_construction_period_triggers_clause_2_8(county, year):
    """2–4 % of firms are building; some invest ≥ 1 亿 and some 3,000 万–1 亿."""
    firms = county.filter(pl.col("year") == year)
    building = firms.filter(pl.col("in_construction_period"))
    assert 0.02 <= building.height / firms.height <= 0.04
    fai = building["fixed_asset_investment"]
    assert (fai >= 1e8).sum() >= 2
    assert ((fai >= 3e7) & (fai < 1e8)).sum() >= 5


def test_generate_county_when_low_efficiency_two_years_running(county):
    """A handful of 亿元 firms ≤ 10 万/亩 and a few dozen 规上 firms ≤ 5 万/亩, both two years running."""
    both = _two_years(county, 2023)
    billion = both.filter(
        (pl.col("revenue") >= 1e8)
        & (pl.col("revenue_prev") >= 1e8)
        & (pl.col("tax_per_mu") <= 10)
        & (pl.col("tax_per_mu_prev") <= 10)
    )
    assert 4 <= billion.height <= 25
    low = both.filter(pl.col("above_scale") & (pl.col("tax_per_mu") <= 5) & (pl.col("tax_per_mu_prev") <= 5))
    assert 15 <= low.height <= 60


def test_generate_county_when_vetoes_are_rare(county):
    """Vetoes use the three codes and touch well under 1 % of rows."""
    vetoes = county.filter(pl.col("veto") != "")["veto"]
    assert set(vetoes) <= set(VETOES)
    assert 0 < vetoes.len() < 0.01 * county.height


# --- determinism and persistence -----------------------------------------------------


def _csv(df: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.write_csv(buffer)
    return buffer.getvalue()


def test_generate_county_when_same_seed_is_byte_identical(county):
    """The same seed gives the same CSV, byte for byte; another seed differs."""
    assert _csv(generate_county(SEED, YEARS)) == _csv(county)
    assert _csv(generate_county(SEED + 1, YEARS)) != _csv(county)


def test_generate_county_when_years_requested_separately(county):
    """A year's rows do not depend on the other years requested."""
    alone = generate_county(SEED, [2022])
    assert alone.equals(county.filter(pl.col("year") == 2022))
    assert generate_county(SEED, [2023, 2021]).equals(county.filter(pl.col("year") != 2022))


@pytest.mark.parametrize("year", [2022, 2023])
def test_generate_county_when_consecutive_years_persist(county, year):
    """Nearly the same firms each year, rankings stable, revenue growing a few % a year."""
    both = _two_years(county, year)
    previous = county.filter(pl.col("year") == year - 1)
    assert both.height >= 0.97 * previous.height
    ranks = both.select(pl.col("tax_per_mu").rank(), pl.col("tax_per_mu_prev").rank()).to_numpy()
    assert np.corrcoef(ranks.T)[0, 1] > 0.8
    above = both.filter(pl.col("above_scale"))
    growth = (above["revenue"] / above["revenue_prev"] - 1).median()
    assert 0.0 <= growth <= 0.10
    assert (above["land_area_mu"] == above["land_area_mu_prev"]).mean() > 0.9


def test_generate_county_when_years_out_of_range():
    """Years outside 2015–2040, no years, or a negative seed are refused."""
    with pytest.raises(ValueError, match="2015"):
        generate_county(SEED, [2014])
    with pytest.raises(ValueError, match="non-empty"):
        generate_county(SEED, [])
    with pytest.raises(ValueError, match="seed"):
        generate_county(-1, YEARS)


# --- defects -------------------------------------------------------------------------


def test_generate_county_with_defects_when_list_matches_frame(corrupted):
    """Two rows per defect code, no row twice, and each listed value is what the frame holds."""
    df, defects = corrupted
    assert sorted(d["defect"] for d in defects) == sorted(DEFECTS * 2)
    assert len({d["row"] for d in defects}) == len(defects)
    for d in defects:
        assert df[d["row"], d["column"]] == d["value"], d


def test_generate_county_with_defects_when_other_rows_untouched(county, corrupted):
    """Same shape and order; every row not listed equals the clean row (measures as text)."""
    df, defects = corrupted
    assert df.columns == list(COLUMNS) and df.height == county.height
    assert all(df.schema[c] == pl.String for c in MEASURE_COLUMNS)
    clean = county.with_columns(pl.col(MEASURE_COLUMNS).cast(pl.String))
    keep = np.ones(df.height, bool)
    keep[[d["row"] for d in defects]] = False
    assert df.filter(pl.Series(keep)).equals(clean.filter(pl.Series(keep)))


def test_generate_county_with_defects_when_each_defect_is_detectable(corrupted):
    """Each corruption is the fault its code names, so a validator can find it."""
    df, defects = corrupted
    duplicated = df.select("credit_code", "year").is_duplicated()
    for d in defects:
        row, value = d["row"], d["value"]
        match d["defect"]:
            case "bad_check_character":
                assert problem(value) == "check_character"
            case "duplicate_credit_code_year":
                assert duplicated[row] and problem(value) is None
            case "missing_required":
                assert value is None
            case "negative_land":
                assert float(value) < 0
            case "zero_land":
                assert float(value) == 0
            case "non_numeric":
                with pytest.raises(ValueError):
                    float(value)
            case "unknown_town":
                assert value not in TOWN_CODES
            case "unknown_industry":
                assert value[:3] not in DIVISIONS or not re.fullmatch(r"C\d{2,4}", value)
            case "above_scale_without_value_added":
                assert df[row, "above_scale"] and value is None


def test_generate_county_when_with_defects_flag(corrupted):
    """with_defects=True returns the corrupted frame of generate_county_with_defects."""
    assert generate_county(SEED, YEARS, with_defects=True).equals(corrupted[0])
