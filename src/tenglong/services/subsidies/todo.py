"""The 待办 of 补助申请: applications waiting in a state of their workflow (``services/todo.py``).

The department reviews submitted applications, the bureau approves, returns and pays; a
draft or a returned application waits on its applicant (the enterprise, the town for its
firms, or the official who created it) — all read from ``subsidy_application.yaml``.
"""

from __future__ import annotations

from ...adapters.db.tables import subsidy_applications
from ...registers import workflows
from ..todo import Subject, register_subject

SUBJECT = register_subject(
    Subject(
        workflow=workflows.load("subsidy_application"),
        table=subsidy_applications,
        list_link="/applications?status={state}",
        record_link="/applications/{id}",
        creator="created_by",
        enterprise="credit_code",
        order=10,
    )
)
