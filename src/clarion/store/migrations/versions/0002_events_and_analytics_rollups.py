"""Events and analytics: raw events, per-day rollups, event streams.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_active",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("endpoints", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "day", name=op.f("pk_daily_active")),
    )
    op.create_table(
        "daily_attributes",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("attribute", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "app_id", "day", "event_type", "attribute", "value", name=op.f("pk_daily_attributes")
        ),
    )
    op.create_table(
        "daily_events",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "day", "event_type", name=op.f("pk_daily_events")),
    )
    op.create_table(
        "daily_metrics",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("minimum", sa.Float(), nullable=False),
        sa.Column("maximum", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "app_id", "day", "event_type", "metric", name=op.f("pk_daily_metrics")
        ),
    )
    op.create_table(
        "daily_revenue",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("purchases", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "day", "currency", name=op.f("pk_daily_revenue")),
    )
    op.create_table(
        "daily_sessions",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("sessions", sa.BigInteger(), nullable=False),
        sa.Column("ended", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "day", name=op.f("pk_daily_sessions")),
    )
    op.create_table(
        "endpoint_activity",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        sa.Column("first_day", sa.String(length=10), nullable=False),
        sa.Column("last_event_ms", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.String(length=256), nullable=True),
        sa.Column("session_start_ms", sa.BigInteger(), nullable=True),
        sa.Column("session_stop_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("app_id", "ordinal", name=op.f("pk_endpoint_activity")),
    )
    op.create_table(
        "event_streams",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("destination_stream_arn", sa.String(length=1024), nullable=False),
        sa.Column("role_arn", sa.String(length=1024), nullable=False),
        sa.Column("last_modified_date", sa.String(length=32), nullable=False),
        sa.Column("last_updated_by", sa.String(length=256), nullable=True),
        sa.Column("exported_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_event_streams")),
    )
    op.create_table(
        "event_types",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "event_type", name=op.f("pk_event_types")),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint_key", sa.String(length=256), nullable=False),
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("arrival_ms", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("session_id", sa.String(length=256), nullable=True),
        sa.Column(
            "event",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint(
            "app_id",
            "endpoint_key",
            "event_id",
            name=op.f("uq_events_app_id_endpoint_key_event_id"),
        ),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_app_seq", ["app_id", "seq"], unique=False)
    op.create_index("ix_endpoint_activity_first_day", "endpoint_activity", ["app_id", "first_day"])


def downgrade() -> None:
    op.drop_index("ix_endpoint_activity_first_day", "endpoint_activity")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_app_seq")

    op.drop_table("events")
    op.drop_table("event_types")
    op.drop_table("event_streams")
    op.drop_table("endpoint_activity")
    op.drop_table("daily_sessions")
    op.drop_table("daily_revenue")
    op.drop_table("daily_metrics")
    op.drop_table("daily_events")
    op.drop_table("daily_attributes")
    op.drop_table("daily_active")
