"""VPC and subnet lifecycle, and the errors every driver must give the same way."""

from __future__ import annotations

import pytest

import mcinfra
from mcinfra import SubnetReq
from tests.conformance.conftest import calls


def test_vpc_lifecycle(cloud: mcinfra.Connection, target) -> None:
    subnets = [SubnetReq(name="sn-a", cidr="10.1.1.0/24")]
    if target.other_zone:
        subnets.append(SubnetReq(name="sn-b", cidr="10.1.2.0/24", zone=target.other_zone))
    vpc = cloud.vpcs.create("vpc-01", cidr="10.1.0.0/16", subnets=subnets)
    assert vpc.iid.name_id == "vpc-01" and vpc.iid.system_id
    assert vpc.cidr == "10.1.0.0/16"
    assert {s.iid.name_id: s.cidr for s in vpc.subnets} == {s.name: s.cidr for s in subnets}
    if target.other_zone:
        assert {s.iid.name_id: s.zone for s in vpc.subnets}["sn-b"] == target.other_zone

    got = cloud.vpcs.get("vpc-01")
    assert got.iid == vpc.iid and {s.iid for s in got.subnets} == {s.iid for s in vpc.subnets}
    assert [v.iid.name_id for v in cloud.vpcs.list()] == ["vpc-01"]

    after = cloud.vpcs.add_subnet("vpc-01", SubnetReq(name="sn-c", cidr="10.1.3.0/24"))
    assert "sn-c" in {s.iid.name_id for s in after.subnets}
    assert cloud.vpcs.subnet("vpc-01", "sn-c").cidr == "10.1.3.0/24"
    cloud.vpcs.remove_subnet("vpc-01", "sn-c")
    assert "sn-c" not in {s.iid.name_id for s in cloud.vpcs.get("vpc-01").subnets}

    cloud.vpcs.delete("vpc-01")
    with pytest.raises(mcinfra.NotFound):
        cloud.vpcs.get("vpc-01")
    assert cloud.vpcs.list() == []


def test_vpc_name_reusable_after_delete(cloud: mcinfra.Connection) -> None:
    first = cloud.vpcs.create("vpc-01", cidr="10.2.0.0/16")
    cloud.vpcs.delete("vpc-01")
    second = cloud.vpcs.create("vpc-01", cidr="10.2.0.0/16")
    assert second.iid.system_id != first.iid.system_id


def test_vpc_errors(cloud: mcinfra.Connection, infra: mcinfra.Infra) -> None:
    cloud.vpcs.create("vpc-01", cidr="10.3.0.0/16", subnets=[SubnetReq(name="sn-01", cidr="10.3.1.0/24")])
    with pytest.raises(mcinfra.AlreadyExists):
        cloud.vpcs.create("vpc-01", cidr="10.4.0.0/16")
    with pytest.raises(mcinfra.NotFound):
        cloud.vpcs.get("nope")
    with pytest.raises(mcinfra.NotFound):
        cloud.vpcs.delete("nope")
    with pytest.raises(mcinfra.AlreadyExists):
        cloud.vpcs.add_subnet("vpc-01", SubnetReq(name="sn-01", cidr="10.3.9.0/24"))
    with pytest.raises(mcinfra.NotFound):
        cloud.vpcs.remove_subnet("vpc-01", "nope")

    before = calls(infra)
    bad = [
        dict(name="vpc-02", cidr="10.5.0.0/33"),
        dict(name="2vpc", cidr="10.5.0.0/16"),
        dict(name="vpc-02", cidr="10.5.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.6.0.0/24")]),
        dict(name="vpc-02", cidr="10.5.0.0/16",
             subnets=[SubnetReq(name="a", cidr="10.5.1.0/24"), SubnetReq(name="b", cidr="10.5.1.128/25")]),
    ]
    for kwargs in bad:
        name = kwargs.pop("name")
        with pytest.raises(mcinfra.InvalidRequest):
            cloud.vpcs.create(name, **kwargs)
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.vpcs.add_subnet("vpc-01", {"name": "x", "cidr": "192.168.0.0/24"})
    assert calls(infra) == before  # bad input reached no CSP
    assert [v.iid.name_id for v in cloud.vpcs.list()] == ["vpc-01"]


def test_vpc_in_use(cloud: mcinfra.Connection, net) -> None:
    with pytest.raises(mcinfra.InUse):
        cloud.vpcs.delete(net.vpc)
    assert cloud.vpcs.get(net.vpc).iid.name_id == net.vpc
