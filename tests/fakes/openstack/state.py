"""State of the fake OpenStack cloud: one project in RegionOne, its Neutron, Nova, Octavia and
Glance resources as the JSON objects the APIs return, asynchronous transitions and paging."""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.server import HttpError, Request

PROJECT_ID = "0c5b1a9e8f0d4e2a9b7c6d5e4f3a2b1c"
USER_ID = "9f1e2d3c4b5a69788796a5b4c3d2e1f0"
REGION = "RegionOne"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_octavia() -> str:
    # Octavia's samples show naive timestamps (no zone suffix)
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


# ---------------------------------------------------------------- errors in each service's words
def neutron_error(status: int, kind: str, message: str) -> HttpError:
    """Neutron: ``{"NeutronError": {"type": kind, "message", "detail"}}``."""
    return HttpError(status, kind, message)


def nova_error(status: int, message: str) -> HttpError:
    """Nova: ``{"<faultName>": {"code", "message"}}``; the name follows from the status."""
    return HttpError(status, "nova", message)


def octavia_error(status: int, message: str) -> HttpError:
    """Octavia (WSME): ``{"faultcode", "faultstring", "debuginfo"}``."""
    return HttpError(status, "octavia", message)


@dataclass
class Pending:
    """An asynchronous change: ``polls`` more reads show the in-between state, then ``finish`` runs."""

    polls: int
    finish: Any
    fail: bool = False


@dataclass
class Catalog:
    flavors: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    zones: list[tuple[str, bool]] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)


