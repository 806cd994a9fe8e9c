"""The driver kit: what every driver needs and would otherwise write again.

- :class:`DriverOptions` — a driver's connection options as a typed, strict pydantic model;
- :class:`RetryPolicy` — the one retry policy, run at each driver's SDK choke point; it takes a
  token from the connection's (provider, region) rate limit before each attempt and tells the
  bucket of throttled answers (see :mod:`mcinfra.drivers.ratelimit` and docs/batch.md);
- :class:`ErrorTable` — a CSP's error codes (and HTTP statuses) -> mcinfra errors;
- :class:`Rollback` — undo a half-made create, newest step first, never hiding the first error;
- :func:`describe_one`, :func:`paginate`, :func:`poll_until` — describe-by-id, paging, waiting;
- :class:`ClientSession` — a session whose handlers take the driver's client, declared as a table.

A driver imports this module and :mod:`mcinfra.core` models/handlers, nothing else of mcinfra.
See docs/driver-guide.md for the layout every driver follows.
"""

from __future__ import annotations

import importlib
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mcinfra.core.errors import AlreadyExists, CloudError, InUse, InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import (
    DriverSession,
    ImageHandler,
    KeyPairHandler,
    NLBHandler,
    PriceHandler,
    RegionZoneHandler,
    SecurityGroupHandler,
    SessionInfo,
    SpecHandler,
    VMHandler,
    VPCHandler,
)
from mcinfra.drivers import ratelimit
from mcinfra.drivers.ratelimit import UNLIMITED, BucketStats, RateDefault, RateLimiter, rate_limits

log = logging.getLogger("mcinfra.drivers")

T = TypeVar("T")
Token = TypeVar("Token")


# --------------------------------------------------------------------------- options
class DriverOptions(BaseModel):
    """Connection options every driver accepts; a driver subclasses this with its own fields.

    Unknown keys are rejected (a misspelt option is an error, not silently ignored) and every
    value is checked before any cloud call, so a bad option raises ``InvalidRequest`` naming it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the driver's documented default rate limit (set in its options module, cited in its docs)
    RATE_DEFAULT: ClassVar[RateDefault] = UNLIMITED

    rate_limit: float | None = Field(
        None, ge=0, le=1_000_000, allow_inf_nan=False,
        description="calls per second this process sends to the connection's (provider, region), shared by "
        "every connection and thread of the process with that (provider, region); per process, not across "
        "processes (N processes on one account: give each the cloud's limit / N). Absent: the driver's "
        "documented default; 0: unlimited. Connections that disagree: the lowest wins",
    )
    rate_burst: int | None = Field(
        None, ge=1, le=1_000_000, strict=True,
        description="calls that may go at once before rate_limit paces them; absent: the driver's default "
        "burst, or 1 (even pacing: at most rate_limit calls in any second) when rate_limit is given",
    )
    retry_attempts: int = Field(5, ge=1, le=10, description="tries of one SDK call, the first included")
    retry_base: float = Field(0.2, gt=0, le=10, description="first back-off pause in seconds (doubles per try)")
    retry_budget: float = Field(20.0, ge=0, le=600, description="seconds of back-off one SDK call may spend")

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _rate_is_a_number(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("rate_limit must be calls per second: a number >= 0 (0 = unlimited)")
        if not math.isfinite(value):
            raise ValueError("rate_limit must be a finite number (0 = unlimited)")
        return float(value)

    @classmethod
    def parse(cls, provider: str, options: Mapping[str, Any] | None) -> Self:
        try:
            return cls.model_validate(dict(options or {}))
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"]) or "options"
            if first["type"] == "extra_forbidden":
                known = ", ".join(sorted(cls.model_fields))
                message = f"{provider} has no option {key!r}; known options: {known}"
            else:
                message = f"{provider} option {key!r}: {first['msg']}"
            # from None: pydantic's text repeats the input values
            raise InvalidRequest(message, field=f"options.{key}") from None

    def rate(self) -> tuple[float, int]:
        """The (calls per second, burst) this connection asks for: its options over the driver's
        default. A rate of 0 means unlimited. ``rate_limit`` without ``rate_burst`` paces evenly
        (burst 1), so no 1-second window ever holds more than ``rate_limit`` calls."""
        default = self.RATE_DEFAULT
        rate = default.rate if self.rate_limit is None else self.rate_limit
        burst = self.rate_burst or (default.burst if self.rate_limit is None else 1)
        return rate, burst

    def rate_limiter(self, provider: str, region: str) -> RateLimiter:
        """This connection's handle on the process-wide bucket of (provider, region)."""
        rate, burst = self.rate()
        return ratelimit.RATE_LIMITS.limiter(provider, region or "", rate, burst)

    def retry_policy(self, provider: str | None = None, region: str | None = None) -> RetryPolicy:
        """The retry policy of a connection; given its provider (and region), every attempt it runs
        takes a token from that (provider, region)'s rate limit."""
        limiter = self.rate_limiter(provider, region or "") if provider else None
        return RetryPolicy(attempts=self.retry_attempts, base=self.retry_base, budget=self.retry_budget,
                           limiter=limiter)


