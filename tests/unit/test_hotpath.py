"""The store's and SP-Lock's hot-path mechanisms (issue 17 item 4): they change how fast a call
is, never what it does. Behaviour only: no timings."""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import mcinfra
from mcinfra.core.errors import StoreError
from mcinfra.drivers.kit import poll_until
from mcinfra.drivers.mock import reset
from mcinfra.splock import SPLock
from mcinfra.store import Store
from mcinfra.store import db as store_db
from mcinfra.store.executors import _Prepared

REGION = "mars"


def _history_table(path: Path) -> list[tuple[str, int]]:
    """The call history as the database file has it (nothing flushed first)."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT operation, ok FROM call_history ORDER BY id").fetchall()


@pytest.fixture
def infra(tmp_path: Path) -> Any:
    reset(REGION)
    with mcinfra.Infra(f"sqlite:///{tmp_path}/h.db") as i:
        i.regions.add("r", provider="mock", region=REGION)
        i.connections.add("c", provider="mock", region="r")
        yield i
    reset(REGION)


# ---------------------------------------------------------------- prepared statements
HOT = [
    (store_db._GET_IID, {"connection": "c", "kind": "vpc", "owner": "", "name_id": "a"}),
    (store_db._GET_IID_BY_ID, {"row_id": 3}),
    (store_db._FINISH, {"row_id": 3, "system_id": "s", "zone": None}),
    (store_db._FINISH_EXTRA, {"row_id": 3, "system_id": "s", "zone": "z", "extra": {"a": [1]}}),
    (store_db._SET_STATE, {"row_id": 3, "state": "deleting"}),
    (store_db._DROP_REFS, {"connection": "c", "kind": "vpc", "name": "a"}),
    (store_db._REFERRERS, {"connection": "c", "kind": "vpc", "name": "a"}),
    (store_db._INSERT_CALL, {"at": datetime.now().astimezone(), "connection": "c", "provider": "mock",
                             "operation": "vpc.get", "kind": "vpc", "name": "a", "duration_ms": 1.5, "ok": True,
                             "error": None}),
]


@pytest.mark.parametrize(("stmt", "values"), HOT, ids=[str(i) for i in range(len(HOT))])
def test_a_parameter_plan_gives_what_sqlalchemy_gives(tmp_path: Path, stmt: Any, values: dict[str, Any]) -> None:
    dialect = Store(f"sqlite:///{tmp_path}/p.db").engine.dialect
    keys = sorted(values) if getattr(stmt, "is_insert", False) else None
    prep = _Prepared(stmt, dialect, keys)
    assert prep.params(values) == prep._params_slow(values)
    assert prep.params(values) == prep._params_slow(values)  # the plan, now cached


def test_a_row_reads_the_same_on_both_paths(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/r.db")
    store.reserve("c", "vpc", "a", "a-x", extra={"ids": {"s": "a"}})
    fast = store.get("c", "vpc", "a")  # the hot path (DBAPI)
    assert fast is not None
    assert fast == store.list("c")[0]  # SQLAlchemy's path
    assert isinstance(fast.created_at, datetime) and fast.created_at.tzinfo is not None
    assert fast.extra == {"ids": {"s": "a"}}


# ---------------------------------------------------------------- the store's own connections
def test_connections_are_reused_and_closed_with_the_store(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/c.db")
    for i in range(5):
        store.reserve("c", "vpc", f"v{i}", f"v{i}-x")
    assert store._raw is not None
    idle = list(store._raw._idle)
    assert len(idle) == 1  # one thread, one connection, kept
    store.close()
    assert store._raw._idle == []
    with pytest.raises(sqlite3.ProgrammingError):
        idle[0].execute("SELECT 1")  # closed


def test_a_connection_a_statement_failed_on_is_not_reused(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/f.db")
    assert store._raw is not None
    with store._prepared_tx(write=True) as tx:
        tx.run(store_db._SET_STATE, {"row_id": 1, "state": "ready"})
    (before,) = store._raw._idle
    with pytest.raises(StoreError), store._prepared_tx(write=True) as tx:
        tx.cur.execute("SELECT * FROM no_such_table")
    assert before not in store._raw._idle
    store.reserve("c", "vpc", "a", "a-x")  # a new connection serves the next call
    assert store.get("c", "vpc", "a") is not None


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/t.db")
    with pytest.raises(RuntimeError), store._prepared_tx(write=True) as tx:
        tx.insert(store_db._INSERT_IID, {"connection": "c", "kind": "vpc", "owner": "", "name_id": "a",
                                         "system_id": "", "csp_name": "a", "state": "pending", "zone": None,
                                         "created_at": datetime.now().astimezone(), "extra": {}})
        raise RuntimeError("the caller failed mid-transaction")
    assert store.get("c", "vpc", "a") is None
    store.reserve("c", "vpc", "a", "a-x")  # the connection came back clean (not mid-transaction)
    assert store.get("c", "vpc", "a") is not None


def test_a_forked_child_does_not_use_its_parents_connections(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/k.db")
    store.reserve("c", "vpc", "a", "a-x")
    assert store._raw is not None and store._raw._idle
    pid = os.fork()
    if pid == 0:  # the child: report by exit code, never return into pytest
        code = 1
        try:
            code = 0 if store._raw._idle == [] and store.get("c", "vpc", "a") is not None else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert store.get("c", "vpc", "a") is not None  # the parent's connection still works


# ---------------------------------------------------------------- call history durability
def test_a_create_and_a_delete_are_recorded_with_their_row_change(infra: mcinfra.Infra, tmp_path: Path) -> None:
    cloud = infra.connect("c")
    cloud.vpcs.create("v", cidr="10.0.0.0/16")
    assert ("vpc.create", 1) in _history_table(tmp_path / "h.db")  # no flush asked for
    cloud.vpcs.delete("v")
    assert ("vpc.delete", 1) in _history_table(tmp_path / "h.db")


def test_a_failed_call_is_recorded_at_once(infra: mcinfra.Infra, tmp_path: Path) -> None:
    cloud = infra.connect("c")
    cloud.vpcs.create("v", cidr="10.0.0.0/16")
    cloud.handlers.vpc.behaviour.fail_rate = 1.0
    with pytest.raises(mcinfra.CloudError):
        cloud.security_groups.create("sg", vpc="v")
    assert ("security_group.create", 0) in _history_table(tmp_path / "h.db")


def test_a_history_write_that_fails_keeps_the_records_and_not_the_call(
        infra: mcinfra.Infra, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cloud = infra.connect("c")
    cloud.vpcs.create("v", cidr="10.0.0.0/16")
    store = infra.store
    real = store._prepared_tx
    broken = {"on": True}

    def flaky(write: bool = False) -> Any:
        if write and broken["on"]:
            raise StoreError("metadata store sqlite failed: disk I/O error (test)")
        return real(write)

    monkeypatch.setattr(store, "_prepared_tx", flaky)
    monkeypatch.setattr(store_db, "HISTORY_FLUSH_AT", 1)
    assert cloud.vpcs.get("v").iid.name_id == "v"  # the call succeeds although its record waits
    broken["on"] = False
    store.flush_history()
    assert [op for op, _ in _history_table(tmp_path / "h.db")].count("vpc.get") == 1


def test_records_taken_into_a_failed_row_change_are_kept(infra: mcinfra.Infra, tmp_path: Path) -> None:
    store = infra.store
    store.add_ready("c", "vpc", [{"name_id": "a", "system_id": "vpc-1", "csp_name": "a"}])
    row = store.reserve("c", "vpc", "b", "b-x")
    store.record_call(at=datetime.now().astimezone(), connection="c", provider="mock", operation="vpc.create",
                      kind="vpc", name="b", duration_ms=1.0, ok=True, error=None)
    with pytest.raises(mcinfra.AlreadyExists):
        store.finish(row, "vpc-1")  # the CSP id is mapped already: the transaction rolls back
    assert ("vpc.create", 1) not in _history_table(tmp_path / "h.db")
    store.flush_history()
    assert ("vpc.create", 1) in _history_table(tmp_path / "h.db")


# ---------------------------------------------------------------- SP-Lock
def test_reused_lock_entries_still_exclude() -> None:
    lock = SPLock(timeout=10)
    key = ("c", "vpc", "a")
    for i in range(50):  # entries come and go (and are reused)
        with lock.hold(writes=[("c", "vpc", f"k{i}")], reads=[key]):
            pass
    assert len(lock) == 0
    inside, entered, release = [], threading.Event(), threading.Event()

    def writer() -> None:
        with lock.hold(writes=[key]):
            entered.set()
            release.wait(10)

    t = threading.Thread(target=writer)
    t.start()
    assert entered.wait(10)
    with pytest.raises(mcinfra.LockTimeout), lock.hold(writes=[key], timeout=0.01):
        inside.append(1)
    release.set()
    t.join(10)
    assert inside == [] and len(lock) == 0


def test_readers_behind_a_writer_that_gave_up_go_on() -> None:
    """A reader waits for a waiting writer (writers are preferred); when that writer times out,
    the reader must not stay blocked until the current holder leaves."""
    lock = SPLock(timeout=None)  # no timed wake-ups: a reader goes on only when woken
    key = ("c", "vpc", "a")
    held, release, reader_in = threading.Event(), threading.Event(), threading.Event()

    def first_reader() -> None:
        with lock.hold(reads=[key]):
            held.set()
            release.wait(120)  # longer than the test waits for the second reader

    def impatient_writer() -> None:
        with pytest.raises(mcinfra.LockTimeout), lock.hold(writes=[key], timeout=1.0):
            pass

    def second_reader() -> None:
        with lock.hold(reads=[key]):
            reader_in.set()

    holder = threading.Thread(target=first_reader)
    holder.start()
    assert held.wait(30)
    w = threading.Thread(target=impatient_writer)
    w.start()
    poll_until(lock.info, lambda infos: bool(infos) and infos[0].waiters >= 1, timeout=30, interval=0.01,
               max_interval=0.05, provider="test", what="the writer to wait")
    r = threading.Thread(target=second_reader)
    r.start()
    w.join(30)
    try:
        assert reader_in.wait(30)  # while the first reader still holds the lock
    finally:
        release.set()
    for t in (holder, r):
        t.join(30)
