from __future__ import annotations

from mcinfra.core.errors import AlreadyExists, InUse, InvalidRequest, NotFound
from mcinfra.core.handlers import VPCHandler
from mcinfra.core.models import IID, SubnetInfo, SubnetReq, VPCInfo, VPCReq
from mcinfra.drivers.mock.catalog import zones_of
from mcinfra.drivers.mock.client import MockHandler
from mcinfra.drivers.mock.vm import live_vms


class MockVPCs(MockHandler, VPCHandler):
    def _subnet(self, req: SubnetReq) -> SubnetInfo:
        zone = req.zone or self.client.zone
        if zone not in {z.name for z in zones_of(self.region)}:
            raise InvalidRequest(f"zone {zone!r} is not in mock region {self.region!r}", field="zone")
        iid = IID(name_id=req.name, system_id=self.behaviour.new_id("subnet"))
        return SubnetInfo(iid=iid, cidr=req.cidr, zone=zone)

    def create(self, req: VPCReq) -> VPCInfo:
        with self.write("CreateVpc") as data:
            info = VPCInfo(iid=IID(name_id=req.name, system_id=self.behaviour.new_id("vpc")), cidr=req.cidr,
                           subnets=[self._subnet(s) for s in req.subnets])
            self.add(data, "vpc", info.model_dump(mode="json"), "VPC")
            return info

    def get(self, iid: IID) -> VPCInfo:
        with self.read() as data:
            return VPCInfo.model_validate(self.record(data, "vpc", iid.system_id, "VPC"))

    def list(self) -> list[VPCInfo]:
        with self.read() as data:
            return [VPCInfo.model_validate(r) for r in data["vpc"].values()]

    def delete(self, iid: IID) -> None:
        with self.write("DeleteVpc") as data:
            self.record(data, "vpc", iid.system_id, "VPC")
            records = [*data["security_group"].values(), *live_vms(data), *data["nlb"].values()]
            users = [r["iid"]["system_id"] for r in records if r.get("vpc") == iid.system_id]
            if users:
                raise InUse(f"VPC {iid.system_id} has dependencies: {users[:5]}")
            self.remove(data, "vpc", iid.system_id)

    def add_subnet(self, vpc: IID, subnet: SubnetReq) -> VPCInfo:
        with self.write("CreateSubnet") as data:
            rec = self.record(data, "vpc", vpc.system_id, "VPC")
            if any(s["iid"]["name_id"] == subnet.name for s in rec["subnets"]):
                raise AlreadyExists(f"subnet name {subnet.name!r} is taken in VPC {vpc.system_id}")
            rec["subnets"].append(self._subnet(subnet).model_dump(mode="json"))
            return VPCInfo.model_validate(rec)

    def remove_subnet(self, vpc: IID, subnet: IID) -> None:
        with self.write("DeleteSubnet") as data:
            rec = self.record(data, "vpc", vpc.system_id, "VPC")
            keep = [s for s in rec["subnets"] if s["iid"]["system_id"] != subnet.system_id]
            if len(keep) == len(rec["subnets"]):
                raise NotFound(f"subnet {subnet.system_id!r} not found in VPC {vpc.system_id}")
            if any(r.get("subnet") == subnet.system_id for r in live_vms(data)):
                raise InUse(f"subnet {subnet.system_id} has VMs")
            rec["subnets"] = keep
