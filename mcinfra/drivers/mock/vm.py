"""Mock VMs with CSP-like timing: with latency > 0 a VM passes through the in-between states
(Creating, Suspending, Resuming, Rebooting, Terminating) for a few calls' latency."""

from __future__ import annotations

import ipaddress
import time
from datetime import UTC, datetime
from typing import Any

from mcinfra.core.errors import CloudError, InvalidRequest, NotFound
from mcinfra.core.handlers import VMHandler
from mcinfra.core.models import IID, VMInfo, VMReq, VMStatus, ZoneStatus
from mcinfra.drivers.mock.catalog import IMAGES, REGIONS, SPECS, zones_of
from mcinfra.drivers.mock.client import MockHandler
from mcinfra.drivers.mock.state import Data

PUBLIC_BASE = ipaddress.IPv4Address("198.18.0.0")
PUBLIC_PER_REGION = 32768
_INTERNAL = ("_target", "_until", "_gone_at")
#: a state change lasts this many API calls' latency, so callers can observe the in-between state
TRANSITION_CALLS = 4


def effective(rec: dict[str, Any], now: float) -> VMStatus:
    if rec.get("_gone_at") is not None:
        return VMStatus.TERMINATING if now < rec["_gone_at"] else VMStatus.NOT_EXIST
    if rec.get("_until") is not None and now >= rec["_until"]:
        return VMStatus(rec["_target"])
    return VMStatus(rec["status"])


def settle(data: Data, system_id: str, now: float) -> None:
    """Write down a VM's finished transition (or drop it once its termination has finished)."""
    rec = data["vm"].get(system_id)
    if rec is None:
        return
    if effective(rec, now) == VMStatus.NOT_EXIST:
        del data["vm"][system_id]
    elif rec.get("_until") is not None and now >= rec["_until"]:
        rec["status"], rec["_target"], rec["_until"] = rec["_target"], None, None


def live_vms(data: Data) -> list[dict[str, Any]]:
    """The VMs that still exist, dropping those whose termination has finished (the store forgot
    them, so no later call on them would settle them, and they must not keep anything in use)."""
    now = time.time()
    for sid in [sid for sid, rec in data["vm"].items() if effective(rec, now) == VMStatus.NOT_EXIST]:
        del data["vm"][sid]
    return list(data["vm"].values())


