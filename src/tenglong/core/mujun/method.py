"""The evaluation method of one data year, read from the parameters (``mujun.*``).

Values are taken at the last day of the data year. ``Method`` turns them into
plain Python values (Fractions for shares, floats for weights) once, so the
vectorised code reads no YAML-shaped data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..errors import PolicyError
from ..parameters import ParameterSet
from ..periods import Window
from ..targets import Target, targets_at

NS = "mujun."


def _at(params: ParameterSet, path: str, day: dt.date) -> Any:
    p = params[path]
    v = p.at(day)
    return p.last_value() if v is None else v


@dataclass(frozen=True)
class Method:
    """Everything the evaluation of one year needs from the parameters."""

    year: int
    weights_above: dict[str, float]
    weights_below: dict[str, float]
    below_min_land_mu4: int
    benchmark_mode: str
    benchmark_constants: dict[str, dict[str, float]]
    score_decimals: int
    quotas_above: dict[str, Fraction]
    quotas_below: dict[str, Fraction]
    by_industry: bool
    industry_groups: dict[str, str]
    vetoes: dict[str, str]
    veto_outside_quota: bool
    relief: dict[str, Decimal]
    surcharge: dict[str, Decimal]
    surcharge_persistent: Decimal
    persistent_years: int
    carbon_low_max: float
    carbon_medium_max: float
    carbon_cuts: list[float]
    hcle_ratio: float
    hcle_fallback: dict[str, bool]
    window_2_8: Window
    window_a2: Window
    targets: dict[str, Target]

    @classmethod
    def of(cls, params: ParameterSet, policy, year: int) -> Method:
        """Read the method for data year ``year``.

        Raises:
            PolicyError: when constant benchmarks are asked for but none is given for the year.
        """
        day = dt.date(year, 12, 31)
        g = lambda name: _at(params, NS + name, day)  # noqa: E731
        shares = lambda t: {k: Fraction(Decimal(str(v))) for k, v in t.items()}  # noqa: E731
        for name in ("quotas_above_scale", "quotas_below_scale"):
            if sum(shares(g(name)).values()) != 1:
                raise PolicyError(
                    f"参数 mujun.{name} 的比例之和须为 1。", f"The shares of mujun.{name} must add up to 1."
                )
        constants = g("benchmark_constants") or {}
        if g("benchmark_mode") == "constants":
            if str(year) in constants:
                constants = constants[str(year)]
            if not ({"above_scale", "below_scale"} <= set(constants)):
                raise PolicyError(
                    f"基准值口径为 constants，但未给出 {year} 年度的 above_scale / below_scale 基准值"
                    "（参数 mujun.benchmark_constants）。",
                    "benchmark_mode is constants but mujun.benchmark_constants gives no above_scale / below_scale "
                    f"benchmarks for {year}.",
                )
        # A.2's targets are for the end of 2023; a year outside the window is judged against them as they stood.
        a2 = policy["A.2"].window
        targets_day = min(max(day, a2.start), a2.end or day)
        return cls(
            year=year,
            weights_above={k: float(v) for k, v in g("weights_above_scale").items()},
            weights_below={k: float(v) for k, v in g("weights_below_scale").items()},
            below_min_land_mu4=int(Decimal(str(g("below_scale_min_land_mu"))) * 10_000),
            benchmark_mode=g("benchmark_mode"),
            benchmark_constants={
                k: {i: float(x) for i, x in v.items()} for k, v in constants.items() if isinstance(v, dict)
            },
            score_decimals=int(g("score_decimals")),
            quotas_above=shares(g("quotas_above_scale")),
            quotas_below=shares(g("quotas_below_scale")),
            by_industry=bool(g("rank_within_industry_groups")),
            industry_groups=dict(g("industry_groups")),
            vetoes=dict(g("vetoes")),
            veto_outside_quota=bool(g("veto_outside_quota")),
            relief={k: Decimal(str(v)) for k, v in g("land_use_tax_relief").items()},
            surcharge={k: Decimal(str(v)) for k, v in g("electricity_surcharge").items()},
            surcharge_persistent=Decimal(str(g("electricity_surcharge_persistent_d"))),
            persistent_years=int(g("persistent_d_years")),
            carbon_low_max=float(g("carbon_level_low_max")),
            carbon_medium_max=float(g("carbon_level_medium_max")),
            carbon_cuts=[float(g("carbon_grade_cuts")[str(k)]) for k in (1, 2, 3, 4)],
            hcle_ratio=float(g("hcle_energy_ratio")),
            hcle_fallback={k: bool(v) for k, v in g("hcle_fallback_classes").items()},
            window_2_8=policy["2.8"].window,
            window_a2=policy["A.2"].window,
            targets=targets_at(params, targets_day),
        )


def judging_day(window: Window, year: int) -> dt.date:
    """The day a data year is judged at for a clause: inside the window when the year overlaps it.

    2.8 and A.2 apply to data years whose calendar year overlaps their validity,
    whenever the evaluation is run.

    >>> judging_day(Window(dt.date(2022, 7, 16), dt.date(2023, 12, 31)), 2022)
    datetime.date(2022, 12, 31)
    >>> judging_day(Window(dt.date(2022, 7, 16), dt.date(2023, 12, 31)), 2024)
    datetime.date(2024, 12, 31)
    """
    end = dt.date(year, 12, 31)
    if window.overlaps_year(year) and window.end is not None and window.end < end:
        return window.end
    return end
