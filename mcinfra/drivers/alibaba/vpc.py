"""VPCs and their vSwitches (a vSwitch is zone-bound: ``SubnetReq.zone``, else the connection's zone)."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InvalidRequest, NotFound
from mcinfra.core.handlers import VPCHandler
from mcinfra.core.models import IID, SubnetInfo, SubnetReq, VPCInfo, VPCReq
from mcinfra.drivers.alibaba.client import NLB_VSWITCH_PREFIX, PROVIDER, AliClient
from mcinfra.drivers.kit import Rollback, describe_one


def subnet_info(vsw: Any) -> SubnetInfo:
    return SubnetInfo(
        iid=IID(name_id=vsw.v_switch_name or vsw.v_switch_id, system_id=vsw.v_switch_id),
        cidr=vsw.cidr_block,
        zone=vsw.zone_id,
        extra={"status": vsw.status},
    )


class AliVPCHandler(VPCHandler):
    def __init__(self, api: AliClient) -> None:
        self.api = api

    # ------------------------------------------------------------------ reads
    def _vswitches(self, vpc_id: str | None = None, *, owned_too: bool = False) -> list[Any]:
        fields: dict[str, Any] = {"region_id": self.api.region}
        if vpc_id:
            fields["vpc_id"] = vpc_id
        found = list(self.api.pages("vpc", "DescribeVSwitches", lambda b: b.v_switches.v_switch, **fields))
        return [v for v in found if owned_too or not (v.v_switch_name or "").startswith(NLB_VSWITCH_PREFIX)]

    def _info(self, vpc: Any, vswitches: list[Any]) -> VPCInfo:
        return VPCInfo(
            iid=IID(name_id=vpc.vpc_name or vpc.vpc_id, system_id=vpc.vpc_id),
            cidr=vpc.cidr_block,
            subnets=[subnet_info(v) for v in vswitches if v.vpc_id == vpc.vpc_id],
            extra={"status": vpc.status, "vrouter_id": vpc.vrouter_id, "created": vpc.creation_time},
        )

    def _vpc(self, vpc_id: str) -> Any:
        found = self.api.pages("vpc", "DescribeVpcs", lambda b: b.vpcs.vpc, region_id=self.api.region, vpc_id=vpc_id)
        return describe_one((v for v in found if v.vpc_id == vpc_id), f"[{PROVIDER}] vpc {vpc_id}")

    def get(self, iid: IID) -> VPCInfo:
        vpc = self._vpc(iid.system_id)
        return self._info(vpc, self._vswitches(vpc.vpc_id))

    def list(self) -> list[VPCInfo]:
        vpcs = list(self.api.pages("vpc", "DescribeVpcs", lambda b: b.vpcs.vpc, region_id=self.api.region))
        vswitches = self._vswitches() if vpcs else []
        return [self._info(v, vswitches) for v in vpcs]

    def list_iids(self) -> list[IID]:
        return [
            IID(name_id=v.vpc_name or v.vpc_id, system_id=v.vpc_id)
            for v in self.api.pages("vpc", "DescribeVpcs", lambda b: b.vpcs.vpc, region_id=self.api.region)
        ]

    # ------------------------------------------------------------------ writes
    def _zone(self, subnet: SubnetReq) -> str:
        zone = subnet.zone or self.api.zone
        if not zone:
            raise InvalidRequest(f"subnet {subnet.name!r} needs a zone (a vSwitch lives in one zone)", field="zone")
        return zone

    def _create_vswitch(self, vpc_id: str, subnet: SubnetReq) -> str:
        body = self.api.call(
            "vpc",
            "CreateVSwitch",
            what=subnet.name,
            region_id=self.api.region,
            vpc_id=vpc_id,
            zone_id=self._zone(subnet),
            cidr_block=subnet.cidr,
            v_switch_name=subnet.name,
        )
        return body.v_switch_id

    def _wait_available(self, read: Any, what: str) -> Any:
        # VPCs and vSwitches are "Pending" for a moment after creation
        return self.api.wait(
            read, lambda x: (x.status or "Available") == "Available", timeout=self.api.options.async_timeout, what=what
        )

    def create(self, req: VPCReq) -> VPCInfo:
        for s in req.subnets:
            self._zone(s)
        with Rollback(f"vpc {req.name}") as undo:
            vpc_id = self.api.call(
                "vpc", "CreateVpc", what=req.name, region_id=self.api.region, cidr_block=req.cidr, vpc_name=req.name
            ).vpc_id
            undo.push(f"vpc {vpc_id}", lambda: self._delete_vpc(vpc_id))
            self._wait_available(lambda: self._vpc(vpc_id), f"vpc {vpc_id}")
            for s in req.subnets:
                vsw_id = self._create_vswitch(vpc_id, s)
                undo.push(f"vswitch {vsw_id}", lambda v=vsw_id: self._delete_vswitch(v))
            return self._settled(vpc_id)

    def _delete_vswitch(self, vsw_id: str) -> None:
        self.api.call("vpc", "DeleteVSwitch", what=vsw_id, region_id=self.api.region, v_switch_id=vsw_id)

    def _delete_vpc(self, vpc_id: str) -> None:
        self.api.call("vpc", "DeleteVpc", what=vpc_id, region_id=self.api.region, vpc_id=vpc_id)

    def delete(self, iid: IID) -> None:
        self._vpc(iid.system_id)
        for vsw in self._vswitches(iid.system_id, owned_too=True):
            self._delete_vswitch(vsw.v_switch_id)
        self._delete_vpc(iid.system_id)

    def add_subnet(self, vpc: IID, subnet: SubnetReq) -> VPCInfo:
        self._vpc(vpc.system_id)
        self._create_vswitch(vpc.system_id, subnet)
        return self._settled(vpc.system_id)

    def _settled(self, vpc_id: str) -> VPCInfo:
        """The VPC once every vSwitch is Available (a Pending one refuses instances)."""
        return self.api.wait(
            lambda: self.get(IID(name_id=vpc_id, system_id=vpc_id)),
            lambda info: all(s.extra.get("status") in (None, "Available") for s in info.subnets),
            timeout=self.api.options.async_timeout,
            what=f"vpc {vpc_id} vswitches",
        )

    def remove_subnet(self, vpc: IID, subnet: IID) -> None:
        owned = {v.v_switch_id for v in self._vswitches(vpc.system_id)}
        if subnet.system_id not in owned:
            raise NotFound(f"[{PROVIDER}] vswitch {subnet.system_id} not found in vpc {vpc.system_id}")
        self._delete_vswitch(subnet.system_id)  # DependencyViolation (instances on it) -> InUse
