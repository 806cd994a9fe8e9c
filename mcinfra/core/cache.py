"""The read cache: an opt-in TTL cache per call type for idempotent reads, per connection.

What it holds is the driver's answer to a read (``handler.get(iid)``, ``handler.list()``, a
catalog list...), keyed by (kind, call type, arguments) — never the user's view, which the
managers still build from the store on every call; so store-only changes (register,
unregister) are seen at once, and only changes at the CSP can make an entry stale.

Consistency rules:

- **Writes through mcinfra invalidate.** Every mutating handler call a manager makes (through
  ``ResourceManager._gated``) bumps the epoch of its (connection, kind) when it returns or
  fails (a failed call may have acted): every entry of that kind is dead from then on. VM
  writes also bump the NLB kind (an NLB's health and members observe its VMs), and so do
  security-group and VPC writes (rules and routes decide whether a health check passes).
- **No stale store after a write.** A read that misses notes the epoch before it asks the
  cloud and stores its answer only if the epoch is unchanged when the answer comes back; a
  read that began before a write ended can return its answer (the two overlapped) but never
  leave it behind for later readers.
- **Writers never wait on readers.** The one lock here guards a dictionary for microseconds and
  is never held across a cloud call; a write's bump is O(1) (dead entries are dropped when met
  or evicted).
- **Decisions bypass the cache.** The reads inside create/delete/control/reconcile (the
  ambiguous-create look-up, ``reconcile_pending``, ``_exists_at_csp``, the status check before
  a suspend, the wait loops) call the gate directly: only the public reads come here.
- **Per process.** Entries live in this process's memory; another process's writes are seen
  when the TTL ends (sharing invalidations would need a message bus, and a shared store of
  answers would cost a round trip of its own).

Hits ask nothing of the cloud, so they are not in the call history; :meth:`ReadCache.stats`
counts them.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

from mcinfra.core.errors import InvalidRequest
from mcinfra.core.models import IID, Kind

T = TypeVar("T")

#: the call types that can be cached, per kind (the public method's name)
CACHEABLE: dict[Kind, tuple[str, ...]] = {
    Kind.VPC: ("get", "list", "list_all"),
    Kind.SECURITY_GROUP: ("get", "list", "list_all"),
    Kind.KEYPAIR: ("get", "list", "list_all"),
    Kind.VM: ("get", "list", "list_all", "status", "statuses"),
    Kind.NLB: ("get", "list", "list_all", "health"),
    Kind.REGION_ZONE: ("get", "list"),
    Kind.IMAGE: ("get", "list"),
    Kind.SPEC: ("get", "list"),
    Kind.PRICE: ("get", "list"),
}
CALL_TYPES: frozenset[str] = frozenset(f"{k}.{c}" for k, calls in CACHEABLE.items() for c in calls)
#: the handler operations that only read: every other operation a manager sends is a write
READ_OPS: frozenset[str] = frozenset({"get", "list", "list_iids", "status", "statuses", "health"})
#: what else a write of a kind can change, as seen by reads: an NLB's health and members
#: follow its VMs, and security rules and routes decide whether its health checks pass
DEPENDANTS: dict[str, tuple[Kind, ...]] = {
    Kind.VM: (Kind.VM, Kind.NLB),
    Kind.SECURITY_GROUP: (Kind.SECURITY_GROUP, Kind.NLB),
    Kind.VPC: (Kind.VPC, Kind.NLB),
}
#: the longest TTL accepted (a week)
MAX_TTL = 7 * 86_400.0
DEFAULT_MAX_ENTRIES = 10_000


def _ttl(value: Any, key: str) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not 0 <= value <= MAX_TTL:
        raise InvalidRequest(f"cache TTL of {key!r} must be a number of seconds from 0 to {MAX_TTL:g}, "
                             f"not {value!r}", field=f"cache.{key}")
    return float(value)


class CachePolicy(BaseModel):
    """Which reads of a connection are cached, and for how long.

    ``ttl`` maps a call type (``"vm.status"``, ``"image.list"``), a kind's wildcard
    (``"vm.*"``) or ``"*"`` to seconds; the most specific key wins; 0 means "not cached".
    ``max_entries`` bounds the entries kept for the connection (least recently used go first).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ttl: dict[str, float] = {}
    max_entries: int = DEFAULT_MAX_ENTRIES
    _resolved: dict[str, float] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        wild = {k.removesuffix(".*"): t for k, t in self.ttl.items() if k.endswith(".*")}
        everything = self.ttl.get("*", 0.0)
        for call in CALL_TYPES:
            ttl = self.ttl.get(call, wild.get(call.split(".", 1)[0], everything))
            if ttl > 0:
                self._resolved[call] = ttl

    def ttl_for(self, call_type: str) -> float:
        """Seconds an answer of ``call_type`` is kept (0: not cached)."""
        return self._resolved.get(call_type, 0.0)

    @property
    def enabled(self) -> bool:
        return bool(self._resolved)

    @classmethod
    def parse(cls, value: Any) -> CachePolicy | None:
        """A policy from what a user passes as ``cache=``: a CachePolicy; a mapping of call
        types to seconds (optionally with ``max_entries``); None/False/{} (no cache)."""
        if value is None or value is False:
            return None
        if isinstance(value, CachePolicy):
            return value if value.enabled else None
        if not isinstance(value, Mapping):
            raise InvalidRequest("cache must be a mapping of call types to TTL seconds "
                                 f"(e.g. {{'vm.status': 5}}), a CachePolicy or None, not {value!r}", field="cache")
        if "ttl" in value:  # the long form: {"ttl": {...}, "max_entries": n}
            extra = set(value) - {"ttl", "max_entries"}
            if extra:
                raise InvalidRequest(f"unknown cache setting(s): {sorted(map(str, extra))}", field="cache")
            if not isinstance(value["ttl"], Mapping):
                raise InvalidRequest("cache ttl must be a mapping of call types to seconds", field="cache.ttl")
            ttls, max_entries = dict(value["ttl"]), value.get("max_entries", DEFAULT_MAX_ENTRIES)
        else:  # the short form: {"vm.status": 5, ..., "max_entries": n}
            ttls = dict(value)
            max_entries = ttls.pop("max_entries", DEFAULT_MAX_ENTRIES)
        if (not isinstance(max_entries, int) or isinstance(max_entries, bool)
                or not 1 <= max_entries <= 10_000_000):
            raise InvalidRequest(f"cache max_entries must be an integer from 1 to 10000000, not {max_entries!r}",
                                 field="cache.max_entries")
        checked: dict[str, float] = {}
        for key, ttl in ttls.items():
            wildcard = isinstance(key, str) and (key == "*" or (
                key.endswith(".*") and key.removesuffix(".*") in {k.value for k in CACHEABLE}))
            if not isinstance(key, str) or not (key in CALL_TYPES or wildcard):
                raise InvalidRequest(
                    f"cannot cache {key!r}: a cache key is one of {sorted(CALL_TYPES)}, '<kind>.*' or '*'",
                    field=f"cache.{key}")
            checked[key] = _ttl(ttl, key)
        policy = cls(ttl=checked, max_entries=max_entries)
        return policy if policy.enabled else None

    def as_config(self) -> dict[str, Any]:
        """What the connection config stores."""
        out: dict[str, Any] = dict(self.ttl)
        if self.max_entries != DEFAULT_MAX_ENTRIES:
            out["max_entries"] = self.max_entries
        return out


