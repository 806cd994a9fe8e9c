"""EC2 instances as mcinfra VMs.

Suspend is a stop: with hibernation when the instance was launched with hibernation configured
(connection option ``hibernation: true``), else a plain stop. Resume is a start.
"""

from __future__ import annotations

import re
import shlex
from datetime import timedelta
from typing import Any

from mcinfra.core.errors import CloudError, InvalidRequest, NotFound
from mcinfra.core.handlers import VMHandler
from mcinfra.core.models import IID, VMInfo, VMReq, VMStatus
from mcinfra.drivers.aws.client import PROVIDER, AwsClient, name_tag
from mcinfra.drivers.kit import Rollback, poll_until

#: EC2 instance state -> mcinfra status (CB-Spider's AWS table; "pending" is decided per instance).
STATUS_MAP: dict[str, VMStatus] = {
    "running": VMStatus.RUNNING,
    "stopping": VMStatus.SUSPENDING,
    "stopped": VMStatus.SUSPENDED,
    "rebooting": VMStatus.REBOOTING,
    "shutting-down": VMStatus.TERMINATING,
    "terminated": VMStatus.TERMINATED,
}
VOLUME_TYPES = ("standard", "gp2", "gp3", "io1", "io2", "sc1", "st1")
_LIVE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"]
_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
#: A pending instance whose root volume was attached this close to its launch is a new one.
_NEW_INSTANCE_WINDOW = timedelta(minutes=2)

_IMDS_KEY = (
    "TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token "
    '-H "X-aws-ec2-metadata-token-ttl-seconds: 300")\n'
    'curl -s -H "X-aws-ec2-metadata-token: $TOKEN" '
    'http://169.254.169.254/latest/meta-data/public-keys/0/openssh-key >> "$HOME_DIR/.ssh/authorized_keys"\n'
)


def user_data(vm_user: str, public_key: str | None) -> str:
    """cloud-init shell script that makes ``vm_user`` with the key pair's key and passwordless
    sudo, as CB-Spider's drivers do, so every image is reached the same way."""
    key_line = (
        f'echo {shlex.quote(public_key.strip())} >> "$HOME_DIR/.ssh/authorized_keys"\n' if public_key else _IMDS_KEY
    )
    return (
        "#!/bin/bash\n"
        f"VM_USER={vm_user}\n"
        "HOME_DIR=/home/$VM_USER\n"
        'id -u "$VM_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$VM_USER"\n'
        'mkdir -p "$HOME_DIR/.ssh"\n'
        f"{key_line}"
        'chmod 700 "$HOME_DIR/.ssh"; chmod 600 "$HOME_DIR/.ssh/authorized_keys"\n'
        'chown -R "$VM_USER:$VM_USER" "$HOME_DIR/.ssh"\n'
        'echo "$VM_USER ALL=(ALL) NOPASSWD:ALL" > "/etc/sudoers.d/$VM_USER"\n'
        'chmod 440 "/etc/sudoers.d/$VM_USER"\n'
    )


def _groups(inst: dict[str, Any]) -> list[str]:
    # The primary interface's groups are the instance's; moto fills only that list.
    groups = [g["GroupId"] for g in inst.get("SecurityGroups", [])]
    for ni in inst.get("NetworkInterfaces", []):
        if ni.get("Attachment", {}).get("DeviceIndex", 0) == 0:
            groups += [g["GroupId"] for g in ni.get("Groups", []) if g["GroupId"] not in groups]
    return groups


def map_status(inst: dict[str, Any]) -> VMStatus:
    state = inst.get("State", {}).get("Name", "")
    if state == "pending":
        return VMStatus.CREATING if _is_new(inst) else VMStatus.RESUMING
    return STATUS_MAP.get(state, VMStatus.FAILED)


def _is_new(inst: dict[str, Any]) -> bool:
    # LaunchTime moves on every start; the root volume's AttachTime stays at the first launch.
    launched = inst.get("LaunchTime")
    root = inst.get("RootDeviceName")
    for bdm in inst.get("BlockDeviceMappings", []):
        if bdm.get("DeviceName") == root and launched and bdm.get("Ebs", {}).get("AttachTime"):
            return abs(launched - bdm["Ebs"]["AttachTime"]) <= _NEW_INSTANCE_WINDOW
    return True


