"""Rollback of half-made creates, the retry policy at the choke point, the error table."""

from __future__ import annotations

import pytest

from mcinfra.core.errors import AlreadyExists, CloudError, InUse, InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import (
    HealthChecker,
    Listener,
    NLBReq,
    SecurityGroupReq,
    SecurityRule,
    SubnetReq,
    VMGroup,
    VMReq,
    VPCReq,
)
from mcinfra.drivers.alibaba.client import classify, map_exception
from mcinfra.drivers.alibaba.driver import AlibabaDriver
from tests.drivers.alibaba.conftest import IMAGE, SECRET, SPEC, ZONE, connect, iid, make_net
from tests.fakes.alibaba import AliFake


def _vm_req(net, name: str = "vm-a") -> VMReq:
    return VMReq(
        name=name, image=IMAGE, spec=SPEC, vpc=net.vpc, subnet=net.subnet, security_groups=[net.sg], keypair=net.key
    )


# ---------------------------------------------------------------- rollback at every step
def test_vpc_create_rolls_back_when_a_vswitch_fails(cloud, fake: AliFake) -> None:
    fake.inject("POST", r"/vpc/CreateVSwitch$", status=400, reason="QuotaExceeded.VSwitch", message="quota", skip=1)
    with pytest.raises(CloudError) as err:
        cloud.vpcs().create(
            VPCReq(
                name="vpc-x",
                cidr="10.9.0.0/16",
                subnets=[
                    SubnetReq(name="a", cidr="10.9.1.0/24", zone=ZONE),
                    SubnetReq(name="b", cidr="10.9.2.0/24", zone=ZONE),
                ],
            )
        )
    assert err.value.code == "QuotaExceeded.VSwitch"
    assert fake.state.vpcs == {} and fake.state.vswitches == {}


@pytest.mark.parametrize(
    ("action", "status", "code"),
    [
        ("AuthorizeSecurityGroup", 403, "AuthorizationLimitExceed"),
        ("AuthorizeSecurityGroupEgress", 403, "AuthorizationLimitExceed"),
    ],
)
def test_sg_create_rolls_back_when_a_rule_fails(cloud, fake: AliFake, action: str, status: int, code: str) -> None:
    net = make_net(cloud)
    before = set(fake.state.sgs)
    fake.inject("POST", rf"/ecs/{action}$", status=status, reason=code, message="limit")
    with pytest.raises(CloudError):
        cloud.security_groups().create(
            SecurityGroupReq(
                name="sg-x",
                vpc=net.vpc,
                rules=[SecurityRule(direction="inbound", protocol="TCP", from_port=80, to_port=80)],
            )
        )  # no OUT_ALL: marker
    assert set(fake.state.sgs) == before


def test_vm_start_failed_after_acceptance_leaves_nothing(cloud, fake: AliFake) -> None:
    net = make_net(cloud)
    fake.fail_next_instance()
    with pytest.raises(CloudError) as err:
        cloud.vms().start(_vm_req(net))
    assert err.value.code == "InstanceStartFailed"
    assert fake.state.instances == {}


def test_vm_start_rolls_back_when_the_wait_fails(cloud, fake: AliFake) -> None:
    net = make_net(cloud)
    fake.state.state_polls = 2
    fake.inject("POST", r"/ecs/DescribeInstances$", status=404, reason="InvalidRegionId.NotFound", message="x")
    with pytest.raises(McInfraError):
        cloud.vms().start(_vm_req(net))
    assert fake.state.instances == {}
    assert fake.calls("DeleteInstance") == 1


NLB_STEPS = [
    ("vpc/CreateVSwitch", 400, "QuotaExceeded.VSwitch"),
    ("nlb/CreateLoadBalancer", 400, "QuotaExceeded.LoadBalancer"),
    ("nlb/CreateServerGroup", 400, "QuotaExceeded.QuotaInsufficient"),
    ("nlb/AddServersToServerGroup", 400, "IncorrectStatus.serverGroup"),
    ("nlb/CreateListener", 400, "QuotaExceeded.QuotaInsufficient"),
    ("lb-create-failed", 0, "CreateFailed"),
    ("server-group-job-failed", 0, "JobFailed"),
    ("add-servers-job-failed", 1, "JobFailed"),
    ("listener-job-failed", 2, "JobFailed"),
]


