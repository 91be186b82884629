"""Campaigns, their versions, and their runs (Pinpoint's activities); messages by endpoint.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("creation_date", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("app_id", "id", name=op.f("uq_campaigns_app_id_id")),
    )
    op.create_table(
        "campaign_versions",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_modified_date", sa.String(length=32), nullable=False),
        sa.Column("definition", _JSON, nullable=False),
        sa.PrimaryKeyConstraint(
            "app_id", "campaign_id", "version", name=op.f("pk_campaign_versions")
        ),
    )
    op.create_table(
        "campaign_runs",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("treatment_id", sa.String(length=16), nullable=False),
        sa.Column("campaign_version", sa.Integer(), nullable=False),
        sa.Column("scheduled_ms", sa.BigInteger(), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.Column("start", sa.String(length=32), nullable=True),
        sa.Column("end", sa.String(length=32), nullable=True),
        sa.Column("total_endpoint_count", sa.Integer(), nullable=False),
        sa.Column("successful_endpoint_count", sa.Integer(), nullable=False),
        sa.Column("timezones_total_count", sa.Integer(), nullable=False),
        sa.Column("timezones_completed_count", sa.Integer(), nullable=False),
        sa.Column("metrics", _JSON, nullable=False),
        sa.Column("position", _JSON, nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_campaign_runs")),
        sa.UniqueConstraint("app_id", "id", name=op.f("uq_campaign_runs_app_id_id")),
        sa.UniqueConstraint(
            "app_id",
            "campaign_id",
            "scheduled_ms",
            "treatment_id",
            name=op.f("uq_campaign_runs_app_id_campaign_id_scheduled_ms_treatment_id"),
        ),
    )
    op.create_index("ix_campaign_runs_state", "campaign_runs", ["state", "due_ms"])
    op.create_index(
        "ix_deliveries_endpoint", "deliveries", ["app_id", "endpoint_key", "created_ms"]
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_endpoint", table_name="deliveries")
    op.drop_index("ix_campaign_runs_state", table_name="campaign_runs")
    op.drop_table("campaign_runs")
    op.drop_table("campaign_versions")
    op.drop_table("campaigns")
