"""VPC = a Neutron network + its subnets + a router whose gateway is on the external network
(so floating IPs reach the VMs, as an AWS VPC's internet gateway does).

Neutron networks have no CIDR: the VPC's CIDR is kept in the network's description
(``mcinfra:cidr=10.0.0.0/16``); a network made elsewhere reports the smallest block that covers
its subnets.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from typing import Any

from mcinfra.core.errors import InUse, InvalidRequest, NotFound
from mcinfra.core.handlers import VPCHandler
from mcinfra.core.models import IID, SubnetInfo, SubnetReq, VPCInfo, VPCReq, check_subnets_fit
from mcinfra.drivers.kit import Rollback
from mcinfra.drivers.openstack.client import OpenStackClient

CIDR_NOTE = re.compile(r"mcinfra:cidr=(\S+)")
ROUTER_INTERFACE = "network:router_interface"
#: ports Neutron itself keeps on a network; they do not make it "in use"
NETWORK_OWNED = (
    "network:router_interface",
    "network:dhcp",
    "network:router_gateway",
    "network:router_interface_distributed",
    "network:ha_router_replicated_interface",
)


def vpc_cidr(description: str | None, subnet_cidrs: list[str]) -> str:
    m = CIDR_NOTE.search(description or "")
    if m:
        return m.group(1)
    nets = [ipaddress.ip_network(c) for c in subnet_cidrs if ipaddress.ip_network(c).version == 4]
    if not nets:
        return ""
    covering = nets[0]
    while not all(n.subnet_of(covering) for n in nets):  # type: ignore[arg-type]
        covering = covering.supernet()
    return str(covering)


def subnet_info(sub: Any) -> SubnetInfo:
    return SubnetInfo(
        iid=IID(name_id=sub.name or sub.id, system_id=sub.id),
        cidr=sub.cidr,
        zone=None,
        extra={"gateway_ip": sub.gateway_ip, "enable_dhcp": sub.is_dhcp_enabled},
    )


class OpenStackVPCHandler(VPCHandler):
    def __init__(self, client: OpenStackClient) -> None:
        self.client = client

    # ------------------------------------------------------------ reads
    def _network(self, net_id: str) -> Any:
        net = self.client.read(f"network {net_id}", self.client.network.get_network, net_id)
        if net.is_router_external:
            raise NotFound(f"[openstack] network {net_id} is an external network, not a VPC")
        return net

    def _subnets(self, net_id: str) -> list[Any]:
        return self.client.list(f"subnets of network {net_id}", self.client.network.subnets, network_id=net_id)

    def _info(self, net: Any, subnets: list[Any]) -> VPCInfo:
        return VPCInfo(
            iid=IID(name_id=net.name or net.id, system_id=net.id),
            cidr=vpc_cidr(net.description, [s.cidr for s in subnets]),
            subnets=sorted((subnet_info(s) for s in subnets), key=lambda s: s.iid.name_id),
            extra={"status": net.status, "mtu": net.mtu, "routers": self._routers(net.id)},
        )

    def _router_ports(self, net_id: str) -> list[Any]:
        return self.client.list(
            f"router ports of network {net_id}",
            self.client.network.ports,
            network_id=net_id,
            device_owner=ROUTER_INTERFACE,
        )

    def _routers(self, net_id: str) -> list[str]:
        return sorted({p.device_id for p in self._router_ports(net_id)})

    def get(self, iid: IID) -> VPCInfo:
        net = self._network(iid.system_id)
        return self._info(net, self._subnets(net.id))

    def list(self) -> list[VPCInfo]:
        nets = [n for n in self.client.list("networks", self.client.network.networks) if not n.is_router_external]
        subnets: dict[str, list[Any]] = {}
        for sub in self.client.list("subnets", self.client.network.subnets):
            subnets.setdefault(sub.network_id, []).append(sub)
        return [self._info(n, subnets.get(n.id, [])) for n in nets]

    # ------------------------------------------------------------ create
    def _add_subnet(self, net_id: str, router_id: str | None, sn: SubnetReq, undo: Rollback) -> Any:
        sub = self.client.write(
            f"subnet {sn.name}",
            self.client.network.create_subnet,
            network_id=net_id,
            name=sn.name,
            cidr=sn.cidr,
            ip_version=4,
        )
        undo.push(
            f"subnet {sub.id}",
            lambda: self.client.delete(
                f"subnet {sub.id}", self.client.network.delete_subnet, sub.id, ignore_missing=False
            ),
        )
        if router_id:
            self.client.write(
                f"router {router_id} interface", self.client.network.add_interface_to_router, router_id, subnet=sub.id
            )
            undo.push(
                f"router interface {sub.id}",
                lambda: self.client.write(
                    f"router {router_id} interface",
                    self.client.network.remove_interface_from_router,
                    router_id,
                    subnet=sub.id,
                ),
            )
        return sub

    def create(self, req: VPCReq) -> VPCInfo:
        try:
            check_subnets_fit(req.cidr, req.subnets)
        except ValueError as exc:
            raise InvalidRequest(str(exc), field="subnets") from exc
        ext_id = self.client.external_network_id
        with Rollback(f"vpc {req.name}") as undo:
            net = self.client.write(
                f"network {req.name}",
                self.client.network.create_network,
                name=req.name,
                description=f"mcinfra:cidr={req.cidr}",
            )
            undo.push(
                f"network {net.id}",
                lambda: self.client.delete(
                    f"network {net.id}", self.client.network.delete_network, net.id, ignore_missing=False
                ),
            )
            router = self.client.write(
                f"router {req.name}",
                self.client.network.create_router,
                name=req.name,
                external_gateway_info={"network_id": ext_id},
            )
            undo.push(
                f"router {router.id}",
                lambda: self.client.delete(
                    f"router {router.id}", self.client.network.delete_router, router.id, ignore_missing=False
                ),
            )
            subnets = [self._add_subnet(net.id, router.id, sn, undo) for sn in req.subnets]
        return VPCInfo(
            iid=IID(name_id=req.name, system_id=net.id),
            cidr=req.cidr,
            subnets=sorted((subnet_info(s) for s in subnets), key=lambda s: s.iid.name_id),
            extra={"status": net.status, "mtu": net.mtu, "routers": [router.id]},
        )

    # ------------------------------------------------------------ delete
    def _users(self, net_id: str, subnet_id: str | None = None) -> list[str]:
        """Ports on the network (or subnet) that are not Neutron's own: VMs, load balancers."""
        users = []
        for p in self.client.list(f"ports of network {net_id}", self.client.network.ports, network_id=net_id):
            if p.device_owner in NETWORK_OWNED:
                continue
            if subnet_id and not any(f.get("subnet_id") == subnet_id for f in p.fixed_ips or []):
                continue
            users.append(p.device_id or p.id)
        return sorted(set(users))

    def _groups_of(self, net_id: str) -> list[str]:
        """Security groups made for this VPC. Neutron would delete the network under them (its
        groups belong to the project), but in mcinfra a group belongs to its VPC, as on the
        other clouds, so the VPC is in use while they exist."""
        note = f"mcinfra:vpc={net_id}"
        groups = self.client.list("security groups", self.client.network.security_groups)
        return [g.id for g in groups if note in (g.description or "").split()]

    def delete(self, iid: IID) -> None:
        net = self._network(iid.system_id)
        users = self._users(net.id) + self._groups_of(net.id)
        if users:
            raise InUse(f"[openstack] network {net.id} is used by {', '.join(users)}")
        for port in self._router_ports(net.id):
            for fixed in port.fixed_ips or []:
                self.client.write(
                    f"router {port.device_id} interface",
                    self.client.network.remove_interface_from_router,
                    port.device_id,
                    subnet=fixed["subnet_id"],
                )
            self._delete_router_if_unused(port.device_id)
        self.client.delete(f"network {net.id}", self.client.network.delete_network, net.id, ignore_missing=False)

    def _delete_router_if_unused(self, router_id: str) -> None:
        left = self.client.list(
            f"ports of router {router_id}",
            self.client.network.ports,
            device_id=router_id,
            device_owner=ROUTER_INTERFACE,
        )
        if not left:
            with contextlib.suppress(NotFound):
                self.client.delete(
                    f"router {router_id}", self.client.network.delete_router, router_id, ignore_missing=False
                )

    # ------------------------------------------------------------ subnets
    def add_subnet(self, vpc: IID, subnet: SubnetReq) -> VPCInfo:
        net = self._network(vpc.system_id)
        existing = self._subnets(net.id)
        cidr = vpc_cidr(net.description, [s.cidr for s in existing])
        new = ipaddress.ip_network(subnet.cidr)
        if cidr and not new.subnet_of(ipaddress.ip_network(cidr)):  # type: ignore[arg-type]
            raise InvalidRequest(
                f"subnet {subnet.name!r} CIDR {subnet.cidr} is not inside the VPC CIDR {cidr}", field="subnet"
            )
        for s in existing:
            if new.overlaps(ipaddress.ip_network(s.cidr)):
                raise InvalidRequest(
                    f"subnet {subnet.name!r} CIDR {subnet.cidr} overlaps subnet {s.id} ({s.cidr})", field="subnet"
                )
        routers = self._routers(net.id)
        with Rollback(f"subnet {subnet.name}") as undo:
            made = self._add_subnet(net.id, routers[0] if routers else None, subnet, undo)
        return self._info(net, [*existing, made])

    def remove_subnet(self, vpc: IID, subnet: IID) -> None:
        net = self._network(vpc.system_id)
        if subnet.system_id not in {s.id for s in self._subnets(net.id)}:
            raise NotFound(f"[openstack] subnet {subnet.system_id} not found in network {net.id}")
        users = self._users(net.id, subnet.system_id)
        if users:
            raise InUse(f"[openstack] subnet {subnet.system_id} is used by {', '.join(users)}")
        for port in self._router_ports(net.id):
            if any(f.get("subnet_id") == subnet.system_id for f in port.fixed_ips or []):
                self.client.write(
                    f"router {port.device_id} interface",
                    self.client.network.remove_interface_from_router,
                    port.device_id,
                    subnet=subnet.system_id,
                )
        self.client.delete(
            f"subnet {subnet.system_id}", self.client.network.delete_subnet, subnet.system_id, ignore_missing=False
        )
