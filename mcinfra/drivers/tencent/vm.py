"""VMs = CVM instances (CVM API 2017-03-12).

Start is ``RunInstances`` with a ``ClientToken`` (so a retry cannot make a second instance),
the key pair in ``LoginSettings.KeyIds``, a public IP (``InternetAccessible``), the subnet and
security groups, and a cloud-init ``UserData`` that makes the ``cb-user`` login with the key
pair's public key (the image's own user, root or ubuntu, gets the key from Tencent too). The
call returns only ids: the driver then reads the instance until it leaves ``PENDING``; a
``LAUNCH_FAILED`` instance is terminated and the start fails with its
``LatestOperationErrorMsg``.

Suspend is ``StopInstances(StoppedMode=STOP_CHARGING)``: compute billing stops and the public IP
is released (a new one comes with resume); an instance type that cannot stop charging is
stopped with ``KEEP_CHARGING`` instead.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from mcinfra.core.errors import CloudError, NotFound
from mcinfra.core.handlers import VMHandler
from mcinfra.core.models import IID, VMInfo, VMReq, VMStatus
from mcinfra.drivers.kit import Rollback, describe_one
from mcinfra.drivers.tencent.client import PROVIDER, TencentClient
from mcinfra.drivers.tencent.vpc import default_zone

#: InstanceState -> VMStatus (docs/vm-status.md has the table)
STATUS = {
    "PENDING": VMStatus.CREATING,
    "LAUNCH_FAILED": VMStatus.FAILED,
    "RUNNING": VMStatus.RUNNING,
    "STOPPED": VMStatus.SUSPENDED,
    "STARTING": VMStatus.RESUMING,
    "STOPPING": VMStatus.SUSPENDING,
    "REBOOTING": VMStatus.REBOOTING,
    # "stopped, to be destroyed" (an isolated instance on its way out): it cannot be started again
    "SHUTDOWN": VMStatus.TERMINATING,
    "TERMINATING": VMStatus.TERMINATING,
}
VM_USER = "cb-user"


def vm_status(inst: Any) -> VMStatus:
    return STATUS.get(inst.InstanceState, VMStatus.FAILED)


def _created(ts: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")) if ts else None
    except ValueError:
        return None


def vm_info(inst: Any, region: str) -> VMInfo:
    vpc = inst.VirtualPrivateCloud
    login = inst.LoginSettings
    disk = inst.SystemDisk
    keys = list(login.KeyIds or []) if login else []
    return VMInfo(
        iid=IID(name_id=inst.InstanceName or inst.InstanceId, system_id=inst.InstanceId),
        status=vm_status(inst),
        region=region,
        zone=inst.Placement.Zone if inst.Placement else None,
        public_ip=(inst.PublicIpAddresses or [None])[0],
        private_ip=(inst.PrivateIpAddresses or [None])[0],
        ssh_port=22,
        vm_user=VM_USER,
        image=inst.ImageId or "",
        spec=inst.InstanceType or "",
        vpc=vpc.VpcId if vpc else "",
        subnet=vpc.SubnetId if vpc else "",
        security_groups=list(inst.SecurityGroupIds or []),
        keypair=keys[0] if keys else "",
        root_disk_type=disk.DiskType if disk else None,
        root_disk_size=disk.DiskSize if disk else None,
        created_at=_created(inst.CreatedTime),
        extra={
            "instance_state": inst.InstanceState,
            "latest_operation": inst.LatestOperation,
            "latest_operation_state": inst.LatestOperationState,
            "os_name": inst.OsName,
            "image_login_user": inst.DefaultLoginUser,
            "stop_charging_mode": inst.StopChargingMode,
            "cpu": inst.CPU,
            "memory_gb": inst.Memory,
        },
    )


def cloud_init(public_key: str) -> str:
    """UserData (base64) that adds the cb-user login with ``public_key`` and passwordless sudo."""
    doc = (
        "#cloud-config\n"
        "users:\n"
        "  - default\n"
        f"  - name: {VM_USER}\n"
        "    shell: /bin/bash\n"
        "    sudo: ALL=(ALL) NOPASSWD:ALL\n"
        "    ssh_authorized_keys:\n"
        f"      - {public_key.strip()}\n"
    )
    return base64.b64encode(doc.encode()).decode()


class TencentVMHandler(VMHandler):
    def __init__(self, api: TencentClient) -> None:
        self.api = api

    def _find(self, instance_id: str) -> Any:
        page = self.api.call("cvm", "DescribeInstances", {"InstanceIds": [instance_id]}, idempotent=True)
        return describe_one(page.InstanceSet or [], f"[tencent] instance {instance_id}")

    def _all(self) -> list[Any]:
        return self.api.list_all("cvm", "DescribeInstances", "InstanceSet")

    # ------------------------------------------------------------------ start
    def start(self, req: VMReq) -> VMInfo:
        api, opts = self.api, self.api.options
        key = api.call("cvm", "DescribeKeyPairs", {"KeyIds": [req.keypair]}, idempotent=True).KeyPairSet
        public_key = req.public_key or (describe_one(key or [], f"key pair {req.keypair}").PublicKey or "")
        params: dict[str, Any] = {
            "InstanceChargeType": opts.instance_charge_type,
            "Placement": {"Zone": req.zone or default_zone(api), "ProjectId": opts.project_id},
            "InstanceType": req.spec,
            "ImageId": req.image,
            "VirtualPrivateCloud": {"VpcId": req.vpc, "SubnetId": req.subnet},
            "InternetAccessible": {"InternetChargeType": opts.internet_charge_type,
                                   "InternetMaxBandwidthOut": opts.public_bandwidth_out, "PublicIpAssigned": True},
            "InstanceCount": 1,
            "InstanceName": req.name,
            "LoginSettings": {"KeyIds": [req.keypair]},
            "SecurityGroupIds": list(req.security_groups),
            "ClientToken": uuid.uuid4().hex,
        }
        if req.root_disk_type or req.root_disk_size:
            params["SystemDisk"] = {"DiskType": req.root_disk_type or opts.default_disk_type}
            if req.root_disk_size:
                params["SystemDisk"]["DiskSize"] = req.root_disk_size
        if public_key:
            params["UserData"] = cloud_init(public_key)
        with Rollback(f"vm {req.name}") as undo:
            # idempotent thanks to ClientToken: a retry answers the first call's instance ids
            ids = api.call("cvm", "RunInstances", params, idempotent=True).InstanceIdSet or []
            if not ids:
                raise CloudError(PROVIDER, "NoInstance", f"RunInstances for {req.name} returned no instance id")
            instance_id = ids[0]
            undo.push(f"instance {instance_id}", lambda: self._terminate(instance_id))
            inst = api.poll(lambda: self._find(instance_id), lambda i: i.InstanceState != "PENDING",
                          f"start of instance {instance_id}")
            if inst.InstanceState == "LAUNCH_FAILED":
                reason = inst.LatestOperationErrorMsg or "no reason given"
                raise CloudError(PROVIDER, "LaunchFailed", f"instance {instance_id} failed to launch: {reason}")
        return vm_info(inst, api.region)

    # ------------------------------------------------------------------ reads
    def get(self, iid: IID) -> VMInfo:
        return vm_info(self._find(iid.system_id), self.api.region)

    def list(self) -> list[VMInfo]:
        return [vm_info(i, self.api.region) for i in self._all()]

    def list_iids(self) -> list[IID]:
        return [IID(name_id=i.InstanceName, system_id=i.InstanceId) for i in self._all()]

    def status(self, iid: IID) -> VMStatus:
        try:
            return vm_status(self._find(iid.system_id))
        except NotFound:
            return VMStatus.NOT_EXIST

    def statuses(self) -> dict[str, VMStatus]:
        return {i.InstanceId: vm_status(i) for i in self._all()}

    # ------------------------------------------------------------------ control
    def suspend(self, iid: IID) -> VMStatus:
        params = {"InstanceIds": [iid.system_id], "StopType": "SOFT_FIRST", "StoppedMode": "STOP_CHARGING"}
        try:
            self.api.call("cvm", "StopInstances", params, idempotent=False)
        except CloudError as exc:
            if not exc.code.startswith("UnsupportedOperation.StoppedModeStopCharging"):
                raise
            self.api.call("cvm", "StopInstances", {**params, "StoppedMode": "KEEP_CHARGING"}, idempotent=False)
        return self.status(iid)

    def resume(self, iid: IID) -> VMStatus:
        self.api.call("cvm", "StartInstances", {"InstanceIds": [iid.system_id]}, idempotent=False)
        return self.status(iid)

    def reboot(self, iid: IID) -> VMStatus:
        self.api.call("cvm", "RebootInstances", {"InstanceIds": [iid.system_id], "StopType": "SOFT_FIRST"},
                    idempotent=False)
        return self.status(iid)

    def terminate(self, iid: IID) -> VMStatus:
        try:
            self._terminate(iid.system_id)
        except CloudError as exc:
            # already on its way out (a delete_csp, another client): that is what was asked for
            if exc.code not in ("UnsupportedOperation.InstanceStateTerminating",
                                "UnsupportedOperation.InstanceStateShutdown"):
                raise
        return self.status(iid)

    def _terminate(self, instance_id: str) -> None:
        self.api.call("cvm", "TerminateInstances", {"InstanceIds": [instance_id]}, idempotent=True)
