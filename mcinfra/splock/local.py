"""In-process SP-Lock: a read/write lock per (connection, kind, name), made on demand.

A self lock guards a map ``key -> entry(rwlock, refcount)``. Taking a lock bumps the entry's
count under the self lock and then blocks on the entry's own lock, so waiters keep the entry
alive; releasing drops the count and removes the entry at zero. Work on different keys never
waits on anything but the (brief) self lock.

With a ``backend`` (PostgreSQL advisory locks, for several processes) the local lock fronts it:
threads queue here first, and only the head - the local writer, or the first of the local
readers - takes the server-side lock, which the last local user of the key gives back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from mcinfra.core.errors import LockTimeout

LockKey = tuple[str, str, str]  # (connection, kind, name)
#: how many unused lock entries an SPLock keeps for reuse
SPARE_ENTRIES = 256


class LockBackend(Protocol):
    """A lock shared with other processes (see mcinfra.splock.postgres)."""

    def acquire(self, key: LockKey, write: bool, timeout: float | None) -> Any: ...
    def release(self, held: Any) -> None: ...
    def info(self, local: list[LockInfo]) -> list[LockInfo]: ...
    def close(self) -> None: ...


class RWLock:
    """Writer-preferring read/write lock with timeouts. Not re-entrant."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers: dict[int, int] = {}
        self._writer: int | None = None
        self._writers_waiting = 0
        self._readers_waiting = 0

    def acquire(self, write: bool, timeout: float | None) -> bool:
        me = threading.get_ident()
        deadline = None  # worked out only when the lock must be waited for
        with self._cond:
            if write:
                if self._writer is not None or self._readers:
                    deadline = None if timeout is None else time.monotonic() + timeout
                    self._writers_waiting += 1
                    try:
                        while self._writer is not None or self._readers:
                            if not self._wait(deadline):
                                if self._readers_waiting:  # they may have waited for this writer only
                                    self._cond.notify_all()
                                return False
                    finally:
                        self._writers_waiting -= 1
                self._writer = me
            else:
                if self._writer is not None or self._writers_waiting:
                    deadline = None if timeout is None else time.monotonic() + timeout
                    self._readers_waiting += 1
                    try:
                        while self._writer is not None or self._writers_waiting:
                            if not self._wait(deadline):
                                return False
                    finally:
                        self._readers_waiting -= 1
                self._readers[me] = self._readers.get(me, 0) + 1
            return True

    def _wait(self, deadline: float | None) -> bool:
        if deadline is None:
            self._cond.wait()
            return True
        left = deadline - time.monotonic()
        return left > 0 and (self._cond.wait(left) or time.monotonic() < deadline)

    def release(self, write: bool) -> None:
        me = threading.get_ident()
        with self._cond:
            if write:
                self._writer = None
            else:
                n = self._readers.get(me, 0) - 1
                if n > 0:
                    self._readers[me] = n
                else:
                    self._readers.pop(me, None)
            # waiters count themselves under this lock before they wait: none counted, none to wake
            if self._writers_waiting or self._readers_waiting:
                self._cond.notify_all()

    def snapshot(self) -> tuple[str | None, list[int], int]:
        with self._cond:
            if self._writer is not None:
                return "write", [self._writer], self._writers_waiting + self._readers_waiting
            if self._readers:
                return "read", list(self._readers), self._writers_waiting + self._readers_waiting
            return None, [], self._writers_waiting + self._readers_waiting


@dataclass
class _Entry:
    lock: RWLock = field(default_factory=RWLock)
    refcount: int = 0
    #: the backend's lock and how many local holders share it (readers share one)
    remote: Any = None
    remote_users: int = 0
    remote_mutex: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class LockInfo:
    key: LockKey
    mode: str | None
    holders: list[str]
    waiters: int
    refcount: int

    def __str__(self) -> str:
        return f"{'/'.join(self.key)} {self.mode or '-'} holders={self.holders} waiters={self.waiters}"


class _Holding:
    """The locks of one ``SPLock.hold`` block (a class, not a generator: it is on every call's path)."""

    __slots__ = ("_held", "_plan", "_splock", "_timeout")

    def __init__(self, splock: SPLock, plan: list[tuple[LockKey, bool]], timeout: float | None) -> None:
        self._splock = splock
        self._plan = plan
        self._timeout = timeout
        self._held: list[tuple[LockKey, _Entry, bool]] = []

    def __enter__(self) -> None:
        self._held = self._splock._take(self._plan, self._timeout)

    def __exit__(self, *exc: object) -> None:
        held, self._held = self._held, []
        self._splock._give_back(held)


def _thread_name(ident: int) -> str:
    for t in threading.enumerate():
        if t.ident == ident:
            return t.name
    return str(ident)


