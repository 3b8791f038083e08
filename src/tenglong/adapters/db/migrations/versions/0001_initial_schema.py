"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "enterprises",
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("town", sa.String(length=16), nullable=False),
        sa.Column("industry", sa.String(length=8), nullable=False),
        sa.Column("above_scale", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("credit_code", name=op.f("pk_enterprises")),
    )
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enterprises_industry"), ["industry"], unique=False)
        batch_op.create_index(batch_op.f("ix_enterprises_town"), ["town"], unique=False)

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_lookup", ["username", "address", "at"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("town", sa.String(length=16), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "data_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_path", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_valid", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("years", sa.JSON(), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name=op.f("fk_data_imports_uploaded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_imports")),
    )
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("method_title", sa.String(length=200), nullable=True),
        sa.Column("method_changes", sa.JSON(), nullable=True),
        sa.Column("parameters_version", sa.String(length=64), nullable=False),
        sa.Column("benchmarks", sa.JSON(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("started_by", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["published_by"], ["users.id"], name=op.f("fk_evaluation_runs_published_by_users")),
        sa.ForeignKeyConstraint(["started_by"], ["users.id"], name=op.f("fk_evaluation_runs_started_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
    )
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_runs_year"), ["year"], unique=False)

    op.create_table(
        "land_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("application_date", sa.Date(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_land_transactions_created_by_users")),
        sa.ForeignKeyConstraint(
            ["credit_code"], ["enterprises.credit_code"], name=op.f("fk_land_transactions_credit_code_enterprises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_land_transactions")),
    )
    with op.batch_alter_table("land_transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_land_transactions_credit_code"), ["credit_code"], unique=False)

    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("application_date", sa.Date(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_projects_created_by_users")),
        sa.ForeignKeyConstraint(
            ["credit_code"], ["enterprises.credit_code"], name=op.f("fk_projects_credit_code_enterprises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_credit_code"), ["credit_code"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_table(
        "enterprise_years",
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("town", sa.String(length=16), nullable=False),
        sa.Column("industry", sa.String(length=8), nullable=False),
        sa.Column("above_scale", sa.Boolean(), nullable=False),
        sa.Column("land_area_mu", sa.BigInteger(), nullable=False),
        sa.Column("tax_paid", sa.BigInteger(), nullable=False),
        sa.Column("value_added", sa.BigInteger(), nullable=True),
        sa.Column("revenue", sa.BigInteger(), nullable=True),
        sa.Column("rd_expense", sa.BigInteger(), nullable=True),
        sa.Column("energy_tce", sa.Float(), nullable=True),
        sa.Column("emission_equivalent_t", sa.Float(), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("electricity_kwh", sa.Float(), nullable=True),
        sa.Column("carbon_emission_t", sa.Float(), nullable=True),
        sa.Column("fixed_asset_investment", sa.BigInteger(), nullable=False),
        sa.Column("in_construction_period", sa.Boolean(), nullable=False),
        sa.Column("veto", sa.String(length=40), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["credit_code"], ["enterprises.credit_code"], name=op.f("fk_enterprise_years_credit_code_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["data_imports.id"], name=op.f("fk_enterprise_years_import_id_data_imports")
        ),
        sa.PrimaryKeyConstraint("credit_code", "year", name=op.f("pk_enterprise_years")),
    )
    with op.batch_alter_table("enterprise_years", schema=None) as batch_op:
        batch_op.create_index("ix_enterprise_years_year", ["year"], unique=False)

    op.create_table(
        "evaluation_results",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("town", sa.String(length=16), nullable=False),
        sa.Column("industry", sa.String(length=8), nullable=False),
        sa.Column("above_scale", sa.Boolean(), nullable=False),
        sa.Column("evaluated", sa.Boolean(), nullable=False),
        sa.Column("not_evaluated_reason", sa.String(length=32), nullable=True),
        sa.Column("group_name", sa.String(length=64), nullable=True),
        sa.Column("mujun_score", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("group_size", sa.Integer(), nullable=True),
        sa.Column("mujun_class_computed", sa.String(length=1), nullable=True),
        sa.Column("mujun_class", sa.String(length=1), nullable=True),
        sa.Column("mujun_class_override", sa.String(length=8), nullable=False),
        sa.Column("vetoed", sa.Boolean(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("land_use_tax_relief_rate", sa.Float(), nullable=True),
        sa.Column("electricity_surcharge", sa.Float(), nullable=True),
        sa.Column("d_years_running", sa.Integer(), nullable=False),
        sa.Column("carbon_intensity", sa.Float(), nullable=True),
        sa.Column("carbon_level", sa.String(length=8), nullable=True),
        sa.Column("carbon_efficiency_value", sa.Float(), nullable=True),
        sa.Column("carbon_grade", sa.Integer(), nullable=True),
        sa.Column("low_efficiency_enterprise", sa.Boolean(), nullable=False),
        sa.Column("billion_yuan_low_tax_enterprise", sa.Boolean(), nullable=False),
        sa.Column("high_consumption_low_efficiency_candidate", sa.Boolean(), nullable=False),
        sa.Column("land_area_mu", sa.BigInteger(), nullable=True),
        sa.Column("tax_paid", sa.BigInteger(), nullable=True),
        sa.Column("value_added", sa.BigInteger(), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("explanation_zh", sa.Text(), nullable=False),
        sa.Column("explanation_en", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["evaluation_runs.id"], name=op.f("fk_evaluation_results_run_id_evaluation_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "credit_code", name=op.f("pk_evaluation_results")),
    )
    with op.batch_alter_table("evaluation_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_results_mujun_class"), ["mujun_class"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluation_results_town"), ["town"], unique=False)

    op.create_table(
        "subsidy_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("clause", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("amount_detail", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("parameters_version", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("paid_reference", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_subsidy_applications_created_by_users")),
        sa.ForeignKeyConstraint(
            ["credit_code"], ["enterprises.credit_code"], name=op.f("fk_subsidy_applications_credit_code_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_subsidy_applications_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_applications")),
    )
    with op.batch_alter_table("subsidy_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subsidy_applications_credit_code"), ["credit_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_subsidy_applications_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subsidy_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_applications_project_id"))
        batch_op.drop_index(batch_op.f("ix_subsidy_applications_credit_code"))

    op.drop_table("subsidy_applications")
    with op.batch_alter_table("evaluation_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_results_town"))
        batch_op.drop_index(batch_op.f("ix_evaluation_results_mujun_class"))

    op.drop_table("evaluation_results")
    with op.batch_alter_table("enterprise_years", schema=None) as batch_op:
        batch_op.drop_index("ix_enterprise_years_year")

    op.drop_table("enterprise_years")
    op.drop_table("sessions")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_credit_code"))

    op.drop_table("projects")
    with op.batch_alter_table("land_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_land_transactions_credit_code"))

    op.drop_table("land_transactions")
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_runs_year"))

    op.drop_table("evaluation_runs")
    op.drop_table("data_imports")
    op.drop_table("users")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_lookup")

    op.drop_table("login_attempts")
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprises_town"))
        batch_op.drop_index(batch_op.f("ix_enterprises_industry"))

    op.drop_table("enterprises")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))
        batch_op.drop_index("ix_audit_entity")

    op.drop_table("audit_log")
