"""NLB = a namespace hung off the VPC router, doing nft DNAT round-robin to its VM group.

The NLB namespace has one veth to the router on a /30 of 100.64.0.0/10; a PUBLIC NLB also
gets a public address that the router NATs 1:1 to it, like a VM's. New connections to the
listener port are DNATed with ``numgen inc mod N`` over the group's active VMs and
masqueraded, so replies come back through the NLB (targets see the NLB's address, as with
a proxying load balancer: their security groups must let it in).

Active = in the group, running (not suspended), and not found unhealthy by the last probe.
The driver probes on every ``health()`` call (TCP connect or HTTP GET from the NLB's
namespace, all targets at once) and on every change, and rewrites the map when it changes.
"""

from __future__ import annotations

import ipaddress
import json
import sys
from datetime import datetime
from typing import Any

from mcinfra.core.errors import AlreadyExists, InvalidRequest, NotFound
from mcinfra.core.handlers import NLBHandler
from mcinfra.core.models import IID, HealthChecker, HealthInfo, Listener, NLBInfo, NLBReq, VMGroup
from mcinfra.drivers.kit import Rollback
from mcinfra.drivers.twin import netns
from mcinfra.drivers.twin.state import Region, now
from mcinfra.drivers.twin.vpc import get_vpc, sync_router

LINK_RANGE = ipaddress.ip_network("100.64.0.0/10")
NLB_LINK = "eth0"
#: a probe never waits longer than this, whatever the checker's timeout, so health() stays quick
PROBE_TIMEOUT_CAP = 2.0

PROBE = r"""
import json, socket, sys, concurrent.futures as cf
kind, timeout, port, targets = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def probe(ip):
    try:
        with socket.create_connection((ip, port), timeout=timeout) as s:
            if kind == "HTTP":
                s.sendall(b"GET / HTTP/1.0\r\nHost: " + ip.encode() + b"\r\n\r\n")
                head = s.recv(64).split()
                return len(head) > 1 and head[0].startswith(b"HTTP/") and head[1][:1] in (b"2", b"3")
            return True
    except OSError:
        return False
with cf.ThreadPoolExecutor(max(1, len(targets))) as ex:
    print(json.dumps(dict(zip(targets, ex.map(probe, targets)))))
"""


def _link_ips(index: int) -> tuple[str, str]:
    base = LINK_RANGE.network_address + 4 * index
    if base + 3 not in LINK_RANGE:
        raise InvalidRequest("the twin region ran out of NLB link addresses")
    return str(base + 1), str(base + 2)


def _active(st: dict[str, Any], lb: dict[str, Any]) -> list[str]:
    out = []
    for vm_id in lb["vm_group"]["vms"]:
        vm = st["vms"].get(vm_id)
        if vm and vm.get("state") == "running" and vm_id not in lb.get("unhealthy", []):
            out.append(vm["private_ip"])
    return out


