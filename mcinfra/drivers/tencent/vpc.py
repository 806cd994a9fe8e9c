"""VPCs = Tencent VPCs; subnets are zone-bound VPC subnets (VPC API 2017-03-12).

A subnet goes in the request's zone, else the connection's, else the region's first available
zone. Delete checks first that no instance, load balancer or security group made for it (tag
``mcinfra-vpc``) is in the VPC (InUse, nothing touched), then deletes the subnets and the VPC.
"""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import CloudError, InUse, NotFound
from mcinfra.core.handlers import VPCHandler
from mcinfra.core.models import IID, SubnetInfo, SubnetReq, VPCInfo, VPCReq
from mcinfra.drivers.kit import Rollback, describe_one
from mcinfra.drivers.tencent.client import PROVIDER, TencentClient

#: the tag that names a security group's VPC (security_group.py writes it)
VPC_TAG = "mcinfra-vpc"


def subnet_info(s: Any) -> SubnetInfo:
    return SubnetInfo(
        iid=IID(name_id=s.SubnetName or s.SubnetId, system_id=s.SubnetId),
        cidr=s.CidrBlock,
        zone=s.Zone,
        extra={"available_ips": s.AvailableIpAddressCount, "route_table": s.RouteTableId},
    )


def vpc_info(v: Any, subnets: list[Any]) -> VPCInfo:
    return VPCInfo(
        iid=IID(name_id=v.VpcName or v.VpcId, system_id=v.VpcId),
        cidr=v.CidrBlock,
        subnets=[subnet_info(s) for s in subnets],
        extra={"is_default": v.IsDefault, "created": v.CreatedTime, "dns_servers": list(v.DnsServerSet or [])},
    )


def default_zone(api: TencentClient) -> str:
    """The connection's zone, else the region's first AVAILABLE zone."""
    if api.zone:
        return api.zone
    zones = api.call("cvm", "DescribeZones", {}, idempotent=True).ZoneSet or []
    available = sorted(z.Zone for z in zones if z.ZoneState == "AVAILABLE")
    if not available:
        raise CloudError(PROVIDER, "NoZone", f"region {api.region} has no available zone")
    api.zone = available[0]
    return api.zone


class TencentVPCHandler(VPCHandler):
    def __init__(self, api: TencentClient) -> None:
        self.api = api

    def _subnets(self, vpc_id: str | None = None) -> list[Any]:
        filters = [{"Name": "vpc-id", "Values": [vpc_id]}] if vpc_id else []
        return self.api.list_all("vpc", "DescribeSubnets", "SubnetSet", {"Filters": filters} if filters else {},
                               as_strings=True)

    def _create_subnet(self, vpc_id: str, sn: SubnetReq) -> Any:
        zone = sn.zone or default_zone(self.api)
        params = {"VpcId": vpc_id, "SubnetName": sn.name, "CidrBlock": sn.cidr, "Zone": zone}
        return self.api.call("vpc", "CreateSubnet", params, idempotent=False).Subnet

    def create(self, req: VPCReq) -> VPCInfo:
        api = self.api
        with Rollback(f"vpc {req.name}") as undo:
            vpc = api.call("vpc", "CreateVpc", {"VpcName": req.name, "CidrBlock": req.cidr}, idempotent=False).Vpc
            undo.push(f"vpc {vpc.VpcId}", lambda: self._delete_vpc(vpc.VpcId))
            made = []
            for sn in req.subnets:
                subnet = self._create_subnet(vpc.VpcId, sn)
                undo.push(f"subnet {subnet.SubnetId}", lambda s=subnet.SubnetId: self._delete_subnet(s))
                made.append(subnet)
        return vpc_info(vpc, made)

    def get(self, iid: IID) -> VPCInfo:
        page = self.api.call("vpc", "DescribeVpcs", {"VpcIds": [iid.system_id]}, idempotent=True)
        vpc = describe_one(page.VpcSet or [], f"VPC {iid.system_id}")
        return vpc_info(vpc, self._subnets(vpc.VpcId))

    def list(self) -> list[VPCInfo]:
        vpcs = self.api.list_all("vpc", "DescribeVpcs", "VpcSet", as_strings=True)
        subnets = self._subnets() if vpcs else []
        return [vpc_info(v, [s for s in subnets if s.VpcId == v.VpcId]) for v in vpcs]

    def list_iids(self) -> list[IID]:
        return [IID(name_id=v.VpcName, system_id=v.VpcId)
                for v in self.api.list_all("vpc", "DescribeVpcs", "VpcSet", as_strings=True)]

    def delete(self, iid: IID) -> None:
        api = self.api
        info = self.get(iid)  # NotFound before anything else
        by_vpc = [{"Name": "vpc-id", "Values": [iid.system_id]}]
        users = api.call("cvm", "DescribeInstances", {"Filters": by_vpc, "Limit": 1}, idempotent=True)
        if users.TotalCount:
            raise InUse(f"[tencent] VPC {iid.system_id} still has {users.TotalCount} instance(s)")
        lbs = api.call("clb", "DescribeLoadBalancers", {"VpcId": iid.system_id, "Limit": 1}, idempotent=True)
        if lbs.TotalCount:
            raise InUse(f"[tencent] VPC {iid.system_id} still has {lbs.TotalCount} load balancer(s)")
        # Tencent SGs are region-wide, so the API would delete the VPC under them; the groups made
        # for this VPC (tagged with it) keep it in use, as a VPC's own groups do on other clouds
        tagged = [{"Name": f"tag:{VPC_TAG}", "Values": [iid.system_id]}]
        groups = api.call("vpc", "DescribeSecurityGroups", {"Filters": tagged, "Limit": "1"}, idempotent=True)
        if groups.TotalCount:
            raise InUse(f"[tencent] VPC {iid.system_id} still has {groups.TotalCount} security group(s)")
        for subnet in info.subnets:
            self._delete_subnet(subnet.iid.system_id)
        self._delete_vpc(iid.system_id)

    def _delete_vpc(self, vpc_id: str) -> None:
        self.api.call("vpc", "DeleteVpc", {"VpcId": vpc_id}, idempotent=True)

    def _delete_subnet(self, subnet_id: str) -> None:
        self.api.call("vpc", "DeleteSubnet", {"SubnetId": subnet_id}, idempotent=True)

    def add_subnet(self, vpc: IID, subnet: SubnetReq) -> VPCInfo:
        self._create_subnet(vpc.system_id, subnet)
        return self.get(vpc)

    def remove_subnet(self, vpc: IID, subnet: IID) -> None:
        found = [s for s in self._subnets(vpc.system_id) if s.SubnetId == subnet.system_id]
        if not found:
            raise NotFound(f"[tencent] subnet {subnet.system_id} not found in VPC {vpc.system_id}")
        self._delete_subnet(subnet.system_id)
