"""Import and export jobs, and the members of IMPORT segments.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "segment_members",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("segment_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint(
            "app_id", "segment_id", "kind", "value", name=op.f("pk_segment_members")
        ),
    )
    op.create_table(
        "jobs",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("job_type", sa.String(length=8), nullable=False),
        sa.Column("segment_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("creation_date", sa.String(length=32), nullable=False),
        sa.Column("completion_date", sa.String(length=32), nullable=True),
        sa.Column("definition", _JSON, nullable=False),
        sa.Column("total_pieces", sa.Integer(), nullable=False),
        sa.Column("completed_pieces", sa.Integer(), nullable=False),
        sa.Column("failed_pieces", sa.Integer(), nullable=False),
        sa.Column("total_processed", sa.BigInteger(), nullable=False),
        sa.Column("total_failures", sa.BigInteger(), nullable=False),
        sa.Column("failures", _JSON, nullable=False),
        sa.Column("position", _JSON, nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_jobs")),
        sa.UniqueConstraint("app_id", "id", name=op.f("uq_jobs_app_id_id")),
    )
    op.create_index("ix_jobs_app_type", "jobs", ["app_id", "job_type", "seq"], unique=False)
    op.create_index("ix_jobs_status", "jobs", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_jobs_status", table_name="jobs")
    op.drop_index("ix_jobs_app_type", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("segment_members")
