"""Message templates and their versions.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("template_type", sa.String(length=8), nullable=False),
        sa.Column("creation_date", sa.String(length=32), nullable=False),
        sa.Column("active_version", sa.Integer(), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_templates")),
        sa.UniqueConstraint("name", "template_type", name=op.f("uq_templates_name_template_type")),
    )
    op.create_table(
        "template_versions",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("template_type", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("creation_date", sa.String(length=32), nullable=False),
        sa.Column("last_modified_date", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.String(length=32), nullable=False),
        sa.Column("document", _JSON, nullable=False),
        sa.PrimaryKeyConstraint(
            "name", "template_type", "version", name=op.f("pk_template_versions")
        ),
    )


def downgrade() -> None:
    op.drop_table("template_versions")
    op.drop_table("templates")
