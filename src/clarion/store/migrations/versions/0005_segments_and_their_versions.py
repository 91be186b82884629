"""Segments and their versions.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segment_versions",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("segment_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_modified_date", sa.String(length=32), nullable=False),
        sa.Column(
            "definition", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "app_id", "segment_id", "version", name=op.f("pk_segment_versions")
        ),
    )
    op.create_table(
        "segments",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("segment_type", sa.String(length=16), nullable=False),
        sa.Column("creation_date", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_segments")),
        sa.UniqueConstraint("app_id", "id", name=op.f("uq_segments_app_id_id")),
    )


def downgrade() -> None:
    op.drop_table("segments")
    op.drop_table("segment_versions")
