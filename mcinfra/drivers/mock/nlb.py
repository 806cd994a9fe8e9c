"""Mock NLBs: VMs that are not Running are unhealthy."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from mcinfra.core.errors import AlreadyExists, InvalidRequest, NotFound
from mcinfra.core.handlers import NLBHandler
from mcinfra.core.models import IID, HealthChecker, HealthInfo, Listener, NLBInfo, NLBReq, VMGroup, VMStatus
from mcinfra.drivers.mock.client import MockHandler
from mcinfra.drivers.mock.state import Data
from mcinfra.drivers.mock.vm import MockVMs, effective


class MockNLBs(MockHandler, NLBHandler):
    def _check_vms(self, data: Data, vpc: str, vms: list[str]) -> None:
        for vm in vms:
            rec = self.record(data, "vm", vm, "VM")
            if rec["vpc"] != vpc:
                raise InvalidRequest(f"VM {vm} is not in VPC {vpc}", field="vms")

    def create(self, req: NLBReq) -> NLBInfo:
        with self.write("CreateLoadBalancer") as data:
            self.record(data, "vpc", req.vpc, "VPC")
            self._check_vms(data, req.vpc, req.vm_group.vms)
            ip = MockVMs(self.client)._public_ip(data)
            info = NLBInfo(
                iid=IID(name_id=req.name, system_id=self.behaviour.new_id("nlb")), vpc=req.vpc, type=req.type,
                scope=req.scope,
                listener=req.listener.model_copy(update={"ip": ip, "dns_name": f"{req.name}.{self.region}.mock"}),
                vm_group=req.vm_group, health_checker=req.health_checker, created_at=datetime.now(UTC),
            )
            self.add(data, "nlb", info.model_dump(mode="json"), "NLB")
            return info

    def _get(self, data: Data, iid: IID) -> NLBInfo:
        return NLBInfo.model_validate(self.record(data, "nlb", iid.system_id, "NLB"))

    def _put(self, data: Data, info: NLBInfo) -> None:
        data["nlb"][info.iid.system_id] = info.model_dump(mode="json")

    def get(self, iid: IID) -> NLBInfo:
        with self.read() as data:
            return self._get(data, iid)

    def list(self) -> list[NLBInfo]:
        with self.read() as data:
            return [NLBInfo.model_validate(r) for r in data["nlb"].values()]

    def delete(self, iid: IID) -> None:
        with self.write("DeleteLoadBalancer") as data:
            self._get(data, iid)
            self.remove(data, "nlb", iid.system_id)

    def add_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        with self.write("RegisterTargets") as data:
            info = self._get(data, iid)
            self._check_vms(data, info.vpc, vms)
            dup = [v for v in vms if v in info.vm_group.vms]
            if dup:
                raise AlreadyExists(f"VMs {dup} are already targets")
            group = info.vm_group.model_copy(update={"vms": [*info.vm_group.vms, *vms]})
            self._put(data, info.model_copy(update={"vm_group": group}))
            return group

    def remove_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        with self.write("DeregisterTargets") as data:
            info = self._get(data, iid)
            missing = [v for v in vms if v not in info.vm_group.vms]
            if missing:
                raise NotFound(f"VMs {missing} are not targets")
            group = info.vm_group.model_copy(update={"vms": [v for v in info.vm_group.vms if v not in vms]})
            self._put(data, info.model_copy(update={"vm_group": group}))
            return group

    def health(self, iid: IID) -> HealthInfo:
        with self.read() as data:
            info = self._get(data, iid)
            now = time.time()
            healthy = [v for v in info.vm_group.vms
                       if v in data["vm"] and effective(data["vm"][v], now) == VMStatus.RUNNING]
            return HealthInfo(all=list(info.vm_group.vms), healthy=healthy,
                              unhealthy=[v for v in info.vm_group.vms if v not in healthy])

    def change_listener(self, iid: IID, listener: Listener) -> Listener:
        with self.write("ModifyListener") as data:
            info = self._get(data, iid)
            new = listener.model_copy(update={"ip": info.listener.ip, "dns_name": info.listener.dns_name})
            self._put(data, info.model_copy(update={"listener": new}))
            return new

    def change_vm_group(self, iid: IID, vm_group: VMGroup) -> VMGroup:
        with self.write("ModifyTargetGroup") as data:
            info = self._get(data, iid)
            group = info.vm_group.model_copy(update={"protocol": vm_group.protocol, "port": vm_group.port})
            self._put(data, info.model_copy(update={"vm_group": group}))
            return group

    def change_health_checker(self, iid: IID, health_checker: HealthChecker) -> HealthChecker:
        with self.write("ModifyHealthCheck") as data:
            info = self._get(data, iid)
            self._put(data, info.model_copy(update={"health_checker": health_checker}))
            return health_checker
