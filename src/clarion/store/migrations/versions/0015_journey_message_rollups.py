"""The journey message rollup behind GetJourneyDateRangeKpi.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_journey_messages",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("journey_id", sa.String(length=256), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("activity_id", sa.String(length=256), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "app_id",
            "journey_id",
            "day",
            "event_type",
            "activity_id",
            name=op.f("pk_daily_journey_messages"),
        ),
    )


def downgrade() -> None:
    op.drop_table("daily_journey_messages")
