"""The platform's tables (SQLAlchemy Core, portable between SQLite and PostgreSQL).

Money is ``Fixed(2)`` (exact 分), land ``Fixed(4)``. Published evaluation results
and the audit log are append-only: the services never update or delete them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from .types import Fixed


def _max_length(column: str, limit: int) -> CheckConstraint:
    """``length(column) <= limit`` (revision 0005): SQLite does not enforce ``VARCHAR(n)``, and ``Text`` has no bound.

    ``length`` counts characters on both databases; NULL passes.
    """
    return CheckConstraint(f"length({column}) <= {limit}", name=f"{column}_length")


def _max_json_size(column: str, limit: int) -> CheckConstraint:
    """The stored JSON text of ``column`` (as written, escapes included) has at most ``limit`` characters (0005)."""
    return CheckConstraint(f'length(CAST("{column}" AS TEXT)) <= {limit}', name=f"{column}_size")


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),  # admin | department | town | enterprise | auditor
    Column("town", String(16)),  # for role town
    Column("credit_code", String(18)),  # for role enterprise
    Column("department", String(64)),  # for role department
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    _max_length("username", 64),
    _max_length("display_name", 128),
    _max_length("department", 64),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("lang", String(5), nullable=False, default="zh"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("success", Boolean, nullable=False),
    _max_length("username", 64),
    _max_length("address", 64),
    Index("ix_login_attempts_lookup", "username", "address", "at"),
    Index("ix_login_attempts_address", "address", "at"),  # the per-address throttle (revision 0005)
)

enterprises = Table(
    "enterprises",
    metadata,
    Column("credit_code", String(18), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("town", String(16), nullable=False, index=True),
    Column("industry", String(8), nullable=False, index=True),
    Column("above_scale", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("tags", JSON),  # the A.3.16 tags (quality_retention category keys: listed, little_giant…), 0010
    _max_json_size("tags", 2048),
)

enterprise_years = Table(
    "enterprise_years",
    metadata,
    Column("credit_code", String(18), ForeignKey("enterprises.credit_code"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("town", String(16), nullable=False),
    Column("industry", String(8), nullable=False),
    Column("above_scale", Boolean, nullable=False),
    Column("land_area_mu", Fixed(4), nullable=False),
    Column("tax_paid", Fixed(2), nullable=False),
    Column("value_added", Fixed(2)),
    Column("revenue", Fixed(2)),
    Column("rd_expense", Fixed(2)),
    Column("energy_tce", Float),
    Column("emission_equivalent_t", Float),
    Column("employees", Integer),
    Column("electricity_kwh", Float),
    Column("carbon_emission_t", Float),
    Column("fixed_asset_investment", Fixed(2), nullable=False, default=0),
    Column("in_construction_period", Boolean, nullable=False, default=False),
    Column("veto", String(40), nullable=False, default=""),
    Column("import_id", Integer, ForeignKey("data_imports.id")),
    Index("ix_enterprise_years_year", "year"),
)

data_imports = Table(
    "data_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("stored_path", String(500), nullable=False),
    Column(
        "status", String(16), nullable=False
    ),  # validating | invalid | validated | committing | committed | discarded | failed
    Column("progress", Float, nullable=False, default=0.0),  # 0…1 of the running validation or commit (revision 0002)
    Column("message", Text),  # why a validation or commit failed (revision 0002)
    Column("rows_read", Integer, nullable=False, default=0),
    Column("rows_valid", Integer, nullable=False, default=0),
    Column("error_count", Integer, nullable=False, default=0),
    Column("report", JSON),
    Column("years", JSON),
    Column("uploaded_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("committed_at", DateTime(timezone=True)),
    _max_length("filename", 255),
    _max_length("message", 2000),
)

data_import_problems = Table(
    "data_import_problems",
    metadata,  # the validation report of an upload, one row per problem (revision 0002)
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("import_id", Integer, ForeignKey("data_imports.id"), nullable=False),
    Column(
        "seq", Integer, nullable=False
    ),  # order in the report: file and header problems first, then by row and column
    Column("level", String(8), nullable=False),  # error | warning
    Column("code", String(48), nullable=False),
    Column("cell", String(300), nullable=False),  # 企业数据!C12 (年度)
    Column("sheet", String(100)),
    Column("row_number", Integer),
    Column("column_letter", String(8)),
    Column("header", String(200)),
    Column("value", Text),
    Column("expected_zh", Text, nullable=False),
    Column("expected_en", Text, nullable=False),
    Column("example", Text, nullable=False),
    Column("message_zh", Text, nullable=False),
    Column("message_en", Text, nullable=False),
    Index("ix_data_import_problems_lookup", "import_id", "code", "seq"),
)

evaluation_runs = Table(
    "evaluation_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("year", Integer, nullable=False, index=True),
    Column("status", String(16), nullable=False),  # queued | running | done | failed | published | superseded
    Column("progress", Float, nullable=False, default=0.0),
    Column("message", Text),
    Column("method_title", String(200)),
    Column("method_changes", JSON),
    Column("parameters_version", String(64), nullable=False),
    Column("benchmarks", JSON),
    Column("summary", JSON),
    Column("started_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("published_by", Integer, ForeignKey("users.id")),
    Column("published_at", DateTime(timezone=True)),
    # A published run superseded by a newer run of its year (revision 0007): which run, who, when and why.
    Column("superseded_by", Integer, ForeignKey("evaluation_runs.id")),
    Column("superseded_by_user", Integer, ForeignKey("users.id")),
    Column("superseded_at", DateTime(timezone=True)),
    Column("supersede_reason", Text),
    _max_length("method_title", 200),
    _max_length("message", 2000),
    _max_length("supersede_reason", 500),
    # At most one published run per year (0007): superseding moves the old run out before the new one moves in.
    Index(
        "uq_evaluation_runs_published_year",
        "year",
        unique=True,
        sqlite_where=text("status = 'published'"),
        postgresql_where=text("status = 'published'"),
    ),
)

evaluation_results = Table(
    "evaluation_results",
    metadata,
    Column("run_id", Integer, ForeignKey("evaluation_runs.id"), primary_key=True),
    Column("credit_code", String(18), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("town", String(16), nullable=False, index=True),
    Column("industry", String(8), nullable=False),
    Column("above_scale", Boolean, nullable=False),
    Column("evaluated", Boolean, nullable=False),
    Column("not_evaluated_reason", String(32)),
    Column("group_name", String(64)),
    Column("mujun_score", Float),
    Column("rank", Integer),
    Column("group_size", Integer),
    Column("mujun_class_computed", String(1)),
    Column("mujun_class", String(1), index=True),
    Column("mujun_class_override", String(8), nullable=False),
    Column("vetoed", Boolean, nullable=False),
    Column("indicators", JSON, nullable=False),
    Column("scores", JSON, nullable=False),
    Column("land_use_tax_relief_rate", Float),
    Column("electricity_surcharge", Float),
    Column("d_years_running", Integer, nullable=False),
    Column("carbon_intensity", Float),
    Column("carbon_level", String(8)),
    Column("carbon_efficiency_value", Float),
    Column("carbon_grade", Integer),
    Column("low_efficiency_enterprise", Boolean, nullable=False),
    Column("billion_yuan_low_tax_enterprise", Boolean, nullable=False),
    Column("high_consumption_low_efficiency_candidate", Boolean, nullable=False),
    Column("land_area_mu", Fixed(4)),
    Column("tax_paid", Fixed(2)),
    Column("value_added", Fixed(2)),
    Column("employees", Integer),
    Column("explanation_zh", Text, nullable=False),
    Column("explanation_en", Text, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("credit_code", String(18), ForeignKey("enterprises.credit_code"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("application_date", Date, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The life cycle (A.4.2, revision 0010): the stage of registers/workflows/project_lifecycle.yaml and the
    # dates and records of its stages (filed_on… accepted_on, actual_investment, actual_plot_ratio).
    Column("stage", String(16), nullable=False, server_default="filed"),
    Column("lifecycle", JSON),
    _max_length("name", 200),
    _max_length("stage", 16),
    _max_json_size("lifecycle", 8192),
)

land_transactions = Table(
    "land_transactions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(24), nullable=False),  # split | merge | pre_registration | sale | merger
    Column("credit_code", String(18), ForeignKey("enterprises.credit_code"), index=True),
    Column("application_date", Date, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("result", JSON),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

subsidy_applications = Table(
    "subsidy_applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False, index=True),
    Column("credit_code", String(18), ForeignKey("enterprises.credit_code"), nullable=False, index=True),
    Column("clause", String(8), nullable=False),  # 2.10 | 2.11
    Column("status", String(16), nullable=False),  # draft | submitted | under_review | approved | rejected | paid
    Column("amount", Fixed(2), nullable=False),
    Column("amount_detail", JSON, nullable=False),
    Column("explanation", JSON, nullable=False),
    Column("parameters_version", String(64), nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("decision_note", Text),
    Column("paid_reference", String(100)),
    _max_length("decision_note", 2000),
    _max_length("paid_reference", 100),
    # One live application per project and clause; a withdrawn one frees the pair (revision 0003).
    Index(
        "uq_subsidy_applications_live",
        "project_id",
        "clause",
        unique=True,
        sqlite_where=text("status != 'withdrawn'"),
        postgresql_where=text("status != 'withdrawn'"),
    ),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,  # the money ledger: append-only, one row per amount granted, paid, clawed back or recovered (0003)
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("credit_code", String(18), ForeignKey("enterprises.credit_code"), nullable=False, index=True),
    Column("project_id", Integer, ForeignKey("projects.id")),
    Column("application_id", Integer, ForeignKey("subsidy_applications.id"), index=True),
    Column("clause", String(8), nullable=False),  # 2.10 | 2.11 | …
    Column("item", String(48), nullable=False),  # the output paid: tech_renovation_subsidy, key_project_reward_2513, …
    Column("kind", String(16), nullable=False),  # granted | paid | clawback | recovered
    Column("amount", Fixed(2), nullable=False),  # exact 分, always positive; the kind gives the direction
    Column("year", Integer, nullable=False),  # the budget year (of the project's application date)
    Column("cap_key", String(80)),  # the cap the amount counts against (a parameter path), if any
    Column("source_type", String(32), nullable=False),  # what decided it: subsidy_application | clawback | …
    Column("source_id", String(64), nullable=False),
    Column("reference", String(100)),  # the payment or recovery voucher
    Column("note", Text),
    Column("actor_id", Integer, ForeignKey("users.id")),
    Column("actor", String(64), nullable=False),
    CheckConstraint("amount > 0", name="positive_amount"),
    CheckConstraint("kind IN ('granted', 'paid', 'clawback', 'recovered')", name="known_kind"),
    _max_length("reference", 100),
    _max_length("note", 2000),
    Index("ix_ledger_entries_cap", "credit_code", "cap_key", "year"),
)

attachments = Table(
    "attachments",
    metadata,  # evidence files of a record (revision 0006): on disk under a generated name; a row is never deleted
    Column("id", Integer, primary_key=True),
    Column("owner_type", String(32), nullable=False),  # the kind of record: subsidy_application | …
    Column("owner_id", Integer, nullable=False),
    # scope: the owner's enterprise; None for an owner of no enterprise (a target figure, revision 0011)
    Column("credit_code", String(18), ForeignKey("enterprises.credit_code"), index=True),
    Column("kind", String(32), nullable=False),  # invoice | equipment_list | acceptance_report | other
    Column("original_name", String(255), nullable=False),  # as the browser sent it: shown, never used as a path
    Column("stored_name", String(64), nullable=False, unique=True),  # the file's generated name on disk
    Column("content_type", String(100), nullable=False),  # sniffed from the bytes, one of an allow-list
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),  # removed before submission: marked, the file kept
    Column("deleted_by", Integer, ForeignKey("users.id")),
    CheckConstraint("size_bytes > 0", name="positive_size"),
    _max_length("original_name", 255),
    Index("ix_attachments_owner", "owner_type", "owner_id"),
)

notifications = Table(
    "notifications",
    metadata,  # in-app notices of workflow moves (revision 0008): one row per recipient, written with the move
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("recipient_id", Integer, ForeignKey("users.id"), nullable=False),  # the user told
    Column("event", String(64), nullable=False),  # the audited move: application.reject, import.pass_validation…
    Column("entity_type", String(32), nullable=False),  # the record moved: subsidy_application | data_import | …
    Column("entity_id", String(64), nullable=False),
    Column("credit_code", String(18)),  # the record's enterprise, if it has one (its name is shown)
    Column("audit_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("audit_log.id")),  # the move's audit
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),  # None while unread
    Index("ix_notifications_inbox", "recipient_id", "read_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor_id", Integer),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False, index=True),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("address", String(64)),
    # The hash chain (registers/chain.py, revision 0004): the previous row's hash, and
    # sha256(prev_hash ‖ canonical content of this row); rows are chained in id order.
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
    _max_length("actor", 64),
    _max_length("entity_type", 32),
    _max_length("entity_id", 64),
    _max_length("address", 64),
    _max_json_size("before", 32768),
    _max_json_size("after", 32768),
    Index("ix_audit_entity", "entity_type", "entity_id"),
)

register_entries = Table(
    "register_entries",
    metadata,  # the campaign registers (A.3, revision 0009): one row per entry; its history is the audit log
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),  # the register kind (policy/registers/<kind>.yaml), audit entity
    Column("credit_code", String(18), ForeignKey("enterprises.credit_code"), nullable=False, index=True),
    Column("project_id", Integer, ForeignKey("projects.id")),  # for a kind whose entries are projects
    Column("town", String(16), nullable=False, index=True),  # the enterprise's town when listed (scope)
    Column("category", String(32)),  # a category key of the kind, once decided
    Column("status", String(24), nullable=False),  # a state of the kind's workflow
    Column("opened", Date, nullable=False),  # the day it was proposed or added
    Column("deadline", Date),  # the step's deadline (整治期限, 开工期限…), overdue the day after
    Column("responsible_unit", String(64)),  # a responsible-unit key of the kind
    Column("fields", JSON, nullable=False),  # the entry's fields, exact decimals as text
    Column("plan", JSON),  # the plan (一企一方案: measures, targets, deadline…), from the kind's plan moves
    Column("basis", JSON, nullable=False),  # why it entered: the proposal's clause and values, or a person's reason
    Column("suggestion", JSON),  # a system suggestion of a next move (销号 candidate), until a person moves it
    Column("created_by", Integer, ForeignKey("users.id")),  # None for a system proposal
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    _max_length("kind", 32),
    _max_length("category", 32),
    _max_length("status", 24),
    _max_length("responsible_unit", 64),
    _max_json_size("fields", 32768),
    _max_json_size("plan", 32768),
    _max_json_size("basis", 32768),
    _max_json_size("suggestion", 32768),
    Index("ix_register_entries_kind_status", "kind", "status"),
)

target_figures = Table(
    "target_figures",
    metadata,  # figures of the campaign's targets entered by a person (revision 0011); a new entry supersedes, never
    # replaces: the latest (highest id) of a (target, year, town) counts, every earlier one stays as history
    Column("id", Integer, primary_key=True),
    Column("target", String(48), nullable=False),  # a key of policy/campaign_targets.yaml
    Column("year", Integer, nullable=False),
    Column("town", String(16)),  # a town's code; None for the county
    Column("value", String(64), nullable=False),  # exact: a decimal or a fraction (1/3) as text
    Column("source", String(200), nullable=False),  # where the figure comes from (市统计局 2023年快报)
    Column("note", String(2000)),
    Column("supersedes", Integer, ForeignKey("target_figures.id")),  # the entry it replaced as the latest
    Column("entered_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    _max_length("target", 48),
    _max_length("town", 16),
    _max_length("value", 64),
    _max_length("source", 200),
    _max_length("note", 2000),
    Index("ix_target_figures_key", "target", "year", "town"),
)

target_shares = Table(
    "target_shares",
    metadata,  # 目标分解 (revision 0011): each town's share of a county target set by the admin; the latest counts
    Column("id", Integer, primary_key=True),
    Column("target", String(48), nullable=False),
    Column("town", String(16), nullable=False),
    Column("value", String(64), nullable=False),  # exact, as text
    Column("set_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    _max_length("target", 48),
    _max_length("town", 16),
    _max_length("value", 64),
    Index("ix_target_shares_key", "target", "town"),
)

reforms = Table(
    "reforms",
    metadata,  # what-if scenarios of the simulation page (revision 0012): one row per saved version, never replaced
    Column("id", Integer, primary_key=True),
    Column("lineage", Integer, ForeignKey("reforms.id")),  # the first version's id (None on the first version)
    Column("version", Integer, nullable=False),  # 1, 2, … within a lineage
    Column("title", String(200), nullable=False),
    Column("description", String(4000)),
    Column("changes", JSON, nullable=False),  # {parameter path: value | {date: value}}, the --method format as JSON
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    _max_length("title", 200),
    _max_length("description", 4000),
    _max_json_size("changes", 65536),
    Index("ix_reforms_lineage", "lineage", "version"),
)
