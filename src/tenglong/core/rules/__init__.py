"""The rule registry: every computable clause, in the order they must run.

Enterprise rules run first (projects read the final class), then the other
kinds, then enterprise totals over projects.
"""

from __future__ import annotations

from . import (
    ancillary_facilities,
    class_override,
    land_supply,
    land_transfer,
    low_efficiency,
    merger,
    planning_approval,
    scattered_land,
    tech_renovation,
    vertical_industry,
)
from ._common import Context, Need, Rule

RULES: tuple[Rule, ...] = (
    class_override.RULE,
    low_efficiency.RULE,
    planning_approval.RULE,
    planning_approval.DENSITY_RULE,
    scattered_land.RULE,
    scattered_land.WAIVER_RULE,
    tech_renovation.RULE,
    vertical_industry.RULE,
    ancillary_facilities.RULE,
    land_transfer.RULE,
    merger.RULE,
    land_supply.FLOOR_RULE,
    land_supply.COUNTY_RULE,
    tech_renovation.TOTAL_RULE,
)

# Rules whose outputs another rule reads: run them whenever the reader runs.
DEPENDS: dict[str, tuple[str, ...]] = {"tech_renovation_total": ("tech_renovation",)}

BY_OUTPUT: dict[tuple[str, str], Rule] = {(r.entity, o): r for r in RULES for o in r.outputs}


def rules_for_clause(clause: str) -> list[Rule]:
    """Rules implementing ``clause``."""
    return [r for r in RULES if r.clause == clause]


__all__ = ["BY_OUTPUT", "DEPENDS", "RULES", "Context", "Need", "Rule", "rules_for_clause"]
