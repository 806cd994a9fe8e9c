"""NLB = an Octavia load balancer (VIP in the VPC's first subnet) with one pool (the VM group:
members on the VMs' fixed IPs, a health monitor) and one listener whose default pool it is;
PUBLIC adds a floating IP on the VIP port.

Octavia puts the load balancer in PENDING_* after every change and refuses the next change
until it is ACTIVE again (409), so every step waits for ACTIVE. Listener ports, member ports and
a pool's protocol cannot be changed in place: changing them replaces the listener, the members
or the pool.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from mcinfra.core.errors import CloudError, NotFound, Unsupported
from mcinfra.core.handlers import NLBHandler
from mcinfra.core.models import IID, HealthChecker, HealthInfo, Listener, NLBInfo, NLBReq, VMGroup
from mcinfra.drivers.kit import Rollback
from mcinfra.drivers.openstack.client import PROVIDER, OpenStackClient

#: member operating_status values that count as healthy (NO_MONITOR: Octavia sends traffic)
HEALTHY = {"ONLINE", "NO_MONITOR", "DRAINING"}
#: the VM group's port lives on its members; with none, the pool's description keeps it
GROUP_NOTE = re.compile(r"mcinfra:port=(\d+)(?: monitor=(\d+))?")


def group_note(port: int, monitor_port: int) -> str:
    return f"mcinfra:port={port} monitor={monitor_port}"


def check_protocols(listener: str, pool: str) -> None:
    """Octavia's listener/pool protocol pairs (api-ref general.inc): of mcinfra's TCP and UDP, a
    listener takes a pool of its own protocol only."""
    if listener != pool:
        raise Unsupported(
            f"[openstack] Octavia cannot pair a {listener} listener with a {pool} pool "
            "(api-ref 'Protocol Combinations (Listener/Pool)')"
        )


def _created(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


class OpenStackNLBHandler(NLBHandler):
    def __init__(self, client: OpenStackClient) -> None:
        self.client = client

    # ------------------------------------------------------------ waiting
    def _get_lb(self, lb_id: str) -> Any:
        return self.client.read(f"load balancer {lb_id}", self.client.load_balancer.get_load_balancer, lb_id)

    def _wait_settled(self, lb_id: str) -> Any:
        """The load balancer once it is out of PENDING_* (ACTIVE, or ERROR)."""
        return self.client.wait(
            f"load balancer {lb_id} to leave PENDING_*",
            lambda: self._get_lb(lb_id),
            lambda x: not str(x.provisioning_status).startswith("PENDING_"),
        )

    def _wait_active(self, lb_id: str) -> Any:
        lb = self._wait_settled(lb_id)
        if lb.provisioning_status != "ACTIVE":
            raise CloudError(
                PROVIDER,
                "LoadBalancerError",
                f"load balancer {lb_id} is {lb.provisioning_status} (operating {lb.operating_status})",
            )
        return lb

    def _wait_gone(self, lb_id: str) -> None:
        def read() -> bool:
            try:
                self._get_lb(lb_id)
            except NotFound:
                return True
            return False

        self.client.wait(f"load balancer {lb_id} to go away", read, lambda gone: gone)

    # ------------------------------------------------------------ pieces
    def _vm_addresses(self, vm_ids: list[str]) -> list[tuple[str, str, str]]:
        """(vm id, fixed IP, subnet id) of each VM's first port."""
        out = []
        for vm_id in vm_ids:
            self.client.read(f"server {vm_id}", self.client.compute.get_server, vm_id)
            ports = self.client.list(f"ports of server {vm_id}", self.client.network.ports, device_id=vm_id)
            if not ports or not ports[0].fixed_ips:
                raise NotFound(f"[openstack] server {vm_id} has no port")
            fixed = ports[0].fixed_ips[0]
            out.append((vm_id, fixed["ip_address"], fixed["subnet_id"]))
        return out

    def _add_members(
        self, lb_id: str, pool_id: str, vm_ids: list[str], port: int, monitor_port: int | None, undo: Rollback
    ) -> None:
        for vm_id, address, subnet_id in self._vm_addresses(vm_ids):
            params: dict[str, Any] = {"name": vm_id, "address": address, "protocol_port": port, "subnet_id": subnet_id}
            if monitor_port and monitor_port != port:
                params["monitor_port"] = monitor_port
            member = self.client.write(f"member {vm_id}", self.client.load_balancer.create_member, pool_id, **params)
            undo.push(
                f"member {member.id}",
                lambda m=member.id: self._change(
                    lb_id, "member", self.client.load_balancer.delete_member, m, pool_id, ignore_missing=False
                ),
            )
            self._wait_active(lb_id)

    def _change(self, lb_id: str, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One Octavia change, then the wait for ACTIVE it needs."""
        out = self.client.write(f"{what} of load balancer {lb_id}", fn, *args, **kwargs)
        self._wait_active(lb_id)
        return out

    def _monitor_params(self, hc: HealthChecker) -> dict[str, Any]:
        params: dict[str, Any] = {
            "type": hc.protocol,
            "delay": hc.interval,
            "timeout": min(hc.timeout, hc.interval),
            "max_retries": min(max(hc.threshold, 1), 10),
        }
        if hc.protocol == "HTTP":
            params.update(url_path="/", http_method="GET", expected_codes="200")
        return params

    def _make_pool(self, lb_id: str, name: str, group: VMGroup, hc: HealthChecker, undo: Rollback) -> Any:
        pool = self._change(
            lb_id,
            "pool",
            self.client.load_balancer.create_pool,
            name=name,
            loadbalancer_id=lb_id,
            protocol=group.protocol,
            lb_algorithm=self.client.options.lb_algorithm,
            description=group_note(group.port, hc.port),
        )
        undo.push(
            f"pool {pool.id}",
            lambda: self._change(lb_id, "pool", self.client.load_balancer.delete_pool, pool.id, ignore_missing=False),
        )
        self._change(
            lb_id,
            "health monitor",
            self.client.load_balancer.create_health_monitor,
            pool_id=pool.id,
            name=name,
            **self._monitor_params(hc),
        )
        self._add_members(lb_id, pool.id, group.vms, group.port, hc.port, undo)
        return pool

    def _vip_subnet(self, network_id: str) -> str:
        subnets = self.client.list(
            f"subnets of network {network_id}", self.client.network.subnets, network_id=network_id
        )
        if not subnets:
            self.client.read(f"network {network_id}", self.client.network.get_network, network_id)
            raise CloudError(PROVIDER, "NoSubnet", f"network {network_id} has no subnet for the load balancer VIP")
        return str(sorted(subnets, key=lambda s: (s.created_at or "", s.id))[0].id)

    # ------------------------------------------------------------ create / delete
    def create(self, req: NLBReq) -> NLBInfo:
        check_protocols(req.listener.protocol, req.vm_group.protocol)
        subnet_id = self._vip_subnet(req.vpc)
        self._vm_addresses(req.vm_group.vms)  # every VM exists before anything is made
        with Rollback(f"nlb {req.name}") as undo:
            params: dict[str, Any] = {"name": req.name, "vip_subnet_id": subnet_id}
            if self.client.options.lb_provider:
                params["provider"] = self.client.options.lb_provider
            lb = self.client.write(
                f"load balancer {req.name}", self.client.load_balancer.create_load_balancer, **params
            )
            undo.push(f"load balancer {lb.id}", lambda: self._delete_lb(lb.id))
            self._wait_active(lb.id)
            pool = self._make_pool(lb.id, req.name, req.vm_group, req.health_checker, undo)
            self._change(
                lb.id,
                "listener",
                self.client.load_balancer.create_listener,
                name=req.name,
                loadbalancer_id=lb.id,
                protocol=req.listener.protocol,
                protocol_port=req.listener.port,
                default_pool_id=pool.id,
            )
            if req.type == "PUBLIC":
                fip = self.client.write(
                    f"floating ip for {req.name}",
                    self.client.network.create_ip,
                    floating_network_id=self.client.external_network_id,
                    port_id=lb.vip_port_id,
                )
                undo.push(
                    f"floating ip {fip.id}",
                    lambda: self.client.delete(
                        f"floating ip {fip.id}", self.client.network.delete_ip, fip.id, ignore_missing=False
                    ),
                )
            return self.get(IID(name_id=req.name, system_id=lb.id))

    def _delete_lb(self, lb_id: str) -> None:
        lb = self._get_lb(lb_id)
        for fip in self.client.list("floating ips", self.client.network.ips, port_id=lb.vip_port_id):
            self.client.delete(f"floating ip {fip.id}", self.client.network.delete_ip, fip.id, ignore_missing=False)
        if str(lb.provisioning_status).startswith("PENDING_"):
            self._wait_settled(lb_id)  # Octavia deletes an ERROR load balancer, not a PENDING_* one
        self.client.delete(
            f"load balancer {lb_id}",
            self.client.load_balancer.delete_load_balancer,
            lb_id,
            ignore_missing=False,
            cascade=True,
        )
        self._wait_gone(lb_id)

    def delete(self, iid: IID) -> None:
        self._delete_lb(iid.system_id)

    # ------------------------------------------------------------ reads
    def _parts(self, lb: Any) -> tuple[Any, Any, list[Any], Any]:
        """(listener, pool, members, health monitor) of a load balancer made as this module makes them."""
        listeners = self.client.list(
            f"listeners of {lb.id}", self.client.load_balancer.listeners, loadbalancer_id=lb.id
        )
        pools = self.client.list(f"pools of {lb.id}", self.client.load_balancer.pools, loadbalancer_id=lb.id)
        listener = listeners[0] if listeners else None
        pool = next((p for p in pools if listener is not None and p.id == listener.default_pool_id), None)
        pool = pool or (pools[0] if pools else None)
        members = (
            self.client.list(f"members of pool {pool.id}", self.client.load_balancer.members, pool.id) if pool else []
        )
        monitor = None
        if pool is not None and pool.health_monitor_id:
            monitor = self.client.read(
                f"health monitor {pool.health_monitor_id}",
                self.client.load_balancer.get_health_monitor,
                pool.health_monitor_id,
            )
        return listener, pool, members, monitor

    def _info(self, lb: Any) -> NLBInfo:
        listener, pool, members, monitor = self._parts(lb)
        fips = self.client.list("floating ips", self.client.network.ips, port_id=lb.vip_port_id)
        public = fips[0].floating_ip_address if fips else None
        vip_net = lb.vip_network_id or ""
        note = GROUP_NOTE.search((pool.description or "") if pool is not None else "")
        group_port = (
            members[0].protocol_port
            if members
            else (int(note.group(1)) if note else (listener.protocol_port if listener else 1))
        )
        monitor_port = (members[0].monitor_port if members else None) or (
            int(note.group(2)) if note and note.group(2) else group_port
        )
        hc = HealthChecker(
            protocol="HTTP" if monitor is not None and monitor.type in ("HTTP", "HTTPS") else "TCP",
            port=monitor_port,
            interval=monitor.delay if monitor else 10,
            timeout=monitor.timeout if monitor else 10,
            threshold=monitor.max_retries if monitor else 3,
        )
        proto = pool.protocol if pool is not None and pool.protocol in ("TCP", "UDP") else "TCP"
        return NLBInfo(
            iid=IID(name_id=lb.name or lb.id, system_id=lb.id),
            vpc=vip_net,
            type="PUBLIC" if public else "INTERNAL",
            listener=Listener(
                protocol=listener.protocol if listener and listener.protocol in ("TCP", "UDP") else "TCP",
                port=listener.protocol_port if listener else 1,
                ip=public or lb.vip_address,
            ),
            vm_group=VMGroup(protocol=proto, port=group_port, vms=sorted(m.name or m.address for m in members)),
            health_checker=hc,
            created_at=_created(lb.created_at),
            extra={
                "provisioning_status": lb.provisioning_status,
                "operating_status": lb.operating_status,
                "vip_address": lb.vip_address,
                "vip_subnet_id": lb.vip_subnet_id,
                "provider": lb.provider,
                "pool_id": pool.id if pool else None,
                "listener_id": listener.id if listener else None,
            },
        )

    def get(self, iid: IID) -> NLBInfo:
        return self._info(self._get_lb(iid.system_id))

    def list(self) -> list[NLBInfo]:
        return [self._info(lb) for lb in self.client.list("load balancers", self.client.load_balancer.load_balancers)]

    def list_iids(self) -> list[IID]:
        return [
            IID(name_id=lb.name or lb.id, system_id=lb.id)
            for lb in self.client.list("load balancers", self.client.load_balancer.load_balancers)
        ]

    # ------------------------------------------------------------ changes
    def _pool_of(self, lb_id: str) -> tuple[Any, Any, list[Any], Any, Any]:
        lb = self._wait_active(lb_id)
        listener, pool, members, monitor = self._parts(lb)
        if pool is None:
            raise CloudError(PROVIDER, "NoPool", f"load balancer {lb_id} has no pool")
        return lb, listener, pool, members, monitor

    def add_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        lb, _, pool, members, _ = self._pool_of(iid.system_id)
        have = {m.name for m in members}
        port = members[0].protocol_port if members else self.get(iid).vm_group.port
        monitor_port = members[0].monitor_port if members else None
        with Rollback(f"members of {iid.system_id}") as undo:
            self._add_members(lb.id, pool.id, [v for v in vms if v not in have], port, monitor_port, undo)
        return self.get(iid).vm_group

    def remove_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        lb, _, pool, members, _ = self._pool_of(iid.system_id)
        by_vm = {m.name: m for m in members}
        missing = [v for v in vms if v not in by_vm]
        if missing:
            raise NotFound(f"[openstack] {', '.join(missing)} not in the VM group of {iid.system_id}")
        for vm in vms:
            self._change(
                lb.id, "member", self.client.load_balancer.delete_member, by_vm[vm].id, pool.id, ignore_missing=False
            )
        return self.get(iid).vm_group

    def health(self, iid: IID) -> HealthInfo:
        lb = self._get_lb(iid.system_id)
        _, _, members, _ = self._parts(lb)
        names = {m.name or m.address: m.operating_status for m in members}
        return HealthInfo(
            all=sorted(names),
            healthy=sorted(n for n, s in names.items() if s in HEALTHY),
            unhealthy=sorted(n for n, s in names.items() if s not in HEALTHY),
        )

    def change_listener(self, iid: IID, listener: Listener) -> Listener:
        lb, old, pool, _, _ = self._pool_of(iid.system_id)
        check_protocols(listener.protocol, pool.protocol)
        # a listener's protocol and port are immutable in Octavia, and a pool is the default of
        # one listener only: the old listener goes first, and comes back if the new one fails
        with Rollback(f"listener of {lb.id}") as undo:
            if old is not None:
                self._change(lb.id, "listener", self.client.load_balancer.delete_listener, old.id, ignore_missing=False)
                undo.push(f"listener {old.id}", lambda: self._listener(lb, old.protocol, old.protocol_port, pool.id))
            self._listener(lb, listener.protocol, listener.port, pool.id)
        return self.get(iid).listener

    def _listener(self, lb: Any, protocol: str, port: int, pool_id: str) -> Any:
        return self._change(
            lb.id,
            "listener",
            self.client.load_balancer.create_listener,
            name=lb.name,
            loadbalancer_id=lb.id,
            protocol=protocol,
            protocol_port=port,
            default_pool_id=pool_id,
        )

    def change_vm_group(self, iid: IID, vm_group: VMGroup) -> VMGroup:
        lb, listener, pool, members, _monitor = self._pool_of(iid.system_id)
        if vm_group.protocol != pool.protocol:
            # Octavia pairs TCP listeners with TCP pools and UDP with UDP, and a pool's protocol
            # is immutable: with mcinfra's TCP/UDP there is no other protocol the listener takes
            check_protocols(listener.protocol if listener is not None else vm_group.protocol, vm_group.protocol)
        current = self._info(lb)
        vms = [m.name for m in members]
        if members and members[0].protocol_port != vm_group.port:
            # member ports are immutable: members on the new port come first, then the old go
            with Rollback(f"members of {lb.id}") as undo:
                self._add_members(lb.id, pool.id, vms, vm_group.port, current.health_checker.port, undo)
            for m in members:
                self._change(
                    lb.id, "member", self.client.load_balancer.delete_member, m.id, pool.id, ignore_missing=False
                )
        self._change(
            lb.id,
            "pool",
            self.client.load_balancer.update_pool,
            pool.id,
            description=group_note(vm_group.port, current.health_checker.port),
        )
        return self.get(iid).vm_group

    def change_health_checker(self, iid: IID, health_checker: HealthChecker) -> HealthChecker:
        lb, _, pool, members, monitor = self._pool_of(iid.system_id)
        params = self._monitor_params(health_checker)
        if monitor is not None and monitor.type == params["type"]:
            kind = params.pop("type")
            self._change(lb.id, "health monitor", self.client.load_balancer.update_health_monitor, monitor.id, **params)
            params["type"] = kind
        else:
            if monitor is not None:
                self._change(
                    lb.id,
                    "health monitor",
                    self.client.load_balancer.delete_health_monitor,
                    monitor.id,
                    ignore_missing=False,
                )
            self._change(
                lb.id,
                "health monitor",
                self.client.load_balancer.create_health_monitor,
                pool_id=pool.id,
                name=lb.name,
                **params,
            )
        for m in members:
            wanted = health_checker.port if health_checker.port != m.protocol_port else None
            if m.monitor_port != wanted:
                self._change(
                    lb.id, "member", self.client.load_balancer.update_member, m.id, pool.id, monitor_port=wanted
                )
        note = GROUP_NOTE.search(pool.description or "")
        group_port = members[0].protocol_port if members else (int(note.group(1)) if note else health_checker.port)
        self._change(
            lb.id,
            "pool",
            self.client.load_balancer.update_pool,
            pool.id,
            description=group_note(group_port, health_checker.port),
        )
        return self.get(iid).health_checker
