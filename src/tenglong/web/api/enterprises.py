"""Enterprises: search, filter and page; the profile; projects and subsidies; Excel export — role-scoped.

An enterprise outside the caller's scope (another town's, another firm's, or a
guessed code) is 404, exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ...services.audit import trail as audit_trail
from ...services.enterprises import directory as service
from ...services.enterprises import tags as enterprise_tags
from ..evaluation_workbooks import enterprise_list_workbook
from ..limits import BoundedFilterDep, year_param
from ..security import ActorDep, PlatformDep, client_address, language
from .evaluation_schemas import (
    EnterprisePagePublic,
    ProfilePublic,
    ProjectPublic,
    ResultRowPublic,
    SubsidyPublic,
    profile_public,
    stamp_public,
    subsidy_public,
)

router = APIRouter(prefix="/api/v1/enterprises", tags=["enterprises"])  # error answers: app.document_errors
YearQuery = Annotated[str | None, Query(description="A published year (default: the latest)")]


@router.get("", response_model=EnterprisePagePublic)
def list_enterprises(
    p: PlatformDep, actor: ActorDep, f: BoundedFilterDep, year: YearQuery = None
) -> EnterprisePagePublic:
    """The enterprises of a published year the caller may see (town: its own; enterprise: itself), filtered,
    sorted and paged."""
    listing = service.list_enterprises(p.uow, actor, year_param(year), f)
    pg = listing.page
    return EnterprisePagePublic(
        items=[ResultRowPublic.of(r) for r in pg.items],
        total=pg.total,
        page=pg.page,
        pages=pg.pages,
        page_size=pg.page_size,
        year=listing.year,
        years=listing.years,
        run=stamp_public(listing.run),
    )


@router.get(
    "/export.xlsx",
    response_class=Response,
    responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
)
def export_enterprises(
    request: Request, p: PlatformDep, actor: ActorDep, f: BoundedFilterDep, year: YearQuery = None
) -> Response:
    """The filtered list (every page) as an Excel workbook with a frozen header row (the export is audited)."""
    listing = audit_trail.export_enterprises(p, actor, year_param(year), f, client_address(request))
    return enterprise_list_workbook(listing, language(request))


@router.get("/{credit_code}", response_model=ProfilePublic)
def enterprise_profile(credit_code: str, p: PlatformDep, actor: ActorDep) -> ProfilePublic:
    """企业画像: the register entry and every year's data and published evaluation (with explanations, 碳效码,
    prices, flags)."""
    return profile_public(service.profile(p.uow, actor, credit_code))


class TagsUpdate(BaseModel):
    """The A.3.16 tags an enterprise carries (all of them: the list replaces the old one; ``[]`` clears it)."""

    tags: list[str] = Field(
        max_length=len(enterprise_tags.TAGS),
        description="Tag keys: " + ", ".join(enterprise_tags.TAGS) + " (the Chinese names are accepted too)",
        examples=[["listed", "little_giant"]],
    )


class TagsPublic(BaseModel):
    """The tags an enterprise now carries (clause A.3.16)."""

    credit_code: str
    tags: list[str]
    clause: str


@router.put("/{credit_code}/tags", response_model=TagsPublic)
def enterprise_tags_put(
    request: Request, credit_code: str, body: TagsUpdate, p: PlatformDep, actor: ActorDep
) -> TagsPublic:
    """Set the enterprise's A.3.16 tags (上市企业, 国家“小巨人”企业…): admin, or the town official of its town;
    audited with the tags before and after."""
    held = enterprise_tags.set_tags(p.uow, actor, credit_code, body.tags, address=client_address(request))
    return TagsPublic(credit_code=credit_code.strip().upper(), tags=held, clause=enterprise_tags.CLAUSE)


@router.get("/{credit_code}/projects", response_model=list[ProjectPublic])
def enterprise_projects(credit_code: str, p: PlatformDep, actor: ActorDep) -> list[ProjectPublic]:
    """The enterprise's projects, newest first."""
    return [ProjectPublic(**r) for r in service.enterprise_projects(p.uow, actor, credit_code)]


@router.get("/{credit_code}/subsidies", response_model=list[SubsidyPublic])
def enterprise_subsidies(credit_code: str, p: PlatformDep, actor: ActorDep) -> list[SubsidyPublic]:
    """The enterprise's subsidy applications (latest change first), each with the URL of its page."""
    return [subsidy_public(r) for r in service.enterprise_subsidies(p.uow, actor, credit_code)]
