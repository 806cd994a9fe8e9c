"""The Tencent driver on the loopback fake: rollback of half-made creates under a fault at every
step, the one retry policy (counted at the fake), paging, asynchronous work and its failures."""

from __future__ import annotations

import pytest

from mcinfra.core.errors import AlreadyExists, CloudError, InUse, NotFound
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
    VMStatus,
    VPCReq,
)
from mcinfra.drivers.tencent.driver import TencentSession
from tests.drivers.tencent.conftest import IMAGE, SPEC, ZONE, connect
from tests.fakes import FAKE_RATE
from tests.fakes.tencent import TencentFake

SSH = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22)
OUT = SecurityRule(direction="outbound", protocol="ALL")


def net(s: TencentSession) -> tuple[str, str, str, str]:
    vpc = s.vpcs().create(VPCReq(name="v", cidr="10.0.0.0/16", subnets=[SubnetReq(name="s", cidr="10.0.1.0/24")]))
    sg = s.security_groups().create(SecurityGroupReq(name="g", vpc=vpc.iid.system_id, rules=[SSH, OUT]))
    key = s.keypairs().create(KeyPairReq(name="k_1"))
    return vpc.iid.system_id, vpc.subnets[0].iid.system_id, sg.iid.system_id, key.iid.system_id


def vm_req(vpc: str, subnet: str, sg: str, key: str, name: str = "vm") -> VMReq:
    return VMReq(name=name, image=IMAGE, spec=SPEC, vpc=vpc, subnet=subnet, security_groups=[sg], keypair=key,
                 zone=ZONE)


def nlb_req(vpc: str, vms: list[str], *, type_: str = "PUBLIC") -> NLBReq:
    return NLBReq(name="lb", vpc=vpc, type=type_, listener=Listener(protocol="TCP", port=80),
                  vm_group=VMGroup(protocol="TCP", port=8080, vms=vms),
                  health_checker=HealthChecker(protocol="TCP", port=8080, interval=10, timeout=5, threshold=3))


# ---------------------------------------------------------------- rollback at every step
@pytest.mark.parametrize("step", [0, 1])
def test_vpc_create_rolls_back_when_a_subnet_fails(session: TencentSession, fake: TencentFake, step: int) -> None:
    fake.fail("CreateSubnet", "InvalidParameterValue.SubnetConflict", skip=step)
    req = VPCReq(name="v", cidr="10.0.0.0/16",
                 subnets=[SubnetReq(name="a", cidr="10.0.1.0/24"), SubnetReq(name="b", cidr="10.0.2.0/24")])
    with pytest.raises(CloudError, match="SubnetConflict"):
        session.vpcs().create(req)
    assert not fake.state.regions["ap-guangzhou"].vpcs and not fake.state.regions["ap-guangzhou"].subnets
    assert len(fake.calls("DeleteSubnet")) == step and len(fake.calls("DeleteVpc")) == 1


def test_rollback_failure_is_noted_and_the_first_error_kept(session: TencentSession, fake: TencentFake) -> None:
    fake.fail("CreateSubnet", "InvalidParameterValue.SubnetConflict")
    fake.fail("DeleteVpc", "UnsupportedOperation", "undo refused")
    with pytest.raises(CloudError, match="SubnetConflict") as err:
        session.vpcs().create(VPCReq(name="v", cidr="10.0.0.0/16", subnets=[SubnetReq(name="a", cidr="10.0.1.0/24")]))
    assert any("left vpc" in n for n in getattr(err.value, "__notes__", []))


def test_sg_create_rolls_back_when_the_policies_fail(session: TencentSession, fake: TencentFake) -> None:
    fake.fail("ModifySecurityGroupPolicies", "LimitExceeded")
    with pytest.raises(CloudError, match="LimitExceeded"):
        session.security_groups().create(SecurityGroupReq(name="g", vpc="vpc-x", rules=[SSH]))
    assert not fake.state.regions["ap-guangzhou"].security_groups
    assert len(fake.calls("DeleteSecurityGroup")) == 1


