"""Golden inputs (Alibaba's published bodies through the driver's parsing), status mapping,
paging with a tiny page size, name rules, asynchronous NLB behaviour."""

from __future__ import annotations

import re

import pytest

from mcinfra.core.errors import CloudError, DriverNotInstalled, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import (
    HealthChecker,
    KeyPairReq,
    Listener,
    NLBReq,
    SecurityGroupReq,
    SubnetReq,
    VMGroup,
    VMReq,
    VMStatus,
    VPCReq,
)
from mcinfra.core.naming import csp_name
from mcinfra.drivers.alibaba import nlb as nlb_mod
from mcinfra.drivers.alibaba.driver import AlibabaDriver
from mcinfra.drivers.alibaba.image import image_info
from mcinfra.drivers.alibaba.security_group import rule_of
from mcinfra.drivers.alibaba.spec import spec_info
from mcinfra.drivers.alibaba.vm import STATUS_MAP, map_status, vm_info
from mcinfra.drivers.alibaba.vpc import subnet_info
from tests.drivers.alibaba.conftest import IMAGE, SPEC, ZONE, connect, iid, make_net
from tests.fakes.alibaba import AliFake, validator


def published(action: str) -> dict:
    return validator.actions()[action]["examples"][0]


def body(product: str, model: str, action: str):
    import importlib

    models = importlib.import_module(
        {
            "ecs": "alibabacloud_ecs20140526.models",
            "vpc": "alibabacloud_vpc20160428.models",
            "nlb": "alibabacloud_nlb20220430.models",
        }[product]
    )
    return getattr(models, model)().from_map(published(action))


