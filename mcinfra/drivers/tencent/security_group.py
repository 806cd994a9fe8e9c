"""Security groups = Tencent security groups with their policy set (VPC API 2017-03-12).

A Tencent group is not bound to a VPC; the VPC the user named is kept in a tag
(``mcinfra-vpc``). A group with no policies denies everything in both directions, and only
``ACCEPT`` policies are written, so the policy set is exactly the rule list: the core's default
outbound rule becomes an ``Egress ALL 0.0.0.0/0 ACCEPT`` policy like any other.

Rules are written whole with ``ModifySecurityGroupPolicies`` (it replaces both directions at
once) carrying the set's ``Version``: an add or remove is one atomic call, and a concurrent
change elsewhere fails it (``UnsupportedOperation.VersionMismatch``) instead of being lost.
"""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import AlreadyExists, NotFound, Unsupported
from mcinfra.core.handlers import SecurityGroupHandler
from mcinfra.core.models import IID, SecurityGroupInfo, SecurityGroupReq, SecurityRule
from mcinfra.drivers.kit import Rollback, describe_one
from mcinfra.drivers.tencent.client import TencentClient
from mcinfra.drivers.tencent.vpc import VPC_TAG

DIRECTION = {"inbound": "Ingress", "outbound": "Egress"}


def to_policy(rule: SecurityRule) -> dict[str, Any]:
    v6 = ":" in rule.cidr
    protocol = rule.protocol
    if protocol == "ICMP" and v6:
        protocol = "ICMPv6"
    if rule.protocol in ("TCP", "UDP"):
        port = str(rule.from_port) if rule.from_port == rule.to_port else f"{rule.from_port}-{rule.to_port}"
    else:
        port = "ALL"
    policy = {"Protocol": protocol, "Port": port, "Action": "ACCEPT"}
    policy["Ipv6CidrBlock" if v6 else "CidrBlock"] = rule.cidr
    return policy


def from_policy(p: Any, direction: str) -> SecurityRule | None:
    """The rule a policy means, or None for one mcinfra cannot express (DROP, templates, GRE...)."""
    if str(p.Action or "").upper() != "ACCEPT":
        return None
    cidr = p.CidrBlock or p.Ipv6CidrBlock
    if not cidr:
        return None  # an address/service template or another group as the source
    protocol = str(p.Protocol or "").upper()
    if protocol == "ICMPV6":
        protocol = "ICMP"
    port = str(p.Port or "ALL").upper()
    if protocol in ("TCP", "UDP"):
        if port == "ALL":
            low, high = 1, 65535
        elif "-" in port:
            low, high = (int(x) for x in port.split("-", 1))
        elif port.isdigit():
            low = high = int(port)
        else:
            return None  # a port list ("22,80") has no single-rule form
        return SecurityRule(direction=direction, protocol=protocol, from_port=low, to_port=high, cidr=cidr)
    if protocol in ("ALL", "ICMP"):
        return SecurityRule(direction=direction, protocol=protocol, cidr=cidr)
    return None


def rules_of(policy_set: Any) -> tuple[list[SecurityRule], int]:
    """The rules of a policy set and how many policies had no mcinfra form."""
    rules, skipped = [], 0
    for direction, attr in (("inbound", "Ingress"), ("outbound", "Egress")):
        for p in getattr(policy_set, attr) or []:
            rule = from_policy(p, direction)
            if rule is None:
                skipped += 1
            else:
                rules.append(rule)
    return list(dict.fromkeys(rules)), skipped


def sg_vpc(sg: Any) -> str:
    return next((t.Value for t in sg.TagSet or [] if t.Key == VPC_TAG), "")