def test_vm_launch_failure_after_acceptance_is_rolled_back(session: TencentSession, fake: TencentFake) -> None:
    ids = net(session)
    fake.state.polls = 2
    fake.fail_async("RunInstances", "ResourceInsufficient: the zone ran out of S5 after the request was accepted")
    with pytest.raises(CloudError) as err:
        session.vms().start(vm_req(*ids))
    assert err.value.code == "LaunchFailed" and "ran out" in str(err.value)
    assert len(fake.calls("TerminateInstances")) == 1
    (instance_id,) = fake.state.regions["ap-guangzhou"].instances
    seen = [session.vms().status(IID(name_id="vm", system_id=instance_id)) for _ in range(4)]
    assert seen[0] == VMStatus.TERMINATING and seen[-1] == VMStatus.NOT_EXIST  # TERMINATING for two reads


def test_vm_start_waits_out_pending_and_passes_cb_user(session: TencentSession, fake: TencentFake) -> None:
    ids = net(session)
    fake.state.polls = 3
    vm = session.vms().start(vm_req(*ids))
    assert vm.status == VMStatus.RUNNING and vm.public_ip and vm.vm_user == "cb-user"
    run = fake.calls("RunInstances")[0].body
    assert run["LoginSettings"] == {"KeyIds": [ids[3]]} and run["ClientToken"]
    import base64

    assert "name: cb-user" in base64.b64decode(run["UserData"]).decode()
    assert len(fake.calls("DescribeInstances")) >= 4  # PENDING for three reads


def test_vm_start_retry_after_a_lost_answer_makes_one_instance(session: TencentSession, fake: TencentFake) -> None:
    ids = net(session)
    # the API accepted RunInstances but the answer was lost (InternalError): the retry reuses the ClientToken
    fake.fail("RunInstances", "InternalError")
    vm = session.vms().start(vm_req(*ids))
    runs = fake.calls("RunInstances")
    assert len(runs) == 2 and runs[0].body["ClientToken"] == runs[1].body["ClientToken"]
    assert [v.iid.system_id for v in session.vms().list()] == [vm.iid.system_id]


@pytest.mark.parametrize("failing", ["CreateListener", "RegisterTargets"])
def test_nlb_create_rolls_back_when_a_step_fails(session: TencentSession, fake: TencentFake, failing: str) -> None:
    vpc, subnet, sg, key = net(session)
    vm = session.vms().start(vm_req(vpc, subnet, sg, key))
    fake.fail(failing, "InvalidParameter.PortCheckFailed")
    with pytest.raises(CloudError):
        session.nlbs().create(nlb_req(vpc, [vm.iid.system_id]))
    assert session.nlbs().list() == []
    assert len(fake.calls("DeleteLoadBalancer")) == 1


@pytest.mark.parametrize("failing", ["CreateLoadBalancer", "CreateListener", "RegisterTargets"])
def test_nlb_task_failing_after_acceptance_rolls_back(session: TencentSession, fake: TencentFake,
                                                      failing: str) -> None:
    vpc, subnet, sg, key = net(session)
    vm = session.vms().start(vm_req(vpc, subnet, sg, key))
    fake.state.polls = 2
    fake.fail_async(failing, "backend cluster refused")
    with pytest.raises(CloudError) as err:
        session.nlbs().create(nlb_req(vpc, [vm.iid.system_id]))
    assert err.value.code == "TaskFailed" and "backend cluster refused" in str(err.value)
    assert session.nlbs().list() == []


# ---------------------------------------------------------------- the one retry policy
def test_throttling_is_retried_per_policy(fake: TencentFake) -> None:
    fake.reset()
    s = connect(fake, retry_attempts=4)
    fake.fail("DescribeVpcs", "RequestLimitExceeded", times=3)
    assert s.vpcs().list() == []
    assert len(fake.calls("DescribeVpcs")) == 4  # three refusals, then the answer
    fake.clear_requests()
    fake.fail("DescribeVpcs", "RequestLimitExceeded", times=4)
    with pytest.raises(CloudError) as err:
        s.vpcs().list()
    assert err.value.throttled and len(fake.calls("DescribeVpcs")) == 4  # attempts=4, no more
    fake.clear_faults()