# ---------------------------------------------------------------- golden inputs
def test_golden_describe_instances() -> None:
    raw = published("ecs/DescribeInstances")["Instances"]["Instance"][0]
    inst = body("ecs", "DescribeInstancesResponseBody", "ecs/DescribeInstances").instances.instance[0]
    vm = vm_info(inst, "cn-hangzhou")
    assert vm.iid.system_id == raw["InstanceId"] and vm.iid.name_id == raw["InstanceName"]
    assert vm.status == STATUS_MAP[raw["Status"]]
    assert vm.private_ip == raw["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
    assert vm.public_ip == raw["PublicIpAddress"]["IpAddress"][0]
    assert vm.security_groups == raw["SecurityGroupIds"]["SecurityGroupId"]
    assert (vm.vpc, vm.subnet) == (raw["VpcAttributes"]["VpcId"], raw["VpcAttributes"]["VSwitchId"])
    assert (vm.image, vm.spec, vm.zone) == (raw["ImageId"], raw["InstanceType"], raw["ZoneId"])
    assert vm.keypair == raw["KeyPairName"] and vm.created_at is not None


def test_golden_instance_status_and_paging_fields() -> None:
    page = body("ecs", "DescribeInstanceStatusResponseBody", "ecs/DescribeInstanceStatus")
    assert [map_status(s.status) for s in page.instance_statuses.instance_status] == [VMStatus.RUNNING]
    # the published page says 58 in all, 1 per page: the pager would go on
    assert page.total_count > page.page_number * page.page_size


def test_golden_listener_health_uses_the_published_spelling() -> None:
    raw = published("nlb/GetListenerHealthStatus")
    bad = raw["ListenerHealthStatus"][0]["ServerGroupInfos"][0]["NonNormalServers"][0]["ServerId"]
    answer = body("nlb", "GetListenerHealthStatusResponseBody", "nlb/GetListenerHealthStatus")
    health = nlb_mod.health_of([bad, "i-healthy"], answer)
    assert (health.unhealthy, health.healthy) == ([bad], ["i-healthy"])
    answer.listener_health_status[0].server_group_infos[0].heath_check_enabled = False
    assert nlb_mod.health_of(["i-healthy"], answer).healthy == []


def test_golden_nlb_parts() -> None:
    lb = body("nlb", "GetLoadBalancerAttributeResponseBody", "nlb/GetLoadBalancerAttribute")
    listener = body("nlb", "ListListenersResponseBody", "nlb/ListListeners").listeners[0]
    group = body("nlb", "ListServerGroupsResponseBody", "nlb/ListServerGroups").server_groups[0]
    servers = body("nlb", "ListServerGroupServersResponseBody", "nlb/ListServerGroupServers").servers
    info = nlb_mod.AliNLBHandler._info(
        nlb_mod.AliNLBHandler.__new__(nlb_mod.AliNLBHandler), lb, listener, group, servers
    )
    raw_lb = published("nlb/GetLoadBalancerAttribute")
    assert info.iid.system_id == raw_lb["LoadBalancerId"] and info.type == "PUBLIC"
    assert info.listener.dns_name == raw_lb["DNSName"] and info.listener.port == 443
    assert info.vm_group.vms == [s["ServerId"] for s in published("nlb/ListServerGroupServers")["Servers"]]
    assert info.health_checker.interval == group.health_check.health_check_interval
    created = body("nlb", "CreateLoadBalancerResponseBody", "nlb/CreateLoadBalancer")
    assert created.loadbalancer_id == published("nlb/CreateLoadBalancer")["LoadbalancerId"]


def test_golden_catalog_and_network_parsing() -> None:
    raw_image = published("ecs/DescribeImages")["Images"]["Image"][0]
    image = image_info(body("ecs", "DescribeImagesResponseBody", "ecs/DescribeImages").images.image[0])
    assert image.iid.system_id == raw_image["ImageId"] and image.os_architecture == "x86_64"
    raw_type = published("ecs/DescribeInstanceTypes")["InstanceTypes"]["InstanceType"][0]
    spec = spec_info(
        body("ecs", "DescribeInstanceTypesResponseBody", "ecs/DescribeInstanceTypes").instance_types.instance_type[0]
    )
    assert (spec.name, spec.vcpus, spec.memory_mib) == (
        raw_type["InstanceTypeId"],
        raw_type["CpuCoreCount"],
        int(raw_type["MemorySize"] * 1024),
    )
    raw_vsw = published("vpc/DescribeVSwitches")["VSwitches"]["VSwitch"][0]
    subnet = subnet_info(body("vpc", "DescribeVSwitchesResponseBody", "vpc/DescribeVSwitches").v_switches.v_switch[0])
    assert (subnet.iid.system_id, subnet.cidr, subnet.zone) == (
        raw_vsw["VSwitchId"],
        raw_vsw["CidrBlock"],
        raw_vsw["ZoneId"],
    )
    perm = body("ecs", "DescribeSecurityGroupAttributeResponseBody", "ecs/DescribeSecurityGroupAttribute")
    rule = rule_of(perm.permissions.permission[0])
    assert rule is not None and (rule.direction, rule.protocol, rule.from_port, rule.to_port, rule.cidr) == (
        "inbound",
        "TCP",
        80,
        80,
        "0.0.0.0/0",
    )


# ---------------------------------------------------------------- status mapping
@pytest.mark.parametrize(
    ("native", "status"),
    [
        ("Pending", VMStatus.CREATING),
        ("Starting", VMStatus.RESUMING),
        ("Running", VMStatus.RUNNING),
        ("Stopping", VMStatus.SUSPENDING),
        ("Stopped", VMStatus.SUSPENDED),
        ("Expired", VMStatus.FAILED),
        (None, VMStatus.FAILED),
    ],
)
def test_vm_status_mapping(native: str | None, status: VMStatus) -> None:
    assert map_status(native) == status


def test_vm_passes_through_transitions(cloud, fake: AliFake) -> None:
    net = make_net(cloud)
    fake.state.state_polls = 2
    vms = cloud.vms()
    vm = vms.start(
        VMReq(
            name="vm-t",
            image=IMAGE,
            spec=SPEC,
            vpc=net.vpc,
            subnet=net.subnet,
            security_groups=[net.sg],
            keypair=net.key,
            root_disk_type="cloud_ssd",
            root_disk_size=40,
        )
    )
    assert vm.status == VMStatus.RUNNING and (vm.root_disk_type, vm.root_disk_size) == ("cloud_ssd", 40)
    assert vms.suspend(vm.iid) == VMStatus.SUSPENDING
    seen = [vms.status(vm.iid) for _ in range(4)]
    assert seen[0] == VMStatus.SUSPENDING and seen[-1] == VMStatus.SUSPENDED
    assert vms.get(vm.iid).public_ip is None  # StopCharging gives the public IP back
    assert vms.resume(vm.iid) == VMStatus.RESUMING and vms.status(vm.iid) == VMStatus.RESUMING
    sent = fake.find("POST", r"/ecs/StopInstance$")[-1]
    assert sent.q("StoppedMode") == "StopCharging"
    assert vms.terminate(vm.iid) == VMStatus.TERMINATING  # waited for Starting to settle first
    assert vms.status(vm.iid) == VMStatus.NOT_EXIST


# ---------------------------------------------------------------- paging with a tiny page size
def test_every_list_reads_every_page(fake: AliFake) -> None:
    fake.reset()
    fake.state.page_size = 2
    cloud = connect(fake, page_size=2)
    for i in range(5):
        cloud.vpcs().create(
            VPCReq(
                name=f"vpc-{i}",
                cidr=f"10.{i}.0.0/16",
                subnets=[SubnetReq(name=f"sn-{i}", cidr=f"10.{i}.1.0/24", zone=ZONE)],
            )
        )
        cloud.keypairs().create(KeyPairReq(name=f"key-{i}"))
    vpc_id = cloud.vpcs().list()[0].iid.system_id
    for i in range(5):
        cloud.security_groups().create(SecurityGroupReq(name=f"sg-{i}", vpc=vpc_id))
    fake.clear_requests()
    vpcs = cloud.vpcs().list()
    assert len(vpcs) == 5 and all(len(v.subnets) == 1 for v in vpcs)
    assert fake.calls("DescribeVpcs") == 3 and fake.calls("DescribeVSwitches") == 3
    assert len(cloud.security_groups().list_iids()) == 5 and fake.calls("DescribeSecurityGroups") == 3
    assert len(cloud.keypairs().list()) == 5 and fake.calls("DescribeKeyPairs") == 3
    assert len(cloud.images().list()) == 7 and fake.calls("DescribeImages") == 4
    assert len(cloud.specs().list()) == 8 and fake.calls("DescribeInstanceTypes") == 4  # NextToken paging
    fake.state.page_size = 100


# ---------------------------------------------------------------- CSP names
KINDS = ("vpc", "security_group", "keypair", "vm", "nlb")


@pytest.mark.parametrize("user_name", ["web", "Web_Server.01", "9lives", "x" * 300, "ünï-cödé--name"])
def test_core_names_fit_alibaba_rules_for_every_kind(cloud, fake: AliFake, user_name: str) -> None:
    rules = AlibabaDriver().capabilities().name_rules
    names = {kind: csp_name(user_name, kind, rules) for kind in KINDS}
    for name in names.values():
        # 2-128 characters, a letter first; letters, digits, '-' (a subset of every kind's set)
        assert re.fullmatch(r"[a-z][a-z0-9-]{1,127}", name), name
    net = make_net(cloud)
    vpc = cloud.vpcs().create(VPCReq(name=names["vpc"], cidr="10.7.0.0/16"))
    sg = cloud.security_groups().create(SecurityGroupReq(name=names["security_group"], vpc=net.vpc))
    key = cloud.keypairs().create(KeyPairReq(name=names["keypair"]))
    vm = cloud.vms().start(
        VMReq(
            name=names["vm"],
            image=IMAGE,
            spec=SPEC,
            vpc=net.vpc,
            subnet=net.subnet,
            security_groups=[net.sg],
            keypair=net.key,
        )
    )
    nlb = cloud.nlbs().create(
        NLBReq(
            name=names["nlb"],
            vpc=net.vpc,
            listener=Listener(port=80),
            vm_group=VMGroup(port=80),
            health_checker=HealthChecker().with_defaults(80),
        )
    )
    assert [vpc.iid.name_id, sg.iid.name_id, key.iid.name_id, vm.iid.name_id, nlb.iid.name_id] == [
        names[k] for k in KINDS
    ]


@pytest.mark.parametrize(("kind", "bad"), [("keypair", "1key"), ("vm", "9vm"), ("nlb", "-lb")])
def test_the_fake_refuses_names_alibaba_refuses(cloud, kind: str, bad: str) -> None:
    net = make_net(cloud)
    with pytest.raises(CloudError) as err:
        if kind == "keypair":
            cloud.keypairs().create(KeyPairReq(name=bad))
        elif kind == "vm":
            cloud.vms().start(
                VMReq(
                    name=bad,
                    image=IMAGE,
                    spec=SPEC,
                    vpc=net.vpc,
                    subnet=net.subnet,
                    security_groups=[net.sg],
                    keypair=net.key,
                )
            )
        else:
            cloud.nlbs().create(
                NLBReq(
                    name=bad,
                    vpc=net.vpc,
                    listener=Listener(port=80),
                    vm_group=VMGroup(port=80),
                    health_checker=HealthChecker().with_defaults(80),
                )
            )
    assert "Malformed" in err.value.code or err.value.code.startswith("IllegalParam")


# ---------------------------------------------------------------- NLB: asynchronous, two zones
def test_nlb_waits_for_provisioning_and_jobs_and_cleans_its_second_zone(cloud, fake: AliFake) -> None:
    net = make_net(cloud)
    fake.state.job_polls = 3
    fake.state.lb_polls = 2
    fake.clear_requests()
    nlb = cloud.nlbs().create(
        NLBReq(
            name="nlb-a",
            vpc=net.vpc,
            type="INTERNAL",
            listener=Listener(port=80),
            vm_group=VMGroup(port=8080),
            health_checker=HealthChecker().with_defaults(8080),
        )
    )
    assert nlb.type == "INTERNAL" and nlb.vm_group.port == 8080 and nlb.listener.ip
    assert len(nlb.extra["zones"]) == 2
    sent = fake.find("POST", r"/nlb/CreateLoadBalancer$")[0].body
    assert "ZoneMappings.2.VSwitchId" in sent and "AddressType=Intranet" in sent
    assert fake.calls("GetJobStatus") >= 2 * 4  # server group + listener, each Processing x3 then Succeeded
    assert sorted(v["VSwitchName"] for v in fake.state.vswitches.values()) == ["mcinfra-nlb-nlb-a", "sn-a"]
    # the VPC shows only the user's vSwitch
    assert [s.iid.system_id for s in cloud.vpcs().get(iid(net.vpc)).subnets] == [net.subnet]
    cloud.nlbs().delete(nlb.iid)
    assert list(fake.state.vswitches) == [net.subnet]
    with pytest.raises(NotFound):
        cloud.nlbs().get(nlb.iid)


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name.startswith("alibabacloud_nlb") else real(name, *a)
    )
    with pytest.raises(DriverNotInstalled, match=r"mcinfra\[alibaba\]"):
        AlibabaDriver().connect(SessionInfo(name="x", provider="alibaba", region="cn-hangzhou"))