@pytest.mark.parametrize(("step", "status", "code"), NLB_STEPS, ids=[s[0] for s in NLB_STEPS])
def test_nlb_create_rolls_back_at_every_step(cloud, fake: AliFake, step: str, status: int, code: str) -> None:
    net = make_net(cloud)
    vm = cloud.vms().start(_vm_req(net))
    vswitches = set(fake.state.vswitches)
    fake.state.job_polls = 1
    if step == "lb-create-failed":
        fake.fail_next_load_balancer()
    elif step.endswith("-job-failed"):
        fake.fail_next_job(skip=status)  # jobs: CreateServerGroup, AddServersToServerGroup, CreateListener
    else:
        fake.inject("POST", rf"/{step}$", status=status, reason=code, message="injected")
    req = NLBReq(
        name="nlb-x",
        vpc=net.vpc,
        listener=Listener(port=80),
        vm_group=VMGroup(port=80, vms=[vm.iid.system_id]),
        health_checker=HealthChecker().with_defaults(80),
    )
    with pytest.raises(CloudError) as err:
        cloud.nlbs().create(req)
    assert err.value.code == code
    assert (fake.state.lbs, fake.state.server_groups, fake.state.listeners) == ({}, {}, {})
    assert set(fake.state.vswitches) == vswitches  # the second-zone vSwitch went too


# ---------------------------------------------------------------- retries (the kit's policy)
def test_throttled_read_is_retried_until_it_passes(cloud, fake: AliFake) -> None:
    fake.inject("POST", r"/vpc/DescribeVpcs$", status=400, reason="Throttling", message="slow down", times=2)
    fake.clear_requests()
    assert cloud.vpcs().list() == []
    assert fake.calls("DescribeVpcs") == 3


def test_throttled_write_is_retried_too(cloud, fake: AliFake) -> None:
    # throttling means the cloud refused without acting: safe to repeat even a create
    fake.inject("POST", r"/vpc/CreateVpc$", status=400, reason="Throttling", message="slow down")
    fake.clear_requests()
    cloud.vpcs().create(VPCReq(name="vpc-t", cidr="10.8.0.0/16"))
    assert fake.calls("CreateVpc") == 2 and len(fake.state.vpcs) == 1


def test_throttling_stops_after_the_policy_attempts(fake: AliFake) -> None:
    fake.reset()
    cloud = connect(fake, retry_attempts=3)
    fake.inject("POST", r"/ecs/DescribeRegions$", status=400, reason="Throttling", message="slow down", times=10)
    with pytest.raises(CloudError) as err:
        cloud.region_zones().list()
    assert err.value.throttled and fake.calls("DescribeRegions") == 3
    fake.clear_faults()


def test_server_error_retried_on_reads_never_on_creates(cloud, fake: AliFake) -> None:
    fake.inject("POST", r"/vpc/DescribeVpcs$", status=500, reason="InternalError", message="boom")
    fake.clear_requests()
    assert cloud.vpcs().list() == [] and fake.calls("DescribeVpcs") == 2
    fake.inject("POST", r"/vpc/CreateVpc$", status=500, reason="InternalError", message="boom")
    with pytest.raises(CloudError) as err:
        cloud.vpcs().create(VPCReq(name="vpc-t", cidr="10.8.0.0/16"))
    assert err.value.retryable and fake.calls("CreateVpc") == 1  # it may have been made: not repeated


def test_nlb_job_polls_are_bounded(cloud, fake: AliFake) -> None:
    net = make_net(cloud)
    cloud.client.options = cloud.client.options.model_copy(update={"async_timeout": 0.05})
    fake.state.lb_polls = 10_000
    with pytest.raises(CloudError) as err:
        cloud.nlbs().create(
            NLBReq(
                name="nlb-x",
                vpc=net.vpc,
                listener=Listener(port=80),
                vm_group=VMGroup(port=80),
                health_checker=HealthChecker().with_defaults(80),
            )
        )
    assert err.value.code == "OperationTimeout"
    fake.state.lb_polls = 0


# ---------------------------------------------------------------- the error table
@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("InvalidInstanceId.NotFound", 404, NotFound),
        ("InvalidSecurityGroup.NotFound", 404, NotFound),
        ("InvalidVpcId.NotFound", 404, NotFound),
        ("ResourceNotFound.loadBalancer", 404, NotFound),
        ("ResourceNotFound.BackendServer", 404, NotFound),
        ("KeyPair.AlreadyExist", 400, AlreadyExists),
        ("DuplicatedParam.Server", 400, AlreadyExists),
        ("Conflict.Port", 400, AlreadyExists),
        ("DependencyViolation", 403, InUse),
        ("DependencyViolation.VSwitch", 400, InUse),
        ("DependencyViolation.NatGateway", 400, InUse),
        ("Forbidden.VpcNotFound", 400, NotFound),
        ("InvalidParameter.KeypairAlreadyAttachedInstance", 400, InUse),
        ("ResourceInUse.ServerGroup", 400, InUse),
        ("IncorrectInstanceStatus", 403, CloudError),
        ("InvalidCidrBlock.Overlapped", 400, CloudError),
    ],
)
def test_error_table(code: str, status: int, kind: type) -> None:
    err = classify(code, "m", status=status)
    assert type(err) is kind


