"""Security groups holding exactly the rule set asked for.

AWS gives every new group an "egress ALL 0.0.0.0/0" rule; the core already adds that rule to
the request unless the user removed it, so the driver brings the group to the requested set:
it authorizes what is missing and revokes what AWS added but was not asked for.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from mcinfra.core.handlers import SecurityGroupHandler
from mcinfra.core.models import IID, SecurityGroupInfo, SecurityGroupReq, SecurityRule, dedupe_rules
from mcinfra.drivers.aws.client import AwsClient, name_tag, tag_spec
from mcinfra.drivers.kit import Rollback

_PROTO_IN = {
    "-1": "ALL",
    "all": "ALL",
    "tcp": "TCP",
    "6": "TCP",
    "udp": "UDP",
    "17": "UDP",
    "icmp": "ICMP",
    "1": "ICMP",
    "icmpv6": "ICMP",
    "58": "ICMP",
}


def _is_v6(cidr: str) -> bool:
    return ipaddress.ip_network(cidr).version == 6


def to_permission(rule: SecurityRule) -> dict[str, Any]:
    """One mcinfra rule as an AWS IpPermission."""
    v6 = _is_v6(rule.cidr)
    perm: dict[str, Any]
    if rule.protocol == "ALL":
        perm = {"IpProtocol": "-1"}
    elif rule.protocol == "ICMP":
        # ICMP over IPv6 is its own protocol (58) at AWS; FromPort/ToPort are ICMP type/code.
        perm = {"IpProtocol": "icmpv6" if v6 else "icmp", "FromPort": -1, "ToPort": -1}
    else:
        perm = {"IpProtocol": rule.protocol.lower(), "FromPort": rule.from_port, "ToPort": rule.to_port}
    if v6:
        perm["Ipv6Ranges"] = [{"CidrIpv6": rule.cidr}]
    else:
        perm["IpRanges"] = [{"CidrIp": rule.cidr}]
    return perm


def from_permissions(perms: Iterable[dict[str, Any]], direction: str) -> tuple[list[SecurityRule], list[Any]]:
    """mcinfra rules for AWS IpPermissions, plus what has no mcinfra form (group references...)."""
    rules: list[SecurityRule] = []
    other: list[Any] = []
    for p in perms:
        proto = _PROTO_IN.get(str(p.get("IpProtocol", "")).lower())
        cidrs = [r["CidrIp"] for r in p.get("IpRanges", [])]
        cidrs += [r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])]
        if p.get("UserIdGroupPairs") or p.get("PrefixListIds"):
            other.append(
                {k: p[k] for k in ("IpProtocol", "FromPort", "ToPort", "UserIdGroupPairs", "PrefixListIds") if p.get(k)}
            )
        if proto is None:
            if cidrs:
                other.append({"IpProtocol": p.get("IpProtocol"), "cidrs": cidrs})
            continue
        if proto in ("ALL", "ICMP"):
            lo, hi = -1, -1
        else:
            lo, hi = int(p.get("FromPort", 1)), int(p.get("ToPort", 65535))
        for cidr in cidrs:
            rules.append(
                SecurityRule(
                    direction=direction,
                    protocol=proto,  # type: ignore[arg-type]
                    from_port=lo,
                    to_port=hi,
                    cidr=cidr,
                )
            )
    return rules, other


class AwsSecurityGroupHandler(SecurityGroupHandler):
    def __init__(self, client: AwsClient) -> None:
        self.api = client

    def _describe(self, sg_id: str) -> dict[str, Any]:
        return self.api.describe(
            "ec2", "describe_security_groups", "SecurityGroups", what=f"security group {sg_id}", GroupIds=[sg_id]
        )

    @staticmethod
    def _rules(sg: dict[str, Any]) -> tuple[list[SecurityRule], list[Any]]:
        ins, other_in = from_permissions(sg.get("IpPermissions", []), "inbound")
        outs, other_out = from_permissions(sg.get("IpPermissionsEgress", []), "outbound")
        return dedupe_rules(ins + outs), other_in + other_out

    def _info(self, sg: dict[str, Any]) -> SecurityGroupInfo:
        rules, other = self._rules(sg)
        extra: dict[str, Any] = {"group_name": sg.get("GroupName"), "description": sg.get("Description")}
        if other:
            extra["other_permissions"] = other
        return SecurityGroupInfo(
            iid=IID(name_id=name_tag(sg.get("Tags"), sg.get("GroupName", sg["GroupId"])), system_id=sg["GroupId"]),
            vpc=sg.get("VpcId", ""),
            rules=rules,
            extra=extra,
        )

    def _change(self, sg_id: str, add: list[SecurityRule], remove: list[SecurityRule]) -> None:
        """Apply rule changes as one unit: if a later call fails, earlier ones are undone."""
        plan: list[tuple[str, str, list[SecurityRule]]] = []
        for direction, kind in (("inbound", "ingress"), ("outbound", "egress")):
            adds = [r for r in add if r.direction == direction]
            rems = [r for r in remove if r.direction == direction]
            if rems:
                plan.append(("revoke", kind, rems))
            if adds:
                plan.append(("authorize", kind, adds))
        with Rollback(f"security group {sg_id} rules") as undo:
            for action, kind, rules in plan:
                perms = [to_permission(r) for r in rules]
                self.api.call(
                    "ec2",
                    f"{action}_security_group_{kind}",
                    what=f"security group {sg_id} rules",
                    GroupId=sg_id,
                    IpPermissions=perms,
                )
                opposite = "authorize" if action == "revoke" else "revoke"
                undo.push(
                    f"{action} {kind}",
                    lambda o=opposite, k=kind, p=perms: self.api.call(
                        "ec2", f"{o}_security_group_{k}", GroupId=sg_id, IpPermissions=p
                    ),
                )

    def create(self, req: SecurityGroupReq) -> SecurityGroupInfo:
        wanted = dedupe_rules(req.rules)
        made = self.api.call(
            "ec2",
            "create_security_group",
            what=f"security group {req.name}",
            GroupName=req.name,
            Description=f"mcinfra {req.name}",
            VpcId=req.vpc,
            TagSpecifications=tag_spec("security-group", req.name),
        )
        sg_id = made["GroupId"]
        with Rollback(f"security group {req.name}") as undo:
            undo.push("group", lambda: self.api.call("ec2", "delete_security_group", GroupId=sg_id))
            have, _ = self._rules(self._describe(sg_id))
            self._change(sg_id, add=[r for r in wanted if r not in have], remove=[r for r in have if r not in wanted])
            return self._info(self._describe(sg_id))

    def get(self, iid: IID) -> SecurityGroupInfo:
        return self._info(self._describe(iid.system_id))

    def list(self) -> list[SecurityGroupInfo]:
        # Every VPC's "default" group is AWS's own and cannot be deleted, so it is not listed.
        return [
            self._info(sg)
            for sg in self.api.pages("ec2", "describe_security_groups", "SecurityGroups")
            if sg.get("GroupName") != "default"
        ]

    def delete(self, iid: IID) -> None:
        self.api.call("ec2", "delete_security_group", what=f"security group {iid.system_id}", GroupId=iid.system_id)

    def add_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        self._change(iid.system_id, add=dedupe_rules(rules), remove=[])
        return self.get(iid)

    def remove_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        self._change(iid.system_id, add=[], remove=dedupe_rules(rules))
        return self.get(iid)
