"""A synthetic but plausible Linhai: one row per industrial enterprise and year.

Nothing here is real. Names, codes and numbers are generated; a resemblance to a real
firm is a coincidence (the real names listed in domain.md §5 are kept out of the
name pool). The generator exists so that the evaluation, the registers and the
importers have a county-sized, realistically messy input to run on.

Facts used (docs/domain.md; [S] sourced, [D] derived, [A] assumption):

* Scope and size: about 550 规上 firms (530 in 2020 [S], §5) and 2,000 规下 firms
  (the count was not found; 1,500–2,500 evaluated 规下 firms is [A], §5), of which
  at least 1,700 hold ≥ 3 亩, the 规下 evaluation threshold (§1.5 [S]).
* Level: the 规上 亩均税收 and 亩均增加值 are calibrated, year by year, to the seed's
  2023 targets of 20.3 and 101.4 万元/亩 (临政发〔2022〕22号 附件 二 [S]) with a 3 %
  yearly trend, ±1 % noise and clipping to 17.4–20.8 and 91–104, so every year lands
  in 17–21 and 90–105. Total 规上 land comes out near 2.7 万亩, the derived estimate
  of §5 [D]; 规上 revenue near 1,100 亿元 (1,051 亿 in 2021 [S]).
* 规下 亩均税收 (firms ≥ 3 亩) is calibrated to 11 万元/亩 in 2023: Huangyan's 规下
  benchmark was 11.59–16.60 (§1.2 [S]) and Linhai's 规上 target is about 80 % of
  Huangyan's 规上 benchmark [D]. 规下 tax per kWh is centred near Huangyan's
  0.235 元/kWh benchmark (§1.2 [S]).
* Ratios near the Huangyan benchmarks and seed targets (§1.2, §5): labour productivity
  22–24 万元/人 (seed target 24.23), R&D ≈ 2–3 % of revenue (seed target 2.3 %), value
  added per tce ≈ 2.5 (Huangyan 2.54–2.69, 等价值), value added per t of emission
  ≈ 5,000 万元 (Huangyan 4,861–4,930).
* Industries (§5 [S]): 医药化工 in 台州湾经济技术开发区 and 沿江, 汽车机械, 时尚休闲 /
  户外休闲用品, eyewear in 杜桥 (C3587, see industries.yaml), two giants above 100 亿
  (a car maker and a pharma group, like the "2513" top tier of §4).
* Carbon (§3 [A] factors): CO2 = electricity × 0.5703 t/MWh (national grid average
  factor) + non-electric energy × a fuel factor (2.5 t/tce for chemical fuels, 1.8
  otherwise). Electricity is converted at 0.300 kgce/kWh (等价值, approximate).
* Clause 2.8 (seed (八)): about 3 % of firms per year are in a construction period,
  with fixed investment ≥ 1 亿 for some and 3,000 万–1 亿 for others; their new land
  counts from the start of construction but produces only after it ends.
* The A.3.16 tags (上市企业, 国家“小巨人”企业…; :data:`TAG_SHARES_ABOVE`, :data:`TAG_SHARES_BELOW`) [A]:
  a fixed share of the 规上 firms carries each, drawn with weights growing with the firm's size
  (land × value added per mu), so the large and efficient firms carry most; a few 规下 firms are
  战略性新兴产业. The two giants are listed and "2513" key enterprises. Tags are firm-level: a
  firm carries the same tags every year.
* Low efficiency (seed 附件 二): about a dozen 亿元 firms with 亩均税收 ≤ 10 万 two
  years running (four planted and kept out of the calibration, the rest natural) and
  a few dozen 规上 firms ≤ 5 万 two years running (a 10 % minority of laggards).
  规下 firms are more dispersed, so a few hundred of them are ≤ 5 万. Low-efficiency
  firms exit more often.

How it works: a fixed pool of firms (incumbents in 2015 plus a few entrants each
year) gets firm-level attributes from the seed alone. Each firm's log value added per
productive mu follows its own drift (median +4.5 %/yr) plus AR(1) noise. Each year the
规上 value added and tax of the non-anchored firms are scaled by one county factor so
the county ratios meet that year's targets; the two giants and the planted firms keep
absolute values. Year draws use ``(seed, year)``, so a year's rows do not depend on
which other years are asked for, and the output is identical for identical arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from tenglong.core import reference_data
from tenglong.core.credit_code import CHARSET, make_code

SIM_START, SIM_END = 2015, 2040
"""Years the generator can produce."""

COLUMNS = (
    "credit_code",
    "name",
    "year",
    "town",
    "industry",
    "above_scale",
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
    "in_construction_period",
    "veto",
    "tags",
)
MEASURE_COLUMNS = COLUMNS[6:17]
"""Numeric columns; the defect variant returns these as text."""

VETOES = ("fatal_safety_accident", "serious_environmental_violation", "falsified_data")
DEFECTS = (
    "bad_check_character",
    "duplicate_credit_code_year",
    "missing_required",
    "negative_land",
    "zero_land",
    "non_numeric",
    "unknown_town",
    "unknown_industry",
    "above_scale_without_value_added",
)
WAN = 1e4  # 元 per 万元

# The A.3.16 tags (quality_retention category keys): the share of firms that carry each. An assumption [A]: no
# count per tag was found; Linhai has about ten listed manufacturing firms, and national / provincial lists
# (小巨人, 隐形冠军, 未来工厂) name a few firms per county. Shares of the 规上 firms (about 550: 0.6 % ≈ 3 listed
# firms besides the two giants), and of the 规下 firms.
TAG_SHARES_ABOVE = {
    "listed": 0.006,
    "ipo_filed": 0.003,
    "single_champion": 0.005,
    "little_giant": 0.01,
    "hidden_champion": 0.01,
    "future_factory": 0.005,
    "key_2513": 0.02,
    "strategic_emerging": 0.06,
}
TAG_SHARES_BELOW = {"strategic_emerging": 0.002}
EMERGING_SECTORS = {"pharma": 3.0, "electronics": 3.0, "electrical": 2.0, "auto": 1.5}
"""How much likelier a firm of these sectors is 战略性新兴产业 (生物医药, 电子信息, 新能源汽车…) [A]."""
GIANT_TAGS = "listed,key_2513"


@dataclass(frozen=True)
class Calibration:
    """Targets and sizes of the synthetic county (all overridable)."""

    tax_per_mu_2023: float = 20.3  # 万元/亩, seed 附件 二 [S]
    value_added_per_mu_2023: float = 101.4  # 万元/亩, seed 附件 二 [S]
    below_tax_per_mu_2023: float = 11.0  # 万元/亩, 规下 ≥ 3 亩 [D from Huangyan]
    trend: float = 0.03  # yearly growth of the targets [A]
    tax_band: tuple[float, float] = (17.4, 20.8)
    value_added_band: tuple[float, float] = (91.0, 104.0)
    below_tax_band: tuple[float, float] = (9.0, 12.5)
    above_firms: int = 550
    above_entrants_per_year: int = 4
    below_firms: int = 2000
    below_small_firms: int = 220  # 规下 firms under 3 亩
    below_entrants_per_year: int = 15
    above_land_median: float = 27.0  # 亩; gives about 2.7 万亩 of 规上 land [D]
    efficiency_sigma: tuple[float, float] = (0.3, 0.45)  # log spread of value added per mu, 规上 / 规下
    efficiency_land_elasticity: float = 0.25  # larger plots are somewhat more productive [A]
    laggard_share: float = 0.10  # 规上 firms far behind their industry [A]
    laggard_factor: float = 0.3  # their value added per mu relative to peers [A]
    exit_hazard: tuple[float, float] = (0.006, 0.0075)  # yearly exit probability, 规上 / 规下 [A]
    electricity_tce_per_kwh: float = 0.000300  # 等价值, approximate [A]
    grid_co2_t_per_kwh: float = 0.0005703  # national grid average factor [A]


@dataclass(frozen=True)
class Sector:
    """Industry profile: medians of firm-level ratios (see the module docstring)."""

    key: str
    share_above: float  # share of 规上 firms
    share_below: float  # share of 规下 firms
    efficiency: float  # relative value added per mu
    va_rate: float  # value added / revenue
    tax_to_va: float  # tax / value added
    va_per_tce: float  # 万元 / tce (等价值)
    va_per_emission: float  # 万元 / t pollutant equivalent
    elec_share: float  # electricity share of energy (tce)
    fuel_co2: float  # t CO2 / tce of non-electric energy
    productivity: float  # 万元 value added / employee
    rd_rate: float  # R&D / revenue
    classes: dict[str, float]  # GB/T 4754 class -> relative frequency
    words: tuple[str, ...]  # words for firm names


# Profiles [A], tuned so the county ratios land near the Huangyan benchmarks (§1.2).
#               规上  规下  eff   VA/rev tax/VA VA/tce VA/t   elec  fuel  VA/emp R&D
_PROFILES = {
    "pharma": (0.10, 0.02, 1.14, 0.32, 0.200, 2.3, 3000, 0.45, 2.5, 40, 0.032),
    "chemical": (0.08, 0.03, 1.00, 0.24, 0.195, 1.4, 2000, 0.40, 2.5, 36, 0.020),
    "auto": (0.12, 0.10, 1.07, 0.20, 0.200, 4.8, 13000, 0.85, 1.8, 26, 0.021),
    "machinery": (0.20, 0.22, 1.00, 0.24, 0.190, 4.1, 12000, 0.85, 1.8, 22, 0.019),
    "leisure": (0.14, 0.18, 0.89, 0.22, 0.174, 3.9, 10000, 0.80, 1.8, 14, 0.010),
    "eyewear": (0.05, 0.10, 1.02, 0.26, 0.180, 4.8, 10000, 0.90, 1.8, 16, 0.013),
    "plastics": (0.10, 0.12, 0.89, 0.21, 0.180, 2.2, 6500, 0.90, 1.8, 18, 0.013),
    "metal": (0.09, 0.12, 0.84, 0.22, 0.180, 2.8, 6000, 0.75, 1.8, 18, 0.012),
    "electrical": (0.06, 0.06, 1.00, 0.22, 0.190, 4.8, 13000, 0.90, 1.8, 22, 0.021),
    "electronics": (0.03, 0.02, 1.10, 0.22, 0.185, 5.5, 13000, 0.92, 1.8, 24, 0.026),
    "nonmetal": (0.03, 0.03, 0.77, 0.25, 0.195, 1.15, 2500, 0.35, 2.4, 26, 0.010),
}
_CLASSES = {
    "pharma": {"C2710": 5, "C2720": 3, "C2740": 1, "C2761": 1},
    "chemical": {"C2614": 2, "C2631": 1, "C2641": 1, "C2661": 2, "C2662": 2, "C2669": 2},
    "auto": {"C3670": 9, "C3612": 1},
    "machinery": {"C3441": 2, "C3443": 2, "C3444": 2, "C3453": 1, "C3482": 1, "C3484": 2},
    "leisure": {
        "C2110": 1,
        "C2130": 3,
        "C2190": 1,
        "C2439": 3,
        "C2442": 2,
        "C2449": 2,
        "C2459": 1,
        "C1819": 1,
        "C1922": 1,
        "C1952": 1,
    },
    "eyewear": {"C3587": 1},
    "plastics": {"C2913": 1, "C2922": 2, "C2927": 2, "C2929": 3},
    "metal": {"C3311": 2, "C3322": 2, "C3392": 1, "C3399": 3},
    "electrical": {"C3812": 2, "C3872": 2, "C3879": 1},
    "electronics": {"C3982": 1, "C3989": 1},
    "nonmetal": {"C3021": 2, "C3099": 1},
}
_WORDS = {
    "pharma": ("药业", "制药", "医药化工", "生物医药", "医药科技"),
    "chemical": ("化工", "化学", "新材料", "精细化工", "涂料"),
    "auto": ("汽车部件", "汽配", "车业", "汽车零部件"),
    "machinery": ("机械", "泵业", "阀门", "液压", "机电", "齿轮"),
    "leisure": ("休闲用品", "工艺品", "家具", "户外用品", "体育用品", "礼品"),
    "eyewear": ("眼镜", "光学眼镜", "眼镜配件"),
    "plastics": ("塑业", "橡塑", "塑胶制品", "橡胶制品"),
    "metal": ("五金", "金属制品", "铸造", "工具"),
    "electrical": ("电器", "电机", "照明", "灯饰"),
    "electronics": ("电子", "电子科技"),
    "nonmetal": ("建材", "新型建材", "石材"),
}
SECTORS = tuple(Sector(k, *v, _CLASSES[k], _WORDS[k]) for k, v in _PROFILES.items())
_PHARMA, _CHEMICAL, _AUTO = 0, 1, 2

# Relative weight of each unit for industry in general [A]: zones and the coastal /
# valley towns heavier, the mountain towns (括苍, 白水洋, 永丰, 尤溪, 河头) lighter.
TOWN_WEIGHTS = {
    "331082001": 0.6,
    "331082002": 2.0,
    "331082003": 2.0,
    "331082004": 1.2,
    "331082005": 1.2,
    "331082100": 2.0,
    "331082101": 1.0,
    "331082103": 0.6,
    "331082104": 0.5,
    "331082105": 0.4,
    "331082106": 0.3,
    "331082107": 0.2,
    "331082108": 0.3,
    "331082109": 0.3,
    "331082110": 0.6,
    "331082111": 2.2,
    "331082112": 2.5,
    "331082113": 0.8,
    "331082114": 0.5,
    "TZWJK": 3.0,
    "LHJK": 2.5,
}
_MOUNTAIN = ("331082105", "331082106", "331082107", "331082108", "331082109")
_CHEM_TOWNS = {"TZWJK": 8.0, "331082111": 5.0, **{t: 0.05 for t in _MOUNTAIN}, "*": 0.25}
AFFINITY = {  # sector -> town multiplier ("*" = every other unit)
    "pharma": _CHEM_TOWNS,
    "chemical": _CHEM_TOWNS,
    "eyewear": {"331082112": 20.0, "TZWJK": 1.5, "*": 0.3},
    "auto": {"TZWJK": 2.0, "LHJK": 2.0, "331082003": 1.5, "331082002": 1.3},
    "machinery": {"LHJK": 1.5},
}

_PREFIXES = ("临海市", "浙江", "台州")
_TRADE_CHARS = "鑫华达顺宏盛恒泰永金源利丰新兴隆昌和信德安通海天宇凯瑞联立中强力高本星伟明东江远博晨锦豪"
_REAL_NAMES = frozenset({"伟星", "华海", "永太", "联盛", "海宏", "沙星", "力高", "本立", "永强", "豪情"})

_TAG_FIRMS, _TAG_NAMES, _TAG_CODES, _TAG_DEFECTS, _TAG_TAGS = 1, 2, 3, 4, 5
_TAG_YEAR = 100


def reference(name: str) -> dict:
    """The ``towns`` or ``industries`` document (see :mod:`tenglong.core.reference_data`)."""
    return reference_data.document(name)


def _lognormal(rng: np.random.Generator, median: float | np.ndarray, sigma: float, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(rng.normal(0.0, sigma, n))


def _trend(year: int, rate: float, low: float, high: float) -> float:
    return float(np.clip((1 + rate) ** (year - 2023), low, high))


def _target(value_2023: float, year: int, cal: Calibration, noise: float, band: tuple[float, float]) -> float:
    """A county target: the 2023 value moved by the yearly trend and noise, clipped to its band."""
    return float(np.clip(value_2023 * (1 + cal.trend) ** (year - 2023) * noise, *band))


@dataclass
class _Pool:
    """Firm-level (year-independent) attributes, one entry per firm ever active."""

    above: np.ndarray
    kind: np.ndarray  # 0 ordinary, 1 giant, 2 planted 亿元 low-tax firm
    sector: np.ndarray  # index into SECTORS
    industry: np.ndarray
    town: np.ndarray
    entry: np.ndarray  # first active year
    exit: np.ndarray  # first inactive year
    land0: np.ndarray
    log_eff: np.ndarray
    growth: np.ndarray
    tax_to_va: np.ndarray
    va_rate: np.ndarray
    productivity: np.ndarray
    va_per_tce: np.ndarray
    va_per_emission: np.ndarray
    elec_share: np.ndarray
    fuel_co2: np.ndarray
    rd_rate: np.ndarray
    fai_rate: np.ndarray
    tax_per_kwh: np.ndarray
    emission_missing: np.ndarray
    build_start: np.ndarray
    build_end: np.ndarray
    build_land: np.ndarray
    build_tier: np.ndarray  # 0: < 3,000 万, 1: 3,000 万–1 亿, 2: ≥ 1 亿
    anchor_revenue: np.ndarray
    anchor_tax_per_mu: np.ndarray
    anchor_employees: np.ndarray
    credit_code: np.ndarray
    name: np.ndarray
    tags: np.ndarray  # the A.3.16 tags, comma-joined keys, None for none


def _unit_weights() -> tuple[np.ndarray, np.ndarray]:
    """Codes of towns.yaml and their industry weights; every unit must have a weight."""
    codes = [t.code for t in reference_data.towns()]
    if set(codes) != set(TOWN_WEIGHTS):
        raise ValueError(f"TOWN_WEIGHTS and towns.yaml disagree: {sorted(set(codes) ^ set(TOWN_WEIGHTS))}")
    return np.array(codes), np.array([TOWN_WEIGHTS[c] for c in codes])


def _check_classes() -> None:
    known = {i.code for i in reference_data.industries() if i.level == "class"}
    missing = sorted({c for s in SECTORS for c in s.classes} - known)
    if missing:
        raise ValueError(f"classes missing from industries.yaml: {missing}")


def _place(rng: np.random.Generator, sector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Industry class and town of each firm, by its sector's class mix and town affinity."""
    _check_classes()
    codes, base = _unit_weights()
    industry = np.empty(sector.size, "<U5")
    town = np.empty(sector.size, "<U9")
    for i, s in enumerate(SECTORS):  # a loop over 11 sectors, not over firms
        idx = np.flatnonzero(sector == i)
        weights = np.array(list(s.classes.values()), float)
        industry[idx] = rng.choice(list(s.classes), idx.size, p=weights / weights.sum())
        aff = AFFINITY.get(s.key, {})
        w = base * np.array([aff.get(c, aff.get("*", 1.0)) for c in codes])
        town[idx] = rng.choice(codes, idx.size, p=w / w.sum())
    industry[:2], town[:2] = ["C3611", "C2710"], ["TZWJK", "TZWJK"]  # the giants
    return industry, town


