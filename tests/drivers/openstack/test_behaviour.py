"""VM status mapping (table and live transitions), paging with a tiny page size, Octavia's
PENDING_* waits, and the CSP name rules of every kind."""

from __future__ import annotations

import re

import pytest

import mcinfra
from mcinfra import SecurityRule, SubnetReq
from mcinfra.core.models import IID, HealthChecker, Listener, NLBReq, VMGroup, VMReq, VMStatus, VPCReq
from mcinfra.core.naming import csp_name
from mcinfra.drivers.openstack.driver import OpenStackDriver, OpenStackSession
from mcinfra.drivers.openstack.vm import vm_status
from tests.drivers.openstack.conftest import FAST, credentials, make_net
from tests.fakes.openstack import OpenStackFake


# ---------------------------------------------------------------- VM status
@pytest.mark.parametrize(
    ("status", "task", "expected"),
    [
        ("BUILD", "scheduling", VMStatus.CREATING),
        ("BUILD", "spawning", VMStatus.CREATING),
        ("ACTIVE", None, VMStatus.RUNNING),
        ("ACTIVE", "suspending", VMStatus.SUSPENDING),
        ("ACTIVE", "powering-off", VMStatus.SUSPENDING),
        ("SUSPENDED", None, VMStatus.SUSPENDED),
        ("SUSPENDED", "resuming", VMStatus.RESUMING),
        ("SHUTOFF", None, VMStatus.SUSPENDED),
        ("SHUTOFF", "powering-on", VMStatus.RESUMING),
        ("PAUSED", None, VMStatus.SUSPENDED),
        ("SHELVED_OFFLOADED", None, VMStatus.SUSPENDED),
        ("REBOOT", "reboot_started", VMStatus.REBOOTING),
        ("HARD_REBOOT", "reboot_started_hard", VMStatus.REBOOTING),
        ("ACTIVE", "deleting", VMStatus.TERMINATING),
        ("DELETED", None, VMStatus.TERMINATED),
        ("SOFT_DELETED", None, VMStatus.TERMINATED),
        ("ERROR", None, VMStatus.FAILED),
        ("ERROR", "deleting", VMStatus.FAILED),
        ("UNKNOWN", None, VMStatus.FAILED),
        ("MIGRATING", "migrating", VMStatus.RUNNING),
        ("VERIFY_RESIZE", None, VMStatus.RUNNING),
        ("REBUILD", "rebuilding", VMStatus.CREATING),
    ],
)
def test_vm_status_table(status: str, task: str | None, expected: VMStatus) -> None:
    assert vm_status(status, task) == expected


