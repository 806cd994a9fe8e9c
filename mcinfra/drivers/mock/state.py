"""Where a mock cloud keeps its resources: process memory, or a JSON file shared by processes.

A cloud is a dict ``kind -> {system_id: record}`` (records are JSON-ready dicts), one per mock
region. ``tx(write=...)`` hands it out under the right lock; the file backend reloads the file
only when another process changed it and writes it back atomically after a write.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

KINDS = ("vpc", "security_group", "keypair", "vm", "nlb")
Data = dict[str, Any]


def empty() -> Data:
    # "names": kind -> {CSP name: system id}, so a name check costs O(1) at 10,000s of resources
    return {**{k: {} for k in KINDS}, "names": {k: {} for k in KINDS}, "ips": {"public_next": 0}}


class _Locked:
    """A memory cloud's state under its lock (a class, not a generator: every mock call takes it)."""

    __slots__ = ("_cloud",)

    def __init__(self, cloud: MemoryCloud) -> None:
        self._cloud = cloud

    def __enter__(self) -> Data:
        self._cloud._lock.acquire()
        return self._cloud._data

    def __exit__(self, *exc: object) -> None:
        self._cloud._lock.release()


class MemoryCloud:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._data = empty()

    def tx(self, write: bool = False) -> AbstractContextManager[Data]:
        return _Locked(self)

    def reset(self) -> None:
        with self._lock:
            self._data = empty()


class FileCloud:
    """Every region's state in one JSON file, guarded by flock on ``<file>.lock``."""

    def __init__(self, path: Path, region: str) -> None:
        self.path = path
        self.region = region
        self._lock = threading.RLock()
        self._cache: dict[str, Data] = {}
        self._stamp: tuple[int, int] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)

    def _load(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._cache, self._stamp = {}, None
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._cache = json.loads(self.path.read_text() or "{}")
            self._stamp = stamp

    def _save(self) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(self._cache))
        os.replace(tmp, self.path)
        st = self.path.stat()
        self._stamp = (st.st_mtime_ns, st.st_size)

    @contextmanager
    def tx(self, write: bool = False) -> Iterator[Data]:
        with self._lock, open(f"{self.path}.lock", "a") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            try:
                self._load()
                data = self._cache.setdefault(self.region, empty())
                yield data
                if write:
                    self._save()
            finally:
                fcntl.flock(lockf, fcntl.LOCK_UN)

    def reset(self) -> None:
        with self.tx(write=True):
            self._cache[self.region] = empty()


#: (cloud id, region) -> its in-memory cloud; cloud id "" is the process-wide default cloud
_memory: dict[tuple[str, str], MemoryCloud] = {}
_files: dict[tuple[str, str], FileCloud] = {}
_registry_lock = threading.Lock()


def cloud_for(region: str, state_path: str | None, cloud_id: str = "") -> MemoryCloud | FileCloud:
    with _registry_lock:
        if state_path:
            key = (str(Path(state_path).resolve()), region)
            if key not in _files:
                _files[key] = FileCloud(Path(key[0]), region)
            return _files[key]
        return _memory.setdefault((cloud_id, region), MemoryCloud())


def reset(region: str | None = None, *, state_path: str | None = None, cloud_id: str = "") -> None:
    """Forget mock resources: of one region, or (region None) of every in-memory region of the
    cloud ``cloud_id`` (default: the process-wide cloud)."""
    if state_path:
        if region is None:
            Path(state_path).unlink(missing_ok=True)
        else:
            cloud_for(region, state_path).reset()
        return
    with _registry_lock:
        clouds = [c for (cid, r), c in _memory.items() if cid == cloud_id and region in (None, r)]
    for c in clouds:
        c.reset()


def forget(cloud_id: str) -> None:
    """Drop every region of a private in-memory cloud (its memory is freed)."""
    if not cloud_id:
        raise ValueError("the default cloud is reset, not forgotten")
    with _registry_lock:
        for key in [k for k in _memory if k[0] == cloud_id]:
            del _memory[key]
