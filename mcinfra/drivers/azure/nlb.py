"""NLB = Standard load balancer: one frontend IP configuration (a Standard static public IP for
PUBLIC, a private address in the VPC's first subnet for INTERNAL), one backend pool (the VM
group, joined through each VM's NIC IP configuration), one probe (the health checker) and one
load-balancing rule (the listener). Azure's rule has one protocol for both sides, so the
listener's and the VM group's protocols must match. Azure probes have no timeout setting
(a probe times out at its interval): the requested timeout is kept in the ``mcinfra-hc-timeout``
tag and reported back. ``health()`` asks Azure for the rule's per-backend probe state
(``loadBalancingRules/{rule}/health``); a member the answer leaves out counts as unhealthy.
"""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import AlreadyExists, InvalidRequest, NotFound
from mcinfra.core.handlers import NLBHandler
from mcinfra.core.models import IID, HealthChecker, HealthInfo, Listener, NLBInfo, NLBReq, VMGroup
from mcinfra.drivers.azure.client import AzureClient, same_id, split_id, text
from mcinfra.drivers.azure.names import check_name
from mcinfra.drivers.azure.vm import AzureVMHandler
from mcinfra.drivers.kit import Rollback

TAG_VPC, TAG_TIMEOUT = "mcinfra-vpc", "mcinfra-hc-timeout"
FRONTEND, POOL, PROBE, RULE = "frontend", "vm-group", "health-checker", "listener"
PROTOCOL = {"TCP": "Tcp", "UDP": "Udp"}


