"""VM lifecycle and status transitions."""

from __future__ import annotations

import ipaddress

import pytest

import mcinfra
from mcinfra import VMStatus
from tests.conformance.conftest import calls, start_vm

TRANSITIONAL = {VMStatus.SUSPENDING, VMStatus.RESUMING, VMStatus.REBOOTING, VMStatus.TERMINATING}


def test_vm_lifecycle(cloud: mcinfra.Connection, target, net) -> None:
    vm = start_vm(cloud, target, net)
    assert vm.iid.name_id == "vm-01" and vm.iid.system_id
    assert vm.status == VMStatus.RUNNING
    # references come back as the user's names, not CSP ids
    assert (vm.vpc, vm.subnet, vm.security_groups, vm.keypair) == (net.vpc, net.subnet, [net.sg], net.key)
    assert vm.private_ip and ipaddress.ip_address(vm.private_ip) in ipaddress.ip_network("10.10.1.0/24")
    assert vm.public_ip and ipaddress.ip_address(vm.public_ip)
    assert vm.vm_user == "cb-user" and vm.ssh_port == 22
    assert vm.image == target.image and vm.spec == target.spec
    assert cloud.vms.get("vm-01").iid == vm.iid
    assert [v.iid.name_id for v in cloud.vms.list()] == ["vm-01"]
    assert cloud.vms.status("vm-01") == VMStatus.RUNNING
    assert cloud.vms.statuses() == {"vm-01": VMStatus.RUNNING}


def test_vm_control(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net)
    t = target.state_timeout
    assert cloud.vms.suspend("vm-01") in {VMStatus.SUSPENDING, VMStatus.SUSPENDED}
    assert cloud.vms.wait("vm-01", VMStatus.SUSPENDED, timeout=t) == VMStatus.SUSPENDED
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.vms.reboot("vm-01")  # a suspended VM cannot reboot
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.vms.suspend("vm-01")
    assert cloud.vms.resume("vm-01", wait=True, timeout=t) == VMStatus.RUNNING
    assert cloud.vms.reboot("vm-01") in {VMStatus.REBOOTING, VMStatus.RUNNING}
    assert cloud.vms.wait("vm-01", VMStatus.RUNNING, timeout=t) == VMStatus.RUNNING
    assert cloud.vms.get("vm-01").status == VMStatus.RUNNING


def test_vm_terminate(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net)
    assert cloud.vms.terminate("vm-01", timeout=target.state_timeout) in {VMStatus.TERMINATED, VMStatus.NOT_EXIST}
    with pytest.raises(mcinfra.NotFound):
        cloud.vms.get("vm-01")
    assert cloud.vms.statuses() == {}
    # the name is free again, and the SG/VPC are no longer in use
    cloud.security_groups.delete(net.sg)


def test_vm_errors(cloud: mcinfra.Connection, infra: mcinfra.Infra, target, net) -> None:
    base = dict(image=target.image, spec=target.spec, vpc=net.vpc, subnet=net.subnet, security_groups=[net.sg],
                keypair=net.key, timeout=target.state_timeout)
    for field, value in (("vpc", "no-vpc"), ("subnet", "no-subnet"), ("security_groups", ["no-sg"]),
                         ("keypair", "no-key")):
        with pytest.raises(mcinfra.NotFound):
            cloud.vms.start("vm-x", **{**base, field: value})
    before = calls(infra)
    for field, value in (("image", ""), ("security_groups", "sg-01"), ("root_disk_size", -5), ("keypair", "bad key")):
        with pytest.raises(mcinfra.InvalidRequest):
            cloud.vms.start("vm-x", **{**base, field: value})
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.vms.start("-bad-name", **base)
    assert calls(infra) == before
    with pytest.raises(mcinfra.McInfraError):
        cloud.vms.start("vm-x", **{**base, "image": "no-such-image-xyz"})
    with pytest.raises(mcinfra.NotFound):
        cloud.vms.get("vm-x")  # a failed start leaves no name behind
    assert cloud.vms.list() == []
    start_vm(cloud, target, net)
    with pytest.raises(mcinfra.AlreadyExists):
        start_vm(cloud, target, net)
    with pytest.raises(mcinfra.NotFound):
        cloud.vms.status("nope")
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.vms.resume("vm-01")  # running: nothing to resume


def test_vm_in_use_blocks_subnet_and_key_is_tracked(cloud: mcinfra.Connection, target, net) -> None:
    start_vm(cloud, target, net)
    with pytest.raises(mcinfra.InUse):
        cloud.vpcs.remove_subnet(net.vpc, net.subnet)
    with pytest.raises(mcinfra.InUse):
        cloud.keypairs.delete(net.key)


def test_vm_root_disk(cloud: mcinfra.Connection, target, net) -> None:
    disk_type = target.root_disk_type or None  # "": the driver's default type
    vm = cloud.vms.start("vm-disk", image=target.image, spec=target.spec, vpc=net.vpc, subnet=net.subnet,
                         security_groups=[net.sg], keypair=net.key, root_disk_type=disk_type,
                         root_disk_size=target.root_disk_size, timeout=target.state_timeout)
    assert vm.status == VMStatus.RUNNING
    got = cloud.vms.get("vm-disk")
    for info in (vm, got):
        assert info.root_disk_size == target.root_disk_size
        assert info.root_disk_type == disk_type if disk_type else info.root_disk_type


def test_vm_terminate_force(cloud: mcinfra.Connection, infra: mcinfra.Infra, target, net) -> None:
    # force on a VM the CSP still has: terminated and forgotten as without force
    start_vm(cloud, target, net, "vm-01")
    assert cloud.vms.terminate("vm-01", force=True, timeout=target.state_timeout) in \
        {VMStatus.TERMINATED, VMStatus.NOT_EXIST}
    with pytest.raises(mcinfra.NotFound):
        cloud.vms.get("vm-01")
    # force on a name whose VM the CSP no longer has: the name is forgotten
    vm = start_vm(cloud, target, net, "vm-02")
    cloud.vms.unregister("vm-02")
    cloud.vms.delete_csp(vm.iid.system_id)
    infra.store.add_ready(cloud.name, "vm", [{"name_id": "vm-ghost", "system_id": vm.iid.system_id,
                                              "csp_name": vm.iid.name_id}])
    assert cloud.vms.terminate("vm-ghost", force=True, timeout=target.state_timeout) in \
        {VMStatus.TERMINATED, VMStatus.NOT_EXIST}
    assert cloud.vms.list_all().only_store == []
    with pytest.raises(mcinfra.NotFound):
        cloud.vms.terminate("vm-ghost", force=True)
