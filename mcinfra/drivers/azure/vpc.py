"""VPC = virtual network (VNet); subnets are its subnets. A VNet's system id is its ARM id, a subnet's
is the subnet's ARM id (``<vnet id>/subnets/<name>``). A VNet with network security groups made for
it (their ``mcinfra-vpc`` tag) is in use, as a VPC with security groups is on other clouds."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import AlreadyExists, InUse, NotFound
from mcinfra.core.handlers import VPCHandler
from mcinfra.core.models import IID, SubnetInfo, SubnetReq, VPCInfo, VPCReq
from mcinfra.drivers.azure.client import AzureClient, same_id, split_id, text
from mcinfra.drivers.azure.names import check_name

TAG_VPC = "mcinfra-vpc"


def subnet_info(sn: Any) -> SubnetInfo:
    prefix = sn.address_prefix or (sn.address_prefixes or [""])[0]
    return SubnetInfo(iid=IID(name_id=sn.name, system_id=sn.id), cidr=prefix, zone=None,
                      extra={"provisioning_state": text(sn.provisioning_state)})


def vpc_info(vnet: Any) -> VPCInfo:
    prefixes = list(vnet.address_space.address_prefixes) if vnet.address_space else []
    return VPCInfo(iid=IID(name_id=vnet.name, system_id=vnet.id), cidr=prefixes[0] if prefixes else "",
                   subnets=[subnet_info(s) for s in vnet.subnets or []],
                   extra={"location": vnet.location, "address_prefixes": prefixes,
                          "provisioning_state": text(vnet.provisioning_state)})


class AzureVPCHandler(VPCHandler):
    def __init__(self, api: AzureClient) -> None:
        self.api = api

    def find(self, system_id: str) -> Any:
        group, name = split_id(system_id, self.api.group)
        return self.api.call("network", "virtual_networks.get", group, name, idempotent=True)

    def create(self, req: VPCReq) -> VPCInfo:
        from azure.mgmt.network.models import AddressSpace, Subnet, VirtualNetwork

        check_name(req.name, "vpc")
        for s in req.subnets:
            check_name(s.name, "subnet")
        self.api.ensure_group()
        try:
            self.find(req.name)
            raise AlreadyExists(f"virtual network {req.name!r} already exists in {self.api.group!r}")
        except NotFound:
            pass
        body = VirtualNetwork(location=self.api.location, address_space=AddressSpace(address_prefixes=[req.cidr]),
                              subnets=[Subnet(name=s.name, address_prefix=s.cidr) for s in req.subnets],
                              tags={"mcinfra": "true"})
        # one PUT makes the VNet and its subnets: nothing half-made to roll back
        vnet = self.api.run("network", "virtual_networks.begin_create_or_update", self.api.group, req.name, body,
                          idempotent=True)
        return vpc_info(vnet)

    def get(self, iid: IID) -> VPCInfo:
        return vpc_info(self.find(iid.system_id))

    def list(self) -> list[VPCInfo]:
        self.api.ensure_group()
        return [vpc_info(v) for v in self.api.call("network", "virtual_networks.list", self.api.group, idempotent=True)]

    def delete(self, iid: IID) -> None:
        vnet = self.find(iid.system_id)  # NotFound first: ARM answers 204 for a delete of nothing
        group, _ = split_id(vnet.id, self.api.group)
        # an NSG belongs to no VNet in Azure, so Azure would let the VNet go and leave security groups
        # made for it behind; as on the other clouds, a VPC with security groups is in use
        nsgs = self.api.call("network", "network_security_groups.list", group, idempotent=True)
        users = [n.name for n in nsgs if same_id((n.tags or {}).get(TAG_VPC), vnet.id)]
        if users:
            raise InUse(f"virtual network {vnet.name!r} has security groups made for it: {', '.join(users)}")
        self.api.run("network", "virtual_networks.begin_delete", group, vnet.name, idempotent=True)

    def add_subnet(self, vpc: IID, subnet: SubnetReq) -> VPCInfo:
        from azure.mgmt.network.models import Subnet

        check_name(subnet.name, "subnet")
        vnet = self.find(vpc.system_id)
        if any(s.name.lower() == subnet.name.lower() for s in vnet.subnets or []):
            raise AlreadyExists(f"subnet {subnet.name!r} already exists in {vnet.name!r}")
        group, _ = split_id(vnet.id, self.api.group)
        self.api.run("network", "subnets.begin_create_or_update", group, vnet.name, subnet.name,
                   Subnet(address_prefix=subnet.cidr), idempotent=True)
        return vpc_info(self.find(vnet.id))

    def remove_subnet(self, vpc: IID, subnet: IID) -> None:
        vnet = self.find(vpc.system_id)
        name = subnet.system_id.rstrip("/").rsplit("/", 1)[-1]
        if not any(s.name.lower() == name.lower() for s in vnet.subnets or []):
            raise NotFound(f"subnet {name!r} not found in {vnet.name!r}")
        group, _ = split_id(vnet.id, self.api.group)
        self.api.run("network", "subnets.begin_delete", group, vnet.name, name, idempotent=True)