def _land_and_efficiency(rng, cal: Calibration, above, entry, sector) -> tuple[np.ndarray, np.ndarray]:
    """Base land (亩) and log value added per mu (relative) of each firm."""
    n = above.size
    below_idx = np.flatnonzero(~above)
    small = np.zeros(n, bool)  # 规下 under 3 亩: a fixed number of incumbents, 10 % of entrants
    small[below_idx[: cal.below_small_firms]] = True
    small[below_idx[cal.below_firms :]] = rng.random(below_idx.size - cal.below_firms) < 0.10
    land0 = np.where(
        above,
        np.clip(_lognormal(rng, cal.above_land_median, 0.85, n), 2.0, 600.0),
        np.where(small, rng.uniform(0.6, 2.95, n), np.minimum(3 + _lognormal(rng, 4.0, 0.75, n), 80.0)),
    )
    land0[:2] = [1600.0, 1300.0]
    efficiency = np.array([s.efficiency for s in SECTORS])[sector]
    log_eff = np.log(efficiency) + rng.normal(0, 1, n) * np.where(above, *cal.efficiency_sigma)
    log_land = np.log(land0)
    for group in (above, ~above):
        log_eff[group] += cal.efficiency_land_elasticity * (log_land[group] - np.median(log_land[group]))
    log_eff -= np.where(entry > SIM_START, 0.15, 0.0)  # newcomers start a little behind
    # A minority of 规上 laggards makes the low tail (the 亩均税收 ≤ 5 万 firms of 附件 二).
    laggard = above & (rng.random(n) < cal.laggard_share)
    laggard[:2] = False
    log_eff[laggard] += np.log(cal.laggard_factor)
    return land0, log_eff


