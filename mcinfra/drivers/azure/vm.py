"""VM = virtual machine + its NIC (in the subnet, with the NSG) + a Standard static public IP.

Made in that order, each undone in reverse if a later step fails (including a VM whose creation
Azure accepted and then reported Failed: ARM keeps such a VM, so it is deleted too). The OS disk
is made with the VM (``deleteOption: Delete``) and goes with it. terminate deletes the VM, then
its NIC and public IP. suspend = deallocate (compute is no longer billed; power-off would keep
billing), resume = start, reboot = restart; each waits for its long-running operation.

Azure allows one NSG per NIC, so a VM takes one security group. The status comes from the
instance view: ``ProvisioningState/*`` and ``PowerState/*`` (table in docs/vm-status.md).
Facts a VM does not carry (the key pair's id, the image as the user named it, the VPC) are kept
in ``mcinfra-*`` tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mcinfra.core.errors import InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import VMHandler
from mcinfra.core.models import IID, VMInfo, VMReq, VMStatus
from mcinfra.drivers.azure.client import AzureClient, last, same_id, split_id, text
from mcinfra.drivers.azure.image import AzureImageHandler
from mcinfra.drivers.azure.names import check_name
from mcinfra.drivers.kit import Rollback

TAG_KEYPAIR, TAG_IMAGE, TAG_VPC = "mcinfra-keypair", "mcinfra-image", "mcinfra-vpc"
VM_USER = "cb-user"
DISK_TYPES = ("Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS")

#: PowerState/<code> -> status (docs/vm-status.md)
POWER = {
    "running": VMStatus.RUNNING,
    "starting": VMStatus.RESUMING,
    "stopping": VMStatus.SUSPENDING,
    "stopped": VMStatus.SUSPENDED,
    "deallocating": VMStatus.SUSPENDING,
    "deallocated": VMStatus.SUSPENDED,
}
#: ProvisioningState/<code> that decide the status whatever the power state says
PROVISIONING = {"creating": VMStatus.CREATING, "failed": VMStatus.FAILED, "deleting": VMStatus.TERMINATING}


def vm_status(view: Any) -> VMStatus:
    """The VMStatus of an instance view's status codes."""
    codes = [str(s.code or "") for s in (getattr(view, "statuses", None) or [])]
    provisioning = next((c.split("/")[1].lower() for c in codes if c.startswith("ProvisioningState/")), "")
    power = next((c.split("/", 1)[1].lower() for c in codes if c.startswith("PowerState/")), "")
    if provisioning in PROVISIONING:
        return PROVISIONING[provisioning]
    if power in POWER:
        return POWER[power]
    # provisioned (or updating) but no power state reported yet: still coming up
    return VMStatus.CREATING if provisioning in ("", "succeeded", "updating") else VMStatus.FAILED


@dataclass
class Known:
    """NICs and public IP addresses read in one list each, by lower-cased id."""

    nics: dict[str, Any] = field(default_factory=dict)
    addresses: dict[str, str | None] = field(default_factory=dict)


