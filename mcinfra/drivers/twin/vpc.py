"""VPC = a router namespace on the twin internet; subnet = a bridge inside it.

The router does 1:1 NAT between each VM's (and each public NLB's) private and public address:
the public addresses live on the router's uplink, nft DNATs them to the private ones, and
SNATs the private ones back on the way out (and on hairpin traffic, so a VM that reaches a
neighbour through its public address is seen from its own public address, as in a real cloud).
"""

from __future__ import annotations

import ipaddress
import json
import sys
from pathlib import Path
from typing import Any

from mcinfra.core.errors import AlreadyExists, CloudError, InUse, InvalidRequest, NotFound
from mcinfra.core.handlers import VPCHandler
from mcinfra.core.models import IID, SubnetInfo, SubnetReq, VPCInfo, VPCReq, check_subnets_fit
from mcinfra.drivers.kit import Rollback
from mcinfra.drivers.twin import internet, netns
from mcinfra.drivers.twin.state import PUBLIC_RANGE, Region, now

UPLINK = "uplink"
_CT_FORGET = (Path(__file__).parent / "_ct_forget.py").read_text()


def get_vpc(st: dict[str, Any], vpc_id: str) -> dict[str, Any]:
    vpc = st["vpcs"].get(vpc_id)
    if vpc is None:
        raise NotFound(f"twin VPC {vpc_id!r} not found")
    return vpc


def find_subnet(st: dict[str, Any], subnet_id: str) -> tuple[str, dict[str, Any]]:
    for vpc_id, vpc in st["vpcs"].items():
        if subnet_id in vpc["subnets"]:
            return vpc_id, vpc["subnets"][subnet_id]
    raise NotFound(f"twin subnet {subnet_id!r} not found")


def sync_router(st: dict[str, Any], vpc_id: str) -> None:
    """Make the router's public addresses and NAT maps match the state (one nft transaction)."""
    vpc = st["vpcs"][vpc_id]
    ns = vpc["ns"]
    pairs: list[tuple[str, str]] = []
    for vm in st["vms"].values():
        if vm["vpc"] == vpc_id and vm.get("public_ip") and vm.get("private_ip"):
            pairs.append((vm["public_ip"], vm["private_ip"]))
    for lb in st["nlbs"].values():
        if lb["vpc"] == vpc_id and lb.get("public_ip"):
            pairs.append((lb["public_ip"], lb["link_ip"]))
    wanted = {pub for pub, _ in pairs}
    current, mac = _uplink_state(ns, vpc["public_ip"])
    for addr in current - wanted:
        netns.ip("addr", "del", f"{addr}/32", "dev", UPLINK, ns=ns, check=False)
        netns.run(["ip", "neigh", "del", addr, "dev", internet.HOST_LINK], check=False)
    for addr in wanted - current:
        netns.ip("addr", "add", f"{addr}/32", "dev", UPLINK, ns=ns)
        # tell the host where the address lives now instead of waiting on ARP: an entry left by
        # the address's previous owner would otherwise blackhole it for seconds
        if mac:
            netns.run(
                ["ip", "neigh", "replace", addr, "lladdr", mac, "dev", internet.HOST_LINK, "nud", "reachable"],
                check=False,
            )
    dnat = ", ".join(f"{pub} : {priv}" for pub, priv in pairs)
    snat = ", ".join(f"{priv} : {pub}" for pub, priv in pairs)
    script = [
        "table ip twin_nat {}",
        "delete table ip twin_nat",
        "table ip twin_nat {",
        "  map dnat_map { type ipv4_addr : ipv4_addr;" + (f" elements = {{ {dnat} }};" if pairs else "") + " }",
        "  map snat_map { type ipv4_addr : ipv4_addr;" + (f" elements = {{ {snat} }};" if pairs else "") + " }",
        "  chain pre { type nat hook prerouting priority dstnat; policy accept;",
        "    dnat to ip daddr map @dnat_map",
        "  }",
        "  chain out { type nat hook output priority -100; policy accept;",
        "    dnat to ip daddr map @dnat_map",
        "  }",
        "  chain post { type nat hook postrouting priority srcnat; policy accept;",
        f'    oifname "{UPLINK}" snat to ip saddr map @snat_map',
        "    ct status dnat snat to ip saddr map @snat_map",
        "  }",
        "}",
    ]
    netns.nft(ns, "\n".join(script) + "\n")
    if current - wanted:
        # The maps apply to new flows only: a flow the router already tracks keeps its NAT
        # binding, so a resumed VM's flows would go on leaving from its released address.
        # Forgotten after the maps changed, so no packet re-creates the old binding.
        forget_flows(ns, sorted(current - wanted))