def _anchors(rng, above, entry, sector, kind, land0) -> dict[str, np.ndarray]:
    """Absolute values for the two giants and four planted 亿元 low-tax firms (kind 1, 2)."""
    n = above.size
    heavy = np.isin(sector, [_CHEMICAL, _AUTO, 3, 6, 7])  # and machinery, plastics, metal
    planted = rng.choice(np.flatnonzero(above & (kind == 0) & (entry == SIM_START) & heavy), 4, replace=False)
    kind[planted] = 2
    land0[planted] = rng.uniform(110, 260, planted.size)
    revenue, tax_per_mu, employees = np.zeros(n), np.zeros(n), np.zeros(n)
    revenue[:2] = [150e8, 115e8]  # 2023 revenue of the car maker and the pharma group
    tax_per_mu[:2] = [150e8 * 0.028 / 1600 / WAN, 115e8 * 0.04 / 1300 / WAN]
    employees[:2] = [9000, 8500]
    revenue[planted] = rng.uniform(1.3e8, 3.5e8, planted.size)
    tax_per_mu[planted] = rng.uniform(5.5, 8.8, planted.size)
    return {"anchor_revenue": revenue, "anchor_tax_per_mu": tax_per_mu, "anchor_employees": employees}


def _lifecycle(rng, cal: Calibration, above, entry, kind, land0, log_eff) -> dict[str, np.ndarray]:
    """Exit year and the one construction window (clause 2.8) of each firm."""
    n = above.size
    # Geometric lifetimes, twice as likely to end for the least efficient fifth.
    low = log_eff < np.quantile(log_eff, 0.2)
    exit_year = entry + rng.geometric(np.where(above, *cal.exit_hazard) * np.where(low, 2.0, 0.75))
    exit_year[kind > 0] = 10_000
    # About 40 % of firms build once in 26 years, 1–3 years long: ~3 % of firms a year.
    builds = (rng.random(n) < 0.40) & (kind == 0)
    start = np.where(builds, rng.integers(SIM_START, SIM_END + 1, n), 10_000)
    tier_p = np.where(above[:, None], [[0.25, 0.40, 0.35]], [[0.65, 0.30, 0.05]])
    return {
        "exit": exit_year,
        "build_start": start,
        "build_end": start + rng.choice([1, 2, 3], n, p=[0.3, 0.45, 0.25]),
        "build_land": land0 * np.clip(_lognormal(rng, np.where(above, 0.4, 0.6), 0.5, n), 0.1, 2.0),
        "build_tier": (rng.random(n)[:, None] > np.cumsum(tier_p, axis=1)).sum(axis=1),
    }