class CacheStats(BaseModel):
    """Counters of one connection's cache (or all connections', summed)."""

    hits: int = 0
    misses: int = 0
    #: misses that waited for an identical read already asking the cloud, and took its answer
    coalesced: int = 0
    #: answers not kept because a write of their kind ended while they were being fetched
    discarded: int = 0
    #: epoch bumps by writes (and by ``invalidate``)
    invalidations: int = 0
    expired: int = 0
    evictions: int = 0
    entries: int = 0
    #: hits and misses per call type ("vm.status": [hits, misses])
    by_call: dict[str, list[int]] = {}

    @property
    def cloud_calls_saved(self) -> int:
        return self.hits + self.coalesced


def _arg_key(arg: Any) -> Any:
    if isinstance(arg, IID):
        return ("iid", arg.name_id, arg.system_id)
    if isinstance(arg, str | int | float | bool | None):
        return arg
    return repr(arg)


@dataclass(slots=True)
class _Entry:
    value: Any
    epoch: int
    expires: float


@dataclass(slots=True)
class _Flight:
    """A read asking the cloud now; identical misses of the same epoch wait for its answer."""

    epoch: int
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False
    value: Any = None


class ConnectionCache:
    """The cache of one connection name, shared by every Connection object of that name."""

    def __init__(self, connection: str, clock: Callable[[], float]) -> None:
        self.connection = connection
        self.policy: CachePolicy | None = None
        #: whether a policy was set in this process (a stored default does not override it)
        self.configured = False
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._flights: dict[tuple[Any, ...], _Flight] = {}
        self._epochs: dict[str, int] = {}
        self._stats = CacheStats()

    def __repr__(self) -> str:
        return f"<ConnectionCache {self.connection!r} {'on' if self.policy else 'off'}>"

    def enabled(self, call_type: str) -> bool:
        policy = self.policy
        return policy is not None and policy.ttl_for(call_type) > 0

    def read(self, kind: str, call: str, args: tuple[Any, ...], fetch: Callable[[], T]) -> T:
        """``fetch()``'s answer, from the cache when a live one is there (a deep copy, so a
        caller changing it changes nobody else's)."""
        policy = self.policy
        call_type = f"{kind}.{call}"
        ttl = policy.ttl_for(call_type) if policy is not None else 0.0
        if ttl <= 0:
            return fetch()
        key = (kind, call, *(_arg_key(a) for a in args))
        now = self._clock()
        with self._lock:
            epoch = self._epochs.get(kind, 0)
            counts = self._stats.by_call.setdefault(call_type, [0, 0])
            entry = self._entries.get(key)
            if entry is not None:
                if entry.epoch == epoch and entry.expires > now:
                    self._entries.move_to_end(key)
                    self._stats.hits += 1
                    counts[0] += 1
                    hit = entry.value
                else:
                    del self._entries[key]
                    if entry.epoch == epoch:
                        self._stats.expired += 1
                    entry = None
            if entry is None:
                self._stats.misses += 1
                counts[1] += 1
                flight = self._flights.get(key)
                lead = flight is None or flight.epoch != epoch
                if lead:
                    flight = self._flights[key] = _Flight(epoch)
                else:
                    self._stats.coalesced += 1
        if entry is not None:
            return copy.deepcopy(hit)  # type: ignore[no-any-return]
        assert flight is not None
        if not lead:
            flight.done.wait()
            if flight.ok:
                return copy.deepcopy(flight.value)  # type: ignore[no-any-return]
            return fetch()  # the leader failed: ask for ourselves (its error is its own)
        try:
            value = fetch()
        except BaseException:
            self._land(key, flight)
            raise
        kept = copy.deepcopy(value)
        flight.value, flight.ok = kept, True
        self._land(key, flight, _Entry(kept, epoch, now + ttl), policy.max_entries)  # type: ignore[union-attr]
        return value

    def _land(self, key: tuple[Any, ...], flight: _Flight, entry: _Entry | None = None,
              max_entries: int = 0) -> None:
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
            if entry is not None:
                if self._epochs.get(key[0], 0) != entry.epoch:
                    self._stats.discarded += 1  # a write ended meanwhile: the answer may be stale
                else:
                    self._entries[key] = entry
                    self._entries.move_to_end(key)
                    while len(self._entries) > max_entries:
                        self._entries.popitem(last=False)
                        self._stats.evictions += 1
        flight.done.set()

    def wrote(self, kind: str) -> None:
        """A write of ``kind`` ended (or failed): every entry it may have made stale dies."""
        if self.policy is None:  # nothing cached, nothing in flight that could be (configure bumps)
            return
        with self._lock:
            for k in DEPENDANTS.get(kind, (kind,)):
                self._epochs[k] = self._epochs.get(k, 0) + 1
            self._stats.invalidations += 1

    def invalidate(self, kind: str | None = None) -> None:
        """Drop the entries of ``kind`` (None: all of this connection's)."""
        with self._lock:
            kinds = [kind] if kind is not None else list(CACHEABLE)
            for k in kinds:
                self._epochs[k] = self._epochs.get(k, 0) + 1
            for key in [key for key in self._entries if key[0] in kinds]:
                del self._entries[key]
            self._stats.invalidations += 1

    def configure(self, policy: CachePolicy | None) -> None:
        """Set the policy; the entries kept so far are dropped (their TTLs may have changed)."""
        with self._lock:
            self.policy, self.configured = policy, True
            for k in CACHEABLE:  # reads in flight under the old policy must not store
                self._epochs[k] = self._epochs.get(k, 0) + 1
            self._entries.clear()

    def reset(self) -> None:
        """Forget every entry and counter (the policy stays)."""
        self.invalidate()
        with self._lock:
            self._stats = CacheStats()

    def stats(self) -> CacheStats:
        with self._lock:
            return self._stats.model_copy(update={
                "entries": len(self._entries),
                "by_call": {k: list(v) for k, v in self._stats.by_call.items()},
            })


