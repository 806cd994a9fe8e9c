"""The VM status table (docs/vm-status.md) and the NSG rule mapping, both ways."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mcinfra.core.models import SecurityRule, VMStatus
from mcinfra.drivers.azure.security_group import HIDDEN, azure_rules, rules_of, to_rule
from mcinfra.drivers.azure.vm import vm_status

STATUS = [
    (["ProvisioningState/creating"], VMStatus.CREATING),
    (["ProvisioningState/creating", "PowerState/starting"], VMStatus.CREATING),
    (["ProvisioningState/succeeded"], VMStatus.CREATING),
    (["ProvisioningState/succeeded", "PowerState/running"], VMStatus.RUNNING),
    (["ProvisioningState/updating", "PowerState/running"], VMStatus.RUNNING),
    (["ProvisioningState/succeeded", "PowerState/starting"], VMStatus.RESUMING),
    (["ProvisioningState/succeeded", "PowerState/deallocating"], VMStatus.SUSPENDING),
    (["ProvisioningState/succeeded", "PowerState/deallocated"], VMStatus.SUSPENDED),
    (["ProvisioningState/succeeded", "PowerState/stopping"], VMStatus.SUSPENDING),
    (["ProvisioningState/succeeded", "PowerState/stopped"], VMStatus.SUSPENDED),
    (["ProvisioningState/deleting", "PowerState/running"], VMStatus.TERMINATING),
    (["ProvisioningState/failed/AllocationFailed", "PowerState/running"], VMStatus.FAILED),
    (["ProvisioningState/failed/OSProvisioningTimedOut"], VMStatus.FAILED),
    (["ProvisioningState/somethingnew", "PowerState/unknown"], VMStatus.FAILED),
]


@pytest.mark.parametrize("codes,expected", STATUS)
def test_vm_status_table(codes: list[str], expected: VMStatus) -> None:
    view = SimpleNamespace(statuses=[SimpleNamespace(code=c) for c in codes])
    assert vm_status(view) == expected


RULES = [
    SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="0.0.0.0/0"),
    SecurityRule(direction="inbound", protocol="UDP", from_port=1, to_port=65535, cidr="192.168.1.0/24"),
    SecurityRule(direction="inbound", protocol="TCP", from_port=1000, to_port=2000, cidr="172.16.0.0/12"),
    SecurityRule(direction="inbound", protocol="ICMP", cidr="10.0.0.0/8"),
    SecurityRule(direction="inbound", protocol="TCP", from_port=443, to_port=443, cidr="::/0"),
    SecurityRule(direction="outbound", protocol="ALL"),
]


def test_rules_round_trip_with_hidden_denies() -> None:
    azure = azure_rules(RULES)
    assert [r.name for r in azure[-2:]] == list(HIDDEN)
    assert all(r.priority == 4096 and r.access == "Deny" for r in azure[-2:])
    inbound = [r.priority for r in azure if r.direction == "Inbound" and r.name not in HIDDEN]
    assert inbound == [100, 101, 102, 103, 104]  # allocated per direction, in order
    assert rules_of(SimpleNamespace(security_rules=azure)) == RULES


def test_rules_mcinfra_does_not_model_are_left_out() -> None:
    deny = SimpleNamespace(protocol="Tcp", access="Deny", direction="Inbound", source_address_prefix="*",
                           destination_address_prefix="*", destination_port_range="22")
    tagged = SimpleNamespace(protocol="Tcp", access="Allow", direction="Inbound", source_address_prefix="AzureCloud",
                             destination_address_prefix="*", destination_port_range="80")
    star = SimpleNamespace(protocol="*", access="Allow", direction="Inbound", source_address_prefix="*",
                           destination_address_prefix="*", destination_port_range="*")
    assert to_rule(deny) is None and to_rule(tagged) is None
    assert to_rule(star) == SecurityRule(direction="inbound", protocol="ALL", cidr="0.0.0.0/0")