@pytest.mark.parametrize(
    ("code", "status", "throttled", "retryable"),
    [
        ("Throttling", 400, True, True),
        ("Throttling.User", 400, True, True),
        ("Throttling.Resource", 429, True, True),
        ("InternalError", 500, False, True),
        ("ServiceUnavailable", 503, False, True),
        ("SystemBusy", 400, False, True),
        ("InvalidParameter", 400, False, False),
    ],
)
def test_throttling_and_transient_codes(code: str, status: int, throttled: bool, retryable: bool) -> None:
    err = classify(code, "m", status=status)
    assert isinstance(err, CloudError) and (err.throttled, err.retryable) == (throttled, retryable)


def test_sdk_exceptions_map_without_secrets(cloud, fake: AliFake) -> None:
    from alibabacloud_tea_openapi.exceptions import ClientException

    err = map_exception(ClientException(status_code=404, code="InvalidInstanceId.NotFound", message="gone"), "x")
    assert isinstance(err, NotFound)
    with pytest.raises(NotFound) as caught:
        cloud.vms().get(iid("i-nope"))
    text = f"{caught.value} {caught.value.__cause__!r} {caught.value.__cause__}"
    assert SECRET not in text


def test_unreachable_endpoint_is_a_retryable_cloud_error(fake: AliFake) -> None:
    fake.reset()
    cloud = connect(fake, endpoint="127.0.0.1:9", retry_attempts=1, connect_timeout=0.2)
    with pytest.raises(CloudError) as err:
        cloud.vpcs().list()
    assert err.value.code == "ConnectionError" and err.value.retryable


def test_bad_and_misspelt_options_are_refused_before_any_call(fake: AliFake) -> None:
    served = fake.served
    with pytest.raises(InvalidRequest, match="poll_intervall"):
        connect(fake, poll_intervall=1)
    with pytest.raises(InvalidRequest, match="internet_bandwidth"):
        connect(fake, internet_bandwidth=-1)
    assert fake.served == served


def test_credentials_are_required_unless_the_chain_is_asked_for(fake: AliFake) -> None:
    info = SessionInfo(
        name="x",
        provider="alibaba",
        region="cn-hangzhou",
        credentials={"access_key_id": "AKonly"},
        options={"endpoint": f"127.0.0.1:{fake.port}"},
    )
    with pytest.raises(InvalidRequest, match="access_key_secret"):
        AlibabaDriver().connect(info)


def test_requests_are_signed_with_the_credential_secret(fake: AliFake) -> None:
    fake.reset()
    good = connect(fake)
    assert good.region_zones().get("cn-hangzhou").zones
    assert fake.signature_errors == []
    wrong = SessionInfo(
        name="x",
        provider="alibaba",
        region="cn-hangzhou",
        zone=ZONE,
        credentials={"access_key_id": "AKdriver", "access_key_secret": "SKnot-the-right-one"},
        options={"endpoint": f"127.0.0.1:{fake.port}", "protocol": "http", "retry_attempts": 1},
    )
    with pytest.raises(CloudError) as err:
        AlibabaDriver().connect(wrong).vpcs().list()
    assert err.value.code == "SignatureDoesNotMatch" and "SKnot" not in str(err.value)
    fake.signature_errors.clear()


def test_add_vms_whose_job_fails_takes_the_servers_out_again(cloud, fake: AliFake) -> None:
    net = make_net(cloud)
    vm = cloud.vms().start(_vm_req(net))
    nlb = cloud.nlbs().create(
        NLBReq(
            name="nlb-a",
            vpc=net.vpc,
            listener=Listener(port=80),
            vm_group=VMGroup(port=80),
            health_checker=HealthChecker().with_defaults(80),
        )
    )
    fake.fail_next_job()
    with pytest.raises(CloudError, match="JobFailed"):
        cloud.nlbs().add_vms(nlb.iid, [vm.iid.system_id])
    assert cloud.nlbs().get(nlb.iid).vm_group.vms == []
