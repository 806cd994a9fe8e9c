"""Security group = network security group (NSG), attached to each VM's NIC.

An NSG belongs to no VNet in Azure; the VPC it was made for is kept in its ``mcinfra-vpc`` tag.
Every change PUTs the whole NSG (one long-running operation), so adding or removing several
rules is atomic. Rule priorities are allocated by the driver, per direction, from 100 upwards.

Azure's six default rules (priority 65000+) are never reported. Two of them would let through
traffic mcinfra's rules do not allow (AllowVnetInBound; AllowVnetOutBound/AllowInternetOutBound
when the group has no outbound-all rule), so every NSG carries two hidden rules at priority
4096, ``mcinfra-deny-vnet-in`` and ``mcinfra-deny-all-out``, which make the NSG mean exactly its
reported rules, as on the other clouds. AllowAzureLoadBalancerInBound stays: load-balancer
health probes must reach the VMs.
"""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import AlreadyExists, NotFound
from mcinfra.core.handlers import SecurityGroupHandler
from mcinfra.core.models import IID, SecurityGroupInfo, SecurityGroupReq, SecurityRule
from mcinfra.drivers.azure.client import AzureClient, split_id, text
from mcinfra.drivers.azure.names import check_name

TAG_VPC = "mcinfra-vpc"
HIDDEN = ("mcinfra-deny-vnet-in", "mcinfra-deny-all-out")
FIRST_PRIORITY, LAST_PRIORITY = 100, 4095
PROTOCOL_TO_AZURE = {"ALL": "*", "TCP": "Tcp", "UDP": "Udp", "ICMP": "Icmp"}
PROTOCOL_FROM_AZURE = {v.lower(): k for k, v in PROTOCOL_TO_AZURE.items()}


def port_range(rule: SecurityRule) -> str:
    if rule.from_port == -1:
        return "*"
    return str(rule.from_port) if rule.from_port == rule.to_port else f"{rule.from_port}-{rule.to_port}"


def to_rule(r: Any) -> SecurityRule | None:
    """An NSG security rule -> mcinfra rule (None for a rule mcinfra does not model)."""
    protocol = PROTOCOL_FROM_AZURE.get(text(r.protocol).lower())
    if protocol is None or text(r.access).lower() != "allow":
        return None
    inbound = text(r.direction).lower() == "inbound"
    cidr = r.source_address_prefix if inbound else r.destination_address_prefix
    if cidr in (None, "*", "Internet", "Any"):
        cidr = "0.0.0.0/0"
    ports = r.destination_port_range or "*"
    if ports == "*":
        low, high = (-1, -1) if protocol in ("ALL", "ICMP") else (1, 65535)
    else:
        low_s, _, high_s = ports.partition("-")
        low, high = int(low_s), int(high_s or low_s)
    try:
        return SecurityRule(direction="inbound" if inbound else "outbound", protocol=protocol, from_port=low,
                            to_port=high, cidr=cidr)
    except ValueError:
        return None  # a service tag or other Azure-only prefix


def rules_of(nsg: Any) -> list[SecurityRule]:
    out = []
    for r in nsg.security_rules or []:
        if r.name in HIDDEN:
            continue
        rule = to_rule(r)
        if rule is not None and rule not in out:
            out.append(rule)
    return out


def sg_info(nsg: Any) -> SecurityGroupInfo:
    return SecurityGroupInfo(iid=IID(name_id=nsg.name, system_id=nsg.id), vpc=(nsg.tags or {}).get(TAG_VPC, ""),
                             rules=rules_of(nsg),
                             extra={"location": nsg.location, "provisioning_state": text(nsg.provisioning_state)})


