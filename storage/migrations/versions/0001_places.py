"""places

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "departments",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("synced_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departments")),
    )
    op.create_table(
        "report_categories",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("synced_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_report_categories")),
    )
    op.create_table(
        "townships",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("synced_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_townships")),
    )
    op.create_table(
        "communities",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("township_code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("synced_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["township_code"],
            ["townships.code"],
            name=op.f("fk_communities_township_code_townships"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_communities")),
    )
    op.create_table(
        "department_categories",
        sa.Column("department_code", sa.String(length=24), nullable=False),
        sa.Column("category_code", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["report_categories.code"],
            name=op.f("fk_department_categories_category_code_report_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_department_categories_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint(
            "department_code", "category_code", name=op.f("pk_department_categories")
        ),
    )
    op.create_table(
        "compounds",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("community_code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("property_manager", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("synced_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["communities.code"],
            name=op.f("fk_compounds_community_code_communities"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_compounds")),
    )
    with op.batch_alter_table("compounds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compounds_community_code"), ["community_code"], unique=False
        )

    op.create_table(
        "grids",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("community_code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("synced_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_code"],
            ["communities.code"],
            name=op.f("fk_grids_community_code_communities"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_grids")),
    )
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grids_community_code"), ["community_code"], unique=False
        )

    op.create_table(
        "buildings",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("compound_code", sa.String(length=24), nullable=False),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("synced_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_code"], ["compounds.code"], name=op.f("fk_buildings_compound_code_compounds")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_buildings")),
    )
    with op.batch_alter_table("buildings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_buildings_compound_code"), ["compound_code"], unique=False
        )

    op.create_table(
        "grid_compounds",
        sa.Column("grid_code", sa.String(length=24), nullable=False),
        sa.Column("compound_code", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_code"],
            ["compounds.code"],
            name=op.f("fk_grid_compounds_compound_code_compounds"),
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["grids.code"], name=op.f("fk_grid_compounds_grid_code_grids")
        ),
        sa.PrimaryKeyConstraint("grid_code", "compound_code", name=op.f("pk_grid_compounds")),
    )


def downgrade() -> None:

    op.drop_table("grid_compounds")
    with op.batch_alter_table("buildings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_buildings_compound_code"))

    op.drop_table("buildings")
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grids_community_code"))

    op.drop_table("grids")
    with op.batch_alter_table("compounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compounds_community_code"))

    op.drop_table("compounds")
    op.drop_table("department_categories")
    op.drop_table("communities")
    op.drop_table("townships")
    op.drop_table("report_categories")
    op.drop_table("departments")