def test_throttled_writes_are_retried_but_transient_failures_of_writes_are_not(fake: TencentFake) -> None:
    fake.reset()
    s = connect(fake)
    fake.fail("CreateVpc", "RequestLimitExceeded")  # refused without acting: safe to send again
    s.vpcs().create(VPCReq(name="v", cidr="10.0.0.0/16"))
    assert len(fake.calls("CreateVpc")) == 2
    fake.clear_requests()
    fake.fail("CreateVpc", "InternalError")  # the cloud may have acted: a write is not repeated
    with pytest.raises(CloudError) as err:
        s.vpcs().create(VPCReq(name="w", cidr="10.1.0.0/16"))
    assert err.value.retryable and len(fake.calls("CreateVpc")) == 1


def test_a_busy_load_balancer_is_waited_for(session: TencentSession, fake: TencentFake) -> None:
    vpc = session.vpcs().create(VPCReq(name="v", cidr="10.0.0.0/16")).iid.system_id
    fake.fail("CreateListener", "FailedOperation.ResourceInOperating", times=2)
    lb = session.nlbs().create(nlb_req(vpc, []))
    assert lb.listener.port == 80 and len(fake.calls("CreateListener")) == 3


# ---------------------------------------------------------------- paging
def test_lists_page_through_small_pages(session: TencentSession, fake: TencentFake) -> None:
    fake.state.page_size = 2
    for i in range(5):
        session.vpcs().create(VPCReq(name=f"v{i}", cidr=f"10.{i}.0.0/16",
                                     subnets=[SubnetReq(name="s", cidr=f"10.{i}.1.0/24")]))
        session.keypairs().create(KeyPairReq(name=f"k_{i}"))
    fake.clear_requests()
    vpcs = session.vpcs().list()
    assert sorted(v.iid.name_id for v in vpcs) == [f"v{i}" for i in range(5)]
    assert all(len(v.subnets) == 1 for v in vpcs)
    pages = fake.calls("DescribeVpcs")
    assert len(pages) == 3 and [p.body["Offset"] for p in pages] == ["0", "2", "4"]  # strings, as VPC wants
    assert len(session.keypairs().list()) == 5
    assert [p.body["Offset"] for p in fake.calls("DescribeKeyPairs")] == [0, 2, 4]  # ints for CVM
    assert len(session.images().list()) == 7


# ---------------------------------------------------------------- resources' own rules
def test_security_group_rules_written_atomically_with_the_version(session: TencentSession, fake: TencentFake) -> None:
    sg = session.security_groups().create(SecurityGroupReq(name="g", vpc="vpc-x", rules=[SSH, OUT]))
    assert set(sg.rules) == {SSH, OUT} and sg.vpc == "vpc-x"
    v6 = SecurityRule(direction="inbound", protocol="ICMP", cidr="::/0")
    got = session.security_groups().add_rules(sg.iid, [v6])
    assert v6 in got.rules
    sent = fake.calls("ModifySecurityGroupPolicies")[-1].body["SecurityGroupPolicySet"]
    assert sent["Version"] == "1" and {"Protocol": "ICMPv6", "Port": "ALL", "Action": "ACCEPT",
                                       "Ipv6CidrBlock": "::/0"} in sent["Ingress"]
    with pytest.raises(AlreadyExists):
        session.security_groups().add_rules(sg.iid, [SSH])
    # someone changed the group elsewhere after we read it: the write fails instead of losing that change
    fake.fail("ModifySecurityGroupPolicies", "UnsupportedOperation.VersionMismatch")
    with pytest.raises(CloudError, match="VersionMismatch"):
        session.security_groups().remove_rules(sg.iid, [SSH])