# --------------------------------------------------------------------------- retries
@dataclass(frozen=True)
class RetryPolicy:
    """When and how often one SDK call is tried again. Drivers turn their SDK's own retries off.

    A :class:`CloudError` is tried again when the cloud refused it without acting
    (``throttled``), or when it is ``retryable`` (a 5xx, a lost connection: the cloud may have
    acted) and the call is idempotent. At most ``attempts`` tries in all; back-off doubles from
    ``base`` up to ``cap`` with jitter, honours the cloud's ``retry_after`` hint, and stops when
    the next pause would take the total past ``budget`` seconds.

    With a ``limiter`` (the connection's (provider, region) rate limit), every attempt first
    takes a token — so retries are paced like first tries — and each answer tells the bucket:
    a throttled one slows it down, a success lets it recover. The time spent waiting for tokens
    is not part of ``budget`` (it is pacing, not back-off).
    """

    attempts: int = 5
    base: float = 0.2
    cap: float = 5.0
    budget: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    limiter: RateLimiter | None = field(default=None, compare=False, repr=False)

    def should_retry(self, exc: BaseException, *, idempotent: bool) -> bool:
        if not isinstance(exc, CloudError):
            return False
        return exc.throttled or (idempotent and exc.retryable)

    def pause(self, retry: int, exc: CloudError) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        backoff = min(self.cap, self.base * 2 ** (retry - 1)) * random.uniform(0.5, 1.0)
        return max(backoff, exc.retry_after or 0.0)

    def run(self, call: Callable[[], T], *, idempotent: bool, what: str = "") -> T:
        """``call()`` (which raises only mcinfra errors) under this policy."""
        waited = 0.0
        limiter = self.limiter
        for attempt in range(1, self.attempts + 1):
            if limiter is not None:
                limiter.acquire()
            try:
                out = call()
            except McInfraError as exc:
                if limiter is not None and isinstance(exc, CloudError) and exc.throttled:
                    limiter.throttled()
                if attempt >= self.attempts or not self.should_retry(exc, idempotent=idempotent):
                    raise
                assert isinstance(exc, CloudError)
                delay = self.pause(attempt, exc)
                if waited + delay > self.budget:
                    raise
                log.info("%s: %s, try %d of %d in %.2f s", what, exc.code, attempt + 1, self.attempts, delay)
                self.sleep(delay)
                waited += delay
            else:
                if limiter is not None:
                    limiter.succeeded()
                return out
        raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- errors