def _ratios(rng, above, sector, kind) -> dict[str, np.ndarray]:
    """Firm-level ratios: each sector median times a log-normal firm factor."""
    n = above.size
    prof = {
        f: np.array([getattr(s, f) for s in SECTORS])[sector]
        for f in (
            "va_rate",
            "tax_to_va",
            "va_per_tce",
            "va_per_emission",
            "elec_share",
            "fuel_co2",
            "productivity",
            "rd_rate",
        )
    }
    va_rate = np.clip(_lognormal(rng, prof["va_rate"], 0.18, n), 0.08, 0.6)
    va_rate[:2] = [0.20, 0.33]
    rd_rate = np.clip(_lognormal(rng, prof["rd_rate"], 0.6, n), 0, 0.15)
    # One 规上 firm in ten reports no R&D; 规下 firms rarely do, and little.
    rd_rate *= np.where(above, rng.random(n) >= 0.10, (rng.random(n) < 0.4) * 0.3)
    rd_rate[:2] = [0.03, 0.06]
    return {
        "growth": np.clip(rng.normal(0.045, 0.015, n), 0.0, 0.10),
        "tax_to_va": _lognormal(rng, prof["tax_to_va"], 0.2, n),
        "va_rate": va_rate,
        "productivity": _lognormal(rng, prof["productivity"], 0.3, n) * np.where(above, 1.0, 0.6),
        "va_per_tce": _lognormal(rng, prof["va_per_tce"], 0.35, n),
        "va_per_emission": _lognormal(rng, prof["va_per_emission"], 0.6, n),
        "elec_share": np.clip(prof["elec_share"] * rng.uniform(0.9, 1.08, n), 0.2, 0.98),
        "fuel_co2": prof["fuel_co2"],
        "rd_rate": rd_rate,
        "fai_rate": _lognormal(rng, 0.03, 0.8, n),
        "tax_per_kwh": _lognormal(rng, 0.235, 0.45, n),  # 规下 only; Huangyan B2 ≈ 0.235 元/kWh
        "emission_missing": above & (kind == 0) & (rng.random(n) < 0.08),
    }


