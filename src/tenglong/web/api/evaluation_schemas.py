"""Response models (XPublic) of the enterprise, evaluation and dashboard API.

Conventions, the same in every model:

* money (元) and land (亩) are exact decimals sent as **strings** — money with
  two decimals (``"15293935.19"``), land with four (``"57.3594"``);
* indicators, scores, benchmarks, rates and carbon figures are JSON numbers
  (floats, as computed), ``null`` when undefined;
* towns and industries are codes, with their official (Chinese) names beside them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from ..figures import industry_name, town_name
from ..limits import MAX_ID


class CarbonPublic(BaseModel):
    """碳效码 of a year."""

    grade: int | None = Field(description="碳效等级 1–5 (null when not graded)")
    level: str | None = Field(description="low / medium / high carbon")
    intensity: float | None = Field(description="t CO₂ per 10k yuan of value added")
    efficiency_value: float | None


class PricesPublic(BaseModel):
    """Differential prices that follow from the class."""

    land_use_tax_relief_rate: float | None = Field(description="城镇土地使用税减免 share, 0–1")
    electricity_surcharge: float | None = Field(description="差别电价 surcharge, yuan per kWh")
    d_years_running: int = Field(description="consecutive years in class D")


class FlagsPublic(BaseModel):
    """A.2 and 高耗低效 flags, the 第（八）项 override and the veto."""

    low_efficiency_enterprise: bool
    billion_yuan_low_tax_enterprise: bool
    high_consumption_low_efficiency_candidate: bool
    class_override: str = Field(description="none, force_A or not_D (第（八）项)")
    vetoed: bool


def _carbon(r: dict[str, Any]) -> CarbonPublic:
    return CarbonPublic(
        grade=r["carbon_grade"],
        level=r["carbon_level"],
        intensity=r["carbon_intensity"],
        efficiency_value=r["carbon_efficiency_value"],
    )


def _prices(r: dict[str, Any]) -> PricesPublic:
    return PricesPublic(
        land_use_tax_relief_rate=r["land_use_tax_relief_rate"],
        electricity_surcharge=r["electricity_surcharge"],
        d_years_running=r["d_years_running"],
    )


def _flags(r: dict[str, Any]) -> FlagsPublic:
    return FlagsPublic(
        low_efficiency_enterprise=r["low_efficiency_enterprise"],
        billion_yuan_low_tax_enterprise=r["billion_yuan_low_tax_enterprise"],
        high_consumption_low_efficiency_candidate=r["high_consumption_low_efficiency_candidate"],
        class_override=r["mujun_class_override"],
        vetoed=r["vetoed"],
    )


class ResultRowPublic(BaseModel):
    """One enterprise in one evaluation run."""

    credit_code: str
    name: str
    year: int
    town: str
    town_name: str
    industry: str
    industry_name: str | None
    above_scale: bool
    evaluated: bool
    not_evaluated_reason: str | None
    group: str | None
    mujun_score: float | None
    rank: int | None
    group_size: int | None
    mujun_class_computed: str | None
    mujun_class: str | None
    indicators: dict[str, float | None]
    land_area_mu: Decimal | None = Field(description="亩, 4 decimals, as a string")
    tax_paid: Decimal | None = Field(description="元, 2 decimals, as a string")
    value_added: Decimal | None = Field(description="元, 2 decimals, as a string")
    employees: int | None
    carbon: CarbonPublic
    prices: PricesPublic
    flags: FlagsPublic
    explanation_zh: str | None = None
    explanation_en: str | None = None

    @classmethod
    def of(cls, r: dict[str, Any]) -> ResultRowPublic:
        """From a row of ``services.enterprises.directory.result_page``."""
        return cls(
            credit_code=r["credit_code"],
            name=r["name"],
            year=r["year"],
            town=r["town"],
            town_name=town_name(r["town"]),
            industry=r["industry"],
            industry_name=industry_name(r["industry"]),
            above_scale=r["above_scale"],
            evaluated=r["evaluated"],
            not_evaluated_reason=r["not_evaluated_reason"],
            group=r["group_name"],
            mujun_score=r["mujun_score"],
            rank=r["rank"],
            group_size=r["group_size"],
            mujun_class_computed=r["mujun_class_computed"],
            mujun_class=r["mujun_class"],
            indicators=r["indicators"] or {},
            land_area_mu=r["land_area_mu"],
            tax_paid=r["tax_paid"],
            value_added=r["value_added"],
            employees=r["employees"],
            carbon=_carbon(r),
            prices=_prices(r),
            flags=_flags(r),
            explanation_zh=r.get("explanation_zh"),
            explanation_en=r.get("explanation_en"),
        )


class EnterprisePagePublic(BaseModel):
    """A page of the enterprise list of a published year (``year`` null while nothing is published)."""

    items: list[ResultRowPublic]
    total: int
    page: int
    pages: int
    page_size: int
    year: int | None
    years: list[int] = Field(description="the published years")


class EnterprisePublic(BaseModel):
    """The register entry of an enterprise."""

    credit_code: str
    name: str
    town: str
    town_name: str
    industry: str
    industry_name: str | None
    above_scale: bool


class YearDataPublic(BaseModel):
    """The enterprise-year data as imported (money and land as decimal strings)."""

    land_area_mu: Decimal
    tax_paid: Decimal
    value_added: Decimal | None
    revenue: Decimal | None
    rd_expense: Decimal | None
    fixed_asset_investment: Decimal
    energy_tce: float | None
    emission_equivalent_t: float | None
    electricity_kwh: float | None
    carbon_emission_t: float | None
    employees: int | None
    in_construction_period: bool
    veto: str


class EvaluationPublic(BaseModel):
    """The published evaluation of a year, with the county benchmarks of its group and the explanation."""

    run_id: int
    group: str | None
    evaluated: bool
    not_evaluated_reason: str | None
    mujun_score: float | None
    rank: int | None
    group_size: int | None
    mujun_class_computed: str | None
    mujun_class: str | None
    indicators: dict[str, float | None]
    scores: dict[str, float | None]
    benchmarks: dict[str, float | None]
    carbon: CarbonPublic
    prices: PricesPublic
    flags: FlagsPublic
    explanation_zh: str
    explanation_en: str


class ProfileYearPublic(BaseModel):
    """One year of the profile."""

    year: int
    data: YearDataPublic | None
    evaluation: EvaluationPublic | None = Field(description="null when the year has no published evaluation")


class ProfilePublic(BaseModel):
    """企业画像."""

    enterprise: EnterprisePublic
    years: list[ProfileYearPublic]


class ProjectPublic(BaseModel):
    """A project of the enterprise."""

    id: int
    name: str
    application_date: dt.date
    created_at: dt.datetime


class SubsidyPublic(BaseModel):
    """A subsidy application of the enterprise (``url``: its page)."""

    id: int
    project_id: int
    project_name: str
    clause: str
    status: str
    amount: Decimal = Field(description="元, 2 decimals, as a string")
    computed_at: dt.datetime
    updated_at: dt.datetime
    url: str


def enterprise_public(e: dict[str, Any]) -> EnterprisePublic:
    """From a row of the enterprises table."""
    return EnterprisePublic(
        credit_code=e["credit_code"],
        name=e["name"],
        town=e["town"],
        town_name=town_name(e["town"]),
        industry=e["industry"],
        industry_name=industry_name(e["industry"]),
        above_scale=e["above_scale"],
    )


def profile_public(p: Any) -> ProfilePublic:
    """From ``services.enterprises.directory.Profile``."""
    years = []
    for y in p.years:
        data = YearDataPublic(**{k: y.data[k] for k in YearDataPublic.model_fields}) if y.data else None
        ev = None
        if y.result:
            r = y.result
            ev = EvaluationPublic(
                run_id=y.run_id,
                group=r["group_name"],
                evaluated=r["evaluated"],
                not_evaluated_reason=r["not_evaluated_reason"],
                mujun_score=r["mujun_score"],
                rank=r["rank"],
                group_size=r["group_size"],
                mujun_class_computed=r["mujun_class_computed"],
                mujun_class=r["mujun_class"],
                indicators=r["indicators"] or {},
                scores=r["scores"] or {},
                benchmarks=y.benchmarks or {},
                carbon=_carbon(r),
                prices=_prices(r),
                flags=_flags(r),
                explanation_zh=r["explanation_zh"],
                explanation_en=r["explanation_en"],
            )
        years.append(ProfileYearPublic(year=y.year, data=data, evaluation=ev))
    return ProfilePublic(enterprise=enterprise_public(p.enterprise), years=years)


def subsidy_public(a: dict[str, Any]) -> SubsidyPublic:
    """From a row of ``services.enterprises.directory.enterprise_subsidies``."""
    return SubsidyPublic(**a, url=f"/applications/{a['id']}")


class RunPublic(BaseModel):
    """An evaluation run (status, progress 0–1, method, who and when)."""

    id: int
    year: int
    status: str = Field(description="queued, running, done, failed or published")
    progress: float
    message: str | None
    method_title: str | None
    method_changes: Any = Field(description="the parameter changes of the method (null: the default method)")
    parameters_version: str
    started_by: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    published_by: str | None
    published_at: dt.datetime | None


class RunDetailPublic(RunPublic):
    """A run with its benchmarks and summary (class counts, county figures against the A.2 targets)."""

    benchmarks: dict[str, dict[str, float | None]] | None
    summary: dict[str, Any] | None


def run_public(run: Any, detail: bool = False) -> RunPublic:
    """From ``services.evaluation_views.RunInfo``."""
    fields = {k: getattr(run, k) for k in RunPublic.model_fields}
    return RunDetailPublic(**fields, benchmarks=run.benchmarks, summary=run.summary) if detail else RunPublic(**fields)


class MethodIn(BaseModel):
    """A method: parameter path → value (plain, or ``{YYYY-MM-DD: value}``), as in a ``--method`` file."""

    title: str | None = None
    changes: dict[str, Any] = Field(
        examples=[{"mujun.quotas_above_scale": {"A": 0.25, "B": 0.55, "C": 0.15, "D": 0.05}}]
    )


class RunCreate(BaseModel):
    """Start an evaluation of ``year`` (optionally with a method)."""

    year: int = Field(examples=[2023], ge=1, le=MAX_ID)
    method: MethodIn | None = None


class ResultPagePublic(BaseModel):
    """A page of a run's results (scoped to the caller), with explanations."""

    run: RunPublic
    items: list[ResultRowPublic]
    total: int
    page: int
    pages: int
    page_size: int