class CloudState:
    """Everything the fake cloud holds. Handlers run under the server's lock, one at a time."""

    def __init__(self, *, page_size: int = 1000, build_polls: int = 1, lb_polls: int = 1) -> None:
        #: items per list page at most, whatever ``limit`` the client asks for
        self.page_size = page_size
        #: reads of a server that show BUILD (or an action's in-between state) before it settles
        self.build_polls = build_polls
        #: reads of a load balancer that show PENDING_* after a change before ACTIVE
        self.lb_polls = lb_polls
        self.reset()

    def reset(self) -> None:
        self._ids = itertools.count(1)
        self.networks: dict[str, dict[str, Any]] = {}
        self.subnets: dict[str, dict[str, Any]] = {}
        self.routers: dict[str, dict[str, Any]] = {}
        self.ports: dict[str, dict[str, Any]] = {}
        self.sgs: dict[str, dict[str, Any]] = {}
        self.rules: dict[str, dict[str, Any]] = {}
        self.fips: dict[str, dict[str, Any]] = {}
        self.servers: dict[str, dict[str, Any]] = {}
        self.keypairs: dict[str, dict[str, Any]] = {}
        self.lbs: dict[str, dict[str, Any]] = {}
        self.listeners: dict[str, dict[str, Any]] = {}
        self.pools: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, Any]] = {}
        self.monitors: dict[str, dict[str, Any]] = {}
        #: server id / load balancer id -> its pending change
        self.pending: dict[str, Pending] = {}
        #: failures to apply to the next asynchronous operation of a kind ("server_create", "lb_create")
        self.fail_next: dict[str, str] = {}
        #: ports Nova made itself for ``networks=[{"uuid"}]`` (it deletes those with the server)
        self.nova_ports: set[str] = set()
        self._mac = itertools.count(0x10)
        self.catalog = default_catalog(self.new_id)
        self._seed_network()

    # ------------------------------------------------------------ ids, lookups
    def new_id(self) -> str:
        return str(uuid.UUID(int=(0x6D63696E66726100 << 64) + next(self._ids)))

    def mac(self) -> str:
        n = next(self._mac)
        return f"fa:16:3e:00:{(n >> 8) & 0xFF:02x}:{n & 0xFF:02x}"

    def _seed_network(self) -> None:
        """The provider network every OpenStack cloud has for floating IPs, and the project's
        ``default`` security group (Neutron makes it on a project's first call)."""
        net = self.add_network({"name": "public", "router:external": True, "description": "external"})
        self.external_network_id = net["id"]
        self.add_subnet({"network_id": net["id"], "name": "public-subnet", "cidr": "172.24.4.0/24",
                         "ip_version": 4})
        self.add_security_group({"name": "default", "description": "Default security group"})

    @staticmethod
    def get(coll: dict[str, dict[str, Any]], rid: str, what: str, kind: str) -> dict[str, Any]:
        item = coll.get(rid)
        if item is None:
            raise neutron_error(404, f"{kind}NotFound", f"{what} {rid} could not be found.")
        return item

    # ------------------------------------------------------------ Neutron resources
    def base(self, body: dict[str, Any]) -> dict[str, Any]:
        t = now()
        return {"id": self.new_id(), "name": body.get("name", ""), "description": body.get("description", ""),
                "project_id": PROJECT_ID, "tenant_id": PROJECT_ID, "created_at": t, "updated_at": t,
                "revision_number": 1, "tags": []}

    def add_network(self, body: dict[str, Any]) -> dict[str, Any]:
        net = self.base(body)
        net.update({
            "admin_state_up": body.get("admin_state_up", True), "availability_zone_hints": [],
            "availability_zones": ["nova"], "dns_domain": "", "ipv4_address_scope": None,
            "ipv6_address_scope": None, "is_default": False, "l2_adjacency": True, "mtu": 1450,
            "port_security_enabled": True, "qos_policy_id": None,
            "router:external": bool(body.get("router:external", False)), "shared": False, "status": "ACTIVE",
            "subnets": [], "vlan_transparent": False,
        })
        self.networks[net["id"]] = net
        return net

    def add_subnet(self, body: dict[str, Any]) -> dict[str, Any]:
        net = self.get(self.networks, body.get("network_id", ""), "Network", "Network")
        try:
            cidr = ipaddress.ip_network(body.get("cidr", ""), strict=True)
        except ValueError as exc:
            raise neutron_error(400, "InvalidInput", f"Invalid input for cidr. Reason: {exc}.") from None
        for sid in net["subnets"]:
            other = ipaddress.ip_network(self.subnets[sid]["cidr"])
            if cidr.overlaps(other):
                raise neutron_error(400, "InvalidInput", f"Invalid input for operation: Requested subnet with "
                                    f"cidr: {cidr} for network: {net['id']} overlaps with another subnet.")
        hosts = list(itertools.islice(cidr.hosts(), 2))
        sub = self.base(body)
        sub.update({
            "allocation_pools": [{"start": str(cidr.network_address + 2), "end": str(cidr.broadcast_address - 1)}],
            "cidr": str(cidr), "dns_nameservers": [], "dns_publish_fixed_ip": False, "enable_dhcp": True,
            "gateway_ip": str(hosts[0]) if hosts else None, "host_routes": [], "ip_version": cidr.version,
            "ipv6_address_mode": None, "ipv6_ra_mode": None, "network_id": net["id"],
            "router:external": net["router:external"], "segment_id": None, "service_types": [],
            "subnetpool_id": None,
        })
        self.subnets[sub["id"]] = sub
        net["subnets"].append(sub["id"])
        return sub

    def allocate_ip(self, subnet: dict[str, Any]) -> str:
        cidr = ipaddress.ip_network(subnet["cidr"])
        used = {fip["ip_address"] for p in self.ports.values() for fip in p["fixed_ips"]
                if fip["subnet_id"] == subnet["id"]}
        used |= {f["floating_ip_address"] for f in self.fips.values()}
        # .1 is the gateway and .2 the DHCP port, as in a fresh Neutron subnet
        for n in range(int(cidr.network_address) + 3, int(cidr.broadcast_address)):
            ip = str(ipaddress.ip_address(n))
            if ip not in used:
                return ip
        raise neutron_error(409, "IpAddressGenerationFailure", f"No more IP addresses available on network "
                            f"{subnet['network_id']}.")

    def add_port(self, body: dict[str, Any]) -> dict[str, Any]:
        net = self.get(self.networks, body.get("network_id", ""), "Network", "Network")
        fixed = []
        wanted = body.get("fixed_ips") or ([{"subnet_id": net["subnets"][0]}] if net["subnets"] else [])
        for req in wanted:
            sub = self.get(self.subnets, req.get("subnet_id", ""), "Subnet", "Subnet")
            if sub["network_id"] != net["id"]:
                raise neutron_error(400, "InvalidInput", f"Invalid input for operation: Failed to create port "
                                    f"on network {net['id']}, because fixed_ips included invalid subnet "
                                    f"{sub['id']}.")
            fixed.append({"subnet_id": sub["id"], "ip_address": req.get("ip_address") or self.allocate_ip(sub)})
        sg_ids = body.get("security_groups")
        if sg_ids is None:
            sg_ids = [sg["id"] for sg in self.sgs.values() if sg["name"] == "default"]
        for sg in sg_ids:
            self.get(self.sgs, sg, "Security group", "SecurityGroup")
        port = self.base(body)
        port.update({
            "admin_state_up": True, "allowed_address_pairs": [], "data_plane_status": None,
            "device_id": body.get("device_id", ""), "device_owner": body.get("device_owner", ""),
            "dns_assignment": [{"hostname": f"host-{f['ip_address'].replace('.', '-')}",
                                "ip_address": f["ip_address"], "fqdn": f"host-{f['ip_address'].replace('.', '-')}."}
                               for f in fixed],
            "dns_domain": "", "dns_name": "", "extra_dhcp_opts": [], "fixed_ips": fixed,
            "ip_allocation": "immediate", "mac_address": self.mac(), "network_id": net["id"],
            "port_security_enabled": True, "propagate_uplink_status": False, "qos_network_policy_id": None,
            "qos_policy_id": None, "security_groups": list(sg_ids),
            "status": "ACTIVE" if body.get("device_id") else "DOWN",
        })
        self.ports[port["id"]] = port
        return port

    def add_security_group(self, body: dict[str, Any]) -> dict[str, Any]:
        sg = self.base(body)
        sg.update({"shared": False, "stateful": body.get("stateful", True)})
        self.sgs[sg["id"]] = sg
        # Neutron gives every new group an allow-all egress rule per ethertype
        for ethertype in ("IPv4", "IPv6"):
            self.add_rule({"security_group_id": sg["id"], "direction": "egress", "ethertype": ethertype})
        return sg

    def add_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        sg = self.get(self.sgs, body.get("security_group_id", ""), "Security group", "SecurityGroup")
        direction = body.get("direction")
        if direction not in ("ingress", "egress"):
            raise neutron_error(400, "InvalidInput", f"Invalid input for direction. Reason: {direction!r} is not "
                                "in ['ingress', 'egress'].")
        ethertype = body.get("ethertype", "IPv4")
        prefix = body.get("remote_ip_prefix")
        if prefix is not None:
            try:
                net = ipaddress.ip_network(prefix, strict=False)
            except ValueError:
                raise neutron_error(400, "InvalidInput", f"Invalid input for remote_ip_prefix: {prefix}") from None
            if (net.version == 4) != (ethertype == "IPv4"):
                raise neutron_error(400, "SecurityGroupRuleParameterConflict",
                                    f"Conflicting value ethertype {ethertype} for CIDR {prefix}")
            prefix = str(net)
        protocol = body.get("protocol")
        pmin, pmax = body.get("port_range_min"), body.get("port_range_max")
        if protocol in ("tcp", "udp") and pmin is not None and (pmax is None or pmin > pmax):
            raise neutron_error(400, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min "
                                "must be <= port_range_max")
        key = (direction, ethertype, protocol, pmin, pmax, prefix, body.get("remote_group_id"))
        for r in self.rules.values():
            if r["security_group_id"] == sg["id"] and (r["direction"], r["ethertype"], r["protocol"],
                                                        r["port_range_min"], r["port_range_max"],
                                                        r["remote_ip_prefix"], r["remote_group_id"]) == key:
                raise neutron_error(409, "SecurityGroupRuleExists",
                                    f"Security group rule already exists. Rule id is {r['id']}.")
        rule = self.base(body)
        del rule["name"], rule["tags"]
        rule.update({
            "belongs_to_default_sg": sg["name"] == "default", "direction": direction, "ethertype": ethertype,
            "port_range_max": pmax, "port_range_min": pmin, "protocol": protocol,
            "remote_address_group_id": None, "remote_group_id": body.get("remote_group_id"),
            "remote_ip_prefix": prefix, "security_group_id": sg["id"],
        })
        self.rules[rule["id"]] = rule
        return rule

    def sg_view(self, sg: dict[str, Any]) -> dict[str, Any]:
        out = dict(sg)
        out["security_group_rules"] = [r for r in self.rules.values() if r["security_group_id"] == sg["id"]]
        return out

    def port_view(self, port: dict[str, Any]) -> dict[str, Any]:
        return port

    # ------------------------------------------------------------ servers
    def server_ports(self, server_id: str) -> list[dict[str, Any]]:
        return [p for p in self.ports.values() if p["device_id"] == server_id]

    def tick(self, rid: str) -> None:
        """One read of an asynchronous resource: count down its pending change."""
        p = self.pending.get(rid)
        if p is None:
            return
        p.polls -= 1
        if p.polls < 0:
            del self.pending[rid]
            p.finish(p.fail)

    # ------------------------------------------------------------ paging
    def page(self, req: Request, items: list[dict[str, Any]], collection: str, base_url: str) -> dict[str, Any]:
        """limit/marker paging with ``<collection>_links`` (Neutron, Octavia and Nova spell it alike)."""
        marker = req.q("marker")
        if marker:
            ids = [i["id"] for i in items]
            if marker not in ids:
                raise HttpError(400, "BadRequest", f"marker [{marker}] not found")
            items = items[ids.index(marker) + 1 :]
        limit = int(req.q("limit") or self.page_size)
        size = min(limit, self.page_size)
        out: dict[str, Any] = {collection: items[:size]}
        if len(items) > size:
            query = "&".join(f"{k}={v}" for k, vs in req.query.items() if k not in ("marker", "limit") for v in vs)
            href = f"{base_url}{req.path}?limit={size}&marker={items[size - 1]['id']}" + (f"&{query}" if query else "")
            out[f"{collection}_links"] = [{"href": href, "rel": "next"}]
        return out


