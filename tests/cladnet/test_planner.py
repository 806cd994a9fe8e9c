import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcinfra.cladnet.planner import (
    PRIVATE_BLOCKS,
    capacity,
    check_address_space,
    free_blocks,
    prefix_for,
    recommend_address_space,
)
from mcinfra.errors import InvalidRequest


def nets(xs):
    return [ipaddress.ip_network(x) for x in xs]


def test_seed_bug_overlap_not_prefix_equality():
    # The seed kept 10.0.0.0/24 "available" next to 10.0.0.0/16 and blocked it for 10.5.0.0/24.
    rec = recommend_address_space(["10.0.0.0/16", "10.5.0.0/24"], peers=3)
    for c in [*rec.candidates, rec.recommended]:
        assert not any(ipaddress.ip_network(c).overlaps(n) for n in nets(["10.0.0.0/16", "10.5.0.0/24"]))
    assert "10.0.0.0/16" not in rec.space_10


def test_seed_bug_192_filtered_with_172_table():
    rec = recommend_address_space(["192.168.0.0/30"], peers=1)
    assert all(not ipaddress.ip_network(c).overlaps(ipaddress.ip_network("192.168.0.0/30"))
               for c in rec.space_192)


def test_all_blocks_taken_gives_no_recommendation():
    rec = recommend_address_space(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], peers=2)
    assert rec.recommended is None and rec.candidates == []


def test_recommendation_avoids_block_base_and_has_headroom():
    rec = recommend_address_space([], peers=10)
    net = ipaddress.ip_network(rec.recommended)
    assert capacity(net) >= 20
    assert net.subnet_of(ipaddress.ip_network("10.0.0.0/8"))
    assert net.network_address != ipaddress.ip_address("10.0.0.0")


def test_falls_through_to_next_block():
    rec = recommend_address_space(["10.0.0.0/8"], peers=4)
    assert ipaddress.ip_network(rec.recommended).subnet_of(ipaddress.ip_network("172.16.0.0/12"))


def test_ipv6_ignored_and_bad_cidr_rejected():
    assert recommend_address_space(["fd00::/8"], peers=1).recommended
    with pytest.raises(InvalidRequest, match="not a valid CIDR"):
        recommend_address_space(["10.0.0.300/24"])


def test_check_address_space_names_overlap_and_size():
    with pytest.raises(InvalidRequest, match=r"overlaps 10\.0\.1\.0/24"):
        check_address_space("10.0.0.0/16", ["10.0.1.0/24", "172.16.0.0/16"])
    with pytest.raises(InvalidRequest, match="holds 6 overlay addresses; 10 peers"):
        check_address_space("10.9.0.0/29", [], peers=10)
    with pytest.raises(InvalidRequest, match="not inside"):
        check_address_space("100.64.0.0/24")
    with pytest.raises(InvalidRequest, match="host bits"):
        check_address_space("10.9.0.1/24")
    with pytest.raises(InvalidRequest, match="smaller than"):
        check_address_space("10.9.0.0/31")
    assert str(check_address_space("10.9.0.0/24", ["10.8.0.0/16"], peers=200)) == "10.9.0.0/24"


private_cidr = st.builds(
    lambda block, offset, plen: str(ipaddress.ip_network(
        (int(block.network_address) + offset % block.num_addresses, plen), strict=False)),
    st.sampled_from(PRIVATE_BLOCKS), st.integers(0, 2**24), st.integers(8, 32),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(private_cidr, max_size=12), st.integers(0, 5000))
def test_recommendation_never_overlaps_and_fits(cidrs, peers):
    rec = recommend_address_space(cidrs, peers=peers)
    used = nets(cidrs)
    for c in rec.candidates:
        assert not any(ipaddress.ip_network(c).overlaps(u) for u in used)
    if rec.recommended is not None:
        net = ipaddress.ip_network(rec.recommended)
        assert any(net.subnet_of(b) for b in PRIVATE_BLOCKS)
        assert not any(net.overlaps(u) for u in used)
        assert capacity(net) >= peers * 2
        assert net.prefixlen == prefix_for(peers)
        check_address_space(rec.recommended, cidrs, peers=peers)


@settings(max_examples=200, deadline=None)
@given(st.lists(private_cidr, max_size=10))
def test_free_blocks_partition_the_block(cidrs):
    used = nets(cidrs)
    for block in PRIVATE_BLOCKS:
        free = free_blocks(block, used)
        covered = list(ipaddress.collapse_addresses([u for u in used if u.overlaps(block)]))
        covered_in = sum(min(c.num_addresses, block.num_addresses) for c in covered)
        assert sum(f.num_addresses for f in free) + covered_in == block.num_addresses
        for a in free:
            assert a.subnet_of(block)
            assert not any(a.overlaps(u) for u in used)
