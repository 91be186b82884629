"""E-mail open and click tracking settings, and the installation's signing secrets.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_tracking",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("opens", sa.Boolean(), nullable=False),
        sa.Column("clicks", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_email_tracking")),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")
    op.drop_table("email_tracking")