def test_key_pair_still_bound_is_in_use(session: TencentSession, fake: TencentFake) -> None:
    vpc, subnet, sg, key = net(session)
    session.vms().start(vm_req(vpc, subnet, sg, key))
    with pytest.raises(InUse):
        session.keypairs().delete(IID(name_id="k_1", system_id=key))  # the API answers success, keeps it
    assert session.keypairs().get(IID(name_id="k_1", system_id=key))
    with pytest.raises(InUse):
        session.security_groups().delete(IID(name_id="g", system_id=sg))
    with pytest.raises(InUse):
        session.vpcs().delete(IID(name_id="v", system_id=vpc))
    assert fake.calls("DeleteSubnet") == []  # nothing was touched


def test_suspend_stops_charging_and_resume_gets_a_new_public_ip(session: TencentSession, fake: TencentFake) -> None:
    vm = session.vms().start(vm_req(*net(session)))
    assert session.vms().suspend(vm.iid) == VMStatus.SUSPENDED
    assert fake.calls("StopInstances")[0].body["StoppedMode"] == "STOP_CHARGING"
    assert session.vms().get(vm.iid).public_ip is None
    assert session.vms().resume(vm.iid) == VMStatus.RUNNING
    assert session.vms().get(vm.iid).public_ip not in (None, vm.public_ip)


def test_suspend_falls_back_when_the_type_cannot_stop_charging(session: TencentSession, fake: TencentFake) -> None:
    vm = session.vms().start(vm_req(*net(session)))
    fake.fail("StopInstances", "UnsupportedOperation.StoppedModeStopCharging")
    session.vms().suspend(vm.iid)
    assert [r.body["StoppedMode"] for r in fake.calls("StopInstances")] == ["STOP_CHARGING", "KEEP_CHARGING"]


def test_nlb_changes_and_health(session: TencentSession, fake: TencentFake) -> None:
    vpc, subnet, sg, key = net(session)
    vm = session.vms().start(vm_req(vpc, subnet, sg, key))
    lb = session.nlbs().create(nlb_req(vpc, [vm.iid.system_id], type_="INTERNAL"))
    assert lb.type == "INTERNAL" and lb.listener.ip.startswith("10.0.1.")
    assert (lb.vm_group.port, lb.health_checker.port, lb.health_checker.timeout) == (8080, 8080, 5)
    assert session.nlbs().health(lb.iid).healthy == [vm.iid.system_id]
    assert session.nlbs().change_listener(lb.iid, Listener(protocol="TCP", port=81)).port == 81
    assert session.nlbs().get(lb.iid).vm_group.vms == [vm.iid.system_id]  # targets moved to the new listener
    assert session.nlbs().change_vm_group(lb.iid, VMGroup(protocol="TCP", port=9090)).port == 9090
    backends = fake.state.regions["ap-guangzhou"].targets
    assert [t["Port"] for ts in backends.values() for t in ts] == [9090]
    session.vms().suspend(vm.iid)
    assert session.nlbs().health(lb.iid).unhealthy == [vm.iid.system_id]
    session.nlbs().delete(lb.iid)
    with pytest.raises(NotFound):
        session.nlbs().get(lb.iid)


def test_a_stop_failing_after_acceptance_leaves_the_vm_running(session: TencentSession, fake: TencentFake) -> None:
    vm = session.vms().start(vm_req(*net(session)))
    fake.state.polls = 1
    fake.fail_async("StopInstances", "the guest did not shut down")
    assert session.vms().suspend(vm.iid) == VMStatus.SUSPENDING
    got = session.vms().get(vm.iid)  # the second read ends the operation
    assert got.status == VMStatus.RUNNING and got.extra["latest_operation_state"] == "FAILED"


def test_async_waits_are_bounded(fake: TencentFake) -> None:
    fake.reset()
    s = connect(fake, operation_timeout=0.05)
    vpc = s.vpcs().create(VPCReq(name="v", cidr="10.0.0.0/16")).iid.system_id
    fake.state.polls = 10_000  # a CLB task that never ends
    with pytest.raises(CloudError) as err:
        s.nlbs().create(nlb_req(vpc, []))
    assert err.value.code == "OperationTimeout"
    # the undo ran too; the CLB refused it while its task runs, and the error says what was left
    assert any("left load balancer" in n for n in getattr(err.value, "__notes__", []))
    assert fake.calls("DeleteLoadBalancer")
    fake.state.polls = 0


