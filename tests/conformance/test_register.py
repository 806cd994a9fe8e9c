"""Register / unregister / list_all / delete_csp: the store and the CSP seen side by side."""

from __future__ import annotations

import pytest

import mcinfra
from mcinfra import Listener, SubnetReq, VMGroup
from tests.conformance.conftest import only_csp, start_vm, until


def test_unregister_register_vpc(cloud: mcinfra.Connection) -> None:
    vpc = cloud.vpcs.create("vpc-01", cidr="10.30.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.30.1.0/24")])
    cloud.vpcs.unregister("vpc-01")
    with pytest.raises(mcinfra.NotFound):
        cloud.vpcs.get("vpc-01")
    listing = cloud.vpcs.list_all()
    assert vpc.iid.system_id in {i.system_id for i in listing.only_csp}
    assert not listing.mapped and not listing.only_store

    adopted = cloud.vpcs.register("vpc-adopted", vpc.iid.system_id)
    assert adopted.iid == mcinfra.IID(name_id="vpc-adopted", system_id=vpc.iid.system_id)
    assert [s.iid.name_id for s in adopted.subnets] == ["vpc-adopted-subnet-1"]  # as CB-Spider names them
    assert cloud.vpcs.list_all().mapped == [adopted.iid]
    with pytest.raises(mcinfra.AlreadyExists):
        cloud.vpcs.register("vpc-again", vpc.iid.system_id)  # one CSP id, one name
    with pytest.raises(mcinfra.NotFound):
        cloud.vpcs.register("vpc-ghost", "vpc-does-not-exist-0000")


def test_list_all_and_delete_csp(cloud: mcinfra.Connection, net) -> None:
    sg = cloud.security_groups.get(net.sg)
    cloud.security_groups.unregister(net.sg)
    listing = cloud.security_groups.list_all()
    assert sg.iid.system_id in {i.system_id for i in listing.only_csp}
    cloud.security_groups.delete_csp(sg.iid.system_id)
    assert sg.iid.system_id not in {i.system_id for i in cloud.security_groups.list_all().only_csp}
    # a mapped resource is deleted by name, not behind the store's back
    vpc = cloud.vpcs.get(net.vpc)
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.vpcs.delete_csp(vpc.iid.system_id)


def test_register_sg_and_vm_map_references(cloud: mcinfra.Connection, target, net) -> None:
    vm = start_vm(cloud, target, net)
    cloud.vms.unregister("vm-01")
    assert cloud.vms.list() == []
    adopted = cloud.vms.register("vm-adopted", vm.iid.system_id)
    assert (adopted.vpc, adopted.subnet, adopted.security_groups) == (net.vpc, net.subnet, [net.sg])
    with pytest.raises(mcinfra.InUse):
        cloud.security_groups.delete(net.sg)  # the adopted VM uses it


def test_only_store(infra: mcinfra.Infra, cloud: mcinfra.Connection) -> None:
    vpc = cloud.vpcs.create("vpc-gone", cidr="10.31.0.0/16")
    cloud.vpcs.unregister("vpc-gone")
    cloud.vpcs.delete_csp(vpc.iid.system_id)
    # a row whose resource vanished at the CSP shows up as only_store
    infra.store.add_ready(cloud.name, "vpc", [{"name_id": "vpc-ghost", "system_id": vpc.iid.system_id,
                                               "csp_name": vpc.iid.system_id}])
    assert cloud.vpcs.list_all().only_store == [mcinfra.IID(name_id="vpc-ghost", system_id=vpc.iid.system_id)]
    cloud.vpcs.delete("vpc-ghost")  # already gone at the CSP: the name is forgotten
    assert cloud.vpcs.list_all().only_store == []


def test_register_security_group(cloud: mcinfra.Connection, target, net) -> None:
    sg = cloud.security_groups.get(net.sg)
    cloud.security_groups.unregister(net.sg)
    with pytest.raises(mcinfra.NotFound):
        cloud.security_groups.get(net.sg)
    assert sg.iid.system_id in only_csp(cloud.security_groups)
    adopted = cloud.security_groups.register("sg-adopted", sg.iid.system_id)
    assert adopted.iid == mcinfra.IID(name_id="sg-adopted", system_id=sg.iid.system_id)
    assert adopted.vpc == net.vpc and set(adopted.rules) == set(sg.rules)
    assert cloud.security_groups.list_all().mapped == [adopted.iid]
    with pytest.raises(mcinfra.AlreadyExists):
        cloud.security_groups.register("sg-again", sg.iid.system_id)
    with pytest.raises(mcinfra.InUse):
        cloud.vpcs.delete(net.vpc)  # the adopted group holds its VPC
    # a VM started with the adopted group names it by its new name
    vm = cloud.vms.start("vm-01", image=target.image, spec=target.spec, vpc=net.vpc, subnet=net.subnet,
                         security_groups=["sg-adopted"], keypair=net.key, timeout=target.state_timeout)
    assert vm.security_groups == ["sg-adopted"]
    cloud.vms.terminate("vm-01", timeout=target.state_timeout)
    cloud.security_groups.unregister("sg-adopted")
    until(lambda: _deleted_csp(cloud.security_groups, sg.iid.system_id), timeout=target.state_timeout,
          what="the security group to be deletable (its VM gone)")
    assert sg.iid.system_id not in only_csp(cloud.security_groups)


