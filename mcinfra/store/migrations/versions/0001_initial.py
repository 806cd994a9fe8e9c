"""initial schema: credentials, regions, connections, iids, iid_refs, call_history

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "regions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("zone", sa.String(128)),
        sa.Column("extra", sa.JSON, nullable=False),
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("credential", sa.String(128)),
        sa.Column("region", sa.String(128)),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "iids",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("connection", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("name_id", sa.String(128), nullable=False),
        sa.Column("system_id", sa.String(512), nullable=False),
        sa.Column("csp_name", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("zone", sa.String(128)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
        sa.UniqueConstraint("connection", "kind", "owner", "name_id", name="uq_iids_name"),
    )
    op.create_index("ix_iids_system_id", "iids", ["connection", "kind", "system_id"])
    op.create_table(
        "iid_refs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("connection", sa.String(128), nullable=False),
        sa.Column("from_kind", sa.String(32), nullable=False),
        sa.Column("from_name", sa.String(128), nullable=False),
        sa.Column("to_kind", sa.String(32), nullable=False),
        sa.Column("to_name", sa.String(128), nullable=False),
    )
    op.create_index("ix_refs_to", "iid_refs", ["connection", "to_kind", "to_name"])
    op.create_index("ix_refs_from", "iid_refs", ["connection", "from_kind", "from_name"])
    op.create_table(
        "call_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("connection", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_calls_conn_at", "call_history", ["connection", "at"])


def downgrade() -> None:
    for table in ("call_history", "iid_refs", "iids", "connections", "regions", "credentials"):
        op.drop_table(table)
