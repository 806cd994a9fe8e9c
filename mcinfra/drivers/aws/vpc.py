"""VPC + subnets. Each VPC gets an internet gateway and a 0.0.0.0/0 route in its main route
table, and its subnets map public IPs on launch, so VMs in it are reachable as on Spider."""

from __future__ import annotations

import ipaddress
from typing import Any

from mcinfra.core.errors import InUse, InvalidRequest, NotFound
from mcinfra.core.handlers import VPCHandler
from mcinfra.core.models import IID, SubnetInfo, SubnetReq, VPCInfo, VPCReq, check_subnets_fit
from mcinfra.drivers.aws.client import AwsClient, name_tag, tag_spec
from mcinfra.drivers.kit import Rollback


class AwsVPCHandler(VPCHandler):
    def __init__(self, client: AwsClient) -> None:
        self.api = client

    # ------------------------------------------------------------------ helpers
    def _subnet_info(self, sn: dict[str, Any]) -> SubnetInfo:
        return SubnetInfo(
            iid=IID(name_id=name_tag(sn.get("Tags"), sn["SubnetId"]), system_id=sn["SubnetId"]),
            cidr=sn["CidrBlock"],
            zone=sn.get("AvailabilityZone"),
            extra={
                "available_ips": sn.get("AvailableIpAddressCount"),
                "map_public_ip_on_launch": sn.get("MapPublicIpOnLaunch"),
            },
        )

    def _subnets(self, vpc_id: str) -> list[dict[str, Any]]:
        return list(
            self.api.pages("ec2", "describe_subnets", "Subnets", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        )

    def _info(self, vpc: dict[str, Any], subnets: list[dict[str, Any]] | None = None) -> VPCInfo:
        vpc_id = vpc["VpcId"]
        subnets = self._subnets(vpc_id) if subnets is None else subnets
        return VPCInfo(
            iid=IID(name_id=name_tag(vpc.get("Tags"), vpc_id), system_id=vpc_id),
            cidr=vpc["CidrBlock"],
            subnets=sorted((self._subnet_info(s) for s in subnets), key=lambda s: s.iid.name_id),
            extra={"is_default": vpc.get("IsDefault", False), "state": vpc.get("State")},
        )

    def _describe(self, vpc_id: str) -> dict[str, Any]:
        return self.api.describe("ec2", "describe_vpcs", "Vpcs", what=f"vpc {vpc_id}", VpcIds=[vpc_id])

    def _igws(self, vpc_id: str) -> list[dict[str, Any]]:
        return list(
            self.api.pages(
                "ec2",
                "describe_internet_gateways",
                "InternetGateways",
                Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}],
            )
        )

    def _create_subnet(self, vpc_id: str, sn: SubnetReq, undo: Rollback) -> dict[str, Any]:
        zone = sn.zone or self.api.zone
        params: dict[str, Any] = {
            "VpcId": vpc_id,
            "CidrBlock": sn.cidr,
            "TagSpecifications": tag_spec("subnet", sn.name),
        }
        if zone:
            params["AvailabilityZone"] = zone
        made = self.api.call("ec2", "create_subnet", what=f"subnet {sn.name}", **params)["Subnet"]
        sid = made["SubnetId"]
        undo.push(f"subnet {sid}", lambda: self.api.call("ec2", "delete_subnet", SubnetId=sid))
        self.api.call("ec2", "modify_subnet_attribute", SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
        made["MapPublicIpOnLaunch"] = True
        made.setdefault("Tags", [{"Key": "Name", "Value": sn.name}])
        return made

    # ------------------------------------------------------------------ API
    def create(self, req: VPCReq) -> VPCInfo:
        try:
            check_subnets_fit(req.cidr, req.subnets)
        except ValueError as exc:
            raise InvalidRequest(str(exc), field="subnets") from exc
        with Rollback(f"vpc {req.name}") as undo:
            vpc = self.api.call(
                "ec2",
                "create_vpc",
                what=f"vpc {req.name}",
                CidrBlock=req.cidr,
                TagSpecifications=tag_spec("vpc", req.name),
            )["Vpc"]
            vpc_id = vpc["VpcId"]
            undo.push("vpc", lambda: self.api.call("ec2", "delete_vpc", VpcId=vpc_id))
            igw = self.api.call(
                "ec2", "create_internet_gateway", TagSpecifications=tag_spec("internet-gateway", req.name)
            )["InternetGateway"]
            igw_id = igw["InternetGatewayId"]
            undo.push(
                "internet gateway", lambda: self.api.call("ec2", "delete_internet_gateway", InternetGatewayId=igw_id)
            )
            self.api.call("ec2", "attach_internet_gateway", InternetGatewayId=igw_id, VpcId=vpc_id)
            undo.push(
                "gateway attachment",
                lambda: self.api.call("ec2", "detach_internet_gateway", InternetGatewayId=igw_id, VpcId=vpc_id),
            )
            rtb = self._main_route_table(vpc_id)
            self.api.call("ec2", "create_route", RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
            subnets = [self._create_subnet(vpc_id, sn, undo) for sn in req.subnets]
        vpc.setdefault("Tags", [{"Key": "Name", "Value": req.name}])
        return self._info(vpc, subnets)

    def _main_route_table(self, vpc_id: str) -> str:
        tables = list(
            self.api.pages(
                "ec2",
                "describe_route_tables",
                "RouteTables",
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "association.main", "Values": ["true"]},
                ],
            )
        )
        if not tables:
            raise NotFound(f"[aws] vpc {vpc_id} has no main route table")
        return tables[0]["RouteTableId"]

    def get(self, iid: IID) -> VPCInfo:
        return self._info(self._describe(iid.system_id))

    def list(self) -> list[VPCInfo]:
        # The account's default VPC is AWS's, not a resource anyone created through mcinfra.
        vpcs = [v for v in self.api.pages("ec2", "describe_vpcs", "Vpcs") if not v.get("IsDefault")]
        subnets: dict[str, list[dict[str, Any]]] = {}
        for sn in self.api.pages("ec2", "describe_subnets", "Subnets"):
            subnets.setdefault(sn["VpcId"], []).append(sn)
        return [self._info(v, subnets.get(v["VpcId"], [])) for v in vpcs]

    def _check_unused(self, vpc_id: str) -> None:
        """Refuse (InUse) before touching anything, so a refused delete leaves the VPC whole."""
        users: list[str] = []
        for r in self.api.pages(
            "ec2", "describe_instances", "Reservations", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        ):
            users += [
                i["InstanceId"] for i in r["Instances"] if i["State"]["Name"] not in ("terminated", "shutting-down")
            ]
        users += [
            g["GroupId"]
            for g in self.api.pages(
                "ec2",
                "describe_security_groups",
                "SecurityGroups",
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
            )
            if g["GroupName"] != "default"
        ]
        users += [
            lb["LoadBalancerName"]
            for lb in self.api.pages("elbv2", "describe_load_balancers", "LoadBalancers")
            if lb.get("VpcId") == vpc_id
        ]
        if users:
            raise InUse(f"[aws] vpc {vpc_id} is used by {', '.join(sorted(users))}")

    def delete(self, iid: IID) -> None:
        vpc_id = iid.system_id
        self._describe(vpc_id)
        self._check_unused(vpc_id)
        for sn in self._subnets(vpc_id):
            self.api.call("ec2", "delete_subnet", what=f"subnet {sn['SubnetId']}", SubnetId=sn["SubnetId"])
        for igw in self._igws(vpc_id):
            igw_id = igw["InternetGatewayId"]
            self.api.call("ec2", "detach_internet_gateway", InternetGatewayId=igw_id, VpcId=vpc_id)
            self.api.call("ec2", "delete_internet_gateway", InternetGatewayId=igw_id)
        # Non-main route tables block the VPC delete; the main one goes with the VPC.
        for rt in self.api.pages(
            "ec2", "describe_route_tables", "RouteTables", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        ):
            if not any(a.get("Main") for a in rt.get("Associations", [])):
                self.api.call("ec2", "delete_route_table", RouteTableId=rt["RouteTableId"])
        self.api.call("ec2", "delete_vpc", what=f"vpc {vpc_id}", VpcId=vpc_id)

    def add_subnet(self, vpc: IID, subnet: SubnetReq) -> VPCInfo:
        current = self._describe(vpc.system_id)
        existing = self._subnets(vpc.system_id)
        net = ipaddress.ip_network(subnet.cidr)
        if not net.subnet_of(ipaddress.ip_network(current["CidrBlock"])):  # type: ignore[arg-type]
            raise InvalidRequest(
                f"subnet {subnet.name!r} CIDR {subnet.cidr} is not inside the VPC CIDR {current['CidrBlock']}",
                field="subnet",
            )
        for s in existing:
            if net.overlaps(ipaddress.ip_network(s["CidrBlock"])):
                raise InvalidRequest(
                    f"subnet {subnet.name!r} CIDR {subnet.cidr} overlaps subnet {s['SubnetId']} ({s['CidrBlock']})",
                    field="subnet",
                )
        with Rollback(f"subnet {subnet.name}") as undo:
            made = self._create_subnet(vpc.system_id, subnet, undo)
        return self._info(current, [*existing, made])

    def remove_subnet(self, vpc: IID, subnet: IID) -> None:
        subnets = {s["SubnetId"] for s in self._subnets(vpc.system_id)}
        if subnet.system_id not in subnets:
            self._describe(vpc.system_id)
            raise NotFound(f"[aws] subnet {subnet.system_id} not found in vpc {vpc.system_id}")
        self.api.call("ec2", "delete_subnet", what=f"subnet {subnet.system_id}", SubnetId=subnet.system_id)