def test_import_and_providers_load_no_alibaba_sdk() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, mcinfra; i = mcinfra.Infra('sqlite:///:memory:'); p = {x.name: x for x in i.providers()};"
        " assert p['alibaba'].installed, p['alibaba'];"
        " print([m for m in sys.modules if m.startswith(('alibabacloud', 'darabonba', 'Tea'))])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[3]
    )
    assert out.stdout.strip() == "[]"


def test_specs_carry_the_zones_with_stock(cloud) -> None:
    spec = cloud.specs().get(SPEC)
    assert spec.extra["zones"] == ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]
    from mcinfra.drivers.alibaba.spec import zones_with_stock

    golden = body("ecs", "DescribeAvailableResourceResponseBody", "ecs/DescribeAvailableResource")
    raw = published("ecs/DescribeAvailableResource")["AvailableZones"]["AvailableZone"][0]
    offered = raw["AvailableResources"]["AvailableResource"][0]["SupportedResources"]["SupportedResource"][0]
    assert zones_with_stock(golden) == {offered["Value"]: [raw["ZoneId"]]}


def test_nlb_listener_protocol_change_moves_members_to_a_new_group(cloud, fake: AliFake) -> None:
    net = make_net(cloud)
    vm = cloud.vms().start(
        VMReq(
            name="vm-u",
            image=IMAGE,
            spec=SPEC,
            vpc=net.vpc,
            subnet=net.subnet,
            security_groups=[net.sg],
            keypair=net.key,
        )
    )
    nlbs = cloud.nlbs()
    nlb = nlbs.create(
        NLBReq(
            name="nlb-u",
            vpc=net.vpc,
            listener=Listener(protocol="UDP", port=53),
            vm_group=VMGroup(protocol="UDP", port=5353, vms=[vm.iid.system_id]),
            health_checker=HealthChecker(protocol="HTTP").with_defaults(5353),
        )
    )
    assert (nlb.listener.protocol, nlb.vm_group.protocol, nlb.health_checker.protocol) == ("UDP", "UDP", "HTTP")
    old_group = nlb.extra["server_group_id"]
    assert nlbs.change_listener(nlb.iid, Listener(protocol="TCP", port=80)).port == 80
    got = nlbs.get(nlb.iid)
    assert (got.listener.protocol, got.vm_group.protocol, got.vm_group.port) == ("TCP", "TCP", 5353)
    assert got.vm_group.vms == [vm.iid.system_id] and got.health_checker.protocol == "HTTP"
    assert old_group not in fake.state.server_groups and len(fake.state.server_groups) == 1


