"""Half-made creates are rolled back: a fault injected at every mutating step of each create
leaves the cloud as it was; so do failures the cloud reports after accepting a request."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from mcinfra.core.errors import CloudError, McInfraError
from mcinfra.core.models import (
    IID,
    HealthChecker,
    KeyPairReq,
    Listener,
    NLBReq,
    SecurityGroupReq,
    SecurityRule,
    SubnetReq,
    VMGroup,
    VMReq,
    VPCReq,
)
from mcinfra.drivers.openstack.driver import OpenStackSession
from tests.drivers.openstack.conftest import OUT_ALL, SSH_IN, make_net, seeded
from tests.fakes.openstack import OpenStackFake

#: a documented error per service for any mutating call: Nova lists 403 for every operation,
#: Neutron's and Octavia's fault tables list 500
FAULT_STATUS = {"/compute/": 403, "/network/": 500, "/load-balancer/": 500}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def mutations(fake: OpenStackFake) -> list[tuple[str, str]]:
    """(method, path pattern) of every mutating request recorded, ids generalised."""
    out = []
    for r in fake.requests:
        if r.method in ("POST", "PUT", "DELETE") and not r.path.startswith("/identity"):
            out.append((r.method, "^" + UUID.sub("[^/]+", re.escape(r.path)) + "$"))
    return out


def each_step_rolls_back(fake: OpenStackFake, cloud: OpenStackSession, setup: Callable[[], Any],
                         create: Callable[[Any], Any]) -> int:
    """Run ``create`` once to learn its mutating steps, then once per step with that step failing;
    after each failure the fake holds what it held before. Returns the number of steps."""
    fake.reset()
    ctx = setup()
    fake.clear_requests()
    create(ctx)
    steps = mutations(fake)
    assert steps
    for i, (method, pattern) in enumerate(steps):
        fake.reset()
        ctx = setup()
        before = seeded(fake)
        earlier = sum(1 for m, p in steps[:i] if (m, p) == (method, pattern))
        status = next(s for prefix, s in FAULT_STATUS.items() if prefix in pattern.replace("\\", ""))
        # the step keeps failing: an idempotent one (a delete) is retried by the policy first
        fake.inject(method, pattern, status=status, reason="injected", message=f"step {i} fails", skip=earlier,
                    times=50)
        with pytest.raises(McInfraError):
            create(ctx)
        fake.clear_faults()
        assert seeded(fake) == before, f"step {i} ({method} {pattern}) left {seeded(fake)} (was {before})"
    return len(steps)


def test_vpc_create_rolls_back_at_every_step(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    req = VPCReq(name="vpc-x", cidr="10.0.0.0/16", subnets=[SubnetReq(name="a", cidr="10.0.1.0/24"),
                                                            SubnetReq(name="b", cidr="10.0.2.0/24")])
    # network, router, 2 x (subnet, interface)
    assert each_step_rolls_back(fake, cloud, lambda: None, lambda _: cloud.vpcs().create(req)) == 6


def test_sg_create_rolls_back_at_every_step(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    def setup() -> str:
        return cloud.vpcs().create(VPCReq(name="v", cidr="10.0.0.0/16")).iid.system_id

    rules = [SSH_IN, OUT_ALL, SecurityRule(direction="inbound", protocol="ICMP", cidr="10.0.0.0/8")]
    steps = each_step_rolls_back(fake, cloud, setup, lambda vpc: cloud.security_groups().create(
        SecurityGroupReq(name="sg-x", vpc=vpc, rules=rules)))
    assert steps == 4  # group, delete the IPv6 default egress, 2 ingress rules


def test_vm_start_rolls_back_at_every_step(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    def start(net: dict[str, str]) -> Any:
        return cloud.vms().start(VMReq(name="vm-x", image="ubuntu-22.04", spec="m1.small", vpc=net["vpc"],
                                       subnet=net["subnet"], security_groups=[net["sg"]], keypair=net["key"]))

    assert each_step_rolls_back(fake, cloud, lambda: make_net(cloud), start) == 3  # port, server, floating IP


def test_nlb_create_rolls_back_at_every_step(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    def setup() -> tuple[dict[str, str], str]:
        net = make_net(cloud)
        vm = cloud.vms().start(VMReq(name="vm-1", image="ubuntu-22.04", spec="m1.small", vpc=net["vpc"],
                                     subnet=net["subnet"], security_groups=[net["sg"]], keypair=net["key"]))
        return net, vm.iid.system_id

    def create(ctx: tuple[dict[str, str], str]) -> Any:
        net, vm = ctx
        return cloud.nlbs().create(NLBReq(
            name="nlb-x", vpc=net["vpc"], listener=Listener(protocol="TCP", port=80),
            vm_group=VMGroup(protocol="TCP", port=80, vms=[vm]),
            health_checker=HealthChecker(protocol="TCP", port=80, interval=10, timeout=10, threshold=3)))

    # load balancer, pool, health monitor, member, listener, floating IP
    assert each_step_rolls_back(fake, cloud, setup, create) == 6


def test_server_that_fails_after_acceptance_is_removed(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    net = make_net(cloud)
    before = seeded(fake)
    fake.state.build_polls = 3
    fake.fail_next_server("No valid host was found. There are not enough hosts available.")
    with pytest.raises(CloudError) as err:
        cloud.vms().start(VMReq(name="vm-x", image="ubuntu-22.04", spec="m1.small", vpc=net["vpc"],
                                subnet=net["subnet"], security_groups=[net["sg"]], keypair=net["key"]))
    assert err.value.code == "ServerBuildFailed" and "No valid host" in str(err.value)
    assert seeded(fake) == before
    # it was polled while BUILD, then seen in ERROR
    assert len(fake.find("GET", r"/compute/v2.1/servers/[^/]+$")) >= 4


def test_load_balancer_that_fails_after_acceptance_is_removed(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    net = make_net(cloud)
    before = seeded(fake)
    fake.fail_next_load_balancer()
    with pytest.raises(CloudError) as err:
        cloud.nlbs().create(NLBReq(
            name="nlb-x", vpc=net["vpc"], listener=Listener(protocol="TCP", port=80),
            vm_group=VMGroup(protocol="TCP", port=80, vms=[]),
            health_checker=HealthChecker(protocol="TCP", port=80, interval=10, timeout=10, threshold=3)))
    assert err.value.code == "LoadBalancerError" and "ERROR" in str(err.value)
    assert seeded(fake) == before


def test_wait_is_bounded(fake: OpenStackFake) -> None:
    from tests.drivers.openstack.conftest import connect

    fake.reset()
    cloud = connect(fake, wait_timeout=0.05)
    net = make_net(cloud)
    fake.state.build_polls = 10_000  # never leaves BUILD within the bound
    with pytest.raises(CloudError) as err:
        cloud.vms().start(VMReq(name="vm-x", image="ubuntu-22.04", spec="m1.small", vpc=net["vpc"],
                                subnet=net["subnet"], security_groups=[net["sg"]], keypair=net["key"]))
    assert err.value.code == "OperationTimeout"
    fake.state.build_polls = 0
    assert fake.state.servers == {} or all(s["task_state"] == "deleting" for s in fake.state.servers.values())


def test_keypair_failure_leaves_nothing(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    fake.inject("POST", r"/os-keypairs$", status=403, reason="injected", message="Quota exceeded for key pairs")
    with pytest.raises(CloudError) as err:
        cloud.keypairs().create(KeyPairReq(name="k"))
    assert err.value.code == "forbidden"
    assert fake.state.keypairs == {}
    assert cloud.keypairs().list() == []
    with pytest.raises(McInfraError):
        cloud.keypairs().get(IID(name_id="k", system_id="k"))


def test_load_balancer_that_fails_while_pending_is_still_deleted(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    net = make_net(cloud)
    nlb = cloud.nlbs().create(NLBReq(
        name="nlb-x", vpc=net["vpc"], listener=Listener(protocol="TCP", port=80),
        vm_group=VMGroup(protocol="TCP", port=80, vms=[]),
        health_checker=HealthChecker(protocol="TCP", port=80, interval=10, timeout=10, threshold=3)))
    lb = fake.state.lbs[nlb.iid.system_id]
    lb["provisioning_status"] = "ERROR"  # e.g. the amphora died after a change
    cloud.nlbs().delete(nlb.iid)
    assert fake.state.lbs == {} and fake.state.listeners == {}