class ClassChangePublic(BaseModel):
    """An enterprise whose final class changed between the two years."""

    credit_code: str
    name: str
    town: str
    industry: str
    above_scale: bool
    class_before: str
    class_after: str
    score_before: float | None
    score_after: float | None
    direction: str = Field(description="up (better class) or down")


class ComparisonPublic(BaseModel):
    """Two published years side by side."""

    before: RunDetailPublic
    after: RunDetailPublic
    up: int
    down: int
    items: list[ClassChangePublic]
    total: int
    page: int
    pages: int


class KpiPublic(BaseModel):
    """A 规上 figure against its A.2 target (``met``: strictly above for 超过, at least for 达到)."""

    key: str
    value: float | None
    target: Decimal = Field(description="the A.2 target, as a decimal string")
    met: bool
    comparison: str = Field(description="> (超过) or >= (达到)")


class TownPublic(BaseModel):
    """A town's 规上 aggregates (rank by 亩均税收; null when it has no evaluated 规上 firm)."""

    code: str
    name: str
    firms: int
    rank: int | None
    tax_per_mu: float | None
    value_added_per_mu: float | None
    labor_productivity: float | None
    rd_intensity: float | None


class TrendPublic(BaseModel):
    """A published year of the trend (``town``: the caller's town, for a town official)."""

    year: int
    county: dict[str, float | None]
    classes: dict[str, int]
    town: dict[str, float | None] | None


