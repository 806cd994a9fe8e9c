"""SP-Lock: ID-level read/write locks, so work on different resources never waits."""

from mcinfra.splock.local import LockInfo, LockKey, RWLock, SPLock

__all__ = ["LockInfo", "LockKey", "RWLock", "SPLock"]