def test_nlb_listener_change_rolls_back_when_the_new_listener_fails(cloud, fake: AliFake) -> None:
    net = make_net(cloud)
    nlbs = cloud.nlbs()
    nlb = nlbs.create(
        NLBReq(
            name="nlb-r",
            vpc=net.vpc,
            listener=Listener(port=80),
            vm_group=VMGroup(port=80),
            health_checker=HealthChecker().with_defaults(80),
        )
    )
    fake.inject("POST", r"/nlb/CreateListener$", status=400, reason="QuotaExceeded.QuotaInsufficient", message="q")
    with pytest.raises(CloudError):
        nlbs.change_listener(nlb.iid, Listener(protocol="UDP", port=81))
    got = nlbs.get(nlb.iid)
    assert (got.listener.protocol, got.listener.port, got.vm_group.protocol) == ("TCP", 80, "TCP")
    assert len(fake.state.server_groups) == 1 and len(fake.state.listeners) == 1


def test_nlb_list_skips_an_nlb_without_listener(cloud, fake: AliFake) -> None:
    net = make_net(cloud)
    nlb = cloud.nlbs().create(
        NLBReq(
            name="nlb-l",
            vpc=net.vpc,
            listener=Listener(port=80),
            vm_group=VMGroup(port=80),
            health_checker=HealthChecker().with_defaults(80),
        )
    )
    fake.state.listeners.clear()  # e.g. its listener deleted in the console
    assert cloud.nlbs().list() == []
    assert [i.system_id for i in cloud.nlbs().list_iids()] == [nlb.iid.system_id]
    cloud.nlbs().delete(nlb.iid)
    assert fake.state.lbs == {} and fake.state.server_groups == {}


