"""The 待办 of 亩均评价: finished runs waiting to be published (``services/todo.py``).

Who may publish comes from ``evaluation_run.yaml``. Only publishing is a task: a failed
run is left as it is once a newer run of its year was started, so it does not wait on
anyone; nor does a finished run older than the run published for its year. The list of
runs cannot filter by state, so a single waiting run links to its page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, exists

from ...adapters.db.tables import evaluation_runs
from ...registers import workflows
from ..todo import Subject, register_subject


def _not_overtaken(t: Table) -> Any:
    """No run of the same year, started later, was published."""
    later = t.alias("later")
    return ~exists().where(later.c.year == t.c.year, later.c.status == "published", later.c.id > t.c.id)


SUBJECT = register_subject(
    Subject(
        workflow=workflows.load("evaluation_run"),
        table=evaluation_runs,
        list_link="/evaluations",
        record_link="/evaluations/{id}",
        creator="started_by",
        actions=("publish",),
        where=_not_overtaken,
        order=30,
    )
)
