"""ECS instances as mcinfra VMs: ``RunInstances`` with a public IP (``InternetMaxBandwidthOut``),
key pair, security groups, vSwitch and system disk; suspend = ``StopInstance`` (StopCharging by
default), resume = ``StartInstance``, reboot = ``RebootInstance``, terminate = ``DeleteInstance``
with ``Force`` (a running instance is released at once)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from mcinfra.core.errors import CloudError, InvalidRequest, NotFound
from mcinfra.core.handlers import VMHandler
from mcinfra.core.models import IID, VMInfo, VMReq, VMStatus
from mcinfra.drivers.alibaba.client import PROVIDER, AliClient
from mcinfra.drivers.kit import Rollback, describe_one

#: ECS instance status -> mcinfra status (CB-Spider's Alibaba table; docs/vm-status.md)
STATUS_MAP: dict[str, VMStatus] = {
    "Pending": VMStatus.CREATING,
    "Starting": VMStatus.RESUMING,
    "Running": VMStatus.RUNNING,
    "Stopping": VMStatus.SUSPENDING,
    "Stopped": VMStatus.SUSPENDED,
}
#: ECS system disk categories (RunInstances SystemDisk.Category)
DISK_CATEGORIES = ("cloud", "cloud_efficiency", "cloud_ssd", "cloud_essd", "cloud_auto", "cloud_essd_entry")


def map_status(status: str | None) -> VMStatus:
    return STATUS_MAP.get(status or "", VMStatus.FAILED)


def user_data(vm_user: str, public_key: str | None) -> str:
    """cloud-init script (base64, as RunInstances wants it) that makes ``vm_user`` with the key
    pair's public key and passwordless sudo, as CB-Spider does on every image."""
    key = (public_key or "").strip().replace("'", "")
    script = (
        "#!/bin/bash\n"
        f"VM_USER={vm_user}\nHOME_DIR=/home/$VM_USER\n"
        'id -u "$VM_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$VM_USER"\n'
        'mkdir -p "$HOME_DIR/.ssh"\n'
        + (
            f"echo '{key}' >> \"$HOME_DIR/.ssh/authorized_keys\"\n"
            if key
            else 'cat /root/.ssh/authorized_keys >> "$HOME_DIR/.ssh/authorized_keys"\n'
        )
        + 'chmod 700 "$HOME_DIR/.ssh"; chmod 600 "$HOME_DIR/.ssh/authorized_keys"\n'
        'chown -R "$VM_USER:$VM_USER" "$HOME_DIR/.ssh"\n'
        'echo "$VM_USER ALL=(ALL) NOPASSWD:ALL" > "/etc/sudoers.d/$VM_USER"\n'
    )
    return base64.b64encode(script.encode()).decode()


def _first(values: Any) -> str | None:
    found = list(getattr(values, "ip_address", None) or [])
    return found[0] if found else None


