"""Network load balancers: an NLB (2022-04-30) instance, one server group (the VM group, with its
health check inline) and one listener.

- An NLB needs vSwitches in at least two zones (``ZoneMappings``: 2 to 10). It gets one vSwitch
  per zone of its VPC; when the VPC spans one zone only, the handler makes a small vSwitch
  (``mcinfra-nlb-<name>``, the last free /28 of the VPC) in another zone of the region and
  deletes it with the NLB.
- Writes are asynchronous: each returns a ``JobId``, polled with ``GetJobStatus`` until
  ``Succeeded``; ``CreateLoadBalancer`` returns ``LoadbalancerId`` (sic) and the NLB is
  ``Provisioning`` until ``Active`` (``CreateFailed`` if it fails after acceptance).
- Alibaba has no VM-group port apart from each server's port: the listener's description keeps
  it (``mcinfra-vmport-<port>``) so an empty group still has one.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from mcinfra.core.errors import CloudError, InvalidRequest, NotFound
from mcinfra.core.handlers import NLBHandler
from mcinfra.core.models import IID, HealthChecker, HealthInfo, Listener, NLBInfo, NLBReq, VMGroup
from mcinfra.drivers.alibaba.client import NLB_VSWITCH_PREFIX, PROVIDER, AliClient
from mcinfra.drivers.kit import Rollback, describe_one

_VM_PORT = re.compile(r"mcinfra-vmport-(\d+)")


def helper_vswitch_name(lb_name: str) -> str:
    return (NLB_VSWITCH_PREFIX + lb_name)[:128]


def free_cidr(vpc_cidr: str, taken: list[str], prefix: int = 28, tries: int = 4096) -> str:
    """The last /28 of the VPC's block that overlaps no vSwitch (walking down from the top, so a
    /8 VPC costs no more than a /16 one)."""
    used = [ipaddress.ip_network(c) for c in taken]
    vpc = ipaddress.ip_network(vpc_cidr)
    size = 2 ** (32 - prefix)
    top = int(vpc.broadcast_address) + 1 - size
    for start in range(top, max(int(vpc.network_address), top - tries * size) - 1, -size):
        block = ipaddress.ip_network((start, prefix))
        if not any(block.overlaps(u) for u in used):
            return str(block)
    raise CloudError(PROVIDER, "NoFreeCidr", f"vpc {vpc_cidr} has no free /{prefix} for the NLB's second zone")


def health_config(hc: HealthChecker) -> dict[str, Any]:
    out: dict[str, Any] = {
        "health_check_enabled": True,
        "health_check_type": hc.protocol,
        "health_check_connect_port": hc.port,
        "health_check_interval": hc.interval,
        "health_check_connect_timeout": hc.timeout,
        "healthy_threshold": hc.threshold,
        "unhealthy_threshold": hc.threshold,
    }
    if hc.protocol == "HTTP":
        out.update(health_check_url="/", http_check_method="GET")
    return out


def l4(protocol: str | None) -> str:
    """mcinfra's protocol for an NLB one: TCPSSL (TLS ended at the NLB) is TCP at layer 4."""
    return "UDP" if (protocol or "").upper() == "UDP" else "TCP"


def health_of(members: list[str], body: Any) -> HealthInfo:
    """HealthInfo from a ``GetListenerHealthStatus`` answer. Only servers that are not healthy are
    listed (``NonNormalServers``); with health checks off (the published spelling is
    ``HeathCheckEnabled``) no member is known healthy."""
    bad: set[str] = set()
    for status in body.listener_health_status or []:
        for info in status.server_group_infos or []:
            if info.heath_check_enabled is False:
                bad.update(members)
            bad.update(s.server_id for s in info.non_normal_servers or [])
    return HealthInfo(
        all=members, healthy=[m for m in members if m not in bad], unhealthy=[m for m in members if m in bad]
    )


def check_health(hc: HealthChecker) -> None:
    """Alibaba's bounds (CreateServerGroup HealthCheckConfig), checked before any call."""
    for field, value, low, high in (
        ("interval", hc.interval, 1, 50),
        ("timeout", hc.timeout, 1, 300),
        ("threshold", hc.threshold, 2, 10),
    ):
        if not low <= value <= high:
            raise InvalidRequest(
                f"health checker {field} {value} is outside Alibaba NLB's {low}..{high}",
                field=f"health_checker.{field}",
            )


