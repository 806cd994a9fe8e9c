"""VPC = a custom-mode network; subnets = regional subnetworks of the connection's region.

GCP networks have no CIDR and subnetworks no zone, so both are kept in the resources'
descriptions (``mcinfra:cidr=...`` / ``mcinfra:zone=...``) and read back from there.
"""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InUse, InvalidRequest, NotFound
from mcinfra.core.handlers import VPCHandler
from mcinfra.core.models import IID, SubnetInfo, SubnetReq, VPCInfo, VPCReq, check_subnets_fit
from mcinfra.drivers.gcp.client import GcpClient, check_name, last
from mcinfra.drivers.kit import Rollback

CIDR_TAG = "mcinfra:cidr="
ZONE_TAG = "mcinfra:zone="


def _tag(description: str, key: str) -> str | None:
    for part in (description or "").split():
        if part.startswith(key):
            return part[len(key) :] or None
    return None


class GcpVPCHandler(VPCHandler):
    def __init__(self, api: GcpClient) -> None:
        self.api = api

    # ------------------------------------------------------------------ helpers
    def _subnets_of(self, network_name: str) -> list[Any]:
        api = self.api
        items = api.call("SubnetworksClient", "list", idempotent=True, project=api.project, region=api.region)
        return [sn for sn in items if last(sn.network) == network_name]

    def _subnet_info(self, sn: Any) -> SubnetInfo:
        return SubnetInfo(
            iid=IID(name_id=sn.name, system_id=sn.name),
            cidr=sn.ip_cidr_range,
            zone=_tag(sn.description, ZONE_TAG),
            extra={"region": last(sn.region), "gateway": sn.gateway_address, "self_link": sn.self_link},
        )

    def _info(self, net: Any, subnets: list[Any] | None = None) -> VPCInfo:
        subnets = self._subnets_of(net.name) if subnets is None else subnets
        return VPCInfo(
            iid=IID(name_id=net.name, system_id=net.name),
            cidr=_tag(net.description, CIDR_TAG) or "",
            subnets=[self._subnet_info(sn) for sn in subnets],
            extra={
                "mtu": net.mtu,
                "routing_mode": net.routing_config.routing_mode,
                "self_link": net.self_link,
            },
        )

    def _get_network(self, name: str) -> Any:
        return self.api.call("NetworksClient", "get", idempotent=True, project=self.api.project, network=name)

    def _insert_subnet(self, network: str, sn: SubnetReq) -> None:
        api = self.api
        resource = api.compute.Subnetwork(
            name=sn.name,
            network=api.network_link(network),
            ip_cidr_range=sn.cidr,
            description=f"{ZONE_TAG}{sn.zone}" if sn.zone else "",
        )
        api.mutate(
            "SubnetworksClient",
            "insert_unary",
            project=api.project,
            region=api.region,
            subnetwork_resource=resource,
        )

    def _delete_subnet(self, name: str) -> None:
        self.api.mutate(
            "SubnetworksClient", "delete_unary", project=self.api.project, region=self.api.region, subnetwork=name
        )

    # ------------------------------------------------------------------ VPCHandler
    def create(self, req: VPCReq) -> VPCInfo:
        check_name(req.name, "VPC")
        for sn in req.subnets:
            check_name(sn.name, "subnet")
        try:
            check_subnets_fit(req.cidr, req.subnets)
        except ValueError as exc:
            raise InvalidRequest(str(exc), field="subnets") from None
        api = self.api
        net = api.compute.Network(name=req.name, auto_create_subnetworks=False, description=f"{CIDR_TAG}{req.cidr}")
        with Rollback(f"VPC {req.name!r}") as undo:
            api.mutate("NetworksClient", "insert_unary", project=api.project, network_resource=net)
            undo.push(
                "network", lambda: api.mutate("NetworksClient", "delete_unary", project=api.project, network=req.name)
            )
            for sn in req.subnets:
                self._insert_subnet(req.name, sn)
                undo.push(f"subnet {sn.name!r}", lambda n=sn.name: self._delete_subnet(n))
        return self.get(IID(name_id=req.name, system_id=req.name))

    def get(self, iid: IID) -> VPCInfo:
        return self._info(self._get_network(iid.system_id))

    def list(self) -> list[VPCInfo]:
        api = self.api
        nets = list(api.call("NetworksClient", "list", idempotent=True, project=api.project))
        subnets = list(api.call("SubnetworksClient", "list", idempotent=True, project=api.project, region=api.region))
        out = []
        for net in nets:
            if net.auto_create_subnetworks:
                continue  # auto-mode networks (like 'default') are not mcinfra VPCs
            out.append(self._info(net, [sn for sn in subnets if last(sn.network) == net.name]))
        return out

    def delete(self, iid: IID) -> None:
        api = self.api
        net = self._get_network(iid.system_id)
        # Refuse before deleting any subnet, so an in-use VPC is left whole.
        for fw in api.call("FirewallsClient", "list", idempotent=True, project=api.project):
            if last(fw.network) == net.name:
                raise InUse(f"VPC {net.name!r} is still used by firewall rule {fw.name!r} (a security group)")
        for _, scoped in api.call("InstancesClient", "aggregated_list", idempotent=True, project=api.project):
            for vm in scoped.instances:
                if any(last(nic.network) == net.name for nic in vm.network_interfaces):
                    raise InUse(f"VPC {net.name!r} is still used by VM {vm.name!r}")
        for sn in self._subnets_of(net.name):
            self._delete_subnet(sn.name)
        api.mutate("NetworksClient", "delete_unary", project=api.project, network=net.name)

    def add_subnet(self, vpc: IID, subnet: SubnetReq) -> VPCInfo:
        check_name(subnet.name, "subnet")
        info = self.get(vpc)
        if info.cidr:
            try:
                existing = [SubnetReq(name=s.iid.name_id, cidr=s.cidr) for s in info.subnets]
                check_subnets_fit(info.cidr, [*existing, subnet])
            except ValueError as exc:
                raise InvalidRequest(str(exc), field="subnet") from None
        self._insert_subnet(vpc.system_id, subnet)
        return self.get(vpc)

    def remove_subnet(self, vpc: IID, subnet: IID) -> None:
        sn = self.api.call(
            "SubnetworksClient",
            "get",
            idempotent=True,
            project=self.api.project,
            region=self.api.region,
            subnetwork=subnet.system_id,
        )
        if last(sn.network) != vpc.system_id:
            raise NotFound(f"subnet {subnet.system_id!r} is not in VPC {vpc.system_id!r}")
        self._delete_subnet(subnet.system_id)