class SPLock:
    """ID-level read/write locks. ``coarse=True`` collapses every name of a kind onto one write
    lock (Spider before SP-Lock); it exists only so the benchmark can show the difference."""

    def __init__(self, *, coarse: bool = False, timeout: float | None = 600.0,
                 backend: LockBackend | None = None) -> None:
        self.coarse = coarse
        self.timeout = timeout
        self.backend = backend
        self._self_lock = threading.Lock()
        self._map: dict[LockKey, _Entry] = {}
        #: entries whose refcount fell to 0, for reuse: a new one (a lock, a condition, a mutex)
        #: costs more than the rest of taking a lock
        self._spare: list[_Entry] = []

    def _ref(self, key: LockKey) -> _Entry:
        with self._self_lock:
            entry = self._map.get(key)
            if entry is None:
                entry = self._map[key] = self._spare.pop() if self._spare else _Entry()
            entry.refcount += 1
            return entry

    def _unref(self, key: LockKey, entry: _Entry) -> None:
        with self._self_lock:
            entry.refcount -= 1
            if entry.refcount == 0:
                del self._map[key]
                # nobody holds or waits for it (they would count): it is as good as new
                if len(self._spare) < SPARE_ENTRIES:
                    self._spare.append(entry)

    def _plan(self, writes: Iterable[LockKey], reads: Iterable[LockKey]) -> list[tuple[LockKey, bool]]:
        if (not self.coarse and isinstance(writes, list | tuple) and isinstance(reads, list | tuple)
                and len(writes) + len(reads) == 1):  # most calls: one key, nothing to order
            return [(writes[0], True)] if writes else [(reads[0], False)]
        modes: dict[LockKey, bool] = {}
        for key in reads:
            modes.setdefault(self._canon(key), False)
        for key in writes:
            modes[self._canon(key)] = True
        if self.coarse:
            modes = dict.fromkeys(modes, True)
        return sorted(modes.items())  # one global order: no deadlock between multi-key holders

    def _canon(self, key: LockKey) -> LockKey:
        return (key[0], key[1], "*") if self.coarse else key

    def hold(
        self, writes: Iterable[LockKey] = (), reads: Iterable[LockKey] = (), timeout: float | None = -1.0
    ) -> AbstractContextManager[None]:
        """Hold write locks on ``writes`` and read locks on ``reads`` for the block."""
        return _Holding(self, self._plan(writes, reads), self.timeout if timeout == -1.0 else timeout)

    def _take(self, plan: list[tuple[LockKey, bool]], timeout: float | None
              ) -> list[tuple[LockKey, _Entry, bool]]:
        deadline = None if timeout is None else time.monotonic() + timeout
        held: list[tuple[LockKey, _Entry, bool]] = []
        try:
            for key, write in plan:
                entry = self._ref(key)
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not entry.lock.acquire(write, left):
                    self._unref(key, entry)
                    mode = "write" if write else "read"
                    raise LockTimeout(f"timed out after {timeout}s waiting for a {mode} lock on {'/'.join(key)}")
                if self.backend is not None:
                    try:
                        self._remote_enter(key, entry, write, timeout, deadline)
                    except BaseException:
                        entry.lock.release(write)
                        self._unref(key, entry)
                        raise
                held.append((key, entry, write))
        except BaseException:
            self._give_back(held)
            raise
        return held

    def _give_back(self, held: list[tuple[LockKey, _Entry, bool]]) -> None:
        for key, entry, write in reversed(held):
            if self.backend is not None:
                self._remote_exit(entry)
            entry.lock.release(write)
            self._unref(key, entry)

    def _remote_enter(self, key: LockKey, entry: _Entry, write: bool, timeout: float | None,
                      deadline: float | None) -> None:
        assert self.backend is not None
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        # local readers arriving while the first one is still waiting on the server wait here
        if not entry.remote_mutex.acquire(timeout=-1 if left is None else left):
            mode = "write" if write else "read"
            raise LockTimeout(f"timed out after {timeout}s waiting for a {mode} lock on {'/'.join(key)}")
        try:
            if entry.remote_users == 0:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                entry.remote = self.backend.acquire(key, write, left)
            entry.remote_users += 1
        finally:
            entry.remote_mutex.release()

    def _remote_exit(self, entry: _Entry) -> None:
        assert self.backend is not None
        with entry.remote_mutex:
            entry.remote_users -= 1
            if entry.remote_users:
                return
            held, entry.remote = entry.remote, None
        self.backend.release(held)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()

    def info(self) -> list[LockInfo]:
        """Locks held or waited for: in this process, or (with a backend) in every process."""
        local = self._local_info()
        return local if self.backend is None else self.backend.info(local)

    def _local_info(self) -> list[LockInfo]:
        with self._self_lock:
            items = list(self._map.items())
        out = []
        for key, entry in items:
            mode, holders, waiters = entry.lock.snapshot()
            out.append(LockInfo(key, mode, [_thread_name(h) for h in holders], waiters, entry.refcount))
        return sorted(out, key=lambda i: i.key)

    def __len__(self) -> int:
        with self._self_lock:
            return len(self._map)