class AzureNLBHandler(NLBHandler):
    def __init__(self, api: AzureClient, vms: AzureVMHandler) -> None:
        self.api = api
        self.vms = vms

    # ------------------------------------------------------------------ lookups
    def find(self, system_id: str) -> Any:
        group, name = split_id(system_id, self.api.group)
        return self.api.call("network", "load_balancers.get", group, name, idempotent=True)

    def _pool(self, lb: Any) -> Any:
        pool = next((p for p in lb.backend_address_pools or [] if p.name == POOL), None)
        if pool is None:
            raise NotFound(f"load balancer {lb.name!r} has no backend pool {POOL!r} (not made by mcinfra?)")
        return pool

    def _rule(self, lb: Any) -> Any:
        rule = next((r for r in lb.load_balancing_rules or [] if r.name == RULE), None)
        if rule is None:
            raise NotFound(f"load balancer {lb.name!r} has no rule {RULE!r} (not made by mcinfra?)")
        return rule

    def _probe(self, lb: Any) -> Any:
        return next((p for p in lb.probes or [] if p.name == PROBE), None)

    def _nic(self, nic_id: str) -> Any:
        group, name = split_id(nic_id, self.api.group)
        return self.api.call("network", "network_interfaces.get", group, name, idempotent=True)

    def members(self, lb: Any) -> dict[str, str]:
        """IP configuration id -> VM id of the backend pool's members."""
        out = {}
        for ref in self._pool(lb).backend_ip_configurations or []:
            nic = self._nic(ref.id.split("/ipConfigurations/")[0])
            if nic.virtual_machine is not None:
                out[ref.id.lower()] = nic.virtual_machine.id
        return out

    def info(self, lb: Any) -> NLBInfo:
        tags = lb.tags or {}
        fe = (lb.frontend_ip_configurations or [None])[0]
        public = fe is not None and fe.public_ip_address is not None
        ip = self.vms.public_ip(fe.public_ip_address.id) if public else (fe.private_ip_address if fe else None)
        rule = self._rule(lb)
        protocol = text(rule.protocol).upper()
        probe = self._probe(lb)
        hc_protocol = text(probe.protocol).upper() if probe is not None else "TCP"
        interval = probe.interval_in_seconds if probe is not None else 5
        timeout = int(tags.get(TAG_TIMEOUT) or interval or 5)
        return NLBInfo(
            iid=IID(name_id=lb.name, system_id=lb.id),
            vpc=tags.get(TAG_VPC, ""),
            type="PUBLIC" if public else "INTERNAL",
            listener=Listener(protocol=protocol, port=rule.frontend_port, ip=ip),
            vm_group=VMGroup(protocol=protocol, port=rule.backend_port, vms=sorted(self.members(lb).values())),
            health_checker=HealthChecker(protocol="HTTP" if hc_protocol.startswith("HTTP") else "TCP",
                                         port=probe.port if probe is not None else rule.backend_port,
                                         interval=interval, timeout=timeout,
                                         threshold=(probe.probe_threshold or probe.number_of_probes or 1)
                                         if probe is not None else 1),
            extra={"sku": text(lb.sku.name) if lb.sku else "", "location": lb.location,
                   "provisioning_state": text(lb.provisioning_state)},
        )

    # ------------------------------------------------------------------ bodies
    def _ids(self, name: str) -> dict[str, str]:
        lb_id = self.api.rid("Microsoft.Network/loadBalancers", name)
        return {"frontend": f"{lb_id}/frontendIPConfigurations/{FRONTEND}",
                "pool": f"{lb_id}/backendAddressPools/{POOL}", "probe": f"{lb_id}/probes/{PROBE}"}

    @staticmethod
    def _probe_body(hc: HealthChecker) -> Any:
        from azure.mgmt.network.models import Probe

        return Probe(name=PROBE, protocol="Http" if hc.protocol == "HTTP" else "Tcp", port=hc.port,
                     request_path="/" if hc.protocol == "HTTP" else None, interval_in_seconds=hc.interval,
                     number_of_probes=hc.threshold, probe_threshold=hc.threshold)

    def _put(self, group: str, lb: Any) -> Any:
        return self.api.run("network", "load_balancers.begin_create_or_update", group, lb.name, lb, idempotent=True)

    # ------------------------------------------------------------------ create / delete
    def create(self, req: NLBReq) -> NLBInfo:
        from azure.mgmt.network import models as nm

        check_name(req.name, "nlb")
        if req.listener.protocol != req.vm_group.protocol:
            raise InvalidRequest("an Azure load-balancing rule has one protocol: the listener's and the VM "
                                 "group's must match", field="vm_group")
        self.api.ensure_group()
        group = self.api.group
        vgroup, vnet_name = split_id(req.vpc, group)
        vnet = self.api.call("network", "virtual_networks.get", vgroup, vnet_name, idempotent=True)
        nics = self.vms.nic_ids(req.vm_group.vms)  # NotFound for an unknown VM, before anything is made
        try:
            self.find(req.name)
            raise AlreadyExists(f"load balancer {req.name!r} already exists in {group!r}")
        except NotFound:
            pass
        ids = self._ids(req.name)
        pip_name = f"{req.name}-pip"
        with Rollback(f"nlb {req.name}") as undo:
            if req.type == "PUBLIC":
                pip = self.api.run("network", "public_ip_addresses.begin_create_or_update", group, pip_name,
                                 nm.PublicIPAddress(location=self.api.location,
                                                    sku=nm.PublicIPAddressSku(name="Standard"),
                                                    public_ip_allocation_method="Static", tags={"mcinfra": "true"}),
                                 idempotent=True)
                undo.push("NLB public IP", lambda: self.vms._delete("network", "public_ip_addresses", group, pip_name))
                frontend = nm.FrontendIPConfiguration(name=FRONTEND, public_ip_address=nm.PublicIPAddress(id=pip.id))
            else:
                if not vnet.subnets:
                    raise InvalidRequest(f"VPC {vnet.name!r} has no subnet for an INTERNAL NLB", field="vpc")
                frontend = nm.FrontendIPConfiguration(name=FRONTEND, subnet=nm.Subnet(id=vnet.subnets[0].id),
                                                      private_ip_allocation_method="Dynamic")
            body = nm.LoadBalancer(
                location=self.api.location, sku=nm.LoadBalancerSku(name="Standard"),
                tags={"mcinfra": "true", TAG_VPC: req.vpc, TAG_TIMEOUT: str(req.health_checker.timeout)},
                frontend_ip_configurations=[frontend],
                backend_address_pools=[nm.BackendAddressPool(name=POOL)],
                probes=[self._probe_body(req.health_checker)],
                load_balancing_rules=[nm.LoadBalancingRule(
                    name=RULE, protocol=PROTOCOL[req.listener.protocol], frontend_port=req.listener.port,
                    backend_port=req.vm_group.port, idle_timeout_in_minutes=4, enable_floating_ip=False,
                    disable_outbound_snat=False,
                    frontend_ip_configuration=nm.SubResource(id=ids["frontend"]),
                    backend_address_pool=nm.SubResource(id=ids["pool"]),
                    probe=nm.SubResource(id=ids["probe"]))])
            poller = self.api.call("network", "load_balancers.begin_create_or_update", group, req.name, body,
                                 idempotent=True)
            undo.push("NLB", lambda: self.vms._delete("network", "load_balancers", group, req.name))
            lb = self.api.wait(poller, "load_balancers.begin_create_or_update",
                               self.api.resumer("network", "load_balancers.begin_create_or_update", group, req.name,
                                                body))
            self._join(lb, list(nics.values()), undo)
            return self.info(self.find(lb.id))

    def _join(self, lb: Any, nics: list[Any], undo: Rollback) -> None:
        from azure.mgmt.network.models import BackendAddressPool

        pool_id = self._pool(lb).id
        for nic in nics:
            ipc = nic.ip_configurations[0]
            ipc.load_balancer_backend_address_pools = [*(ipc.load_balancer_backend_address_pools or []),
                                                       BackendAddressPool(id=pool_id)]
            self._put_nic(nic)
            undo.push(f"pool membership of {nic.name}", lambda n=nic: self._leave(n.id, pool_id))

    def _put_nic(self, nic: Any) -> Any:
        group, _ = split_id(nic.id, self.api.group)
        return self.api.run("network", "network_interfaces.begin_create_or_update", group, nic.name, nic,
                          idempotent=True)

    def _leave(self, nic_id: str, pool_id: str) -> None:
        nic = self._nic(nic_id)
        for ipc in nic.ip_configurations or []:
            ipc.load_balancer_backend_address_pools = [
                p for p in ipc.load_balancer_backend_address_pools or [] if not same_id(p.id, pool_id)]
        self._put_nic(nic)

    def get(self, iid: IID) -> NLBInfo:
        return self.info(self.find(iid.system_id))

    def list(self) -> list[NLBInfo]:
        self.api.ensure_group()
        lbs = self.api.call("network", "load_balancers.list", self.api.group, idempotent=True)
        return [self.info(lb) for lb in lbs]

    def list_iids(self) -> list[IID]:
        self.api.ensure_group()
        lbs = self.api.call("network", "load_balancers.list", self.api.group, idempotent=True)
        return [IID(name_id=lb.name, system_id=lb.id) for lb in lbs]

    def delete(self, iid: IID) -> None:
        lb = self.find(iid.system_id)
        group, _ = split_id(lb.id, self.api.group)
        pool = next((p for p in lb.backend_address_pools or [] if p.name == POOL), None)
        for ref in (pool.backend_ip_configurations or []) if pool is not None else []:
            self._leave(ref.id.split("/ipConfigurations/")[0], pool.id)
        pips = [fe.public_ip_address.id for fe in lb.frontend_ip_configurations or [] if fe.public_ip_address]
        self.api.run("network", "load_balancers.begin_delete", group, lb.name, idempotent=True)
        for pip_id in pips:
            self.vms._delete_if_there("network", "public_ip_addresses", pip_id)

    # ------------------------------------------------------------------ members and health
    def add_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        lb = self.find(iid.system_id)
        members = {v.lower() for v in self.members(lb).values()}
        there = [v for v in vms if v.lower() in members]
        if there:
            raise AlreadyExists(f"load balancer {lb.name!r} already has {', '.join(there)}")
        nics = self.vms.nic_ids(vms)
        with Rollback(f"nlb {lb.name} members") as undo:
            self._join(lb, list(nics.values()), undo)
        return self.info(self.find(lb.id)).vm_group

    def remove_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        lb = self.find(iid.system_id)
        members = self.members(lb)
        by_vm = {vm.lower(): ipc for ipc, vm in members.items()}
        absent = [v for v in vms if v.lower() not in by_vm]
        if absent:
            raise NotFound(f"load balancer {lb.name!r} has no member {', '.join(absent)}")
        pool_id = self._pool(lb).id
        for v in vms:
            self._leave(by_vm[v.lower()].split("/ipconfigurations/")[0], pool_id)
        return self.info(self.find(lb.id)).vm_group

    def health(self, iid: IID) -> HealthInfo:
        lb = self.find(iid.system_id)
        group, _ = split_id(lb.id, self.api.group)
        members = self.members(lb)
        result = self.api.run("network", "load_balancer_load_balancing_rules.begin_health", group, lb.name, RULE,
                            idempotent=True)
        up = set()
        for addr in (result.load_balancer_backend_addresses or []) if result is not None else []:
            ref = addr.network_interface_ip_configuration_id
            # api 2026-03-01 answers the IP configuration's id; older versions an object holding it
            ref_id = ref if isinstance(ref, str) else ref.get("id") if hasattr(ref, "get") else None
            vm = members.get(str(ref_id).lower()) if ref_id else None
            if vm and text(addr.state).lower() == "up":
                up.add(vm)
        every = sorted(members.values())
        return HealthInfo(all=every, healthy=[v for v in every if v in up], unhealthy=[v for v in every if v not in up])

    # ------------------------------------------------------------------ changes
    def change_listener(self, iid: IID, listener: Listener) -> Listener:
        lb = self.find(iid.system_id)
        rule = self._rule(lb)
        rule.protocol, rule.frontend_port = PROTOCOL[listener.protocol], listener.port
        group, _ = split_id(lb.id, self.api.group)
        return self.info(self._put(group, lb)).listener

    def change_vm_group(self, iid: IID, vm_group: VMGroup) -> VMGroup:
        lb = self.find(iid.system_id)
        rule = self._rule(lb)
        if PROTOCOL[vm_group.protocol] != text(rule.protocol):
            raise InvalidRequest("an Azure load-balancing rule has one protocol: change the listener's",
                                 field="vm_group")
        rule.backend_port = vm_group.port
        group, _ = split_id(lb.id, self.api.group)
        return self.info(self._put(group, lb)).vm_group

    def change_health_checker(self, iid: IID, health_checker: HealthChecker) -> HealthChecker:
        lb = self.find(iid.system_id)
        lb.probes = [self._probe_body(health_checker)]
        lb.tags = {**(lb.tags or {}), TAG_TIMEOUT: str(health_checker.timeout)}
        group, _ = split_id(lb.id, self.api.group)
        return self.info(self._put(group, lb)).health_checker
