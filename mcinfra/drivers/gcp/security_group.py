"""Security group = the firewall rules that target a network tag named after the SG.

The SG's system id is that tag. Each allow rule is one firewall rule whose name is derived
from the SG and the rule (so removing a rule finds its firewall by name). GCP's implied
rules are "ingress deny, egress allow" at the lowest priority; an SG whose rule set lacks
"outbound ALL 0.0.0.0/0" gets one explicit egress deny (priority 65534) scoped to its tag,
so the tag's traffic is exactly what the rule set allows. Every SG therefore owns at least
one firewall rule, which is how it is found again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mcinfra.core.errors import AlreadyExists, InUse, NotFound
from mcinfra.core.handlers import SecurityGroupHandler
from mcinfra.core.models import (
    DEFAULT_OUTBOUND_RULE,
    IID,
    SecurityGroupInfo,
    SecurityGroupReq,
    SecurityRule,
    dedupe_rules,
)
from mcinfra.drivers.gcp.client import GcpClient, check_name, last
from mcinfra.drivers.kit import Rollback

MARK = "mcinfra-sg:"
DENY_MARK = "mcinfra-sg-egress-deny:"
ALLOW_PRIORITY = 1000
DENY_PRIORITY = 65534


def rule_name(sg: str, rule: SecurityRule | None) -> str:
    """A firewall name unique to (SG, rule), <= 63 characters."""
    key = f"{sg}|{rule}" if rule is not None else f"{sg}|egress-deny"
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    return f"{sg[:52].rstrip('-')}-{digest}"


def _gcp_protocol(rule: SecurityRule) -> str:
    if rule.protocol == "ICMP" and ":" in rule.cidr:
        return "58"  # ICMPv6 has its own protocol number in GCP firewalls
    return {"ALL": "all", "TCP": "tcp", "UDP": "udp", "ICMP": "icmp"}[rule.protocol]


def _from_firewall(fw: Any) -> list[SecurityRule]:
    direction = "inbound" if fw.direction == "INGRESS" else "outbound"
    ranges = list(fw.source_ranges if direction == "inbound" else fw.destination_ranges) or ["0.0.0.0/0"]
    out = []
    for allowed in fw.allowed:
        proto = allowed.I_p_protocol.upper()
        proto = {"ALL": "ALL", "TCP": "TCP", "UDP": "UDP", "ICMP": "ICMP", "58": "ICMP"}.get(proto)
        if proto is None:
            continue  # a protocol the unified model has no word for (esp, sctp...)
        port_specs = list(allowed.ports) if proto in ("TCP", "UDP") else []
        if proto in ("TCP", "UDP") and not port_specs:
            port_specs = ["1-65535"]
        for cidr in ranges:
            if not port_specs:
                out.append(SecurityRule(direction=direction, protocol=proto, cidr=cidr))
            for spec in port_specs:
                lo, _, hi = spec.partition("-")
                out.append(
                    SecurityRule(
                        direction=direction,
                        protocol=proto,
                        from_port=int(lo),
                        to_port=int(hi or lo),
                        cidr=cidr,
                    )
                )
    return out


class GcpSecurityGroupHandler(SecurityGroupHandler):
    def __init__(self, api: GcpClient) -> None:
        self.api = api

    # ------------------------------------------------------------------ helpers
    def _firewalls(self) -> list[Any]:
        return list(self.api.call("FirewallsClient", "list", idempotent=True, project=self.api.project))

    @staticmethod
    def _sg_of(fw: Any) -> str | None:
        desc = fw.description or ""
        for mark in (MARK, DENY_MARK):
            if desc.startswith(mark):
                return desc[len(mark) :]
        return None

    def _groups(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for fw in self._firewalls():
            sg = self._sg_of(fw)
            if sg:
                out.setdefault(sg, []).append(fw)
        return out

    def _info(self, sg: str, fws: list[Any]) -> SecurityGroupInfo:
        rules: list[SecurityRule] = []
        for fw in fws:
            if (fw.description or "").startswith(MARK) and not fw.disabled:
                rules.extend(_from_firewall(fw))
        return SecurityGroupInfo(
            iid=IID(name_id=sg, system_id=sg),
            vpc=last(fws[0].network),
            rules=dedupe_rules(rules),
            extra={"network_tag": sg, "firewall_rules": sorted(fw.name for fw in fws)},
        )

    def _firewall(self, sg: str, network: str, rule: SecurityRule | None) -> Any:
        compute = self.api.compute
        if rule is None:
            return compute.Firewall(
                name=rule_name(sg, None),
                network=self.api.network_link(network),
                direction="EGRESS",
                priority=DENY_PRIORITY,
                denied=[compute.Denied(I_p_protocol="all")],
                destination_ranges=["0.0.0.0/0"],
                target_tags=[sg],
                description=f"{DENY_MARK}{sg}",
            )
        allowed = compute.Allowed(I_p_protocol=_gcp_protocol(rule))
        if rule.protocol in ("TCP", "UDP"):
            ports = str(rule.from_port) if rule.from_port == rule.to_port else f"{rule.from_port}-{rule.to_port}"
            allowed.ports = [ports]
        fw = compute.Firewall(
            name=rule_name(sg, rule),
            network=self.api.network_link(network),
            direction="INGRESS" if rule.direction == "inbound" else "EGRESS",
            priority=ALLOW_PRIORITY,
            allowed=[allowed],
            target_tags=[sg],
            description=f"{MARK}{sg}",
        )
        if rule.direction == "inbound":
            fw.source_ranges = [rule.cidr]
        else:
            fw.destination_ranges = [rule.cidr]
        return fw

    def _insert(self, fw: Any) -> None:
        self.api.mutate("FirewallsClient", "insert_unary", project=self.api.project, firewall_resource=fw)

    def _delete(self, name: str) -> None:
        self.api.mutate("FirewallsClient", "delete_unary", project=self.api.project, firewall=name)

    def _apply(
        self,
        sg: str,
        network: str,
        add: list[SecurityRule],
        remove: list[SecurityRule],
        had_default: bool,
        has_default: bool,
    ) -> None:
        """Insert then delete firewalls; if an insert fails, delete the ones this call inserted."""
        inserts = [self._firewall(sg, network, r) for r in add]
        if had_default and not has_default:
            inserts.append(self._firewall(sg, network, None))
        with Rollback(f"security group {sg!r} rules") as undo:
            for fw in inserts:
                self._insert(fw)
                undo.push(f"firewall {fw.name!r}", lambda n=fw.name: self._delete(n))
        deletes = [rule_name(sg, r) for r in remove]
        if has_default and not had_default:
            deletes.append(rule_name(sg, None))
        for name in deletes:
            self._delete(name)

    # ------------------------------------------------------------------ SecurityGroupHandler
    def create(self, req: SecurityGroupReq) -> SecurityGroupInfo:
        check_name(req.name, "security group")
        api = self.api
        api.call("NetworksClient", "get", idempotent=True, project=api.project, network=req.vpc)
        if req.name in self._groups():
            raise AlreadyExists(f"security group (network tag) {req.name!r} already has firewall rules")
        rules = dedupe_rules(req.rules)
        # A new SG starts with no rules, i.e. egress denied until the default rule is added.
        self._apply(req.name, req.vpc, rules, [], had_default=True, has_default=DEFAULT_OUTBOUND_RULE in rules)
        return self.get(IID(name_id=req.name, system_id=req.name))

    def get(self, iid: IID) -> SecurityGroupInfo:
        fws = self._groups().get(iid.system_id)
        if not fws:
            raise NotFound(f"security group {iid.system_id!r} has no firewall rules in project {self.api.project!r}")
        return self._info(iid.system_id, fws)

    def list(self) -> list[SecurityGroupInfo]:
        return [self._info(sg, fws) for sg, fws in sorted(self._groups().items())]

    def delete(self, iid: IID) -> None:
        info = self.get(iid)
        # GCP would let the rules go while VMs still carry the tag; refuse as other clouds do.
        api = self.api
        for _, scoped in api.call("InstancesClient", "aggregated_list", idempotent=True, project=api.project):
            for vm in scoped.instances:
                if iid.system_id in vm.tags.items:
                    raise InUse(f"security group {iid.system_id!r} is still used by VM {vm.name!r}")
        for name in info.extra["firewall_rules"]:
            self._delete(name)

    def add_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        info = self.get(iid)
        new = [r for r in dedupe_rules(rules) if r not in info.rules]
        had = DEFAULT_OUTBOUND_RULE in info.rules
        self._apply(iid.system_id, info.vpc, new, [], had_default=had, has_default=had or DEFAULT_OUTBOUND_RULE in new)
        return self.get(iid)

    def remove_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        info = self.get(iid)
        gone = [r for r in dedupe_rules(rules) if r in info.rules]
        had = DEFAULT_OUTBOUND_RULE in info.rules
        self._apply(
            iid.system_id,
            info.vpc,
            [],
            gone,
            had_default=had,
            has_default=had and DEFAULT_OUTBOUND_RULE not in gone,
        )
        return self.get(iid)
