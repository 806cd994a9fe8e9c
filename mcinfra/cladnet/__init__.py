"""CLADNet: a WireGuard full-mesh overlay laid over VMs of any connections.

Public API (see docs/cladnet.md)::

    from mcinfra import cladnet
    rec = cladnet.recommend_address_space(["10.0.0.0/16", "192.168.0.0/24"], peers=4)
    cladnet.create(infra, "mesh", rec.recommended, rule_type="cost-prioritized")
    keys = {"aws-1/key-01": pem}                      # "<connection>/<key pair name>" -> private key
    report = cladnet.deploy(infra, "mesh", ["aws-1/vm-01", "gcp-1/vm-02"], ssh_keys=keys)
    matrix = cladnet.check(infra, "mesh", ssh_keys=keys); matrix.full_mesh
    cladnet.update(infra, "mesh", ssh_keys=keys)       # after VM IPs changed
    cladnet.down(infra, "mesh", ssh_keys=keys); cladnet.delete(infra, "mesh", ssh_keys=keys)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mcinfra.cladnet import state as _state
from mcinfra.cladnet.allocator import AddressSpaceFull, Allocator
from mcinfra.cladnet.check import PingStats, RTTMatrix, check, wg_status
from mcinfra.cladnet.deploy import DeployReport, SGGap, deploy, parse_vm_refs, update
from mcinfra.cladnet.planner import Recommendation, check_address_space, recommend_address_space
from mcinfra.cladnet.remote import SSHKeys
from mcinfra.cladnet.rules import PeerView, Rule, plan_rules
from mcinfra.cladnet.state import CLADNet, Peer
from mcinfra.cladnet.teardown import delete, down
from mcinfra.cladnet.wgconfig import InterfaceSpec, render
from mcinfra.core.errors import NotFound


def vm_cidrs(infra: Any, vms: Iterable[str | tuple[str, str]]) -> list[str]:
    """The VPC and subnet CIDRs of the VMs' VPCs, as the core knows them."""
    cidrs: set[str] = set()
    seen: set[tuple[str, str]] = set()
    clouds: dict[str, Any] = {}
    for conn, name in parse_vm_refs(vms):
        cloud = clouds.setdefault(conn, infra.connect(conn))
        vm = cloud.vms.get(name)
        if vm.vpc and (conn, vm.vpc) not in seen:
            seen.add((conn, vm.vpc))
            vpc = cloud.vpcs.get(vm.vpc)
            cidrs.add(vpc.cidr)
            cidrs.update(sn.cidr for sn in vpc.subnets)
    return sorted(cidrs)


def recommend_for_vms(infra: Any, vms: Iterable[str | tuple[str, str]], *, extra_cidrs: Iterable[str] = (),
                      peers: int | None = None, headroom: float = 1.0) -> Recommendation:
    """``recommend_address_space`` fed with the VMs' VPC/subnet CIDRs (+ ``extra_cidrs``)."""
    refs = parse_vm_refs(vms)
    return recommend_address_space([*vm_cidrs(infra, refs), *extra_cidrs],
                                   peers=len(refs) if peers is None else peers, headroom=headroom)


def create(infra: Any, name: str, address_space: str, *, description: str = "", rule_type: str = "basic",
           port: int = _state.DEFAULT_PORT, mtu: int = _state.DEFAULT_MTU,
           avoid: Iterable[str] = ()) -> CLADNet:
    """Store a new CLADNet. ``avoid``: CIDRs the space must not overlap (InvalidRequest names the overlap)."""
    with infra.store.session() as s:
        return _state.create(s, name, address_space, description=description, rule_type=rule_type,
                             port=port, mtu=mtu, avoid=list(avoid))


def get(infra: Any, name: str) -> CLADNet:
    with infra.store.session() as s:
        return _state.net_model(_state.load(s, name))


def list_nets(infra: Any) -> list[CLADNet]:
    with infra.store.session() as s:
        return _state.list_nets(s)


def repin(infra: Any, name: str, vm: str | tuple[str, str]) -> None:
    """Forget a peer's pinned SSH host key (the next deploy pins the key it then meets)."""
    from sqlalchemy import select

    from mcinfra.store.cladnet_tables import CLADNetPeerRow

    ((conn, vm_name),) = parse_vm_refs([vm])
    with infra.store.session() as s:
        net = _state.load(s, name)
        row = s.scalar(select(CLADNetPeerRow).where(
            CLADNetPeerRow.cladnet_id == net.id, CLADNetPeerRow.connection == conn,
            CLADNetPeerRow.vm == vm_name))
        if row is None:
            raise NotFound(f"cladnet {name!r} has no peer {conn}/{vm_name}")
        row.host_key = None


def rules(infra: Any, name: str) -> dict[str, list[Rule]]:
    """The rules as last recorded in the store (IPs and keys from the last deploy/update)."""
    net = get(infra, name)
    views = [PeerView(p.key, p.overlay_ip, p.connection, p.vpc, p.public_ip, p.private_ip, p.public_key)
             for p in net.peers if p.state != "down"]
    return plan_rules(views, net.rule_type)


__all__ = [
    "AddressSpaceFull", "Allocator", "CLADNet", "DeployReport", "InterfaceSpec", "Peer", "PeerView",
    "PingStats", "RTTMatrix", "Recommendation", "Rule", "SGGap", "SSHKeys", "check",
    "check_address_space", "create", "delete", "deploy", "down", "get", "list_nets", "plan_rules",
    "recommend_address_space", "recommend_for_vms", "render", "repin", "rules", "update", "vm_cidrs",
    "wg_status",
]
