"""Operations are polled through the fake (never the SDK's own ExtendedOperation polling);
instance states map onto VMStatus while they move."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from mcinfra.core.errors import CloudError
from mcinfra.core.models import IID, KeyPairReq, SubnetReq, VMReq, VMStatus, VPCReq
from tests.drivers.gcp.conftest import connect
from tests.fakes.gcp import GcpFake

VM = IID(name_id="vm-1", system_id="vm-1")


def _vm(cloud: Any) -> Any:
    cloud.vpcs().create(VPCReq(name="vpc-1", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-1", cidr="10.0.1.0/24")]))
    key = cloud.keypairs().create(KeyPairReq(name="key-1"))
    return cloud.vms().start(
        VMReq(
            name="vm-1",
            image="debian-12",
            spec="e2-small",
            vpc="vpc-1",
            subnet="sn-1",
            keypair="key-1",
            public_key=key.public_key,
        )
    )


def test_mutations_wait_for_their_operation_in_each_scope(cloud: Any, fake: GcpFake) -> None:
    fake.state.op_polls = 3
    _vm(cloud)
    # global (network), regional (subnetwork) and zonal (instance) operations, 3 polls each
    assert len(fake.find("POST", r"/global/operations/operation-\d+-insert/wait$")) == 3
    assert len(fake.find("POST", r"/regions/us-central1/operations/operation-\d+-insert/wait$")) == 3
    assert len(fake.find("POST", r"/zones/us-central1-a/operations/operation-\d+-insert/wait$")) == 3
    assert cloud.vms().status(VM) == VMStatus.RUNNING


def test_an_operation_that_never_finishes_times_out(fake: GcpFake) -> None:
    fake.reset()
    fake.state.op_polls = 10**6
    conn = connect(fake, operation_timeout=0.3)
    try:
        with pytest.raises(CloudError) as err:
            conn.vpcs().create(VPCReq(name="vpc-1", cidr="10.0.0.0/16"))
        assert err.value.code == "OperationTimeout"
    finally:
        fake.state.op_polls = 0
        conn.close()


def test_status_follows_the_instance_through_its_states(cloud: Any, fake: GcpFake) -> None:
    fake.state.transitions = True
    vm = _vm(cloud)  # the start's own read saw PROVISIONING
    assert vm.status == VMStatus.CREATING
    assert cloud.vms().status(VM) == VMStatus.CREATING  # STAGING of a new VM
    assert cloud.vms().status(VM) == VMStatus.RUNNING
    assert cloud.vms().suspend(VM) == VMStatus.SUSPENDING
    assert cloud.vms().status(VM) == VMStatus.SUSPENDING
    assert cloud.vms().status(VM) == VMStatus.SUSPENDED
    assert cloud.vms().resume(VM) == VMStatus.RESUMING
    assert cloud.vms().status(VM) == VMStatus.RESUMING  # STAGING after a suspend
    assert cloud.vms().status(VM) == VMStatus.RUNNING
    assert cloud.vms().reboot(VM) == VMStatus.REBOOTING
    assert cloud.vms().status(VM) == VMStatus.RUNNING
    assert cloud.vms().terminate(VM) == VMStatus.TERMINATING
    assert cloud.vms().status(VM) == VMStatus.NOT_EXIST


def test_a_stopped_vm_is_suspended_and_resume_starts_it(cloud: Any, fake: GcpFake) -> None:
    _vm(cloud)
    cloud.client.mutate(
        "InstancesClient", "stop_unary", project=cloud.client.project, zone="us-central1-a", instance="vm-1"
    )
    assert cloud.vms().status(VM) == VMStatus.SUSPENDED  # GCP's TERMINATED = stopped
    assert cloud.vms().resume(VM) == VMStatus.RESUMING
    assert fake.find("POST", r"/instances/vm-1/start$") and not fake.find("POST", r"/instances/vm-1/resume$")
    assert cloud.vms().status(VM) == VMStatus.RUNNING


def test_a_vm_in_another_zone_is_found_again(cloud: Any, fake: GcpFake) -> None:
    cloud.vpcs().create(VPCReq(name="vpc-1", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-1", cidr="10.0.1.0/24")]))
    key = cloud.keypairs().create(KeyPairReq(name="key-1"))
    cloud.vms().start(
        VMReq(
            name="vm-1",
            image="ubuntu-os-cloud/ubuntu-2204-jammy-v20240319",
            spec="e2-small",
            vpc="vpc-1",
            subnet="sn-1",
            keypair="key-1",
            public_key=key.public_key,
            zone="us-central1-c",
        )
    )
    fresh = connect(fake)  # knows nothing of where vm-1 lives
    try:
        assert fresh.vms().get(VM).zone == "us-central1-c"
        assert fresh.vms().suspend(VM) == VMStatus.SUSPENDING
        assert fake.find("POST", r"/zones/us-central1-c/instances/vm-1/suspend$")
    finally:
        fresh.close()


def test_catalogs(cloud: Any, fake: GcpFake) -> None:
    regions = {r.name: r for r in cloud.region_zones().list()}
    assert {z.name: z.status.value for z in regions["europe-west1"].zones}["europe-west1-d"] == "Unavailable"
    assert cloud.images().get("debian-cloud/debian-12-bookworm-v20240312").os_architecture == "x86_64"
    link = (
        "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-arm64-v20240312"
    )
    assert cloud.images().get(link).os_architecture == "arm64"
    assert cloud.images().get("debian-12").name == "debian-12-bookworm-v20240312"  # family
    assert cloud.specs().get("t2a-standard-1").architecture == "arm64"
    assert {s.name for s in cloud.specs().list()} >= {"e2-micro", "e2-small", "a2-highgpu-1g"}


def test_lists_follow_page_tokens(fake: GcpFake) -> None:
    fake.reset()
    fake.state.page_size = 2
    conn = connect(fake)
    try:
        assert len(conn.specs().list()) == 7
        assert len(fake.find("GET", r"/zones/us-central1-a/machineTypes$")) == 4
    finally:
        fake.state.page_size = 500
        conn.close()


def test_importing_the_driver_does_not_import_the_sdk() -> None:
    code = (
        "import sys, mcinfra.drivers.gcp.driver as d; d.GcpDriver().capabilities(); "
        "assert d.GcpDriver().check_installed() is None; "
        "print('google.cloud.compute_v1' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
