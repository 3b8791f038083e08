"""The 待办 of 数据导入: validated uploads waiting to be committed (``services/todo.py``).

Who may commit comes from ``data_import.yaml``; discarding is never a task. The list of
uploads cannot filter by state, so a single waiting upload links to its own report.
"""

from __future__ import annotations

from ...adapters.db.tables import data_imports
from ...registers import workflows
from ..todo import Subject, register_subject

SUBJECT = register_subject(
    Subject(
        workflow=workflows.load("data_import"),
        table=data_imports,
        list_link="/imports",
        record_link="/imports/{id}",
        creator="uploaded_by",
        order=20,
    )
)
