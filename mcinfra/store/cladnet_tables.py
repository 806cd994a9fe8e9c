"""CLADNet tables of the metadata store (they share the store's declarative Base)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mcinfra.store.tables import Base


def _now() -> datetime:
    return datetime.now(UTC)


class CLADNetRow(Base):
    __tablename__ = "cladnets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    address_space: Mapped[str] = mapped_column(String(43), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    rule_type: Mapped[str] = mapped_column(String(32), nullable=False, default="basic")
    port: Mapped[int] = mapped_column(Integer, nullable=False, default=51820)
    mtu: Mapped[int] = mapped_column(Integer, nullable=False, default=1420)
    #: the high-water mark: index of the next overlay address; only grows
    next_index: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=_now)

    peers: Mapped[list[CLADNetPeerRow]] = relationship(
        back_populates="cladnet", cascade="all, delete-orphan", order_by="CLADNetPeerRow.ip_index"
    )


class CLADNetPeerRow(Base):
    __tablename__ = "cladnet_peers"
    __table_args__ = (
        UniqueConstraint("cladnet_id", "connection", "vm", name="uq_cladnet_peer_vm"),
        UniqueConstraint("cladnet_id", "ip_index", name="uq_cladnet_peer_ip"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cladnet_id: Mapped[int] = mapped_column(ForeignKey("cladnets.id", ondelete="CASCADE"), nullable=False)
    connection: Mapped[str] = mapped_column(String(63), nullable=False)
    vm: Mapped[str] = mapped_column(String(63), nullable=False)
    ip_index: Mapped[int] = mapped_column(Integer, nullable=False)
    overlay_ip: Mapped[str] = mapped_column(String(15), nullable=False)
    interface: Mapped[str] = mapped_column(String(15), nullable=False)
    public_key: Mapped[str | None] = mapped_column(String(64))
    #: configuring | up | down | failed
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="configuring")
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: the VM's SSH host key (OpenSSH public form), pinned on first contact
    host_key: Mapped[str | None] = mapped_column(Text)
    public_ip: Mapped[str | None] = mapped_column(String(45))
    private_ip: Mapped[str | None] = mapped_column(String(45))
    vpc: Mapped[str] = mapped_column(String(63), nullable=False, default="")
    #: what was pushed: {peer key: endpoint ip or null}
    endpoints: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    config_digest: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=_now, onupdate=_now
    )

    cladnet: Mapped[CLADNetRow] = relationship(back_populates="peers")
