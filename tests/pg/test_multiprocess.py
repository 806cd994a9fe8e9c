"""Several worker processes sharing one PostgreSQL store, one set of SP-Locks and one mock cloud
(the mock driver's ``state_path`` file), as orchestrators run mcinfra."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import mcinfra
from tests.pg.cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]
WAIT = 120.0  # generous bound on any step; the tests assert order, never speed


class Worker:
    def __init__(self, *args: str | int) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.pg.worker", *map(str, args)], cwd=ROOT,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)

    def expect(self, line: str) -> None:
        assert self.proc.stdout is not None
        got = self.proc.stdout.readline().strip()
        assert got == line, f"worker said {got!r}; stderr: {self.proc.stderr.read() if got == '' else ''}"

    def result(self) -> str:
        out, err = self.proc.communicate(timeout=WAIT)
        assert self.proc.returncode == 0, err
        return out.strip().splitlines()[-1]


@contextmanager
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    try:
        yield started
    finally:
        for w in started:
            if w.proc.poll() is None:
                w.proc.kill()
            w.proc.wait()


def until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.fixture
def shared(pg_cluster: Cluster, tmp_path: Path, home: Path) -> Iterator[tuple[str, mcinfra.Infra]]:
    url = pg_cluster.new_database()
    with mcinfra.Infra(url) as infra:
        yield url, infra


def add_conn(infra: mcinfra.Infra, tmp_path: Path, latency: float) -> mcinfra.Connection:
    infra.connections.add("conf", provider="mock", region=None,
                          options={"state_path": str(tmp_path / "cloud.json"), "latency": latency, "seed": 3})
    return infra.connect("conf")


def test_processes_opening_a_new_database_together_migrate_it_once(pg_cluster: Cluster, home: Path) -> None:
    url = pg_cluster.new_database()
    code = f"import mcinfra; mcinfra.Infra({url!r}).close(); print('opened')"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=WAIT) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outs]
    with mcinfra.Infra(url) as infra:
        assert infra.connections.list() == []


def test_overlapping_creates_make_each_name_once(shared: tuple[str, mcinfra.Infra], tmp_path: Path) -> None:
    url, infra = shared
    cloud = add_conn(infra, tmp_path, 0.002)
    with workers() as ws:
        ws.extend(Worker("creates", url, 50, seed) for seed in range(4))
        results = [json.loads(w.result()) for w in ws]
    assert all(r["other"] == [] for r in results), [r["other"] for r in results]
    created = [n for r in results for n in r["created"]]
    assert sorted(created) == [f"kp-{i:02d}" for i in range(50)]  # each name exactly once
    assert sum(len(r["exists"]) for r in results) == 150  # AlreadyExists for the rest
    assert len(infra.store.list("conf", "keypair", state="ready")) == 50
    everything = cloud.keypairs.list_all()
    assert len(everything.mapped) == 50 and everything.only_csp == [] and everything.only_store == []


def test_sigkilled_holder_frees_its_lock(shared: tuple[str, mcinfra.Infra]) -> None:
    url, infra = shared
    key = ["conf", "vpc", "vpc-01"]
    with workers() as ws:
        holder = Worker("hold", url, json.dumps(key))
        ws.append(holder)
        holder.expect("held")
        (info,) = infra.locks.info()
        assert info.key == tuple(key) and info.mode == "write"
        assert info.holders[0].split(":")[1] == str(holder.proc.pid)
        with pytest.raises(mcinfra.LockTimeout), infra.locks.hold(writes=[tuple(key)], timeout=0.2):
            pass
        waiter = Worker("wait_lock", url, json.dumps(key))
        ws.append(waiter)
        waiter.expect("waiting")
        until(lambda: infra.locks.info()[0].waiters == 1)  # the waiter queues on the server
        assert waiter.proc.poll() is None
        holder.proc.send_signal(signal.SIGKILL)
        holder.proc.wait()
        waiter.expect("got")  # the server dropped the dead session's lock
        assert waiter.proc.wait(timeout=WAIT) == 0
    until(lambda: infra.locks.info() == [])


def test_sigkilled_creator_leaves_a_reconcilable_row(shared: tuple[str, mcinfra.Infra], tmp_path: Path) -> None:
    url, infra = shared
    cloud = add_conn(infra, tmp_path, 1.0)
    with workers() as ws:
        creator = Worker("create_vpc", url, "vpc-k")
        ws.append(creator)
        until(lambda: bool(infra.store.list("conf", "vpc", state="pending")))
        creator.proc.send_signal(signal.SIGKILL)  # mid CSP call, with the write lock held
        creator.proc.wait()
    with infra.locks.hold(writes=[("conf", "vpc", "vpc-k")], timeout=WAIT):
        pass  # the killed worker's write lock is gone
    report = infra.reconcile()  # takes the VPC's write lock: proceeds only because it was freed
    assert report.rolled_back == ["conf/vpc/vpc-k"] and not report.failed
    cloud.vpcs.create("vpc-k", cidr="10.1.0.0/16")
    assert [i.name_id for i in cloud.vpcs.list_all().mapped] == ["vpc-k"]


def test_vpc_delete_waits_for_sg_create_in_another_process(shared: tuple[str, mcinfra.Infra],
                                                           tmp_path: Path) -> None:
    url, infra = shared
    cloud = add_conn(infra, tmp_path, 1.0)
    cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")
    vpc_key = ("conf", "vpc", "vpc-01")
    with workers() as ws:
        creator = Worker("create_sg", url, "vpc-01", "sg-01")
        ws.append(creator)

        def creator_reads_vpc() -> bool:
            return any(i.key == vpc_key and i.mode == "read" and
                       any(h.split(":")[1] == str(creator.proc.pid) for h in i.holders)
                       for i in infra.locks.info())

        until(creator_reads_vpc)
        with pytest.raises(mcinfra.InUse):
            cloud.vpcs.delete("vpc-01")
        # the delete got the VPC's write lock only after the other process finished its SG
        assert infra.store.get("conf", "security_group", "sg-01").state == "ready"
        assert creator.result() == "created"
    cloud.security_groups.delete("sg-01")
    cloud.vpcs.delete("vpc-01")
    assert cloud.vpcs.list_all().only_csp == []


def test_register_race_across_processes_maps_one_resource_once(shared: tuple[str, mcinfra.Infra],
                                                               tmp_path: Path) -> None:
    """Issue 15 point 1 on PostgreSQL: four processes register one unmapped VPC under four
    names at once; exactly one wins (SP-Lock on the CSP id, and the store's unique index)."""
    from mcinfra.core.models import VPCReq

    url, infra = shared
    cloud = add_conn(infra, tmp_path, 0.0)
    sid = cloud.handlers.vpc.create(VPCReq(name="adopt-me", cidr="10.3.0.0/16", subnets=[])).iid.system_id
    with workers() as ws:
        ws.extend(Worker("register", url, sid, f"name-{i}") for i in range(4))
        for w in ws:
            w.expect("ready")
        for w in ws:
            assert w.proc.stdin is not None
            w.proc.stdin.write("go\n")
            w.proc.stdin.flush()
        outcomes = sorted(w.result() for w in ws)
    assert outcomes == ["lost"] * 3 + ["won"]
    assert [r.system_id for r in infra.store.list("conf", "vpc")] == [sid]