class ReadCache:
    """Every connection's read cache in one ``Infra`` (``infra.cache``).

    ``clock``: the monotonic clock TTLs are measured with (tests may set their own).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._connections: dict[str, ConnectionCache] = {}

    def __repr__(self) -> str:
        on = sorted(n for n, c in self._connections.items() if c.policy is not None)
        return f"<ReadCache on={on}>"

    def _now(self) -> float:
        return self.clock()

    def connection(self, name: str) -> ConnectionCache:
        """The cache of a connection name (made on first use, policy off)."""
        cache = self._connections.get(name)
        if cache is None:
            with self._lock:
                cache = self._connections.setdefault(name, ConnectionCache(name, self._now))
        return cache

    def configure(self, connection: str, policy: CachePolicy | Mapping[str, Any] | None) -> CachePolicy | None:
        """Set a connection's policy for this process (None/{}: no caching); returns it."""
        parsed = CachePolicy.parse(policy)
        self.connection(connection).configure(parsed)
        return parsed

    def policy(self, connection: str) -> CachePolicy | None:
        cache = self._connections.get(connection)
        return cache.policy if cache is not None else None

    def invalidate(self, connection: str | None = None, kind: str | None = None) -> None:
        """Drop cached answers: of one connection (None: all), of one kind (None: all)."""
        if kind is not None and kind not in {k.value for k in CACHEABLE}:
            raise InvalidRequest(f"kind must be one of {sorted(k.value for k in CACHEABLE)}, not {kind!r}",
                                 field="kind")
        caches = list(self._connections.values()) if connection is None else (
            [self._connections[connection]] if connection in self._connections else [])
        for cache in caches:
            cache.invalidate(kind)

    def stats(self, connection: str | None = None) -> CacheStats:
        """Counters of one connection's cache, or of all of them summed."""
        caches = list(self._connections.values()) if connection is None else (
            [self._connections[connection]] if connection in self._connections else [])
        total = CacheStats()
        for one in (c.stats() for c in caches):
            for name in ("hits", "misses", "coalesced", "discarded", "invalidations", "expired", "evictions",
                         "entries"):
                setattr(total, name, getattr(total, name) + getattr(one, name))
            for call, (h, m) in one.by_call.items():
                mine = total.by_call.setdefault(call, [0, 0])
                mine[0] += h
                mine[1] += m
        return total

    def clear(self) -> None:
        """Forget every entry and counter (policies stay)."""
        for cache in list(self._connections.values()):
            cache.reset()