def test_vm_status_through_transitions(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    net = make_net(cloud)
    fake.state.build_polls = 0
    vm = cloud.vms().start(VMReq(name="vm-1", image="ubuntu-22.04", spec="m1.small", vpc=net["vpc"],
                                 subnet=net["subnet"], security_groups=[net["sg"]], keypair=net["key"]))
    assert vm.status == VMStatus.RUNNING
    fake.state.build_polls = 1  # the next read after an action still shows the task in flight
    assert cloud.vms().suspend(vm.iid) == VMStatus.SUSPENDING
    assert cloud.vms().status(vm.iid) == VMStatus.SUSPENDED
    assert cloud.vms().resume(vm.iid) == VMStatus.RESUMING
    assert cloud.vms().status(vm.iid) == VMStatus.RUNNING
    assert cloud.vms().reboot(vm.iid) == VMStatus.REBOOTING
    assert cloud.vms().status(vm.iid) == VMStatus.RUNNING
    with pytest.raises(mcinfra.McInfraError):
        cloud.vms().resume(vm.iid)  # Nova: 409 conflictingRequest (not suspended)
    assert cloud.vms().terminate(vm.iid) == VMStatus.TERMINATED
    assert cloud.vms().status(vm.iid) == VMStatus.NOT_EXIST
    sent = [r.body for r in fake.find("POST", r"/servers/[^/]+/action$")]
    assert sent[:3] == [{"suspend": None}, {"resume": None}, {"reboot": {"type": "SOFT"}}]


# ---------------------------------------------------------------- paging
def test_lists_walk_every_page(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    fake.state.page_size = 2
    for i in range(5):
        cloud.vpcs().create(VPCReq(name=f"v{i}", cidr=f"10.{i}.0.0/16",
                                   subnets=[SubnetReq(name=f"s{i}", cidr=f"10.{i}.1.0/24")]))
    fake.clear_requests()
    vpcs = cloud.vpcs().list()
    assert sorted(v.iid.name_id for v in vpcs) == [f"v{i}" for i in range(5)]
    assert all(len(v.subnets) == 1 for v in vpcs)
    # 6 networks (5 + the external one) in pages of 2: three requests, the last two with a marker
    pages = fake.find("GET", r"/v2.0/networks$")
    assert len(pages) == 3 and all("marker" in p.query for p in pages[1:])
    assert len(cloud.specs().list()) == 4 and len(fake.find("GET", r"/flavors/detail$")) >= 2
    assert len(cloud.images().list()) == 4 and len(fake.find("GET", r"/image/v2/images$")) >= 2
    assert len(cloud.region_zones().list()) == 2


# ---------------------------------------------------------------- Octavia waits
def test_nlb_steps_wait_for_active(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    net = make_net(cloud)
    fake.state.lb_polls = 3
    fake.clear_requests()
    nlb = cloud.nlbs().create(NLBReq(name="n", vpc=net["vpc"], type="INTERNAL", listener=Listener(port=80),
                                     vm_group=VMGroup(port=80), health_checker=HealthChecker(
                                         protocol="HTTP", port=80, interval=10, timeout=6, threshold=3)))
    assert nlb.type == "INTERNAL" and nlb.listener.ip and nlb.health_checker.protocol == "HTTP"
    assert nlb.extra["provisioning_status"] == "ACTIVE"
    # no change was sent while the load balancer was PENDING_* (the fake would have answered 409)
    assert not [r for r in fake.requests if r.method in ("POST", "PUT") and "lbaas" in r.path
                and r.route == ""]
    assert len(fake.find("GET", r"/lbaas/loadbalancers/[^/]+$")) >= 4 * 3
    cloud.nlbs().delete(nlb.iid)
    with pytest.raises(mcinfra.NotFound):
        cloud.nlbs().get(nlb.iid)


# ---------------------------------------------------------------- CSP name rules
NOVA_KEYPAIR = re.compile(r"^[a-zA-Z0-9 _-]{1,255}$")
HOSTNAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


@pytest.mark.parametrize("kind", ["vpc", "security_group", "keypair", "vm", "nlb", "subnet"])
def test_generated_names_fit_the_rules(kind: str) -> None:
    rules = OpenStackDriver().capabilities().name_rules
    for user in ("a", "x" * 63, "Web_Server-01", "n0-dashes--here"):
        name = csp_name(user, kind, rules)
        assert NOVA_KEYPAIR.match(name) and len(name) <= 255
        if kind == "keypair":
            assert name.startswith(user.lower().replace("_", "-"))  # never cut: Nova takes 255
        else:
            assert HOSTNAME.match(name), name  # Nova makes the VM's hostname from its name


def test_long_names_reach_the_cloud_whole(fake: OpenStackFake) -> None:
    fake.reset()
    long = "a" + "b" * 62  # the longest user name
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.credentials.add("c", provider="openstack", keys=credentials(fake))
        infra.regions.add("r", provider="openstack", region="RegionOne", zone="nova")
        infra.connections.add("os", credential="c", region="r", options=FAST)
        conn = infra.connect("os")
        conn.vpcs.create(long, cidr="10.0.0.0/16", subnets=[SubnetReq(name=long, cidr="10.0.1.0/24")])
        conn.security_groups.create(long, vpc=long, rules=[SecurityRule(direction="inbound", protocol="TCP",
                                                                        from_port=22, to_port=22)])
        conn.keypairs.create(long)
        vm = conn.vms.start(long, image="ubuntu-22.04", spec="m1.small", vpc=long, subnet=long,
                            security_groups=[long], keypair=long)
        assert vm.status == VMStatus.RUNNING
        nlb = conn.nlbs.create(long, vpc=long, listener={"port": 80}, vm_group={"port": 80, "vms": [long]})
        assert nlb.vm_group.vms == [long]
        sent = [(k, v["name"]) for r in fake.requests if r.method == "POST" and isinstance(r.body, dict)
                for k, v in r.body.items() if isinstance(v, dict) and v.get("name")]
        assert {k for k, _ in sent} >= {"network", "subnet", "router", "security_group", "keypair", "server",
                                        "loadbalancer", "listener", "pool"}
        for kind, name in sent:
            if kind == "member":
                continue  # a member is named by its VM's id, so health maps back to the VM
            assert NOVA_KEYPAIR.match(name) if kind == "keypair" else HOSTNAME.match(name), (kind, name)
        conn.destroy_all(pause=0.01)
    assert fake.schema_errors == []
    assert list(fake.state.servers) == [] and list(fake.state.lbs) == []


def test_handler_lookups_by_name_and_id(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    image = cloud.images().get("debian-12")
    assert cloud.images().get(image.iid.system_id).name == "debian-12"
    assert cloud.specs().get("2").name == "m1.small"
    with pytest.raises(mcinfra.NotFound):
        cloud.images().get("no-such-image")
    with pytest.raises(mcinfra.NotFound):
        cloud.specs().get("m9.huge")
    regions = {r.name: r for r in cloud.region_zones().list()}
    assert {z.name: z.status.value for z in regions["RegionOne"].zones} == {
        "nova": "Available", "az-2": "Available", "az-down": "Unavailable"}
    assert regions["RegionTwo"].zones == []
    with pytest.raises(mcinfra.NotFound):
        cloud.vms().get(IID(name_id="x", system_id="nope"))


def test_nlb_changes_replace_what_octavia_cannot_change(fake: OpenStackFake, cloud: OpenStackSession) -> None:
    net = make_net(cloud)
    vm = cloud.vms().start(VMReq(name="vm-1", image="ubuntu-22.04", spec="m1.small", vpc=net["vpc"],
                                 subnet=net["subnet"], security_groups=[net["sg"]], keypair=net["key"]))
    nlb = cloud.nlbs().create(NLBReq(name="n", vpc=net["vpc"], listener=Listener(protocol="UDP", port=53),
                                     vm_group=VMGroup(protocol="UDP", port=53, vms=[vm.iid.system_id]),
                                     health_checker=HealthChecker(protocol="TCP", port=22, interval=10, timeout=10,
                                                                  threshold=3)))
    assert (nlb.listener.protocol, nlb.vm_group.protocol, nlb.health_checker.port) == ("UDP", "UDP", 22)
    # Octavia pairs UDP listeners with UDP pools only, and neither protocol can change in place
    with pytest.raises(mcinfra.Unsupported):
        cloud.nlbs().change_vm_group(nlb.iid, VMGroup(protocol="TCP", port=8080))
    with pytest.raises(mcinfra.Unsupported):
        cloud.nlbs().change_listener(nlb.iid, Listener(protocol="TCP", port=80))
    fake.clear_requests()
    group = cloud.nlbs().change_vm_group(nlb.iid, VMGroup(protocol="UDP", port=8080))
    assert (group.protocol, group.port, group.vms) == ("UDP", 8080, [vm.iid.system_id])
    assert cloud.nlbs().change_listener(nlb.iid, Listener(protocol="UDP", port=5353)).port == 5353
    fake.inject("POST", r"/lbaas/listeners$", status=500, reason="injected", message="no")
    with pytest.raises(mcinfra.CloudError):
        cloud.nlbs().change_listener(nlb.iid, Listener(protocol="UDP", port=5454))
    assert cloud.nlbs().get(nlb.iid).listener.port == 5353  # the old listener came back
    hc = cloud.nlbs().change_health_checker(nlb.iid, HealthChecker(protocol="HTTP", port=8080, interval=5,
                                                                   timeout=9, threshold=2))
    assert (hc.protocol, hc.port, hc.interval, hc.timeout, hc.threshold) == ("HTTP", 8080, 5, 5, 2)
    with pytest.raises(mcinfra.Unsupported):
        cloud.nlbs().create(NLBReq(name="m", vpc=net["vpc"], listener=Listener(protocol="TCP", port=1),
                                   vm_group=VMGroup(protocol="UDP", port=1), health_checker=hc))
    assert cloud.nlbs().health(nlb.iid).all == [vm.iid.system_id]
    assert cloud.nlbs().remove_vms(nlb.iid, [vm.iid.system_id]).vms == []
    assert cloud.nlbs().get(nlb.iid).vm_group.port == 8080  # kept with no member left
