from __future__ import annotations

from mcinfra.core.errors import AlreadyExists, InUse, NotFound
from mcinfra.core.handlers import SecurityGroupHandler
from mcinfra.core.models import IID, SecurityGroupInfo, SecurityGroupReq, SecurityRule
from mcinfra.drivers.mock.client import MockHandler
from mcinfra.drivers.mock.vm import live_vms


class MockSecurityGroups(MockHandler, SecurityGroupHandler):
    def create(self, req: SecurityGroupReq) -> SecurityGroupInfo:
        with self.write("CreateSecurityGroup") as data:
            self.record(data, "vpc", req.vpc, "VPC")
            info = SecurityGroupInfo(iid=IID(name_id=req.name, system_id=self.behaviour.new_id("sg")), vpc=req.vpc,
                                     rules=req.rules)
            self.add(data, "security_group", info.model_dump(mode="json"), "security group")
            return info

    def get(self, iid: IID) -> SecurityGroupInfo:
        with self.read() as data:
            rec = self.record(data, "security_group", iid.system_id, "security group")
            return SecurityGroupInfo.model_validate(rec)

    def list(self) -> list[SecurityGroupInfo]:
        with self.read() as data:
            return [SecurityGroupInfo.model_validate(r) for r in data["security_group"].values()]

    def delete(self, iid: IID) -> None:
        with self.write("DeleteSecurityGroup") as data:
            self.record(data, "security_group", iid.system_id, "security group")
            if any(iid.system_id in r.get("security_groups", []) for r in live_vms(data)):
                raise InUse(f"security group {iid.system_id} is used by VMs")
            self.remove(data, "security_group", iid.system_id)

    def add_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        with self.write("AuthorizeSecurityGroup") as data:
            rec = self.record(data, "security_group", iid.system_id, "security group")
            info = SecurityGroupInfo.model_validate(rec)
            dup = [str(r) for r in rules if r in info.rules]
            if dup:
                raise AlreadyExists(f"rules {dup} already exist")
            info = info.model_copy(update={"rules": [*info.rules, *rules]})
            data["security_group"][iid.system_id] = info.model_dump(mode="json")
            return info

    def remove_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        with self.write("RevokeSecurityGroup") as data:
            rec = self.record(data, "security_group", iid.system_id, "security group")
            info = SecurityGroupInfo.model_validate(rec)
            missing = [str(r) for r in rules if r not in info.rules]
            if missing:
                raise NotFound(f"rules {missing} do not exist")
            info = info.model_copy(update={"rules": [r for r in info.rules if r not in rules]})
            data["security_group"][iid.system_id] = info.model_dump(mode="json")
            return info
