"""Issue 15: one test (or property) per point — register race, concurrent store opening,
names, argument validation, lost replies, reads during a VM wait. Crashes (points 2 and 9) are
killed for real in tests/reliability/test_crash.py; redaction (point 3) is in test_secrets.py."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mcinfra
from mcinfra import SubnetReq, VMStatus
from mcinfra.core.models import NAME_RULE, VPCReq
from mcinfra.drivers.mock import reset
from mcinfra.store import Store
from mcinfra.store.db import migration_head
from tests.reliability.world import SSH, build_base, disagreements, mock_inventory, store_snapshot

REGION = "mercury"
FORK = multiprocessing.get_context("fork")


@pytest.fixture
def infra():
    reset(REGION)
    with mcinfra.Infra("sqlite:///:memory:") as i:
        i.regions.add("r", provider="mock", region=REGION)
        i.connections.add("c", provider="mock", region="r")
        yield i
    reset(REGION)


# ---------------------------------------------------------------- 1: register race
def _unmapped_vpc(cloud: mcinfra.Connection) -> str:
    return cloud.handlers.vpc.create(VPCReq(name="adopt-me", cidr="10.3.0.0/16", subnets=[])).iid.system_id


def test_register_race_threads_map_one_resource_once(infra: mcinfra.Infra) -> None:
    cloud = infra.connect("c")
    sid = _unmapped_vpc(cloud)
    barrier = threading.Barrier(8)

    def register(i: int) -> str:
        barrier.wait()
        try:
            cloud.vpcs.register(f"name-{i}", sid)
            return "won"
        except mcinfra.AlreadyExists:
            return "lost"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(register, range(8)))
    assert sorted(results) == ["lost"] * 7 + ["won"]
    assert [r.system_id for r in infra.store.list("c", "vpc")] == [sid]
    assert len(cloud.vpcs.list()) == 1


def _register_in_child(url: str, state: str, sid: str, i: int, barrier, results) -> None:
    with mcinfra.Infra(url) as infra:
        cloud = infra.connect("c")
        barrier.wait()
        try:
            cloud.vpcs.register(f"name-{i}", sid)
            results.put("won")
        except mcinfra.AlreadyExists:
            results.put("lost")
        except BaseException as exc:  # pragma: no cover - reported to the parent
            results.put(repr(exc))


def test_register_race_processes_map_one_resource_once(tmp_path: Path) -> None:
    url, state = f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "cloud.json")
    with mcinfra.Infra(url) as infra:
        infra.regions.add("r", provider="mock", region=REGION)
        infra.connections.add("c", provider="mock", region="r", options={"state_path": state})
        sid = _unmapped_vpc(infra.connect("c"))
    barrier, results = FORK.Barrier(4), FORK.Queue()
    procs = [FORK.Process(target=_register_in_child, args=(url, state, sid, i, barrier, results)) for i in range(4)]
    for p in procs:
        p.start()
    outcomes = sorted(results.get() for _ in procs)
    for p in procs:
        p.join()
    assert outcomes == ["lost"] * 3 + ["won"]
    with mcinfra.Infra(url) as infra:
        assert [r.system_id for r in infra.store.list("c", "vpc")] == [sid]


def test_the_store_refuses_a_second_name_for_one_csp_id(infra: mcinfra.Infra) -> None:
    """The unique index itself (what holds across processes with no shared lock)."""
    infra.store.add_ready("c", "vpc", [{"name_id": "a", "system_id": "vpc-1", "csp_name": "a"}])
    with pytest.raises(mcinfra.AlreadyExists):
        infra.store.add_ready("c", "vpc", [{"name_id": "b", "system_id": "vpc-1", "csp_name": "b"}])
    row = infra.store.reserve("c", "vpc", "d", "d-x")
    with pytest.raises(mcinfra.AlreadyExists):
        infra.store.finish(row, "vpc-1")
    # another kind may share the id
    infra.store.add_ready("c", "security_group", [{"name_id": "a", "system_id": "vpc-1", "csp_name": "a"}])


# ---------------------------------------------------------------- 4: opening new stores at once
def _tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


def _check_store(path: Path) -> None:
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(migration_head(),)]
    finally:
        db.close()
    assert {"iids", "iid_refs", "credentials", "regions", "connections", "call_history", "cladnets",
            "cladnet_peers"} <= _tables(path)


def test_new_sqlite_stores_opened_from_many_threads(tmp_path: Path) -> None:
    paths = [tmp_path / f"own-{i}.db" for i in range(6)] + [tmp_path / "shared.db"] * 4
    barrier = threading.Barrier(len(paths))

    def open_store(path: Path) -> None:
        barrier.wait()
        Store(f"sqlite:///{path}").close()

    with ThreadPoolExecutor(len(paths)) as pool:
        list(pool.map(open_store, paths))  # any exception is raised here
    for path in set(paths):
        _check_store(path)


def _open_in_child(path: str, barrier) -> None:
    barrier.wait()
    Store(f"sqlite:///{path}").close()


def test_one_new_sqlite_store_opened_by_many_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    barrier = FORK.Barrier(4)
    procs = [FORK.Process(target=_open_in_child, args=(str(path), barrier)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0] * 4
    _check_store(path)


# ---------------------------------------------------------------- 5-8: properties of validation
VALID = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_-]{0,62}\Z")
PROP = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@PROP
@given(name=VALID, tail=st.sampled_from(["\n", "\r\n", " ", "\t", "\x00", "/", "\n\n"]))
def test_a_name_with_anything_after_it_is_invalid_everywhere(infra: mcinfra.Infra, name: str, tail: str) -> None:
    cloud = infra.connect("c")
    before = store_snapshot(infra), mock_inventory(REGION)
    for call in (lambda n: cloud.vpcs.create(n, cidr="10.0.0.0/16"),
                 lambda n: infra.credentials.add(n, provider="mock", keys={"k": "v"}),
                 lambda n: infra.regions.add(n, provider="mock", region=REGION),
                 lambda n: infra.connections.add(n, provider="mock"),
                 lambda n: cloud.keypairs.create(n)):
        with pytest.raises(mcinfra.InvalidRequest):
            call(name + tail)
    assert (store_snapshot(infra), mock_inventory(REGION)) == before


@PROP
@given(text=st.text(max_size=70))
def test_names_follow_the_rule_exactly(text: str) -> None:
    import re

    from mcinfra.core import validation as v

    ok = re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,62}", text) is not None and not text.endswith("\n")
    try:
        assert v.name(text) == text and ok, NAME_RULE
    except mcinfra.InvalidRequest:
        assert not ok


BAD_TIMEOUT = st.one_of(st.none(), st.text(max_size=4), st.booleans(), st.just(float("nan")),
                        st.just(float("inf")), st.floats(max_value=-0.001), st.just([]), st.just({}))
BAD_FLAG = st.one_of(st.none(), st.integers(), st.text(max_size=3), st.just([]))


@pytest.fixture
def vm_world(infra: mcinfra.Infra):
    cloud = infra.connect("c")
    build_base(cloud)
    return infra, cloud


@PROP
@given(op=st.sampled_from(["suspend", "resume", "reboot", "terminate", "wait", "start"]), timeout=BAD_TIMEOUT)
def test_a_bad_timeout_is_refused_before_anything_happens(vm_world, op: str, timeout) -> None:
    infra, cloud = vm_world
    calls = len(infra.history(limit=100_000))
    before = store_snapshot(infra), mock_inventory(REGION)
    with pytest.raises(mcinfra.InvalidRequest) as err:
        if op == "wait":
            cloud.vms.wait("vm", "Running", timeout=timeout)
        elif op == "start":
            cloud.vms.start("vm-2", image="debian-12", spec="t3.micro", vpc="vpc", subnet="sn-a",
                            security_groups=["sg"], keypair="key", timeout=timeout)
        elif op == "terminate":
            cloud.vms.terminate("vm", timeout=timeout)
        else:
            getattr(cloud.vms, op)("vm", wait=True, timeout=timeout)
    assert err.value.field == "timeout"
    assert (store_snapshot(infra), mock_inventory(REGION)) == before
    assert len(infra.history(limit=100_000)) == calls  # no CSP call at all
    assert cloud.vms.status("vm") == VMStatus.RUNNING


@PROP
@given(op=st.sampled_from(["suspend", "terminate", "start"]), wait=BAD_FLAG)
def test_a_bad_wait_flag_is_refused_before_anything_happens(vm_world, op: str, wait) -> None:
    infra, cloud = vm_world
    before = store_snapshot(infra), mock_inventory(REGION)
    with pytest.raises(mcinfra.InvalidRequest) as err:
        if op == "start":
            cloud.vms.start("vm-2", image="debian-12", spec="t3.micro", vpc="vpc", subnet="sn-a",
                            security_groups=["sg"], keypair="key", wait=wait)
        else:
            getattr(cloud.vms, op)("vm", wait=wait)
    assert err.value.field == "wait"
    assert (store_snapshot(infra), mock_inventory(REGION)) == before


JUNK = st.one_of(st.integers(), st.floats(), st.just({}), st.just([]), st.just(object()), st.binary(max_size=3),
                 st.booleans())


@PROP
@given(junk=JUNK, which=st.sampled_from([
    "root_disk_type", "history.limit", "history.connection", "history.kind", "history.since", "history.ok",
    "regions.add.extra", "connect", "reconcile.connection", "regions.delete", "credentials.delete",
    "connections.delete", "destroy_all.rounds", "destroy_all.pause", "destroy_all.workers", "connections.options",
    "delete.force", "vpcs.create.cidr", "subnet.cidr", "rule.cidr"]))
def test_bad_typed_input_is_an_invalid_request_naming_the_argument(vm_world, junk, which: str) -> None:
    infra, cloud = vm_world
    if which in ("history.ok", "delete.force") and isinstance(junk, bool):
        return  # a bool is valid there
    if which == "history.limit" and isinstance(junk, int) and not isinstance(junk, bool) and 1 <= junk <= 10**9:
        return
    if which in ("destroy_all.rounds", "destroy_all.workers") and type(junk) is int and 1 <= junk <= 256:
        return
    if which == "destroy_all.pause" and type(junk) in (int, float) and 0 <= junk <= 3600:
        return
    if which == "rule.cidr" and not junk and not isinstance(junk, bool | int | float):
        return  # an empty cidr means 0.0.0.0/0
    calls = {
        "root_disk_type": lambda: cloud.vms.start("vm-2", image="debian-12", spec="t3.micro", vpc="vpc",
                                                  subnet="sn-a", security_groups=["sg"], keypair="key",
                                                  root_disk_type=junk),
        "history.limit": lambda: infra.history(limit=junk),
        "history.connection": lambda: infra.history(connection=junk),
        "history.kind": lambda: infra.history(kind=junk),
        "history.since": lambda: infra.history(since=junk),
        "history.ok": lambda: infra.history(ok=junk),
        "regions.add.extra": lambda: infra.regions.add("r2", provider="mock", region=REGION,
                                                       extra=junk if not isinstance(junk, dict) else {"a": object()}),
        "connect": lambda: infra.connect(junk),
        "reconcile.connection": lambda: infra.reconcile(connection=junk),
        "regions.delete": lambda: infra.regions.delete(junk),
        "credentials.delete": lambda: infra.credentials.delete(junk),
        "connections.delete": lambda: infra.connections.delete(junk),
        "destroy_all.rounds": lambda: cloud.destroy_all(rounds=junk),
        "destroy_all.pause": lambda: cloud.destroy_all(pause=junk),
        "destroy_all.workers": lambda: cloud.destroy_all(workers=junk),
        "connections.options": lambda: infra.connections.add("c2", provider="mock",
                                                             options=junk if not isinstance(junk, dict) else {1: 2}),
        "delete.force": lambda: cloud.security_groups.delete("sg", force=junk),
        # ipaddress takes an int as an address: 5 would become the network 0.0.0.5/32
        "vpcs.create.cidr": lambda: cloud.vpcs.create("vpc-2", cidr=junk),
        "subnet.cidr": lambda: cloud.vpcs.add_subnet("vpc", {"name": "sn-9", "cidr": junk}),
        "rule.cidr": lambda: cloud.security_groups.add_rules("sg", [{"direction": "inbound", "protocol": "TCP",
                                                                     "from_port": 99, "to_port": 99, "cidr": junk}]),
    }
    before = store_snapshot(infra), mock_inventory(REGION)
    with pytest.raises(mcinfra.InvalidRequest) as err:
        calls[which]()
    assert err.value.field
    assert (store_snapshot(infra), mock_inventory(REGION)) == before


def test_the_issue_examples(vm_world) -> None:
    """The exact calls the issue lists (points 6-8)."""
    infra, cloud = vm_world
    for call, field in [
        (lambda: cloud.vms.suspend("vm", wait=True, timeout=None), "timeout"),
        (lambda: cloud.vms.start("vm-2", image="debian-12", spec="t3.micro", vpc="vpc", subnet="sn-a",
                                 security_groups=["sg"], keypair="key", root_disk_type=5), "root_disk_type"),
        (lambda: cloud.vms.wait("vm", "Running", timeout=None), "timeout"),
        (lambda: cloud.vms.reboot("vm", wait=True, timeout="10"), "timeout"),
        (lambda: infra.history(limit="x"), "limit"),
        (lambda: infra.regions.add("r2", provider="mock", region=REGION, extra="x"), "extra"),
        (lambda: infra.connect({}), "connection"),
        (lambda: infra.reconcile(connection={}), "connection"),
        (lambda: infra.history(connection={}), "connection"),
        (lambda: infra.regions.delete({}), "name"),
    ]:
        with pytest.raises(mcinfra.InvalidRequest) as err:
            call()
        assert err.value.field == field
    assert cloud.vms.status("vm") == VMStatus.RUNNING
    assert [r.name_id for r in infra.store.list("c", "vm")] == ["vm"]


# ---------------------------------------------------------------- 10: lost replies
@pytest.fixture
def lossy():
    reset("venus")
    with mcinfra.Infra("sqlite:///:memory:") as i:
        i.regions.add("r", provider="mock", region="venus")
        i.connections.add("c", provider="mock", region="r", options={"lost_reply_rate": 1.0})
        yield i, i.connect("c")
    reset("venus")


def test_every_reply_lost_still_maps_what_the_csp_made(lossy) -> None:
    infra, cloud = lossy
    vpc = cloud.vpcs.create("vpc", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.0.1.0/24")])
    assert [s.iid.name_id for s in vpc.subnets] == ["sn"]
    cloud.vpcs.add_subnet("vpc", SubnetReq(name="sn-2", cidr="10.0.2.0/24"))
    cloud.security_groups.create("sg", vpc="vpc", rules=[SSH])
    with pytest.raises(mcinfra.CloudError, match="ReplyLost"):  # its private key is lost: taken back
        cloud.keypairs.create("key")
    assert disagreements(infra, cloud) == []
    cloud.keypairs.create("key", public_key=_public_key())  # an imported key loses nothing: mapped
    vm = cloud.vms.start("vm", image="debian-12", spec="t3.micro", vpc="vpc", subnet="sn",
                         security_groups=["sg"], keypair="key")
    assert vm.iid.name_id == "vm" and vm.status == VMStatus.RUNNING
    assert disagreements(infra, cloud) == []
    assert cloud.vms.terminate("vm") in (VMStatus.NOT_EXIST, VMStatus.TERMINATED)
    cloud.vpcs.remove_subnet("vpc", "sn-2")
    cloud.security_groups.delete("sg")
    cloud.keypairs.delete("key")
    cloud.vpcs.delete("vpc")
    assert disagreements(infra, cloud) == []
    assert infra.store.list("c") == []
    assert sum("ReplyLost" in (r.error or "") for r in infra.history(limit=1000)) >= 9


def _public_key() -> str:
    from mcinfra.core.keys import generate_ssh_keypair

    return generate_ssh_keypair()[1]


def test_a_lost_reply_the_csp_cannot_explain_stays_pending_for_reconcile(lossy, monkeypatch) -> None:
    infra, cloud = lossy

    def down():
        raise mcinfra.CloudError("mock", "ServiceUnavailable", "down", retryable=True)

    monkeypatch.setattr(cloud.handlers.vpc, "list", down)
    with pytest.raises(mcinfra.CloudError, match="ReplyLost"):
        cloud.vpcs.create("vpc", cidr="10.0.0.0/16")
    assert [r.state for r in infra.store.list("c")] == ["pending"]
    monkeypatch.undo()
    assert infra.reconcile().finished == ["c/vpc/vpc"]
    assert disagreements(infra, cloud) == []


def test_a_lost_delete_reply_the_csp_cannot_explain_stays_deleting(lossy, monkeypatch) -> None:
    infra, cloud = lossy
    cloud.vpcs.create("vpc", cidr="10.0.0.0/16")
    monkeypatch.setattr(cloud.handlers.vpc, "list", lambda: (_ for _ in ()).throw(
        mcinfra.CloudError("mock", "ServiceUnavailable", "down", retryable=True)))
    with pytest.raises(mcinfra.CloudError, match="ReplyLost"):
        cloud.vpcs.delete("vpc")
    assert [r.state for r in infra.store.list("c")] == ["deleting"]
    with pytest.raises(mcinfra.NotFound):  # the row is readable, and the CSP says it is gone
        cloud.vpcs.get("vpc")
    monkeypatch.undo()
    assert infra.reconcile().forgotten == ["c/vpc/vpc"]
    assert infra.store.list("c") == [] and disagreements(infra, cloud) == []


def test_a_refused_delete_puts_the_row_back(infra: mcinfra.Infra, monkeypatch) -> None:
    cloud = infra.connect("c")
    cloud.keypairs.create("key")
    monkeypatch.setattr(cloud.handlers.keypair, "delete", lambda iid: (_ for _ in ()).throw(
        mcinfra.CloudError("mock", "Throttling", "slow down", throttled=True)))
    with pytest.raises(mcinfra.CloudError):
        cloud.keypairs.delete("key")
    assert [r.state for r in infra.store.list("c")] == ["ready"]


# ---------------------------------------------------------------- 11: reads during a wait
@pytest.mark.parametrize("op", ["terminate", "suspend"])
def test_reads_during_a_wait_see_the_transitional_status(op: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import mcinfra.drivers.mock.vm as mock_vm

    reset("mars")
    with mcinfra.Infra("sqlite:///:memory:", lock_timeout=30) as infra:
        infra.regions.add("r", provider="mock", region="mars")
        infra.connections.add("c", provider="mock", region="r", options={"latency": 0.005})
        cloud = infra.connect("c")
        build_base(cloud)
        cloud.nlbs.delete("nlb")
        # From here the mock's clock (which times its transitions) moves only when the test says:
        # a loaded machine cannot let the transition end before the waiter and the reader look.
        clock = [time.time()]
        monkeypatch.setattr(mock_vm, "time", types.SimpleNamespace(time=lambda: clock[0]))
        seen: list[object] = []
        handler = cloud.handlers.vm
        real_status = handler.status

        def status(iid):
            now = real_status(iid)
            if not seen and now in (VMStatus.TERMINATING, VMStatus.SUSPENDING):
                # a reader in another thread, while the waiter polls: it must not wait for the lock
                held = [i for i in infra.locks.info() if i.key[2] == "vm" and i.mode == "write"]
                with ThreadPoolExecutor(1) as pool:
                    seen.append((held, pool.submit(cloud.vms.get, "vm").result().status))
                clock[0] += 3600  # now let the transition finish
            return now

        handler.status = status
        if op == "terminate":
            assert cloud.vms.terminate("vm", wait=True) in (VMStatus.NOT_EXIST, VMStatus.TERMINATED)
            with pytest.raises(mcinfra.NotFound):
                cloud.vms.get("vm")
        else:
            assert cloud.vms.suspend("vm", wait=True) == VMStatus.SUSPENDED
        held, status_seen = seen[0]
        assert held == [] and status_seen in (VMStatus.TERMINATING, VMStatus.SUSPENDING)
    reset("mars")


def test_fork_context_is_available() -> None:
    assert os.name == "posix"


def test_migration_0003_keeps_the_oldest_of_duplicate_mappings(tmp_path: Path) -> None:
    """A store that a racing register() left with one CSP id under several names upgrades:
    the first mapping stays, the later ones (and their references) go, and the index holds."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(mcinfra.store.__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002_cladnet")
        for i, name in enumerate(["first", "second", "third"]):
            conn.exec_driver_sql(
                "INSERT INTO iids (connection, kind, owner, name_id, system_id, csp_name, state, created_at, extra) "
                f"VALUES ('c', 'vpc', '', '{name}', 'vpc-1', '{name}', 'ready', '2026-01-0{i + 1}', '{{}}')")
            conn.exec_driver_sql("INSERT INTO iid_refs (connection, from_kind, from_name, to_kind, to_name) "
                                 f"VALUES ('c', 'vpc', '{name}', 'keypair', 'k')")
    engine.dispose()
    store = Store(f"sqlite:///{path}")
    try:
        assert [r.name_id for r in store.list("c", "vpc")] == ["first"]
        assert store.referrers("c", "keypair", "k") == [("vpc", "first")]
        with pytest.raises(mcinfra.AlreadyExists):
            store.add_ready("c", "vpc", [{"name_id": "again", "system_id": "vpc-1", "csp_name": "x"}])
    finally:
        store.close()
