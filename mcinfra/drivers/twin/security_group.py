"""Security group = nft rules in each member VM's namespace, with the unified semantics.

A VM's filter is the union of its groups' rules, applied to its NIC (eth0) only, as a cloud's
SG is: inbound is denied unless a rule allows it,
outbound likewise (a new group carries the core's default "outbound ALL 0.0.0.0/0" rule as
an ordinary rule), and replies of allowed connections pass through conntrack. Any change to
a group rewrites the filter of every VM that uses it, in one nft transaction per VM.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from mcinfra.core.errors import AlreadyExists, InUse, NotFound
from mcinfra.core.handlers import SecurityGroupHandler
from mcinfra.core.models import IID, SecurityGroupInfo, SecurityGroupReq, SecurityRule, dedupe_rules
from mcinfra.drivers.twin import netns
from mcinfra.drivers.twin.state import Region, now
from mcinfra.drivers.twin.vpc import get_vpc


def _rule_match(rule: SecurityRule) -> str:
    net = ipaddress.ip_network(rule.cidr)
    family = "ip" if net.version == 4 else "ip6"
    peer = "saddr" if rule.direction == "inbound" else "daddr"
    addr = f"meta nfproto {'ipv4' if net.version == 4 else 'ipv6'}" if net.prefixlen == 0 else f"{family} {peer} {net}"
    if rule.protocol == "ALL":
        return addr
    if rule.protocol == "ICMP":
        return f"{addr} meta l4proto {'icmp' if net.version == 4 else 'ipv6-icmp'}"
    proto = rule.protocol.lower()
    ports = str(rule.from_port) if rule.from_port == rule.to_port else f"{rule.from_port}-{rule.to_port}"
    return f"{addr} meta l4proto {proto} th dport {ports}"


def render_filter(rules: list[SecurityRule]) -> str:
    inbound = [f"    {_rule_match(r)} accept" for r in rules if r.direction == "inbound"]
    outbound = [f"    {_rule_match(r)} accept" for r in rules if r.direction == "outbound"]
    lines = [
        "table inet twin_sg {}",
        "delete table inet twin_sg",
        "table inet twin_sg {",
        "  chain inbound { type filter hook input priority filter; policy drop;",
        "    ct state established,related accept",
        # as a cloud's SG, it sees only the NIC: loopback and overlays inside the VM (wg0) pass
        f'    iifname != "{netns.VM_LINK}" accept',
        *inbound,
        "  }",
        "  chain outbound { type filter hook output priority filter; policy drop;",
        "    ct state established,related accept",
        f'    oifname != "{netns.VM_LINK}" accept',
        *outbound,
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def vm_rules(st: dict[str, Any], vm: dict[str, Any]) -> list[SecurityRule]:
    rules: list[SecurityRule] = []
    for sg_id in vm.get("sgs", []):
        sg = st["sgs"].get(sg_id)
        if sg:
            rules.extend(SecurityRule(**r) for r in sg["rules"])
    return dedupe_rules(rules)


def apply_vm_filter(st: dict[str, Any], vm: dict[str, Any]) -> None:
    netns.nft(vm["ns"], render_filter(vm_rules(st, vm)))


def _dump(rules: list[SecurityRule]) -> list[dict[str, Any]]:
    return [r.model_dump() for r in rules]


class TwinSecurityGroupHandler(SecurityGroupHandler):
    def __init__(self, region: Region) -> None:
        self.region = region

    def _info(self, sg_id: str, sg: dict[str, Any]) -> SecurityGroupInfo:
        return SecurityGroupInfo(
            iid=IID(name_id=sg["name"], system_id=sg_id),
            vpc=sg["vpc"],
            rules=[SecurityRule(**r) for r in sg["rules"]],
            extra={"created_at": sg["created_at"]},
        )

    def _get(self, st: dict[str, Any], sg_id: str) -> dict[str, Any]:
        sg = st["sgs"].get(sg_id)
        if sg is None:
            raise NotFound(f"twin security group {sg_id!r} not found")
        return sg

    def _reapply(self, st: dict[str, Any], sg_id: str) -> None:
        for vm in st["vms"].values():
            if sg_id in vm.get("sgs", []) and vm.get("ns") and netns.netns_exists(vm["ns"]):
                apply_vm_filter(st, vm)

    def create(self, req: SecurityGroupReq) -> SecurityGroupInfo:
        with self.region.locked() as st:
            get_vpc(st, req.vpc)
            if any(sg["name"] == req.name for sg in st["sgs"].values()):
                raise AlreadyExists(f"twin security group {req.name!r} already exists")
            sg_id = self.region.system_id("sg", self.region.new_index(st))
            sg = {
                "name": req.name,
                "vpc": req.vpc,
                "rules": _dump(dedupe_rules(req.rules)),
                "created_at": now(),
            }
            st["sgs"][sg_id] = sg
            return self._info(sg_id, sg)

    def get(self, iid: IID) -> SecurityGroupInfo:
        st = self.region.read()
        return self._info(iid.system_id, self._get(st, iid.system_id))

    def list(self) -> list[SecurityGroupInfo]:
        st = self.region.read()
        return [self._info(k, v) for k, v in st["sgs"].items()]

    def delete(self, iid: IID) -> None:
        with self.region.locked() as st:
            sg = self._get(st, iid.system_id)
            users = [vm["name"] for vm in st["vms"].values() if iid.system_id in vm.get("sgs", [])]
            if users:
                raise InUse(f"twin security group {sg['name']!r} is used by VMs {', '.join(sorted(users))}")
            del st["sgs"][iid.system_id]

    def _replace_rules(self, st: dict[str, Any], sg_id: str, sg: dict[str, Any],
                       rules: list[SecurityRule]) -> SecurityGroupInfo:
        """Give the group these rules on every member VM, or leave every VM as it was."""
        old = sg["rules"]
        sg["rules"] = _dump(rules)
        try:
            self._reapply(st, sg_id)
        except Exception:
            sg["rules"] = old
            self._reapply(st, sg_id)
            raise
        return self._info(sg_id, sg)

    def add_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        with self.region.locked() as st:
            sg = self._get(st, iid.system_id)
            have = [SecurityRule(**r) for r in sg["rules"]]
            dup = [str(r) for r in rules if r in have]
            if dup:
                raise AlreadyExists(f"twin security group {sg['name']!r} already has rules: {'; '.join(dup)}")
            return self._replace_rules(st, iid.system_id, sg, dedupe_rules([*have, *rules]))

    def remove_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        with self.region.locked() as st:
            sg = self._get(st, iid.system_id)
            have = [SecurityRule(**r) for r in sg["rules"]]
            missing = [str(r) for r in rules if r not in have]
            if missing:
                raise NotFound(f"twin security group {sg['name']!r} has no rules: {'; '.join(missing)}")
            return self._replace_rules(st, iid.system_id, sg, [r for r in have if r not in rules])
