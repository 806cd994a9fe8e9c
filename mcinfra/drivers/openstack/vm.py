"""VMs = Nova servers, each on a Neutron port made in the requested subnet with the requested
security groups, with a floating IP from the external network as its public IP.

Root disk: without a size or type the server boots from the flavor's local disk; with one, from
a volume made from the image (``block_device_mapping_v2``; ``volume_type`` is the disk type). The
chosen size and type are also kept in the server's metadata, since Nova does not report a
volume's size.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from mcinfra.core.errors import CloudError, InvalidRequest, NotFound
from mcinfra.core.handlers import VMHandler
from mcinfra.core.models import IID, VMInfo, VMReq, VMStatus
from mcinfra.drivers.kit import Rollback
from mcinfra.drivers.openstack.client import OpenStackClient
from mcinfra.drivers.openstack.image import OpenStackImageHandler
from mcinfra.drivers.openstack.spec import OpenStackSpecHandler

META_DISK_SIZE = "mcinfra_root_disk_size"
META_DISK_TYPE = "mcinfra_root_disk_type"

#: Nova ``server.status`` -> VMStatus (docs/vm-status.md); a task in flight refines it below
STATUS = {
    "BUILD": VMStatus.CREATING,
    "REBUILD": VMStatus.CREATING,
    "ACTIVE": VMStatus.RUNNING,
    "PASSWORD": VMStatus.RUNNING,
    "MIGRATING": VMStatus.RUNNING,
    "RESIZE": VMStatus.RUNNING,
    "VERIFY_RESIZE": VMStatus.RUNNING,
    "REVERT_RESIZE": VMStatus.RUNNING,
    "RESCUE": VMStatus.RUNNING,
    "REBOOT": VMStatus.REBOOTING,
    "HARD_REBOOT": VMStatus.REBOOTING,
    "SUSPENDED": VMStatus.SUSPENDED,
    "SHUTOFF": VMStatus.SUSPENDED,
    "PAUSED": VMStatus.SUSPENDED,
    "SHELVED": VMStatus.SUSPENDED,
    "SHELVED_OFFLOADED": VMStatus.SUSPENDED,
    "DELETED": VMStatus.TERMINATED,
    "SOFT_DELETED": VMStatus.TERMINATED,
    "ERROR": VMStatus.FAILED,
    "UNKNOWN": VMStatus.FAILED,
}
#: ``OS-EXT-STS:task_state`` values that say where the server is going
TASKS = {
    "suspending": VMStatus.SUSPENDING,
    "powering-off": VMStatus.SUSPENDING,
    "pausing": VMStatus.SUSPENDING,
    "shelving": VMStatus.SUSPENDING,
    "resuming": VMStatus.RESUMING,
    "powering-on": VMStatus.RESUMING,
    "unpausing": VMStatus.RESUMING,
    "unshelving": VMStatus.RESUMING,
    "rebooting": VMStatus.REBOOTING,
    "reboot_pending": VMStatus.REBOOTING,
    "reboot_started": VMStatus.REBOOTING,
    "rebooting_hard": VMStatus.REBOOTING,
    "reboot_pending_hard": VMStatus.REBOOTING,
    "reboot_started_hard": VMStatus.REBOOTING,
    "deleting": VMStatus.TERMINATING,
    "soft-deleting": VMStatus.TERMINATING,
}


def vm_status(status: str | None, task_state: str | None = None) -> VMStatus:
    """The mcinfra status of a Nova server's ``status`` and ``OS-EXT-STS:task_state``."""
    if task_state in TASKS and status not in ("ERROR", "DELETED"):
        return TASKS[task_state]
    return STATUS.get((status or "").upper(), VMStatus.FAILED)


def addresses(server: Any) -> tuple[str | None, str | None]:
    """(private, public) IPv4 from a server's ``addresses`` (fixed and floating entries)."""
    private = public = None
    for entries in (server.addresses or {}).values():
        for e in entries:
            if e.get("version") != 4:
                continue
            if e.get("OS-EXT-IPS:type") == "floating":
                public = public or e.get("addr")
            else:
                private = private or e.get("addr")
    return private, public


