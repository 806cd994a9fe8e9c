import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcinfra.cladnet.allocator import AddressSpaceFull, Allocator
from mcinfra.cladnet.rules import PeerView, plan_rules, select
from mcinfra.cladnet.wgconfig import InterfaceSpec, render, strip
from mcinfra.errors import InvalidRequest


def test_allocates_in_order_and_never_reuses():
    a = Allocator("10.9.0.0/29")
    got = [a.allocate() for _ in range(6)]
    assert got == [f"10.9.0.{i}" for i in range(1, 7)]
    with pytest.raises(AddressSpaceFull, match="never reused"):
        a.allocate()
    # resuming from the high-water mark continues after the last handed out
    b = Allocator("10.9.0.0/29", next_index=3)
    assert b.allocate() == "10.9.0.4" and b.remaining == 2
    assert b.interface_address("10.9.0.4") == "10.9.0.4/29"


@settings(max_examples=100, deadline=None)
@given(st.integers(22, 30), st.integers(0, 50))
def test_allocation_unique_inside_space(prefix, start):
    a = Allocator(f"10.20.0.0/{prefix}")
    a.next_index = min(start, a.remaining)
    space = ipaddress.ip_network(f"10.20.0.0/{prefix}")
    seen = set()
    while a.remaining:
        ip = ipaddress.ip_address(a.allocate())
        assert ip in space and ip not in (space.network_address, space.broadcast_address)
        assert ip not in seen
        seen.add(ip)


def pv(key, conn, vpc, pub, priv, ip):
    return PeerView(key, ip, conn, vpc, pub, priv, f"{key}-pub")


PEERS = [
    pv("c1/a", "c1", "vpc-1", "203.0.113.1", "10.0.1.1", "10.9.0.1"),
    pv("c1/b", "c1", "vpc-1", "203.0.113.2", "10.0.1.2", "10.9.0.2"),
    pv("c2/c", "c2", "vpc-1", "203.0.113.3", "10.0.1.1", "10.9.0.3"),  # same VPC *name*, other connection
    pv("c1/d", "c1", "vpc-2", "203.0.113.4", "10.1.1.4", "10.9.0.4"),
]


def test_basic_always_public():
    rules = plan_rules(PEERS, "basic")
    assert all(r.endpoint.startswith("203.0.113.") and r.scope == "inter"
               for rs in rules.values() for r in rs)


def test_cost_prioritized_private_only_same_vpc_same_connection():
    rules = plan_rules(PEERS, "cost-prioritized")
    ends = {(r.source, r.peer): (r.endpoint, r.scope) for rs in rules.values() for r in rs}
    assert ends[("c1/a", "c1/b")] == ("10.0.1.2", "intra")
    assert ends[("c1/b", "c1/a")] == ("10.0.1.1", "intra")
    assert ends[("c1/a", "c2/c")] == ("203.0.113.3", "inter")
    assert ends[("c1/a", "c1/d")] == ("203.0.113.4", "inter")


def test_missing_private_ip_falls_back_and_bad_type_rejected():
    a = pv("c1/a", "c1", "v", "203.0.113.1", None, "10.9.0.1")
    b = pv("c1/b", "c1", "v", "203.0.113.2", "10.0.0.2", "10.9.0.2")
    assert select(a, b, "cost-prioritized").endpoint == "203.0.113.2"
    with pytest.raises(InvalidRequest, match="rule type"):
        plan_rules(PEERS, "cheapest")
    with pytest.raises(InvalidRequest, match="twice"):
        plan_rules([a, a], "basic")


peer_st = st.builds(
    lambda i, conn, vpc, pub, priv: pv(f"c{conn}/vm{i}", f"c{conn}", f"vpc{vpc}",
                                       f"203.0.113.{i % 250 + 1}" if pub else None,
                                       f"10.0.0.{i % 250 + 1}" if priv else None,
                                       f"10.9.{i // 250}.{i % 250 + 1}"),
    st.integers(0, 999), st.integers(0, 2), st.integers(0, 2), st.booleans(), st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(peer_st, max_size=15, unique_by=lambda p: p.key),
       st.sampled_from(["basic", "cost-prioritized"]))
def test_rules_full_mesh_and_symmetric_scope(peers, rule_type):
    rules = plan_rules(peers, rule_type)
    by = {p.key: p for p in peers}
    for src, rs in rules.items():
        assert sorted(r.peer for r in rs) == sorted(k for k in by if k != src)
        for r in rs:
            back = next(x for x in rules[r.peer] if x.peer == src)
            assert back.scope == r.scope
            assert r.overlay_ip == by[r.peer].overlay_ip
            if r.scope == "intra":
                assert rule_type == "cost-prioritized" and r.endpoint == by[r.peer].private_ip
                assert by[src].connection == by[r.peer].connection and by[src].vpc == by[r.peer].vpc
            else:
                assert r.endpoint == by[r.peer].public_ip


def test_config_has_no_private_key_and_strips():
    rules = plan_rules(PEERS, "cost-prioritized")["c1/a"]
    text = render(InterfaceSpec("cn-x", "10.9.0.1/24", 51820, 1420, "/etc/wireguard/cn-x.key"), rules)
    assert "PrivateKey" not in text
    assert "PostUp = wg set %i private-key /etc/wireguard/cn-x.key" in text
    assert "Endpoint = 10.0.1.2:51820" in text and "AllowedIPs = 10.9.0.3/32" in text
    assert text.count("[Peer]") == 3
    s = strip(text)
    assert "Address" not in s and "MTU" not in s and "PostUp" not in s and "ListenPort = 51820" in s
