"""Client-side rate limits: one token bucket per (provider, region) per process.

Every SDK call a driver makes takes a token from its (provider, region)'s bucket before each
attempt (the kit's :class:`~mcinfra.drivers.kit.RetryPolicy` does it, so retries are paced
too). Every thread and every connection of the process with the same (provider, region) share
one bucket, because the cloud counts the account's calls per region, not per connection.

- **Options** (:class:`~mcinfra.drivers.kit.DriverOptions`): ``rate_limit`` (calls per second;
  absent/``None`` = the driver's documented default; ``0`` = unlimited) and ``rate_burst``.
- **Several connections, different limits**: the strictest wins (the lowest rate and the lowest
  burst among the live connections that set a limit), for as long as the connection that asked
  for it is alive; a connection that says ``0`` (unlimited) imposes nothing on the others.
- **Adaptive**: a throttled answer halves the bucket's rate (at most once a second, so a burst
  of throttled answers to calls already in flight counts once) and drains its burst; successes
  bring the rate back to the configured one, 5 % of it per second.
- **Per process**: nothing is shared between processes (drivers never touch the store). Give
  each of N processes ``rate_limit = cloud limit / N``.
- **Stats**: :func:`rate_limits` — calls, waits, seconds waited, throttles, the current rate and
  the most calls granted in any 1-second window, per bucket.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from mcinfra.core.errors import CloudError

#: a throttled answer multiplies the rate by this
DECREASE = 0.5
#: successes add this share of the configured rate per second
RECOVERY_PER_SECOND = 0.05
#: the rate never drops below configured * FLOOR
FLOOR = 1 / 32
#: throttled answers closer together than this count as one (they answer calls already in flight)
COOLDOWN = 1.0
#: a call that would wait longer than this for its token fails instead (CloudError RateLimitWait)
DEFAULT_MAX_WAIT = 300.0
_EPSILON = 1e-9


@dataclass(frozen=True)
class RateDefault:
    """A driver's documented default: ``rate`` calls per second (0 = unlimited), ``burst`` calls
    at once, and where the figure comes from (a URL, cited in the driver's docs)."""

    rate: float
    burst: int
    source: str = ""


UNLIMITED = RateDefault(0.0, 1, "no cloud quota: limiting is off unless the connection sets rate_limit")


@dataclass(frozen=True)
class BucketStats:
    """One bucket's figures since it was made (or since :func:`rate_limits` ``reset=True``)."""

    provider: str
    region: str
    #: the rate the connections asked for (0 = unlimited) and the rate now (lower after throttling)
    configured_rate: float
    rate: float
    burst: int
    #: connections (rate limiters) sharing the bucket now
    connections: int
    calls: int
    #: calls that had to wait for their token, and the seconds they waited in all
    waits: int
    wait_seconds: float
    #: throttled answers the bucket was told of
    throttles: int
    #: the most calls granted in any 1-second window
    peak_calls_per_second: int


class TokenBucket:
    """The token bucket of one (provider, region). Thread-safe; the clock is monotonic; a caller
    reserves its token under the lock and sleeps outside it, so waiting callers never block each
    other or the stats. Callers are served in order (a later call never gets an earlier slot)."""

    def __init__(
        self, provider: str, region: str, *, clock: Callable[[], float], sleep: Callable[[float], None],
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        self.provider = provider
        self.region = region
        self._clock = clock
        self._sleep = sleep
        self.max_wait = max_wait
        self._lock = threading.Lock()
        #: claim id -> (rate, burst) of each live connection
        self._claims: dict[int, tuple[float, int]] = {}
        self._released: deque[int] = deque()
        self.configured = 0.0
        self.rate = 0.0
        self.burst = 1
        self._tokens = 1.0
        self._stamp = clock()
        self._last_due = -math.inf
        self._last_decrease = -math.inf
        self._last_recovery = self._stamp
        self._window: deque[float] = deque()
        self._reset_stats()

    def _reset_stats(self) -> None:
        self.calls = 0
        self.waits = 0
        self.wait_seconds = 0.0
        self.throttles = 0
        self.peak = 0
        self._window.clear()

    # ------------------------------------------------------------------ configuration
    def claim(self, claim_id: int, rate: float, burst: int) -> None:
        with self._lock:
            self._apply_releases()
            self._claims[claim_id] = (rate, burst)
            self._configure()

    def release(self, claim_id: int) -> None:
        """A connection's claim ends. Called by a garbage-collection finalizer, which may run in
        any thread at any allocation — even one holding the lock — so it only leaves a note
        (deque appends are atomic) that the next locked operation applies."""
        self._released.append(claim_id)

    def _apply_releases(self) -> None:
        changed = False
        while self._released:
            changed |= self._claims.pop(self._released.popleft(), None) is not None
        if changed:
            self._configure()

    def _configure(self) -> None:
        """The strictest limit among the live claims (unlimited claims impose nothing)."""
        now = self._clock()
        self._refill(now)
        limited = [(r, b) for r, b in self._claims.values() if r > 0]
        was_limited = self.configured > 0
        if not limited:
            self.configured = self.rate = 0.0
            self.burst = 1
            return
        self.configured = min(r for r, _ in limited)
        self.burst = min(b for _, b in limited)
        # a slow-down in effect survives a new connection; a lower limit applies at once
        self.rate = min(self.rate, self.configured) if was_limited else self.configured
        self._tokens = min(self._tokens, float(self.burst)) if was_limited else float(self.burst)
        self._last_recovery = now


    # ------------------------------------------------------------------ tokens
    def _refill(self, now: float) -> None:
        if self.rate > 0:
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def acquire(self) -> float:
        """Take one token, waiting for it if need be; the seconds waited. Raises
        ``CloudError("RateLimitWait")`` (not retried) when the wait would exceed ``max_wait``."""
        with self._lock:
            if self._released:
                self._apply_releases()
            now = self._clock()
            if self.rate <= 0:
                due = now
            else:
                self._refill(now)
                wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
                due = max(now + wait, self._last_due)
                if due - now > self.max_wait:
                    raise CloudError(
                        self.provider, "RateLimitWait",
                        f"{self.region}: a call would wait {due - now:.0f} s for the client-side rate limit "
                        f"({self.rate:g} calls/s); raise rate_limit or send fewer calls at once",
                    )
                self._tokens -= 1  # may go below 0: the debt is a reservation refilled before `due`
                self._last_due = due
            self._record(due)
            wait = due - now
            if wait > 0:
                self.waits += 1
                self.wait_seconds += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def _record(self, at: float) -> None:
        self.calls += 1
        window = self._window
        if window and at < window[-1]:
            at = window[-1]  # only after a limit was lifted mid-queue: keep the window sorted
        window.append(at)
        while window[0] <= at - 1.0 + _EPSILON:  # tolerate float drift: slots k/rate land on 1.0 - 1e-16
            window.popleft()
        self.peak = max(self.peak, len(window))

    # ------------------------------------------------------------------ adaptation
    def throttled(self) -> None:
        """The cloud answered "throttled": halve the rate (once per cooldown) and drain the burst."""
        with self._lock:
            self.throttles += 1
            if self.configured <= 0:
                return  # limiting is off: the retry policy's back-off is all there is
            now = self._clock()
            if now - self._last_decrease < COOLDOWN:
                return
            self._refill(now)
            self._last_decrease = self._last_recovery = now
            self.rate = max(self.configured * FLOOR, self.rate * DECREASE)
            self._tokens = min(self._tokens, 0.0)

    def succeeded(self) -> None:
        """A call went through: recover towards the configured rate, gradually."""
        if self.rate >= self.configured:
            return  # the common case, without the lock (a stale read only delays recovery a call)
        with self._lock:
            now = self._clock()
            self._refill(now)
            step = self.configured * RECOVERY_PER_SECOND * (now - self._last_recovery)
            self._last_recovery = now
            self.rate = min(self.configured, self.rate + step)

    def stats(self, *, reset: bool = False) -> BucketStats:
        with self._lock:
            self._apply_releases()
            out = BucketStats(
                provider=self.provider, region=self.region, configured_rate=self.configured, rate=self.rate,
                burst=self.burst, connections=len(self._claims), calls=self.calls, waits=self.waits,
                wait_seconds=self.wait_seconds, throttles=self.throttles, peak_calls_per_second=self.peak,
            )
            if reset:
                self._reset_stats()
            return out


class RateLimiter:
    """One connection's handle on its (provider, region) bucket, with the limit it asked for.
    The claim ends when the handle is garbage-collected (or :meth:`close`\\ d)."""

    _ids = itertools.count(1)

    def __init__(self, bucket: TokenBucket, rate: float, burst: int) -> None:
        self.bucket = bucket
        self.rate = rate
        self.burst = burst
        claim = next(self._ids)
        bucket.claim(claim, rate, burst)
        self._finalizer = weakref.finalize(self, bucket.release, claim)

    def acquire(self) -> float:
        return self.bucket.acquire()

    def throttled(self) -> None:
        self.bucket.throttled()

    def succeeded(self) -> None:
        self.bucket.succeeded()

    def close(self) -> None:
        self._finalizer()

    def __repr__(self) -> str:
        return f"RateLimiter({self.bucket.provider}/{self.bucket.region}, rate={self.rate:g}, burst={self.burst})"


class RateLimits:
    """The process's buckets, keyed by (provider, region). A bucket lives while a connection
    (a :class:`RateLimiter`) uses it, so the registry holds buckets weakly and stays bounded by
    the live connections. ``clock``/``sleep`` are injectable for tests."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.max_wait = max_wait
        self._lock = threading.Lock()
        self._buckets: weakref.WeakValueDictionary[tuple[str, str], TokenBucket] = weakref.WeakValueDictionary()

    def limiter(self, provider: str, region: str, rate: float, burst: int) -> RateLimiter:
        key = (provider, region)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = TokenBucket(provider, region, clock=self.clock, sleep=self.sleep, max_wait=self.max_wait)
                self._buckets[key] = bucket
            return RateLimiter(bucket, rate, burst)

    def bucket(self, provider: str, region: str) -> TokenBucket | None:
        with self._lock:
            return self._buckets.get((provider, region))

    def stats(self, provider: str | None = None, *, reset: bool = False) -> list[BucketStats]:
        with self._lock:
            buckets = sorted(self._buckets.items())
        return [b.stats(reset=reset) for (p, _), b in buckets if provider is None or p == provider]


#: the process-wide registry every driver's connections share
RATE_LIMITS = RateLimits()


def rate_limits(provider: str | None = None, *, reset: bool = False) -> list[BucketStats]:
    """The stats of every live bucket of this process (of one provider), sorted by
    (provider, region); ``reset=True`` starts the counters again after reading them."""
    return RATE_LIMITS.stats(provider, reset=reset)


__all__ = [
    "RATE_LIMITS",
    "UNLIMITED",
    "BucketStats",
    "RateDefault",
    "RateLimiter",
    "RateLimits",
    "TokenBucket",
    "rate_limits",
]
