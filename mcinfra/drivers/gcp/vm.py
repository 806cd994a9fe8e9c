"""VMs = Compute Engine instances.

The VM's system id is its instance name; its zone is the connection's unless the request
named another, and is found again through the aggregated list when needed. The key pair's
public key goes into metadata ``ssh-keys`` as ``cb-user:<key>``; the SGs' network tags
become the instance's tags; a one-to-one NAT access config gives the public IP. Facts the
instance resource does not return (image as requested, key pair, disk type) are kept in
``mcinfra-*`` metadata items.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mcinfra.core.errors import CloudError, InvalidRequest, NotFound
from mcinfra.core.handlers import VMHandler
from mcinfra.core.models import IID, VMInfo, VMReq, VMStatus
from mcinfra.drivers.gcp.client import PROVIDER, GcpClient, check_name, last
from mcinfra.drivers.gcp.image import GcpImageHandler
from mcinfra.drivers.kit import Rollback

DEFAULT_DISK_TYPE = "pd-balanced"
META_KEYPAIR = "mcinfra-keypair"
META_IMAGE = "mcinfra-image"
META_DISK_TYPE = "mcinfra-root-disk-type"

#: GCP instance status -> VMStatus (STAGING is Resuming for a VM that was stopped/suspended before)
STATUS = {
    "PROVISIONING": VMStatus.CREATING,
    "STAGING": VMStatus.CREATING,
    "RUNNING": VMStatus.RUNNING,
    "STOPPING": VMStatus.SUSPENDING,
    "SUSPENDING": VMStatus.SUSPENDING,
    "SUSPENDED": VMStatus.SUSPENDED,
    "TERMINATED": VMStatus.SUSPENDED,
    "REPAIRING": VMStatus.FAILED,
}


def vm_status(vm: Any) -> VMStatus:
    status = STATUS.get(vm.status, VMStatus.FAILED)
    if vm.status == "STAGING" and (vm.last_stop_timestamp or vm.last_suspended_timestamp):
        return VMStatus.RESUMING
    return status


def _metadata(vm: Any) -> dict[str, str]:
    return {i.key: i.value for i in vm.metadata.items}


def _created(ts: str) -> datetime | None:
    try:
        return datetime.fromisoformat(ts) if ts else None
    except ValueError:
        return None


class GcpVMHandler(VMHandler):
    def __init__(self, api: GcpClient, images: GcpImageHandler) -> None:
        self.api = api
        self.images = images
        #: instance name -> zone, learnt from starts and lookups
        self._zones: dict[str, str] = {}

    # ------------------------------------------------------------------ lookups
    def _in_region(self, zone: str) -> bool:
        return zone.rsplit("-", 1)[0] == self.api.region

    def _aggregated(self) -> list[Any]:
        api = self.api
        out = []
        for scope, scoped in api.call("InstancesClient", "aggregated_list", idempotent=True, project=api.project):
            if self._in_region(last(scope)):
                out.extend(scoped.instances)
        return out

    def find(self, name: str) -> Any:
        """The instance named ``name`` in the connection's region (NotFound if none)."""
        api = self.api
        zone = self._zones.get(name, api.zone)
        try:
            vm = api.call("InstancesClient", "get", idempotent=True, project=api.project, zone=zone, instance=name)
        except NotFound:
            vm = next((v for v in self._aggregated() if v.name == name), None)
            if vm is None:
                raise NotFound(f"VM {name!r} not found in region {api.region!r}") from None
        self._zones[name] = last(vm.zone)
        return vm

    def zone_of(self, name: str) -> str:
        return last(self.find(name).zone)

    def _info(self, vm: Any) -> VMInfo:
        meta = _metadata(vm)
        nic = vm.network_interfaces[0] if vm.network_interfaces else None
        nat = next((ac.nat_i_p for ac in nic.access_configs if ac.nat_i_p), None) if nic else None
        boot = next((d for d in vm.disks if d.boot), None)
        return VMInfo(
            iid=IID(name_id=vm.name, system_id=vm.name),
            status=vm_status(vm),
            region=self.api.region,
            zone=last(vm.zone),
            public_ip=nat,
            private_ip=nic.network_i_p if nic else None,
            vm_user="cb-user",
            image=meta.get(META_IMAGE, ""),
            spec=last(vm.machine_type),
            vpc=last(nic.network) if nic else "",
            subnet=last(nic.subnetwork) if nic else "",
            security_groups=list(vm.tags.items),
            keypair=meta.get(META_KEYPAIR, ""),
            root_disk_type=meta.get(META_DISK_TYPE),
            root_disk_size=int(boot.disk_size_gb) if boot and boot.disk_size_gb else None,
            created_at=_created(vm.creation_timestamp),
            extra={"gcp_status": vm.status, "self_link": vm.self_link, "id": str(vm.id)},
        )

    # ------------------------------------------------------------------ VMHandler
    def start(self, req: VMReq) -> VMInfo:
        check_name(req.name, "VM")
        if not req.public_key:
            raise InvalidRequest("gcp VMs need the key pair's public key (VMReq.public_key)", field="keypair")
        if req.root_disk_size is not None and req.root_disk_size < 10:
            raise InvalidRequest("gcp root disks are at least 10 GB", field="root_disk_size")
        disk_type = req.root_disk_type if req.root_disk_type not in (None, "", "default") else DEFAULT_DISK_TYPE
        api, compute = self.api, self.api.compute
        zone = req.zone or api.zone
        source = self.images.source_image(req.image)
        public_key = " ".join(req.public_key.split()[:2])
        params = compute.AttachedDiskInitializeParams(
            source_image=source, disk_type=f"zones/{zone}/diskTypes/{disk_type}"
        )
        if req.root_disk_size:
            params.disk_size_gb = req.root_disk_size
        meta = {
            "ssh-keys": f"{req.vm_user}:{public_key} {req.vm_user}",
            META_KEYPAIR: req.keypair,
            META_IMAGE: req.image,
            META_DISK_TYPE: disk_type,
        }
        instance = compute.Instance(
            name=req.name,
            machine_type=f"zones/{zone}/machineTypes/{req.spec}",
            disks=[compute.AttachedDisk(boot=True, auto_delete=True, initialize_params=params)],
            network_interfaces=[
                compute.NetworkInterface(
                    network=api.network_link(req.vpc),
                    subnetwork=api.subnet_link(req.subnet),
                    access_configs=[compute.AccessConfig(name="External NAT", type_="ONE_TO_ONE_NAT")],
                )
            ],
            tags=compute.Tags(items=list(req.security_groups)),
            metadata=compute.Metadata(items=[compute.Items(key=k, value=v) for k, v in meta.items()]),
        )
        op = api.call("InstancesClient", "insert_unary", project=api.project, zone=zone, instance_resource=instance)
        self._zones[req.name] = zone
        with Rollback(f"VM {req.name!r}") as undo:
            undo.push("zone cache", lambda: self._zones.pop(req.name, None))
            undo.push(
                "instance",
                lambda: api.mutate("InstancesClient", "delete_unary", project=api.project, zone=zone,
                                   instance=req.name),
            )
            api.wait(op, "Instances.insert")
            return self._info(self.find(req.name))

    def get(self, iid: IID) -> VMInfo:
        return self._info(self.find(iid.system_id))

    def list(self) -> list[VMInfo]:
        return [self._info(vm) for vm in self._aggregated()]

    def statuses(self) -> dict[str, VMStatus]:
        return {vm.name: vm_status(vm) for vm in self._aggregated()}

    def status(self, iid: IID) -> VMStatus:
        try:
            return vm_status(self.find(iid.system_id))
        except NotFound:
            return VMStatus.NOT_EXIST

    def _action(self, name: str, method: str) -> None:
        api = self.api
        api.mutate("InstancesClient", f"{method}_unary", project=api.project, zone=self.zone_of(name), instance=name)

    def suspend(self, iid: IID) -> VMStatus:
        self._action(iid.system_id, "suspend")
        return VMStatus.SUSPENDING

    def resume(self, iid: IID) -> VMStatus:
        vm = self.find(iid.system_id)
        if vm.status == "TERMINATED":
            self._action(iid.system_id, "start")  # a stopped VM starts rather than resumes
        elif vm.status == "SUSPENDED":
            self._action(iid.system_id, "resume")
        else:
            raise CloudError(PROVIDER, "InvalidState", f"VM {vm.name!r} is {vm.status}, not suspended or stopped")
        return VMStatus.RESUMING

    def reboot(self, iid: IID) -> VMStatus:
        self._action(iid.system_id, "reset")
        return VMStatus.REBOOTING

    def terminate(self, iid: IID) -> VMStatus:
        self._action(iid.system_id, "delete")
        self._zones.pop(iid.system_id, None)
        return VMStatus.TERMINATING
