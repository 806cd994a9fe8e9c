"""Network load balancers: create with defaults, members, health, changes."""

from __future__ import annotations

import ipaddress

import pytest

import mcinfra
from mcinfra import HealthChecker, Listener, VMGroup, VMStatus
from tests.conformance.conftest import start_vm


def test_nlb_lifecycle(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net, "vm-01")
    start_vm(cloud, target, net, "vm-02")
    nlb = cloud.nlbs.create("nlb-01", vpc=net.vpc, listener=Listener(protocol="TCP", port=22),
                            vm_group=VMGroup(protocol="TCP", port=22, vms=["vm-01"]))
    assert nlb.iid.name_id == "nlb-01" and nlb.vpc == net.vpc
    assert nlb.vm_group.vms == ["vm-01"]
    hc = nlb.health_checker
    assert (hc.protocol, hc.port, hc.interval, hc.threshold) == ("TCP", 22, 10, 3)  # CB-Spider's TCP defaults
    assert nlb.listener.ip or nlb.listener.dns_name
    assert [n.iid.name_id for n in cloud.nlbs.list()] == ["nlb-01"]

    group = cloud.nlbs.add_vms("nlb-01", ["vm-02"])
    assert sorted(group.vms) == ["vm-01", "vm-02"]
    health = cloud.nlbs.health("nlb-01")
    assert sorted(health.all) == ["vm-01", "vm-02"]
    assert set(health.healthy) | set(health.unhealthy) == {"vm-01", "vm-02"}
    with pytest.raises(mcinfra.AlreadyExists):
        cloud.nlbs.add_vms("nlb-01", ["vm-01"])
    assert cloud.nlbs.remove_vms("nlb-01", ["vm-01"]).vms == ["vm-02"]
    with pytest.raises(mcinfra.NotFound):
        cloud.nlbs.remove_vms("nlb-01", ["vm-01"])
    with pytest.raises(mcinfra.InUse):
        cloud.vms.terminate("vm-02")  # still a member

    cloud.nlbs.delete("nlb-01")
    with pytest.raises(mcinfra.NotFound):
        cloud.nlbs.get("nlb-01")


def test_nlb_defaults_and_changes(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net)
    nlb = cloud.nlbs.create("nlb-02", vpc=net.vpc, listener={"protocol": "tcp", "port": 22},
                            health_checker=HealthChecker(protocol="TCP"))
    assert (nlb.vm_group.protocol, nlb.vm_group.port, nlb.vm_group.vms) == ("TCP", 22, [])  # copied from listener
    assert cloud.nlbs.change_listener("nlb-02", Listener(protocol="TCP", port=2222)).port == 2222
    assert cloud.nlbs.get("nlb-02").listener.port == 2222
    assert cloud.nlbs.change_vm_group("nlb-02", VMGroup(protocol="TCP", port=22)).port == 22
    hc = cloud.nlbs.change_health_checker("nlb-02", HealthChecker(protocol="TCP", interval=30, threshold=5))
    assert (hc.interval, hc.threshold, hc.port) == (30, 5, 22)
    got = cloud.nlbs.get("nlb-02").health_checker
    assert (got.interval, got.threshold) == (30, 5)


def test_nlb_health_follows_vm_state(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net, "vm-01")
    cloud.nlbs.create("nlb-03", vpc=net.vpc, listener=Listener(port=22), vm_group=VMGroup(port=22, vms=["vm-01"]))
    cloud.vms.suspend("vm-01", wait=True, timeout=target.state_timeout)
    assert cloud.vms.status("vm-01") == VMStatus.SUSPENDED
    assert "vm-01" in cloud.nlbs.health("nlb-03").unhealthy


def test_nlb_errors(cloud: mcinfra.Connection, target, net) -> None:
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.nlbs.create("nlb-x", vpc=net.vpc, listener=Listener(port=22, protocol="TCP").model_dump() | {"port": 0})
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.nlbs.create("nlb-x", vpc=net.vpc, listener={"protocol": "ICMP", "port": 1})
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.nlbs.create("nlb-x", vpc=net.vpc, listener={"port": 80},
                          health_checker={"protocol": "TCP", "interval": 0})
    with pytest.raises(mcinfra.NotFound):
        cloud.nlbs.create("nlb-x", vpc="no-vpc", listener={"port": 80})
    with pytest.raises(mcinfra.NotFound):
        cloud.nlbs.create("nlb-x", vpc=net.vpc, listener={"port": 80}, vm_group={"port": 80, "vms": ["no-vm"]})
    with pytest.raises(mcinfra.NotFound):
        cloud.nlbs.health("nlb-x")


