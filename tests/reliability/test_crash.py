"""Crash test (issue 15): a child process is SIGKILLed at every named step of every create and
delete path; then ``reconcile()`` alone must bring the store and the CSP into agreement.

The steps are not listed by hand: each path is first run once in-process with the crash hook
recording the points it passes (``mcinfra.core.crashpoint``), and every one of them becomes a
case. The world (a SQLite file store and a file-backed mock cloud) is built once and copied per
case; the child is forked, arms its point and runs the path, and is killed there with SIGKILL
(no cleanup, no ``finally``, no ``atexit``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import mcinfra
from mcinfra import SubnetReq
from mcinfra.core import crashpoint
from tests.reliability.world import SSH, build_base, disagreements

REGION = "mercury"

# each path: what it does to the world built by _template (names there: vpc, vpc2, sn-a, sn-b, sn-x,
# sg, sg2, key, key2, vm, vm2, nlb)
PATHS: dict[str, Callable[[mcinfra.Connection], object]] = {
    "vpc.create": lambda c: c.vpcs.create("vpc-new", cidr="10.9.0.0/16", subnets=[
        SubnetReq(name="sn-1", cidr="10.9.1.0/24"), SubnetReq(name="sn-2", cidr="10.9.2.0/24")]),
    "subnet.create": lambda c: c.vpcs.add_subnet("vpc", SubnetReq(name="sn-c", cidr="10.0.3.0/24")),
    "security_group.create": lambda c: c.security_groups.create("sg-new", vpc="vpc", rules=[SSH]),
    "keypair.create": lambda c: c.keypairs.create("key-new"),
    "vm.create": lambda c: c.vms.start("vm-new", image="debian-12", spec="t3.micro", vpc="vpc", subnet="sn-b",
                                       security_groups=["sg"], keypair="key"),
    "nlb.create": lambda c: c.nlbs.create("nlb-new", vpc="vpc", listener={"protocol": "TCP", "port": 8080}),
    "nlb.delete": lambda c: c.nlbs.delete("nlb"),
    "vm.delete": lambda c: c.vms.terminate("vm2", wait=True),
    "security_group.delete": lambda c: c.security_groups.delete("sg2"),
    "keypair.delete": lambda c: c.keypairs.delete("key2"),
    "subnet.delete": lambda c: c.vpcs.remove_subnet("vpc2", "sn-x"),
    "vpc.delete": lambda c: c.vpcs.delete("vpc2"),
}


def _open(where: Path) -> mcinfra.Infra:
    return mcinfra.Infra(f"sqlite:///{where / 'mcinfra.db'}")


def _copy(template: Path, dest: Path) -> Path:
    """A copy of the world whose mock connection points at its own copy of the cloud."""
    shutil.copytree(template, dest)
    db = sqlite3.connect(dest / "mcinfra.db")
    with db:
        db.execute("UPDATE connections SET options = ?", (json.dumps({"state_path": str(dest / "cloud.json")}),))
    db.close()
    return dest


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("crash-template")
    with _open(where) as infra:
        infra.regions.add("r", provider="mock", region=REGION)
        infra.connections.add("c", provider="mock", region="r", options={"state_path": str(where / "cloud.json")})
        cloud = infra.connect("c")
        build_base(cloud)
        cloud.vpcs.create("vpc2", cidr="10.1.0.0/16", subnets=[SubnetReq(name="sn-x", cidr="10.1.1.0/24")])
        cloud.security_groups.create("sg2", vpc="vpc")
        cloud.keypairs.create("key2")
        cloud.vms.start("vm2", image="debian-12", spec="t3.micro", vpc="vpc", subnet="sn-b", security_groups=["sg"],
                        keypair="key")
        assert disagreements(infra, cloud) == []
    return where


def points_of(path: str, template: Path, scratch: Path) -> list[str]:
    """The crash points one run of ``path`` passes, in order."""
    where = _copy(template, scratch / f"probe-{path}")
    crashpoint.reached.clear()
    crashpoint.arm("(recording only)")
    try:
        with _open(where) as infra:
            PATHS[path](infra.connect("c"))
    finally:
        crashpoint.arm(None)
    return list(dict.fromkeys(crashpoint.reached))


def crash_at(where: Path, path: str, point: str) -> None:
    """Run ``path`` in a forked child that SIGKILLs itself at ``point``."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            crashpoint.arm(point)
            infra = _open(where)
            PATHS[path](infra.connect("c"))
        except BaseException:
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
        f"the child did not die at {point} (exit status {status})")


