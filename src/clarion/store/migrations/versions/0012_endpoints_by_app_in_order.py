"""An index on (app_id, ordinal): walking an app's endpoints in storage order, as campaign
runs and exports do, is then a range scan instead of a sort of the whole app per batch.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_endpoints_app_ordinal", "endpoints", ["app_id", "ordinal"])


def downgrade() -> None:
    op.drop_index("ix_endpoints_app_ordinal", table_name="endpoints")
