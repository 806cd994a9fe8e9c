"""cladnet: overlay networks and their peers

Revision ID: 0002_cladnet
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_cladnet"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cladnets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("address_space", sa.String(43), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("rule_type", sa.String(32), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("mtu", sa.Integer, nullable=False),
        sa.Column("next_index", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "cladnet_peers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("cladnet_id", sa.Integer, sa.ForeignKey("cladnets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("connection", sa.String(63), nullable=False),
        sa.Column("vm", sa.String(63), nullable=False),
        sa.Column("ip_index", sa.Integer, nullable=False),
        sa.Column("overlay_ip", sa.String(15), nullable=False),
        sa.Column("interface", sa.String(15), nullable=False),
        sa.Column("public_key", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("host_key", sa.Text),
        sa.Column("public_ip", sa.String(45)),
        sa.Column("private_ip", sa.String(45)),
        sa.Column("vpc", sa.String(63), nullable=False),
        sa.Column("endpoints", sa.JSON, nullable=False),
        sa.Column("config_digest", sa.String(16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("cladnet_id", "connection", "vm", name="uq_cladnet_peer_vm"),
        sa.UniqueConstraint("cladnet_id", "ip_index", name="uq_cladnet_peer_ip"),
    )


def downgrade() -> None:
    op.drop_table("cladnet_peers")
    op.drop_table("cladnets")
