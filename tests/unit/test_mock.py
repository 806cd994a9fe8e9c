"""The mock driver itself: transitions with latency, shared state file, scale, options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mcinfra
from mcinfra import SubnetReq, VMStatus
from mcinfra.drivers.mock import reset


def make(infra: mcinfra.Infra, region: str = "venus", **options) -> mcinfra.Connection:
    infra.regions.add("r", provider="mock", region=region)
    infra.connections.add("c", provider="mock", region="r", options=options)
    return infra.connect("c")


def basic(cloud: mcinfra.Connection) -> None:
    cloud.vpcs.create("vpc", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.0.1.0/24")])
    cloud.security_groups.create("sg", vpc="vpc")
    cloud.keypairs.create("k")


def test_status_transitions_with_latency() -> None:
    reset("venus")
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        cloud = make(infra, latency=0.05)
        basic(cloud)
        vm = cloud.vms.start("vm", image="ubuntu-22.04", spec="t2.micro", vpc="vpc", subnet="sn",
                             security_groups=["sg"], keypair="k", wait=False)
        assert vm.status == VMStatus.CREATING
        assert cloud.vms.wait("vm", "Running", timeout=5) == VMStatus.RUNNING
        assert cloud.vms.suspend("vm") == VMStatus.SUSPENDING
        assert cloud.vms.status("vm") == VMStatus.SUSPENDING
        assert cloud.vms.wait("vm", VMStatus.SUSPENDED, timeout=5) == VMStatus.SUSPENDED
        assert cloud.vms.resume("vm") == VMStatus.RESUMING
        assert cloud.vms.wait("vm", VMStatus.RUNNING, timeout=5) == VMStatus.RUNNING
        assert cloud.vms.reboot("vm") == VMStatus.REBOOTING
        seen = cloud.vms.terminate("vm", timeout=5)
        assert seen == VMStatus.NOT_EXIST
    reset("venus")


def test_bad_options_are_invalid_requests() -> None:
    with mcinfra.Infra("sqlite:///:memory:") as infra, pytest.raises(mcinfra.InvalidRequest):
        make(infra, fail_rate=2)
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.regions.add("r", provider="mock", region="pluto")
        infra.connections.add("c", provider="mock", region="r")
        with pytest.raises(mcinfra.InvalidRequest, match="pluto"):
            infra.connect("c")


def test_a_misspelt_or_mistyped_option_is_refused_naming_it() -> None:
    for options, key in (({"latencey": 0.1}, "latencey"), ({"latency": [0.2, 0.1]}, "latency"),
                         ({"latency": "slow"}, "latency"), ({"fail_rate": "often"}, "fail_rate")):
        with mcinfra.Infra("sqlite:///:memory:") as infra, pytest.raises(mcinfra.InvalidRequest, match=key) as err:
            make(infra, **options)
        assert err.value.field == f"options.{key}"


def test_catalog_size() -> None:
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        cloud = make(infra)
        regions = cloud.region_zones.list()
        assert len(regions) >= 4 and all(len(r.zones) == 3 for r in regions)
        assert sum(z.status == mcinfra.ZoneStatus.UNAVAILABLE for r in regions for z in r.zones) == 1
        assert len(cloud.images.list()) >= 20
        specs = cloud.specs.list()
        assert len(specs) >= 20 and any(s.gpus for s in specs) and all(s.price_per_hour for s in specs)


def test_unavailable_zone_refuses_vms() -> None:
    reset("mars")
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        cloud = make(infra, region="mars")
        cloud.vpcs.create("vpc", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.0.1.0/24", zone="mars-c")])
        cloud.security_groups.create("sg", vpc="vpc")
        cloud.keypairs.create("k")
        with pytest.raises(mcinfra.CloudError, match="ZoneUnavailable"):
            cloud.vms.start("vm", image="debian-12", spec="t2.micro", vpc="vpc", subnet="sn",
                            security_groups=["sg"], keypair="k")
        assert cloud.vms.list_all().mapped == []
        cloud.destroy_all()
    reset("mars")


CHILD = """
import json, sys, mcinfra
infra = mcinfra.Infra(sys.argv[1])
cloud = infra.connect("c")
print(json.dumps(sorted(v.iid.name_id for v in cloud.vpcs.list())))
cloud.vpcs.create("vpc-from-child", cidr="10.9.0.0/16")
"""


def test_state_path_is_shared_by_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    state = tmp_path / "mock.json"
    with mcinfra.Infra(url) as infra:
        cloud = make(infra, state_path=str(state))
        cloud.vpcs.create("vpc-from-parent", cidr="10.8.0.0/16")
    out = subprocess.run([sys.executable, "-c", CHILD, url], capture_output=True, text=True, check=True,
                         env={"MCINFRA_SECRET_KEY": "k", "PATH": "/usr/bin:/bin"}, cwd=Path(__file__).parents[2])
    assert json.loads(out.stdout) == ["vpc-from-parent"]
    with mcinfra.Infra(url) as infra:
        cloud = infra.connect("c")
        assert sorted(v.iid.name_id for v in cloud.vpcs.list()) == ["vpc-from-child", "vpc-from-parent"]
        assert cloud.destroy_all().all_destroyed
    assert json.loads(state.read_text())["venus"]["vpc"] == {}


def test_ten_thousand_resources_in_one_region() -> None:
    """10,000 key pairs in one mock region; names stay unique (the per-call cost is in bench/mock_scale_bench.py)."""
    from mcinfra.core.keys import generate_ssh_keypair
    from mcinfra.core.models import IID, KeyPairReq

    reset("mercury")
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        cloud = make(infra, region="mercury")
        handler = cloud.handlers.keypair
        public = generate_ssh_keypair()[1]
        ids = [handler.create(KeyPairReq(name=f"k{i}", public_key=public)).iid.system_id for i in range(10_000)]
        assert len(set(ids)) == 10_000 and len(handler.list()) == 10_000
        with pytest.raises(mcinfra.AlreadyExists):
            handler.create(KeyPairReq(name="k5000", public_key=public))
        handler.delete(IID(name_id="k5000", system_id=ids[5000]))
        handler.create(KeyPairReq(name="k5000", public_key=public))  # the name is free again
    reset("mercury")
