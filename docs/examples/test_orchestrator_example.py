"""An orchestrator function and its tests on mcinfra's mock cloud (docs/testing-your-code.md).

Run with ``pytest docs/examples/test_orchestrator_example.py`` (``-n 4`` with pytest-xdist):
only ``pip install mcinfra pytest`` is needed; the ``mock_cloud`` fixture comes with mcinfra.
"""

from __future__ import annotations

import contextlib

import pytest

import mcinfra
from mcinfra import SecurityRule, SubnetReq

SSH = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="0.0.0.0/0")


def deploy_web_tier(cloud: mcinfra.Connection, prefix: str, size: int = 3) -> list[mcinfra.VMInfo]:
    """The code under test: a VPC, an SG and ``size`` VMs; on failure, remove what it made."""
    made: list[tuple[str, str]] = []
    try:
        cloud.vpcs.create(f"{prefix}-vpc", cidr="10.0.0.0/16",
                          subnets=[SubnetReq(name=f"{prefix}-sn", cidr="10.0.1.0/24")])
        made.append(("vpcs", f"{prefix}-vpc"))
        cloud.security_groups.create(f"{prefix}-sg", vpc=f"{prefix}-vpc", rules=[SSH])
        made.append(("security_groups", f"{prefix}-sg"))
        cloud.keypairs.create(f"{prefix}-key")
        made.append(("keypairs", f"{prefix}-key"))
        vms = []
        for i in range(size):
            vms.append(cloud.vms.start(f"{prefix}-vm-{i}", image="ubuntu-22.04", spec="t2.micro",
                                       vpc=f"{prefix}-vpc", subnet=f"{prefix}-sn",
                                       security_groups=[f"{prefix}-sg"], keypair=f"{prefix}-key"))
            made.append(("vms", f"{prefix}-vm-{i}"))
        return vms
    except mcinfra.McInfraError:
        for manager, name in reversed(made):
            getattr(cloud, manager).delete(name)
        raise


def test_deploys_three_running_vms(mock_cloud) -> None:
    vms = deploy_web_tier(mock_cloud, "web")
    assert [v.status for v in vms] == [mcinfra.VMStatus.RUNNING] * 3
    assert all(v.public_ip and v.security_groups == ["web-sg"] for v in vms)
    assert mock_cloud.call_names.count("vm.start") == 3
    mock_cloud.assert_store_matches_cloud()


def test_a_failed_vm_start_leaves_nothing_behind(mock_cloud) -> None:
    with (mock_cloud.fail_next("vm.start", times=1, error="InsufficientInstanceCapacity"),
          pytest.raises(mcinfra.CloudError, match="InsufficientInstanceCapacity")):
        deploy_web_tier(mock_cloud, "web")
    mock_cloud.assert_no_leftovers()


@pytest.mark.mcinfra(fail_rate=0.3, seed=7)
def test_under_random_faults_the_store_always_matches_the_cloud(mock_cloud) -> None:
    for attempt in range(5):
        with contextlib.suppress(mcinfra.McInfraError):
            deploy_web_tier(mock_cloud, f"try{attempt}", size=2)
        mock_cloud.assert_store_matches_cloud()
