"""CLADNet specs and peers in the metadata store, and the public models that show them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mcinfra.cladnet.planner import check_address_space
from mcinfra.cladnet.rules import check_rule_type
from mcinfra.core.errors import AlreadyExists, InvalidRequest, NotFound
from mcinfra.core.models import check_name
from mcinfra.store.cladnet_tables import CLADNetPeerRow, CLADNetRow

PEER_STATES = ("configuring", "up", "down", "failed")
DEFAULT_PORT = 51820
DEFAULT_MTU = 1420


@dataclass(frozen=True)
class CLADNet:
    name: str
    address_space: str
    description: str = ""
    rule_type: str = "basic"
    port: int = DEFAULT_PORT
    mtu: int = DEFAULT_MTU
    next_index: int = 0
    peers: list[Peer] = field(default_factory=list)


@dataclass(frozen=True)
class Peer:
    connection: str
    vm: str
    overlay_ip: str
    interface: str
    state: str
    reason: str = ""
    public_key: str | None = None
    public_ip: str | None = None
    private_ip: str | None = None
    vpc: str = ""
    endpoints: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.connection}/{self.vm}"


def peer_model(row: CLADNetPeerRow) -> Peer:
    return Peer(
        connection=row.connection, vm=row.vm, overlay_ip=row.overlay_ip, interface=row.interface,
        state=row.state, reason=row.reason, public_key=row.public_key, public_ip=row.public_ip,
        private_ip=row.private_ip, vpc=row.vpc, endpoints=dict(row.endpoints or {}),
    )


def net_model(row: CLADNetRow) -> CLADNet:
    return CLADNet(
        name=row.name, address_space=row.address_space, description=row.description,
        rule_type=row.rule_type, port=row.port, mtu=row.mtu, next_index=row.next_index,
        peers=[peer_model(p) for p in row.peers],
    )


def check_port(port: int) -> int:
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidRequest(f"port {port!r} is outside 1..65535", field="port")
    return port


def check_mtu(mtu: int) -> int:
    # 1280 is the IPv6 minimum WireGuard needs to carry; 9000-ish jumbo underlays minus overhead.
    if not isinstance(mtu, int) or not 1280 <= mtu <= 8920:
        raise InvalidRequest(f"MTU {mtu!r} is outside 1280..8920", field="mtu")
    return mtu


def interface_name(net: str, *, index: int | None = None) -> str:
    """A Linux interface name (<= 15 chars) for the net, or for one peer of it.

    Per-peer names are for VMs that share one kernel's /run and /etc (twin namespaces):
    wireguard-go's control socket path is named by the interface and is host-wide.
    """
    h = hashlib.sha1(net.encode()).hexdigest()
    if index is not None:
        return f"cn{h[:6]}-{index}"[:15]
    return f"cn-{net}" if len(net) <= 12 else f"cn-{net[:5]}-{h[:6]}"


def load(session: Session, name: str) -> CLADNetRow:
    row = session.scalar(select(CLADNetRow).where(CLADNetRow.name == name))
    if row is None:
        raise NotFound(f"cladnet {name!r} does not exist")
    return row


def create(
    session: Session,
    name: str,
    address_space: str,
    *,
    description: str = "",
    rule_type: str = "basic",
    port: int = DEFAULT_PORT,
    mtu: int = DEFAULT_MTU,
    avoid: list[str] | None = None,
) -> CLADNet:
    try:
        check_name(name, "cladnet name")
    except ValueError as exc:
        raise InvalidRequest(str(exc), field="name") from exc
    space = check_address_space(address_space, avoid or ())
    check_rule_type(rule_type)
    check_port(port)
    check_mtu(mtu)
    if session.scalar(select(CLADNetRow.id).where(CLADNetRow.name == name)) is not None:
        raise AlreadyExists(f"cladnet {name!r} already exists")
    row = CLADNetRow(
        name=name, address_space=str(space), description=description, rule_type=rule_type,
        port=port, mtu=mtu, next_index=0,
    )
    session.add(row)
    session.flush()
    return net_model(row)


def list_nets(session: Session) -> list[CLADNet]:
    return [net_model(r) for r in session.scalars(select(CLADNetRow).order_by(CLADNetRow.name))]
