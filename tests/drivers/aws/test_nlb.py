"""ELBv2 specifics: what an NLB is made of at AWS, and that nothing is left when it goes."""

from __future__ import annotations

from typing import Any

import pytest

from mcinfra.core.errors import CloudError, InvalidRequest, NotFound
from mcinfra.core.models import (
    IID,
    HealthChecker,
    KeyPairReq,
    Listener,
    NLBReq,
    SecurityGroupReq,
    SubnetReq,
    VMGroup,
    VMReq,
    VPCReq,
)
from mcinfra.drivers.aws.nlb import elb_name
from tests.conformance.targets import aws as aws_target
from tests.drivers.aws.conftest import fail_op


@pytest.fixture
def setup(conn: Any) -> dict[str, Any]:
    vpc = conn.vpcs().create(
        VPCReq(
            name="vpc-lb",
            cidr="10.0.0.0/16",
            subnets=[
                SubnetReq(name="sn-a", cidr="10.0.1.0/24"),
                SubnetReq(name="sn-a2", cidr="10.0.3.0/24"),
                SubnetReq(name="sn-b", cidr="10.0.2.0/24", zone="us-east-1b"),
            ],
        )
    )
    sg = conn.security_groups().create(SecurityGroupReq(name="sg-lb", vpc=vpc.iid.system_id))
    conn.keypairs().create(KeyPairReq(name="key-lb"))
    vm = conn.vms().start(
        VMReq(
            name="vm-lb",
            image=aws_target.IMAGE,
            spec=aws_target.SPEC,
            vpc=vpc.iid.system_id,
            subnet=vpc.subnets[0].iid.system_id,
            security_groups=[sg.iid.system_id],
            keypair="key-lb",
        )
    )
    return {"vpc": vpc.iid.system_id, "vm": vm.iid.system_id}


def _req(setup: dict[str, Any], name: str = "nlb-t", protocol: str = "TCP") -> NLBReq:
    return NLBReq(
        name=name,
        vpc=setup["vpc"],
        listener=Listener(protocol=protocol, port=80),
        vm_group=VMGroup(protocol=protocol, port=8080, vms=[setup["vm"]]),
        health_checker=HealthChecker(protocol="TCP").with_defaults(8080),
    )


def test_nlb_is_network_type_with_one_subnet_per_zone(conn: Any, elbv2: Any, setup: dict[str, Any]) -> None:
    nlb = conn.nlbs().create(_req(setup))
    lb = elbv2.describe_load_balancers(LoadBalancerArns=[nlb.iid.system_id])["LoadBalancers"][0]
    assert (lb["Type"], lb["Scheme"]) == ("network", "internet-facing")
    assert sorted(z["ZoneName"] for z in lb["AvailabilityZones"]) == ["us-east-1a", "us-east-1b"]
    tg = elbv2.describe_target_groups(LoadBalancerArn=nlb.iid.system_id)["TargetGroups"][0]
    assert (tg["Protocol"], tg["Port"], tg["TargetType"], tg["HealthCheckProtocol"]) == ("TCP", 8080, "instance", "TCP")
    assert nlb.vm_group.vms == [setup["vm"]]
    assert nlb.listener.dns_name


def test_udp_nlb(conn: Any, setup: dict[str, Any]) -> None:
    nlb = conn.nlbs().create(_req(setup, protocol="UDP"))
    assert (nlb.listener.protocol, nlb.vm_group.protocol, nlb.health_checker.protocol) == ("UDP", "UDP", "TCP")


def test_delete_removes_listener_lb_and_target_group(conn: Any, elbv2: Any, setup: dict[str, Any]) -> None:
    nlb = conn.nlbs().create(_req(setup))
    conn.nlbs().delete(nlb.iid)
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert elbv2.describe_target_groups()["TargetGroups"] == []
    with pytest.raises(NotFound):
        conn.nlbs().get(nlb.iid)
    with pytest.raises(NotFound):
        conn.nlbs().delete(nlb.iid)


@pytest.mark.parametrize("operation", ["CreateTargetGroup", "RegisterTargets", "CreateListener"])
def test_failed_create_leaves_nothing(conn: Any, elbv2: Any, setup: dict[str, Any], operation: str) -> None:
    with fail_op(elbv2, operation, "TooManyTargetGroups"), pytest.raises(CloudError):
        conn.nlbs().create(_req(setup))
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert elbv2.describe_target_groups()["TargetGroups"] == []


def test_change_vm_group_replaces_the_target_group(conn: Any, elbv2: Any, setup: dict[str, Any]) -> None:
    nlb = conn.nlbs().create(_req(setup))
    old_tg = nlb.extra["target_group_arn"]
    group = conn.nlbs().change_vm_group(nlb.iid, VMGroup(protocol="TCP", port=9090))
    assert (group.port, group.vms) == (9090, [setup["vm"]])
    tgs = elbv2.describe_target_groups()["TargetGroups"]
    assert [t["Port"] for t in tgs] == [9090] and tgs[0]["TargetGroupArn"] != old_tg
    got = conn.nlbs().get(nlb.iid)
    assert got.vm_group.port == 9090 and got.health_checker.port == 8080
    conn.nlbs().delete(nlb.iid)
    assert elbv2.describe_target_groups()["TargetGroups"] == []


def test_change_health_checker_to_http(conn: Any, elbv2: Any, setup: dict[str, Any]) -> None:
    nlb = conn.nlbs().create(_req(setup))
    hc = conn.nlbs().change_health_checker(
        nlb.iid, HealthChecker(protocol="HTTP", port=8080, interval=30, timeout=5, threshold=4)
    )
    assert (hc.protocol, hc.port, hc.interval, hc.timeout, hc.threshold) == ("HTTP", 8080, 30, 5, 4)
    tg = elbv2.describe_target_groups(TargetGroupArns=[nlb.extra["target_group_arn"]])["TargetGroups"][0]
    assert tg["HealthCheckPath"] == "/"


def test_elb_names_and_missing_nlbs(conn: Any) -> None:
    assert elb_name("web_lb-abc") == "web-lb-abc"
    assert len(elb_name("a" * 40)) == 32
    with pytest.raises(InvalidRequest):
        elb_name("internal-thing")
    ghost = IID(name_id="x", system_id="arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/x/1")
    for call in (conn.nlbs().get, conn.nlbs().health, conn.nlbs().delete):
        with pytest.raises(NotFound):
            call(ghost)
