"""What the campaign does after the platform's other writes: each in its own transaction, after theirs committed.

* a published (or superseding) evaluation: the register proposals and 销号 suggestions it brings
  (``seeding.propose_after_publish``), then every commitment checked against the new data
  (``commitments.check_all``), then the year's candidate examples (A.4.3, ``reports/awards.propose_for_run``);
* a committed data import: every commitment checked against the new data;
* a project entered: proposed for the zero-land register if it is a zero-new-land renovation;
* an application approved: its project proposed for recording the enterprise's commitment.

And one inside a register move's own transaction: a zero-land project's start recorded in its register (A.3.15)
is its project's start too (the life cycle, A.4.2), while the project is still 已备案.

Each is idempotent (a proposal is never made twice, a suggestion only when the result changed), so a failure is
logged and made good by the next run; it never undoes the write that triggered it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from ...registers.kinds import Kind
from ...registers.workflow import Move
from ..kernel.uow import UnitOfWork, Writer
from . import commitments, seeding
from .entries import after_move

__all__ = ["after_approval", "after_import", "after_project", "after_publish"]

log = logging.getLogger(__name__)


def _safely(what: str, step: Callable[[], Any]) -> Any:
    try:
        return step()
    except Exception:  # a follow-up never undoes what triggered it: logged, and the next run makes it good
        log.exception("campaign follow-up failed: %s", what)
        return None


def after_publish(uow: UnitOfWork, run_id: int, day: dt.date | None = None) -> dict[str, Any]:
    """Proposals and suggestions from the published run ``run_id``, then the commitments checked, then the year's
    candidate examples."""
    from ..reports import awards  # here: the reports read the life cycle, which imports this module

    return {
        "proposals": _safely(f"proposals from run {run_id}", lambda: seeding.propose_after_publish(uow, run_id, day)),
        "commitments": _safely(
            f"commitments after run {run_id}", lambda: commitments.check_all(uow, day, f"evaluation #{run_id}")
        ),
        "awards": _safely(f"award candidates after run {run_id}", lambda: awards.propose_for_run(uow, run_id)),
    }


def after_import(uow: UnitOfWork, import_id: int, day: dt.date | None = None) -> dict[str, Any] | None:
    """The commitments checked against the data of the committed import ``import_id``."""
    return _safely(
        f"commitments after import {import_id}", lambda: commitments.check_all(uow, day, f"import #{import_id}")
    )


def after_project(uow: UnitOfWork, day: dt.date | None = None) -> int | None:
    """Zero-new-land renovation projects proposed for their register."""
    return _safely("zero-land proposals", lambda: seeding.propose_projects(uow, day))


def after_approval(uow: UnitOfWork, day: dt.date | None = None) -> int | None:
    """Projects with approved support proposed for recording their commitment."""
    return _safely("commitment proposals", lambda: commitments.propose_for_approved(uow, day))


def _zero_land_start(w: Writer, kind: Kind, row: Any, m: Move, values: dict, day: dt.date) -> dict[str, Any]:
    """The register's start is the project's start (when the project is still 已备案)."""
    from ..enterprises.lifecycle import record_start_from_register  # lifecycle reads campaign.common: not at import

    if row.project_id is None:
        return {}
    return {"project_started": record_start_from_register(w, row.project_id, values["started_on"])}


after_move(seeding.ZERO_LAND, "start", _zero_land_start)
