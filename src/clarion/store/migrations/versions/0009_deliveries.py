"""The delivery ledger of outgoing messages, and one-time passwords.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("source_key", sa.String(length=512), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=1024), nullable=False),
        sa.Column("endpoint_key", sa.String(length=128), nullable=True),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column(
            "message", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("message_id", name=op.f("uq_deliveries_message_id")),
        sa.UniqueConstraint("source_key", name=op.f("uq_deliveries_source_key")),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_ms"], unique=False)
    op.create_table(
        "otp_codes",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("reference_id", sa.String(length=256), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("attempts_left", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "reference_id", "destination", name=op.f("pk_otp_codes")),
    )


def downgrade() -> None:
    op.drop_table("otp_codes")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")
