"""The e-mail opens and clicks already counted, so each counts once per message (and link).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_engagements",
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("link", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("message_id", "kind", "link", name=op.f("pk_email_engagements")),
    )
    op.create_index(
        op.f("ix_email_engagements_app_id"), "email_engagements", ["app_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_email_engagements_app_id"), table_name="email_engagements")
    op.drop_table("email_engagements")
