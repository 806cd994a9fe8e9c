"""EC2 specifics: hibernation only when launched for it, the cb-user user data, root disk
mapping, strict catalog checks and state mapping."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mcinfra.core.errors import CloudError, InvalidRequest, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import IID, KeyPairReq, SecurityGroupReq, SubnetReq, VMReq, VMStatus, VPCReq
from mcinfra.drivers.aws.driver import AwsDriver
from mcinfra.drivers.aws.vm import map_status
from tests.conformance.targets import aws as aws_target
from tests.drivers.aws.conftest import record_calls


@pytest.fixture
def base(conn: Any) -> dict[str, Any]:
    vpc = conn.vpcs().create(
        VPCReq(name="vpc-vm", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.0.1.0/24")])
    )
    sg = conn.security_groups().create(SecurityGroupReq(name="sg-vm", vpc=vpc.iid.system_id))
    key = conn.keypairs().create(KeyPairReq(name="key-vm"))
    return {
        "vpc": vpc.iid.system_id,
        "subnet": vpc.subnets[0].iid.system_id,
        "security_groups": [sg.iid.system_id],
        "keypair": key.iid.system_id,
        "public_key": key.public_key,
    }


def _req(base: dict[str, Any], **kw: Any) -> VMReq:
    fields = {k: v for k, v in base.items() if k != "public_key"}
    fields.update(name="vm-t", image=aws_target.IMAGE, spec=aws_target.SPEC)
    fields.update(kw)
    return VMReq(**fields)


def test_vm_info_and_public_ip(conn: Any, base: dict[str, Any]) -> None:
    vm = conn.vms().start(_req(base))
    assert vm.status == VMStatus.RUNNING
    assert vm.public_ip and vm.private_ip and vm.private_ip.startswith("10.0.1.")
    assert (vm.vpc, vm.subnet, vm.keypair) == (base["vpc"], base["subnet"], base["keypair"])
    assert vm.security_groups == base["security_groups"]
    assert (vm.zone, vm.vm_user, vm.ssh_port) == ("us-east-1a", "cb-user", 22)


def test_user_data_creates_cb_user_with_the_key(conn: Any, ec2: Any, base: dict[str, Any]) -> None:
    vm = conn.vms().start(_req(base))
    raw = ec2.describe_instance_attribute(InstanceId=vm.iid.system_id, Attribute="userData")
    script = base64.b64decode(raw["UserData"]["Value"]).decode()
    assert "VM_USER=cb-user" in script
    assert base["public_key"].split()[1] in script
    assert "NOPASSWD:ALL" in script


def test_root_disk_type_and_size(conn: Any, ec2: Any, base: dict[str, Any]) -> None:
    vm = conn.vms().start(_req(base, root_disk_type="gp3", root_disk_size=40))
    assert (vm.root_disk_type, vm.root_disk_size) == ("gp3", 40)


def test_bad_disk_type_is_refused_before_any_call(conn: Any, ec2: Any, base: dict[str, Any]) -> None:
    with record_calls(ec2) as calls, pytest.raises(InvalidRequest):
        conn.vms().start(_req(base, root_disk_type="SSD-fast"))
    assert calls == []


def test_plain_stop_without_hibernation(conn: Any, ec2: Any, base: dict[str, Any]) -> None:
    vm = conn.vms().start(_req(base))
    assert vm.extra["hibernation"] is False
    with record_calls(ec2) as calls:
        assert conn.vms().suspend(vm.iid) == VMStatus.SUSPENDING
    assert [p.get("Hibernate") for op, p in calls if op == "StopInstances"] == [False]
    assert conn.vms().status(vm.iid) == VMStatus.SUSPENDED
    assert conn.vms().resume(vm.iid) == VMStatus.RESUMING
    assert conn.vms().status(vm.iid) == VMStatus.RUNNING


def test_hibernate_when_launched_for_it(moto_url: str, conn: Any, base: dict[str, Any]) -> None:
    t = aws_target.make_target(moto_url)
    hib = AwsDriver().connect(
        SessionInfo(
            name="hib",
            provider="aws",
            credentials=t.credentials,
            region=t.region,
            zone=t.zone,
            options={**t.options, "hibernation": True},
        )
    )
    vm = hib.vms().start(_req(base))
    assert vm.extra["hibernation"] is True
    with record_calls(hib.client.ec2) as calls:
        hib.vms().suspend(vm.iid)
    assert [p.get("Hibernate") for op, p in calls if op == "StopInstances"] == [True]
    run = hib.client.ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [vm.iid.system_id]}])[
        "Volumes"
    ]
    assert run and run[0]["Encrypted"] is True


def test_unknown_catalog_entries_are_refused_and_nothing_runs(conn: Any, ec2: Any, base: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        conn.vms().start(_req(base, image="ami-00000000deadbeef0"))
    # moto answers InvalidInstanceType.NotFound, AWS InvalidParameterValue: both typed.
    with pytest.raises((NotFound, CloudError)):
        conn.vms().start(_req(base, spec="t9.nonexistent"))
    with pytest.raises((NotFound, CloudError)):
        conn.vms().start(_req(base, keypair="no-such-key"))
    assert conn.vms().list() == []


def test_terminated_and_missing_vms(conn: Any, base: dict[str, Any]) -> None:
    vms = conn.vms()
    vm = vms.start(_req(base))
    assert vms.terminate(vm.iid) == VMStatus.TERMINATING
    assert vms.status(vm.iid) in (VMStatus.TERMINATING, VMStatus.TERMINATED)
    with pytest.raises(NotFound):
        vms.get(vm.iid)
    with pytest.raises(NotFound):
        vms.terminate(vm.iid)
    assert vms.list() == []
    ghost = IID(name_id="ghost", system_id="i-0123456789abcdef0")
    assert vms.status(ghost) == VMStatus.NOT_EXIST
    for action in (vms.suspend, vms.resume, vms.reboot, vms.get):
        with pytest.raises(NotFound):
            action(ghost)


def test_pending_is_creating_for_a_new_instance_and_resuming_after_a_stop() -> None:
    now = datetime.now(UTC)
    bdm = [{"DeviceName": "/dev/xvda", "Ebs": {"AttachTime": now - timedelta(seconds=5)}}]
    new = {
        "State": {"Name": "pending"},
        "LaunchTime": now,
        "RootDeviceName": "/dev/xvda",
        "BlockDeviceMappings": bdm,
    }
    assert map_status(new) == VMStatus.CREATING
    restarted = {
        **new,
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"AttachTime": now - timedelta(days=3)}}],
    }
    assert map_status(restarted) == VMStatus.RESUMING
    expected = {
        "running": VMStatus.RUNNING,
        "stopping": VMStatus.SUSPENDING,
        "stopped": VMStatus.SUSPENDED,
        "shutting-down": VMStatus.TERMINATING,
        "terminated": VMStatus.TERMINATED,
        "weird": VMStatus.FAILED,
    }
    for state, status in expected.items():
        assert map_status({"State": {"Name": state}}) == status
