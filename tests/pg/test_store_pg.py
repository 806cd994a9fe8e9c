"""The store and SP-Lock backend on a real PostgreSQL server (one process)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import mcinfra
from mcinfra.core.errors import AlreadyExists, LockTimeout, StoreError
from mcinfra.splock.postgres import lock_id
from mcinfra.store import Store
from mcinfra.store.db import migration_head
from tests.pg.cluster import Cluster, missing_reason

KEY = ("conf", "vpc", "vpc-01")
ADVISORY = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


def _raw(url: str, sql: str) -> list[tuple]:
    u = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(u) as c:
        return c.execute(sql).fetchall()


def test_schema_is_migrated_once_with_alembic(pg_url: str, home: Path) -> None:
    Store(pg_url).close()
    Store(pg_url).close()  # a second open finds the schema at head
    assert _raw(pg_url, "SELECT version_num FROM alembic_version") == [(migration_head(),)]
    tables = {r[0] for r in _raw(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"credentials", "regions", "connections", "iids", "iid_refs", "call_history"} <= tables


def test_reserve_finish_drop(pg_url: str, home: Path) -> None:
    store = Store(pg_url)
    try:
        vpc = store.reserve("c", "vpc", "vpc-01", "vpc-01-x")
        with pytest.raises(AlreadyExists):
            store.reserve("c", "vpc", "vpc-01", "vpc-01-y")
        assert store.get("c", "vpc", "vpc-01").state == "pending"
        store.finish(vpc, "sys-1", zone="z1", extra={"cidr": "10.0.0.0/16"})
        rec = store.get("c", "vpc", "vpc-01")
        assert (rec.state, rec.system_id, rec.zone, rec.extra) == ("ready", "sys-1", "z1", {"cidr": "10.0.0.0/16"})
        store.add_ready("c", "subnet", [{"name_id": "sn-01", "owner": "vpc-01", "system_id": "s1", "csp_name": "sn"}])
        sg = store.reserve("c", "security_group", "sg-01", "sg-x", refs=[("vpc", "vpc-01")])
        assert store.referrers("c", "vpc", "vpc-01") == [("security_group", "sg-01")]
        store.drop(sg)
        assert store.referrers("c", "vpc", "vpc-01") == []
        store.drop(vpc)  # a VPC takes its subnets with it
        assert store.list("c") == []
        store.record_call(connection="c", provider="mock", operation="get", kind="vpc", name="vpc-01",
                          duration_ms=1.5, ok=True, error=None)
        (call,) = store.history()
        assert call["at"].tzinfo is not None and call["ok"] is True
    finally:
        store.close()


def test_credentials_are_encrypted_at_rest(pg_url: str, home: Path) -> None:
    with mcinfra.Infra(pg_url) as infra:
        infra.credentials.add("c1", provider="mock", keys={"token": "s3cr3t-value"})
    (secret,) = _raw(pg_url, "SELECT secret FROM credentials")[0]
    assert b"s3cr3t-value" not in bytes(secret)
    with mcinfra.Infra(pg_url) as other:  # another Infra (same key file) reads it back
        assert other.store.credential("c1") == ("mock", {"token": "s3cr3t-value"})
        assert other.credentials.get("c1").keys == ["token"]


def test_lock_backend_is_chosen_by_url_or_option(pg_url: str, home: Path) -> None:
    with mcinfra.Infra(pg_url) as infra:
        assert infra.locks.backend == "postgres"
    with mcinfra.Infra(pg_url, locks="local") as infra:
        assert infra.locks.backend == "local"
    with pytest.raises(mcinfra.InvalidRequest):
        mcinfra.Infra("sqlite:///:memory:", locks="postgres")
    with pytest.raises(mcinfra.InvalidRequest):
        mcinfra.Infra(pg_url, locks="redis")


def test_lock_ids_are_stable_and_distinct() -> None:
    assert lock_id(KEY) == lock_id(("conf", "vpc", "vpc-01"))
    assert -(2**63) <= lock_id(KEY) < 2**63
    ids = {lock_id(("c", "vm", f"vm-{i}")) for i in range(10_000)}
    assert len(ids) == 10_000
    # the separator cannot be forged by a name holding it
    assert lock_id(("a/b", "vm", "c")) != lock_id(("a", "b/vm", "c"))


def test_write_excludes_other_infra_and_reads_share(pg_url: str, home: Path) -> None:
    with mcinfra.Infra(pg_url) as a, mcinfra.Infra(pg_url) as b:
        with a.locks.hold(writes=[KEY]):
            with pytest.raises(LockTimeout), b.locks.hold(reads=[KEY], timeout=0.3):
                pass
            with pytest.raises(LockTimeout), b.locks.hold(writes=[KEY], timeout=0):
                pass
            (info,) = a.locks.info()
            assert info.key == KEY and info.mode == "write" and len(info.holders) == 1
        with a.locks.hold(reads=[KEY]), b.locks.hold(reads=[KEY], timeout=5):
            (info,) = b.locks.info()
            assert info.mode == "read" and len(info.holders) == 2
            with pytest.raises(LockTimeout), b.locks.hold(writes=[("conf", "vpc", "vpc-01")], timeout=0.2):
                pass
        assert a.locks.info() == []


def test_threads_queue_locally_and_only_the_head_takes_a_session(pg_url: str, home: Path) -> None:
    with mcinfra.Infra(pg_url) as a, mcinfra.Infra(pg_url) as b:
        started = threading.Barrier(9)
        done: list[int] = []

        def worker(i: int) -> None:
            started.wait()
            with a.locks.hold(writes=[KEY], timeout=60):
                done.append(i)

        with b.locks.hold(writes=[KEY]):
            threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            started.wait()
            deadline = time.monotonic() + 120
            while True:  # until every thread has queued (7 locally, 1 on the server)
                infos = b.locks.info()
                if infos and infos[0].waiters == 1 and a.locks.info()[0].waiters == 8:
                    break
                assert time.monotonic() < deadline, "threads never queued"
                time.sleep(0.01)
            # the server sees one waiting session from process a, not eight
            server_waiting = _raw(pg_url, f"{ADVISORY} AND NOT granted")[0][0]
            assert server_waiting == 1
        for t in threads:
            t.join()
        assert sorted(done) == list(range(8))


def test_read_holders_share_one_server_lock(pg_url: str, home: Path) -> None:
    with mcinfra.Infra(pg_url) as a:
        gate = threading.Barrier(5)

        def reader() -> None:
            with a.locks.hold(reads=[KEY]):
                gate.wait()
                gate.wait()

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for t in threads:
            t.start()
        gate.wait()
        held = _raw(pg_url, f"{ADVISORY} AND granted")[0][0]
        gate.wait()
        for t in threads:
            t.join()
        assert held == 1


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this test alone, which the test may stop and start."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    c = Cluster().start()
    yield c
    c.destroy()


def test_lost_server_is_a_store_error(own_cluster: Cluster, home: Path) -> None:
    infra = mcinfra.Infra(own_cluster.url())
    infra.connections.add("conf", provider="mock")
    with infra.locks.hold(writes=[KEY]):
        pass  # leaves an idle lock session in the pool
    own_cluster.stop()
    own_cluster.start()
    with infra.locks.hold(writes=[KEY], timeout=5):
        pass  # the dead idle session is replaced, not reported
    own_cluster.stop()
    with pytest.raises(StoreError):
        infra.connections.list()
    with pytest.raises(StoreError), infra.locks.hold(writes=[KEY]):
        pass
    with pytest.raises(StoreError):
        mcinfra.Infra(own_cluster.url())
    own_cluster.start()  # the same Infra recovers once the server is back
    with contextlib.suppress(StoreError):
        infra.connections.list()  # may meet a pooled connection of the old server: typed, then discarded
    assert [c.name for c in infra.connections.list()] == ["conf"]
    infra.close()


def test_store_lost_mid_create_leaves_a_reconcilable_pending_row(own_cluster: Cluster, home: Path) -> None:
    infra = mcinfra.Infra(own_cluster.url())
    infra.connections.add("conf", provider="mock", options={"latency": 1.0})
    cloud = infra.connect("conf")
    errors: list[BaseException] = []

    def create() -> None:
        try:
            cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=create)
    t.start()
    while not infra.store.list("conf", state="pending"):
        time.sleep(0.01)
    own_cluster.stop()  # while the CSP call is in flight: finishing (and dropping) the row fails
    t.join()
    assert len(errors) == 1 and isinstance(errors[0], StoreError)
    own_cluster.start()
    (pending,) = infra.store.list("conf", state="pending")
    assert pending.name_id == "vpc-01"
    report = infra.reconcile()
    assert report.rolled_back == ["conf/vpc/vpc-01"] and not report.failed
    cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")
    assert [i.name_id for i in cloud.vpcs.list_all().mapped] == ["vpc-01"]
    assert cloud.vpcs.list_all().only_csp == []
    cloud.destroy_all()
    infra.close()


def test_unix_socket_url(pg_cluster: Cluster, home: Path) -> None:
    with mcinfra.Infra(pg_cluster.socket_url()) as infra:
        infra.connections.add("sock", provider="mock")
        with infra.locks.hold(writes=[("sock", "vpc", "v")]):
            assert [i.key for i in infra.locks.info()] == [("sock", "vpc", "v")]
        infra.connections.delete("sock")


def test_new_database_opened_from_many_threads_at_once(pg_cluster: Cluster, home: Path) -> None:
    """Issue 15 point 4 on PostgreSQL: Alembic's context is process-global, so threads opening
    new databases at once take turns; every store comes out whole."""
    from concurrent.futures import ThreadPoolExecutor

    urls = [pg_cluster.new_database() for _ in range(3)] * 2
    barrier = threading.Barrier(len(urls))

    def open_store(url: str) -> str | None:
        barrier.wait()
        store = Store(url)
        try:
            with store.engine.connect() as c:
                return c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        finally:
            store.close()

    with ThreadPoolExecutor(len(urls)) as pool:
        assert list(pool.map(open_store, urls)) == [migration_head()] * len(urls)


def test_one_csp_id_one_name_in_postgres(pg_url: str, home: Path) -> None:
    store = Store(pg_url)
    try:
        store.add_ready("c", "vpc", [{"name_id": "a", "system_id": "vpc-1", "csp_name": "a"}])
        with pytest.raises(AlreadyExists):
            store.add_ready("c", "vpc", [{"name_id": "b", "system_id": "vpc-1", "csp_name": "b"}])
        store.reserve("c", "vpc", "p1", "p1-x")
        store.reserve("c", "vpc", "p2", "p2-x")  # pending rows have no id yet: no clash
    finally:
        store.close()