class AzureVMHandler(VMHandler):
    def __init__(self, api: AzureClient, images: AzureImageHandler) -> None:
        self.api = api
        self.images = images

    # ------------------------------------------------------------------ lookups
    def find(self, system_id: str, *, with_view: bool = False) -> Any:
        group, name = split_id(system_id, self.api.group)
        return self.api.call("compute", "virtual_machines.get", group, name, idempotent=True,
                           **({"expand": "instanceView"} if with_view else {}))

    def view(self, vm: Any) -> Any:
        """The instance view: the one that came with the VM (``$expand=instanceView``), else a GET."""
        if vm.instance_view is not None:
            return vm.instance_view
        group, _ = split_id(vm.id, self.api.group)
        return self.api.call("compute", "virtual_machines.instance_view", group, vm.name, idempotent=True)

    def listed(self) -> list[Any]:
        """Every VM of the connection's group, each with its instance view, in one paged list."""
        self.api.ensure_group()
        return self.api.call("compute", "virtual_machines.list", self.api.group, expand="instanceView", idempotent=True)

    def nic_of(self, vm: Any, known: Known | None = None) -> Any | None:
        refs = vm.network_profile.network_interfaces if vm.network_profile else []
        if not refs:
            return None
        primary = next((r for r in refs if r.primary), refs[0])
        if known is not None and primary.id.lower() in known.nics:
            return known.nics[primary.id.lower()]
        group, name = split_id(primary.id, self.api.group)
        try:
            return self.api.call("network", "network_interfaces.get", group, name, idempotent=True)
        except NotFound:
            return None

    def public_ip(self, pip_id: str | None, known: Known | None = None) -> str | None:
        if not pip_id:
            return None
        if known is not None and pip_id.lower() in known.addresses:
            return known.addresses[pip_id.lower()]
        group, name = split_id(pip_id, self.api.group)
        try:
            return self.api.call("network", "public_ip_addresses.get", group, name, idempotent=True).ip_address
        except NotFound:
            return None

    def info(self, vm: Any, view: Any | None = None, known: Known | None = None) -> VMInfo:
        view = view if view is not None else self.view(vm)
        tags = vm.tags or {}
        nic = self.nic_of(vm, known)
        ipc = nic.ip_configurations[0] if nic is not None and nic.ip_configurations else None
        subnet_id = ipc.subnet.id if ipc is not None and ipc.subnet else ""
        storage = vm.storage_profile
        os_disk = storage.os_disk if storage else None
        image = storage.image_reference if storage else None
        urn = tags.get(TAG_IMAGE) or (f"{image.publisher}:{image.offer}:{image.sku}:{image.version}" if image else "")
        return VMInfo(
            iid=IID(name_id=vm.name, system_id=vm.id),
            status=vm_status(view),
            region=vm.location,
            zone=(vm.zones or [None])[0],
            public_ip=self.public_ip(ipc.public_ip_address.id if ipc is not None and ipc.public_ip_address else None,
                                     known),
            private_ip=ipc.private_ip_address if ipc is not None else None,
            vm_user=(vm.os_profile.admin_username if vm.os_profile else None) or VM_USER,
            image=urn,
            spec=text(vm.hardware_profile.vm_size) if vm.hardware_profile else "",
            vpc=subnet_id.split("/subnets/")[0] if subnet_id else tags.get(TAG_VPC, ""),
            subnet=subnet_id,
            security_groups=[nic.network_security_group.id] if nic is not None and nic.network_security_group else [],
            keypair=tags.get(TAG_KEYPAIR, ""),
            root_disk_type=text(os_disk.managed_disk.storage_account_type) if os_disk and os_disk.managed_disk
            and os_disk.managed_disk.storage_account_type else None,
            root_disk_size=os_disk.disk_size_gb if os_disk else None,
            created_at=vm.time_created if isinstance(vm.time_created, datetime) else None,
            extra={"vm_id": vm.vm_id, "nic": nic.id if nic is not None else "",
                   "provisioning_state": text(vm.provisioning_state),
                   "power_state": next((s.code for s in view.statuses or [] if str(s.code).startswith("PowerState/")),
                                       "")},
        )

    # ------------------------------------------------------------------ start
    def _public_key(self, req: VMReq) -> str:
        if req.public_key:
            return req.public_key.strip()
        group, name = split_id(req.keypair, self.api.group)
        key = self.api.call("compute", "ssh_public_keys.get", group, name, idempotent=True)
        if not key.public_key:
            raise InvalidRequest(f"SSH public key {name!r} holds no public key", field="keypair")
        return key.public_key.strip()

    def start(self, req: VMReq) -> VMInfo:
        from azure.mgmt.compute import models as cm
        from azure.mgmt.network import models as nm

        check_name(req.name, "vm")
        if len(req.security_groups) > 1:
            raise InvalidRequest("an Azure NIC takes one network security group: give one security group",
                                 field="security_groups")
        if req.root_disk_type and req.root_disk_type not in DISK_TYPES:
            raise InvalidRequest(f"root_disk_type must be one of {', '.join(DISK_TYPES)}", field="root_disk_type")
        if req.root_disk_size is not None and not 30 <= req.root_disk_size <= 4095:
            raise InvalidRequest("root_disk_size must be 30-4095 GB on Azure", field="root_disk_size")
        if req.zone and req.zone not in ("1", "2", "3"):
            raise InvalidRequest(f"Azure zones are '1', '2' or '3', not {req.zone!r}", field="zone")
        publisher, offer, sku, _, _ = self.images.resolve(req.image)  # NotFound before anything is made
        public_key = self._public_key(req)
        self.api.ensure_group()
        group = self.api.group
        try:
            self.find(req.name)
            from mcinfra.core.errors import AlreadyExists

            raise AlreadyExists(f"VM {req.name!r} already exists in {group!r}")
        except NotFound:
            pass
        zone = req.zone or self.api.zone
        zones = [zone] if zone else None
        nic_name, pip_name, disk_name = f"{req.name}-nic", f"{req.name}-pip", f"{req.name}-osdisk"
        with Rollback(f"vm {req.name}") as undo:
            pip = self.api.run("network", "public_ip_addresses.begin_create_or_update", group, pip_name,
                             nm.PublicIPAddress(location=self.api.location, sku=nm.PublicIPAddressSku(name="Standard"),
                                                public_ip_allocation_method="Static", zones=zones,
                                                tags={"mcinfra": "true"}), idempotent=True)
            undo.push("public IP", lambda: self._delete("network", "public_ip_addresses", group, pip_name))
            nic_body = nm.NetworkInterface(
                location=self.api.location, tags={"mcinfra": "true"},
                network_security_group=nm.NetworkSecurityGroup(id=req.security_groups[0])
                if req.security_groups else None,
                ip_configurations=[nm.NetworkInterfaceIPConfiguration(
                    name="ipconfig1", subnet=nm.Subnet(id=req.subnet), primary=True,
                    public_ip_address=nm.PublicIPAddress(id=pip.id))])
            poller = self.api.call("network", "network_interfaces.begin_create_or_update", group, nic_name, nic_body,
                                 idempotent=True)
            undo.push("NIC", lambda: self._delete("network", "network_interfaces", group, nic_name))
            nic = self.api.wait(poller, "network_interfaces.begin_create_or_update",
                                self.api.resumer("network", "network_interfaces.begin_create_or_update", group,
                                                 nic_name, nic_body))
            body = cm.VirtualMachine(
                location=self.api.location, zones=zones,
                tags={"mcinfra": "true", TAG_KEYPAIR: req.keypair, TAG_IMAGE: req.image, TAG_VPC: req.vpc},
                hardware_profile=cm.HardwareProfile(vm_size=req.spec),
                storage_profile=cm.StorageProfile(
                    image_reference=cm.ImageReference(publisher=publisher, offer=offer, sku=sku,
                                                      version=_version(req.image)),
                    os_disk=cm.OSDisk(name=disk_name, create_option="FromImage", caching="ReadWrite",
                                      delete_option="Delete", disk_size_gb=req.root_disk_size,
                                      managed_disk=cm.ManagedDiskParameters(
                                          storage_account_type=req.root_disk_type or "StandardSSD_LRS"))),
                os_profile=cm.OSProfile(
                    computer_name=req.name, admin_username=req.vm_user or VM_USER,
                    linux_configuration=cm.LinuxConfiguration(
                        disable_password_authentication=True,
                        ssh=cm.SshConfiguration(public_keys=[cm.SshPublicKey(
                            path=f"/home/{req.vm_user or VM_USER}/.ssh/authorized_keys", key_data=public_key)]))),
                network_profile=cm.NetworkProfile(network_interfaces=[
                    cm.NetworkInterfaceReference(id=nic.id, primary=True, delete_option="Detach")]))
            poller = self.api.call("compute", "virtual_machines.begin_create_or_update", group, req.name, body,
                                 idempotent=True)
            # accepted, so it exists even if it then fails: undo it before the NIC it holds
            undo.push("VM", lambda: self._delete("compute", "virtual_machines", group, req.name))
            vm = self.api.wait(poller, "virtual_machines.begin_create_or_update",
                               self.api.resumer("compute", "virtual_machines.begin_create_or_update", group, req.name,
                                                body))
            return self.info(vm)

    def _delete(self, sdk: str, collection: str, group: str, name: str) -> None:
        self.api.run(sdk, f"{collection}.begin_delete", group, name, idempotent=True)

    # ------------------------------------------------------------------ VMHandler
    def get(self, iid: IID) -> VMInfo:
        return self.info(self.find(iid.system_id, with_view=True))

    def list(self) -> list[VMInfo]:
        vms = self.listed()
        if len(vms) < 2:
            return [self.info(vm) for vm in vms]
        # two lists instead of a NIC and a public-IP read per VM
        group = self.api.group
        known = Known(
            nics={n.id.lower(): n for n in self.api.call("network", "network_interfaces.list", group, idempotent=True)},
            addresses={p.id.lower(): p.ip_address
                       for p in self.api.call("network", "public_ip_addresses.list", group, idempotent=True)})
        return [self.info(vm, known=known) for vm in vms]

    def list_iids(self) -> list[IID]:
        self.api.ensure_group()
        vms = self.api.call("compute", "virtual_machines.list", self.api.group, idempotent=True)
        return [IID(name_id=vm.name, system_id=vm.id) for vm in vms]

    def status(self, iid: IID) -> VMStatus:
        try:
            return vm_status(self.view(self.find(iid.system_id, with_view=True)))
        except NotFound:
            return VMStatus.NOT_EXIST

    def statuses(self) -> dict[str, VMStatus]:
        return {vm.id: vm_status(self.view(vm)) for vm in self.listed()}

    def _action(self, iid: IID, verb: str) -> VMStatus:
        vm = self.find(iid.system_id)
        group, _ = split_id(vm.id, self.api.group)
        self.api.run("compute", f"virtual_machines.begin_{verb}", group, vm.name)
        return self.status(IID(name_id=vm.name, system_id=vm.id))

    def suspend(self, iid: IID) -> VMStatus:
        return self._action(iid, "deallocate")

    def resume(self, iid: IID) -> VMStatus:
        return self._action(iid, "start")

    def reboot(self, iid: IID) -> VMStatus:
        return self._action(iid, "restart")

    def terminate(self, iid: IID) -> VMStatus:
        vm = self.find(iid.system_id)
        group, _ = split_id(vm.id, self.api.group)
        nic = self.nic_of(vm)
        pip_ids = [c.public_ip_address.id for c in (nic.ip_configurations if nic is not None else [])
                   if c.public_ip_address]
        self.api.run("compute", "virtual_machines.begin_delete", group, vm.name, idempotent=True)
        # the VM's own parts go with it: its NIC, then the public IP the NIC held
        if nic is not None:
            self._delete_if_there("network", "network_interfaces", nic.id)
        for pip_id in pip_ids:
            self._delete_if_there("network", "public_ip_addresses", pip_id)
        return VMStatus.TERMINATED

    def _delete_if_there(self, sdk: str, collection: str, rid: str) -> None:
        group, name = split_id(rid, self.api.group)
        try:
            self._delete(sdk, collection, group, name)
        except NotFound:
            pass
        except McInfraError:
            raise

    def nic_ids(self, vm_ids: list[str]) -> dict[str, Any]:
        """VM id -> its primary NIC (for NLB membership)."""
        out = {}
        for vm_id in vm_ids:
            vm = self.find(vm_id)
            nic = self.nic_of(vm)
            if nic is None:
                raise NotFound(f"VM {last(vm_id)!r} has no network interface")
            out[vm.id] = nic
        return out

    def vm_of_nic(self, nic: Any) -> str | None:
        return nic.virtual_machine.id if nic.virtual_machine else None

    @staticmethod
    def same(a: str, b: str) -> bool:
        return same_id(a, b)


def _version(urn: str) -> str:
    parts = urn.split(":")
    return parts[3] if len(parts) == 4 else "latest"