def test_nlb_internal(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net)
    nlb = cloud.nlbs.create("nlb-int", vpc=net.vpc, type="INTERNAL", listener=Listener(port=22))
    assert nlb.type == "INTERNAL" and nlb.vm_group.vms == []  # placed by the VPC alone, members come later
    assert cloud.nlbs.add_vms("nlb-int", ["vm-01"]).vms == ["vm-01"]
    assert nlb.listener.ip or nlb.listener.dns_name
    got = cloud.nlbs.get("nlb-int")
    assert got.type == "INTERNAL" and got.scope == "REGION"
    if got.listener.ip:  # an internal address, never one reachable from the internet
        assert not ipaddress.ip_address(got.listener.ip).is_global
    assert sorted(cloud.nlbs.health("nlb-int").all) == ["vm-01"]
    cloud.nlbs.delete("nlb-int")
    assert cloud.nlbs.list() == []


def test_nlb_http_health_checker(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net)
    nlb = cloud.nlbs.create("nlb-http", vpc=net.vpc, listener=Listener(port=80),
                            vm_group=VMGroup(port=80, vms=["vm-01"]), health_checker=HealthChecker(protocol="HTTP"))
    hc = nlb.health_checker
    assert (hc.protocol, hc.port, hc.interval, hc.timeout, hc.threshold) == ("HTTP", 80, 10, 6, 3)  # CB-Spider's
    got = cloud.nlbs.get("nlb-http").health_checker
    assert (got.protocol, got.port, got.interval, got.threshold) == ("HTTP", 80, 10, 3)
    health = cloud.nlbs.health("nlb-http")
    assert health.all == ["vm-01"] and set(health.healthy) | set(health.unhealthy) == {"vm-01"}
    # from HTTP to TCP on another port, and back
    hc = cloud.nlbs.change_health_checker("nlb-http", HealthChecker(protocol="TCP", port=22))
    assert (hc.protocol, hc.port) == ("TCP", 22)
    hc = cloud.nlbs.change_health_checker("nlb-http", HealthChecker(protocol="HTTP", port=8080, interval=30))
    assert (hc.protocol, hc.port, hc.interval) == ("HTTP", 8080, 30)
    got = cloud.nlbs.get("nlb-http").health_checker
    assert (got.protocol, got.port, got.interval) == ("HTTP", 8080, 30)


def test_nlb_udp(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net, "vm-01")
    start_vm(cloud, target, net, "vm-02")
    nlb = cloud.nlbs.create("nlb-udp", vpc=net.vpc, listener=Listener(protocol="UDP", port=53),
                            vm_group=VMGroup(protocol="UDP", port=53, vms=["vm-01"]),
                            health_checker=HealthChecker(protocol="TCP", port=22))  # UDP cannot be probed
    assert (nlb.listener.protocol, nlb.listener.port) == ("UDP", 53)
    assert (nlb.vm_group.protocol, nlb.vm_group.port, nlb.vm_group.vms) == ("UDP", 53, ["vm-01"])
    assert (nlb.health_checker.protocol, nlb.health_checker.port) == ("TCP", 22)
    got = cloud.nlbs.get("nlb-udp")
    assert (got.listener.protocol, got.vm_group.protocol) == ("UDP", "UDP")
    assert sorted(cloud.nlbs.add_vms("nlb-udp", ["vm-02"]).vms) == ["vm-01", "vm-02"]
    assert sorted(cloud.nlbs.health("nlb-udp").all) == ["vm-01", "vm-02"]
    assert cloud.nlbs.remove_vms("nlb-udp", ["vm-01"]).vms == ["vm-02"]
    cloud.nlbs.delete("nlb-udp")
    with pytest.raises(mcinfra.NotFound):
        cloud.nlbs.get("nlb-udp")
