"""Message rollups: endpoints and facts per day, message event type and campaign.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_message_endpoints",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=256), nullable=False),
        sa.Column("endpoints", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(
            "app_id", "day", "event_type", "campaign_id", name=op.f("pk_daily_message_endpoints")
        ),
    )
    op.create_table(
        "daily_message_facts",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=256), nullable=False),
        sa.Column("iso_country_code", sa.String(length=64), nullable=False),
        sa.Column("record_status", sa.String(length=64), nullable=False),
        sa.Column("delivery_type", sa.String(length=64), nullable=False),
        sa.Column("campaign_send_status", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("parts", sa.BigInteger(), nullable=False),
        sa.Column("priced", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "app_id",
            "day",
            "event_type",
            "campaign_id",
            "iso_country_code",
            "record_status",
            "delivery_type",
            "campaign_send_status",
            name=op.f("pk_daily_message_facts"),
        ),
    )


def downgrade() -> None:
    op.drop_table("daily_message_facts")
    op.drop_table("daily_message_endpoints")