def filtered(req: Request, items: list[dict[str, Any]], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Neutron/Octavia list filters: ``?field=value`` on the given fields (booleans as strings)."""
    out = items
    for f in fields:
        values = req.query.get(f)
        if values:
            want = values[0]
            out = [i for i in out if str(i.get(f)).lower() == want.lower()]
    return out


def fingerprint(public_key: str) -> str:
    import base64

    try:
        raw = base64.b64decode(public_key.split()[1])
    except (IndexError, ValueError):
        raise nova_error(400, "Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(raw, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def default_catalog(new_id: Any) -> Catalog:
    flavors = []
    for fid, name, vcpus, ram, disk in (("1", "m1.tiny", 1, 512, 1), ("2", "m1.small", 1, 2048, 20),
                                        ("3", "m1.medium", 2, 4096, 40), ("4", "m1.large", 4, 8192, 80)):
        flavors.append({"id": fid, "name": name, "vcpus": vcpus, "ram": ram, "disk": disk})
    images = []
    for name, distro, version in (("ubuntu-22.04", "ubuntu", "22.04"), ("ubuntu-24.04", "ubuntu", "24.04"),
                                  ("debian-12", "debian", "12"), ("cirros-0.6.2", "cirros", "0.6.2")):
        images.append({"id": new_id(), "name": name, "os_distro": distro, "os_version": version})
    return Catalog(flavors=flavors, images=images, zones=[("nova", True), ("az-2", True), ("az-down", False)],
                   regions=[REGION, "RegionTwo"])
