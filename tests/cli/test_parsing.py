"""The CLI's string formats: rules, subnets, listeners, VM groups, health checkers, KEY=VALUE."""

from __future__ import annotations

import pytest

from mcinfra.cli.context import parse_pairs
from mcinfra.cli.network import parse_rule, parse_subnet
from mcinfra.cli.nlb import parse_health_checker, parse_listener, parse_vm_group
from mcinfra.core.errors import InvalidRequest
from mcinfra.core.models import HealthChecker, Listener, SecurityRule, SubnetReq, VMGroup


@pytest.mark.parametrize(("text", "rule"), [
    ("inbound:tcp:22", SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22)),
    ("Inbound:TCP:8000:8100:10.0.0.0/8",
     SecurityRule(direction="inbound", protocol="TCP", from_port=8000, to_port=8100, cidr="10.0.0.0/8")),
    ("outbound:all", SecurityRule(direction="outbound", protocol="ALL")),
    ("outbound:ALL:-1:-1:0.0.0.0/0", SecurityRule(direction="outbound", protocol="ALL")),
    ("inbound:icmp:::192.168.0.0/16", SecurityRule(direction="inbound", protocol="ICMP", cidr="192.168.0.0/16")),
    ("inbound:udp:53:53:2001:db8::/32",
     SecurityRule(direction="inbound", protocol="UDP", from_port=53, to_port=53, cidr="2001:db8::/32")),
    ("inbound:tcp:443:443:::/0", SecurityRule(direction="inbound", protocol="TCP", from_port=443, to_port=443,
                                              cidr="::/0")),
])
def test_parse_rule(text: str, rule: SecurityRule) -> None:
    assert parse_rule(text) == rule


@pytest.mark.parametrize("text", ["", "inbound", "inbound:tcp", "inbound:tcp:0", "inbound:tcp:22:21",
                                  "inbound:tcp:x", "inbound:icmp:22", "in:tcp:22", "inbound:sctp:22",
                                  "inbound:tcp:22:22:10.0.0.0/33"])
def test_parse_rule_rejects(text: str) -> None:
    with pytest.raises(InvalidRequest) as exc:
        parse_rule(text)
    assert exc.value.field == "rule"


def test_parse_subnet() -> None:
    assert parse_subnet("sn-01=10.0.1.0/24") == SubnetReq(name="sn-01", cidr="10.0.1.0/24")
    assert parse_subnet("sn-02=10.0.2.0/24@zone-b") == SubnetReq(name="sn-02", cidr="10.0.2.0/24", zone="zone-b")
    for bad in ("sn-01", "sn-01=10.0.1.0/40", "1x=10.0.1.0/24"):
        with pytest.raises(InvalidRequest):
            parse_subnet(bad)


def test_parse_nlb_parts() -> None:
    assert parse_listener("80") == Listener(port=80)
    assert parse_listener("udp:53") == Listener(protocol="UDP", port=53)
    assert parse_vm_group("TCP:8080", ["a", "b"]) == VMGroup(port=8080, vms=["a", "b"])
    assert parse_health_checker("HTTP") == HealthChecker(protocol="HTTP")
    assert parse_health_checker("TCP:80:5::2") == HealthChecker(port=80, interval=5, threshold=2)
    assert parse_health_checker("tcp:-1:-1:-1:-1") == HealthChecker()
    for fn, bad in ((parse_listener, "tcp:"), (parse_listener, "sctp:80"), (parse_listener, "70000"),
                    (parse_health_checker, ""), (parse_health_checker, "ICMP"), (parse_health_checker, "TCP:1:0")):
        with pytest.raises(InvalidRequest):
            fn(bad)


def test_parse_pairs() -> None:
    assert parse_pairs(["a=1", "b=x=y", "c="], "key") == {"a": "1", "b": "x=y", "c": ""}
    assert parse_pairs(["n=1.5", "l=[1,2]", "t=true", "z=null", "s=hello", "o={\"k\":1}"], "option",
                       json_values=True) == {"n": 1.5, "l": [1, 2], "t": True, "z": None, "s": "hello", "o": {"k": 1}}
    assert parse_pairs(None, "key") == {}
    with pytest.raises(InvalidRequest) as exc:
        parse_pairs(["secretvalue"], "key")
    assert "secretvalue" not in str(exc.value)
    with pytest.raises(InvalidRequest):
        parse_pairs(["=v"], "key")