def forget_flows(ns: str, addrs: list[str]) -> None:
    """Drop the router's conntrack entries (and so their NAT bindings) that use ``addrs``."""
    netns.run(["ip", "netns", "exec", ns, sys.executable, "-I", "-S", "-", *addrs],
              input=_CT_FORGET, code="ConntrackFailed")


def _uplink_state(ns: str, router_ip: str) -> tuple[set[str], str]:
    """(the uplink's public addresses besides the router's own, the uplink's MAC)."""
    out = netns.ip("-j", "addr", "show", "dev", UPLINK, ns=ns)
    addrs: set[str] = set()
    mac = ""
    for link in json.loads(out or "[]"):
        mac = link.get("address", mac)
        for a in link.get("addr_info", []):
            if a.get("family") == "inet" and a.get("local") != router_ip:
                addrs.add(a["local"])
    return addrs, mac


class TwinVPCHandler(VPCHandler):
    def __init__(self, region: Region, zone: str | None) -> None:
        self.region = region
        self.zone = zone

    # ---------------------------------------------------------------- info
    def _info(self, vpc_id: str, vpc: dict[str, Any]) -> VPCInfo:
        subnets = [
            SubnetInfo(
                iid=IID(name_id=sn["name"], system_id=sid),
                cidr=sn["cidr"],
                zone=sn.get("zone"),
                extra={"bridge": sn["bridge"], "gateway": sn["gateway"]},
            )
            for sid, sn in vpc["subnets"].items()
        ]
        return VPCInfo(
            iid=IID(name_id=vpc["name"], system_id=vpc_id),
            cidr=vpc["cidr"],
            subnets=subnets,
            extra={"router_namespace": vpc["ns"], "router_public_ip": vpc["public_ip"]},
        )

    # ---------------------------------------------------------------- subnets
    def _make_subnet(self, st: dict[str, Any], vpc: dict[str, Any], req: SubnetReq) -> str:
        index = self.region.new_index(st)
        sid = self.region.system_id("subnet", index)
        net = ipaddress.ip_network(req.cidr)
        if net.num_addresses < 8:
            raise InvalidRequest(f"subnet {req.name!r} CIDR {req.cidr} is too small (at least /29)")
        bridge = self.region.link_name("s", index)
        gateway = str(next(net.hosts()))
        ns = vpc["ns"]
        netns.ip("link", "add", bridge, "type", "bridge", ns=ns)
        netns.ip("addr", "add", f"{gateway}/{net.prefixlen}", "dev", bridge, ns=ns)
        netns.ip("link", "set", bridge, "up", ns=ns)
        vpc["subnets"][sid] = {
            "name": req.name,
            "cidr": req.cidr,
            "zone": req.zone or self.zone,
            "bridge": bridge,
            "gateway": gateway,
            "index": index,
            "used_ips": [],
        }
        return sid

    def _check_cidr(self, cidr: str) -> ipaddress.IPv4Network:
        try:
            net = ipaddress.ip_network(cidr)
        except ValueError as exc:
            raise InvalidRequest(f"VPC CIDR {cidr!r} is invalid") from exc
        if net.version != 4:
            raise InvalidRequest(f"twin VPC CIDR {cidr} must be IPv4")
        if net.overlaps(PUBLIC_RANGE):
            raise InvalidRequest(f"VPC CIDR {cidr} overlaps the twin's public range {PUBLIC_RANGE}")
        return net  # type: ignore[return-value]

    # ---------------------------------------------------------------- handler API
    def create(self, req: VPCReq) -> VPCInfo:
        self._check_cidr(req.cidr)
        try:
            check_subnets_fit(req.cidr, req.subnets)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from exc
        with self.region.locked() as st:
            if any(v["name"] == req.name for v in st["vpcs"].values()):
                raise AlreadyExists(f"twin VPC {req.name!r} already exists")
            # register the region's block first: cleanup keeps the internet while a region is registered
            block = self.region.block(st)
            internet.ensure()
            internet.forget_neighbors(str(block))
            index = self.region.new_index(st)
            vpc_id = self.region.system_id("vpc", index)
            ns = self.region.ns_name("r", index)
            inet_end = self.region.link_name("u", index)
            vpc = {
                "name": req.name,
                "cidr": req.cidr,
                "ns": ns,
                "uplink_peer": inet_end,
                "public_ip": None,
                "subnets": {},
                "created_at": now(),
                "index": index,
            }
            # each undo step is pushed before its make: the steps are no-ops for what is not there
            with Rollback(f"twin VPC {req.name!r}") as undo:
                vpc["public_ip"] = public_ip = self.region.allocate_public_ip(st, vpc_id)
                undo.push("public address", lambda: self.region.release_public_ip(st, public_ip))
                undo.push("router namespace", lambda: netns.netns_delete(ns))
                netns.netns_add(ns)
                netns.sysctl(ns, "net.ipv4.ip_forward", "1")
                undo.push("uplink", lambda: netns.link_delete(inet_end, internet.INET_NS))
                netns.veth_pair(UPLINK, ns, inet_end, internet.INET_NS)
                internet.attach(inet_end)
                netns.ip("addr", "add", f"{public_ip}/{PUBLIC_RANGE.prefixlen}", "dev", UPLINK, ns=ns)
                netns.ip("link", "set", UPLINK, "up", ns=ns)
                undo.push("state", lambda: st["vpcs"].pop(vpc_id, None))
                st["vpcs"][vpc_id] = vpc
                for sn in req.subnets:
                    self._make_subnet(st, vpc, sn)
                sync_router(st, vpc_id)
            return self._info(vpc_id, vpc)

    def get(self, iid: IID) -> VPCInfo:
        st = self.region.read()
        return self._info(iid.system_id, get_vpc(st, iid.system_id))

    def list(self) -> list[VPCInfo]:
        st = self.region.read()
        return [self._info(k, v) for k, v in st["vpcs"].items()]

    def delete(self, iid: IID) -> None:
        with self.region.locked() as st:
            vpc = get_vpc(st, iid.system_id)
            users = [vm["name"] for vm in st["vms"].values() if vm["vpc"] == iid.system_id]
            users += [sg["name"] for sg in st["sgs"].values() if sg["vpc"] == iid.system_id]
            users += [lb["name"] for lb in st["nlbs"].values() if lb["vpc"] == iid.system_id]
            if users:
                raise InUse(f"twin VPC {vpc['name']!r} is used by {', '.join(sorted(users))}")
            netns.netns_delete(vpc["ns"])
            netns.link_delete(vpc["uplink_peer"], internet.INET_NS)
            self.region.release_public_ip(st, vpc["public_ip"])
            del st["vpcs"][iid.system_id]

    def add_subnet(self, vpc: IID, subnet: SubnetReq) -> VPCInfo:
        with self.region.locked() as st:
            v = get_vpc(st, vpc.system_id)
            if any(sn["name"] == subnet.name for sn in v["subnets"].values()):
                raise AlreadyExists(f"twin subnet {subnet.name!r} already exists in VPC {v['name']!r}")
            existing = [SubnetReq(name=sn["name"], cidr=sn["cidr"]) for sn in v["subnets"].values()]
            try:
                check_subnets_fit(v["cidr"], [*existing, subnet])
            except ValueError as exc:
                raise InvalidRequest(str(exc)) from exc
            self._make_subnet(st, v, subnet)
            return self._info(vpc.system_id, v)

    def remove_subnet(self, vpc: IID, subnet: IID) -> None:
        with self.region.locked() as st:
            v = get_vpc(st, vpc.system_id)
            sn = v["subnets"].get(subnet.system_id)
            if sn is None:
                raise NotFound(f"twin subnet {subnet.system_id!r} not found in VPC {v['name']!r}")
            users = [vm["name"] for vm in st["vms"].values() if vm["subnet"] == subnet.system_id]
            if users:
                raise InUse(f"twin subnet {sn['name']!r} is used by VMs {', '.join(sorted(users))}")
            try:
                netns.ip("link", "delete", sn["bridge"], ns=v["ns"])
            except CloudError:
                if netns.link_exists(sn["bridge"], v["ns"]):
                    raise
            del v["subnets"][subnet.system_id]
