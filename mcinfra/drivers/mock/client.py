"""The mock cloud's "SDK": a connection's behaviour (latency, faults, ids), its state, and the
plumbing every mock handler shares (a rate-limit token and latency before each call, faults
before each change)."""

from __future__ import annotations

import random
import threading
import time
from contextlib import AbstractContextManager
from typing import Any

from mcinfra.core.errors import AlreadyExists, CloudError, InvalidRequest, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.mock.catalog import DEFAULT_REGION, REGIONS
from mcinfra.drivers.mock.options import MockOptions
from mcinfra.drivers.mock.state import Data, cloud_for
from mcinfra.drivers.ratelimit import RateLimiter


class Behaviour:
    """A connection's injected latency and faults (options ``latency``, ``fail_rate``,
    ``lost_reply_rate``, ``seed``).

    ``fail_rate``: a change fails before the cloud acts. ``lost_reply_rate``: the cloud acts,
    then the reply is lost — the call raises a retryable ``CloudError`` (``ReplyLost``) although
    the change was made, as a timeout or a dropped connection after the request does.
    """

    def __init__(self, options: MockOptions, limiter: RateLimiter | None = None) -> None:
        #: the connection's ("mock", region) rate limit: every call takes a token first
        self.limiter = limiter
        self.latency = options.latency
        self.fail_rate = options.fail_rate
        self.lost_reply_rate = options.lost_reply_rate
        self._rng = random.Random(options.seed)
        # sessions with one seed that share a cloud (processes on one state file, connections
        # on one cloud) must not hand out one id twice
        self._id_salt = random.SystemRandom().getrandbits(64)
        self._rng_lock = threading.Lock()

    def pause(self) -> float:
        if self.limiter is not None:
            self.limiter.acquire()
        lo, hi = self.latency
        if hi <= 0:
            return 0.0
        with self._rng_lock:
            delay = self._rng.uniform(lo, hi)
        time.sleep(delay)
        return delay

    def maybe_fail(self, op: str) -> None:
        if self.fail_rate <= 0:
            return
        with self._rng_lock:
            hit = self._rng.random() < self.fail_rate
        if hit:
            raise CloudError("mock", "InjectedFault", f"injected fault in {op}")

    def maybe_lose_reply(self, op: str) -> None:
        """After the cloud acted: perhaps the reply never arrives."""
        if self.lost_reply_rate <= 0:
            return
        with self._rng_lock:
            hit = self._rng.random() < self.lost_reply_rate
        if hit:
            raise CloudError("mock", "ReplyLost", f"no reply to {op} (the request may have been carried out)",
                             retryable=True)

    def new_id(self, prefix: str) -> str:
        with self._rng_lock:
            return f"{prefix}-{self._rng.getrandbits(64) ^ self._id_salt:016x}"


class MockClient:
    """One connection's side of the mock cloud: its region and zone, behaviour and state."""

    def __init__(self, info: SessionInfo, options: MockOptions) -> None:
        self.region = info.region or DEFAULT_REGION
        if self.region not in REGIONS:
            raise InvalidRequest(f"mock region {self.region!r} does not exist; mock regions: {', '.join(REGIONS)}",
                                 field="region")
        self.zone = info.zone or f"{self.region}-a"
        self.limiter = options.rate_limiter("mock", self.region)
        self.behaviour = Behaviour(options, self.limiter)
        self.cloud = cloud_for(self.region, options.state_path, options.cloud_id)


class _CloudCall:
    """One mock call: latency (and for a change, ``op``: an injected fault) before the state is
    taken; a lost reply after a change that was made. A class rather than a generator, since
    every mock call passes here."""

    __slots__ = ("_handler", "_op", "_tx")

    def __init__(self, handler: MockHandler, op: str | None) -> None:
        self._handler = handler
        self._op = op
        self._tx: Any = None

    def __enter__(self) -> Data:
        behaviour = self._handler.behaviour
        behaviour.pause()
        if self._op is not None:
            behaviour.maybe_fail(self._op)
        tx = self._handler.cloud.tx(write=self._op is not None)
        data = tx.__enter__()
        self._tx = tx
        return data

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool | None:
        tx, self._tx = self._tx, None
        suppressed = tx.__exit__(exc_type, exc, tb)
        if exc is None and self._op is not None:
            self._handler.behaviour.maybe_lose_reply(self._op)  # only when the change was made
        return suppressed  # type: ignore[no-any-return]


class MockHandler:
    """Shared plumbing: latency before each call, faults before each change, the state tx."""

    def __init__(self, client: MockClient) -> None:
        self.client = client
        self.region = client.region
        self.behaviour = client.behaviour
        self.cloud = client.cloud

    def read(self) -> AbstractContextManager[Data]:
        return _CloudCall(self, None)

    def write(self, op: str) -> AbstractContextManager[Data]:
        return _CloudCall(self, op)

    @staticmethod
    def record(data: Data, kind: str, system_id: str, label: str) -> dict[str, Any]:
        rec = data[kind].get(system_id)
        if rec is None:
            raise NotFound(f"{label} {system_id!r} not found")
        return rec

    @staticmethod
    def add(data: Data, kind: str, record: dict[str, Any], label: str) -> None:
        """Keep a new resource; its CSP name must be free (as most CSPs require)."""
        name, sid = record["iid"]["name_id"], record["iid"]["system_id"]
        if name in data["names"][kind]:
            raise AlreadyExists(f"{label} name {name!r} is taken")
        data["names"][kind][name] = sid
        data[kind][sid] = record

    @staticmethod
    def remove(data: Data, kind: str, system_id: str) -> None:
        rec = data[kind].pop(system_id)
        data["names"][kind].pop(rec["iid"]["name_id"], None)
