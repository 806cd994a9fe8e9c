"""Register / unregister / list_all / delete_csp: the store and the CSP seen side by side."""

from __future__ import annotations

import pytest

import mcinfra
from mcinfra import SubnetReq
from tests.conformance.conftest import start_vm


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
