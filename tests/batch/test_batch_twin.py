"""A real fan-out on the twin (root, network namespaces): VMs started with one ``start_many``,
each Running with its sshd reachable at its public address, then all terminated with one
``terminate_many``; the twin region is removed whatever happens (and checked to be gone)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest

import mcinfra
from mcinfra import SecurityRule, SubnetReq, VMStatus
from mcinfra.drivers.kit import poll_until

pytestmark = pytest.mark.root

#: VMs in the fan-out (issue 17 asks for at least 20); more with MCINFRA_TWIN_FANOUT
FANOUT = max(20, int(os.environ.get("MCINFRA_TWIN_FANOUT", "20")))


def sshd_answers(ip: str) -> bool:
    try:
        with socket.create_connection((ip, 22), timeout=2) as s:
            s.settimeout(2)
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def test_twin_fan_out_start_many_then_terminate_many() -> None:
    from mcinfra.drivers.twin.netns import unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)
    from mcinfra.drivers.twin.cleanup import cleanup_region, leftovers
    from mcinfra.drivers.twin.state import Region

    region = f"fan-{uuid.uuid4().hex[:8]}"
    state_dir = Path(tempfile.mkdtemp(prefix="mcinfra-twin-fan-"))
    prefix = Region(region, state_dir).prefix
    try:
        with mcinfra.Infra("sqlite:///:memory:") as infra:
            infra.regions.add("twin-r", provider="twin", region=region, zone=f"{region}-a")
            infra.connections.add("twin-fan", region="twin-r", options={"state_dir": str(state_dir)})
            cloud = infra.connect("twin-fan")
            cloud.vpcs.create("vpc", cidr="10.8.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.8.0.0/22")])
            cloud.security_groups.create("sg", vpc="vpc", rules=[
                SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="0.0.0.0/0")])
            cloud.keypairs.create("key")
            names = [f"vm-{i:02d}" for i in range(FANOUT)]
            started = cloud.vms.start_many(
                [{"name": n, "image": "ubuntu-22.04", "spec": "twin.small", "vpc": "vpc", "subnet": "sn",
                  "security_groups": ["sg"], "keypair": "key", "timeout": 120.0} for n in names],
                concurrency=8)
            assert started.all_ok, started.summary() + f" {[(i.name, i.error_message) for i in started.failed]}"
            assert {r.status for r in started.results} == {VMStatus.RUNNING}
            ips = [r.public_ip for r in started.results]
            assert len(set(ips)) == FANOUT and all(ips)
            for ip in ips:
                poll_until(lambda ip=ip: sshd_answers(ip), bool, timeout=60, interval=0.2, max_interval=1.0,
                           provider="twin", what=f"sshd at {ip}")
            assert set(cloud.vms.statuses().values()) == {VMStatus.RUNNING}
            gone = cloud.vms.terminate_many(names, concurrency=8, timeout=120.0)
            assert gone.all_ok, gone.summary()
            assert {n for n in (r.name_id for r in infra.store.list("twin-fan", "vm"))} == set()
            assert cloud.vms.list_all().only_csp == []
            cloud.destroy_all(pause=0.2)
    finally:
        cleanup_region(region, state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
    left = leftovers(prefix)
    assert left.empty, f"the fan-out left {left}"
