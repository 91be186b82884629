"""Journeys, their runs, their participants' positions and their execution counters.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Seq = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "journeys",
        sa.Column("seq", Seq, nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("creation_date", sa.String(length=32), nullable=False),
        sa.Column("last_modified_date", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("definition", Json, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journeys")),
        sa.UniqueConstraint("app_id", "id", name=op.f("uq_journeys_app_id_id")),
    )
    op.create_index("ix_journeys_state", "journeys", ["state"], unique=False)
    op.create_table(
        "journey_runs",
        sa.Column("seq", Seq, nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("journey_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("creation_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_update_ms", sa.BigInteger(), nullable=False),
        sa.Column("position", Json, nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journey_runs")),
        sa.UniqueConstraint(
            "app_id",
            "journey_id",
            "run_id",
            name=op.f("uq_journey_runs_app_id_journey_id_run_id"),
        ),
    )
    op.create_index("ix_journey_runs_status", "journey_runs", ["status"], unique=False)
    op.create_table(
        "journey_participants",
        sa.Column("seq", Seq, nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("journey_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint_key", sa.String(length=256), nullable=False),
        sa.Column("entry", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("activity_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("entered_ms", sa.BigInteger(), nullable=False),
        sa.Column("arrived_ms", sa.BigInteger(), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_journey_participants")),
        sa.UniqueConstraint(
            "app_id",
            "journey_id",
            "endpoint_key",
            "entry",
            name=op.f("uq_journey_participants_app_id_journey_id_endpoint_key_entry"),
        ),
    )
    op.create_index(
        "ix_journey_participants_due", "journey_participants", ["state", "due_ms"], unique=False
    )
    op.create_table(
        "journey_counters",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("journey_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("activity_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "app_id",
            "journey_id",
            "run_id",
            "activity_id",
            "name",
            name=op.f("pk_journey_counters"),
        ),
    )


def downgrade() -> None:
    op.drop_table("journey_counters")
    op.drop_index("ix_journey_participants_due", table_name="journey_participants")
    op.drop_table("journey_participants")
    op.drop_index("ix_journey_runs_status", table_name="journey_runs")
    op.drop_table("journey_runs")
    op.drop_index("ix_journeys_state", table_name="journeys")
    op.drop_table("journeys")
