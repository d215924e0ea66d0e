"""residents and flows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("draft", sa.Text(), server_default="{}", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_update_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "name", name=op.f("pk_flows")),
    )
    op.create_table(
        "residents",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("community_code", sa.String(length=24), nullable=False),
        sa.Column("compound_code", sa.String(length=24), nullable=False),
        sa.Column("building_code", sa.String(length=40), nullable=True),
        sa.Column("unit_label", sa.String(length=32), nullable=True),
        sa.Column("level", sa.String(length=12), server_default="unverified", nullable=False),
        sa.Column("consented_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_code"],
            ["buildings.code"],
            name=op.f("fk_residents_building_code_buildings"),
        ),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["communities.code"],
            name=op.f("fk_residents_community_code_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["compound_code"],
            ["compounds.code"],
            name=op.f("fk_residents_compound_code_compounds"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_residents")),
    )
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residents_community_code"), ["community_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_residents_compound_code"), ["compound_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residents_compound_code"))
        batch_op.drop_index(batch_op.f("ix_residents_community_code"))

    op.drop_table("residents")
    op.drop_table("flows")
