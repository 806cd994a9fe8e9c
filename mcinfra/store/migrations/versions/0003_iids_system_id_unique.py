"""iids: one name per CSP resource — unique (connection, kind, system_id) once the id is known

A CSP resource may be mapped under one name only (issue 15, point 1: racing register() calls
could map one VPC under several names). Pending rows have no id yet (''), so the index is
partial. Duplicates a racing register() left behind are resolved first: the oldest mapping is
kept and the later ones (with the references they hold) are dropped.

Revision ID: 0003_iids_system_id_unique
Revises: 0002_cladnet
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_iids_system_id_unique"
down_revision = "0002_cladnet"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    dupes = bind.execute(sa.text(
        "SELECT i.id, i.connection, i.kind, i.name_id FROM iids i WHERE i.system_id <> '' AND EXISTS ("
        " SELECT 1 FROM iids o WHERE o.connection = i.connection AND o.kind = i.kind"
        " AND o.system_id = i.system_id AND o.id < i.id)")).all()
    for row_id, connection, kind, name in dupes:
        bind.execute(sa.text("DELETE FROM iid_refs WHERE connection = :c AND from_kind = :k AND from_name = :n"),
                     {"c": connection, "k": kind, "n": name})
        bind.execute(sa.text("DELETE FROM iids WHERE id = :i"), {"i": row_id})
    op.create_index(
        "uq_iids_system_id", "iids", ["connection", "kind", "system_id"], unique=True,
        sqlite_where=sa.text("system_id <> ''"), postgresql_where=sa.text("system_id <> ''"),
    )


def downgrade() -> None:
    op.drop_index("uq_iids_system_id", table_name="iids")
