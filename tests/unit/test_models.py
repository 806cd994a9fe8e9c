"""Validation: every bad input is an InvalidRequest naming the field; good input normalises."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mcinfra
from mcinfra import HealthChecker, SecurityRule
from mcinfra.core import validation as v
from mcinfra.core.models import NAME_PATTERN, SubnetReq, check_subnets_fit


@given(st.text(max_size=80))
def test_name_rule_matches_the_documented_pattern(text: str) -> None:
    ok = bool(NAME_PATTERN.match(text))
    if ok:
        assert v.name(text) == text
        assert text[0].isascii() and text[0].isalpha() and len(text) <= 63
    else:
        with pytest.raises(mcinfra.InvalidRequest) as err:
            v.name(text)
        assert err.value.field == "name"


ports = st.integers(min_value=-5, max_value=70000)


@given(st.sampled_from(["TCP", "UDP", "ICMP", "ALL", "tcp", "GRE"]), ports, ports)
def test_rule_ports(protocol: str, lo: int, hi: int) -> None:
    data = {"direction": "inbound", "protocol": protocol, "from_port": lo, "to_port": hi}
    valid = (protocol.upper() in ("TCP", "UDP") and 1 <= lo <= hi <= 65535) or (
        protocol.upper() in ("ICMP", "ALL") and lo == hi == -1)
    if valid:
        rule = v.build(SecurityRule, "rule", data)
        assert rule.protocol == protocol.upper()
    else:
        with pytest.raises(mcinfra.InvalidRequest):
            v.build(SecurityRule, "rule", data)


@given(st.ip_addresses(v=4), st.integers(0, 32))
def test_rule_cidr_is_normalised(addr: ipaddress.IPv4Address, prefix: int) -> None:
    rule = SecurityRule(direction="outbound", protocol="ALL", cidr=f"{addr}/{prefix}")
    assert rule.cidr == str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def test_rule_defaults_and_equality() -> None:
    a = SecurityRule(direction="Inbound", protocol="tcp", from_port="22", to_port=22, cidr="")
    b = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="0.0.0.0/0")
    assert a == b and hash(a) == hash(b)
    assert SecurityRule(direction="inbound", protocol="ICMP").from_port == -1
    assert SecurityRule(direction="inbound", protocol="TCP", from_port=1, to_port=1, cidr="::/0").cidr == "::/0"


def test_invalid_request_names_the_field() -> None:
    with pytest.raises(mcinfra.InvalidRequest) as err:
        v.build(SecurityRule, "rules[0]", {"direction": "inbound", "protocol": "TCP", "from_port": 0, "to_port": 1})
    assert "rules[0]" in str(err.value)
    with pytest.raises(mcinfra.InvalidRequest) as err:
        v.build(SubnetReq, "subnets[1]", {"name": "sn", "cidr": "10.0.0.0/40"})
    assert err.value.field == "cidr" and "subnets[1]" in str(err.value)


@given(st.lists(st.tuples(st.integers(0, 255), st.integers(20, 28)), max_size=6))
def test_subnet_fit_agrees_with_ipaddress(specs: list[tuple[int, int]]) -> None:
    vpc = ipaddress.ip_network("10.0.0.0/16")
    subnets = [SubnetReq(name=f"s{i}", cidr=str(ipaddress.ip_network(f"10.0.{third}.0/{p}", strict=False)))
               for i, (third, p) in enumerate(specs)]
    nets = [ipaddress.ip_network(s.cidr) for s in subnets]
    overlap = any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
    inside = all(n.subnet_of(vpc) for n in nets)
    if overlap or not inside:
        with pytest.raises(ValueError):
            check_subnets_fit(str(vpc), subnets)
    else:
        check_subnets_fit(str(vpc), subnets)


def test_health_checker_defaults_as_cb_spider() -> None:
    tcp = HealthChecker().with_defaults(80)
    http = HealthChecker(protocol="http").with_defaults(8080)
    assert (tcp.port, tcp.interval, tcp.timeout, tcp.threshold) == (80, 10, 10, 3)
    assert (http.port, http.interval, http.timeout, http.threshold) == (8080, 10, 6, 3)
    assert HealthChecker(port=81, interval=5).with_defaults(80).port == 81
    with pytest.raises(ValueError):
        HealthChecker(timeout=0)


def test_private_key_never_in_repr() -> None:
    key = mcinfra.KeyPairInfo(iid=mcinfra.IID(name_id="k", system_id="k"), private_key="-----BEGIN SECRET")
    assert "SECRET" not in repr(key) and "SECRET" not in str(key)
