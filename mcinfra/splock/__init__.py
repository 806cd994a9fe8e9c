"""SP-Lock: ID-level read/write locks, so work on different resources never waits.

In-process by default; with a shared PostgreSQL store the in-process lock fronts PostgreSQL
advisory locks (``mcinfra.splock.postgres``) so every process and host sees the same locks.
"""

from mcinfra.splock.local import LockBackend, LockInfo, LockKey, RWLock, SPLock

__all__ = ["LockBackend", "LockInfo", "LockKey", "RWLock", "SPLock"]