def _created(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class OpenStackVMHandler(VMHandler):
    def __init__(self, client: OpenStackClient) -> None:
        self.client = client
        self.images = OpenStackImageHandler(client)
        self.specs = OpenStackSpecHandler(client)

    # ------------------------------------------------------------ reads
    def _server(self, server_id: str) -> Any:
        return self.client.read(f"server {server_id}", self.client.compute.get_server, server_id)

    def _ports(self, server_id: str | None = None) -> list[Any]:
        query = {"device_id": server_id} if server_id else {}
        return self.client.list("ports", self.client.network.ports, **query)

    def _info(self, server: Any, ports: list[Any], fips: list[Any], image_names: dict[str, str]) -> VMInfo:
        port = ports[0] if ports else None
        private, public = addresses(server)
        if port is not None:
            private = private or (port.fixed_ips[0]["ip_address"] if port.fixed_ips else None)
            fip = next((f for f in fips if f.port_id == port.id), None)
            public = public or (fip.floating_ip_address if fip else None)
        image = server.image or {}
        image_id = image.get("id") if isinstance(image, dict) else None
        meta = server.metadata or {}
        flavor = server.flavor or {}
        size = meta.get(META_DISK_SIZE)
        return VMInfo(
            iid=IID(name_id=server.name, system_id=server.id),
            status=vm_status(server.status, server.task_state),
            region=self.client.region,
            zone=server.availability_zone or None,
            public_ip=public,
            private_ip=private,
            image=image_names.get(image_id or "", image_id or ""),
            spec=flavor.get("original_name") or flavor.get("name") or flavor.get("id") or "",
            vpc=port.network_id if port is not None else "",
            subnet=port.fixed_ips[0]["subnet_id"] if port is not None and port.fixed_ips else "",
            security_groups=sorted(port.security_group_ids or []) if port is not None else [],
            keypair=server.key_name or "",
            root_disk_type=meta.get(META_DISK_TYPE) or ("volume" if size else "local"),
            root_disk_size=int(size) if size else flavor.get("disk"),
            created_at=_created(server.created_at),
            extra={
                "nova_status": server.status,
                "task_state": server.task_state,
                "port_id": port.id if port else None,
                "fault": (server.fault or {}).get("message") if getattr(server, "fault", None) else None,
            },
        )

    def _image_names(self) -> dict[str, str]:
        return {i.id: i.name for i in self.client.list("images", self.client.image.images)}

    def get(self, iid: IID) -> VMInfo:
        server = self._server(iid.system_id)
        ports = self._ports(server.id)
        fips = self.client.list("floating ips", self.client.network.ips, port_id=ports[0].id) if ports else []
        return self._info(server, ports, fips, self._image_names())

    def list(self) -> list[VMInfo]:
        servers = self.client.list("servers", self.client.compute.servers)
        if not servers:
            return []
        ports: dict[str, list[Any]] = {}
        for p in self._ports():
            ports.setdefault(p.device_id, []).append(p)
        fips = self.client.list("floating ips", self.client.network.ips)
        names = self._image_names()
        return [self._info(s, ports.get(s.id, []), fips, names) for s in servers]

    def status(self, iid: IID) -> VMStatus:
        try:
            server = self._server(iid.system_id)
        except NotFound:
            return VMStatus.NOT_EXIST
        return vm_status(server.status, server.task_state)

    def statuses(self) -> dict[str, VMStatus]:
        return {
            s.id: vm_status(s.status, s.task_state) for s in self.client.list("servers", self.client.compute.servers)
        }

    # ------------------------------------------------------------ start
    def _wait_active(self, server_id: str) -> Any:
        server = self.client.wait(
            f"server {server_id} to become ACTIVE",
            lambda: self._server(server_id),
            lambda s: s.status in ("ACTIVE", "ERROR"),
        )
        if server.status == "ERROR":
            fault = (getattr(server, "fault", None) or {}).get("message") or "the server went to ERROR"
            raise CloudError("openstack", "ServerBuildFailed", f"server {server_id}: {fault}")
        return server

    def _wait_gone(self, server_id: str) -> None:
        def read() -> bool:
            try:
                self._server(server_id)
            except NotFound:
                return True
            return False

        self.client.wait(f"server {server_id} to go away", read, lambda gone: gone)

    def _delete_server(self, server_id: str) -> None:
        self.client.delete(f"server {server_id}", self.client.compute.delete_server, server_id, ignore_missing=False)
        self._wait_gone(server_id)

    def start(self, req: VMReq) -> VMInfo:
        if req.root_disk_size is not None and req.root_disk_size < 1:
            raise InvalidRequest(f"root_disk_size must be >= 1 GB, got {req.root_disk_size}", field="root_disk_size")
        image = self.images.find(req.image)
        flavor = self.specs.find(req.spec)
        ext_id = self.client.external_network_id if self.client.options.floating_ip else None
        zone = req.zone or self.client.zone
        with Rollback(f"vm {req.name}") as undo:
            port = self.client.write(
                f"port for {req.name}",
                self.client.network.create_port,
                network_id=req.vpc,
                name=req.name,
                fixed_ips=[{"subnet_id": req.subnet}],
                security_groups=list(req.security_groups),
            )
            undo.push(
                f"port {port.id}",
                lambda: self.client.delete(
                    f"port {port.id}", self.client.network.delete_port, port.id, ignore_missing=False
                ),
            )
            params: dict[str, Any] = {
                "name": req.name,
                "flavor_id": flavor.id,
                "networks": [{"port": port.id}],
                "key_name": req.keypair,
                "metadata": {},
            }
            if zone:
                params["availability_zone"] = zone
            if req.root_disk_size is not None or req.root_disk_type:
                size = req.root_disk_size or flavor.disk or 10
                bdm: dict[str, Any] = {
                    "boot_index": 0,
                    "uuid": image.id,
                    "source_type": "image",
                    "destination_type": "volume",
                    "volume_size": size,
                    "delete_on_termination": True,
                }
                if req.root_disk_type:
                    bdm["volume_type"] = req.root_disk_type
                    params["metadata"][META_DISK_TYPE] = req.root_disk_type
                params["metadata"][META_DISK_SIZE] = str(size)
                params["block_device_mapping_v2"] = [bdm]
            else:
                params["image_id"] = image.id
            server = self.client.write(f"server {req.name}", self.client.compute.create_server, **params)
            undo.push(f"server {server.id}", lambda: self._delete_server(server.id))
            self._wait_active(server.id)
            if ext_id:
                fip = self.client.write(
                    f"floating ip for {req.name}",
                    self.client.network.create_ip,
                    floating_network_id=ext_id,
                    port_id=port.id,
                )
                undo.push(
                    f"floating ip {fip.id}",
                    lambda: self.client.delete(
                        f"floating ip {fip.id}", self.client.network.delete_ip, fip.id, ignore_missing=False
                    ),
                )
            return self.get(IID(name_id=req.name, system_id=server.id))

    # ------------------------------------------------------------ control
    def _action(self, iid: IID, what: str, fn: Any, *args: Any) -> VMStatus:
        self.client.write(f"{what} server {iid.system_id}", fn, iid.system_id, *args)
        return self.status(iid)

    def suspend(self, iid: IID) -> VMStatus:
        return self._action(iid, "suspend", self.client.compute.suspend_server)

    def resume(self, iid: IID) -> VMStatus:
        return self._action(iid, "resume", self.client.compute.resume_server)

    def reboot(self, iid: IID) -> VMStatus:
        return self._action(iid, "reboot", self.client.compute.reboot_server, "SOFT")

    def terminate(self, iid: IID) -> VMStatus:
        server = self._server(iid.system_id)
        ports = self._ports(server.id)
        for port in ports:
            for fip in self.client.list("floating ips", self.client.network.ips, port_id=port.id):
                self.client.delete(f"floating ip {fip.id}", self.client.network.delete_ip, fip.id, ignore_missing=False)
        self._delete_server(server.id)
        # the port was made for the VM: Nova unbinds it, it does not delete it
        for port in ports:
            with contextlib.suppress(NotFound):
                self.client.delete(f"port {port.id}", self.client.network.delete_port, port.id, ignore_missing=False)
        return VMStatus.TERMINATED