def render(st: dict[str, Any], lb: dict[str, Any]) -> str:
    targets = _active(st, lb)
    lproto = lb["listener"]["protocol"].lower()
    gport = lb["vm_group"]["port"]
    lines = [
        "table ip twin_lb {}",
        "delete table ip twin_lb",
        "table ip twin_lb {",
        "  chain pre { type nat hook prerouting priority dstnat; policy accept;",
    ]
    if targets:
        elems = ", ".join(f"{i} : {ip}" for i, ip in enumerate(targets))
        lines.append(
            f"    meta l4proto {lproto} th dport {lb['listener']['port']} "
            f"dnat to numgen inc mod {len(targets)} map {{ {elems} }} : {gport}"
        )
    lines += [
        "  }",
        "  chain post { type nat hook postrouting priority srcnat; policy accept;",
        "    ct status dnat masquerade",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def sync_nlb(st: dict[str, Any], lb: dict[str, Any]) -> None:
    if netns.netns_exists(lb["ns"]):
        netns.nft(lb["ns"], render(st, lb))


def sync_vpc_nlbs(st: dict[str, Any], vpc_id: str) -> None:
    for lb in st["nlbs"].values():
        if lb["vpc"] == vpc_id:
            sync_nlb(st, lb)


def _check_protocols(listener: str, group: str) -> None:
    if listener != group:
        raise InvalidRequest(f"the twin NLB forwards {listener} to {listener} only; the VM group protocol is {group}")


class TwinNLBHandler(NLBHandler):
    def __init__(self, region: Region) -> None:
        self.region = region

    def _get(self, st: dict[str, Any], nlb_id: str) -> dict[str, Any]:
        lb = st["nlbs"].get(nlb_id)
        if lb is None:
            raise NotFound(f"twin NLB {nlb_id!r} not found")
        return lb

    def _info(self, nlb_id: str, lb: dict[str, Any]) -> NLBInfo:
        return NLBInfo(
            iid=IID(name_id=lb["name"], system_id=nlb_id),
            vpc=lb["vpc"],
            type=lb["type"],
            scope=lb["scope"],
            listener=Listener(**lb["listener"]),
            vm_group=VMGroup(**lb["vm_group"]),
            health_checker=HealthChecker(**lb["health_checker"]),
            created_at=datetime.fromisoformat(lb["created_at"]),
            extra={"namespace": lb["ns"], "link_ip": lb["link_ip"]},
        )

    def _check_vms(self, st: dict[str, Any], vpc_id: str, vms: list[str]) -> None:
        for vm_id in vms:
            vm = st["vms"].get(vm_id)
            if vm is None:
                raise NotFound(f"twin VM {vm_id!r} not found")
            if vm["vpc"] != vpc_id:
                raise InvalidRequest(f"VM {vm['name']!r} is not in the NLB's VPC")

    def create(self, req: NLBReq) -> NLBInfo:
        _check_protocols(req.listener.protocol, req.vm_group.protocol)
        with self.region.locked() as st:
            vpc = get_vpc(st, req.vpc)
            if any(lb["name"] == req.name for lb in st["nlbs"].values()):
                raise AlreadyExists(f"twin NLB {req.name!r} already exists")
            vms = list(dict.fromkeys(req.vm_group.vms))
            self._check_vms(st, req.vpc, vms)
            index = self.region.new_index(st)
            nlb_id = self.region.system_id("nlb", index)
            router_ip, link_ip = _link_ips(index)
            lb: dict[str, Any] = {
                "name": req.name,
                "vpc": req.vpc,
                "type": req.type,
                "scope": req.scope,
                "ns": self.region.ns_name("l", index),
                "router_link": self.region.link_name("l", index),
                "link_ip": link_ip,
                "public_ip": None,
                "created_at": now(),
                "unhealthy": [],
                "vm_group": {**req.vm_group.model_dump(), "vms": vms},
                "health_checker": req.health_checker.model_dump(),
            }
            # each undo step is pushed before its make: the steps are no-ops for what is not there
            with Rollback(f"twin NLB {req.name!r}") as undo:
                if req.type == "PUBLIC":
                    lb["public_ip"] = self.region.allocate_public_ip(st, nlb_id)
                    undo.push("public address", lambda: self.region.release_public_ip(st, lb["public_ip"]))
                lb["listener"] = {
                    **req.listener.model_dump(),
                    "ip": lb["public_ip"] or link_ip,
                    "dns_name": f"{req.name}.{self.region.name}.twin.internal",
                }
                undo.push("namespace", lambda: netns.netns_delete(lb["ns"]))
                netns.netns_add(lb["ns"])
                netns.sysctl(lb["ns"], "net.ipv4.ip_forward", "1")
                undo.push("router link", lambda: netns.link_delete(lb["router_link"], vpc["ns"]))
                netns.veth_pair(lb["router_link"], vpc["ns"], NLB_LINK, lb["ns"])
                netns.ip("addr", "add", f"{router_ip}/30", "dev", lb["router_link"], ns=vpc["ns"])
                netns.ip("link", "set", lb["router_link"], "up", ns=vpc["ns"])
                netns.ip("addr", "add", f"{link_ip}/30", "dev", NLB_LINK, ns=lb["ns"])
                netns.ip("link", "set", NLB_LINK, "up", ns=lb["ns"])
                netns.ip("route", "add", "default", "via", router_ip, ns=lb["ns"])
                undo.push("state", lambda: st["nlbs"].pop(nlb_id, None))
                st["nlbs"][nlb_id] = lb
                sync_nlb(st, lb)
                sync_router(st, req.vpc)
            return self._info(nlb_id, lb)

    def get(self, iid: IID) -> NLBInfo:
        st = self.region.read()
        return self._info(iid.system_id, self._get(st, iid.system_id))

    def list(self) -> list[NLBInfo]:
        st = self.region.read()
        return [self._info(k, v) for k, v in st["nlbs"].items()]

    def delete(self, iid: IID) -> None:
        with self.region.locked() as st:
            lb = self._get(st, iid.system_id)
            netns.netns_delete(lb["ns"])
            vpc = st["vpcs"].get(lb["vpc"])
            if vpc:
                netns.link_delete(lb["router_link"], vpc["ns"])
            self.region.release_public_ip(st, lb.get("public_ip"))
            del st["nlbs"][iid.system_id]
            if vpc:
                sync_router(st, lb["vpc"])

    def add_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        with self.region.locked() as st:
            lb = self._get(st, iid.system_id)
            self._check_vms(st, lb["vpc"], vms)
            have = lb["vm_group"]["vms"]
            dup = [v for v in vms if v in have]
            if dup:
                raise AlreadyExists(f"NLB {lb['name']!r} already has VMs {', '.join(dup)}")
            lb["vm_group"]["vms"] = [*have, *dict.fromkeys(vms)]
            sync_nlb(st, lb)
            return VMGroup(**lb["vm_group"])

    def remove_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        with self.region.locked() as st:
            lb = self._get(st, iid.system_id)
            missing = [v for v in vms if v not in lb["vm_group"]["vms"]]
            if missing:
                raise NotFound(f"NLB {lb['name']!r} has no VMs {', '.join(missing)}")
            lb["vm_group"]["vms"] = [v for v in lb["vm_group"]["vms"] if v not in vms]
            lb["unhealthy"] = [v for v in lb["unhealthy"] if v not in vms]
            sync_nlb(st, lb)
            return VMGroup(**lb["vm_group"])

    def _probe(self, st: dict[str, Any], lb: dict[str, Any]) -> tuple[dict[str, bool], set[str]]:
        """(vm id -> healthy for the whole group, the ids actually probed: running VMs)."""
        hc = lb["health_checker"]
        port = hc["port"] if hc["port"] != -1 else lb["vm_group"]["port"]
        targets = {
            vm_id: st["vms"][vm_id]
            for vm_id in lb["vm_group"]["vms"]
            if vm_id in st["vms"] and st["vms"][vm_id].get("state") == "running"
        }
        result = dict.fromkeys(lb["vm_group"]["vms"], False)
        if not targets or not netns.netns_exists(lb["ns"]):
            return result, set(targets)
        timeout = min(float(hc["timeout"]) if hc["timeout"] > 0 else PROBE_TIMEOUT_CAP, PROBE_TIMEOUT_CAP)
        ips = [vm["private_ip"] for vm in targets.values()]
        out = netns.ns_exec(
            lb["ns"],
            sys.executable,
            "-c",
            PROBE,
            hc["protocol"],
            str(timeout),
            str(port),
            *ips,
            timeout=timeout + 30,
        ).stdout
        by_ip = json.loads(out)
        for vm_id, vm in targets.items():
            result[vm_id] = bool(by_ip.get(vm["private_ip"]))
        return result, set(targets)

    def health(self, iid: IID) -> HealthInfo:
        st = self.region.read()
        lb = self._get(st, iid.system_id)
        result, probed = self._probe(st, lb)
        with self.region.locked() as st:
            lb = self._get(st, iid.system_id)
            # only a running VM that failed its probe is kept out; a suspended one is out anyway
            # and rejoins on resume
            unhealthy = [v for v, ok in result.items() if not ok and v in probed and v in lb["vm_group"]["vms"]]
            if unhealthy != lb["unhealthy"]:
                lb["unhealthy"] = unhealthy
                sync_nlb(st, lb)
            lb["checked_at"] = now()
        return HealthInfo(
            all=list(result),
            healthy=[v for v, ok in result.items() if ok],
            unhealthy=[v for v, ok in result.items() if not ok],
        )

    def change_listener(self, iid: IID, listener: Listener) -> Listener:
        with self.region.locked() as st:
            lb = self._get(st, iid.system_id)
            _check_protocols(listener.protocol, lb["vm_group"]["protocol"])
            lb["listener"] = {
                **listener.model_dump(),
                "ip": lb["listener"]["ip"],
                "dns_name": lb["listener"]["dns_name"],
            }
            sync_nlb(st, lb)
            return Listener(**lb["listener"])

    def change_vm_group(self, iid: IID, vm_group: VMGroup) -> VMGroup:
        with self.region.locked() as st:
            lb = self._get(st, iid.system_id)
            _check_protocols(lb["listener"]["protocol"], vm_group.protocol)
            lb["vm_group"].update(protocol=vm_group.protocol, port=vm_group.port)
            sync_nlb(st, lb)
            return VMGroup(**lb["vm_group"])

    def change_health_checker(self, iid: IID, health_checker: HealthChecker) -> HealthChecker:
        with self.region.locked() as st:
            lb = self._get(st, iid.system_id)
            lb["health_checker"] = health_checker.model_dump()
            return HealthChecker(**lb["health_checker"])