class MockVMs(MockHandler, VMHandler):
    def _transition(self, rec: dict[str, Any], via: VMStatus, to: VMStatus) -> VMStatus:
        span = self.behaviour.latency[1] * TRANSITION_CALLS
        if span > 0:
            rec["status"], rec["_target"], rec["_until"] = via.value, to.value, time.time() + span
            return via
        rec["status"], rec["_target"], rec["_until"] = to.value, None, None
        return via

    def _info(self, rec: dict[str, Any], now: float) -> VMInfo:
        info = VMInfo.model_validate({k: v for k, v in rec.items() if k not in _INTERNAL})
        return info.model_copy(update={"status": effective(rec, now)})

    def _public_ip(self, data: Data) -> str:
        n = data["ips"]["public_next"]
        data["ips"]["public_next"] = n + 1
        return str(PUBLIC_BASE + REGIONS.index(self.region) * PUBLIC_PER_REGION + 10 + n % (PUBLIC_PER_REGION - 20))

    def _private_ip(self, data: Data, subnet_id: str, cidr: str) -> str:
        key = f"private:{subnet_id}"
        n = data["ips"].get(key, 4)  # as AWS, the first addresses are the CSP's
        net = ipaddress.ip_network(cidr)
        if n >= net.num_addresses - 1:
            raise CloudError("mock", "InsufficientFreeAddressesInSubnet", f"subnet {subnet_id} is full")
        data["ips"][key] = n + 1
        return str(net.network_address + n)

    def start(self, req: VMReq) -> VMInfo:
        if req.image not in IMAGES:
            raise NotFound(f"image {req.image!r} not found in the mock catalog")
        if req.spec not in SPECS:
            raise NotFound(f"spec {req.spec!r} not found in the mock catalog")
        with self.write("RunInstances") as data:
            vpc = self.record(data, "vpc", req.vpc, "VPC")
            subnet = next((s for s in vpc["subnets"] if s["iid"]["system_id"] == req.subnet), None)
            if subnet is None:
                raise NotFound(f"subnet {req.subnet!r} not found in VPC {req.vpc}")
            for sg in req.security_groups:
                if self.record(data, "security_group", sg, "security group")["vpc"] != req.vpc:
                    raise InvalidRequest(f"security group {sg} is not in VPC {req.vpc}", field="security_groups")
            self.record(data, "keypair", req.keypair, "key pair")
            if req.name in data["names"]["vm"]:
                raise CloudError("mock", "DuplicateName", f"VM name {req.name!r} is taken")
            zone = subnet["zone"]
            if any(z.name == zone and z.status == ZoneStatus.UNAVAILABLE for z in zones_of(self.region)):
                raise CloudError("mock", "ZoneUnavailable", f"zone {zone} is unavailable")
            image = IMAGES[req.image]
            info = VMInfo(
                iid=IID(name_id=req.name, system_id=self.behaviour.new_id("i")), status=VMStatus.CREATING,
                region=self.region, zone=zone, public_ip=self._public_ip(data),
                private_ip=self._private_ip(data, req.subnet, subnet["cidr"]), vm_user=req.vm_user,
                image=req.image, spec=req.spec, vpc=req.vpc, subnet=req.subnet,
                security_groups=list(req.security_groups), keypair=req.keypair,
                root_disk_type=req.root_disk_type or image.os_disk_type,
                root_disk_size=req.root_disk_size or image.os_disk_size_gb, created_at=datetime.now(UTC),
            )
            rec = info.model_dump(mode="json")
            status = self._transition(rec, VMStatus.CREATING, VMStatus.RUNNING)
            self.add(data, "vm", rec, "VM")
            return info.model_copy(update={"status": status if self.behaviour.latency[1] > 0 else VMStatus.RUNNING})

    def get(self, iid: IID) -> VMInfo:
        with self.read() as data:
            now = time.time()
            rec = self.record(data, "vm", iid.system_id, "VM")
            if effective(rec, now) == VMStatus.NOT_EXIST:
                raise NotFound(f"VM {iid.system_id!r} not found")
            return self._info(rec, now)

    def list(self) -> list[VMInfo]:
        with self.read() as data:
            now = time.time()
            return [self._info(r, now) for r in data["vm"].values() if effective(r, now) != VMStatus.NOT_EXIST]

    def status(self, iid: IID) -> VMStatus:
        with self.read() as data:
            rec = data["vm"].get(iid.system_id)
            return VMStatus.NOT_EXIST if rec is None else effective(rec, time.time())

    def statuses(self) -> dict[str, VMStatus]:
        with self.read() as data:
            now = time.time()
            return {sid: s for sid, r in data["vm"].items() if (s := effective(r, now)) != VMStatus.NOT_EXIST}

    def _control(self, iid: IID, op: str, needs: VMStatus, via: VMStatus, to: VMStatus) -> VMStatus:
        with self.write(op) as data:
            now = time.time()
            settle(data, iid.system_id, now)
            rec = self.record(data, "vm", iid.system_id, "VM")
            current = effective(rec, now)
            if current != needs:
                raise CloudError("mock", "IncorrectInstanceState", f"VM {iid.system_id} is {current.value}")
            return self._transition(rec, via, to)

    def suspend(self, iid: IID) -> VMStatus:
        return self._control(iid, "StopInstances", VMStatus.RUNNING, VMStatus.SUSPENDING, VMStatus.SUSPENDED)

    def resume(self, iid: IID) -> VMStatus:
        return self._control(iid, "StartInstances", VMStatus.SUSPENDED, VMStatus.RESUMING, VMStatus.RUNNING)

    def reboot(self, iid: IID) -> VMStatus:
        return self._control(iid, "RebootInstances", VMStatus.RUNNING, VMStatus.REBOOTING, VMStatus.RUNNING)

    def terminate(self, iid: IID) -> VMStatus:
        with self.write("TerminateInstances") as data:
            now = time.time()
            settle(data, iid.system_id, now)
            rec = self.record(data, "vm", iid.system_id, "VM")
            data["names"]["vm"].pop(rec["iid"]["name_id"], None)  # a terminating VM's name is free again
            if self.behaviour.latency[1] > 0:
                rec["_gone_at"] = now + self.behaviour.latency[1] * TRANSITION_CALLS
            else:
                del data["vm"][iid.system_id]
            return VMStatus.TERMINATING