def _make_pool(seed: int, cal: Calibration) -> _Pool:
    """Every firm that is active in some year of SIM_START–SIM_END, from the seed alone."""
    rng = np.random.default_rng([seed, _TAG_FIRMS])
    later = np.arange(SIM_START + 1, SIM_END + 1)
    above = np.concatenate(
        [
            np.ones(cal.above_firms + cal.above_entrants_per_year * later.size, bool),
            np.zeros(cal.below_firms + cal.below_entrants_per_year * later.size, bool),
        ]
    )
    entry = np.concatenate(
        [
            np.full(cal.above_firms, SIM_START),
            np.repeat(later, cal.above_entrants_per_year),
            np.full(cal.below_firms, SIM_START),
            np.repeat(later, cal.below_entrants_per_year),
        ]
    )
    kind = np.zeros(above.size, np.int8)
    kind[:2] = 1
    sector = np.where(
        above,
        rng.choice(len(SECTORS), above.size, p=[s.share_above for s in SECTORS]),
        rng.choice(len(SECTORS), above.size, p=[s.share_below for s in SECTORS]),
    )
    sector[:2] = [_AUTO, _PHARMA]
    industry, town = _place(rng, sector)
    land0, log_eff = _land_and_efficiency(rng, cal, above, entry, sector)
    anchors = _anchors(rng, above, entry, sector, kind, land0)
    pool = _Pool(
        above=above,
        kind=kind,
        sector=sector,
        industry=industry,
        town=town,
        entry=entry,
        land0=land0,
        log_eff=log_eff,
        **_lifecycle(rng, cal, above, entry, kind, land0, log_eff),
        **_ratios(rng, above, sector, kind),
        **anchors,
        credit_code=make_code(np.random.default_rng([seed, _TAG_CODES]), above.size),
        name=np.empty(0, str),
        tags=np.empty(0, object),
    )
    pool.name = _names(np.random.default_rng([seed, _TAG_NAMES]), pool)
    pool.tags = _tags(np.random.default_rng([seed, _TAG_TAGS]), pool)
    return pool


