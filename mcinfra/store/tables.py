"""SQLAlchemy 2.0 typed tables. Changes here need an Alembic migration in migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class CredentialRow(Base):
    __tablename__ = "credentials"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    #: Fernet token of the JSON key/values; never stored in clear
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegionRow(Base):
    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(128))
    zone: Mapped[str | None] = mapped_column(String(128))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ConnectionRow(Base):
    __tablename__ = "connections"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    credential: Mapped[str | None] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(128))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IIDRow(Base):
    """One resource: user name -> CSP id. ``state`` is 'pending' from before the CSP call until
    the call's result is written, so a crash in between can be reconciled by ``csp_name``;
    'ready' once mapped; 'deleting' from before the CSP delete until the row is dropped, so a
    crash in between can be reconciled by ``system_id``."""

    __tablename__ = "iids"
    __table_args__ = (
        UniqueConstraint("connection", "kind", "owner", "name_id", name="uq_iids_name"),
        Index("ix_iids_system_id", "connection", "kind", "system_id"),
        # one name per CSP resource once its id is known (pending rows have '')
        Index("uq_iids_system_id", "connection", "kind", "system_id", unique=True,
              sqlite_where=text("system_id <> ''"), postgresql_where=text("system_id <> ''")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    connection: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    #: the owning VPC's user name for subnets; '' for every other kind
    owner: Mapped[str] = mapped_column(String(128), default="")
    name_id: Mapped[str] = mapped_column(String(128))
    system_id: Mapped[str] = mapped_column(String(512), default="")
    csp_name: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    zone: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RefRow(Base):
    """A resource that references another (an SG its VPC, a VM its SGs): deletes check these."""

    __tablename__ = "iid_refs"
    __table_args__ = (
        Index("ix_refs_to", "connection", "to_kind", "to_name"),
        Index("ix_refs_from", "connection", "from_kind", "from_name"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    connection: Mapped[str] = mapped_column(String(128))
    from_kind: Mapped[str] = mapped_column(String(32))
    from_name: Mapped[str] = mapped_column(String(128))
    to_kind: Mapped[str] = mapped_column(String(32))
    to_name: Mapped[str] = mapped_column(String(128))


class CallRow(Base):
    __tablename__ = "call_history"
    __table_args__ = (Index("ix_calls_conn_at", "connection", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    connection: Mapped[str] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    duration_ms: Mapped[float] = mapped_column(Float)
    ok: Mapped[bool]
    error: Mapped[str | None] = mapped_column(Text)