def azure_rules(rules: list[SecurityRule]) -> list[Any]:
    """mcinfra rules -> NSG rules, priorities allocated per direction, plus the two hidden rules."""
    from azure.mgmt.network.models import SecurityRule as AzRule

    out, next_priority = [], {"inbound": FIRST_PRIORITY, "outbound": FIRST_PRIORITY}
    for rule in rules:
        priority = next_priority[rule.direction]
        if priority > LAST_PRIORITY:
            from mcinfra.core.errors import InvalidRequest

            raise InvalidRequest(f"an NSG holds at most {LAST_PRIORITY - FIRST_PRIORITY + 1} rules per direction")
        next_priority[rule.direction] = priority + 1
        inbound = rule.direction == "inbound"
        out.append(AzRule(
            name=f"{rule.direction}-{priority}", protocol=PROTOCOL_TO_AZURE[rule.protocol], access="Allow",
            direction="Inbound" if inbound else "Outbound", priority=priority,
            source_port_range="*", destination_port_range=port_range(rule),
            source_address_prefix=rule.cidr if inbound else "*",
            destination_address_prefix="*" if inbound else rule.cidr))
    out.append(AzRule(name=HIDDEN[0], protocol="*", access="Deny", direction="Inbound", priority=4096,
                      source_port_range="*", destination_port_range="*", source_address_prefix="VirtualNetwork",
                      destination_address_prefix="*", description="mcinfra: only the listed rules let traffic in"))
    out.append(AzRule(name=HIDDEN[1], protocol="*", access="Deny", direction="Outbound", priority=4096,
                      source_port_range="*", destination_port_range="*", source_address_prefix="*",
                      destination_address_prefix="*", description="mcinfra: only the listed rules let traffic out"))
    return out


class AzureSecurityGroupHandler(SecurityGroupHandler):
    def __init__(self, api: AzureClient) -> None:
        self.api = api

    def find(self, system_id: str) -> Any:
        group, name = split_id(system_id, self.api.group)
        return self.api.call("network", "network_security_groups.get", group, name, idempotent=True)

    def _put(self, group: str, name: str, vpc: str, rules: list[SecurityRule]) -> Any:
        from azure.mgmt.network.models import NetworkSecurityGroup

        body = NetworkSecurityGroup(location=self.api.location, tags={"mcinfra": "true", TAG_VPC: vpc},
                                    security_rules=azure_rules(rules))
        return self.api.run("network", "network_security_groups.begin_create_or_update", group, name, body,
                          idempotent=True)

    def create(self, req: SecurityGroupReq) -> SecurityGroupInfo:
        check_name(req.name, "security_group")
        self.api.ensure_group()
        group, vnet = split_id(req.vpc, self.api.group)
        self.api.call("network", "virtual_networks.get", group, vnet, idempotent=True)  # NotFound for a bad VPC
        try:
            self.find(req.name)
            raise AlreadyExists(f"network security group {req.name!r} already exists in {self.api.group!r}")
        except NotFound:
            pass
        return sg_info(self._put(self.api.group, req.name, req.vpc, list(req.rules)))

    def get(self, iid: IID) -> SecurityGroupInfo:
        return sg_info(self.find(iid.system_id))

    def list(self) -> list[SecurityGroupInfo]:
        self.api.ensure_group()
        nsgs = self.api.call("network", "network_security_groups.list", self.api.group, idempotent=True)
        return [sg_info(n) for n in nsgs]

    def delete(self, iid: IID) -> None:
        nsg = self.find(iid.system_id)
        group, _ = split_id(nsg.id, self.api.group)
        self.api.run("network", "network_security_groups.begin_delete", group, nsg.name, idempotent=True)

    def add_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        nsg = self.find(iid.system_id)
        now = rules_of(nsg)
        there = [r for r in rules if r in now]
        if there:
            raise AlreadyExists(f"NSG {nsg.name!r} already has {', '.join(map(str, there))}")
        group, _ = split_id(nsg.id, self.api.group)
        return sg_info(self._put(group, nsg.name, (nsg.tags or {}).get(TAG_VPC, ""), now + list(rules)))

    def remove_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        nsg = self.find(iid.system_id)
        now = rules_of(nsg)
        absent = [r for r in rules if r not in now]
        if absent:
            raise NotFound(f"NSG {nsg.name!r} has no {', '.join(map(str, absent))}")
        group, _ = split_id(nsg.id, self.api.group)
        kept = [r for r in now if r not in rules]
        return sg_info(self._put(group, nsg.name, (nsg.tags or {}).get(TAG_VPC, ""), kept))
