"""Catalog tables of the metadata store: images, specs and prices synced from the drivers, and
the sync partitions (one per connection, region and kind) that say how fresh they are.

Every catalog row carries ``content_hash`` (a digest of what the CSP said about it), so a
re-sync compares hashes and writes only what changed, and ``gone_at``: set when the CSP stops
listing the row, cleared if it comes back. Full-text indexes are not ORM objects: SQLite gets
an external-content FTS5 table, PostgreSQL a ``search`` tsvector column with a GIN index
(both made by migration 0004_catalog, maintained by :mod:`mcinfra.store.catalog_store`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mcinfra.store.tables import Base


class CatalogImageRow(Base):
    __tablename__ = "catalog_images"
    __table_args__ = (
        UniqueConstraint("connection", "region", "image_id", name="uq_catalog_images_key"),
        # keyword searches naming an OS family (see CatalogStore.search_images): read in rank
        # order, version/arch/provider checked in the index; with a region, by region, then
        # sorted. (The region is left out of the rank index: its pages are spread over the
        # whole catalog, and every entry byte costs bulk-load time.)
        Index("ix_catalog_images_rank", "os_family", "rank_key", "os_version", "arch", "provider"),
        Index("ix_catalog_images_where", "region", "os_family", "os_version", "arch"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection: Mapped[str] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(128))
    image_id: Mapped[str] = mapped_column(String(512))
    name: Mapped[str] = mapped_column(Text)
    os_family: Mapped[str] = mapped_column(String(32))
    os_version: Mapped[str] = mapped_column(String(32))
    arch: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(32))
    distribution: Mapped[str] = mapped_column(Text)
    #: the static order of a family's images (normalize.rank_key): shortest name, then newest build
    rank_key: Mapped[int] = mapped_column(BigInteger)
    content_hash: Mapped[str] = mapped_column(String(32))
    synced_at: Mapped[datetime]
    gone_at: Mapped[datetime | None]


class CatalogSpecRow(Base):
    __tablename__ = "catalog_specs"
    __table_args__ = (
        UniqueConstraint("connection", "region", "spec_id", name="uq_catalog_specs_key"),
        Index("ix_catalog_specs_size", "vcpus", "memory_gb"),
        Index("ix_catalog_specs_where", "provider", "region"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection: Mapped[str] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(128))
    spec_id: Mapped[str] = mapped_column(String(256))
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_gb: Mapped[float] = mapped_column(Float)
    arch: Mapped[str] = mapped_column(String(16))
    gpu: Mapped[str] = mapped_column(String(64))
    gpu_count: Mapped[int] = mapped_column(Integer)
    #: the price the spec listing itself carried (USD), when it did
    listed_price_usd: Mapped[float | None] = mapped_column(Float)
    content_hash: Mapped[str] = mapped_column(String(32))
    synced_at: Mapped[datetime]
    gone_at: Mapped[datetime | None]


class CatalogPriceRow(Base):
    __tablename__ = "catalog_prices"
    __table_args__ = (
        UniqueConstraint("connection", "region", "spec_id", "zone", name="uq_catalog_prices_key"),
        Index("ix_catalog_prices_usd", "price_usd"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection: Mapped[str] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(128))
    spec_id: Mapped[str] = mapped_column(String(256))
    #: '' for a region-wide price
    zone: Mapped[str] = mapped_column(String(128))
    price_usd: Mapped[float | None] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(32))
    synced_at: Mapped[datetime]
    gone_at: Mapped[datetime | None]


class CatalogPartitionRow(Base):
    """One (connection, region, kind) of the catalog: when it was last synced, how long that
    took and how it ended. ``run_id`` is the resume marker: set while a sync run that planned
    this partition is unfinished; ``run_done`` says the partition finished within that run, so
    a run started after an interruption redoes exactly the partitions not done."""

    __tablename__ = "catalog_partitions"
    __table_args__ = (UniqueConstraint("connection", "region", "kind", name="uq_catalog_partitions_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection: Mapped[str] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    #: ok | error | unsupported | running
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    #: rows written by the last sync (0 when nothing had changed)
    written: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[str | None] = mapped_column(String(36))
    run_done: Mapped[bool] = mapped_column(default=False)
