"""Foundation: apps, tags, endpoints, attribute names, access keys.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("creation_date", sa.String(32), nullable=False),
        sa.Column("settings", Json, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_apps"),
        sa.UniqueConstraint("id", name="uq_apps_id"),
    )
    op.create_table(
        "tags",
        sa.Column("arn", sa.String(1024), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("app_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("arn", "key", name="pk_tags"),
    )
    op.create_index("ix_tags_app_id", "tags", ["app_id"])
    op.create_table(
        "endpoints",
        sa.Column("ordinal", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column("app_id", sa.String(64), nullable=False),
        sa.Column("endpoint_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=True),
        sa.Column("channel_type", sa.String(32), nullable=True),
        sa.Column("address", sa.String(1024), nullable=True),
        sa.Column("opt_out", sa.String(16), nullable=True),
        sa.Column("endpoint_status", sa.String(16), nullable=True),
        sa.Column("creation_date", sa.String(32), nullable=False),
        sa.Column("document", Json, nullable=False),
        sa.PrimaryKeyConstraint("ordinal", name="pk_endpoints"),
        sa.UniqueConstraint("app_id", "endpoint_id", name="uq_endpoints_app_id_endpoint_id"),
    )
    op.create_index("ix_endpoints_app_user", "endpoints", ["app_id", "user_id"])
    op.create_index("ix_endpoints_app_address", "endpoints", ["app_id", "address"])
    op.create_table(
        "attribute_names",
        sa.Column("app_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "kind", "name", name="pk_attribute_names"),
    )
    op.create_table(
        "access_keys",
        sa.Column("access_key_id", sa.String(32), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("access_key_id", name="pk_access_keys"),
    )
    op.create_table(
        "access_key_apps",
        sa.Column("access_key_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("access_key_id", "app_id", name="pk_access_key_apps"),
        sa.ForeignKeyConstraint(
            ["access_key_id"],
            ["access_keys.access_key_id"],
            name="fk_access_key_apps_access_key_id_access_keys",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    for table in ("access_key_apps", "access_keys", "attribute_names", "endpoints", "tags", "apps"):
        op.drop_table(table)
