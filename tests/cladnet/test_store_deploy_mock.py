"""CLADNet against the mock driver: the store side and every check made before SSH.

Mock VMs have documentation-range addresses nobody may send to, so no test here lets
the deployer open a connection: an ``ssh_keys`` callable that has no key for the VM makes
each peer fail before any packet leaves.
"""

import pytest

import mcinfra
from mcinfra import SecurityRule, SubnetReq, cladnet
from mcinfra.cladnet.deploy import parse_vm_refs


@pytest.fixture
def infra():
    from mcinfra.drivers.mock.state import reset

    reset()
    inf = mcinfra.Infra("sqlite:///:memory:")
    for conn in ("m1", "m2"):
        inf.connections.add(conn, provider="mock")
        c = inf.connect(conn)
        c.vpcs.create("vpc-01", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-01", cidr="10.0.1.0/24")])
        c.security_groups.create("sg-01", vpc="vpc-01", rules=[
            SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22)])
        c.keypairs.create("key-01")
        img, spec = c.images.list()[0].iid.name_id, c.specs.list()[0].name
        for i in range(2):
            c.vms.start(f"vm-{i}", image=img, spec=spec, vpc="vpc-01", subnet="sn-01",
                        security_groups=["sg-01"], keypair="key-01")
    yield inf
    reset()


def no_keys(connection, vm):
    return None


VMS = ["m1/vm-0", "m1/vm-1", "m2/vm-0", "m2/vm-1"]


def test_create_get_list_and_bad_input(infra):
    rec = cladnet.recommend_for_vms(infra, VMS)
    assert rec.recommended and not rec.recommended.startswith("10.0.")
    net = cladnet.create(infra, "mesh", rec.recommended, rule_type="cost-prioritized", description="d")
    assert cladnet.get(infra, "mesh").address_space == net.address_space
    assert [n.name for n in cladnet.list_nets(infra)] == ["mesh"]
    with pytest.raises(mcinfra.AlreadyExists):
        cladnet.create(infra, "mesh", rec.recommended)
    with pytest.raises(mcinfra.InvalidRequest, match=r"overlaps 10\.0\.0\.0/16"):
        cladnet.create(infra, "other", "10.0.0.0/24", avoid=cladnet.vm_cidrs(infra, VMS))
    for kwargs, msg in [({"rule_type": "cheap"}, "rule type"), ({"port": 0}, "port"), ({"mtu": 100}, "MTU")]:
        with pytest.raises(mcinfra.InvalidRequest, match=msg):
            cladnet.create(infra, "other", "10.77.0.0/24", **kwargs)
    with pytest.raises(mcinfra.InvalidRequest, match="name"):
        cladnet.create(infra, "1bad", "10.77.0.0/24")
    with pytest.raises(mcinfra.NotFound):
        cladnet.get(infra, "nope")


def test_vm_refs_checked_before_anything():
    assert parse_vm_refs(["a/b", ("a", "b"), "c/d"]) == [("a", "b"), ("c", "d")]
    for bad in (["novm"], ["a/1x"], [("a", "")]):
        with pytest.raises(mcinfra.InvalidRequest):
            parse_vm_refs(bad)


def test_deploy_rejects_overlap_missing_vm_and_full_space_before_ssh(infra):
    cladnet.create(infra, "clash", "10.0.200.0/24")  # inside the VPCs' 10.0.0.0/16
    with pytest.raises(mcinfra.InvalidRequest, match=r"overlaps 10\.0\.0\.0/16"):
        cladnet.deploy(infra, "clash", VMS, ssh_keys=no_keys)
    assert cladnet.get(infra, "clash").peers == []
    cladnet.create(infra, "tiny", "10.77.0.0/30")
    with pytest.raises(cladnet.AddressSpaceFull, match="2 addresses left"):
        cladnet.deploy(infra, "tiny", VMS, ssh_keys=no_keys)
    with pytest.raises(mcinfra.NotFound):
        cladnet.deploy(infra, "tiny", ["m1/ghost"], ssh_keys=no_keys)
    with pytest.raises(mcinfra.InvalidRequest, match="concurrency"):
        cladnet.deploy(infra, "tiny", VMS[:1], ssh_keys=no_keys, concurrency=0)
    with pytest.raises(mcinfra.InvalidRequest, match="mode"):
        cladnet.deploy(infra, "tiny", VMS[:1], ssh_keys=no_keys, mode="magic")


def test_unreachable_peers_fail_with_reason_and_addresses_stay(infra):
    cladnet.create(infra, "mesh", "10.77.0.0/24")
    report = cladnet.deploy(infra, "mesh", VMS[:3], ssh_keys=no_keys)
    assert set(report.failed) == set(VMS[:3])
    assert all("no SSH private key for key pair" in r for r in report.failed.values())
    net = cladnet.get(infra, "mesh")
    assert [(p.key, p.overlay_ip, p.state) for p in net.peers] == [
        ("m1/vm-0", "10.77.0.1", "failed"), ("m1/vm-1", "10.77.0.2", "failed"),
        ("m2/vm-0", "10.77.0.3", "failed")]
    # re-deploy with one more VM: existing addresses are kept, the new one comes next
    cladnet.deploy(infra, "mesh", VMS, ssh_keys=no_keys)
    net = cladnet.get(infra, "mesh")
    assert [p.overlay_ip for p in net.peers] == ["10.77.0.1", "10.77.0.2", "10.77.0.3", "10.77.0.4"]
    # a terminated VM leaves the mesh; its address is never handed out again
    infra.connect("m2").vms.terminate("vm-1")
    cladnet.update(infra, "mesh", ssh_keys=no_keys)
    gone = next(p for p in cladnet.get(infra, "mesh").peers if p.key == "m2/vm-1")
    assert gone.state == "down" and "no longer exists" in gone.reason
    assert cladnet.get(infra, "mesh").next_index == 4
    # delete of a net whose VMs cannot be reached keeps it, force forgets it
    report = cladnet.delete(infra, "mesh", ssh_keys=no_keys)
    assert report.failed and cladnet.get(infra, "mesh")
    cladnet.delete(infra, "mesh", ssh_keys=no_keys, force=True)
    with pytest.raises(mcinfra.NotFound):
        cladnet.get(infra, "mesh")


def test_a_vm_in_two_nets_needs_another_port_and_space(infra):
    cladnet.create(infra, "one", "10.77.0.0/24")
    cladnet.deploy(infra, "one", VMS[:2], ssh_keys=no_keys)
    cladnet.create(infra, "two", "10.78.0.0/24")
    with pytest.raises(mcinfra.InvalidRequest, match="another port"):
        cladnet.deploy(infra, "two", VMS[:1], ssh_keys=no_keys)
    cladnet.create(infra, "three", "10.77.0.0/25", port=51821)
    with pytest.raises(mcinfra.InvalidRequest, match=r"overlaps 10\.77\.0\.0/25"):
        cladnet.deploy(infra, "three", VMS[:1], ssh_keys=no_keys)
    assert cladnet.get(infra, "two").peers == [] and cladnet.get(infra, "three").peers == []
