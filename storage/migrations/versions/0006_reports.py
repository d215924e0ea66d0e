"""Reports (spec 02): reports, their events, attachments, supports, feedback, numbers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 00:49:40.845367
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_sequences",
        sa.Column("community_code", sa.String(length=24), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_code", "year", name=op.f("pk_report_sequences")),
    )
    op.create_table(
        "reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("community_code", sa.String(length=24), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("compound_code", sa.String(length=24), nullable=False),
        sa.Column("building_code", sa.String(length=40), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("category_code", sa.String(length=24), nullable=False),
        sa.Column("category_type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=True),
        sa.Column("on_behalf_name", sa.String(length=64), nullable=True),
        sa.Column("on_behalf_phone", sa.String(length=32), nullable=True),
        sa.Column("filed_by", sa.BigInteger(), nullable=True),
        sa.Column("assignee_kind", sa.String(length=16), nullable=False),
        sa.Column("assignee_code", sa.String(length=24), nullable=False),
        sa.Column("assignee_user_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=12), server_default="submitted", nullable=False),
        sa.Column("reject_reason", sa.String(length=16), nullable=True),
        sa.Column("duplicate_of", sa.BigInteger(), nullable=True),
        sa.Column("supports", sa.Integer(), server_default="0", nullable=False),
        sa.Column("accept_by", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolve_by", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submit_update_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["reports.id"], name=op.f("fk_reports_duplicate_of_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("community_code", "year", "sequence", name="uq_reports_number"),
        sa.UniqueConstraint("submit_update_id", name=op.f("uq_reports_submit_update_id")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reports_assignee_kind_code_state_created_at",
            ["assignee_kind", "assignee_code", "state", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_reports_assignee_user_id"), ["assignee_user_id"], unique=False
        )
        batch_op.create_index(
            "ix_reports_community_code_state_created_at",
            ["community_code", "state", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_reports_compound_code_category_code_created_at",
            ["compound_code", "category_code", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_reports_reporter_id_created_at", ["reporter_id", "created_at"], unique=False
        )

    op.create_table(
        "report_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_role", sa.String(length=12), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=12), nullable=True),
        sa.Column("to_state", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("assignee_kind", sa.String(length=16), nullable=True),
        sa.Column("assignee_code", sa.String(length=24), nullable=True),
        sa.Column("assignee_user_id", sa.BigInteger(), nullable=True),
        sa.Column("update_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_events_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_events")),
    )
    with op.batch_alter_table("report_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_events_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index("ix_report_events_report_id_id", ["report_id", "id"], unique=False)

    op.create_table(
        "report_supports",
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_supports_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("report_id", "user_id", name=op.f("pk_report_supports")),
    )
    with op.batch_alter_table("report_supports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_supports_user_id"), ["user_id"], unique=False)

    op.create_table(
        "report_attachments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["report_events.id"],
            name=op.f("fk_report_attachments_event_id_report_events"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_attachments_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_attachments")),
    )
    with op.batch_alter_table("report_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_attachments_added_by"), ["added_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_attachments_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "report_feedback",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("resolve_event_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("fixed", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_report_feedback_rating_range")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_feedback_report_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["resolve_event_id"],
            ["report_events.id"],
            name=op.f("fk_report_feedback_resolve_event_id_report_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_feedback")),
        sa.UniqueConstraint("resolve_event_id", name=op.f("uq_report_feedback_resolve_event_id")),
    )
    with op.batch_alter_table("report_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_feedback_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_report_feedback_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_feedback_user_id"))
        batch_op.drop_index(batch_op.f("ix_report_feedback_report_id"))

    op.drop_table("report_feedback")
    with op.batch_alter_table("report_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_attachments_report_id"))
        batch_op.drop_index(batch_op.f("ix_report_attachments_added_by"))

    op.drop_table("report_attachments")
    with op.batch_alter_table("report_supports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_supports_user_id"))

    op.drop_table("report_supports")
    with op.batch_alter_table("report_events", schema=None) as batch_op:
        batch_op.drop_index("ix_report_events_report_id_id")
        batch_op.drop_index(batch_op.f("ix_report_events_actor_id"))

    op.drop_table("report_events")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_reporter_id_created_at")
        batch_op.drop_index("ix_reports_compound_code_category_code_created_at")
        batch_op.drop_index("ix_reports_community_code_state_created_at")
        batch_op.drop_index(batch_op.f("ix_reports_assignee_user_id"))
        batch_op.drop_index("ix_reports_assignee_kind_code_state_created_at")

    op.drop_table("reports")
    op.drop_table("report_sequences")
