"""The one schema. Alembic migrations create it; a test checks they agree."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

apps = sa.Table(
    "apps",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("settings", Json, nullable=False),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("arn", sa.String(1024), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
    sa.Column("app_id", sa.String(64), nullable=True, index=True),
)

endpoints = sa.Table(
    "endpoints",
    metadata,
    sa.Column("ordinal", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("app_id", sa.String(64), nullable=False),
    sa.Column("endpoint_id", sa.String(128), nullable=False),
    sa.Column("user_id", sa.String(128), nullable=True),
    sa.Column("channel_type", sa.String(32), nullable=True),
    sa.Column("address", sa.String(1024), nullable=True),
    sa.Column("opt_out", sa.String(16), nullable=True),
    sa.Column("endpoint_status", sa.String(16), nullable=True),
    sa.Column("creation_date", sa.String(32), nullable=False),
    sa.Column("document", Json, nullable=False),
    sa.UniqueConstraint("app_id", "endpoint_id"),
    sa.Index("ix_endpoints_app_user", "app_id", "user_id"),
    sa.Index("ix_endpoints_app_address", "app_id", "address"),
)

attribute_names = sa.Table(
    "attribute_names",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
)

access_keys = sa.Table(
    "access_keys",
    metadata,
    sa.Column("access_key_id", sa.String(32), primary_key=True),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("revoked_at", sa.String(32), nullable=True),
)

access_key_apps = sa.Table(
    "access_key_apps",
    metadata,
    sa.Column(
        "access_key_id",
        sa.String(32),
        sa.ForeignKey("access_keys.access_key_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("app_id", sa.String(64), primary_key=True),
)
