"""Security groups mean the same traffic on every driver."""

from __future__ import annotations

import pytest

import mcinfra
from mcinfra import SecurityRule, SubnetReq
from tests.conformance.conftest import SSH_IN, calls

OUT_ALL = SecurityRule(direction="outbound", protocol="ALL")
ICMP_IN = SecurityRule(direction="inbound", protocol="ICMP", cidr="10.0.0.0/8")
UDP_IN = SecurityRule(direction="inbound", protocol="UDP", from_port=1, to_port=65535, cidr="192.168.1.0/24")
TCP_RANGE = SecurityRule(direction="inbound", protocol="TCP", from_port=1000, to_port=2000, cidr="172.16.0.0/12")
V6_IN = SecurityRule(direction="inbound", protocol="TCP", from_port=443, to_port=443, cidr="::/0")


@pytest.fixture
def vpc(cloud: mcinfra.Connection) -> str:
    cloud.vpcs.create("vpc-sg", cidr="10.20.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.20.1.0/24")])
    return "vpc-sg"


def test_sg_lifecycle(cloud: mcinfra.Connection, vpc: str) -> None:
    sg = cloud.security_groups.create("sg-01", vpc=vpc, rules=[SSH_IN])
    assert sg.iid.name_id == "sg-01" and sg.vpc == vpc
    assert set(sg.rules) == {SSH_IN, OUT_ALL}  # a new group allows all outbound
    assert set(cloud.security_groups.get("sg-01").rules) == {SSH_IN, OUT_ALL}
    assert [s.iid.name_id for s in cloud.security_groups.list()] == ["sg-01"]
    cloud.security_groups.delete("sg-01")
    with pytest.raises(mcinfra.NotFound):
        cloud.security_groups.get("sg-01")


def test_sg_empty_denies_inbound(cloud: mcinfra.Connection, vpc: str) -> None:
    sg = cloud.security_groups.create("sg-empty", vpc=vpc)
    assert sg.rules == [OUT_ALL]
    assert not [r for r in sg.rules if r.direction == "inbound"]


def test_sg_rule_kinds(cloud: mcinfra.Connection, vpc: str) -> None:
    rules = [SSH_IN, ICMP_IN, UDP_IN, TCP_RANGE, V6_IN]
    sg = cloud.security_groups.create("sg-kinds", vpc=vpc, rules=rules)
    assert set(sg.rules) == {*rules, OUT_ALL}
    assert set(cloud.security_groups.get("sg-kinds").rules) == {*rules, OUT_ALL}


def test_sg_add_remove_rules(cloud: mcinfra.Connection, vpc: str) -> None:
    cloud.security_groups.create("sg-01", vpc=vpc, rules=[SSH_IN])
    got = cloud.security_groups.add_rules("sg-01", [ICMP_IN, UDP_IN])
    assert set(got.rules) == {SSH_IN, OUT_ALL, ICMP_IN, UDP_IN}
    # adding one that exists fails and adds nothing (atomic)
    with pytest.raises(mcinfra.AlreadyExists):
        cloud.security_groups.add_rules("sg-01", [TCP_RANGE, SSH_IN])
    assert TCP_RANGE not in cloud.security_groups.get("sg-01").rules
    # removing one that is absent fails and removes nothing
    with pytest.raises(mcinfra.NotFound):
        cloud.security_groups.remove_rules("sg-01", [ICMP_IN, TCP_RANGE])
    assert ICMP_IN in cloud.security_groups.get("sg-01").rules
    got = cloud.security_groups.remove_rules("sg-01", [ICMP_IN, UDP_IN])
    assert set(got.rules) == {SSH_IN, OUT_ALL}
    # the default outbound rule is an ordinary rule: it can go, and come back
    assert set(cloud.security_groups.remove_rules("sg-01", [OUT_ALL]).rules) == {SSH_IN}
    assert set(cloud.security_groups.get("sg-01").rules) == {SSH_IN}
    assert set(cloud.security_groups.add_rules("sg-01", [OUT_ALL]).rules) == {SSH_IN, OUT_ALL}


def test_sg_rule_normalisation(cloud: mcinfra.Connection, vpc: str) -> None:
    sg = cloud.security_groups.create("sg-norm", vpc=vpc, rules=[
        {"direction": "INBOUND", "protocol": "tcp", "from_port": "22", "to_port": "22", "cidr": ""}])
    assert SSH_IN in sg.rules


def test_sg_errors(cloud: mcinfra.Connection, infra: mcinfra.Infra, vpc: str) -> None:
    with pytest.raises(mcinfra.NotFound):
        cloud.security_groups.create("sg-x", vpc="no-vpc")
    cloud.security_groups.create("sg-01", vpc=vpc)
    with pytest.raises(mcinfra.AlreadyExists):
        cloud.security_groups.create("sg-01", vpc=vpc)
    before = calls(infra)
    for bad in (
        {"direction": "sideways", "protocol": "TCP", "from_port": 22, "to_port": 22},
        {"direction": "inbound", "protocol": "GRE"},
        {"direction": "inbound", "protocol": "TCP", "from_port": 0, "to_port": 22},
        {"direction": "inbound", "protocol": "TCP", "from_port": 30, "to_port": 22},
        {"direction": "inbound", "protocol": "TCP", "from_port": 22, "to_port": 70000},
        {"direction": "inbound", "protocol": "ICMP", "from_port": 8, "to_port": 8},
        {"direction": "inbound", "protocol": "ALL", "from_port": 1, "to_port": 65535},
        {"direction": "inbound", "protocol": "TCP", "from_port": 22, "to_port": 22, "cidr": "10.0.0.300/8"},
    ):
        with pytest.raises(mcinfra.InvalidRequest):
            cloud.security_groups.create("sg-bad", vpc=vpc, rules=[bad])
        with pytest.raises(mcinfra.InvalidRequest):
            cloud.security_groups.add_rules("sg-01", [bad])
    assert calls(infra) == before
    with pytest.raises(mcinfra.NotFound):
        cloud.security_groups.get("sg-bad")


def test_sg_in_use(cloud: mcinfra.Connection, target, net) -> None:
    from tests.conformance.conftest import start_vm

    start_vm(cloud, target, net)
    with pytest.raises(mcinfra.InUse):
        cloud.security_groups.delete(net.sg)