def test_without_a_zone_the_first_available_one_is_used(fake: TencentFake) -> None:
    fake.reset()
    from mcinfra.core.handlers import SessionInfo
    from mcinfra.drivers.tencent.driver import TencentDriver
    from tests.fakes.tencent import SECRET_ID, SECRET_KEY

    s = TencentDriver().connect(SessionInfo(
        name="z", provider="tencent", region="ap-shanghai",
        credentials={"secret_id": SECRET_ID, "secret_key": SECRET_KEY},
        options={"endpoint": f"127.0.0.1:{fake.port}", "protocol": "http", "poll_interval": 0.001,
                 **FAKE_RATE}))
    vpc = s.vpcs().create(VPCReq(name="v", cidr="10.0.0.0/16", subnets=[SubnetReq(name="s", cidr="10.0.1.0/24")]))
    assert vpc.subnets[0].zone == "ap-shanghai-3"
    sg = s.security_groups().create(SecurityGroupReq(name="g", vpc=vpc.iid.system_id))
    key = s.keypairs().create(KeyPairReq(name="k_z"))
    req = vm_req(vpc.iid.system_id, vpc.subnets[0].iid.system_id, sg.iid.system_id, key.iid.system_id)
    vm = s.vms().start(req.model_copy(update={"zone": None}))
    assert vm.zone == "ap-shanghai-3" and vm.region == "ap-shanghai"


def test_vpc_with_its_security_groups_is_in_use(session: TencentSession, fake: TencentFake) -> None:
    vpc = session.vpcs().create(VPCReq(name="v", cidr="10.0.0.0/16")).iid
    other = session.vpcs().create(VPCReq(name="w", cidr="10.1.0.0/16")).iid
    sg = session.security_groups().create(SecurityGroupReq(name="g", vpc=vpc.system_id)).iid
    session.vpcs().delete(other)  # a group of another VPC does not hold this one
    with pytest.raises(InUse, match="security group"):
        session.vpcs().delete(vpc)
    assert fake.calls("DescribeSecurityGroups")[-1].body["Filters"] == [
        {"Name": "tag:mcinfra-vpc", "Values": [vpc.system_id]}]
    session.security_groups().delete(sg)
    session.vpcs().delete(vpc)


def test_terminating_twice_is_not_an_error(session: TencentSession, fake: TencentFake) -> None:
    vm = session.vms().start(vm_req(*net(session)))
    fake.state.polls = 3
    assert session.vms().terminate(vm.iid) == VMStatus.TERMINATING
    assert session.vms().terminate(vm.iid) == VMStatus.TERMINATING
    assert [r.path for r in fake.calls("TerminateInstances")] == ["/cvm/TerminateInstances"] * 2


def test_every_attempt_takes_a_token_from_the_region_bucket(fake: TencentFake, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcinfra.drivers import ratelimit

    slept: list[float] = []
    registry = ratelimit.RateLimits(clock=lambda: 0.0, sleep=slept.append)  # a frozen clock: waits add up
    monkeypatch.setattr(ratelimit, "RATE_LIMITS", registry)
    fake.reset()
    s = connect(fake, rate_limit=4, rate_burst=1, retry_attempts=4)
    other = connect(fake, rate_limit=4, rate_burst=1)  # a second connection to the same region shares the bucket
    fake.fail("DescribeVpcs", "RequestLimitExceeded", times=2)
    assert s.vpcs().list() == []
    assert other.vpcs().list() == []
    stats = registry.stats("tencent")
    assert len(stats) == 1 and stats[0].region == "ap-guangzhou" and stats[0].connections == 2
    assert stats[0].calls == len(fake.calls("DescribeVpcs")) == 4  # the two retries were paced too
    assert stats[0].throttles == 2 and stats[0].rate == 2.0  # the throttled answers slowed the bucket
    assert slept == [0.5, 1.0, 1.5]  # after the first throttled answer: 2/s, the burst drained
    fake.clear_faults()
    s.close()
    other.close()