def _deleted_csp(manager, system_id: str) -> bool:
    """delete_csp, retried while the CSP still sees a dependent (a VM still terminating)."""
    try:
        manager.delete_csp(system_id)
    except mcinfra.InUse:
        return False
    return True


def test_register_keypair(cloud: mcinfra.Connection) -> None:
    key = cloud.keypairs.create("key-01")
    cloud.keypairs.unregister("key-01")
    with pytest.raises(mcinfra.NotFound):
        cloud.keypairs.get("key-01")
    adopted = cloud.keypairs.register("key-adopted", key.iid.system_id)
    assert adopted.iid == mcinfra.IID(name_id="key-adopted", system_id=key.iid.system_id)
    assert adopted.fingerprint == key.fingerprint and adopted.private_key is None
    assert cloud.keypairs.list_all().mapped == [adopted.iid]
    with pytest.raises(mcinfra.AlreadyExists):
        cloud.keypairs.register("key-again", key.iid.system_id)
    cloud.keypairs.unregister("key-adopted")
    assert key.iid.system_id in only_csp(cloud.keypairs)
    cloud.keypairs.delete_csp(key.iid.system_id)
    assert key.iid.system_id not in only_csp(cloud.keypairs)


def test_vm_list_all_and_delete_csp(cloud: mcinfra.Connection, target, net) -> None:
    vm = start_vm(cloud, target, net)
    assert cloud.vms.list_all().mapped == [mcinfra.IID(name_id="vm-01", system_id=vm.iid.system_id)]
    cloud.vms.unregister("vm-01")
    assert vm.iid.system_id in only_csp(cloud.vms)
    assert cloud.vms.statuses() == {}
    cloud.vms.delete_csp(vm.iid.system_id)
    until(lambda: vm.iid.system_id not in only_csp(cloud.vms), timeout=target.state_timeout,
          what=f"VM {vm.iid.system_id} to leave the CSP's list")
    # nothing maps the VM any more: its SG and key pair are free
    until(lambda: _deleted(cloud.security_groups, net.sg), timeout=target.state_timeout,
          what="the security group to be deletable (its VM gone)")


def _deleted(manager, name: str) -> bool:
    try:
        manager.delete(name)
    except mcinfra.InUse:
        return False
    return True


def test_register_nlb(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net)
    nlb = cloud.nlbs.create("nlb-01", vpc=net.vpc, listener=Listener(port=22), vm_group=VMGroup(port=22, vms=["vm-01"]))
    cloud.nlbs.unregister("nlb-01")
    with pytest.raises(mcinfra.NotFound):
        cloud.nlbs.get("nlb-01")
    assert nlb.iid.system_id in only_csp(cloud.nlbs)
    adopted = cloud.nlbs.register("nlb-adopted", nlb.iid.system_id)
    assert adopted.iid == mcinfra.IID(name_id="nlb-adopted", system_id=nlb.iid.system_id)
    assert adopted.vpc == net.vpc and adopted.vm_group.vms == ["vm-01"]  # references as names
    assert (adopted.listener.protocol, adopted.listener.port) == ("TCP", 22)
    assert cloud.nlbs.list_all().mapped == [adopted.iid]
    with pytest.raises(mcinfra.AlreadyExists):
        cloud.nlbs.register("nlb-again", nlb.iid.system_id)
    with pytest.raises(mcinfra.InUse):
        cloud.vms.terminate("vm-01")  # the adopted NLB holds its member
    cloud.nlbs.unregister("nlb-adopted")
    cloud.nlbs.delete_csp(nlb.iid.system_id)
    until(lambda: nlb.iid.system_id not in only_csp(cloud.nlbs), timeout=target.state_timeout,
          what=f"NLB {nlb.iid.system_id} to leave the CSP's list")