def test_second_zone_cidr_is_the_last_free_block() -> None:
    assert nlb_mod.free_cidr("10.0.0.0/8", ["10.255.255.240/28"]) == "10.255.255.224/28"
    assert nlb_mod.free_cidr("10.10.0.0/16", ["10.10.1.0/24"]) == "10.10.255.240/28"
    with pytest.raises(CloudError, match="NoFreeCidr"):
        nlb_mod.free_cidr("10.0.0.0/28", ["10.0.0.0/28"])


def test_nlb_listener_change_rolls_back_when_the_new_listener_job_fails(cloud, fake: AliFake) -> None:
    net = make_net(cloud)
    nlbs = cloud.nlbs()
    nlb = nlbs.create(
        NLBReq(
            name="nlb-j",
            vpc=net.vpc,
            listener=Listener(port=80),
            vm_group=VMGroup(port=80),
            health_checker=HealthChecker().with_defaults(80),
        )
    )
    fake.fail_next_job(skip=2)  # jobs: CreateServerGroup, DeleteListener, then the new CreateListener
    with pytest.raises(CloudError, match="JobFailed"):
        nlbs.change_listener(nlb.iid, Listener(protocol="UDP", port=80))
    got = nlbs.get(nlb.iid)
    assert (got.listener.protocol, got.listener.port, got.vm_group.protocol) == ("TCP", 80, "TCP")
    assert len(fake.state.server_groups) == 1 and len(fake.state.listeners) == 1


def test_pager_counts_what_came_when_the_server_sends_smaller_pages(fake: AliFake) -> None:
    fake.reset()
    cloud = connect(fake, page_size=100)  # asks for 100 (DescribeVpcs takes 50 at most: 50 is sent)
    for i in range(5):
        cloud.vpcs().create(VPCReq(name=f"vpc-{i}", cidr=f"10.{i}.0.0/16"))
    fake.state.page_size = 2  # the server answers 2 a page whatever was asked
    fake.clear_requests()
    assert len(cloud.vpcs().list_iids()) == 5 and fake.calls("DescribeVpcs") == 3
    assert {r.q("PageSize") for r in fake.find("POST", r"/vpc/DescribeVpcs$")} == {"50"}
    fake.state.page_size = 100
