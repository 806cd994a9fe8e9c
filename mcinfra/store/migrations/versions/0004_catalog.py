"""catalog: images, specs, prices and sync partitions, with full-text search

SQLite: an external-content FTS5 table over the image rows (kept in step by the catalog store,
in bulk, in the transaction that changes the rows). PostgreSQL: a tsvector column (words of the
name, distribution and OS, split on anything not a letter or digit, and the facet words),
written by the catalog store with each row, with a GIN index.

Revision ID: 0004_catalog
Revises: 0003_iids_system_id_unique
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_catalog"
down_revision = "0003_iids_system_id_unique"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

#: facet words: one word per provider, region, connection and arch value (letters and digits of
#: the value behind a prefix), so that a keyword search filtered by them intersects in the index
#: instead of joining every keyword match to the table. The catalog store writes the same words
#: for new rows without this expression (CatalogStore.facet_word: the shared part is computed once
#: per partition); 'delete' and 'rebuild' read them from the view.
SQLITE_FACET = ("lower(replace(replace(replace(replace(replace(replace({col}, '-', ''), '_', ''), '.', ''), ' ', ''), "
                "':', ''), '/', ''))")
SQLITE_FACETS = " || ' ' || ".join(f"'{p}' || " + SQLITE_FACET.format(col=c) for p, c in (
    ("zp", "provider"), ("zr", "region"), ("zc", "connection"), ("za", "arch")))
#: PostgreSQL: the ``search`` tsvector is written by the catalog store with each row
#: (CatalogStore.pg_search_words: the lower-cased letter/digit words of name, distribution,
#: os_family and os_version, then the facet words), not generated here: a generated
#: column's regexp_replace/to_tsvector cost half of a bulk load's time.


def _synced() -> list[sa.Column]:
    return [sa.Column("content_hash", sa.String(32), nullable=False),
            sa.Column("synced_at", TS, nullable=False),
            sa.Column("gone_at", TS)]


def upgrade() -> None:
    op.create_table(
        "catalog_images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("connection", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("image_id", sa.String(512), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("os_family", sa.String(32), nullable=False),
        sa.Column("os_version", sa.String(32), nullable=False),
        sa.Column("arch", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("distribution", sa.Text, nullable=False),
        sa.Column("rank_key", sa.BigInteger, nullable=False),
        *_synced(),
        sa.UniqueConstraint("connection", "region", "image_id", name="uq_catalog_images_key"),
    )
    op.create_index("ix_catalog_images_rank", "catalog_images",
                    ["os_family", "rank_key", "os_version", "arch", "provider"])
    op.create_index("ix_catalog_images_where", "catalog_images", ["region", "os_family", "os_version", "arch"])
    op.create_table(
        "catalog_specs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("connection", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("spec_id", sa.String(256), nullable=False),
        sa.Column("vcpus", sa.Integer, nullable=False),
        sa.Column("memory_gb", sa.Float, nullable=False),
        sa.Column("arch", sa.String(16), nullable=False),
        sa.Column("gpu", sa.String(64), nullable=False),
        sa.Column("gpu_count", sa.Integer, nullable=False),
        sa.Column("listed_price_usd", sa.Float),
        *_synced(),
        sa.UniqueConstraint("connection", "region", "spec_id", name="uq_catalog_specs_key"),
    )
    op.create_index("ix_catalog_specs_size", "catalog_specs", ["vcpus", "memory_gb"])
    op.create_index("ix_catalog_specs_where", "catalog_specs", ["provider", "region"])
    op.create_table(
        "catalog_prices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("connection", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("spec_id", sa.String(256), nullable=False),
        sa.Column("zone", sa.String(128), nullable=False),
        sa.Column("price_usd", sa.Float),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        *_synced(),
        sa.UniqueConstraint("connection", "region", "spec_id", "zone", name="uq_catalog_prices_key"),
    )
    op.create_index("ix_catalog_prices_usd", "catalog_prices", ["price_usd"])
    op.create_table(
        "catalog_partitions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("connection", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("synced_at", TS),
        sa.Column("duration_s", sa.Float),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("written", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(36)),
        sa.Column("run_done", sa.Boolean, nullable=False),
        sa.UniqueConstraint("connection", "region", "kind", name="uq_catalog_partitions_key"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # the FTS content is a view: the image columns plus the facet words
        op.execute("CREATE VIEW catalog_images_fts_src AS SELECT id, name, distribution, os_family, os_version, "
                   f"{SQLITE_FACETS} AS facets FROM catalog_images")
        op.execute("CREATE VIRTUAL TABLE catalog_images_fts USING fts5(name, distribution, os_family, os_version, "
                   "facets, content='catalog_images_fts_src', content_rowid='id', tokenize='unicode61')")
        # merge index segments 16 at a time (default 4): each partition's sync adds a segment,
        # and the default rewrote the index's words about twice as often during a bulk sync
        op.execute("INSERT INTO catalog_images_fts(catalog_images_fts, rank) VALUES ('automerge', 16)")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE catalog_images ADD COLUMN search tsvector NOT NULL")
        op.execute("CREATE INDEX ix_catalog_images_search ON catalog_images USING GIN (search)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS catalog_images_fts")
        op.execute("DROP VIEW IF EXISTS catalog_images_fts_src")
    for table in ("catalog_partitions", "catalog_prices", "catalog_specs", "catalog_images"):
        op.drop_table(table)