class AwsVMHandler(VMHandler):
    def __init__(self, client: AwsClient) -> None:
        self.api = client
        self.hibernation = client.options.hibernation
        self.start_timeout = client.options.vm_start_timeout
        self.poll = client.options.poll_interval

    # ------------------------------------------------------------------ reads
    def _find(self, instance_id: str) -> dict[str, Any] | None:
        try:
            res = self.api.call("ec2", "describe_instances", what=f"vm {instance_id}", InstanceIds=[instance_id])[
                "Reservations"
            ]
        except NotFound:
            return None
        for r in res:
            for inst in r["Instances"]:
                if inst["InstanceId"] == instance_id:
                    return inst
        return None

    def _describe(self, instance_id: str) -> dict[str, Any]:
        inst = self._find(instance_id)
        if inst is None or inst["State"]["Name"] == "terminated":
            raise NotFound(f"[aws] vm {instance_id} not found")
        return inst

    def _volumes(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 200):
            for v in self.api.pages("ec2", "describe_volumes", "Volumes", VolumeIds=ids[i : i + 200]):
                out[v["VolumeId"]] = v
        return out

    @staticmethod
    def _root_volume_id(inst: dict[str, Any]) -> str | None:
        for bdm in inst.get("BlockDeviceMappings", []):
            if bdm.get("DeviceName") == inst.get("RootDeviceName"):
                return bdm.get("Ebs", {}).get("VolumeId")
        return None

    def _info(self, inst: dict[str, Any], volumes: dict[str, dict[str, Any]] | None = None) -> VMInfo:
        root_id = self._root_volume_id(inst)
        if volumes is None:
            volumes = self._volumes([root_id]) if root_id else {}
        root = volumes.get(root_id or "", {})
        zone = inst.get("Placement", {}).get("AvailabilityZone")
        return VMInfo(
            iid=IID(name_id=name_tag(inst.get("Tags"), inst["InstanceId"]), system_id=inst["InstanceId"]),
            status=map_status(inst),
            region=self.api.region,
            zone=zone,
            public_ip=inst.get("PublicIpAddress") or None,
            private_ip=inst.get("PrivateIpAddress") or None,
            image=inst.get("ImageId", ""),
            spec=inst.get("InstanceType", ""),
            vpc=inst.get("VpcId", ""),
            subnet=inst.get("SubnetId", ""),
            security_groups=_groups(inst),
            keypair=inst.get("KeyName", ""),
            root_disk_type=root.get("VolumeType"),
            root_disk_size=root.get("Size"),
            created_at=inst.get("LaunchTime"),
            extra={
                "state": inst.get("State", {}).get("Name"),
                "public_dns": inst.get("PublicDnsName") or None,
                "private_dns": inst.get("PrivateDnsName") or None,
                "root_device_name": inst.get("RootDeviceName"),
                "architecture": inst.get("Architecture"),
                "platform": inst.get("PlatformDetails") or inst.get("Platform"),
                "hibernation": bool(inst.get("HibernationOptions", {}).get("Configured")),
            },
        )

    def _live(self) -> list[dict[str, Any]]:
        return [
            i
            for r in self.api.pages(
                "ec2",
                "describe_instances",
                "Reservations",
                Filters=[{"Name": "instance-state-name", "Values": _LIVE_STATES}],
            )
            for i in r["Instances"]
            if i["State"]["Name"] != "terminated"
        ]

    def get(self, iid: IID) -> VMInfo:
        return self._info(self._describe(iid.system_id))

    def list(self) -> list[VMInfo]:
        insts = self._live()
        roots = [v for v in (self._root_volume_id(i) for i in insts) if v]
        volumes = self._volumes(roots) if roots else {}
        return [self._info(i, volumes) for i in insts]

    def list_iids(self) -> list[IID]:
        return [IID(name_id=name_tag(i.get("Tags"), i["InstanceId"]), system_id=i["InstanceId"]) for i in self._live()]

    def status(self, iid: IID) -> VMStatus:
        inst = self._find(iid.system_id)
        return VMStatus.NOT_EXIST if inst is None else map_status(inst)

    def statuses(self) -> dict[str, VMStatus]:
        return {i["InstanceId"]: map_status(i) for i in self._live()}

    # ------------------------------------------------------------------ start
    def _check(self, req: VMReq) -> str | None:
        disk_type = (req.root_disk_type or "").strip()
        if disk_type.lower() == "default":
            disk_type = ""
        if disk_type and disk_type not in VOLUME_TYPES:
            raise InvalidRequest(
                f"root_disk_type {disk_type!r} is not an EBS volume type ({', '.join(VOLUME_TYPES)})",
                field="root_disk_type",
            )
        if req.root_disk_size is not None and not 1 <= req.root_disk_size <= 65536:
            raise InvalidRequest(f"root_disk_size {req.root_disk_size} GB is outside 1..65536", field="root_disk_size")
        if not _USER_RE.match(req.vm_user):
            raise InvalidRequest(f"vm_user {req.vm_user!r} is not a valid Linux user name", field="vm_user")
        return disk_type or None

    def _public_key(self, req: VMReq) -> str | None:
        if req.public_key:
            return req.public_key
        try:
            kps = self.api.call("ec2", "describe_key_pairs", KeyNames=[req.keypair], IncludePublicKey=True)["KeyPairs"]
        except NotFound:
            raise NotFound(f"[aws] key pair {req.keypair} not found") from None
        return (kps[0].get("PublicKey") or None) if kps else None

    def start(self, req: VMReq) -> VMInfo:
        disk_type = self._check(req)
        image = self.api.describe("ec2", "describe_images", "Images", what=f"image {req.image}", ImageIds=[req.image])
        params: dict[str, Any] = {
            "ImageId": req.image,
            "InstanceType": req.spec,
            "MinCount": 1,
            "MaxCount": 1,
            "KeyName": req.keypair,
            "NetworkInterfaces": [
                {
                    "DeviceIndex": 0,
                    "SubnetId": req.subnet,
                    "Groups": list(req.security_groups),
                    "AssociatePublicIpAddress": True,
                    "DeleteOnTermination": True,
                }
            ],
            "TagSpecifications": [
                {"ResourceType": t, "Tags": [{"Key": "Name", "Value": req.name}]} for t in ("instance", "volume")
            ],
            "UserData": user_data(req.vm_user, self._public_key(req)),
        }
        ebs: dict[str, Any] = {"DeleteOnTermination": True}
        if disk_type:
            ebs["VolumeType"] = disk_type
        image_root = next(
            (
                b.get("Ebs", {})
                for b in image.get("BlockDeviceMappings", [])
                if b.get("DeviceName") == image.get("RootDeviceName")
            ),
            {},
        )
        if req.root_disk_size:
            ebs["VolumeSize"] = req.root_disk_size
        elif image_root.get("VolumeSize"):
            # Spelled out so that a mapping that only changes type or encryption is complete.
            ebs["VolumeSize"] = image_root["VolumeSize"]
        if self.hibernation:
            # AWS hibernates only instances launched with it, onto an encrypted root volume.
            params["HibernationOptions"] = {"Configured": True}
            ebs["Encrypted"] = True
        if (disk_type or req.root_disk_size or self.hibernation) and image.get("RootDeviceName"):
            params["BlockDeviceMappings"] = [{"DeviceName": image["RootDeviceName"], "Ebs": ebs}]
        made = self.api.call("ec2", "run_instances", what=f"vm {req.name}", **params)["Instances"][0]
        instance_id = made["InstanceId"]
        with Rollback(f"vm {req.name}") as undo:
            undo.push("instance", lambda: self.api.call("ec2", "terminate_instances", InstanceIds=[instance_id]))
            return self._info(self._wait_started(instance_id))

    def _wait_started(self, instance_id: str) -> dict[str, Any]:
        def running(inst: dict[str, Any] | None) -> bool:
            state = inst["State"]["Name"] if inst else "missing"
            if state not in ("running", "pending", "missing"):
                reason = (inst or {}).get("StateReason", {}).get("Message", state)
                raise CloudError(PROVIDER, "InstanceStartFailed", f"vm {instance_id} went {state}: {reason}")
            return state == "running"

        inst = poll_until(
            lambda: self._find(instance_id), running, timeout=self.start_timeout, interval=self.poll,
            max_interval=self.poll, provider=PROVIDER, what=f"vm {instance_id} start",
        )
        assert inst is not None
        return inst

    # ------------------------------------------------------------------ control
    def suspend(self, iid: IID) -> VMStatus:
        inst = self._describe(iid.system_id)
        hibernate = bool(inst.get("HibernationOptions", {}).get("Configured"))
        self.api.call(
            "ec2",
            "stop_instances",
            what=f"vm {iid.system_id}",
            InstanceIds=[iid.system_id],
            Hibernate=hibernate,
        )
        return VMStatus.SUSPENDING

    def resume(self, iid: IID) -> VMStatus:
        self._describe(iid.system_id)
        self.api.call("ec2", "start_instances", what=f"vm {iid.system_id}", InstanceIds=[iid.system_id])
        return VMStatus.RESUMING

    def reboot(self, iid: IID) -> VMStatus:
        self._describe(iid.system_id)
        self.api.call("ec2", "reboot_instances", what=f"vm {iid.system_id}", InstanceIds=[iid.system_id])
        return VMStatus.REBOOTING

    def terminate(self, iid: IID) -> VMStatus:
        self._describe(iid.system_id)
        self.api.call("ec2", "terminate_instances", what=f"vm {iid.system_id}", InstanceIds=[iid.system_id])
        return VMStatus.TERMINATING
