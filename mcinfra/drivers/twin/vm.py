"""VM = a namespace with a veth on its subnet's bridge, an sshd of its own and a freezer cgroup.

Start runs in three steps so that several VMs can boot at once: reserve the name and
addresses under the region lock, build and boot without the lock, then publish (router NAT,
filter) under the lock again. Anything that fails tears down what was built and raises an
error that says why (sshd's last console lines included).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from mcinfra.core.errors import AlreadyExists, CloudError, InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import VMHandler
from mcinfra.core.models import IID, VMInfo, VMReq, VMStatus
from mcinfra.drivers.twin import catalog, machine, netns
from mcinfra.drivers.twin.netns import VM_LINK
from mcinfra.drivers.twin.nlb import sync_vpc_nlbs
from mcinfra.drivers.twin.options import TwinOptions
from mcinfra.drivers.twin.security_group import apply_vm_filter
from mcinfra.drivers.twin.state import Region, now
from mcinfra.drivers.twin.vpc import find_subnet, get_vpc, sync_router


def get_vm(st: dict[str, Any], vm_id: str) -> dict[str, Any]:
    vm = st["vms"].get(vm_id)
    if vm is None:
        raise NotFound(f"twin VM {vm_id!r} not found")
    return vm


def _private_ip(subnet: dict[str, Any], st: dict[str, Any]) -> str:
    net = ipaddress.ip_network(subnet["cidr"])
    taken = {vm["private_ip"] for vm in st["vms"].values()} | {subnet["gateway"]}
    hosts = list(net.hosts())
    # the first hosts of a subnet are the cloud's own (gateway, DNS, reserved), as on AWS
    for host in hosts[3:] if len(hosts) > 8 else hosts[1:]:
        if str(host) not in taken:
            return str(host)
    raise CloudError("twin", "SubnetFull", f"subnet {subnet['name']!r} ({subnet['cidr']}) has no free address")


class TwinVMHandler(VMHandler):
    def __init__(self, region: Region, zone: str | None, options: TwinOptions) -> None:
        self.region = region
        self.zone = zone
        self.resume_changes_public_ip = options.resume_changes_public_ip

    # ---------------------------------------------------------------- info
    def _status(self, vm: dict[str, Any]) -> VMStatus:
        state = vm.get("state", "running")
        if state == "creating":
            return VMStatus.CREATING
        if state == "suspended":
            return VMStatus.SUSPENDED
        if not netns.netns_exists(vm["ns"]):
            # the kernel is the truth: the state dir outlived the namespaces (host reboot, cleanup)
            return VMStatus.NOT_EXIST
        if not netns.pid_alive(vm.get("pid")):
            return VMStatus.FAILED
        return VMStatus.RUNNING

    def _info(self, vm_id: str, vm: dict[str, Any]) -> VMInfo:
        return VMInfo(
            iid=IID(name_id=vm["name"], system_id=vm_id),
            status=self._status(vm),
            region=self.region.name,
            zone=vm.get("zone"),
            public_ip=vm.get("public_ip"),
            private_ip=vm.get("private_ip"),
            ssh_port=machine.SSH_PORT,
            vm_user=machine.VM_USER,
            image=vm["image"],
            spec=vm["spec"],
            vpc=vm["vpc"],
            subnet=vm["subnet"],
            security_groups=list(vm["sgs"]),
            keypair=vm.get("keypair", ""),
            root_disk_type=vm.get("root_disk_type"),
            root_disk_size=vm.get("root_disk_size"),
            created_at=datetime.fromisoformat(vm["created_at"]),
            extra={
                "namespace": vm["ns"],
                "pid": vm.get("pid"),
                "host_key": vm.get("host_key", ""),
                "vm_dir": str(self.region.vm_dir(vm_id)),
            },
        )

    # ---------------------------------------------------------------- start
    def _reserve(self, req: VMReq) -> tuple[str, dict[str, Any], str]:
        with self.region.locked() as st:
            if any(v["name"] == req.name for v in st["vms"].values()):
                raise AlreadyExists(f"twin VM {req.name!r} already exists")
            get_vpc(st, req.vpc)
            vpc_id, subnet = find_subnet(st, req.subnet)
            if vpc_id != req.vpc:
                raise InvalidRequest(f"subnet {req.subnet!r} is not in VPC {req.vpc!r}")
            for sg_id in req.security_groups:
                sg = st["sgs"].get(sg_id)
                if sg is None:
                    raise NotFound(f"twin security group {sg_id!r} not found")
                if sg["vpc"] != req.vpc:
                    raise InvalidRequest(f"security group {sg_id!r} belongs to another VPC")
            public_key = req.public_key
            if not public_key:
                kp = st["keypairs"].get(req.keypair)
                if kp is None:
                    raise NotFound(f"twin key pair {req.keypair!r} not found")
                public_key = kp["public_key"]
            index = self.region.new_index(st)
            vm_id = self.region.system_id("vm", index)
            vm = {
                "name": req.name,
                "index": index,
                "state": "creating",
                "ns": self.region.ns_name("v", index),
                "router_link": self.region.link_name("v", index),
                "image": req.image,
                "spec": req.spec,
                "vpc": req.vpc,
                "subnet": req.subnet,
                "sgs": list(dict.fromkeys(req.security_groups)),
                "keypair": req.keypair,
                "zone": req.zone or subnet.get("zone") or self.zone,
                "root_disk_type": req.root_disk_type or "local",
                "root_disk_size": req.root_disk_size or catalog.ROOT_DISK_GB,
                "private_ip": _private_ip(subnet, st),
                "created_at": now(),
                "pid": None,
            }
            vm["public_ip"] = self.region.allocate_public_ip(st, vm_id)
            st["vms"][vm_id] = vm
            return vm_id, vm, public_key

    def _build(self, vm_id: str, vm: dict[str, Any], public_key: str) -> None:
        st = self.region.read()
        vpc = st["vpcs"][vm["vpc"]]
        subnet = vpc["subnets"][vm["subnet"]]
        ns, rlink = vm["ns"], vm["router_link"]
        netns.netns_add(ns)
        netns.veth_pair(rlink, vpc["ns"], VM_LINK, ns)
        netns.ip("link", "set", rlink, "master", subnet["bridge"], "up", ns=vpc["ns"])
        prefix = ipaddress.ip_network(subnet["cidr"]).prefixlen
        netns.ip("addr", "add", f"{vm['private_ip']}/{prefix}", "dev", VM_LINK, ns=ns)
        netns.ip("link", "set", VM_LINK, "up", ns=ns)
        netns.ip("route", "add", "default", "via", subnet["gateway"], ns=ns)
        apply_vm_filter(st, vm)
        vm_dir = self.region.vm_dir(vm_id)
        vm_dir.mkdir(parents=True, exist_ok=True)
        vm["host_key"] = machine.prepare(vm_dir, vm["name"], public_key)
        vm["pid"] = machine.boot(vm, vm_dir)

    def _teardown(self, vm_id: str, vm: dict[str, Any], router_ns: str | None) -> None:
        machine.halt(vm, remove_cgroup=True)
        netns.netns_delete(vm["ns"])
        if router_ns:
            netns.link_delete(vm["router_link"], router_ns)
        machine.remove_disk(self.region.vm_dir(vm_id))

    def start(self, req: VMReq) -> VMInfo:
        catalog.find_image(req.image)
        catalog.find_spec(req.spec)
        vm_id, vm, public_key = self._reserve(req)
        try:
            self._build(vm_id, vm, public_key)
            with self.region.locked() as st:
                rec = st["vms"][vm_id]
                rec.update(state="running", pid=vm["pid"], host_key=vm["host_key"])
                apply_vm_filter(st, rec)
                sync_router(st, rec["vpc"])
                return self._info(vm_id, rec)
        except Exception as exc:
            with self.region.locked() as st:
                vpc = st["vpcs"].get(vm["vpc"])
                self._teardown(vm_id, vm, vpc["ns"] if vpc else None)
                st["vms"].pop(vm_id, None)
                self.region.release_public_ip(st, vm.get("public_ip"))
            if isinstance(exc, McInfraError) and not isinstance(exc, CloudError):
                raise
            code, why = (exc.code, exc.message) if isinstance(exc, CloudError) else (type(exc).__name__, str(exc))
            raise CloudError("twin", code, f"VM {req.name!r} failed to start and was torn down: {why}") from exc

    # ---------------------------------------------------------------- read
    def get(self, iid: IID) -> VMInfo:
        st = self.region.read()
        return self._info(iid.system_id, get_vm(st, iid.system_id))

    def list(self) -> list[VMInfo]:
        st = self.region.read()
        return [self._info(k, v) for k, v in st["vms"].items()]

    def status(self, iid: IID) -> VMStatus:
        st = self.region.read()
        vm = st["vms"].get(iid.system_id)
        return VMStatus.NOT_EXIST if vm is None else self._status(vm)

    def statuses(self) -> dict[str, VMStatus]:
        st = self.region.read()
        return {k: self._status(v) for k, v in st["vms"].items()}

    # ---------------------------------------------------------------- control
    def _router_ns(self, st: dict[str, Any], vm: dict[str, Any]) -> str:
        return str(get_vpc(st, vm["vpc"])["ns"])

    @staticmethod
    def _vm_in(st: dict[str, Any], iid: IID, state: str) -> dict[str, Any]:
        vm = get_vm(st, iid.system_id)
        if vm["state"] != state:
            raise CloudError("twin", "IncorrectState", f"VM {vm['name']!r} is {vm['state']}, not {state}")
        return vm

    def suspend(self, iid: IID) -> VMStatus:
        with self.region.locked() as st:
            vm = self._vm_in(st, iid, "running")
            netns.ip("link", "set", vm["router_link"], "down", ns=self._router_ns(st, vm))
            netns.cgroup_freeze(vm["ns"], True)
            vm["state"] = "suspended"
            sync_vpc_nlbs(st, vm["vpc"])
        return VMStatus.SUSPENDING

    def resume(self, iid: IID) -> VMStatus:
        with self.region.locked() as st:
            vm = self._vm_in(st, iid, "suspended")
            netns.cgroup_freeze(vm["ns"], False)
            netns.ip("link", "set", vm["router_link"], "up", ns=self._router_ns(st, vm))
            if self.resume_changes_public_ip:
                old = vm["public_ip"]
                vm["public_ip"] = self.region.allocate_public_ip(st, iid.system_id)
                self.region.release_public_ip(st, old)
                sync_router(st, vm["vpc"])
            vm["state"] = "running"
            sync_vpc_nlbs(st, vm["vpc"])
        return VMStatus.RESUMING

    def reboot(self, iid: IID) -> VMStatus:
        with self.region.locked() as st:
            vm = get_vm(st, iid.system_id)
            if vm["state"] == "suspended":
                raise CloudError("twin", "IncorrectState", f"VM {vm['name']!r} is suspended; resume it first")
            machine.halt(vm)
            vm["pid"] = machine.boot(vm, self.region.vm_dir(iid.system_id))
            vm["state"] = "running"
        return VMStatus.REBOOTING

    def terminate(self, iid: IID) -> VMStatus:
        with self.region.locked() as st:
            vm = get_vm(st, iid.system_id)
            vpc = st["vpcs"].get(vm["vpc"])
            self._teardown(iid.system_id, vm, vpc["ns"] if vpc else None)
            del st["vms"][iid.system_id]
            self.region.release_public_ip(st, vm.get("public_ip"))
            if vpc:
                sync_router(st, vm["vpc"])
                sync_vpc_nlbs(st, vm["vpc"])
        return VMStatus.TERMINATING

    # ---------------------------------------------------------------- for tests and tools
    def exec(
        self, iid: IID, argv: list[str], *, timeout: float = 60, check: bool = True, host_view: bool = False
    ) -> str:
        """Run a command inside a running VM as root and return its stdout (``host_view``: with
        the host's files instead of the VM's /etc, /home, /run, /tmp views)."""
        st = self.region.read()
        vm = get_vm(st, iid.system_id)
        return machine.exec_in(vm, argv, timeout=timeout, check=check, host_view=host_view).stdout

    def spawn(self, iid: IID, argv: list[str], *, host_view: bool = False) -> None:
        """Start a long-running process inside the VM (it lives and dies with the VM)."""
        st = self.region.read()
        machine.spawn_in(get_vm(st, iid.system_id), argv, host_view=host_view)