def _created(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def vm_info(inst: Any, region: str) -> VMInfo:
    """A VMInfo from one ``DescribeInstances`` entry (references are CSP ids)."""
    vpc = inst.vpc_attributes
    groups = list(inst.security_group_ids.security_group_id or []) if inst.security_group_ids else []
    tags = {t.tag_key: t.tag_value for t in (inst.tags.tag or [])} if inst.tags else {}
    disk_size = tags.get("mcinfra:root-disk-size")
    return VMInfo(
        iid=IID(name_id=inst.instance_name or inst.instance_id, system_id=inst.instance_id),
        status=map_status(inst.status),
        region=inst.region_id or region,
        zone=inst.zone_id,
        public_ip=_first(inst.public_ip_address) or (inst.eip_address.ip_address if inst.eip_address else None) or None,
        private_ip=_first(vpc.private_ip_address) if vpc else None,
        image=inst.image_id or "",
        spec=inst.instance_type or "",
        vpc=(vpc.vpc_id if vpc else "") or "",
        subnet=(vpc.v_switch_id if vpc else "") or "",
        security_groups=groups,
        keypair=inst.key_pair_name or "",
        root_disk_type=tags.get("mcinfra:root-disk-type"),
        root_disk_size=int(disk_size) if disk_size and disk_size.isdigit() else None,
        created_at=_created(inst.creation_time),
        extra={
            "status": inst.status,
            "stopped_mode": inst.stopped_mode,
            "os": inst.osname,
            "vcpus": inst.cpu,
            "memory_mib": inst.memory,
            "charge_type": inst.instance_charge_type,
        },
    )


class AliVMHandler(VMHandler):
    def __init__(self, api: AliClient) -> None:
        self.api = api

    # ------------------------------------------------------------------ reads
    def _find(self, instance_id: str) -> Any | None:
        body = self.api.read(
            "ecs", "DescribeInstances", region_id=self.api.region, instance_ids=json.dumps([instance_id]), page_size=10
        )
        found = [i for i in (body.instances.instance or []) if i.instance_id == instance_id] if body.instances else []
        return found[0] if found else None

    def _describe(self, instance_id: str) -> Any:
        return describe_one(filter(None, [self._find(instance_id)]), f"[{PROVIDER}] vm {instance_id}")

    def _all(self) -> list[Any]:
        return list(
            self.api.pages("ecs", "DescribeInstances", lambda b: b.instances.instance, region_id=self.api.region)
        )

    def get(self, iid: IID) -> VMInfo:
        return vm_info(self._describe(iid.system_id), self.api.region)

    def list(self) -> list[VMInfo]:
        return [vm_info(i, self.api.region) for i in self._all()]

    def list_iids(self) -> list[IID]:
        return [IID(name_id=i.instance_name or i.instance_id, system_id=i.instance_id) for i in self._all()]

    def status(self, iid: IID) -> VMStatus:
        inst = self._find(iid.system_id)
        # Alibaba forgets a released instance: CB-Spider reports it NotExist, without error
        return VMStatus.NOT_EXIST if inst is None else map_status(inst.status)

    def statuses(self) -> dict[str, VMStatus]:
        found = self.api.pages(
            "ecs", "DescribeInstanceStatus", lambda b: b.instance_statuses.instance_status, region_id=self.api.region
        )
        return {s.instance_id: map_status(s.status) for s in found}

    # ------------------------------------------------------------------ start
    def _disk(self, req: VMReq) -> tuple[str, int | None]:
        category = (req.root_disk_type or "").strip()
        if not category or category.lower() == "default":
            category = self.api.options.default_disk_category
        if category not in DISK_CATEGORIES:
            raise InvalidRequest(
                f"root_disk_type {category!r} is not an ECS disk category ({', '.join(DISK_CATEGORIES)})",
                field="root_disk_type",
            )
        if req.root_disk_size is not None and not 20 <= req.root_disk_size <= 2048:
            raise InvalidRequest(
                f"root_disk_size {req.root_disk_size} GB is outside ECS's 20..2048", field="root_disk_size"
            )
        return category, req.root_disk_size

    def _public_key(self, req: VMReq) -> str | None:
        if req.public_key:
            return req.public_key
        pairs = self.api.pages(
            "ecs",
            "DescribeKeyPairs",
            lambda b: b.key_pairs.key_pair,
            region_id=self.api.region,
            key_pair_name=req.keypair,
            include_public_key=True,
        )
        pair = describe_one(
            (p for p in pairs if p.key_pair_name == req.keypair), f"[{PROVIDER}] key pair {req.keypair}"
        )
        return getattr(pair, "public_key", None)

    def _zone_of(self, vswitch_id: str) -> str:
        found = self.api.pages(
            "vpc",
            "DescribeVSwitches",
            lambda b: b.v_switches.v_switch,
            region_id=self.api.region,
            v_switch_id=vswitch_id,
        )
        return describe_one(
            (v for v in found if v.v_switch_id == vswitch_id), f"[{PROVIDER}] vswitch {vswitch_id}"
        ).zone_id

    def start(self, req: VMReq) -> VMInfo:
        category, size = self._disk(req)
        zone = self._zone_of(req.subnet)
        system_disk: dict[str, Any] = {"category": category}
        tags = [self.api.model("ecs", "RunInstancesRequestTag", key="mcinfra:root-disk-type", value=category)]
        if size:
            system_disk["size"] = str(size)
            tags.append(self.api.model("ecs", "RunInstancesRequestTag", key="mcinfra:root-disk-size", value=str(size)))
        body = self.api.call(
            "ecs",
            "RunInstances",
            what=req.name,
            region_id=self.api.region,
            zone_id=zone,
            image_id=req.image,
            instance_type=req.spec,
            v_switch_id=req.subnet,
            security_group_ids=list(req.security_groups),
            key_pair_name=req.keypair,
            instance_name=req.name,
            host_name=req.name[:64].rstrip("-."),  # Linux host names: 2-64, no trailing - or .
            amount=1,
            internet_max_bandwidth_out=self.api.options.internet_bandwidth,
            internet_charge_type="PayByTraffic",
            instance_charge_type="PostPaid",
            user_data=user_data(req.vm_user, self._public_key(req)),
            system_disk=self.api.model("ecs", "RunInstancesRequestSystemDisk", **system_disk),
            tag=tags,
        )
        ids = list(body.instance_id_sets.instance_id_set or []) if body.instance_id_sets else []
        if not ids:
            raise CloudError(PROVIDER, "NoInstance", f"RunInstances {req.name}: no instance id in the answer")
        instance_id = ids[0]
        with Rollback(f"vm {req.name}") as undo:
            undo.push(f"instance {instance_id}", lambda: self._settle_and_release(instance_id))
            inst = self.api.wait(
                lambda: self._find(instance_id),
                lambda i: i is None or i.status not in ("Pending", "Starting"),
                timeout=self.api.options.vm_start_timeout,
                what=f"vm {instance_id} start",
            )
            if inst is None or inst.status != "Running":
                raise CloudError(
                    PROVIDER,
                    "InstanceStartFailed",
                    f"vm {instance_id} ended {inst.status if inst else 'released'} instead of Running",
                )
            return vm_info(inst, self.api.region)

    # ------------------------------------------------------------------ control
    def suspend(self, iid: IID) -> VMStatus:
        self._describe(iid.system_id)
        mode = "StopCharging" if self.api.options.stop_charging else "KeepCharging"
        self.api.call("ecs", "StopInstance", what=iid.system_id, instance_id=iid.system_id, stopped_mode=mode)
        return VMStatus.SUSPENDING

    def resume(self, iid: IID) -> VMStatus:
        self._describe(iid.system_id)
        self.api.call("ecs", "StartInstance", what=iid.system_id, instance_id=iid.system_id)
        return VMStatus.RESUMING

    def reboot(self, iid: IID) -> VMStatus:
        self._describe(iid.system_id)
        self.api.call("ecs", "RebootInstance", what=iid.system_id, instance_id=iid.system_id)
        return VMStatus.REBOOTING

    def _release(self, instance_id: str) -> None:
        self.api.call("ecs", "DeleteInstance", what=instance_id, instance_id=instance_id, force=True)

    def _settle_and_release(self, instance_id: str) -> bool:
        """Release an instance; False when ECS no longer has it. DeleteInstance refuses an instance
        in a transition (IncorrectInstanceStatus), so wait for it to settle first."""
        busy = ("Pending", "Starting", "Stopping")
        inst = self.api.wait(
            lambda: self._find(instance_id),
            lambda i: i is None or i.status not in busy,
            timeout=self.api.options.vm_start_timeout,
            what=f"vm {instance_id} settle",
        )
        if inst is None:
            return False
        try:
            self._release(instance_id)
        except NotFound:
            return False
        return True

    def terminate(self, iid: IID) -> VMStatus:
        self._describe(iid.system_id)
        return VMStatus.TERMINATING if self._settle_and_release(iid.system_id) else VMStatus.NOT_EXIST