class DashboardPublic(BaseModel):
    """首页驾驶舱 of a published year."""

    year: int | None
    years: list[int]
    run_id: int | None
    county: list[KpiPublic]
    counts: dict[str, dict[str, int]] = Field(
        description="final classes per group (above_scale / below_scale), with not_evaluated"
    )
    town: str | None
    town_figures: list[KpiPublic]
    town_counts: dict[str, dict[str, int]]
    ranking: list[TownPublic]
    trend: list[TrendPublic]
    own: dict[str, Any] | None = Field(description="the enterprise's own result card (enterprise accounts)")


def _kpi(k: Any) -> KpiPublic:
    return KpiPublic(key=k.key, value=k.value, target=k.target, met=k.met, comparison=">" if k.strict else ">=")


def dashboard_public(d: Any) -> DashboardPublic:
    """From ``services.dashboard.Dashboard``."""
    return DashboardPublic(
        year=d.year,
        years=d.years,
        run_id=d.run_id,
        county=[_kpi(k) for k in d.county],
        counts=d.counts,
        town=d.town_code,
        town_figures=[_kpi(k) for k in d.town],
        town_counts=d.town_counts,
        ranking=[TownPublic(name=town_name(r.code), **r.__dict__) for r in d.ranking],
        trend=[TrendPublic(**p.__dict__) for p in d.trend],
        own=d.own,
    )
