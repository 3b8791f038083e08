"""Response models (XPublic) of the enterprise, evaluation and dashboard API.

Conventions, the same in every model:

* money (元) and land (亩) are exact decimals sent as **strings** — money with
  two decimals (``"15293935.19"``), land with four (``"57.3594"``);
* indicators, scores, benchmarks, rates and carbon figures are JSON numbers
  (floats, as computed), ``null`` when undefined;
* towns and industries are codes, with their official (Chinese) names beside them;
* times are UTC with their offset (``"2023-03-01T08:00:00+00:00"``, ``UtcDateTime``): the database keeps UTC,
  and SQLite gives it back without an offset.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, PlainSerializer, WithJsonSchema

from ..figures import industry_name, town_name
from ..limits import MAX_ID

CST = dt.timezone(dt.timedelta(hours=8))
"""China Standard Time (the doctest's other zone)."""


def utc(value: dt.datetime) -> dt.datetime:
    """A stored time as UTC with its offset (SQLite gives stored UTC times back without one).

    >>> utc(dt.datetime(2023, 3, 1, 8)).isoformat(), utc(dt.datetime(2023, 3, 1, 16, tzinfo=CST)).isoformat()
    ('2023-03-01T08:00:00+00:00', '2023-03-01T08:00:00+00:00')
    """
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


UtcDateTime = Annotated[
    dt.datetime,
    AfterValidator(utc),
    PlainSerializer(lambda v: v.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "UTC, with its offset (+00:00)"}),
]
"""A time of an API answer: UTC, written with its offset."""


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


class RunStampPublic(BaseModel):
    """The published run whose classes an answer uses."""

    id: int
    year: int
    published_at: UtcDateTime | None
    supersedes: int | None = Field(description="the run it superseded, if any")


def stamp_public(stamp: Any) -> RunStampPublic | None:
    """From ``services.evaluation.runs.RunStamp``."""
    return RunStampPublic(**stamp.__dict__) if stamp is not None else None


class EnterprisePagePublic(BaseModel):
    """A page of the enterprise list of a published year (``year`` null while nothing is published)."""

    items: list[ResultRowPublic]
    total: int
    page: int
    pages: int
    page_size: int
    year: int | None
    years: list[int] = Field(description="the published years")
    run: RunStampPublic | None = Field(default=None, description="the published run the list shows")


class EnterprisePublic(BaseModel):
    """The register entry of an enterprise."""

    credit_code: str
    name: str
    town: str
    town_name: str
    industry: str
    industry_name: str | None
    above_scale: bool
    tags: list[str] = Field(default_factory=list, description="The A.3.16 tags (listed, little_giant…)")


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
    run: RunStampPublic | None = Field(default=None, description="the published run this evaluation comes from")


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
    created_at: UtcDateTime


class SubsidyPublic(BaseModel):
    """A subsidy application of the enterprise (``url``: its page)."""

    id: int
    project_id: int
    project_name: str
    clause: str
    status: str
    amount: Decimal = Field(description="元, 2 decimals, as a string")
    computed_at: UtcDateTime
    updated_at: UtcDateTime
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
        tags=list(e.get("tags") or []),
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
                run=stamp_public(y.run),
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
    status: str = Field(
        description="queued, running, done, failed, published, or superseded (a published run replaced by a newer "
        "run of its year; kept read-only)"
    )
    progress: float
    message: str | None
    method_title: str | None
    method_changes: Any = Field(description="the parameter changes of the method (null: the default method)")
    parameters_version: str
    started_by: str
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    published_by: str | None
    published_at: UtcDateTime | None
    superseded_by: int | None = Field(default=None, description="the run that superseded this one")
    superseded_by_user: str | None = Field(default=None, description="who superseded it")
    superseded_at: UtcDateTime | None = None
    supersede_reason: str | None = Field(default=None, description="why it was superseded")
    supersedes: int | None = Field(default=None, description="the run this one superseded")
    supersedes_reason: str | None = Field(default=None, description="why this run superseded it")


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


class SupersedeIn(BaseModel):
    """Publish a finished run in place of its year's published run: why (required, at most 500 characters)."""

    reason: str | None = Field(default=None, examples=["2023 年度企业数据更正后重新评价"])


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


class EdgePublic(BaseModel):
    """A quota boundary between the two classes: the score of the last firm inside the better class, each year."""

    boundary: str = Field(description="A/B, B/C or C/D")
    before: float | None = Field(description="null: the better class had no place")
    after: float | None


class ChangeReasonPublic(BaseModel):
    """One reason why a class changed (``code``), with the values it states."""

    code: str = Field(
        description="group (规上 one year, 规下 the other), veto, override (2.8), rank (the one year that ranked the "
        "firm), or ranking (both years ranked it: score and quota edges)"
    )
    year: int | None = Field(default=None, description="veto, override: the year whose class it set; rank: its year")
    rank: int | None = Field(default=None, description="rank: the firm's rank in its group that year")
    size: int | None = Field(default=None, description="rank: how many firms its group ranked")
    computed: str | None = Field(default=None, description="rank: the class the ranking gave")
    line_zh: str | None = Field(default=None, description="veto, override: the line of that year's explanation")
    line_en: str | None = None
    before: str | None = Field(default=None, description="group: above_scale or below_scale, the earlier year")
    after: str | None = None
    score_before: float | None = None
    score_after: float | None = None
    rank_before: int | None = None
    size_before: int | None = None
    rank_after: int | None = None
    size_after: int | None = None
    computed_before: str | None = Field(default=None, description="ranking: the class the ranking gave")
    computed_after: str | None = None
    edges: list[EdgePublic] = Field(default_factory=list, description="ranking: the boundaries between the classes")
    verdict: str | None = Field(
        default=None,
        description="ranking: score (the later score alone, against the earlier edges, gives the new class), edge "
        "(the earlier score against the later edges does), or both",
    )


class ClassChangePublic(BaseModel):
    """An enterprise whose final class changed between the two years, and why."""

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
    why: list[ChangeReasonPublic] = Field(description="the reasons, most decisive first")

    @classmethod
    def of(cls, r: dict[str, Any]) -> ClassChangePublic:
        """From a row of ``services.evaluation.compare.compare``."""
        return cls(**{k: r[k] for k in cls.model_fields if k != "why"}, why=[ChangeReasonPublic(**w) for w in r["why"]])


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
