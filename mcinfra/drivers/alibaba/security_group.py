"""ECS security groups (in a VPC) and their rules.

Alibaba's normal security group denies inbound and allows all outbound until told otherwise,
and an egress *accept* rule does not take that allow-all away. So the rule set is kept exact
this way: the default outbound rule (ALL to 0.0.0.0/0) is "no egress Drop marker"; removing
it adds the marker (egress Drop ALL to 0.0.0.0/0 at the lowest priority, 100), after which
only the egress accept rules (priority 1) let traffic out; adding it back removes the marker.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import SecurityGroupHandler
from mcinfra.core.models import IID, SecurityGroupInfo, SecurityGroupReq, SecurityRule
from mcinfra.drivers.alibaba.client import AliClient
from mcinfra.drivers.kit import Rollback

OUT_ALL = SecurityRule(direction="outbound", protocol="ALL")
ACCEPT_PRIORITY = "1"
MARKER_PRIORITY = "100"


def _is_v6(cidr: str) -> bool:
    return ipaddress.ip_network(cidr, strict=False).version == 6


def permission(rule: SecurityRule, policy: str = "accept", priority: str = ACCEPT_PRIORITY) -> dict[str, str]:
    """The Authorize/Revoke permission fields (snake_case SDK names) for a rule."""
    proto = rule.protocol
    v6 = _is_v6(rule.cidr)
    if proto == "ICMP" and v6:
        proto = "ICMPv6"
    ports = f"{rule.from_port}/{rule.to_port}" if rule.protocol in ("TCP", "UDP") else "-1/-1"
    side = "source" if rule.direction == "inbound" else "dest"
    out = {"ip_protocol": proto, "port_range": ports, "policy": policy, "priority": priority}
    out[f"ipv_6{side}_cidr_ip" if v6 else f"{side}_cidr_ip"] = rule.cidr
    return out


def rule_of(perm: Any) -> SecurityRule | None:
    """The mcinfra rule an accept permission means (None for what mcinfra does not model)."""
    if (perm.policy or "Accept").lower() != "accept":
        return None
    direction = "inbound" if (perm.direction or "ingress") == "ingress" else "outbound"
    if direction == "inbound":
        cidr = perm.source_cidr_ip or perm.ipv_6source_cidr_ip
    else:
        cidr = perm.dest_cidr_ip or perm.ipv_6dest_cidr_ip
    if not cidr:
        return None  # a rule on another group or a prefix list
    proto = (perm.ip_protocol or "").upper()
    proto = "ICMP" if proto == "ICMPV6" else proto
    if proto not in ("TCP", "UDP", "ICMP", "ALL"):
        return None
    low, _, high = (perm.port_range or "-1/-1").partition("/")
    ports = (int(low), int(high)) if proto in ("TCP", "UDP") else (-1, -1)
    return SecurityRule(direction=direction, protocol=proto, from_port=ports[0], to_port=ports[1], cidr=cidr)


def _is_marker(perm: Any) -> bool:
    return (
        (perm.direction or "") == "egress"
        and (perm.policy or "").lower() == "drop"
        and (perm.ip_protocol or "").upper() == "ALL"
        and perm.dest_cidr_ip == "0.0.0.0/0"
    )


class AliSecurityGroupHandler(SecurityGroupHandler):
    def __init__(self, api: AliClient) -> None:
        self.api = api

    # ------------------------------------------------------------------ reads
    def _permissions(self, sg_id: str) -> tuple[Any, list[Any]]:
        body = self.api.read(
            "ecs", "DescribeSecurityGroupAttribute", region_id=self.api.region, security_group_id=sg_id
        )
        perms = list(body.permissions.permission) if body.permissions and body.permissions.permission else []
        return body, perms

    def _info(self, body: Any, perms: list[Any]) -> SecurityGroupInfo:
        rules = [r for r in (rule_of(p) for p in perms) if r is not None]
        if not any(_is_marker(p) for p in perms) and OUT_ALL not in rules:
            rules.append(OUT_ALL)
        return SecurityGroupInfo(
            iid=IID(name_id=body.security_group_name or body.security_group_id, system_id=body.security_group_id),
            vpc=body.vpc_id or "",
            rules=rules,
            extra={"description": body.description or ""},
        )

    def get(self, iid: IID) -> SecurityGroupInfo:
        return self._info(*self._permissions(iid.system_id))

    def _groups(self) -> list[Any]:
        # NextToken/MaxResults: Alibaba retires PageNumber/PageSize for this action
        return list(
            self.api.token_pages(
                "ecs", "DescribeSecurityGroups", lambda b: b.security_groups.security_group, region_id=self.api.region
            )
        )

    def list(self) -> list[SecurityGroupInfo]:
        out = []
        for g in self._groups():
            try:
                out.append(self.get(IID(name_id=g.security_group_name, system_id=g.security_group_id)))
            except NotFound:
                continue  # deleted since the listing
        return out

    def list_iids(self) -> list[IID]:
        return [
            IID(name_id=g.security_group_name or g.security_group_id, system_id=g.security_group_id)
            for g in self._groups()
        ]

    # ------------------------------------------------------------------ rule writes
    def _authorize(self, sg_id: str, rules: list[SecurityRule]) -> None:
        for direction, action, model in (
            ("inbound", "AuthorizeSecurityGroup", "AuthorizeSecurityGroupRequestPermissions"),
            ("outbound", "AuthorizeSecurityGroupEgress", "AuthorizeSecurityGroupEgressRequestPermissions"),
        ):
            perms = [self.api.model("ecs", model, **permission(r)) for r in rules if r.direction == direction]
            if perms:
                self.api.call(
                    "ecs", action, what=sg_id, region_id=self.api.region, security_group_id=sg_id, permissions=perms
                )

    def _set_marker(self, sg_id: str, present: bool, perms: list[Any]) -> None:
        have = [p for p in perms if _is_marker(p)]
        if present and not have:
            marker = permission(OUT_ALL, policy="drop", priority=MARKER_PRIORITY)
            self.api.call(
                "ecs",
                "AuthorizeSecurityGroupEgress",
                what=sg_id,
                region_id=self.api.region,
                security_group_id=sg_id,
                permissions=[self.api.model("ecs", "AuthorizeSecurityGroupEgressRequestPermissions", **marker)],
            )
        elif not present and have:
            self._revoke_ids(sg_id, "outbound", [p.security_group_rule_id for p in have])

    def _revoke_ids(self, sg_id: str, direction: str, rule_ids: list[str]) -> None:
        if rule_ids:
            action = "RevokeSecurityGroup" if direction == "inbound" else "RevokeSecurityGroupEgress"
            self.api.call(
                "ecs",
                action,
                what=sg_id,
                region_id=self.api.region,
                security_group_id=sg_id,
                security_group_rule_id=rule_ids,
            )

    def create(self, req: SecurityGroupReq) -> SecurityGroupInfo:
        with Rollback(f"security group {req.name}") as undo:
            sg_id = self.api.call(
                "ecs",
                "CreateSecurityGroup",
                what=req.name,
                region_id=self.api.region,
                vpc_id=req.vpc,
                security_group_name=req.name,
                security_group_type="normal",
            ).security_group_id
            undo.push(f"security group {sg_id}", lambda: self._delete(sg_id))
            self._authorize(sg_id, [r for r in req.rules if r != OUT_ALL])
            if OUT_ALL not in req.rules:
                self._set_marker(sg_id, True, [])
            return self.get(IID(name_id=req.name, system_id=sg_id))

    def add_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        _, perms = self._permissions(iid.system_id)
        self._authorize(iid.system_id, [r for r in rules if r != OUT_ALL])
        if OUT_ALL in rules:
            self._set_marker(iid.system_id, False, perms)
        return self.get(iid)

    def remove_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        _, perms = self._permissions(iid.system_id)
        for direction in ("inbound", "outbound"):
            gone = [
                p.security_group_rule_id
                for p in perms
                if (r := rule_of(p)) is not None and r.direction == direction and r in rules
            ]
            self._revoke_ids(iid.system_id, direction, gone)
        if OUT_ALL in rules:
            self._set_marker(iid.system_id, True, perms)
        return self.get(iid)

    # ------------------------------------------------------------------ delete
    def _delete(self, sg_id: str) -> None:
        self.api.call("ecs", "DeleteSecurityGroup", what=sg_id, region_id=self.api.region, security_group_id=sg_id)

    def delete(self, iid: IID) -> None:
        self._delete(iid.system_id)  # DependencyViolation (instances in it) -> InUse
