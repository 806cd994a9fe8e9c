"""SP-Lock through the managers: one winner per name, deletes wait for users, others never wait."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import mcinfra


@pytest.fixture
def infra(mcinfra_infra: mcinfra.Infra) -> mcinfra.Infra:
    return mcinfra_infra


def test_same_name_race_has_exactly_one_winner(infra: mcinfra.Infra, mcinfra_clouds) -> None:
    cloud = mcinfra_clouds(latency=0.02)
    cloud.vpcs.create("vpc", cidr="10.0.0.0/16")

    def create(_: int) -> str:
        try:
            cloud.security_groups.create("sg-race", vpc="vpc")
            return "won"
        except mcinfra.AlreadyExists:
            return "lost"

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(create, range(16)))
    assert results.count("won") == 1 and results.count("lost") == 15
    assert len(cloud.security_groups.list_all().mapped) == 1
    assert cloud.security_groups.list_all().only_csp == []  # no loser left a CSP resource behind


def test_vpc_delete_waits_for_inflight_sg_create(infra: mcinfra.Infra, mcinfra_clouds) -> None:
    cloud = mcinfra_clouds(latency=0.3)
    cloud.vpcs.create("vpc", cidr="10.0.0.0/16")
    started = threading.Event()
    out: dict[str, object] = {}

    def create_sg() -> None:
        started.set()
        out["sg"] = cloud.security_groups.create("sg-1", vpc="vpc")
        out["sg_done"] = time.monotonic()

    t = threading.Thread(target=create_sg)
    t.start()
    started.wait()
    while not any(i.key == (cloud.name, "vpc", "vpc") for i in infra.locks.info()):
        time.sleep(0.001)
    with pytest.raises(mcinfra.InUse):  # it waited, then saw the new SG using the VPC
        cloud.vpcs.delete("vpc")
    deleted_at = time.monotonic()
    t.join()
    assert out["sg_done"] <= deleted_at
    assert cloud.security_groups.get("sg-1").vpc == "vpc"


def test_distinct_names_never_wait(infra: mcinfra.Infra, mcinfra_clouds) -> None:
    cloud = mcinfra_clouds(latency=0.2)
    cloud.vpcs.create("vpc", cidr="10.0.0.0/16")
    hold = threading.Event()
    inside = threading.Event()
    orig = cloud.handlers.security_group.create

    def slow_create(req):
        if req.name.startswith("slow"):
            inside.set()
            hold.wait(10)
        return orig(req)

    cloud.handlers.security_group.create = slow_create
    t = threading.Thread(target=lambda: cloud.security_groups.create("slow", vpc="vpc"))
    t.start()
    inside.wait(5)
    # with "slow" held mid-create, other names of the kind go through under a short lock timeout
    infra.locks.splock.timeout = 1.0
    for i in range(3):
        cloud.security_groups.create(f"fast-{i}", vpc="vpc")
    hold.set()
    t.join()
    assert {s.iid.name_id for s in cloud.security_groups.list()} == {"slow", "fast-0", "fast-1", "fast-2"}


def test_reads_of_one_vm_run_in_parallel(infra: mcinfra.Infra, mcinfra_clouds) -> None:
    cloud = mcinfra_clouds()
    cloud.vpcs.create("vpc", cidr="10.0.0.0/16", subnets=[mcinfra.SubnetReq(name="sn", cidr="10.0.1.0/24")])
    cloud.security_groups.create("sg", vpc="vpc")
    cloud.keypairs.create("k")
    cloud.vms.start("vm", image="ubuntu-22.04", spec="t2.micro", vpc="vpc", subnet="sn", security_groups=["sg"],
                    keypair="k")
    with ThreadPoolExecutor(8) as pool:
        infos = list(pool.map(lambda _: cloud.vms.get("vm"), range(32)))
    assert {i.iid.name_id for i in infos} == {"vm"}
    assert infra.locks.info() == []