def _tags(rng: np.random.Generator, pool: _Pool) -> np.ndarray:
    """The A.3.16 tags of each firm: for each tag, a fixed share of the group, drawn by size (see the docstring)."""
    n = pool.above.size
    size = pool.land0 * np.exp(pool.log_eff)  # value added per year, up to a factor
    emerging = np.array([EMERGING_SECTORS.get(s.key, 1.0) for s in SECTORS])[pool.sector]
    keys = list(TAG_SHARES_ABOVE)
    held = np.zeros((len(keys), n), bool)
    for i, key in enumerate(keys):  # a loop over the 8 tags and 2 groups, not over firms
        for group, shares in ((pool.above, TAG_SHARES_ABOVE), (~pool.above, TAG_SHARES_BELOW)):
            idx = np.flatnonzero(group & (pool.kind == 0))
            k = round(shares.get(key, 0.0) * idx.size)
            if k:
                weight = size[idx] * (emerging[idx] if key == "strategic_emerging" else 1.0)
                held[i, rng.choice(idx, k, replace=False, p=weight / weight.sum())] = True
    tags = np.full(n, None, object)
    for j in np.flatnonzero(held.any(axis=0)):  # the tagged firms only: about a hundred
        tags[j] = ",".join(k for i, k in enumerate(keys) if held[i, j])
    tags[pool.kind == 1] = GIANT_TAGS
    return tags


def _names(rng: np.random.Generator, pool: _Pool) -> np.ndarray:
    """Unique plausible names: 临海市鑫达机械有限公司, 浙江华顺药业股份有限公司 …"""
    n = pool.above.size
    prefix = np.where(pool.above, rng.choice(3, n, p=[0.55, 0.40, 0.05]), rng.choice(3, n, p=[0.85, 0.05, 0.10]))
    joint_stock = pool.above & (rng.random(n) < 0.35)
    giant_forms = ("浙江{}汽车有限公司", "浙江{}药业集团股份有限公司")  # the car maker, the pharma group
    names, seen = [], set()
    for i in range(n):  # building strings is the one per-firm loop
        words = SECTORS[pool.sector[i]].words
        while True:
            trade = "".join(rng.choice(list(_TRADE_CHARS), 2, replace=False))
            name = (
                f"{_PREFIXES[prefix[i]]}{trade}{words[rng.integers(len(words))]}"
                f"{'股份' if joint_stock[i] else ''}有限公司"
            )
            if i < len(giant_forms):
                name = giant_forms[i].format(trade)
            if trade not in _REAL_NAMES and name not in seen:
                break
        seen.add(name)
        names.append(name)
    return np.array(names)


def _simulate(pool: _Pool, years: list[int], seed: int, cal: Calibration) -> pl.DataFrame:
    """Walk the firms from SIM_START to the last requested year; keep the requested years."""
    n = pool.above.size
    dev = np.zeros(n)
    frames = []
    for year in range(SIM_START, max(years) + 1):
        rng = np.random.default_rng([seed, _TAG_YEAR, year])
        dev = 0.8 * dev + rng.normal(0, 0.07, n)  # AR(1) deviation around the firm's drift
        shocks = {
            k: np.exp(rng.normal(0, s, n))
            for k, s in (("tax", 0.06), ("rate", 0.03), ("fai", 0.5), ("kwh", 0.08), ("anchor", 0.01), ("big_fai", 0.6))
        }
        shocks["uniform"] = rng.random((4, n))
        shocks["target"] = 1 + 0.01 * rng.normal(0, 1, 3)
        if year in years:
            frames.append(_year_frame(pool, year, dev, shocks, cal))
    return pl.concat(frames).sort(["year", "credit_code"])


def _output(p: _Pool, year: int, dev, shocks, cal: Calibration, active, land) -> tuple[np.ndarray, ...]:
    """Value added, tax and revenue (元), scaled so the county meets the year's targets."""
    # New land is held from the start of construction and produces from its end.
    ramp = np.where(year > p.build_end, 1.0, np.where(year == p.build_end, 0.6, 0.0))
    va_raw = (p.land0 + p.build_land * ramp) * np.exp(p.log_eff + p.growth * (year - SIM_START) + dev)
    tax_raw = va_raw * p.tax_to_va * shocks["tax"]
    anchored = p.kind > 0
    wobble = np.clip(shocks["anchor"], 0.97, 1.03)
    anchor_rev = (
        p.anchor_revenue
        * wobble
        * np.where(p.kind == 1, _trend(year, 0.04, 0.92, 1.12), _trend(year, 0.03, 0.85, 1.15))
    )
    anchor_tax = p.anchor_tax_per_mu * land * WAN * wobble
    anchor_va = anchor_rev * p.va_rate

    t_tax, t_va, t_below = shocks["target"]
    up = active & p.above
    free = up & ~anchored
    land_wan = land[up].sum() * WAN
    k_va = (
        _target(cal.value_added_per_mu_2023, year, cal, t_va, cal.value_added_band) * land_wan
        - anchor_va[up & anchored].sum()
    ) / va_raw[free].sum()
    k_tax = (
        _target(cal.tax_per_mu_2023, year, cal, t_tax, cal.tax_band) * land_wan - anchor_tax[up & anchored].sum()
    ) / tax_raw[free].sum()
    down3 = active & ~p.above & (land >= 3.0)
    k_below = (
        _target(cal.below_tax_per_mu_2023, year, cal, t_below, cal.below_tax_band)
        * land[down3].sum()
        * WAN
        / tax_raw[down3].sum()
    )

    va = np.where(anchored, anchor_va, va_raw * np.where(p.above, k_va, k_below))
    tax = np.where(anchored, anchor_tax, tax_raw * np.where(p.above, k_tax, k_below))
    revenue = np.where(anchored, anchor_rev, va / (p.va_rate * shocks["rate"]))
    # 规上 means revenue of at least 2,000 万元; 规下 stays under it.
    u = shocks["uniform"][0]
    revenue = np.where(
        p.above, np.maximum(revenue, 2000 * WAN * (1 + 0.2 * u)), np.minimum(revenue, 1990 * WAN * (1 - 0.05 * u))
    )
    return va, tax, revenue


