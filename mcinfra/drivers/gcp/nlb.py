"""NLB = an external (or internal) passthrough network load balancer, all named after the NLB:

- a regional health check (TCP or HTTP) = the health checker;
- one unmanaged instance group per zone holding the VM group's VMs;
- a regional backend service (TCP/UDP) over those groups = the VM group
  (its port, which a passthrough NLB does not translate, is kept in the description);
- a forwarding rule = the listener (protocol, port, address).

The NLB's system id is its name; its forwarding rule is how it is found.
"""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InvalidRequest, NotFound
from mcinfra.core.handlers import NLBHandler
from mcinfra.core.models import IID, HealthChecker, HealthInfo, Listener, NLBInfo, NLBReq, VMGroup
from mcinfra.drivers.gcp.client import GcpClient, check_name, last
from mcinfra.drivers.gcp.vm import GcpVMHandler, _created
from mcinfra.drivers.kit import Rollback

MARK = "mcinfra-nlb"


def _desc_value(description: str, key: str) -> str | None:
    for part in (description or "").split():
        if part.startswith(key + "="):
            return part.split("=", 1)[1]
    return None


class GcpNLBHandler(NLBHandler):
    def __init__(self, api: GcpClient, vms: GcpVMHandler) -> None:
        self.api = api
        self.vms = vms

    # ------------------------------------------------------------------ links and parts
    def _hc_link(self, name: str) -> str:
        return f"projects/{self.api.project}/regions/{self.api.region}/healthChecks/{name}"

    def _bs_link(self, name: str) -> str:
        return f"projects/{self.api.project}/regions/{self.api.region}/backendServices/{name}"

    def _ig_link(self, zone: str, name: str) -> str:
        return f"projects/{self.api.project}/zones/{zone}/instanceGroups/{name}"

    def _regional(self, client: str, method: str, **kw: Any) -> Any:
        api = self.api
        call = api.mutate if method.endswith("_unary") else api.call
        extra = {} if method.endswith("_unary") else {"idempotent": True}
        return call(client, method, project=api.project, region=api.region, **extra, **kw)

    def _health_check(self, name: str, hc: HealthChecker) -> Any:
        compute = self.api.compute
        out = compute.HealthCheck(
            name=name,
            type_=hc.protocol,
            check_interval_sec=hc.interval,
            timeout_sec=hc.timeout,
            healthy_threshold=hc.threshold,
            unhealthy_threshold=hc.threshold,
            description=MARK,
        )
        if hc.protocol == "HTTP":
            out.http_health_check = compute.HTTPHealthCheck(port=hc.port, request_path="/")
        else:
            out.tcp_health_check = compute.TCPHealthCheck(port=hc.port)
        return out

    def _forwarding_rule(self, name: str, listener: Listener, scheme: str, vpc: str, subnet: str | None) -> Any:
        compute = self.api.compute
        fr = compute.ForwardingRule(
            name=name,
            I_p_protocol=listener.protocol,
            ports=[str(listener.port)],
            backend_service=self._bs_link(name),
            load_balancing_scheme=scheme,
            description=MARK,
        )
        if listener.ip:
            fr.I_p_address = listener.ip
        if scheme == "INTERNAL":
            fr.network = self.api.network_link(vpc)
            if subnet:
                fr.subnetwork = self.api.subnet_link(subnet)
        return fr

    def _zones_of(self, vms: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for vm in vms:
            out.setdefault(self.vms.zone_of(vm), []).append(vm)
        return out

    def _members(self, zone: str, name: str) -> list[str]:
        api = self.api
        req = api.compute.InstanceGroupsListInstancesRequest(instance_state="ALL")
        items = api.call(
            "InstanceGroupsClient",
            "list_instances",
            idempotent=True,
            project=api.project,
            zone=zone,
            instance_group=name,
            instance_groups_list_instances_request_resource=req,
        )
        return [last(i.instance) for i in items]

    def _change_members(self, zone: str, name: str, vms: list[str], *, add: bool) -> None:
        api = self.api
        verb, request = ("add", api.compute.InstanceGroupsAddInstancesRequest) if add else \
            ("remove", api.compute.InstanceGroupsRemoveInstancesRequest)
        body = request(instances=[api.compute.InstanceReference(instance=api.instance_link(zone, vm)) for vm in vms])
        api.mutate(
            "InstanceGroupsClient",
            f"{verb}_instances_unary",
            project=api.project,
            zone=zone,
            instance_group=name,
            **{f"instance_groups_{verb}_instances_request_resource": body},
        )

    def _insert_group(self, zone: str, name: str, vpc: str) -> None:
        api = self.api
        group = api.compute.InstanceGroup(name=name, network=api.network_link(vpc), description=MARK)
        api.mutate(
            "InstanceGroupsClient",
            "insert_unary",
            project=api.project,
            zone=zone,
            instance_group_resource=group,
        )

    def _backend(self, zone: str, name: str) -> Any:
        return self.api.compute.Backend(group=self._ig_link(zone, name), balancing_mode="CONNECTION")

    def _parts(self, name: str) -> tuple[Any, Any, Any]:
        fr = self._regional("ForwardingRulesClient", "get", forwarding_rule=name)
        bs = self._regional("RegionBackendServicesClient", "get", backend_service=last(fr.backend_service))
        hc = self._regional("RegionHealthChecksClient", "get", health_check=last(bs.health_checks[0]))
        return fr, bs, hc

    @staticmethod
    def _groups(bs: Any) -> list[tuple[str, str]]:
        """(zone, group name) of each backend."""
        out = []
        for b in bs.backends:
            parts = b.group.split("/")
            out.append((parts[parts.index("zones") + 1], parts[-1]))
        return out

    def _vm_group(self, bs: Any, listener_port: int | None = None) -> VMGroup:
        vms = [vm for zone, g in self._groups(bs) for vm in self._members(zone, g)]
        # A backend service made outside mcinfra has no recorded port: a passthrough NLB
        # delivers on the listener's port.
        port = int(_desc_value(bs.description, "vm_group_port") or 0) or listener_port or 1
        return VMGroup(protocol=bs.protocol, port=port, vms=vms)

    @staticmethod
    def _checker(hc: Any) -> HealthChecker:
        port = hc.http_health_check.port if hc.type_ == "HTTP" else hc.tcp_health_check.port
        return HealthChecker(
            protocol=hc.type_,
            port=port,
            interval=hc.check_interval_sec,
            timeout=hc.timeout_sec,
            threshold=hc.healthy_threshold,
        )

    def _info(self, fr: Any, bs: Any, hc: Any) -> NLBInfo:
        return NLBInfo(
            iid=IID(name_id=fr.name, system_id=fr.name),
            vpc=_desc_value(bs.description, "vpc") or "",
            type="INTERNAL" if fr.load_balancing_scheme == "INTERNAL" else "PUBLIC",
            scope="REGION",
            listener=Listener(protocol=fr.I_p_protocol, port=int(fr.ports[0]) if fr.ports else 1, ip=fr.I_p_address),
            vm_group=self._vm_group(bs, int(fr.ports[0]) if fr.ports else None),
            health_checker=self._checker(hc),
            created_at=_created(fr.creation_timestamp),
            extra={
                "region": self.api.region,
                "backend_service": bs.name,
                "health_check": hc.name,
                "instance_groups": [f"{z}/{g}" for z, g in self._groups(bs)],
            },
        )

    def _first_subnet(self, vpc: str) -> str:
        api = self.api
        names = sorted(sn.name for sn in api.call("SubnetworksClient", "list", idempotent=True, project=api.project,
                                                  region=api.region) if last(sn.network) == vpc)
        if not names:
            raise InvalidRequest(f"an INTERNAL NLB needs a subnet of VPC {vpc} in {api.region}", field="vpc")
        return names[0]

    # ------------------------------------------------------------------ NLBHandler
    def create(self, req: NLBReq) -> NLBInfo:
        check_name(req.name, "NLB")
        hc = req.health_checker
        if hc.timeout > hc.interval:
            raise InvalidRequest("gcp health checks need timeout <= interval", field="health_checker")
        api, name = self.api, req.name
        scheme = "INTERNAL" if req.type == "INTERNAL" else "EXTERNAL"
        api.call("NetworksClient", "get", idempotent=True, project=api.project, network=req.vpc)
        by_zone = self._zones_of(req.vm_group.vms) or {api.zone: []}
        subnet = None
        if scheme == "INTERNAL":  # custom-mode networks need the rule's subnetwork (ForwardingRule.subnetwork)
            subnet = (self.vms.get(IID(name_id=req.vm_group.vms[0], system_id=req.vm_group.vms[0])).subnet
                      if req.vm_group.vms else self._first_subnet(req.vpc))
        with Rollback(f"NLB {name!r}") as undo:
            self._regional(
                "RegionHealthChecksClient", "insert_unary", health_check_resource=self._health_check(name, hc)
            )
            undo.push(
                "health check", lambda: self._regional("RegionHealthChecksClient", "delete_unary", health_check=name)
            )
            for zone, vms in by_zone.items():
                self._insert_group(zone, name, req.vpc)
                undo.push(
                    f"instance group in {zone}",
                    lambda z=zone: api.mutate(
                        "InstanceGroupsClient", "delete_unary", project=api.project, zone=z, instance_group=name
                    )
                )
                if vms:
                    self._change_members(zone, name, vms, add=True)
            bs = api.compute.BackendService(
                name=name,
                protocol=req.vm_group.protocol,
                load_balancing_scheme=scheme,
                health_checks=[self._hc_link(name)],
                backends=[self._backend(z, name) for z in by_zone],
                description=f"{MARK} vm_group_port={req.vm_group.port} vpc={req.vpc}",
            )
            if scheme == "INTERNAL":
                bs.network = api.network_link(req.vpc)
            self._regional("RegionBackendServicesClient", "insert_unary", backend_service_resource=bs)
            undo.push(
                "backend service",
                lambda: self._regional("RegionBackendServicesClient", "delete_unary", backend_service=name),
            )
            fr = self._forwarding_rule(name, req.listener, scheme, req.vpc, subnet)
            self._regional("ForwardingRulesClient", "insert_unary", forwarding_rule_resource=fr)
        return self.get(IID(name_id=name, system_id=name))

    def get(self, iid: IID) -> NLBInfo:
        return self._info(*self._parts(iid.system_id))

    def list(self) -> list[NLBInfo]:
        rules = self._regional("ForwardingRulesClient", "list")
        out = []
        for fr in rules:
            if fr.description == MARK:
                try:
                    out.append(self._info(*self._parts(fr.name)))
                except NotFound:
                    continue  # being deleted right now
        return out

    def list_iids(self) -> list[IID]:
        rules = self._regional("ForwardingRulesClient", "list")
        return [IID(name_id=fr.name, system_id=fr.name) for fr in rules if fr.description == MARK]

    def delete(self, iid: IID) -> None:
        api = self.api
        fr, bs, hc = self._parts(iid.system_id)
        self._regional("ForwardingRulesClient", "delete_unary", forwarding_rule=fr.name)
        self._regional("RegionBackendServicesClient", "delete_unary", backend_service=bs.name)
        self._regional("RegionHealthChecksClient", "delete_unary", health_check=hc.name)
        for zone, group in self._groups(bs):
            api.mutate("InstanceGroupsClient", "delete_unary", project=api.project, zone=zone, instance_group=group)

    def add_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        api = self.api
        _fr, bs, _ = self._parts(iid.system_id)
        groups = dict(self._groups(bs))
        vpc = _desc_value(bs.description, "vpc") or ""
        new_backends = []
        for zone, names in self._zones_of(vms).items():
            if zone not in groups:
                self._insert_group(zone, bs.name, vpc)
                groups[zone] = bs.name
                new_backends.append(self._backend(zone, bs.name))
            have = set(self._members(zone, groups[zone]))
            todo = [n for n in names if n not in have]
            if todo:
                self._change_members(zone, groups[zone], todo, add=True)
        if new_backends:
            patch = api.compute.BackendService(backends=[*bs.backends, *new_backends])
            self._regional(
                "RegionBackendServicesClient",
                "patch_unary",
                backend_service=bs.name,
                backend_service_resource=patch,
            )
            bs = self._regional("RegionBackendServicesClient", "get", backend_service=bs.name)
        return self._vm_group(bs)

    def remove_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        _, bs, _ = self._parts(iid.system_id)
        members = {zone: (g, self._members(zone, g)) for zone, g in self._groups(bs)}
        by_group: dict[tuple[str, str], list[str]] = {}
        for vm in vms:
            where = next(((z, g) for z, (g, m) in members.items() if vm in m), None)
            if where is None:
                raise NotFound(f"VM {vm!r} is not in NLB {iid.system_id!r}'s VM group")
            by_group.setdefault(where, []).append(vm)
        for (zone, group), names in by_group.items():
            self._change_members(zone, group, names, add=False)
        return self._vm_group(bs)

    def health(self, iid: IID) -> HealthInfo:
        api = self.api
        _, bs, _ = self._parts(iid.system_id)
        every, healthy = [], []
        for zone, group in self._groups(bs):
            members = self._members(zone, group)
            every.extend(members)
            if not members:
                continue
            ref = api.compute.ResourceGroupReference(group=self._ig_link(zone, group))
            res = self._regional(
                "RegionBackendServicesClient",
                "get_health",
                backend_service=bs.name,
                resource_group_reference_resource=ref,
            )
            healthy.extend(last(h.instance) for h in res.health_status if h.health_state == "HEALTHY")
        return HealthInfo(
            all=every,
            healthy=[v for v in every if v in healthy],
            unhealthy=[v for v in every if v not in healthy],
        )

    def change_listener(self, iid: IID, listener: Listener) -> Listener:
        fr, bs, _ = self._parts(iid.system_id)
        old = Listener(protocol=fr.I_p_protocol, port=int(fr.ports[0]), ip=fr.I_p_address)
        scheme = fr.load_balancing_scheme
        vpc = _desc_value(bs.description, "vpc") or ""
        subnet = last(fr.subnetwork) or None
        # Forwarding rules cannot change protocol or ports in place: replace it, keeping its address.
        new = listener if listener.ip else Listener(protocol=listener.protocol, port=listener.port, ip=old.ip)
        self._regional("ForwardingRulesClient", "delete_unary", forwarding_rule=fr.name)
        with Rollback(f"NLB {iid.system_id!r} listener") as undo:
            undo.push(
                "old forwarding rule",
                lambda: self._regional(
                    "ForwardingRulesClient",
                    "insert_unary",
                    forwarding_rule_resource=self._forwarding_rule(fr.name, old, scheme, vpc, subnet),
                ),
            )
            self._regional(
                "ForwardingRulesClient",
                "insert_unary",
                forwarding_rule_resource=self._forwarding_rule(fr.name, new, scheme, vpc, subnet),
            )
        return self.get(iid).listener

    def change_vm_group(self, iid: IID, vm_group: VMGroup) -> VMGroup:
        api = self.api
        _, bs, _ = self._parts(iid.system_id)
        vpc = _desc_value(bs.description, "vpc") or ""
        patch = api.compute.BackendService(
            protocol=vm_group.protocol, description=f"{MARK} vm_group_port={vm_group.port} vpc={vpc}"
        )
        self._regional(
            "RegionBackendServicesClient",
            "patch_unary",
            backend_service=bs.name,
            backend_service_resource=patch,
        )
        return self.get(iid).vm_group

    def change_health_checker(self, iid: IID, health_checker: HealthChecker) -> HealthChecker:
        if health_checker.timeout > health_checker.interval:
            raise InvalidRequest("gcp health checks need timeout <= interval", field="health_checker")
        _, _, hc = self._parts(iid.system_id)
        self._regional(
            "RegionHealthChecksClient",
            "update_unary",
            health_check=hc.name,
            health_check_resource=self._health_check(hc.name, health_checker),
        )
        return self.get(iid).health_checker
