"""Query parameters of the enterprise list and the run results, shared by the JSON API and the pages.

HTML filter forms send empty fields for "any", so every parameter is read
leniently (an empty value means "no filter") and checked by the service, which
reports every bad value at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from ..core.errors import InvalidInput, Problem
from ..services.enterprises.directory import ResultFilter

_TRUE = {"1", "true", "yes", "above"}
_FALSE = {"0", "false", "no", "below"}


def _int(name: str, value: str | None, default: int | None, problems: list[Problem]) -> int | None:
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        problems.append(
            Problem(
                "invalid_filter",
                name,
                value,
                "整数",
                "an integer",
                "2023",
                f"参数 {name} 应为整数。",
                f"Parameter {name} must be an integer.",
            )
        )
        return default


def parse_year(value: str | None) -> int | None:
    """An optional year parameter.

    Raises:
        InvalidInput: when it is not an integer.
    """
    problems: list[Problem] = []
    year = _int("year", value, None, problems)
    if problems:
        raise InvalidInput(problems)
    return year


def result_filter(
    q: Annotated[str | None, Query(description="Part of the name, or the start of the credit code")] = None,
    town: Annotated[str | None, Query(description="Town code or name, e.g. 331082112 or 杜桥镇")] = None,
    industry: Annotated[str | None, Query(description="GB/T 4754 division or class, e.g. C27")] = None,
    klass: Annotated[str | None, Query(alias="class", description="A, B, C, D, or none (not evaluated)")] = None,
    above_scale: Annotated[str | None, Query(description="1/true = 规上, 0/false = 规下, empty = both")] = None,
    flag: Annotated[
        str | None,
        Query(description="low_efficiency, billion_low_tax, hcle_candidate, override (第（八）项) or veto (一票否决)"),
    ] = None,
    sort: Annotated[
        str | None,
        Query(
            description="score (default; 规上 first, then 规下, each in score order — their scores are never mixed), "
            "tax_per_mu, value_added_per_mu, town (official order of the towns), class, rank, name or code"
        ),
    ] = None,
    direction: Annotated[
        str | None,
        Query(
            alias="dir",
            description="asc or desc (default: desc for score, tax_per_mu and value_added_per_mu, else asc)",
        ),
    ] = None,
    page: Annotated[str | None, Query(description="Page number, from 1")] = None,
    page_size: Annotated[str | None, Query(description="Rows per page, 1–200 (default 50)")] = None,
) -> ResultFilter:
    """The filter of a result list from the query string.

    Raises:
        InvalidInput: for a page or 规上 value that cannot be read (the service checks the rest).
    """
    problems: list[Problem] = []
    scale = None
    if above_scale is not None and above_scale.strip() != "":
        v = above_scale.strip().lower()
        if v in _TRUE | _FALSE:
            scale = v in _TRUE
        else:
            problems.append(
                Problem(
                    "invalid_filter",
                    "above_scale",
                    above_scale,
                    "1（规上）或 0（规下）",
                    "1 (above-scale) or 0 (below-scale)",
                    "1",
                    "参数 above_scale 应为 1 或 0。",
                    "Parameter above_scale must be 1 or 0.",
                )
            )
    page_no = _int("page", page, 1, problems)
    size = _int("page_size", page_size, 50, problems)
    if problems:
        raise InvalidInput(problems)
    return ResultFilter(
        q=q or None,
        town=town or None,
        industry=industry or None,
        klass=klass or None,
        above_scale=scale,
        flag=flag or None,
        sort=sort or "score",
        direction=direction or None,
        page=1 if page_no is None else page_no,
        page_size=50 if size is None else size,
    )


FilterDep = Annotated[ResultFilter, Depends(result_filter)]