def _year_frame(p: _Pool, year: int, dev: np.ndarray, shocks: dict, cal: Calibration) -> pl.DataFrame:
    """All columns for one year."""
    u = shocks["uniform"]
    active = (p.entry <= year) & (year < p.exit)
    building = (p.build_start <= year) & (year < p.build_end)
    land = p.land0 + p.build_land * (year >= p.build_start)
    va, tax, revenue = _output(p, year, dev, shocks, cal, active, land)

    trend = _trend(year, 0.03, 0.85, 1.15)  # productivity and energy efficiency improve
    employees = np.where(p.kind > 0, p.anchor_employees * trend, va / (p.productivity * WAN * trend))
    employees = np.maximum(np.rint(employees), np.where(p.above, 20, 3)).astype(np.int64)
    energy_above = va / WAN / (p.va_per_tce * trend)
    kwh_below = tax / (p.tax_per_kwh * shocks["kwh"])
    electricity = np.where(p.above, energy_above * p.elec_share / cal.electricity_tce_per_kwh, kwh_below)
    energy = np.where(p.above, energy_above, kwh_below * cal.electricity_tce_per_kwh / p.elec_share)
    carbon = electricity * cal.grid_co2_t_per_kwh + energy * (1 - p.elec_share) * p.fuel_co2
    emission = np.where(p.above & ~p.emission_missing, va / WAN / p.va_per_emission, np.nan)

    # Construction-period investment by tier: < 3,000 万, 3,000 万–1 亿, ≥ 1 亿 (clause 2.8).
    low = np.array([500, 3000, 10000])[p.build_tier] * WAN
    high = np.array([2990, 9900, 10000])[p.build_tier] * WAN
    build_fai = low + u[1] * (high - low) + (p.build_tier == 2) * 0.8e8 * shocks["big_fai"]
    usual_fai = np.minimum(revenue * p.fai_rate * shocks["fai"] * (u[2] >= 0.25), 2990 * WAN)
    fai = np.where(building, build_fai, usual_fai)

    # Vetoes are rare; environmental violations three times likelier in 医药化工 [A].
    env = np.where(np.isin(p.sector, [_PHARMA, _CHEMICAL]), 0.0054, 0.0018)
    veto = np.array((*VETOES, ""))[(u[3] >= 0.0012).astype(int) + (u[3] >= 0.0012 + env) + (u[3] >= 0.0022 + env)]

    m = active
    return pl.DataFrame(
        {
            "credit_code": p.credit_code[m],
            "name": p.name[m],
            "year": np.full(m.sum(), year, np.int32),
            "town": p.town[m],
            "industry": p.industry[m],
            "above_scale": p.above[m],
            "land_area_mu": np.round(land[m], 4),
            "tax_paid": np.round(tax[m], 2),
            "value_added": np.where(p.above, np.round(va, 2), np.nan)[m],
            "revenue": np.round(revenue[m], 2),
            "rd_expense": np.round(revenue * p.rd_rate, 2)[m],
            "energy_tce": np.round(energy[m], 3),
            "emission_equivalent_t": np.round(emission[m], 4),
            "employees": employees[m],
            "electricity_kwh": np.round(electricity[m]),
            "carbon_emission_t": np.round(carbon[m], 3),
            "fixed_asset_investment": np.round(fai[m], 2),
            "in_construction_period": building[m],
            "veto": veto[m],
            "tags": pl.Series("tags", p.tags[m].tolist(), pl.String),
        }
    ).with_columns(pl.col("value_added", "emission_equivalent_t").fill_nan(None))


def _check_years(years: range | list[int]) -> list[int]:
    """Sorted distinct years, all within SIM_START–SIM_END."""
    chosen = sorted({int(y) for y in years})
    if not chosen or chosen[0] < SIM_START or chosen[-1] > SIM_END:
        raise ValueError(
            f"years must be a non-empty set within {SIM_START}–{SIM_END}, e.g. range(2021, 2024); got {list(years)!r}"
        )
    return chosen


