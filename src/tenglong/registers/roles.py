"""Who may see and do what. Pure rules; the services apply them to queries.

* ``admin`` (市经信局): everything.
* ``department``: reads everything; acts on its own registers (later issues).
* ``town``: only the enterprises of its own 镇(街道).
* ``enterprise``: only its own data, eligibility and applications.
* ``auditor``: read-only, including the audit log.

The campaign registers (``registers/kinds.py``) add two permissions: ``register``, to
make the moves of a register's loop (each move further names the roles that may make
it, and the services limit a town to its town and a department to the entries it is
the responsible unit of), and ``register_evidence``, to add evidence files to an entry
(an enterprise to its own). ``lifecycle`` records the stages of a project's life cycle (A.4.2: 开工, 竣工, 投产,
达产验收; ``registers/workflows/project_lifecycle.yaml``), a town only for its own town's projects;
``project_evidence`` adds evidence files to a project (an enterprise to its own).
``tag_enterprise`` sets an enterprise's A.3.16 tags (上市企业, 国家“小巨人”企业…; ``services/enterprises/tags.py``):
admin any enterprise's, a town official its own town's.
``enter_targets`` enters the figure of a campaign target with its evidence (``services/reports/progress.py``): admin
the county's and any town's, a town official its own town's (for a target broken down by town); ``share_targets``
sets each town's share of a county target (目标分解), admin only.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "department", "town", "enterprise", "auditor")


@dataclass(frozen=True)
class Actor:
    """The signed-in user as the services see them."""

    id: int
    username: str
    display_name: str
    role: str
    town: str | None = None
    credit_code: str | None = None
    department: str | None = None

    @property
    def sees_all_enterprises(self) -> bool:
        """admin, department and auditor read every enterprise."""
        return self.role in ("admin", "department", "auditor")

    def may_see_enterprise(self, credit_code: str, town: str) -> bool:
        """Whether the enterprise (with its town) is visible to this actor."""
        if self.sees_all_enterprises:
            return True
        if self.role == "town":
            return town == self.town
        if self.role == "enterprise":
            return credit_code == self.credit_code
        return False

    # What each role may do (the services check; the pages hide what is not allowed).
    def can(self, action: str) -> bool:
        """Whether the role may perform ``action`` at all (object scope is checked separately)."""
        return action in PERMISSIONS.get(self.role, frozenset())


PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            "read",
            "calculate",
            "evaluate",
            "publish",
            "import",
            "apply",
            "review",
            "decide",
            "pay",
            "manage_users",
            "read_audit",
            "create_project",
            "register",
            "register_evidence",
            "lifecycle",
            "project_evidence",
            "tag_enterprise",
            "enter_targets",
            "share_targets",
            "simulate",
            "save_reforms",
        }
    ),
    "department": frozenset(
        {
            "read",
            "calculate",
            "review",
            "register",
            "register_evidence",
            "lifecycle",
            "project_evidence",
            "simulate",
            "save_reforms",
        }
    ),
    "town": frozenset(
        {
            "read",
            "calculate",
            "apply",
            "create_project",
            "register",
            "register_evidence",
            "lifecycle",
            "project_evidence",
            "tag_enterprise",
            "enter_targets",
            "simulate",
        }
    ),
    "enterprise": frozenset({"read", "calculate", "apply", "create_project", "register_evidence", "project_evidence"}),
    "auditor": frozenset({"read", "calculate", "read_audit", "simulate"}),
}