@dataclass(frozen=True)
class ErrorTable:
    """A CSP's error codes -> mcinfra errors. Codes are matched exactly, then by suffix, then the
    HTTP status decides (404 NotFound, 409 AlreadyExists, 429 throttled, 5xx retryable)."""

    provider: str
    not_found: frozenset[str] = frozenset()
    already_exists: frozenset[str] = frozenset()
    in_use: frozenset[str] = frozenset()
    throttled: frozenset[str] = frozenset()
    #: codes that are worth retrying on idempotent calls (server busy, internal error)
    transient: frozenset[str] = frozenset()
    #: code suffixes, e.g. {".NotFound": NotFound, ".Duplicate": AlreadyExists}
    suffixes: Mapping[str, type[McInfraError]] = field(default_factory=dict)
    #: HTTP statuses that decide when the code does not (False: the status is not meaningful)
    use_status: bool = True

    def kind_of(self, code: str, status: int | None = None) -> type[McInfraError] | None:
        """The mcinfra error class for a code, or ``None`` for a plain ``CloudError``."""
        for codes, cls in ((self.not_found, NotFound), (self.already_exists, AlreadyExists), (self.in_use, InUse)):
            if code in codes:
                return cls
        if code in self.throttled or code in self.transient:
            return None
        for suffix, cls in self.suffixes.items():
            if code.endswith(suffix):
                return cls
        if self.use_status and status == 404:
            return NotFound
        if self.use_status and status == 409:
            return AlreadyExists
        return None

    def error(
        self, code: str, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> McInfraError:
        """The mcinfra error for the CSP error ``code`` with ``message`` (already free of secrets)."""
        cls = self.kind_of(code, status)
        if cls is not None:
            return cls(f"[{self.provider}] {code}: {message}")
        throttled = code in self.throttled or status == 429
        transient = code in self.transient or (status is not None and status >= 500)
        return CloudError(
            self.provider, code, message, retryable=throttled or transient, throttled=throttled,
            retry_after=retry_after,
        )


# --------------------------------------------------------------------------- rollback
class Rollback:
    """The undo steps of a create that makes several CSP resources.

    ::

        with Rollback("vm vm-01-abcd") as undo:
            nic = client.create_nic(...)
            undo.push("nic", lambda: client.delete_nic(nic.id))
            vm = client.create_vm(...)        # fails -> the NIC is deleted, the error re-raised

    On an exception the steps run newest first. A step that fails is logged and noted on the
    original exception (``exc.__notes__``), which is re-raised unchanged: the caller always
    sees the first error. On success the steps are dropped.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._steps: list[tuple[str, Callable[[], object]]] = []
        #: what could not be undone by the last rollback (for tests and reports)
        self.failed: list[str] = []

    def push(self, what: str, undo: Callable[[], object]) -> None:
        self._steps.append((what, undo))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if exc is not None:
            self.undo(exc)
        self._steps.clear()
        return False

    def undo(self, cause: BaseException | None = None) -> list[str]:
        """Run the steps now, newest first; returns what could not be undone."""
        steps, self._steps = self._steps, []
        self.failed = []
        for what, step in reversed(steps):
            try:
                step()
            except NotFound:
                continue  # already gone: nothing to undo
            except Exception as err:  # the create's own error is what the caller must see
                self.failed.append(what)
                log.warning("rollback of %s: could not undo %s (%s)", self.what, what, type(err).__name__)
                if cause is not None:
                    cause.add_note(f"rollback of {self.what} left {what} behind ({type(err).__name__})")
        return self.failed


# --------------------------------------------------------------------------- reads
def describe_one(items: Iterable[T], what: str) -> T:
    """The single item a describe-by-id answered; ``NotFound`` naming ``what`` when it has none.

    Clouds differ in how they say "no such id": some answer an empty list, some an error code.
    Map the error code with the :class:`ErrorTable`; pass the list here.
    """
    for item in items:
        return item
    raise NotFound(f"{what} not found")


def paginate(
    fetch: Callable[[Token | None], tuple[Iterable[T], Token | None]], *, limit: int | None = None
) -> Iterator[T]:
    """Every item of a paged list. ``fetch(token)`` returns one page's items and the next token
    (``None``/empty at the end); the first call gets ``None``. Works for NextToken/marker paging
    and, with the token being the next offset or page number, for offset paging."""
    token: Token | None = None
    count = 0
    while True:
        items, token = fetch(token)
        for item in items:
            yield item
            count += 1
            if limit is not None and count >= limit:
                return
        if token is None or token == "":
            return


def poll_until(
    read: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    interval: float = 1.0,
    max_interval: float = 10.0,
    provider: str,
    what: str,
) -> T:
    """Read until ``done(value)``; the last value. Polls start at ``interval`` and back off to
    ``max_interval``; past ``timeout`` seconds it raises ``CloudError(code="OperationTimeout")``."""
    deadline = time.monotonic() + timeout
    pause = interval
    while True:
        value = read()
        if done(value):
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CloudError(provider, "OperationTimeout", f"{what}: not done after {timeout:g} s")
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, max_interval)




# --------------------------------------------------------------------------- sessions
class ClientSession(DriverSession):
    """A session whose handlers each take the driver's client.

    ``HANDLERS`` maps a factory (``"vpcs"``, ``"vms"``...) to ``"module:Class"``; the module is
    imported on first use, so the SDK loads with the handler, never with ``driver.py``. A factory
    left out keeps ``DriverSession``'s (``Unsupported``); one whose handler needs more than the
    client is an ordinary method override.
    """

    HANDLERS: ClassVar[Mapping[str, str]] = {}

    def __init__(self, info: SessionInfo, client: Any) -> None:
        super().__init__(info)
        self.client = client

    def _make(self, factory: str) -> Any:
        path = self.HANDLERS.get(factory)
        if path is None:
            return getattr(DriverSession, factory)(self)
        module, _, cls = path.partition(":")
        return getattr(importlib.import_module(module), cls)(self.client)

    def vpcs(self) -> VPCHandler:
        return self._make("vpcs")  # type: ignore[no-any-return]

    def security_groups(self) -> SecurityGroupHandler:
        return self._make("security_groups")  # type: ignore[no-any-return]

    def keypairs(self) -> KeyPairHandler:
        return self._make("keypairs")  # type: ignore[no-any-return]

    def vms(self) -> VMHandler:
        return self._make("vms")  # type: ignore[no-any-return]

    def nlbs(self) -> NLBHandler:
        return self._make("nlbs")  # type: ignore[no-any-return]

    def region_zones(self) -> RegionZoneHandler:
        return self._make("region_zones")  # type: ignore[no-any-return]

    def images(self) -> ImageHandler:
        return self._make("images")  # type: ignore[no-any-return]

    def specs(self) -> SpecHandler:
        return self._make("specs")  # type: ignore[no-any-return]

    def prices(self) -> PriceHandler:
        return self._make("prices")  # type: ignore[no-any-return]

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()


__all__ = [
    "BucketStats",
    "ClientSession",
    "DriverOptions",
    "ErrorTable",
    "RateDefault",
    "RateLimiter",
    "RetryPolicy",
    "Rollback",
    "describe_one",
    "paginate",
    "poll_until",
    "rate_limits",
]