class AliNLBHandler(NLBHandler):
    def __init__(self, api: AliClient) -> None:
        self.api = api

    # ------------------------------------------------------------------ reads
    def _lb(self, lb_id: str) -> Any:
        return self.api.read("nlb", "GetLoadBalancerAttribute", region_id=self.api.region, load_balancer_id=lb_id)

    def _listener(self, lb_id: str) -> Any | None:
        found = list(
            self.api.token_pages(
                "nlb", "ListListeners", lambda b: b.listeners, region_id=self.api.region, load_balancer_ids=[lb_id]
            )
        )
        return found[0] if found else None

    def _group(self, lb: Any, listener: Any | None) -> Any | None:
        fields: dict[str, Any] = {"region_id": self.api.region}
        if listener is not None:
            fields["server_group_ids"] = [listener.server_group_id]
        else:
            fields["server_group_names"] = [lb.load_balancer_name]
        found = list(self.api.token_pages("nlb", "ListServerGroups", lambda b: b.server_groups, **fields))
        return found[0] if found else None

    def _servers(self, group_id: str) -> list[Any]:
        return list(
            self.api.token_pages(
                "nlb",
                "ListServerGroupServers",
                lambda b: b.servers,
                region_id=self.api.region,
                server_group_id=group_id,
            )
        )

    def _parts(self, lb_id: str) -> tuple[Any, Any, Any]:
        lb = self._lb(lb_id)
        listener = self._listener(lb_id)
        group = self._group(lb, listener)
        if listener is None or group is None:
            raise CloudError(PROVIDER, "IncompleteNLB", f"nlb {lb_id} has no mcinfra listener/server group")
        return lb, listener, group

    @staticmethod
    def _vm_port(listener: Any, servers: list[Any]) -> int:
        match = _VM_PORT.search(listener.listener_description or "")
        if match:
            return int(match.group(1))
        return servers[0].port if servers else listener.listener_port

    def _info(self, lb: Any, listener: Any, group: Any, servers: list[Any]) -> NLBInfo:
        addresses = [a for z in (lb.zone_mappings or []) for a in (z.load_balancer_addresses or [])]
        public = next((a.public_ipv_4address for a in addresses if a.public_ipv_4address), None)
        private = next((a.private_ipv_4address for a in addresses if a.private_ipv_4address), None)
        vm_port = self._vm_port(listener, servers)
        hc = group.health_check
        return NLBInfo(
            iid=IID(name_id=lb.load_balancer_name or lb.load_balancer_id, system_id=lb.load_balancer_id),
            vpc=lb.vpc_id or "",
            type="PUBLIC" if lb.address_type == "Internet" else "INTERNAL",
            listener=Listener(
                protocol=l4(listener.listener_protocol),
                port=listener.listener_port,
                ip=public or private,
                dns_name=lb.dnsname or None,
            ),
            vm_group=VMGroup(protocol=l4(group.protocol), port=vm_port, vms=[s.server_id for s in servers]),
            health_checker=HealthChecker(
                protocol=hc.health_check_type or "TCP",
                port=hc.health_check_connect_port or vm_port,
                interval=hc.health_check_interval,
                timeout=hc.health_check_connect_timeout,
                threshold=hc.healthy_threshold,
            ),
            extra={
                "status": lb.load_balancer_status,
                "listener_protocol": listener.listener_protocol,
                "listener_id": listener.listener_id,
                "server_group_id": group.server_group_id,
                "zones": [z.zone_id for z in lb.zone_mappings or []],
            },
        )

    def get(self, iid: IID) -> NLBInfo:
        lb, listener, group = self._parts(iid.system_id)
        return self._info(lb, listener, group, self._servers(group.server_group_id))

    def _all(self) -> list[Any]:
        return list(
            self.api.token_pages("nlb", "ListLoadBalancers", lambda b: b.load_balancers, region_id=self.api.region)
        )

    def list(self) -> list[NLBInfo]:
        out = []
        for lb in self._all():
            try:
                out.append(self.get(IID(name_id=lb.load_balancer_name, system_id=lb.load_balancer_id)))
            except NotFound:
                continue  # deleted since the listing
            except CloudError as exc:
                if exc.code != "IncompleteNLB":
                    raise
                # an NLB without one listener and server group (made elsewhere, or half-deleted)
                # has no mcinfra shape: list_iids still shows it
        return out

    def list_iids(self) -> list[IID]:
        return [
            IID(name_id=lb.load_balancer_name or lb.load_balancer_id, system_id=lb.load_balancer_id)
            for lb in self._all()
        ]

    # ------------------------------------------------------------------ create
    def _vswitch(self, vsw_id: str) -> Any | None:
        found = self.api.pages(
            "vpc", "DescribeVSwitches", lambda b: b.v_switches.v_switch, region_id=self.api.region, v_switch_id=vsw_id
        )
        return next((v for v in found if v.v_switch_id == vsw_id), None)

    def _zone_mappings(self, req: NLBReq, undo: Rollback) -> list[Any]:
        vpc = describe_one(
            self.api.pages("vpc", "DescribeVpcs", lambda b: b.vpcs.vpc, region_id=self.api.region, vpc_id=req.vpc),
            f"[{PROVIDER}] vpc {req.vpc}",
        )
        vswitches = list(
            self.api.pages(
                "vpc", "DescribeVSwitches", lambda b: b.v_switches.v_switch, region_id=self.api.region, vpc_id=req.vpc
            )
        )
        by_zone: dict[str, str] = {}
        for v in sorted(vswitches, key=lambda v: (v.zone_id != self.api.zone, v.creation_time or "")):
            by_zone.setdefault(v.zone_id, v.v_switch_id)
        if len(by_zone) < 2:
            zones = self.api.read("vpc", "DescribeZones", region_id=self.api.region).zones.zone or []
            other = next((z.zone_id for z in zones if z.zone_id not in by_zone), None)
            if other is None:
                raise InvalidRequest(
                    f"an Alibaba NLB needs two zones and region {self.api.region} has one", field="vpc"
                )
            name = helper_vswitch_name(req.name)
            vsw_id = self.api.call(
                "vpc",
                "CreateVSwitch",
                what=name,
                region_id=self.api.region,
                vpc_id=req.vpc,
                zone_id=other,
                v_switch_name=name,
                cidr_block=free_cidr(vpc.cidr_block, [v.cidr_block for v in vswitches]),
            ).v_switch_id
            undo.push(
                f"vswitch {vsw_id}",
                lambda: self.api.call("vpc", "DeleteVSwitch", region_id=self.api.region, v_switch_id=vsw_id),
            )
            # a Pending vSwitch cannot take an NLB yet (ResourceInConfiguring.VswitchId)
            self.api.wait(
                lambda: self._vswitch(vsw_id),
                lambda vsw: vsw is not None and vsw.status == "Available",
                timeout=self.api.options.async_timeout,
                what=f"vswitch {vsw_id}",
            )
            by_zone[other] = vsw_id
        return [
            self.api.model("nlb", "CreateLoadBalancerRequestZoneMappings", zone_id=z, v_switch_id=v)
            for z, v in list(by_zone.items())[:10]
        ]

    def _wait_active(self, lb_id: str) -> Any:
        lb = self.api.wait(
            lambda: self._lb(lb_id),
            lambda b: b.load_balancer_status != "Provisioning",
            timeout=self.api.options.async_timeout,
            what=f"nlb {lb_id} create",
        )
        if lb.load_balancer_status != "Active":
            raise CloudError(PROVIDER, "CreateFailed", f"nlb {lb_id} ended {lb.load_balancer_status} after creation")
        return lb

    def _servers_param(self, product_model: str, vms: list[str], port: int) -> list[Any]:
        return [self.api.model("nlb", product_model, server_id=vm, server_type="Ecs", port=port) for vm in vms]

    def _create_listener(
        self, lb_id: str, group_id: str, listener: Listener, vm_port: int, undo: Rollback | None = None
    ) -> str:
        def accepted(body: Any) -> None:
            if undo is not None:
                undo.push(f"listener {body.listener_id}", lambda: self._delete_listener(body.listener_id))

        return self.api.nlb_job(
            "CreateListener",
            what=lb_id,
            accepted=accepted,
            load_balancer_id=lb_id,
            server_group_id=group_id,
            listener_protocol=listener.protocol,
            listener_port=listener.port,
            listener_description=f"mcinfra-vmport-{vm_port}",
        ).listener_id

    def _new_group(
        self, vpc_id: str, name: str, protocol: str, checker: HealthChecker, members: list[tuple[str, int]]
    ) -> str:
        """A server group with its health check and members (VM id, port); all or nothing."""
        with Rollback(f"server group {name}") as undo:
            group_id = self.api.nlb_job(
                "CreateServerGroup",
                what=name,
                accepted=lambda body: undo.push(
                    f"server group {body.server_group_id}", lambda: self._delete_group(body.server_group_id)
                ),
                server_group_name=name,
                server_group_type="Instance",
                protocol=protocol,
                vpc_id=vpc_id,
                address_ipversion="ipv4",
                health_check_config=self.api.model(
                    "nlb", "CreateServerGroupRequestHealthCheckConfig", **health_config(checker)
                ),
            ).server_group_id
            if members:
                self.api.nlb_job(
                    "AddServersToServerGroup",
                    what=group_id,
                    server_group_id=group_id,
                    servers=[
                        self.api.model(
                            "nlb", "AddServersToServerGroupRequestServers", server_id=vm, server_type="Ecs", port=port
                        )
                        for vm, port in members
                    ],
                )
            return group_id

    @staticmethod
    def _checker(group: Any, vm_port: int) -> HealthChecker:
        hc = group.health_check
        return HealthChecker(
            protocol=hc.health_check_type or "TCP",
            port=hc.health_check_connect_port or vm_port,
            interval=hc.health_check_interval,
            timeout=hc.health_check_connect_timeout,
            threshold=hc.healthy_threshold,
        )

    def create(self, req: NLBReq) -> NLBInfo:
        check_health(req.health_checker)
        if req.listener.protocol != req.vm_group.protocol:
            raise InvalidRequest(
                "an Alibaba NLB listener forwards only to a server group of its own protocol "
                "(CreateListener: Mismatch.Protocol)",
                field="vm_group.protocol",
            )
        with Rollback(f"nlb {req.name}") as undo:
            mappings = self._zone_mappings(req, undo)
            lb_id = self.api.call(
                "nlb",
                "CreateLoadBalancer",
                what=req.name,
                region_id=self.api.region,
                load_balancer_type="Network",
                load_balancer_name=req.name,
                address_type="Internet" if req.type == "PUBLIC" else "Intranet",
                address_ip_version="ipv4",
                vpc_id=req.vpc,
                zone_mappings=mappings,
            ).loadbalancer_id
            undo.push(f"nlb {lb_id}", lambda: self._delete_lb(lb_id))
            self._wait_active(lb_id)
            group_id = self._new_group(
                req.vpc,
                req.name,
                req.vm_group.protocol,
                req.health_checker,
                [(vm, req.vm_group.port) for vm in req.vm_group.vms],
            )
            undo.push(f"server group {group_id}", lambda: self._delete_group(group_id))
            self._create_listener(lb_id, group_id, req.listener, req.vm_group.port, undo)
            return self.get(IID(name_id=req.name, system_id=lb_id))

    # ------------------------------------------------------------------ delete
    def _delete_lb(self, lb_id: str) -> None:
        self.api.nlb_job("DeleteLoadBalancer", what=lb_id, load_balancer_id=lb_id)

    def _delete_listener(self, listener_id: str) -> None:
        self.api.nlb_job("DeleteListener", what=listener_id, listener_id=listener_id)

    def _delete_group(self, group_id: str) -> None:
        self.api.nlb_job("DeleteServerGroup", what=group_id, server_group_id=group_id)

    def delete(self, iid: IID) -> None:
        lb = self._lb(iid.system_id)
        listener = self._listener(iid.system_id)
        group = self._group(lb, listener)
        self._delete_lb(iid.system_id)  # takes its listeners with it
        if group is not None:
            self._delete_group(group.server_group_id)
        helper = helper_vswitch_name(lb.load_balancer_name or "")
        for zone in lb.zone_mappings or []:
            vsw = self._vswitch(zone.v_switch_id)
            if vsw is not None and vsw.v_switch_name == helper:
                self.api.call(
                    "vpc", "DeleteVSwitch", what=helper, region_id=self.api.region, v_switch_id=zone.v_switch_id
                )

    # ------------------------------------------------------------------ members and health
    def add_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        _, listener, group = self._parts(iid.system_id)
        port = self._vm_port(listener, [])
        group_id = group.server_group_id
        with Rollback(f"nlb {iid.system_id} add vms") as undo:
            # a job that fails after acceptance may leave some added: take them out again
            self.api.nlb_job(
                "AddServersToServerGroup",
                what=group_id,
                server_group_id=group_id,
                servers=self._servers_param("AddServersToServerGroupRequestServers", vms, port),
                accepted=lambda _: undo.push("added servers", lambda: self._remove(group_id, vms, port)),
            )
        return self.get(iid).vm_group

    def _remove(self, group_id: str, vms: list[str], port: int) -> None:
        self.api.nlb_job(
            "RemoveServersFromServerGroup",
            what=group_id,
            server_group_id=group_id,
            servers=self._servers_param("RemoveServersFromServerGroupRequestServers", vms, port),
        )

    def remove_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        _, listener, group = self._parts(iid.system_id)
        servers = {s.server_id: s for s in self._servers(group.server_group_id)}
        params = [
            self.api.model(
                "nlb",
                "RemoveServersFromServerGroupRequestServers",
                server_id=vm,
                server_type="Ecs",
                port=servers[vm].port if vm in servers else self._vm_port(listener, []),
            )
            for vm in vms
        ]
        self.api.nlb_job(
            "RemoveServersFromServerGroup",
            what=group.server_group_id,
            server_group_id=group.server_group_id,
            servers=params,
        )
        return self.get(iid).vm_group

    def health(self, iid: IID) -> HealthInfo:
        _, listener, group = self._parts(iid.system_id)
        members = [s.server_id for s in self._servers(group.server_group_id)]
        body = self.api.read(
            "nlb", "GetListenerHealthStatus", region_id=self.api.region, listener_id=listener.listener_id
        )
        return health_of(members, body)

    # ------------------------------------------------------------------ changes
    def change_listener(self, iid: IID, listener: Listener) -> Listener:
        _, old, group = self._parts(iid.system_id)
        same_protocol = listener.protocol == l4(group.protocol)
        if same_protocol and listener.port == old.listener_port:
            return self.get(iid).listener
        servers = self._servers(group.server_group_id)
        vm_port = self._vm_port(old, servers)
        old_listener = Listener(protocol=l4(old.listener_protocol), port=old.listener_port)
        with Rollback(f"nlb {iid.system_id} listener") as undo:
            target = group.server_group_id
            if not same_protocol:
                # a server group cannot change protocol and must match its listener's
                # (Mismatch.Protocol): a new group with the same members and check takes over
                target = self._new_group(
                    group.vpc_id,
                    group.server_group_name,
                    listener.protocol,
                    self._checker(group, vm_port),
                    [(s.server_id, s.port) for s in servers],
                )
                undo.push(f"server group {target}", lambda: self._delete_group(target))
            # UpdateListenerAttribute can change neither port nor protocol: replace the listener
            self._delete_listener(old.listener_id)
            undo.push(
                "listener", lambda: self._create_listener(iid.system_id, group.server_group_id, old_listener, vm_port)
            )
            self._create_listener(iid.system_id, target, listener, vm_port, undo)
        if not same_protocol:
            self._delete_group(group.server_group_id)
        return self.get(iid).listener

    def change_vm_group(self, iid: IID, vm_group: VMGroup) -> VMGroup:
        _, listener, group = self._parts(iid.system_id)
        if vm_group.protocol != group.protocol:
            raise InvalidRequest(
                "Alibaba NLB server groups cannot change protocol (UpdateServerGroupAttribute has "
                "no Protocol) and must match the listener's",
                field="vm_group.protocol",
            )
        servers = self._servers(group.server_group_id)
        old_port = self._vm_port(listener, servers)
        if vm_group.port != old_port:
            # a server's port is part of its identity: re-add each member on the new port
            vms = [s.server_id for s in servers]
            if vms:
                self.api.nlb_job(
                    "RemoveServersFromServerGroup",
                    what=group.server_group_id,
                    server_group_id=group.server_group_id,
                    servers=[
                        self.api.model(
                            "nlb",
                            "RemoveServersFromServerGroupRequestServers",
                            server_id=s.server_id,
                            server_type="Ecs",
                            port=s.port,
                        )
                        for s in servers
                    ],
                )
                self.api.nlb_job(
                    "AddServersToServerGroup",
                    what=group.server_group_id,
                    server_group_id=group.server_group_id,
                    servers=self._servers_param("AddServersToServerGroupRequestServers", vms, vm_group.port),
                )
            self.api.nlb_job(
                "UpdateListenerAttribute",
                what=listener.listener_id,
                listener_id=listener.listener_id,
                listener_description=f"mcinfra-vmport-{vm_group.port}",
            )
        return self.get(iid).vm_group

    def change_health_checker(self, iid: IID, health_checker: HealthChecker) -> HealthChecker:
        check_health(health_checker)
        _, _, group = self._parts(iid.system_id)
        self.api.nlb_job(
            "UpdateServerGroupAttribute",
            what=group.server_group_id,
            server_group_id=group.server_group_id,
            health_check_config=self.api.model(
                "nlb", "UpdateServerGroupAttributeRequestHealthCheckConfig", **health_config(health_checker)
            ),
        )
        return self.get(iid).health_checker