def generate_county(
    seed: int, years: range | list[int], with_defects: bool = False, *, calibration: Calibration | None = None
) -> pl.DataFrame:
    """Generate the synthetic county: one row per enterprise and year.

    Args:
        seed: non-negative integer; the same seed gives the same frame, byte for byte.
        years: the years wanted, within 2015–2040; a year's rows do not depend on the
            other years asked for.
        with_defects: also corrupt a few rows as :func:`generate_county_with_defects`
            does (measure columns then come back as text); the list of defects is only
            returned by that function.
        calibration: targets and sizes; defaults to :class:`Calibration`.

    Returns:
        A polars frame with the columns of :data:`COLUMNS`, sorted by year and credit
        code. Money is in 元 rounded to 分; ``value_added`` is null for 规下 firms and
        ``emission_equivalent_t`` for 规下 firms and about 8 % of 规上 firms; ``tags`` (the
        A.3.16 tags as comma-joined keys, ``listed,key_2513``) is null for the untagged firms.

    Raises:
        ValueError: when the seed is negative or a year is out of range.

    >>> df = generate_county(7, [2023])
    >>> df.columns[:4], df["year"].unique().to_list()
    (['credit_code', 'name', 'year', 'town'], [2023])
    """
    if with_defects:
        return generate_county_with_defects(seed, years, calibration=calibration)[0]
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, e.g. 2023; got {seed!r}")
    chosen = _check_years(years)
    cal = calibration or Calibration()
    return _simulate(_make_pool(seed, cal), chosen, seed, cal)


_NON_NUMERIC = ("约1200万", "不详")
_UNKNOWN = {"town": ("331082999", "331083001"), "industry": ("C4410", "C2S10")}


def generate_county_with_defects(
    seed: int, years: range | list[int], *, calibration: Calibration | None = None
) -> tuple[pl.DataFrame, list[dict]]:
    """The synthetic county with a few deliberately broken rows, for import validators.

    Two rows get each defect, and no row gets two; the corrupted frame keeps the row
    order of the clean one. Measure columns (:data:`MEASURE_COLUMNS`) are returned as
    text (``pl.Utf8``) because ``non_numeric`` puts text into them; every other column
    keeps its type. The corruptions:

    * ``bad_check_character`` (credit_code): the last character moved to the next one
      in the set, so the charset is fine and the check character is wrong;
    * ``duplicate_credit_code_year`` (credit_code): another firm's code from the same
      year (that donor row itself stays clean);
    * ``missing_required`` (tax_paid, then town): null;
    * ``negative_land`` (land_area_mu): negated;
    * ``zero_land`` (land_area_mu): ``"0.0"``;
    * ``non_numeric`` (revenue, then electricity_kwh): ``"约1200万"``, ``"不详"``;
    * ``unknown_town`` (town): ``"331082999"``, ``"331083001"``;
    * ``unknown_industry`` (industry): ``"C4410"`` (no such manufacturing division),
      ``"C2S10"`` (malformed);
    * ``above_scale_without_value_added`` (value_added): null on a 规上 row.

    Args:
        seed: as for :func:`generate_county`.
        years: as for :func:`generate_county`.
        calibration: as for :func:`generate_county`.

    Returns:
        ``(frame, defects)``: each defect is ``{"row": i, "column": name, "defect":
        code, "value": bad}`` with ``row`` the 0-based row of ``frame`` and ``value``
        exactly what the frame now holds there (text for measure columns, ``None``
        for nulls).
    """
    clean = generate_county(seed, years, calibration=calibration)
    return _corrupt(clean, np.random.default_rng([seed, _TAG_DEFECTS]))


def _corrupt(clean: pl.DataFrame, rng: np.random.Generator) -> tuple[pl.DataFrame, list[dict]]:
    """Apply the documented defects to distinct random rows of ``clean``."""
    df = clean.with_columns(pl.col(MEASURE_COLUMNS).cast(pl.Utf8))
    n = df.height
    order = rng.permutation(n)
    above = clean["above_scale"].to_numpy()
    year = clean["year"].to_numpy()
    used: set[int] = set()

    def take(mask: np.ndarray | None = None) -> int:
        row = next(int(r) for r in order if int(r) not in used and (mask is None or mask[r]))
        used.add(row)
        return row

    plan: list[tuple[int, str, str, object]] = []
    codes = clean["credit_code"].to_list()
    for k in range(2):
        row = take()
        old = codes[row]
        bad = old[:17] + CHARSET[(CHARSET.index(old[17]) + 1) % len(CHARSET)]
        plan.append((row, "credit_code", "bad_check_character", bad))
        row = take()
        other = take(year == year[row])  # the donor row stays clean
        plan.append((row, "credit_code", "duplicate_credit_code_year", codes[other]))
        plan.append((take(), ("tax_paid", "town")[k], "missing_required", None))
        row = take()
        plan.append((row, "land_area_mu", "negative_land", str(-float(df["land_area_mu"][row]))))
        plan.append((take(), "land_area_mu", "zero_land", "0.0"))
        plan.append((take(), ("revenue", "electricity_kwh")[k], "non_numeric", _NON_NUMERIC[k]))
        plan.append((take(), "town", "unknown_town", _UNKNOWN["town"][k]))
        plan.append((take(), "industry", "unknown_industry", _UNKNOWN["industry"][k]))
        plan.append((take(above), "value_added", "above_scale_without_value_added", None))

    columns = {c: df[c].to_list() for c in dict.fromkeys(c for _, c, _, _ in plan)}
    for row, column, _, value in plan:
        columns[column][row] = value
    df = df.with_columns([pl.Series(c, v, dtype=df.schema[c]) for c, v in columns.items()])
    defects = [{"row": r, "column": c, "defect": d, "value": v} for r, c, d, v in sorted(plan, key=lambda t: t[0])]
    return df, defects