class TencentSecurityGroupHandler(SecurityGroupHandler):
    def __init__(self, api: TencentClient) -> None:
        self.api = api

    def _info(self, sg: Any, policy_set: Any) -> SecurityGroupInfo:
        rules, skipped = rules_of(policy_set)
        extra: dict[str, Any] = {"version": policy_set.Version, "description": sg.SecurityGroupDesc}
        if skipped:
            extra["policies_without_mcinfra_form"] = skipped
        return SecurityGroupInfo(iid=IID(name_id=sg.SecurityGroupName, system_id=sg.SecurityGroupId),
                                 vpc=sg_vpc(sg), rules=rules, extra=extra)

    def _group(self, sg_id: str) -> Any:
        page = self.api.call("vpc", "DescribeSecurityGroups", {"SecurityGroupIds": [sg_id]}, idempotent=True)
        return describe_one(page.SecurityGroupSet or [], f"security group {sg_id}")

    def _policies(self, sg_id: str) -> Any:
        return self.api.call("vpc", "DescribeSecurityGroupPolicies", {"SecurityGroupId": sg_id},
                           idempotent=True).SecurityGroupPolicySet

    def _write(self, sg_id: str, rules: list[SecurityRule], version: str | None) -> None:
        policy_set: dict[str, Any] = {
            "Ingress": [to_policy(r) for r in rules if r.direction == "inbound"],
            "Egress": [to_policy(r) for r in rules if r.direction == "outbound"],
        }
        if version is not None:
            policy_set["Version"] = version
        # not idempotent: a retried write after an unseen success would fail on the new Version
        self.api.call("vpc", "ModifySecurityGroupPolicies",
                    {"SecurityGroupId": sg_id, "SecurityGroupPolicySet": policy_set}, idempotent=False)

    def create(self, req: SecurityGroupReq) -> SecurityGroupInfo:
        api = self.api
        with Rollback(f"security group {req.name}") as undo:
            params = {"GroupName": req.name, "GroupDescription": f"mcinfra security group {req.name}",
                      "ProjectId": str(api.options.project_id), "Tags": [{"Key": VPC_TAG, "Value": req.vpc}]}
            sg = api.call("vpc", "CreateSecurityGroup", params, idempotent=False).SecurityGroup
            undo.push(f"security group {sg.SecurityGroupId}", lambda: self._delete(sg.SecurityGroupId))
            if req.rules:
                self._write(sg.SecurityGroupId, list(dict.fromkeys(req.rules)), None)
        return self._info(sg, self._policies(sg.SecurityGroupId))

    def get(self, iid: IID) -> SecurityGroupInfo:
        sg = self._group(iid.system_id)
        return self._info(sg, self._policies(sg.SecurityGroupId))

    def list(self) -> list[SecurityGroupInfo]:
        groups = self.api.list_all("vpc", "DescribeSecurityGroups", "SecurityGroupSet", as_strings=True)
        return [self._info(sg, self._policies(sg.SecurityGroupId)) for sg in groups if not sg.IsDefault]

    def list_iids(self) -> list[IID]:
        groups = self.api.list_all("vpc", "DescribeSecurityGroups", "SecurityGroupSet", as_strings=True)
        return [IID(name_id=sg.SecurityGroupName, system_id=sg.SecurityGroupId) for sg in groups if not sg.IsDefault]

    def delete(self, iid: IID) -> None:
        self._group(iid.system_id)
        self._delete(iid.system_id)

    def _delete(self, sg_id: str) -> None:
        self.api.call("vpc", "DeleteSecurityGroup", {"SecurityGroupId": sg_id}, idempotent=True)

    def _current(self, sg_id: str) -> tuple[list[SecurityRule], str]:
        """The group's rules and policy-set version; Unsupported when it holds policies a rewrite would drop."""
        policy_set = self._policies(sg_id)
        have, skipped = rules_of(policy_set)
        if skipped:
            raise Unsupported(f"[tencent] security group {sg_id} holds {skipped} policies mcinfra cannot express "
                              "(DROP, templates, port lists); change its rules in Tencent's console")
        return have, policy_set.Version

    def add_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        have, version = self._current(iid.system_id)
        dup = [r for r in rules if r in have]
        if dup:
            raise AlreadyExists(f"[tencent] security group {iid.system_id} already has rule {dup[0]}")
        self._write(iid.system_id, list(dict.fromkeys(have + rules)), version)
        return self.get(iid)

    def remove_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        have, version = self._current(iid.system_id)
        missing = [r for r in rules if r not in have]
        if missing:
            raise NotFound(f"[tencent] security group {iid.system_id} has no rule {missing[0]}")
        self._write(iid.system_id, [r for r in have if r not in rules], version)
        return self.get(iid)
