"""SP-Lock semantics: readers share, writers exclude, entries vanish at refcount 0."""

from __future__ import annotations

import threading
import time

import pytest

import mcinfra
from mcinfra.splock import SPLock

K = ("c", "vpc", "vpc-01")


def test_readers_share_writers_exclude() -> None:
    lock = SPLock(timeout=5)
    inside = []
    barrier = threading.Barrier(3)

    def reader() -> None:
        with lock.hold(reads=[K]):
            inside.append(1)
            barrier.wait(timeout=5)  # all three readers are inside at once

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(inside) == 3
    assert len(lock) == 0  # every entry removed at refcount 0


def test_writer_waits_for_reader_and_times_out() -> None:
    lock = SPLock(timeout=5)
    entered = threading.Event()
    release = threading.Event()

    def reader() -> None:
        with lock.hold(reads=[K]):
            entered.set()
            release.wait(5)

    t = threading.Thread(target=reader, name="reader-1")
    t.start()
    entered.wait(5)
    with pytest.raises(mcinfra.LockTimeout), lock.hold(writes=[K], timeout=0.05):
        pass
    info = lock.info()
    assert [(i.key, i.mode, i.holders) for i in info] == [(K, "read", ["reader-1"])]
    release.set()
    t.join()
    with lock.hold(writes=[K], timeout=1):
        assert lock.info()[0].mode == "write"
    assert lock.info() == []


def test_distinct_keys_never_wait() -> None:
    lock = SPLock(timeout=5)
    a, b = ("c", "security_group", "a"), ("c", "security_group", "b")
    with lock.hold(writes=[a]), lock.hold(writes=[b], timeout=0.01):
        assert len(lock.info()) == 2


def test_coarse_mode_serialises_a_kind() -> None:
    lock = SPLock(coarse=True, timeout=5)
    with lock.hold(writes=[("c", "security_group", "a")]):
        with pytest.raises(mcinfra.LockTimeout), lock.hold(writes=[("c", "security_group", "b")], timeout=0.01):
            pass
        with lock.hold(writes=[("c", "vpc", "b")], timeout=0.01):
            pass


def test_multi_key_order_prevents_deadlock() -> None:
    lock = SPLock(timeout=5)
    a, b = ("c", "vpc", "a"), ("c", "vpc", "b")
    done = []

    def worker(keys: list) -> None:
        for _ in range(200):
            with lock.hold(writes=keys):
                pass
        done.append(1)

    ts = [threading.Thread(target=worker, args=([a, b],)), threading.Thread(target=worker, args=([b, a],))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(10)
    assert len(done) == 2


def test_writer_preferred_over_new_readers() -> None:
    lock = SPLock(timeout=5)
    order: list[str] = []
    first_in = threading.Event()

    def first_reader() -> None:
        with lock.hold(reads=[K]):
            first_in.set()
            time.sleep(0.1)
        order.append("r1-out")

    def writer() -> None:
        with lock.hold(writes=[K]):
            order.append("w")

    def late_reader() -> None:
        with lock.hold(reads=[K]):
            order.append("r2")

    t1 = threading.Thread(target=first_reader)
    t1.start()
    first_in.wait()
    tw = threading.Thread(target=writer)
    tw.start()
    while not lock.info() or lock.info()[0].waiters == 0:
        time.sleep(0.001)
    t2 = threading.Thread(target=late_reader)
    t2.start()
    for t in (t1, tw, t2):
        t.join(5)
    assert order.index("w") < order.index("r2")
