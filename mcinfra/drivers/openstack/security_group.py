"""Security groups = Neutron security groups holding exactly the rule set asked for.

Neutron gives every new group two egress rules (all IPv4, all IPv6). The core already puts the
"outbound ALL 0.0.0.0/0" rule in the request unless the user removed it, so the driver brings
the group to the requested set: it adds what is missing and deletes what Neutron added but was
not asked for; the same rule list then means the same traffic as on the other clouds.

Neutron groups belong to the project, not to a network: the VPC a group was made for is kept in
its description (``mcinfra:vpc=<network id>``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from mcinfra.core.errors import AlreadyExists, NotFound
from mcinfra.core.handlers import SecurityGroupHandler
from mcinfra.core.models import IID, SecurityGroupInfo, SecurityGroupReq, SecurityRule, dedupe_rules
from mcinfra.drivers.kit import Rollback
from mcinfra.drivers.openstack.client import OpenStackClient

VPC_NOTE = re.compile(r"mcinfra:vpc=(\S+)")
#: Neutron field names the SDK's SecurityGroupRule spells differently
SDK_NAMES = {"ethertype": "ether_type"}
_PROTOCOLS = {
    None: "ALL",
    "any": "ALL",
    "0": "ALL",
    "tcp": "TCP",
    "6": "TCP",
    "udp": "UDP",
    "17": "UDP",
    "icmp": "ICMP",
    "1": "ICMP",
    "ipv6-icmp": "ICMP",
    "icmpv6": "ICMP",
    "58": "ICMP",
}


def to_neutron(rule: SecurityRule) -> dict[str, Any]:
    """One mcinfra rule as Neutron security-group-rule fields."""
    v6 = ipaddress.ip_network(rule.cidr).version == 6
    out: dict[str, Any] = {
        "direction": "ingress" if rule.direction == "inbound" else "egress",
        "ethertype": "IPv6" if v6 else "IPv4",
        "remote_ip_prefix": rule.cidr,
    }
    if rule.protocol == "ICMP":
        out["protocol"] = "ipv6-icmp" if v6 else "icmp"
    elif rule.protocol in ("TCP", "UDP"):
        out.update(protocol=rule.protocol.lower(), port_range_min=rule.from_port, port_range_max=rule.to_port)
    return out


def from_neutron(rule: Any) -> SecurityRule | None:
    """The mcinfra form of a Neutron rule; None for what has none (a remote group, another protocol)."""
    # SDK resources are dicts too, keyed by their own attribute names: read them as objects
    sdk = hasattr(rule, "to_dict")
    get = (lambda k: getattr(rule, SDK_NAMES.get(k, k), None)) if sdk else rule.get
    if get("remote_group_id") or get("remote_address_group_id"):
        return None
    proto = _PROTOCOLS.get(get("protocol") if get("protocol") is None else str(get("protocol")).lower())
    if proto is None:
        return None
    prefix = get("remote_ip_prefix") or ("::/0" if get("ethertype") == "IPv6" else "0.0.0.0/0")
    lo, hi = -1, -1
    if proto in ("TCP", "UDP"):
        lo = get("port_range_min") or 1
        hi = get("port_range_max") or 65535
    return SecurityRule(
        direction="inbound" if get("direction") == "ingress" else "outbound",
        protocol=proto,
        from_port=lo,
        to_port=hi,
        cidr=prefix,
    )  # type: ignore[arg-type]


class OpenStackSecurityGroupHandler(SecurityGroupHandler):
    def __init__(self, client: OpenStackClient) -> None:
        self.client = client

    def _group(self, sg_id: str) -> Any:
        return self.client.read(f"security group {sg_id}", self.client.network.get_security_group, sg_id)

    def _rules(self, sg_id: str) -> list[Any]:
        return self.client.list(
            f"rules of security group {sg_id}", self.client.network.security_group_rules, security_group_id=sg_id
        )

    def _info(self, sg: Any, rules: list[Any]) -> SecurityGroupInfo:
        mapped, other = [], []
        for r in rules:
            rule = from_neutron(r)
            if rule is None:
                other.append(
                    {"id": r.id, "direction": r.direction, "protocol": r.protocol, "remote_group_id": r.remote_group_id}
                )
            else:
                mapped.append(rule)
        m = VPC_NOTE.search(sg.description or "")
        extra: dict[str, Any] = {"stateful": sg.stateful}
        if other:
            extra["other_rules"] = other
        return SecurityGroupInfo(
            iid=IID(name_id=sg.name or sg.id, system_id=sg.id),
            vpc=m.group(1) if m else "",
            rules=dedupe_rules(mapped),
            extra=extra,
        )

    def _change(self, sg_id: str, add: list[SecurityRule], remove: list[SecurityRule], undo: Rollback) -> None:
        """Delete the Neutron rules matching ``remove``, then create ``add``; each step undoable."""
        if remove:
            for r in self._rules(sg_id):
                rule = from_neutron(r)
                if rule is not None and rule in remove:
                    self.client.delete(
                        f"security group rule {r.id}",
                        self.client.network.delete_security_group_rule,
                        r.id,
                        ignore_missing=False,
                    )
                    fields = to_neutron(rule)
                    undo.push(
                        f"rule {rule}",
                        lambda f=fields: self.client.write(
                            "security group rule",
                            self.client.network.create_security_group_rule,
                            security_group_id=sg_id,
                            **f,
                        ),
                    )
        for rule in add:
            try:
                made = self.client.write(
                    f"security group {sg_id} rule",
                    self.client.network.create_security_group_rule,
                    security_group_id=sg_id,
                    **to_neutron(rule),
                )
            except AlreadyExists:
                continue  # already in effect (SecurityGroupRuleExists): the set is what was asked
            undo.push(
                f"rule {made.id}",
                lambda rid=made.id: self.client.delete(
                    f"security group rule {rid}",
                    self.client.network.delete_security_group_rule,
                    rid,
                    ignore_missing=False,
                ),
            )

    def create(self, req: SecurityGroupReq) -> SecurityGroupInfo:
        wanted = dedupe_rules(req.rules)
        self.client.read(f"network {req.vpc}", self.client.network.get_network, req.vpc)
        with Rollback(f"security group {req.name}") as undo:
            sg = self.client.write(
                f"security group {req.name}",
                self.client.network.create_security_group,
                name=req.name,
                description=f"mcinfra:vpc={req.vpc}",
            )
            undo.push(
                f"security group {sg.id}",
                lambda: self.client.delete(
                    f"security group {sg.id}", self.client.network.delete_security_group, sg.id, ignore_missing=False
                ),
            )
            have = [r for r in (from_neutron(x) for x in self._rules(sg.id)) if r is not None]
            self._change(
                sg.id, add=[r for r in wanted if r not in have], remove=[r for r in have if r not in wanted], undo=undo
            )
            return self._info(sg, self._rules(sg.id))

    def get(self, iid: IID) -> SecurityGroupInfo:
        sg = self._group(iid.system_id)
        return self._info(sg, self._rules(sg.id))

    def list(self) -> list[SecurityGroupInfo]:
        # the project's "default" group is Neutron's own and cannot be deleted: not listed
        groups = [
            g for g in self.client.list("security groups", self.client.network.security_groups) if g.name != "default"
        ]
        rules: dict[str, list[Any]] = {}
        for r in self.client.list("security group rules", self.client.network.security_group_rules):
            rules.setdefault(r.security_group_id, []).append(r)
        return [self._info(g, rules.get(g.id, [])) for g in groups]

    def delete(self, iid: IID) -> None:
        sg = self._group(iid.system_id)
        if sg.name == "default":
            raise NotFound(f"[openstack] security group {sg.id} is the project's default group")
        self.client.delete(
            f"security group {sg.id}", self.client.network.delete_security_group, sg.id, ignore_missing=False
        )

    def add_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        self._group(iid.system_id)
        with Rollback(f"rules of security group {iid.system_id}") as undo:
            self._change(iid.system_id, add=dedupe_rules(rules), remove=[], undo=undo)
        return self.get(iid)

    def remove_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        self._group(iid.system_id)
        with Rollback(f"rules of security group {iid.system_id}") as undo:
            self._change(iid.system_id, add=[], remove=dedupe_rules(rules), undo=undo)
        return self.get(iid)
