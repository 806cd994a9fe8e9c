"""Through the core, the scenarios the widened conformance suite adds (issue 10, point 8), so the
OpenStack driver has them covered on its own: root disk type and size, UDP and INTERNAL NLBs,
HTTP health checks, register/unregister/list_all of key pairs and NLBs, forced deletes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import mcinfra
from mcinfra import SecurityRule, SubnetReq
from tests.drivers.openstack.conftest import FAST, credentials
from tests.fakes.openstack import OpenStackFake


@pytest.fixture
def conn(fake: OpenStackFake) -> Iterator[mcinfra.Connection]:
    fake.reset()
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.credentials.add("c", provider="openstack", keys=credentials(fake))
        infra.regions.add("r", provider="openstack", region="RegionOne", zone="nova")
        infra.connections.add("os", credential="c", region="r", options=FAST)
        c = infra.connect("os")
        c.vpcs.create("vpc-01", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-01", cidr="10.0.1.0/24")])
        c.security_groups.create("sg-01", vpc="vpc-01", rules=[
            SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22)])
        c.keypairs.create("key-01")
        yield c
        report = c.destroy_all(pause=0.01)
        assert report.all_destroyed, report.remaining
    assert fake.schema_errors == []
    assert fake.state.servers == {} and fake.state.lbs == {} and fake.state.keypairs == {}


def start(conn: mcinfra.Connection, name: str = "vm-01", **kw: object) -> mcinfra.VMInfo:
    return conn.vms.start(name, image="ubuntu-22.04", spec="m1.small", vpc="vpc-01", subnet="sn-01",
                          security_groups=["sg-01"], keypair="key-01", **kw)


def test_root_disk_type_and_size(fake: OpenStackFake, conn: mcinfra.Connection) -> None:
    vm = start(conn, root_disk_type="ssd", root_disk_size=30)
    assert (vm.root_disk_type, vm.root_disk_size) == ("ssd", 30)
    bdm = fake.find("POST", r"/servers$")[-1].body["server"]["block_device_mapping_v2"]
    assert bdm[0]["volume_size"] == 30 and bdm[0]["volume_type"] == "ssd" and bdm[0]["boot_index"] == 0
    plain = start(conn, "vm-02")
    assert (plain.root_disk_type, plain.root_disk_size) == ("local", 20)  # the flavor's disk


def test_udp_internal_and_http_checked_nlbs(conn: mcinfra.Connection) -> None:
    start(conn)
    udp = conn.nlbs.create("nlb-udp", vpc="vpc-01", type="INTERNAL", listener={"protocol": "UDP", "port": 53},
                           vm_group={"protocol": "UDP", "port": 53, "vms": ["vm-01"]},
                           health_checker={"protocol": "TCP", "port": 22})
    assert (udp.type, udp.listener.protocol, udp.vm_group.protocol, udp.health_checker.port) == (
        "INTERNAL", "UDP", "UDP", 22)
    http = conn.nlbs.create("nlb-http", vpc="vpc-01", listener={"port": 80}, vm_group={"port": 80, "vms": ["vm-01"]},
                            health_checker={"protocol": "HTTP", "port": 80})
    assert http.type == "PUBLIC" and http.health_checker.protocol == "HTTP"
    assert conn.nlbs.health("nlb-http").healthy == ["vm-01"]
    assert len(conn.images.list()) == 4


def test_register_keypairs_and_nlbs(conn: mcinfra.Connection) -> None:
    start(conn)
    nlb = conn.nlbs.create("nlb-01", vpc="vpc-01", listener={"port": 80}, vm_group={"port": 80, "vms": ["vm-01"]})
    conn.nlbs.unregister("nlb-01")
    assert nlb.iid.system_id in {i.system_id for i in conn.nlbs.list_all().only_csp}
    adopted = conn.nlbs.register("nlb-adopted", nlb.iid.system_id)
    assert (adopted.vpc, adopted.vm_group.vms) == ("vpc-01", ["vm-01"])
    key = conn.keypairs.get("key-01")
    conn.nlbs.delete("nlb-adopted")
    conn.vms.terminate("vm-01")
    conn.keypairs.unregister("key-01")
    assert key.iid.system_id in {i.system_id for i in conn.keypairs.list_all().only_csp}
    assert conn.keypairs.register("key-adopted", key.iid.system_id).fingerprint == key.fingerprint
    conn.keypairs.delete("key-adopted")
    conn.keypairs.create("key-01")


def test_forced_deletes(fake: OpenStackFake, conn: mcinfra.Connection) -> None:
    start(conn)
    conn.nlbs.create("nlb-01", vpc="vpc-01", listener={"port": 80}, vm_group={"port": 80, "vms": ["vm-01"]})
    conn.nlbs.delete("nlb-01", force=True)
    assert conn.vms.terminate("vm-01", force=True) in {mcinfra.VMStatus.TERMINATED, mcinfra.VMStatus.NOT_EXIST}
    fake.inject("DELETE", r"/v2.0/security-groups/[^/]+$", status=409, reason="SecurityGroupInUse",
                message="in use", times=50)
    conn.security_groups.delete("sg-01", force=True)  # the CSP refused: the name is forgotten anyway
    fake.clear_faults()
    assert [s.iid.name_id for s in conn.security_groups.list()] == []
    fake.reset()  # the refused group is still at the fake; start the teardown from a clean cloud
    for kind in ("keypair", "vpc"):
        for iid in conn.manager(kind).list_all().mapped:
            conn.manager(kind).unregister(iid.name_id)
