"""What the conformance suite cannot see of AWS VPCs: the internet gateway and route that make
VMs reachable, their cleanup, and that refused or failed operations leave nothing half-made."""

from __future__ import annotations

from typing import Any

import pytest

from mcinfra.core.errors import AlreadyExists, CloudError, InUse, InvalidRequest, McInfraError, NotFound
from mcinfra.core.models import IID, SecurityGroupReq, SubnetReq, VPCReq
from tests.drivers.aws.conftest import fail_op, record_calls


def _vpc(conn: Any, **kw: Any) -> Any:
    subnets = kw.pop(
        "subnets",
        [
            SubnetReq(name="sn-a", cidr="10.0.1.0/24"),
            SubnetReq(name="sn-b", cidr="10.0.2.0/24", zone="us-east-1b"),
        ],
    )
    return conn.vpcs().create(VPCReq(name=kw.pop("name", "vpc-t"), cidr="10.0.0.0/16", subnets=subnets))


def _igws(ec2: Any, vpc_id: str) -> list[dict[str, Any]]:
    return ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])[
        "InternetGateways"
    ]


def test_vpc_gets_igw_default_route_and_public_subnets(conn: Any, ec2: Any) -> None:
    vpc = _vpc(conn)
    vpc_id = vpc.iid.system_id
    assert {s.iid.name_id: s.zone for s in vpc.subnets} == {"sn-a": "us-east-1a", "sn-b": "us-east-1b"}
    igws = _igws(ec2, vpc_id)
    assert len(igws) == 1
    main = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"]
    routes = {r.get("DestinationCidrBlock"): r.get("GatewayId") for r in main[0]["Routes"]}
    assert routes["0.0.0.0/0"] == igws[0]["InternetGatewayId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert all(s["MapPublicIpOnLaunch"] for s in subnets)


def test_delete_removes_igw_subnets_and_vpc(conn: Any, ec2: Any) -> None:
    vpc = _vpc(conn)
    igw_id = _igws(ec2, vpc.iid.system_id)[0]["InternetGatewayId"]
    conn.vpcs().delete(vpc.iid)
    assert not ec2.describe_internet_gateways(Filters=[{"Name": "internet-gateway-id", "Values": [igw_id]}])[
        "InternetGateways"
    ]
    assert not ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc.iid.system_id]}])["Subnets"]
    with pytest.raises(NotFound):
        conn.vpcs().get(vpc.iid)
    with pytest.raises(NotFound):
        conn.vpcs().delete(vpc.iid)


def test_delete_of_used_vpc_is_refused_and_leaves_it_whole(conn: Any, ec2: Any) -> None:
    vpc = _vpc(conn)
    conn.security_groups().create(SecurityGroupReq(name="sg-user", vpc=vpc.iid.system_id))
    with pytest.raises(InUse):
        conn.vpcs().delete(vpc.iid)
    assert len(_igws(ec2, vpc.iid.system_id)) == 1
    assert len(conn.vpcs().get(vpc.iid).subnets) == 2


def test_failed_subnet_create_removes_vpc_and_igw(conn: Any, ec2: Any) -> None:
    before_vpcs = len(ec2.describe_vpcs()["Vpcs"])
    before_igws = len(ec2.describe_internet_gateways()["InternetGateways"])
    with fail_op(ec2, "CreateSubnet", "SubnetLimitExceeded"), pytest.raises(CloudError) as err:
        _vpc(conn)
    assert err.value.code == "SubnetLimitExceeded"
    assert len(ec2.describe_vpcs()["Vpcs"]) == before_vpcs
    assert len(ec2.describe_internet_gateways()["InternetGateways"]) == before_igws


def test_failed_second_subnet_removes_the_first(conn: Any, ec2: Any) -> None:
    with pytest.raises(McInfraError):
        _vpc(
            conn,
            subnets=[
                SubnetReq(name="sn-a", cidr="10.0.1.0/24"),
                SubnetReq(name="sn-b", cidr="10.0.2.0/24", zone="us-east-1-nowhere"),
            ],
        )
    assert conn.vpcs().list() == []
    assert not [s for s in ec2.describe_subnets()["Subnets"] if s["CidrBlock"].startswith("10.0.")]


def test_add_and_remove_subnet(conn: Any) -> None:
    vpc = _vpc(conn)
    grown = conn.vpcs().add_subnet(vpc.iid, SubnetReq(name="sn-c", cidr="10.0.3.0/24", zone="us-east-1c"))
    added = next(s for s in grown.subnets if s.iid.name_id == "sn-c")
    assert added.zone == "us-east-1c"
    conn.vpcs().remove_subnet(vpc.iid, added.iid)
    assert {s.iid.name_id for s in conn.vpcs().get(vpc.iid).subnets} == {"sn-a", "sn-b"}
    with pytest.raises(NotFound):
        conn.vpcs().remove_subnet(vpc.iid, added.iid)


def test_overlapping_subnet_is_refused_before_any_create(conn: Any, ec2: Any) -> None:
    vpc = _vpc(conn)
    with record_calls(ec2) as calls, pytest.raises(InvalidRequest):
        conn.vpcs().add_subnet(vpc.iid, SubnetReq(name="sn-x", cidr="10.0.1.128/25"))
    assert "CreateSubnet" not in [op for op, _ in calls]
    with record_calls(ec2) as calls, pytest.raises(InvalidRequest):
        conn.vpcs().create(VPCReq(name="v2", cidr="10.1.0.0/16", subnets=[SubnetReq(name="s", cidr="10.2.0.0/24")]))
    assert calls == []


def test_default_vpc_is_not_listed_but_can_be_read(conn: Any, ec2: Any) -> None:
    default = [v for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault")]
    assert default, "moto gives us-east-1 a default VPC"
    assert conn.vpcs().list() == []
    got = conn.vpcs().get(IID(name_id="", system_id=default[0]["VpcId"]))
    assert got.extra["is_default"] is True


def test_duplicate_route_maps_to_already_exists(conn: Any, ec2: Any) -> None:
    with fail_op(ec2, "CreateVpc", "VpcLimitExceeded"), pytest.raises(CloudError):
        _vpc(conn)
    with fail_op(ec2, "CreateRoute", "RouteAlreadyExists"), pytest.raises(AlreadyExists):
        _vpc(conn)
    assert conn.vpcs().list() == []