def settle_and_check(where: Path) -> mcinfra.ReconcileReport:
    with _open(where) as infra:
        report = infra.reconcile()
        assert report.failed == {}
        cloud = infra.connect("c")
        assert disagreements(infra, cloud) == []
        return report


def test_every_step_of_every_path(template: Path, tmp_path: Path) -> None:
    cases = 0
    seen: dict[str, list[str]] = {}
    for path in PATHS:
        points = points_of(path, template, tmp_path)
        assert points, f"{path} passes no crash point"
        seen[path] = points
        for i, point in enumerate(points):
            where = _copy(template, tmp_path / f"{path}-{i}")
            crash_at(where, path, point)
            settle_and_check(where)
            cases += 1
    kinds = {p.split(".")[0] for p in PATHS}
    # every create path has its reserve / CSP-done / finished steps, every delete path its marked / CSP-done
    for path, points in seen.items():
        kind, op = path.split(".")
        steps = {"create": ("reserved", "csp-done", "finished"), "delete": ("marked", "csp-done")}[op]
        for step in steps:
            assert f"{kind}.{op}:{step}" in points, (path, points)
    assert kinds == {"vpc", "subnet", "security_group", "keypair", "vm", "nlb"}
    print(f"\ncrash test: {cases} SIGKILLs over {len(PATHS)} paths, store == CSP after reconcile() in all")


def test_crash_between_vpc_row_and_subnet_rows_loses_no_subnet(template: Path, tmp_path: Path) -> None:
    """Point 2: killed inside the transaction that finishes the VPC row and writes its subnets'
    rows, the VPC stays pending; reconcile() finishes it with both subnets mapped."""
    where = _copy(template, tmp_path / "vpc")
    crash_at(where, "vpc.create", "store.finish:in-transaction")
    with _open(where) as infra:
        assert [r.state for r in infra.store.list("c", "vpc") if r.name_id == "vpc-new"] == ["pending"]
        assert infra.store.list("c", "subnet", owner="vpc-new") == []
    report = settle_and_check(where)
    assert report.finished == ["c/vpc/vpc-new"]
    with _open(where) as infra:
        cloud = infra.connect("c")
        assert sorted(s.iid.name_id for s in cloud.vpcs.get("vpc-new").subnets) == ["sn-1", "sn-2"]
        with pytest.raises(mcinfra.InvalidRequest):  # the CIDR is taken, as a real cloud would say
            cloud.vpcs.add_subnet("vpc-new", SubnetReq(name="sn-3", cidr="10.9.1.0/24"))


@pytest.mark.parametrize("path", [p for p in PATHS if p.endswith(".delete")])
def test_crash_after_csp_delete_leaves_no_stale_ready_row(path: str, template: Path, tmp_path: Path) -> None:
    """Point 9: killed after the CSP deleted it, before the row was dropped: the row says
    'deleting' (never a stale 'ready'), and reconcile() forgets it."""
    where = _copy(template, tmp_path / path)
    kind = path.split(".")[0]
    crash_at(where, path, f"{kind}.delete:csp-done")
    with _open(where) as infra:
        assert [r.label for r in infra.store.unsettled("c")] != []
        assert all(r.state == "deleting" for r in infra.store.unsettled("c"))
    report = settle_and_check(where)
    assert len(report.forgotten) == 1 and report.deleted == []


def test_crash_during_terminate_wait_is_closed_by_reconcile(template: Path, tmp_path: Path) -> None:
    where = _copy(template, tmp_path / "vm-wait")
    crash_at(where, "vm.delete", "vm.delete:marked")
    with _open(where) as infra:
        cloud = infra.connect("c")
        assert cloud.vms.get("vm2").status == mcinfra.VMStatus.RUNNING  # readable while being deleted
        with pytest.raises(mcinfra.AlreadyExists):  # the name stays taken until the delete is settled
            cloud.vms.start("vm2", image="debian-12", spec="t3.micro", vpc="vpc", subnet="sn-b",
                            security_groups=["sg"], keypair="key")
    report = settle_and_check(where)
    assert report.deleted == ["c/vm/vm2"]
